#include "conf/inet.h"

#include <algorithm>
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

bool Ipv6Prefix::contains(const Ipv6Addr& ip) const {
  for (unsigned bit = 0; bit < len; bit += 8) {
    const unsigned keep = len - bit >= 8 ? 8 : len - bit;
    const auto mask = static_cast<uint8_t>(0xff00u >> keep);
    if ((ip[bit / 8] & mask) != addr[bit / 8]) return false;
  }
  return true;
}

std::optional<Ipv6Addr> parse_ipv6(std::string_view text) {
  // Groups before and after the "::" (if any), as 16-bit values; a
  // dotted IPv4 tail is two groups.
  std::array<uint16_t, 8> head{}, tail{};
  size_t nhead = 0, ntail = 0;
  bool ellipsis = false;
  const size_t gap = text.find("::");
  if (gap != std::string_view::npos) {
    if (text.find("::", gap + 1) != std::string_view::npos) return std::nullopt;
    ellipsis = true;
  }
  auto groups = [](std::string_view part, std::array<uint16_t, 8>& out, size_t& n, bool last) {
    if (part.empty()) return true;
    while (true) {
      const size_t colon = part.find(':');
      const std::string_view g = part.substr(0, colon);
      if (colon == std::string_view::npos && last && g.find('.') != std::string_view::npos) {
        const auto v4 = parse_ipv4(g);
        if (!v4 || n + 2 > 8) return false;
        out[n++] = static_cast<uint16_t>(*v4 >> 16);
        out[n++] = static_cast<uint16_t>(*v4);
        return true;
      }
      uint16_t v = 0;
      if (g.size() > 4 || n == 8 || !parse_number(g, v, 16)) return false;
      out[n++] = v;
      if (colon == std::string_view::npos) return true;
      part.remove_prefix(colon + 1);
    }
  };
  if (ellipsis) {
    if (!groups(text.substr(0, gap), head, nhead, false) || !groups(text.substr(gap + 2), tail, ntail, true))
      return std::nullopt;
    if (nhead + ntail > 7) return std::nullopt;  // "::" stands for at least one group
  } else if (!groups(text, head, nhead, true) || nhead != 8) {
    return std::nullopt;
  }
  Ipv6Addr ip{};
  for (size_t i = 0; i < nhead; ++i) {
    ip[2 * i] = static_cast<uint8_t>(head[i] >> 8);
    ip[2 * i + 1] = static_cast<uint8_t>(head[i]);
  }
  for (size_t i = 0; i < ntail; ++i) {
    const size_t at = 8 - ntail + i;
    ip[2 * at] = static_cast<uint8_t>(tail[i] >> 8);
    ip[2 * at + 1] = static_cast<uint8_t>(tail[i]);
  }
  return ip;
}

std::optional<Ipv6Prefix> parse_ipv6_prefix(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto ip = parse_ipv6(text.substr(0, slash));
  unsigned len = 0;
  if (!ip || !parse_number(text.substr(slash + 1), len) || len > 128) return std::nullopt;
  Ipv6Prefix p{*ip, static_cast<uint8_t>(len)};
  Ipv6Prefix zeroed{};
  zeroed.len = p.len;
  for (unsigned bit = 0; bit < len; bit += 8) {
    const unsigned keep = len - bit >= 8 ? 8 : len - bit;
    zeroed.addr[bit / 8] = static_cast<uint8_t>(ip->at(bit / 8) & (0xff00u >> keep));
  }
  if (zeroed.addr != p.addr) return std::nullopt;
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

std::string format_ipv6(const Ipv6Addr& ip) {
  std::array<uint16_t, 8> g{};
  for (size_t i = 0; i < 8; ++i) g[i] = static_cast<uint16_t>(ip[2 * i] << 8 | ip[2 * i + 1]);
  const bool mapped = std::all_of(ip.begin(), ip.begin() + 10, [](uint8_t b) { return b == 0; }) && g[5] == 0xffff;
  if (mapped)
    return "::ffff:" + format_ipv4(uint32_t{g[6]} << 16 | g[7]);
  // The longest run of zero groups, two at least; the first of equals.
  size_t best = 8, best_len = 1;
  for (size_t i = 0; i < 8;) {
    size_t j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  std::string out;
  char buf[8];
  for (size_t i = 0; i < 8; ++i) {
    if (i == best) {
      out.append("::");
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out.push_back(':');
    std::snprintf(buf, sizeof buf, "%x", g[i]);
    out.append(buf);
  }
  return out;
}

std::string format_ipv6_prefix(const Ipv6Prefix& p) {
  std::string out = format_ipv6(p.addr);
  out.push_back('/');
  out.append(std::to_string(p.len));
  return out;
}

std::string format_mac(const MacAddr& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

}  // namespace svcdp::conf
