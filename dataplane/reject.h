// Answers for a service that has no usable endpoint, as kube-proxy's
// REJECT rule gives them: a TCP segment gets a RST, anything else an ICMP
// port unreachable. The frame is rewritten in place (no allocation) to go
// back out of the port it came from, from the address it was sent to.
#pragma once

#include <rte_mbuf.h>

namespace svcdp::dp {

// Size of the ICMP errors svcdp sends: as much of the offending datagram
// as fits in 576 bytes (RFC 1812 section 4.3.2.3).
inline constexpr uint32_t kIcmpErrorMaxIpLen = 576;

// Turns the IPv4 packet in `m` (Ethernet at data start, headers already
// validated) into its rejection. Returns false when none may be sent and
// the caller should just drop: a RST is never answered (RFC 9293 section
// 3.10.7.1), nor are ICMP errors, non-first fragments, or broadcast and
// multicast destinations (RFC 1812 section 4.3.2.7). Thread: any worker.
bool make_reject(rte_mbuf* m);

}  // namespace svcdp::dp
