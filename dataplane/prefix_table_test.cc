#include "dataplane/prefix_table.h"

#include <gtest/gtest.h>

namespace svcdp::dp {
namespace {

TEST(PrefixTable, LongestPrefixWins) {
  PrefixTable t({{0x0af40000, 16, 1}, {0x0af40200, 24, 2}, {0x0af40280, 25, 3}, {0, 0, 9}});
  EXPECT_EQ(t.lookup(0x0af40105), 1u);
  EXPECT_EQ(t.lookup(0x0af40205), 2u);
  EXPECT_EQ(t.lookup(0x0af402f0), 3u);
  EXPECT_EQ(t.lookup(0x08080808), 9u);
  EXPECT_EQ(t.size(), 4u);
}

TEST(PrefixTable, EmptyAndMisses) {
  PrefixTable empty;
  EXPECT_FALSE(empty.lookup(1));
  PrefixTable t({{0x0af40100, 24, 0}});
  EXPECT_TRUE(t.contains(0x0af401ff));
  EXPECT_FALSE(t.contains(0x0af40200));
}

TEST(PrefixTable, FiveThousandNodesOneLengthAllFound) {
  std::vector<PrefixTable::Entry> e;
  for (uint32_t i = 0; i < 5000; ++i) e.push_back({0x0a000000 + (i << 8), 24, i});
  PrefixTable t(e);
  for (uint32_t i = 0; i < 5000; ++i) ASSERT_EQ(t.lookup(0x0a000000 + (i << 8) + 7), i);
  EXPECT_FALSE(t.lookup(0x0a000000 + (5000u << 8)));
}

TEST(PrefixTable, DuplicatesKeepTheFirst) {
  PrefixTable t({{0x0af40100, 24, 1}, {0x0af40100, 24, 2}});
  EXPECT_EQ(t.lookup(0x0af40101), 1u);
  EXPECT_EQ(t.size(), 1u);
}

}  // namespace
}  // namespace svcdp::dp
