// ip6_input: IPv6 from a local pod. The header chain is walked (RFC 8200
// section 4, dataplane/ipv6.h); Neighbor Solicitations and Advertisements
// go to the control thread, which answers for the pods' IPv6 gateway and,
// by proxy, for the other pods (dataplane/neigh_control.h). Forwarding
// IPv6 (pods, Services, VXLAN) is not there yet: counted as ip6_unrouted.
#include "dataplane/ipv6.h"
#include "dataplane/ndp.h"
#include "dataplane/stages.h"

namespace svcdp::dp {

void ip6_input(WorkerContext& w, rte_mbuf* m, const Fib&) {
  w.stage(Stage::kIp6Input);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  const auto* ip6 = reinterpret_cast<const uint8_t*>(eth + 1);
  Ipv6Chain c;
  if (auto bad = walk_ipv6(ip6, rte_pktmbuf_data_len(m) - uint32_t{sizeof(rte_ether_hdr)}, c)) return w.drop(m, *bad);
  // RFC 4861 section 7.1: NS and NA carry no extension headers and a hop
  // limit of 255 (checked, with the rest, by the control thread's parse).
  if (c.proto == kIpProtoIcmp6 && c.l4_offset == kIpv6HeaderLen && c.end >= kIpv6HeaderLen + 1) {
    const uint8_t type = ip6[kIpv6HeaderLen];
    if (type == kIcmp6NeighborSolicitation || type == kIcmp6NeighborAdvertisement)
      return w.punt(m, Punt::NDP, Role::PODS, 0);
  }
  w.drop(m, rte_is_multicast_ether_addr(&eth->dst_addr) ? Drop::kEthGroupFromPod : Drop::kIp6Unrouted);
}

}  // namespace svcdp::dp
