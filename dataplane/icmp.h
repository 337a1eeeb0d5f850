// ICMP errors about translated flows (RFC 5508 section 4, as Linux's
// nf_nat does): an error that a backend, or a router on the way, sends
// about a packet svcdp translated carries that packet inside. svcdp finds
// the flow from the embedded header, translates the embedded header back,
// and fixes the outer header and the ICMP checksum.
#pragma once

#include "dataplane/nat.h"
#include "dataplane/types.h"

#include <rte_icmp.h>
#include <rte_ip.h>

#include <optional>

namespace svcdp::dp {

// RFC 792 message types svcdp handles.
inline constexpr uint8_t kIcmpDestUnreachable = 3;
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmpParameterProblem = 12;
inline constexpr uint8_t kIcmpCodeFragNeeded = 4;  // type 3 code 4 (RFC 1191)

struct IcmpError {
  rte_icmp_hdr* icmp;
  uint32_t icmp_len;       // ICMP header + everything after it
  rte_ipv4_hdr* inner_ip;  // the embedded packet as it was sent
  void* inner_l4;          // its first 8 transport bytes (ports), or null
  uint32_t inner_l4_len;   // transport bytes present
};

// Recognises an ICMP error (types 3, 11, 12) carrying an IPv4 header and at
// least 8 bytes of its data (RFC 792). `ip` is the outer header, already
// validated. Thread: any.
std::optional<IcmpError> parse_icmp_error(rte_ipv4_hdr* ip);

// Rewrites one side of the embedded packet to addr:port, with its header
// checksum and, when present in the quote, its transport checksum (RFC
// 5508 REQ-3 and REQ-4 via Linux's behaviour); then recomputes the ICMP
// checksum. Thread: any.
void icmp_error_translate(const IcmpError& e, NatSide inner_side, be32 addr, be16 port);

}  // namespace svcdp::dp
