#include "dns/message.h"

#include "dns/testing/wire.h"

#include <gtest/gtest.h>

namespace svcdp::dns {
namespace {

using testing::Bytes;
using testing::query;

Parse parse(const Bytes& b, Query& q) { return parse_query({b.data(), b.size()}, q); }

TEST(Message, AQueryIsReadInLowerCase) {
  Query q;
  ASSERT_EQ(parse(query("Web.Default.svc.Cluster.Local", kA), q), Parse::kOk);
  EXPECT_EQ(q.qname(), "web.default.svc.cluster.local");
  EXPECT_EQ(q.qtype, kA);
  EXPECT_EQ(q.qclass, kClassIN);
  EXPECT_EQ(q.id, 0x1234);
  EXPECT_TRUE(q.recursion_desired());
  EXPECT_FALSE(q.edns);
  EXPECT_EQ(q.udp_size, 512);
  EXPECT_TRUE(q.name_plain);
}

TEST(Message, EdnsIsRead) {
  Query q;
  testing::QueryOptions o;
  o.edns_size = 100;
  o.dnssec_ok = true;
  ASSERT_EQ(parse(query("a.b", kA, o), q), Parse::kOk);
  EXPECT_TRUE(q.edns);
  EXPECT_EQ(q.udp_size, 512) << "RFC 6891 6.2.5: below 512 counts as 512";
  EXPECT_TRUE(q.dnssec_ok);
}

// Every class of malformed message, and what a DNS server does with it.
TEST(Message, MalformedMessagesAreRefusedOrIgnored) {
  Query q;
  const Bytes good = query("web.default", kA);
  EXPECT_EQ(parse(Bytes(good.begin(), good.begin() + 11), q), Parse::kIgnore) << "shorter than a header";
  Bytes b = good;
  b[2] |= 0x80;
  EXPECT_EQ(parse(b, q), Parse::kIgnore) << "a response";
  b = good;
  b[5] = 2;
  EXPECT_EQ(parse(b, q), Parse::kFormErr) << "two questions";
  b = good;
  b[5] = 0;
  EXPECT_EQ(parse(b, q), Parse::kFormErr) << "no question";
  b = good;
  b[2] |= 0x10;  // opcode 2 (STATUS)
  EXPECT_EQ(parse(b, q), Parse::kNotImp);
  EXPECT_EQ(q.question_end, good.size()) << "the question is still read, to be echoed";
  EXPECT_EQ(parse(Bytes(good.begin(), good.end() - 3), q), Parse::kFormErr) << "question cut short";
  b = good;
  b[12] = 0xc0;
  EXPECT_EQ(parse(b, q), Parse::kFormErr) << "a compression pointer in the question";
  b = good;
  b[12] = 0x40;
  EXPECT_EQ(parse(b, q), Parse::kFormErr) << "an extended label type";
  Bytes long_label = query(std::string(64, 'a') + ".b", kA);
  EXPECT_EQ(parse(long_label, q), Parse::kFormErr) << "a 64-byte label";
  std::string name;
  for (int i = 0; i < 52; ++i) name += "abcd.";
  EXPECT_EQ(parse(query(name + "x", kA), q), Parse::kFormErr) << "a name over 255 bytes";
  testing::QueryOptions o;
  o.edns_size = 1232;
  b = query("a.b", kA, o);
  b.insert(b.end(), b.end() - 11, b.end());
  b[11] = 2;
  EXPECT_EQ(parse(b, q), Parse::kFormErr) << "two OPT records (RFC 6891 6.1.1)";
  b = query("a.b", kA, o);
  b.pop_back();
  EXPECT_EQ(parse(b, q), Parse::kFormErr) << "an OPT cut short";
  b = good;
  b[13] = 'a' - 32 + 0x80;  // a byte outside printable ASCII
  ASSERT_EQ(parse(b, q), Parse::kOk);
  EXPECT_FALSE(q.name_plain);
}

// The exact bytes of an answer: header flags, the question kept, the
// owner a pointer to it (RFC 1035 4.1.4), a target compressed against it.
TEST(Message, AnswerBytesAreCompressed) {
  Bytes b = query("web.default", kA);
  const size_t qlen = b.size();
  b.resize(512);
  Query q;
  ASSERT_EQ(parse({b.begin(), b.begin() + static_cast<long>(qlen)}, q), Parse::kOk);
  Writer w(b, q, 512);
  w.begin(kNoError);
  ASSERT_TRUE(w.record_at_question(Writer::kAnswer, kA, 5, [&] { return w.put_u32(0x0a600014); }));
  ASSERT_TRUE(w.record_at_question(Writer::kAnswer, kCNAME, 5, [&] { return w.put_name("x.default"); }));
  b.resize(w.finish());
  const Bytes want = {
      0x12, 0x34, 0x85, 0x00, 0, 1, 0, 2, 0, 0, 0, 0,                              // header: QR AA RD
      3, 'w', 'e', 'b', 7, 'd', 'e', 'f', 'a', 'u', 'l', 't', 0, 0, 1, 0, 1,     // question
      0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 10, 96, 0, 20,                        // A
      0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 5, 0, 4, 1, 'x', 0xc0, 16,                     // CNAME x.<pointer to default>
  };
  EXPECT_EQ(b, want);
}

TEST(Message, ErrorsKeepTheQuestion) {
  Bytes b = query("a.b", kA);
  b[2] |= 0x10;
  Query q;
  ASSERT_EQ(parse(b, q), Parse::kNotImp);
  const size_t n = write_error(b, q.question_end, kNotImp);
  ASSERT_EQ(n, b.size());
  EXPECT_EQ(b[2], 0x91) << "QR, opcode kept, RD";
  EXPECT_EQ(b[3], kNotImp);
  b[5] = 2;
  EXPECT_EQ(write_error(b, 0, kFormErr), kHeaderSize);
  EXPECT_EQ(b[5], 0) << "no question when it was not read";
}

}  // namespace
}  // namespace svcdp::dns
