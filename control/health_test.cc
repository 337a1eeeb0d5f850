#include "control/health.h"

#include <gtest/gtest.h>

#include <vector>

namespace svcdp::control {
namespace {

constexpr uint64_t kS = 1'000'000'000;
constexpr int64_t kWall = 1'700'000'000'000'000'000;  // 2023-11-14 22:13:20 UTC

// kube-proxy's proxier health (pkg/proxy/healthcheck/proxier_health.go):
// healthy while nothing waits, or what waits is younger than the timeout;
// /healthz also needs the Node eligible, /livez does not.
TEST(Health, ProxierHealthyUnlessAChangeWaitsTooLong) {
  Health h(1, 60 * kS);
  const std::vector<uint64_t> loops{1};
  EXPECT_EQ(h.proxier_healthz(100 * kS, kWall).status, 200) << "starting up";
  h.control_round(100 * kS, 0, loops);
  EXPECT_EQ(h.proxier_healthz(100 * kS, kWall).status, 200);
  h.control_round(101 * kS, 100 * kS, loops);  // a change from 100 s waits
  EXPECT_EQ(h.proxier_healthz(159 * kS, kWall).status, 200) << "not late yet";
  EXPECT_EQ(h.proxier_healthz(160 * kS, kWall).status, 503);
  EXPECT_EQ(h.proxier_livez(160 * kS, kWall).status, 503);
  h.updated(kWall + 5 * kS);
  h.control_round(161 * kS, 0, loops);  // published
  EXPECT_EQ(h.proxier_healthz(161 * kS, kWall).status, 200);

  h.node_eligible(false);  // deletionTimestamp or ToBeDeletedByClusterAutoscaler
  const HttpAnswer a = h.proxier_healthz(161 * kS, kWall);
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.content_type, "application/json");
  EXPECT_EQ(a.body, R"({"lastUpdated": "2023-11-14 22:13:25 +0000 UTC","currentTime": "2023-11-14 22:13:20 +0000 UTC", "nodeEligible": false})");
  const HttpAnswer l = h.proxier_livez(161 * kS, kWall);
  EXPECT_EQ(l.status, 200) << "livez ignores the Node";
  EXPECT_EQ(l.body, R"({"lastUpdated": "2023-11-14 22:13:20 +0000 UTC","currentTime": "2023-11-14 22:13:20 +0000 UTC"})")
      << "healthy: lastUpdated is now";
}

// svcdp's own /healthz: the control loop and every worker go round.
TEST(Health, LivenessFailsWhenAWorkerOrTheControlLoopStalls) {
  Health h(2);
  EXPECT_EQ(h.healthz(1 * kS).status, 200) << "before the loop starts";
  std::vector<uint64_t> loops{10, 20};
  h.control_round(1 * kS, 0, loops);
  loops[0] = 11;  // worker 0 goes on, worker 1 stops
  h.control_round(4 * kS, 0, loops);
  EXPECT_EQ(h.healthz(4 * kS).status, 200);
  loops[0] = 12;
  h.control_round(7 * kS, 0, loops);
  const HttpAnswer a = h.healthz(7 * kS);
  EXPECT_EQ(a.status, 503);
  EXPECT_NE(a.body.find("worker 1 stalled"), std::string::npos) << a.body;
  loops[1] = 21;
  h.control_round(8 * kS, 0, loops);
  EXPECT_EQ(h.healthz(8 * kS).status, 200);
  EXPECT_EQ(h.healthz(14 * kS).status, 503) << "no control round for 6 s";
  EXPECT_NE(h.healthz(14 * kS).body.find("control loop stalled"), std::string::npos);
}

// A service port that cannot be built is shown, not made a liveness
// failure (a restart would not build it either).
TEST(Health, LivenessNamesServicePortsThatCannotBeBuilt) {
  Health h(1);
  std::vector<uint64_t> loops{10};
  h.control_round(1 * kS, 0, loops);
  h.unbuilt(2);
  const HttpAnswer a = h.healthz(1 * kS);
  EXPECT_EQ(a.status, 200);
  EXPECT_NE(a.body.find("2 service ports cannot be built"), std::string::npos) << a.body;
  h.unbuilt(0);
  EXPECT_EQ(h.healthz(1 * kS).body, "ok\n");
}

TEST(Health, GoTimeStringAsKubeProxyPrintsIt) {
  EXPECT_EQ(go_time_string(kWall), "2023-11-14 22:13:20 +0000 UTC");
  EXPECT_EQ(go_time_string(kWall + 123'450'000), "2023-11-14 22:13:20.12345 +0000 UTC");
}

}  // namespace
}  // namespace svcdp::control
