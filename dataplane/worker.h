// A worker: one lcore, one RX and one TX queue on every port, one
// cache-aligned context (worker_context.h: TX buffers, vectors, counters)
// that nothing else writes.
//
// The poll loop (worker.cc) reads a burst from a port and passes it
// through named stages (stages.h: free functions over the context, one
// file each), as vectors (VPP's frames, grout's nodes): eth_input runs
// over the burst and puts each packet in the vector of its next stage;
// then, until none is left, the first stage in
// graph order (stage.h) with a pending vector runs over all of it, each
// packet going on to one of the next stages named on its arrow, to a TX
// buffer, or to a counted drop. Each vector stage counts its packets and
// cycles. icmp_error, ip_fragment, lb_new_flow and arp run inline in the
// stage that needs them (rare paths: their cycles are their caller's).
//
//   eth_input.cc    eth_input → uplink_input | pods_input | exception_input
//                   | ip6_input | ip6_uplink_input (ARP → control thread;
//                   multicast and other EtherTypes on the uplink → to_kernel)
//     uplink_input     → vxlan_decap | lb | to_kernel
//     pods_input       → lb | to_kernel (node address, pod gateway)
//                        | pods_output | vxlan_encap | masquerade | uplink_output
//     exception_input  → lb | pods_output | vxlan_encap | uplink (as sent)
//   vxlan_stage.cc  vxlan_decap → lb | pods_output;  vxlan_encap → uplink
//   dns_stage.cc    dns: queries to the cluster DNS Service from pods and
//                   the kernel → pods_output | to_kernel (answered) | lb
//   lb_stage.cc     lb: conntrack (buckets prefetched in the RX loop),
//                   new Service flows, NAT both ways, REJECT → ip_route;
//                   what is not translated goes on where its input stage
//                   would have sent it (Continue). ICMP errors and later
//                   fragments of translated flows are translated inline by
//                   the input stages → ip_route
//   masquerade.cc   masquerade: pod egress to the node address → uplink_output
//   ip_output.cc    ip_route → to_kernel | pods_output | vxlan_encap | uplink_output
//   icmp_error.cc   icmp_error: Time Exceeded, Fragmentation Needed (rate
//                   limited) → lb (translation of the quote) | ip_route
//   ip_fragment.cc  ip_fragment: a non-DF datagram larger than its link →
//                   its fragments back to uplink_output | vxlan_encap
//
// IPv6, inline from its input stage on (the same graph per family):
//   ip6_input.cc    ip6_input (pods; NS/NA → control thread) → lb6
//                   | echo reply | ip6_route; ip6_route → pods_output6
//                   | vxlan_encap6 | to_kernel | uplink_output6 | masquerade6
//                   | icmp6_error
//   ip6_uplink.cc   ip6_uplink_input → vxlan_decap_ip6 | lb6 | to_kernel;
//                   uplink_output6
//   ip6_node.cc     exception_input6 (the kernel's; NS/NA for the gateway →
//                   control thread) → lb6 | ip6_route | uplink (as sent)
//   lb6_stage.cc    lb6: conntrack, new flows, NAT66, REJECT, ICMPv6 error
//                   and fragment translation → ip6_route
//   icmp_error.cc   icmp6_error → back out of the input port; into the
//                   tunnel (lb6 | vxlan_encap6) for decapsulated packets
//
// Only packets the table generation says may be Service or NAT traffic
// (lb_stage.cc, `may_be_translated`) touch conntrack.
#pragma once

#include "dataplane/worker_context.h"

#include <atomic>

namespace svcdp::dp {

class Worker {
 public:
  explicit Worker(const WorkerSetup& setup) : w_(setup) {}

  // One round over every port and the control ring. Returns the number of
  // packets received. Thread: this worker's lcore (or a test's thread).
  unsigned poll();

  // Polls until `stop` is set, reporting RCU quiescent states.
  // Thread: this worker's lcore.
  void run(const std::atomic<bool>& stop);

  // Thread: any (plain reads of counters this worker writes).
  const Counters& counters() const { return w_.counters; }
  const ServiceCounterTable& service_counters() const { return w_.svc_counters; }
  // Gives ids below n their own counters. Thread: control, before it
  // publishes a generation using them.
  bool reserve_service_counters(uint32_t n) { return w_.svc_counters.reserve(n); }

  // Whether this worker sent to the neighbour in `slot` since the last
  // call, and clears the mark: the signal Linux's neighbour GC takes from
  // an entry's references, so that a neighbour first learned from its own
  // ARP request but since used is not evicted for a flood's senders. A
  // use racing with the clear may be missed once; the next packet marks
  // it again. Thread: control.
  bool take_neigh_used(uint32_t slot) { return take_mark(w_.neigh_used[slot]); }
  bool take_neigh6_used(uint32_t slot) { return take_mark(w_.neigh6_used[slot]); }

 private:
  static bool take_mark(std::atomic<uint8_t>& mark) {
    if (mark.load(std::memory_order_relaxed) == 0) return false;
    mark.store(0, std::memory_order_relaxed);
    return true;
  }
  // Runs the pending vectors, first stage in graph order first, until
  // none is left.
  void dispatch(const Fib& fib);
  // One stage over its vector (packets it queues for itself included).
  void run_vector(Stage s, const Fib& fib);
  void trace_begin(Role in, const rte_mbuf* m);
  // Prefetches the conntrack buckets of what may be a Service flow;
  // returns its tuple's flow_hash (0: not one, nothing prefetched).
  uint64_t prefetch_flow(const rte_mbuf* m, const Fib& fib) const;
  uint64_t prefetch_flow6(const rte_mbuf* m, const Fib& fib) const;
  // Follows flush requests, a slice of the shard per call.
  void flush_step();
  // Puts back a slice of the saved flows handed over, if any.
  void restore_step();

  WorkerContext w_;
};

}  // namespace svcdp::dp
