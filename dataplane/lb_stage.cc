// The load-balancing stage of the worker: Service traffic in both
// directions, on top of lb/'s conntrack and service tables.
//
//   forward  client → VIP:port       DNAT to the endpoint (and, for external
//                                    traffic with externalTrafficPolicy
//                                    Cluster, SNAT to the node's pod-network
//                                    address so the reply comes back here)
//   reply    endpoint → client       the reverse: source back to VIP:port,
//                                    destination back to the client
//
// A flow is found by either tuple in any worker's shard (lb/conntrack.h),
// so both directions work whichever worker receives them.
#include "dataplane/icmp.h"
#include "dataplane/ipv4.h"
#include "dataplane/lb_rules.h"
#include "dataplane/nat.h"
#include "dataplane/reject.h"
#include "dataplane/stages.h"
#include "lb/nat_decision.h"

#include <rte_icmp.h>
#include <rte_tcp.h>

#include <algorithm>
#include <cstring>

namespace svcdp::dp {
namespace {

// The 5-tuple of a TCP, UDP or SCTP packet whose ports are there.
lb::FlowKey flow_key(const rte_ipv4_hdr* ip) {
  return {ip->src_addr, ip->dst_addr, l4_port(ip + 1, 0), l4_port(ip + 1, 2), ip->next_proto_id};
}

bool may_be_translated(const WorkerContext& w, const lb::FlowKey& key, const Fib& fib, From from) {
  if (key.dst == fib.pod_gateway) return true;  // a reply to Service SNAT
  // A reply from an endpoint: a pod, or a host beyond the uplink (an API
  // server outside the cluster, an EndpointSlice naming an external
  // address) answering a client it saw with its own address.
  if (fib.services->maybe_endpoint(key.src, key.sport, key.proto)) return true;
  if (from == From::kUplink)
    return key.dst == fib.node_ip && static_cast<uint16_t>(rte_be_to_cpu_16(key.dport) - w.setup.masquerade_lo) <=
                                         w.setup.masquerade_hi - w.setup.masquerade_lo;
  // Pod traffic leaving the cluster: masqueraded flows.
  return from == From::kPods && key.dst != fib.node_ip && !fib.cluster.contains(rte_be_to_cpu_32(key.dst));
}

// A reply to one of our SNAT or masquerade ports: only the worker that
// gave the port out has the flow.
std::optional<uint32_t> ct_owner(const WorkerContext& w, const lb::FlowKey& key, const Fib& fib) {
  const uint16_t port = rte_be_to_cpu_16(key.dport);
  if (key.dst == fib.pod_gateway && port >= kSnatLo)
    return std::min<uint32_t>((port - kSnatLo) / w.snat_ports.span(), w.setup.workers - 1);
  if (key.dst == fib.node_ip && port >= w.setup.masquerade_lo && port <= w.setup.masquerade_hi)
    return std::min<uint32_t>((port - w.setup.masquerade_lo) / w.masq_ports.span(), w.setup.workers - 1);
  return std::nullopt;
}

bool lb_icmp(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from);
bool lb_fragment(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from);
bool lb_new_flow(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const lb::FlowKey& key, uint8_t tcp_flags,
                 const lb::ServiceTable::Match& match, const Fib& fib, From from);
void lb_reject(WorkerContext& w, rte_mbuf* m, From from, uint32_t service_id);

}  // namespace

std::optional<lb::CtMatch> ct_lookup(const WorkerContext& w, const lb::FlowKey& key, const Fib& fib, uint64_t h) {
  // (A packet of a forward tuple that happens to use such a port is in
  // our own shard, searched second.)
  if (const auto owner = ct_owner(w, key, fib)) return w.setup.conntrack->lookup_owned(w.setup.id, *owner, key, w.now_s, h);
  return w.setup.conntrack->lookup(w.setup.id, key, w.now_s, h);
}

bool lb_input(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from, Continue otherwise,
              uint64_t hash) {
  if (w.setup.conntrack == nullptr) return false;
  const uint8_t proto = ip->next_proto_id;
  if (proto == IPPROTO_ICMP) return lb_icmp(w, m, ip, fib, from);
  if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_SCTP) return false;
  // An SCTP packet's CRC32c covers all of it: a fragment cannot be
  // rewritten on its own (SCTP endpoints fragment into chunks, not IP).
  if (proto == IPPROTO_SCTP && ipv4_is_fragment(ip)) return false;
  // A later fragment follows its first through the lb stage, in order:
  // the first, earlier in the same burst, leaves its translation there.
  if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) {
    w.next(Stage::kLb, m, from, static_cast<uint32_t>(otherwise), 0);
    return true;
  }

  // RFC 9293 section 3.1 / RFC 768 / RFC 9260 section 3.1: the ports (and
  // TCP's flags) must be in this packet.
  const uint32_t l4_len = rte_be_to_cpu_16(ip->total_length) - sizeof(rte_ipv4_hdr);
  auto* l4 = reinterpret_cast<uint8_t*>(ip + 1);
  const size_t l4_min = proto == IPPROTO_TCP ? sizeof(rte_tcp_hdr)
                        : proto == IPPROTO_UDP ? sizeof(rte_udp_hdr)
                                               : sizeof(rte_sctp_hdr);
  if (l4_len < l4_min) {
    w.drop(m, Drop::kL4Truncated);
    return true;
  }
  if (proto == IPPROTO_TCP && !tcp_flags_valid(reinterpret_cast<const rte_tcp_hdr*>(l4)->tcp_flags)) {
    w.drop(m, Drop::kTcpBadFlags);
    return true;
  }
  // Classify before conntrack: pod-to-pod and node traffic that is
  // neither to a possible front end nor possibly translated never looks it
  // up. The front end itself is looked up only for a new flow.
  const lb::FlowKey key = flow_key(ip);
  if (proto == IPPROTO_UDP && fib.dns && key.dport == rte_cpu_to_be_16(53) && (from == From::kPods || from == From::kNode) &&
      !ipv4_is_fragment(ip) && std::find(fib.dns_addresses.begin(), fib.dns_addresses.end(), key.dst) != fib.dns_addresses.end()) {
    w.next(Stage::kDns, m, from, static_cast<uint32_t>(otherwise), hash ? hash : lb::flow_hash(key));
    return true;
  }
  if (!fib.services->maybe_frontend(key.dst) && !may_be_translated(w, key, fib, from)) return false;
  // (A hash of 0, once in 2^64, is computed again by the lookup: the same.)
  w.next(Stage::kLb, m, from, static_cast<uint32_t>(otherwise), hash ? hash : lb::flow_hash(key));
  return true;
}

void lb_continue(WorkerContext& w, rte_mbuf* m, Continue where, const Fib& fib) {
  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  switch (where) {
    case Continue::kUplinkTransit:
      // Before the first tables (bootstrap: the node address not known
      // yet) the uplink's traffic is the kernel's, API server replies
      // included.
      if (fib.node_ip == 0) return w.next(Stage::kToKernel, m, From::kUplink, kernel_or(Drop::kIpNoRoute));
      return w.drop(m, Drop::kIpNoRoute);
    case Continue::kUplinkLocal:
      return w.next(Stage::kToKernel, m, From::kUplink, kernel_or(Drop::kIpLocalUnhandled));
    case Continue::kPodsRoute:
      return pods_route(w, m, ip, fib);
    case Continue::kNodeRoute:
      return node_route(w, m, ip, fib);
    case Continue::kTunnel:
      return w.next(Stage::kPodsOutput, m, From::kTunnel);
  }
  w.drop(m, Drop::kStageVectorFull);
}

// A TCP, UDP or SCTP packet lb_input queued: a later fragment, or a
// packet whose ports and TCP flags are there (checked).
bool lb_flow(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from, uint64_t hash) {
  if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) return lb_fragment(w, m, ip, fib, from);
  w.stage(Stage::kLb);
  const uint8_t proto = ip->next_proto_id;
  const uint32_t l4_len = rte_be_to_cpu_16(ip->total_length) - sizeof(rte_ipv4_hdr);
  auto* l4 = reinterpret_cast<uint8_t*>(ip + 1);
  const uint8_t tcp_flags = proto == IPPROTO_TCP ? reinterpret_cast<const rte_tcp_hdr*>(l4)->tcp_flags : 0;
  const lb::FlowKey key = flow_key(ip);
  const lb::ServiceTable& table = *fib.services;
  const bool frontend = table.maybe_frontend(key.dst);
  // Headers no stack sends never reach conntrack (RFC 9293 section 3.1:
  // data offset of at least 5 words within the segment; RFC 768: a length
  // of at least 8 within the datagram, as Linux's udp_rcv checks).
  if (proto == IPPROTO_TCP) {
    const uint32_t offset = (reinterpret_cast<const rte_tcp_hdr*>(l4)->data_off >> 4) * 4u;
    if (offset < sizeof(rte_tcp_hdr) || offset > l4_len) {
      w.drop(m, Drop::kTcpBadOffset);
      return true;
    }
  } else if (proto == IPPROTO_UDP) {
    const uint32_t ulen = rte_be_to_cpu_16(reinterpret_cast<const rte_udp_hdr*>(l4)->dgram_len);
    // (A first fragment carries the length of the whole datagram.)
    if (ulen < sizeof(rte_udp_hdr) || (ulen > l4_len && !ipv4_is_fragment(ip))) {
      w.drop(m, Drop::kUdpBadLength);
      return true;
    }
  }
  auto flow = ct_lookup(w, key, fib, hash);
  if (flow && flow->kind == lb::kFlow && reopens(*flow, tcp_flags)) {
    w.setup.conntrack->remove(w.setup.id, *flow);
    flow.reset();
  }
  auto new_flow = [&] {
    if (!frontend || from == From::kTunnel) return false;
    const auto match = table.lookup(key.dst, key.dport, key.proto);
    return match && lb_new_flow(w, m, ip, key, tcp_flags, *match, fib, from);
  };
  if (!flow || flow->kind != lb::kFlow) return new_flow();

  if (consumed_by_recheck(w, m, *w.setup.conntrack, table, *flow, new_flow,
                          [&] { lb_reject(w, m, from, flow->service_id); }))
    return true;
  w.setup.conntrack->touch(*flow, tcp_flags, w.now_s);
  lb_translate(w, m, ip, *flow, from);
  return true;
}

namespace {

// ICMP: errors about translated flows, and echo of masqueraded flows
// (tracked by identifier: the request's as its source "port", the
// reply's as its destination, as nf_conntrack_icmp pairs them).
bool lb_icmp(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from) {
  if (rte_be_to_cpu_16(ip->total_length) < sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr) || ipv4_is_fragment(ip))
    return false;
  const auto* icmp = reinterpret_cast<const rte_icmp_hdr*>(ip + 1);
  lb::FlowKey key{ip->src_addr, ip->dst_addr, 0, 0, lb::kIcmp};
  if (icmp->icmp_type == RTE_IP_ICMP_ECHO_REQUEST && from == From::kPods &&
      !fib.cluster.contains(rte_be_to_cpu_32(ip->dst_addr)))
    key.sport = icmp->icmp_ident;
  else if (icmp->icmp_type == RTE_IP_ICMP_ECHO_REPLY && from == From::kUplink && ip->dst_addr == fib.node_ip)
    key.dport = icmp->icmp_ident;
  else
    return lb_icmp_error(w, m, ip, fib, from);
  w.stage(Stage::kLb);
  const auto flow = ct_lookup(w, key, fib);
  if (!flow || flow->kind != lb::kFlow) return false;
  w.setup.conntrack->touch(*flow, 0, w.now_s);
  lb_translate(w, m, ip, *flow, from);
  return true;
}

bool lb_new_flow(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const lb::FlowKey& key,
                         uint8_t tcp_flags, const lb::ServiceTable::Match& match, const Fib& fib, From from) {
  w.stage(Stage::kLbNewFlow);
  const lb::Origin origin = from == From::kNode ? lb::Origin::kNode
                           : from == From::kPods || fib.cluster.contains(rte_be_to_cpu_32(key.src)) ? lb::Origin::kPod
                                                                                                    : lb::Origin::kExternal;
  const auto f = open_flow(
      w, m, *w.setup.conntrack, match, origin, key, tcp_flags, fib.pod_gateway,
      static_cast<uint32_t>(fib.services->generation()), [&](uint32_t id) { lb_reject(w, m, from, id); },
      [&](lb::Nat& nat) { return snat_port(w, key, nat, w.snat_ports); });
  if (f) lb_translate(w, m, ip, *f, from);
  return true;
}

}  // namespace

bool snat_port(WorkerContext& w, const lb::FlowKey& key, lb::Nat& nat, lb::PortAllocator& ports) {
  const auto port = ports.next([&](lb::be16 p) {
    return w.setup.conntrack->lookup(w.setup.id, lb::FlowKey{nat.backend, nat.snat, nat.backend_port, p, key.proto}, w.now_s)
        .has_value();
  });
  if (port) nat.snat_port = *port;
  return port.has_value();
}

void lb_translate(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const lb::CtMatch& f, From from) {
  const FragCache::Translation before{ip->src_addr, ip->dst_addr};
  auto* l4 = ip + 1;
  if (f.fwd.proto == lb::kIcmp) {
    // Echo of a masqueraded flow: the address and the identifier.
    auto* icmp = reinterpret_cast<rte_icmp_hdr*>(l4);
    const be16 id = f.reply ? f.fwd.sport : f.nat.snat_port;
    if (f.reply)
      nat_rewrite(ip, nullptr, NatSide::DESTINATION, f.fwd.src, 0);
    else
      nat_rewrite(ip, nullptr, NatSide::SOURCE, f.nat.snat, 0);
    icmp->icmp_cksum = csum_replace16(icmp->icmp_cksum, icmp->icmp_ident, id);
    icmp->icmp_ident = id;
    ++(f.reply ? w.counters.lb_reply : w.counters.lb_forward);
    return w.next(Stage::kIpRoute, m, from);
  }
  if (!f.reply) {
    nat_rewrite(ip, l4, NatSide::DESTINATION, f.nat.backend, f.nat.backend_port);
    if (f.nat.snat) nat_rewrite(ip, l4, NatSide::SOURCE, f.nat.snat, f.nat.snat_port);
    ++w.counters.lb_forward;
  } else {
    nat_rewrite(ip, l4, NatSide::SOURCE, f.fwd.dst, f.fwd.dport);
    if (f.nat.snat) nat_rewrite(ip, l4, NatSide::DESTINATION, f.fwd.src, f.fwd.sport);
    ++w.counters.lb_reply;
  }
  if (f.fwd.proto == lb::kSctp)
    sctp_set_checksum(reinterpret_cast<rte_sctp_hdr*>(l4), rte_be_to_cpu_16(ip->total_length) - sizeof(rte_ipv4_hdr));
  if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG)) {
    const FragCache::Key orig{before.src, before.dst, ip->packet_id, ip->next_proto_id};
    if (!w.frags.remember(orig, {ip->src_addr, ip->dst_addr}, w.now_s)) ++w.counters.frag_evicted;
  }
  if (ServiceCounters* c = w.svc_counters.find(f.service_id)) {
    ++c->packets;
    c->bytes += rte_be_to_cpu_16(ip->total_length);
  }
  w.next(Stage::kIpRoute, m, from);
}

namespace {

bool lb_fragment(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from) {
  const FragCache::Translation* to =
      w.frags.find({ip->src_addr, ip->dst_addr, ip->packet_id, ip->next_proto_id}, w.now_s);
  if (to == nullptr) {
    // A later fragment to a front end whose first fragment was not seen
    // (or gave way): it cannot be translated, and is no one else's.
    if (!fib.services->maybe_frontend(ip->dst_addr)) return false;
    w.drop(m, Drop::kFragNoFirst);
    return true;
  }
  const FragCache::Translation t = *to;
  if (ip->src_addr != t.src) nat_rewrite(ip, nullptr, NatSide::SOURCE, t.src, 0);
  if (ip->dst_addr != t.dst) nat_rewrite(ip, nullptr, NatSide::DESTINATION, t.dst, 0);
  ++w.counters.lb_fragments;
  w.next(Stage::kIpRoute, m, from);
  return true;
}

}  // namespace

// RFC 5508 section 4 (as Linux's nf_nat_icmp_reply_translation): an ICMP
// error quotes the packet it is about. The quoted packet, turned around,
// is a tuple of a flow; translate the quote and the outer header the way
// that flow's packets are translated, so the error reaches the real
// sender and makes sense to it.
bool lb_icmp_error(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from) {
  const auto e = parse_icmp_error(ip);
  if (!e || e->inner_l4 == nullptr) return false;
  const uint8_t proto = e->inner_ip->next_proto_id;
  if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) return false;
  const lb::FlowKey quoted{e->inner_ip->src_addr, e->inner_ip->dst_addr, l4_port(e->inner_l4, 0),
                           l4_port(e->inner_l4, 2), proto};
  w.stage(Stage::kLb);
  const auto f = ct_lookup(w, quoted.reversed(), fib);
  if (!f || f->kind != lb::kFlow) return false;
  if (f->reply) {
    // The quote is a forward packet as we sent it (client → endpoint):
    // the error goes to the client, about VIP:port.
    icmp_error_translate(*e, NatSide::DESTINATION, f->fwd.dst, f->fwd.dport);
    if (f->nat.snat) {
      icmp_error_translate(*e, NatSide::SOURCE, f->fwd.src, f->fwd.sport);
      nat_rewrite(ip, nullptr, NatSide::DESTINATION, f->fwd.src, 0);
    }
    if (ip->src_addr == f->nat.backend) nat_rewrite(ip, nullptr, NatSide::SOURCE, f->fwd.dst, 0);
  } else {
    // The quote is a reply as we sent it (VIP → client): the error goes
    // to the endpoint, about its own packet.
    icmp_error_translate(*e, NatSide::SOURCE, f->nat.backend, f->nat.backend_port);
    nat_rewrite(ip, nullptr, NatSide::DESTINATION, f->nat.backend, 0);
    if (f->nat.snat) {
      icmp_error_translate(*e, NatSide::DESTINATION, f->nat.snat, f->nat.snat_port);
      if (ip->src_addr == f->fwd.src) nat_rewrite(ip, nullptr, NatSide::SOURCE, f->nat.snat, 0);
    }
  }
  ++w.counters.lb_icmp_translated;
  w.next(Stage::kIpRoute, m, from);
  return true;
}

namespace {

// kube-proxy's REJECT: a RST or an ICMP port unreachable, back out of the
// port the packet came in by. Never for tunnelled packets (svcdp creates
// no flow from them).
void lb_reject(WorkerContext& w, rte_mbuf* m, From from, uint32_t service_id) {
  if (from == From::kTunnel || !make_reject(m)) return w.drop(m, Drop::kLbNoReject);
  ++w.counters.lb_rejected;
  if (ServiceCounters* c = w.svc_counters.find(service_id)) ++c->rejected;
  w.tx(reply_role(from), m);
}

}  // namespace

}  // namespace svcdp::dp
