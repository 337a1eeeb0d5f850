// A Prometheus-style histogram with fixed bucket bounds: counts per bucket
// (cumulative on export), a sum and a count. Written by one thread.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

namespace svcdp::control {

class Histogram {
 public:
  // Bounds in seconds, for latencies from microseconds to a second.
  static constexpr std::array<double, 14> kBounds = {25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3,
                                                     5e-3,  10e-3, 25e-3,  50e-3,  100e-3, 250e-3, 1.0};

  // Thread: the owner.
  void observe(double seconds) {
    const auto it = std::lower_bound(kBounds.begin(), kBounds.end(), seconds);
    ++counts_[static_cast<size_t>(it - kBounds.begin())];
    sum_ += seconds;
    ++count_;
  }

  // Per bucket (not cumulative); the last one is +Inf. Thread: any.
  const std::array<uint64_t, kBounds.size() + 1>& counts() const { return counts_; }
  double sum() const { return sum_; }
  // The upper bound of the bucket holding the q-quantile (0 < q <= 1);
  // infinity when it is past the last bound. Thread: any.
  double quantile(double q) const {
    const double rank = q * static_cast<double>(count_);
    uint64_t seen = 0;
    for (size_t i = 0; i < kBounds.size(); ++i)
      if (static_cast<double>(seen += counts_[i]) >= rank) return kBounds[i];
    return std::numeric_limits<double>::infinity();
  }
  uint64_t count() const { return count_; }

 private:
  std::array<uint64_t, kBounds.size() + 1> counts_{};
  double sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace svcdp::control
