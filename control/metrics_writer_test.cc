// The Prometheus text exposition format (prometheus/docs exposition_formats.md)
// as svcdp writes it.
#include "control/metrics_writer.h"

#include <gtest/gtest.h>

namespace svcdp::control {
namespace {

// Bucket bounds and values in their shortest form that reads back the
// same, as client_golang's strconv.FormatFloat(v, 'g', -1, 64) writes them
// (not "2.5000000000000001e-05").
TEST(MetricsWriter, NumbersInTheirShortestExactForm) {
  MetricsWriter w;
  Histogram h;
  h.observe(30e-6);
  w.family("svcdp_example_seconds", "histogram", "an example");
  w.histogram({}, h);
  w.family("svcdp_example_ratio", "gauge", "another");
  w.sample({}, 0.1);
  w.sample({{"x", "y"}}, 1e6);
  const std::string& t = w.text();
  EXPECT_NE(t.find("svcdp_example_seconds_bucket{le=\"2.5e-05\"} 0\n"), std::string::npos) << t;
  EXPECT_NE(t.find("svcdp_example_seconds_bucket{le=\"5e-05\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("svcdp_example_seconds_bucket{le=\"1\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("svcdp_example_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("svcdp_example_seconds_sum 3e-05\n"), std::string::npos) << t;
  EXPECT_NE(t.find("svcdp_example_ratio 0.1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("svcdp_example_ratio{x=\"y\"} 1e+06\n"), std::string::npos) << t;
}

}  // namespace
}  // namespace svcdp::control
