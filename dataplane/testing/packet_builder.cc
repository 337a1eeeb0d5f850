#include "dataplane/testing/packet_builder.h"

#include <cstdio>

namespace svcdp::testing {
namespace {

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
void set16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
void put_mac(Bytes& b, const Mac& m) { b.insert(b.end(), m.begin(), m.end()); }

// RFC 1071, straightforwardly.
uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t{p[i]} << 8 | p[i + 1];
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  return sum;
}
uint16_t finish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}
uint16_t checksum(const uint8_t* p, size_t n) { return finish(sum16(p, n)); }

}  // namespace

Frame& Frame::eth(const Mac& dst, const Mac& src, uint16_t type) {
  put_mac(b_, dst);
  put_mac(b_, src);
  put16(b_, type);
  return *this;
}

Frame& Frame::arp(uint16_t op, const Mac& sha, uint32_t spa, const Mac& tha, uint32_t tpa) {
  put16(b_, 1);
  put16(b_, 0x0800);
  b_.push_back(6);
  b_.push_back(4);
  put16(b_, op);
  put_mac(b_, sha);
  put32(b_, spa);
  put_mac(b_, tha);
  put32(b_, tpa);
  return *this;
}

Frame& Frame::fragment(uint16_t id, uint16_t offset, bool more) {
  for (auto it = marks_.rbegin(); it != marks_.rend(); ++it) {
    if (it->kind != Mark::IPV4) continue;
    const size_t at = it->offset;
    b_[at + 4] = static_cast<uint8_t>(id >> 8);
    b_[at + 5] = static_cast<uint8_t>(id);
    const uint16_t field = static_cast<uint16_t>((more ? 0x2000 : 0) | (offset / 8));
    b_[at + 6] = static_cast<uint8_t>(field >> 8);
    b_[at + 7] = static_cast<uint8_t>(field);
    break;
  }
  return *this;
}

Frame& Frame::ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl, bool df) {
  marks_.push_back({Mark::IPV4, b_.size()});
  b_.push_back(0x45);
  b_.push_back(0);
  put16(b_, 0);  // total length: build()
  put16(b_, 0);
  put16(b_, df ? 0x4000 : 0);
  b_.push_back(ttl);
  b_.push_back(proto);
  put16(b_, 0);  // checksum: build()
  put32(b_, src);
  put32(b_, dst);
  return *this;
}

Frame& Frame::ipv6(const Ip6& src, const Ip6& dst, uint8_t next, uint8_t hop_limit) {
  marks_.push_back({Mark::IPV6, b_.size()});
  put32(b_, 0x60000000);
  put16(b_, 0);  // payload length: build()
  b_.push_back(next);
  b_.push_back(hop_limit);
  b_.insert(b_.end(), src.begin(), src.end());
  b_.insert(b_.end(), dst.begin(), dst.end());
  return *this;
}

Frame& Frame::udp(uint16_t sport, uint16_t dport, bool checksum) {
  marks_.push_back({checksum ? Mark::UDP_CSUM : Mark::UDP, b_.size()});
  put16(b_, sport);
  put16(b_, dport);
  put16(b_, 0);
  put16(b_, 0);
  return *this;
}

Frame& Frame::tcp(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window) {
  marks_.push_back({Mark::TCP, b_.size()});
  put16(b_, sport);
  put16(b_, dport);
  put32(b_, seq);
  put32(b_, ack);
  b_.push_back(0x50);
  b_.push_back(flags);
  put16(b_, window);
  put16(b_, 0);
  put16(b_, 0);
  return *this;
}

Frame& Frame::icmp(uint8_t type, uint8_t code, uint32_t rest) {
  marks_.push_back({Mark::ICMP, b_.size()});
  b_.push_back(type);
  b_.push_back(code);
  put16(b_, 0);
  put32(b_, rest);
  return *this;
}

Frame& Frame::icmp6(uint8_t type, uint8_t code, uint32_t rest) {
  icmp(type, code, rest);
  marks_.back().kind = Mark::ICMP6;
  return *this;
}

Frame& Frame::vxlan(uint32_t vni, uint8_t flags) {
  b_.push_back(flags);
  b_.insert(b_.end(), 3, 0);
  put32(b_, vni << 8);
  return *this;
}

Frame& Frame::payload(size_t n, uint8_t seed) {
  for (size_t i = 0; i < n; ++i) b_.push_back(static_cast<uint8_t>(seed + i));
  return *this;
}

Frame& Frame::raw(const Bytes& b) {
  b_.insert(b_.end(), b.begin(), b.end());
  return *this;
}

Frame& Frame::pad_to(size_t n) {
  pad_to_ = n;
  return *this;
}

Bytes Frame::build() const {
  Bytes b = b_;
  // Innermost first so that outer lengths cover finished inner headers.
  // The IP header that carries each transport header: the closest
  // preceding one (pseudo-header, RFC 768 / RFC 9293 section 3.1 /
  // RFC 8200 section 8.1, with the upper layer's protocol).
  auto ip_before = [&](size_t at) {
    size_t ip = 0;
    for (const Mark& m : marks_)
      if ((m.kind == Mark::IPV4 || m.kind == Mark::IPV6) && m.offset < at) ip = m.offset;
    return ip;
  };
  auto pseudo = [&](size_t ip, size_t len, uint8_t proto) -> uint32_t {
    if ((b[ip] >> 4) == 6) return sum16(&b[ip + 8], 32) + proto + static_cast<uint32_t>((len >> 16) + (len & 0xffff));
    uint32_t s = sum16(&b[ip + 12], 8);
    return s + proto + static_cast<uint32_t>(len);
  };
  for (auto it = marks_.rbegin(); it != marks_.rend(); ++it) {
    const size_t at = it->offset;
    const size_t len = b.size() - at;
    switch (it->kind) {
      case Mark::UDP:
      case Mark::UDP_CSUM:
        set16(b, at + 4, static_cast<uint16_t>(len));
        if (it->kind == Mark::UDP_CSUM) {
          uint16_t c = finish(sum16(&b[at], len, pseudo(ip_before(at), len, 17)));
          set16(b, at + 6, c == 0 ? 0xffff : c);
        }
        break;
      case Mark::TCP:
        set16(b, at + 16, finish(sum16(&b[at], len, pseudo(ip_before(at), len, 6))));
        break;
      case Mark::ICMP:
        set16(b, at + 2, checksum(&b[at], len));
        break;
      case Mark::ICMP6:
        set16(b, at + 2, finish(sum16(&b[at], len, pseudo(ip_before(at), len, 58))));
        break;
      case Mark::IPV6:
        set16(b, at + 4, static_cast<uint16_t>(len - 40));
        break;
      case Mark::IPV4:
        set16(b, at + 2, static_cast<uint16_t>(len));
        set16(b, at + 10, checksum(&b[at], 20));
        break;
    }
  }
  if (b.size() < pad_to_) b.resize(pad_to_, 0);
  return b;
}

std::string hexdump_diff(const Bytes& got, const Bytes& want) {
  std::string out = "got " + std::to_string(got.size()) + " bytes, want " + std::to_string(want.size()) + "\n";
  const size_t n = std::max(got.size(), want.size());
  for (size_t row = 0; row < n; row += 16) {
    char line[160];
    int pos = std::snprintf(line, sizeof line, "%04zx ", row);
    bool diff = false;
    for (size_t i = row; i < row + 16 && i < n; ++i) {
      const bool have_g = i < got.size(), have_w = i < want.size();
      const bool same = have_g && have_w && got[i] == want[i];
      diff |= !same;
      pos += std::snprintf(line + pos, sizeof line - pos, same ? " %02x   " : " %02x/%02x", have_g ? got[i] : 0,
                           have_w ? want[i] : 0);
    }
    if (diff) out += std::string(line) + "\n";
  }
  return out;
}

}  // namespace svcdp::testing
