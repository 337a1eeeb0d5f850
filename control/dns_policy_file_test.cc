#include "control/dns_policy_file.h"

#include <gtest/gtest.h>

namespace svcdp::control {
namespace {

TEST(DnsPolicyFile, AFileAsTheHeaderShowsIt) {
  const dns::PolicySpec s = parse_dns_policy(R"(
default: allow
denyWith: REFUSED
scopes:
- {namespaces: [restricted], default: deny}
rules:
- name: no-blocked-in-shop
  namespaces: [shop]
  cidrs: [10.244.9.0/24]
  action: deny
  matchPattern: "*.Blocked.test"
- {action: allow, matchName: registry.example.com}
)", "policy.yaml");
  EXPECT_FALSE(s.deny);
  EXPECT_EQ(s.deny_rcode, 5);
  ASSERT_EQ(s.scopes.size(), 1u);
  EXPECT_TRUE(s.scopes[0].deny);
  ASSERT_EQ(s.rules.size(), 2u);
  EXPECT_EQ(s.rules[0].name, "no-blocked-in-shop");
  EXPECT_EQ(s.rules[0].value, "*.blocked.test") << "names in lower case";
  EXPECT_EQ(s.rules[0].subjects.cidrs[0].len, 24);
  EXPECT_EQ(s.rules[1].name, "rule-1");
  EXPECT_FALSE(s.rules[1].deny);
}

// Each mistake gets one line naming the file, the place and the fix.
TEST(DnsPolicyFile, MistakesAreNamed) {
  const auto error = [](const char* text) {
    try {
      parse_dns_policy(text, "policy.yaml");
    } catch (const DnsPolicyError& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(error("rules: [{name: ads, action: deny, matchPatern: 'ads.*'}]"),
            "policy.yaml: rules[0]: unknown field 'matchPatern', did you mean 'matchPattern'?");
  EXPECT_EQ(error("rules: [{name: ads, action: deny}]"),
            "policy.yaml: rules[0] (ads): needs exactly one of matchName, matchPattern, matchRegex");
  EXPECT_EQ(error("rules: [{name: ads, action: block, matchName: a}]"),
            "policy.yaml: rules[0] (ads): action must be allow or deny, not 'block'");
  EXPECT_EQ(error("rules: [{name: ads, matchName: a}]"), "policy.yaml: rules[0] (ads): needs action (allow or deny)");
  EXPECT_EQ(error("rules: [{action: deny, matchName: a, cidrs: [10.0.0.0/33]}]"),
            "policy.yaml: rules[0] (rule-0): cidrs must be IPv4 CIDRs (A.B.C.D/LEN)");
  EXPECT_EQ(error("denyWith: SERVFAIL"), "policy.yaml: denyWith must be NXDOMAIN or REFUSED, not 'SERVFAIL'");
  EXPECT_EQ(error("scopes: [{default: deny}]"),
            "policy.yaml: scopes[0]: names no namespace and no CIDR (the policy's own default is `default`)");
  EXPECT_NE(error("rules: [{action: deny, matchName: a}").find("policy.yaml: "), std::string::npos) << "YAML error";
}

}  // namespace
}  // namespace svcdp::control
