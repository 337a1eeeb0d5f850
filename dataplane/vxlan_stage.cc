// vxlan_decap and vxlan_encap: the overlay stages (RFC 7348) between this
// node's pods and the other nodes' VTEPs.
#include "dataplane/icmp.h"
#include "dataplane/ipv4.h"
#include "dataplane/vxlan.h"
#include "dataplane/stages.h"

#include <rte_hash_crc.h>

namespace svcdp::dp {

uint32_t inner_flow_hash(const rte_ipv4_hdr* ip) {
  uint32_t h = rte_hash_crc_4byte(ip->src_addr, ip->next_proto_id);
  h = rte_hash_crc_4byte(ip->dst_addr, h);
  if ((ip->next_proto_id == IPPROTO_TCP || ip->next_proto_id == IPPROTO_UDP) && !ipv4_is_fragment(ip) &&
      rte_be_to_cpu_16(ip->total_length) >= sizeof(rte_ipv4_hdr) + 4) {
    uint32_t ports;
    std::memcpy(&ports, ip + 1, sizeof ports);
    h = rte_hash_crc_4byte(ports, h);
  }
  return h;
}

// RFC 7348 section 5: strip outer Ethernet, IPv4, UDP and VXLAN headers of
// a frame for our VTEP and VNI, then route the inner packet to a local pod.
void vxlan_decap(WorkerContext& w, rte_mbuf* m, rte_udp_hdr* udp, uint32_t udp_avail, const Fib& fib) {
  w.stage(Stage::kVxlanDecap);
  // Only from the VTEP of a node we know (as flannel accepts only what
  // its FDB names): anyone else could inject traffic as a pod.
  const auto* outer = reinterpret_cast<const rte_ipv4_hdr*>(udp) - 1;
  if (!fib.remote_vteps.contains(rte_be_to_cpu_32(outer->src_addr))) return w.drop(m, Drop::kVxlanUnknownVtep);
  if (auto bad = vxlan_check(udp, udp_avail, fib.vni)) return w.drop(m, *bad);
  auto* inner_eth = reinterpret_cast<rte_ether_hdr*>(reinterpret_cast<uint8_t*>(udp) + sizeof(rte_udp_hdr) +
                                                     sizeof(rte_vxlan_hdr));
  auto* inner_ip = reinterpret_cast<rte_ipv4_hdr*>(inner_eth + 1);
  const uint32_t inner_avail = udp_avail - sizeof(rte_udp_hdr) - sizeof(rte_vxlan_hdr) - sizeof(rte_ether_hdr);
  if (auto bad = check_ipv4(inner_ip, inner_avail)) return w.drop(m, *bad);
  if (!fib.local_pods.contains(rte_be_to_cpu_32(inner_ip->dst_addr))) return w.drop(m, Drop::kVxlanInnerNotLocal);

  rte_pktmbuf_adj(m, kVxlanOuterLen);
  const uint32_t inner_frame = sizeof(rte_ether_hdr) + rte_be_to_cpu_16(inner_ip->total_length);
  if (rte_pktmbuf_data_len(m) > inner_frame)
    rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_data_len(m) - inner_frame));
  ++w.counters.vxlan_decap;
  // Replies from remote endpoints to local clients (or to our SNAT address).
  if (lb_input(w, m, inner_ip, fib, From::kTunnel, Continue::kTunnel)) return;
  w.next(Stage::kPodsOutput, m, From::kTunnel);
}

// RFC 7348 section 4.1 / 5: the inner frame keeps its IPv4 packet, with
// Ethernet addresses of the two VTEPs; the template supplies the outer
// headers. A packet that does not fit the uplink once encapsulated gets
// Fragmentation Needed with the tunnel's MTU (RFC 1191), so that the
// sender's path MTU discovery adapts; without DF it is fragmented first.
void vxlan_encap(WorkerContext& w, rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const RemoteNode& node, From from,
                         const Fib& fib) {
  w.stage(Stage::kVxlanEncap);
  const auto tunnel_mtu = static_cast<uint16_t>(w.setup.mtu - kVxlanOuterLen);
  switch (forward_check(w, m, ip, tunnel_mtu, from, fib)) {
    case Fit::kConsumed: return;
    case Fit::kFragment:
      return fragment_then(w, m, ip, tunnel_mtu, [&](rte_mbuf* f, rte_ether_hdr* feth, rte_ipv4_hdr* fip) {
        vxlan_encap(w, f, feth, fip, node, from, fib);
      });
    case Fit::kForward: break;
  }
  const uint32_t ip_len = rte_be_to_cpu_16(ip->total_length);
  eth->src_addr = node.tmpl.inner_src;
  eth->dst_addr = node.tmpl.inner_dst;
  const uint32_t hash = (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) ? m->hash.rss : inner_flow_hash(ip);
  auto* outer = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, kVxlanOuterLen));
  if (outer == nullptr) return w.drop(m, Drop::kNoHeadroom);
  rte_ether_addr nexthop_mac{};
  const bool resolved = w.neigh_lookup(Role::UPLINK, node.nexthop, nexthop_mac);
  vxlan_write_outer(outer, node.tmpl, nexthop_mac, sizeof(rte_ether_hdr) + ip_len, vxlan_source_port(hash));
  ++w.counters.vxlan_encap;
  if (resolved) return w.tx(Role::UPLINK, m);
  w.punt(m, Punt::NEED_NEIGH, Role::UPLINK, node.nexthop);
}

}  // namespace svcdp::dp
