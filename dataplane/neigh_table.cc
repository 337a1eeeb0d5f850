#include "dataplane/neigh_table.h"

#include <bit>

namespace svcdp::dp {

template <lb::Family F>
BasicNeighTable<F>::BasicNeighTable(uint32_t capacity)
    : slots_(std::make_unique<Slot[]>(std::bit_ceil(capacity * 2u))),
      mask_(std::bit_ceil(capacity * 2u) - 1),
      capacity_(capacity) {}

template <lb::Family F>
std::optional<uint32_t> BasicNeighTable<F>::find(Role role, const Addr& ip) const {
  const uint64_t key = make_key(role, ip);
  uint32_t i = hash(key) & mask_;
  for (uint32_t n = 0; n <= mask_; ++n, i = (i + 1) & mask_) {
    const uint64_t k = slots_[i].key.load(std::memory_order_relaxed);
    if (k == key && holds(slots_[i], ip)) return i;
    if (k == 0) return std::nullopt;
  }
  return std::nullopt;
}

template <lb::Family F>
std::optional<uint32_t> BasicNeighTable<F>::find_or_insert(Role role, const Addr& ip) {
  const uint64_t key = make_key(role, ip);
  std::optional<uint32_t> free;  // the first tombstone or empty slot of the chain
  uint32_t i = hash(key) & mask_;
  for (uint32_t n = 0; n <= mask_; ++n, i = (i + 1) & mask_) {
    const uint64_t k = slots_[i].key.load(std::memory_order_relaxed);
    if (k == key && holds(slots_[i], ip)) return i;
    if (k == kTombstone && !free) free = i;
    if (k == 0) {
      if (!free) free = i;
      break;
    }
  }
  if (!free || used_ >= capacity_) return std::nullopt;
  ++used_;
  Slot& s = slots_[*free];
  s.mac.store(0, std::memory_order_relaxed);
  if constexpr (kIp6) {
    uint64_t w[2];
    std::memcpy(w, ip.bytes.data(), sizeof w);
    s.addr[0].store(w[0], std::memory_order_relaxed);
    s.addr[1].store(w[1], std::memory_order_relaxed);
  }
  s.key.store(key, std::memory_order_release);
  return free;
}

template <lb::Family F>
void BasicNeighTable<F>::release(uint32_t slot) {
  slots_[slot].mac.store(0, std::memory_order_release);
  slots_[slot].key.store(kTombstone, std::memory_order_release);
  --used_;
}

template <lb::Family F>
void BasicNeighTable<F>::set_mac(uint32_t slot, const rte_ether_addr& mac) {
  uint64_t v = kValid;
  for (int b = 0; b < RTE_ETHER_ADDR_LEN; ++b) v |= static_cast<uint64_t>(mac.addr_bytes[b]) << (8 * b);
  slots_[slot].mac.store(v, std::memory_order_release);
}

template <lb::Family F>
auto BasicNeighTable<F>::census() const -> Census {
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

template class BasicNeighTable<lb::Ip4>;
template class BasicNeighTable<lb::Ip6>;

}  // namespace svcdp::dp
