#include "control/cni_config.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace svcdp::control {
namespace {

CniParams node_a() {
  return {"svcdp-pods", {*conf::parse_ipv4_prefix("10.244.1.0/24")}, *conf::parse_ipv4("10.244.1.1"), 1450};
}

TEST(CniConfig, MacvlanPrivateOnThePodsTapWithHostLocalOverThePodCidr) {
  const auto j = nlohmann::json::parse(cni_conflist(node_a()));
  EXPECT_EQ(j["cniVersion"], "1.0.0");
  EXPECT_EQ(j["name"], "svcdp");
  ASSERT_EQ(j["plugins"].size(), 1u);
  const auto& p = j["plugins"][0];
  EXPECT_EQ(p["type"], "macvlan");
  EXPECT_EQ(p["master"], "svcdp-pods");
  EXPECT_EQ(p["mode"], "private") << "pods reach each other only through svcdp";
  EXPECT_EQ(p["mtu"], 1450);
  EXPECT_EQ(p["ipam"]["type"], "host-local");
  EXPECT_EQ(p["ipam"]["ranges"][0][0]["subnet"], "10.244.1.0/24");
  EXPECT_EQ(p["ipam"]["ranges"][0][0]["gateway"], "10.244.1.1");
  EXPECT_EQ(p["ipam"]["routes"][0]["dst"], "0.0.0.0/0");
  EXPECT_EQ(p["ipam"]["routes"][0]["gw"], "10.244.1.1");
}

// A dual-stack node: both ranges, each with its gateway, and both
// default routes (host-local gives each pod one address of each family).
TEST(CniConfig, DualStackNodeGetsBothRangesAndDefaultRoutes) {
  CniParams p = node_a();
  p.pod_cidrs6 = {*conf::parse_ipv6_prefix("fd00:10:244:1::/64")};
  p.gateway6 = *conf::parse_ipv6("fd00:10:244:1::1");
  const auto j = nlohmann::json::parse(cni_conflist(p));
  const auto& ipam = j["plugins"][0]["ipam"];
  ASSERT_EQ(ipam["ranges"].size(), 2u);
  EXPECT_EQ(ipam["ranges"][1][0]["subnet"], "fd00:10:244:1::/64");
  EXPECT_EQ(ipam["ranges"][1][0]["gateway"], "fd00:10:244:1::1");
  ASSERT_EQ(ipam["routes"].size(), 2u);
  EXPECT_EQ(ipam["routes"][1]["dst"], "::/0");
  EXPECT_EQ(ipam["routes"][1]["gw"], "fd00:10:244:1::1");
  // IPv6 only: no IPv4 route.
  p.pod_cidrs.clear();
  const auto v6 = nlohmann::json::parse(cni_conflist(p));
  ASSERT_EQ(v6["plugins"][0]["ipam"]["routes"].size(), 1u);
  EXPECT_EQ(v6["plugins"][0]["ipam"]["routes"][0]["dst"], "::/0");
}

TEST(CniConfig, WrittenOnlyWhenItChanges) {
  char tmpl[] = "/tmp/svcdp-cni-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  EXPECT_TRUE(write_cni_conflist(dir, cni_conflist(node_a())));
  EXPECT_FALSE(write_cni_conflist(dir, cni_conflist(node_a())));
  CniParams b = node_a();
  b.mtu = 8950;
  EXPECT_TRUE(write_cni_conflist(dir, cni_conflist(b)));
  EXPECT_FALSE(std::filesystem::exists(dir + "/10-svcdp.conflist.tmp"));
  EXPECT_THROW(write_cni_conflist(dir + "/missing", "x"), std::runtime_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace svcdp::control
