#include "lb/service.h"

#include <gtest/gtest.h>

#include <map>

namespace svcdp::lb {
namespace {

constexpr be32 ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return to_be32(uint32_t{a} << 24 | b << 16 | c << 8 | d); }
Addr6 ip6(std::initializer_list<uint16_t> groups) {  // leading groups, then ::, then the last
  Addr6 a;
  size_t i = 0;
  for (uint16_t g : groups) {
    const size_t at = i + 1 == groups.size() ? 7 : i;
    a.bytes[2 * at] = static_cast<uint8_t>(g >> 8);
    a.bytes[2 * at + 1] = static_cast<uint8_t>(g);
    ++i;
  }
  return a;
}

// The addresses of the tests in each family: the same cluster, numbered
// alike (pods 10.244.<node>.<n> / fd00:10:244:<node>::<n>).
template <Family F>
struct Net;
template <>
struct Net<Ip4> {
  static be32 pod(uint8_t node, uint8_t n) { return ip(10, 244, node, n); }
  static be32 vip() { return ip(10, 96, 0, 10); }
  static be32 node() { return ip(192, 168, 56, 11); }
  static be32 lb() { return ip(198, 51, 100, 7); }
  static uint8_t last(be32 a) { return static_cast<uint8_t>(from_be32(a)); }
};
template <>
struct Net<Ip6> {
  static Addr6 pod(uint8_t node, uint8_t n) { return ip6({0xfd00, 0x10, 0x244, node, n}); }
  static Addr6 vip() { return ip6({0xfd00, 0x10, 0x96, 0x10}); }
  static Addr6 node() { return ip6({0x2001, 0xdb8, 0x56, 0x11}); }
  static Addr6 lb() { return ip6({0x2001, 0xdb8, 0x100, 0x7}); }
  static uint8_t last(const Addr6& a) { return a.bytes[15]; }
};

template <Family F>
BasicEndpoint<F> ep(uint8_t last, bool local, bool ready = true, bool serving = true, bool terminating = false) {
  BasicEndpoint<F> e;
  e.addr = Net<F>::pod(local ? 1 : 2, last);
  e.port = to_be16(8080);
  e.local = local;
  e.vtep = local ? 0 : ip(192, 168, 56, 12);
  e.ready = ready;
  e.serving = serving;
  e.terminating = terminating;
  return e;
}
Endpoint ep(uint8_t last, bool local, bool ready = true, bool serving = true, bool terminating = false) {
  return ep<Ip4>(last, local, ready, serving, terminating);
}

template <Family F>
BasicServiceSpec<F> spec(uint32_t id, std::vector<BasicEndpoint<F>> eps) {
  BasicServiceSpec<F> s;
  s.id = id;
  s.ns = "shop";
  s.name = "web";
  s.port_name = "http";
  s.proto = kTcp;
  s.frontends = {{Net<F>::vip(), to_be16(80), Frontend::kClusterIp},
                 {Net<F>::node(), to_be16(30080), Frontend::kNodePort},
                 {Net<F>::lb(), to_be16(80), Frontend::kLoadBalancerIp}};
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

// The tables decide alike for both families: every test below runs for
// IPv4 and for IPv6.
template <Family F>
class ServiceTableFamily : public ::testing::Test {
 protected:
  using Endpoint = BasicEndpoint<F>;
  using Service = BasicService<F>;
  static Endpoint ep(uint8_t last, bool local, bool ready = true, bool serving = true, bool terminating = false) {
    return lb::ep<F>(last, local, ready, serving, terminating);
  }
  static BasicServiceSpec<F> spec(uint32_t id, std::vector<Endpoint> eps) { return lb::spec<F>(id, std::move(eps)); }
};
using Families = ::testing::Types<Ip4, Ip6>;
template <Family F>
using Table = BasicServiceTable<F>;
template <Family F>
using Spec = BasicServiceSpec<F>;
template <Family F>
using N = Net<F>;
TYPED_TEST_SUITE(ServiceTableFamily, Families);

TYPED_TEST(ServiceTableFamily, FrontendsFindTheService) {
  Table<TypeParam> t({this->spec(7, {this->ep(1, true), this->ep(2, false)})}, 1);
  auto m = t.lookup(N<TypeParam>::vip(), to_be16(80), kTcp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->service->spec().id, 7u);
  EXPECT_EQ(m->kind, Frontend::kClusterIp);
  EXPECT_EQ(t.lookup(N<TypeParam>::node(), to_be16(30080), kTcp)->kind, Frontend::kNodePort);
  EXPECT_EQ(t.lookup(N<TypeParam>::lb(), to_be16(80), kTcp)->kind, Frontend::kLoadBalancerIp);
  EXPECT_FALSE(t.lookup(N<TypeParam>::vip(), to_be16(80), kUdp)) << "protocol is part of the key";
  EXPECT_FALSE(t.lookup(N<TypeParam>::vip(), to_be16(81), kTcp));
  EXPECT_EQ(t.by_id(7), m->service);
  EXPECT_EQ(t.by_id(8), nullptr);
}

TYPED_TEST(ServiceTableFamily, AFrontendTwoServicesClaimIsTheOlderOnes) {
  // "web" sorts first by name but "api" was created first: api keeps the
  // ClusterIP, in whichever order the services come; web keeps the rest.
  Spec<TypeParam> web = this->spec(1, {this->ep(1, true)}), api = this->spec(2, {this->ep(2, false)});
  web.created = "2026-11-02T10:00:00Z";
  api.name = "api";
  api.created = "2026-11-01T10:00:00Z";
  api.frontends = {{N<TypeParam>::vip(), to_be16(80), Frontend::kClusterIp}};
  for (bool api_first : {false, true}) {
    Table<TypeParam> t(api_first ? std::vector<Spec<TypeParam>>{api, web} : std::vector<Spec<TypeParam>>{web, api}, 1);
    EXPECT_EQ(t.lookup(N<TypeParam>::vip(), to_be16(80), kTcp)->service->spec().id, 2u);
    EXPECT_EQ(t.lookup(N<TypeParam>::node(), to_be16(30080), kTcp)->service->spec().id, 1u);
    ASSERT_EQ(t.conflicts().size(), 1u);
    EXPECT_EQ(t.conflicts()[0].kept, 2u);
    EXPECT_EQ(t.conflicts()[0].shadowed, 1u);
    EXPECT_EQ(t.conflicts()[0].frontend.vip, N<TypeParam>::vip());
  }
  // Same creation time (a cluster file without timestamps): by namespace/name.
  web.created = api.created = "";
  Table<TypeParam> t({web, api}, 2);
  EXPECT_EQ(t.lookup(N<TypeParam>::vip(), to_be16(80), kTcp)->service->spec().name, "api");
}

TYPED_TEST(ServiceTableFamily, ExternalAndInternalPoliciesDecidedSeparately) {
  auto s = this->spec(1, {this->ep(1, true), this->ep(2, false), this->ep(3, false)});
  s.external_policy = TrafficPolicy::kLocal;
  Table<TypeParam> t({s}, 1);
  const typename TestFixture::Service& svc = *t.by_id(1);
  std::map<uint8_t, int> internal, external;
  for (uint64_t h = 0; h < 3000; ++h) {
    ++internal[N<TypeParam>::last(svc.pick(false, mix64(h))->addr)];
    ++external[N<TypeParam>::last(svc.pick(true, mix64(h))->addr)];
  }
  EXPECT_EQ(internal.size(), 3u);
  EXPECT_EQ(external.size(), 1u);
  EXPECT_EQ(external.begin()->first, 1);
}

TYPED_TEST(ServiceTableFamily, NoUsableEndpointRejects) {
  Table<TypeParam> t({this->spec(1, {this->ep(1, true, false, false)}), this->spec(2, {})}, 1);
  EXPECT_EQ(t.by_id(1)->pick(false, 123), nullptr);
  EXPECT_EQ(t.by_id(2)->pick(true, 123), nullptr);
}

TYPED_TEST(ServiceTableFamily, FlowVerdictsFollowTheEndpoint) {
  Table<TypeParam> g1({this->spec(1, {this->ep(1, true), this->ep(2, false)})}, 1);
  const auto e2 = this->ep(2, false).addr;
  const be16 port = to_be16(8080);
  EXPECT_EQ(g1.check_flow(1, e2, port, kTcp, false), FlowVerdict::kKeep);

  // Endpoint 2 terminating: still in the service, the flow keeps it.
  Table<TypeParam> g2({this->spec(1, {this->ep(1, true), this->ep(2, false, false, true, true)})}, 2, Maglev::kDefaultMaxSize, &g1);
  EXPECT_EQ(g2.check_flow(1, e2, port, kTcp, false), FlowVerdict::kKeep);
  EXPECT_EQ(g2.check_flow(1, e2, port, kUdp, false), FlowVerdict::kKeep);

  // Endpoint 2 not ready and not serving (a failing pod): UDP moves, as
  // kube-proxy clears its conntrack; TCP keeps it.
  Table<TypeParam> g2b({this->spec(1, {this->ep(1, true), this->ep(2, false, false, false)})}, 2);
  EXPECT_EQ(g2b.check_flow(1, e2, port, kTcp, false), FlowVerdict::kKeep);
  EXPECT_EQ(g2b.check_flow(1, e2, port, kUdp, false), FlowVerdict::kRebalance);

  // Endpoint 2 gone: TCP ends, UDP moves.
  Table<TypeParam> g3({this->spec(1, {this->ep(1, true)})}, 3);
  EXPECT_EQ(g3.check_flow(1, e2, port, kTcp, false), FlowVerdict::kReset);
  EXPECT_EQ(g3.check_flow(1, e2, port, kUdp, false), FlowVerdict::kRebalance);

  // Nothing left at all, or the service deleted.
  Table<TypeParam> g4({this->spec(1, {})}, 4);
  EXPECT_EQ(g4.check_flow(1, e2, port, kUdp, false), FlowVerdict::kReject);
  Table<TypeParam> g5(std::vector<Spec<TypeParam>>{}, 5);
  EXPECT_EQ(g5.check_flow(1, e2, port, kUdp, false), FlowVerdict::kReject);
  EXPECT_EQ(g5.check_flow(1, e2, port, kTcp, false), FlowVerdict::kReset);
}

TYPED_TEST(ServiceTableFamily, UnchangedServicesReuseTheirMaglevTables) {
  Table<TypeParam> g1({this->spec(1, {this->ep(1, true), this->ep(2, false)}), this->spec(2, {this->ep(3, true)})}, 1);
  // Service 1 unchanged (order of endpoints differs), service 2 gains one.
  Table<TypeParam> g2({this->spec(1, {this->ep(2, false), this->ep(1, true)}), this->spec(2, {this->ep(3, true), this->ep(4, true)})}, 2,
                  Maglev::kDefaultMaxSize, &g1);
  EXPECT_TRUE(g2.by_id(1)->reused_tables());
  EXPECT_FALSE(g2.by_id(2)->reused_tables());
  EXPECT_EQ(g2.reused_tables(), 1u);
  // A state change that does not change who takes new flows is reused too.
  Table<TypeParam> g3({this->spec(1, {this->ep(2, false), this->ep(1, true, true, true, false)}), this->spec(2, {this->ep(3, true), this->ep(4, true)})}, 3,
                  Maglev::kDefaultMaxSize, &g2);
  EXPECT_EQ(g3.reused_tables(), 2u);
}

TYPED_TEST(ServiceTableFamily, NewGenerationKeepsPicksOfUnchangedEndpointsMostly) {
  // Adding one endpoint to nine moves about a tenth of new-flow picks.
  std::vector<typename TestFixture::Endpoint> nine;
  for (uint8_t i = 1; i <= 9; ++i) nine.push_back(this->ep(i, false));
  std::vector<typename TestFixture::Endpoint> ten = nine;
  ten.push_back(this->ep(10, false));
  Table<TypeParam> a({this->spec(1, nine)}, 1), b({this->spec(1, ten)}, 2);
  int moved = 0;
  for (uint64_t h = 0; h < 10000; ++h)
    if (a.by_id(1)->pick(false, mix64(h))->addr != b.by_id(1)->pick(false, mix64(h))->addr) ++moved;
  EXPECT_LT(moved, 1500);
  EXPECT_GT(moved, 700);
}

// loadBalancerSourceRanges of either family: a prefix in network order
// (host bits zero); only the LoadBalancer IP is filtered.
TYPED_TEST(ServiceTableFamily, SourceRangesFilterTheLoadBalancerIpOnly) {
  auto s = this->spec(1, {this->ep(1, true)});
  using Addr = typename TypeParam::Addr;
  Addr net = N<TypeParam>::pod(2, 0), inside = N<TypeParam>::pod(2, 9), outside = N<TypeParam>::pod(3, 9);
  const uint8_t len = std::is_same_v<TypeParam, Ip4> ? 24 : 64;
  s.source_ranges = {{net, len}};
  Table<TypeParam> t({s}, 1);
  const auto& svc = *t.by_id(1);
  EXPECT_TRUE(svc.source_allowed(Frontend::kLoadBalancerIp, inside));
  EXPECT_FALSE(svc.source_allowed(Frontend::kLoadBalancerIp, outside));
  EXPECT_TRUE(svc.source_allowed(Frontend::kNodePort, outside));
  EXPECT_FALSE(svc.source_allowed(N<TypeParam>::lb(), outside));
  EXPECT_TRUE(svc.source_allowed(N<TypeParam>::vip(), outside));
}

TYPED_TEST(ServiceTableFamily, EndpointFilterKnowsEveryEndpointEverListed) {
  Table<TypeParam> g1({this->spec(1, {this->ep(1, true)})}, 1);
  Table<TypeParam> g2({this->spec(1, {this->ep(2, false)})}, 2, Maglev::kDefaultMaxSize, &g1);
  const be16 port = to_be16(8080);
  EXPECT_TRUE(g2.maybe_endpoint(this->ep(1, true).addr, port, kTcp)) << "never cleared";
  EXPECT_TRUE(g2.maybe_endpoint(this->ep(2, false).addr, port, kTcp));
  EXPECT_FALSE(g2.maybe_endpoint(this->ep(2, false).addr, to_be16(50000), kTcp)) << "a port no endpoint serves";
}

// IPv6 front ends are told apart by all 128 bits: addresses that differ
// only in their first or their middle bytes are different services.
TEST(ServiceTable6, FrontEndsDifferingAnywhereInTheAddress) {
  std::vector<ServiceSpec6> specs;
  const Addr6 base = ip6({0xfd00, 0x10, 0x96, 0x1});
  for (uint32_t id = 0; id < 16; ++id) {
    ServiceSpec6 s = spec<Ip6>(id, {ep<Ip6>(static_cast<uint8_t>(id + 1), true)});
    Addr6 vip = base;
    vip.bytes[id] ^= 0x80;
    s.frontends = {{vip, to_be16(53), Frontend::kClusterIp}};
    specs.push_back(std::move(s));
  }
  ServiceTable6 t(specs, 1);
  EXPECT_TRUE(t.conflicts().empty());
  for (uint32_t id = 0; id < 16; ++id) {
    Addr6 vip = base;
    vip.bytes[id] ^= 0x80;
    auto m = t.lookup(vip, to_be16(53), kTcp);
    ASSERT_TRUE(m) << id;
    EXPECT_EQ(m->service->spec().id, id);
  }
  EXPECT_FALSE(t.lookup(base, to_be16(53), kTcp));
}

// Addresses of an IPv6 prefix, at every length: the bit just past the
// prefix may differ, the last bit of it may not; equality over 128 bits.
TEST(Addr6, PrefixContainsAtEveryLengthAndEquality) {
  const Addr6 net = ip6({0xfd00, 0x10, 0x244, 0x1});
  for (unsigned len = 1; len <= 128; ++len) {
    Addr6 masked = net, inside = net, outside = net;
    for (unsigned bit = len; bit < 128; ++bit) masked.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
    inside = masked;
    if (len < 128) inside.bytes[len / 8] ^= static_cast<uint8_t>(0x80 >> (len % 8));
    outside = masked;
    outside.bytes[(len - 1) / 8] ^= static_cast<uint8_t>(0x80 >> ((len - 1) % 8));
    EXPECT_TRUE(prefix_contains(masked, static_cast<uint8_t>(len), inside)) << len;
    EXPECT_FALSE(prefix_contains(masked, static_cast<uint8_t>(len), outside)) << len;
    EXPECT_FALSE(inside == outside);
  }
  EXPECT_TRUE(prefix_contains(net, 0, Addr6{}));
  Addr6 other = net;
  other.bytes[15] ^= 1;
  EXPECT_FALSE(other == net);
  other.bytes[15] ^= 1;
  EXPECT_TRUE(other == net);
}

}  // namespace
}  // namespace svcdp::lb
