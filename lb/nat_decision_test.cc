// The decisions of a new flow, as kube-proxy makes them
// (pkg/proxy/iptables/proxier.go and nftables/proxier.go: external
// traffic policy, the local-traffic short-circuit, masquerade marks).
#include "lb/nat_decision.h"

#include <gtest/gtest.h>

#include <set>

namespace svcdp::lb {
namespace {

constexpr be32 ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return to_be32(uint32_t{a} << 24 | b << 16 | c << 8 | d); }
const be32 kVip = ip(10, 96, 0, 10), kNode = ip(192, 168, 56, 11);
const be32 kPodClient = ip(10, 244, 1, 50), kOutside = ip(203, 0, 113, 9);

Endpoint ep(uint8_t last, bool local) {
  Endpoint e;
  e.addr = ip(10, 244, local ? 1 : 2, last);
  e.port = to_be16(8080);
  e.local = local;
  e.vtep = local ? 0 : ip(192, 168, 56, 12);
  return e;
}

Service service(TrafficPolicy external, bool affinity = false, std::vector<Endpoint> eps = {ep(20, true), ep(10, false), ep(11, false)}) {
  ServiceSpec s;
  s.id = 1;
  s.proto = kTcp;
  s.frontends = {{kVip, to_be16(80), Frontend::kClusterIp}, {kNode, to_be16(30080), Frontend::kNodePort}};
  s.external_policy = external;
  s.affinity_client_ip = affinity;
  s.endpoints = std::move(eps);
  return Service(std::move(s), Maglev::kDefaultMaxSize, nullptr);
}

FlowKey key(be32 src, uint16_t sport, be32 dst = kVip, uint16_t dport = 80) {
  return {src, dst, to_be16(sport), to_be16(dport), kTcp};
}

// The endpoints a set of flows from `src` reach.
std::set<be32> reached(const Service& svc, Frontend kind, Origin origin, be32 src, be32 dst, uint16_t dport) {
  std::set<be32> out;
  for (uint16_t p = 40000; p < 40200; ++p)
    if (const Endpoint* e = decide_new_flow(svc, kind, origin, key(src, p, dst, dport), nullptr).endpoint)
      out.insert(e->addr);
  return out;
}

TEST(NatDecision, ClusterIpFromAPodUsesEveryEndpointAndKeepsTheClient) {
  const Service svc = service(TrafficPolicy::kLocal);
  EXPECT_EQ(reached(svc, Frontend::kClusterIp, Origin::kPod, kPodClient, kVip, 80).size(), 3u);
  const NewFlow d = decide_new_flow(svc, Frontend::kClusterIp, Origin::kPod, key(kPodClient, 40000), nullptr);
  EXPECT_FALSE(d.external);
  EXPECT_FALSE(d.snat);
}

TEST(NatDecision, LocalPolicyKeepsOutsideTrafficOnLocalEndpointsWithTheClientAddress) {
  const Service svc = service(TrafficPolicy::kLocal);
  EXPECT_EQ(reached(svc, Frontend::kNodePort, Origin::kExternal, kOutside, kNode, 30080), std::set<be32>{ip(10, 244, 1, 20)});
  const NewFlow d = decide_new_flow(svc, Frontend::kNodePort, Origin::kExternal, key(kOutside, 40000, kNode, 30080), nullptr);
  EXPECT_TRUE(d.external);
  EXPECT_FALSE(d.snat);
}

// kube-proxy's short-circuit: pods and the node reaching an external front
// end of a Local-policy service get the cluster-wide endpoints.
TEST(NatDecision, LocalPolicyShortCircuitsPodAndNodeTrafficToEveryEndpoint) {
  const Service svc = service(TrafficPolicy::kLocal);
  EXPECT_EQ(reached(svc, Frontend::kNodePort, Origin::kPod, kPodClient, kNode, 30080).size(), 3u);
  EXPECT_EQ(reached(svc, Frontend::kNodePort, Origin::kNode, kNode, kNode, 30080).size(), 3u);
  EXPECT_FALSE(decide_new_flow(svc, Frontend::kNodePort, Origin::kPod, key(kPodClient, 1, kNode, 30080), nullptr).snat);
}

TEST(NatDecision, ClusterPolicyMasqueradesExternalTraffic) {
  const Service svc = service(TrafficPolicy::kCluster);
  for (Origin o : {Origin::kExternal, Origin::kPod}) {
    const NewFlow d = decide_new_flow(svc, Frontend::kNodePort, o, key(kOutside, 40000, kNode, 30080), nullptr);
    EXPECT_TRUE(d.external);
    EXPECT_TRUE(d.snat);
  }
}

TEST(NatDecision, TheNodesOwnTrafficAndHairpinAreMasqueraded) {
  const Service svc = service(TrafficPolicy::kCluster);
  EXPECT_TRUE(decide_new_flow(svc, Frontend::kClusterIp, Origin::kNode, key(kNode, 40000), nullptr).snat);
  // A pod reaching itself through its service.
  const Service self = service(TrafficPolicy::kCluster, false, {ep(50, true)});
  const NewFlow d = decide_new_flow(self, Frontend::kClusterIp, Origin::kPod, key(kPodClient, 40000), nullptr);
  ASSERT_NE(d.endpoint, nullptr);
  EXPECT_EQ(d.endpoint->addr, kPodClient);
  EXPECT_TRUE(d.snat);
}

TEST(NatDecision, NoUsableEndpointMeansReject) {
  const Service svc = service(TrafficPolicy::kLocal, false, {ep(10, false)});
  EXPECT_EQ(decide_new_flow(svc, Frontend::kNodePort, Origin::kExternal, key(kOutside, 1, kNode, 30080), nullptr).endpoint,
            nullptr);
  EXPECT_NE(decide_new_flow(svc, Frontend::kClusterIp, Origin::kPod, key(kPodClient, 1), nullptr).endpoint, nullptr);
}

// Affinity: the pinned endpoint while usable; a first choice by the client
// address alone (every source port, hence every worker, agrees).
TEST(NatDecision, AffinityKeepsThePinnedEndpointAndFirstChoicesDependOnTheClientOnly) {
  const Service svc = service(TrafficPolicy::kCluster, true);
  EXPECT_EQ(reached(svc, Frontend::kClusterIp, Origin::kPod, kPodClient, kVip, 80).size(), 1u);
  Nat pinned;
  pinned.backend = ip(10, 244, 2, 11);
  pinned.backend_port = to_be16(8080);
  for (uint16_t p = 40000; p < 40010; ++p)
    EXPECT_EQ(decide_new_flow(svc, Frontend::kClusterIp, Origin::kPod, key(kPodClient, p), &pinned).endpoint->addr,
              pinned.backend);
  pinned.backend = ip(10, 244, 2, 99);  // left the service
  const Endpoint* e = decide_new_flow(svc, Frontend::kClusterIp, Origin::kPod, key(kPodClient, 40000), &pinned).endpoint;
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->addr, pinned.backend);
}

TEST(PortAllocator, WorkersGetDisjointSharesAndTakenPortsAreSkipped) {
  PortAllocator w0(61000, 65535, 2, 0), w1(61000, 65535, 2, 1);
  EXPECT_EQ(w0.first(), 61000);
  EXPECT_EQ(w1.first(), 61000 + 2268);
  EXPECT_EQ(w0.span(), 2268);
  std::set<uint16_t> taken{61001, 61002};
  auto port = w0.next([&](be16 p) { return taken.count(from_be16(p)) != 0; });
  ASSERT_TRUE(port);
  EXPECT_EQ(from_be16(*port), 61003);
  EXPECT_FALSE(w1.next([](be16) { return true; })) << "gives up after kTries";
  const auto p1 = w1.next([](be16) { return false; });
  ASSERT_TRUE(p1);
  EXPECT_GE(from_be16(*p1), w1.first());
  EXPECT_LT(from_be16(*p1), w1.first() + w1.span());
}

// pkg/proxy/nftables/proxier.go: a service with no usable endpoint
// anywhere is rejected ("has no endpoints"); with endpoints only on other
// nodes and a Local policy, its packets are dropped ("has no local
// endpoints"), for externalTrafficPolicy and internalTrafficPolicy alike.
TEST(NatDecision, LocalPolicyWithoutALocalEndpointDropsNoEndpointAtAllRejects) {
  const Service remote_only = service(TrafficPolicy::kLocal, false, {ep(10, false), ep(11, false)});
  NewFlow d = decide_new_flow(remote_only, Frontend::kNodePort, Origin::kExternal, key(kOutside, 40000, kNode, 30080),
                              nullptr);
  EXPECT_EQ(d.endpoint, nullptr);
  EXPECT_FALSE(d.reject) << "drop, not reject";
  EXPECT_NE(decide_new_flow(remote_only, Frontend::kClusterIp, Origin::kPod, key(kPodClient, 40000), nullptr).endpoint,
            nullptr)
      << "internal traffic has the cluster's endpoints";

  ServiceSpec itp;
  itp.id = 2;
  itp.frontends = {{kVip, to_be16(80), Frontend::kClusterIp}};
  itp.internal_policy = TrafficPolicy::kLocal;
  itp.endpoints = {ep(10, false)};
  const Service internal_local(itp, Maglev::kDefaultMaxSize, nullptr);
  d = decide_new_flow(internal_local, Frontend::kClusterIp, Origin::kPod, key(kPodClient, 40000), nullptr);
  EXPECT_EQ(d.endpoint, nullptr);
  EXPECT_FALSE(d.reject) << "internalTrafficPolicy Local, endpoints elsewhere: drop";

  std::vector<Endpoint> gone = {ep(10, false)};
  gone[0].ready = gone[0].serving = false;
  const Service none = service(TrafficPolicy::kLocal, false, gone);
  d = decide_new_flow(none, Frontend::kNodePort, Origin::kExternal, key(kOutside, 40000, kNode, 30080), nullptr);
  EXPECT_EQ(d.endpoint, nullptr);
  EXPECT_TRUE(d.reject) << "no endpoint anywhere: reject";
}

TEST(NatDecision, LoadBalancerSourceRangesFirewallTheLoadBalancerIpOnly) {
  ServiceSpec s;
  s.id = 3;
  const be32 lb_ip = ip(198, 51, 100, 7);
  s.frontends = {{lb_ip, to_be16(80), Frontend::kLoadBalancerIp}, {kNode, to_be16(30080), Frontend::kNodePort}};
  s.source_ranges = {{to_be32(0xcb007100u), 24}};  // 203.0.113.0/24
  s.endpoints = {ep(20, true)};
  const Service svc(s, Maglev::kDefaultMaxSize, nullptr);
  EXPECT_NE(decide_new_flow(svc, Frontend::kLoadBalancerIp, Origin::kExternal, key(kOutside, 1, lb_ip), nullptr).endpoint,
            nullptr);
  const NewFlow d = decide_new_flow(svc, Frontend::kLoadBalancerIp, Origin::kExternal,
                                    key(ip(198, 18, 0, 1), 1, lb_ip), nullptr);
  EXPECT_TRUE(d.firewalled);
  EXPECT_EQ(d.endpoint, nullptr);
  EXPECT_NE(decide_new_flow(svc, Frontend::kNodePort, Origin::kExternal, key(ip(198, 18, 0, 1), 1, kNode, 30080),
                            nullptr)
                .endpoint,
            nullptr);
}

}  // namespace
}  // namespace svcdp::lb
