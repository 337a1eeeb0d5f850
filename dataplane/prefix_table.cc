#include "dataplane/prefix_table.h"

#include <algorithm>
#include <bit>

namespace svcdp::dp {

PrefixTable::PrefixTable(const std::vector<Entry>& entries) {
  const uint32_t size = std::bit_ceil(static_cast<uint32_t>(entries.size() * 2 + 2));
  slots_.resize(size);
  mask_ = size - 1;
  for (const Entry& e : entries) {
    const uint64_t key = make_key(e.addr, e.len);
    uint32_t i = hash(key) & mask_;
    while (slots_[i].key != 0 && slots_[i].key != key) i = (i + 1) & mask_;
    if (slots_[i].key == key) continue;
    slots_[i] = {key, e.value};
    ++count_;
    if (std::find(lengths_.begin(), lengths_.end(), e.len) == lengths_.end()) lengths_.push_back(e.len);
  }
  std::sort(lengths_.begin(), lengths_.end(), std::greater<>());
}

}  // namespace svcdp::dp
