#include "dataplane/neigh_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace svcdp::dp {
namespace {

const rte_ether_addr kMac = {{0x02, 0x5d, 0, 0, 0, 0x42}};

// The same table decisions for both families.
template <lb::Family F>
class NeighTableFamily : public ::testing::Test {};
using Families = ::testing::Types<lb::Ip4, lb::Ip6>;
TYPED_TEST_SUITE(NeighTableFamily, Families);

// Address `n` of the family: n itself for IPv4, fd00::<n> for IPv6.
template <lb::Family F>
typename F::Addr addr(uint32_t n) {
  if constexpr (std::is_same_v<F, lb::Ip4>) {
    return n;
  } else {
    lb::Addr6 x;
    x.bytes[0] = 0xfd;
    for (int b = 0; b < 4; ++b) x.bytes[15 - b] = static_cast<uint8_t>(n >> (8 * b));
    return x;
  }
}

TYPED_TEST(NeighTableFamily, InsertResolveInvalidate) {
  BasicNeighTable<TypeParam> t(16);
  rte_ether_addr out{};
  EXPECT_FALSE(t.lookup(Role::PODS, addr<TypeParam>(0x0a01), out));
  auto slot = t.find_or_insert(Role::PODS, addr<TypeParam>(0x0a01));
  ASSERT_TRUE(slot);
  EXPECT_FALSE(t.lookup(Role::PODS, addr<TypeParam>(0x0a01), out)) << "incomplete until a MAC is set";
  t.set_mac(*slot, kMac);
  ASSERT_TRUE(t.lookup(Role::PODS, addr<TypeParam>(0x0a01), out));
  EXPECT_TRUE(rte_is_same_ether_addr(&out, &kMac));
  EXPECT_FALSE(t.lookup(Role::UPLINK, addr<TypeParam>(0x0a01), out)) << "roles are separate";
  EXPECT_EQ(t.find_or_insert(Role::PODS, addr<TypeParam>(0x0a01)), slot);
  t.invalidate(*slot);
  EXPECT_FALSE(t.lookup(Role::PODS, addr<TypeParam>(0x0a01), out));
  EXPECT_EQ(t.find(Role::PODS, addr<TypeParam>(0x0a01)), slot) << "slot kept for the same neighbour";
}

TYPED_TEST(NeighTableFamily, RefusesBeyondCapacityKeepsExisting) {
  BasicNeighTable<TypeParam> t(16);
  for (uint32_t ip = 1; ip <= 16; ++ip) {
    auto s = t.find_or_insert(Role::UPLINK, addr<TypeParam>(ip));
    ASSERT_TRUE(s);
    t.set_mac(*s, kMac);
  }
  EXPECT_FALSE(t.find_or_insert(Role::UPLINK, addr<TypeParam>(17)));
  rte_ether_addr out;
  for (uint32_t ip = 1; ip <= 16; ++ip) EXPECT_TRUE(t.lookup(Role::UPLINK, addr<TypeParam>(ip), out));
  EXPECT_EQ(t.size(), 16u);
}

// Released slots are reused; neighbours on the same probe chain stay
// findable, and a released neighbour is gone (never another's MAC).
TYPED_TEST(NeighTableFamily, ReleasedSlotsAreReusedWithoutBreakingChains) {
  BasicNeighTable<TypeParam> t(16);
  for (uint32_t round = 0; round < 100; ++round) {
    for (uint32_t ip = 1; ip <= 16; ++ip) {
      auto s = t.find_or_insert(Role::UPLINK, addr<TypeParam>(round * 100 + ip));
      ASSERT_TRUE(s) << "round " << round;
      t.set_mac(*s, kMac);
    }
    rte_ether_addr out;
    for (uint32_t ip = 1; ip <= 16; ++ip) ASSERT_TRUE(t.lookup(Role::UPLINK, addr<TypeParam>(round * 100 + ip), out));
    for (uint32_t ip = 1; ip <= 16; ++ip) t.release(*t.find(Role::UPLINK, addr<TypeParam>(round * 100 + ip)));
    EXPECT_EQ(t.size(), 0u);
    for (uint32_t ip = 1; ip <= 16; ++ip) EXPECT_FALSE(t.lookup(Role::UPLINK, addr<TypeParam>(round * 100 + ip), out));
  }
}

// An IPv6 neighbour is its whole 128-bit address (the key holds only a
// 32-bit hash of it): neighbours differing in one byte are told apart.
TEST(NeighTable6, AddressesAreComparedWhole) {
  NeighTable6 t(64);
  std::vector<lb::Addr6> addrs;
  for (uint8_t i = 0; i < 32; ++i) {
    lb::Addr6 x;
    x.bytes[0] = 0xfd;
    x.bytes[8] = i;  // differ only in the interface identifier's first byte
    addrs.push_back(x);
    auto s = t.find_or_insert(Role::PODS, x);
    ASSERT_TRUE(s);
    t.set_mac(*s, rte_ether_addr{{0x02, 0, 0, 0, 0, i}});
  }
  for (uint8_t i = 0; i < 32; ++i) {
    rte_ether_addr out;
    ASSERT_TRUE(t.lookup(Role::PODS, addrs[i], out));
    EXPECT_EQ(out.addr_bytes[5], i);
  }
  std::vector<std::pair<lb::Addr6, bool>> seen;
  t.for_each([&](Role, const lb::Addr6& ip, bool resolved, const rte_ether_addr&) { seen.push_back({ip, resolved}); });
  EXPECT_EQ(seen.size(), 32u);
  EXPECT_TRUE(std::find(seen.begin(), seen.end(), std::pair{addrs[7], true}) != seen.end());
}

}  // namespace
}  // namespace svcdp::dp
