#include "dns/text.h"

#include "dns/message.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <utility>

namespace svcdp::dns {
namespace {

constexpr std::array<std::pair<uint16_t, std::string_view>, 11> kTypes = {{
    {kA, "A"}, {kNS, "NS"}, {kCNAME, "CNAME"}, {kSOA, "SOA"}, {kPTR, "PTR"}, {kMX, "MX"},
    {kTXT, "TXT"}, {kAAAA, "AAAA"}, {kSRV, "SRV"}, {kOPT, "OPT"}, {kANY, "ANY"},
}};

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

void put_name(Bytes& b, std::string_view dotted) {
  size_t pos = 0;
  while (pos < dotted.size()) {
    size_t dot = dotted.find('.', pos);
    if (dot == std::string_view::npos) dot = dotted.size();
    b.push_back(static_cast<uint8_t>(dot - pos));
    b.insert(b.end(), dotted.begin() + static_cast<long>(pos), dotted.begin() + static_cast<long>(dot));
    pos = dot + 1;
  }
  b.push_back(0);
}

uint16_t get16(std::span<const uint8_t> m, size_t at) { return static_cast<uint16_t>(m[at] << 8 | m[at + 1]); }
uint32_t get32(std::span<const uint8_t> m, size_t at) { return uint32_t{get16(m, at)} << 16 | get16(m, at + 2); }

// A name at `at` (pointers followed, at most 16 deep); false when it
// runs past the message.
bool read_name(std::span<const uint8_t> m, size_t& at, std::string& out, int depth = 0) {
  if (depth > 16) return false;
  while (at < m.size()) {
    const uint8_t len = m[at];
    if ((len & 0xc0) == 0xc0) {
      if (at + 1 >= m.size()) return false;
      size_t ptr = static_cast<size_t>((len & 0x3f) << 8 | m[at + 1]);
      at += 2;
      return read_name(m, ptr, out, depth + 1);
    }
    ++at;
    if (len == 0) {
      if (out.empty()) out.push_back('.');  // the root
      return true;
    }
    if (at + len > m.size()) return false;
    out.append(reinterpret_cast<const char*>(&m[at]), len).push_back('.');
    at += len;
  }
  return false;
}

// Appends " word" (GCC 12 sees a false -Wrestrict overlap in `" " + s`).
void append(std::string& text, const std::string& word) {
  text += ' ';
  text += word;
}

std::string address(int family, const uint8_t* p) {
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(family, p, buf, sizeof buf) ? buf : "?";
}

}  // namespace

Bytes make_query(std::string_view name, uint16_t type, const QueryOptions& o) {
  Bytes b;
  put16(b, o.id);
  put16(b, o.rd ? 0x0100 : 0);
  put16(b, 1);
  put16(b, 0);
  put16(b, 0);
  put16(b, o.edns_size >= 0 ? 1 : 0);
  put_name(b, name);
  put16(b, type);
  put16(b, o.qclass);
  if (o.edns_size >= 0) {
    b.push_back(0);
    put16(b, kOPT);
    put16(b, static_cast<uint16_t>(o.edns_size));
    put16(b, o.edns_version);
    put16(b, o.dnssec_ok ? 0x8000 : 0);
    put16(b, 0);
  }
  return b;
}

std::string type_name(uint16_t type) {
  for (const auto& [t, n] : kTypes)
    if (t == type) return std::string(n);
  std::string other = "TYPE";  // (not "TYPE" + ...: GCC 12's -Wrestrict false positive)
  other += std::to_string(type);
  return other;
}

std::optional<uint16_t> type_from_name(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c);
  for (const auto& [t, n] : kTypes)
    if (n == upper) return t;
  uint16_t v = 0;
  if (upper.starts_with("TYPE")) {
    const auto [end, ec] = std::from_chars(upper.data() + 4, upper.data() + upper.size(), v);
    if (ec == std::errc{} && end == upper.data() + upper.size()) return v;
  }
  return std::nullopt;
}

std::string rcode_name(unsigned rcode) {
  static constexpr std::array<std::string_view, 6> kNames = {"NOERROR", "FORMERR", "SERVFAIL",
                                                             "NXDOMAIN", "NOTIMP", "REFUSED"};
  if (rcode < kNames.size()) return std::string(kNames[rcode]);
  if (rcode == kBadVers) return "BADVERS";
  std::string other = "RCODE";
  other += std::to_string(rcode);
  return other;
}

Decoded decode(std::span<const uint8_t> m) {
  Decoded d;
  if (m.size() < kHeaderSize) return d;
  d.id = get16(m, 0);
  d.flags = get16(m, 2);
  d.aa = d.flags & 0x0400;
  d.tc = d.flags & 0x0200;
  d.rd = d.flags & 0x0100;
  d.ra = d.flags & 0x0080;
  d.rcode = d.flags & 0xf;
  size_t at = kHeaderSize;
  const uint16_t qd = get16(m, 4), counts[3] = {get16(m, 6), get16(m, 8), get16(m, 10)};
  for (unsigned i = 0; i < qd; ++i) {
    std::string n;
    if (!read_name(m, at, n) || at + 4 > m.size()) return d;
    d.question = n;
    append(d.question, type_name(get16(m, at)));
    at += 4;
  }
  std::vector<std::string>* sections[3] = {&d.answer, &d.authority, &d.additional};
  for (int s = 0; s < 3; ++s)
    for (unsigned i = 0; i < counts[s]; ++i) {
      std::string owner;
      if (!read_name(m, at, owner) || at + 10 > m.size()) return d;
      const uint16_t type = get16(m, at), cls = get16(m, at + 2);
      const uint32_t ttl = get32(m, at + 4);
      const uint16_t rdlen = get16(m, at + 8);
      at += 10;
      if (at + rdlen > m.size()) return d;
      const size_t rd = at;
      std::string text = owner;
      append(text, std::to_string(ttl));
      append(text, type_name(type));
      switch (type) {
        case kA:
          if (rdlen == 4) append(text, address(AF_INET, &m[rd]));
          break;
        case kAAAA:
          if (rdlen == 16) append(text, address(AF_INET6, &m[rd]));
          break;
        case kNS:
        case kCNAME:
        case kPTR: {
          std::string n;
          size_t p = rd;
          read_name(m, p, n);
          append(text, n);
          break;
        }
        case kSRV: {
          std::string n;
          size_t p = rd + 6;
          if (rdlen < 7) break;
          read_name(m, p, n);
          for (size_t k = 0; k < 3; ++k) append(text, std::to_string(get16(m, rd + 2 * k)));
          append(text, n);
          break;
        }
        case kSOA: {
          std::string mname, rname;
          size_t p = rd;
          read_name(m, p, mname);
          read_name(m, p, rname);
          append(text, mname);
          append(text, rname);
          for (int k = 0; k < 5 && p + 4 <= rd + rdlen; ++k, p += 4) append(text, std::to_string(get32(m, p)));
          break;
        }
        case kTXT:
          if (rdlen > 0 && m[rd] < rdlen) text += " \"" + std::string(reinterpret_cast<const char*>(&m[rd + 1]), m[rd]) + "\"";
          break;
        case kOPT:
          text = "OPT udp=";
          text += std::to_string(cls);
          text += " version=";
          text += std::to_string((ttl >> 16) & 0xff);
          if (ttl & 0x8000) text += " do";
          d.rcode |= (ttl >> 24) << 4;
          break;
      }
      sections[s]->push_back(text);
      at += rdlen;
    }
  d.ok = at == m.size();
  return d;
}

}  // namespace svcdp::dns
