#include "dataplane/worker.h"

#include "dataplane/stages.h"

#include "dataplane/ipv4.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace svcdp::dp {

void Worker::run(const std::atomic<bool>& stop) {
  w_.setup.fib->thread_online(w_.setup.id);
  while (!stop.load(std::memory_order_relaxed)) {
    const uint64_t start = rte_rdtsc();
    const unsigned n = poll();
    (n ? w_.counters.busy_cycles : w_.counters.idle_cycles) += rte_rdtsc() - start;
    w_.setup.fib->quiescent(w_.setup.id);
  }
  w_.setup.fib->thread_offline(w_.setup.id);
}

unsigned Worker::poll() {
  const Fib* fib = w_.setup.fib->current();
  const uint64_t tsc = rte_rdtsc();
  w_.now_tsc = tsc;
  w_.now_s = static_cast<uint32_t>(tsc / w_.tsc_hz);
  rte_mbuf* pkts[kMaxBurst];
  unsigned total = 0;
  for (size_t r = 0; r < kRoleCount; ++r) {
    if (w_.setup.port_ids[r] == kNoPort) continue;
    const Role role = static_cast<Role>(r);
    const uint16_t n = rte_eth_rx_burst(w_.setup.port_ids[r], static_cast<uint16_t>(w_.setup.id), pkts, w_.setup.burst);
    if (n == 0) continue;
    w_.counters.rx_packets[r] += n;
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
    // The tuple hashes computed for the prefetch go with the packets to
    // the lb stage's lookup.
    uint64_t hashes[kMaxBurst];
    for (uint16_t i = 0; i < n && i < 2; ++i) hashes[i] = prefetch_flow(pkts[i], *fib);
    for (uint16_t i = 0; i < n; ++i) {
      if (i + 4 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void*));
      if (i + 2 < n) hashes[i + 2] = prefetch_flow(pkts[i + 2], *fib);
      if (w_.setup.trace != nullptr && w_.setup.trace->wanted()) [[unlikely]]
        trace_begin(role, pkts[i]);
      eth_input(w_, role, pkts[i], hashes[i]);
      w_.trace_cur = nullptr;
    }
    const uint64_t input_done = rte_rdtsc();
    w_.counters.stage_cycles[static_cast<size_t>(Stage::kEthInput)] += input_done - start;
    dispatch(*fib);
    w_.counters.rx_cycles[r] += rte_rdtsc() - start;
  }
  // Frames the control thread built or resolved (ARP, held packets).
  const unsigned n = rte_ring_sc_dequeue_burst(w_.setup.from_control, reinterpret_cast<void**>(pkts), w_.setup.burst, nullptr);
  for (unsigned i = 0; i < n; ++i) w_.tx(pkt_meta(pkts[i])->out_role, pkts[i]);
  for (size_t r = 0; r < kRoleCount; ++r)
    if (w_.setup.port_ids[r] != kNoPort) w_.flush(static_cast<Role>(r));
  // Expiry: a slice of this worker's conntrack shard now and then, paced
  // so that the whole shard is swept every kExpireSweepS seconds; sweeping
  // every round would cost a cache miss per slot for nothing.
  if (w_.setup.conntrack && tsc >= w_.expire_due_tsc) {
    w_.setup.conntrack->expire(w_.setup.id, w_.now_s, kExpireBudget);
    // The IPv6 table only when it has entries: an IPv4-only node's sweep
    // stays what it was (each slot swept is a cache line read).
    if (w_.setup.conntrack6 && w_.setup.conntrack6->entries(w_.setup.id) != 0)
      w_.setup.conntrack6->expire(w_.setup.id, w_.now_s, kExpireBudget);
    w_.expire_due_tsc = tsc + w_.expire_interval_tsc;
  }
  if (w_.setup.flush) flush_step();
  if (w_.setup.restore && !w_.setup.restore->done.load(std::memory_order_relaxed)) restore_step();
  if (w_.setup.trace) {
    w_.setup.trace->publish();  // every packet traced this round has left the stages
    w_.setup.trace->poll();
  }
  return total + n;
}

// The same classification lb_input makes, on a packet not yet validated
// (only lengths are checked): a wrong guess costs a wasted prefetch.
uint64_t Worker::prefetch_flow(const rte_mbuf* m, const Fib& fib) const {
  if (w_.setup.conntrack == nullptr || rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + 4) return 0;
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) return prefetch_flow6(m, fib);
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(eth + 1);
  if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || ip->version_ihl != RTE_IPV4_VHL_DEF ||
      (ip->next_proto_id != IPPROTO_TCP && ip->next_proto_id != IPPROTO_UDP))
    return 0;
  lb::FlowKey key{ip->src_addr, ip->dst_addr, 0, 0, ip->next_proto_id};
  key.sport = l4_port(ip + 1, 0);
  key.dport = l4_port(ip + 1, 2);
  if (!fib.services->maybe_frontend(key.dst) && !fib.services->maybe_endpoint(key.src, key.sport, key.proto)) return 0;
  const uint64_t h = lb::flow_hash(key);
  w_.setup.conntrack->prefetch(w_.setup.id, h);
  return h;
}

// The same for IPv6 with TCP or UDP right after the fixed header (the
// hash is used only for a packet without extension headers: lb6_input).
uint64_t Worker::prefetch_flow6(const rte_mbuf* m, const Fib& fib) const {
  if (w_.setup.conntrack6 == nullptr || rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + kIpv6HeaderLen + 4) return 0;
  const auto* ip6 = rte_pktmbuf_mtod_offset(m, const uint8_t*, sizeof(rte_ether_hdr));
  if (ip6[6] != IPPROTO_TCP && ip6[6] != IPPROTO_UDP) return 0;
  const lb::FlowKey6 key{ipv6_src(ip6), ipv6_dst(ip6), l4_port(ip6 + kIpv6HeaderLen, 0), l4_port(ip6 + kIpv6HeaderLen, 2),
                         ip6[6]};
  if (!fib.services6->maybe_frontend(key.dst) && !fib.services6->maybe_endpoint(key.src, key.sport, key.proto)) return 0;
  const uint64_t h = lb::flow_hash(key);
  w_.setup.conntrack6->prefetch(w_.setup.id, h);
  return h;
}

void Worker::dispatch(const Fib& fib) {
  while (w_.pending != 0) run_vector(static_cast<Stage>(std::countr_zero(w_.pending)), fib);
}

void Worker::run_vector(Stage s, const Fib& fib) {
  const auto si = static_cast<size_t>(s);
  Vector& v = w_.vectors[si];
  const uint64_t start = rte_rdtsc();
  // Each packet with its headers as the stage functions take them (a
  // stage may queue packets for itself: v.n is read again each time).
  auto each = [&](auto&& body) {
    for (uint16_t i = 0; i < v.n; ++i) {
      rte_mbuf* m = v.pkts[i];
      const PktCtx& c = v.ctx[i];
      w_.trace_cur = c.trace != 0 ? w_.setup.trace->at(c.trace - 1u) : nullptr;
      auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
      body(m, eth, reinterpret_cast<rte_ipv4_hdr*>(eth + 1), c);
    }
  };
  switch (s) {
    case Stage::kUplinkInput:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx& c) { uplink_input(w_, m, ip, fib, c.hash); });
      break;
    case Stage::kPodsInput:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx& c) { pods_input(w_, m, ip, fib, c.hash); });
      break;
    case Stage::kIp6Input:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr*, const PktCtx& c) { ip6_input(w_, m, fib, c.hash); });
      break;
    case Stage::kIp6UplinkInput:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr*, const PktCtx& c) { uplink_input6(w_, m, fib, c.hash); });
      break;
    case Stage::kExceptionInput:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr*, const PktCtx& c) { exception_input(w_, m, fib, c.hash); });
      break;
    case Stage::kVxlanDecap:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx&) {
        vxlan_decap(w_, m, reinterpret_cast<rte_udp_hdr*>(ip + 1),
                    rte_be_to_cpu_16(ip->total_length) - uint32_t{sizeof(rte_ipv4_hdr)}, fib);
      });
      break;
    case Stage::kDns:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx& c) { dns_query(w_, m, ip, fib, c); });
      break;
    case Stage::kLb:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx& c) {
        if (!lb_flow(w_, m, ip, fib, c.from, c.hash)) lb_continue(w_, m, static_cast<Continue>(c.arg), fib);
      });
      break;
    case Stage::kMasquerade:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx&) { masquerade(w_, m, ip, fib); });
      break;
    case Stage::kIpRoute:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr* ip, const PktCtx& c) {
        ip_route(w_, m, ip, fib, c.from);
      });
      break;
    case Stage::kPodsOutput:
      each([&](rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const PktCtx& c) {
        pods_output(w_, m, eth, ip, c.from, fib);
      });
      break;
    case Stage::kVxlanEncap:
      each([&](rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const PktCtx& c) {
        vxlan_encap(w_, m, eth, ip, fib.nodes[c.arg], c.from, fib);
      });
      break;
    case Stage::kUplinkOutput:
      each([&](rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const PktCtx& c) {
        uplink_output(w_, m, eth, ip, c.from, fib);
      });
      break;
    case Stage::kToKernel:
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr*, const PktCtx& c) {
        to_kernel(w_, m, static_cast<Drop>(c.arg));
      });
      break;
    default:  // the inline stages never queue a vector
      each([&](rte_mbuf* m, rte_ether_hdr*, rte_ipv4_hdr*, const PktCtx&) {
        w_.drop(m, Drop::kStageVectorFull);
      });
      break;
  }
  w_.trace_cur = nullptr;
  v.n = 0;
  w_.pending &= ~(1u << si);
  w_.counters.stage_cycles[si] += rte_rdtsc() - start;
}

void Worker::trace_begin(Role in, const rte_mbuf* m) {
  w_.trace_cur = w_.setup.trace->begin();
  w_.trace_cur->tsc = w_.now_tsc;
  w_.trace_cur->in = in;
  const uint32_t len = rte_pktmbuf_data_len(m);
  if (len < sizeof(rte_ether_hdr)) return;
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  w_.trace_cur->ether_type = rte_be_to_cpu_16(eth->ether_type);
  if (w_.trace_cur->ether_type != RTE_ETHER_TYPE_IPV4 || len < sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + 4) return;
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(eth + 1);
  w_.trace_cur->src = ip->src_addr;
  w_.trace_cur->dst = ip->dst_addr;
  w_.trace_cur->proto = ip->next_proto_id;
  if (ip->next_proto_id == IPPROTO_TCP || ip->next_proto_id == IPPROTO_UDP) {
    w_.trace_cur->sport = l4_port(ip + 1, 0);
    w_.trace_cur->dport = l4_port(ip + 1, 2);
  }
}

void Worker::flush_step() {
  const FlushRequest* r = w_.setup.flush->front();
  if (r == nullptr) return;
  uint64_t removed = 0;
  w_.flush_cursor = w_.setup.conntrack->remove_if(w_.setup.id, w_.flush_cursor, kFlushBudget, w_.now_s, removed,
                                          [r](const lb::CtMatch& m) {
                                            switch (r->kind) {
                                              case FlushRequest::Kind::kAll: return true;
                                              case FlushRequest::Kind::kService: return m.service_id == r->service_id;
                                              case FlushRequest::Kind::kFlow: return m.kind == lb::kFlow && m.fwd == r->flow;
                                            }
                                            return false;
                                          });
  w_.flush_removed += removed;
  if (w_.flush_cursor != 0) return;
  w_.setup.flush->complete(w_.flush_removed);
  w_.flush_removed = 0;
}

void Worker::restore_step() {
  RestoreQueue& q = *w_.setup.restore;
  if (!q.ready.load(std::memory_order_acquire)) return;
  const size_t end = std::min(q.flows.size(), q.next + kFlushBudget);
  uint64_t restored = q.restored.load(std::memory_order_relaxed);
  for (; q.next < end; ++q.next) {
    const RestoreQueue::Entry& e = q.flows[q.next];
    restored += w_.setup.conntrack->restore(w_.setup.id, e.flow, w_.now_s > e.idle_s ? w_.now_s - e.idle_s : 0);
  }
  q.restored.store(restored, std::memory_order_relaxed);
  if (q.next == q.flows.size()) q.done.store(true, std::memory_order_release);
}

}  // namespace svcdp::dp
