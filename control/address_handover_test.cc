#include "control/address_handover.h"

#include <gtest/gtest.h>

namespace svcdp::control {
namespace {

TEST(AddressHandover, StateRoundTripsThroughItsFile) {
  HandoverState s;
  s.iface = "eth1";
  s.mtu = 9000;
  s.addresses = {{0xc0a8380b, 24, 0xc0a838ff}, {0x0a000005, 32, 0}};
  s.routes = {{0, 0, 0xc0a83801, 0, 100, 3, 0}, {0x0a000000, 8, 0xc0a83801, 0xc0a8380b, 0, 4, 0}};
  s.rp_filter = 2;
  s.arp_ignore = 0;
  EXPECT_EQ(parse_handover_json(handover_json(s)), s);
}

TEST(AddressHandover, Ipv6AddressesAndRoutesRoundTripAndOldStateFilesHaveNone) {
  const Ip6 node{0xfd, 0, 0, 0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11};
  const Ip6 router{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  HandoverState s;
  s.iface = "eth1";
  s.mtu = 1500;
  s.addresses6 = {{node, 64, {}}};
  s.routes6 = {{{}, 0, router, {}, 1024, 9, 0}, {Ip6{0x20, 0x01, 0x0d, 0xb8, 1}, 48, router, node, 50, 4, 0, true}};
  s.disable_ipv6 = 0;
  const std::string text = handover_json(s);
  EXPECT_NE(text.find(R"("gateway": "fe80::1")"), std::string::npos) << text;
  EXPECT_EQ(parse_handover_json(text), s);

  const HandoverState old = parse_handover_json(R"({"iface": "eth1", "mtu": 1500, "routes": [],
      "addresses": [{"local": "192.168.56.11", "prefix_len": 24}]})");
  EXPECT_TRUE(old.addresses6.empty());
  EXPECT_TRUE(old.routes6.empty());
  EXPECT_EQ(old.disable_ipv6, -1);
  EXPECT_THROW(parse_handover_json(R"({"iface": "eth1", "mtu": 1500, "addresses": [], "routes": [],
      "addresses6": [{"local": "fd00::1::2", "prefix_len": 64}]})"),
               std::runtime_error);
}

TEST(AddressHandover, ABrokenStateFileIsAnErrorNamingWhatIsWrong) {
  EXPECT_THROW(parse_handover_json("{"), std::runtime_error);
  EXPECT_THROW(parse_handover_json(R"({"iface": "eth1", "mtu": 1500, "addresses": [{"local": "300.1.1.1", "prefix_len": 24}], "routes": []})"),
               std::runtime_error);
  try {
    parse_handover_json(R"({"iface": "eth1"})");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("mtu"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace svcdp::control
