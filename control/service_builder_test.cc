#include "control/service_builder.h"

#include "control/cluster_file.h"
#include "control/table_builder.h"

#include <gtest/gtest.h>
#include <rte_byteorder.h>

#include <algorithm>

namespace svcdp::control {
namespace {

// Two nodes, services as `kubectl get svc,endpointslices -o yaml` prints
// them (trimmed): a NodePort service with a named target port and two
// slices, a LoadBalancer with Local policy, a headless service and one
// owned by another proxy.
constexpr const char* kCluster = R"(
apiVersion: v1
kind: Node
metadata: {name: node-a}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 192.168.56.11}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-b}
spec: {podCIDR: 10.244.2.0/24}
status: {addresses: [{type: InternalIP, address: 192.168.56.12}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10]
  externalIPs: [192.168.56.50]
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}
  ports:
  - {name: http, port: 80, protocol: TCP, targetPort: web, nodePort: 30080}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: shop
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
- addresses: [10.244.1.10]
  nodeName: node-a
  conditions: {ready: true}
- addresses: [10.244.2.10]
  nodeName: node-b
  conditions: {ready: false, serving: true, terminating: true}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-def
  namespace: shop
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
- addresses: [10.244.2.11]
  nodeName: node-b
---
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: shop}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.20
  externalTrafficPolicy: Local
  ports: [{name: dns, port: 53, protocol: UDP, targetPort: 5353, nodePort: 30053}]
status: {loadBalancer: {ingress: [{ip: 192.168.56.201}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: edge-1
  namespace: shop
  labels: {kubernetes.io/service-name: edge}
addressType: IPv4
ports: [{name: dns, port: 5353, protocol: UDP}]
endpoints:
- addresses: [10.244.2.20]
  nodeName: node-b
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec: {clusterIP: None, ports: [{port: 5432}]}
---
apiVersion: v1
kind: Service
metadata:
  name: mesh
  namespace: shop
  labels: {service.kubernetes.io/service-proxy-name: other}
spec: {clusterIP: 10.96.0.30, ports: [{port: 80}]}
)";

lb::be32 be(const char* ip) { return rte_cpu_to_be_32(*conf::parse_ipv4(ip)); }

class ServiceBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    objs_ = parse_cluster_text(kCluster, "test");
    ASSERT_TRUE(objs_.skipped.empty()) << objs_.skipped[0];
    for (const auto& s : objs_.slices) slices_.upsert(s);
    FibParams p;
    p.node_name = "node-a";
    std::vector<std::string> warnings;
    fib_ = build_fib(objs_.nodes, p, 1, warnings);
  }
  const lb::ServiceSpec* find(const ServiceBuild& b, const std::string& name) {
    auto it = std::find_if(b.specs.begin(), b.specs.end(), [&](const auto& s) { return s.name == name; });
    return it == b.specs.end() ? nullptr : &*it;
  }

  ClusterObjects objs_;
  EndpointSliceCache slices_;
  std::unique_ptr<dp::Fib> fib_;
  ServiceIds ids_{16};
};

// pkg/proxy/endpointslicecache.go isLocal: by nodeName only. An endpoint
// without one is never local, even inside this node's pod CIDR (it is
// still delivered there: no tunnel endpoint).
TEST_F(ServiceBuilderTest, AnEndpointWithoutNodeNameIsNeverLocal) {
  auto objs = parse_cluster_text(R"(
kind: List
items:
- kind: Service
  metadata: {name: s, namespace: ns}
  spec: {clusterIP: 10.96.0.40, internalTrafficPolicy: Local, ports: [{name: p, port: 80}]}
- kind: EndpointSlice
  metadata: {name: s-1, namespace: ns, labels: {kubernetes.io/service-name: s}}
  addressType: IPv4
  ports: [{name: p, port: 8080, protocol: TCP}]
  endpoints: [{addresses: [10.244.1.77]}]
)",
                                 "t");
  ASSERT_TRUE(objs.skipped.empty()) << objs.skipped[0];
  EndpointSliceCache slices;
  slices.upsert(objs.slices[0]);
  auto b = build_services(objs.services, slices, *fib_, "node-a", ids_);
  ASSERT_EQ(b.specs.size(), 1u);
  ASSERT_EQ(b.specs[0].endpoints.size(), 1u);
  EXPECT_FALSE(b.specs[0].endpoints[0].local);
  EXPECT_EQ(b.specs[0].endpoints[0].vtep, 0u);
  lb::Service svc(b.specs[0], 251, nullptr);
  EXPECT_FALSE(svc.has_usable(false)) << "internalTrafficPolicy Local: no local endpoint";
  EXPECT_TRUE(svc.has_any_endpoint()) << "so its traffic is dropped, not rejected";
}

// KEP-1860: an ingress IP with ipMode Proxy is the load balancer's; only
// VIP (or no ipMode) is captured (pkg/proxy/serviceport.go).
TEST_F(ServiceBuilderTest, LoadBalancerIngressInProxyModeIsNotCaptured) {
  auto objs = parse_cluster_text(R"(
kind: Service
metadata: {name: s, namespace: ns}
spec: {type: LoadBalancer, clusterIP: 10.96.0.41, ports: [{name: p, port: 80, nodePort: 30041}],
       loadBalancerSourceRanges: [" 10.1.2.3/8 ", "2001:db8::1/32", not-a-cidr, 10.0.0.0/33]}
status: {loadBalancer: {ingress: [{ip: 198.51.100.1, ipMode: Proxy}, {ip: 198.51.100.2, ipMode: VIP}, {ip: 198.51.100.3}]}}
)",
                                 "t");
  ASSERT_EQ(objs.services.size(), 1u);
  EXPECT_EQ(objs.services[0].load_balancer_ips,
            (std::vector<uint32_t>{*conf::parse_ipv4("198.51.100.2"), *conf::parse_ipv4("198.51.100.3")}));
  // loadBalancerSourceRanges as kube-proxy reads them: spaces trimmed,
  // host bits dropped (ParseCIDRSloppy), each family's ranges for its
  // proxier, unparsable entries ignored.
  ASSERT_EQ(objs.services[0].source_ranges.size(), 1u);
  EXPECT_EQ(conf::format_prefix(objs.services[0].source_ranges[0]), "10.0.0.0/8");
  ASSERT_EQ(objs.services[0].source_ranges_v6.size(), 1u);
  EXPECT_EQ(conf::format_ipv6_prefix(objs.services[0].source_ranges_v6[0]), "2001:db8::/32");
}

// Dual-stack (pkg/proxy/metaproxier, serviceport.go newBaseServiceInfo):
// each family's proxier serves a Service only when it has a ClusterIP of
// that family, with that family's external and LoadBalancer IPs, source
// ranges, NodePort addresses and slices; the two families' ports share
// their ids (one service port, one set of counters).
TEST(ServiceBuilder, EachFamilyServesItsOwnAddressesAndSlices) {
  auto objs = parse_cluster_text(R"(
kind: List
items:
- kind: Node
  metadata: {name: node-a}
  spec: {podCIDRs: [10.244.1.0/24, "fd00:10:244:1::/64"]}
  status: {addresses: [{type: InternalIP, address: 192.168.56.11}, {type: InternalIP, address: "2001:db8:56::11"}]}
- kind: Node
  metadata: {name: node-b}
  spec: {podCIDRs: [10.244.2.0/24, "fd00:10:244:2::/64"]}
  status: {addresses: [{type: InternalIP, address: 192.168.56.12}, {type: InternalIP, address: "2001:db8:56::12"}]}
- kind: Service
  metadata: {name: dual, namespace: ns}
  spec:
    type: LoadBalancer
    ipFamilyPolicy: RequireDualStack
    ipFamilies: [IPv6, IPv4]
    clusterIP: "fd00:10:96::60"
    clusterIPs: ["fd00:10:96::60", 10.96.0.60]
    externalIPs: [192.168.56.60, "2001:db8:56::60"]
    loadBalancerSourceRanges: [10.0.0.0/8, "2001:db8:1::/48"]
    ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30060}]
  status: {loadBalancer: {ingress: [{ip: 198.51.100.60}, {ip: "2001:db8:100::60"}]}}
- kind: Service
  metadata: {name: six, namespace: ns}
  spec: {ipFamilies: [IPv6], clusterIPs: ["fd00:10:96::61"], ports: [{name: dns, port: 53, protocol: UDP}]}
- kind: Service
  metadata: {name: four, namespace: ns}
  spec: {clusterIP: 10.96.0.62, ports: [{name: http, port: 80}]}
- kind: EndpointSlice
  metadata: {name: dual-v4, namespace: ns, labels: {kubernetes.io/service-name: dual}}
  addressType: IPv4
  ports: [{name: http, port: 8080, protocol: TCP}]
  endpoints: [{addresses: [10.244.1.30], nodeName: node-a}]
- kind: EndpointSlice
  metadata: {name: dual-v6, namespace: ns, labels: {kubernetes.io/service-name: dual}}
  addressType: IPv6
  ports: [{name: http, port: 8080, protocol: TCP}]
  endpoints:
  - {addresses: ["fd00:10:244:1::30"], nodeName: node-a}
  - {addresses: ["fd00:10:244:2::30"], nodeName: node-b, conditions: {ready: false, serving: true, terminating: true}}
)",
                                 "t");
  ASSERT_TRUE(objs.skipped.empty()) << objs.skipped[0];
  EndpointSliceCache slices;
  for (const auto& sl : objs.slices) slices.upsert(sl);
  FibParams p;
  p.node_name = "node-a";
  std::vector<std::string> warnings;
  const auto fib = build_fib(objs.nodes, p, 1, warnings);
  ASSERT_EQ(fib->nodeport_addresses6.size(), 1u);
  const VtepOf vtep_of = [](const std::string& n) { return n == "node-b" ? be("192.168.56.12") : 0; };
  ServiceIds ids(16);
  const auto b = build_services(objs.services, slices, *fib, "node-a", ids, "", vtep_of);
  const auto names = [](const auto& specs) {
    std::vector<std::string> out;
    for (const auto& sp : specs) out.push_back(sp.name);
    return out;
  };
  EXPECT_EQ(names(b.specs), (std::vector<std::string>{"dual", "four"})) << "six has no IPv4 ClusterIP";
  EXPECT_EQ(names(b.specs6), (std::vector<std::string>{"dual", "six"})) << "four has no IPv6 ClusterIP";
  const lb::ServiceSpec& v4 = b.specs[0];
  const lb::ServiceSpec6& v6 = b.specs6[0];
  EXPECT_EQ(v4.id, v6.id) << "one service port";
  EXPECT_NE(b.specs6[1].id, v6.id);

  const auto a6 = [](const char* text) { return lb::Addr6{*conf::parse_ipv6(text)}; };
  ASSERT_EQ(v6.frontends.size(), 4u);
  EXPECT_EQ(v6.frontends[0].vip, a6("fd00:10:96::60"));
  EXPECT_EQ(v6.frontends[1].vip, a6("2001:db8:56::11")) << "NodePort on the node's primary IPv6 address";
  EXPECT_EQ(v6.frontends[1].port, rte_cpu_to_be_16(30060));
  EXPECT_EQ(v6.frontends[1].kind, lb::Frontend::kNodePort);
  EXPECT_EQ(v6.frontends[2].vip, a6("2001:db8:56::60"));
  EXPECT_EQ(v6.frontends[2].kind, lb::Frontend::kExternalIp);
  EXPECT_EQ(v6.frontends[3].vip, a6("2001:db8:100::60"));
  EXPECT_EQ(v6.frontends[3].kind, lb::Frontend::kLoadBalancerIp);
  ASSERT_EQ(v4.frontends.size(), 4u);
  EXPECT_EQ(v4.frontends[0].vip, be("10.96.0.60"));
  EXPECT_EQ(v4.frontends[1].vip, be("192.168.56.11"));
  EXPECT_EQ(v4.frontends[3].vip, be("198.51.100.60"));

  ASSERT_EQ(v6.source_ranges.size(), 1u);
  EXPECT_EQ(v6.source_ranges[0].addr, a6("2001:db8:1::"));
  EXPECT_EQ(v6.source_ranges[0].len, 48);
  ASSERT_EQ(v4.source_ranges.size(), 1u);
  EXPECT_EQ(v4.source_ranges[0].addr, be("10.0.0.0"));

  ASSERT_EQ(v4.endpoints.size(), 1u);
  ASSERT_EQ(v6.endpoints.size(), 2u);
  EXPECT_EQ(v6.endpoints[0].addr, a6("fd00:10:244:1::30"));
  EXPECT_TRUE(v6.endpoints[0].local);
  EXPECT_EQ(v6.endpoints[0].vtep, 0u);
  EXPECT_EQ(v6.endpoints[0].port, rte_cpu_to_be_16(8080));
  EXPECT_FALSE(v6.endpoints[1].local);
  EXPECT_EQ(v6.endpoints[1].vtep, be("192.168.56.12")) << "its node's VTEP, the IPv4 underlay";
  EXPECT_TRUE(v6.endpoints[1].terminating);

  // The IPv6 table finds the service by its IPv6 front ends only.
  lb::ServiceTable6 t6(b.specs6, 1);
  const auto m = t6.lookup(a6("2001:db8:56::11"), rte_cpu_to_be_16(30060), lb::kTcp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->service->spec().name, "dual");
  EXPECT_EQ(m->kind, lb::Frontend::kNodePort);
  EXPECT_EQ(m->service->pick(false, 7)->addr, a6("fd00:10:244:1::30")) << "the ready endpoint";
  EXPECT_FALSE(m->service->source_allowed(a6("2001:db8:100::60"), a6("2001:db8:2::1")));
  EXPECT_TRUE(m->service->source_allowed(a6("2001:db8:100::60"), a6("2001:db8:1::1")));
}

// Hints are read against this node's name and zone.
TEST_F(ServiceBuilderTest, TopologyHintsAreReadForThisNode) {
  auto objs = parse_cluster_text(R"(
kind: List
items:
- kind: Service
  metadata: {name: s, namespace: ns}
  spec: {clusterIP: 10.96.0.42, ports: [{name: p, port: 80}]}
- kind: EndpointSlice
  metadata: {name: s-1, namespace: ns, labels: {kubernetes.io/service-name: s}}
  addressType: IPv4
  ports: [{name: p, port: 8080, protocol: TCP}]
  endpoints:
  - {addresses: [10.244.1.5], nodeName: node-a, hints: {forZones: [{name: z1}], forNodes: [{name: node-a}]}}
  - {addresses: [10.244.2.5], nodeName: node-b, hints: {forZones: [{name: z2}], forNodes: [{name: node-b}]}}
)",
                                 "t");
  ASSERT_TRUE(objs.skipped.empty()) << objs.skipped[0];
  EndpointSliceCache slices;
  slices.upsert(objs.slices[0]);
  auto b = build_services(objs.services, slices, *fib_, "node-a", ids_, "z2");
  ASSERT_EQ(b.specs.at(0).endpoints.size(), 2u);
  const lb::Endpoint &a = b.specs[0].endpoints[0], &r = b.specs[0].endpoints[1];
  EXPECT_TRUE(a.has_zone_hints && !a.for_this_zone && a.for_this_node);
  EXPECT_TRUE(r.has_zone_hints && r.for_this_zone && !r.for_this_node);
  lb::Service svc(b.specs[0], 251, nullptr);
  EXPECT_EQ(svc.pick(false, 1)->addr, be("10.244.1.5")) << "PreferSameNode over PreferSameZone";
}

TEST_F(ServiceBuilderTest, HeadlessAndOtherProxiesServicesAreLeftAlone) {
  auto b = build_services(objs_.services, slices_, *fib_, "node-a", ids_);
  EXPECT_EQ(b.specs.size(), 2u);
  EXPECT_EQ(find(b, "db"), nullptr);
  EXPECT_EQ(find(b, "mesh"), nullptr);
}

TEST_F(ServiceBuilderTest, FrontEndsOfEveryKind) {
  auto b = build_services(objs_.services, slices_, *fib_, "node-a", ids_);
  const auto* web = find(b, "web");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->port_name, "http");
  EXPECT_EQ(web->proto, lb::kTcp);
  ASSERT_EQ(web->frontends.size(), 3u);
  EXPECT_EQ(web->frontends[0].vip, be("10.96.0.10"));
  EXPECT_EQ(web->frontends[0].kind, lb::Frontend::kClusterIp);
  EXPECT_EQ(web->frontends[1].vip, be("192.168.56.11")) << "NodePort on this node's address";
  EXPECT_EQ(web->frontends[1].port, rte_cpu_to_be_16(30080));
  EXPECT_EQ(web->frontends[2].kind, lb::Frontend::kExternalIp);
  EXPECT_TRUE(web->affinity_client_ip);
  EXPECT_EQ(web->affinity_timeout_s, 600u);

  const auto* edge = find(b, "edge");
  ASSERT_NE(edge, nullptr);
  EXPECT_EQ(edge->proto, lb::kUdp);
  EXPECT_EQ(edge->external_policy, lb::TrafficPolicy::kLocal);
  EXPECT_EQ(edge->frontends.back().kind, lb::Frontend::kLoadBalancerIp);
  EXPECT_EQ(edge->frontends.back().vip, be("192.168.56.201"));
}

TEST_F(ServiceBuilderTest, EndpointsOfAllSlicesWithTheirNodeAndState) {
  auto b = build_services(objs_.services, slices_, *fib_, "node-a", ids_);
  const auto* web = find(b, "web");
  ASSERT_NE(web, nullptr);
  ASSERT_EQ(web->endpoints.size(), 3u) << "two slices merged";
  const lb::Endpoint& local = web->endpoints[0];
  EXPECT_EQ(local.addr, be("10.244.1.10"));
  EXPECT_EQ(local.port, rte_cpu_to_be_16(8080)) << "named target port resolved through the slice";
  EXPECT_TRUE(local.local);
  EXPECT_EQ(local.vtep, 0u);
  const lb::Endpoint& terminating = web->endpoints[1];
  EXPECT_FALSE(terminating.local);
  EXPECT_EQ(terminating.vtep, be("192.168.56.12"));
  EXPECT_FALSE(terminating.ready);
  EXPECT_TRUE(terminating.terminating);
}

TEST_F(ServiceBuilderTest, IdsAreStableAndReused) {
  auto first = build_services(objs_.services, slices_, *fib_, "node-a", ids_);
  const uint32_t web_id = find(first, "web")->id, edge_id = find(first, "edge")->id;
  EXPECT_NE(web_id, edge_id);
  auto without_web = objs_.services;
  without_web.erase(std::find_if(without_web.begin(), without_web.end(), [](const auto& s) { return s.meta.name == "web"; }));
  auto second = build_services(without_web, slices_, *fib_, "node-a", ids_);
  EXPECT_EQ(find(second, "edge")->id, edge_id);
  auto third = build_services(objs_.services, slices_, *fib_, "node-a", ids_);
  EXPECT_EQ(find(third, "edge")->id, edge_id);
  EXPECT_EQ(find(third, "web")->id, web_id) << "the freed id is the lowest free one again";
}

TEST_F(ServiceBuilderTest, TooManyServicePortsAreLeftOutWithAWarning) {
  ServiceIds one(1);
  auto b = build_services(objs_.services, slices_, *fib_, "node-a", one);
  EXPECT_EQ(b.specs.size(), 1u);
  ASSERT_EQ(b.warnings.size(), 1u);
  EXPECT_NE(b.warnings[0].find("more than 1 service ports"), std::string::npos);
}

TEST_F(ServiceBuilderTest, AnnouncedIpsNeedAnEndpointForExternalTraffic) {
  TableBuilder tb(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251);
  ClusterState state;
  for (const KubeEvent& e : replace_events(objs_, 0)) state.apply(e);
  std::vector<std::string> warnings;
  auto fib = tb.build(state, ClusterState::Dirty{}, 2, warnings);
  // web's external IP: a ready local endpoint. edge's LB IP: policy Local
  // and its only endpoint is on node-b, so node-a does not announce it.
  EXPECT_EQ(fib->announced, std::vector<lb::be32>{be("192.168.56.50")});
  EXPECT_EQ(fib->services->size(), 2u);
  auto again = tb.build(state, ClusterState::Dirty{}, 3, warnings);
  EXPECT_EQ(again->services->reused_tables(), 2u) << "unchanged services keep their Maglev tables";
}

}  // namespace
}  // namespace svcdp::control
