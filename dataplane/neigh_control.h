// The control half of neighbour resolution, one per address family (ARP,
// RFC 826, for IPv4; NDP, RFC 4861, for IPv6), run on the neighbour
// thread (Dataplane serialises every call): answers for svcdp's own
// addresses, learns neighbours, resolves next hops for packets the
// workers could not send (holding a few per neighbour, as Linux does),
// and ages entries by re-probing them.
#pragma once

#include "conf/inet.h"
#include "dataplane/counters.h"
#include "dataplane/neigh_table.h"
#include "dataplane/prefix_table.h"
#include "dataplane/pkt_meta.h"

#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace svcdp::dp {

struct NeighTimers {
  uint64_t reachable_ns = 30'000'000'000;  // trust a confirmed MAC this long
  uint64_t retrans_ns = 1'000'000'000;     // between ARP requests
  unsigned max_probes = 3;                 // unanswered requests before giving up
  size_t max_held = 8;                     // packets held per unresolved neighbour
};

template <lb::Family F>
class BasicNeighControl {
 public:
  using Addr = typename F::Addr;
  static constexpr bool kIp6 = std::is_same_v<F, lb::Ip6>;
  // The prefixes answered for by proxy: a PrefixTable for IPv4, the node's
  // few IPv6 pod CIDRs for IPv6.
  using Prefixes = std::conditional_t<kIp6, std::vector<conf::Ipv6Prefix>, PrefixTable>;
  // Sends a complete frame out of a port (through a worker's TX path).
  using SendFn = std::function<void(rte_mbuf*, Role)>;

  BasicNeighControl(BasicNeighTable<F>& table, rte_mempool* pool, const std::array<rte_ether_addr, kRoleCount>& macs,
                    Counters& counters, SendFn send, NeighTimers timers = {});
  ~BasicNeighControl();

  // svcdp's address on a port (the source of its requests) and the
  // addresses it answers for there. Thread: neighbour.
  void set_addresses(Role role, const Addr& source, std::vector<Addr> answer_for) {
    source_[idx(role)] = source;
    local_[idx(role)] = std::move(answer_for);
  }

  // Proxy ARP / proxy NDP: svcdp also answers, with its own MAC, requests
  // on `role` for any address of `prefixes` (the node's pod CIDRs on the
  // pods port), except address probes and gratuitous ARP (RFC 5227) and
  // duplicate address detection (RFC 4862 section 5.4: a solicitation from
  // the unspecified address). Pods sharing an L2 segment (a macvlan or
  // bridge attachment made by the CNI plugin) then reach each other
  // through svcdp, as Calico's proxy_arp has them, so that a Service
  // endpoint's reply to a pod of the same node is reverse-translated.
  // Thread: neighbour.
  void set_proxy(Role role, Prefixes prefixes) { proxy_[idx(role)] = std::move(prefixes); }

  // Where NeighControl learns which neighbours the workers sent to since
  // it last asked (Worker::take_neigh_used, over every worker).
  // Thread: neighbour, before workers start.
  using UsedFn = std::function<bool(uint32_t slot)>;
  void set_use_source(UsedFn used) { used_ = std::move(used); }

  // A permanent neighbour (like `ip neigh add ... nud permanent`): never
  // probed, aged or replaced by ARP. False when the table is full.
  // Thread: neighbour.
  bool add_static(Role role, const Addr& ip, const rte_ether_addr& mac);

  // An ARP frame (IPv4) or a Neighbor Solicitation or Advertisement
  // (IPv6) a worker punted. Takes the mbuf. Thread: neighbour.
  void handle(rte_mbuf* m, Role in, uint64_t now_ns);
  // A packet waiting for the MAC of its next hop (meta->nexthop, or
  // meta->nexthop6). Takes the mbuf. Thread: neighbour.
  void resolve(rte_mbuf* m, uint64_t now_ns);
  // Retransmits, probes and expires. Thread: neighbour.
  void tick(uint64_t now_ns);

  // Frees every packet still held for a neighbour, counted as `reason`
  // (svcdp is stopping). Thread: neighbour, workers stopped.
  void drop_all_held(Drop reason);

  size_t pending() const { return state_.size(); }

 private:
  enum class State : uint8_t { INCOMPLETE, REACHABLE, PROBE };
  struct Entry {
    Entry(Role r, const Addr& addr, State s) : role(r), ip(addr), state(s) {}
    Role role;
    Addr ip;
    State state;
    unsigned probes = 0;
    // Learned from a request for one of our addresses, never needed by a
    // packet svcdp forwards: what gives way first when the table is full.
    bool passive = false;
    uint64_t deadline = 0;  // next retransmit (INCOMPLETE/PROBE) or re-probe (REACHABLE)
    rte_ether_addr mac{};
    std::vector<rte_mbuf*> held;
  };

  bool is_local(Role role, const Addr& ip) const;
  bool proxied(Role role, const Addr& target) const;
  void handle_arp(rte_mbuf* m, Role in, uint64_t now_ns);
  void handle_ndp(rte_mbuf* m, Role in, uint64_t now_ns);
  // Learns the sender of a request for (or a conflict with) one of our
  // addresses, or refreshes an entry it has; true when it has an entry.
  bool learn_sender(Role in, const Addr& ip, const rte_ether_addr& mac, bool ours, uint64_t now_ns);
  // The slot of (role, ip), made room for when the table is full by
  // releasing the passive entry confirmed longest ago (Linux's forced
  // neighbour GC at gc_thresh3 frees unreferenced entries first).
  // Entries the workers sent to are needed: never evicted for a request's
  // sender (asked at most every kUseScanNs while the table is full).
  std::optional<uint32_t> slot_for(Role role, const Addr& ip, uint64_t now_ns);
  static constexpr uint64_t kUseScanNs = 100'000'000;
  // Entries the workers sent to since the last look stop being passive.
  void take_use_marks(uint64_t now_ns);
  // Releases the passive entry (of `only`'s port, if given) confirmed
  // longest ago that holds no packet. False when there is none.
  bool evict_passive(std::optional<Role> only);
  void set_passive(Entry& e, bool passive);
  using Entries = std::unordered_map<uint32_t, Entry>;  // by table slot
  typename Entries::iterator forget(typename Entries::iterator it);
  void learn(uint32_t slot, Role role, const Addr& ip, const rte_ether_addr& mac, uint64_t now_ns);
  void send_request(const Entry& e, bool unicast);
  void drop_held(Entry& e, Drop reason = Drop::kNeighUnresolved);

  BasicNeighTable<F>& table_;
  rte_mempool* pool_;
  std::array<rte_ether_addr, kRoleCount> macs_;
  Counters& counters_;
  SendFn send_;
  NeighTimers timers_;
  std::array<Addr, kRoleCount> source_{};
  std::array<std::vector<Addr>, kRoleCount> local_;
  std::array<Prefixes, kRoleCount> proxy_;
  Entries state_;
  std::unordered_set<uint32_t> static_;        // slots of permanent neighbours
  UsedFn used_;
  std::array<uint32_t, kRoleCount> passive_count_{};
  uint64_t use_scanned_ns_ = 0;
};
using NeighControl = BasicNeighControl<lb::Ip4>;
using NeighControl6 = BasicNeighControl<lb::Ip6>;
extern template class BasicNeighControl<lb::Ip4>;
extern template class BasicNeighControl<lb::Ip6>;

}  // namespace svcdp::dp
