#include "dataplane/nat.h"

#include "dataplane/ndp.h"

#include "dataplane/testing/packet_builder.h"

#include <gtest/gtest.h>

namespace svcdp::dp {
namespace {

using testing::Bytes;
using testing::Frame;
using testing::ip4;

constexpr testing::Mac kA = {2, 0, 0, 0, 0, 1}, kB = {2, 0, 0, 0, 0, 2};

// Translation applied to a built packet must equal the packet built with
// the translated values: every checksum then matches a full recomputation.
void expect_translates(Bytes before, const Bytes& after, NatSide side, uint32_t addr, uint16_t port) {
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(before.data() + 14);
  nat_rewrite(ip, ip + 1, side, rte_cpu_to_be_32(addr), rte_cpu_to_be_16(port));
  EXPECT_EQ(before, after) << testing::hexdump_diff(before, after);
}

TEST(Nat, TcpDestinationAndSource) {
  const uint32_t client = ip4(10, 244, 1, 10), vip = ip4(10, 96, 0, 10), backend = ip4(10, 244, 2, 20);
  auto pkt = [&](uint32_t s, uint16_t sp, uint32_t d, uint16_t dp) {
    return Frame().eth(kA, kB, 0x0800).ipv4(s, d, 6).tcp(sp, dp, 0x18, 123456, 654321).payload(37).build();
  };
  expect_translates(pkt(client, 40000, vip, 80), pkt(client, 40000, backend, 8080), NatSide::DESTINATION, backend,
                    8080);
  expect_translates(pkt(backend, 8080, client, 40000), pkt(vip, 80, client, 40000), NatSide::SOURCE, vip, 80);
}

TEST(Nat, UdpWithAndWithoutChecksum) {
  auto pkt = [](uint32_t d, uint16_t dp, bool csum) {
    return Frame().eth(kA, kB, 0x0800).ipv4(ip4(10, 0, 0, 1), d, 17).udp(5353, dp, csum).payload(30).build();
  };
  expect_translates(pkt(ip4(10, 96, 0, 10), 53, true), pkt(ip4(10, 244, 3, 3), 5353, true), NatSide::DESTINATION,
                    ip4(10, 244, 3, 3), 5353);
  // No checksum stays no checksum.
  expect_translates(pkt(ip4(10, 96, 0, 10), 53, false), pkt(ip4(10, 244, 3, 3), 5353, false), NatSide::DESTINATION,
                    ip4(10, 244, 3, 3), 5353);
}

TEST(Nat, RandomisedAgainstFullRecomputation) {
  uint32_t x = 2463534242u;
  auto next = [&] { return x ^= x << 13, x ^= x >> 17, x ^= x << 5; };
  for (int i = 0; i < 2000; ++i) {
    const uint32_t s = next(), d = next(), nd = next();
    const uint16_t sp = static_cast<uint16_t>(next()), dp = static_cast<uint16_t>(next()),
                   ndp = static_cast<uint16_t>(next());
    const bool tcp = i & 1;
    auto pkt = [&](uint32_t dst, uint16_t dport) {
      Frame f;
      f.eth(kA, kB, 0x0800).ipv4(s, dst, tcp ? 6 : 17);
      if (tcp)
        f.tcp(sp, dport, 0x10, next(), next());
      else
        f.udp(sp, dport, true);
      return f.payload(i % 50, static_cast<uint8_t>(i)).build();
    };
    const uint32_t keep = x;
    Bytes before = pkt(d, dp);
    x = keep;  // same sequence numbers for the expected packet
    Bytes after = pkt(nd, ndp);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(before.data() + 14);
    nat_rewrite(ip, ip + 1, NatSide::DESTINATION, rte_cpu_to_be_32(nd), rte_cpu_to_be_16(ndp));
    ASSERT_EQ(before, after) << "case " << i << "\n" << testing::hexdump_diff(before, after);
  }
}

TEST(Nat, NonFirstFragmentChangesOnlyTheAddress) {
  Bytes frag = Frame().eth(kA, kB, 0x0800).ipv4(1, ip4(10, 96, 0, 10), 17).payload(40).build();
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(frag.data() + 14);
  nat_rewrite(ip, nullptr, NatSide::DESTINATION, rte_cpu_to_be_32(ip4(10, 244, 1, 1)), 0);
  EXPECT_EQ(frag, Frame().eth(kA, kB, 0x0800).ipv4(1, ip4(10, 244, 1, 1), 17).payload(40).build());
}

// NAT66: the rewritten packet equals the one built with the translated
// address and port, so every checksum matches a full recomputation.
testing::Ip6 v6(uint16_t a, uint16_t b, uint16_t c, uint16_t last) {
  testing::Ip6 r{};
  r[0] = static_cast<uint8_t>(a >> 8), r[1] = static_cast<uint8_t>(a);
  r[2] = static_cast<uint8_t>(b >> 8), r[3] = static_cast<uint8_t>(b);
  r[4] = static_cast<uint8_t>(c >> 8), r[5] = static_cast<uint8_t>(c);
  r[14] = static_cast<uint8_t>(last >> 8), r[15] = static_cast<uint8_t>(last);
  return r;
}
const testing::Ip6 kClient6 = v6(0xfd00, 0x10, 0x244, 0x10), kVip6 = v6(0xfd00, 0x10, 0x96, 0xa),
                   kBackend6 = v6(0xfd00, 0x10, 0x245, 0xbeef);

void expect_translates6(Bytes before, const Bytes& after, NatSide side, const testing::Ip6& addr, uint16_t port) {
  Ipv6Chain c;
  ASSERT_EQ(walk_ipv6(before.data() + 14, static_cast<uint32_t>(before.size() - 14), c), std::nullopt);
  nat66_rewrite(before.data() + 14, c, side, lb::Addr6{addr}, rte_cpu_to_be_16(port));
  EXPECT_EQ(before, after) << testing::hexdump_diff(before, after);
}

TEST(Nat66, TcpDestinationAndSource) {
  auto pkt = [&](const testing::Ip6& s, uint16_t sp, const testing::Ip6& d, uint16_t dp) {
    return Frame().eth(kA, kB, 0x86dd).ipv6(s, d, 6).tcp(sp, dp, 0x18, 123456, 654321).payload(37).build();
  };
  expect_translates6(pkt(kClient6, 40000, kVip6, 80), pkt(kClient6, 40000, kBackend6, 8080), NatSide::DESTINATION,
                     kBackend6, 8080);
  expect_translates6(pkt(kBackend6, 8080, kClient6, 40000), pkt(kVip6, 80, kClient6, 40000), NatSide::SOURCE, kVip6,
                     80);
}

TEST(Nat66, UdpAfterExtensionHeaders) {
  const Bytes dest_opts = {17, 0, 1, 4, 0, 0, 0, 0};  // Destination Options, PadN
  auto pkt = [&](const testing::Ip6& d, uint16_t dp) {
    return Frame().eth(kA, kB, 0x86dd).ipv6(kClient6, d, kIp6DestOptions).raw(dest_opts).udp(5353, dp, true)
        .payload(30).build();
  };
  expect_translates6(pkt(kVip6, 53), pkt(kBackend6, 5353), NatSide::DESTINATION, kBackend6, 5353);
}

TEST(Nat66, IcmpV6ChecksumFollowsTheAddress) {
  auto pkt = [&](const testing::Ip6& s) {
    return Frame().eth(kA, kB, 0x86dd).ipv6(s, kClient6, 58).icmp6(129, 0, 0x00070001).payload(16).build();
  };
  expect_translates6(pkt(kBackend6), pkt(kVip6), NatSide::SOURCE, kVip6, 0);
  // The builder's checksum agrees with ndp.h's (RFC 4443 section 2.3).
  const Bytes p = pkt(kVip6);
  EXPECT_EQ(icmp6_checksum(kVip6, kClient6, p.data() + 54, static_cast<uint32_t>(p.size() - 54)), 0);
}

TEST(Nat66, ALaterFragmentChangesOnlyItsAddress) {
  const Bytes frag = {17, 0, 0x04, 0xd0, 0, 0, 0, 9};  // offset 1232, last
  auto pkt = [&](const testing::Ip6& d) {
    return Frame().eth(kA, kB, 0x86dd).ipv6(kClient6, d, kIp6Fragment).raw(frag).payload(64).build();
  };
  expect_translates6(pkt(kVip6), pkt(kBackend6), NatSide::DESTINATION, kBackend6, 5353);
}

}  // namespace
}  // namespace svcdp::dp
