// masquerade: pod traffic leaving the cluster (to the internet, a
// registry, other nodes' addresses) takes the node address as source, as
// flannel's ipMasq and ip-masq-agent do with iptables MASQUERADE, so that
// replies come back to this node. The flow lives in conntrack like a
// Service flow (Linux's timeouts); its replies arrive on the uplink for a
// port of this worker's masquerade range, which names the owning shard.
// ICMP echo is tracked by its identifier, as Linux's nf_conntrack_icmp.
#include "dataplane/ipv4.h"
#include "dataplane/stages.h"

#include <rte_icmp.h>
#include <rte_tcp.h>

namespace svcdp::dp {

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
  // An earlier packet of the same burst may have opened the flow after
  // this one passed the lb stage (two UDP datagrams sent at once, as
  // glibc's A and AAAA queries): it joins that flow rather than racing it
  // to a second entry, the conntrack insert race behind 5-second DNS
  // timeouts (kubernetes issue 56903).
  if (auto f = ct_lookup(w, key, fib); f && f->kind == lb::kFlow) {
    w.setup.conntrack->touch(*f, tcp_flags, w.now_s);
    return lb_translate(w, m, ip, *f, From::kPods);
  }
  if (proto == IPPROTO_TCP && (tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) != RTE_TCP_SYN_FLAG)
    return w.drop(m, Drop::kMasqNoFlow);
  lb::Nat nat;
  nat.backend = key.dst;
  nat.backend_port = key.dport;
  nat.snat = fib.node_ip;
  if (!snat_port(w, key, nat, w.masq_ports)) return w.drop(m, Drop::kSnatPortsExhausted);
  const auto gen = static_cast<uint32_t>(fib.services->generation());
  if (w.setup.conntrack->insert(w.setup.id, key, nat, lb::kNoService, false, gen, tcp_flags, w.now_s) != lb::CtInsert::kOk)
    return w.drop(m, Drop::kConntrackFull);
  ++w.counters.masq_new_flows;
  lb::CtMatch f{};
  f.fwd = key;
  f.nat = nat;
  f.service_id = lb::kNoService;
  f.reply = false;
  lb_translate(w, m, ip, f, From::kPods);
}

}  // namespace svcdp::dp
