// The dns stage: UDP queries from this node's pods and kernel to the
// cluster DNS Service (lb_input sends them here). Names the table
// generation's zone holds are answered in place, in the query's mbuf,
// and sent back out of the port the query came in by; every other query
// goes on, unchanged, to the lb stage and so to the DNS Service's
// endpoints (CoreDNS keeps the names outside the cluster).
#include "dataplane/ipv4.h"
#include "dataplane/stages.h"
#include "dns/stats.h"

#include <rte_udp.h>

#include <algorithm>
#include <utility>

namespace svcdp::dp {

void dns_query(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, const PktCtx& c) {
  w.stage(Stage::kDns);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
  const uint32_t ip_len = rte_be_to_cpu_16(ip->total_length);
  const uint32_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
  const auto pass = [&](uint16_t qtype) {
    ++w.counters.dns_passed[dns::type_bucket(qtype)];
    w.next(Stage::kLb, m, c.from, c.arg, c.hash);
  };
  // The lb stage drops a bad UDP length with its reason; a chained mbuf
  // cannot be answered in place.
  if (udp_len < sizeof(rte_udp_hdr) || udp_len > ip_len - sizeof(rte_ipv4_hdr) || !rte_pktmbuf_is_contiguous(m))
    return pass(0);
  auto* payload = reinterpret_cast<uint8_t*>(udp + 1);
  const size_t query_len = udp_len - sizeof(rte_udp_hdr);
  dns::Query q;
  const dns::Parse parsed = dns::parse_query({payload, query_len}, q);
  if (parsed == dns::Parse::kIgnore) return w.drop(m, Drop::kDnsNotQuery);

  // Room for the answer: the mbuf's, within one packet of the port's MTU,
  // and within what the client takes (RFC 1035 4.2.1; RFC 6891 6.2.5).
  const size_t headers = sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr);
  const size_t room = query_len + rte_pktmbuf_tailroom(m);
  const size_t limit = std::min<size_t>({room, size_t{w.setup.mtu} - headers, q.udp_size});
  size_t answer_len = 0;
  uint16_t rcode = dns::kNoError;
  // The FQDN policy, for every query of a local pod, whoever would answer it.
  const dns::Policy* policy = c.from == From::kPods ? fib.dns_policy.get() : nullptr;
  const uint32_t from_ip = rte_be_to_cpu_32(ip->src_addr);
  if (parsed == dns::Parse::kOk && policy &&
      policy->check(w.setup.id, q.qname(), from_ip, fib.dns->namespace_of(from_ip)).deny) {
    rcode = policy->spec().deny_rcode;
    answer_len = dns::write_error({payload, query_len}, q.question_end, rcode);
    ++w.counters.dns_denied;
  } else if (parsed == dns::Parse::kOk) {
    const dns::Zone::Result r = fib.dns->answer(q, {payload, room}, limit);
    if (r.what == dns::Zone::Result::What::kPass) return pass(q.qtype);
    answer_len = r.len;
    rcode = r.rcode;
  } else {
    // As a DNS server answers what it cannot read (RFC 1035 4.1.1).
    rcode = parsed == dns::Parse::kNotImp ? dns::kNotImp : dns::kFormErr;
    answer_len = dns::write_error({payload, query_len}, q.question_end, rcode);
  }
  ++w.counters.dns_answered[dns::type_bucket(q.qtype) * dns::kRcodeBuckets + dns::rcode_bucket(rcode)];

  // The answer from the address and port asked, to the client.
  const auto total = static_cast<uint16_t>(headers + answer_len);
  const be32 client = ip->src_addr, server = ip->dst_addr;
  const be16 client_port = udp->src_port;
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  std::swap(eth->src_addr, eth->dst_addr);
  rte_pktmbuf_data_len(m) = static_cast<uint16_t>(sizeof(rte_ether_hdr) + total);
  rte_pktmbuf_pkt_len(m) = rte_pktmbuf_data_len(m);
  reply_ip_header(ip, server, client, IPPROTO_UDP, total);
  udp->src_port = udp->dst_port;
  udp->dst_port = client_port;
  udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_udp_hdr) + answer_len));
  udp->dgram_cksum = 0;
  udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
  // Originated here: no TTL to decrement on the way out.
  if (c.from == From::kPods) return w.next(Stage::kPodsOutput, m, From::kNode);
  w.next(Stage::kToKernel, m, From::kNode, kernel_or(Drop::kIpLocalUnhandled));
}

}  // namespace svcdp::dp
