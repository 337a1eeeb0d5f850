#include "control/kernel_routes.h"

#include "control/log.h"
#include "control/netlink.h"

#include <linux/rtnetlink.h>

#include <utility>

namespace svcdp::control {

void KernelRoutes::poll(uint64_t now_ns) {
  if (routes_.empty() || want_source_ == 0 || (want_gateway_ == gateway_ && want_source_ == source_) ||
      now_ns < next_try_ns_)
    return;
  next_try_ns_ = now_ns + 1'000'000'000;
  try {
    Netlink nl;
    const auto tap = nl.ifindex(tap_);
    if (!tap) throw NetlinkError("no interface " + tap_);
    for (const conf::Ipv4Prefix& p : routes_) {
      IfRoute r;
      r.dst = p.addr;
      r.dst_len = p.len;
      r.gateway = lb::from_be32(want_gateway_);
      r.prefsrc = lb::from_be32(want_source_);
      r.protocol = RTPROT_STATIC;
      r.onlink = true;
      nl.add_route(*tap, r);
    }
    gateway_ = want_gateway_;
    source_ = want_source_;
    warned_ = false;
    log::info("kernel routes through svcdp", {{"via", conf::format_ipv4(lb::from_be32(gateway_))},
                                              {"dev", tap_},
                                              {"routes", std::to_string(routes_.size())}});
  } catch (const std::exception& e) {
    if (!std::exchange(warned_, true))
      log::warning("cannot install the kernel's routes through svcdp yet (retrying)", {{"error", e.what()}});
  }
}

}  // namespace svcdp::control
