// Text forms of IPv4 addresses, prefixes and MAC addresses, as they appear
// in config files and Kubernetes objects. Values are host byte order.
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

// "10.1.2.3" → 0x0a010203. Thread: any.
std::optional<uint32_t> parse_ipv4(std::string_view text);
// "10.244.1.0/24" → {0x0af40100, 24}; host bits set is an error. Thread: any.
std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view text);
// "02:5d:00:00:00:01" (or with '-'). Thread: any.
std::optional<MacAddr> parse_mac(std::string_view text);

std::string format_ipv4(uint32_t ip);
std::string format_prefix(const Ipv4Prefix& p);
std::string format_mac(const MacAddr& mac);

}  // namespace svcdp::conf
