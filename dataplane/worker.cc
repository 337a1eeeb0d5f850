#include "dataplane/worker.h"

#include "dataplane/ipv4.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace svcdp::dp {

// SNAT source ports of the pod gateway: 1024-65535; masquerade ports of
// the node address: --masquerade-ports. Both split between workers, so
// that two workers never pick the same port and a reply's port names the
// worker whose shard holds the flow.
Worker::Worker(const WorkerSetup& setup)
    : s_(setup),
      tsc_hz_(rte_get_tsc_hz()),
      snat_ports_(kSnatLo, kSnatHi, setup.workers, setup.id),
      masq_ports_(setup.masquerade_lo, setup.masquerade_hi, setup.workers, setup.id),
      icmp_token_cost_tsc_(tsc_hz_ / kIcmpErrorsPerSecond),
      svc_counters_(setup.socket),
      neigh_used_(std::make_unique<std::atomic<uint8_t>[]>(setup.neigh->slots())) {
  if (s_.conntrack) {
    const uint64_t slices = std::max<uint64_t>(1, s_.conntrack->shard_capacity() / kExpireBudget);
    expire_interval_tsc_ = tsc_hz_ * kExpireSweepS / slices;
  }
}

void Worker::run(const std::atomic<bool>& stop) {
  s_.fib->thread_online(s_.id);
  while (!stop.load(std::memory_order_relaxed)) {
    const uint64_t start = rte_rdtsc();
    const unsigned n = poll();
    (n ? counters_.busy_cycles : counters_.idle_cycles) += rte_rdtsc() - start;
    s_.fib->quiescent(s_.id);
  }
  s_.fib->thread_offline(s_.id);
}

unsigned Worker::poll() {
  const Fib* fib = s_.fib->current();
  const uint64_t tsc = rte_rdtsc();
  now_tsc_ = tsc;
  now_s_ = static_cast<uint32_t>(tsc / tsc_hz_);
  rte_mbuf* pkts[kMaxBurst];
  unsigned total = 0;
  for (size_t r = 0; r < kRoleCount; ++r) {
    if (s_.port_ids[r] == kNoPort) continue;
    const Role role = static_cast<Role>(r);
    const uint16_t n = rte_eth_rx_burst(s_.port_ids[r], static_cast<uint16_t>(s_.id), pkts, s_.burst);
    if (n == 0) continue;
    counters_.rx_packets[r] += n;
    total += n;
    const uint64_t start = rte_rdtsc();
    // eth_input over the burst, then the vectors it filled, stage by
    // stage. Packet data is prefetched four packets ahead, and two ahead
    // the conntrack buckets of what may be a Service flow, so that they
    // are in cache by the time the lb stage looks them up. (Measured on
    // est-remote: 245-300 ns/packet this way, 265-345 prefetching a whole
    // vector's buckets, or their entries, at once: 64 misses issued
    // together wait for the core's miss buffers; spread over eth_input
    // they overlap with its work.)
    for (uint16_t i = 0; i < n && i < 4; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
    for (uint16_t i = 0; i < n && i < 2; ++i) prefetch_flow(pkts[i], *fib);
    for (uint16_t i = 0; i < n; ++i) {
      if (i + 4 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void*));
      if (i + 2 < n) prefetch_flow(pkts[i + 2], *fib);
      if (s_.trace != nullptr && s_.trace->wanted()) [[unlikely]]
        trace_begin(role, pkts[i]);
      eth_input(role, pkts[i]);
      trace_cur_ = nullptr;
    }
    const uint64_t input_done = rte_rdtsc();
    counters_.stage_cycles[static_cast<size_t>(Stage::kEthInput)] += input_done - start;
    dispatch(*fib);
    counters_.rx_cycles[r] += rte_rdtsc() - start;
  }
  // Frames the control thread built or resolved (ARP, held packets).
  const unsigned n = rte_ring_sc_dequeue_burst(s_.from_control, reinterpret_cast<void**>(pkts), s_.burst, nullptr);
  for (unsigned i = 0; i < n; ++i) tx(pkt_meta(pkts[i])->out_role, pkts[i]);
  for (size_t r = 0; r < kRoleCount; ++r)
    if (s_.port_ids[r] != kNoPort) flush(static_cast<Role>(r));
  // Expiry: a slice of this worker's conntrack shard now and then, paced
  // so that the whole shard is swept every kExpireSweepS seconds; sweeping
  // every round would cost a cache miss per slot for nothing.
  if (s_.conntrack && tsc >= expire_due_tsc_) {
    s_.conntrack->expire(s_.id, now_s_, kExpireBudget);
    expire_due_tsc_ = tsc + expire_interval_tsc_;
  }
  if (s_.flush) flush_step();
  if (s_.restore && !s_.restore->done.load(std::memory_order_relaxed)) restore_step();
  if (s_.trace) {
    s_.trace->publish();  // every packet traced this round has left the stages
    s_.trace->poll();
  }
  return total + n;
}

// The same classification lb_input makes, on a packet not yet validated
// (only lengths are checked): a wrong guess costs a wasted prefetch.
void Worker::prefetch_flow(const rte_mbuf* m, const Fib& fib) const {
  if (s_.conntrack == nullptr || rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + 4) return;
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(eth + 1);
  if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || ip->version_ihl != RTE_IPV4_VHL_DEF ||
      (ip->next_proto_id != IPPROTO_TCP && ip->next_proto_id != IPPROTO_UDP))
    return;
  lb::FlowKey key{ip->src_addr, ip->dst_addr, 0, 0, ip->next_proto_id};
  key.sport = l4_port(ip + 1, 0);
  key.dport = l4_port(ip + 1, 2);
  if (!fib.services->maybe_frontend(key.dst) && !fib.services->maybe_endpoint(key.src, key.sport, key.proto)) return;
  s_.conntrack->prefetch(s_.id, key);
}

void Worker::dispatch(const Fib& fib) {
  while (pending_ != 0) run_vector(static_cast<Stage>(std::countr_zero(pending_)), fib);
}

void Worker::run_vector(Stage s, const Fib& fib) {
  const auto si = static_cast<size_t>(s);
  Vector& v = vectors_[si];
  const uint64_t start = rte_rdtsc();
  // Each packet with its headers as the stage functions take them (a
  // stage may queue packets for itself: v.n is read again each time).
  auto each = [&](auto&& body) {
    for (uint16_t i = 0; i < v.n; ++i) {
      rte_mbuf* m = v.pkts[i];
      const PktCtx& c = v.ctx[i];
      trace_cur_ = c.trace != 0 ? s_.trace->at(c.trace - 1u) : nullptr;
      auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
      body(m, eth, reinterpret_cast<rte_ipv4_hdr*>(eth + 1), c);
    }
  };
  switch (s) {
    case Stage::kUplinkInput:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx&) { uplink_input(m, ip, fib); });
      break;
    case Stage::kPodsInput:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx&) { pods_input(m, ip, fib); });
      break;
    case Stage::kExceptionInput:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr*, const PktCtx&) { exception_input(m, fib); });
      break;
    case Stage::kVxlanDecap:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx&) {
        vxlan_decap(m, reinterpret_cast<rte_udp_hdr*>(ip + 1),
                    rte_be_to_cpu_16(ip->total_length) - uint32_t{sizeof(rte_ipv4_hdr)}, fib);
      });
      break;
    case Stage::kDns:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx& c) { dns_query(m, ip, fib, c); });
      break;
    case Stage::kLb:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx& c) {
        if (!lb_flow(m, ip, fib, c.from, c.hash)) lb_continue(m, static_cast<Continue>(c.arg), fib);
      });
      break;
    case Stage::kMasquerade:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx&) { masquerade(m, ip, fib); });
      break;
    case Stage::kIpRoute:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx& c) {
        ip_route(m, ip, fib, c.from);
      });
      break;
    case Stage::kPodsOutput:
      each([&](rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const PktCtx& c) {
        pods_output(m, eth, ip, c.from, fib);
      });
      break;
    case Stage::kVxlanEncap:
      each([&](rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const PktCtx& c) {
        vxlan_encap(m, eth, ip, fib.nodes[c.arg], c.from, fib);
      });
      break;
    case Stage::kUplinkOutput:
      each([&](rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const PktCtx& c) {
        uplink_output(m, eth, ip, c.from, fib);
      });
      break;
    case Stage::kToKernel:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr*, const PktCtx& c) {
        to_kernel(m, static_cast<Drop>(c.arg));
      });
      break;
    default:  // the inline stages never queue a vector
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr*, const PktCtx&) {
        drop(m, Drop::kStageVectorFull);
      });
      break;
  }
  trace_cur_ = nullptr;
  v.n = 0;
  pending_ &= ~(1u << si);
  counters_.stage_cycles[si] += rte_rdtsc() - start;
}

void Worker::trace_begin(Role in, const rte_mbuf* m) {
  trace_cur_ = s_.trace->begin();
  trace_cur_->tsc = now_tsc_;
  trace_cur_->in = in;
  const uint32_t len = rte_pktmbuf_data_len(m);
  if (len < sizeof(rte_ether_hdr)) return;
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  trace_cur_->ether_type = rte_be_to_cpu_16(eth->ether_type);
  if (trace_cur_->ether_type != RTE_ETHER_TYPE_IPV4 || len < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + 4) return;
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(eth + 1);
  trace_cur_->src = ip->src_addr;
  trace_cur_->dst = ip->dst_addr;
  trace_cur_->proto = ip->next_proto_id;
  if (ip->next_proto_id == IPPROTO_TCP || ip->next_proto_id == IPPROTO_UDP) {
    trace_cur_->sport = l4_port(ip + 1, 0);
    trace_cur_->dport = l4_port(ip + 1, 2);
  }
}

void Worker::flush_step() {
  const FlushRequest* r = s_.flush->front();
  if (r == nullptr) return;
  uint64_t removed = 0;
  flush_cursor_ = s_.conntrack->remove_if(s_.id, flush_cursor_, kFlushBudget, now_s_, removed,
                                          [r](const lb::CtMatch& m) {
                                            switch (r->kind) {
                                              case FlushRequest::Kind::kAll: return true;
                                              case FlushRequest::Kind::kService: return m.service_id == r->service_id;
                                              case FlushRequest::Kind::kFlow: return m.kind == lb::kFlow && m.fwd == r->flow;
                                            }
                                            return false;
                                          });
  flush_removed_ += removed;
  if (flush_cursor_ != 0) return;
  s_.flush->complete(flush_removed_);
  flush_removed_ = 0;
}

void Worker::restore_step() {
  RestoreQueue& q = *s_.restore;
  if (!q.ready.load(std::memory_order_acquire)) return;
  const size_t end = std::min(q.flows.size(), q.next + kFlushBudget);
  uint64_t restored = q.restored.load(std::memory_order_relaxed);
  for (; q.next < end; ++q.next) {
    const RestoreQueue::Entry& e = q.flows[q.next];
    restored += s_.conntrack->restore(s_.id, e.flow, now_s_ > e.idle_s ? now_s_ - e.idle_s : 0);
  }
  q.restored.store(restored, std::memory_order_relaxed);
  if (q.next == q.flows.size()) q.done.store(true, std::memory_order_release);
}

void Worker::neigh_output(Role role, rte_mbuf* m, rte_ether_hdr* eth, be32 nexthop) {
  if (neigh_lookup(role, nexthop, eth->dst_addr)) return tx(role, m);
  punt(m, Punt::NEED_NEIGH, role, nexthop);
}

void Worker::punt(rte_mbuf* m, Punt why, Role role, be32 nexthop) {
  if (why == Punt::ARP) stage(Stage::kArp);
  verdict(TraceRecord::Verdict::kPunt, why == Punt::ARP ? 0 : 1);
  PktMeta* meta = pkt_meta(m);
  meta->punt = why;
  meta->in_role = role;
  meta->out_role = role;
  meta->nexthop = nexthop;
  if (rte_ring_sp_enqueue(s_.to_control, m) != 0) return drop(m, Drop::kPuntQueueFull);
  ++counters_.punted;
}

void Worker::tx(Role role, rte_mbuf* m) {
  verdict(TraceRecord::Verdict::kTx, static_cast<uint16_t>(role));
  TxBuffer& b = txb_[idx(role)];
  b.pkts[b.count++] = m;
  if (b.count == kMaxBurst) flush(role);
}

void Worker::flush(Role role) {
  TxBuffer& b = txb_[idx(role)];
  if (b.count == 0) return;
  uint16_t sent = 0;
  // A few tries: virtual devices' TX rings drain in bursts.
  for (int attempt = 0; attempt < 4 && sent < b.count; ++attempt)
    sent += rte_eth_tx_burst(s_.port_ids[idx(role)], static_cast<uint16_t>(s_.id), b.pkts + sent,
                             static_cast<uint16_t>(b.count - sent));
  counters_.tx_packets[idx(role)] += sent;
  if (sent < b.count) {
    counters_.drop(Drop::kTxQueueFull, b.count - sent);
    rte_pktmbuf_free_bulk(b.pkts + sent, b.count - sent);
  }
  b.count = 0;
}

}  // namespace svcdp::dp
