#include "control/fib_builder.h"

#include "control/testing/table_text.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>

namespace svcdp::control {
namespace {

NodeInfo node(const char* name, uint32_t ip, std::vector<const char*> cidrs) {
  NodeInfo n;
  n.name = name;
  n.internal_ip = ip;
  for (const char* c : cidrs) n.pod_cidrs.push_back(*conf::parse_ipv4_prefix(c));
  return n;
}

FibParams params() {
  FibParams p;
  p.node_name = "node-a";
  p.vni = 1;
  p.uplink_mac = {0x02, 0x5d, 0, 0, 0, 1};
  return p;
}

TEST(FibBuilder, LocalAndRemotePodCidrs) {
  auto b = node("node-b", 0xc0a8380c, {"10.244.2.0/24"});
  b.vtep_mac = conf::MacAddr{0x02, 0x5d, 0, 0, 2, 0xff};
  std::vector<NodeInfo> nodes = {node("node-a", 0xc0a8380b, {"10.244.1.0/24"}), b,
                                 node("node-c", 0xc0a8380d, {"10.244.3.0/24"})};
  std::vector<std::string> warnings;
  auto fib = build_fib(nodes, params(), 7, warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(fib->generation, 7u);
  EXPECT_EQ(rte_be_to_cpu_32(fib->node_ip), 0xc0a8380bu);
  EXPECT_EQ(rte_be_to_cpu_32(fib->pod_gateway), 0x0af40101u) << "first address of the pod CIDR";
  EXPECT_TRUE(fib->local_pods.contains(0x0af4010a));
  ASSERT_EQ(fib->nodes.size(), 2u);
  const auto& rb = fib->nodes[*fib->remote_pods.lookup(0x0af4020a)];
  EXPECT_EQ(rb.name, "node-b");
  EXPECT_EQ(rb.nexthop, rb.vtep) << "on-link without a gateway";
  const rte_ether_addr want_b = {{0x02, 0x5d, 0, 0, 2, 0xff}};
  EXPECT_TRUE(rte_is_same_ether_addr(&rb.tmpl.inner_dst, &want_b)) << "flannel VtepMAC";
  const auto& rc = fib->nodes[*fib->remote_pods.lookup(0x0af40301)];
  const rte_ether_addr want_c = {{0x0a, 0x58, 192, 168, 56, 13}};
  EXPECT_TRUE(rte_is_same_ether_addr(&rc.tmpl.inner_dst, &want_c)) << "derived from the VTEP address";
  EXPECT_FALSE(fib->remote_pods.lookup(0x0af40101)) << "our own CIDR is not remote";
}

TEST(FibBuilder, GatewaysFromOptions) {
  auto p = params();
  p.uplink_gateway = 0xc0a83801;
  p.pod_gateway = 0x0af401fe;
  std::vector<std::string> warnings;
  auto fib = build_fib({node("node-a", 1, {"10.244.1.0/24"}), node("node-b", 2, {"10.244.2.0/24"})}, p, 1, warnings);
  EXPECT_EQ(rte_be_to_cpu_32(fib->nodes.at(0).nexthop), 0xc0a83801u);
  EXPECT_EQ(rte_be_to_cpu_32(fib->pod_gateway), 0x0af401feu);
}

// With an on-link subnet, VTEPs inside it are reached directly and only
// the others (and pod egress, uplink_nexthop) through the gateway.
TEST(FibBuilder, UplinkSubnetKeepsOnLinkVtepsDirect) {
  auto p = params();
  p.uplink_gateway = 0xc0a83801;
  p.uplink_subnet = conf::parse_ipv4_prefix("192.168.56.0/24");
  std::vector<std::string> warnings;
  auto fib = build_fib({node("node-a", 0xc0a83801, {"10.244.1.0/24"}), node("node-b", 0xc0a83802, {"10.244.2.0/24"}),
                        node("node-c", 0xc0a83903 /* 192.168.57.3 */, {"10.244.3.0/24"})},
                       p, 1, warnings);
  EXPECT_EQ(rte_be_to_cpu_32(fib->nodes.at(0).nexthop), 0xc0a83802u) << "node-b is on-link";
  EXPECT_EQ(rte_be_to_cpu_32(fib->nodes.at(1).nexthop), 0xc0a83801u) << "node-c is behind the gateway";
  EXPECT_EQ(fib->uplink_nexthop(rte_cpu_to_be_32(0xcb00710a)), rte_cpu_to_be_32(0xc0a83801u)) << "the internet";
}

// The cluster CIDR defaults to the Nodes' pod CIDRs; --cluster-cidr and
// --non-masquerade-cidr are taken as given.
TEST(FibBuilder, ClusterAndNonMasqueradeCidrs) {
  std::vector<std::string> warnings;
  auto fib = build_fib({node("node-a", 1, {"10.244.1.0/24"}), node("node-b", 2, {"10.244.2.0/24"})}, params(), 1,
                       warnings);
  EXPECT_TRUE(fib->cluster.contains(0x0af40205));
  EXPECT_FALSE(fib->cluster.contains(0x0af40905));
  auto p = params();
  p.cluster_cidrs = {*conf::parse_ipv4_prefix("10.244.0.0/16")};
  p.non_masquerade_cidrs = {*conf::parse_ipv4_prefix("172.16.0.0/12")};
  fib = build_fib({node("node-a", 1, {"10.244.1.0/24"})}, p, 1, warnings);
  EXPECT_TRUE(fib->cluster.contains(0x0af40905));
  EXPECT_TRUE(fib->no_masquerade.contains(0xac100001));
  EXPECT_FALSE(fib->no_masquerade.contains(0x0a000001));
}

TEST(FibBuilder, OverlappingNodeIsSkippedWithAWarning) {
  std::vector<std::string> warnings;
  auto fib = build_fib({node("node-a", 1, {"10.244.1.0/24"}), node("bad", 2, {"10.244.0.0/16"}),
                        node("node-b", 3, {"10.244.2.0/24"})},
                       params(), 1, warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("bad"), std::string::npos);
  ASSERT_EQ(fib->nodes.size(), 1u);
  EXPECT_EQ(fib->nodes[0].name, "node-b");
}

// kube-proxy's --nodeport-addresses (pkg/proxy/util/nodeport_addresses.go):
// "primary" by default (nftables mode), else the Node's addresses within
// the CIDRs given.
// The overlap check looks at one neighbouring range, not every node's:
// it must still find a clash with any earlier node, nested either way.
TEST(FibBuilder, OverlapsAreFoundAmongManyNodes) {
  std::vector<NodeInfo> nodes = {node("node-a", 1, {"10.244.1.0/24"})};
  for (uint32_t n = 0; n < 200; ++n) {
    char name[16], cidr[32];  // (string concatenation here trips GCC 12's -Wrestrict)
    std::snprintf(name, sizeof name, "n%u", n);
    std::snprintf(cidr, sizeof cidr, "100.64.%u.0/24", n);
    nodes.push_back(node(name, 100 + n, {cidr}));
  }
  // (Named after the n*: of two overlapping nodes the first by name stays.)
  nodes.push_back(node("x-inside", 400, {"100.64.17.128/25"}));  // within n17's
  nodes.push_back(node("x-around", 401, {"100.64.0.0/20"}));     // covers n0..n15
  nodes.push_back(node("apart", 402, {"100.65.0.0/24"}));
  std::vector<std::string> warnings;
  auto fib = build_fib(nodes, params(), 1, warnings);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("x-around"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("x-inside: pod CIDR 100.64.17.128/25 overlaps 100.64.17.0/24"), std::string::npos)
      << warnings[1];
  EXPECT_EQ(fib->nodes.size(), 201u) << "200 nodes and apart";
}

TEST(FibBuilder, NodePortAddresses) {
  NodeInfo a = node("node-a", 0xc0a8380b, {"10.244.1.0/24"});
  a.addresses = {0xc0a8380b, 0xcb007105};  // InternalIP, ExternalIP 203.0.113.5
  std::vector<std::string> warnings;
  FibParams p = params();
  EXPECT_EQ(build_fib({a}, p, 1, warnings)->nodeport_addresses, (std::vector<uint32_t>{rte_cpu_to_be_32(0xc0a8380b)}));
  p.nodeport_cidrs = {*conf::parse_ipv4_prefix("203.0.113.0/24")};
  EXPECT_EQ(build_fib({a}, p, 1, warnings)->nodeport_addresses, (std::vector<uint32_t>{rte_cpu_to_be_32(0xcb007105)}));
  p.nodeport_cidrs = {*conf::parse_ipv4_prefix("0.0.0.0/0")};
  EXPECT_EQ(build_fib({a}, p, 1, warnings)->nodeport_addresses.size(), 2u);
}

TEST(FibBuilder, ThisNodeMustExist) {
  std::vector<std::string> warnings;
  EXPECT_THROW(build_fib({node("node-b", 2, {"10.244.2.0/24"})}, params(), 1, warnings), FibBuildError);
}

// A node without a pod CIDR still serves Services (SNAT from its own
// address); the overlay is off there, said once. kube-proxy's proxiers
// (pkg/proxy/nftables/proxier.go) need no pod CIDR either; only its
// --detect-local-mode=NodeCIDR waits for one.
TEST(FibBuilder, ANodeWithoutAPodCidrStillServesServices) {
  std::vector<std::string> warnings;
  auto fib = build_fib({node("node-a", 0xc0a8380b, {}), node("node-b", 0xc0a8380c, {"10.244.2.0/24"})}, params(), 1,
                       warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("has no pod CIDR"), std::string::npos);
  EXPECT_EQ(rte_be_to_cpu_32(fib->pod_gateway), 0xc0a8380bu) << "SNAT from the node address";
  EXPECT_TRUE(fib->local_pod_cidrs.empty());
  EXPECT_EQ(fib->nodes.size(), 1u) << "remote pods still reached";
}

// Another node's change is edited into the tables (O(log N)); whatever
// the order of joins, moves and leaves, the tables and warnings are those
// a build from scratch makes, overlaps included: of two nodes whose pod
// CIDRs overlap the first by name stays, and a later one gives way when
// an earlier one takes its CIDR, and comes back when that one leaves.
TEST(FibBuilder, NodeChangesEditedInEqualAFullBuild) {
  const char* cidrs[] = {"10.244.2.0/24", "10.244.2.0/25", "10.244.2.128/25", "10.244.3.0/24",
                         "10.244.0.0/22", "10.244.1.0/24", "10.245.0.0/24", "10.245.1.0/24"};
  const char* cidrs6[] = {"fd00:10:244:2::/64", "fd00:10:244:3::/64", "fd00:10:244:1::/64", "fd00:10:244::/56"};
  FibParams p = params();
  p.uplink_gateway = 0xc0a83801;
  p.uplink_subnet = *conf::parse_ipv4_prefix("192.168.56.0/25");
  std::map<std::string, NodeInfo> nodes = {{"node-a", node("node-a", 0xc0a8380b, {"10.244.1.0/24"})}};
  nodes["node-a"].pod_cidrs_v6 = {*conf::parse_ipv6_prefix("fd00:10:244:1::/64")};
  NodeTables tables(p);
  auto all = [&] {
    std::vector<const NodeInfo*> v;
    for (const auto& [name, n] : nodes) v.push_back(&n);
    return v;
  };
  tables.rebuild(all());
  std::minstd_rand rng(11);
  int clashing = 0;
  for (int step = 0; step < 2000; ++step) {
    char name[16];
    std::snprintf(name, sizeof name, "n%u", static_cast<unsigned>(rng() % 12));
    if (rng() % 4 == 0) {
      nodes.erase(name);
      tables.update(name, nullptr);
    } else {
      std::vector<const char*> mine = {cidrs[rng() % 8]};
      if (rng() % 5 == 0) mine.push_back(cidrs[rng() % 8]);
      if (rng() % 9 == 0) mine.clear();  // no pod CIDR: not routed to
      NodeInfo n = node(name, 0xc0a83800 + 20 + rng() % 200, mine);
      if (rng() % 3 == 0) n.vtep_mac = conf::MacAddr{0x02, 0, 0, 0, 0, static_cast<uint8_t>(rng())};
      if (rng() % 2 == 0) n.pod_cidrs_v6 = {*conf::parse_ipv6_prefix(cidrs6[rng() % 4])};
      nodes[name] = n;
      tables.update(name, &nodes[name]);
    }
    std::vector<std::string> warnings;
    const auto full = build_fib(all(), p, 1, warnings);
    ASSERT_EQ(testing::table_text(*tables.fib(1)), testing::table_text(*full)) << "step " << step;
    ASSERT_EQ(tables.warnings(), warnings) << "step " << step;
    clashing += !warnings.empty();
  }
  EXPECT_GT(clashing, 1000) << "the sequence must exercise overlaps";
}

// Dual-stack Nodes: their IPv6 pod CIDRs route to them (VXLAN over the
// IPv4 underlay), edited in and out with the node; one overlapping this
// node's IPv6 CIDR keeps the node out, with a warning.
TEST(FibBuilder, RemoteIpv6PodCidrs) {
  auto a = node("node-a", 0xc0a8380b, {"10.244.1.0/24"});
  a.pod_cidrs_v6 = {*conf::parse_ipv6_prefix("fd00:10:244:1::/64")};
  auto b = node("node-b", 0xc0a8380c, {"10.244.2.0/24"});
  b.pod_cidrs_v6 = {*conf::parse_ipv6_prefix("fd00:10:244:2::/64")};
  auto c = node("node-c", 0xc0a8380d, {"10.244.3.0/24"});
  c.pod_cidrs_v6 = {*conf::parse_ipv6_prefix("fd00:10:244::/48")};
  auto d = node("node-d", 0xc0a8380e, {});  // IPv6 pods only
  d.pod_cidrs_v6 = {*conf::parse_ipv6_prefix("fd00:10:245:4::/64")};
  const auto at = [](const char* a6) { return lb::Addr6{*conf::parse_ipv6(a6)}; };
  NodeTables t(params());
  std::vector<const NodeInfo*> all = {&a, &b, &c, &d};
  t.rebuild(all);
  auto fib = t.fib(1);
  const auto owner = [&](const char* a6) -> std::string {
    const auto i = fib->remote_pods6.lookup(at(a6));
    return i ? fib->nodes[*i].name : "";
  };
  EXPECT_EQ(owner("fd00:10:244:2::7"), "node-b");
  EXPECT_EQ(owner("fd00:10:245:4::7"), "node-d");
  EXPECT_EQ(owner("fd00:10:244:1::7"), "") << "ours";
  EXPECT_EQ(owner("fd00:10:244:9::7"), "") << "node-c overlaps ours: skipped";
  ASSERT_EQ(t.warnings().size(), 1u);
  EXPECT_NE(t.warnings()[0].find("fd00:10:244::/48 overlaps fd00:10:244:1::/64; node skipped"), std::string::npos)
      << t.warnings()[0];

  b.pod_cidrs_v6 = {*conf::parse_ipv6_prefix("fd00:10:244:20::/64")};
  t.update("node-b", &b);
  t.update("node-d", nullptr);
  fib = t.fib(2);
  EXPECT_EQ(owner("fd00:10:244:2::7"), "");
  EXPECT_EQ(owner("fd00:10:244:20::7"), "node-b");
  EXPECT_EQ(owner("fd00:10:245:4::7"), "");
  EXPECT_EQ(fib->remote_pods6.size(), 1u);
}

// IPv6-only nodes (only an IPv6 InternalIP, only IPv6 pod CIDRs): their
// pods are reached over the IPv6 underlay without --vxlan-ipv6-underlay,
// it being the only one; a dual-stack node keeps the IPv4 underlay; no
// IPv4 VTEP or NodePort address is made up from a missing address.
TEST(FibBuilder, Ipv6OnlyNodesUseTheIpv6Underlay) {
  const auto v6only = [](const char* name, const char* ip6, const char* cidr6) {
    NodeInfo n;
    n.name = name;
    n.internal_ip_v6 = *conf::parse_ipv6(ip6);
    n.pod_cidrs_v6 = {*conf::parse_ipv6_prefix(cidr6)};
    return n;
  };
  const NodeInfo a = v6only("node-a", "fd00:56::11", "fd00:10:244:1::/64");
  const NodeInfo b = v6only("node-b", "fd00:56::12", "fd00:10:244:2::/64");
  std::vector<std::string> warnings;
  auto fib = build_fib({a, b}, params(), 1, warnings);
  EXPECT_TRUE(warnings.empty()) << warnings[0];
  EXPECT_EQ(fib->node_ip, 0u);
  EXPECT_TRUE(fib->nodeport_addresses.empty());
  ASSERT_EQ(fib->nodeport_addresses6.size(), 1u);
  const auto i = fib->remote_pods6.lookup(lb::Addr6{*conf::parse_ipv6("fd00:10:244:2::5")});
  ASSERT_TRUE(i);
  const dp::RemoteNode& rn = fib->nodes[*i];
  EXPECT_EQ(rn.vtep, 0u);
  EXPECT_EQ(rn.vtep6, lb::Addr6{*conf::parse_ipv6("fd00:56::12")});
  EXPECT_TRUE(fib->remote_vteps6.contains(rn.vtep6));
  EXPECT_EQ(fib->remote_vteps.size(), 0u);

  // A dual-stack node beside them: the IPv4 underlay, as before.
  NodeInfo dual = node("node-a", 0xc0a8380b, {"10.244.1.0/24"});
  dual.internal_ip_v6 = a.internal_ip_v6;
  dual.pod_cidrs_v6 = a.pod_cidrs_v6;
  NodeInfo c = node("node-c", 0xc0a8380d, {"10.244.3.0/24"});
  c.internal_ip_v6 = *conf::parse_ipv6("fd00:56::13");
  c.pod_cidrs_v6 = {*conf::parse_ipv6_prefix("fd00:10:244:3::/64")};
  fib = build_fib({dual, b, c}, params(), 2, warnings);
  const auto j = fib->remote_pods6.lookup(lb::Addr6{*conf::parse_ipv6("fd00:10:244:3::5")});
  ASSERT_TRUE(j);
  EXPECT_EQ(fib->nodes[*j].vtep, rte_cpu_to_be_32(0xc0a8380d));
  EXPECT_TRUE(fib->nodes[*j].vtep6.is_zero());
  const auto k = fib->remote_pods6.lookup(lb::Addr6{*conf::parse_ipv6("fd00:10:244:2::5")});
  ASSERT_TRUE(k);
  EXPECT_FALSE(fib->nodes[*k].vtep6.is_zero()) << "node-b has only the IPv6 underlay";
  EXPECT_EQ(fib->remote_vteps.size(), 1u);
}

}  // namespace
}  // namespace svcdp::control
