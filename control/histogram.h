// A Prometheus-style histogram with fixed bucket bounds: counts per bucket
// (cumulative on export), a sum and a count. Written by one thread.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace svcdp::control {

// Bounds in seconds, for latencies from microseconds to a second.
inline constexpr std::array<double, 14> kLatencyBounds = {25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3,
                                                          5e-3,  10e-3, 25e-3,  50e-3,  100e-3, 250e-3, 1.0};

// kube-proxy's network programming latency bounds (0.25 s, 0.5 s, 1..59 s,
// 60..115 s by 5, 120..300 s by 30: pkg/proxy/metrics/metrics.go), so that
// its dashboards and SLO queries read svcdp's the same way, with finer
// bounds below 0.25 s where svcdp's programming lands.
inline constexpr auto kProgrammingBounds = [] {
  std::array<double, 87> b{};
  size_t n = 0;
  for (double v : {1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 0.25, 0.5}) b[n++] = v;
  for (int s = 1; s <= 59; ++s) b[n++] = s;
  for (int s = 60; s <= 115; s += 5) b[n++] = s;
  for (int s = 120; s <= 300; s += 30) b[n++] = s;
  return b;
}();

class Histogram {
 public:
  // `bounds` must outlive the histogram (the constants above). Thread: the owner.
  explicit Histogram(std::span<const double> bounds = kLatencyBounds) : bounds_(bounds), counts_(bounds.size() + 1) {}

  // Thread: the owner.
  void observe(double seconds) {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), seconds);
    ++counts_[static_cast<size_t>(it - bounds_.begin())];
    sum_ += seconds;
    ++count_;
  }

  std::span<const double> bounds() const { return bounds_; }
  // Per bucket (not cumulative); the last one is +Inf. Thread: any.
  const std::vector<uint64_t>& counts() const { return counts_; }
  double sum() const { return sum_; }
  // The upper bound of the bucket holding the q-quantile (0 < q <= 1);
  // infinity when it is past the last bound. Thread: any.
  double quantile(double q) const {
    const double rank = q * static_cast<double>(count_);
    uint64_t seen = 0;
    for (size_t i = 0; i < bounds_.size(); ++i)
      if (static_cast<double>(seen += counts_[i]) >= rank) return bounds_[i];
    return std::numeric_limits<double>::infinity();
  }
  uint64_t count() const { return count_; }

 private:
  std::span<const double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace svcdp::control
