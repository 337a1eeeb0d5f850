#include "dataplane/ndp.h"

#include <algorithm>
#include <cstring>

namespace svcdp::dp {
namespace {

constexpr uint32_t kIcmpNdLen = 24;  // type, code, checksum, flags/reserved, target
constexpr uint8_t kOptSourceLinkAddr = 1, kOptTargetLinkAddr = 2;
constexpr uint8_t kHopLimit = 255;
constexpr uint8_t kFlagRouter = 0x80, kFlagSolicited = 0x40, kFlagOverride = 0x20;

bool is_multicast(const conf::Ipv6Addr& a) { return a[0] == 0xff; }
bool is_unspecified(const conf::Ipv6Addr& a) {
  return std::all_of(a.begin(), a.end(), [](uint8_t b) { return b == 0; });
}

uint32_t sum16(const uint8_t* p, uint32_t len, uint32_t sum) {
  for (uint32_t i = 0; i + 1 < len; i += 2) sum += uint32_t{p[i]} << 8 | p[i + 1];
  if (len & 1) sum += uint32_t{p[len - 1]} << 8;
  return sum;
}

// IPv6 header, ICMPv6 type/code, and an 8-byte link-layer address option:
// the frame both builders write, checksum filled.
void build(uint8_t* frame, const rte_ether_addr& eth_dst, const rte_ether_addr& eth_src, const conf::Ipv6Addr& src,
           const conf::Ipv6Addr& dst, uint8_t type, uint8_t flags, const conf::Ipv6Addr& target, uint8_t option,
           const rte_ether_addr& option_mac) {
  std::memset(frame, 0, kNdpFrameLen);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(frame);
  eth->dst_addr = eth_dst;
  eth->src_addr = eth_src;
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
  uint8_t* ip = frame + sizeof(rte_ether_hdr);
  ip[0] = 0x60;  // version 6, traffic class 0, flow label 0
  const uint16_t payload = kIcmpNdLen + 8;
  ip[4] = static_cast<uint8_t>(payload >> 8);
  ip[5] = static_cast<uint8_t>(payload);
  ip[6] = kIpProtoIcmp6;
  ip[7] = kHopLimit;
  std::memcpy(ip + 8, src.data(), 16);
  std::memcpy(ip + 24, dst.data(), 16);
  uint8_t* icmp = ip + 40;
  icmp[0] = type;
  icmp[4] = flags;
  std::memcpy(icmp + 8, target.data(), 16);
  icmp[24] = option;
  icmp[25] = 1;  // length in units of 8 bytes
  std::memcpy(icmp + 26, option_mac.addr_bytes, 6);
  const uint16_t c = icmp6_checksum(src, dst, icmp, payload);
  icmp[2] = static_cast<uint8_t>(c >> 8);
  icmp[3] = static_cast<uint8_t>(c);
}

}  // namespace

uint16_t icmp6_checksum(const conf::Ipv6Addr& src, const conf::Ipv6Addr& dst, const uint8_t* icmp, uint32_t len) {
  // Pseudo-header: source, destination, upper-layer length (32 bits),
  // three zero bytes and the next header.
  uint32_t sum = sum16(src.data(), 16, 0);
  sum = sum16(dst.data(), 16, sum);
  sum += len >> 16;
  sum += len & 0xffff;
  sum += kIpProtoIcmp6;
  sum = sum16(icmp, len, sum);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

std::optional<NdpMessage> parse_ndp(const uint8_t* ip, uint32_t len) {
  if (len < 40 || (ip[0] >> 4) != 6 || ip[6] != kIpProtoIcmp6) return std::nullopt;
  const uint32_t payload = uint32_t{ip[4]} << 8 | ip[5];
  if (payload + 40 > len || payload < kIcmpNdLen) return std::nullopt;
  if (ip[7] != kHopLimit) return std::nullopt;  // from off-link: forged
  NdpMessage m{};
  std::memcpy(m.src.data(), ip + 8, 16);
  std::memcpy(m.dst.data(), ip + 24, 16);
  const uint8_t* icmp = ip + 40;
  m.type = icmp[0];
  if ((m.type != kIcmp6NeighborSolicitation && m.type != kIcmp6NeighborAdvertisement) || icmp[1] != 0)
    return std::nullopt;
  if (icmp6_checksum(m.src, m.dst, icmp, payload) != 0) return std::nullopt;
  std::memcpy(m.target.data(), icmp + 8, 16);
  if (is_multicast(m.target)) return std::nullopt;
  if (m.type == kIcmp6NeighborAdvertisement) {
    m.router = icmp[4] & kFlagRouter;
    m.solicited = icmp[4] & kFlagSolicited;
    m.override_flag = icmp[4] & kFlagOverride;
  }
  // Options (RFC 4861 section 4.6): type, length in 8-byte units (0 is
  // invalid), value; the link-layer address one of this message's kind.
  const uint8_t wanted = m.type == kIcmp6NeighborSolicitation ? kOptSourceLinkAddr : kOptTargetLinkAddr;
  for (uint32_t at = kIcmpNdLen; at < payload;) {
    if (payload - at < 2 || icmp[at + 1] == 0) return std::nullopt;
    const uint32_t opt_len = uint32_t{icmp[at + 1]} * 8;
    if (opt_len > payload - at) return std::nullopt;
    if (icmp[at] == wanted && opt_len >= 8) {
      rte_ether_addr mac;
      std::memcpy(mac.addr_bytes, icmp + at + 2, 6);
      m.link_addr = mac;
    }
    at += opt_len;
  }
  if (m.type == kIcmp6NeighborSolicitation && is_unspecified(m.src)) {
    // Duplicate address detection: to the target's solicited-node group, no source link-layer address.
    if (m.dst != solicited_node(m.target) || m.link_addr) return std::nullopt;
  }
  if (m.type == kIcmp6NeighborAdvertisement && is_multicast(m.dst) && m.solicited) return std::nullopt;
  return m;
}

conf::Ipv6Addr solicited_node(const conf::Ipv6Addr& ip) {
  conf::Ipv6Addr g{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0, 0, 0};
  std::copy(ip.begin() + 13, ip.end(), g.begin() + 13);
  return g;
}

rte_ether_addr multicast_mac(const conf::Ipv6Addr& group) {
  return {{0x33, 0x33, group[12], group[13], group[14], group[15]}};
}

void build_neighbor_advert(uint8_t* frame, const NdpMessage& ns, const rte_ether_addr& ns_eth_src,
                           const rte_ether_addr& mac, bool router) {
  const bool to_all = is_unspecified(ns.src);
  const conf::Ipv6Addr all_nodes{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  const conf::Ipv6Addr& dst = to_all ? all_nodes : ns.src;
  const rte_ether_addr eth_dst = to_all ? multicast_mac(all_nodes) : ns.link_addr.value_or(ns_eth_src);
  const auto flags =
      static_cast<uint8_t>((router ? kFlagRouter : 0) | (to_all ? 0 : kFlagSolicited) | kFlagOverride);
  build(frame, eth_dst, mac, ns.target, dst, kIcmp6NeighborAdvertisement, flags, ns.target, kOptTargetLinkAddr, mac);
}

void build_neighbor_solicit(uint8_t* frame, const conf::Ipv6Addr& src, const rte_ether_addr& mac,
                            const conf::Ipv6Addr& target) {
  const conf::Ipv6Addr group = solicited_node(target);
  build(frame, multicast_mac(group), mac, src, group, kIcmp6NeighborSolicitation, 0, target, kOptSourceLinkAddr, mac);
}

}  // namespace svcdp::dp
