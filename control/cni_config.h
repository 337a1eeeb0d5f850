// The CNI network configuration svcdp writes for the node's container
// runtime, the way flannel writes 10-flannel.conflist: pods made by the
// reference plugins (Debian's containernetworking-plugins) with the
// addressing svcdp expects. Each pod gets a macvlan interface in private
// mode on the kernel side of svcdp's pods port (a TAP), so that pods never
// reach each other directly: what they send goes to svcdp, which answers
// ARP for the node's pod CIDR (proxy ARP). host-local IPAM hands out the
// node's podCIDR with svcdp's pod gateway as gateway and default route;
// on a dual-stack node also its IPv6 pod CIDR, with the pods' IPv6
// gateway (svcdp's, answered by NDP) as gateway and IPv6 default route.
#pragma once

#include "conf/inet.h"

#include <cstdint>
#include <string>
#include <vector>

namespace svcdp::control {

struct CniParams {
  std::string master;  // kernel interface of the pods port
  std::vector<conf::Ipv4Prefix> pod_cidrs;
  uint32_t gateway = 0;  // host order
  uint16_t mtu = 1450;   // the uplink's less the VXLAN overhead
  std::vector<conf::Ipv6Prefix> pod_cidrs6 = {};
  conf::Ipv6Addr gateway6 = {};
};

// The conflist (CNI spec 1.0.0) as JSON text. Thread: any.
std::string cni_conflist(const CniParams& params);

// Writes `text` as DIR/10-svcdp.conflist, atomically (a temporary file
// renamed over it), only when it differs from what is there. Returns
// whether the file changed; throws std::runtime_error naming the file.
// Thread: control.
bool write_cni_conflist(const std::string& dir, const std::string& text);

}  // namespace svcdp::control
