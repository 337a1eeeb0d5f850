// Vocabulary of the load-balancing library: wire-order integers, flow
// tuples and their hash. No DPDK: lb/ is tested without an EAL.
#pragma once

#include <array>
#include <bit>
#include <concepts>
#include <type_traits>
#include <cstdint>
#include <cstddef>
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
constexpr uint64_t from_be64(uint64_t v) { return std::endian::native == std::endian::little ? __builtin_bswap64(v) : v; }
constexpr uint16_t from_be16(be16 v) { return to_be16(v); }

// IP protocol numbers (IANA).
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
inline constexpr uint8_t kSctp = 132;
inline constexpr uint8_t kIcmp = 1;

// An IPv6 address as on the wire (RFC 8200 section 3), 16 bytes in
// network order; compared and hashed as two 64-bit words.
struct Addr6 {
  std::array<uint8_t, 16> bytes{};
  auto operator<=>(const Addr6&) const = default;  // byte order: the order of the addresses
  // Two 64-bit compares (per packet: conntrack keys, the pods' prefixes).
  bool operator==(const Addr6& o) const {
    uint64_t a[2], b[2];
    std::memcpy(a, bytes.data(), 16);
    std::memcpy(b, o.bytes.data(), 16);
    return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
  }
  bool is_zero() const { return *this == Addr6{}; }
  // ::ffff:a.b.c.d (RFC 4291 section 2.5.5.2): an IPv4 address where an
  // IPv6 one is stored (an IPv6 flow's IPv4 tunnel endpoint).
  static Addr6 v4_mapped(be32 a) {
    Addr6 r;
    r.bytes[10] = r.bytes[11] = 0xff;
    std::memcpy(&r.bytes[12], &a, 4);
    return r;
  }
};

constexpr bool addr_is_zero(be32 a) { return a == 0; }
inline bool addr_is_zero(const Addr6& a) { return a.is_zero(); }

// The address families, as types: keys, tables and stages are templates
// over them (VPP's is_ip4, Katran's is_ipv6), chosen once where the
// EtherType has been read, never branched on per packet.
struct Ip4 {
  using Addr = be32;
  static constexpr uint8_t kIcmpProto = 1;  // ICMP (RFC 792)
  static constexpr const char* kName = "IPv4";
};
struct Ip6 {
  using Addr = Addr6;
  static constexpr uint8_t kIcmpProto = 58;  // ICMPv6 (RFC 4443)
  static constexpr const char* kName = "IPv6";
};
template <class F>
concept Family = std::is_same_v<F, Ip4> || std::is_same_v<F, Ip6>;

// A flow as one direction of it appears on the wire.
template <Family F>
struct BasicFlowKey {
  using Addr = typename F::Addr;
  Addr src;
  Addr dst;
  be16 sport;
  be16 dport;
  uint8_t proto;
  uint8_t pad[3] = {};

  bool operator==(const BasicFlowKey& o) const {
    return src == o.src && dst == o.dst && sport == o.sport && dport == o.dport && proto == o.proto;
  }
  BasicFlowKey reversed() const { return {dst, src, dport, sport, proto}; }
};
using FlowKey = BasicFlowKey<Ip4>;
using FlowKey6 = BasicFlowKey<Ip6>;
static_assert(sizeof(FlowKey) == 16);
static_assert(sizeof(FlowKey6) == 40);

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

// A plain value's bytes as 64-bit words (the last zero-padded), folded
// from the last: for a 16-byte key, mix64(w0 ^ mix64(w1 ^ golden)).
template <class T>
  requires std::is_trivially_copyable_v<T>
inline uint64_t fold_hash(const T& v) {
  constexpr size_t kWords = (sizeof(T) + 7) / 8;
  uint64_t w[kWords] = {};
  std::memcpy(w, &v, sizeof(T));
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (size_t i = kWords; i-- > 0;) h = mix64(w[i] ^ h);
  return h;
}

// The 128-bit product of two words folded to one (wyhash's "mum"): one
// multiply that mixes every bit of both into the result.
inline uint64_t mum(uint64_t a, uint64_t b) {
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

// An IPv6 address multiplied down to one word: its halves, each under a
// key, in one mum.
inline uint64_t mum_addr(const Addr6& a, uint64_t k0, uint64_t k1) {
  uint64_t w[2];
  std::memcpy(w, a.bytes.data(), sizeof w);
  return mum(w[0] ^ k0, w[1] ^ k1);
}

// An IPv6 address's hash for the per-packet tables (the front-end and
// endpoint filters, neighbour keys): one mum, where fold_hash chains two
// mix64s.
inline uint64_t addr_hash(const Addr6& a) { return mum_addr(a, 0xa0761d6478bd642full, 0xe7037ed1a0b428dbull); }

// A flow's hash: the conntrack bucket, the endpoint a new flow gets. IPv4's
// 16-byte key folds in two mix64s; IPv6's 40 bytes would take five in a
// row, so each address is multiplied down independently (two products in
// parallel) and one mix64 takes them with the ports and protocol. The
// destination's product is addr_hash, which the RX loop's front-end check
// has just computed for the same address (inlined together, it is one
// multiply).
template <Family F>
inline uint64_t flow_hash(const BasicFlowKey<F>& k) {
  if constexpr (std::is_same_v<F, Ip4>) {
    return fold_hash(k);
  } else {
    uint64_t ports;  // sport, dport, proto and the padding
    constexpr size_t at = offsetof(BasicFlowKey<F>, sport);
    static_assert(sizeof k - at == sizeof ports);
    std::memcpy(&ports, reinterpret_cast<const uint8_t*>(&k) + at, sizeof ports);
    return mix64(mum_addr(k.src, 0x8ebc6af09c88c6e3ull, 0x589965cc75374cc3ull) ^ addr_hash(k.dst) ^ ports);
  }
}

// Whether `a` lies in `net`/`len` (both in network order, host bits of
// `net` zero).
constexpr bool prefix_contains(be32 net, uint8_t len, be32 a) {
  const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
  return (from_be32(a) & mask) == from_be32(net);
}
inline bool prefix_contains(const Addr6& net, uint8_t len, const Addr6& a) {
  uint64_t n[2], x[2];
  std::memcpy(n, net.bytes.data(), 16);
  std::memcpy(x, a.bytes.data(), 16);
  const uint64_t mask_hi = len == 0 ? 0 : len >= 64 ? ~uint64_t{0} : ~uint64_t{0} << (64 - len);
  const uint64_t mask_lo = len <= 64 ? 0 : len >= 128 ? ~uint64_t{0} : ~uint64_t{0} << (128 - len);
  return ((from_be64(n[0] ^ x[0]) & mask_hi) | (from_be64(n[1] ^ x[1]) & mask_lo)) == 0;
}

}  // namespace svcdp::lb
