// ip_route and the output stages: a packet svcdp forwards leaves for the
// node's kernel, a local pod, another node (VXLAN) or the network beyond
// the uplink. Forwarding decrements the TTL (RFC 1812 section 5.3.1) and
// answers an expired one with Time Exceeded; packets the node's kernel
// sent are its own and keep their TTL.
#include "dataplane/icmp.h"
#include "dataplane/ipv4.h"
#include "dataplane/stages.h"

namespace svcdp::dp {

void ip_route(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from) {
  w.stage(Stage::kIpRoute);
  if (ip->dst_addr == fib.node_ip) return w.next(Stage::kToKernel, m, from, kernel_or(Drop::kIpLocalUnhandled));
  const uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
  if (fib.local_pods.contains(dst)) return w.next(Stage::kPodsOutput, m, from);
  if (auto node = fib.remote_pods.lookup(dst)) return w.next(Stage::kVxlanEncap, m, from, *node);
  w.next(Stage::kUplinkOutput, m, from);
}

void pods_output(WorkerContext& w, rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, From from, const Fib& fib) {
  w.stage(Stage::kPodsOutput);
  if (from != From::kNode) {
    if (ip->time_to_live <= 1) return icmp_error(w, m, kIcmpTimeExceeded, 0, 0, Drop::kIpTtlExpired, from, fib);
    ipv4_decrement_ttl(ip);
  }
  eth->src_addr = w.setup.macs[idx(Role::PODS)];
  ++w.counters.forwarded_local;
  w.neigh_output(Role::PODS, m, eth, ip->dst_addr);
}

// The checks of forwarding a packet onto a link of IP MTU `mtu`: an
// expired TTL gets Time Exceeded (RFC 1812 section 5.3.1), a DF packet
// larger than `mtu` Fragmentation Needed carrying it (RFC 1191), a larger
// non-DF one is fragmented (RFC 791 section 3.2) with its TTL unchanged:
// each fragment passes here again. Then the TTL is decremented; the node
// kernel's own packets keep theirs.
Fit forward_check(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, uint16_t mtu, From from, const Fib& fib) {
  if (from != From::kNode && ip->time_to_live <= 1) {
    icmp_error(w, m, kIcmpTimeExceeded, 0, 0, Drop::kIpTtlExpired, from, fib);
    return Fit::kConsumed;
  }
  if (rte_be_to_cpu_16(ip->total_length) > mtu) {
    if (!(ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG))) return Fit::kFragment;
    icmp_error(w, m, kIcmpDestUnreachable, kIcmpCodeFragNeeded, mtu, Drop::kMtuExceeded, from, fib);
    return Fit::kConsumed;
  }
  if (from != From::kNode) ipv4_decrement_ttl(ip);
  return Fit::kForward;
}

void uplink_output(WorkerContext& w, rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, From from, const Fib& fib) {
  w.stage(Stage::kUplinkOutput);
  switch (forward_check(w, m, ip, w.setup.mtu, from, fib)) {
    case Fit::kConsumed: return;
    case Fit::kFragment:
      return fragment_then(w, m, ip, w.setup.mtu, [&](rte_mbuf* f, rte_ether_hdr* feth, rte_ipv4_hdr* fip) {
        uplink_output(w, f, feth, fip, from, fib);
      });
    case Fit::kForward: break;
  }
  eth->src_addr = w.setup.macs[idx(Role::UPLINK)];
  ++w.counters.forwarded_uplink;
  w.neigh_output(Role::UPLINK, m, eth, fib.uplink_nexthop(ip->dst_addr));
}

// The TAP carries the uplink's MAC: frames for the kernel are addressed to it.
void to_kernel(WorkerContext& w, rte_mbuf* m, Drop otherwise) {
  w.stage(Stage::kToKernel);
  if (!w.setup.has(Role::EXCEPTION)) return w.drop(m, otherwise);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  if (!rte_is_multicast_ether_addr(&eth->dst_addr)) eth->dst_addr = w.setup.macs[idx(Role::EXCEPTION)];
  ++w.counters.to_kernel;
  w.tx(Role::EXCEPTION, m);
}

}  // namespace svcdp::dp
