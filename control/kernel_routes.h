// --kernel-route: the node kernel's routes to pods and Services through
// svcdp, via the pod gateway on the exception TAP (onlink), the node
// address as source; IPv6 CIDRs via the pods' IPv6 gateway, the node's
// IPv6 address as source. (Re)installed when a family's gateway or node
// address changes; until the kernel takes them (the TAP without its
// address yet) they are retried every second, a failure logged once.
#pragma once

#include "conf/inet.h"
#include "lb/types.h"

#include <cstdint>
#include <string>
#include <vector>

namespace svcdp::control {

class Netlink;

class KernelRoutes {
 public:
  // Thread: main.
  KernelRoutes(std::string tap, std::vector<conf::Ipv4Prefix> routes, std::vector<conf::Ipv6Prefix> routes6 = {})
      : tap_(std::move(tap)) {
    v4_.routes = std::move(routes);
    v6_.routes = std::move(routes6);
  }

  // After each publish: the generation's pod gateways and node addresses
  // (IPv4 in network order; zero before the node is known or without the
  // family). Thread: control.
  void published(lb::be32 gateway, lb::be32 source, const lb::Addr6& gateway6 = {}, const lb::Addr6& source6 = {}) {
    v4_.want(gateway, source);
    v6_.want(gateway6, source6);
    next_try_ns_ = 0;
  }
  // Every control round. Thread: control.
  void poll(uint64_t now_ns);

 private:
  template <class Prefix, class Addr>
  struct Family {
    std::vector<Prefix> routes;
    Addr want_gateway{}, want_source{}, gateway{}, source{};
    void want(const Addr& g, const Addr& s) {
      want_gateway = g;
      want_source = s;
    }
    bool due() const {
      return !routes.empty() && want_source != Addr{} && want_gateway != Addr{} &&
             (want_gateway != gateway || want_source != source);
    }
  };
  void install(Netlink& nl, int tap, Family<conf::Ipv4Prefix, lb::be32>& f);
  void install(Netlink& nl, int tap, Family<conf::Ipv6Prefix, lb::Addr6>& f);

  std::string tap_;
  Family<conf::Ipv4Prefix, lb::be32> v4_;
  Family<conf::Ipv6Prefix, lb::Addr6> v6_;
  uint64_t next_try_ns_ = 0;
  bool warned_ = false;
};

}  // namespace svcdp::control
