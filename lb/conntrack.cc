#include "lb/conntrack.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <stdexcept>

namespace svcdp::lb {
namespace {

constexpr uint8_t kFree = 0xff;
constexpr int kSlotsPerBucket = 8;
constexpr uint64_t kUsed = uint64_t{1} << 63;
constexpr uint64_t kReplyBit = uint64_t{1} << 48;

size_t proto_index(uint8_t proto) { return proto == kTcp ? 0 : proto == kUdp ? 1 : 2; }

uint64_t make_slot(uint32_t index, uint16_t sig, bool reply) {
  return kUsed | (reply ? kReplyBit : 0) | uint64_t{sig} << 32 | index;
}
uint16_t slot_sig(uint64_t v) { return static_cast<uint16_t>(v >> 32); }
uint32_t slot_index(uint64_t v) { return static_cast<uint32_t>(v); }
bool slot_reply(uint64_t v) { return v & kReplyBit; }

template <Family F>
bool same_tuple(const BasicFlowKey<F>& a, const BasicFlowKey<F>& b) {
  return a.src == b.src && a.dst == b.dst && a.sport == b.sport && a.dport == b.dport && a.proto == b.proto;
}

// An affinity entry's key: the client, and the service id where a flow
// has its destination.
template <Family F>
BasicFlowKey<F> affinity_key(typename F::Addr client, uint32_t service_id) {
  BasicFlowKey<F> k{client, {}, 0, 0, 0};
  if constexpr (std::is_same_v<F, Ip4>)
    k.dst = service_id;
  else
    std::memcpy(k.dst.bytes.data(), &service_id, sizeof(service_id));
  return k;
}

}  // namespace

const char* tcp_state_name(TcpState s) {
  static constexpr const char* kNames[] = {"SYN_SENT",   "SYN_RECV",  "ESTABLISHED", "FIN_WAIT",
                                           "CLOSE_WAIT", "TIME_WAIT", "CLOSE"};
  return kNames[static_cast<size_t>(s)];
}

TcpState tcp_state(uint8_t fwd, uint8_t rep) {
  using namespace dirflag;
  if ((fwd | rep) & kRst) return TcpState::kClose;
  if ((fwd & kFin) && (rep & kFin)) return TcpState::kTimeWait;
  if (fwd & kFin) return TcpState::kFinWait;
  if (rep & kFin) return TcpState::kCloseWait;
  if (rep & kSyn) return (fwd & kAck) ? TcpState::kEstablished : TcpState::kSynRecv;
  return TcpState::kSynSent;
}

uint8_t tcp_dirflags(uint8_t f) {
  constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;
  uint8_t d = dirflag::kSeen;
  if (f & kTcpSyn) d |= dirflag::kSyn;
  if ((f & kTcpAck) && !(f & kTcpSyn)) d |= dirflag::kAck;
  if (f & kTcpFin) d |= dirflag::kFin;
  if (f & kTcpRst) d |= dirflag::kRst;
  return d;
}

CtStats& CtStats::operator+=(const CtStats& o) {
  entries += o.entries;
  capacity += o.capacity;
  for (size_t i = 0; i < 3; ++i) {
    inserts[i] += o.inserts[i];
    evictions[i] += o.evictions[i];
    refusals[i] += o.refusals[i];
  }
  expired += o.expired;
  affinity_entries += o.affinity_entries;
  return *this;
}

struct alignas(64) Bucket {
  std::atomic<uint64_t> slot[kSlotsPerBucket];
};

template <Family F>
enum class BasicConntrack<F>::Lack : uint8_t { kNothing, kSlotAtH1, kSlotAtH2, kEntry };

template <Family F>
struct BasicConntrack<F>::Shard {
  Shard(uint32_t cap, std::pmr::memory_resource* memory)
      : flows(cap, memory),
        capacity(cap),
        nbuckets(std::bit_ceil(std::max<uint64_t>(cap / 2, 2))),
        buckets(nbuckets, memory),
        free_ring(cap, memory) {
    for (uint64_t i = 0; i < nbuckets; ++i)
      for (auto& s : buckets[i].slot) s.store(0, std::memory_order_relaxed);
    for (uint32_t i = 0; i < cap; ++i) {
      flows[i].kind = kFree;
      push_free(i);
    }
    stats.capacity = cap;
  }

  // The two candidate buckets of a hash (two-choice hashing).
  uint64_t b1(uint64_t h) const { return h & (nbuckets - 1); }
  uint64_t b2(uint64_t h) const {
    const uint64_t b = (h >> 24) & (nbuckets - 1);
    return b == b1(h) ? b ^ 1 : b;
  }
  static uint16_t sig(uint64_t h) { return static_cast<uint16_t>(h >> 48) | 1; }

  // Owner only: publishes a slot for `index`; false when both buckets are full.
  bool add_slot(uint64_t h, uint32_t index, bool reply) {
    for (uint64_t b : {b1(h), b2(h)})
      for (auto& s : buckets[b].slot)
        if (s.load(std::memory_order_relaxed) == 0) {
          s.store(make_slot(index, sig(h), reply), std::memory_order_release);
          return true;
        }
    return false;
  }
  bool has_room(uint64_t h) const {
    for (uint64_t b : {b1(h), b2(h)})
      for (const auto& s : buckets[b].slot)
        if (s.load(std::memory_order_relaxed) == 0) return true;
    return false;
  }
  // Empty slots a flow with slots at h1 and h2 may take: in h1's buckets,
  // in h2's, in either (a shared bucket counted once); one pass.
  struct Room {
    uint32_t at_h1 = 0, at_h2 = 0, either = 0;
  };
  Room room(uint64_t h1, uint64_t h2) const {
    const std::array<uint64_t, 4> bs{b1(h1), b2(h1), b1(h2), b2(h2)};
    Room r;
    for (size_t i = 0; i < bs.size(); ++i) {
      if (std::find(bs.begin(), bs.begin() + static_cast<ptrdiff_t>(i), bs[i]) != bs.begin() + static_cast<ptrdiff_t>(i))
        continue;  // h1's two buckets differ: only a bucket of both repeats
      uint32_t empty = 0;
      for (const auto& slot : buckets[bs[i]].slot) empty += slot.load(std::memory_order_relaxed) == 0;
      r.either += empty;
      if (i < 2) r.at_h1 += empty;
      if (i >= 2 || bs[i] == bs[2] || bs[i] == bs[3]) r.at_h2 += empty;
    }
    return r;
  }
  // What the flow lacks: a slot at one of them (distinct slots, even
  // where the buckets are shared) or an entry.
  Lack lack(const Room& r) const {
    if (r.at_h1 == 0) return Lack::kSlotAtH1;
    if (r.at_h2 == 0) return Lack::kSlotAtH2;
    if (r.either < 2) return Lack::kSlotAtH1;
    return has_free() ? Lack::kNothing : Lack::kEntry;
  }
  void clear_slot(uint64_t h, uint32_t index, bool reply) {
    for (uint64_t b : {b1(h), b2(h)})
      for (auto& s : buckets[b].slot) {
        const uint64_t v = s.load(std::memory_order_relaxed);
        if (v != 0 && slot_index(v) == index && slot_reply(v) == reply) {
          s.store(0, std::memory_order_release);
          return;
        }
      }
  }

  // Seqlock write side (single writer: the owner).
  void begin_write(Entry& f) {
    f.version.store(f.version.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
  }
  void end_write(Entry& f) { f.version.store(f.version.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

  // Free entries, oldest first (FIFO): an index is reused as late as
  // possible, so that a non-owner's write racing with its recycling is
  // rare as well as harmless (dirword).
  bool has_free() const { return free_count != 0; }
  uint32_t pop_free() {
    const uint32_t i = free_ring[free_head];
    free_head = free_head + 1 == capacity ? 0 : free_head + 1;
    --free_count;
    return i;
  }
  void push_free(uint32_t i) {
    uint32_t tail = free_head + free_count;
    if (tail >= capacity) tail -= capacity;
    free_ring[tail] = i;
    ++free_count;
  }

  TableArray<Entry> flows;
  uint32_t capacity;
  uint64_t nbuckets;
  TableArray<Bucket> buckets;
  TableArray<uint32_t> free_ring;
  uint32_t free_head = 0, free_count = 0;
  uint16_t births = 0;  // flows made in this shard, modulo 2^16 (BasicFlow::birth)
  uint32_t sweep_cursor = 0;
  CtStats stats;
};

template <Family F>
BasicConntrack<F>::BasicConntrack(uint32_t shards, uint64_t capacity, CtTimeouts timeouts,
                     const std::vector<std::pmr::memory_resource*>& shard_memory)
    : timeouts_(timeouts) {
  if (shards == 0) throw std::invalid_argument("conntrack: no shard");
  const uint64_t per = capacity / shards;
  if (per < 16 || per > std::numeric_limits<uint32_t>::max() / 2)
    throw std::invalid_argument("conntrack: capacity per worker must be 16..2^31");
  for (uint32_t i = 0; i < shards; ++i)
    shards_.push_back(std::make_unique<Shard>(static_cast<uint32_t>(per), i < shard_memory.size() ? shard_memory[i] : nullptr));
}

template <Family F>
BasicConntrack<F>::~BasicConntrack() = default;

template <Family F>
uint32_t BasicConntrack<F>::timeout(const Match& m) const {
  if (m.kind == kAffinity) return m.timeout_s;
  switch (m.fwd.proto) {
    case kTcp:
      switch (m.state()) {
        case TcpState::kSynSent: return timeouts_.tcp_syn_sent;
        case TcpState::kSynRecv: return timeouts_.tcp_syn_recv;
        case TcpState::kEstablished: return timeouts_.tcp_established;
        case TcpState::kFinWait: return timeouts_.tcp_fin_wait;
        case TcpState::kCloseWait: return timeouts_.tcp_close_wait;
        case TcpState::kTimeWait: return timeouts_.tcp_time_wait;
        case TcpState::kClose: return timeouts_.tcp_close;
      }
      break;
    case kUdp: return (m.rep_flags & dirflag::kSeen) ? timeouts_.udp_replied : timeouts_.udp_unreplied;
    case F::kIcmpProto: return timeouts_.icmp;
  }
  return timeouts_.other;
}

template <Family F>
bool BasicConntrack<F>::snapshot(const Shard& s, uint32_t shard, uint32_t index, Match& out) const {
  const Entry& f = s.flows[index];
  for (int attempt = 0; attempt < 4; ++attempt) {
    const uint32_t v1 = f.version.load(std::memory_order_acquire);
    if (v1 & 1) continue;
    out.shard = shard;
    out.index = index;
    out.version = v1;
    out.fwd = f.fwd;
    out.nat = f.nat;
    out.service_id = f.service_id;
    out.kind = f.kind;
    out.checked_generation = out.kind == kAffinity ? 0 : f.checked_generation;
    out.timeout_s = out.kind == kAffinity ? f.affinity_timeout_s : 0;
    out.external = f.external;
    uint64_t fw = f.fwd_word.load(std::memory_order_relaxed), rw = f.rep_word.load(std::memory_order_relaxed);
    if (!dirword::current(fw, v1)) fw = 0;
    if (!dirword::current(rw, v1)) rw = 0;
    out.fwd_flags = dirword::flags(fw);
    out.rep_flags = dirword::flags(rw);
    out.last_seen_s = std::max(dirword::seen(fw), dirword::seen(rw));
    std::atomic_thread_fence(std::memory_order_acquire);
    if (f.version.load(std::memory_order_relaxed) == v1) return out.kind != kFree;
  }
  return false;
}

template <Family F>
std::optional<BasicCtMatch<F>> BasicConntrack<F>::find_in(const Shard& s, uint32_t shard, const Key& k, uint64_t h,
                                          uint32_t now_s) const {
  const uint16_t sig = Shard::sig(h);
  for (uint64_t b : {s.b1(h), s.b2(h)}) {
    for (const auto& slot : s.buckets[b].slot) {
      const uint64_t v = slot.load(std::memory_order_acquire);
      if (v == 0 || slot_sig(v) != sig) continue;
      Match m;
      if (!snapshot(s, shard, slot_index(v), m)) continue;
      m.reply = slot_reply(v);
      const Key key = m.reply ? reply_key(m.fwd, m.nat) : m.fwd;
      if (same_tuple(key, k) && !expired(m, now_s)) return m;
    }
  }
  return std::nullopt;
}

template <Family F>
void BasicConntrack<F>::prefetch(uint32_t self, uint64_t h) const {
  const Shard& s = *shards_[self];
  __builtin_prefetch(&s.buckets[s.b1(h)]);
  __builtin_prefetch(&s.buckets[s.b2(h)]);
}

template <Family F>
std::optional<BasicCtMatch<F>> BasicConntrack<F>::lookup(uint32_t self, const Key& k, uint32_t now_s, uint64_t h) const {
  if (h == 0) h = flow_hash(k);
  if (auto m = find_in(*shards_[self], self, k, h, now_s)) return m;
  for (uint32_t i = 0; i < shards_.size(); ++i)
    if (i != self)
      if (auto m = find_in(*shards_[i], i, k, h, now_s)) return m;
  return std::nullopt;
}

template <Family F>
std::optional<BasicCtMatch<F>> BasicConntrack<F>::lookup_owned(uint32_t self, uint32_t owner, const Key& k, uint32_t now_s,
                                               uint64_t h) const {
  if (h == 0) h = flow_hash(k);
  if (auto m = find_in(*shards_[owner], owner, k, h, now_s)) return m;
  if (owner == self) return std::nullopt;
  return find_in(*shards_[self], self, k, h, now_s);
}

template <Family F>
void BasicConntrack<F>::free_entry(Shard& s, uint32_t index) {
  Entry& f = s.flows[index];
  s.clear_slot(flow_hash(f.fwd), index, false);
  if (f.kind == kFlow) s.clear_slot(flow_hash(reply_key(f.fwd, f.nat)), index, true);
  s.begin_write(f);
  if (f.kind == kAffinity) --s.stats.affinity_entries;
  f.kind = kFree;
  s.end_write(f);
  s.push_free(index);
  --s.stats.entries;
}

// Linux's IPS_ASSURED: a TCP flow whose handshake completed (the client
// ACKed the endpoint's SYN-ACK: nf_conntrack_proto_tcp sets it on
// SYN_RECV -> ESTABLISHED), a UDP flow that saw a reply
// (nf_conntrack_proto_udp).
namespace {
bool assured(uint8_t proto, uint8_t fwd, uint8_t rep) {
  if (proto == kTcp) return (rep & dirflag::kSyn) && (fwd & dirflag::kAck);
  return rep & dirflag::kSeen;
}
}  // namespace

// When full, among the entries with a slot in `buckets` (those of a slot
// the new flow needs: evicting one frees a slot there). Linux's early_drop
// takes an entry that is not ASSURED, in any state (SYN_SENT, SYN_RECV, an
// RST'd or FIN'd handshake); of those in reach, a reset one first (nothing
// more will come), then the one made the most inserts ago (seconds are too
// coarse: a flood turns a shard over many times a second), so that a
// client's connection still in its handshake, the youngest, is the last to
// go. Ranking reads every candidate (a cache miss each, only on this
// full-table path). Failing that, the assured entry idle longest if idle
// kEvictIdleS or more (a connection that has gone quiet; an active one is
// never evicted).
template <Family F>
bool BasicConntrack<F>::evict_in(Shard& s, std::initializer_list<uint64_t> buckets, uint32_t now_s) {
  uint32_t unassured = 0, oldest = 0, oldest_idle = 0;
  uint64_t unassured_rank = UINT64_MAX;
  for (uint64_t b : buckets)
    for (const auto& slot : s.buckets[b].slot) {
      const uint64_t v = slot.load(std::memory_order_relaxed);
      if (v == 0) continue;
      const uint32_t index = slot_index(v);
      const Entry& f = s.flows[index];
      if (f.kind != kFlow) continue;
      const uint32_t version = f.version.load(std::memory_order_relaxed);
      const uint64_t fw = f.fwd_word.load(std::memory_order_relaxed);
      const uint64_t rw = f.rep_word.load(std::memory_order_relaxed);
      const uint8_t fwd = dirword::current(fw, version) ? dirword::flags(fw) : 0;
      const uint8_t rep = dirword::current(rw, version) ? dirword::flags(rw) : 0;
      const uint32_t seen = std::max(dirword::current(fw, version) ? dirword::seen(fw) : 0,
                                     dirword::current(rw, version) ? dirword::seen(rw) : 0);
      if (!assured(f.fwd.proto, fwd, rep)) {
        const bool reset = f.fwd.proto == kTcp && ((fwd | rep) & dirflag::kRst);
        const uint16_t age = static_cast<uint16_t>(s.births - f.birth);
        const uint64_t rank = uint64_t{!reset} << 16 | static_cast<uint16_t>(~age);
        if (rank < unassured_rank) {
          unassured = index + 1;
          unassured_rank = rank;
        }
        continue;
      }
      const uint32_t idle = now_s > seen ? now_s - seen : 0;
      if (idle >= kEvictIdleS && idle > oldest_idle) {
        oldest = index + 1;
        oldest_idle = idle;
      }
    }
  const uint32_t victim = unassured ? unassured : oldest;
  if (victim == 0) return false;
  ++s.stats.evictions[proto_index(s.flows[victim - 1].fwd.proto)];
  free_entry(s, victim - 1);
  return true;
}

// A slot is sought in the buckets that lack one; an entry first among the
// new flow's buckets, then (should those hold no candidate, being nearly
// empty) in the buckets after its first, a few at a time.
template <Family F>
bool BasicConntrack<F>::make_room(Shard& s, Lack lack, uint64_t h1, uint64_t h2, uint32_t now_s) {
  switch (lack) {
    case Lack::kNothing: return true;
    case Lack::kSlotAtH1: return evict_in(s, {s.b1(h1), s.b2(h1)}, now_s);
    case Lack::kSlotAtH2: return evict_in(s, {s.b1(h2), s.b2(h2)}, now_s);
    case Lack::kEntry: break;
  }
  if (evict_in(s, {s.b1(h1), s.b2(h1), s.b1(h2), s.b2(h2)}, now_s)) return true;
  const uint64_t mask = s.nbuckets - 1;
  for (uint64_t b = s.b1(h1) + 1; b <= s.b1(h1) + s.nbuckets; b += 4)
    if (evict_in(s, {b & mask, (b + 1) & mask, (b + 2) & mask, (b + 3) & mask}, now_s)) return true;
  return false;
}

template <Family F>
CtInsert BasicConntrack<F>::insert(uint32_t self, const Key& fwd, const NatT& nat, uint32_t service_id, bool external,
                           uint32_t generation, uint8_t tcp_flags, uint32_t now_s) {
  const uint8_t dir = fwd.proto == kTcp ? tcp_dirflags(tcp_flags) : dirflag::kSeen;
  if (fwd.proto == kTcp && (!(dir & dirflag::kSyn) || (tcp_flags & 0x10))) return CtInsert::kNotSyn;
  return add(self, fwd, nat, service_id, external, generation, dir, 0, now_s, true);
}

template <Family F>
CtInsert BasicConntrack<F>::pick_up(uint32_t self, const Key& fwd, const NatT& nat, uint32_t service_id, bool external,
                            uint32_t generation, uint32_t now_s) {
  // Both directions as an established connection has them.
  constexpr uint8_t kFwd = dirflag::kSyn | dirflag::kAck | dirflag::kSeen;
  return add(self, fwd, nat, service_id, external, generation, kFwd, kFwd, now_s, true);
}

template <Family F>
bool BasicConntrack<F>::restore(uint32_t self, const Match& saved, uint32_t seen_s) {
  if (saved.kind == kAffinity) {
    set_affinity(self, saved.fwd.src, saved.service_id, saved.nat, saved.timeout_s, seen_s);
    return true;
  }
  Shard& s = *shards_[self];
  if (find_in(s, self, saved.fwd, flow_hash(saved.fwd), seen_s)) return false;
  return add(self, saved.fwd, saved.nat, saved.service_id, saved.external, 0, saved.fwd_flags | dirflag::kSeen,
             saved.rep_flags, seen_s, false) == CtInsert::kOk;
}

template <Family F>
CtInsert BasicConntrack<F>::add(uint32_t self, const Key& fwd, const NatT& nat, uint32_t service_id, bool external,
                        uint32_t generation, uint8_t fwd_flags, uint8_t rep_flags, uint32_t now_s, bool may_evict) {
  Shard& s = *shards_[self];
  const size_t pi = proto_index(fwd.proto);
  const uint64_t h1 = flow_hash(fwd), h2 = flow_hash(reply_key(fwd, nat));
  // Each eviction frees an entry and a slot in the buckets that lack one:
  // at most one for each of the two slots and one for an entry.
  typename Shard::Room room;
  for (int evictions = 0;; ++evictions) {
    room = s.room(h1, h2);
    const Lack lack = s.lack(room);
    if (lack == Lack::kNothing) break;
    if (evictions == 3 || !may_evict || !make_room(s, lack, h1, h2, now_s)) {
      ++s.stats.refusals[pi];
      return CtInsert::kFull;
    }
  }
  const uint32_t index = s.pop_free();
  Entry& f = s.flows[index];
  s.begin_write(f);
  const uint32_t v = f.version.load(std::memory_order_relaxed) + 1;  // once end_write is done
  f.service_id = service_id;
  f.fwd = fwd;
  f.nat = nat;
  f.kind = kFlow;
  f.external = external;
  f.birth = s.births++;
  f.checked_generation = generation;
  f.fwd_word.store(dirword::make(v, fwd_flags, now_s), std::memory_order_relaxed);
  f.rep_word.store(dirword::make(v, rep_flags, rep_flags ? now_s : 0), std::memory_order_relaxed);
  s.end_write(f);
  // The hash with fewer empty slots takes its slot first, so that where
  // the buckets are shared the other still finds one (lack() saw both fit).
  if (room.at_h2 < room.at_h1) {
    s.add_slot(h2, index, true);
    s.add_slot(h1, index, false);
  } else {
    s.add_slot(h1, index, false);
    s.add_slot(h2, index, true);
  }
  ++s.stats.inserts[pi];
  ++s.stats.entries;
  return CtInsert::kOk;
}

// A plain store of a whole tagged word, no read-modify-write: each
// direction has one writer in practice (the worker receiving it); should
// two workers receive one direction, one of two simultaneous updates may
// lose a flag the next packet sets again.
template <Family F>
void BasicConntrack<F>::touch(const Match& m, uint8_t tcp_flags, uint32_t now_s) {
  Entry& f = shards_[m.shard]->flows[m.index];
  if (f.version.load(std::memory_order_relaxed) != m.version) return;  // recycled meanwhile
  const uint8_t d = m.fwd.proto == kTcp ? tcp_dirflags(tcp_flags) : dirflag::kSeen;
  auto& word = m.reply ? f.rep_word : f.fwd_word;
  const uint64_t old = word.load(std::memory_order_relaxed);
  const uint8_t old_flags = dirword::current(old, m.version) ? dirword::flags(old) : 0;
  const uint64_t next = dirword::make(m.version, old_flags | d, now_s);
  if (next != old) word.store(next, std::memory_order_relaxed);
}

template <Family F>
void BasicConntrack<F>::set_checked(uint32_t self, const Match& m, uint32_t generation) {
  if (m.shard != self) return;
  Entry& f = shards_[self]->flows[m.index];
  if (f.version.load(std::memory_order_relaxed) != m.version) return;
  // A plain field read by others only inside a snapshot: no version bump
  // needed, a torn read is impossible for an aligned 32-bit store.
  reinterpret_cast<std::atomic<uint32_t>&>(f.checked_generation).store(generation, std::memory_order_relaxed);
}

template <Family F>
void BasicConntrack<F>::remove(uint32_t self, const Match& m) {
  if (m.shard != self) return;
  Shard& s = *shards_[self];
  if (s.flows[m.index].version.load(std::memory_order_relaxed) != m.version) return;
  free_entry(s, m.index);
}

template <Family F>
std::optional<BasicNat<F>> BasicConntrack<F>::affinity(uint32_t self, Addr client, uint32_t service_id, uint32_t now_s) const {
  const Key k = affinity_key<F>(client, service_id);
  auto m = lookup(self, k, now_s);
  if (!m || m->kind != kAffinity) return std::nullopt;
  return m->nat;
}

template <Family F>
void BasicConntrack<F>::set_affinity(uint32_t self, Addr client, uint32_t service_id, const NatT& nat, uint32_t timeout_s,
                             uint32_t now_s) {
  Shard& s = *shards_[self];
  const Key k = affinity_key<F>(client, service_id);
  const uint64_t h = flow_hash(k);
  if (auto m = find_in(s, self, k, h, now_s); m && m->kind == kAffinity) {
    Entry& f = s.flows[m->index];
    if (m->nat.backend == nat.backend && m->nat.backend_port == nat.backend_port) {
      f.fwd_word.store(dirword::make(m->version, dirflag::kSeen, now_s), std::memory_order_relaxed);
      return;
    }
    free_entry(s, m->index);
  }
  if (!s.has_free() || !s.has_room(h)) {
    ++s.stats.refusals[2];
    return;
  }
  const uint32_t index = s.pop_free();
  Entry& f = s.flows[index];
  s.begin_write(f);
  const uint32_t v = f.version.load(std::memory_order_relaxed) + 1;
  f.service_id = service_id;
  f.fwd = k;
  f.nat = nat;
  f.kind = kAffinity;
  f.external = 0;
  f.birth = 0;
  f.affinity_timeout_s = timeout_s;
  f.fwd_word.store(dirword::make(v, dirflag::kSeen, now_s), std::memory_order_relaxed);
  f.rep_word.store(dirword::make(v, 0, 0), std::memory_order_relaxed);
  s.end_write(f);
  s.add_slot(h, index, false);
  ++s.stats.entries;
  ++s.stats.affinity_entries;
}

template <Family F>
size_t BasicConntrack<F>::expire(uint32_t self, uint32_t now_s, size_t budget) {
  Shard& s = *shards_[self];
  size_t freed = 0;
  for (size_t n = 0; n < budget; ++n) {
    const uint32_t i = s.sweep_cursor;
    s.sweep_cursor = (s.sweep_cursor + 1) % s.capacity;
    if (s.flows[i].kind == kFree) continue;
    Match m;
    if (snapshot(s, self, i, m) && expired(m, now_s)) {
      free_entry(s, i);
      ++s.stats.expired;
      ++freed;
    }
  }
  return freed;
}

template <Family F>
CtStats BasicConntrack<F>::stats() const {
  CtStats sum;
  for (const auto& s : shards_) sum += s->stats;
  return sum;
}

template <Family F>
uint64_t BasicConntrack<F>::entries(uint32_t self) const {
  return shards_[self]->stats.entries;
}

template <Family F>
uint64_t BasicConntrack<F>::shard_capacity() const { return shards_.empty() ? 0 : shards_[0]->capacity; }

template <Family F>
uint64_t BasicConntrack<F>::remove_if(uint32_t self, uint64_t begin, uint64_t count, uint32_t now_s, uint64_t& removed,
                              const std::function<bool(const Match&)>& pred) {
  Shard& s = *shards_[self];
  const uint64_t end = std::min<uint64_t>(begin + count, s.capacity);
  for (uint64_t i = begin; i < end; ++i) {
    Match m;
    if (snapshot(s, self, static_cast<uint32_t>(i), m) && !expired(m, now_s) && pred(m)) {
      free_entry(s, static_cast<uint32_t>(i));
      ++removed;
    }
  }
  return end >= s.capacity ? 0 : end;
}

template <Family F>
void BasicConntrack<F>::for_each(uint32_t now_s, const std::function<void(const Match&)>& fn) const {
  for (uint32_t si = 0; si < shards_.size(); ++si) {
    const Shard& s = *shards_[si];
    for (uint32_t i = 0; i < s.capacity; ++i) {
      Match m;
      if (snapshot(s, si, i, m) && !expired(m, now_s)) {
        m.reply = false;
        fn(m);
      }
    }
  }
}

template class BasicConntrack<Ip4>;
template class BasicConntrack<Ip6>;

}  // namespace svcdp::lb
