// Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable
// Software Network Load Balancer", NSDI 2016, section 3.4): a lookup table
// of M slots (M prime) filled by each backend in turn following its own
// permutation of the slots, so that every backend owns ⌊M/N⌋ or ⌈M/N⌉
// slots and a change of the backend set moves few slots.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <span>
#include <vector>

namespace svcdp::lb {

struct MaglevBackend {
  uint64_t id;          // stable identity (e.g. hash of address and port)
  uint32_t weight = 1;  // turns per round: slots are shared in proportion
};

class Maglev {
 public:
  static constexpr uint32_t kDefaultMaxSize = 65537;

  Maglev() = default;
  // Builds a table of `size` slots (a prime) over `backends`; slot values
  // are indices into `backends`. An empty backend list gives an empty
  // table. The slots are allocated in `memory` (the heap if null).
  // Thread: control.
  Maglev(std::span<const MaglevBackend> backends, uint32_t size, std::pmr::memory_resource* memory = nullptr);

  // The backend index for a flow hash, or -1 for an empty table.
  // Thread: any.
  int lookup(uint64_t hash) const {
    if (!narrow_.empty()) [[likely]]
      return narrow_[hash % narrow_.size()];
    if (wide_.empty()) return -1;
    return static_cast<int>(wide_[hash % wide_.size()]);
  }

  uint32_t size() const { return static_cast<uint32_t>(narrow_.empty() ? wide_.size() : narrow_.size()); }
  bool empty() const { return narrow_.empty() && wide_.empty(); }
  // Every slot's backend index (a copy). Thread: control, tests.
  std::vector<uint32_t> slots() const;
  // Where the slots live (which memory the table was given). Thread: any.
  const void* data() const { return narrow_.empty() ? static_cast<const void*>(wide_.data()) : narrow_.data(); }

  // The table size svcdp uses for n backends: the smallest listed prime
  // ≥ 100·n (each backend's share within about 1 % of fair: Maglev,
  // NSDI '16, section 5.3), at most `max_size`; a service too large for
  // that still gets at least 10 slots per backend (within about 10 %), so
  // the table grows with the endpoint count however large the service.
  // Small services get small tables: 100 k services fit.
  static uint32_t size_for(size_t n, uint32_t max_size = kDefaultMaxSize);

 private:
  template <typename Slot>
  void fill(std::pmr::vector<Slot>& table, std::span<const MaglevBackend> backends, uint32_t m);

  // 16-bit slots while the backends fit (half the memory and cache), 32-bit
  // beyond 65,535 backends; one of the two is used.
  std::pmr::vector<uint16_t> narrow_;
  std::pmr::vector<uint32_t> wide_;
};

}  // namespace svcdp::lb
