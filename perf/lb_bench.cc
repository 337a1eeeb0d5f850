// Google Benchmark programs for lb/: Maglev build and lookup, service
// lookup, conntrack insert / lookup / expiry at 1 k, 1 M and 10 M flows,
// and the cost of the cross-worker design (perf/README.md has results).
#include "lb/conntrack.h"
#include "lb/maglev.h"
#include "lb/service.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace {

using namespace svcdp::lb;

FlowKey key(uint64_t i) {
  return {to_be32(static_cast<uint32_t>(0x0a000000 + (i >> 16))), to_be32(0x0a60000a),
          to_be16(static_cast<uint16_t>(i)), to_be16(80), kUdp};
}
Nat nat(uint64_t i) {
  return {.backend = to_be32(static_cast<uint32_t>(0x0af40000 + (i & 0xff))), .backend_port = to_be16(8080)};
}

void BM_MaglevBuild(benchmark::State& state) {
  std::vector<MaglevBackend> b;
  for (int64_t i = 0; i < state.range(0); ++i) b.push_back({mix64(static_cast<uint64_t>(i)), 1});
  for (auto _ : state) benchmark::DoNotOptimize(Maglev(b, 65537));
  state.SetLabel("M=65537");
}
BENCHMARK(BM_MaglevBuild)->Arg(3)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_MaglevLookup(benchmark::State& state) {
  std::vector<MaglevBackend> b;
  for (int i = 0; i < 1000; ++i) b.push_back({mix64(static_cast<uint64_t>(i)), 1});
  Maglev m(b, 65537);
  uint64_t h = 1;
  for (auto _ : state) benchmark::DoNotOptimize(m.lookup(h = mix64(h)));
}
BENCHMARK(BM_MaglevLookup);

// Front-end lookup over 1 to 100 k services with 3 endpoints each.
void BM_ServiceLookup(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  std::vector<ServiceSpec> specs;
  for (uint32_t i = 0; i < n; ++i) {
    ServiceSpec s;
    s.id = i;
    s.frontends = {{to_be32(0x0a600000 + i), to_be16(80), Frontend::kClusterIp}};
    for (uint32_t e = 0; e < 3; ++e) {
      Endpoint ep;
      ep.addr = to_be32(0x0af40000 + i * 3 + e);
      ep.port = to_be16(8080);
      s.endpoints.push_back(ep);
    }
    specs.push_back(std::move(s));
  }
  ServiceTable t(std::move(specs), 1);
  uint64_t h = 1;
  for (auto _ : state) {
    h = mix64(h);
    auto m = t.lookup(to_be32(0x0a600000 + static_cast<uint32_t>(h % n)), to_be16(80), kTcp);
    benchmark::DoNotOptimize(m->service->pick(false, h));
  }
}
BENCHMARK(BM_ServiceLookup)->Arg(1)->Arg(1000)->Arg(10000)->Arg(100000);

// Conntrack at a given number of live flows (table twice that size).
struct CtFixture {
  explicit CtFixture(uint64_t n) : ct(std::make_unique<Conntrack>(1, std::max<uint64_t>(2 * n, 64))), flows(n) {
    for (uint64_t i = 0; i < n; ++i) ct->insert(0, key(i), nat(i), 1, false, 1, 0, 0);
  }
  std::unique_ptr<Conntrack> ct;
  uint64_t flows;
};

void BM_CtLookupHit(benchmark::State& state) {
  CtFixture f(static_cast<uint64_t>(state.range(0)));
  uint64_t h = 1;
  for (auto _ : state) benchmark::DoNotOptimize(f.ct->lookup(0, key((h = mix64(h)) % f.flows), 0));
  state.counters["flows"] = static_cast<double>(f.flows);
}
BENCHMARK(BM_CtLookupHit)->Arg(1 << 10)->Arg(1 << 20)->Arg(10'000'000);

void BM_CtLookupReply(benchmark::State& state) {
  CtFixture f(static_cast<uint64_t>(state.range(0)));
  uint64_t h = 1;
  for (auto _ : state) {
    const uint64_t i = (h = mix64(h)) % f.flows;
    benchmark::DoNotOptimize(f.ct->lookup(0, reply_key(key(i), nat(i)), 0));
  }
}
BENCHMARK(BM_CtLookupReply)->Arg(1 << 10)->Arg(1 << 20)->Arg(10'000'000);

void BM_CtLookupMiss(benchmark::State& state) {
  CtFixture f(static_cast<uint64_t>(state.range(0)));
  uint64_t h = 1;
  for (auto _ : state) benchmark::DoNotOptimize(f.ct->lookup(0, key(f.flows + (h = mix64(h)) % f.flows), 0));
}
BENCHMARK(BM_CtLookupMiss)->Arg(1 << 10)->Arg(1 << 20)->Arg(10'000'000);

// Insert then remove (steady churn at the given occupancy).
void BM_CtInsertRemove(benchmark::State& state) {
  CtFixture f(static_cast<uint64_t>(state.range(0)));
  uint64_t i = f.flows;
  for (auto _ : state) {
    const FlowKey k = key(i++);
    f.ct->insert(0, k, nat(i), 1, false, 1, 0, 0);
    f.ct->remove(0, *f.ct->lookup(0, k, 0));
  }
}
BENCHMARK(BM_CtInsertRemove)->Arg(1 << 10)->Arg(1 << 20)->Arg(10'000'000);

// The sweep: cost per entry examined when nothing / everything expires.
void BM_CtSweep(benchmark::State& state) {
  CtFixture f(static_cast<uint64_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(f.ct->expire(0, 1, 64));
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_CtSweep)->Arg(1 << 10)->Arg(1 << 20)->Arg(10'000'000);

// The concurrency choice: a reply found in another worker's shard costs
// one more bucket pair than one in the own shard (the miss there first).
void BM_CtLookupOtherShard(benchmark::State& state) {
  Conntrack ct(static_cast<uint32_t>(state.range(0)), 1 << 21);
  const uint64_t n = 1 << 18;
  for (uint64_t i = 0; i < n; ++i) ct.insert(0, key(i), nat(i), 1, false, 1, 0, 0);
  uint64_t h = 1;
  const uint32_t self = static_cast<uint32_t>(state.range(0)) - 1;  // the last shard: searched own, then 0
  for (auto _ : state) {
    const uint64_t i = (h = mix64(h)) % n;
    benchmark::DoNotOptimize(ct.lookup(self, reply_key(key(i), nat(i)), 0));
  }
  state.SetLabel(state.range(0) == 1 ? "own shard" : "other shard");
}
BENCHMARK(BM_CtLookupOtherShard)->Arg(1)->Arg(2)->Arg(4)->Arg(8);

// A miss with 1 and 16 shards: a reply to an SNAT or masquerade port
// (lookup_owned: the owner's shard and the own) costs the same however
// many workers there are; any other tuple is looked for in every shard.
void BM_CtMissShards(benchmark::State& state) {
  const auto shards = static_cast<uint32_t>(state.range(0));
  const bool owned = state.range(1) != 0;
  Conntrack ct(shards, uint64_t{1} << 21);
  const uint64_t n = 1 << 18;
  for (uint64_t i = 0; i < n; ++i) ct.insert(static_cast<uint32_t>(i % shards), key(i), nat(i), 1, false, 1, 0, 0);
  uint64_t h = 1;
  for (auto _ : state) {
    const FlowKey k = key(n + (h = mix64(h)) % n);
    benchmark::DoNotOptimize(owned ? ct.lookup_owned(0, shards - 1, k, 0) : ct.lookup(0, k, 0));
  }
  state.SetLabel(owned ? "SNAT/masquerade port (owner + own)" : "other tuple (every shard)");
}
BENCHMARK(BM_CtMissShards)->Args({1, 1})->Args({16, 1})->Args({1, 0})->Args({16, 0});

// Two workers touching the same flows from both directions (the replier
// writes the reply bytes of the owner's cache line), against each worker
// touching only flows of its own: the price of cross-worker replies.
void BM_CtTouchShared(benchmark::State& state) {
  const bool shared = state.range(0) == 1;
  Conntrack ct(2, 1 << 16);
  const uint64_t n = 1024;
  for (uint64_t i = 0; i < n; ++i) ct.insert(shared ? 0 : static_cast<uint32_t>(i & 1), key(i), nat(i), 1, false, 1, 0, 0);
  std::atomic<bool> stop{false};
  std::thread other([&] {
    uint64_t h = 7, t = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      const uint64_t i = shared ? (h = mix64(h)) % n : ((h = mix64(h)) % (n / 2)) * 2 + 1;
      if (auto m = ct.lookup(1, shared ? reply_key(key(i), nat(i)) : key(i), 0)) ct.touch(*m, 0, static_cast<uint32_t>(++t));
    }
  });
  uint64_t h = 1, t = 0;
  for (auto _ : state) {
    const uint64_t i = shared ? (h = mix64(h)) % n : ((h = mix64(h)) % (n / 2)) * 2;
    if (auto m = ct.lookup(0, key(i), 0)) ct.touch(*m, 0, static_cast<uint32_t>(++t));
  }
  stop = true;
  other.join();
  state.SetLabel(shared ? "both directions on different workers" : "each worker its own flows");
}
BENCHMARK(BM_CtTouchShared)->Arg(0)->Arg(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
