// vxlan_decap and vxlan_encap: the overlay stages (RFC 7348) between this
// node's pods and the other nodes' VTEPs.
#include "dataplane/icmp.h"
#include "dataplane/reject.h"
#include "dataplane/ipv4.h"
#include "dataplane/vxlan.h"
#include "dataplane/stages.h"

#include <rte_hash_crc.h>

namespace svcdp::dp {

namespace {

// The part of encapsulation both inner families share: the inner frame
// gets the VTEPs' Ethernet addresses, the template goes in front, the
// outer next hop comes from the uplink's neighbours.
// `Template` is VxlanTemplate (IPv4 underlay) or VxlanTemplate6.
template <class Template, class Addr, class Write>
void vxlan_send(WorkerContext& w, rte_mbuf* m, rte_ether_hdr* eth, uint32_t ip_len, uint32_t hash, const Template& t,
                uint32_t outer_len, const Addr& nexthop, Punt need, Write write) {
  eth->src_addr = t.inner_src;
  eth->dst_addr = t.inner_dst;
  auto* outer = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, static_cast<uint16_t>(outer_len)));
  if (outer == nullptr) return w.drop(m, Drop::kNoHeadroom);
  rte_ether_addr nexthop_mac{};
  const bool resolved = w.neigh_lookup(Role::UPLINK, nexthop, nexthop_mac);
  write(outer, t, nexthop_mac, sizeof(rte_ether_hdr) + ip_len, vxlan_source_port(hash));
  ++w.counters.vxlan_encap;
  if (resolved) return w.tx(Role::UPLINK, m);
  w.punt(m, need, Role::UPLINK, nexthop);
}

void vxlan_send(WorkerContext& w, rte_mbuf* m, rte_ether_hdr* eth, uint32_t ip_len, uint32_t hash,
                const RemoteNode& node) {
  vxlan_send(w, m, eth, ip_len, hash, node.tmpl, kVxlanOuterLen, node.nexthop, Punt::NEED_NEIGH, vxlan_write_outer);
}

// An inner IPv6 packet for a local pod (RFC 8200 section 4 walked), its
// frame trimmed to the packet: replies of translated flows, then the pod.
// The hop limit is decremented by pods_output6; one that expires here is
// answered with Time Exceeded back into the tunnel (icmp6_error).
void vxlan_decap6(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, uint32_t avail, uint32_t outer_len, const Fib& fib) {
  Ipv6Chain c;
  if (auto bad = walk_ipv6(ip6, avail, c)) return w.drop(m, *bad);
  const lb::Addr6 dst = ipv6_dst(ip6);
  if (!local_pod6(fib, dst)) return w.drop(m, Drop::kVxlanInnerNotLocal);
  rte_pktmbuf_adj(m, static_cast<uint16_t>(outer_len));
  const uint32_t inner_frame = sizeof(rte_ether_hdr) + c.end;
  if (rte_pktmbuf_data_len(m) > inner_frame)
    rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_data_len(m) - inner_frame));
  ++w.counters.vxlan_decap;
  if (lb6_input(w, m, ip6, c, fib, From::kTunnel)) return;
  pods_output6(w, m, rte_pktmbuf_mtod(m, rte_ether_hdr*), ip6, c, dst, fib, From::kTunnel);
}

}  // namespace

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
  vxlan_inner(w, m, udp, udp_avail, kVxlanOuterLen, fib);
}

// The same over the IPv6 underlay, from a node's IPv6 VTEP; a datagram
// without a UDP checksum is refused (RFC 6936 section 5: a tunnel may
// take zero checksums only where it was configured to; Linux's vxlan by
// default does not).
void vxlan_decap_ip6(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const Fib& fib) {
  w.stage(Stage::kVxlanDecap);
  if (!fib.remote_vteps6.contains(ipv6_src(ip6))) return w.drop(m, Drop::kVxlanUnknownVtep);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(ip6 + c.l4_offset);
  if (udp->dgram_cksum == 0) return w.drop(m, Drop::kVxlanZeroChecksum);
  vxlan_inner(w, m, udp, c.end - c.l4_offset, kVxlanOuterLen6, fib);
}

void vxlan_inner(WorkerContext& w, rte_mbuf* m, rte_udp_hdr* udp, uint32_t udp_avail, uint32_t outer_len,
                 const Fib& fib) {
  if (auto bad = vxlan_check(udp, udp_avail, fib.vni)) return w.drop(m, *bad);
  auto* inner_eth = reinterpret_cast<rte_ether_hdr*>(reinterpret_cast<uint8_t*>(udp) + sizeof(rte_udp_hdr) +
                                                     sizeof(rte_vxlan_hdr));
  auto* inner_ip = reinterpret_cast<rte_ipv4_hdr*>(inner_eth + 1);
  const uint32_t inner_avail = udp_avail - sizeof(rte_udp_hdr) - sizeof(rte_vxlan_hdr) - sizeof(rte_ether_hdr);
  if (inner_eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6))
    return vxlan_decap6(w, m, reinterpret_cast<uint8_t*>(inner_ip), inner_avail, outer_len, fib);
  if (auto bad = check_ipv4(inner_ip, inner_avail)) return w.drop(m, *bad);
  if (!fib.local_pods.contains(rte_be_to_cpu_32(inner_ip->dst_addr))) return w.drop(m, Drop::kVxlanInnerNotLocal);

  rte_pktmbuf_adj(m, static_cast<uint16_t>(outer_len));
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
  const uint32_t hash = (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) ? m->hash.rss : inner_flow_hash(ip);
  vxlan_send(w, m, eth, rte_be_to_cpu_16(ip->total_length), hash, node);
}

uint32_t inner_flow_hash6(const uint8_t* ip6, const Ipv6Chain& c) {
  uint32_t h = rte_hash_crc(ip6 + 8, 32, c.proto);
  if ((c.proto == IPPROTO_TCP || c.proto == IPPROTO_UDP) && !c.fragment && c.end >= c.l4_offset + 4u) {
    uint32_t ports;
    std::memcpy(&ports, ip6 + c.l4_offset, sizeof ports);
    h = rte_hash_crc_4byte(ports, h);
  }
  return h;
}

// RFC 7348 section 4.1 with an IPv6 inner packet over the IPv4 underlay.
// IPv6 routers do not fragment (RFC 8200 section 5): what does not fit
// the tunnel gets Packet Too Big with its MTU (RFC 4443 section 3.2), the
// sender's path MTU discovery (RFC 8201) shrinking its packets; an
// expiring hop limit gets Time Exceeded (section 3.3).
void vxlan_encap6(WorkerContext& w, rte_mbuf* m, rte_ether_hdr* eth, uint8_t* ip6, const Ipv6Chain& c,
                  const RemoteNode& node, const Fib& fib, From from) {
  w.stage(Stage::kVxlanEncap);
  const bool underlay6 = !node.vtep6.is_zero();
  const uint32_t tunnel_mtu = w.setup.mtu - (underlay6 ? kVxlanOuterLen6 : kVxlanOuterLen);
  if (ip6[7] <= 1) return icmp6_error(w, m, c, kIcmp6TimeExceeded, 0, 0, Drop::kIpTtlExpired, fib, from);
  if (c.end > tunnel_mtu)
    return icmp6_error(w, m, c, kIcmp6PacketTooBig, 0, tunnel_mtu, Drop::kMtuExceeded, fib, from);
  --ip6[7];
  const uint32_t hash = (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) ? m->hash.rss : inner_flow_hash6(ip6, c);
  if (underlay6)
    return vxlan_send(w, m, eth, c.end, hash, node.tmpl6, kVxlanOuterLen6, node.nexthop6, Punt::NEED_NEIGH6,
                      vxlan_write_outer6);
  vxlan_send(w, m, eth, c.end, hash, node);
}

}  // namespace svcdp::dp
