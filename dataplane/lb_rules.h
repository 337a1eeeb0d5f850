// Rules both load-balancing stages (IPv4's lb_stage.cc, IPv6's
// lb6_stage.cc) apply: which TCP flag combinations a stack sends, when a
// SYN starts a new connection on an old tuple, and what an established
// flow becomes when the tables change.
#pragma once

#include "dataplane/counters.h"
#include "dataplane/worker_context.h"
#include "lb/conntrack.h"
#include "lb/nat_decision.h"
#include "lb/service.h"

#include <optional>

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

// What an established Service flow becomes when it meets a newer table
// generation than the one it was checked against (lb/README.md, "Flows
// and endpoint changes"); the stage applies it.
enum class Recheck : uint8_t {
  kGoOn,          // translate it as before (its endpoint is still there, or a reply in its grace period)
  kSourceRange,   // loadBalancerSourceRanges now leave its client out: removed, drop
  kEndpointGone,  // a reply after the grace period: drop
  kRebalance,     // a UDP flow whose endpoint left: removed, open a new one (else reject)
  kReject,        // removed: reject
};

// Thread: worker `self`, with its counters.
template <lb::Family F>
Recheck recheck_flow(lb::BasicConntrack<F>& ct, uint32_t self, const lb::BasicServiceTable<F>& table,
                     const lb::BasicCtMatch<F>& flow, uint32_t now_s, Counters& counters) {
  const auto generation = static_cast<uint32_t>(table.generation());
  // Masqueraded flows belong to no service.
  if (flow.service_id == lb::kNoService || flow.checked_generation == generation) return Recheck::kGoOn;
  if (const lb::BasicService<F>* svc = table.by_id(flow.service_id);
      svc && !flow.reply && !svc->source_allowed(flow.fwd.dst, flow.fwd.src)) {
    ct.remove(self, flow);
    return Recheck::kSourceRange;
  }
  lb::FlowVerdict v =
      table.check_flow(flow.service_id, flow.nat.backend, flow.nat.backend_port, flow.proto(), flow.external != 0);
  // A connection already closing finishes with its endpoint: a RST
  // would only cut its last FIN/ACK exchange short.
  if (v == lb::FlowVerdict::kReset && closing(flow)) v = lb::FlowVerdict::kKeep;
  if (v == lb::FlowVerdict::kKeep) {
    ct.set_checked(self, flow, generation);
    return Recheck::kGoOn;
  }
  if (flow.reply) {
    // Two-phase removal (VPP's): a reply in flight when the endpoint
    // left -- a DNS answer to a query just sent -- is still delivered for
    // kEndpointGoneGraceS after the flow's last packet; the client's next
    // packet moves or resets the flow.
    if (now_s > flow.last_seen_s + kEndpointGoneGraceS) return Recheck::kEndpointGone;
    ++counters.lb_grace_replies;
    return Recheck::kGoOn;
  }
  ct.remove(self, flow);
  if (v == lb::FlowVerdict::kRebalance) {
    ++counters.lb_rebalanced;
    return Recheck::kRebalance;
  }
  if (v == lb::FlowVerdict::kReset) ++counters.lb_reset;
  return Recheck::kReject;
}

// The tunnel endpoint a flow keeps: the endpoint's node's VTEP, IPv4-mapped
// in an IPv6 flow (the underlay is IPv4).
inline void set_tunnel(lb::Nat& nat, be32 vtep) { nat.vtep = vtep; }
inline void set_tunnel(lb::Nat6& nat, be32 vtep) { nat.vtep = vtep ? lb::Addr6::v4_mapped(vtep) : lb::Addr6{}; }

// A new flow of Service `match` opened for packet `m`, both families'
// way: a SYN opens a TCP flow; a mid-stream segment no entry knows (svcdp
// restarted, or the entry expired while the connection idled) is taken up
// the way Katran keeps serving it: Maglev gives the endpoint it had as
// long as the endpoint set is the same (not an RST, and not a flow that
// needs SNAT: its source port is gone with the old entry). The decisions
// are lb/'s (nat_decision.h); this applies them: the flow to translate,
// or nullopt when `m` was consumed (dropped, or `reject()`ed). SNAT is to
// `gateway` with a port `snat_port(nat)` finds. Thread: worker.
template <lb::Family F, class Reject, class SnatPort>
std::optional<lb::BasicCtMatch<F>> open_flow(WorkerContext& w, rte_mbuf* m, lb::BasicConntrack<F>& ct,
                                             const typename lb::BasicServiceTable<F>::Match& match,
                                             lb::Origin origin, const lb::BasicFlowKey<F>& key, uint8_t tcp_flags,
                                             const typename F::Addr& gateway, uint32_t generation, Reject reject,
                                             SnatPort snat_port) {
  const lb::BasicService<F>& svc = *match.service;
  const uint32_t id = svc.spec().id;
  const bool pick_up = key.proto == lb::kTcp && (tcp_flags & (kSyn | kAck)) != kSyn;
  const auto consumed = [&](Drop why) -> std::optional<lb::BasicCtMatch<F>> {
    w.drop(m, why);
    return std::nullopt;
  };
  if (pick_up && (tcp_flags & (kRst | kAck)) != kAck) return consumed(Drop::kLbNoFlow);
  const bool affinity = svc.spec().affinity_client_ip;
  const auto pinned = affinity ? ct.affinity(w.setup.id, key.src, id, w.now_s) : std::nullopt;
  const auto d = lb::decide_new_flow(svc, match.kind, origin, key, pinned ? &*pinned : nullptr);
  if (d.endpoint == nullptr) {
    if (d.firewalled) return consumed(Drop::kLbSourceRange);
    if (!d.reject) return consumed(Drop::kLbNoLocalEndpoint);
    reject(id);
    return std::nullopt;
  }
  if (pick_up && d.snat) return consumed(Drop::kLbNoFlow);
  lb::BasicNat<F> nat{};
  nat.backend = d.endpoint->addr;
  nat.backend_port = d.endpoint->port;
  set_tunnel(nat, d.endpoint->vtep);
  // Without SNAT the client address stays; but when the reply tuple is
  // already taken (the client reused a source port towards the same
  // endpoint through another VIP, while the old flow lingers in
  // TIME_WAIT) the source port is remapped, as Linux's nf_nat does for a
  // clashing tuple, or the replies would be taken for the old flow's.
  if (d.snat)
    nat.snat = gateway;
  else if (!pick_up && ct.lookup(w.setup.id, lb::reply_key(key, nat), w.now_s))
    nat.snat = key.src;
  if (!lb::addr_is_zero(nat.snat) && !snat_port(nat)) return consumed(Drop::kSnatPortsExhausted);
  switch (pick_up ? ct.pick_up(w.setup.id, key, nat, id, d.external, generation, w.now_s)
                  : ct.insert(w.setup.id, key, nat, id, d.external, generation, tcp_flags, w.now_s)) {
    case lb::CtInsert::kOk:
      break;
    case lb::CtInsert::kFull:
    case lb::CtInsert::kNotSyn:
      return consumed(Drop::kConntrackFull);
  }
  if (affinity) ct.set_affinity(w.setup.id, key.src, id, nat, svc.spec().affinity_timeout_s, w.now_s);
  ++(pick_up ? w.counters.lb_picked_up : w.counters.lb_new_flows);
  if (ServiceCounters* c = w.svc_counters.find(id)) ++c->new_flows;
  lb::BasicCtMatch<F> f{};
  f.fwd = key;
  f.nat = nat;
  f.service_id = id;
  f.reply = false;
  return f;
}

// recheck_flow applied to packet `m` of `flow`: true when that consumed
// it (dropped, opened anew by `new_flow()`, or rejected by `reject()`),
// false when the stage translates it as before. Thread: worker.
template <lb::Family F, class NewFlow, class Reject>
bool consumed_by_recheck(WorkerContext& w, rte_mbuf* m, lb::BasicConntrack<F>& ct,
                         const lb::BasicServiceTable<F>& table, const lb::BasicCtMatch<F>& flow, NewFlow new_flow,
                         Reject reject) {
  switch (recheck_flow(ct, w.setup.id, table, flow, w.now_s, w.counters)) {
    case Recheck::kGoOn:
      return false;
    case Recheck::kSourceRange:
      w.drop(m, Drop::kLbSourceRange);
      return true;
    case Recheck::kEndpointGone:
      w.drop(m, Drop::kLbEndpointGone);
      return true;
    case Recheck::kRebalance:
      if (new_flow()) return true;
      [[fallthrough]];
    case Recheck::kReject:
      reject();
      return true;
  }
  return false;
}

}  // namespace svcdp::dp
