#include "dataplane/persistent_vector.h"

#include <gtest/gtest.h>

#include <vector>

namespace svcdp::dp {
namespace {

TEST(PersistentVector, GrowsThroughLevels) {
  // Leaves of 16, inner nodes of 256: 70,000 items need two inner levels.
  std::vector<uint32_t> items(70000);
  for (uint32_t i = 0; i < items.size(); ++i) items[i] = i * 3;
  PersistentVector<uint32_t, 4> v(items);
  ASSERT_EQ(v.size(), items.size());
  for (uint32_t i = 0; i < items.size(); ++i) ASSERT_EQ(v[i], i * 3);
  EXPECT_THROW(v.at(70000), std::out_of_range);
  size_t n = 0;
  for (uint32_t x : v) EXPECT_EQ(x, 3 * n++);
  EXPECT_EQ(n, items.size());
}

// What a generation holds never changes: an edit copies what it writes,
// within one edit writes go in place, and an edit that goes on after
// finish() copies again.
TEST(PersistentVector, EditsCopyWhatTheyChange) {
  PersistentVector<int, 2> v(std::vector<int>{1, 2, 3, 4, 5, 6});  // leaves of 4
  PersistentVector<int, 2>::Edit e(v);
  e.mut(1) = 20;
  e.mut(1) += 1;
  e.push_back(7);
  const auto first = e.finish();
  e.mut(0) = 10;
  const auto second = e.finish();
  EXPECT_EQ(v.size(), 6u);
  EXPECT_EQ(v[1], 2);
  EXPECT_EQ(first[1], 21);
  EXPECT_EQ(first[0], 1) << "changed after finish(): not in the vector finished before";
  EXPECT_EQ(first.size(), 7u);
  EXPECT_EQ(second[0], 10);
  EXPECT_EQ(second[1], 21);
  EXPECT_EQ(second[6], 7);
}

}  // namespace
}  // namespace svcdp::dp
