// Address and port translation of IPv4 and IPv6 TCP/UDP/SCTP packets in
// place, with incremental checksum updates (RFC 1624): the IPv4 header
// checksum for the addresses, transport checksums for addresses
// (pseudo-header) and ports. Pure functions over headers; no EAL needed.
#pragma once

#include "dataplane/ipv4.h"
#include "dataplane/ipv6.h"
#include "lb/types.h"
#include "dataplane/types.h"

#include <rte_byteorder.h>
#include <rte_hash_crc.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_sctp.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstring>

namespace svcdp::dp {

// One's-complement update of `csum` for a 32-bit field changing.
inline uint16_t csum_replace32(uint16_t csum, uint32_t old_val, uint32_t new_val) {
  csum = csum_replace16(csum, static_cast<uint16_t>(old_val), static_cast<uint16_t>(new_val));
  return csum_replace16(csum, static_cast<uint16_t>(old_val >> 16), static_cast<uint16_t>(new_val >> 16));
}

// The same for a 128-bit field (an IPv6 address), as its eight 16-bit
// words: ~(~HC + sum(~m) + sum(m')).
inline uint16_t csum_replace128(uint16_t csum, const lb::Addr6& old_val, const lb::Addr6& new_val) {
  uint32_t sum = static_cast<uint16_t>(~csum);
  for (size_t i = 0; i < 16; i += 2) {
    uint16_t o, n;
    std::memcpy(&o, &old_val.bytes[i], 2);
    std::memcpy(&n, &new_val.bytes[i], 2);
    sum += static_cast<uint16_t>(~o) + uint32_t{n};
  }
  return static_cast<uint16_t>(~csum_fold32(sum));
}

enum class NatSide : uint8_t { SOURCE, DESTINATION };

// SCTP's checksum (RFC 9260 section 6.8 and appendix A): CRC32c over the
// whole packet with the field zero, stored least significant byte first.
// It covers no addresses, so only a port rewrite changes it, and it has no
// incremental form: computed again over the `len` bytes from the common
// header (the crc32 instruction: about 8 bytes a cycle). Thread: any.
inline void sctp_set_checksum(rte_sctp_hdr* sctp, uint32_t len) {
  sctp->cksum = 0;
  const uint32_t crc = rte_cpu_to_le_32(~rte_hash_crc(sctp, len, 0xffffffff));
  std::memcpy(&sctp->cksum, &crc, sizeof crc);
}

// Rewrites one side (source or destination) of an IPv4 packet to
// `addr`:`port`. `l4` is the TCP/UDP/SCTP header (an SCTP packet's
// checksum is then set by sctp_set_checksum), or null for a non-first
// fragment (which carries no ports; its checksum was fixed in the first).
// A UDP datagram sent without checksum keeps none; one that comes out 0
// is sent as 0xffff, 0 meaning "no checksum" (RFC 768). Thread: any.
inline void nat_rewrite(rte_ipv4_hdr* ip, void* l4, NatSide side, be32 addr, be16 port) {
  const bool src = side == NatSide::SOURCE;
  const be32 old_addr = src ? ip->src_addr : ip->dst_addr;
  (src ? ip->src_addr : ip->dst_addr) = addr;
  ip->hdr_checksum = csum_replace32(ip->hdr_checksum, old_addr, addr);
  if (l4 == nullptr) return;
  // TCP, UDP and SCTP keep their ports at the same offsets.
  auto* udp = static_cast<rte_udp_hdr*>(l4);
  const be16 old_port = src ? udp->src_port : udp->dst_port;
  (src ? udp->src_port : udp->dst_port) = port;
  auto update = [&](uint16_t csum) { return csum_replace16(csum_replace32(csum, old_addr, addr), old_port, port); };
  if (ip->next_proto_id == IPPROTO_TCP) {
    auto* tcp = static_cast<rte_tcp_hdr*>(l4);
    tcp->cksum = update(tcp->cksum);
  } else if (ip->next_proto_id == IPPROTO_UDP && udp->dgram_cksum != 0) {
    const uint16_t c = update(udp->dgram_cksum);
    udp->dgram_cksum = c == 0 ? 0xffff : c;
  }
}

// Rewrites one side of an IPv6 packet whose chain `c` walk_ipv6 read to
// `addr`:`port` (NAT66 as kube-proxy's ip6tables DNAT/SNAT does it).
// IPv6 has no header checksum; the TCP, UDP and ICMPv6 checksums cover
// the addresses through the pseudo-header (RFC 8200 section 8.1) and are
// updated; an ICMPv6 message has no port (`port` unused). A later
// fragment carries no upper-layer header: only the address changes (its
// first fragment's checksum covers the whole packet). A UDP checksum of 0
// is invalid over IPv6 (section 8.1) and is left for the receiver to
// discard; one that comes out 0 is sent as 0xffff. SCTP's checksum covers
// no addresses: the caller sets it with sctp_set_checksum after a port
// change. The caller checked that the upper-layer header is in the
// packet. Thread: any.
inline void nat66_rewrite(uint8_t* ip6, const Ipv6Chain& c, NatSide side, const lb::Addr6& addr, be16 port) {
  uint8_t* field = ip6 + (side == NatSide::SOURCE ? 8 : 24);
  lb::Addr6 old_addr;
  std::memcpy(old_addr.bytes.data(), field, 16);
  std::memcpy(field, addr.bytes.data(), 16);
  if (c.later_fragment()) return;
  uint8_t* l4 = ip6 + c.l4_offset;
  if (c.proto == 58) {
    auto* icmp = reinterpret_cast<rte_icmp_hdr*>(l4);
    icmp->icmp_cksum = csum_replace128(icmp->icmp_cksum, old_addr, addr);
    return;
  }
  auto* udp = reinterpret_cast<rte_udp_hdr*>(l4);  // TCP, UDP and SCTP keep their ports at the same offsets
  const be16 old_port = side == NatSide::SOURCE ? udp->src_port : udp->dst_port;
  (side == NatSide::SOURCE ? udp->src_port : udp->dst_port) = port;
  auto update = [&](uint16_t csum) { return csum_replace16(csum_replace128(csum, old_addr, addr), old_port, port); };
  if (c.proto == IPPROTO_TCP) {
    auto* tcp = reinterpret_cast<rte_tcp_hdr*>(l4);
    tcp->cksum = update(tcp->cksum);
  } else if (c.proto == IPPROTO_UDP && udp->dgram_cksum != 0) {
    const uint16_t v = update(udp->dgram_cksum);
    udp->dgram_cksum = v == 0 ? 0xffff : v;
  }
}

}  // namespace svcdp::dp
