// masquerade: pod traffic leaving the cluster (to the internet, a
// registry, other nodes' addresses) takes the node address as source, as
// flannel's ipMasq and ip-masq-agent do with iptables MASQUERADE, so that
// replies come back to this node. The flow lives in conntrack like a
// Service flow (Linux's timeouts); its replies arrive on the uplink for a
// port of this worker's masquerade range, which names the owning shard.
// ICMP echo is tracked by its identifier, as Linux's nf_conntrack_icmp.
#include "dataplane/ipv4.h"
#include "dataplane/worker.h"

#include <rte_icmp.h>
#include <rte_tcp.h>

namespace svcdp::dp {

void Worker::masquerade(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib) {
  stage(Stage::kMasquerade);
  const uint8_t proto = ip->next_proto_id;
  const uint32_t l4_len = rte_be_to_cpu_16(ip->total_length) - sizeof(rte_ipv4_hdr);
  const bool later_fragment = ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK);
  lb::FlowKey key{ip->src_addr, ip->dst_addr, 0, 0, proto};
  uint8_t tcp_flags = 0;
  if (s_.conntrack == nullptr || later_fragment) return drop(m, Drop::kMasqUnsupported);
  if (fib.node_ip == 0) return drop(m, Drop::kIpNoRoute);  // bootstrap: no node address to take yet
  if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
    // lb_input has checked that the ports (and TCP's flags) are present.
    key.sport = l4_port(ip + 1, 0);
    key.dport = l4_port(ip + 1, 2);
    if (proto == IPPROTO_TCP) tcp_flags = reinterpret_cast<const rte_tcp_hdr*>(ip + 1)->tcp_flags;
  } else if (proto == IPPROTO_ICMP && l4_len >= sizeof(rte_icmp_hdr) &&
             reinterpret_cast<const rte_icmp_hdr*>(ip + 1)->icmp_type == RTE_IP_ICMP_ECHO_REQUEST) {
    key.sport = reinterpret_cast<const rte_icmp_hdr*>(ip + 1)->icmp_ident;
  } else {
    return drop(m, Drop::kMasqUnsupported);
  }
  // An earlier packet of the same burst may have opened the flow after
  // this one passed the lb stage (two UDP datagrams sent at once, as
  // glibc's A and AAAA queries): it joins that flow rather than racing it
  // to a second entry, the conntrack insert race behind 5-second DNS
  // timeouts (kubernetes issue 56903).
  if (auto f = ct_lookup(key, fib); f && f->kind == lb::kFlow) {
    s_.conntrack->touch(*f, tcp_flags, now_s_);
    return lb_translate(m, ip, *f, From::kPods);
  }
  if (proto == IPPROTO_TCP && (tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) != RTE_TCP_SYN_FLAG)
    return drop(m, Drop::kMasqNoFlow);
  lb::Nat nat;
  nat.backend = key.dst;
  nat.backend_port = key.dport;
  nat.snat = fib.node_ip;
  if (!snat_port(key, nat, masq_ports_)) return drop(m, Drop::kSnatPortsExhausted);
  const auto gen = static_cast<uint32_t>(fib.services->generation());
  if (s_.conntrack->insert(s_.id, key, nat, lb::kNoService, false, gen, tcp_flags, now_s_) != lb::CtInsert::kOk)
    return drop(m, Drop::kConntrackFull);
  ++counters_.masq_new_flows;
  lb::CtMatch f{};
  f.fwd = key;
  f.nat = nat;
  f.service_id = lb::kNoService;
  f.reply = false;
  lb_translate(m, ip, f, From::kPods);
}

}  // namespace svcdp::dp
