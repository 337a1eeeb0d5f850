#include "lb/maglev.h"

#include "lb/table_memory.h"
#include "lb/types.h"

#include <algorithm>
#include <stdexcept>

namespace svcdp::lb {

uint32_t Maglev::size_for(size_t n, uint32_t max_size) {
  // Primes just below powers of two, and 65537 (Maglev's example size).
  static constexpr uint32_t kPrimes[] = {251,    509,    1021,   2039,   4093,   8191,   16381,  32749,
                                         65537,  131071, 262139, 524287, 1048573};
  const uint64_t want = std::max<uint64_t>(100 * n, 1);
  uint32_t best = kPrimes[0];
  for (uint32_t p : kPrimes) {
    if (p > max_size) break;
    best = p;
    if (p >= want) break;
  }
  return best;
}

Maglev::Maglev(std::span<const MaglevBackend> backends, uint32_t size, std::pmr::memory_resource* memory)
    : table_(or_heap(memory)) {
  if (backends.empty()) return;
  if (backends.size() > 65535) throw std::invalid_argument("Maglev: more than 65535 backends");
  if (size < 2) throw std::invalid_argument("Maglev: table size must be a prime > 1");
  const uint32_t m = size;
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
  constexpr uint16_t kEmpty = 0xffff;
  table_.assign(m, kEmpty);
  uint32_t filled = 0;
  for (;;) {
    for (size_t i = 0; i < backends.size(); ++i) {
      // Weighted variant (as Katran): a backend takes `weight` turns.
      for (uint32_t turn = 0; turn < std::max<uint32_t>(backends[i].weight, 1); ++turn) {
        Perm& p = perm[i];
        uint64_t c = (p.offset + p.next * p.skip) % m;
        while (table_[c] != kEmpty) {
          ++p.next;
          c = (p.offset + p.next * p.skip) % m;
        }
        table_[c] = static_cast<uint16_t>(i);
        ++p.next;
        if (++filled == m) return;
      }
    }
  }
}

}  // namespace svcdp::lb
