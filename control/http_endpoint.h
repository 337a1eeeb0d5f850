// A small HTTP server (cpp-httplib) for Prometheus and probes: GET routes,
// each answered by a function of the request time. svcdp runs two:
//   --metrics-address: /metrics (Introspection::metrics), /healthz
//     (Health::healthz: workers and control loop going round), /readyz
//     (200 once the first full table generation is published);
//   --healthz-address: kube-proxy's node health server, /healthz and
//     /livez (Health::proxier_healthz / proxier_livez).
#pragma once

#include "control/health.h"

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace svcdp::control {

struct HttpRoute {
  std::string path;
  std::function<HttpAnswer()> answer;  // called on the server's threads
};

class HttpEndpoint {
 public:
  // Listens on `address` (IP:PORT; port 0: any free port). Throws
  // std::runtime_error when it cannot. Thread: control.
  HttpEndpoint(const std::string& address, std::vector<HttpRoute> routes);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // IP:PORT as bound (the port chosen when it was 0). Thread: any.
  const std::string& address() const { return bound_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::string bound_;
  std::thread thread_;
};

}  // namespace svcdp::control
