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

TEST(Inet, Ipv6) {
  const auto a = parse_ipv6("fd00:10:96::a");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, (Ipv6Addr{0xfd, 0, 0, 0x10, 0, 0x96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a}));
  EXPECT_EQ(parse_ipv6("::"), Ipv6Addr{});
  EXPECT_EQ(parse_ipv6("::1"), (Ipv6Addr{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(parse_ipv6("1:2:3:4:5:6:7:8"), parse_ipv6("0001:0002:0003:0004:0005:0006:0007:0008"));
  EXPECT_EQ(parse_ipv6("1:2:3:4:5:6::8"), parse_ipv6("1:2:3:4:5:6:0:8")) << ":: for one group is read";
  EXPECT_EQ(parse_ipv6("::ffff:10.0.0.1"), (Ipv6Addr{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}));
  EXPECT_EQ(parse_ipv6("FD00::A"), parse_ipv6("fd00::a")) << "upper case";
  for (const char* bad : {"", ":", ":::", "1::2::3", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8",
                          "12345::", "g::1", "fe80::1%eth0", "::ffff:010.0.0.1", "1.2.3.4", "::1.2.3", ":1::2",
                          "1::2:", "fd00::a "})
    EXPECT_FALSE(parse_ipv6(bad)) << bad;
}

// RFC 5952 section 4's rules, section 5 for IPv4-mapped addresses.
TEST(Inet, Ipv6Text) {
  auto text = [](const char* s) { return format_ipv6(*parse_ipv6(s)); };
  EXPECT_EQ(text("FD00:0010:0096:0000:0000:0000:0000:000A"), "fd00:10:96::a");
  EXPECT_EQ(text("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1") << "one zero group is not ::";
  EXPECT_EQ(text("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1") << "the longest run";
  EXPECT_EQ(text("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1") << "the first of equal runs";
  EXPECT_EQ(text("::"), "::");
  EXPECT_EQ(text("::1"), "::1");
  EXPECT_EQ(text("1::"), "1::");
  EXPECT_EQ(text("::ffff:10.0.0.1"), "::ffff:10.0.0.1");
}

TEST(Inet, Ipv6Prefix) {
  const auto p = parse_ipv6_prefix("fd00:10:244:1::/64");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->len, 64);
  EXPECT_TRUE(p->contains(*parse_ipv6("fd00:10:244:1::17")));
  EXPECT_FALSE(p->contains(*parse_ipv6("fd00:10:244:2::17")));
  EXPECT_TRUE(parse_ipv6_prefix("fc00::/7")->contains(*parse_ipv6("fdff::1")));
  EXPECT_FALSE(parse_ipv6_prefix("fc00::/7")->contains(*parse_ipv6("fe00::1")));
  EXPECT_TRUE(parse_ipv6_prefix("::/0")->contains(*parse_ipv6("2001:db8::1")));
  for (const char* bad : {"fd00:10:244:1::1/64", "fd00::/7", "fd00::/129", "fd00::", "fd00::/", "10.0.0.0/8"})
    EXPECT_FALSE(parse_ipv6_prefix(bad)) << bad;
  EXPECT_EQ(format_ipv6_prefix(*p), "fd00:10:244:1::/64");
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
