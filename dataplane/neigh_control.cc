#include "dataplane/neigh_control.h"

#include "dataplane/arp.h"

#include <algorithm>
#include <cstring>

namespace svcdp::dp {

NeighControl::NeighControl(NeighTable& table, rte_mempool* pool, const std::array<rte_ether_addr, kRoleCount>& macs,
                           Counters& counters, SendFn send, NeighTimers timers)
    : table_(table), pool_(pool), macs_(macs), counters_(counters), send_(std::move(send)), timers_(timers) {}

NeighControl::~NeighControl() {
  for (auto& [slot, e] : state_)
    for (rte_mbuf* m : e.held) rte_pktmbuf_free(m);
}

bool NeighControl::is_local(Role role, be32 ip) const {
  const auto& v = local_[idx(role)];
  return std::find(v.begin(), v.end(), ip) != v.end();
}

void NeighControl::set_passive(Entry& e, bool passive) {
  if (e.passive == passive) return;
  e.passive = passive;
  passive_count_[idx(e.role)] += passive ? 1 : -1;
}

std::unordered_map<uint32_t, NeighControl::Entry>::iterator NeighControl::forget(
    std::unordered_map<uint32_t, Entry>::iterator it) {
  set_passive(it->second, false);
  return state_.erase(it);
}

void NeighControl::take_use_marks(uint64_t now_ns) {
  if (!used_ || now_ns - use_scanned_ns_ < kUseScanNs) return;
  use_scanned_ns_ = now_ns;
  for (auto& [slot, e] : state_)
    if (e.passive && used_(slot)) set_passive(e, false);
}

bool NeighControl::evict_passive(std::optional<Role> only) {
  auto victim = state_.end();
  for (auto it = state_.begin(); it != state_.end(); ++it) {
    const Entry& e = it->second;
    if (!e.passive || !e.held.empty() || (only && e.role != *only)) continue;
    if (victim == state_.end() || e.deadline < victim->second.deadline) victim = it;
  }
  if (victim == state_.end()) return false;
  table_.release(victim->first);
  forget(victim);
  ++counters_.neigh_evicted;
  return true;
}

std::optional<uint32_t> NeighControl::slot_for(Role role, be32 ip, uint64_t now_ns) {
  if (auto slot = table_.find_or_insert(role, ip)) return slot;
  take_use_marks(now_ns);
  if (!evict_passive(std::nullopt)) return std::nullopt;
  return table_.find_or_insert(role, ip);
}

// RFC 826 "Packet Reception": update the sender's entry if we have one;
// if we are the target, add it (merge_flag) and answer a request. Not
// from a sender no host can be (a group or zero MAC), nor one claiming an
// address that is ours on that port (RFC 5227 section 2.4, a conflict:
// neither learned nor answered).
void NeighControl::handle_arp(rte_mbuf* m, Role in, uint64_t now_ns) {
  const uint32_t len = rte_pktmbuf_data_len(m);
  auto arp = parse_arp(rte_pktmbuf_mtod_offset(m, const uint8_t*, sizeof(rte_ether_hdr)),
                       len - static_cast<uint32_t>(sizeof(rte_ether_hdr)));
  if (!arp) {
    counters_.drop(Drop::kArpMalformed);
    rte_pktmbuf_free(m);
    return;
  }
  if (rte_is_multicast_ether_addr(&arp->sender_mac) || rte_is_zero_ether_addr(&arp->sender_mac)) {
    counters_.drop(Drop::kArpBadSender);
    rte_pktmbuf_free(m);
    return;
  }
  if (arp->sender_ip != 0 && (arp->sender_ip == source_[idx(in)] || is_local(in, arp->sender_ip))) {
    counters_.drop(Drop::kArpAddressConflict);
    rte_pktmbuf_free(m);
    return;
  }
  const bool proxied = arp->sender_ip != 0 && arp->target_ip != arp->sender_ip &&
                       proxy_[idx(in)].contains(rte_be_to_cpu_32(arp->target_ip));
  const bool answer = proxied || is_local(in, arp->target_ip);
  const bool ours = answer || arp->target_ip == source_[idx(in)];
  // Sender 0.0.0.0 is an address probe (RFC 5227): nothing to learn.
  bool learned = false;
  if (arp->sender_ip != 0) {
    const bool known = table_.find(in, arp->sender_ip).has_value();
    // A port's senders may hold half the table at most (Linux's
    // gc_thresh, per port): a flood on one port leaves the other's
    // neighbours alone.
    if (ours && !known && passive_count_[idx(in)] >= table_.capacity() / 2) {
      take_use_marks(now_ns);
      evict_passive(in);
    }
    if (auto slot = ours ? slot_for(in, arp->sender_ip, now_ns) : table_.find(in, arp->sender_ip)) {
      learn(*slot, in, arp->sender_ip, arp->sender_mac, now_ns);
      if (!known) set_passive(state_.at(*slot), true);
      learned = true;
    }
  }
  if (arp->op != RTE_ARP_OP_REQUEST || !answer) {
    if (arp->op == RTE_ARP_OP_REQUEST && !ours) counters_.drop(Drop::kArpNotForUs);
    if (arp->op != RTE_ARP_OP_REQUEST && !learned) counters_.drop(Drop::kArpUnsolicited);
    rte_pktmbuf_free(m);
    return;
  }
  // Reuse the request's mbuf for the reply.
  m->data_len = m->pkt_len = kArpFrameLen;
  build_arp(rte_pktmbuf_mtod(m, uint8_t*), RTE_ARP_OP_REPLY, arp->sender_mac, macs_[idx(in)], arp->target_ip,
            arp->sender_mac, arp->sender_ip);
  send_(m, in);
}

bool NeighControl::add_static(Role role, be32 ip, const rte_ether_addr& mac) {
  auto slot = table_.find_or_insert(role, ip);
  if (!slot) return false;
  table_.set_mac(*slot, mac);
  static_.insert(*slot);
  if (auto it = state_.find(*slot); it != state_.end()) forget(it);
  return true;
}

void NeighControl::learn(uint32_t slot, Role role, be32 ip, const rte_ether_addr& mac, uint64_t now_ns) {
  if (static_.count(slot)) return;
  table_.set_mac(slot, mac);
  auto [it, created] = state_.try_emplace(slot, role, ip, State::REACHABLE);
  Entry& e = it->second;
  e.state = State::REACHABLE;
  e.probes = 0;
  e.mac = mac;
  e.deadline = now_ns + timers_.reachable_ns;
  for (rte_mbuf* held : e.held) {
    rte_pktmbuf_mtod(held, rte_ether_hdr*)->dst_addr = mac;
    send_(held, role);
  }
  e.held.clear();
}

void NeighControl::resolve(rte_mbuf* m, uint64_t now_ns) {
  const PktMeta* meta = pkt_meta(m);
  const Role role = meta->out_role;
  auto slot = slot_for(role, meta->nexthop, now_ns);
  if (!slot) {
    counters_.drop(Drop::kNeighTableFull);
    rte_pktmbuf_free(m);
    return;
  }
  auto [it, created] = state_.try_emplace(*slot, role, meta->nexthop, State::INCOMPLETE);
  Entry& e = it->second;
  set_passive(e, false);  // svcdp needs it now
  if (e.state != State::INCOMPLETE) {
    // Resolved between the worker's lookup and now.
    rte_pktmbuf_mtod(m, rte_ether_hdr*)->dst_addr = e.mac;
    send_(m, role);
    return;
  }
  if (e.held.size() >= timers_.max_held) {
    counters_.drop(Drop::kNeighUnresolved);
    rte_pktmbuf_free(m);
  } else {
    e.held.push_back(m);
  }
  if (created) {
    e.probes = 1;
    e.deadline = now_ns + timers_.retrans_ns;
    send_request(e, false);
  }
}

void NeighControl::tick(uint64_t now_ns) {
  for (auto it = state_.begin(); it != state_.end();) {
    Entry& e = it->second;
    if (now_ns < e.deadline) {
      ++it;
      continue;
    }
    if (e.state == State::REACHABLE) {
      // Reachable time is over: confirm with a unicast request (RFC 1122
      // section 2.3.2.1), keep using the MAC meanwhile.
      e.state = State::PROBE;
      e.probes = 0;
    }
    if (e.probes >= timers_.max_probes) {
      table_.release(it->first);  // failed: the slot goes back (Linux's NUD_FAILED entries are collected)
      drop_held(e);
      it = forget(it);
      continue;
    }
    ++e.probes;
    e.deadline = now_ns + timers_.retrans_ns;
    send_request(e, e.state == State::PROBE);
    ++it;
  }
}

void NeighControl::send_request(const Entry& e, bool unicast) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    counters_.drop(Drop::kNoMbuf);
    return;
  }
  auto* frame = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kArpFrameLen));
  rte_ether_addr bcast;
  std::memset(bcast.addr_bytes, 0xff, sizeof bcast.addr_bytes);
  const rte_ether_addr zero{};
  build_arp(frame, RTE_ARP_OP_REQUEST, unicast ? e.mac : bcast, macs_[idx(e.role)], source_[idx(e.role)],
            zero, e.ip);
  send_(m, e.role);
}

void NeighControl::drop_all_held(Drop reason) {
  for (auto& [slot, e] : state_) drop_held(e, reason);
}

void NeighControl::drop_held(Entry& e, Drop reason) {
  counters_.drop(reason, e.held.size());
  for (rte_mbuf* m : e.held) rte_pktmbuf_free(m);
  e.held.clear();
}

}  // namespace svcdp::dp
