// Longest-prefix match over an immutable set of prefixes of one address
// family (pod CIDRs: one or a few per node, nearly always of one length).
// One hash lookup per distinct prefix length, longest first: with the
// usual single /24 (IPv4) or /64 (IPv6) per node that is one probe,
// whatever the cluster size. The slots are a PersistentVector, so that the
// next generation's table is this one with a Node's prefixes added or
// removed in O(log n) (Edit), sharing the rest.
#pragma once

#include "dataplane/persistent_vector.h"
#include "dataplane/types.h"
#include "lb/types.h"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace svcdp::dp {

// How a family's addresses become a prefix table's keys: the address
// masked to the length, with the length, never equal to the empty key.
template <class A>
struct PrefixKey;

// IPv4: host-order addresses; the key one word (1 << 40 | len << 32 | addr).
template <>
struct PrefixKey<uint32_t> {
  static constexpr uint8_t kBits = 32;
  using Key = uint64_t;
  static constexpr Key kEmpty = 0;
  static Key make(uint32_t addr, uint8_t len) {
    const uint32_t masked = len == 0 ? 0 : addr & (~uint32_t{0} << (32 - len));
    return uint64_t{1} << 40 | uint64_t{len} << 32 | masked;
  }
  static uint32_t hash(Key key) { return static_cast<uint32_t>((key * 0x9e3779b97f4a7c15ull) >> 32); }
};

// IPv6: addresses as stored (network order); the key the two masked
// halves, host order, and the length.
struct Prefix6Key {
  uint64_t hi = 0, lo = 0;
  uint32_t tag = 0;  // 1 << 8 | len; 0: empty
  bool operator==(const Prefix6Key&) const = default;
};
template <>
struct PrefixKey<lb::Addr6> {
  static constexpr uint8_t kBits = 128;
  using Key = Prefix6Key;
  static constexpr Key kEmpty{};
  static uint64_t mask(uint64_t half, int bits) {
    return bits <= 0 ? 0 : bits >= 64 ? half : half & (~uint64_t{0} << (64 - bits));
  }
  static Key make(const lb::Addr6& a, uint8_t len) {
    uint64_t hi, lo;
    std::memcpy(&hi, a.bytes.data(), 8);
    std::memcpy(&lo, a.bytes.data() + 8, 8);
    return {mask(be64toh(hi), len), mask(be64toh(lo), len - 64), uint32_t{1} << 8 | len};
  }
  static uint32_t hash(const Key& k) {
    const uint64_t h = (k.hi * 0x9e3779b97f4a7c15ull) ^ (k.lo + k.tag) * 0xc2b2ae3d27d4eb4full;
    return static_cast<uint32_t>((h ^ (h >> 29)) >> 16);
  }
};

template <class A>
class BasicPrefixTable {
  using Traits = PrefixKey<A>;
  using Key = typename Traits::Key;
  static constexpr uint8_t kBits = Traits::kBits;

  struct Slot {
    Key key = Traits::kEmpty;
    uint32_t value = 0;
  };
  // 256 slots (4 KiB) a leaf, at most half of them used: a leaf alone
  // holds up to 128 prefixes, one inner level above it 32 k (a 5,000-node
  // cluster's pod CIDRs take 32 k slots).
  using Slots = PersistentVector<Slot, 8>;

 public:
  struct Entry {
    A addr;  // IPv4 in host order, IPv6 as stored; host bits zero
    uint8_t len;
    uint32_t value;
  };

  BasicPrefixTable() = default;
  // Later duplicates of the same prefix are ignored. Thread: control.
  explicit BasicPrefixTable(const std::vector<Entry>& entries);

  // Value of the longest prefix containing `ip`. Thread: any.
  std::optional<uint32_t> lookup(const A& ip) const {
    const Table* t = table_.get();
    if (!t) return std::nullopt;
    for (uint8_t l = 0; l < t->length_count; ++l)
      if (const Slot* s = t->find(Traits::make(ip, t->lengths[l]))) return s->value;
    return std::nullopt;
  }
  bool contains(const A& ip) const { return lookup(ip).has_value(); }
  size_t size() const { return table_ ? table_->count : 0; }

  // A copy of a table with prefixes added, changed or removed, each in
  // O(log n) (a rehash when it doubles aside). Thread: control.
  class Edit {
   public:
    explicit Edit(const BasicPrefixTable& base);
    // Adds `addr/len` → `value`, or gives it that value.
    void set(const A& addr, uint8_t len, uint32_t value);
    bool contains(const A& addr, uint8_t len) const;
    // Removes `addr/len`; false when it is not there.
    bool erase(const A& addr, uint8_t len);
    BasicPrefixTable finish();

   private:
    // The slot holding `key`, if any.
    std::optional<uint32_t> find(const Key& key) const;
    void rehash(uint32_t slots);
    void insert_new(const Key& key, uint32_t value);
    uint32_t mask_ = 0;
    size_t count_ = 0;
    std::array<uint32_t, kBits + 1> per_length_{};
    typename Slots::Edit slots_;
  };

 private:
  // Immutable once built, so the generations that have this table share
  // it; the next one shares all of its slots but the leaves it changed.
  struct Table {
    Slots slots;  // open addressing, linear probing
    uint32_t mask = 0;
    uint8_t length_count = 0;
    std::array<uint8_t, kBits + 1> lengths{};  // distinct lengths, longest first
    size_t count = 0;
    std::array<uint32_t, kBits + 1> per_length{};  // prefixes of each length
    const Slot* find(const Key& key) const {
      for (uint32_t i = Traits::hash(key) & mask;; i = (i + 1) & mask) {
        const Slot& s = slots[i];
        if (s.key == key) return &s;
        if (s.key == Traits::kEmpty) return nullptr;
      }
    }
  };
  std::shared_ptr<const Table> table_;  // null: empty
};

using PrefixTable = BasicPrefixTable<uint32_t>;
using PrefixTable6 = BasicPrefixTable<lb::Addr6>;
extern template class BasicPrefixTable<uint32_t>;
extern template class BasicPrefixTable<lb::Addr6>;

}  // namespace svcdp::dp
