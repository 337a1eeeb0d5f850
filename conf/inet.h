// Text forms of IPv4 and IPv6 addresses, prefixes and MAC addresses, as
// they appear in config files and Kubernetes objects. IPv4 values are
// host byte order; IPv6 ones the 16 bytes in network order.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace svcdp::conf {

using MacAddr = std::array<uint8_t, 6>;

struct Ipv4Prefix {
  uint32_t addr = 0;  // host order, host bits zero
  uint8_t len = 0;

  uint32_t mask() const { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
  bool contains(uint32_t ip) const { return (ip & mask()) == addr; }
  bool operator==(const Ipv4Prefix&) const = default;
};

using Ipv6Addr = std::array<uint8_t, 16>;

struct Ipv6Prefix {
  Ipv6Addr addr{};  // host bits zero
  uint8_t len = 0;

  bool contains(const Ipv6Addr& ip) const;
  bool operator==(const Ipv6Prefix&) const = default;
};

// The family of an address, as Kubernetes names it (spec.ipFamilies,
// EndpointSlice addressType).
enum class IpFamily : uint8_t { kIPv4, kIPv6 };

// "10.1.2.3" → 0x0a010203. Thread: any.
std::optional<uint32_t> parse_ipv4(std::string_view text);
// "10.244.1.0/24" → {0x0af40100, 24}; host bits set is an error. Thread: any.
std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view text);
// RFC 4291 section 2.2 text ("fd00:10:96::a", "::ffff:10.0.0.1"), as Go's
// netip.ParseAddr reads it without a zone: hex groups of 1-4 digits, one
// "::" for one or more zero groups, a dotted IPv4 tail (no leading
// zeros). Thread: any.
std::optional<Ipv6Addr> parse_ipv6(std::string_view text);
// "fd00:10:244:1::/64"; host bits set is an error. Thread: any.
std::optional<Ipv6Prefix> parse_ipv6_prefix(std::string_view text);
// "02:5d:00:00:00:01" (or with '-'). Thread: any.
std::optional<MacAddr> parse_mac(std::string_view text);

std::string format_ipv4(uint32_t ip);
std::string format_prefix(const Ipv4Prefix& p);
// RFC 5952 section 4: lower case, no leading zeros, the longest run of two
// or more zero groups (the first of equals) as "::"; IPv4-mapped
// addresses with a dotted tail (section 5).
std::string format_ipv6(const Ipv6Addr& ip);
std::string format_ipv6_prefix(const Ipv6Prefix& p);
std::string format_mac(const MacAddr& mac);

}  // namespace svcdp::conf
