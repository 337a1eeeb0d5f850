#include "dataplane/dataplane.h"

#include "dataplane/error.h"
#include "dataplane/port.h"

#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <net/if.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace svcdp::dp {
namespace {

constexpr unsigned kRingSize = 4096;

uint64_t steady_ns() {  // the clock main()'s control loop uses too
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

int worker_main(void* arg) {
  auto* pair = static_cast<std::pair<Worker*, const std::atomic<bool>*>*>(arg);
  pair->first->run(*pair->second);
  delete pair;
  return 0;
}

rte_ring* make_ring(const std::string& name, unsigned flags) {
  rte_ring* r = rte_ring_create(name.c_str(), kRingSize, static_cast<int>(rte_socket_id()), flags);
  if (r == nullptr) throw DataplaneError("cannot create ring " + name + ": " + rte_strerror(rte_errno));
  return r;
}

}  // namespace

void Dataplane::WorkerDelete::operator()(Worker* w) const {
  w->~Worker();
  rte_free(w);
}

// Each worker's conntrack shard and context are allocated on its lcore's
// socket, in hugepages when the EAL has them (l3fwd's per-lcore,
// per-socket tables).
std::vector<std::pmr::memory_resource*> Dataplane::shard_memory(const DataplaneConfig& c) {
  std::vector<std::pmr::memory_resource*> per_worker;
  for (unsigned w = 0; w < c.workers; ++w) per_worker.push_back(socket_memory(worker_socket(w)));
  return per_worker;
}

std::string Dataplane::kernel_iface(Role role) const {
  rte_eth_dev_info info{};
  char name[IF_NAMESIZE] = {};
  if (!has(role) || rte_eth_dev_info_get(port_ids_[idx(role)], &info) != 0 || info.if_index == 0 ||
      if_indextoname(info.if_index, name) == nullptr)
    return {};
  return name;
}

void Dataplane::restore_flows(std::vector<std::vector<RestoreQueue::Entry>> per_worker) {
  for (size_t w = 0; w < restore_queues_.size(); ++w) {
    RestoreQueue& q = *restore_queues_[w];
    if (q.ready.load()) continue;
    if (w < per_worker.size()) q.flows = std::move(per_worker[w]);
    q.ready.store(true, std::memory_order_release);
  }
}

uint64_t Dataplane::flows_restored() const {
  uint64_t n = 0;
  for (const auto& q : restore_queues_) n += q->restored.load(std::memory_order_relaxed);
  return n;
}

bool Dataplane::restore_done() const {
  return std::all_of(restore_queues_.begin(), restore_queues_.end(),
                     [](const auto& q) { return q->done.load(std::memory_order_acquire); });
}

rte_mempool* Dataplane::worker_pool(unsigned w) const {
  const int socket = pool_socket(worker_socket(w));
  for (const auto& [s, pool] : pools_)
    if (s == socket) return pool;
  return nullptr;
}

int Dataplane::pool_socket(int socket) { return socket == SOCKET_ID_ANY ? static_cast<int>(rte_socket_id()) : socket; }

rte_mempool* Dataplane::pool_on(int socket) {
  for (const auto& [s, pool] : pools_)
    if (s == socket) return pool;
  const DataplaneConfig& c = config_;
  // Enough for every queue the socket's workers fill and their rings to
  // and from the control thread (--mbufs: per pool).
  // (Every worker counts: one without a listed socket is SOCKET_ID_ANY.)
  unsigned workers = 0;
  for (unsigned w = 0; w < c.workers; ++w) workers += pool_socket(worker_socket(w)) == socket;
  workers = std::max(workers, 1u);
  const uint32_t per_queue = c.rx_desc + c.tx_desc + 2u * kMaxBurst;
  const uint32_t mbufs =
      c.mbufs ? c.mbufs : std::max<uint32_t>(8191, kRoleCount * workers * per_queue + 2 * kRingSize * workers + 1024);
  // One frame per mbuf (no scatter): room for an MTU-sized frame plus
  // the VXLAN headers prepended in place.
  const uint32_t frame = sizeof(rte_ether_hdr) + c.mtu + RTE_ETHER_CRC_LEN;
  const auto data_room = static_cast<uint16_t>(std::max<uint32_t>(RTE_MBUF_DEFAULT_BUF_SIZE, RTE_PKTMBUF_HEADROOM + frame));
  const std::string name = "svcdp_pkts_s" + std::to_string(socket);
  rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), mbufs, 256, kPktMetaSize, data_room, socket);
  if (pool == nullptr)
    throw DataplaneError("cannot create a pool of " + std::to_string(mbufs) + " mbufs on socket " +
                         std::to_string(socket) + ": " + rte_strerror(rte_errno) + " (more memory: EAL -m, or hugepages)");
  pools_.emplace_back(socket, pool);
  return pool;
}

int Dataplane::worker_socket(unsigned w) const {
  return w < config_.worker_sockets.size() ? config_.worker_sockets[w] : SOCKET_ID_ANY;
}

SocketMemory* Dataplane::socket_memory(int socket) {
  auto it = std::find_if(memory_.begin(), memory_.end(), [&](const auto& m) { return m->socket() == socket; });
  if (it == memory_.end()) it = memory_.insert(memory_.end(), std::make_unique<SocketMemory>(socket));
  return it->get();
}

Dataplane::Dataplane(const DataplaneConfig& c)
    : config_(c),
      neigh_(c.neigh_capacity),
      neigh6_(c.neigh_capacity),
      fib_(c.workers),
      conntrack_(std::make_unique<lb::Conntrack>(c.workers, c.conntrack_capacity, c.conntrack_timeouts,
                                                 shard_memory(c))),
      conntrack6_(std::make_unique<lb::Conntrack6>(c.workers, c.conntrack6_capacity, c.conntrack_timeouts,
                                                   shard_memory(c))) {
  // One packet pool per NUMA socket of the workers (l3fwd's
  // pktmbuf_pool[socket]): a worker's RX queues fill from its socket's
  // pool, so the mbufs it touches are local to it. The control thread
  // allocates from the main lcore's socket's.
  std::vector<rte_mempool*> rx_pools;
  for (unsigned w = 0; w < c.workers; ++w) rx_pools.push_back(pool_on(pool_socket(worker_socket(w))));
  pool_ = pool_on(pool_socket(SOCKET_ID_ANY));

  const std::array<std::string, kRoleCount> devices = {c.uplink_device, c.pods_device, c.exception_device};
  for (Role role : {Role::UPLINK, Role::PODS, Role::EXCEPTION}) {
    if (devices[idx(role)].empty()) continue;
    PortSetup ps{devices[idx(role)], role, static_cast<uint16_t>(c.workers), c.rx_desc, c.tx_desc, c.mtu};
    port_ids_[idx(role)] = port_configure(ps, rx_pools);
    macs_[idx(role)] = port_mac(port_ids_[idx(role)]);
  }
  if (port_ids_[0] == port_ids_[1]) throw DataplaneError("uplink and pods are the same port");

  for (unsigned w = 0; w < c.workers; ++w) {
    to_control_.push_back(make_ring("svcdp_to_ctl" + std::to_string(w), RING_F_SP_ENQ | RING_F_SC_DEQ));
    from_control_.push_back(make_ring("svcdp_from_ctl" + std::to_string(w), RING_F_SP_ENQ | RING_F_SC_DEQ));
    fib_.register_worker(w);
    WorkerSetup ws;
    ws.id = w;
    ws.port_ids = port_ids_;
    ws.macs = macs_;
    ws.burst = c.burst;
    ws.mtu = c.mtu;
    ws.to_control = to_control_.back();
    ws.from_control = from_control_.back();
    ws.neigh = &neigh_;
    ws.neigh6 = &neigh6_;
    ws.fib = &fib_;
    ws.conntrack = conntrack_.get();
    ws.conntrack6 = conntrack6_.get();
    ws.workers = c.workers;
    ws.socket = worker_socket(w);
    ws.masquerade_lo = c.masquerade_lo;
    ws.masquerade_hi = c.masquerade_hi;
    flush_queues_.push_back(std::make_unique<FlushQueue>());
    ws.flush = flush_queues_.back().get();
    restore_queues_.push_back(std::make_unique<RestoreQueue>());
    ws.restore = restore_queues_.back().get();
    traces_.push_back(std::make_unique<TraceBuffer>());
    ws.trace = traces_.back().get();
    void* mem = rte_zmalloc_socket("svcdp_worker", sizeof(Worker), RTE_CACHE_LINE_SIZE, worker_socket(w));
    if (mem == nullptr) throw DataplaneError("cannot allocate worker " + std::to_string(w) + "'s context in DPDK memory");
    workers_.emplace_back(new (mem) Worker(ws));
  }
  // On the TAP svcdp answers for the pod gateways (ARP and NDP) with the
  // pods port's MAC (the TAP itself carries the uplink's, which is the
  // kernel's own).
  std::array<rte_ether_addr, kRoleCount> arp_macs = macs_;
  arp_macs[idx(Role::EXCEPTION)] = macs_[idx(Role::PODS)];
  neigh_control_ = std::make_unique<NeighControl>(
      neigh_, pool_, arp_macs, control_counters_, [this](rte_mbuf* m, Role out) { send_from_control(m, out); },
      c.neigh_timers);

  neigh_control6_ = std::make_unique<NeighControl6>(
      neigh6_, pool_, arp_macs, control_counters_, [this](rte_mbuf* m, Role out) { send_from_control(m, out); },
      c.neigh_timers);

  neigh_control_->set_use_source([this](uint32_t slot) {
    bool used = false;
    for (auto& w : workers_) used |= w->take_neigh_used(slot);
    return used;
  });
  neigh_control6_->set_use_source([this](uint32_t slot) {
    bool used = false;
    for (auto& w : workers_) used |= w->take_neigh6_used(slot);
    return used;
  });

  for (size_t r = 0; r < kRoleCount; ++r)
    if (port_ids_[r] != kNoPort) port_start(port_ids_[r], devices[r]);
}

Dataplane::~Dataplane() {
  stop();
  neigh_control_.reset();
  neigh_control6_.reset();
  for (size_t r = 0; r < kRoleCount; ++r)
    if (port_ids_[r] != kNoPort) port_stop(port_ids_[r]);
  for (auto* rings : {&to_control_, &from_control_})
    for (rte_ring* ring : *rings) rte_ring_free(ring);
  for (const auto& [socket, pool] : pools_) rte_mempool_free(pool);
}

bool Dataplane::publish(std::unique_ptr<Fib> fib) {
  // With an exception port the kernel owns the node's address and answers
  // ARP for it; svcdp still uses it as the source of its own requests.
  // External and LoadBalancer IPs are announced by whoever the operator
  // chose: MetalLB's or keepalived's speaker on the node (its kernel sees
  // every ARP request), or svcdp itself with --announce-lb-ips. Answering
  // them on every node with an endpoint makes clients flap between nodes.
  std::vector<be32> uplink_addrs;
  if (config_.announce_lb_ips) uplink_addrs = fib->announced;
  if (!has(Role::EXCEPTION) && fib->node_ip != 0) uplink_addrs.push_back(fib->node_ip);
  std::unique_lock lock(neigh_mu_);
  neigh_control_->set_addresses(Role::UPLINK, fib->node_ip, std::move(uplink_addrs));
  neigh_control_->set_addresses(Role::PODS, fib->pod_gateway, {fib->pod_gateway});
  neigh_control_->set_proxy(Role::PODS, fib->local_pods);
  // The node's kernel reaches pods and Services through the pod gateway
  // on the TAP (its routes say `via <pod gateway> dev <tap> onlink`).
  neigh_control_->set_addresses(Role::EXCEPTION, fib->pod_gateway, {fib->pod_gateway});
  // The pods' IPv6 gateway, and the other pods by proxy, over NDP.
  std::vector<lb::Addr6> gateway6;
  if (!fib->pod_gateway6.is_zero()) gateway6.push_back(fib->pod_gateway6);
  neigh_control6_->set_addresses(Role::PODS, fib->pod_gateway6, gateway6);
  neigh_control6_->set_addresses(Role::EXCEPTION, fib->pod_gateway6, std::move(gateway6));
  // On the uplink as for IPv4: the node's IPv6 address is the kernel's.
  std::vector<lb::Addr6> uplink6;
  if (config_.announce_lb_ips) uplink6 = fib->announced6;
  if (!has(Role::EXCEPTION) && !fib->node_ip6.is_zero()) uplink6.push_back(fib->node_ip6);
  neigh_control6_->set_addresses(Role::UPLINK, fib->node_ip6, std::move(uplink6));
  neigh_control6_->set_proxy(Role::PODS, fib->local_pods6);
  lock.unlock();
  bool counted = true;
  // Both families' ports share the id space (one id per service port).
  const uint32_t ids = std::max(fib->services ? fib->services->id_bound() : 0u,
                                fib->services6 ? fib->services6->id_bound() : 0u);
  for (auto& w : workers_) counted &= w->reserve_service_counters(ids);
  fib_.publish(std::move(fib));
  return counted;
}

void Dataplane::launch(const std::vector<unsigned>& lcores) {
  if (lcores.size() < workers_.size()) throw DataplaneError("fewer worker lcores than workers");
  stop_.store(false);
  for (size_t i = 0; i < workers_.size(); ++i) {
    auto* arg = new std::pair<Worker*, const std::atomic<bool>*>(workers_[i].get(), &stop_);
    if (rte_eal_remote_launch(worker_main, arg, lcores[i]) != 0) {
      delete arg;
      throw DataplaneError("cannot launch worker on lcore " + std::to_string(lcores[i]));
    }
    lcores_.push_back(lcores[i]);
  }
  start_neighbour_thread();
}

void Dataplane::start_neighbour_thread() {
  if (neigh_thread_.joinable()) return;
  neigh_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "svcdp-neigh");
    while (!stop_.load(std::memory_order_relaxed)) {
      neigh_poll(steady_ns());
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });
}

void Dataplane::stop() {
  stop_.store(true);
  for (unsigned lcore : lcores_) rte_eal_wait_lcore(lcore);
  lcores_.clear();
  if (neigh_thread_.joinable()) neigh_thread_.join();
  // Whatever no worker will send any more is counted before it is freed,
  // so that the exit report accounts for every packet.
  for (auto* rings : {&to_control_, &from_control_})
    for (rte_ring* ring : *rings) {
      void* m;
      while (rte_ring_dequeue(ring, &m) == 0) {
        control_counters_.drop(Drop::kShutdown);
        rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
      }
    }
  if (neigh_control_) neigh_control_->drop_all_held(Drop::kShutdown);
  if (neigh_control6_) neigh_control6_->drop_all_held(Drop::kShutdown);
}

void Dataplane::neigh_poll(uint64_t now_ns) {
  std::lock_guard lock(neigh_mu_);
  void* batch[64];
  for (rte_ring* ring : to_control_) {
    const unsigned n = rte_ring_sc_dequeue_burst(ring, batch, 64, nullptr);
    for (unsigned i = 0; i < n; ++i) {
      auto* m = static_cast<rte_mbuf*>(batch[i]);
      const PktMeta* meta = pkt_meta(m);
      switch (meta->punt) {
        case Punt::ARP:
          if (meta->in_role == Role::UPLINK && has(Role::EXCEPTION)) copy_to_kernel(m);
          neigh_control_->handle(m, meta->in_role, now_ns);
          break;
        case Punt::NEED_NEIGH: neigh_control_->resolve(m, now_ns); break;
        case Punt::NDP:
          if (meta->in_role == Role::UPLINK && has(Role::EXCEPTION)) copy_to_kernel(m);
          neigh_control6_->handle(m, meta->in_role, now_ns);
          break;
        case Punt::NEED_NEIGH6: neigh_control6_->resolve(m, now_ns); break;
      }
    }
  }
  neigh_control_->tick(now_ns);
  neigh_control6_->tick(now_ns);
}

void Dataplane::copy_to_kernel(const rte_mbuf* m) {
  rte_mbuf* copy = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
  if (copy == nullptr) {
    control_counters_.drop(Drop::kNoMbuf);
    return;
  }
  send_from_control(copy, Role::EXCEPTION);
}

void Dataplane::send_from_control(rte_mbuf* m, Role out) {
  pkt_meta(m)->out_role = out;
  if (rte_ring_sp_enqueue(from_control_[0], m) != 0) {
    control_counters_.drop(Drop::kPuntQueueFull);
    rte_pktmbuf_free(m);
  }
}

Counters Dataplane::totals() const {
  Counters sum = control_counters_;
  for (const auto& w : workers_) sum += w->counters();
  return sum;
}

std::optional<uint64_t> Dataplane::flush(const std::vector<FlushRequest>& requests, unsigned timeout_ms) {
  std::lock_guard lock(flush_mu_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  uint64_t before = 0;
  for (const auto& q : flush_queues_) before += q->removed();
  auto all_done = [&] {
    return std::all_of(flush_queues_.begin(), flush_queues_.end(), [](const auto& q) { return q->done() == q->queued(); });
  };
  for (const FlushRequest& r : requests)
    for (const auto& q : flush_queues_)
      while (!q->push(r)) {
        if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
  while (!all_done()) {
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  uint64_t after = 0;
  for (const auto& q : flush_queues_) after += q->removed();
  return after - before;
}

std::vector<Dataplane::Traced> Dataplane::trace(uint32_t n, unsigned timeout_ms) {
  std::lock_guard lock(trace_mu_);
  for (const auto& t : traces_) t->arm(n);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto recorded = [&] {
    uint64_t sum = 0;
    for (const auto& t : traces_) sum += t->published();
    return sum;
  };
  while (recorded() < n && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::vector<Traced> out;
  for (unsigned w = 0; w < traces_.size(); ++w)
    for (uint32_t i = 0, end = traces_[w]->published(); i < end; ++i) out.push_back({w, traces_[w]->record(i)});
  std::sort(out.begin(), out.end(), [](const Traced& a, const Traced& b) { return a.record.tsc < b.record.tsc; });
  if (out.size() > n) out.resize(n);
  for (const auto& t : traces_) t->arm(0);
  return out;
}

std::vector<ServiceCounters> Dataplane::service_totals() const {
  std::vector<ServiceCounters> sum;
  for (const auto& w : workers_) w->service_counters().add_to(sum);
  return sum;
}

}  // namespace svcdp::dp
