#include "dataplane/arp.h"

#include <gtest/gtest.h>

#include <cstring>

namespace svcdp::dp {
namespace {

const rte_ether_addr kMac = {{0x02, 0x5d, 0, 0, 0, 0x01}};
const rte_ether_addr kPeer = {{0x02, 0x5d, 0, 0, 0x09, 0x09}};
const rte_ether_addr kBcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

TEST(Arp, BuildThenParseRoundTrips) {
  uint8_t frame[kArpFrameLen];
  build_arp(frame, RTE_ARP_OP_REQUEST, kBcast, kMac, rte_cpu_to_be_32(0x0af40101), rte_ether_addr{},
            rte_cpu_to_be_32(0x0af4010a));
  auto* eth = reinterpret_cast<rte_ether_hdr*>(frame);
  EXPECT_TRUE(rte_is_broadcast_ether_addr(&eth->dst_addr));
  EXPECT_EQ(rte_be_to_cpu_16(eth->ether_type), RTE_ETHER_TYPE_ARP);
  auto msg = parse_arp(frame + sizeof(rte_ether_hdr), kArpFrameLen - sizeof(rte_ether_hdr));
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->op, RTE_ARP_OP_REQUEST);
  EXPECT_TRUE(rte_is_same_ether_addr(&msg->sender_mac, &kMac));
  EXPECT_EQ(rte_be_to_cpu_32(msg->sender_ip), 0x0af40101u);
  EXPECT_EQ(rte_be_to_cpu_32(msg->target_ip), 0x0af4010au);
  EXPECT_EQ(kArpFrameLen, 60u);
}

TEST(Arp, RejectsWhatRfc826SaysToIgnore) {
  uint8_t frame[kArpFrameLen];
  build_arp(frame, RTE_ARP_OP_REPLY, kPeer, kMac, 1, kPeer, 2);
  uint8_t* arp = frame + sizeof(rte_ether_hdr);
  const uint32_t len = kArpFrameLen - sizeof(rte_ether_hdr);
  EXPECT_TRUE(parse_arp(arp, len));
  EXPECT_FALSE(parse_arp(arp, sizeof(rte_arp_hdr) - 1)) << "truncated";
  for (int field : {0, 2, 4, 5}) {  // hardware type, protocol, hlen, plen
    uint8_t copy[kArpFrameLen];
    std::memcpy(copy, frame, sizeof copy);
    copy[sizeof(rte_ether_hdr) + field + 1] ^= 0x40;
    EXPECT_FALSE(parse_arp(copy + sizeof(rte_ether_hdr), len)) << "field at " << field;
  }
  uint8_t bad_op[kArpFrameLen];
  std::memcpy(bad_op, frame, sizeof bad_op);
  bad_op[sizeof(rte_ether_hdr) + 7] = 9;
  EXPECT_FALSE(parse_arp(bad_op + sizeof(rte_ether_hdr), len));
}

}  // namespace
}  // namespace svcdp::dp
