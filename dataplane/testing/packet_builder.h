// Builds frames byte by byte for tests, independently of the code under
// test: Ethernet, ARP, IPv4 (checksum computed here), IPv6, UDP, TCP,
// ICMP, ICMPv6, VXLAN.
// Fixtures read like the packet: Eth(...).ipv4(...).udp(...).payload(...).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace svcdp::testing {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;
using Ip6 = std::array<uint8_t, 16>;

constexpr uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

inline constexpr Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// Appends headers in order; lengths and checksums of IPv4/UDP are fixed up
// by build(), as a real stack would fill them.
class Frame {
 public:
  Frame& eth(const Mac& dst, const Mac& src, uint16_t type);
  Frame& arp(uint16_t op, const Mac& sha, uint32_t spa, const Mac& tha, uint32_t tpa);
  // ttl, proto; id 0, DF clear unless `df`.
  Frame& ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl = 64, bool df = false);
  // Payload Length filled by build(); `next` as given (an extension
  // header's number when raw() bytes of one follow).
  Frame& ipv6(const Ip6& src, const Ip6& dst, uint8_t next, uint8_t hop_limit = 64);
  // Makes the last IPv4 header a fragment: identification `id`, fragment
  // offset `offset` (bytes, a multiple of 8) and the MF flag.
  Frame& fragment(uint16_t id, uint16_t offset, bool more);
  // UDP checksum is computed when `checksum`, else left zero (RFC 768).
  Frame& udp(uint16_t sport, uint16_t dport, bool checksum = false);
  // TCP checksum always computed (RFC 9293 section 3.1).
  Frame& tcp(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq = 1000, uint32_t ack = 0,
             uint16_t window = 65535);
  Frame& icmp(uint8_t type, uint8_t code, uint32_t rest = 0);
  // Checksum over the IPv6 pseudo-header (RFC 4443 section 2.3).
  Frame& icmp6(uint8_t type, uint8_t code, uint32_t rest = 0);
  Frame& vxlan(uint32_t vni, uint8_t flags = 0x08);
  Frame& payload(size_t n, uint8_t seed = 0);
  Frame& raw(const Bytes& b);
  // Pads to the Ethernet minimum of 60 bytes (no FCS), as NICs do.
  Frame& pad_to(size_t n);

  Bytes build() const;

 private:
  struct Mark {
    enum Kind { IPV4, IPV6, UDP, UDP_CSUM, TCP, ICMP, ICMP6 } kind;
    size_t offset;
  };
  Bytes b_;
  std::vector<Mark> marks_;
  size_t pad_to_ = 0;
};

std::string hexdump_diff(const Bytes& got, const Bytes& want);

}  // namespace svcdp::testing
