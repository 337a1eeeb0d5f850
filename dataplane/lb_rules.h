// Rules both load-balancing stages (IPv4's lb_stage.cc, IPv6's
// lb6_stage.cc) apply to TCP before conntrack: which flag combinations a
// stack sends, and when a SYN starts a new connection on an old tuple.
#pragma once

#include "lb/conntrack.h"

#include <rte_tcp.h>

#include <cstdint>

namespace svcdp::dp {

inline constexpr uint8_t kFin = RTE_TCP_FIN_FLAG, kSyn = RTE_TCP_SYN_FLAG, kRst = RTE_TCP_RST_FLAG,
                  kAck = RTE_TCP_ACK_FLAG, kUrg = RTE_TCP_URG_FLAG;

// The flag combinations a TCP stack sends, after masking PSH, ECE and CWR:
// the table of Linux's nf_conntrack_proto_tcp.c (tcp_valid_flags).
// Anything else (SYN+FIN, SYN+RST, no flag at all...) is a scan or junk.
constexpr bool tcp_flags_valid(uint8_t flags) {
  switch (flags & (kFin | kSyn | kRst | kAck | kUrg)) {
    case kSyn:
    case kSyn | kUrg:
    case kSyn | kAck:
    case kRst:
    case kRst | kAck:
    case kFin | kAck:
    case kFin | kAck | kUrg:
    case kAck:
    case kAck | kUrg:
      return true;
    default:
      return false;
  }
}

// A client SYN on a flow that is closing or closed is a new connection
// reusing the tuple (RFC 9293 section 3.6.1 lets TIME-WAIT accept it; Linux
// conntrack likewise starts a new entry): it gets a fresh endpoint choice
// instead of the old flow's endpoint, which may have left.
template <lb::Family F>
inline bool closing(const lb::BasicCtMatch<F>& f) {
  if (f.proto() != lb::kTcp) return false;
  const lb::TcpState st = f.state();
  return st == lb::TcpState::kFinWait || st == lb::TcpState::kCloseWait || st == lb::TcpState::kTimeWait ||
         st == lb::TcpState::kClose;
}

template <lb::Family F>
inline bool reopens(const lb::BasicCtMatch<F>& f, uint8_t tcp_flags) {
  return !f.reply && (tcp_flags & (kSyn | kAck)) == kSyn && closing(f);
}

}  // namespace svcdp::dp
