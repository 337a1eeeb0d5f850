#include "lb/service.h"

#include <gtest/gtest.h>

#include <map>

namespace svcdp::lb {
namespace {

constexpr be32 ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return to_be32(uint32_t{a} << 24 | b << 16 | c << 8 | d); }
const be32 kVip = ip(10, 96, 0, 10), kNode = ip(192, 168, 56, 11), kLb = ip(198, 51, 100, 7);

Endpoint ep(uint8_t last, bool local, bool ready = true, bool serving = true, bool terminating = false) {
  Endpoint e;
  e.addr = ip(10, 244, local ? 1 : 2, last);
  e.port = to_be16(8080);
  e.local = local;
  e.vtep = local ? 0 : ip(192, 168, 56, 12);
  e.ready = ready;
  e.serving = serving;
  e.terminating = terminating;
  return e;
}

ServiceSpec spec(uint32_t id, std::vector<Endpoint> eps) {
  ServiceSpec s;
  s.id = id;
  s.ns = "shop";
  s.name = "web";
  s.port_name = "http";
  s.proto = kTcp;
  s.frontends = {{kVip, to_be16(80), Frontend::kClusterIp},
                 {kNode, to_be16(30080), Frontend::kNodePort},
                 {kLb, to_be16(80), Frontend::kLoadBalancerIp}};
  s.endpoints = std::move(eps);
  return s;
}

std::vector<uint8_t> last_octets(const std::vector<Endpoint>& eps, const std::vector<uint32_t>& idx) {
  std::vector<uint8_t> out;
  for (uint32_t i : idx) out.push_back(static_cast<uint8_t>(from_be32(eps[i].addr)));
  return out;
}

TEST(UsableEndpoints, ReadyFirstThenServingTerminating) {
  std::vector<Endpoint> eps = {ep(1, true), ep(2, false, false, true, true), ep(3, false, false, false, false)};
  EXPECT_EQ(last_octets(eps, usable_endpoints(eps, TrafficPolicy::kCluster)), (std::vector<uint8_t>{1}));
  eps[0].ready = false;
  eps[0].serving = false;
  EXPECT_EQ(last_octets(eps, usable_endpoints(eps, TrafficPolicy::kCluster)), (std::vector<uint8_t>{2}))
      << "KEP-1669: none ready, so serving+terminating";
  eps[1].serving = false;
  EXPECT_TRUE(usable_endpoints(eps, TrafficPolicy::kCluster).empty()) << "reject";
}

TEST(UsableEndpoints, LocalPolicyKeepsOnlyThisNode) {
  std::vector<Endpoint> eps = {ep(1, true), ep(2, false), ep(3, true, false, true, true)};
  EXPECT_EQ(last_octets(eps, usable_endpoints(eps, TrafficPolicy::kLocal)), (std::vector<uint8_t>{1}));
  eps[0].ready = false;
  EXPECT_EQ(last_octets(eps, usable_endpoints(eps, TrafficPolicy::kLocal)), (std::vector<uint8_t>{3}))
      << "local terminating before any remote one";
  eps[2].serving = false;
  EXPECT_TRUE(usable_endpoints(eps, TrafficPolicy::kLocal).empty()) << "no local endpoint: reject even though a remote one is ready";
}

// pkg/proxy/topology.go, topologyModeFromHints and CategorizeEndpoints:
// hints apply only when every ready endpoint has one and one is for this
// node's zone (or, with node hints, this node); terminating endpoints
// are the fallback with topology ignored; the Local policy ignores hints.
TEST(UsableEndpoints, TopologyHintsAsKubeProxyReadsThem) {
  auto zoned = [](uint8_t last, bool here) {
    Endpoint e = ep(last, false);
    e.has_zone_hints = true;
    e.for_this_zone = here;
    return e;
  };
  std::vector<Endpoint> eps = {zoned(1, true), zoned(2, false), zoned(3, false)};
  EXPECT_EQ(last_octets(eps, usable_endpoints(eps, TrafficPolicy::kCluster)), (std::vector<uint8_t>{1}))
      << "PreferSameZone";
  eps.push_back(ep(4, false));
  EXPECT_EQ(usable_endpoints(eps, TrafficPolicy::kCluster).size(), 4u) << "a ready endpoint without hints: all";
  eps.back().ready = eps.back().serving = false;
  EXPECT_EQ(last_octets(eps, usable_endpoints(eps, TrafficPolicy::kCluster)), (std::vector<uint8_t>{1}))
      << "only ready endpoints need hints";
  eps[0].for_this_zone = false;
  EXPECT_EQ(usable_endpoints(eps, TrafficPolicy::kCluster).size(), 3u) << "no hint for this zone: all ready";

  // Node hints on every ready endpoint, one for this node: PreferSameNode.
  eps = {zoned(1, true), zoned(2, true), zoned(3, false)};
  for (Endpoint& e : eps) e.has_node_hints = true;
  eps[1].for_this_node = true;
  EXPECT_EQ(last_octets(eps, usable_endpoints(eps, TrafficPolicy::kCluster)), (std::vector<uint8_t>{2}));
  eps[1].for_this_node = false;
  EXPECT_EQ(last_octets(eps, usable_endpoints(eps, TrafficPolicy::kCluster)), (std::vector<uint8_t>{1, 2}))
      << "no node hint for this node: zones";

  // Topology does not filter the serving-terminating fallback.
  for (Endpoint& e : eps) {
    e.ready = false;
    e.terminating = true;
  }
  EXPECT_EQ(usable_endpoints(eps, TrafficPolicy::kCluster).size(), 3u);
}

TEST(ServiceTable, FrontendsFindTheService) {
  ServiceTable t({spec(7, {ep(1, true), ep(2, false)})}, 1);
  auto m = t.lookup(kVip, to_be16(80), kTcp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->service->spec().id, 7u);
  EXPECT_EQ(m->kind, Frontend::kClusterIp);
  EXPECT_EQ(t.lookup(kNode, to_be16(30080), kTcp)->kind, Frontend::kNodePort);
  EXPECT_EQ(t.lookup(kLb, to_be16(80), kTcp)->kind, Frontend::kLoadBalancerIp);
  EXPECT_FALSE(t.lookup(kVip, to_be16(80), kUdp)) << "protocol is part of the key";
  EXPECT_FALSE(t.lookup(kVip, to_be16(81), kTcp));
  EXPECT_EQ(t.by_id(7), m->service);
  EXPECT_EQ(t.by_id(8), nullptr);
}

TEST(ServiceTable, AFrontendTwoServicesClaimIsTheOlderOnes) {
  // "web" sorts first by name but "api" was created first: api keeps the
  // ClusterIP, in whichever order the services come; web keeps the rest.
  ServiceSpec web = spec(1, {ep(1, true)}), api = spec(2, {ep(2, false)});
  web.created = "2026-11-02T10:00:00Z";
  api.name = "api";
  api.created = "2026-11-01T10:00:00Z";
  api.frontends = {{kVip, to_be16(80), Frontend::kClusterIp}};
  for (bool api_first : {false, true}) {
    ServiceTable t(api_first ? std::vector<ServiceSpec>{api, web} : std::vector<ServiceSpec>{web, api}, 1);
    EXPECT_EQ(t.lookup(kVip, to_be16(80), kTcp)->service->spec().id, 2u);
    EXPECT_EQ(t.lookup(kNode, to_be16(30080), kTcp)->service->spec().id, 1u);
    ASSERT_EQ(t.conflicts().size(), 1u);
    EXPECT_EQ(t.conflicts()[0].kept, 2u);
    EXPECT_EQ(t.conflicts()[0].shadowed, 1u);
    EXPECT_EQ(t.conflicts()[0].frontend.vip, kVip);
  }
  // Same creation time (a cluster file without timestamps): by namespace/name.
  web.created = api.created = "";
  ServiceTable t({web, api}, 2);
  EXPECT_EQ(t.lookup(kVip, to_be16(80), kTcp)->service->spec().name, "api");
}

TEST(ServiceTable, ExternalAndInternalPoliciesDecidedSeparately) {
  auto s = spec(1, {ep(1, true), ep(2, false), ep(3, false)});
  s.external_policy = TrafficPolicy::kLocal;
  ServiceTable t({s}, 1);
  const Service& svc = *t.by_id(1);
  std::map<uint8_t, int> internal, external;
  for (uint64_t h = 0; h < 3000; ++h) {
    ++internal[static_cast<uint8_t>(from_be32(svc.pick(false, mix64(h))->addr))];
    ++external[static_cast<uint8_t>(from_be32(svc.pick(true, mix64(h))->addr))];
  }
  EXPECT_EQ(internal.size(), 3u);
  EXPECT_EQ(external.size(), 1u);
  EXPECT_EQ(external.begin()->first, 1);
}

TEST(ServiceTable, NoUsableEndpointRejects) {
  ServiceTable t({spec(1, {ep(1, true, false, false)}), spec(2, {})}, 1);
  EXPECT_EQ(t.by_id(1)->pick(false, 123), nullptr);
  EXPECT_EQ(t.by_id(2)->pick(true, 123), nullptr);
}

TEST(ServiceTable, FlowVerdictsFollowTheEndpoint) {
  ServiceTable g1({spec(1, {ep(1, true), ep(2, false)})}, 1);
  const be32 e2 = ep(2, false).addr;
  const be16 port = to_be16(8080);
  EXPECT_EQ(g1.check_flow(1, e2, port, kTcp, false), FlowVerdict::kKeep);

  // Endpoint 2 terminating: still in the service, the flow keeps it.
  ServiceTable g2({spec(1, {ep(1, true), ep(2, false, false, true, true)})}, 2, Maglev::kDefaultMaxSize, &g1);
  EXPECT_EQ(g2.check_flow(1, e2, port, kTcp, false), FlowVerdict::kKeep);
  EXPECT_EQ(g2.check_flow(1, e2, port, kUdp, false), FlowVerdict::kKeep);

  // Endpoint 2 not ready and not serving (a failing pod): UDP moves, as
  // kube-proxy clears its conntrack; TCP keeps it.
  ServiceTable g2b({spec(1, {ep(1, true), ep(2, false, false, false)})}, 2);
  EXPECT_EQ(g2b.check_flow(1, e2, port, kTcp, false), FlowVerdict::kKeep);
  EXPECT_EQ(g2b.check_flow(1, e2, port, kUdp, false), FlowVerdict::kRebalance);

  // Endpoint 2 gone: TCP ends, UDP moves.
  ServiceTable g3({spec(1, {ep(1, true)})}, 3);
  EXPECT_EQ(g3.check_flow(1, e2, port, kTcp, false), FlowVerdict::kReset);
  EXPECT_EQ(g3.check_flow(1, e2, port, kUdp, false), FlowVerdict::kRebalance);

  // Nothing left at all, or the service deleted.
  ServiceTable g4({spec(1, {})}, 4);
  EXPECT_EQ(g4.check_flow(1, e2, port, kUdp, false), FlowVerdict::kReject);
  ServiceTable g5(std::vector<ServiceSpec>{}, 5);
  EXPECT_EQ(g5.check_flow(1, e2, port, kUdp, false), FlowVerdict::kReject);
  EXPECT_EQ(g5.check_flow(1, e2, port, kTcp, false), FlowVerdict::kReset);
}

TEST(ServiceTable, UnchangedServicesReuseTheirMaglevTables) {
  ServiceTable g1({spec(1, {ep(1, true), ep(2, false)}), spec(2, {ep(3, true)})}, 1);
  // Service 1 unchanged (order of endpoints differs), service 2 gains one.
  ServiceTable g2({spec(1, {ep(2, false), ep(1, true)}), spec(2, {ep(3, true), ep(4, true)})}, 2,
                  Maglev::kDefaultMaxSize, &g1);
  EXPECT_TRUE(g2.by_id(1)->reused_tables());
  EXPECT_FALSE(g2.by_id(2)->reused_tables());
  EXPECT_EQ(g2.reused_tables(), 1u);
  // A state change that does not change who takes new flows is reused too.
  ServiceTable g3({spec(1, {ep(2, false), ep(1, true, true, true, false)}), spec(2, {ep(3, true), ep(4, true)})}, 3,
                  Maglev::kDefaultMaxSize, &g2);
  EXPECT_EQ(g3.reused_tables(), 2u);
}

TEST(ServiceTable, NewGenerationKeepsPicksOfUnchangedEndpointsMostly) {
  // Adding one endpoint to nine moves about a tenth of new-flow picks.
  std::vector<Endpoint> nine;
  for (uint8_t i = 1; i <= 9; ++i) nine.push_back(ep(i, false));
  std::vector<Endpoint> ten = nine;
  ten.push_back(ep(10, false));
  ServiceTable a({spec(1, nine)}, 1), b({spec(1, ten)}, 2);
  int moved = 0;
  for (uint64_t h = 0; h < 10000; ++h)
    if (a.by_id(1)->pick(false, mix64(h))->addr != b.by_id(1)->pick(false, mix64(h))->addr) ++moved;
  EXPECT_LT(moved, 1500);
  EXPECT_GT(moved, 700);
}

}  // namespace
}  // namespace svcdp::lb
