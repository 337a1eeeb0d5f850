// A small writer of the Prometheus text exposition format (version
// 0.0.4): families with HELP and TYPE lines, samples with escaped label
// values, histograms with cumulative buckets, _sum and _count.
#pragma once

#include "control/histogram.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace svcdp::control {

class MetricsWriter {
 public:
  using Labels = std::vector<std::pair<std::string_view, std::string>>;

  // Starts a family; every sample until the next family() belongs to it.
  // `type`: counter, gauge or histogram. Thread: the owner.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(const Labels& labels, double value) { write(name_, labels, value_text(value)); }
  void sample(const Labels& labels, uint64_t value) { write(name_, labels, std::to_string(value)); }
  void histogram(const Labels& labels, const Histogram& h) {
    histogram(labels, h.bounds(), h.counts(), h.sum(), h.count());
  }
  // `counts` per bucket (not cumulative), one more than `bounds` (+Inf).
  void histogram(const Labels& labels, std::span<const double> bounds, std::span<const uint64_t> counts, double sum,
                 uint64_t count);

  const std::string& text() const { return out_; }

 private:
  static std::string value_text(double v);
  void write(std::string_view name, const Labels& labels, const std::string& value);

  std::string out_;
  std::string name_;
};

}  // namespace svcdp::control
