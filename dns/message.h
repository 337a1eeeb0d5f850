// DNS messages on the wire (RFC 1035 section 4, EDNS0 RFC 6891): the
// query a client sent, read in place, and the answer written over it.
// No allocation, no DPDK: the worker calls these on the mbuf's bytes, the
// tests on plain buffers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace svcdp::dns {

// RR types and classes svcdp reads or writes (RFC 1035 3.2.2, RFC 3596,
// RFC 2782, RFC 6891).
enum Type : uint16_t {
  kA = 1, kNS = 2, kCNAME = 5, kSOA = 6, kPTR = 12, kMX = 15, kTXT = 16, kAAAA = 28, kSRV = 33, kOPT = 41,
  kIXFR = 251, kAXFR = 252, kANY = 255,
};
inline constexpr uint16_t kClassIN = 1;

// RCODEs (RFC 1035 4.1.1; BADVERS is RFC 6891 6.1.3's extended 16).
enum Rcode : uint16_t { kNoError = 0, kFormErr = 1, kServFail = 2, kNxDomain = 3, kNotImp = 4, kRefused = 5, kBadVers = 16 };

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxName = 255;        // RFC 1035 2.3.4, wire form
inline constexpr uint16_t kUdpDefault = 512;   // without EDNS (RFC 1035 4.2.1)

// A query as read: the question, with its name in lower case and dotted
// form (no trailing dot; "" for the root), and its EDNS0 OPT if any.
struct Query {
  uint16_t id = 0;
  uint16_t flags = 0;        // the header's second 16 bits, as received
  uint16_t qtype = 0, qclass = 0;
  size_t question_end = 0;   // offset just past the question
  uint8_t name_len = 0;      // of `name`
  bool name_plain = true;    // no label holds '.' or a byte outside printable ASCII
  std::array<char, kMaxName> name;  // (not cleared: only name_len bytes are ever read)
  bool edns = false;
  uint16_t udp_size = kUdpDefault;  // the client's, at least 512
  uint8_t edns_version = 0;
  bool dnssec_ok = false;
  bool tsig = false;         // signed: only its server can answer

  std::string_view qname() const { return {name.data(), name_len}; }
  bool recursion_desired() const { return flags & 0x0100; }
};

enum class Parse : uint8_t {
  kOk,
  kIgnore,     // not a query (QR set) or too short for a header: dropped, never answered
  kFormErr,    // answered with FORMERR (RFC 1035 4.1.1)
  kNotImp,     // an opcode other than QUERY: NOTIMP
};

// Reads a query from `msg` (the UDP payload). Thread: any.
Parse parse_query(std::span<const uint8_t> msg, Query& q);

// Writes a response into a buffer that starts with the query's bytes
// (the header and question are kept, the rest overwritten), within
// `limit` bytes. Names are compressed (RFC 1035 4.1.4) against the
// question and names written before. A record that does not fit sets TC
// (RFC 2181 section 9) and is left out, with everything after it but
// the OPT, whose room is kept from the start. Thread: any.
class Writer {
 public:
  Writer(std::span<uint8_t> buf, const Query& q, size_t limit);

  // Header flags: QR, AA, the query's opcode, RD and CD, `rcode`'s low 4
  // bits (the high 8 go in the OPT). Call once, first.
  void begin(uint16_t rcode);

  enum Section : uint8_t { kAnswer, kAuthority, kAdditional };
  // Records go in section order: answers, then authority, then additional.
  // A record whose owner is the question's name (written as a pointer).
  // `rdata` writes the RDATA; false from it means "does not fit".
  template <class F>
  bool record_at_question(Section s, uint16_t type, uint32_t ttl, F rdata) {
    return record(s, kQuestionName, type, ttl, rdata);
  }
  // A record owned by `owner` (dotted, no trailing dot).
  template <class F>
  bool record_named(Section s, std::string_view owner, uint16_t type, uint32_t ttl, F rdata) {
    return record(s, owner, type, ttl, rdata);
  }

  // RDATA helpers, for the lambdas above: false when it does not fit.
  bool put_u8(uint8_t v) {
    if (len_ + 1 > limit_) return false;
    buf_[len_++] = v;
    return true;
  }
  bool put_u16(uint16_t v) {
    if (len_ + 2 > limit_) return false;
    buf_[len_] = static_cast<uint8_t>(v >> 8);
    buf_[len_ + 1] = static_cast<uint8_t>(v);
    len_ += 2;
    return true;
  }
  bool put_u32(uint32_t v) {
    if (len_ + 4 > limit_) return false;
    for (int i = 0; i < 4; ++i) buf_[len_ + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (24 - 8 * i));
    len_ += 4;
    return true;
  }
  bool put_bytes(const void* p, size_t n) {
    if (len_ + n > limit_) return false;
    std::memcpy(buf_ + len_, p, n);
    len_ += n;
    return true;
  }
  // A domain name, compressed where a suffix was written before.
  bool put_name(std::string_view dotted);

  // Ends the message: OPT echoed when the query had one (RFC 6891 6.1.1,
  // our UDP size = the client's), counts written. Returns its length.
  size_t finish();
  // Gives the query back as it came (nothing was written but begin()'s
  // header flags): it is to be passed on after all.
  void cancel() {
    buf_[2] = static_cast<uint8_t>(q_.flags >> 8);
    buf_[3] = static_cast<uint8_t>(q_.flags);
  }

  bool truncated() const { return tc_; }
  uint16_t count(Section s) const { return counts_[s]; }

 private:
  static constexpr std::string_view kQuestionName{"\0q", 2};  // marker: the question's name
  template <class F>
  bool record(Section s, std::string_view owner, uint16_t type, uint32_t ttl, F rdata) {
    if (tc_) return false;
    const size_t start = len_;
    const bool ok = (owner.data() == kQuestionName.data() ? put_pointer(kHeaderSize) : put_name(owner)) &&
                    put_u16(type) && put_u16(kClassIN) && put_u32(ttl) && put_u16(0);
    const size_t rd = len_;
    if (ok && rdata() && len_ - rd <= 0xffff) {
      buf_[rd - 2] = static_cast<uint8_t>((len_ - rd) >> 8);
      buf_[rd - 1] = static_cast<uint8_t>(len_ - rd);
      ++counts_[s];
      return true;
    }
    len_ = start;
    forget_names_after(start);
    tc_ = true;
    return false;
  }
  bool put_pointer(size_t offset);
  void forget_names_after(size_t offset);

  // Names written, for compression: where each starts, its dotted form,
  // and how much of that form is there as labels (the rest: a pointer).
  struct Written {
    uint16_t offset;
    uint16_t literal;
    std::string_view dotted;
  };
  static constexpr size_t kMaxWritten = 32;

  uint8_t* buf_;
  size_t limit_;
  size_t len_;
  const Query& q_;
  bool tc_ = false;
  uint16_t rcode_ = 0;
  std::array<uint16_t, 3> counts_{};
  std::array<Written, kMaxWritten> written_;  // the first n_written_ are set
  size_t n_written_ = 0;
};

// Turns the query in `buf` into a bare error response (FORMERR, NOTIMP):
// the question kept when `question_end` says it was read (0: not), no
// other record. Returns its length (0: not even a header). Thread: any.
size_t write_error(std::span<uint8_t> buf, size_t question_end, uint16_t rcode);

}  // namespace svcdp::dns
