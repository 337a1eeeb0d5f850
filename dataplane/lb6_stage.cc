// lb6: the load-balancing stage for IPv6, kube-proxy's IPv6 proxier on
// lb/'s Conntrack6 and ServiceTable6: this node's pods reaching IPv6
// Services and the endpoints' replies.
//
//   forward  client → [VIP]:port     DNAT to the endpoint (NAT66; a pod
//                                    reaching itself also SNAT to the pods'
//                                    IPv6 gateway, kube-proxy's hairpin)
//   reply    endpoint → client       the reverse
//
// The decisions are lb/'s (decide_new_flow, check_flow), the TCP rules
// the IPv4 stage's (lb_rules.h). Endpoints on other nodes are reached in
// VXLAN (ip6_route), their replies come back decapsulated. Not there yet
// for IPv6: traffic from the uplink and the node's kernel (NodePorts,
// external and LoadBalancer IPs), fragments and ICMPv6 errors about
// translated flows; those packets go on unrouted.
#include "dataplane/lb_rules.h"
#include "dataplane/nat.h"
#include "dataplane/ndp.h"
#include "dataplane/reject.h"
#include "dataplane/stages.h"
#include "lb/nat_decision.h"

#include <rte_sctp.h>

#include <algorithm>
#include <cstring>

namespace svcdp::dp {
namespace {

// kube-proxy's REJECT for IPv6, as lb_reject gives it for IPv4: a TCP
// RST, ICMPv6 port unreachable for the rest, from the address the packet
// was sent to.
void lb6_reject(WorkerContext& w, rte_mbuf* m, const Ipv6Chain& c, const lb::Addr6& vip, uint32_t service_id,
                From from) {
  if (from == From::kTunnel || !make_reject6(m, c, vip)) return w.drop(m, Drop::kLbNoReject);
  ++w.counters.lb_rejected;
  if (ServiceCounters* sc = w.svc_counters.find(service_id)) ++sc->rejected;
  w.tx(reply_role(from), m);
}

// A new flow of a pod (this node's, or one in the cluster's pod network
// reaching a front end over the uplink), of the node's kernel (always
// masqueraded, as kube-proxy's KUBE-MARK-MASQ for traffic from outside the
// cluster CIDR) or of an outside client; SNAT, when kube-proxy would
// masquerade, to the pods' IPv6 gateway, an address of this node's pod
// CIDR, so that replies come back here (as for IPv4).
bool lb6_new_flow(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const lb::FlowKey6& key,
                  uint8_t tcp_flags, const lb::ServiceTable6::Match& match, const Fib& fib, From from) {
  w.stage(Stage::kLbNewFlow);
  const lb::Origin origin = from == From::kNode ? lb::Origin::kNode
                            : from == From::kPods || local_pod6(fib, key.src) || fib.remote_pods6.contains(key.src)
                                ? lb::Origin::kPod
                                : lb::Origin::kExternal;
  const auto f = open_flow(
      w, m, *w.setup.conntrack6, match, origin, key, tcp_flags, fib.pod_gateway6,
      static_cast<uint32_t>(fib.services6->generation()), [&](uint32_t id) { lb6_reject(w, m, c, key.dst, id, from); },
      [&](lb::Nat6& nat) { return snat_port6(w, key, nat, w.snat_ports); });
  if (f) lb6_translate(w, m, ip6, c, *f, fib, from);
  return true;
}

// As IPv4's may_be_translated: Service SNAT replies, endpoints' replies,
// masqueraded flows (their replies on the uplink to a masquerade port of
// the node's IPv6 address, their later packets from the pods).
bool may_be_translated6(const WorkerContext& w, const lb::FlowKey6& key, const Fib& fib, From from) {
  if (key.dst == fib.pod_gateway6) return true;
  if (fib.services6->maybe_endpoint(key.src, key.sport, key.proto)) return true;
  if (fib.node_ip6.is_zero()) return false;
  if (from == From::kUplink)
    return key.dst == fib.node_ip6 && static_cast<uint16_t>(lb::from_be16(key.dport) - w.setup.masquerade_lo) <=
                                          w.setup.masquerade_hi - w.setup.masquerade_lo;
  return from == From::kPods && key.dst != fib.node_ip6 && !in_cluster6(fib, key.dst);
}

// ICMPv6 echo of masqueraded flows, tracked by identifier as for IPv4
// (the request's as its source "port", the reply's as its destination).
// True when it took the packet.
bool lb6_echo(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const Fib& fib, From from) {
  if (c.fragment || c.end < c.l4_offset + 8u || fib.node_ip6.is_zero()) return false;
  const uint8_t type = ip6[c.l4_offset];
  lb::FlowKey6 key{ipv6_src(ip6), ipv6_dst(ip6), 0, 0, kIpProtoIcmp6};
  const be16 id = l4_port(ip6 + c.l4_offset, 4);
  if (type == kIcmp6EchoRequest && from == From::kPods && key.dst != fib.node_ip6 && !in_cluster6(fib, key.dst))
    key.sport = id;
  else if (type == kIcmp6EchoReply && from == From::kUplink && key.dst == fib.node_ip6)
    key.dport = id;
  else
    return false;
  w.stage(Stage::kLb);
  const auto flow = w.setup.conntrack6->lookup(w.setup.id, key, w.now_s);
  if (!flow || flow->kind != lb::kFlow) return false;
  w.setup.conntrack6->touch(*flow, 0, w.now_s);
  lb6_translate(w, m, ip6, c, *flow, fib, from);
  return true;
}

// An ICMPv6 error (RFC 4443 section 2.1: types below 128) quoting a
// packet of a translated flow, translated as that flow's packets are
// (RFC 5508 section 4.2 for NAT of ICMP errors, here NAT66): Packet Too
// Big from beyond the uplink about a masqueraded pod flow reaches the pod
// with the pod's own tuple quoted (else IPv6 path MTU discovery, which
// routers never fragment for, blackholes it); an endpoint's Destination
// Unreachable reaches the client as if from the Service. The quoted
// packet's TCP or UDP header must be whole; the ICMPv6 checksum is
// computed anew. True when it took the packet.
bool lb6_icmp_error(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const Fib& fib, From from) {
  if (c.fragment) return false;
  uint8_t* icmp = ip6 + c.l4_offset;
  uint8_t* q = icmp + 8;
  const uint32_t qlen = c.end - c.l4_offset - 8u;
  if (c.end < c.l4_offset + 8u + kIpv6HeaderLen || (q[0] >> 4) != 6) return false;
  const uint8_t proto = q[6];
  const uint32_t l4_min = proto == IPPROTO_TCP ? sizeof(rte_tcp_hdr) : proto == IPPROTO_UDP ? 8u : 0u;
  if (l4_min == 0 || qlen < kIpv6HeaderLen + l4_min) return false;
  Ipv6Chain qc;
  qc.proto = proto;
  qc.l4_offset = kIpv6HeaderLen;
  qc.end = static_cast<uint16_t>(qlen);
  const lb::FlowKey6 quoted = flow_key6(q, qc);
  w.stage(Stage::kLb);
  const auto f = w.setup.conntrack6->lookup(w.setup.id, quoted.reversed(), w.now_s);
  if (!f || f->kind != lb::kFlow) return false;
  const bool snat = !f->nat.snat.is_zero();
  const lb::Addr6 outer_src = ipv6_src(ip6);
  if (f->reply) {
    // About a packet we sent towards the endpoint (or, masqueraded, the
    // outside host): back to the client, quoting its own packet.
    if (outer_src == f->nat.backend) nat66_rewrite(ip6, c, NatSide::SOURCE, f->fwd.dst, 0);
    nat66_rewrite(ip6, c, NatSide::DESTINATION, f->fwd.src, 0);
    nat66_rewrite(q, qc, NatSide::SOURCE, f->fwd.src, f->fwd.sport);
    nat66_rewrite(q, qc, NatSide::DESTINATION, f->fwd.dst, f->fwd.dport);
  } else {
    // About a reply we sent to the client: back to the endpoint.
    if (snat && outer_src == f->fwd.src) nat66_rewrite(ip6, c, NatSide::SOURCE, f->nat.snat, 0);
    nat66_rewrite(ip6, c, NatSide::DESTINATION, f->nat.backend, 0);
    nat66_rewrite(q, qc, NatSide::SOURCE, f->nat.backend, f->nat.backend_port);
    if (snat) nat66_rewrite(q, qc, NatSide::DESTINATION, f->nat.snat, f->nat.snat_port);
  }
  icmp[2] = icmp[3] = 0;
  const uint16_t sum = icmp6_checksum(ipv6_src(ip6).bytes, ipv6_dst(ip6).bytes, icmp, c.end - c.l4_offset);
  icmp[2] = static_cast<uint8_t>(sum >> 8);
  icmp[3] = static_cast<uint8_t>(sum);
  ++w.counters.lb_icmp_translated;
  ip6_route(w, m, ip6, c, ipv6_dst(ip6), fib, from, true);
  return true;
}

// A later fragment (RFC 8200 section 4.5) of a datagram whose first
// fragment was translated: the same addresses; one to a front end whose
// first is unknown cannot be translated and is no one else's.
bool lb6_fragment(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const Fib& fib, From from) {
  const lb::Addr6 dst = ipv6_dst(ip6);
  const FragCache6::Translation* to = w.frags6.find({ipv6_src(ip6), dst, c.frag_id, c.proto}, w.now_s);
  if (to == nullptr) {
    if (!fib.services6->maybe_frontend(dst)) return false;
    w.drop(m, Drop::kFragNoFirst);
    return true;
  }
  const FragCache6::Translation t = *to;
  nat66_rewrite(ip6, c, NatSide::SOURCE, t.src, 0);
  nat66_rewrite(ip6, c, NatSide::DESTINATION, t.dst, 0);
  ++w.counters.lb_fragments;
  ip6_route(w, m, ip6, c, t.dst, fib, from, true);
  return true;
}

}  // namespace

bool in_cluster6(const Fib& fib, const lb::Addr6& a) {
  const auto in = [&](const std::vector<conf::Ipv6Prefix>& list) {
    return std::any_of(list.begin(), list.end(),
                       [&](const conf::Ipv6Prefix& p) { return lb::prefix_contains(lb::Addr6{p.addr}, p.len, a); });
  };
  return local_pod6(fib, a) || fib.remote_pods6.contains(a) || in(fib.cluster6);
}

// Rewrites a packet of flow `f`, then delivers it to the pod it is now
// addressed to.
void lb6_translate(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const lb::CtMatch6& f,
                   const Fib& fib, From from) {
  const bool snat = !f.nat.snat.is_zero();
  if (f.fwd.proto == kIpProtoIcmp6) {
    // Echo of a masqueraded flow: the address and the identifier.
    const be16 id = f.reply ? f.fwd.sport : f.nat.snat_port;
    if (f.reply)
      nat66_rewrite(ip6, c, NatSide::DESTINATION, f.fwd.src, 0);
    else
      nat66_rewrite(ip6, c, NatSide::SOURCE, f.nat.snat, 0);
    uint8_t* icmp = ip6 + c.l4_offset;
    be16 old_id, csum;
    std::memcpy(&old_id, icmp + 4, 2);
    std::memcpy(&csum, icmp + 2, 2);
    csum = csum_replace16(csum, old_id, id);
    std::memcpy(icmp + 2, &csum, 2);
    std::memcpy(icmp + 4, &id, 2);
    ++(f.reply ? w.counters.lb_reply : w.counters.lb_forward);
    return ip6_route(w, m, ip6, c, ipv6_dst(ip6), fib, from, true);
  }
  // A first fragment's train, by its addresses as received.
  const FragCache6::Key train =
      c.fragment ? FragCache6::Key{ipv6_src(ip6), ipv6_dst(ip6), c.frag_id, c.proto} : FragCache6::Key{};
  if (!f.reply) {
    nat66_rewrite(ip6, c, NatSide::DESTINATION, f.nat.backend, f.nat.backend_port);
    if (snat) nat66_rewrite(ip6, c, NatSide::SOURCE, f.nat.snat, f.nat.snat_port);
    ++w.counters.lb_forward;
  } else {
    nat66_rewrite(ip6, c, NatSide::SOURCE, f.fwd.dst, f.fwd.dport);
    if (snat) nat66_rewrite(ip6, c, NatSide::DESTINATION, f.fwd.src, f.fwd.sport);
    ++w.counters.lb_reply;
  }
  if (c.proto == lb::kSctp) sctp_set_checksum(reinterpret_cast<rte_sctp_hdr*>(ip6 + c.l4_offset), c.end - c.l4_offset);
  // A first fragment: its train's later fragments get the same addresses.
  if (c.fragment && !w.frags6.remember(train, {ipv6_src(ip6), ipv6_dst(ip6)}, w.now_s)) ++w.counters.frag_evicted;
  if (ServiceCounters* sc = w.svc_counters.find(f.service_id)) {
    ++sc->packets;
    sc->bytes += c.end;
  }
  ip6_route(w, m, ip6, c, ipv6_dst(ip6), fib, from, true);
}

bool snat_port6(WorkerContext& w, const lb::FlowKey6& key, lb::Nat6& nat, lb::PortAllocator& ports) {
  const auto port = ports.next([&](lb::be16 p) {
    return w.setup.conntrack6->lookup(w.setup.id, lb::FlowKey6{nat.backend, nat.snat, nat.backend_port, p, key.proto},
                                      w.now_s)
        .has_value();
  });
  if (port) nat.snat_port = *port;
  return port.has_value();
}

bool local_pod6(const Fib& fib, const lb::Addr6& a) {
  return std::any_of(fib.local_pods6.begin(), fib.local_pods6.end(),
                     [&](const conf::Ipv6Prefix& p) { return lb::prefix_contains(lb::Addr6{p.addr}, p.len, a); });
}

bool lb6_input(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const Fib& fib, From from,
               uint64_t hash) {
  if (w.setup.conntrack6 == nullptr) return false;
  if (c.later_fragment()) return lb6_fragment(w, m, ip6, c, fib, from);
  const uint8_t proto = c.proto;
  // SCTP's CRC32c covers the whole packet: a fragment cannot be
  // rewritten on its own (as for IPv4).
  if (c.fragment && proto == lb::kSctp) return false;
  if (proto == kIpProtoIcmp6) {
    if (c.end < c.l4_offset + 1u) return false;
    return ip6[c.l4_offset] < 128 ? lb6_icmp_error(w, m, ip6, c, fib, from) : lb6_echo(w, m, ip6, c, fib, from);
  }
  if (proto != lb::kTcp && proto != lb::kUdp && proto != lb::kSctp) return false;
  const lb::ServiceTable6& table = *fib.services6;
  uint8_t* l4 = ip6 + c.l4_offset;
  const uint32_t l4_len = c.end - c.l4_offset;
  if (l4_len < 4) return false;  // no ports: not Service traffic
  const lb::FlowKey6 key = flow_key6(ip6, c);
  const bool frontend = table.maybe_frontend(key.dst);
  if (!frontend && !may_be_translated6(w, key, fib, from)) return false;
  w.stage(Stage::kLb);
  // The same header checks as for IPv4 (RFC 9293 section 3.1, RFC 768,
  // RFC 9260 section 3.1).
  const size_t l4_min = proto == lb::kTcp ? sizeof(rte_tcp_hdr) : proto == lb::kUdp ? 8 : sizeof(rte_sctp_hdr);
  if (l4_len < l4_min) {
    w.drop(m, Drop::kL4Truncated);
    return true;
  }
  uint8_t tcp_flags = 0;
  if (proto == lb::kTcp) {
    const auto* tcp = reinterpret_cast<const rte_tcp_hdr*>(l4);
    tcp_flags = tcp->tcp_flags;
    const uint32_t offset = (tcp->data_off >> 4) * 4u;
    if (!tcp_flags_valid(tcp_flags)) {
      w.drop(m, Drop::kTcpBadFlags);
      return true;
    }
    if (offset < sizeof(rte_tcp_hdr) || offset > l4_len) {
      w.drop(m, Drop::kTcpBadOffset);
      return true;
    }
  } else if (proto == lb::kUdp) {
    const uint32_t ulen = uint32_t{l4[4]} << 8 | l4[5];
    // (A first fragment carries the length of the whole datagram.)
    if (ulen < 8 || (ulen > l4_len && !c.fragment)) {
      w.drop(m, Drop::kUdpBadLength);
      return true;
    }
  }
  lb::Conntrack6& ct = *w.setup.conntrack6;
  // The RX loop's hash is of this key only without extension headers.
  auto flow = ct.lookup(w.setup.id, key, w.now_s, c.l4_offset == kIpv6HeaderLen ? hash : 0);
  if (flow && flow->kind == lb::kFlow && reopens(*flow, tcp_flags)) {
    ct.remove(w.setup.id, *flow);
    flow.reset();
  }
  auto new_flow = [&] {
    if (!frontend) return false;
    const auto match = table.lookup(key.dst, key.dport, key.proto);
    return match && lb6_new_flow(w, m, ip6, c, key, tcp_flags, *match, fib, from);
  };
  if (!flow || flow->kind != lb::kFlow) return new_flow();

  if (consumed_by_recheck(w, m, ct, table, *flow, new_flow,
                          [&] { lb6_reject(w, m, c, flow->fwd.dst, flow->service_id, from); }))
    return true;
  ct.touch(*flow, tcp_flags, w.now_s);
  lb6_translate(w, m, ip6, c, *flow, fib, from);
  return true;
}

}  // namespace svcdp::dp
