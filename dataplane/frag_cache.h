// Fragments of a load-balanced datagram follow its first fragment: only
// the first carries the ports (RFC 791 section 3.2; for IPv6, RFC 8200
// section 4.5: the upper-layer header is in the first fragment, RFC 7112),
// so the worker remembers, per (source, destination, identification,
// protocol), the addresses the first fragment was translated to, and gives
// the later fragments the same. A bounded cache per worker and family,
// 8-way set associative: a train whose slot is taken replaces an expired
// entry of its set, else the oldest, and says so (counted: a bound like
// Linux's ipfrag_high_thresh, not a silent loss).
#pragma once

#include "dataplane/types.h"
#include "lb/types.h"

#include <array>
#include <cstddef>

namespace svcdp::dp {

template <lb::Family F, size_t kSets>
class BasicFragCache {
 public:
  using Addr = typename F::Addr;
  // How long a first fragment's decision is kept: Linux's ipfrag_time.
  static constexpr uint32_t kTimeoutS = 30;

  // A datagram's fragments: IPv4's 16-bit or IPv6's 32-bit identification.
  struct Key {
    Addr src{}, dst{};
    uint32_t id = 0;
    uint8_t proto = 0;
    uint8_t pad[3] = {};
    bool operator==(const Key&) const = default;
  };
  struct Translation {
    Addr src{}, dst{};
  };

  // Records the translation of a first fragment (`k` as received).
  // Returns false when a live train had to give way. Thread: the owning
  // worker.
  bool remember(const Key& k, Translation to, uint32_t now_s) {
    Entry* set = &slots_[set_of(k) * kWays];
    Entry* victim = nullptr;
    for (size_t w = 0; w < kWays; ++w) {
      Entry& e = set[w];
      if ((e.used && e.key == k) || !e.used || now_s - e.seen_s > kTimeoutS) {
        victim = &e;
        break;
      }
      if (victim == nullptr || e.seen_s < victim->seen_s) victim = &e;
    }
    const bool evicted = victim->used && !(victim->key == k) && now_s - victim->seen_s <= kTimeoutS;
    *victim = {k, true, now_s, to};
    return !evicted;
  }

  // The translation for a later fragment of the same datagram, if known.
  // Thread: the owning worker.
  const Translation* find(const Key& k, uint32_t now_s) const {
    const Entry* set = &slots_[set_of(k) * kWays];
    for (size_t w = 0; w < kWays; ++w)
      if (set[w].used && set[w].key == k && now_s - set[w].seen_s <= kTimeoutS) return &set[w].to;
    return nullptr;
  }

 private:
  static_assert((kSets & (kSets - 1)) == 0, "a power of two");
  static constexpr size_t kWays = 8;
  struct Entry {
    Key key{};
    bool used = false;
    uint32_t seen_s = 0;
    Translation to{};
  };
  static size_t set_of(const Key& k) { return lb::fold_hash(k) & (kSets - 1); }

  std::array<Entry, kSets * kWays> slots_{};
};

// 8,192 IPv4 trains; 2,048 IPv6 ones (IPv6 sources fragment rarely: only
// above the path MTU, never a router on the way).
using FragCache = BasicFragCache<lb::Ip4, 1024>;
using FragCache6 = BasicFragCache<lb::Ip6, 256>;

}  // namespace svcdp::dp
