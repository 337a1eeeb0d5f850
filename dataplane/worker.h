// A worker: one lcore, one RX and one TX queue on every port, one
// cache-aligned context (TX buffers, counters) that nothing else writes.
//
// The poll loop (worker.cc) reads a burst from a port and passes it
// through named stages, one file each, as vectors (VPP's frames, grout's
// nodes): eth_input runs over the burst and puts each packet in the
// vector of its next stage; then, until none is left, the first stage in
// graph order (stage.h) with a pending vector runs over all of it, each
// packet going on to one of the next stages named on its arrow, to a TX
// buffer, or to a counted drop. Each vector stage counts its packets and
// cycles. icmp_error, ip_fragment, lb_new_flow and arp run inline in the
// stage that needs them (rare paths: their cycles are their caller's).
//
//   eth_input.cc    eth_input → uplink_input | pods_input | exception_input
//                   (ARP → control thread; multicast and non-IPv4 on the
//                   uplink → to_kernel)
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
// Only packets the table generation says may be Service or NAT traffic
// (lb_stage.cc, `may_be_translated`) touch conntrack.
#pragma once

#include "dataplane/counters.h"
#include "dataplane/fib_publisher.h"
#include "dataplane/frag_cache.h"
#include "dataplane/neigh_table.h"
#include "dataplane/pkt_meta.h"
#include "dataplane/trace.h"
#include "lb/conntrack.h"
#include "lb/nat_decision.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <vector>

namespace svcdp::dp {

inline constexpr uint16_t kMaxBurst = 64;
// Fragments one datagram may become when it leaves by a smaller link.
inline constexpr uint16_t kMaxFragments = 64;
// Source ports of the pod gateway for Service SNAT (split between workers).
inline constexpr uint16_t kSnatLo = 1024, kSnatHi = 65535;
// ICMP errors a worker originates per second at most, and the burst it
// may send at once (Linux's net.ipv4.icmp_msgs_per_sec / icmp_msgs_burst).
inline constexpr uint64_t kIcmpErrorsPerSecond = 1000, kIcmpErrorBurst = 50;
// Conntrack slots a worker examines per expiry step, and how long a full
// sweep of its shard takes (entries expire to the second: a few seconds
// late is fine, lookups ignore expired entries anyway).
inline constexpr size_t kExpireBudget = 64;
inline constexpr uint64_t kExpireSweepS = 5;
// Seconds after a flow's last packet that replies from an endpoint that
// left its service are still delivered (two-phase removal).
inline constexpr uint32_t kEndpointGoneGraceS = 2;
// Conntrack slots a worker examines per poll round while flushing.
inline constexpr size_t kFlushBudget = 4096;

// An operator's request to drop flows (svcdpctl flush): queued to every
// worker, which removes the matching flows of its own conntrack shard a
// slice per poll loop.
struct FlushRequest {
  enum class Kind : uint8_t { kAll, kService, kFlow };
  Kind kind = Kind::kAll;
  uint32_t service_id = 0;
  lb::FlowKey flow{};  // kFlow: the forward tuple
};

// One worker's queue of flush requests: one producer (Dataplane::flush,
// serialised by its lock), one consumer (the worker). A request is never
// lost or overwritten; each completes in order and adds the flows it
// removed to removed().
class FlushQueue {
 public:
  static constexpr uint64_t kSize = 64;
  // Thread: the producer. False when full.
  bool push(const FlushRequest& r) {
    const uint64_t t = tail_.load(std::memory_order_relaxed);
    if (t - done_.load(std::memory_order_acquire) >= kSize) return false;
    slots_[t % kSize] = r;
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }
  // The oldest request not yet completed, or null. Thread: the consumer.
  const FlushRequest* front() const {
    const uint64_t d = done_.load(std::memory_order_relaxed);
    return d < tail_.load(std::memory_order_acquire) ? &slots_[d % kSize] : nullptr;
  }
  // Thread: the consumer (single writer of both counters: no RMW needed).
  void complete(uint64_t removed) {
    removed_.store(removed_.load(std::memory_order_relaxed) + removed, std::memory_order_relaxed);
    done_.store(done_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
  // Thread: any.
  uint64_t queued() const { return tail_.load(std::memory_order_acquire); }
  uint64_t done() const { return done_.load(std::memory_order_acquire); }
  uint64_t removed() const { return removed_.load(std::memory_order_relaxed); }

 private:
  std::array<FlushRequest, kSize> slots_{};
  alignas(64) std::atomic<uint64_t> tail_{0};
  alignas(64) std::atomic<uint64_t> done_{0};
  std::atomic<uint64_t> removed_{0};
};

// Flows a previous svcdp saved for this worker's shard (--save-flows),
// handed over once: the control thread fills `flows` and sets `ready`;
// the worker puts them back a slice per poll round and sets `done`.
struct RestoreQueue {
  struct Entry {
    lb::CtMatch flow;  // service id already renumbered for this process
    uint32_t idle_s;   // seconds it had been idle when saved
  };
  std::vector<Entry> flows;
  std::atomic<bool> ready{false};
  std::atomic<bool> done{false};
  std::atomic<uint64_t> restored{0};  // written by the worker only
  size_t next = 0;                    // the worker's cursor
};

struct WorkerSetup {
  unsigned id = 0;  // also the queue index on every port and the RCU thread id
  std::array<uint16_t, kRoleCount> port_ids{kNoPort, kNoPort, kNoPort};
  std::array<rte_ether_addr, kRoleCount> macs{};
  uint16_t burst = 32;
  uint16_t mtu = 1500;
  rte_ring* to_control = nullptr;    // this worker → control (single producer)
  rte_ring* from_control = nullptr;  // control → this worker (single consumer)
  const NeighTable* neigh = nullptr;
  FibPublisher* fib = nullptr;
  lb::Conntrack* conntrack = nullptr;  // shard `id` is this worker's
  unsigned workers = 1;                // SNAT and masquerade ports are split between workers
  uint16_t masquerade_lo = 61000, masquerade_hi = 65535;  // node-address ports for pod egress
  FlushQueue* flush = nullptr;  // this worker's
  RestoreQueue* restore = nullptr;  // this worker's
  TraceBuffer* trace = nullptr;  // this worker's
  int socket = SOCKET_ID_ANY;    // NUMA socket of the worker's lcore
};

// Hash of an IPv4 flow used where the NIC gave none: addresses, protocol
// and, for whole TCP/UDP datagrams, ports. Thread: any.
uint32_t inner_flow_hash(const rte_ipv4_hdr* ip);

class alignas(RTE_CACHE_LINE_SIZE) Worker {
 public:
  explicit Worker(const WorkerSetup& setup);

  // One round over every port and the control ring. Returns the number of
  // packets received. Thread: this worker's lcore (or a test's thread).
  unsigned poll();

  // Polls until `stop` is set, reporting RCU quiescent states.
  // Thread: this worker's lcore.
  void run(const std::atomic<bool>& stop);

  // Thread: any (plain reads of counters this worker writes).
  const Counters& counters() const { return counters_; }
  const ServiceCounterTable& service_counters() const { return svc_counters_; }
  // Gives ids below n their own counters. Thread: control, before it
  // publishes a generation using them.
  bool reserve_service_counters(uint32_t n) { return svc_counters_.reserve(n); }

  // Whether this worker sent to the neighbour in `slot` since the last
  // call, and clears the mark: the signal Linux's neighbour GC takes from
  // an entry's references, so that a neighbour first learned from its own
  // ARP request but since used is not evicted for a flood's senders. A
  // use racing with the clear may be missed once; the next packet marks
  // it again. Thread: control.
  bool take_neigh_used(uint32_t slot) {
    if (neigh_used_[slot].load(std::memory_order_relaxed) == 0) return false;
    neigh_used_[slot].store(0, std::memory_order_relaxed);
    return true;
  }

 private:
  // Where a packet entered, as the load-balancing and ICMP stages need it.
  enum class From : uint8_t { kPods, kUplink, kTunnel, kNode };
  // Where a packet the lb stage does not translate goes on: the rest of
  // the input stage that sent it there.
  enum class Continue : uint16_t {
    kUplinkTransit,  // uplink, not to the node: no route (the kernel's before the first tables)
    kUplinkLocal,    // uplink, to the node: the kernel's
    kPodsRoute,      // from a pod: by destination (pods_route)
    kNodeRoute,      // from the kernel: by destination (node_route)
    kTunnel,         // decapsulated: to the local pod
  };

  // What travels with a packet between vector stages.
  struct PktCtx {
    uint64_t hash;   // lb: the tuple's flow_hash (0: a later fragment)
    uint32_t arg;    // vxlan_encap: index in fib.nodes; to_kernel: the Drop without a TAP; lb: the Continue
    uint16_t trace;  // 0: not traced; else its trace record's index + 1
    From from;
  };
  // to_kernel's argument: the drop reason when there is no TAP.
  static uint32_t kernel_or(Drop otherwise) { return static_cast<uint32_t>(otherwise); }
  struct Vector {
    uint16_t n = 0;
    rte_mbuf* pkts[kMaxBurst];
    PktCtx ctx[kMaxBurst];
  };

  // Queues `m` for stage `s` (its trace, if any, goes along).
  void next(Stage s, rte_mbuf* m, From from, uint32_t arg = 0, uint64_t hash = 0) {
    Vector& v = vectors_[static_cast<size_t>(s)];
    if (v.n == kMaxBurst) [[unlikely]]
      return drop(m, Drop::kStageVectorFull);
    v.pkts[v.n] = m;
    v.ctx[v.n++] = {hash, arg, trace_cur_ ? static_cast<uint16_t>(s_.trace->index(trace_cur_) + 1) : uint16_t{0},
                    from};
    pending_ |= 1u << static_cast<unsigned>(s);
  }
  // Runs the pending vectors, first stage in graph order first, until
  // none is left.
  void dispatch(const Fib& fib);
  // One stage over its vector (packets it queues for itself included).
  void run_vector(Stage s, const Fib& fib);
  void run_one(Stage s, rte_mbuf* m, const PktCtx& c, const Fib& fib);

  // eth_input.cc
  void eth_input(Role in, rte_mbuf* m);
  void uplink_input(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib);
  void pods_input(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib);
  void exception_input(rte_mbuf* m, const Fib& fib);
  // The parts of pods_input and exception_input after the lb stage.
  void pods_route(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib);
  void node_route(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib);
  // vxlan_stage.cc
  void vxlan_decap(rte_mbuf* m, rte_udp_hdr* udp, uint32_t udp_avail, const Fib& fib);
  void vxlan_encap(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const RemoteNode& node, From from,
                   const Fib& fib);
  // ip_output.cc: sends a packet by its destination: the node's kernel,
  // a local pod, a remote pod, or beyond the uplink (on-link, or through
  // the uplink gateway).
  void ip_route(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from);
  void pods_output(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, From from, const Fib& fib);
  void uplink_output(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, From from, const Fib& fib);
  // Hands a frame to the node's kernel through the exception TAP, or drops
  // it for `otherwise` when there is none.
  void to_kernel(rte_mbuf* m, Drop otherwise);
  // TTL and MTU checks before forwarding onto a link of IP MTU `mtu`.
  enum class Fit : uint8_t {
    kForward,   // fits: TTL decremented, go on
    kConsumed,  // an ICMP error sent instead, or dropped
    kFragment,  // too large without DF: fragment, then each fragment again
  };
  Fit forward_check(rte_mbuf* m, rte_ipv4_hdr* ip, uint16_t mtu, From from, const Fib& fib);
  // ip_fragment.cc: replaces `m` by fragments of at most `mtu` bytes
  // (RFC 791 section 3.2); returns how many (0: dropped).
  uint16_t ip_fragment(rte_mbuf* m, const rte_ipv4_hdr* ip, uint16_t mtu, rte_mbuf* (&out)[kMaxFragments]);
  // Runs `output` (uplink_output or vxlan_encap's caller) on each fragment of `m`.
  template <class Output>
  void fragment_then(rte_mbuf* m, const rte_ipv4_hdr* ip, uint16_t mtu, Output output) {
    rte_mbuf* frags[kMaxFragments];
    const uint16_t n = ip_fragment(m, ip, mtu, frags);
    for (uint16_t i = 0; i < n; ++i) {
      auto* eth = rte_pktmbuf_mtod(frags[i], rte_ether_hdr*);
      output(frags[i], eth, reinterpret_cast<rte_ipv4_hdr*>(eth + 1));
    }
  }
  // icmp_error.cc: replaces `m` by the ICMP error `type`/`code` about it
  // (RFC 792, RFC 1812 section 4.3.2), or drops it for `why` when none
  // may or can be sent; rate-limited like Linux's icmp_ratelimit.
  void icmp_error(rte_mbuf* m, uint8_t type, uint8_t code, uint16_t mtu, Drop why, From from, const Fib& fib);
  // masquerade.cc: a new pod flow to outside the cluster, its source
  // rewritten to the node address (flannel's ipMasq, ip-masq-agent).
  void masquerade(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib);

  // lb_stage.cc. lb_input, inline in the input stages: the checks and the
  // classification before conntrack; true when it took the packet
  // (dropped, an ICMP error or later fragment translated, or queued for
  // the lb stage, which sends what it does not translate on to
  // `otherwise`), false when it is not translated traffic and the caller
  // goes on with it. The other lb_ functions return false likewise.
  bool lb_input(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from, Continue otherwise);
  // dns_stage.cc: a UDP query to the cluster DNS (lb_input checked the
  // UDP header is there) answered → pods_output | to_kernel, or → lb.
  void dns_query(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, const PktCtx& c);
  // The lb stage, per packet of its vector, in order (a flow a packet
  // opens is found by the next): conntrack, new flows, NAT. `hash`: the
  // tuple's flow_hash, as lb_input computed it (0: computed here).
  bool lb_flow(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from, uint64_t hash);
  void lb_continue(rte_mbuf* m, Continue where, const Fib& fib);
  bool lb_icmp(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from);
  bool lb_icmp_error(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from);
  bool lb_fragment(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from);
  bool lb_new_flow(rte_mbuf* m, rte_ipv4_hdr* ip, const lb::FlowKey& key, uint8_t tcp_flags,
                   const lb::ServiceTable::Match& match, const Fib& fib, From from);
  // Rewrites a packet of flow `f` → ip_route.
  void lb_translate(rte_mbuf* m, rte_ipv4_hdr* ip, const lb::CtMatch& f, From from);
  void lb_reject(rte_mbuf* m, From from, uint32_t service_id);
  // Whether a packet that is not to a Service front end may belong to a
  // translated flow: a reply to an SNAT or masquerade address, a reply
  // from a Service endpoint, or pod traffic leaving the cluster.
  bool may_be_translated(const lb::FlowKey& key, const Fib& fib, From from) const;
  // The conntrack lookup, starting with the shard that owns an SNAT or
  // masquerade port when the destination is one of ours (ct_owner).
  // `h`: flow_hash(key) when known (0: computed).
  std::optional<lb::CtMatch> ct_lookup(const lb::FlowKey& key, const Fib& fib, uint64_t h = 0) const;
  std::optional<uint32_t> ct_owner(const lb::FlowKey& key, const Fib& fib) const;
  // A free source port of this worker's part of `range` for `key` NATed to
  // nat.snat: free means no flow already answers on (backend, snat, port).
  bool snat_port(const lb::FlowKey& key, lb::Nat& nat, lb::PortAllocator& ports);
  // Follows flush requests, a slice of the shard per call.
  void flush_step();
  // Puts back a slice of the saved flows handed over, if any.
  void restore_step();
  // Sends `m` out of `role` once the MAC of `nexthop` is known; otherwise
  // hands it to the control thread, which resolves and sends it.
  void neigh_output(Role role, rte_mbuf* m, rte_ether_hdr* eth, be32 nexthop);
  // The MAC of a resolved neighbour, its use marked (one plain store the
  // first time after each take_neigh_used, none after).
  bool neigh_lookup(Role role, be32 ip, rte_ether_addr& mac) {
    uint32_t slot;
    if (!s_.neigh->lookup(role, ip, mac, &slot)) return false;
    if (neigh_used_[slot].load(std::memory_order_relaxed) == 0) neigh_used_[slot].store(1, std::memory_order_relaxed);
    return true;
  }
  void punt(rte_mbuf* m, Punt why, Role role, be32 nexthop);
  // A packet enters a stage: counted, and recorded when traced.
  void stage(Stage s) {
    ++counters_.stage_packets[static_cast<size_t>(s)];
    if (trace_cur_ != nullptr) [[unlikely]]
      trace_cur_->add(s);
  }
  void verdict(TraceRecord::Verdict v, uint16_t detail) {
    if (trace_cur_ != nullptr) [[unlikely]] {
      trace_cur_->verdict = v;
      trace_cur_->detail = detail;
    }
  }
  void trace_begin(Role in, const rte_mbuf* m);
  void prefetch_flow(const rte_mbuf* m, const Fib& fib) const;
  void drop(rte_mbuf* m, Drop why) {
    counters_.drop(why);
    verdict(TraceRecord::Verdict::kDrop, static_cast<uint16_t>(why));
    rte_pktmbuf_free(m);
  }
  void tx(Role role, rte_mbuf* m);
  void flush(Role role);

  struct TxBuffer {
    uint16_t count = 0;
    rte_mbuf* pkts[kMaxBurst];
  };

  WorkerSetup s_;
  std::array<TxBuffer, kRoleCount> txb_{};
  uint32_t pending_ = 0;  // bit s: vectors_[s] has packets
  std::array<Vector, kStageCount> vectors_{};
  Counters counters_;
  uint64_t tsc_hz_;
  uint64_t now_tsc_ = 0;  // TSC at the start of this poll round
  uint32_t now_s_ = 0;  // coarse clock for conntrack, updated once per poll
  uint64_t expire_due_tsc_ = 0, expire_interval_tsc_ = 0;
  lb::PortAllocator snat_ports_;  // this worker's share of the pod gateway's SNAT ports
  lb::PortAllocator masq_ports_;  // this worker's share of the node address's masquerade ports
  // ICMP error token bucket (Linux: icmp_msgs_per_sec 1000, burst 50).
  uint64_t icmp_tat_tsc_ = 0, icmp_token_cost_tsc_ = 0;
  FragCache frags_;
  TraceRecord* trace_cur_ = nullptr;  // the packet being traced, if any
  uint64_t flush_cursor_ = 0;
  uint64_t flush_removed_ = 0;  // by the request in progress
  ServiceCounterTable svc_counters_;
  std::unique_ptr<std::atomic<uint8_t>[]> neigh_used_;  // by neighbour slot: sent to since take_neigh_used
};

}  // namespace svcdp::dp
