#include "dns/message.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace svcdp::dns {
namespace {

constexpr uint16_t kQr = 0x8000, kAa = 0x0400, kTc = 0x0200, kRd = 0x0100, kCd = 0x0010, kOpcodeMask = 0x7800;
constexpr uint16_t kTypeTsig = 250;  // RFC 8945
constexpr size_t kOptSize = 11;      // root name, type, class, TTL, RDLENGTH 0

// Lower case of each byte, and whether it may appear in a name svcdp
// answers (printable ASCII other than '.'), for the question's labels.
struct NameBytes {
  std::array<uint8_t, 256> lower{};
  std::array<bool, 256> plain{};
  constexpr NameBytes() {
    for (unsigned c = 0; c < 256; ++c) {
      lower[c] = static_cast<uint8_t>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
      plain[c] = c >= 0x21 && c <= 0x7e && c != '.';
    }
  }
};
constexpr NameBytes kNameBytes;

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) { return uint32_t{get16(p)} << 16 | get16(p + 2); }

// Skips a (possibly compressed) name from `at`; false past the end or on
// a label type RFC 6891 section 5 retired.
bool skip_name(std::span<const uint8_t> m, size_t& at) {
  while (at < m.size()) {
    const uint8_t len = m[at];
    if ((len & 0xc0) == 0xc0) {
      at += 2;
      return at <= m.size();
    }
    if (len & 0xc0) return false;
    at += 1 + len;
    if (len == 0) return at <= m.size();
  }
  return false;
}

}  // namespace

Parse parse_query(std::span<const uint8_t> m, Query& q) {
  if (m.size() < kHeaderSize) return Parse::kIgnore;
  q.name_len = 0;
  q.name_plain = true;
  q.edns = q.dnssec_ok = q.tsig = false;
  q.udp_size = kUdpDefault;
  q.edns_version = 0;
  q.question_end = 0;
  q.id = get16(&m[0]);
  q.flags = get16(&m[2]);
  if (q.flags & kQr) return Parse::kIgnore;  // a response: answering it could loop two servers
  const uint16_t qd = get16(&m[4]), an = get16(&m[6]), ns = get16(&m[8]), ar = get16(&m[10]);
  // The counts a query may have (miekg/dns's DefaultMsgAcceptFunc, which
  // CoreDNS serves with): one question, an answer only in a NOTIFY, at
  // most one authority record (IXFR's SOA), OPT and TSIG.
  if (qd != 1 || an > 1 || ns > 1 || ar > 2) return Parse::kFormErr;

  // RFC 1035 4.1.2: QNAME, a sequence of labels ending in the root; a
  // pointer cannot point anywhere before the first question.
  size_t at = kHeaderSize, wire = 0;
  while (true) {
    if (at >= m.size()) return Parse::kFormErr;
    const uint8_t len = m[at++];
    if (len == 0) break;
    if (len > 63 || at + len > m.size()) return Parse::kFormErr;
    wire += 1u + len;
    if (wire + 1 > kMaxName) return Parse::kFormErr;
    if (q.name_len) q.name[q.name_len++] = '.';
    bool plain = true;
    for (uint8_t i = 0; i < len; ++i) {
      const uint8_t c = m[at + i];
      plain &= kNameBytes.plain[c];
      q.name[q.name_len + i] = static_cast<char>(kNameBytes.lower[c]);
    }
    q.name_len = static_cast<uint8_t>(q.name_len + len);
    q.name_plain &= plain;
    at += len;
  }
  if (at + 4 > m.size()) return Parse::kFormErr;
  q.qtype = get16(&m[at]);
  q.qclass = get16(&m[at + 2]);
  q.question_end = at += 4;
  if (q.flags & kOpcodeMask) return Parse::kNotImp;  // RFC 1035 4.1.1: only QUERY

  for (unsigned i = 0; i < an + ns; ++i) {  // skipped: nothing in them changes the answer
    if (!skip_name(m, at) || at + 10 > m.size()) return Parse::kFormErr;
    at += 10 + get16(&m[at + 8]);
    if (at > m.size()) return Parse::kFormErr;
  }
  for (unsigned i = 0; i < ar; ++i) {
    const size_t owner = at;
    if (!skip_name(m, at) || at + 10 > m.size()) return Parse::kFormErr;
    const uint16_t type = get16(&m[at]), cls = get16(&m[at + 2]);
    const uint32_t ttl = get32(&m[at + 4]);
    at += 10 + get16(&m[at + 8]);
    if (at > m.size()) return Parse::kFormErr;
    if (type == kTypeTsig) q.tsig = true;
    if (type != kOPT) continue;
    // RFC 6891 6.1.1: one OPT, owned by the root.
    if (q.edns || m[owner] != 0) return Parse::kFormErr;
    q.edns = true;
    q.udp_size = std::max(cls, kUdpDefault);  // 6.2.5: below 512 is read as 512
    q.edns_version = static_cast<uint8_t>(ttl >> 16);
    q.dnssec_ok = ttl & 0x8000;  // RFC 3225
  }
  return Parse::kOk;
}

Writer::Writer(std::span<uint8_t> buf, const Query& q, size_t limit)
    : buf_(buf.data()), limit_(std::min(limit, buf.size())), len_(q.question_end), q_(q) {
  if (q.edns) limit_ = limit_ > kOptSize ? limit_ - kOptSize : 0;
  written_[n_written_++] = {static_cast<uint16_t>(kHeaderSize), static_cast<uint16_t>(q.name_len), q.qname()};
}

void Writer::begin(uint16_t rcode) {
  rcode_ = rcode;
  const uint16_t flags = kQr | kAa | (q_.flags & (kOpcodeMask | kRd | kCd)) | (rcode & 0xf);
  buf_[2] = static_cast<uint8_t>(flags >> 8);
  buf_[3] = static_cast<uint8_t>(flags);
}

bool Writer::put_pointer(size_t offset) { return put_u16(static_cast<uint16_t>(0xc000 | offset)); }

bool Writer::put_name(std::string_view dotted) {
  const size_t start = len_;
  // The longest suffix of `dotted`, at a label boundary, that a name
  // written before holds as labels (RFC 1035 4.1.4).
  size_t literal = dotted.size();  // how much of `dotted` goes out as labels
  size_t target = 0;
  for (size_t pos = 0; pos < dotted.size(); pos = dotted.find('.', pos) + 1) {
    const std::string_view suffix = dotted.substr(pos);
    for (size_t i = 0; i < n_written_ && target == 0; ++i) {
      const Written& w = written_[i];
      if (w.dotted.size() < suffix.size()) continue;
      const size_t at = w.dotted.size() - suffix.size();
      if (at >= w.literal || (at > 0 && w.dotted[at - 1] != '.') || w.dotted.substr(at) != suffix) continue;
      target = w.offset + at;
    }
    if (target) {
      literal = pos;
      break;
    }
    if (dotted.find('.', pos) == std::string_view::npos) break;
  }
  for (size_t pos = 0; pos < literal;) {
    size_t dot = dotted.find('.', pos);
    if (dot == std::string_view::npos) dot = dotted.size();
    if (!put_u8(static_cast<uint8_t>(dot - pos)) || !put_bytes(dotted.data() + pos, dot - pos)) return false;
    pos = dot + 1;
  }
  if (!(target ? put_pointer(target) : put_u8(0))) return false;
  if (n_written_ < kMaxWritten && start < 0x3fff && literal > 0)
    written_[n_written_++] = {static_cast<uint16_t>(start), static_cast<uint16_t>(literal), dotted};
  return true;
}

void Writer::forget_names_after(size_t offset) {
  while (n_written_ > 1 && written_[n_written_ - 1].offset >= offset) --n_written_;
}

size_t Writer::finish() {
  if (q_.edns) {
    limit_ += kOptSize;
    const uint32_t ttl = uint32_t{static_cast<uint8_t>(rcode_ >> 4)} << 24 | (q_.dnssec_ok ? 0x8000u : 0u);
    put_u8(0);
    put_u16(kOPT);
    put_u16(q_.udp_size);
    put_u32(ttl);
    put_u16(0);
    ++counts_[kAdditional];
  }
  if (tc_) buf_[2] |= kTc >> 8;
  const uint16_t counts[4] = {1, counts_[kAnswer], counts_[kAuthority], counts_[kAdditional]};
  for (int i = 0; i < 4; ++i) {
    buf_[4 + 2 * i] = static_cast<uint8_t>(counts[i] >> 8);
    buf_[5 + 2 * i] = static_cast<uint8_t>(counts[i]);
  }
  return len_;
}

size_t write_error(std::span<uint8_t> buf, size_t question_end, uint16_t rcode) {
  if (buf.size() < kHeaderSize || question_end > buf.size()) return 0;
  const uint16_t flags = kQr | (get16(&buf[2]) & (kOpcodeMask | kRd | kCd)) | (rcode & 0xf);
  buf[2] = static_cast<uint8_t>(flags >> 8);
  buf[3] = static_cast<uint8_t>(flags);
  const uint16_t qd = question_end > kHeaderSize ? 1 : 0;
  buf[4] = 0;
  buf[5] = static_cast<uint8_t>(qd);
  std::memset(&buf[6], 0, 6);
  return qd ? question_end : kHeaderSize;
}

}  // namespace svcdp::dns
