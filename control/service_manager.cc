#include "control/service_manager.h"

#include <systemd/sd-daemon.h>

namespace svcdp::control {

ServiceManager::ServiceManager() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) watchdog_ns_ = usec * 1000;
}

void ServiceManager::ready(const std::string& status) {
  sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
}

void ServiceManager::stopping() { sd_notify(0, "STOPPING=1"); }

void ServiceManager::poll(uint64_t now_ns) {
  if (watchdog_ns_ == 0 || now_ns < next_ping_ns_) return;
  sd_notify(0, "WATCHDOG=1");
  next_ping_ns_ = now_ns + watchdog_ns_ / 2;
}

}  // namespace svcdp::control
