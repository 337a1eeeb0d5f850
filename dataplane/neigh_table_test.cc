#include "dataplane/neigh_table.h"

#include <gtest/gtest.h>

namespace svcdp::dp {
namespace {

const rte_ether_addr kMac = {{0x02, 0x5d, 0, 0, 0, 0x42}};

TEST(NeighTable, InsertResolveInvalidate) {
  NeighTable t(16);
  rte_ether_addr out{};
  EXPECT_FALSE(t.lookup(Role::PODS, 0x0a01, out));
  auto slot = t.find_or_insert(Role::PODS, 0x0a01);
  ASSERT_TRUE(slot);
  EXPECT_FALSE(t.lookup(Role::PODS, 0x0a01, out)) << "incomplete until a MAC is set";
  t.set_mac(*slot, kMac);
  ASSERT_TRUE(t.lookup(Role::PODS, 0x0a01, out));
  EXPECT_TRUE(rte_is_same_ether_addr(&out, &kMac));
  EXPECT_FALSE(t.lookup(Role::UPLINK, 0x0a01, out)) << "roles are separate";
  EXPECT_EQ(t.find_or_insert(Role::PODS, 0x0a01), slot);
  t.invalidate(*slot);
  EXPECT_FALSE(t.lookup(Role::PODS, 0x0a01, out));
  EXPECT_EQ(t.find(Role::PODS, 0x0a01), slot) << "slot kept for the same neighbour";
}

TEST(NeighTable, RefusesBeyondCapacityKeepsExisting) {
  NeighTable t(16);
  for (uint32_t ip = 1; ip <= 16; ++ip) {
    auto s = t.find_or_insert(Role::UPLINK, ip);
    ASSERT_TRUE(s);
    t.set_mac(*s, kMac);
  }
  EXPECT_FALSE(t.find_or_insert(Role::UPLINK, 17));
  rte_ether_addr out;
  for (uint32_t ip = 1; ip <= 16; ++ip) EXPECT_TRUE(t.lookup(Role::UPLINK, ip, out));
  EXPECT_EQ(t.size(), 16u);
}

// Released slots are reused; neighbours on the same probe chain stay
// findable, and a released neighbour is gone (never another's MAC).
TEST(NeighTable, ReleasedSlotsAreReusedWithoutBreakingChains) {
  NeighTable t(16);
  for (uint32_t round = 0; round < 100; ++round) {
    for (uint32_t ip = 1; ip <= 16; ++ip) {
      auto s = t.find_or_insert(Role::UPLINK, round * 100 + ip);
      ASSERT_TRUE(s) << "round " << round;
      t.set_mac(*s, kMac);
    }
    rte_ether_addr out;
    for (uint32_t ip = 1; ip <= 16; ++ip) ASSERT_TRUE(t.lookup(Role::UPLINK, round * 100 + ip, out));
    for (uint32_t ip = 1; ip <= 16; ++ip) t.release(*t.find(Role::UPLINK, round * 100 + ip));
    EXPECT_EQ(t.size(), 0u);
    for (uint32_t ip = 1; ip <= 16; ++ip) EXPECT_FALSE(t.lookup(Role::UPLINK, round * 100 + ip, out));
  }
}

}  // namespace
}  // namespace svcdp::dp
