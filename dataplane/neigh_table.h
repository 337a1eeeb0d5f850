// The neighbour (ARP) table shared by the workers and the control thread.
//
// Single writer: only the control thread inserts and updates. Workers only
// read, without locks or read-modify-write: each slot is two 64-bit words
// (key, MAC) stored and loaded atomically; a slot's key never changes once
// set, so a worker that matched a key reads that neighbour's MAC (old or
// new, never another neighbour's). Open addressing with linear probing.
// A released slot becomes a tombstone (probe chains stay intact) that a
// later insertion reuses; its MAC is cleared before its key changes and a
// reader checks the key again after reading the MAC, so it never takes one
// neighbour's MAC for another's. Probes are bounded by the slot count.
// Capacity is fixed at start.
#pragma once

#include "dataplane/types.h"

#include <rte_ether.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace svcdp::dp {

class NeighTable {
 public:
  // Room for `capacity` neighbours (the slot array is twice as large).
  // Thread: control, before workers start.
  explicit NeighTable(uint32_t capacity);

  // The resolved MAC of `ip` on the port of `role`, if any.
  // Thread: any (workers on the hot path).
  // `slot`, when given, receives the slot of the match.
  bool lookup(Role role, be32 ip, rte_ether_addr& mac, uint32_t* slot = nullptr) const {
    const uint64_t key = make_key(role, ip);
    uint32_t i = hash(key) & mask_;
    for (uint32_t n = 0; n <= mask_; ++n, i = (i + 1) & mask_) {
      const uint64_t k = slots_[i].key.load(std::memory_order_acquire);
      if (k == key) {
        const uint64_t v = slots_[i].mac.load(std::memory_order_acquire);
        if (!(v & kValid) || slots_[i].key.load(std::memory_order_acquire) != key) return false;
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
  std::optional<uint32_t> find_or_insert(Role role, be32 ip);
  // Slot of (role, ip) if it exists. Thread: control.
  std::optional<uint32_t> find(Role role, be32 ip) const;
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
  template <typename F>
  void for_each(F&& f) const {
    for (uint32_t i = 0; i < slots(); ++i) {
      const uint64_t k = slots_[i].key.load(std::memory_order_acquire);
      if (!(k & kKeyPresent)) continue;
      const uint64_t v = slots_[i].mac.load(std::memory_order_acquire);
      rte_ether_addr mac{};
      for (int b = 0; b < RTE_ETHER_ADDR_LEN; ++b) mac.addr_bytes[b] = static_cast<uint8_t>(v >> (8 * b));
      f(static_cast<Role>((k >> 32) & 0xff), static_cast<be32>(k & 0xffffffff), (v & kValid) != 0, mac);
    }
  }

 private:
  static constexpr uint64_t kValid = uint64_t{1} << 63;
  static constexpr uint64_t kKeyPresent = uint64_t{1} << 40;
  static constexpr uint64_t kTombstone = 1;  // a released slot (no key has only bit 0)

  static uint64_t make_key(Role role, be32 ip) {
    return kKeyPresent | static_cast<uint64_t>(idx(role)) << 32 | ip;
  }
  static uint32_t hash(uint64_t key) { return static_cast<uint32_t>((key * 0x9e3779b97f4a7c15ull) >> 32); }

  struct alignas(16) Slot {
    std::atomic<uint64_t> key{0};
    std::atomic<uint64_t> mac{0};
  };
  std::unique_ptr<Slot[]> slots_;
  uint32_t mask_;
  uint32_t capacity_;
  uint32_t used_ = 0;
};

}  // namespace svcdp::dp
