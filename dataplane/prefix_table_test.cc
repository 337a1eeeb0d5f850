#include "dataplane/prefix_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

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

// Edits against a model: prefixes of a few lengths added, changed and
// removed (backward-shift deletion through runs of colliding slots, and
// rehashes as the table doubles), every lookup checked after each step;
// and the table an edit started from never changes.
TEST(PrefixTable, EditsMatchAModelAndLeaveTheOriginal) {
  std::map<std::pair<uint32_t, uint8_t>, uint32_t> model;
  const uint8_t lengths[] = {16, 24, 25, 32};
  std::minstd_rand rng(5);
  PrefixTable t;
  auto expect = [&](const PrefixTable& table, const std::map<std::pair<uint32_t, uint8_t>, uint32_t>& m) {
    ASSERT_EQ(table.size(), m.size());
    for (const auto& [k, v] : m) {
      // The longest prefix of the model holding this prefix's first address.
      std::optional<uint32_t> want;
      int best = -1;
      for (const auto& [k2, v2] : m) {
        const uint32_t mask = ~uint32_t{0} << (32 - k2.second);
        if ((k.first & mask) == k2.first && k2.second > best) {
          best = k2.second;
          want = v2;
        }
      }
      ASSERT_EQ(table.lookup(k.first), want);
    }
  };
  for (int step = 0; step < 3000; ++step) {
    const uint8_t len = lengths[rng() % 4];
    const uint32_t addr = (0x0a000000 + (rng() % 600) * 256 + (rng() % 2) * 128) & (~uint32_t{0} << (32 - len));
    const auto before = model;
    const PrefixTable original = t;
    PrefixTable::Edit e(t);
    if (rng() % 3 == 0) {
      EXPECT_EQ(e.erase(addr, len), model.erase({addr, len}) == 1);
    } else {
      const uint32_t v = rng() % 1000;
      e.set(addr, len, v);
      model[{addr, len}] = v;
    }
    t = e.finish();
    if (step % 50 == 0) {
      expect(t, model);
      expect(original, before);
    }
  }
  expect(t, model);
  // Empty again.
  PrefixTable::Edit e(t);
  for (const auto& [k, v] : model) EXPECT_TRUE(e.erase(k.first, k.second));
  EXPECT_EQ(e.finish().size(), 0u);
}

}  // namespace
}  // namespace svcdp::dp
