// svcdpctl's way in: a unix stream socket of svcdp's own (file
// permissions decide who may inspect and flush), one request line in, one
// JSON document out. DPDK's telemetry socket was the other candidate; it
// caps an answer at 16 KB in DPDK 22.11 (a conntrack dump is millions of
// lines) and runs handlers on its own thread without a way to stream, so
// svcdp serves its own. Requests:
//   services
//   conntrack [service=NS/NAME[:PORT]] [client=IP] [endpoint=IP] [proto=tcp|udp] [limit=N]
//   stats
//   flush all | flush service=NS/NAME[:PORT] | flush flow=PROTO,CLIENT:PORT,FRONTEND:PORT
#pragma once

#include "control/introspection.h"

#include <atomic>
#include <string>
#include <thread>

namespace svcdp::control {

class AdminSocket {
 public:
  // Listens on `path` (a stale socket file is replaced). Throws
  // std::runtime_error when it cannot. Thread: control.
  AdminSocket(const std::string& path, Introspection& introspection, dp::Dataplane& dataplane);
  ~AdminSocket();
  AdminSocket(const AdminSocket&) = delete;
  AdminSocket& operator=(const AdminSocket&) = delete;

  // The answer to one request line (also what the tests call). Thread: any.
  std::string handle(const std::string& request);

 private:
  void serve();

  std::string path_;
  Introspection& introspection_;
  dp::Dataplane& dataplane_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace svcdp::control
