// ip6_uplink_input and IPv6's uplink_output: IPv6 between svcdp and the
// physical network. The node's own IPv6 (its address, SSH, kubelet,
// router advertisements, MLD) is its kernel's, through the exception TAP,
// as for IPv4; svcdp takes the IPv6 Service front ends (NodePorts on the
// node's IPv6 addresses, IPv6 external and LoadBalancer IPs: lb6) and
// sends their replies back out, resolving next hops over NDP (RFC 4861)
// with the node's address as its source. Neighbor Solicitations and
// Advertisements go to the control thread (which answers for announced
// IPv6 front ends with --announce-lb-ips) and, copied, to the kernel.
#include "dataplane/ipv6.h"
#include "dataplane/ndp.h"
#include "dataplane/reject.h"
#include "dataplane/stages.h"

namespace svcdp::dp {
namespace {

// Sources no packet from the network may carry (RFC 4291 section 2.5.2
// unspecified, 2.5.3 loopback, 2.7 multicast).
bool martian6(const uint8_t* src) {
  if (src[0] == 0xff) return true;
  for (int i = 0; i < 15; ++i)
    if (src[i] != 0) return false;
  return src[15] <= 1;
}

}  // namespace

void uplink_input6(WorkerContext& w, rte_mbuf* m, const Fib& fib, uint64_t hash) {
  w.stage(Stage::kIp6UplinkInput);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  Ipv6Chain c;
  uint8_t* ip6 = walk_frame6(w, m, c);
  if (ip6 == nullptr) return;
  if (is_neighbor_discovery(ip6, c)) return w.punt(m, Punt::NDP, Role::UPLINK, 0);
  if (rte_is_multicast_ether_addr(&eth->dst_addr))
    return w.next(Stage::kToKernel, m, From::kUplink, kernel_or(Drop::kEthertypeUnsupported));
  // VXLAN for our IPv6 VTEP (no extension headers: the outer is 70 bytes).
  if (c.proto == IPPROTO_UDP && c.l4_offset == kIpv6HeaderLen && c.end >= c.l4_offset + 8u && !fib.node_ip6.is_zero() &&
      ipv6_dst(ip6) == fib.node_ip6 && l4_port(ip6 + c.l4_offset, 2) == fib.vxlan_port)
    return vxlan_decap_ip6(w, m, ip6, c, fib);
  if (martian6(ip6 + 8)) return w.drop(m, Drop::kIpMartianSource);
  trim_padding(m, c.end);
  if (lb6_input(w, m, ip6, c, fib, From::kUplink, hash)) return;
  w.next(Stage::kToKernel, m, From::kUplink, kernel_or(Drop::kIpLocalUnhandled));
}

// As IPv4's uplink_output, but never fragmenting (RFC 8200 section 5):
// hop limit and MTU checked, the next hop's MAC from NDP. A node without
// an IPv6 address has no IPv6 on its uplink.
void uplink_output6(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const lb::Addr6& dst,
                    const Fib& fib, From from) {
  w.stage(Stage::kUplinkOutput);
  if (fib.node_ip6.is_zero()) return icmp6_error(w, m, c, kIcmp6DestUnreachable, 0, 0, Drop::kIp6Unrouted, fib, from);
  if (ip6[7] <= 1) return icmp6_error(w, m, c, kIcmp6TimeExceeded, 0, 0, Drop::kIpTtlExpired, fib, from);
  if (c.end > w.setup.mtu)
    return icmp6_error(w, m, c, kIcmp6PacketTooBig, 0, w.setup.mtu, Drop::kMtuExceeded, fib, from);
  --ip6[7];
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  eth->src_addr = w.setup.macs[idx(Role::UPLINK)];
  ++w.counters.forwarded_uplink;
  w.neigh_output(Role::UPLINK, m, eth, fib.uplink_nexthop6(dst));
}

}  // namespace svcdp::dp
