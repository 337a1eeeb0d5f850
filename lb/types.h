// Vocabulary of the load-balancing library: wire-order integers, flow
// tuples and their hash. No DPDK: lb/ is tested without an EAL.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace svcdp::lb {

// Values in network byte order, exactly as on the wire, so that the
// dataplane never swaps bytes per packet.
using be16 = uint16_t;
using be32 = uint32_t;

// Host ↔ network order, for building tables and tests (never per packet).
constexpr be32 to_be32(uint32_t v) { return std::endian::native == std::endian::little ? __builtin_bswap32(v) : v; }
constexpr be16 to_be16(uint16_t v) { return std::endian::native == std::endian::little ? __builtin_bswap16(v) : v; }
constexpr uint32_t from_be32(be32 v) { return to_be32(v); }
constexpr uint16_t from_be16(be16 v) { return to_be16(v); }

// IP protocol numbers (IANA).
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
inline constexpr uint8_t kSctp = 132;
inline constexpr uint8_t kIcmp = 1;

// A flow as one direction of it appears on the wire.
struct FlowKey {
  be32 src;
  be32 dst;
  be16 sport;
  be16 dport;
  uint8_t proto;
  uint8_t pad[3] = {};

  bool operator==(const FlowKey& o) const {
    return src == o.src && dst == o.dst && sport == o.sport && dport == o.dport && proto == o.proto;
  }
  FlowKey reversed() const { return {dst, src, dport, sport, proto}; }
};
static_assert(sizeof(FlowKey) == 16);

// 64-bit mix (the SplitMix64 / MurmurHash3 finaliser): fast, good
// avalanche, no tables, no CPU-specific instructions.
constexpr uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

inline uint64_t flow_hash(const FlowKey& k) {
  uint64_t a, b;
  std::memcpy(&a, &k, 8);
  std::memcpy(&b, reinterpret_cast<const uint8_t*>(&k) + 8, 8);
  return mix64(a ^ mix64(b ^ 0x9e3779b97f4a7c15ull));
}

}  // namespace svcdp::lb
