#include "dataplane/reject.h"

#include "dataplane/icmp.h"
#include "dataplane/ipv4.h"
#include "dataplane/ndp.h"

#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include <algorithm>
#include <cstring>

namespace svcdp::dp {
namespace {

uint16_t checksum(const void* p, size_t n) { return static_cast<uint16_t>(~rte_raw_cksum(p, n)); }

void swap_macs(rte_ether_hdr* eth) {
  const rte_ether_addr tmp = eth->dst_addr;
  eth->dst_addr = eth->src_addr;
  eth->src_addr = tmp;
}

// RFC 9293 section 3.10.7.1, state CLOSED: if the segment has ACK,
// <SEQ=SEG.ACK><CTL=RST>; otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>,
// where SEG.LEN counts the payload plus SYN and FIN. Rewrites the TCP
// header of the `tcp_len`-byte segment `tcp` (header included) into that
// RST's, checksum left to the caller; false when none may be sent (a RST
// is never answered) or the header is malformed.
bool rst_header(rte_tcp_hdr* tcp, uint32_t tcp_len) {
  if (tcp_len < sizeof(rte_tcp_hdr) || (tcp->tcp_flags & RTE_TCP_RST_FLAG)) return false;
  const uint32_t data_off = (tcp->data_off >> 4) * 4u;
  if (data_off < sizeof(rte_tcp_hdr) || data_off > tcp_len) return false;
  const uint32_t seg_len =
      tcp_len - data_off + !!(tcp->tcp_flags & RTE_TCP_SYN_FLAG) + !!(tcp->tcp_flags & RTE_TCP_FIN_FLAG);
  const bool had_ack = tcp->tcp_flags & RTE_TCP_ACK_FLAG;
  const uint32_t seq = rte_be_to_cpu_32(tcp->sent_seq);
  const be32 ack_in = tcp->recv_ack;
  const be16 sport = tcp->src_port;
  tcp->src_port = tcp->dst_port;
  tcp->dst_port = sport;
  tcp->sent_seq = had_ack ? ack_in : 0;
  tcp->recv_ack = had_ack ? 0 : rte_cpu_to_be_32(seq + seg_len);
  tcp->tcp_flags = had_ack ? RTE_TCP_RST_FLAG : (RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
  tcp->data_off = sizeof(rte_tcp_hdr) / 4 << 4;
  tcp->rx_win = 0;
  tcp->tcp_urp = 0;
  return true;
}

bool make_rst(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip) {
  const uint32_t ip_len = rte_be_to_cpu_16(ip->total_length);
  auto* tcp = reinterpret_cast<rte_tcp_hdr*>(ip + 1);
  if (ip_len < sizeof(rte_ipv4_hdr) || !rst_header(tcp, ip_len - uint32_t{sizeof(rte_ipv4_hdr)})) return false;
  swap_macs(eth);
  constexpr uint16_t len = sizeof(rte_ipv4_hdr) + sizeof(rte_tcp_hdr);
  reply_ip_header(ip, ip->dst_addr, ip->src_addr, IPPROTO_TCP, len);
  tcp->cksum = 0;
  tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
  rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_data_len(m) - sizeof(rte_ether_hdr) - len));
  return true;
}

// The same over IPv6, from `src`: the RST carries no extension headers,
// its TCP header right after a fixed header (RFC 8200 section 3) with hop
// limit 64, checksummed under the pseudo-header (section 8.1).
bool make_rst6(rte_mbuf* m, rte_ether_hdr* eth, uint8_t* ip6, const Ipv6Chain& c, const lb::Addr6& src) {
  if (c.end < c.l4_offset) return false;
  auto* tcp = reinterpret_cast<rte_tcp_hdr*>(ip6 + c.l4_offset);
  if (!rst_header(tcp, uint32_t{c.end} - c.l4_offset)) return false;
  if (c.l4_offset != kIpv6HeaderLen) std::memmove(ip6 + kIpv6HeaderLen, tcp, sizeof(rte_tcp_hdr));
  tcp = reinterpret_cast<rte_tcp_hdr*>(ip6 + kIpv6HeaderLen);
  swap_macs(eth);
  const lb::Addr6 sender = ipv6_src(ip6);
  const uint8_t fixed[8] = {0x60, 0, 0, 0, 0, sizeof(rte_tcp_hdr), IPPROTO_TCP, 64};
  std::memcpy(ip6, fixed, sizeof fixed);
  std::memcpy(ip6 + 8, src.bytes.data(), 16);
  std::memcpy(ip6 + 24, sender.bytes.data(), 16);
  tcp->cksum = 0;
  tcp->cksum = rte_ipv6_udptcp_cksum(reinterpret_cast<const rte_ipv6_hdr*>(ip6), tcp);
  rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_data_len(m) - sizeof(rte_ether_hdr) - kIpv6HeaderLen -
                                            sizeof(rte_tcp_hdr)));
  return true;
}

// Makes room for an error's `prefix` (its IP and ICMP headers) before the
// packet in `m`, keeps `quoted` bytes of it, and writes the Ethernet
// header back to the sender (addresses swapped). Returns where the new IP
// header goes, or null without headroom.
uint8_t* error_frame(rte_mbuf* m, uint16_t prefix, uint32_t quoted, uint16_t ether_type) {
  const rte_ether_hdr old_eth = *rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  auto* head = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, prefix));
  if (head == nullptr) return nullptr;
  rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_data_len(m) - sizeof(rte_ether_hdr) - prefix - quoted));
  auto* eth = reinterpret_cast<rte_ether_hdr*>(head);
  eth->dst_addr = old_eth.src_addr;
  eth->src_addr = old_eth.dst_addr;
  eth->ether_type = rte_cpu_to_be_16(ether_type);
  return head + sizeof(rte_ether_hdr);
}

}  // namespace

bool icmp_error_allowed(const rte_ether_hdr* eth, const rte_ipv4_hdr* ip) {
  if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) return false;
  if (rte_is_multicast_ether_addr(&eth->dst_addr)) return false;
  const uint32_t dst = rte_be_to_cpu_32(ip->dst_addr), src = rte_be_to_cpu_32(ip->src_addr);
  if (RTE_IS_IPV4_MCAST(dst) || dst == 0xffffffff) return false;
  if (ipv4_is_martian_source(src)) return false;
  if (ip->next_proto_id == IPPROTO_ICMP) {
    // Only queries (echo...) may be answered with an error (RFC 1122 section 3.2.2).
    if (rte_be_to_cpu_16(ip->total_length) < sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr)) return false;
    const uint8_t type = reinterpret_cast<const rte_icmp_hdr*>(ip + 1)->icmp_type;
    if (type != RTE_IP_ICMP_ECHO_REQUEST && type != RTE_IP_ICMP_ECHO_REPLY) return false;
  }
  return true;
}

bool make_icmp_error(rte_mbuf* m, uint8_t type, uint8_t code, be32 src, uint16_t next_hop_mtu) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  const be32 sender = ip->src_addr;
  constexpr uint16_t kPrefix = sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr);
  const uint32_t quoted = std::min<uint32_t>(rte_be_to_cpu_16(ip->total_length), kIcmpErrorMaxIpLen - kPrefix);
  auto* new_ip = reinterpret_cast<rte_ipv4_hdr*>(error_frame(m, kPrefix, quoted, RTE_ETHER_TYPE_IPV4));
  if (new_ip == nullptr) return false;
  reply_ip_header(new_ip, src, sender, IPPROTO_ICMP, static_cast<uint16_t>(kPrefix + quoted));
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(new_ip + 1);
  icmp->icmp_type = type;
  icmp->icmp_code = code;
  icmp->icmp_ident = 0;
  icmp->icmp_seq_nb = rte_cpu_to_be_16(next_hop_mtu);
  icmp->icmp_cksum = 0;
  icmp->icmp_cksum = checksum(icmp, sizeof(rte_icmp_hdr) + quoted);
  return true;
}

bool icmp6_error_allowed(const rte_ether_hdr* eth, const uint8_t* ip6, const Ipv6Chain& chain, bool packet_too_big) {
  const uint8_t* src = ip6 + 8;
  const uint8_t* dst = ip6 + 24;
  if (!packet_too_big && (rte_is_multicast_ether_addr(&eth->dst_addr) || dst[0] == 0xff)) return false;
  if (src[0] == 0xff) return false;
  if (std::all_of(src, src + 16, [](uint8_t b) { return b == 0; })) return false;
  if (chain.proto == kIpProtoIcmp6 && !chain.later_fragment()) {
    if (chain.end < chain.l4_offset + 1u) return false;
    const uint8_t type = ip6[chain.l4_offset];
    if (type < 128 || type == 137) return false;  // an error, or a Redirect
  }
  return true;
}

bool make_icmp6_error(rte_mbuf* m, uint8_t type, uint8_t code, const lb::Addr6& src, uint32_t param) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  const uint8_t* ip6 = reinterpret_cast<const uint8_t*>(eth + 1);
  const conf::Ipv6Addr sender = ipv6_src(ip6).bytes;
  constexpr uint16_t kPrefix = kIpv6HeaderLen + 8;  // the new IPv6 header and the ICMPv6 header
  const uint32_t total = kIpv6HeaderLen + (uint32_t{ip6[4]} << 8 | ip6[5]);
  const uint32_t quoted = std::min(total, kIcmp6ErrorMaxLen - kPrefix);
  uint8_t* out = error_frame(m, kPrefix, quoted, RTE_ETHER_TYPE_IPV6);
  if (out == nullptr) return false;
  const uint32_t icmp_len = 8 + quoted;
  const uint8_t fixed[8] = {0x60, 0, 0, 0, static_cast<uint8_t>(icmp_len >> 8), static_cast<uint8_t>(icmp_len),
                            kIpProtoIcmp6, 64};
  std::memcpy(out, fixed, sizeof fixed);
  std::memcpy(out + 8, src.bytes.data(), 16);
  std::memcpy(out + 24, sender.data(), 16);
  uint8_t* icmp = out + kIpv6HeaderLen;
  const uint8_t header[8] = {type, code, 0, 0, static_cast<uint8_t>(param >> 24), static_cast<uint8_t>(param >> 16),
                             static_cast<uint8_t>(param >> 8), static_cast<uint8_t>(param)};
  std::memcpy(icmp, header, sizeof header);
  const uint16_t c = icmp6_checksum(src.bytes, sender, icmp, icmp_len);
  icmp[2] = static_cast<uint8_t>(c >> 8);
  icmp[3] = static_cast<uint8_t>(c);
  return true;
}

bool make_reject(rte_mbuf* m) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  if (!icmp_error_allowed(eth, ip)) return false;
  if (ip->next_proto_id == IPPROTO_TCP) return make_rst(m, eth, ip);
  // RFC 792 destination unreachable, code 3 (port unreachable), from the
  // address the packet was sent to.
  return make_icmp_error(m, kIcmpDestUnreachable, 3, ip->dst_addr);
}

bool make_reject6(rte_mbuf* m, const Ipv6Chain& c, const lb::Addr6& src) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  auto* ip6 = reinterpret_cast<uint8_t*>(eth + 1);
  if (!icmp6_error_allowed(eth, ip6, c, false)) return false;
  if (c.proto == IPPROTO_TCP && !c.later_fragment()) return make_rst6(m, eth, ip6, c, src);
  // RFC 4443 section 3.1: Destination Unreachable, code 4 (port unreachable).
  return make_icmp6_error(m, kIcmp6DestUnreachable, 4, src);
}

}  // namespace svcdp::dp
