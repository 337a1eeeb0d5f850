#include "dataplane/reject.h"

#include "dataplane/icmp.h"
#include "dataplane/testing/packet_builder.h"

#include <gtest/gtest.h>
#include <rte_tcp.h>

#include <cstring>

namespace svcdp::dp {
namespace {

using testing::Bytes;
using testing::Frame;
using testing::ip4;

constexpr testing::Mac kClientMac = {2, 0, 0, 0, 0, 1}, kOurMac = {2, 0, 0, 0, 0, 2};
constexpr uint32_t kClient = ip4(10, 244, 1, 10), kVip = ip4(10, 96, 0, 50);

// A heap buffer laid out as an mbuf with headroom, enough for these pure
// rewrites (no pool, no EAL).
struct FakeMbuf {
  alignas(64) rte_mbuf m{};
  alignas(64) uint8_t buf[2048 + RTE_PKTMBUF_HEADROOM];
  explicit FakeMbuf(const Bytes& frame) {
    m.buf_addr = buf;
    m.buf_len = sizeof buf;
    m.data_off = RTE_PKTMBUF_HEADROOM;
    m.nb_segs = 1;
    m.data_len = static_cast<uint16_t>(frame.size());
    m.pkt_len = static_cast<uint32_t>(frame.size());
    std::memcpy(buf + m.data_off, frame.data(), frame.size());
  }
  Bytes bytes() const {
    const uint8_t* d = buf + m.data_off;
    return Bytes(d, d + m.data_len);
  }
};

TEST(Reject, TcpSynGetsRstAck) {
  FakeMbuf f(Frame().eth(kOurMac, kClientMac, 0x0800).ipv4(kClient, kVip, 6).tcp(40000, 80, 0x02, 777).build());
  ASSERT_TRUE(make_reject(&f.m));
  const Bytes want = Frame()
                         .eth(kClientMac, kOurMac, 0x0800)
                         .ipv4(kVip, kClient, 6, 64, true)
                         .tcp(80, 40000, 0x14 /* RST|ACK */, 0, 778, /*window=*/0)
                         .build();
  const Bytes got = f.bytes();
  EXPECT_EQ(got, want) << testing::hexdump_diff(got, want);
}

TEST(Reject, AckedSegmentGetsBareRstAtItsAck) {
  FakeMbuf f(
      Frame().eth(kOurMac, kClientMac, 0x0800).ipv4(kClient, kVip, 6).tcp(40000, 80, 0x18, 5, 9999).payload(10).build());
  ASSERT_TRUE(make_reject(&f.m));
  Bytes got = f.bytes();
  ASSERT_EQ(got.size(), 54u);
  EXPECT_EQ(got[14 + 20 + 13], 0x04) << "RST only";
  EXPECT_EQ(got[14 + 20 + 4] << 24 | got[14 + 20 + 5] << 16 | got[14 + 20 + 6] << 8 | got[14 + 20 + 7], 9999);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(got.data() + 14);
  EXPECT_EQ(rte_ipv4_cksum(ip), 0);
  auto* tcp = reinterpret_cast<rte_tcp_hdr*>(ip + 1);
  const uint16_t sent = tcp->cksum;
  tcp->cksum = 0;
  EXPECT_EQ(sent, rte_ipv4_udptcp_cksum(ip, tcp));
}

TEST(Reject, RstIsNeverAnswered) {
  FakeMbuf f(Frame().eth(kOurMac, kClientMac, 0x0800).ipv4(kClient, kVip, 6).tcp(40000, 80, 0x04).build());
  EXPECT_FALSE(make_reject(&f.m));
}

TEST(Reject, UdpGetsPortUnreachableQuotingTheDatagram) {
  const Bytes dgram = Frame().ipv4(kClient, kVip, 17).udp(5353, 53, true).payload(30).build();
  FakeMbuf f(Frame().eth(kOurMac, kClientMac, 0x0800).raw(dgram).build());
  ASSERT_TRUE(make_reject(&f.m));
  const Bytes want =
      Frame().eth(kClientMac, kOurMac, 0x0800).ipv4(kVip, kClient, 1, 64, true).icmp(3, 3).raw(dgram).build();
  EXPECT_EQ(f.bytes(), want) << testing::hexdump_diff(f.bytes(), want);
}

TEST(Reject, LargeDatagramIsQuotedUpTo576Bytes) {
  FakeMbuf f(Frame().eth(kOurMac, kClientMac, 0x0800).ipv4(kClient, kVip, 17).udp(1, 53).payload(1400).build());
  ASSERT_TRUE(make_reject(&f.m));
  EXPECT_EQ(f.bytes().size(), 14u + 576u);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(f.bytes().data() + 14);
  EXPECT_EQ(rte_be_to_cpu_16(ip->total_length), 576);
}

TEST(Reject, NoErrorAboutErrorsFragmentsOrBroadcast) {
  FakeMbuf icmp_err(Frame().eth(kOurMac, kClientMac, 0x0800).ipv4(kClient, kVip, 1).icmp(3, 1).payload(28).build());
  EXPECT_FALSE(make_reject(&icmp_err.m));
  Bytes frag = Frame().eth(kOurMac, kClientMac, 0x0800).ipv4(kClient, kVip, 17).payload(30).build();
  frag[14 + 7] = 0x10;  // offset 16 (x8 bytes)
  frag[14 + 10] = frag[14 + 11] = 0;
  FakeMbuf f2(frag);
  EXPECT_FALSE(make_reject(&f2.m));
  FakeMbuf bcast(Frame().eth(testing::kBroadcast, kClientMac, 0x0800).ipv4(kClient, kVip, 17).udp(1, 2).build());
  EXPECT_FALSE(make_reject(&bcast.m));
  FakeMbuf echo(Frame().eth(kOurMac, kClientMac, 0x0800).ipv4(kClient, kVip, 1).icmp(8, 0, 0x10001).build());
  EXPECT_TRUE(make_reject(&echo.m)) << "a ping to a dead service is told so";
}

constexpr testing::Ip6 kClient6 = {0xfd, 0, 0, 0x10, 0x02, 0x44, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x0a};
constexpr testing::Ip6 kVip6 = {0xfd, 0, 0, 0x10, 0, 0x96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50};

Ipv6Chain walked(const FakeMbuf& f) {
  Ipv6Chain c;
  EXPECT_FALSE(walk_ipv6(f.buf + f.m.data_off + 14, f.m.data_len - 14u, c));
  return c;
}

// The same answers over IPv6: a RST carries no extension header of the
// segment it answers.
TEST(Reject6, TcpSynGetsRstAckWithoutTheExtensionHeaders) {
  const Bytes hop_by_hop = {6, 0, 1, 4, 0, 0, 0, 0};  // Next Header TCP, PadN (RFC 8200 section 4.3)
  FakeMbuf f(Frame()
                 .eth(kOurMac, kClientMac, 0x86dd)
                 .ipv6(kClient6, kVip6, 0)
                 .raw(hop_by_hop)
                 .tcp(40000, 80, 0x02, 777)
                 .payload(12)
                 .build());
  ASSERT_TRUE(make_reject6(&f.m, walked(f), lb::Addr6{kVip6}));
  const Bytes want =
      Frame().eth(kClientMac, kOurMac, 0x86dd).ipv6(kVip6, kClient6, 6, 64).tcp(80, 40000, 0x14, 0, 790, 0).build();
  const Bytes got = f.bytes();
  EXPECT_EQ(got, want) << testing::hexdump_diff(got, want);
}

TEST(Reject6, UdpGetsPortUnreachableAndARstNothing) {
  FakeMbuf udp(Frame().eth(kOurMac, kClientMac, 0x86dd).ipv6(kClient6, kVip6, 17).udp(40000, 53, true).payload(20).build());
  const Bytes sent = udp.bytes();
  ASSERT_TRUE(make_reject6(&udp.m, walked(udp), lb::Addr6{kVip6}));
  const Bytes want = Frame()
                         .eth(kClientMac, kOurMac, 0x86dd)
                         .ipv6(kVip6, kClient6, 58, 64)
                         .icmp6(1, 4)
                         .raw(Bytes(sent.begin() + 14, sent.end()))
                         .build();
  const Bytes got = udp.bytes();
  EXPECT_EQ(got, want) << testing::hexdump_diff(got, want);

  FakeMbuf rst(Frame().eth(kOurMac, kClientMac, 0x86dd).ipv6(kClient6, kVip6, 6).tcp(40000, 80, 0x04).build());
  EXPECT_FALSE(make_reject6(&rst.m, walked(rst), lb::Addr6{kVip6}));
}

TEST(IcmpError, FragNeededAboutATranslatedFlowIsTranslatedBack) {
  const uint32_t backend = ip4(10, 244, 2, 20), router = ip4(192, 168, 56, 1);
  // What the client sent after DNAT, as quoted by a router: IP header + 8.
  auto quote = [&](uint32_t dst, uint16_t dport) {
    Bytes full = Frame().ipv4(kClient, dst, 17).udp(5353, dport, true).payload(1400).build();
    full.resize(28);
    return full;
  };
  auto error = [&](uint32_t dst, uint16_t dport) {
    return Frame()
        .eth(kOurMac, kClientMac, 0x0800)
        .ipv4(router, kClient, 1)
        .icmp(3, 4, 1400)
        .raw(quote(dst, dport))
        .build();
  };
  Bytes pkt = error(backend, 5353);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(pkt.data() + 14);
  auto e = parse_icmp_error(ip);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->inner_ip->dst_addr, rte_cpu_to_be_32(backend));
  icmp_error_translate(*e, NatSide::DESTINATION, rte_cpu_to_be_32(kVip), rte_cpu_to_be_16(53));
  Bytes want = error(kVip, 53);
  EXPECT_EQ(pkt, want) << testing::hexdump_diff(pkt, want);
}

TEST(IcmpError, OnlyErrorsWithAQuoteAreRecognised) {
  Bytes echo = Frame().eth(kOurMac, kClientMac, 0x0800).ipv4(1, 2, 1).icmp(8, 0).payload(40).build();
  EXPECT_FALSE(parse_icmp_error(reinterpret_cast<rte_ipv4_hdr*>(echo.data() + 14)));
  Bytes short_quote = Frame().eth(kOurMac, kClientMac, 0x0800).ipv4(1, 2, 1).icmp(3, 3).payload(20).build();
  EXPECT_FALSE(parse_icmp_error(reinterpret_cast<rte_ipv4_hdr*>(short_quote.data() + 14)));
}

}  // namespace
}  // namespace svcdp::dp
