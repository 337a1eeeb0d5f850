// Per-context counters: plain fields, written by exactly one thread (a
// worker, or the control thread for what it handles), cache-line aligned so
// contexts never share a line. Readers sum them (torn reads of a 64-bit
// aligned field do not happen on x86-64; values may lag by a burst).
#pragma once

#include "dataplane/drop_reason.h"
#include "dataplane/stage.h"
#include "dataplane/types.h"
#include "dns/stats.h"

#include <rte_malloc.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace svcdp::dp {

struct alignas(64) Counters {
  std::array<uint64_t, kRoleCount> rx_packets{};
  std::array<uint64_t, kRoleCount> tx_packets{};
  std::array<uint64_t, kDropCount> drops{};
  std::array<uint64_t, kStageCount> stage_packets{};  // packets that entered each stage
  std::array<uint64_t, kStageCount> stage_cycles{};   // TSC cycles in each stage's vectors (inline stages: in their caller's)
  std::array<uint64_t, kRoleCount> rx_cycles{};       // TSC cycles spent on the bursts of each input port
  uint64_t vxlan_encap = 0;
  uint64_t vxlan_decap = 0;
  uint64_t forwarded_local = 0;
  uint64_t punted = 0;
  uint64_t neigh_evicted = 0;      // passive neighbours released to make room (control thread)
  uint64_t to_kernel = 0;
  uint64_t from_kernel = 0;        // IPv4 packets the node's kernel sent through the TAP
  uint64_t forwarded_uplink = 0;   // routed out of the uplink (not VXLAN)
  uint64_t icmp_errors_sent = 0;   // Time Exceeded / Fragmentation Needed / ICMPv6 Destination Unreachable originated
  uint64_t icmp_rate_limited = 0;  // errors not sent: over the rate limit
  uint64_t masq_new_flows = 0;     // pod flows leaving the cluster, masqueraded
  uint64_t ip_fragments = 0;       // fragments made of datagrams too large for their link
  // Load balancing.
  uint64_t lb_new_flows = 0;       // flows created (a SYN or a first UDP datagram)
  uint64_t lb_picked_up = 0;       // TCP flows taken up mid-stream (no entry: a restart, an expiry)
  uint64_t lb_forward = 0;         // packets translated client → endpoint
  uint64_t lb_reply = 0;           // packets translated endpoint → client
  uint64_t lb_rejected = 0;        // RST / port unreachable sent for a service without endpoints
  uint64_t lb_reset = 0;           // TCP flows ended because their endpoint left
  uint64_t lb_rebalanced = 0;      // UDP flows moved to a live endpoint
  uint64_t lb_grace_replies = 0;   // replies delivered after their endpoint left (two-phase removal)
  uint64_t lb_icmp_translated = 0; // ICMP errors about a translated flow (RFC 5508)
  uint64_t lb_fragments = 0;       // non-first fragments following their first
  uint64_t frag_evicted = 0;       // fragment trains that gave way to newer ones (cache full)
  // Cluster DNS: queries answered by the worker, by type and rcode, and
  // passed on to the DNS Service's endpoints, by type.
  std::array<uint64_t, dns::kTypeBuckets * dns::kRcodeBuckets> dns_answered{};
  std::array<uint64_t, dns::kTypeBuckets> dns_passed{};
  uint64_t dns_denied = 0;  // answered with the policy's deny rcode (also in dns_answered)
  uint64_t busy_cycles = 0;
  uint64_t idle_cycles = 0;

  void drop(Drop d, uint64_t n = 1) { drops[static_cast<size_t>(d)] += n; }

  // Thread: any (reads another context's plain fields).
  Counters& operator+=(const Counters& o) {
    for (size_t i = 0; i < kRoleCount; ++i) {
      rx_packets[i] += o.rx_packets[i];
      tx_packets[i] += o.tx_packets[i];
    }
    for (size_t i = 0; i < kDropCount; ++i) drops[i] += o.drops[i];
    for (size_t i = 0; i < kStageCount; ++i) stage_packets[i] += o.stage_packets[i];
    for (size_t i = 0; i < kStageCount; ++i) stage_cycles[i] += o.stage_cycles[i];
    for (size_t i = 0; i < kRoleCount; ++i) rx_cycles[i] += o.rx_cycles[i];
    for (size_t i = 0; i < dns_answered.size(); ++i) dns_answered[i] += o.dns_answered[i];
    for (size_t i = 0; i < dns_passed.size(); ++i) dns_passed[i] += o.dns_passed[i];
    dns_denied += o.dns_denied;
    vxlan_encap += o.vxlan_encap;
    vxlan_decap += o.vxlan_decap;
    forwarded_local += o.forwarded_local;
    punted += o.punted;
    neigh_evicted += o.neigh_evicted;
    to_kernel += o.to_kernel;
    from_kernel += o.from_kernel;
    forwarded_uplink += o.forwarded_uplink;
    icmp_errors_sent += o.icmp_errors_sent;
    icmp_rate_limited += o.icmp_rate_limited;
    masq_new_flows += o.masq_new_flows;
    ip_fragments += o.ip_fragments;
    lb_new_flows += o.lb_new_flows;
    lb_picked_up += o.lb_picked_up;
    lb_forward += o.lb_forward;
    lb_reply += o.lb_reply;
    lb_rejected += o.lb_rejected;
    lb_reset += o.lb_reset;
    lb_rebalanced += o.lb_rebalanced;
    lb_grace_replies += o.lb_grace_replies;
    lb_icmp_translated += o.lb_icmp_translated;
    lb_fragments += o.lb_fragments;
    frag_evicted += o.frag_evicted;
    busy_cycles += o.busy_cycles;
    idle_cycles += o.idle_cycles;
    return *this;
  }
};

// Per service port (indexed by the service's stable id), per worker.
struct ServiceCounters {
  uint64_t new_flows = 0;
  uint64_t rejected = 0;
  uint64_t packets = 0;  // both directions
  uint64_t bytes = 0;
  ServiceCounters& operator+=(const ServiceCounters& o) {
    new_flows += o.new_flows;
    rejected += o.rejected;
    packets += o.packets;
    bytes += o.bytes;
    return *this;
  }
};

// One worker's ServiceCounters by service id. It grows in chunks as the
// cluster's service ports do (the control thread adds chunks before it
// publishes a generation using their ids), so the number of service
// ports has no configured cap; a chunk stays until the worker goes.
class ServiceCounterTable {
 public:
  static constexpr uint32_t kChunk = 4096;
  static constexpr uint32_t kMaxChunks = 256;
  static constexpr uint32_t kMaxIds = kChunk * kMaxChunks;  // 1,048,576 service ports

  // Chunks come from DPDK memory on `socket`. Thread: control.
  explicit ServiceCounterTable(int socket) : socket_(socket) {}
  ~ServiceCounterTable() {
    for (auto& c : chunks_) rte_free(c.load(std::memory_order_relaxed));
  }
  ServiceCounterTable(const ServiceCounterTable&) = delete;
  ServiceCounterTable& operator=(const ServiceCounterTable&) = delete;

  // Ids below min(n, kMaxIds) get counters. False when DPDK memory ran
  // out (those ids then go uncounted). Thread: control.
  bool reserve(uint32_t n) {
    const uint32_t want = (std::min(n, kMaxIds) + kChunk - 1) / kChunk;
    for (uint32_t c = chunks_in_use_.load(std::memory_order_relaxed); c < want; ++c) {
      void* mem = rte_zmalloc_socket("svcdp_svc_counters", kChunk * sizeof(ServiceCounters), RTE_CACHE_LINE_SIZE,
                                     socket_);
      if (mem == nullptr) return false;
      chunks_[c].store(static_cast<ServiceCounters*>(mem), std::memory_order_release);
      chunks_in_use_.store(c + 1, std::memory_order_release);
    }
    return true;
  }
  // The counters of `id`, or null for an id without any. Thread: the
  // worker (the only writer).
  ServiceCounters* find(uint32_t id) {
    if (id >= kMaxIds) return nullptr;
    ServiceCounters* chunk = chunks_[id / kChunk].load(std::memory_order_acquire);
    return chunk != nullptr ? chunk + id % kChunk : nullptr;
  }
  // Adds this worker's counters into `sum` (grown to size()). Thread: any.
  void add_to(std::vector<ServiceCounters>& sum) const {
    const uint32_t chunks = chunks_in_use_.load(std::memory_order_acquire);
    if (sum.size() < chunks * kChunk) sum.resize(chunks * kChunk);
    for (uint32_t c = 0; c < chunks; ++c) {
      const ServiceCounters* chunk = chunks_[c].load(std::memory_order_acquire);
      for (uint32_t i = 0; i < kChunk; ++i) sum[c * kChunk + i] += chunk[i];
    }
  }
  // Ids with counters. Thread: any.
  uint32_t size() const { return chunks_in_use_.load(std::memory_order_acquire) * kChunk; }

 private:
  int socket_;
  std::atomic<uint32_t> chunks_in_use_{0};
  std::array<std::atomic<ServiceCounters*>, kMaxChunks> chunks_{};
};

}  // namespace svcdp::dp
