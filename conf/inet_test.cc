#include "conf/inet.h"

#include <gtest/gtest.h>

namespace svcdp::conf {
namespace {

TEST(Inet, Ipv4) {
  EXPECT_EQ(parse_ipv4("10.244.1.10"), 0x0af4010au);
  EXPECT_EQ(parse_ipv4("0.0.0.0"), 0u);
  EXPECT_EQ(parse_ipv4("255.255.255.255"), 0xffffffffu);
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "a.b.c.d", "1.2.3.4 ", "-1.2.3.4", "1.2.3.0004"})
    EXPECT_FALSE(parse_ipv4(bad)) << bad;
  EXPECT_EQ(format_ipv4(0xc0a8380b), "192.168.56.11");
}

// 010.096.000.010 would be 10.96.0.10 to a decimal reader and 8.78.0.8
// to inet_aton: refused, as Go's net.ParseIP refuses it.
TEST(Inet, Ipv4WithLeadingZerosIsRefused) {
  EXPECT_FALSE(parse_ipv4("010.096.000.010"));
  EXPECT_FALSE(parse_ipv4("10.96.0.010"));
  EXPECT_FALSE(parse_ipv4("10.96.00.1"));
  EXPECT_EQ(parse_ipv4("10.96.0.0"), 0x0a600000u) << "a single 0 is fine";
  EXPECT_FALSE(parse_ipv4_prefix("010.244.0.0/16"));
}

TEST(Inet, Prefix) {
  auto p = parse_ipv4_prefix("10.244.1.0/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->addr, 0x0af40100u);
  EXPECT_EQ(p->len, 24);
  EXPECT_TRUE(p->contains(0x0af401ffu));
  EXPECT_FALSE(p->contains(0x0af40200u));
  EXPECT_TRUE(parse_ipv4_prefix("0.0.0.0/0")->contains(0x01020304));
  for (const char* bad : {"10.244.1.1/24", "10.244.1.0", "10.244.1.0/33", "10.244.1.0/", "x/24"})
    EXPECT_FALSE(parse_ipv4_prefix(bad)) << bad;
  EXPECT_EQ(format_prefix(*p), "10.244.1.0/24");
}

TEST(Inet, Mac) {
  auto m = parse_mac("02:5d:00:00:0a:FF");
  ASSERT_TRUE(m);
  EXPECT_EQ(format_mac(*m), "02:5d:00:00:0a:ff");
  EXPECT_TRUE(parse_mac("02-5d-00-00-0a-ff"));
  for (const char* bad : {"", "02:5d:00:00:0a", "02:5d:00:00:0a:fg", "025d00000aff00000"})
    EXPECT_FALSE(parse_mac(bad)) << bad;
}

}  // namespace
}  // namespace svcdp::conf
