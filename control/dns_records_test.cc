// Cluster DNS built from Kubernetes objects, as the API server sends them:
// a StatefulSet's headless Service (its slice carries the headless label
// that kube-proxy's selector leaves out), an ExternalName, the DNS Service.
#include "control/cluster_file.h"
#include "control/table_builder.h"
#include "dns/testing/wire.h"

#include <gtest/gtest.h>

namespace svcdp::control {
namespace {

const char* kObjects = R"(
apiVersion: v1
kind: Node
metadata: {name: node-a}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 192.168.56.11}]}
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec: {clusterIP: 10.96.0.10, ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec: {clusterIP: None, ports: [{name: pg, port: 5432}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-x1
  namespace: shop
  labels: {kubernetes.io/service-name: db, service.kubernetes.io/headless: ""}
addressType: IPv4
ports: [{name: pg, port: 5432, protocol: TCP}]
endpoints:
- {addresses: [10.244.1.20], hostname: db-0, conditions: {ready: true}}
- {addresses: [10.244.1.21], hostname: db-1, conditions: {ready: false}}
- {addresses: [10.244.1.22]}
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: shop}
spec: {type: ExternalName, externalName: Example.TEST.}
)";

// A generation of `objects` (YAML) for node-a, cluster DNS on with
// kube-system/kube-dns.
std::unique_ptr<dp::Fib> build_with_dns(const char* objects) {
  ClusterState state;
  for (const KubeEvent& e : replace_events(parse_cluster_text(objects, "test"), 0)) state.apply(e);
  DnsParams dns;
  dns.service_ns = "kube-system";
  dns.service_name = "kube-dns";
  TableBuilder builder(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251, nullptr, dns);
  std::vector<std::string> warnings;
  return builder.build(state, ClusterState::Dirty{}, 1, warnings);
}

// The answer section the zone of `fib` gives to `name` `type` ("pass"
// when it leaves the query to CoreDNS).
std::vector<std::string> answer_of(const dp::Fib& fib, const std::string& name, uint16_t type) {
  dns::testing::Bytes b = dns::testing::query(name, type);
  const size_t n = b.size();
  b.resize(1024);
  dns::Query q;
  EXPECT_EQ(dns::parse_query({b.data(), n}, q), dns::Parse::kOk);
  const dns::Zone::Result r = fib.dns->answer(q, b, 512);
  if (r.what == dns::Zone::Result::What::kPass) return {"pass"};
  b.resize(r.len);
  return dns::testing::decode(b).answer;
}

class DnsRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override { fib_ = build_with_dns(kObjects); }
  std::vector<std::string> answer(const std::string& name, uint16_t type) { return answer_of(*fib_, name, type); }
  std::unique_ptr<dp::Fib> fib_;
};

TEST_F(DnsRecordsTest, TheZoneIsBuiltWithTheTablesAndServesTheDnsServiceAddress) {
  ASSERT_NE(fib_->dns, nullptr);
  EXPECT_EQ(fib_->dns_addresses, std::vector<dp::be32>{rte_cpu_to_be_32(0x0a60000a)});
  EXPECT_EQ(answer("kube-dns.kube-system.svc.cluster.local", dns::kA),
            std::vector<std::string>{"kube-dns.kube-system.svc.cluster.local. 5 A 10.96.0.10"});
}

TEST_F(DnsRecordsTest, AHeadlessServiceHasItsReadyEndpointsByHostname) {
  EXPECT_EQ(answer("db.shop.svc.cluster.local", dns::kA),
            (std::vector<std::string>{"db.shop.svc.cluster.local. 5 A 10.244.1.20",
                                      "db.shop.svc.cluster.local. 5 A 10.244.1.22"}))
      << "db-1 is not ready";
  EXPECT_EQ(answer("db-0.db.shop.svc.cluster.local", dns::kA),
            std::vector<std::string>{"db-0.db.shop.svc.cluster.local. 5 A 10.244.1.20"});
  EXPECT_EQ(answer("_pg._tcp.db.shop.svc.cluster.local", dns::kSRV),
            (std::vector<std::string>{"_pg._tcp.db.shop.svc.cluster.local. 5 SRV 0 50 5432 db-0.db.shop.svc.cluster.local.",
                                      "_pg._tcp.db.shop.svc.cluster.local. 5 SRV 0 50 5432 10-244-1-22.db.shop.svc.cluster.local."}));
  EXPECT_EQ(answer("20.1.244.10.in-addr.arpa", dns::kPTR),
            std::vector<std::string>{"20.1.244.10.in-addr.arpa. 5 PTR db-0.db.shop.svc.cluster.local."});
  EXPECT_TRUE(fib_->services->size() == 2u) << "the headless service has no service table (kube-dns has two ports)";
}

TEST_F(DnsRecordsTest, AnExternalNameIsItsTargetInLowerCase) {
  EXPECT_EQ(answer("ext.shop.svc.cluster.local", dns::kCNAME),
            std::vector<std::string>{"ext.shop.svc.cluster.local. 5 CNAME example.test."});
}

// Dual-stack objects as the API server sends them: the Service's IPv6
// ClusterIP and the IPv6 slice's endpoints answer AAAA (issue 18).
TEST(DnsRecords, DualStackServicesAnswerAaaa) {
  const char* objects = R"(
kind: List
items:
- kind: Node
  metadata: {name: node-a}
  spec: {podCIDRs: [10.244.1.0/24, "fd00:10:244:1::/64"]}
  status: {addresses: [{type: InternalIP, address: 192.168.56.11}]}
- kind: Service
  metadata: {name: kube-dns, namespace: kube-system}
  spec: {clusterIP: 10.96.0.10, ports: [{name: dns, port: 53, protocol: UDP}]}
- kind: Service
  metadata: {name: web, namespace: shop}
  spec: {clusterIPs: [10.96.0.40, "fd00:10:96::40"], ipFamilies: [IPv4, IPv6], ipFamilyPolicy: PreferDualStack,
         ports: [{name: http, port: 80}]}
- kind: Service
  metadata: {name: db, namespace: shop}
  spec: {clusterIP: None, clusterIPs: [None], ipFamilies: [IPv6], ports: [{name: pg, port: 5432}]}
- kind: EndpointSlice
  metadata: {name: db-v6, namespace: shop, labels: {kubernetes.io/service-name: db, service.kubernetes.io/headless: ""}}
  addressType: IPv6
  ports: [{name: pg, port: 5432, protocol: TCP}]
  endpoints:
  - {addresses: ["fd00:10:244:1::20"], hostname: db-0, conditions: {ready: true}}
  - {addresses: ["fd00:10:244:1::22"]}
  - {addresses: ["fd00:10:244:1::23"], conditions: {ready: false}}
)";
  const auto fib = build_with_dns(objects);
  auto answer = [&](const std::string& name, uint16_t type) { return answer_of(*fib, name, type); };
  EXPECT_EQ(answer("web.shop.svc.cluster.local", dns::kA),
            std::vector<std::string>{"web.shop.svc.cluster.local. 5 A 10.96.0.40"});
  EXPECT_EQ(answer("web.shop.svc.cluster.local", dns::kAAAA),
            std::vector<std::string>{"web.shop.svc.cluster.local. 5 AAAA fd00:10:96::40"});
  EXPECT_EQ(answer("db.shop.svc.cluster.local", dns::kAAAA),
            (std::vector<std::string>{"db.shop.svc.cluster.local. 5 AAAA fd00:10:244:1::20",
                                      "db.shop.svc.cluster.local. 5 AAAA fd00:10:244:1::22"}))
      << "the not-ready one left out";
  EXPECT_EQ(answer("db-0.db.shop.svc.cluster.local", dns::kAAAA),
            std::vector<std::string>{"db-0.db.shop.svc.cluster.local. 5 AAAA fd00:10:244:1::20"});
  EXPECT_EQ(answer("fd00-10-244-1--22.db.shop.svc.cluster.local", dns::kAAAA),
            std::vector<std::string>{"fd00-10-244-1--22.db.shop.svc.cluster.local. 5 AAAA fd00:10:244:1::22"});
  EXPECT_TRUE(answer("db.shop.svc.cluster.local", dns::kA).empty()) << "an IPv6-only headless service: no A";
  EXPECT_EQ(fib->services->size(), 2u) << "the IPv4 tables: kube-dns and web's IPv4 port, nothing of the IPv6 slice";
}

TEST(DnsRecords, OffWithoutADnsService) {
  ClusterState state;
  for (const KubeEvent& e : replace_events(parse_cluster_text(kObjects, "test"), 0)) state.apply(e);
  TableBuilder builder(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251);
  std::vector<std::string> warnings;
  auto fib = builder.build(state, ClusterState::Dirty{}, 1, warnings);
  EXPECT_EQ(fib->dns, nullptr);
  EXPECT_TRUE(fib->dns_addresses.empty());
}

}  // namespace
}  // namespace svcdp::control
