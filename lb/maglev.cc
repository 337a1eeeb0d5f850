#include "lb/maglev.h"

#include "lb/table_memory.h"
#include "lb/types.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace svcdp::lb {

uint32_t Maglev::size_for(size_t n, uint32_t max_size) {
  // Primes just below powers of two, and 65537 (Maglev's example size).
  static constexpr uint32_t kPrimes[] = {251,     509,     1021,    2039,    4093,     8191,     16381,
                                         32749,   65537,   131071,  262139,  524287,   1048573,  2097143,
                                         4194301, 8388593, 16777213};
  const uint64_t want = std::max<uint64_t>(100 * n, 1);
  const uint64_t enough = std::max<uint64_t>(10 * n, n + 1);
  uint32_t best = 0;
  for (uint32_t p : kPrimes) {
    if (p > max_size && best >= enough) break;  // the cap, once every backend has 10 slots
    best = p;
    if (p >= want) break;
  }
  return best;
}

Maglev::Maglev(std::span<const MaglevBackend> backends, uint32_t size, std::pmr::memory_resource* memory)
    : narrow_(or_heap(memory)), wide_(or_heap(memory)) {
  if (backends.empty()) return;
  if (size < 2 || size <= backends.size()) throw std::invalid_argument("Maglev: table size must be a prime above the backend count");
  if (backends.size() < 0xffff)
    fill(narrow_, backends, size);
  else
    fill(wide_, backends, size);
}

std::vector<uint32_t> Maglev::slots() const {
  return narrow_.empty() ? std::vector<uint32_t>(wide_.begin(), wide_.end())
                         : std::vector<uint32_t>(narrow_.begin(), narrow_.end());
}

template <typename Slot>
void Maglev::fill(std::pmr::vector<Slot>& table, std::span<const MaglevBackend> backends, uint32_t m) {
  // Pseudocode 1: offset and skip from two hashes of the backend's name.
  struct Perm {
    uint64_t offset, skip, next;
  };
  std::vector<Perm> perm(backends.size());
  for (size_t i = 0; i < backends.size(); ++i) {
    const uint64_t h1 = mix64(backends[i].id ^ 0x5bd1e9955bd1e995ull);
    const uint64_t h2 = mix64(backends[i].id ^ 0xc2b2ae3d27d4eb4full);
    perm[i] = {h1 % m, h2 % (m - 1) + 1, 0};
  }
  constexpr Slot kEmpty = std::numeric_limits<Slot>::max();
  table.assign(m, kEmpty);
  uint32_t filled = 0;
  for (;;) {
    for (size_t i = 0; i < backends.size(); ++i) {
      // Weighted variant (as Katran): a backend takes `weight` turns.
      for (uint32_t turn = 0; turn < std::max<uint32_t>(backends[i].weight, 1); ++turn) {
        Perm& p = perm[i];
        uint64_t c = (p.offset + p.next * p.skip) % m;
        while (table[c] != kEmpty) {
          ++p.next;
          c = (p.offset + p.next * p.skip) % m;
        }
        table[c] = static_cast<Slot>(i);
        ++p.next;
        if (++filled == m) return;
      }
    }
  }
}

}  // namespace svcdp::lb
