#include "dataplane/testing/ring_harness.h"

#include <rte_eth_ring.h>
#include <rte_ethdev.h>

#include <cstring>
#include <stdexcept>

namespace svcdp::testing {
namespace {

void drain(rte_ring* r) {
  void* m;
  while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
}

}  // namespace

RingHarness::RingHarness(dp::DataplaneConfig config, bool with_kernel) {
  static int instance = 0;
  const std::string id = std::to_string(++instance);
  const unsigned queues = config.workers;
  ports_[dp::idx(dp::Role::UPLINK)] = make_port("up" + id, queues);
  ports_[dp::idx(dp::Role::PODS)] = make_port("pods" + id, queues);
  config.uplink_device = ports_[dp::idx(dp::Role::UPLINK)].device;
  config.pods_device = ports_[dp::idx(dp::Role::PODS)].device;
  if (with_kernel) {
    ports_[dp::idx(dp::Role::EXCEPTION)] = make_port("kernel" + id, queues);
    config.exception_device = ports_[dp::idx(dp::Role::EXCEPTION)].device;
  }
  dp_ = std::make_unique<dp::Dataplane>(config);
}

RingHarness::~RingHarness() {
  dp_.reset();
  for (RingPort& p : ports_)
    for (auto* rings : {&p.rx, &p.tx})
      for (rte_ring* r : *rings) {
        drain(r);
        rte_ring_free(r);
      }
}

RingHarness::RingPort RingHarness::make_port(const std::string& name, unsigned queues) {
  RingPort p;
  for (unsigned q = 0; q < queues; ++q) {
    const std::string suffix = std::to_string(q);
    p.rx.push_back(rte_ring_create((name + "_rx" + suffix).c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ));
    p.tx.push_back(rte_ring_create((name + "_tx" + suffix).c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ));
    if (p.rx.back() == nullptr || p.tx.back() == nullptr)
      throw std::runtime_error("ring harness: cannot create rings for " + name);
  }
  const int port = rte_eth_from_rings(name.c_str(), p.rx.data(), queues, p.tx.data(), queues, 0);
  char dev[RTE_ETH_NAME_MAX_LEN];
  if (port < 0 || rte_eth_dev_get_name_by_port(static_cast<uint16_t>(port), dev) != 0)
    throw std::runtime_error("ring harness: cannot create port " + name);
  p.device = dev;
  return p;
}

Mac RingHarness::mac(dp::Role role) const {
  Mac m;
  std::memcpy(m.data(), dp_->mac(role).addr_bytes, m.size());
  return m;
}

bool RingHarness::inject(dp::Role role, const Bytes& frame, unsigned queue) {
  rte_mbuf* m = rte_pktmbuf_alloc(dp_->pool());
  if (m == nullptr) return false;
  void* data = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  if (data != nullptr) std::memcpy(data, frame.data(), frame.size());
  if (data == nullptr || rte_ring_enqueue(ports_[dp::idx(role)].rx.at(queue), m) != 0) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

std::vector<Bytes> RingHarness::sent(dp::Role role) {
  std::vector<Bytes> out;
  void* p;
  for (rte_ring* tx : ports_[dp::idx(role)].tx)
    while (rte_ring_dequeue(tx, &p) == 0) {
      auto* m = static_cast<rte_mbuf*>(p);
      const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
      out.emplace_back(d, d + rte_pktmbuf_data_len(m));
      rte_pktmbuf_free(m);
    }
  return out;
}

void RingHarness::discard_sent() {
  for (RingPort& p : ports_)
    for (rte_ring* r : p.tx) drain(r);
}

void RingHarness::run(int rounds, uint64_t step_ns) {
  for (int i = 0; i < rounds; ++i) {
    for (unsigned w = 0; w < dp_->worker_count(); ++w) dp_->worker(w).poll();
    now_ns += step_ns;
    dp_->neigh_poll(now_ns);
    dp_->control_poll();
  }
  for (unsigned w = 0; w < dp_->worker_count(); ++w) dp_->worker(w).poll();
}

}  // namespace svcdp::testing
