// The neighbour table shared by the workers and the control thread, one
// per address family (ARP for IPv4, NDP for IPv6).
//
// Single writer: only the control thread inserts and updates. Workers only
// read, without locks or read-modify-write: each slot is 64-bit words
// (key, MAC, and for IPv6 the address) stored and loaded atomically; a
// slot's key never changes once set, so a worker that matched a key reads
// that neighbour's MAC (old or new, never another neighbour's). An IPv6
// key holds a 32-bit hash of the address, the address itself is in the
// slot, written before the key is published and compared again after the
// MAC is read. Open addressing with linear probing.
// A released slot becomes a tombstone (probe chains stay intact) that a
// later insertion reuses; its MAC is cleared before its key changes and a
// reader checks the key again after reading the MAC, so it never takes one
// neighbour's MAC for another's. Probes are bounded by the slot count.
// Capacity is fixed at start.
#pragma once

#include "dataplane/types.h"
#include "lb/types.h"

#include <rte_ether.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <cstring>
#include <type_traits>

namespace svcdp::dp {

template <lb::Family F>
class BasicNeighTable {
 public:
  using Addr = typename F::Addr;

  // Room for `capacity` neighbours (the slot array is twice as large).
  // Thread: control, before workers start.
  explicit BasicNeighTable(uint32_t capacity);

  // The resolved MAC of `ip` on the port of `role`, if any.
  // Thread: any (workers on the hot path).
  // `slot`, when given, receives the slot of the match.
  bool lookup(Role role, const Addr& ip, rte_ether_addr& mac, uint32_t* slot = nullptr) const {
    const uint64_t key = make_key(role, ip);
    uint32_t i = hash(key) & mask_;
    for (uint32_t n = 0; n <= mask_; ++n, i = (i + 1) & mask_) {
      const uint64_t k = slots_[i].key.load(std::memory_order_acquire);
      if (k == key && holds(slots_[i], ip)) {
        const uint64_t v = slots_[i].mac.load(std::memory_order_acquire);
        if (!(v & kValid) || slots_[i].key.load(std::memory_order_acquire) != key || !holds(slots_[i], ip))
          return false;
        for (int b = 0; b < RTE_ETHER_ADDR_LEN; ++b) mac.addr_bytes[b] = static_cast<uint8_t>(v >> (8 * b));
        if (slot) *slot = i;
        return true;
      }
      if (k == 0) return false;
    }
    return false;
  }

  // Slot of (role, ip), created if absent; nullopt when the table is full.
  // Thread: control.
  std::optional<uint32_t> find_or_insert(Role role, const Addr& ip);
  // Slot of (role, ip) if it exists. Thread: control.
  std::optional<uint32_t> find(Role role, const Addr& ip) const;
  // Publishes a MAC for a slot, or marks it unresolved. Thread: control.
  void set_mac(uint32_t slot, const rte_ether_addr& mac);
  void invalidate(uint32_t slot) { slots_[slot].mac.store(0, std::memory_order_release); }
  // Frees a slot for another neighbour. Thread: control.
  void release(uint32_t slot);

  // Slot indices run from 0 to slots() - 1. Thread: any.
  uint32_t slots() const { return mask_ + 1; }
  uint32_t size() const { return used_; }
  uint32_t capacity() const { return capacity_; }

  // Entries with a MAC and entries asked for but unanswered, counted over
  // the slots. Thread: any.
  struct Census {
    uint32_t resolved = 0, unresolved = 0;
  };
  Census census() const;

  // Calls f(role, ip, resolved, mac) for every entry (a snapshot per slot;
  // entries may change meanwhile). Thread: any.
  template <typename Fn>
  void for_each(Fn&& f) const {
    for (uint32_t i = 0; i < slots(); ++i) {
      const uint64_t k = slots_[i].key.load(std::memory_order_acquire);
      if (!(k & kKeyPresent)) continue;
      const uint64_t v = slots_[i].mac.load(std::memory_order_acquire);
      rte_ether_addr mac{};
      for (int b = 0; b < RTE_ETHER_ADDR_LEN; ++b) mac.addr_bytes[b] = static_cast<uint8_t>(v >> (8 * b));
      f(static_cast<Role>((k >> 32) & 0xff), address(slots_[i], k), (v & kValid) != 0, mac);
    }
  }

 private:
  static constexpr uint64_t kValid = uint64_t{1} << 63;
  static constexpr uint64_t kKeyPresent = uint64_t{1} << 40;
  static constexpr uint64_t kTombstone = 1;  // a released slot (no key has only bit 0)

  static constexpr bool kIp6 = std::is_same_v<F, lb::Ip6>;
  static uint64_t make_key(Role role, const Addr& ip) {
    if constexpr (kIp6) {
      return kKeyPresent | static_cast<uint64_t>(idx(role)) << 32 | static_cast<uint32_t>(lb::addr_hash(ip));
    } else {
      return kKeyPresent | static_cast<uint64_t>(idx(role)) << 32 | ip;
    }
  }
  static uint32_t hash(uint64_t key) { return static_cast<uint32_t>((key * 0x9e3779b97f4a7c15ull) >> 32); }

  struct NoAddress {};
  struct alignas(kIp6 ? 32 : 16) Slot {
    std::atomic<uint64_t> key{0};
    std::atomic<uint64_t> mac{0};
    // IPv6: the address (the key holds its hash only).
    [[no_unique_address]] std::conditional_t<kIp6, std::array<std::atomic<uint64_t>, 2>, NoAddress> addr{};
  };
  static_assert(sizeof(Slot) == (kIp6 ? 32 : 16), "a slot is one aligned block of a cache line");
  static bool holds(const Slot& s, const Addr& ip) {
    if constexpr (kIp6) {
      uint64_t w[2];
      std::memcpy(w, ip.bytes.data(), sizeof w);
      return s.addr[0].load(std::memory_order_acquire) == w[0] && s.addr[1].load(std::memory_order_acquire) == w[1];
    } else {
      return true;  // the key is the address
    }
  }
  static Addr address(const Slot& s, uint64_t key) {
    if constexpr (kIp6) {
      const uint64_t w[2] = {s.addr[0].load(std::memory_order_acquire), s.addr[1].load(std::memory_order_acquire)};
      Addr a;
      std::memcpy(a.bytes.data(), w, sizeof w);
      return a;
    } else {
      return static_cast<be32>(key & 0xffffffff);
    }
  }
  std::unique_ptr<Slot[]> slots_;
  uint32_t mask_;
  uint32_t capacity_;
  uint32_t used_ = 0;
};
using NeighTable = BasicNeighTable<lb::Ip4>;
using NeighTable6 = BasicNeighTable<lb::Ip6>;
extern template class BasicNeighTable<lb::Ip4>;
extern template class BasicNeighTable<lb::Ip6>;

}  // namespace svcdp::dp
