#include "lb/conntrack.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>

namespace svcdp::lb {
namespace {

constexpr uint8_t kSynF = 0x02, kAckF = 0x10, kFinF = 0x01, kRstF = 0x04;

constexpr be32 ip(uint32_t host) { return to_be32(host); }
const be32 kClient = ip(0x0af4010a), kVip = ip(0x0a60000a), kBackend = ip(0x0af40214);

FlowKey fwd_key(uint32_t client_port = 40000, uint8_t proto = kTcp) {
  return {kClient, kVip, to_be16(static_cast<uint16_t>(client_port)), to_be16(80), proto};
}
Nat dnat(be32 backend = kBackend) { return {.backend = backend, .vtep = ip(0xc0a8380c), .backend_port = to_be16(8080)}; }

static_assert(sizeof(Flow) == 64, "a flow is one cache line");
static_assert(alignof(Flow) == 64);

// The same decisions for both families (Conntrack, Conntrack6): host
// number n is 0.0.0.n-based for IPv4 and 2001:db8::n for IPv6.
template <Family F>
typename F::Addr host(uint32_t n) {
  if constexpr (std::is_same_v<F, Ip4>) {
    return ip(0x0a000000 | n);
  } else {
    Addr6 a;
    a.bytes[0] = 0x20, a.bytes[1] = 0x01, a.bytes[2] = 0x0d, a.bytes[3] = 0xb8;
    const be32 low = to_be32(n);
    std::memcpy(&a.bytes[12], &low, 4);
    return a;
  }
}

template <class F>
class ConntrackFamily : public ::testing::Test {
 protected:
  using Key = BasicFlowKey<F>;
  using NatT = BasicNat<F>;
  Key key(uint32_t client, uint16_t port, uint8_t proto = kTcp) const {
    return {host<F>(client), host<F>(10), to_be16(port), to_be16(80), proto};
  }
  NatT nat(uint32_t backend = 20) const {
    return {.backend = host<F>(backend), .backend_port = to_be16(8080)};
  }
};
using Families = ::testing::Types<Ip4, Ip6>;
TYPED_TEST_SUITE(ConntrackFamily, Families);

TYPED_TEST(ConntrackFamily, ForwardAndTranslatedReplyFindTheFlow) {
  BasicConntrack<TypeParam> ct(2, 1024);
  auto n = this->nat();
  n.snat = host<TypeParam>(30);
  n.snat_port = to_be16(61000);
  const auto k = this->key(1, 40000);
  ASSERT_EQ(ct.insert(0, k, n, 7, true, 1, kSynF, 5), CtInsert::kOk);
  auto f = ct.lookup(1, k, 5);
  ASSERT_TRUE(f) << "found from the other worker";
  EXPECT_FALSE(f->reply);
  EXPECT_EQ(f->service_id, 7u);
  const typename TestFixture::Key reply{n.backend, n.snat, n.backend_port, n.snat_port, kTcp};
  EXPECT_EQ(reply_key(k, n), reply);
  auto r = ct.lookup(0, reply, 5);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->reply);
  EXPECT_EQ(r->fwd.src, k.src) << "the client's own address, to restore";
  EXPECT_FALSE(ct.lookup(0, k.reversed(), 5));
  ct.touch(*r, kSynF | kAckF, 5);
  ct.touch(*ct.lookup(0, k, 5), kAckF, 5);
  EXPECT_EQ(ct.lookup(0, k, 6)->state(), TcpState::kEstablished);
}

// A full table of unassured entries always has a victim in the buckets
// the new flow needs, whichever of an entry's two slots lies there.
TYPED_TEST(ConntrackFamily, AFloodOfUnassuredFlowsIsNeverRefused) {
  BasicConntrack<TypeParam> ct(1, 256);
  for (uint32_t i = 0; i < 100000; ++i) {
    const auto k = this->key(1000 + i, static_cast<uint16_t>(i));
    ASSERT_EQ(ct.insert(0, k, this->nat(), 1, false, 1, kSynF, 1), CtInsert::kOk) << i;
    ASSERT_TRUE(ct.lookup(0, reply_key(k, this->nat()), 1)) << i;
  }
  EXPECT_EQ(ct.stats().refusals[0], 0u);
  EXPECT_EQ(ct.stats().entries, 256u);
}

TYPED_TEST(ConntrackFamily, AffinityIsPerClientAndService) {
  BasicConntrack<TypeParam> ct(1, 64);
  ct.set_affinity(0, host<TypeParam>(1), 3, this->nat(21), 10800, 0);
  ASSERT_TRUE(ct.affinity(0, host<TypeParam>(1), 3, 100));
  EXPECT_EQ(ct.affinity(0, host<TypeParam>(1), 3, 100)->backend, host<TypeParam>(21));
  EXPECT_FALSE(ct.affinity(0, host<TypeParam>(1), 4, 100)) << "another service";
  EXPECT_FALSE(ct.affinity(0, host<TypeParam>(2), 3, 100)) << "another client";
  EXPECT_FALSE(ct.affinity(0, host<TypeParam>(1), 3, 10802)) << "timed out";
}

TYPED_TEST(ConntrackFamily, UnansweredUdpExpiresAndItsEntryIsReused) {
  BasicConntrack<TypeParam> ct(1, 64);
  ASSERT_EQ(ct.insert(0, this->key(1, 5353, kUdp), this->nat(), 1, false, 1, 0, 0), CtInsert::kOk);
  EXPECT_TRUE(ct.lookup(0, this->key(1, 5353, kUdp), 30));
  EXPECT_FALSE(ct.lookup(0, this->key(1, 5353, kUdp), 31)) << "udp_unreplied is 30 s";
  EXPECT_EQ(ct.expire(0, 31, 64), 1u);
  EXPECT_EQ(ct.stats().entries, 0u);
}

TEST(Conntrack, ForwardAndReplyBothFindTheFlow) {
  Conntrack ct(1, 1024);
  const FlowKey k = fwd_key();
  ASSERT_EQ(ct.insert(0, k, dnat(), 7, false, 1, kSynF, 100), CtInsert::kOk);
  auto f = ct.lookup(0, k, 100);
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->reply);
  EXPECT_EQ(f->nat.backend, kBackend);
  EXPECT_EQ(f->service_id, 7u);
  // The backend answers the client.
  const FlowKey reply{kBackend, kClient, to_be16(8080), to_be16(40000), kTcp};
  auto r = ct.lookup(0, reply, 100);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->reply);
  EXPECT_EQ(r->fwd.dst, kVip) << "enough to restore the VIP as source";
  EXPECT_FALSE(ct.lookup(0, k.reversed(), 100)) << "the untranslated reverse is not a key";
}

TEST(Conntrack, SnatFlowsAreFoundByTheTranslatedReply) {
  Conntrack ct(1, 1024);
  Nat n = dnat();
  n.snat = ip(0xc0a8380b);
  n.snat_port = to_be16(61000);
  ASSERT_EQ(ct.insert(0, fwd_key(), n, 1, true, 1, kSynF, 0), CtInsert::kOk);
  const FlowKey reply{kBackend, n.snat, to_be16(8080), n.snat_port, kTcp};
  auto r = ct.lookup(0, reply, 0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->reply);
  EXPECT_TRUE(r->external);
  EXPECT_EQ(r->fwd.src, kClient) << "the client's own address, to restore";
}

TEST(Conntrack, OnlyASynCreatesATcpFlow) {
  Conntrack ct(1, 1024);
  EXPECT_EQ(ct.insert(0, fwd_key(), dnat(), 1, false, 1, kAckF, 0), CtInsert::kNotSyn);
  EXPECT_EQ(ct.insert(0, fwd_key(), dnat(), 1, false, 1, kSynF | kAckF, 0), CtInsert::kNotSyn);
  EXPECT_EQ(ct.insert(0, fwd_key(), dnat(), 1, false, 1, kFinF, 0), CtInsert::kNotSyn);
  EXPECT_EQ(ct.stats().entries, 0u);
  EXPECT_EQ(ct.insert(0, fwd_key(1, kUdp), dnat(), 1, false, 1, 0, 0), CtInsert::kOk) << "any UDP datagram";
}

TEST(Conntrack, TcpLifecycleAndLinuxTimeouts) {
  Conntrack ct(1, 1024);
  const FlowKey k = fwd_key();
  const FlowKey rk = reply_key(k, dnat());
  ct.insert(0, k, dnat(), 1, false, 1, kSynF, 0);
  auto state = [&] { return ct.lookup(0, k, 0)->state(); };
  auto timeout = [&] { return ct.timeout(*ct.lookup(0, k, 0)); };
  EXPECT_EQ(state(), TcpState::kSynSent);
  EXPECT_EQ(timeout(), 120u);
  ct.touch(*ct.lookup(0, rk, 0), kSynF | kAckF, 0);
  EXPECT_EQ(state(), TcpState::kSynRecv);
  EXPECT_EQ(timeout(), 60u);
  ct.touch(*ct.lookup(0, k, 0), kAckF, 0);
  EXPECT_EQ(state(), TcpState::kEstablished);
  EXPECT_EQ(timeout(), 432000u);
  ct.touch(*ct.lookup(0, k, 0), kFinF | kAckF, 0);
  EXPECT_EQ(state(), TcpState::kFinWait);
  ct.touch(*ct.lookup(0, rk, 0), kFinF | kAckF, 0);
  EXPECT_EQ(state(), TcpState::kTimeWait);
  EXPECT_EQ(timeout(), 120u);
  ct.touch(*ct.lookup(0, k, 0), kRstF, 0);
  EXPECT_EQ(state(), TcpState::kClose);
  EXPECT_EQ(timeout(), 10u);
  EXPECT_TRUE(ct.lookup(0, k, 10));
  EXPECT_FALSE(ct.lookup(0, k, 11)) << "CLOSE lasts 10 s";
}

TEST(Conntrack, UdpUnrepliedThenAssured) {
  Conntrack ct(1, 1024);
  const FlowKey k = fwd_key(5353, kUdp);
  ct.insert(0, k, dnat(), 1, false, 1, 0, 1000);
  EXPECT_TRUE(ct.lookup(0, k, 1030));
  EXPECT_FALSE(ct.lookup(0, k, 1031)) << "30 s unreplied";
  Conntrack ct2(1, 1024);
  ct2.insert(0, k, dnat(), 1, false, 1, 0, 1000);
  ct2.touch(*ct2.lookup(0, reply_key(k, dnat()), 1010), 0, 1010);
  EXPECT_TRUE(ct2.lookup(0, k, 1130));
  EXPECT_FALSE(ct2.lookup(0, k, 1131)) << "120 s once replied";
}

TEST(Conntrack, TimeoutsAreConfigurable) {
  CtTimeouts t;
  t.udp_unreplied = 5;
  Conntrack ct(1, 1024, t);
  ct.insert(0, fwd_key(1, kUdp), dnat(), 1, false, 1, 0, 0);
  EXPECT_FALSE(ct.lookup(0, fwd_key(1, kUdp), 6));
}

TEST(Conntrack, SweepFreesExpiredEntriesIncrementally) {
  Conntrack ct(1, 1024);
  for (uint32_t p = 0; p < 500; ++p) ct.insert(0, fwd_key(p, kUdp), dnat(), 1, false, 1, 0, 0);
  EXPECT_EQ(ct.stats().entries, 500u);
  size_t freed = 0;
  for (int round = 0; round < 16; ++round) freed += ct.expire(0, 100, 64);  // 64 slots per loop
  EXPECT_EQ(freed, 500u);
  EXPECT_EQ(ct.stats().entries, 0u);
  EXPECT_EQ(ct.stats().expired, 500u);
  for (uint32_t p = 0; p < 1000; ++p) ASSERT_EQ(ct.insert(0, fwd_key(p, kUdp), dnat(), 1, false, 1, 0, 200), CtInsert::kOk)
      << "every slot is reusable";
}

TEST(Conntrack, SynFloodEvictsEmbryonicNeverEstablished) {
  Conntrack ct(1, 256);
  // 100 established flows.
  for (uint32_t p = 0; p < 100; ++p) {
    const FlowKey k = fwd_key(p);
    ASSERT_EQ(ct.insert(0, k, dnat(), 1, false, 1, kSynF, 0), CtInsert::kOk);
    ct.touch(*ct.lookup(0, reply_key(k, dnat()), 0), kSynF | kAckF, 0);
    ct.touch(*ct.lookup(0, k, 0), kAckF, 0);
  }
  // A flood of 10 000 SYNs from spoofed sources.
  size_t refused = 0;
  for (uint32_t i = 0; i < 10000; ++i) {
    FlowKey k{ip(0x01000000 + i), kVip, to_be16(static_cast<uint16_t>(i)), to_be16(80), kTcp};
    if (ct.insert(0, k, dnat(), 1, false, 1, kSynF, 1) != CtInsert::kOk) ++refused;
  }
  for (uint32_t p = 0; p < 100; ++p) {
    auto f = ct.lookup(0, fwd_key(p), 2);
    ASSERT_TRUE(f) << "established flow " << p << " evicted";
    EXPECT_EQ(f->state(), TcpState::kEstablished);
  }
  const CtStats s = ct.stats();
  EXPECT_GT(s.evictions[0], 9000u);
  EXPECT_EQ(s.refusals[0], refused) << "every refusal counted";
  EXPECT_LE(s.entries, 256u);
}

// Linux's early_drop takes any unassured entry: a flood whose handshakes
// the endpoint answered (SYN_RECV) or that was RST'd (CLOSE, never
// established) gives way to new connections; assured ones stay.
TEST(Conntrack, UnassuredEntriesOfAnyStateAreEvicted) {
  Conntrack ct(1, 64);
  std::vector<FlowKey> flood;
  for (uint32_t i = 0; ct.stats().entries < 64; ++i) {
    FlowKey k{ip(0x01000000 + i), kVip, to_be16(static_cast<uint16_t>(i)), to_be16(80), kTcp};
    ASSERT_EQ(ct.insert(0, k, dnat(), 1, false, 1, kSynF, 1), CtInsert::kOk);
    // The endpoint answers each SYN; half the spoofed sources send a RST.
    ct.touch(*ct.lookup(0, reply_key(k, dnat()), 1), kSynF | kAckF, 1);
    if (i % 2) ct.touch(*ct.lookup(0, k, 1), kRstF, 1);
    flood.push_back(k);
  }
  ASSERT_GE(flood.size(), 64u);
  // Every new legitimate connection finds room.
  for (uint32_t p = 0; p < 50; ++p)
    EXPECT_EQ(ct.insert(0, fwd_key(50000 + p), dnat(), 1, false, 1, kSynF, 2), CtInsert::kOk) << p;
}

// Of the unassured entries in reach, reset ones go first, then those seen
// longest ago: a client's handshake in progress outlives the flood.
TEST(Conntrack, AHandshakeInProgressOutlivesOlderAndResetFloodEntries) {
  Conntrack ct(1, 64);
  for (uint32_t i = 0; ct.stats().entries < 64; ++i) {
    FlowKey k{ip(0x01000000 + i), kVip, to_be16(static_cast<uint16_t>(i)), to_be16(80), kTcp};
    ASSERT_EQ(ct.insert(0, k, dnat(), 1, false, 1, kSynF, 1), CtInsert::kOk);
    ct.touch(*ct.lookup(0, reply_key(k, dnat()), 1), kSynF | kAckF, 1);
    if (i % 2) ct.touch(*ct.lookup(0, k, 1), kRstF, 1);
  }
  const FlowKey client = fwd_key(40000);
  ASSERT_EQ(ct.insert(0, client, dnat(), 1, false, 1, kSynF, 2), CtInsert::kOk);
  ct.touch(*ct.lookup(0, reply_key(client, dnat()), 2), kSynF | kAckF, 2);  // SYN_RECV
  for (uint32_t i = 0; i < 20; ++i) {
    FlowKey k{ip(0x02000000 + i), kVip, to_be16(static_cast<uint16_t>(i)), to_be16(80), kTcp};
    ASSERT_EQ(ct.insert(0, k, dnat(), 1, false, 1, kSynF, 2), CtInsert::kOk);
  }
  auto f = ct.lookup(0, client, 2);
  ASSERT_TRUE(f) << "the handshake in progress was evicted";
  EXPECT_EQ(f->state(), TcpState::kSynRecv);
}

// An assured flow that has gone quiet for kEvictIdleS gives way; one that
// is active does not.
TEST(Conntrack, IdleAssuredFlowsGiveWayActiveOnesDoNot) {
  Conntrack ct(1, 64);
  uint32_t n = 0;
  for (;; ++n) {
    const FlowKey k = fwd_key(1000 + n);
    if (ct.insert(0, k, dnat(), 1, false, 1, kSynF, 0) != CtInsert::kOk) break;
    ct.touch(*ct.lookup(0, reply_key(k, dnat()), 0), kSynF | kAckF, 0);
    ct.touch(*ct.lookup(0, k, 0), kAckF, 0);
  }
  EXPECT_NE(ct.insert(0, fwd_key(60000), dnat(), 1, false, 1, kSynF, 10), CtInsert::kOk) << "all active";
  EXPECT_EQ(ct.insert(0, fwd_key(60000), dnat(), 1, false, 1, kSynF, kEvictIdleS + 1), CtInsert::kOk)
      << "all idle for kEvictIdleS";
}

TEST(Conntrack, FullOfEstablishedRefusesAndCounts) {
  Conntrack ct(1, 64);
  uint32_t ok = 0;
  for (uint32_t p = 0; p < 64; ++p) {
    const FlowKey k = fwd_key(p, kUdp);
    if (ct.insert(0, k, dnat(), 1, false, 1, 0, 0) != CtInsert::kOk) continue;
    ct.touch(*ct.lookup(0, reply_key(k, dnat()), 0), 0, 0);
    ++ok;
  }
  EXPECT_EQ(ok, 64u);
  EXPECT_EQ(ct.insert(0, fwd_key(999, kUdp), dnat(), 1, false, 1, 0, 0), CtInsert::kFull);
  EXPECT_EQ(ct.stats().refusals[1], 1u);
}

TEST(Conntrack, ReplyOnAnotherWorkerFindsTheFlow) {
  Conntrack ct(2, 1024);
  const FlowKey k = fwd_key();
  ASSERT_EQ(ct.insert(0, k, dnat(), 1, false, 1, kSynF, 0), CtInsert::kOk);
  auto r = ct.lookup(1, reply_key(k, dnat()), 0);
  ASSERT_TRUE(r) << "worker 1 sees worker 0's flow";
  EXPECT_EQ(r->shard, 0u);
  ct.touch(*r, kSynF | kAckF, 0);  // worker 1 writes only the reply direction
  ct.touch(*ct.lookup(0, k, 0), kAckF, 0);
  EXPECT_EQ(ct.lookup(1, k, 0)->state(), TcpState::kEstablished);
  ct.remove(1, *r);  // not its own: no-op
  EXPECT_TRUE(ct.lookup(1, k, 0));
  ct.remove(0, *ct.lookup(0, k, 0));
  EXPECT_FALSE(ct.lookup(1, k, 0));
}

// A reply to a port only shard 2 hands out is searched in shard 2, then
// the receiving worker's: the flow is found from any worker, and a flow
// in a third shard is not looked for.
TEST(Conntrack, OwnedLookupSearchesTheOwnerAndOwnShardOnly) {
  Conntrack ct(4, 1024);
  Nat n = dnat();
  n.snat = ip(0xc0a8380b);
  n.snat_port = to_be16(61000);
  ASSERT_EQ(ct.insert(2, fwd_key(), n, 1, true, 1, kSynF, 0), CtInsert::kOk);
  const FlowKey reply{kBackend, n.snat, to_be16(8080), n.snat_port, kTcp};
  for (uint32_t self = 0; self < 4; ++self) {
    auto r = ct.lookup_owned(self, 2, reply, 0);
    ASSERT_TRUE(r) << "from worker " << self;
    EXPECT_EQ(r->shard, 2u);
  }
  EXPECT_FALSE(ct.lookup_owned(0, 1, reply, 0)) << "neither shard 1 nor 0 holds it";
  EXPECT_TRUE(ct.lookup_owned(2, 1, reply, 0)) << "the own shard is searched too";
}

// A mid-stream segment no entry knows is taken up as established, both
// directions findable; a saved flow comes back with its state and idle
// time, its endpoint to be checked again, and an affinity entry under the
// service's new id.
TEST(Conntrack, PickedUpAndRestoredFlowsAreEstablished) {
  Conntrack ct(2, 1024);
  ASSERT_EQ(ct.pick_up(0, fwd_key(40001), dnat(), 3, false, 9, 100), CtInsert::kOk);
  auto p = ct.lookup(0, reply_key(fwd_key(40001), dnat()), 100);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state(), TcpState::kEstablished);
  EXPECT_EQ(p->checked_generation, 9u);

  ASSERT_EQ(ct.insert(1, fwd_key(), dnat(), 7, false, 5, kSynF, 100), CtInsert::kOk);
  ct.touch(*ct.lookup(1, reply_key(fwd_key(), dnat()), 100), kSynF | kAckF, 100);
  ct.touch(*ct.lookup(1, fwd_key(), 100), kAckF, 100);
  ct.set_affinity(1, kClient, 7, dnat(), 600, 100);
  std::vector<CtMatch> saved;
  ct.for_each(100, [&](const CtMatch& m) {
    if (m.shard == 1) saved.push_back(m);
  });
  ASSERT_EQ(saved.size(), 2u);

  Conntrack fresh(2, 1024);
  for (CtMatch m : saved) {
    m.service_id = 12;  // the same service under its id in the new process
    EXPECT_TRUE(fresh.restore(1, m, 5000 - 30));
    if (m.kind == kFlow) {
      EXPECT_FALSE(fresh.restore(1, m, 5000 - 30)) << "the flow is there already";
    }
  }
  auto r = fresh.lookup(0, reply_key(fwd_key(), dnat()), 5000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state(), TcpState::kEstablished);
  EXPECT_EQ(r->service_id, 12u);
  EXPECT_EQ(r->checked_generation, 0u) << "checked against the new tables at its next packet";
  EXPECT_EQ(r->last_seen_s, 5000u - 30);
  auto a = fresh.affinity(1, kClient, 12, 5000);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->backend, kBackend);
}

// The race of a non-owner's touch with the owner recycling the entry:
// freed entries are reused last (FIFO), and a touch through a stale match
// leaves the new flow as it was.
TEST(Conntrack, StaleTouchFromAnotherWorkerDoesNotReachTheRecycledEntry) {
  Conntrack ct(2, 32);  // 16 entries per shard
  const FlowKey a = fwd_key(40000);
  ASSERT_EQ(ct.insert(0, a, dnat(), 7, false, 1, kSynF, 100), CtInsert::kOk);
  const FlowKey a_reply{kBackend, kClient, to_be16(8080), to_be16(40000), kTcp};
  const auto stale = ct.lookup(1, a_reply, 100);  // worker 1 receives A's SYN-ACK...
  ASSERT_TRUE(stale);
  ct.remove(0, *ct.lookup(0, a, 100));  // ...while worker 0 ends A
  for (uint32_t p = 1; p < 16; ++p) ASSERT_EQ(ct.insert(0, fwd_key(40000 + p), dnat(), 7, false, 1, kSynF, 100), CtInsert::kOk);
  const FlowKey b = fwd_key(41000);
  ASSERT_EQ(ct.insert(0, b, dnat(), 7, false, 1, kSynF, 100), CtInsert::kOk);
  const auto fresh = ct.lookup(0, b, 100);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->index, stale->index) << "only after every other free entry was B given A's slot";
  ct.touch(*stale, kSynF | kAckF, 101);
  const auto after = ct.lookup(0, b, 101);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->state(), TcpState::kSynSent) << "B saw no SYN-ACK";
  EXPECT_EQ(after->rep_flags, 0);
}

TEST(Conntrack, AffinityPinsAClientUntilItsTimeout) {
  Conntrack ct(2, 1024);
  const Nat n = dnat();
  ct.set_affinity(0, kClient, 9, n, 60, 100);
  auto a = ct.affinity(1, kClient, 9, 150);
  ASSERT_TRUE(a) << "any worker sees it";
  EXPECT_EQ(a->backend, kBackend);
  EXPECT_FALSE(ct.affinity(1, kClient, 8, 150)) << "per service";
  ct.set_affinity(0, kClient, 9, n, 60, 150);  // refreshed by a new connection
  EXPECT_TRUE(ct.affinity(0, kClient, 9, 200));
  EXPECT_FALSE(ct.affinity(0, kClient, 9, 211));
  EXPECT_EQ(ct.stats().affinity_entries, 1u);
}

// sessionAffinityConfig.clientIP.timeoutSeconds may be up to 86400
// (pkg/apis/core/validation); the entry keeps all of it.
TEST(Conntrack, AffinityTimeoutsUpToADay) {
  Conntrack ct(1, 1024);
  ct.set_affinity(0, kClient, 9, dnat(), 86400, 100);
  EXPECT_TRUE(ct.affinity(0, kClient, 9, 100 + 86400));
  EXPECT_FALSE(ct.affinity(0, kClient, 9, 100 + 86401));
}

// Property test: for any valid TCP exchange (retransmissions, either side
// closing first, resets), the state derived from per-direction flags
// equals a classic transition-table state machine.
struct Event {
  bool reply;
  uint8_t flags;
};

TcpState reference_next(TcpState s, const Event& e) {
  if (e.flags & kRstF) return TcpState::kClose;
  switch (s) {
    case TcpState::kSynSent:
      return e.reply && (e.flags & kSynF) ? TcpState::kSynRecv : s;
    case TcpState::kSynRecv:
      return !e.reply && (e.flags & kAckF) && !(e.flags & kSynF) ? TcpState::kEstablished : s;
    case TcpState::kEstablished:
      if (e.flags & kFinF) return e.reply ? TcpState::kCloseWait : TcpState::kFinWait;
      return s;
    case TcpState::kFinWait:
      return e.reply && (e.flags & kFinF) ? TcpState::kTimeWait : s;
    case TcpState::kCloseWait:
      return !e.reply && (e.flags & kFinF) ? TcpState::kTimeWait : s;
    default:
      return s;
  }
}

// Segments a real peer may send in state s (including retransmissions).
std::vector<Event> valid_events(TcpState s) {
  const Event rst_f{false, kRstF}, rst_r{true, kRstF | kAckF};
  switch (s) {
    case TcpState::kSynSent: return {{false, kSynF}, {true, kSynF | kAckF}, rst_r};
    case TcpState::kSynRecv: return {{false, kSynF}, {true, kSynF | kAckF}, {false, kAckF}, rst_f, rst_r};
    case TcpState::kEstablished:
      return {{false, kAckF}, {true, kAckF}, {false, kFinF | kAckF}, {true, kFinF | kAckF}, rst_f, rst_r};
    case TcpState::kFinWait:
      return {{false, kFinF | kAckF}, {true, kAckF}, {false, kAckF}, {true, kFinF | kAckF}, rst_f, rst_r};
    case TcpState::kCloseWait:
      return {{true, kFinF | kAckF}, {false, kAckF}, {true, kAckF}, {false, kFinF | kAckF}, rst_f, rst_r};
    case TcpState::kTimeWait: return {{false, kAckF}, {true, kAckF}, {true, kFinF | kAckF}, rst_f};
    case TcpState::kClose: return {{false, kAckF}, {true, kRstF}};
  }
  return {};
}

TEST(ConntrackProperty, FlagDerivedStateMatchesTheReferenceMachine) {
  std::mt19937 rng(20261124);
  for (int run = 0; run < 2000; ++run) {
    Conntrack ct(2, 64);
    const FlowKey k = fwd_key(static_cast<uint32_t>(run));
    const FlowKey rk = reply_key(k, dnat());
    ASSERT_EQ(ct.insert(0, k, dnat(), 1, false, 1, kSynF, 0), CtInsert::kOk);
    TcpState ref = TcpState::kSynSent;
    const int steps = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < steps; ++i) {
      auto options = valid_events(ref);
      const Event e = options[rng() % options.size()];
      // Replies land on worker 1 half of the time: cross-shard writes.
      const uint32_t worker = e.reply && (rng() & 1) ? 1 : 0;
      auto m = ct.lookup(worker, e.reply ? rk : k, 0);
      ASSERT_TRUE(m);
      ct.touch(*m, e.flags, 0);
      ref = reference_next(ref, e);
      const CtMatch now = *ct.lookup(0, k, 0);
      ASSERT_EQ(now.state(), ref) << "run " << run << " step " << i << ": got " << tcp_state_name(now.state())
                                  << ", reference " << tcp_state_name(ref);
    }
  }
}

// Readers on another thread never see a torn or recycled entry: every
// match they get has the backend its key implies, while the owner keeps
// inserting, expiring and reusing entries.
TEST(ConntrackConcurrency, ReadersNeverSeeTornEntries) {
  CtTimeouts t;
  t.udp_unreplied = 1;
  Conntrack ct(2, 4096, t);
  std::atomic<uint32_t> clock{0};
  auto key = [](uint32_t i) { return fwd_key(i % 60000, kUdp); };
  auto backend = [](uint32_t i) { return ip(0x0a000000 + (i % 60000) * 7); };
  std::atomic<bool> done{false};
  std::atomic<uint64_t> hits{0}, bad{0};
  std::thread reader([&] {
    std::mt19937 rng(1);
    while (!done.load(std::memory_order_relaxed)) {
      const uint32_t i = rng() % 60000;
      if (auto m = ct.lookup(1, key(i), clock.load(std::memory_order_relaxed))) {
        hits.fetch_add(1, std::memory_order_relaxed);
        if (m->nat.backend != backend(i) || !(m->fwd == key(i))) bad.fetch_add(1, std::memory_order_relaxed);
      }
    }
  });
  // The owner churns: 200 000 inserts into a 2048-entry shard, 1000 per
  // fake second with a 1 s timeout, so entries are swept and reused.
  for (uint32_t i = 0; i < 200000; ++i) {
    const uint32_t now = i / 1000;
    clock.store(now, std::memory_order_relaxed);
    ct.insert(0, key(i), dnat(backend(i)), 1, false, 1, 0, now);
    ct.expire(0, now, 8);
  }
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
}

}  // namespace
}  // namespace svcdp::lb
