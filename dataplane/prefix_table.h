// Longest-prefix match over an immutable set of IPv4 prefixes (pod CIDRs:
// one or a few per node, nearly always of one length). One hash lookup
// per distinct prefix length, longest first: with the usual single /24
// per node that is one probe, whatever the cluster size. The slots are a
// PersistentVector, so that the next generation's table is this one with
// a Node's prefixes added or removed in O(log n) (Edit), sharing the rest.
#pragma once

#include "dataplane/persistent_vector.h"
#include "dataplane/types.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace svcdp::dp {

class PrefixTable {
  struct Slot {
    uint64_t key = 0;  // 0: empty
    uint32_t value = 0;
  };
  // 256 slots (4 KiB) a leaf, at most half of them used: a leaf alone
  // holds up to 128 prefixes, one inner level above it 32 k (a 5,000-node
  // cluster's pod CIDRs take 32 k slots).
  using Slots = PersistentVector<Slot, 8>;

 public:
  struct Entry {
    uint32_t addr;  // host order, host bits zero
    uint8_t len;
    uint32_t value;
  };

  PrefixTable() = default;
  // Later duplicates of the same prefix are ignored. Thread: control.
  explicit PrefixTable(const std::vector<Entry>& entries);

  // Value of the longest prefix containing `ip` (host order).
  // Thread: any.
  std::optional<uint32_t> lookup(uint32_t ip) const {
    const Table* t = table_.get();
    if (!t) return std::nullopt;
    for (uint8_t l = 0; l < t->length_count; ++l) {
      const uint8_t len = t->lengths[l];
      const uint32_t key_addr = len == 0 ? 0 : ip & (~uint32_t{0} << (32 - len));
      if (const Slot* s = t->find(make_key(key_addr, len))) return s->value;
    }
    return std::nullopt;
  }
  bool contains(uint32_t ip) const { return lookup(ip).has_value(); }
  size_t size() const { return table_ ? table_->count : 0; }

  // A copy of a table with prefixes added, changed or removed, each in
  // O(log n) (a rehash when it doubles aside). Thread: control.
  class Edit {
   public:
    explicit Edit(const PrefixTable& base);
    // Adds `addr/len` → `value`, or gives it that value.
    void set(uint32_t addr, uint8_t len, uint32_t value);
    bool contains(uint32_t addr, uint8_t len) const;
    // Removes `addr/len`; false when it is not there.
    bool erase(uint32_t addr, uint8_t len);
    PrefixTable finish();

   private:
    // The slot holding `key`, if any.
    std::optional<uint32_t> find(uint64_t key) const;
    void rehash(uint32_t slots);
    void insert_new(uint64_t key, uint32_t value);
    uint32_t mask_ = 0;
    size_t count_ = 0;
    std::array<uint32_t, 33> per_length_{};
    Slots::Edit slots_;
  };

 private:
  static uint64_t make_key(uint32_t addr, uint8_t len) { return uint64_t{1} << 40 | uint64_t{len} << 32 | addr; }
  static uint32_t hash(uint64_t key) { return static_cast<uint32_t>((key * 0x9e3779b97f4a7c15ull) >> 32); }

  // Immutable once built, so the generations that have this table share
  // it; the next one shares all of its slots but the leaves it changed.
  struct Table {
    Slots slots;  // open addressing, linear probing
    uint32_t mask = 0;
    uint8_t length_count = 0;
    std::array<uint8_t, 33> lengths{};  // distinct lengths, longest first
    size_t count = 0;
    std::array<uint32_t, 33> per_length{};  // prefixes of each length
    const Slot* find(uint64_t key) const {
      for (uint32_t i = hash(key) & mask;; i = (i + 1) & mask) {
        const Slot& s = slots[i];
        if (s.key == key) return &s;
        if (s.key == 0) return nullptr;
      }
    }
  };
  std::shared_ptr<const Table> table_;  // null: empty
};

}  // namespace svcdp::dp
