#include "dataplane/ndp.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace svcdp::dp {
namespace {

// Frames written independently (a Python script from RFC 4861's layout,
// its checksum computed there): a pod at fd00:10:244:1::5 asking for its
// gateway fd00:10:244:1::1, the gateway's answer, and svcdp asking for
// fd00:10:244:1::7.
const char* kNs =
    "3333ff000001025d0000000a86dd6000000000203afffd000010024400010000000000000005ff0200000000000000000001ff00000187"
    "00788500000000fd0000100244000100000000000000010101025d0000000a";
const char* kNa =
    "025d0000000a025d0000010186dd6000000000203afffd000010024400010000000000000001fd000010024400010000000000000005"
    "8800943ce0000000fd0000100244000100000000000000010201025d00000101";
const char* kSolicit =
    "3333ff000007025d0000010186dd6000000000203afffd000010024400010000000000000001ff0200000000000000000001ff00000787"
    "00778600000000fd0000100244000100000000000000070101025d00000101";

std::vector<uint8_t> bytes(const char* hex) {
  std::vector<uint8_t> out;
  for (const char* p = hex; p[0] && p[1]; p += 2) out.push_back(static_cast<uint8_t>(std::stoi(std::string(p, 2), nullptr, 16)));
  return out;
}

const rte_ether_addr kPodMac = {{0x02, 0x5d, 0, 0, 0, 0x0a}};
const rte_ether_addr kGatewayMac = {{0x02, 0x5d, 0, 0, 1, 1}};

std::optional<NdpMessage> parse(const std::vector<uint8_t>& frame) {
  return parse_ndp(frame.data() + sizeof(rte_ether_hdr), static_cast<uint32_t>(frame.size() - sizeof(rte_ether_hdr)));
}

// Refixes the ICMPv6 checksum after a test changed the message.
void fix_checksum(std::vector<uint8_t>& f) {
  uint8_t* ip = f.data() + 14;
  conf::Ipv6Addr src, dst;
  std::copy(ip + 8, ip + 24, src.begin());
  std::copy(ip + 24, ip + 40, dst.begin());
  ip[42] = ip[43] = 0;
  const uint16_t c = icmp6_checksum(src, dst, ip + 40, static_cast<uint32_t>(f.size() - 54));
  ip[42] = static_cast<uint8_t>(c >> 8);
  ip[43] = static_cast<uint8_t>(c);
}

TEST(Ndp, SolicitationReadAndAnswered) {
  const auto ns = parse(bytes(kNs));
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->type, kIcmp6NeighborSolicitation);
  EXPECT_EQ(conf::format_ipv6(ns->src), "fd00:10:244:1::5");
  EXPECT_EQ(conf::format_ipv6(ns->target), "fd00:10:244:1::1");
  ASSERT_TRUE(ns->link_addr);
  EXPECT_TRUE(rte_is_same_ether_addr(&*ns->link_addr, &kPodMac));
  std::vector<uint8_t> na(kNdpFrameLen);
  build_neighbor_advert(na.data(), *ns, kPodMac, kGatewayMac, true);
  EXPECT_EQ(na, bytes(kNa)) << "RFC 4861 7.2.4: to the source, Router, Solicited, Override, target link-layer address";
  const auto back = parse(na);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->router && back->solicited && back->override_flag);
}

TEST(Ndp, SolicitationForANextHop) {
  std::vector<uint8_t> ns(kNdpFrameLen);
  build_neighbor_solicit(ns.data(), *conf::parse_ipv6("fd00:10:244:1::1"), kGatewayMac,
                         *conf::parse_ipv6("fd00:10:244:1::7"));
  EXPECT_EQ(ns, bytes(kSolicit)) << "to ff02::1:ff00:7 at 33:33:ff:00:00:07";
}

// Duplicate address detection (RFC 4862 section 5.4.3): the answer goes
// to all nodes, not Solicited.
TEST(Ndp, DuplicateAddressDetectionAnsweredToAllNodes) {
  auto f = bytes(kNs);
  std::fill(f.begin() + 22, f.begin() + 38, 0);  // source ::
  f.resize(f.size() - 8);                        // no source link-layer option from ::
  f[19] = 24;                                    // payload length
  fix_checksum(f);
  const auto ns = parse(f);
  ASSERT_TRUE(ns);
  std::vector<uint8_t> na(kNdpFrameLen);
  build_neighbor_advert(na.data(), *ns, kPodMac, kGatewayMac, true);
  const auto a = parse(na);
  ASSERT_TRUE(a);
  EXPECT_EQ(conf::format_ipv6(a->dst), "ff02::1");
  EXPECT_FALSE(a->solicited);
  const rte_ether_addr all_nodes = {{0x33, 0x33, 0, 0, 0, 1}};
  EXPECT_TRUE(rte_is_same_ether_addr(reinterpret_cast<const rte_ether_addr*>(na.data()), &all_nodes));
}

// RFC 4861 section 7.1: what a node silently discards.
TEST(Ndp, InvalidMessagesAreDiscarded) {
  auto with = [](auto change, bool refix = true) {
    auto f = bytes(kNs);
    change(f);
    if (refix) fix_checksum(f);
    return parse(f).has_value();
  };
  EXPECT_TRUE(with([](std::vector<uint8_t>&) {}));
  EXPECT_FALSE(with([](std::vector<uint8_t>& f) { f[21] = 254; })) << "hop limit";
  EXPECT_FALSE(with([](std::vector<uint8_t>& f) { f[60] ^= 1; }, false)) << "checksum";
  EXPECT_FALSE(with([](std::vector<uint8_t>& f) { f[55] = 1; })) << "code";
  EXPECT_FALSE(with([](std::vector<uint8_t>& f) { f[62] = 0xff; })) << "multicast target";
  EXPECT_FALSE(with([](std::vector<uint8_t>& f) { f[79] = 0; })) << "option of length 0";
  EXPECT_FALSE(with([](std::vector<uint8_t>& f) { f[79] = 2; })) << "option past the end";
  EXPECT_FALSE(with([](std::vector<uint8_t>& f) { f.resize(14 + 40 + 20); f[19] = 20; })) << "shorter than 24";
  EXPECT_FALSE(with([](std::vector<uint8_t>& f) { std::fill(f.begin() + 22, f.begin() + 38, 0); }))
      << "from :: with a source link-layer option";
  EXPECT_FALSE(with([](std::vector<uint8_t>& f) { f[20] = 17; })) << "not ICMPv6";
  auto na = bytes(kNa);
  const auto ns = bytes(kNs);
  std::copy(ns.begin() + 38, ns.begin() + 54, na.begin() + 38);  // to ff02::1:ff00:1
  fix_checksum(na);
  EXPECT_FALSE(parse(na)) << "an NA to a multicast address with Solicited set";
}

TEST(Ndp, SolicitedNodeAddress) {
  const auto g = solicited_node(*conf::parse_ipv6("2001:db8::12:3456:789a"));
  EXPECT_EQ(conf::format_ipv6(g), "ff02::1:ff56:789a");
  const rte_ether_addr m = multicast_mac(g), want = {{0x33, 0x33, 0xff, 0x56, 0x78, 0x9a}};
  EXPECT_TRUE(rte_is_same_ether_addr(&m, &want));
}

}  // namespace
}  // namespace svcdp::dp
