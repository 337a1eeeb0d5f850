// A worker: one lcore, one RX and one TX queue on every port, one
// cache-aligned context (TX buffers, counters) that nothing else writes.
//
// The poll loop reads a burst from each port, runs every packet through
// the stages below, and flushes TX buffers; ARP and packets whose next hop
// is unresolved go to the control thread over a single-producer ring.
//
//   uplink:    eth_input → ipv4_input → vxlan_decap → [lb] → pods_output
//                                    ↘ [lb] NodePort / external IPs → ip_route
//                                    ↘ to_kernel (node's own traffic, non-IPv4)
//   pods:      eth_input → ipv4_input → [lb] → ip_route
//                                    ↘ route → vxlan_encap → uplink
//                                            ↘ pods_output (pod on this node)
//   exception: → uplink (what the node's kernel sends)
//
// [lb] is the load-balancing stage (lb_stage.cc): conntrack lookup, new
// flows to a Service's endpoint, NAT both ways, ICMP errors and fragments
// of translated flows, REJECT for services without endpoints; ip_route
// then sends the translated packet by its new destination (a local pod,
// VXLAN to a remote node, or out of the uplink).
#pragma once

#include "dataplane/counters.h"
#include "dataplane/fib_publisher.h"
#include "dataplane/frag_cache.h"
#include "dataplane/neigh_table.h"
#include "dataplane/pkt_meta.h"
#include "lb/conntrack.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <array>
#include <atomic>
#include <vector>

namespace svcdp::dp {

inline constexpr uint16_t kMaxBurst = 64;
// Conntrack slots a worker examines per expiry step, and how long a full
// sweep of its shard takes (entries expire to the second: a few seconds
// late is fine, lookups ignore expired entries anyway).
inline constexpr size_t kExpireBudget = 64;
inline constexpr uint64_t kExpireSweepS = 5;
// Conntrack slots a worker examines per poll round while flushing.
inline constexpr size_t kFlushBudget = 4096;

// An operator's request to drop flows (svcdpctl flush): written by the
// admin thread, read by every worker, which removes the matching flows of
// its own conntrack shard a slice per poll loop.
struct FlushRequest {
  enum class Kind : uint8_t { kAll, kService, kFlow };
  Kind kind = Kind::kAll;
  uint32_t service_id = 0;
  lb::FlowKey flow{};  // kFlow: the forward tuple
};

struct FlushChannel {
  std::atomic<uint64_t> seq{0};  // bumped (release) after `request` is written
  FlushRequest request;
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
  unsigned workers = 1;                // SNAT ports are split between workers
  uint32_t max_services = 4096;        // size of the per-service counter array
  const FlushChannel* flush = nullptr;
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
  const std::vector<ServiceCounters>& service_counters() const { return svc_counters_; }

 private:
  void input(Role in, rte_mbuf* m, const Fib& fib);
  void uplink_ipv4(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib);
  void pods_ipv4(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const Fib& fib);
  void vxlan_decap(rte_mbuf* m, rte_udp_hdr* udp, uint32_t udp_avail, const Fib& fib);
  void vxlan_encap(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const RemoteNode& node);
  void pods_output(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip);
  // Sends a packet by its destination: local pod, remote pod, or beyond
  // the uplink (on-link, or through the uplink gateway).
  void ip_route(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const Fib& fib);
  void uplink_output(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const Fib& fib);

  // The load-balancing stage (lb_stage.cc). Each returns false when the
  // packet is not load-balanced traffic and the caller goes on with it.
  enum class From : uint8_t { kPods, kUplink, kTunnel };
  bool lb_input(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const Fib& fib, From from);
  bool lb_icmp_error(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const Fib& fib);
  bool lb_fragment(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const Fib& fib);
  bool lb_new_flow(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const lb::FlowKey& key, uint8_t tcp_flags,
                   const Fib& fib, From from);
  void lb_translate(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const lb::CtMatch& f, const Fib& fib);
  void lb_reject(rte_mbuf* m, From from, uint32_t service_id);
  bool snat_port(const lb::FlowKey& key, lb::Nat& nat);
  // Follows flush requests, a slice of the shard per call.
  void flush_step();
  // Sends `m` out of `role` once the MAC of `nexthop` is known; otherwise
  // hands it to the control thread, which resolves and sends it.
  void neigh_output(Role role, rte_mbuf* m, rte_ether_hdr* eth, be32 nexthop);
  void punt(rte_mbuf* m, Punt why, Role role, be32 nexthop);
  // Hands an uplink frame svcdp does not own to the node's kernel, or
  // drops it for `otherwise` when there is no exception port.
  void to_kernel(rte_mbuf* m, Drop otherwise);
  void drop(rte_mbuf* m, Drop why) {
    counters_.drop(why);
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
  Counters counters_;
  uint64_t tsc_hz_;
  uint32_t now_s_ = 0;  // coarse clock for conntrack, updated once per poll
  uint64_t expire_due_tsc_ = 0, expire_interval_tsc_ = 0;
  uint16_t snat_lo_, snat_span_, snat_next_ = 0;  // this worker's SNAT port range
  FragCache frags_;
  uint64_t flush_seen_ = 0;
  uint64_t flush_cursor_ = 0;
  bool flushing_ = false;
  FlushRequest flush_req_;
  std::vector<ServiceCounters> svc_counters_;
};

}  // namespace svcdp::dp
