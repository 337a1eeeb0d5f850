#include "dataplane/worker.h"

#include "dataplane/ipv4.h"
#include "dataplane/vxlan.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#include <algorithm>

namespace svcdp::dp {

uint32_t inner_flow_hash(const rte_ipv4_hdr* ip) {
  uint32_t h = rte_hash_crc_4byte(ip->src_addr, ip->next_proto_id);
  h = rte_hash_crc_4byte(ip->dst_addr, h);
  if ((ip->next_proto_id == IPPROTO_TCP || ip->next_proto_id == IPPROTO_UDP) && !ipv4_is_fragment(ip) &&
      rte_be_to_cpu_16(ip->total_length) >= sizeof(rte_ipv4_hdr) + 4) {
    uint32_t ports;
    std::memcpy(&ports, ip + 1, sizeof ports);
    h = rte_hash_crc_4byte(ports, h);
  }
  return h;
}

// SNAT source ports: 1024-65535, split evenly between workers so that two
// workers never pick the same one.
Worker::Worker(const WorkerSetup& setup)
    : s_(setup),
      tsc_hz_(rte_get_tsc_hz()),
      snat_lo_(static_cast<uint16_t>(1024 + (65536 - 1024) / setup.workers * setup.id)),
      snat_span_(static_cast<uint16_t>((65536 - 1024) / setup.workers)),
      svc_counters_(setup.max_services) {
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
  now_s_ = static_cast<uint32_t>(tsc / tsc_hz_);
  rte_mbuf* pkts[kMaxBurst];
  unsigned total = 0;
  for (size_t r = 0; r < kRoleCount; ++r) {
    if (s_.port_ids[r] == kNoPort) continue;
    const Role role = static_cast<Role>(r);
    const uint16_t n = rte_eth_rx_burst(s_.port_ids[r], static_cast<uint16_t>(s_.id), pkts, s_.burst);
    counters_.rx_packets[r] += n;
    total += n;
    for (uint16_t i = 0; i < n && i < 2; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
    for (uint16_t i = 0; i < n; ++i) {
      if (i + 2 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 2], void*));
      input(role, pkts[i], *fib);
    }
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
  return total + n;
}

void Worker::flush_step() {
  const uint64_t seq = s_.flush->seq.load(std::memory_order_acquire);
  if (seq != flush_seen_ && !(seq & 1)) {  // odd: the request is being written
    flush_req_ = s_.flush->request;
    if (s_.flush->seq.load(std::memory_order_acquire) != seq) return;  // rewritten meanwhile: next round
    flush_seen_ = seq;
    flush_cursor_ = 0;
    flushing_ = true;
  }
  if (!flushing_) return;
  const FlushRequest& r = flush_req_;
  flush_cursor_ = s_.conntrack->remove_if(s_.id, flush_cursor_, kFlushBudget, now_s_, [&r](const lb::CtMatch& m) {
    switch (r.kind) {
      case FlushRequest::Kind::kAll: return true;
      case FlushRequest::Kind::kService: return m.service_id == r.service_id;
      case FlushRequest::Kind::kFlow: return m.kind == lb::kFlow && m.fwd == r.flow;
    }
    return false;
  });
  if (flush_cursor_ == 0) flushing_ = false;
}

// eth_input + ipv4_input: IEEE 802.3 framing, RFC 791 / RFC 1812 checks.
void Worker::input(Role in, rte_mbuf* m, const Fib& fib) {
  if (m->nb_segs != 1) return drop(m, Drop::kMbufChained);
  const uint32_t len = rte_pktmbuf_data_len(m);
  if (len < sizeof(rte_ether_hdr)) return drop(m, Drop::kEthRunt);
  // What the node's kernel sends leaves through the uplink as it is.
  if (in == Role::EXCEPTION) return tx(Role::UPLINK, m);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  if (!rte_is_same_ether_addr(&eth->dst_addr, &s_.macs[idx(in)]) && !rte_is_broadcast_ether_addr(&eth->dst_addr))
    return drop(m, Drop::kEthNotForUs);
  if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) return punt(m, Punt::ARP, in, 0);
  if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
    if (in == Role::UPLINK) return to_kernel(m, Drop::kEthertypeUnsupported);
    return drop(m, Drop::kEthertypeUnsupported);
  }

  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  if (auto bad = check_ipv4(ip, len - sizeof(rte_ether_hdr))) return drop(m, *bad);
  // Drop Ethernet padding so that it is not carried into a tunnel.
  const uint32_t frame_len = sizeof(rte_ether_hdr) + rte_be_to_cpu_16(ip->total_length);
  if (len > frame_len) rte_pktmbuf_trim(m, static_cast<uint16_t>(len - frame_len));

  if (in == Role::UPLINK) return uplink_ipv4(m, ip, fib);
  return pods_ipv4(m, eth, ip, fib);
}

void Worker::uplink_ipv4(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  // External IPs, LoadBalancer IPs (and replies to them).
  if (ip->dst_addr != fib.node_ip) {
    if (lb_input(m, eth, ip, fib, From::kUplink)) return;
    return drop(m, Drop::kIpNoRoute);
  }
  if (ip->next_proto_id == IPPROTO_UDP && !ipv4_is_fragment(ip)) {
    const uint32_t avail = rte_be_to_cpu_16(ip->total_length) - sizeof(rte_ipv4_hdr);
    if (avail < sizeof(rte_udp_hdr)) return drop(m, Drop::kUdpTruncated);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    if (udp->dst_port == fib.vxlan_port) return vxlan_decap(m, udp, avail, fib);
  }
  // NodePorts; everything else to the node is the kernel's (SSH, kubelet).
  if (lb_input(m, eth, ip, fib, From::kUplink)) return;
  to_kernel(m, Drop::kIpLocalUnhandled);
}

void Worker::to_kernel(rte_mbuf* m, Drop otherwise) {
  if (s_.port_ids[idx(Role::EXCEPTION)] == kNoPort) return drop(m, otherwise);
  ++counters_.to_kernel;
  tx(Role::EXCEPTION, m);
}

// RFC 7348 section 5: strip outer Ethernet, IPv4, UDP and VXLAN headers of
// a frame for our VTEP and VNI, then route the inner packet to a local pod.
void Worker::vxlan_decap(rte_mbuf* m, rte_udp_hdr* udp, uint32_t udp_avail, const Fib& fib) {
  if (auto bad = vxlan_check(udp, udp_avail, fib.vni)) return drop(m, *bad);
  auto* inner_eth = reinterpret_cast<rte_ether_hdr*>(reinterpret_cast<uint8_t*>(udp) + sizeof(rte_udp_hdr) +
                                                     sizeof(rte_vxlan_hdr));
  auto* inner_ip = reinterpret_cast<rte_ipv4_hdr*>(inner_eth + 1);
  const uint32_t inner_avail = udp_avail - sizeof(rte_udp_hdr) - sizeof(rte_vxlan_hdr) - sizeof(rte_ether_hdr);
  if (auto bad = check_ipv4(inner_ip, inner_avail)) return drop(m, *bad);
  if (!fib.local_pods.contains(rte_be_to_cpu_32(inner_ip->dst_addr))) return drop(m, Drop::kVxlanInnerNotLocal);

  rte_pktmbuf_adj(m, kVxlanOuterLen);
  const uint32_t inner_frame = sizeof(rte_ether_hdr) + rte_be_to_cpu_16(inner_ip->total_length);
  if (rte_pktmbuf_data_len(m) > inner_frame)
    rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_data_len(m) - inner_frame));
  ++counters_.vxlan_decap;
  // Replies from remote endpoints to local clients (or to our SNAT address).
  if (lb_input(m, inner_eth, inner_ip, fib, From::kTunnel)) return;
  pods_output(m, inner_eth, inner_ip);
}

void Worker::pods_ipv4(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const Fib& fib) {
  if (lb_input(m, eth, ip, fib, From::kPods)) return;
  if (ip->dst_addr == fib.pod_gateway || ip->dst_addr == fib.node_ip) return drop(m, Drop::kIpLocalUnhandled);
  const uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
  if (fib.local_pods.contains(dst)) return pods_output(m, eth, ip);
  if (auto node = fib.remote_pods.lookup(dst)) return vxlan_encap(m, eth, ip, fib.nodes[*node]);
  drop(m, Drop::kIpNoRoute);
}

// RFC 7348 section 4.1 / 5: the inner frame keeps its IPv4 packet, with
// Ethernet addresses of the two VTEPs; the template supplies the outer
// headers.
void Worker::vxlan_encap(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const RemoteNode& node) {
  if (ip->time_to_live <= 1) return drop(m, Drop::kIpTtlExpired);
  const uint32_t ip_len = rte_be_to_cpu_16(ip->total_length);
  if (ip_len + kVxlanOuterLen > s_.mtu) return drop(m, Drop::kMtuExceeded);
  ipv4_decrement_ttl(ip);
  eth->src_addr = node.tmpl.inner_src;
  eth->dst_addr = node.tmpl.inner_dst;
  const uint32_t hash = (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) ? m->hash.rss : inner_flow_hash(ip);
  auto* outer = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, kVxlanOuterLen));
  if (outer == nullptr) return drop(m, Drop::kNoHeadroom);
  rte_ether_addr nexthop_mac{};
  const bool resolved = s_.neigh->lookup(Role::UPLINK, node.nexthop, nexthop_mac);
  vxlan_write_outer(outer, node.tmpl, nexthop_mac, sizeof(rte_ether_hdr) + ip_len, vxlan_source_port(hash));
  ++counters_.vxlan_encap;
  if (resolved) return tx(Role::UPLINK, m);
  punt(m, Punt::NEED_NEIGH, Role::UPLINK, node.nexthop);
}

void Worker::pods_output(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip) {
  if (ip->time_to_live <= 1) return drop(m, Drop::kIpTtlExpired);
  ipv4_decrement_ttl(ip);
  eth->src_addr = s_.macs[idx(Role::PODS)];
  ++counters_.forwarded_local;
  neigh_output(Role::PODS, m, eth, ip->dst_addr);
}

void Worker::ip_route(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const Fib& fib) {
  const uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
  if (fib.local_pods.contains(dst)) return pods_output(m, eth, ip);
  if (auto node = fib.remote_pods.lookup(dst)) return vxlan_encap(m, eth, ip, fib.nodes[*node]);
  uplink_output(m, eth, ip, fib);
}

void Worker::uplink_output(rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const Fib& fib) {
  if (ip->time_to_live <= 1) return drop(m, Drop::kIpTtlExpired);
  if (rte_be_to_cpu_16(ip->total_length) > s_.mtu) return drop(m, Drop::kMtuExceeded);
  ipv4_decrement_ttl(ip);
  eth->src_addr = s_.macs[idx(Role::UPLINK)];
  neigh_output(Role::UPLINK, m, eth, fib.uplink_gateway ? fib.uplink_gateway : ip->dst_addr);
}

void Worker::neigh_output(Role role, rte_mbuf* m, rte_ether_hdr* eth, be32 nexthop) {
  if (s_.neigh->lookup(role, nexthop, eth->dst_addr)) return tx(role, m);
  punt(m, Punt::NEED_NEIGH, role, nexthop);
}

void Worker::punt(rte_mbuf* m, Punt why, Role role, be32 nexthop) {
  PktMeta* meta = pkt_meta(m);
  meta->punt = why;
  meta->in_role = role;
  meta->out_role = role;
  meta->nexthop = nexthop;
  if (rte_ring_sp_enqueue(s_.to_control, m) != 0) return drop(m, Drop::kPuntQueueFull);
  ++counters_.punted;
}

void Worker::tx(Role role, rte_mbuf* m) {
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
