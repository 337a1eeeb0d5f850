// masquerade: pod traffic leaving the cluster (to the internet, a
// registry, other nodes' addresses) takes the node address as source, as
// flannel's ipMasq and ip-masq-agent do with iptables MASQUERADE, so that
// replies come back to this node. The flow lives in conntrack like a
// Service flow (Linux's timeouts); its replies arrive on the uplink for a
// port of this worker's masquerade range, which names the owning shard.
// ICMP echo is tracked by its identifier, as Linux's nf_conntrack_icmp.
#include "dataplane/ipv4.h"
#include "dataplane/ndp.h"
#include "dataplane/reject.h"
#include "dataplane/stages.h"

#include <rte_icmp.h>
#include <rte_tcp.h>

namespace svcdp::dp {
namespace {

// The flow of a pod's packet leaving the cluster, either family: one an
// earlier packet of the same burst opened after this one passed the lb
// stage (two UDP datagrams sent at once, as glibc's A and AAAA queries)
// is joined rather than raced to a second entry, the conntrack insert
// race behind 5-second DNS timeouts (kubernetes issue 56903); else a new
// one, the source `node`:`port(nat)`. Nullopt when `m` was dropped.
template <lb::Family F, class Lookup, class Port>
std::optional<lb::BasicCtMatch<F>> masquerade_flow(WorkerContext& w, rte_mbuf* m, lb::BasicConntrack<F>& ct,
                                                   const lb::BasicFlowKey<F>& key, uint8_t tcp_flags,
                                                   const typename F::Addr& node, uint32_t generation, Lookup lookup,
                                                   Port port) {
  const auto dropped = [&](Drop why) -> std::optional<lb::BasicCtMatch<F>> {
    w.drop(m, why);
    return std::nullopt;
  };
  if (auto f = lookup(); f && f->kind == lb::kFlow) {
    ct.touch(*f, tcp_flags, w.now_s);
    return f;
  }
  if (key.proto == IPPROTO_TCP && (tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) != RTE_TCP_SYN_FLAG)
    return dropped(Drop::kMasqNoFlow);
  lb::BasicNat<F> nat{};
  nat.backend = key.dst;
  nat.backend_port = key.dport;
  nat.snat = node;
  if (!port(nat)) return dropped(Drop::kSnatPortsExhausted);
  if (ct.insert(w.setup.id, key, nat, lb::kNoService, false, generation, tcp_flags, w.now_s) != lb::CtInsert::kOk)
    return dropped(Drop::kConntrackFull);
  ++w.counters.masq_new_flows;
  lb::BasicCtMatch<F> f{};
  f.fwd = key;
  f.nat = nat;
  f.service_id = lb::kNoService;
  f.reply = false;
  return f;
}

}  // namespace

void masquerade(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib) {
  w.stage(Stage::kMasquerade);
  const uint8_t proto = ip->next_proto_id;
  const uint32_t l4_len = rte_be_to_cpu_16(ip->total_length) - sizeof(rte_ipv4_hdr);
  const bool later_fragment = ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK);
  lb::FlowKey key{ip->src_addr, ip->dst_addr, 0, 0, proto};
  uint8_t tcp_flags = 0;
  if (w.setup.conntrack == nullptr || later_fragment) return w.drop(m, Drop::kMasqUnsupported);
  if (fib.node_ip == 0) return w.drop(m, Drop::kIpNoRoute);  // bootstrap: no node address to take yet
  if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
    // lb_input has checked that the ports (and TCP's flags) are present.
    key.sport = l4_port(ip + 1, 0);
    key.dport = l4_port(ip + 1, 2);
    if (proto == IPPROTO_TCP) tcp_flags = reinterpret_cast<const rte_tcp_hdr*>(ip + 1)->tcp_flags;
  } else if (proto == IPPROTO_ICMP && l4_len >= sizeof(rte_icmp_hdr) &&
             reinterpret_cast<const rte_icmp_hdr*>(ip + 1)->icmp_type == RTE_IP_ICMP_ECHO_REQUEST) {
    key.sport = reinterpret_cast<const rte_icmp_hdr*>(ip + 1)->icmp_ident;
  } else {
    return w.drop(m, Drop::kMasqUnsupported);
  }
  const auto f = masquerade_flow(w, m, *w.setup.conntrack, key, tcp_flags, fib.node_ip,
                                  static_cast<uint32_t>(fib.services->generation()),
                                  [&] { return ct_lookup(w, key, fib); },
                                  [&](lb::Nat& nat) { return snat_port(w, key, nat, w.masq_ports); });
  if (f) lb_translate(w, m, ip, *f, From::kPods);
}

// The same for IPv6, to the node's IPv6 InternalIP, as ip6tables'
// MASQUERADE of a dual-stack flannel or ip-masq-agent (kube-proxy does not
// masquerade pod egress). TCP, UDP and ICMPv6 echo (by identifier, as
// lb6_echo pairs them); a fragment or another protocol is not translated.
void masquerade6(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const Fib& fib) {
  w.stage(Stage::kMasquerade);
  const uint8_t proto = c.proto;
  const bool echo = proto == kIpProtoIcmp6 && c.end >= c.l4_offset + 8u && ip6[c.l4_offset] == kIcmp6EchoRequest;
  if (w.setup.conntrack6 == nullptr || c.fragment || (proto != IPPROTO_TCP && proto != IPPROTO_UDP && !echo))
    return w.drop(m, Drop::kMasqUnsupported);
  if (!echo && uint32_t{c.end} - c.l4_offset < (proto == IPPROTO_TCP ? sizeof(rte_tcp_hdr) : 8u))
    return w.drop(m, Drop::kL4Truncated);
  lb::FlowKey6 key = flow_key6(ip6, c);
  if (echo) {
    key.sport = l4_port(ip6 + c.l4_offset, 4);
    key.dport = 0;
  }
  const uint8_t tcp_flags = proto == IPPROTO_TCP ? reinterpret_cast<const rte_tcp_hdr*>(ip6 + c.l4_offset)->tcp_flags : 0;
  const auto f = masquerade_flow(w, m, *w.setup.conntrack6, key, tcp_flags, fib.node_ip6,
                                  static_cast<uint32_t>(fib.services6->generation()),
                                  [&] { return w.setup.conntrack6->lookup(w.setup.id, key, w.now_s); },
                                  [&](lb::Nat6& nat) { return snat_port6(w, key, nat, w.masq_ports); });
  if (f) lb6_translate(w, m, ip6, c, *f, fib, From::kPods);
}

}  // namespace svcdp::dp
