// ip_route and the output stages: a packet svcdp forwards leaves for the
// node's kernel, a local pod, another node (VXLAN) or the network beyond
// the uplink. Forwarding decrements the TTL (RFC 1812 section 5.3.1) and
// answers an expired one with Time Exceeded; packets the node's kernel
// sent are its own and keep their TTL.
#include "dataplane/icmp.h"
#include "dataplane/ipv4.h"
#include "dataplane/worker.h"

namespace svcdp::dp {

void Worker::ip_route(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from) {
  stage(Stage::kIpRoute);
  if (ip->dst_addr == fib.node_ip) return next(Stage::kToKernel, m, from, kernel_or(Drop::kIpLocalUnhandled));
  const uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
  if (fib.local_pods.contains(dst)) return next(Stage::kPodsOutput, m, from);
  if (auto node = fib.remote_pods.lookup(dst)) return next(Stage::kVxlanEncap, m, from, *node);
  next(Stage::kUplinkOutput, m, from);
}

void Worker::pods_output(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, From from, const Fib& fib) {
  stage(Stage::kPodsOutput);
  if (from != From::kNode) {
    if (ip->time_to_live <= 1) return icmp_error(m, kIcmpTimeExceeded, 0, 0, Drop::kIpTtlExpired, from, fib);
    ipv4_decrement_ttl(ip);
  }
  eth->src_addr = s_.macs[idx(Role::PODS)];
  ++counters_.forwarded_local;
  neigh_output(Role::PODS, m, eth, ip->dst_addr);
}

// The checks of forwarding a packet onto a link of IP MTU `mtu`: an
// expired TTL gets Time Exceeded (RFC 1812 section 5.3.1), a DF packet
// larger than `mtu` Fragmentation Needed carrying it (RFC 1191), a larger
// non-DF one is fragmented (RFC 791 section 3.2) with its TTL unchanged:
// each fragment passes here again. Then the TTL is decremented; the node
// kernel's own packets keep theirs.
Worker::Fit Worker::forward_check(rte_mbuf* m, rte_ipv4_hdr* ip, uint16_t mtu, From from, const Fib& fib) {
  if (from != From::kNode && ip->time_to_live <= 1) {
    icmp_error(m, kIcmpTimeExceeded, 0, 0, Drop::kIpTtlExpired, from, fib);
    return Fit::kConsumed;
  }
  if (rte_be_to_cpu_16(ip->total_length) > mtu) {
    if (!(ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG))) return Fit::kFragment;
    icmp_error(m, kIcmpDestUnreachable, kIcmpCodeFragNeeded, mtu, Drop::kMtuExceeded, from, fib);
    return Fit::kConsumed;
  }
  if (from != From::kNode) ipv4_decrement_ttl(ip);
  return Fit::kForward;
}

void Worker::uplink_output(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, From from, const Fib& fib) {
  stage(Stage::kUplinkOutput);
  switch (forward_check(m, ip, s_.mtu, from, fib)) {
    case Fit::kConsumed: return;
    case Fit::kFragment:
      return fragment_then(m, ip, s_.mtu, [&](rte_mbuf* f, rte_ether_hdr* feth, rte_ipv4_hdr* fip) {
        uplink_output(f, feth, fip, from, fib);
      });
    case Fit::kForward: break;
  }
  eth->src_addr = s_.macs[idx(Role::UPLINK)];
  ++counters_.forwarded_uplink;
  neigh_output(Role::UPLINK, m, eth, fib.uplink_nexthop(ip->dst_addr));
}

// The TAP carries the uplink's MAC: frames for the kernel are addressed to it.
void Worker::to_kernel(rte_mbuf* m, Drop otherwise) {
  stage(Stage::kToKernel);
  if (s_.port_ids[idx(Role::EXCEPTION)] == kNoPort) return drop(m, otherwise);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  if (!rte_is_multicast_ether_addr(&eth->dst_addr)) eth->dst_addr = s_.macs[idx(Role::EXCEPTION)];
  ++counters_.to_kernel;
  tx(Role::EXCEPTION, m);
}

}  // namespace svcdp::dp
