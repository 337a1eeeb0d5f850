#include "dataplane/icmp.h"

#include <rte_tcp.h>
#include <rte_udp.h>

namespace svcdp::dp {

std::optional<IcmpError> parse_icmp_error(rte_ipv4_hdr* ip) {
  if (ip->next_proto_id != IPPROTO_ICMP || ipv4_is_fragment(ip)) return std::nullopt;
  const uint32_t ip_len = rte_be_to_cpu_16(ip->total_length);
  if (ip_len < sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr) + sizeof(rte_ipv4_hdr) + 8) return std::nullopt;
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(ip + 1);
  if (icmp->icmp_type != kIcmpDestUnreachable && icmp->icmp_type != kIcmpTimeExceeded &&
      icmp->icmp_type != kIcmpParameterProblem)
    return std::nullopt;
  auto* inner = reinterpret_cast<rte_ipv4_hdr*>(icmp + 1);
  const uint32_t quoted = ip_len - sizeof(rte_ipv4_hdr) - sizeof(rte_icmp_hdr);
  if ((inner->version_ihl >> 4) != 4 || (inner->version_ihl & 0xf) != 5) return std::nullopt;
  IcmpError e{icmp, ip_len - static_cast<uint32_t>(sizeof(rte_ipv4_hdr)), inner, nullptr, 0};
  const bool first_fragment = (inner->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) == 0;
  if (first_fragment && (inner->next_proto_id == IPPROTO_TCP || inner->next_proto_id == IPPROTO_UDP)) {
    e.inner_l4 = inner + 1;
    e.inner_l4_len = quoted - static_cast<uint32_t>(sizeof(rte_ipv4_hdr));
  }
  return e;
}

void icmp_error_translate(const IcmpError& e, NatSide side, be32 addr, be16 port) {
  const bool full_tcp = e.inner_ip->next_proto_id == IPPROTO_TCP && e.inner_l4_len >= sizeof(rte_tcp_hdr);
  const bool full_udp = e.inner_ip->next_proto_id == IPPROTO_UDP;  // 8 bytes hold the checksum
  if (e.inner_l4 != nullptr && (full_tcp || full_udp)) {
    nat_rewrite(e.inner_ip, e.inner_l4, side, addr, port);
  } else {
    // Quote too short for the transport checksum: ports only.
    nat_rewrite(e.inner_ip, nullptr, side, addr, port);
    if (e.inner_l4 != nullptr) {
      auto* ports = static_cast<rte_udp_hdr*>(e.inner_l4);
      (side == NatSide::SOURCE ? ports->src_port : ports->dst_port) = port;
    }
  }
  e.icmp->icmp_cksum = 0;
  e.icmp->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(e.icmp, e.icmp_len));
}

}  // namespace svcdp::dp
