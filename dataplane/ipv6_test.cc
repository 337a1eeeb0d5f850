#include "dataplane/ipv6.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

namespace svcdp::dp {
namespace {

using Bytes = std::vector<uint8_t>;

// An IPv6 packet from fd00:10:244:1::5 to fd00:10:96::a: the fixed header
// with `next`, then `rest` (extension headers and upper layer); Payload
// Length is rest's size unless `payload` says otherwise.
Bytes packet(uint8_t next, std::initializer_list<Bytes> rest, int payload = -1) {
  Bytes p = {0x60, 0x00, 0x00, 0x00, 0, 0, next, 64,
             0xfd, 0x00, 0x00, 0x10, 0x02, 0x44, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x05,
             0xfd, 0x00, 0x00, 0x10, 0x00, 0x96, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0x0a};
  for (const Bytes& r : rest) p.insert(p.end(), r.begin(), r.end());
  const auto len = static_cast<uint16_t>(payload >= 0 ? payload : static_cast<int>(p.size() - kIpv6HeaderLen));
  p[4] = static_cast<uint8_t>(len >> 8);
  p[5] = static_cast<uint8_t>(len);
  return p;
}

// A generic extension header (RFC 8200 section 4.2's options format):
// `units` 8-octet units beyond the first, options padded with PadN.
Bytes ext(uint8_t next, uint8_t units = 0) {
  Bytes h(8 * (units + 1u), 0);
  h[0] = next;
  h[1] = units;
  h[2] = 1;  // PadN
  h[3] = static_cast<uint8_t>(h.size() - 4);
  return h;
}
Bytes routing(uint8_t next, uint8_t segments_left) {
  Bytes h(24, 0);  // type 4 (SRH, RFC 8754), 24 bytes
  h[0] = next;
  h[1] = 2;
  h[2] = 4;
  h[3] = segments_left;
  return h;
}
Bytes fragment(uint8_t next, uint16_t offset_bytes, bool more, uint32_t id = 0x01020304) {
  const auto field = static_cast<uint16_t>(offset_bytes | (more ? 1 : 0));
  return {next, 0, static_cast<uint8_t>(field >> 8), static_cast<uint8_t>(field),
          static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(id >> 16), static_cast<uint8_t>(id >> 8),
          static_cast<uint8_t>(id)};
}
const Bytes kTcp(20, 0), kUdp(8, 0);

std::optional<Drop> walk(const Bytes& p, Ipv6Chain& c) { return walk_ipv6(p.data(), static_cast<uint32_t>(p.size()), c); }

TEST(Ipv6, APlainSegmentHasItsUpperLayerRightAfterTheHeader) {
  const Bytes p = packet(6, {kTcp});
  Ipv6Chain c;
  ASSERT_EQ(walk(p, c), std::nullopt);
  EXPECT_EQ(c.proto, 6);
  EXPECT_EQ(c.l4_offset, 40);
  EXPECT_EQ(c.end, 60);
  EXPECT_EQ(c.ext_headers, 0);
  EXPECT_FALSE(c.fragment);
}

TEST(Ipv6, ExtensionHeadersAreWalkedToTheUpperLayer) {
  // Hop-by-Hop (8) → Destination Options (16) → Routing done (24) → AH (12+4) → UDP.
  const Bytes auth = {17, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};  // (2 + 2) * 4 = 16 bytes
  const Bytes p = packet(kIp6HopByHop, {ext(kIp6DestOptions), ext(kIp6Routing, 1), routing(kIp6Auth, 0), auth, kUdp});
  Ipv6Chain c;
  ASSERT_EQ(walk(p, c), std::nullopt);
  EXPECT_EQ(c.proto, 17);
  EXPECT_EQ(c.l4_offset, 40 + 8 + 16 + 24 + 16);
  EXPECT_EQ(c.ext_headers, 4);
}

TEST(Ipv6, EthernetPaddingIsNotPayload) {
  Bytes p = packet(17, {kUdp});
  p.resize(p.size() + 6, 0xee);  // a frame padded to 60+ bytes
  Ipv6Chain c;
  ASSERT_EQ(walk(p, c), std::nullopt);
  EXPECT_EQ(c.end, 48);
}

TEST(Ipv6, FragmentsFollowTheirFirstFragment) {
  Ipv6Chain c;
  // First fragment: the whole chain and the UDP header are here.
  Bytes first = packet(kIp6Fragment, {fragment(17, 0, true), kUdp, Bytes(8, 0)});
  ASSERT_EQ(walk(first, c), std::nullopt);
  EXPECT_TRUE(c.fragment);
  EXPECT_FALSE(c.later_fragment());
  EXPECT_TRUE(c.more_fragments);
  EXPECT_EQ(c.proto, 17);
  EXPECT_EQ(c.l4_offset, 48);
  const uint8_t id[4] = {1, 2, 3, 4};
  EXPECT_EQ(std::memcmp(&c.frag_id, id, 4), 0) << "as on the wire";
  // A later fragment: its Next Header names the upper layer, which is not
  // here; the walk stops at the fragment data.
  Bytes later = packet(kIp6Fragment, {fragment(17, 1232, false), Bytes(100, 0)});
  ASSERT_EQ(walk(later, c), std::nullopt);
  EXPECT_TRUE(c.later_fragment());
  EXPECT_EQ(c.frag_offset, 1232);
  EXPECT_FALSE(c.more_fragments);
  EXPECT_EQ(c.l4_offset, 48);
  // An atomic fragment (offset 0, M 0) is a whole packet (RFC 6946).
  Bytes atomic = packet(kIp6Fragment, {fragment(6, 0, false), kTcp});
  ASSERT_EQ(walk(atomic, c), std::nullopt);
  EXPECT_FALSE(c.fragment);
  EXPECT_EQ(c.proto, 6);
  EXPECT_EQ(c.l4_offset, 48);
}

TEST(Ipv6, MalformedPacketsAreDroppedWithTheirReason) {
  Ipv6Chain c;
  EXPECT_EQ(walk(Bytes(39, 0x60), c), Drop::kIp6Truncated);
  Bytes v4 = packet(6, {kTcp});
  v4[0] = 0x45;
  EXPECT_EQ(walk(v4, c), Drop::kIpBadVersion);
  EXPECT_EQ(walk(packet(6, {kTcp}, 21), c), Drop::kIp6BadLength) << "payload beyond the frame";
  EXPECT_EQ(walk(packet(kIp6HopByHop, {ext(6), kTcp}, 0), c), Drop::kIp6BadLength) << "a jumbogram";
  EXPECT_EQ(walk(packet(kIp6DestOptions, {ext(kIp6HopByHop), ext(6), kTcp}), c), Drop::kIp6BadChain)
      << "Hop-by-Hop not first";
  EXPECT_EQ(walk(packet(kIp6DestOptions, {ext(6, 3)}, 16), c), Drop::kIp6BadChain) << "a header past the payload";
  EXPECT_EQ(walk(packet(kIp6DestOptions, {Bytes(4, 0)}), c), Drop::kIp6BadChain) << "not even 8 bytes";
  EXPECT_EQ(walk(packet(kIp6Routing, {routing(6, 1), kTcp}), c), Drop::kIp6RoutingHeader);
  EXPECT_EQ(walk(packet(kIp6Fragment, {fragment(kIp6Fragment, 0, true), fragment(6, 0, true), kTcp}), c),
            Drop::kIp6BadFragment) << "two Fragment headers";
  EXPECT_EQ(walk(packet(kIp6Fragment, {fragment(17, 0, true), kUdp, Bytes(3, 0)}), c), Drop::kIp6BadFragment)
      << "a fragment not last of 11 bytes";
  EXPECT_EQ(walk(packet(kIp6Fragment, {fragment(6, 0, true), Bytes(8, 0)}), c), Drop::kIp6BadChain)
      << "RFC 7112: a first fragment without its whole TCP header";
  EXPECT_EQ(walk(packet(kIp6Fragment, {fragment(kIp6DestOptions, 0, true), Bytes(0)}), c), Drop::kIp6BadChain)
      << "a first fragment whose chain goes on past it";
}

TEST(Ipv6, ALongChainIsRefused) {
  auto many = [&](unsigned n) {
    Bytes rest;
    for (unsigned i = 0; i < n; ++i) {
      const Bytes h = ext(i + 1 == n ? 6 : kIp6DestOptions);
      rest.insert(rest.end(), h.begin(), h.end());
    }
    return packet(kIp6DestOptions, {rest, kTcp});
  };
  Ipv6Chain c;
  EXPECT_EQ(walk(many(kIp6MaxExtHeaders), c), std::nullopt);
  EXPECT_EQ(c.ext_headers, kIp6MaxExtHeaders);
  EXPECT_EQ(walk(many(kIp6MaxExtHeaders + 1), c), Drop::kIp6BadChain);
}

// Every prefix of a valid packet and every byte flipped: the walk
// answers (a chain inside the bytes, or a drop) and never reads past them.
TEST(Ipv6, EveryTruncationAndCorruptionIsAnswered) {
  const Bytes auth = {17, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
  const Bytes p = packet(kIp6HopByHop, {ext(kIp6Fragment), fragment(kIp6Auth, 0, true), auth, kUdp, Bytes(8, 0)});
  for (size_t n = 0; n <= p.size(); ++n) {
    const Bytes cut(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n));  // heap-exact: ASan sees overreads
    Ipv6Chain c;
    if (!walk(cut, c)) {
      EXPECT_LE(c.l4_offset, c.end);
    }
  }
  for (size_t i = 0; i < p.size(); ++i)
    for (uint8_t bit = 0; bit < 8; ++bit) {
      Bytes q = p;
      q[i] ^= static_cast<uint8_t>(1u << bit);
      Ipv6Chain c;
      if (!walk(q, c)) {
        EXPECT_LE(c.l4_offset, c.end);
        EXPECT_LE(c.end, q.size());
      }
    }
}

}  // namespace
}  // namespace svcdp::dp
