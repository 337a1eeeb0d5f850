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
