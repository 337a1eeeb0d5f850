// --kernel-route: the node kernel's routes to pods and Services through
// svcdp, via the pod gateway on the exception TAP (onlink), the node
// address as source. (Re)installed when the gateway or the node address
// changes; until the kernel takes them (the TAP without its address yet)
// they are retried every second, a failure logged once.
#pragma once

#include "conf/inet.h"
#include "lb/types.h"

#include <cstdint>
#include <string>
#include <vector>

namespace svcdp::control {

class KernelRoutes {
 public:
  // Thread: main.
  KernelRoutes(std::string tap, std::vector<conf::Ipv4Prefix> routes)
      : tap_(std::move(tap)), routes_(std::move(routes)) {}

  // After each publish: the generation's pod gateway and node address
  // (network order; 0 before the node is known). Thread: control.
  void published(lb::be32 gateway, lb::be32 source) {
    want_gateway_ = gateway;
    want_source_ = source;
    next_try_ns_ = 0;
  }
  // Every control round. Thread: control.
  void poll(uint64_t now_ns);

 private:
  std::string tap_;
  std::vector<conf::Ipv4Prefix> routes_;
  lb::be32 want_gateway_ = 0, want_source_ = 0, gateway_ = 0, source_ = 0;
  uint64_t next_try_ns_ = 0;
  bool warned_ = false;
};

}  // namespace svcdp::control
