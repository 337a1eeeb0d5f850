// Longest-prefix match over a small, immutable set of IPv4 prefixes (pod
// CIDRs: one or a few per node, nearly always of one length). One hash
// lookup per distinct prefix length, longest first: with the usual single
// /24 per node that is one probe, whatever the cluster size.
#pragma once

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
      const uint64_t key = make_key(key_addr, len);
      for (uint32_t i = hash(key) & t->mask;; i = (i + 1) & t->mask) {
        if (t->slots[i].key == key) return t->slots[i].value;
        if (t->slots[i].key == 0) break;
      }
    }
    return std::nullopt;
  }
  bool contains(uint32_t ip) const { return lookup(ip).has_value(); }
  size_t size() const { return table_ ? table_->count : 0; }

 private:
  static uint64_t make_key(uint32_t addr, uint8_t len) { return uint64_t{1} << 40 | uint64_t{len} << 32 | addr; }
  static uint32_t hash(uint64_t key) { return static_cast<uint32_t>((key * 0x9e3779b97f4a7c15ull) >> 32); }

  struct Slot {
    uint64_t key = 0;
    uint32_t value = 0;
  };
  // Immutable once built, so the generations that have this table share
  // it (a copy is a pointer: 5,000 nodes' CIDRs are 256 KiB of slots).
  struct Table {
    std::vector<Slot> slots;
    uint32_t mask = 0;
    uint8_t length_count = 0;
    std::array<uint8_t, 33> lengths{};  // distinct lengths, longest first
    size_t count = 0;
  };
  std::shared_ptr<const Table> table_;  // null: empty
};

}  // namespace svcdp::dp
