#include "dns/policy.h"

#include <gtest/gtest.h>

namespace svcdp::dns {
namespace {

PolicyRule rule(std::string name, PolicyRule::Match m, std::string value, bool deny,
                std::vector<std::string> namespaces = {}) {
  PolicyRule r;
  r.name = std::move(name);
  r.match = m;
  r.value = std::move(value);
  r.deny = deny;
  r.subjects.namespaces = std::move(namespaces);
  return r;
}

using M = PolicyRule::Match;

TEST(Policy, PatternsAsCiliumWritesThem) {
  EXPECT_EQ(policy_regex(rule("a", M::kName, "api.example.com.", false)), "^api\\.example\\.com$");
  EXPECT_EQ(policy_regex(rule("a", M::kPattern, "*.blocked.test", false)), "^[-a-z0-9_]*\\.blocked\\.test$");
  EXPECT_EQ(policy_regex(rule("a", M::kPattern, "*", false)), "^.*$");
}

TEST(Policy, TheFirstMatchingRuleThatAppliesDecides) {
  PolicySpec spec;
  spec.rules = {rule("shop-allow-api", M::kName, "api.blocked.test", false, {"shop"}),
                rule("shop-deny-blocked", M::kPattern, "*.blocked.test", true, {"shop"}),
                rule("deny-ads", M::kRegex, "^ads[0-9]+\\.", true)};
  std::string error;
  auto p = Policy::compile(spec, 2, error);
  ASSERT_NE(p, nullptr) << error;
  EXPECT_TRUE(p->check(0, "www.blocked.test", 1, "shop").deny);
  EXPECT_EQ(p->check(0, "www.blocked.test", 1, "shop").rule, 1);
  EXPECT_FALSE(p->check(1, "api.blocked.test", 1, "shop").deny) << "the allow comes first";
  EXPECT_FALSE(p->check(0, "www.blocked.test", 1, "default").deny) << "for namespace shop only";
  EXPECT_FALSE(p->check(0, "a.b.blocked.test", 1, "shop").deny) << "`*` stays within a label";
  EXPECT_FALSE(p->check(0, "blocked.test", 1, "shop").deny);
  EXPECT_TRUE(p->check(0, "ADS12.example.com", 1, "").deny) << "caseless";
  EXPECT_EQ(p->check(0, "example.com", 1, "").rule, -1);
  EXPECT_EQ(p->decided(1), 2u) << "counted per query";
  EXPECT_EQ(p->decided(3), 4u) << "decided by a default";
}

TEST(Policy, ScopeDefaultsThenThePolicysDefault) {
  PolicySpec spec;
  spec.deny = false;
  PolicyScope locked;
  locked.subjects.cidrs = {{0x0af40200, 24}};  // 10.244.2.0/24
  locked.deny = true;
  spec.scopes = {locked};
  spec.rules = {rule("allow-registry", M::kName, "registry.example.com", false)};
  std::string error;
  auto p = Policy::compile(spec, 1, error);
  ASSERT_NE(p, nullptr) << error;
  EXPECT_TRUE(p->check(0, "example.com", 0x0af40205, "").deny);
  EXPECT_FALSE(p->check(0, "registry.example.com", 0x0af40205, "").deny);
  EXPECT_FALSE(p->check(0, "example.com", 0x0af40105, "").deny);
}

// Patterns other than `*.suffix` go to Hyperscan: the same semantics.
TEST(Policy, GeneralPatternsAsRegularExpressions) {
  PolicySpec spec;
  spec.rules = {rule("mid", M::kPattern, "api-*.example.com", true), rule("two", M::kPattern, "*.*.example.org", true),
                rule("all", M::kPattern, "*", false, {"default"})};
  std::string error;
  auto p = Policy::compile(spec, 1, error);
  ASSERT_NE(p, nullptr) << error;
  EXPECT_TRUE(p->check(0, "api-v2.example.com", 1, "").deny);
  EXPECT_FALSE(p->check(0, "api.example.com", 1, "").deny);
  EXPECT_TRUE(p->check(0, "a.b.example.org", 1, "").deny);
  EXPECT_FALSE(p->check(0, "b.example.org", 1, "").deny);
  EXPECT_EQ(p->check(0, "anything.at.all", 1, "default").rule, 2);
}

TEST(Policy, ARegexThatDoesNotCompileIsNamed) {
  PolicySpec spec;
  spec.rules = {rule("ok", M::kName, "a.b", true), rule("broken", M::kRegex, "(", true)};
  std::string error;
  EXPECT_EQ(Policy::compile(spec, 1, error), nullptr);
  EXPECT_NE(error.find("'broken'"), std::string::npos) << error;
}

TEST(Policy, NoRulesOnlyDefaults) {
  PolicySpec spec;
  spec.deny = true;
  std::string error;
  auto p = Policy::compile(spec, 1, error);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->check(0, "example.com", 1, "").deny);
}

}  // namespace
}  // namespace svcdp::dns
