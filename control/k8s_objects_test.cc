#include "control/cluster_file.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace svcdp::control {
namespace {

const std::string kFixtures = SVCDP_FIXTURES "/kube-api/";

ClusterObjects fixture(const char* file) {
  if (!std::filesystem::exists(kFixtures + file)) return {};
  return load_cluster_file(kFixtures + file);
}

const ServiceInfo* find(const ClusterObjects& c, const std::string& ns, const std::string& name) {
  for (const auto& s : c.services)
    if (s.meta.ns == ns && s.meta.name == name) return &s;
  return nullptr;
}

TEST(K8sObjects, ServicesFromTheRealApiServer) {
  auto c = fixture("list-services.json");
  if (c.services.empty()) GTEST_SKIP() << "fixtures not found at " << kFixtures;
  EXPECT_TRUE(c.skipped.empty());
  const ServiceInfo* payments = find(c, "shop", "payments");
  ASSERT_NE(payments, nullptr);
  EXPECT_EQ(payments->type, "ClusterIP");
  ASSERT_EQ(payments->cluster_ips.size(), 1u);
  EXPECT_EQ(conf::format_ipv4(payments->cluster_ips[0]), "10.96.100.10");
  ASSERT_EQ(payments->ports.size(), 1u);
  EXPECT_EQ(payments->ports[0].name, "http");
  EXPECT_EQ(payments->ports[0].port, 80);
  EXPECT_EQ(payments->ports[0].target_port, 8080);
  EXPECT_EQ(payments->ports[0].protocol, Protocol::TCP);
  EXPECT_FALSE(payments->affinity_client_ip);
  EXPECT_EQ(payments->affinity_timeout_s, 10800u);

  const ServiceInfo* headless = find(c, "shop", "payments-headless");
  ASSERT_NE(headless, nullptr);
  EXPECT_TRUE(headless->headless);
  EXPECT_TRUE(headless->cluster_ips.empty());

  const ServiceInfo* np = find(c, "shop", "payments-nodeport");
  ASSERT_NE(np, nullptr);
  EXPECT_EQ(np->type, "NodePort");
  EXPECT_NE(np->ports.at(0).node_port, 0);
}

TEST(K8sObjects, EndpointSlicesFromTheRealApiServer) {
  auto c = fixture("list-endpointslices.json");
  if (c.slices.empty()) GTEST_SKIP() << "fixtures not found at " << kFixtures;
  EXPECT_TRUE(c.skipped.empty());
  const EndpointSliceInfo* slice = nullptr;
  for (const auto& s : c.slices)
    if (s.meta.name == "payments-7x9kq") slice = &s;
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ(slice->service_name, "payments");
  ASSERT_EQ(slice->endpoints.size(), 3u);
  EXPECT_EQ(conf::format_ipv4(slice->endpoints[0].address), "10.244.1.10");
  EXPECT_EQ(slice->endpoints[0].node_name, "node-a");
  EXPECT_EQ(slice->endpoints[0].zone, "zone-1");
  EXPECT_TRUE(slice->endpoints[0].ready);
  ASSERT_EQ(slice->ports.size(), 1u);
  EXPECT_EQ(slice->ports[0].port, 8080);
}

TEST(K8sObjects, ServiceFieldsFromYaml) {
  auto c = parse_cluster_text(R"(
apiVersion: v1
kind: Service
metadata:
  name: dns
  namespace: kube-system
  labels: {service.kubernetes.io/service-proxy-name: other}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.10
  externalIPs: [192.0.2.10]
  ports:
  - {name: dns, protocol: UDP, port: 53, targetPort: dns, nodePort: 30053}
  - {name: dns-tcp, protocol: TCP, port: 53}
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
  externalTrafficPolicy: Local
  internalTrafficPolicy: Local
status:
  loadBalancer: {ingress: [{ip: 198.51.100.7}]}
)",
                              "yaml");
  ASSERT_EQ(c.services.size(), 1u);
  const ServiceInfo& s = c.services[0];
  EXPECT_TRUE(s.other_proxy);
  EXPECT_EQ(conf::format_ipv4(s.external_ips.at(0)), "192.0.2.10");
  EXPECT_EQ(conf::format_ipv4(s.load_balancer_ips.at(0)), "198.51.100.7");
  EXPECT_EQ(s.ports[0].protocol, Protocol::UDP);
  EXPECT_EQ(s.ports[0].target_port_name, "dns");
  EXPECT_EQ(s.ports[0].node_port, 30053);
  EXPECT_EQ(s.ports[1].target_port, 53) << "absent targetPort is the port";
  EXPECT_TRUE(s.affinity_client_ip);
  EXPECT_EQ(s.affinity_timeout_s, 60u);
  EXPECT_TRUE(s.external_policy_local);
  EXPECT_TRUE(s.internal_policy_local);
}

TEST(K8sObjects, EndpointConditionsDefaultAsTheApiSays) {
  auto c = parse_cluster_text(R"(
kind: EndpointSlice
metadata: {name: s-1, namespace: ns, labels: {kubernetes.io/service-name: s}}
addressType: IPv4
endpoints:
- addresses: [10.244.1.5]
- addresses: [10.244.1.6]
  conditions: {ready: false}
- addresses: [10.244.1.7]
  conditions: {ready: false, serving: true, terminating: true}
- addresses: []
ports: [{name: http, port: 8080}]
)",
                              "yaml");
  ASSERT_EQ(c.slices.size(), 1u);
  const auto& e = c.slices[0].endpoints;
  ASSERT_EQ(e.size(), 3u) << "an endpoint without addresses is skipped";
  EXPECT_TRUE(e[0].ready && e[0].serving && !e[0].terminating) << "absent conditions: ready";
  EXPECT_TRUE(!e[1].ready && e[1].serving) << "absent serving is true (endpointslicecache.go reads nil as true)";
  EXPECT_TRUE(!e[2].ready && e[2].serving && e[2].terminating);
}

// The start of kube-proxy's network programming SLI: the slice's
// endpoints.kubernetes.io/last-change-trigger-time, RFC 3339 (Go's
// RFC3339Nano); one that does not parse is ignored, as kube-proxy does
// (pkg/proxy/endpointschangetracker.go getLastChangeTriggerTime).
TEST(K8sObjects, SliceTriggerTimeIsParsed) {
  auto c = parse_cluster_text(R"(
kind: List
items:
- kind: EndpointSlice
  metadata:
    name: s-1
    namespace: ns
    labels: {kubernetes.io/service-name: s}
    annotations: {endpoints.kubernetes.io/last-change-trigger-time: "2026-12-01T10:00:00.25Z"}
  addressType: IPv4
  endpoints: [{addresses: [10.244.1.5]}]
- kind: EndpointSlice
  metadata:
    name: s-2
    namespace: ns
    labels: {kubernetes.io/service-name: s}
    annotations: {endpoints.kubernetes.io/last-change-trigger-time: "yesterday"}
  addressType: IPv4
)",
                              "yaml");
  ASSERT_EQ(c.slices.size(), 2u);
  EXPECT_EQ(c.slices[0].trigger_unix_ns, 1'796'119'200'250'000'000);
  EXPECT_EQ(c.slices[1].trigger_unix_ns, 0);
  EndpointSliceInfo later = c.slices[0];
  later.trigger_unix_ns += 1;
  EXPECT_EQ(later, c.slices[0]) << "a trigger time alone is no change";
}

TEST(K8sObjects, Rfc3339Timestamps) {
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339_ns("2026-12-01T10:00:00Z"), 1'796'119'200'000'000'000);
  EXPECT_EQ(parse_rfc3339_ns("2026-12-01T11:30:00.000000001+01:30"), 1'796'119'200'000'000'001);
  EXPECT_EQ(parse_rfc3339_ns("2026-12-01t10:00:00.5z"), 1'796'119'200'500'000'000);
  EXPECT_EQ(parse_rfc3339_ns("2024-02-29T00:00:00Z"), 1'709'164'800'000'000'000) << "a leap day";
  for (const char* bad : {"", "2026-12-01", "2026-12-01T10:00:00", "2026-13-01T10:00:00Z", "2026-12-01T10:00:00.Z",
                          "2026-12-01T10:00:00Zjunk", "2026-12-01 10:00:00Z"})
    EXPECT_EQ(parse_rfc3339_ns(bad), std::nullopt) << bad;
}

// kube-proxy's nodeEligible (pkg/proxy/healthcheck/proxier_health.go):
// a Node being deleted or tainted ToBeDeletedByClusterAutoscaler is not.
TEST(K8sObjects, NodeEligibilityAsKubeProxyReadsIt) {
  auto c = parse_cluster_text(R"(
kind: List
items:
- kind: Node
  metadata: {name: a}
  spec: {podCIDR: 10.244.1.0/24}
  status: {addresses: [{type: InternalIP, address: 192.168.56.11}]}
- kind: Node
  metadata: {name: b}
  spec: {podCIDR: 10.244.2.0/24, taints: [{key: ToBeDeletedByClusterAutoscaler, value: "1700000000", effect: NoSchedule}]}
  status: {addresses: [{type: InternalIP, address: 192.168.56.12}]}
- kind: Node
  metadata: {name: c, deletionTimestamp: "2023-11-14T22:13:20Z"}
  spec: {podCIDR: 10.244.3.0/24}
  status: {addresses: [{type: InternalIP, address: 192.168.56.13}]}
)",
                              "yaml");
  ASSERT_EQ(c.nodes.size(), 3u);
  EXPECT_TRUE(c.nodes[0].eligible);
  EXPECT_FALSE(c.nodes[1].eligible) << "autoscaler taint";
  EXPECT_FALSE(c.nodes[2].eligible) << "being deleted";
}

// flannel's VTEP MACs: backend-data for its IPv4 VTEP (flannel.1),
// backend-v6-data for its IPv6 one (flannel-v6.1, dual-stack).
TEST(K8sObjects, FlannelVtepMacsOfBothFamilies) {
  auto c = parse_cluster_text(R"(
kind: Node
metadata:
  name: b
  annotations: {flannel.alpha.coreos.com/backend-data: '{"VNI":1,"VtepMAC":"02:5d:00:00:02:ff"}',
                flannel.alpha.coreos.com/backend-v6-data: '{"VNI":1,"VtepMAC":"02:5d:00:00:02:fe"}'}
spec: {podCIDRs: [10.244.2.0/24, "fd00:10:244:2::/64"]}
status: {addresses: [{type: InternalIP, address: 192.168.56.12}, {type: InternalIP, address: "fd00:56::12"}]}
)",
                              "yaml");
  ASSERT_EQ(c.nodes.size(), 1u);
  EXPECT_EQ(c.nodes[0].vtep_mac, conf::parse_mac("02:5d:00:00:02:ff"));
  EXPECT_EQ(c.nodes[0].vtep_mac6, conf::parse_mac("02:5d:00:00:02:fe"));
  EXPECT_EQ(c.nodes[0].internal_ip_v6, *conf::parse_ipv6("fd00:56::12"));
}

// An IPv6-only Node has only an IPv6 InternalIP; a Node with none is
// refused with a one-line error naming it.
TEST(K8sObjects, Ipv6OnlyNodesAreReadAndNodesWithoutAnAddressRefused) {
  auto c = parse_cluster_text(R"(
kind: List
items:
- kind: Node
  metadata: {name: v6}
  spec: {podCIDRs: ["fd00:10:244:2::/64"]}
  status: {addresses: [{type: InternalIP, address: "fd00:56::12"}, {type: Hostname, address: v6}]}
- kind: Node
  metadata: {name: none}
  status: {addresses: [{type: Hostname, address: none}]}
)",
                              "yaml");
  ASSERT_EQ(c.nodes.size(), 1u);
  EXPECT_EQ(c.nodes[0].name, "v6");
  EXPECT_EQ(c.nodes[0].internal_ip, 0u);
  EXPECT_EQ(c.nodes[0].internal_ip_v6, *conf::parse_ipv6("fd00:56::12"));
  ASSERT_EQ(c.skipped.size(), 1u);
  EXPECT_NE(c.skipped[0].find("Node none: no InternalIP in status.addresses"), std::string::npos) << c.skipped[0];
}

// Dual-stack objects as the API server writes them (issue 18): both
// families read; what the IPv4 tables see is what they saw before.
TEST(K8sObjects, DualStackObjectsCarryBothFamilies) {
  auto c = parse_cluster_text(R"(
kind: List
items:
- kind: Node
  metadata: {name: a}
  spec: {podCIDR: 10.244.1.0/24, podCIDRs: [10.244.1.0/24, "fd00:10:244:1::/64"]}
  status: {addresses: [{type: InternalIP, address: 192.168.56.11}, {type: InternalIP, address: "fd00:56::11"},
                       {type: Hostname, address: a}]}
- kind: Service
  metadata: {name: web, namespace: shop}
  spec:
    clusterIP: "fd00:10:96::1f"
    clusterIPs: ["fd00:10:96::1f", 10.96.0.31]
    ipFamilies: [IPv6, IPv4]
    ipFamilyPolicy: PreferDualStack
    externalIPs: [192.0.2.10, "2001:db8::10"]
    ports: [{name: http, protocol: TCP, port: 80}]
  status: {loadBalancer: {ingress: [{ip: "2001:db8::7"}, {ip: 198.51.100.7}]}}
- kind: Service
  metadata: {name: old, namespace: shop}
  spec: {clusterIPs: [10.96.0.32], ports: [{port: 80}]}
- kind: EndpointSlice
  metadata: {name: web-v6, namespace: shop, labels: {kubernetes.io/service-name: web}}
  addressType: IPv6
  endpoints: [{addresses: ["fd00:10:244:1::5"], conditions: {ready: true}, nodeName: a}]
  ports: [{name: http, protocol: TCP, port: 8080}]
- kind: EndpointSlice
  metadata: {name: web-v4, namespace: shop, labels: {kubernetes.io/service-name: web}}
  addressType: IPv4
  endpoints: [{addresses: [10.244.1.5], nodeName: a}]
  ports: [{name: http, protocol: TCP, port: 8080}]
)",
                              "yaml");
  ASSERT_EQ(c.nodes.size(), 1u);
  const NodeInfo& n = c.nodes[0];
  EXPECT_EQ(n.pod_cidrs.size(), 1u);
  ASSERT_EQ(n.pod_cidrs_v6.size(), 1u);
  EXPECT_EQ(conf::format_ipv6_prefix(n.pod_cidrs_v6[0]), "fd00:10:244:1::/64");
  EXPECT_EQ(conf::format_ipv4(n.internal_ip), "192.168.56.11");
  ASSERT_EQ(n.addresses_v6.size(), 1u);
  EXPECT_EQ(conf::format_ipv6(n.addresses_v6[0]), "fd00:56::11");

  const ServiceInfo* web = find(c, "shop", "web");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->ip_families, (std::vector<conf::IpFamily>{conf::IpFamily::kIPv6, conf::IpFamily::kIPv4}))
      << "IPv6 primary";
  EXPECT_EQ(web->ip_family_policy, "PreferDualStack");
  ASSERT_EQ(web->cluster_ips.size(), 1u);
  EXPECT_EQ(conf::format_ipv4(web->cluster_ips[0]), "10.96.0.31");
  ASSERT_EQ(web->cluster_ips_v6.size(), 1u);
  EXPECT_EQ(conf::format_ipv6(web->cluster_ips_v6[0]), "fd00:10:96::1f");
  EXPECT_EQ(web->external_ips.size(), 1u);
  EXPECT_EQ(conf::format_ipv6(web->external_ips_v6.at(0)), "2001:db8::10");
  EXPECT_EQ(web->load_balancer_ips.size(), 1u);
  EXPECT_EQ(conf::format_ipv6(web->load_balancer_ips_v6.at(0)), "2001:db8::7");
  const ServiceInfo* old = find(c, "shop", "old");
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(old->ip_families, std::vector<conf::IpFamily>{conf::IpFamily::kIPv4}) << "from clusterIPs when absent";

  ASSERT_EQ(c.slices.size(), 2u);
  const EndpointSliceInfo& v6 = c.slices[0].meta.name == "web-v6" ? c.slices[0] : c.slices[1];
  const EndpointSliceInfo& v4 = &v6 == &c.slices[0] ? c.slices[1] : c.slices[0];
  EXPECT_EQ(v6.family, conf::IpFamily::kIPv6);
  EXPECT_TRUE(v6.endpoints.empty()) << "the IPv4 tables read nothing of it";
  ASSERT_EQ(v6.endpoints_v6.size(), 1u);
  EXPECT_EQ(conf::format_ipv6(v6.endpoints_v6[0].address_v6), "fd00:10:244:1::5");
  EXPECT_EQ(v4.family, conf::IpFamily::kIPv4);
  ASSERT_EQ(v4.endpoints.size(), 1u);
  EXPECT_TRUE(v4.endpoints_v6.empty());

  // A malformed IPv6 address is refused as an IPv4 one is.
  auto bad = parse_cluster_text(R"({"kind":"Service","metadata":{"name":"x","namespace":"d"},)"
                                R"("spec":{"clusterIPs":["fd00::1::2"],"ports":[{"port":80}]}})",
                                "json");
  EXPECT_TRUE(bad.services.empty());
  ASSERT_EQ(bad.skipped.size(), 1u);
  EXPECT_NE(bad.skipped[0].find("malformed clusterIP 'fd00::1::2'"), std::string::npos) << bad.skipped[0];
}

TEST(K8sObjects, BadObjectsAreSkippedWithAReason) {
  auto c = parse_cluster_text(R"(
kind: List
items:
- {kind: Service, metadata: {name: a, namespace: ns}, spec: {clusterIP: 10.0.0.1, ports: [{port: 70000}]}}
- {kind: Service, metadata: {name: b, namespace: ns}, spec: {clusterIP: 10.0.0.1, ports: [{port: 80, protocol: ICMP}]}}
- {kind: Service, metadata: {name: c, namespace: ns}, spec: {clusterIP: not-an-ip}}
- {kind: Service, metadata: {name: d, namespace: ns}}
- {kind: EndpointSlice, metadata: {name: e, namespace: ns}, addressType: IPv4, endpoints: [{addresses: [x]}]}
- {kind: EndpointSlice, metadata: {name: f, namespace: ns}, addressType: IPv4, ports: [{port: "http"}]}
- {kind: EndpointSlice, metadata: {name: g, namespace: ns}, addressType: IPv4, endpoints: [{addresses: [10.0.0.9], conditions: {ready: "false"}}]}
- {kind: Service, metadata: {name: ok, namespace: ns}, spec: {clusterIP: 10.0.0.2, ports: [{port: 80}]}}
)",
                              "bad");
  ASSERT_EQ(c.services.size(), 1u);
  EXPECT_EQ(c.services[0].meta.name, "ok");
  ASSERT_EQ(c.skipped.size(), 7u);
  EXPECT_NE(c.skipped[0].find("ns/a"), std::string::npos);
  EXPECT_NE(c.skipped[6].find("EndpointSlice ns/g: endpoints[0].conditions.ready is not a boolean"), std::string::npos)
      << c.skipped[6];
}

}  // namespace
}  // namespace svcdp::control
