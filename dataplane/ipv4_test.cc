#include "dataplane/ipv4.h"

#include <gtest/gtest.h>

#include <cstring>

namespace svcdp::dp {
namespace {

rte_ipv4_hdr good_header() {
  rte_ipv4_hdr ip{};
  ip.version_ihl = RTE_IPV4_VHL_DEF;
  ip.total_length = rte_cpu_to_be_16(84);
  ip.time_to_live = 64;
  ip.next_proto_id = IPPROTO_ICMP;
  ip.src_addr = rte_cpu_to_be_32(0x0af4010a);
  ip.dst_addr = rte_cpu_to_be_32(0x0af4020a);
  ip.hdr_checksum = rte_ipv4_cksum(&ip);
  return ip;
}

TEST(Ipv4, AcceptsAValidHeader) {
  auto ip = good_header();
  EXPECT_EQ(check_ipv4(&ip, 84), std::nullopt);
}

TEST(Ipv4, EachMalformationHasItsReason) {
  auto ip = good_header();
  EXPECT_EQ(check_ipv4(&ip, 19), Drop::kIpTruncated);
  EXPECT_EQ(check_ipv4(&ip, 83), Drop::kIpBadLength);  // total length beyond the frame

  ip = good_header();
  ip.version_ihl = 0x65;
  EXPECT_EQ(check_ipv4(&ip, 84), Drop::kIpBadVersion);
  ip.version_ihl = 0x44;
  EXPECT_EQ(check_ipv4(&ip, 84), Drop::kIpBadIhl);
  ip.version_ihl = 0x46;
  EXPECT_EQ(check_ipv4(&ip, 84), Drop::kIpOptions);

  ip = good_header();
  ip.total_length = rte_cpu_to_be_16(19);
  ip.hdr_checksum = 0;
  ip.hdr_checksum = rte_ipv4_cksum(&ip);
  EXPECT_EQ(check_ipv4(&ip, 84), Drop::kIpBadLength);

  ip = good_header();
  ip.hdr_checksum ^= 0x0100;
  EXPECT_EQ(check_ipv4(&ip, 84), Drop::kIpBadChecksum);
}

// With RX checksum offload the port's verdict stands; without one (UNKNOWN,
// or 0 as for inner headers) the checksum is computed.
TEST(Ipv4, ChecksumVerdictOfThePortIsTrusted) {
  auto ip = good_header();
  EXPECT_EQ(check_ipv4(&ip, 84, RTE_MBUF_F_RX_IP_CKSUM_BAD), Drop::kIpBadChecksum);
  EXPECT_EQ(check_ipv4(&ip, 84, RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN), std::nullopt);
  ip.hdr_checksum ^= 0x0100;
  EXPECT_EQ(check_ipv4(&ip, 84, RTE_MBUF_F_RX_IP_CKSUM_GOOD), std::nullopt);
  EXPECT_EQ(check_ipv4(&ip, 84, RTE_MBUF_F_RX_IP_CKSUM_NONE), Drop::kIpBadChecksum);
  EXPECT_EQ(check_ipv4(&ip, 84, RTE_MBUF_F_RX_RSS_HASH), Drop::kIpBadChecksum) << "other flags: computed";
  ip.version_ihl = 0x46;
  EXPECT_EQ(check_ipv4(&ip, 84, RTE_MBUF_F_RX_IP_CKSUM_GOOD), Drop::kIpOptions) << "the other checks still apply";
}

TEST(Ipv4, TtlDecrementKeepsTheChecksumRight) {
  for (uint8_t ttl : {2, 64, 128, 255}) {
    auto ip = good_header();
    ip.time_to_live = ttl;
    ip.hdr_checksum = 0;
    ip.hdr_checksum = rte_ipv4_cksum(&ip);
    ipv4_decrement_ttl(&ip);
    EXPECT_EQ(ip.time_to_live, ttl - 1);
    const uint16_t incremental = ip.hdr_checksum;
    ip.hdr_checksum = 0;
    EXPECT_EQ(incremental, rte_ipv4_cksum(&ip)) << "ttl " << int(ttl);
  }
}

TEST(Ipv4, ChecksumReplaceMatchesRecomputationForRandomFields) {
  uint32_t seed = 12345;
  for (int i = 0; i < 1000; ++i) {
    auto ip = good_header();
    seed = seed * 1103515245 + 12345;
    const uint16_t old_id = ip.packet_id;
    ip.packet_id = static_cast<uint16_t>(seed >> 8);
    ip.hdr_checksum = csum_replace16(ip.hdr_checksum, old_id, ip.packet_id);
    const uint16_t incremental = ip.hdr_checksum;
    ip.hdr_checksum = 0;
    ASSERT_EQ(incremental, rte_ipv4_cksum(&ip));
  }
}

TEST(Ipv4, Fragments) {
  auto ip = good_header();
  EXPECT_FALSE(ipv4_is_fragment(&ip));
  ip.fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  EXPECT_FALSE(ipv4_is_fragment(&ip));
  ip.fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
  EXPECT_TRUE(ipv4_is_fragment(&ip));
  ip.fragment_offset = rte_cpu_to_be_16(185);
  EXPECT_TRUE(ipv4_is_fragment(&ip));
}

}  // namespace
}  // namespace svcdp::dp
