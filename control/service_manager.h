// The service manager's side of svcdp's life (systemd's sd_notify(3)
// protocol, Type=notify): READY=1 once the first tables are published,
// STOPPING=1 at shutdown, and WATCHDOG=1 keep-alives from the control
// loop when the unit sets WatchdogSec, so that a stalled control thread
// gets svcdp restarted. Without $NOTIFY_SOCKET (not started by systemd)
// every call does nothing.
#pragma once

#include <cstdint>
#include <string>

namespace svcdp::control {

class ServiceManager {
 public:
  // Reads $NOTIFY_SOCKET and $WATCHDOG_USEC. Thread: main.
  ServiceManager();

  // Thread: control.
  void ready(const std::string& status);
  void stopping();
  // Sends WATCHDOG=1 when half the watchdog interval has passed since the
  // last one; call from every round of the control loop.
  void poll(uint64_t now_ns);

  uint64_t watchdog_interval_ns() const { return watchdog_ns_; }

 private:
  uint64_t watchdog_ns_ = 0;  // 0: no watchdog
  uint64_t next_ping_ns_ = 0;
};

}  // namespace svcdp::control
