#include "dataplane/nat.h"

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

}  // namespace
}  // namespace svcdp::dp
