// exception_input6: IPv6 from the node's kernel through the exception TAP
// (kubelet's probes to pods, hostNetwork pods and the node reaching IPv6
// Services), as exception_input for IPv4: the kernel's routes to pods
// and Services (--kernel-route) have the pods' IPv6 gateway as next hop
// on the TAP, whose Neighbor Solicitations the control thread answers;
// Services through lb6 (the node's flows SNATed to the gateway, as
// kube-proxy masquerades traffic from outside the cluster CIDR), local
// and remote pods through svcdp (ip6_route); everything else, its own
// neighbour discovery included, leaves by the uplink as the kernel sent
// it.
#include "dataplane/ipv6.h"
#include "dataplane/stages.h"

#include <cstring>

namespace svcdp::dp {
namespace {

// Whether a Neighbor Solicitation or Advertisement is about `target`
// (RFC 4861 sections 4.3 and 4.4: the target follows the 4-byte flags).
bool nd_target_is(const uint8_t* ip6, const Ipv6Chain& c, const lb::Addr6& target) {
  if (c.end < kIpv6HeaderLen + 24u) return false;
  lb::Addr6 t;
  std::memcpy(t.bytes.data(), ip6 + kIpv6HeaderLen + 8, 16);
  return t == target;
}

}  // namespace

void exception_input6(WorkerContext& w, rte_mbuf* m, const Fib& fib, uint64_t hash) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  Ipv6Chain c;
  uint8_t* ip6 = walk_frame6(w, m, c);
  if (ip6 == nullptr) return;
  if (is_neighbor_discovery(ip6, c)) {
    if (!fib.pod_gateway6.is_zero() && nd_target_is(ip6, c, fib.pod_gateway6))
      return w.punt(m, Punt::NDP, Role::EXCEPTION, 0);
    return w.tx(Role::UPLINK, m);
  }
  if (rte_is_multicast_ether_addr(&eth->dst_addr)) return w.tx(Role::UPLINK, m);
  trim_padding(m, c.end);
  ++w.counters.from_kernel;
  if (lb6_input(w, m, ip6, c, fib, From::kNode, hash)) return;
  ip6_route(w, m, ip6, c, ipv6_dst(ip6), fib, From::kNode, false);
}

}  // namespace svcdp::dp
