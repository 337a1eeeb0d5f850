// icmp_error: the ICMP errors svcdp originates as a router (RFC 792, RFC
// 1812 section 4.3.2): Time Exceeded when a TTL runs out, Fragmentation
// Needed with the next-hop MTU when a DF packet does not fit (RFC 1191).
// The offending packet's mbuf becomes the error, so nothing is allocated.
//
// An error about a translated packet quotes it as translated; it then goes
// through the load-balancing stage's ICMP translation (RFC 5508), which
// turns the quote back into what the sender sent, as Linux's nf_nat does
// for errors the host itself generates.
#include "dataplane/icmp.h"
#include "dataplane/reject.h"
#include "dataplane/stages.h"

#include <algorithm>

namespace svcdp::dp {
namespace {

// A token bucket as a theoretical arrival time (GCRA): kIcmpErrorsPerSecond
// on average, kIcmpErrorBurst at once, like Linux's icmp_global_allow
// (one bucket for ICMP and ICMPv6, as Linux's is global).
bool icmp_token(WorkerContext& w) {
  const uint64_t tat = std::max(w.icmp_tat_tsc, w.now_tsc);
  if (tat - w.now_tsc > (kIcmpErrorBurst - 1) * w.icmp_token_cost_tsc) {
    ++w.counters.icmp_rate_limited;
    return false;
  }
  w.icmp_tat_tsc = tat + w.icmp_token_cost_tsc;
  return true;
}

}  // namespace

void icmp_error(WorkerContext& w, rte_mbuf* m, uint8_t type, uint8_t code, uint16_t mtu, Drop why, From from, const Fib& fib) {
  w.stage(Stage::kIcmpError);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  if (!icmp_error_allowed(eth, ip) || !icmp_token(w)) return w.drop(m, why);
  // From svcdp's address on the side the packet came from: the pod
  // gateway for pods (and the kernel, whose routes point at it), the node
  // address for the network.
  const be32 src = from == From::kUplink ? fib.node_ip : fib.pod_gateway;
  if (!make_icmp_error(m, type, code, src, mtu)) return w.drop(m, Drop::kNoHeadroom);
  w.counters.drop(why);  // the offending packet is gone all the same
  ++w.counters.icmp_errors_sent;
  eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  if (lb_icmp_error(w, m, ip, fib, From::kNode)) return;
  w.next(Stage::kIpRoute, m, From::kNode);
}

// The IPv6 errors (RFC 4443), from svcdp's address on the side the packet
// came from (the pods' IPv6 gateway, or the node's IPv6 address for the
// network): sent back out of the port it came in by, to the sender's MAC;
// a decapsulated packet's back into the tunnel to the node of its source,
// as a packet of svcdp's (quoting a translated packet, through lb6's error
// translation first, as IPv4's errors go through lb_icmp_error).
void icmp6_error(WorkerContext& w, rte_mbuf* m, const Ipv6Chain& chain, uint8_t type, uint8_t code, uint32_t param,
                 Drop why, const Fib& fib, From from) {
  w.stage(Stage::kIcmpError);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  auto* ip6 = reinterpret_cast<uint8_t*>(eth + 1);
  const lb::Addr6& src = from == From::kUplink ? fib.node_ip6 : fib.pod_gateway6;
  if (src.is_zero() || !icmp6_error_allowed(eth, ip6, chain, type == kIcmp6PacketTooBig) || !icmp_token(w))
    return w.drop(m, why);
  if (!make_icmp6_error(m, type, code, src, param)) return w.drop(m, Drop::kNoHeadroom);
  w.counters.drop(why);  // the offending packet is gone all the same
  ++w.counters.icmp_errors_sent;
  if (from != From::kTunnel) return w.tx(reply_role(from), m);
  eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  ip6 = reinterpret_cast<uint8_t*>(eth + 1);
  Ipv6Chain c;
  if (walk_ipv6(ip6, rte_pktmbuf_data_len(m) - uint32_t{sizeof(rte_ether_hdr)}, c)) return w.drop(m, why);
  if (lb6_input(w, m, ip6, c, fib, From::kNode)) return;
  const auto node = fib.remote_pods6.lookup(ipv6_dst(ip6));
  if (!node) return w.drop(m, Drop::kIp6Unrouted);
  vxlan_encap6(w, m, eth, ip6, c, fib.nodes[*node], fib, From::kNode);
}

}  // namespace svcdp::dp
