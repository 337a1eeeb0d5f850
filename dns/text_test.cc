#include "dns/text.h"

#include "dns/message.h"

#include <gtest/gtest.h>

namespace svcdp::dns {
namespace {

TEST(Text, TypesByName) {
  EXPECT_EQ(type_from_name("srv"), kSRV);
  EXPECT_EQ(type_from_name("AAAA"), kAAAA);
  EXPECT_EQ(type_from_name("TYPE65"), 65);
  EXPECT_EQ(type_from_name("bogus"), std::nullopt);
  EXPECT_EQ(type_name(kPTR), "PTR");
  EXPECT_EQ(type_name(65), "TYPE65");
  EXPECT_EQ(rcode_name(kNxDomain), "NXDOMAIN");
  EXPECT_EQ(rcode_name(kBadVers), "BADVERS");
}

TEST(Text, AQueryReadsBackAsItsQuestion) {
  const Bytes q = make_query("web.default", kA);
  const Decoded d = decode(q);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.question, "web.default. A");
  EXPECT_TRUE(d.rd);
  EXPECT_TRUE(d.answer.empty());
}

TEST(Text, TruncatedOrLoopingMessagesAreNotOk) {
  Bytes q = make_query("web.default", kA);
  q.resize(q.size() - 2);
  EXPECT_FALSE(decode(q).ok);
  Bytes loop = make_query("a", kA);
  loop[7] = 1;  // one answer, owned by a pointer to itself
  loop.insert(loop.end(), {0xc0, static_cast<uint8_t>(loop.size()), 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4});
  EXPECT_FALSE(decode(loop).ok);
}

}  // namespace
}  // namespace svcdp::dns
