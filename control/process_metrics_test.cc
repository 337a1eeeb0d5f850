#include "control/process_metrics.h"

#include <gtest/gtest.h>

#include <ctime>

namespace svcdp::control {
namespace {

// A line as Linux writes it, with a command name holding ") (" and
// spaces: fields count from after the last ')'.
TEST(ProcessMetrics, ParsesProcStatAfterTheLastParenthesis) {
  const char* stat =
      "4242 (svc) (dp x) S 1 4242 4242 0 -1 4194560 2310 0 0 0 150 50 0 0 20 0 9 0 12345 1073741824 2560 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
  const auto p = parse_proc_stat(stat, 100, 4096, 1'700'000'000);
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(p->cpu_seconds, 2.0) << "utime 150 + stime 50 ticks at 100 Hz";
  EXPECT_DOUBLE_EQ(p->start_time_seconds, 1'700'000'000 + 123.45);
  EXPECT_EQ(p->virtual_bytes, 1073741824u);
  EXPECT_EQ(p->resident_bytes, 2560u * 4096u);
  EXPECT_FALSE(parse_proc_stat("4242 (svc) S 1 2", 100, 4096, 0)) << "cut short";
  EXPECT_FALSE(parse_proc_stat("no parenthesis", 100, 4096, 0));
}

TEST(ProcessMetrics, ThisProcessLooksLikeOne) {
  const auto p = process_stats();
  ASSERT_TRUE(p);
  EXPECT_GT(p->resident_bytes, 0u);
  EXPECT_GE(p->open_fds, 3u) << "stdin, stdout, stderr";
  EXPECT_GE(p->max_fds, p->open_fds);
  EXPECT_LE(p->start_time_seconds, double(std::time(nullptr)) + 1);
  EXPECT_GT(p->start_time_seconds, double(std::time(nullptr)) - 3600);
  MetricsWriter w;
  write_process_metrics(w, *p);
  EXPECT_NE(w.text().find("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "), std::string::npos);
  EXPECT_NE(w.text().find("process_open_fds "), std::string::npos);
}

}  // namespace
}  // namespace svcdp::control
