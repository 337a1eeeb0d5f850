// IPv4 header checks and in-place rewrites used on the hot path. Pure
// functions over header structs: no EAL needed, unit tested directly.
#pragma once

#include "dataplane/drop_reason.h"
#include "dataplane/types.h"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf_core.h>

#include <cstring>
#include <optional>

namespace svcdp::dp {

// RFC 1071 one's-complement sum helpers (sums kept unfolded in 32 bits).
inline uint32_t csum_fold32(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  return (sum & 0xffff) + (sum >> 16);
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit field changing
// from m to m'. Values are taken as stored (any byte order, consistently).
inline uint16_t csum_replace16(uint16_t csum, uint16_t old_val, uint16_t new_val) {
  uint32_t sum = static_cast<uint16_t>(~csum) + static_cast<uint32_t>(static_cast<uint16_t>(~old_val)) + new_val;
  return static_cast<uint16_t>(~csum_fold32(sum));
}

// Validates an IPv4 header the way a router must before forwarding
// (RFC 1812 section 5.2.2): length, version, IHL, total length, checksum.
// IPv4 options are refused (svcdp neither needs nor forwards them).
// `avail` is the number of bytes from `ip` to the end of the frame.
// `rx_flags`, a received mbuf's ol_flags for its outer header, carry the
// port's checksum verdict when it verifies IPv4 checksums
// (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM): GOOD or BAD is trusted, anything else
// (and 0, for inner or quoted headers) is checked here. Thread: any.
inline std::optional<Drop> check_ipv4(const rte_ipv4_hdr* ip, uint32_t avail, uint64_t rx_flags = 0) {
  if (avail < sizeof(rte_ipv4_hdr)) return Drop::kIpTruncated;
  if ((ip->version_ihl >> 4) != 4) return Drop::kIpBadVersion;
  const uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
  if (ihl < sizeof(rte_ipv4_hdr)) return Drop::kIpBadIhl;
  if (ihl > sizeof(rte_ipv4_hdr)) return Drop::kIpOptions;
  const uint32_t total = rte_be_to_cpu_16(ip->total_length);
  if (total < ihl || total > avail) return Drop::kIpBadLength;
  // The one's-complement sum over a header with its correct checksum is
  // 0xffff (RFC 1071), i.e. rte_raw_cksum() of it is 0xffff, whatever
  // value the checksum field holds.
  switch (rx_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
    case RTE_MBUF_F_RX_IP_CKSUM_GOOD: return std::nullopt;
    case RTE_MBUF_F_RX_IP_CKSUM_BAD: return Drop::kIpBadChecksum;
    default: break;
  }
  if (rte_raw_cksum(ip, sizeof(rte_ipv4_hdr)) != 0xffff) return Drop::kIpBadChecksum;
  return std::nullopt;
}

// Forwarding step of RFC 1812 section 5.3.1: TTL minus one, checksum
// updated incrementally (RFC 1624). The caller checked ttl > 1.
inline void ipv4_decrement_ttl(rte_ipv4_hdr* ip) {
  // TTL is the high byte of the 16-bit word it shares with the protocol.
  uint16_t old_word, new_word;
  std::memcpy(&old_word, &ip->time_to_live, sizeof old_word);
  --ip->time_to_live;
  std::memcpy(&new_word, &ip->time_to_live, sizeof new_word);
  ip->hdr_checksum = csum_replace16(ip->hdr_checksum, old_word, new_word);
}

// The port at byte `offset` (0: source, 2: destination) of a TCP, UDP or
// SCTP header (RFC 793, 768, 9260 put both first), in network order.
// Thread: any.
inline be16 l4_port(const void* l4, size_t offset) {
  be16 v;
  std::memcpy(&v, static_cast<const uint8_t*>(l4) + offset, sizeof v);
  return v;
}

// The header of a packet svcdp originates in answer to one (an RST, a
// DNS answer): 20 bytes, no options, DF, TTL 64 (RFC 1122 3.2.1.7), the
// checksum computed. Thread: any.
inline void reply_ip_header(rte_ipv4_hdr* ip, be32 src, be32 dst, uint8_t proto, uint16_t total_len) {
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = 0;
  ip->total_length = rte_cpu_to_be_16(total_len);
  ip->packet_id = 0;
  ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = 64;
  ip->next_proto_id = proto;
  ip->src_addr = src;
  ip->dst_addr = dst;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
}

// A fragment other than a whole datagram: MF set or a non-zero offset
// (RFC 791 section 3.1).
inline bool ipv4_is_fragment(const rte_ipv4_hdr* ip) {
  return (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0;
}

// A source address no host may send from (RFC 1812 section 5.3.7, Linux's
// martian sources): "this network" 0/8, loopback 127/8, multicast 224/4
// and the reserved 240/4 with the limited broadcast. Host byte order.
constexpr bool ipv4_is_martian_source(uint32_t src) {
  const uint32_t net = src >> 24;
  return net == 0 || net == 127 || net >= 224;
}

}  // namespace svcdp::dp
