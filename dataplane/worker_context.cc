#include "dataplane/worker_context.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include <algorithm>

namespace svcdp::dp {

// SNAT source ports of the pod gateway: 1024-65535; masquerade ports of
// the node address: --masquerade-ports. Both split between workers, so
// that two workers never pick the same port and a reply's port names the
// worker whose shard holds the flow.
WorkerContext::WorkerContext(const WorkerSetup& s)
    : setup(s),
      tsc_hz(rte_get_tsc_hz()),
      snat_ports(kSnatLo, kSnatHi, s.workers, s.id),
      masq_ports(s.masquerade_lo, s.masquerade_hi, s.workers, s.id),
      icmp_token_cost_tsc(tsc_hz / kIcmpErrorsPerSecond),
      svc_counters(s.socket),
      neigh_used(std::make_unique<std::atomic<uint8_t>[]>(s.neigh->slots())),
      neigh6_used(std::make_unique<std::atomic<uint8_t>[]>(s.neigh6->slots())) {
  if (setup.conntrack) {
    const uint64_t slices = std::max<uint64_t>(1, setup.conntrack->shard_capacity() / kExpireBudget);
    expire_interval_tsc = tsc_hz * kExpireSweepS / slices;
  }
}

void WorkerContext::neigh_output(Role role, rte_mbuf* m, rte_ether_hdr* eth, be32 nexthop) {
  if (neigh_lookup(role, nexthop, eth->dst_addr)) return tx(role, m);
  punt(m, Punt::NEED_NEIGH, role, nexthop);
}

void WorkerContext::neigh_output(Role role, rte_mbuf* m, rte_ether_hdr* eth, const lb::Addr6& nexthop) {
  if (neigh_lookup(role, nexthop, eth->dst_addr)) return tx(role, m);
  punt(m, Punt::NEED_NEIGH6, role, nexthop);
}

PktMeta* WorkerContext::punt_meta(rte_mbuf* m, Punt why, Role role) {
  if (why == Punt::ARP) stage(Stage::kArp);
  if (why == Punt::NDP) stage(Stage::kNdp);
  verdict(TraceRecord::Verdict::kPunt, static_cast<uint16_t>(why));
  PktMeta* meta = pkt_meta(m);
  meta->punt = why;
  meta->in_role = role;
  meta->out_role = role;
  return meta;
}

void WorkerContext::enqueue_punt(rte_mbuf* m) {
  if (rte_ring_sp_enqueue(setup.to_control, m) != 0) return drop(m, Drop::kPuntQueueFull);
  ++counters.punted;
}

void WorkerContext::punt(rte_mbuf* m, Punt why, Role role, be32 nexthop) {
  punt_meta(m, why, role)->nexthop = nexthop;
  enqueue_punt(m);
}

void WorkerContext::punt(rte_mbuf* m, Punt why, Role role, const lb::Addr6& nexthop) {
  punt_meta(m, why, role)->nexthop6 = nexthop;
  enqueue_punt(m);
}

void WorkerContext::tx(Role role, rte_mbuf* m) {
  verdict(TraceRecord::Verdict::kTx, static_cast<uint16_t>(role));
  TxBuffer& b = txb[idx(role)];
  b.pkts[b.count++] = m;
  if (b.count == kMaxBurst) flush(role);
}

void WorkerContext::flush(Role role) {
  TxBuffer& b = txb[idx(role)];
  if (b.count == 0) return;
  uint16_t sent = 0;
  // A few tries: virtual devices' TX rings drain in bursts.
  for (int attempt = 0; attempt < 4 && sent < b.count; ++attempt)
    sent += rte_eth_tx_burst(setup.port_ids[idx(role)], static_cast<uint16_t>(setup.id), b.pkts + sent,
                             static_cast<uint16_t>(b.count - sent));
  counters.tx_packets[idx(role)] += sent;
  if (sent < b.count) {
    counters.drop(Drop::kTxQueueFull, b.count - sent);
    rte_pktmbuf_free_bulk(b.pkts + sent, b.count - sent);
  }
  b.count = 0;
}

}  // namespace svcdp::dp
