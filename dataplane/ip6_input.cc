// ip6_input: IPv6 from a local pod. The header chain is walked (RFC 8200
// section 4, dataplane/ipv6.h); Neighbor Solicitations and Advertisements
// go to the control thread, which answers for the pods' IPv6 gateway and,
// by proxy, for the other pods (dataplane/neigh_control.h). Ingress
// filtering as for IPv4 (RFC 3704 section 2.1: only this node's IPv6 pod
// CIDRs); IPv6 Services (lb6_stage.cc), then a packet to another pod of
// this node is forwarded to it, one to a pod of another node goes in
// VXLAN to that node (vxlan_encap6). IPv6 beyond the cluster is not routed
// yet: counted as ip6_unrouted and answered with Destination Unreachable.
#include "dataplane/ipv6.h"
#include "dataplane/ndp.h"
#include "dataplane/reject.h"
#include "dataplane/stages.h"

#include <algorithm>
#include <cstring>

namespace svcdp::dp {
namespace {

// An Echo Request to the pods' gateway (svcdp itself) answered in place
// (RFC 4443 section 4.2): addresses and MACs swapped, type 129, hop limit
// 64; the checksum changes by the type alone (swapping the addresses
// leaves the pseudo-header's sum as it was).
void echo_reply6(WorkerContext& w, rte_mbuf* m, rte_ether_hdr* eth, uint8_t* ip6, const Ipv6Chain& c) {
  uint8_t* icmp = ip6 + c.l4_offset;
  uint8_t src[16];
  std::memcpy(src, ip6 + 8, 16);
  std::memcpy(ip6 + 8, ip6 + 24, 16);
  std::memcpy(ip6 + 24, src, 16);
  ip6[7] = 64;
  uint16_t old_word, new_word, csum;
  std::memcpy(&old_word, icmp, 2);
  icmp[0] = 129;
  std::memcpy(&new_word, icmp, 2);
  std::memcpy(&csum, icmp + 2, 2);
  csum = csum_replace16(csum, old_word, new_word);
  std::memcpy(icmp + 2, &csum, 2);
  const rte_ether_addr peer = eth->src_addr;
  eth->src_addr = eth->dst_addr;
  eth->dst_addr = peer;
  w.tx(Role::PODS, m);
}


}  // namespace

void ip6_input(WorkerContext& w, rte_mbuf* m, const Fib& fib, uint64_t hash) {
  w.stage(Stage::kIp6Input);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  Ipv6Chain c;
  uint8_t* ip6 = walk_frame6(w, m, c);
  if (ip6 == nullptr) return;
  if (is_neighbor_discovery(ip6, c)) return w.punt(m, Punt::NDP, Role::PODS, 0);
  if (rte_is_multicast_ether_addr(&eth->dst_addr)) return w.drop(m, Drop::kEthGroupFromPod);
  if (!local_pod6(fib, ipv6_src(ip6))) return w.drop(m, Drop::kPodSrcSpoofed);
  trim_padding(m, c.end);
  if (lb6_input(w, m, ip6, c, fib, From::kPods, hash)) return;
  const lb::Addr6 dst = ipv6_dst(ip6);
  if (dst == fib.pod_gateway6) {
    if (c.proto == kIpProtoIcmp6 && !c.fragment && c.end >= c.l4_offset + 8u && ip6[c.l4_offset] == 128)
      return echo_reply6(w, m, eth, ip6, c);
    return icmp6_error(w, m, c, kIcmp6DestUnreachable, 0, 0, Drop::kIp6Unrouted, fib);
  }
  ip6_route(w, m, ip6, c, dst, fib, From::kPods, false);
}

void ip6_route(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const lb::Addr6& dst,
               const Fib& fib, From from, bool translated) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  if (local_pod6(fib, dst)) return pods_output6(w, m, eth, ip6, c, dst, fib, from);
  if (auto node = fib.remote_pods6.lookup(dst)) return vxlan_encap6(w, m, eth, ip6, c, fib.nodes[*node], fib, from);
  // The node's own address is its kernel's (a pod reaching kubelet or a
  // hostNetwork pod, replies to the kernel's probes and Service flows).
  if (dst == fib.node_ip6 && !dst.is_zero() && w.setup.has(Role::EXCEPTION)) return to_kernel(w, m, Drop::kIp6Unrouted);
  if (translated && from != From::kUplink) return uplink_output6(w, m, ip6, c, dst, fib, from);
  // The kernel's own beyond the cluster: out as it sent it (its routes and
  // neighbours).
  if (from == From::kNode) return w.tx(Role::UPLINK, m);
  // A pod's IPv6 leaving the cluster: masqueraded to the node's IPv6
  // address unless its destination is listed as not to be.
  if (from == From::kPods && !fib.node_ip6.is_zero() && !in_cluster6(fib, dst) && dst != fib.node_ip6) {
    const bool keep = std::any_of(fib.no_masquerade6.begin(), fib.no_masquerade6.end(), [&](const conf::Ipv6Prefix& p) {
      return lb::prefix_contains(lb::Addr6{p.addr}, p.len, dst);
    });
    return keep ? uplink_output6(w, m, ip6, c, dst, fib, from) : masquerade6(w, m, ip6, c, fib);
  }
  // No route (yet): Destination Unreachable, code 0 (RFC 4443 section
  // 3.1), so that a client gives up at once (and falls back to IPv4)
  // rather than waiting for a timeout.
  icmp6_error(w, m, c, kIcmp6DestUnreachable, 0, 0, Drop::kIp6Unrouted, fib, from);
}

// To a pod of this node, on the pods link it came from (its MTU): the hop
// limit decremented (RFC 8200 section 3; no header checksum to update),
// an expiring one answered with Time Exceeded (RFC 4443 section 3.3), the
// pod's MAC from NDP.
void pods_output6(WorkerContext& w, rte_mbuf* m, rte_ether_hdr* eth, uint8_t* ip6, const Ipv6Chain& chain,
                  const lb::Addr6& dst, const Fib& fib, From from) {
  w.stage(Stage::kPodsOutput);
  uint8_t& hop_limit = ip6[7];
  if (hop_limit <= 1) return icmp6_error(w, m, chain, kIcmp6TimeExceeded, 0, 0, Drop::kIpTtlExpired, fib, from);
  --hop_limit;
  eth->src_addr = w.setup.macs[idx(Role::PODS)];
  ++w.counters.forwarded_local;
  w.neigh_output(Role::PODS, m, eth, dst);
}

}  // namespace svcdp::dp
