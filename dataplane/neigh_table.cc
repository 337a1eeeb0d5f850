#include "dataplane/neigh_table.h"

#include <bit>

namespace svcdp::dp {

NeighTable::NeighTable(uint32_t capacity)
    : slots_(std::make_unique<Slot[]>(std::bit_ceil(capacity * 2u))),
      mask_(std::bit_ceil(capacity * 2u) - 1),
      capacity_(capacity) {}

std::optional<uint32_t> NeighTable::find(Role role, be32 ip) const {
  const uint64_t key = make_key(role, ip);
  uint32_t i = hash(key) & mask_;
  for (uint32_t n = 0; n <= mask_; ++n, i = (i + 1) & mask_) {
    const uint64_t k = slots_[i].key.load(std::memory_order_relaxed);
    if (k == key) return i;
    if (k == 0) return std::nullopt;
  }
  return std::nullopt;
}

std::optional<uint32_t> NeighTable::find_or_insert(Role role, be32 ip) {
  const uint64_t key = make_key(role, ip);
  std::optional<uint32_t> free;  // the first tombstone or empty slot of the chain
  uint32_t i = hash(key) & mask_;
  for (uint32_t n = 0; n <= mask_; ++n, i = (i + 1) & mask_) {
    const uint64_t k = slots_[i].key.load(std::memory_order_relaxed);
    if (k == key) return i;
    if (k == kTombstone && !free) free = i;
    if (k == 0) {
      if (!free) free = i;
      break;
    }
  }
  if (!free || used_ >= capacity_) return std::nullopt;
  ++used_;
  slots_[*free].mac.store(0, std::memory_order_relaxed);
  slots_[*free].key.store(key, std::memory_order_release);
  return free;
}

void NeighTable::release(uint32_t slot) {
  slots_[slot].mac.store(0, std::memory_order_release);
  slots_[slot].key.store(kTombstone, std::memory_order_release);
  --used_;
}

void NeighTable::set_mac(uint32_t slot, const rte_ether_addr& mac) {
  uint64_t v = kValid;
  for (int b = 0; b < RTE_ETHER_ADDR_LEN; ++b) v |= static_cast<uint64_t>(mac.addr_bytes[b]) << (8 * b);
  slots_[slot].mac.store(v, std::memory_order_release);
}

NeighTable::Census NeighTable::census() const {
  Census c;
  for (uint32_t i = 0; i < slots(); ++i) {
    const uint64_t k = slots_[i].key.load(std::memory_order_acquire);
    if (!(k & kKeyPresent)) continue;  // empty or released
    if (slots_[i].mac.load(std::memory_order_acquire) & kValid)
      ++c.resolved;
    else
      ++c.unresolved;
  }
  return c;
}

}  // namespace svcdp::dp
