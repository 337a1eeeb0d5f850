// DNS messages as text: a query built from a name and a type, and any
// message read back into records as dig prints them
// ("web.default.svc.cluster.local. 5 A 10.96.0.20"). For svcdpctl's
// `dns lookup` (what svcdp would answer) and the tests; not on the
// packet path.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace svcdp::dns {

using Bytes = std::vector<uint8_t>;

struct QueryOptions {
  uint16_t id = 0x1234;
  bool rd = true;
  int edns_size = -1;  // -1: no OPT
  uint8_t edns_version = 0;
  bool dnssec_ok = false;
  uint16_t qclass = 1;
};

// A query for `name` (dotted, no trailing dot) of `type` (RFC 1035 4.1).
// Thread: any.
Bytes make_query(std::string_view name, uint16_t type, const QueryOptions& o = {});

struct Decoded {
  bool ok = false;  // the whole message read, nothing left over
  uint16_t id = 0, flags = 0;
  unsigned rcode = 0;  // with the OPT's extended bits
  bool aa = false, tc = false, rd = false, ra = false;
  std::string question;
  std::vector<std::string> answer, authority, additional;
};
// Thread: any.
Decoded decode(std::span<const uint8_t> m);

// "A", "SRV"...; "TYPE<n>" for the others. Thread: any.
std::string type_name(uint16_t type);
// The type a name or "TYPE<n>" stands for. Thread: any.
std::optional<uint16_t> type_from_name(std::string_view name);
// "NOERROR", "NXDOMAIN"...; "RCODE<n>" for the others. Thread: any.
std::string rcode_name(unsigned rcode);

}  // namespace svcdp::dns
