#include "conf/inet.h"

#include <charconv>
#include <cstdio>

namespace svcdp::conf {
namespace {

template <typename T>
bool parse_number(std::string_view s, T& out, int base = 10) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::optional<uint32_t> parse_ipv4(std::string_view text) {
  uint32_t ip = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = i < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos || dot == 0 || dot > 3) return std::nullopt;
    // A leading zero is refused, as Go's net.ParseIP has done since 1.17
    // (and the API server's validation with it): "010" is octal to
    // inet_aton and decimal to others, so it names no one address.
    if (dot > 1 && text[0] == '0') return std::nullopt;
    unsigned octet = 0;
    if (!parse_number(text.substr(0, dot), octet) || octet > 255) return std::nullopt;
    ip = ip << 8 | octet;
    text.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  if (!text.empty()) return std::nullopt;
  return ip;
}

std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = parse_ipv4(text.substr(0, slash));
  unsigned len = 0;
  if (!ip || !parse_number(text.substr(slash + 1), len) || len > 32) return std::nullopt;
  Ipv4Prefix p{*ip, static_cast<uint8_t>(len)};
  if ((p.addr & p.mask()) != p.addr) return std::nullopt;
  return p;
}

std::optional<MacAddr> parse_mac(std::string_view text) {
  MacAddr mac{};
  if (text.size() != 17) return std::nullopt;
  for (int i = 0; i < 6; ++i) {
    if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') return std::nullopt;
    if (!parse_number(text.substr(i * 3, 2), mac[i], 16)) return std::nullopt;
  }
  return mac;
}

std::string format_ipv4(uint32_t ip) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
  return buf;
}

std::string format_prefix(const Ipv4Prefix& p) { return format_ipv4(p.addr) + "/" + std::to_string(p.len); }

std::string format_mac(const MacAddr& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

}  // namespace svcdp::conf
