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
