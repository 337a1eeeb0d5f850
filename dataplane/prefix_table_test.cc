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

// IPv6: /64 pod CIDRs (kube-controller-manager's default node mask) and
// a /48 covering them, /128 host routes, /0; lengths across the two
// halves of the address.
lb::Addr6 a6(uint16_t w0, uint16_t w3, uint64_t lo = 0) {
  lb::Addr6 a;
  a.bytes[0] = static_cast<uint8_t>(w0 >> 8);
  a.bytes[1] = static_cast<uint8_t>(w0);
  a.bytes[6] = static_cast<uint8_t>(w3 >> 8);
  a.bytes[7] = static_cast<uint8_t>(w3);
  for (int i = 0; i < 8; ++i) a.bytes[15 - i] = static_cast<uint8_t>(lo >> (8 * i));
  return a;
}

TEST(PrefixTable6, LongestPrefixWinsAcrossBothHalves) {
  PrefixTable6 t({{a6(0xfd00, 0), 48, 1},
                  {a6(0xfd00, 7), 64, 2},
                  {a6(0xfd00, 7, 0xffff000000000000), 80, 3},
                  {a6(0xfd00, 7, 0xffff000000000005), 128, 4},
                  {lb::Addr6{}, 0, 9}});
  EXPECT_EQ(t.lookup(a6(0xfd00, 3, 1)), 1u);
  EXPECT_EQ(t.lookup(a6(0xfd00, 7, 1)), 2u);
  EXPECT_EQ(t.lookup(a6(0xfd00, 7, 0xffff00000000abcd)), 3u);
  EXPECT_EQ(t.lookup(a6(0xfd00, 7, 0xffff000000000005)), 4u);
  EXPECT_EQ(t.lookup(a6(0x2001, 7, 1)), 9u);
  EXPECT_EQ(PrefixTable6().lookup(a6(0xfd00, 7)), std::nullopt);
}

TEST(PrefixTable6, FiveThousandNodesEditedOneByOne) {
  PrefixTable6 t;
  for (uint16_t i = 0; i < 5000; ++i) {
    PrefixTable6::Edit e(t);
    e.set(a6(0xfd00, i), 64, i);
    t = e.finish();
  }
  for (uint16_t i = 0; i < 5000; ++i) ASSERT_EQ(t.lookup(a6(0xfd00, i, 0x1234)), i);
  PrefixTable6::Edit e(t);
  for (uint16_t i = 0; i < 5000; i += 2) ASSERT_TRUE(e.erase(a6(0xfd00, i), 64));
  const PrefixTable6 odd = e.finish();
  EXPECT_EQ(odd.size(), 2500u);
  for (uint16_t i = 0; i < 5000; ++i) ASSERT_EQ(odd.contains(a6(0xfd00, i, 9)), i % 2 == 1) << i;
  EXPECT_EQ(t.size(), 5000u);  // the original is unchanged
}

}  // namespace
}  // namespace svcdp::dp
