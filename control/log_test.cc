#include "control/log.h"

#include <gtest/gtest.h>

namespace svcdp::log {
namespace {

// One event is one line whatever a value holds (an API server's message,
// a file's contents in an error): logfmt with Go's strconv.Quote escapes.
TEST(Log, ValuesNeverBreakTheLine) {
  EXPECT_EQ(logfmt_value("node-a"), "node-a");
  EXPECT_EQ(logfmt_value(""), "\"\"");
  EXPECT_EQ(logfmt_value("two words"), "\"two words\"");
  EXPECT_EQ(logfmt_value("a=b"), "\"a=b\"");
  EXPECT_EQ(logfmt_value("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(logfmt_value("C:\\x"), "\"C:\\\\x\"");
  EXPECT_EQ(logfmt_value("line 1\nline 2\r\n"), "\"line 1\\nline 2\\r\\n\"");
  EXPECT_EQ(logfmt_value("tab\there"), "\"tab\\there\"");
  EXPECT_EQ(logfmt_value(std::string("nul\0bell\a", 9)), "\"nul\\u0000bell\\u0007\"");
  for (const char* v : {"a\nb", "x\ry", "\x1b[31mred"})
    EXPECT_EQ(logfmt_value(v).find_first_of("\n\r\x1b"), std::string::npos) << v;
}

}  // namespace
}  // namespace svcdp::log
