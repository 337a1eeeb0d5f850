// IPv6 header checks: the fixed header (RFC 8200 section 3) and the walk
// over its extension headers (section 4) to the upper-layer header, with
// the Fragment header read (section 4.5). Pure functions over bytes: no
// EAL needed, unit tested and fuzzed directly; the IPv6 input stages
// (ip6_input, ip6_uplink, ip6_node) walk every frame with them. Thread: any.
#pragma once

#include "dataplane/drop_reason.h"
#include "lb/types.h"

#include <cstdint>
#include <cstring>
#include <optional>

namespace svcdp::dp {

inline constexpr uint32_t kIpv6HeaderLen = 40;

// The source and destination addresses of the IPv6 header at `ip6`
// (RFC 8200 section 3: bytes 8-23 and 24-39).
inline lb::Addr6 ipv6_src(const uint8_t* ip6) {
  lb::Addr6 a;
  std::memcpy(a.bytes.data(), ip6 + 8, 16);
  return a;
}
inline lb::Addr6 ipv6_dst(const uint8_t* ip6) {
  lb::Addr6 a;
  std::memcpy(a.bytes.data(), ip6 + 24, 16);
  return a;
}

// Next Header values (IANA "Assigned Internet Protocol Numbers"; RFC 7045
// lists which are extension headers).
inline constexpr uint8_t kIp6HopByHop = 0, kIp6Routing = 43, kIp6Fragment = 44, kIp6Esp = 50, kIp6Auth = 51,
                         kIp6NoNext = 59, kIp6DestOptions = 60, kIp6Mobility = 135, kIp6Hip = 139, kIp6Shim6 = 140;

// Extension headers walked at most (Linux and Cilium stop at a handful
// too): a longer chain is an attack on the walk, not a packet to forward.
inline constexpr unsigned kIp6MaxExtHeaders = 8;

// What the header chain says.
struct Ipv6Chain {
  uint8_t proto = 0;       // the upper-layer protocol (the last Next Header)
  uint16_t l4_offset = 0;  // from the IPv6 header to the upper-layer header
  uint16_t end = 0;        // 40 + Payload Length: the packet's bytes from the IPv6 header
  uint8_t ext_headers = 0;
  // A Fragment header other than an atomic fragment's (offset 0, M 0:
  // a whole packet, RFC 6946 / RFC 8200 section 4.5).
  bool fragment = false;
  uint16_t frag_offset = 0;  // bytes into the original packet's fragmentable part
  bool more_fragments = false;
  uint32_t frag_id = 0;  // as on the wire
  // A non-first fragment: no upper-layer header here, `l4_offset` is
  // where its fragment data starts.
  bool later_fragment() const { return fragment && frag_offset != 0; }
};

// Whether a walked packet is a Neighbor Solicitation or Advertisement
// for the control thread: RFC 4861 section 7.1 has them carry no
// extension headers (the hop limit of 255 and the rest are checked by
// its parse). Thread: any.
inline bool is_neighbor_discovery(const uint8_t* ip6, const Ipv6Chain& c) {
  if (c.proto != 58 || c.l4_offset != kIpv6HeaderLen || c.end < kIpv6HeaderLen + 1) return false;
  return ip6[kIpv6HeaderLen] == 135 || ip6[kIpv6HeaderLen] == 136;
}

// The least of an upper-layer header RFC 7112 wants in a first fragment:
// TCP's 20 bytes, UDP's 8, SCTP's common header 12, ICMPv6's 4.
constexpr uint32_t upper_layer_min(uint8_t proto) {
  switch (proto) {
    case 6: return 20;
    case 17: return 8;
    case 132: return 12;
    case 58: return 4;
    default: return 0;
  }
}

// Validates the fixed header and walks the chain of the packet at `ip6`
// (`avail` bytes to the end of the frame). Drops: shorter than 40 bytes,
// version not 6, Payload Length beyond the frame or 0 with a Hop-by-Hop
// header (jumbograms, RFC 2675, are not forwarded); Hop-by-Hop anywhere
// but first (section 4.1), more than kIp6MaxExtHeaders, a header past the
// payload, or a first fragment without the whole chain (RFC 7112 section
// 5); a Routing header with Segments Left (svcdp is the destination of
// Service traffic and does not source-route; RFC 5095 retires type 0);
// two Fragment headers, or a fragment not last whose length is not a
// multiple of 8 (section 4.5). ESP and anything not an extension header
// end the walk as the upper layer.
inline std::optional<Drop> walk_ipv6(const uint8_t* ip6, uint32_t avail, Ipv6Chain& out) {
  if (avail < kIpv6HeaderLen) return Drop::kIp6Truncated;
  if ((ip6[0] >> 4) != 6) return Drop::kIpBadVersion;
  const uint32_t payload = uint32_t{ip6[4]} << 8 | ip6[5];
  uint8_t next = ip6[6];
  if (kIpv6HeaderLen + payload > avail || (payload == 0 && next == kIp6HopByHop)) return Drop::kIp6BadLength;
  out = Ipv6Chain{};
  out.end = static_cast<uint16_t>(kIpv6HeaderLen + payload);
  uint32_t at = kIpv6HeaderLen;
  bool seen_fragment = false;
  for (;;) {
    uint32_t len;
    switch (next) {
      case kIp6HopByHop:
        if (at != kIpv6HeaderLen) return Drop::kIp6BadChain;
        [[fallthrough]];
      case kIp6Routing:
      case kIp6DestOptions:
      case kIp6Mobility:
      case kIp6Hip:
      case kIp6Shim6:
        if (at + 8 > out.end) return Drop::kIp6BadChain;
        len = (uint32_t{ip6[at + 1]} + 1) * 8;  // Hdr Ext Len: 8-octet units beyond the first 8
        if (next == kIp6Routing && ip6[at + 3] != 0) return Drop::kIp6RoutingHeader;  // Segments Left
        break;
      case kIp6Auth:
        if (at + 8 > out.end) return Drop::kIp6BadChain;
        len = (uint32_t{ip6[at + 1]} + 2) * 4;  // RFC 4302 section 2.2: 4-octet units, minus 2
        break;
      case kIp6Fragment: {
        if (seen_fragment) return Drop::kIp6BadFragment;
        if (at + 8 > out.end) return Drop::kIp6BadChain;
        seen_fragment = true;
        len = 8;
        const uint16_t field = static_cast<uint16_t>(ip6[at + 2] << 8 | ip6[at + 3]);
        const auto offset = static_cast<uint16_t>(field & 0xfff8);  // 13 bits of 8-octet units, in place
        const bool more = field & 1;
        if (offset != 0 || more) {
          out.fragment = true;
          out.frag_offset = offset;
          out.more_fragments = more;
          std::memcpy(&out.frag_id, ip6 + at + 4, sizeof out.frag_id);
          if (more && (out.end - (at + 8)) % 8 != 0) return Drop::kIp6BadFragment;
        }
        break;
      }
      default:
        // RFC 7112 section 5: a first fragment holds the whole chain, the
        // upper-layer header included.
        if (out.fragment && at + upper_layer_min(next) > out.end) return Drop::kIp6BadChain;
        out.proto = next;
        out.l4_offset = static_cast<uint16_t>(at);
        return std::nullopt;
    }
    if (++out.ext_headers > kIp6MaxExtHeaders || at + len > out.end) return Drop::kIp6BadChain;
    next = ip6[at];
    at += len;
    if (out.later_fragment()) {  // the rest of the chain is in the first fragment
      out.proto = next;
      out.l4_offset = static_cast<uint16_t>(at);
      return std::nullopt;
    }
  }
}

}  // namespace svcdp::dp
