// The assembled dataplane: packet pool, the uplink and pods ports, one
// Worker per worker lcore, the rings between workers and the neighbour
// thread, the neighbour table and the forwarding-table publisher.
//
// Three kinds of thread touch it: the workers (their lcores), the
// neighbour thread (ARP, packets held for a next hop; started by launch())
// and the control thread (table builds, publish, reclaim). A table build
// never delays an ARP answer: the neighbour thread shares only the
// addresses it answers for with the control thread, under a lock neither
// holds for longer than a copy.
//
// The daemon drives it from main(); pipeline tests build the same object
// over net_ring ports and call Worker::poll(), neigh_poll() and
// control_poll() by hand.
#pragma once

#include "dataplane/counters.h"
#include "dataplane/fib_publisher.h"
#include "dataplane/neigh_control.h"
#include "dataplane/neigh_table.h"
#include "dataplane/socket_memory.h"
#include "dataplane/worker.h"

#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace svcdp::dp {

struct DataplaneConfig {
  std::string uplink_device;
  std::string pods_device;
  unsigned workers = 1;
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint16_t burst = 32;
  uint16_t mtu = 1500;
  uint32_t mbufs = 0;  // 0: derived from the above
  uint32_t neigh_capacity = 4096;
  NeighTimers neigh_timers;
  // DPDK device of the exception path to the node's kernel (a TapDevice,
  // a virtio-user port, or a ring in tests); empty: none.
  std::string exception_device;
  uint64_t conntrack_capacity = 1 << 20;  // flows, all workers together (64 bytes each)
  uint64_t conntrack6_capacity = 1 << 16;  // IPv6 flows: a table of their own (128 bytes each)
  lb::CtTimeouts conntrack_timeouts;
  // Node-address source ports for masqueraded pod egress (split between workers).
  uint16_t masquerade_lo = 61000, masquerade_hi = 65535;
  // Answer ARP for external and LoadBalancer IPs (else the kernel's speaker does).
  bool announce_lb_ips = false;
  // NUMA socket of each worker's lcore: its context and conntrack shard
  // live there. Missing entries: SOCKET_ID_ANY.
  std::vector<int> worker_sockets;
};

class Dataplane {
 public:
  // Creates the pool, configures and starts the ports, creates workers.
  // Throws DataplaneError. Thread: main, after EAL init.
  explicit Dataplane(const DataplaneConfig& config);
  // Stops workers (if launched) and ports, frees everything. Thread: main.
  ~Dataplane();
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  // Publishes a new forwarding-table generation (waits for an RCU grace
  // period when one was current), first giving every service port of it
  // per-worker counters. False when DPDK memory for those ran out (the
  // tables are published anyway; the ports beyond go uncounted).
  // Thread: control.
  bool publish(std::unique_ptr<Fib> fib);

  // Starts worker i on lcores[i], and the neighbour thread. Thread: main.
  void launch(const std::vector<unsigned>& lcores);
  // Starts the neighbour thread alone (launch() does). Thread: main.
  void start_neighbour_thread();
  // Asks workers and the neighbour thread to stop and waits for them; the
  // packets still queued to or from the neighbour thread or held for ARP
  // are freed, counted as `shutdown`. Thread: main.
  void stop();

  // A permanent neighbour entry. False when the table is full.
  // Thread: control.
  bool add_static_neighbour(Role role, be32 ip, const rte_ether_addr& mac) {
    std::lock_guard lock(neigh_mu_);
    return neigh_control_->add_static(role, ip, mac);
  }
  // The same for IPv6 on the pods port. Thread: control.
  bool add_static_neighbour6(const lb::Addr6& ip, const rte_ether_addr& mac) {
    std::lock_guard lock(neigh_mu_);
    return neigh_control6_->add_static(Role::PODS, ip, mac);
  }

  // One round of neighbour work: punted packets (ARP, packets waiting for
  // a MAC), neighbour timers; `now_ns` on the steady clock. Thread: the
  // neighbour thread, or the test thread when launch() was not called.
  void neigh_poll(uint64_t now_ns);
  // Frees the table generations no worker can still see. Thread: control.
  void control_poll() { fib_.reclaim(); }

  Worker& worker(unsigned i) { return *workers_[i]; }
  const Worker& worker(unsigned i) const { return *workers_[i]; }
  unsigned worker_count() const { return static_cast<unsigned>(workers_.size()); }
  // kNoPort for a role without a port.
  uint16_t port_id(Role r) const { return port_ids_[idx(r)]; }
  const rte_ether_addr& mac(Role r) const { return macs_[idx(r)]; }
  // The control thread's packet pool. Thread: control.
  rte_mempool* pool() const { return pool_; }
  // The pool worker w's RX queues fill from (its lcore's socket). Thread: any.
  rte_mempool* worker_pool(unsigned w) const;
  // Every packet pool (one per socket in use). Thread: any.
  std::vector<const rte_mempool*> pools() const {
    std::vector<const rte_mempool*> out;
    for (const auto& [socket, pool] : pools_) out.push_back(pool);
    return out;
  }
  const NeighTable& neighbours() const { return neigh_; }
  uint64_t generation() const { return fib_.generation(); }

  // Workers' and control's counters summed. Thread: any.
  Counters totals() const;
  // Per service id, summed over workers. Thread: any.
  std::vector<ServiceCounters> service_totals() const;
  const lb::Conntrack& conntrack() const { return *conntrack_; }
  // Memory for the service tables every worker reads: DPDK memory
  // (hugepages) on the first worker's socket; it lives as long as the
  // Dataplane, so generations built in it must be released before.
  // Thread: control.
  std::pmr::memory_resource* table_memory() { return socket_memory(worker_socket(0)); }
  // The kernel interface a port has (a TAP's, an af_packet's), or "" when
  // it is the kernel's no longer (a NIC bound to vfio). Thread: control.
  std::string kernel_iface(Role role) const;

  // Has every worker drop the flows the requests name, and waits until
  // they all have (workers must be running): the number of flows removed
  // (a flow counts once; affinity entries too), or nullopt when that took
  // longer than `timeout_ms`. Thread: any non-worker thread.
  std::optional<uint64_t> flush(const std::vector<FlushRequest>& requests, unsigned timeout_ms);

  // Hands each worker the saved flows of its shard (per_worker[w]) to put
  // back; once per process. Thread: control.
  void restore_flows(std::vector<std::vector<RestoreQueue::Entry>> per_worker);
  // Flows put back so far, and whether every worker is done. Thread: any.
  uint64_t flows_restored() const;
  bool restore_done() const;

  // Traces the next `n` packets each worker receives (at most
  // TraceBuffer::kMax) and returns what was recorded within `timeout_ms`,
  // oldest first, with the worker that handled each. Thread: any
  // non-worker thread.
  struct Traced {
    unsigned worker;
    TraceRecord record;
  };
  std::vector<Traced> trace(uint32_t n, unsigned timeout_ms);

 private:
  std::vector<std::pmr::memory_resource*> shard_memory(const DataplaneConfig& c);
  SocketMemory* socket_memory(int socket);
  int worker_socket(unsigned w) const;
  // The socket a pool for `socket` lives on (the main lcore's for "any").
  static int pool_socket(int socket);
  // The packet pool of `socket`, created on first use. Thread: main.
  rte_mempool* pool_on(int socket);
  void send_from_control(rte_mbuf* m, Role out);
  // Uplink ARP also goes to the kernel, which keeps its own neighbours.
  void copy_to_kernel(const rte_mbuf* m);
  bool has(Role r) const { return port_ids_[idx(r)] != kNoPort; }

  DataplaneConfig config_;
  // One per distinct worker socket; declared first so that it outlives
  // every table allocated in it (the published generations included).
  std::vector<std::unique_ptr<SocketMemory>> memory_;
  std::vector<std::pair<int, rte_mempool*>> pools_;  // one per socket with workers (and the main lcore's)
  rte_mempool* pool_ = nullptr;                      // the control thread's: the main lcore's socket
  std::array<uint16_t, kRoleCount> port_ids_{kNoPort, kNoPort, kNoPort};
  std::array<rte_ether_addr, kRoleCount> macs_{};
  std::vector<rte_ring*> to_control_;
  std::vector<rte_ring*> from_control_;
  NeighTable neigh_;
  NeighTable6 neigh6_;
  FibPublisher fib_;
  std::unique_ptr<lb::Conntrack> conntrack_;
  std::unique_ptr<lb::Conntrack6> conntrack6_;
  std::vector<std::unique_ptr<FlushQueue>> flush_queues_;  // one per worker
  std::vector<std::unique_ptr<RestoreQueue>> restore_queues_;  // one per worker
  std::mutex flush_mu_;
  std::vector<std::unique_ptr<TraceBuffer>> traces_;  // one per worker
  std::mutex trace_mu_;
  // Worker contexts in DPDK memory on their socket (placement new).
  struct WorkerDelete {
    void operator()(Worker* w) const;
  };
  std::vector<std::unique_ptr<Worker, WorkerDelete>> workers_;
  // Written by the neighbour thread only (drops of ARP and held packets).
  Counters control_counters_;
  // Held by the neighbour thread over a round and by the control thread
  // while it hands over addresses: never over a table build or an RCU wait.
  std::mutex neigh_mu_;
  std::unique_ptr<NeighControl> neigh_control_;
  std::unique_ptr<NeighControl6> neigh_control6_;  // NDP on the pods port
  std::atomic<bool> stop_{false};
  std::vector<unsigned> lcores_;
  std::thread neigh_thread_;
};

}  // namespace svcdp::dp
