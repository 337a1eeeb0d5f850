#include "dataplane/vxlan.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace svcdp::dp {
namespace {

const rte_ether_addr kLocalMac = {{0x02, 0x5d, 0, 0, 0, 0x01}};
const rte_ether_addr kRemoteVtepMac = {{0x02, 0x5d, 0, 0, 0x02, 0xff}};
const rte_ether_addr kNexthopMac = {{0x02, 0x5d, 0, 0, 0x02, 0x01}};

VxlanTemplate tmpl() {
  return make_vxlan_template(kLocalMac, rte_cpu_to_be_32(0xc0a8380b), rte_cpu_to_be_32(0xc0a8380c), kRemoteVtepMac,
                             0x123456, 4789);
}

TEST(Vxlan, TemplateHeadersFollowRfc7348) {
  const VxlanTemplate t = tmpl();
  const auto* eth = reinterpret_cast<const rte_ether_hdr*>(t.bytes);
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(eth + 1);
  const auto* udp = reinterpret_cast<const rte_udp_hdr*>(ip + 1);
  const uint8_t* vx = reinterpret_cast<const uint8_t*>(udp + 1);
  EXPECT_TRUE(rte_is_same_ether_addr(&eth->src_addr, &kLocalMac));
  EXPECT_EQ(rte_be_to_cpu_16(eth->ether_type), RTE_ETHER_TYPE_IPV4);
  EXPECT_EQ(ip->version_ihl, 0x45);
  EXPECT_EQ(ip->next_proto_id, IPPROTO_UDP);
  EXPECT_EQ(rte_be_to_cpu_16(ip->fragment_offset), RTE_IPV4_HDR_DF_FLAG);  // section 4.3: no fragmentation
  EXPECT_EQ(rte_be_to_cpu_32(ip->src_addr), 0xc0a8380bu);
  EXPECT_EQ(rte_be_to_cpu_32(ip->dst_addr), 0xc0a8380cu);
  EXPECT_EQ(rte_be_to_cpu_16(udp->dst_port), 4789);
  EXPECT_EQ(udp->dgram_cksum, 0);  // section 5: zero over IPv4
  // Section 5: flags 0x08 (I), 24 reserved bits, VNI, 8 reserved bits.
  const uint8_t expect_vx[8] = {0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0};
  EXPECT_EQ(std::memcmp(vx, expect_vx, 8), 0);
}

TEST(Vxlan, WriteOuterPatchesLengthsChecksumAndPort) {
  const VxlanTemplate t = tmpl();
  for (uint32_t inner_len : {60u, 98u, 1464u}) {
    std::vector<uint8_t> frame(kVxlanOuterLen + inner_len, 0xee);
    vxlan_write_outer(frame.data(), t, kNexthopMac, inner_len, vxlan_source_port(0xabcdef));
    auto* eth = reinterpret_cast<rte_ether_hdr*>(frame.data());
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    EXPECT_TRUE(rte_is_same_ether_addr(&eth->dst_addr, &kNexthopMac));
    EXPECT_EQ(rte_be_to_cpu_16(ip->total_length), inner_len + 36);
    EXPECT_EQ(rte_be_to_cpu_16(udp->dgram_len), inner_len + 16);
    EXPECT_EQ(rte_ipv4_cksum(ip), 0) << "checksum must verify";
    EXPECT_EQ(frame[kVxlanOuterLen], 0xee) << "inner frame untouched";
  }
}

TEST(Vxlan, SourcePortInDynamicRangeAndStablePerFlow) {
  for (uint32_t h : {0u, 1u, 0x3fffu, 0xffffffffu, 0x12345678u}) {
    const uint16_t port = rte_be_to_cpu_16(vxlan_source_port(h));
    EXPECT_GE(port, 49152);
    EXPECT_EQ(vxlan_source_port(h), vxlan_source_port(h));
  }
  EXPECT_NE(vxlan_source_port(1), vxlan_source_port(2));
}

// A received datagram for the VXLAN port: UDP header, VXLAN header, inner frame.
std::vector<uint8_t> datagram(uint8_t flags, uint32_t vni, uint16_t inner_type, size_t inner_len) {
  std::vector<uint8_t> d(sizeof(rte_udp_hdr) + 8 + inner_len, 0);
  d[8] = flags;
  d[12] = static_cast<uint8_t>(vni >> 16);
  d[13] = static_cast<uint8_t>(vni >> 8);
  d[14] = static_cast<uint8_t>(vni);
  if (inner_len >= 14) {
    d[16 + 12] = static_cast<uint8_t>(inner_type >> 8);
    d[16 + 13] = static_cast<uint8_t>(inner_type);
  }
  return d;
}

TEST(Vxlan, CheckAcceptsOursAndNamesEveryRejection) {
  auto check = [](const std::vector<uint8_t>& d, size_t len) {
    return vxlan_check(reinterpret_cast<const rte_udp_hdr*>(d.data()), static_cast<uint32_t>(len), 7);
  };
  auto ok = datagram(0x08, 7, RTE_ETHER_TYPE_IPV4, 34);
  EXPECT_EQ(check(ok, ok.size()), std::nullopt);
  auto reserved_bits = datagram(0x08 | 0x80, 7, RTE_ETHER_TYPE_IPV4, 34);  // ignored on receipt
  EXPECT_EQ(check(reserved_bits, reserved_bits.size()), std::nullopt);
  EXPECT_EQ(check(ok, 15), Drop::kVxlanTruncated);
  auto no_i = datagram(0x00, 7, RTE_ETHER_TYPE_IPV4, 34);
  EXPECT_EQ(check(no_i, no_i.size()), Drop::kVxlanBadFlags);
  auto other_vni = datagram(0x08, 8, RTE_ETHER_TYPE_IPV4, 34);
  EXPECT_EQ(check(other_vni, other_vni.size()), Drop::kVxlanUnknownVni);
  auto runt = datagram(0x08, 7, RTE_ETHER_TYPE_IPV4, 33);
  EXPECT_EQ(check(runt, runt.size()), Drop::kVxlanInnerRunt);
  auto ipv6 = datagram(0x08, 7, RTE_ETHER_TYPE_IPV6, 54);
  EXPECT_EQ(check(ipv6, ipv6.size()), std::nullopt) << "IPv6 pods over the IPv4 underlay";
  auto arp = datagram(0x08, 7, RTE_ETHER_TYPE_ARP, 42);
  EXPECT_EQ(check(arp, arp.size()), Drop::kVxlanInnerNotIp);
}

}  // namespace
}  // namespace svcdp::dp
