// Google Benchmark program for dns/: one query read and answered, per
// kind of question, from a zone of 1 k / 100 k services (the cost the dns
// stage adds to a packet; bench_core's "dns answers" measures the whole
// worker), and the FQDN policy's check of one name against 10 / 1 k /
// 100 k rules (one Hyperscan scan).
#include "dns/message.h"
#include "dns/policy.h"
#include "dns/text.h"
#include "dns/zone.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace svcdp::dns;

const Zone& zone(size_t services) {
  static std::map<size_t, std::unique_ptr<Zone>> zones;
  auto& z = zones[services];
  if (!z) {
    std::vector<std::shared_ptr<const ServiceRecords>> all;
    for (size_t s = 0; s < services; ++s) {
      auto r = std::make_shared<ServiceRecords>();
      r->name = "s" + std::to_string(s);
      r->ns = "bench";
      r->cluster_ips = {0x0a600000 + static_cast<uint32_t>(s)};
      r->ports = {{"http", "tcp", 80}};
      r->slices = {{{{"http", "tcp", 8080}}, {{0x0af40000 + static_cast<uint32_t>(s), "10-244-0-1"}}}};
      all.push_back(std::move(r));
    }
    z = std::make_unique<Zone>(ZoneConfig{}, std::move(all), std::vector<std::string>{}, 1);
  }
  return *z;
}

void answer(benchmark::State& state, const std::string& name, uint16_t type) {
  const Zone& z = zone(static_cast<size_t>(state.range(0)));
  const std::vector<uint8_t> q = make_query(name, type);
  std::vector<uint8_t> buf(2048);
  for (auto _ : state) {
    std::copy(q.begin(), q.end(), buf.begin());
    Query parsed;
    parse_query({buf.data(), q.size()}, parsed);
    benchmark::DoNotOptimize(z.answer(parsed, buf, 1232));
  }
}

void BM_AnswerA(benchmark::State& s) { answer(s, "s7.bench.svc.cluster.local", kA); }
void BM_AnswerAaaaNodata(benchmark::State& s) { answer(s, "s7.bench.svc.cluster.local", kAAAA); }
void BM_AnswerSearchNxdomain(benchmark::State& s) { answer(s, "host.example.com.bench.svc.cluster.local", kA); }
void BM_AnswerSrv(benchmark::State& s) { answer(s, "_http._tcp.s7.bench.svc.cluster.local", kSRV); }
void BM_AnswerPtr(benchmark::State& s) { answer(s, "7.0.96.10.in-addr.arpa", kPTR); }
void BM_PassExternal(benchmark::State& s) { answer(s, "host.example.com", kA); }
BENCHMARK(BM_AnswerA)->Arg(1000)->Arg(100000);
BENCHMARK(BM_AnswerAaaaNodata)->Arg(1000);
BENCHMARK(BM_AnswerSearchNxdomain)->Arg(1000);
BENCHMARK(BM_AnswerSrv)->Arg(1000);
BENCHMARK(BM_AnswerPtr)->Arg(1000);
BENCHMARK(BM_PassExternal)->Arg(1000);

// Rules as a cluster would have them: half names, half `*.domain`
// patterns, and 10 regular expressions (Hyperscan); the name checked
// matches none, so every index and the whole database are consulted.
void BM_PolicyCheck(benchmark::State& state) {
  PolicySpec spec;
  const auto n = static_cast<size_t>(state.range(0));
  for (size_t i = 0; i < n; ++i) {
    PolicyRule r;
    r.match = i < 10 ? PolicyRule::Match::kRegex : i % 2 ? PolicyRule::Match::kName : PolicyRule::Match::kPattern;
    char text[96];  // (snprintf: GCC 12's -Wrestrict misfires on string concatenation)
    std::snprintf(text, sizeof text, "r%zu", i);
    r.name = text;
    r.deny = true;
    std::snprintf(text, sizeof text,
                  r.match == PolicyRule::Match::kRegex  ? "^ads%zu[0-9]*\\.example\\.net$"
                  : r.match == PolicyRule::Match::kName ? "host%zu.example.org"
                                                        : "*.domain%zu.test",
                  i);
    r.value = text;
    r.subjects.namespaces = {"shop"};
    spec.rules.push_back(std::move(r));
  }
  std::string error;
  const auto policy = Policy::compile(spec, 1, error);
  if (!policy) {
    state.SkipWithError(error.c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(policy->check(0, "api.payments.example.com", 0x0af40105, "shop"));
}
BENCHMARK(BM_PolicyCheck)->Arg(10)->Arg(1000)->Arg(100000)->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
