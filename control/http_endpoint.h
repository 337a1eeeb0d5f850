// The HTTP side for Prometheus and Kubernetes probes (cpp-httplib):
//   /metrics  the Prometheus text format (Introspection::metrics)
//   /healthz  200 while the process serves
//   /readyz   200 once ports are up and the first full table generation
//             is published, 503 before
// Listens on loopback by default (--metrics-address).
#pragma once

#include "control/introspection.h"

#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace svcdp::control {

class HttpEndpoint {
 public:
  // Throws std::runtime_error when it cannot listen. Thread: control.
  HttpEndpoint(const std::string& host, uint16_t port, const Introspection& introspection);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace svcdp::control
