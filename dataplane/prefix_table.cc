#include "dataplane/prefix_table.h"

#include <algorithm>
#include <bit>

namespace svcdp::dp {

template <class A>
BasicPrefixTable<A>::BasicPrefixTable(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  Edit e(*this);
  for (const Entry& en : entries)
    if (!e.contains(en.addr, en.len)) e.set(en.addr, en.len, en.value);
  *this = e.finish();
}

template <class A>
BasicPrefixTable<A>::Edit::Edit(const BasicPrefixTable& base)
    : slots_(base.table_ ? base.table_->slots : Slots{}) {
  if (const Table* t = base.table_.get()) {
    mask_ = t->mask;
    count_ = t->count;
    per_length_ = t->per_length;
  }
}

template <class A>
std::optional<uint32_t> BasicPrefixTable<A>::Edit::find(const Key& key) const {
  if (slots_.size() == 0) return std::nullopt;
  for (uint32_t i = Traits::hash(key) & mask_; !(slots_[i].key == Traits::kEmpty); i = (i + 1) & mask_)
    if (slots_[i].key == key) return i;
  return std::nullopt;
}

template <class A>
bool BasicPrefixTable<A>::Edit::contains(const A& addr, uint8_t len) const {
  return find(Traits::make(addr, len)).has_value();
}

template <class A>
void BasicPrefixTable<A>::Edit::rehash(uint32_t slots) {
  std::vector<Slot> live;
  for (uint32_t i = 0; i < slots_.size(); ++i)
    if (!(slots_[i].key == Traits::kEmpty)) live.push_back(slots_[i]);
  slots_ = typename Slots::Edit(Slots(std::vector<Slot>(slots)));
  mask_ = slots - 1;
  for (const Slot& s : live) insert_new(s.key, s.value);
}

template <class A>
void BasicPrefixTable<A>::Edit::insert_new(const Key& key, uint32_t value) {
  uint32_t i = Traits::hash(key) & mask_;
  while (!(slots_[i].key == Traits::kEmpty)) i = (i + 1) & mask_;
  slots_.mut(i) = {key, value};
}

template <class A>
void BasicPrefixTable<A>::Edit::set(const A& addr, uint8_t len, uint32_t value) {
  const Key key = Traits::make(addr, len);
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

template <class A>
bool BasicPrefixTable<A>::Edit::erase(const A& addr, uint8_t len) {
  const auto found = find(Traits::make(addr, len));
  if (!found) return false;
  uint32_t i = *found;
  // Backward-shift deletion (Knuth 6.4, algorithm R): later entries of
  // the probe run move into the hole unless they would pass their home.
  for (uint32_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
    const Slot s = slots_[j];
    if (s.key == Traits::kEmpty) break;
    const uint32_t home = Traits::hash(s.key) & mask_;
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

template <class A>
BasicPrefixTable<A> BasicPrefixTable<A>::Edit::finish() {
  BasicPrefixTable out;
  if (count_ == 0) return out;
  auto t = std::make_shared<Table>();
  t->slots = slots_.finish();
  t->mask = mask_;
  t->count = count_;
  t->per_length = per_length_;
  for (int len = kBits; len >= 0; --len)
    if (per_length_[len] != 0) t->lengths[t->length_count++] = static_cast<uint8_t>(len);
  out.table_ = std::move(t);
  return out;
}

template class BasicPrefixTable<uint32_t>;
template class BasicPrefixTable<lb::Addr6>;

}  // namespace svcdp::dp
