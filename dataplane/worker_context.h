// A worker's context: everything its stages read and write, in one
// cache-aligned object on the worker's socket that nothing else writes
// (l3fwd's lcore_conf). The poll loop (worker.h) owns it and hands it to
// the stages (stages.h), which are free functions over it; the small
// helpers here -- queue a packet for a stage, transmit, drop, trace -- are
// what every stage shares. Thread: the worker's lcore, except where a
// comment says otherwise.
#pragma once

#include "dataplane/counters.h"
#include "dataplane/fib_publisher.h"
#include "dataplane/frag_cache.h"
#include "dataplane/neigh_table.h"
#include "dataplane/pkt_meta.h"
#include "dataplane/stage.h"
#include "dataplane/trace.h"
#include "lb/conntrack.h"
#include "lb/nat_decision.h"

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <memory>
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
  const NeighTable6* neigh6 = nullptr;
  FibPublisher* fib = nullptr;
  lb::Conntrack* conntrack = nullptr;  // shard `id` is this worker's
  lb::Conntrack6* conntrack6 = nullptr;  // the same for IPv6 flows
  unsigned workers = 1;                // SNAT and masquerade ports are split between workers
  uint16_t masquerade_lo = 61000, masquerade_hi = 65535;  // node-address ports for pod egress
  FlushQueue* flush = nullptr;  // this worker's
  RestoreQueue* restore = nullptr;  // this worker's
  TraceBuffer* trace = nullptr;  // this worker's
  int socket = SOCKET_ID_ANY;    // NUMA socket of the worker's lcore
  bool has(Role r) const { return port_ids[idx(r)] != kNoPort; }
};

// Where a packet entered, as the load-balancing and ICMP stages need it.
enum class From : uint8_t { kPods, kUplink, kTunnel, kNode };
// The port a packet that came `from` somewhere is answered on (a REJECT,
// an ICMP error); decapsulated packets are answered back into the tunnel
// by their callers instead.
inline Role reply_role(From from) {
  return from == From::kUplink ? Role::UPLINK : from == From::kNode ? Role::EXCEPTION : Role::PODS;
}
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
inline uint32_t kernel_or(Drop otherwise) { return static_cast<uint32_t>(otherwise); }

// The packets queued for one stage.
struct Vector {
  uint16_t n = 0;
  rte_mbuf* pkts[kMaxBurst];
  PktCtx ctx[kMaxBurst];
};

struct TxBuffer {
  uint16_t count = 0;
  rte_mbuf* pkts[kMaxBurst];
};

struct alignas(RTE_CACHE_LINE_SIZE) WorkerContext {
  explicit WorkerContext(const WorkerSetup& s);

  // Queues `m` for stage `s` (its trace, if any, goes along).
  void next(Stage s, rte_mbuf* m, From from, uint32_t arg = 0, uint64_t hash = 0) {
    Vector& v = vectors[static_cast<size_t>(s)];
    if (v.n == kMaxBurst) [[unlikely]]
      return drop(m, Drop::kStageVectorFull);
    v.pkts[v.n] = m;
    v.ctx[v.n++] = {hash, arg, trace_cur ? static_cast<uint16_t>(setup.trace->index(trace_cur) + 1) : uint16_t{0},
                    from};
    pending |= 1u << static_cast<unsigned>(s);
  }
  // A packet enters a stage: counted, and recorded when traced.
  void stage(Stage s) {
    ++counters.stage_packets[static_cast<size_t>(s)];
    if (trace_cur != nullptr) [[unlikely]]
      trace_cur->add(s);
  }
  void verdict(TraceRecord::Verdict v, uint16_t detail) {
    if (trace_cur != nullptr) [[unlikely]] {
      trace_cur->verdict = v;
      trace_cur->detail = detail;
    }
  }
  void drop(rte_mbuf* m, Drop why) {
    counters.drop(why);
    verdict(TraceRecord::Verdict::kDrop, static_cast<uint16_t>(why));
    rte_pktmbuf_free(m);
  }
  // Buffers `m` for `role`'s TX queue (sent when full or at the end of the round).
  void tx(Role role, rte_mbuf* m);
  void flush(Role role);
  // The MAC of a resolved neighbour, its use marked (one plain store the
  // first time after each Worker::take_neigh_used, none after).
  bool neigh_lookup(Role role, be32 ip, rte_ether_addr& mac) { return marked_lookup(*setup.neigh, neigh_used, role, ip, mac); }
  bool neigh_lookup(Role role, const lb::Addr6& ip, rte_ether_addr& mac) {
    return marked_lookup(*setup.neigh6, neigh6_used, role, ip, mac);
  }
  // Sends `m` out of `role` once the MAC of `nexthop` is known; otherwise
  // hands it to the control thread, which resolves and sends it.
  void neigh_output(Role role, rte_mbuf* m, rte_ether_hdr* eth, be32 nexthop);
  void neigh_output(Role role, rte_mbuf* m, rte_ether_hdr* eth, const lb::Addr6& nexthop);
  void punt(rte_mbuf* m, Punt why, Role role, be32 nexthop);
  void punt(rte_mbuf* m, Punt why, Role role, const lb::Addr6& nexthop);

  WorkerSetup setup;
  std::array<TxBuffer, kRoleCount> txb{};
  uint32_t pending = 0;  // bit s: vectors[s] has packets
  std::array<Vector, kStageCount> vectors{};
  Counters counters;
  uint64_t tsc_hz;
  uint64_t now_tsc = 0;  // TSC at the start of this poll round
  uint32_t now_s = 0;    // coarse clock for conntrack, updated once per poll
  uint64_t expire_due_tsc = 0, expire_interval_tsc = 0;
  lb::PortAllocator snat_ports;  // this worker's share of the pod gateway's SNAT ports
  lb::PortAllocator masq_ports;  // this worker's share of the node address's masquerade ports
  // ICMP error token bucket (Linux: icmp_msgs_per_sec 1000, burst 50).
  uint64_t icmp_tat_tsc = 0, icmp_token_cost_tsc = 0;
  FragCache frags;
  FragCache6 frags6;
  TraceRecord* trace_cur = nullptr;  // the packet being traced, if any
  uint64_t flush_cursor = 0;
  uint64_t flush_removed = 0;  // by the request in progress
  ServiceCounterTable svc_counters;
  // By neighbour slot: sent to since Worker::take_neigh_used (which the
  // control thread calls: the one field it writes).
  std::unique_ptr<std::atomic<uint8_t>[]> neigh_used;
  std::unique_ptr<std::atomic<uint8_t>[]> neigh6_used;  // the same for the IPv6 table

 private:
  template <class Table>
  static bool marked_lookup(const Table& table, std::unique_ptr<std::atomic<uint8_t>[]>& used, Role role,
                            const typename Table::Addr& ip, rte_ether_addr& mac) {
    uint32_t slot;
    if (!table.lookup(role, ip, mac, &slot)) return false;
    if (used[slot].load(std::memory_order_relaxed) == 0) used[slot].store(1, std::memory_order_relaxed);
    return true;
  }
  PktMeta* punt_meta(rte_mbuf* m, Punt why, Role role);
  void enqueue_punt(rte_mbuf* m);
};

}  // namespace svcdp::dp
