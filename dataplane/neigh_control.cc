#include "dataplane/neigh_control.h"

#include "dataplane/arp.h"
#include "dataplane/ndp.h"

#include <algorithm>
#include <cstring>

namespace svcdp::dp {

template <lb::Family F>
BasicNeighControl<F>::BasicNeighControl(BasicNeighTable<F>& table, rte_mempool* pool,
                                        const std::array<rte_ether_addr, kRoleCount>& macs, Counters& counters,
                                        SendFn send, NeighTimers timers)
    : table_(table), pool_(pool), macs_(macs), counters_(counters), send_(std::move(send)), timers_(timers) {}

template <lb::Family F>
BasicNeighControl<F>::~BasicNeighControl() {
  for (auto& [slot, e] : state_)
    for (rte_mbuf* m : e.held) rte_pktmbuf_free(m);
}

template <lb::Family F>
bool BasicNeighControl<F>::is_local(Role role, const Addr& ip) const {
  const auto& v = local_[idx(role)];
  return std::find(v.begin(), v.end(), ip) != v.end();
}

template <lb::Family F>
bool BasicNeighControl<F>::proxied(Role role, const Addr& target) const {
  if constexpr (kIp6) {
    const auto& cidrs = proxy_[idx(role)];
    return std::any_of(cidrs.begin(), cidrs.end(), [&](const conf::Ipv6Prefix& c) { return c.contains(target.bytes); });
  } else {
    return proxy_[idx(role)].contains(rte_be_to_cpu_32(target));
  }
}

template <lb::Family F>
void BasicNeighControl<F>::set_passive(Entry& e, bool passive) {
  if (e.passive == passive) return;
  e.passive = passive;
  passive_count_[idx(e.role)] += passive ? 1 : -1;
}

template <lb::Family F>
auto BasicNeighControl<F>::forget(typename Entries::iterator it) -> typename Entries::iterator {
  set_passive(it->second, false);
  return state_.erase(it);
}

template <lb::Family F>
void BasicNeighControl<F>::take_use_marks(uint64_t now_ns) {
  if (!used_ || now_ns - use_scanned_ns_ < kUseScanNs) return;
  use_scanned_ns_ = now_ns;
  for (auto& [slot, e] : state_)
    if (e.passive && used_(slot)) set_passive(e, false);
}

template <lb::Family F>
bool BasicNeighControl<F>::evict_passive(std::optional<Role> only) {
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

template <lb::Family F>
std::optional<uint32_t> BasicNeighControl<F>::slot_for(Role role, const Addr& ip, uint64_t now_ns) {
  if (auto slot = table_.find_or_insert(role, ip)) return slot;
  take_use_marks(now_ns);
  if (!evict_passive(std::nullopt)) return std::nullopt;
  return table_.find_or_insert(role, ip);
}

template <lb::Family F>
void BasicNeighControl<F>::handle(rte_mbuf* m, Role in, uint64_t now_ns) {
  if constexpr (kIp6)
    handle_ndp(m, in, now_ns);
  else
    handle_arp(m, in, now_ns);
}

// A sender is added when the packet is for one of our addresses (RFC 826's
// merge_flag, RFC 4861 section 7.2.3), else only an entry it has is
// refreshed.
template <lb::Family F>
bool BasicNeighControl<F>::learn_sender(Role in, const Addr& ip, const rte_ether_addr& mac, bool ours,
                                        uint64_t now_ns) {
  const bool known = table_.find(in, ip).has_value();
  // A port's senders may hold half the table at most (Linux's
  // gc_thresh, per port): a flood on one port leaves the other's
  // neighbours alone.
  if (ours && !known && passive_count_[idx(in)] >= table_.capacity() / 2) {
    take_use_marks(now_ns);
    evict_passive(in);
  }
  auto slot = ours ? slot_for(in, ip, now_ns) : table_.find(in, ip);
  if (!slot) return false;
  learn(*slot, in, ip, mac, now_ns);
  if (!known) set_passive(state_.at(*slot), true);
  return true;
}

// RFC 826 "Packet Reception": update the sender's entry if we have one;
// if we are the target, add it (merge_flag) and answer a request. Not
// from a sender no host can be (a group or zero MAC), nor one claiming an
// address that is ours on that port (RFC 5227 section 2.4, a conflict:
// neither learned nor answered).
template <lb::Family F>
void BasicNeighControl<F>::handle_arp(rte_mbuf* m, Role in, uint64_t now_ns) {
  if constexpr (!kIp6) {
    const uint32_t len = rte_pktmbuf_data_len(m);
    auto arp = parse_arp(rte_pktmbuf_mtod_offset(m, const uint8_t*, sizeof(rte_ether_hdr)),
                         len - static_cast<uint32_t>(sizeof(rte_ether_hdr)));
    const auto discard = [&](Drop why) {
      counters_.drop(why);
      rte_pktmbuf_free(m);
    };
    if (!arp) return discard(Drop::kArpMalformed);
    if (rte_is_multicast_ether_addr(&arp->sender_mac) || rte_is_zero_ether_addr(&arp->sender_mac))
      return discard(Drop::kArpBadSender);
    if (arp->sender_ip != 0 && (arp->sender_ip == source_[idx(in)] || is_local(in, arp->sender_ip)))
      return discard(Drop::kArpAddressConflict);
    const bool answer = (arp->sender_ip != 0 && arp->target_ip != arp->sender_ip && proxied(in, arp->target_ip)) ||
                        is_local(in, arp->target_ip);
    const bool ours = answer || arp->target_ip == source_[idx(in)];
    // Sender 0.0.0.0 is an address probe (RFC 5227): nothing to learn.
    const bool learned = arp->sender_ip != 0 && learn_sender(in, arp->sender_ip, arp->sender_mac, ours, now_ns);
    if (arp->op != RTE_ARP_OP_REQUEST || !answer) {
      if (arp->op == RTE_ARP_OP_REQUEST && !ours) return discard(Drop::kArpNotForUs);
      if (arp->op != RTE_ARP_OP_REQUEST && !learned) return discard(Drop::kArpUnsolicited);
      rte_pktmbuf_free(m);
      return;
    }
    // Reuse the request's mbuf for the reply.
    m->data_len = m->pkt_len = kArpFrameLen;
    build_arp(rte_pktmbuf_mtod(m, uint8_t*), RTE_ARP_OP_REPLY, arp->sender_mac, macs_[idx(in)], arp->target_ip,
              arp->sender_mac, arp->sender_ip);
    send_(m, in);
  }
}

// RFC 4861 section 7.2.3 (an NS: learn its sender's link-layer address,
// answer for our addresses, by proxy for the pod CIDRs but never an
// address being checked for duplicates) and 7.2.5 (an NA: update the
// entry it answers). As ARP, no sender may claim one of our addresses
// (RFC 4862 section 5.4.3: a duplicate), neither learned nor answered.
template <lb::Family F>
void BasicNeighControl<F>::handle_ndp(rte_mbuf* m, Role in, uint64_t now_ns) {
  if constexpr (kIp6) {
    const uint32_t len = rte_pktmbuf_data_len(m);
    const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
    const auto ndp = parse_ndp(reinterpret_cast<const uint8_t*>(eth + 1), len - static_cast<uint32_t>(sizeof *eth));
    const auto discard = [&](Drop why) {
      counters_.drop(why);
      rte_pktmbuf_free(m);
    };
    if (!ndp) return discard(Drop::kNdpInvalid);
    const Addr src{ndp->src}, target{ndp->target};
    const bool unspecified = src.is_zero();
    if (ndp->type == kIcmp6NeighborAdvertisement) {
      if (target == source_[idx(in)] || is_local(in, target)) return discard(Drop::kNdpAddressConflict);
      const rte_ether_addr mac = ndp->link_addr.value_or(eth->src_addr);
      if (!learn_sender(in, target, mac, false, now_ns)) return discard(Drop::kNdpUnsolicited);
      rte_pktmbuf_free(m);
      return;
    }
    if (!unspecified && (src == source_[idx(in)] || is_local(in, src))) return discard(Drop::kNdpAddressConflict);
    const bool answer = is_local(in, target) || (!unspecified && target != src && proxied(in, target));
    const bool ours = answer || target == source_[idx(in)];
    if (!unspecified && ndp->link_addr) learn_sender(in, src, *ndp->link_addr, ours, now_ns);
    if (!answer) return discard(Drop::kNdpNotForUs);
    // Reuse the solicitation's mbuf for the advertisement (build reads the
    // NS before it writes).
    const NdpMessage ns = *ndp;
    const rte_ether_addr ns_eth_src = eth->src_addr;
    m->data_len = m->pkt_len = kNdpFrameLen;
    // Router set for svcdp's own addresses (the pods' gateway), not for a
    // pod it answers for.
    build_neighbor_advert(rte_pktmbuf_mtod(m, uint8_t*), ns, ns_eth_src, macs_[idx(in)], is_local(in, target));
    send_(m, in);
  }
}

template <lb::Family F>
bool BasicNeighControl<F>::add_static(Role role, const Addr& ip, const rte_ether_addr& mac) {
  auto slot = table_.find_or_insert(role, ip);
  if (!slot) return false;
  table_.set_mac(*slot, mac);
  static_.insert(*slot);
  if (auto it = state_.find(*slot); it != state_.end()) forget(it);
  return true;
}

template <lb::Family F>
void BasicNeighControl<F>::learn(uint32_t slot, Role role, const Addr& ip, const rte_ether_addr& mac, uint64_t now_ns) {
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

template <lb::Family F>
void BasicNeighControl<F>::resolve(rte_mbuf* m, uint64_t now_ns) {
  const PktMeta* meta = pkt_meta(m);
  const Role role = meta->out_role;
  Addr nexthop;
  if constexpr (kIp6)
    nexthop = meta->nexthop6;
  else
    nexthop = meta->nexthop;
  auto slot = slot_for(role, nexthop, now_ns);
  if (!slot) {
    counters_.drop(Drop::kNeighTableFull);
    rte_pktmbuf_free(m);
    return;
  }
  auto [it, created] = state_.try_emplace(*slot, role, nexthop, State::INCOMPLETE);
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

template <lb::Family F>
void BasicNeighControl<F>::tick(uint64_t now_ns) {
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

// An ARP request, broadcast or (a probe) to the MAC we have; an NS to the
// target's solicited-node group (RFC 4861 section 7.2.2; probes too: a
// multicast NS reaches the neighbour as surely, at the cost of waking
// the few hosts sharing its group).
template <lb::Family F>
void BasicNeighControl<F>::send_request(const Entry& e, bool unicast) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    counters_.drop(Drop::kNoMbuf);
    return;
  }
  if constexpr (kIp6) {
    auto* frame = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kNdpFrameLen));
    build_neighbor_solicit(frame, source_[idx(e.role)].bytes, macs_[idx(e.role)], e.ip.bytes);
  } else {
    auto* frame = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kArpFrameLen));
    rte_ether_addr bcast;
    std::memset(bcast.addr_bytes, 0xff, sizeof bcast.addr_bytes);
    const rte_ether_addr zero{};
    build_arp(frame, RTE_ARP_OP_REQUEST, unicast ? e.mac : bcast, macs_[idx(e.role)], source_[idx(e.role)], zero,
              e.ip);
  }
  send_(m, e.role);
}

template <lb::Family F>
void BasicNeighControl<F>::drop_all_held(Drop reason) {
  for (auto& [slot, e] : state_) drop_held(e, reason);
}

template <lb::Family F>
void BasicNeighControl<F>::drop_held(Entry& e, Drop reason) {
  counters_.drop(reason, e.held.size());
  for (rte_mbuf* m : e.held) rte_pktmbuf_free(m);
  e.held.clear();
}

template class BasicNeighControl<lb::Ip4>;
template class BasicNeighControl<lb::Ip6>;

}  // namespace svcdp::dp
