#include "dataplane/prefix_table.h"

#include <algorithm>
#include <bit>

namespace svcdp::dp {

PrefixTable::PrefixTable(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  auto t = std::make_shared<Table>();
  const uint32_t size = std::bit_ceil(static_cast<uint32_t>(entries.size() * 2 + 2));
  t->slots.resize(size);
  t->mask = size - 1;
  for (const Entry& e : entries) {
    const uint64_t key = make_key(e.addr, e.len);
    uint32_t i = hash(key) & t->mask;
    while (t->slots[i].key != 0 && t->slots[i].key != key) i = (i + 1) & t->mask;
    if (t->slots[i].key == key) continue;
    t->slots[i] = {key, e.value};
    ++t->count;
    const auto lengths = std::span(t->lengths).first(t->length_count);
    if (std::find(lengths.begin(), lengths.end(), e.len) == lengths.end()) t->lengths[t->length_count++] = e.len;
  }
  std::sort(t->lengths.begin(), t->lengths.begin() + t->length_count, std::greater<>());
  table_ = std::move(t);
}

}  // namespace svcdp::dp
