#include "control/cluster_file.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace svcdp::control {
namespace {

// Shaped as `kubectl get nodes -o yaml` prints it (trimmed).
constexpr const char* kNodesYaml = R"(apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata:
    name: node-a
    annotations:
      flannel.alpha.coreos.com/backend-data: '{"VNI":1,"VtepMAC":"02:5d:00:00:00:01"}'
  spec:
    podCIDR: 10.244.1.0/24
    podCIDRs: [10.244.1.0/24, "fd00:10:244:1::/64"]
  status:
    addresses:
    - {type: Hostname, address: node-a}
    - {type: InternalIP, address: 192.168.56.11}
- apiVersion: v1
  kind: Node
  metadata: {name: node-b}
  spec: {podCIDR: 10.244.2.0/24}
  status:
    addresses: [{type: InternalIP, address: 192.168.56.12}]
)";

TEST(ClusterFile, NodesFromKubectlYamlList) {
  auto c = parse_cluster_text(kNodesYaml, "test");
  ASSERT_EQ(c.nodes.size(), 2u);
  EXPECT_TRUE(c.skipped.empty());
  const NodeInfo& a = c.nodes[0];
  EXPECT_EQ(a.name, "node-a");
  EXPECT_EQ(a.internal_ip, 0xc0a8380bu);
  ASSERT_EQ(a.pod_cidrs.size(), 1u);  // the IPv6 CIDR is not carried
  EXPECT_EQ(conf::format_prefix(a.pod_cidrs[0]), "10.244.1.0/24");
  ASSERT_TRUE(a.vtep_mac);
  EXPECT_EQ(conf::format_mac(*a.vtep_mac), "02:5d:00:00:00:01");
  EXPECT_FALSE(c.nodes[1].vtep_mac);
  EXPECT_EQ(conf::format_prefix(c.nodes[1].pod_cidrs.at(0)), "10.244.2.0/24");
}

TEST(ClusterFile, JsonAndMultiDocumentAndTypedList) {
  auto json = parse_cluster_text(
      R"({"kind":"NodeList","apiVersion":"v1","items":[{"metadata":{"name":"n1"},"spec":{"podCIDR":"10.0.1.0/24"},)"
      R"("status":{"addresses":[{"type":"InternalIP","address":"10.9.0.1"}]}}]})",
      "json");
  ASSERT_EQ(json.nodes.size(), 1u);
  EXPECT_EQ(json.nodes[0].name, "n1");

  auto multi = parse_cluster_text(
      "kind: Node\nmetadata: {name: x}\nstatus: {addresses: [{type: InternalIP, address: 1.2.3.4}]}\n"
      "---\nkind: Service\nmetadata: {name: s}\n---\n"
      "kind: Node\nmetadata: {name: z}\nstatus: {addresses: [{type: InternalIP, address: 1.2.3.5}]}\n",
      "multi");
  ASSERT_EQ(multi.nodes.size(), 2u);
  EXPECT_EQ(multi.nodes[1].name, "z");
}

TEST(ClusterFile, BrokenObjectsAreSkippedWithAReason) {
  auto c = parse_cluster_text(
      "kind: List\nitems:\n"
      "- {kind: Node, metadata: {name: no-ip}, spec: {podCIDR: 10.0.0.0/24}}\n"
      "- {kind: Node, metadata: {name: bad-cidr}, spec: {podCIDR: 10.0.0.1/24},"
      " status: {addresses: [{type: InternalIP, address: 1.1.1.1}]}}\n"
      "- {kind: Node, metadata: {name: bad-ann, annotations: {flannel.alpha.coreos.com/backend-data: '{'}},"
      " status: {addresses: [{type: InternalIP, address: 1.1.1.2}]}}\n"
      "- {kind: Node, spec: {}}\n"
      "- {kind: Node, metadata: {name: ok}, status: {addresses: [{type: InternalIP, address: 1.1.1.3}]}}\n",
      "broken");
  ASSERT_EQ(c.nodes.size(), 1u);
  EXPECT_EQ(c.nodes[0].name, "ok");
  ASSERT_EQ(c.skipped.size(), 4u);
  EXPECT_NE(c.skipped[0].find("no-ip"), std::string::npos);
  EXPECT_NE(c.skipped[1].find("10.0.0.1/24"), std::string::npos);
}

TEST(ClusterFile, UnparseableFileIsAnErrorNamingTheFile) {
  EXPECT_THROW(parse_cluster_text("kind: [unclosed", "f.yaml"), ClusterFileError);
  try {
    load_cluster_file("/nonexistent/cluster.yaml");
    FAIL();
  } catch (const ClusterFileError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cluster.yaml"), std::string::npos);
  }
}

TEST(ClusterFile, RealApiServerNodeList) {
  // Recorded from a real kube-apiserver (shared/fixtures/kube-api).
  const std::string path = SVCDP_FIXTURES "/kube-api/list-nodes.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixtures not found: " << path;
  auto c = load_cluster_file(path);
  ASSERT_EQ(c.nodes.size(), 2u);
  EXPECT_EQ(c.nodes[0].name, "node-a");
  EXPECT_EQ(conf::format_ipv4(c.nodes[0].internal_ip), "192.168.56.11");
  EXPECT_EQ(conf::format_prefix(c.nodes[0].pod_cidrs.at(0)), "10.244.1.0/24");
}

}  // namespace
}  // namespace svcdp::control
