#include "dataplane/prefix_table.h"

#include <algorithm>
#include <bit>

namespace svcdp::dp {

PrefixTable::PrefixTable(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  Edit e(*this);
  for (const Entry& en : entries)
    if (!e.contains(en.addr, en.len)) e.set(en.addr, en.len, en.value);
  *this = e.finish();
}

PrefixTable::Edit::Edit(const PrefixTable& base)
    : slots_(base.table_ ? base.table_->slots : Slots{}) {
  if (const Table* t = base.table_.get()) {
    mask_ = t->mask;
    count_ = t->count;
    per_length_ = t->per_length;
  }
}

std::optional<uint32_t> PrefixTable::Edit::find(uint64_t key) const {
  if (slots_.size() == 0) return std::nullopt;
  for (uint32_t i = hash(key) & mask_; slots_[i].key != 0; i = (i + 1) & mask_)
    if (slots_[i].key == key) return i;
  return std::nullopt;
}

bool PrefixTable::Edit::contains(uint32_t addr, uint8_t len) const { return find(make_key(addr, len)).has_value(); }

void PrefixTable::Edit::rehash(uint32_t slots) {
  std::vector<Slot> live;
  for (uint32_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].key != 0) live.push_back(slots_[i]);
  slots_ = Slots::Edit(Slots(std::vector<Slot>(slots)));
  mask_ = slots - 1;
  for (const Slot& s : live) insert_new(s.key, s.value);
}

void PrefixTable::Edit::insert_new(uint64_t key, uint32_t value) {
  uint32_t i = hash(key) & mask_;
  while (slots_[i].key != 0) i = (i + 1) & mask_;
  slots_.mut(i) = {key, value};
}

void PrefixTable::Edit::set(uint32_t addr, uint8_t len, uint32_t value) {
  const uint64_t key = make_key(addr, len);
  if (const auto i = find(key)) {
    if (slots_[*i].value != value) slots_.mut(*i).value = value;
    return;
  }
  // At most half full, so that probes stay short.
  if ((count_ + 1) * 2 > slots_.size())
    rehash(std::max<uint32_t>(16, std::bit_ceil(static_cast<uint32_t>(count_ + 1) * 4)));
  insert_new(key, value);
  ++count_;
  ++per_length_[len];
}

bool PrefixTable::Edit::erase(uint32_t addr, uint8_t len) {
  const auto found = find(make_key(addr, len));
  if (!found) return false;
  uint32_t i = *found;
  // Backward-shift deletion (Knuth 6.4, algorithm R): later entries of
  // the probe run move into the hole unless they would pass their home.
  for (uint32_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
    const Slot s = slots_[j];
    if (s.key == 0) break;
    const uint32_t home = hash(s.key) & mask_;
    // Movable into i when home is not cyclically within (i, j].
    if (((j - home) & mask_) >= ((j - i) & mask_)) {
      slots_.mut(i) = s;
      i = j;
    }
  }
  slots_.mut(i) = {};
  --count_;
  --per_length_[len];
  return true;
}

PrefixTable PrefixTable::Edit::finish() {
  PrefixTable out;
  if (count_ == 0) return out;
  auto t = std::make_shared<Table>();
  t->slots = slots_.finish();
  t->mask = mask_;
  t->count = count_;
  t->per_length = per_length_;
  for (int len = 32; len >= 0; --len)
    if (per_length_[len] != 0) t->lengths[t->length_count++] = static_cast<uint8_t>(len);
  out.table_ = std::move(t);
  return out;
}

}  // namespace svcdp::dp
