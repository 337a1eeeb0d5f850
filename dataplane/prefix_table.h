// Longest-prefix match over a small, immutable set of IPv4 prefixes (pod
// CIDRs: one or a few per node, nearly always of one length). One hash
// lookup per distinct prefix length, longest first: with the usual single
// /24 per node that is one probe, whatever the cluster size.
#pragma once

#include "dataplane/types.h"

#include <cstdint>
#include <optional>
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
    if (slots_.empty()) return std::nullopt;
    for (uint8_t len : lengths_) {
      const uint32_t key_addr = len == 0 ? 0 : ip & (~uint32_t{0} << (32 - len));
      const uint64_t key = make_key(key_addr, len);
      for (uint32_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
        if (slots_[i].key == key) return slots_[i].value;
        if (slots_[i].key == 0) break;
      }
    }
    return std::nullopt;
  }
  bool contains(uint32_t ip) const { return lookup(ip).has_value(); }
  size_t size() const { return count_; }

 private:
  static uint64_t make_key(uint32_t addr, uint8_t len) { return uint64_t{1} << 40 | uint64_t{len} << 32 | addr; }
  static uint32_t hash(uint64_t key) { return static_cast<uint32_t>((key * 0x9e3779b97f4a7c15ull) >> 32); }

  struct Slot {
    uint64_t key = 0;
    uint32_t value = 0;
  };
  std::vector<Slot> slots_;
  std::vector<uint8_t> lengths_;  // distinct lengths, longest first
  uint32_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace svcdp::dp
