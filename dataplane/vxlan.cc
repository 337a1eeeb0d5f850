#include "dataplane/vxlan.h"

namespace svcdp::dp {

VxlanTemplate make_vxlan_template(const rte_ether_addr& local_mac, be32 local_ip, be32 remote_ip,
                                  const rte_ether_addr& remote_vtep_mac, uint32_t vni, uint16_t udp_port) {
  VxlanTemplate t{};
  auto* eth = reinterpret_cast<rte_ether_hdr*>(t.bytes);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
  auto* vx = reinterpret_cast<rte_vxlan_hdr*>(udp + 1);

  eth->src_addr = local_mac;
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = 0;
  ip->total_length = 0;  // per packet
  ip->packet_id = 0;     // atomic datagram: DF set, ID unused (RFC 6864 section 4.1)
  ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = 64;
  ip->next_proto_id = IPPROTO_UDP;
  ip->hdr_checksum = 0;
  ip->src_addr = local_ip;
  ip->dst_addr = remote_ip;

  udp->src_port = 0;  // per packet, from the inner flow hash
  udp->dst_port = rte_cpu_to_be_16(udp_port);
  udp->dgram_len = 0;  // per packet
  udp->dgram_cksum = 0;

  vx->vx_flags = rte_cpu_to_be_32(static_cast<uint32_t>(kVxlanFlagI) << 24);
  vx->vx_vni = rte_cpu_to_be_32(vni << 8);

  uint32_t sum = 0;
  for (size_t i = 0; i < sizeof(rte_ipv4_hdr); i += 2) {
    uint16_t word;
    std::memcpy(&word, reinterpret_cast<const uint8_t*>(ip) + i, sizeof word);
    sum += word;
  }
  t.ip_sum_base = csum_fold32(sum);
  t.inner_src = local_mac;
  t.inner_dst = remote_vtep_mac;
  return t;
}

VxlanTemplate6 make_vxlan_template6(const rte_ether_addr& local_mac, const lb::Addr6& local_ip,
                                    const lb::Addr6& remote_ip, const rte_ether_addr& remote_vtep_mac, uint32_t vni,
                                    uint16_t udp_port) {
  VxlanTemplate6 t{};
  auto* eth = reinterpret_cast<rte_ether_hdr*>(t.bytes);
  auto* ip6 = reinterpret_cast<rte_ipv6_hdr*>(eth + 1);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(ip6 + 1);
  auto* vx = reinterpret_cast<rte_vxlan_hdr*>(udp + 1);
  eth->src_addr = local_mac;
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
  ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
  ip6->proto = IPPROTO_UDP;
  ip6->hop_limits = 64;
  std::memcpy(ip6->src_addr, local_ip.bytes.data(), 16);
  std::memcpy(ip6->dst_addr, remote_ip.bytes.data(), 16);
  udp->dst_port = rte_cpu_to_be_16(udp_port);
  vx->vx_flags = rte_cpu_to_be_32(static_cast<uint32_t>(kVxlanFlagI) << 24);
  vx->vx_vni = rte_cpu_to_be_32(vni << 8);
  t.inner_src = local_mac;
  t.inner_dst = remote_vtep_mac;
  return t;
}

std::optional<Drop> vxlan_check(const rte_udp_hdr* udp, uint32_t avail, uint32_t vni) {
  if (avail < sizeof(rte_udp_hdr) + sizeof(rte_vxlan_hdr)) return Drop::kVxlanTruncated;
  const auto* vx = reinterpret_cast<const rte_vxlan_hdr*>(udp + 1);
  if ((reinterpret_cast<const uint8_t*>(vx)[0] & kVxlanFlagI) == 0) return Drop::kVxlanBadFlags;
  if ((rte_be_to_cpu_32(vx->vx_vni) >> 8) != vni) return Drop::kVxlanUnknownVni;
  const uint32_t inner = avail - sizeof(rte_udp_hdr) - sizeof(rte_vxlan_hdr);
  if (inner < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr)) return Drop::kVxlanInnerRunt;
  const auto* eth = reinterpret_cast<const rte_ether_hdr*>(vx + 1);
  if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) && eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6))
    return Drop::kVxlanInnerNotIp;
  return std::nullopt;
}

}  // namespace svcdp::dp
