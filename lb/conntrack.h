// Connection tracking for the workers: a fixed-capacity table of flows,
// each findable by its forward tuple (as the client sent it) and by its
// reply tuple (as the endpoint answers), holding by value everything
// needed to translate both directions.
//
// Concurrency (lb/README.md has the measurements): one shard per worker.
// A worker inserts, rewrites and frees entries only in its own shard, so
// every field has one writer and nothing needs a lock or an atomic
// read-modify-write. Lookups search the worker's own shard, then the other
// shards, read-only: an entry is read under a sequence counter (odd while
// its owner rewrites it) and copied, so a reader never acts on a torn or
// recycled entry. The two direction words (flags and last-seen time) are
// the only fields written by a worker other than the owner (the one
// receiving that direction), each with one plain 64-bit store tagged with
// the entry's version, so that a write racing with the owner recycling
// the entry is ignored (dirword); freed entries are reused oldest first.
// Nothing depends on the NIC steering both directions of a flow to one
// queue (no flow director).
//
// Expiry has no global stop: lookups ignore expired entries, and each
// worker sweeps a bounded slice of its shard per poll loop. When a shard is
// full, an entry that is not assured (Linux's early_drop: TCP never
// established, UDP never answered) gives way, reset ones and those seen
// longest ago first; else an assured one idle kEvictIdleS; every refusal
// is counted. tests/integration/floods_test.sh measures the result.
#pragma once

#include "lb/table_memory.h"
#include "lb/types.h"

#include <array>
#include <atomic>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <vector>

namespace svcdp::lb {

// Timeouts in seconds; defaults are Linux nf_conntrack's
// (net/netfilter/nf_conntrack_proto_{tcp,udp,icmp}.c).
struct CtTimeouts {
  uint32_t tcp_syn_sent = 120;
  uint32_t tcp_syn_recv = 60;
  uint32_t tcp_established = 432000;  // 5 days
  uint32_t tcp_fin_wait = 120;
  uint32_t tcp_close_wait = 60;
  uint32_t tcp_time_wait = 120;
  uint32_t tcp_close = 10;
  uint32_t udp_unreplied = 30;
  uint32_t udp_replied = 120;  // "stream" once a reply was seen
  uint32_t icmp = 30;
  uint32_t other = 600;
};

enum class TcpState : uint8_t { kSynSent, kSynRecv, kEstablished, kFinWait, kCloseWait, kTimeWait, kClose };
const char* tcp_state_name(TcpState s);

// Per-direction TCP flags seen. Each direction's byte has one writer.
namespace dirflag {
inline constexpr uint8_t kSyn = 1;   // SYN (SYN-ACK on the reply side)
inline constexpr uint8_t kAck = 2;   // an ACK without SYN
inline constexpr uint8_t kFin = 4;
inline constexpr uint8_t kRst = 8;
inline constexpr uint8_t kSeen = 16;  // any packet
}  // namespace dirflag

// The state the two directions' flags add up to.
TcpState tcp_state(uint8_t fwd, uint8_t rep);
// TCP flags of a segment (the TCP header's flags byte) as direction flags.
uint8_t tcp_dirflags(uint8_t tcp_flags);

// How a flow is translated (laid out without padding: 16 bytes for IPv4).
// An IPv6 flow's tunnel endpoint is IPv4-mapped on an IPv4 underlay.
template <Family F>
struct BasicNat {
  using Addr = typename F::Addr;
  Addr backend{};  // destination after DNAT (the endpoint)
  Addr snat{};     // source after SNAT (the node), zero: client kept
  Addr vtep{};     // the endpoint's node tunnel endpoint, zero: local
  be16 backend_port = 0;
  be16 snat_port = 0;
};
using Nat = BasicNat<Ip4>;
using Nat6 = BasicNat<Ip6>;
static_assert(sizeof(Nat) == 16);
static_assert(sizeof(Nat6) == 52);

// One direction's state in a flow entry, in one 64-bit word: the last
// second a packet was seen (bits 0-31), the direction flags (32-39), and
// the entry's version (bits 40-63: version / 2, modulo 2^24) when it was
// written. A worker other than the owner writes the word of the direction
// it receives; if the owner recycled the entry meanwhile, the stale word
// carries the old version and readers take it as "nothing seen".
namespace dirword {
constexpr uint32_t tag(uint32_t version) { return (version >> 1) & 0xffffff; }
constexpr uint64_t make(uint32_t version, uint8_t flags, uint32_t seen_s) {
  return uint64_t{tag(version)} << 40 | uint64_t{flags} << 32 | seen_s;
}
constexpr bool current(uint64_t w, uint32_t version) { return (w >> 40) == tag(version); }
constexpr uint8_t flags(uint64_t w) { return static_cast<uint8_t>(w >> 32); }
constexpr uint32_t seen(uint64_t w) { return static_cast<uint32_t>(w); }
}  // namespace dirword

// A flow entry: exactly one cache line for IPv4, two for IPv6.
template <Family F>
struct alignas(64) BasicFlow {
  std::atomic<uint32_t> version{0};  // even: stable; odd: owner rewriting
  uint32_t service_id;
  BasicFlowKey<F> fwd;  // as the client sent it (pad bytes unused)
  BasicNat<F> nat;
  uint8_t kind;   // kFlow or kAffinity
  uint8_t external;  // arrived on an external front end
  uint16_t birth;  // flows: the shard's insert count when made (low bits), their age for eviction
  union {
    uint32_t checked_generation;  // flows: low 32 bits of the table generation its endpoint was last checked against
    uint32_t affinity_timeout_s;  // affinity entries: their timeout (Kubernetes allows up to 86400 s)
  };
  std::atomic<uint64_t> fwd_word{0};  // dirword: forward direction
  std::atomic<uint64_t> rep_word{0};  // dirword: reply direction
};
using Flow = BasicFlow<Ip4>;
using Flow6 = BasicFlow<Ip6>;
static_assert(sizeof(Flow) == 64);
static_assert(sizeof(Flow6) == 128);

inline constexpr uint8_t kFlow = 0;
// The service id of a flow that belongs to no Service (masqueraded egress).
inline constexpr uint32_t kNoService = UINT32_MAX;
inline constexpr uint8_t kAffinity = 1;

// A consistent copy of a flow, and where it lives.
template <Family F>
struct BasicCtMatch {
  uint32_t shard;
  uint32_t index;
  uint32_t version;
  bool reply;  // the key matched the reply tuple
  BasicFlowKey<F> fwd;
  BasicNat<F> nat;
  uint32_t service_id;
  uint32_t checked_generation;
  uint8_t kind;
  uint8_t external;
  uint8_t fwd_flags, rep_flags;
  uint32_t timeout_s;    // affinity entries
  uint32_t last_seen_s;  // either direction
  uint8_t proto() const { return fwd.proto; }
  TcpState state() const { return tcp_state(fwd_flags, rep_flags); }
};

using CtMatch = BasicCtMatch<Ip4>;
using CtMatch6 = BasicCtMatch<Ip6>;

// The reply tuple of a flow: what the endpoint sends back.
template <Family F>
inline BasicFlowKey<F> reply_key(const BasicFlowKey<F>& fwd, const BasicNat<F>& nat) {
  const bool snat = !addr_is_zero(nat.snat);
  return {nat.backend, snat ? nat.snat : fwd.src, nat.backend_port, snat ? nat.snat_port : fwd.sport, fwd.proto};
}

struct CtStats {
  uint64_t entries = 0;
  uint64_t capacity = 0;
  std::array<uint64_t, 3> inserts{};    // by protocol: TCP, UDP, other
  std::array<uint64_t, 3> evictions{};  // entries evicted for room when full
  std::array<uint64_t, 3> refusals{};   // no room, nothing evictable
  uint64_t expired = 0;
  uint64_t affinity_entries = 0;
  CtStats& operator+=(const CtStats& o);
};

enum class CtInsert : uint8_t { kOk, kFull, kNotSyn };

// Idle seconds after which an assured flow may be evicted for a new one
// when its buckets are full.
inline constexpr uint32_t kEvictIdleS = 60;

// One table per address family (Conntrack, Conntrack6): the IPv4 entry
// stays one cache line.
template <Family F>
class BasicConntrack {
 public:
  using Addr = typename F::Addr;
  using Key = BasicFlowKey<F>;
  using NatT = BasicNat<F>;
  using Match = BasicCtMatch<F>;
  using Entry = BasicFlow<F>;

  // `capacity` entries in all, split evenly between `shards` (workers);
  // everything is allocated here, shard i in shard_memory[i] (the heap
  // when that is missing or null). Thread: control, before workers start.
  BasicConntrack(uint32_t shards, uint64_t capacity, CtTimeouts timeouts = {},
                 const std::vector<std::pmr::memory_resource*>& shard_memory = {});
  ~BasicConntrack();
  BasicConntrack(const BasicConntrack&) = delete;
  BasicConntrack& operator=(const BasicConntrack&) = delete;

  // The live (not expired) flow with forward or reply tuple `k`: own shard
  // first, then the others. `h`: flow_hash(k) when the caller has it (0:
  // computed here). Thread: worker `self`.
  std::optional<Match> lookup(uint32_t self, const Key& k, uint32_t now_s, uint64_t h = 0) const;
  // The same for a tuple whose flow, if any, is in shard `owner` (a reply
  // to a source port that only `owner` hands out) or in `self`, searched
  // in that order and nowhere else: a miss costs two shards at most,
  // however many there are. Thread: worker `self`.
  std::optional<Match> lookup_owned(uint32_t self, uint32_t owner, const Key& k, uint32_t now_s,
                                      uint64_t h = 0) const;

  // Brings the buckets of a key with flow_hash `h` in shard `self`
  // towards the cache, for a lookup a few packets later (given the same
  // `h`). Thread: worker `self`.
  void prefetch(uint32_t self, uint64_t h) const;

  // A new flow in shard `self`. A TCP flow starts only with a SYN
  // (tcp_flags given, kNotSyn otherwise). Thread: worker `self`.
  CtInsert insert(uint32_t self, const Key& fwd, const NatT& nat, uint32_t service_id, bool external,
                  uint32_t generation, uint8_t tcp_flags, uint32_t now_s);

  // A flow saved by a previous svcdp (a CtMatch as for_each gave it, its
  // service id renumbered), in shard `self`, last seen at `seen_s`; its
  // endpoint is checked again at its next packet. False when it is there
  // already or there is no room (nothing is evicted for it).
  // Thread: worker `self`.
  bool restore(uint32_t self, const Match& saved, uint32_t seen_s);

  // A TCP segment of a flow that no entry knows (svcdp restarted, or the
  // entry expired while the connection idled): taken up as established,
  // the way Katran keeps serving mid-stream packets by consistent hashing.
  // Thread: worker `self`.
  CtInsert pick_up(uint32_t self, const Key& fwd, const NatT& nat, uint32_t service_id, bool external,
                   uint32_t generation, uint32_t now_s);

  // Records a packet of a matched flow. Thread: the receiving worker.
  void touch(const Match& m, uint8_t tcp_flags, uint32_t now_s);
  // Marks the flow's endpoint as checked against `generation`.
  // Thread: the owner (m.shard == self), others ignore.
  void set_checked(uint32_t self, const Match& m, uint32_t generation);
  // Removes a flow of the own shard (others: no-op). Thread: worker `self`.
  void remove(uint32_t self, const Match& m);

  // Session affinity (ClientIP): the endpoint `client` last used for
  // `service_id`, if within its timeout. Thread: worker `self`.
  std::optional<NatT> affinity(uint32_t self, Addr client, uint32_t service_id, uint32_t now_s) const;
  // Records (or refreshes) it in the own shard. Thread: worker `self`.
  void set_affinity(uint32_t self, Addr client, uint32_t service_id, const NatT& nat, uint32_t timeout_s,
                    uint32_t now_s);

  // Frees up to `budget` expired entries of the own shard, continuing
  // where the last call stopped. Returns how many were freed.
  // Thread: worker `self`.
  size_t expire(uint32_t self, uint32_t now_s, size_t budget);

  // Seconds a flow may stay idle in its current state. Thread: any.
  uint32_t timeout(const Match& m) const;
  // Counters summed over shards (plain reads; may lag). Thread: any.
  CtStats stats() const;
  // The flows and affinity entries of shard `self` (a plain read).
  // Thread: worker `self`.
  uint64_t entries(uint32_t self) const;
  uint32_t shards() const { return static_cast<uint32_t>(shards_.size()); }
  uint64_t shard_capacity() const;

  // Removes the flows of the own shard at slots [begin, begin + count)
  // for which `pred` holds, adding their number to `removed`; returns the
  // slot to continue from (0 when the shard is done), so a flush can
  // proceed a slice per poll loop. Thread: worker `self`.
  uint64_t remove_if(uint32_t self, uint64_t begin, uint64_t count, uint32_t now_s, uint64_t& removed,
                     const std::function<bool(const Match&)>& pred);

  // Visits every live flow of every shard (consistent copies). For
  // inspection tools; not for the hot path. Thread: any.
  void for_each(uint32_t now_s, const std::function<void(const Match&)>& f) const;

  struct Shard;

 private:
  // A reader's clock may trail the writer's by a little: never "expired"
  // for a flow seen after `now_s`.
  bool expired(const Match& m, uint32_t now_s) const {
    return now_s > m.last_seen_s && now_s - m.last_seen_s > timeout(m);
  }
  bool evict_in(Shard& s, std::initializer_list<uint64_t> buckets, uint32_t now_s);
  enum class Lack : uint8_t;  // what a new flow lacks (conntrack.cc)
  bool make_room(Shard& s, Lack lack, uint64_t h1, uint64_t h2, uint32_t now_s);
  CtInsert add(uint32_t self, const Key& fwd, const NatT& nat, uint32_t service_id, bool external,
               uint32_t generation, uint8_t fwd_flags, uint8_t rep_flags, uint32_t now_s, bool may_evict);
  void free_entry(Shard& s, uint32_t index);
  std::optional<Match> find_in(const Shard& s, uint32_t shard, const Key& k, uint64_t h, uint32_t now_s) const;
  bool snapshot(const Shard& s, uint32_t shard, uint32_t index, Match& out) const;

  CtTimeouts timeouts_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

using Conntrack = BasicConntrack<Ip4>;
using Conntrack6 = BasicConntrack<Ip6>;

}  // namespace svcdp::lb
