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
#include "dataplane/worker.h"

#include <algorithm>

namespace svcdp::dp {

void Worker::icmp_error(rte_mbuf* m, uint8_t type, uint8_t code, uint16_t mtu, Drop why, From from, const Fib& fib) {
  stage(Stage::kIcmpError);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  if (!icmp_error_allowed(eth, ip)) return drop(m, why);
  // A token bucket as a theoretical arrival time (GCRA): kIcmpErrorsPerSecond
  // on average, kIcmpErrorBurst at once, like Linux's icmp_global_allow.
  const uint64_t tat = std::max(icmp_tat_tsc_, now_tsc_);
  if (tat - now_tsc_ > (kIcmpErrorBurst - 1) * icmp_token_cost_tsc_) {
    ++counters_.icmp_rate_limited;
    return drop(m, why);
  }
  icmp_tat_tsc_ = tat + icmp_token_cost_tsc_;
  // From svcdp's address on the side the packet came from: the pod
  // gateway for pods (and the kernel, whose routes point at it), the node
  // address for the network.
  const be32 src = from == From::kUplink ? fib.node_ip : fib.pod_gateway;
  if (!make_icmp_error(m, type, code, src, mtu)) return drop(m, Drop::kNoHeadroom);
  counters_.drop(why);  // the offending packet is gone all the same
  ++counters_.icmp_errors_sent;
  eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  if (lb_icmp_error(m, ip, fib, From::kNode)) return;
  next(Stage::kIpRoute, m, From::kNode);
}

}  // namespace svcdp::dp
