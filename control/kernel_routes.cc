#include "control/kernel_routes.h"

#include "control/log.h"
#include "control/netlink.h"

#include <linux/rtnetlink.h>

#include <utility>

namespace svcdp::control {

void KernelRoutes::install(Netlink& nl, int tap, Family<conf::Ipv4Prefix, lb::be32>& f) {
  for (const conf::Ipv4Prefix& p : f.routes) {
    IfRoute r;
    r.dst = p.addr;
    r.dst_len = p.len;
    r.gateway = lb::from_be32(f.want_gateway);
    r.prefsrc = lb::from_be32(f.want_source);
    r.protocol = RTPROT_STATIC;
    r.onlink = true;
    nl.add_route(tap, r);
  }
  log::info("kernel routes through svcdp", {{"via", conf::format_ipv4(lb::from_be32(f.want_gateway))},
                                            {"dev", tap_},
                                            {"routes", std::to_string(f.routes.size())}});
}

void KernelRoutes::install(Netlink& nl, int tap, Family<conf::Ipv6Prefix, lb::Addr6>& f) {
  for (const conf::Ipv6Prefix& p : f.routes) {
    IfRoute6 r;
    r.dst = p.addr;
    r.dst_len = p.len;
    r.gateway = f.want_gateway.bytes;
    r.prefsrc = f.want_source.bytes;
    r.protocol = RTPROT_STATIC;
    r.onlink = true;
    nl.add_route(tap, r);
  }
  log::info("kernel routes through svcdp", {{"via", conf::format_ipv6(f.want_gateway.bytes)},
                                            {"dev", tap_},
                                            {"routes", std::to_string(f.routes.size())}});
}

void KernelRoutes::poll(uint64_t now_ns) {
  if ((!v4_.due() && !v6_.due()) || now_ns < next_try_ns_) return;
  next_try_ns_ = now_ns + 1'000'000'000;
  try {
    Netlink nl;
    const auto tap = nl.ifindex(tap_);
    if (!tap) throw NetlinkError("no interface " + tap_);
    const auto each = [&](auto& f) {
      if (!f.due()) return;
      install(nl, *tap, f);
      f.gateway = f.want_gateway;
      f.source = f.want_source;
    };
    each(v4_);
    each(v6_);
    warned_ = false;
  } catch (const std::exception& e) {
    if (!std::exchange(warned_, true))
      log::warning("cannot install the kernel's routes through svcdp yet (retrying)", {{"error", e.what()}});
  }
}

}  // namespace svcdp::control
