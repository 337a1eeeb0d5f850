#include "lb/types.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <vector>

namespace svcdp::lb {
namespace {

Addr6 addr6(uint64_t hi, uint64_t lo) {
  Addr6 a;
  for (int i = 0; i < 8; ++i) {
    a.bytes[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    a.bytes[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
  }
  return a;
}

// The largest count among `buckets` buckets of `n` hashes, taking the bits
// of each hash at `shift` (conntrack's first bucket is the low bits, its
// second from bit 24, the signature the top 16).
uint32_t fullest(size_t n, uint32_t buckets, int shift, const std::function<uint64_t(size_t)>& hash) {
  std::vector<uint32_t> count(buckets);
  for (size_t i = 0; i < n; ++i) ++count[(hash(i) >> shift) & (buckets - 1)];
  return *std::max_element(count.begin(), count.end());
}

// 64 k flows that differ in one field only, over 4096 buckets (16 each on
// average; a Poisson(16) maximum over 4096 buckets is about 32): the IPv6
// flow hash's two multiplies must spread the source port, the pod's
// interface identifier and the prefix alike, in every bit range conntrack
// uses.
TEST(FlowHash, Ipv6FlowsSpreadOverBucketsWhicheverFieldVaries) {
  const Addr6 vip = addr6(0xfd00001000960000, 0xa);
  const std::array<std::function<FlowKey6(size_t)>, 3> vary = {
      [&](size_t i) { return FlowKey6{addr6(0xfd00001002440001, 5), vip, to_be16(static_cast<uint16_t>(i)), 80, kTcp}; },
      [&](size_t i) { return FlowKey6{addr6(0xfd00001002440001, i), vip, to_be16(40000), 80, kTcp}; },
      [&](size_t i) { return FlowKey6{addr6(0xfd00001002440000 + i, 5), vip, to_be16(40000), 80, kTcp}; },
  };
  for (const auto& key : vary)
    for (int shift : {0, 24, 48}) EXPECT_LT(fullest(65536, 4096, shift, [&](size_t i) { return flow_hash(key(i)); }), 48u);
}

TEST(FlowHash, Ipv4FlowsSpreadOverBucketsToo) {
  for (int shift : {0, 24, 48})
    EXPECT_LT(fullest(65536, 4096, shift,
                      [](size_t i) {
                        return flow_hash(FlowKey{to_be32(0x0af4010a), to_be32(0x0a60000a), to_be16(static_cast<uint16_t>(i)),
                                                 to_be16(80), kTcp});
                      }),
              48u);
}

// The front-end filter takes the top 12 bits of addr_hash: 1000 Services
// with consecutive IPv6 ClusterIPs set about 4096 * (1 - e^(-1000/4096)) =
// 887 distinct bits, as random ones would.
TEST(AddrHash, ConsecutiveIpv6AddressesSetDistinctFilterBits) {
  std::vector<bool> bit(4096);
  for (uint64_t i = 0; i < 1000; ++i) bit[addr_hash(addr6(0xfd00001000960000, i)) >> 52] = true;
  EXPECT_GT(std::count(bit.begin(), bit.end(), true), 840);
}

}  // namespace
}  // namespace svcdp::lb
