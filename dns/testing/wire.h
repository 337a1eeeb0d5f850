// Test helpers: DNS queries built from text and responses read back into
// text records ("web.default.svc.cluster.local. 5 A 10.96.0.20"), so that
// tests state answers the way dig prints them. Header-only, tests only.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <vector>

namespace svcdp::dns::testing {

using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

inline void put_name(Bytes& b, const std::string& dotted) {
  size_t pos = 0;
  while (pos < dotted.size()) {
    size_t dot = dotted.find('.', pos);
    if (dot == std::string::npos) dot = dotted.size();
    b.push_back(static_cast<uint8_t>(dot - pos));
    b.insert(b.end(), dotted.begin() + static_cast<long>(pos), dotted.begin() + static_cast<long>(dot));
    pos = dot + 1;
  }
  b.push_back(0);
}

struct QueryOptions {
  uint16_t id = 0x1234;
  bool rd = true;
  int edns_size = -1;  // -1: no OPT
  uint8_t edns_version = 0;
  bool dnssec_ok = false;
  uint16_t qclass = 1;
};

inline Bytes query(const std::string& name, uint16_t type, QueryOptions o = {}) {
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
    put16(b, 41);
    put16(b, static_cast<uint16_t>(o.edns_size));
    put16(b, o.edns_version);
    put16(b, o.dnssec_ok ? 0x8000 : 0);
    put16(b, 0);
  }
  return b;
}

struct Decoded {
  bool ok = false;
  uint16_t id = 0, flags = 0;
  unsigned rcode = 0;  // with the OPT's extended bits
  bool aa = false, tc = false, rd = false, ra = false;
  std::string question;
  std::vector<std::string> answer, authority, additional;
};

inline bool read_name(const Bytes& m, size_t& at, std::string& out, int depth = 0) {
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
      if (out.empty()) out = ".";
      return true;
    }
    if (at + len > m.size()) return false;
    out.append(reinterpret_cast<const char*>(&m[at]), len).push_back('.');
    at += len;
  }
  return false;
}

inline uint16_t get16(const Bytes& m, size_t at) { return static_cast<uint16_t>(m[at] << 8 | m[at + 1]); }
inline uint32_t get32(const Bytes& m, size_t at) { return uint32_t{get16(m, at)} << 16 | get16(m, at + 2); }

inline std::string type_name(uint16_t t) {
  switch (t) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 41: return "OPT";
    default: return "TYPE" + std::to_string(t);
  }
}

inline Decoded decode(const Bytes& m) {
  Decoded d;
  if (m.size() < 12) return d;
  d.id = get16(m, 0);
  d.flags = get16(m, 2);
  d.aa = d.flags & 0x0400;
  d.tc = d.flags & 0x0200;
  d.rd = d.flags & 0x0100;
  d.ra = d.flags & 0x0080;
  d.rcode = d.flags & 0xf;
  size_t at = 12;
  const uint16_t qd = get16(m, 4), counts[3] = {get16(m, 6), get16(m, 8), get16(m, 10)};
  for (unsigned i = 0; i < qd; ++i) {
    std::string n;
    if (!read_name(m, at, n) || at + 4 > m.size()) return d;
    d.question = n + " " + type_name(get16(m, at));
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
      std::string text = owner + " " + std::to_string(ttl) + " " + type_name(type);
      char buf[64];
      switch (type) {
        case 1:
          text += " " + std::string(inet_ntop(AF_INET, &m[rd], buf, sizeof buf));
          break;
        case 28:
          text += " " + std::string(inet_ntop(AF_INET6, &m[rd], buf, sizeof buf));
          break;
        case 2:
        case 5:
        case 12: {
          std::string n;
          size_t p = rd;
          read_name(m, p, n);
          text += " " + n;
          break;
        }
        case 33: {
          std::string n;
          size_t p = rd + 6;
          read_name(m, p, n);
          text += " " + std::to_string(get16(m, rd)) + " " + std::to_string(get16(m, rd + 2)) + " " +
                  std::to_string(get16(m, rd + 4)) + " " + n;
          break;
        }
        case 6: {
          std::string mname, rname;
          size_t p = rd;
          read_name(m, p, mname);
          read_name(m, p, rname);
          text += " " + mname + " " + rname;
          for (int k = 0; k < 5; ++k, p += 4) text += " " + std::to_string(get32(m, p));
          break;
        }
        case 16:
          text += " \"" + std::string(reinterpret_cast<const char*>(&m[rd + 1]), m[rd]) + "\"";
          break;
        case 41:
          text = "OPT udp=" + std::to_string(cls) + " version=" + std::to_string((ttl >> 16) & 0xff) +
                 ((ttl & 0x8000) ? " do" : "");
          d.rcode |= (ttl >> 24) << 4;
          break;
      }
      if (type != 41) text = text.substr(0, owner.size() + 1) + text.substr(owner.size() + 1);
      sections[s]->push_back(text);
      at += rdlen;
    }
  d.ok = at == m.size();
  return d;
}

}  // namespace svcdp::dns::testing
