#include "control/metrics_writer.h"

#include <charconv>

#include <cmath>
#include <cstdio>

namespace svcdp::control {

void MetricsWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  name_ = name;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) out_ += c == '\n' ? ' ' : c;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

std::string MetricsWriter::value_text(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  // The shortest form that reads back as the same double (what Go's
  // strconv.FormatFloat(v, 'g', -1, 64) gives client_golang).
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

void MetricsWriter::write(std::string_view name, const Labels& labels, const std::string& value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      for (char c : v) {
        if (c == '\\' || c == '"') out_ += '\\';
        if (c == '\n') {
          out_ += "\\n";
          continue;
        }
        out_ += c;
      }
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += value;
  out_ += '\n';
}

void MetricsWriter::histogram(const Labels& labels, std::span<const double> bounds, std::span<const uint64_t> counts,
                              double sum, uint64_t count) {
  uint64_t cumulative = 0;
  const std::string bucket = name_ + "_bucket";
  for (size_t i = 0; i <= bounds.size() && i < counts.size(); ++i) {
    cumulative += counts[i];
    Labels l = labels;
    l.emplace_back("le", i < bounds.size() ? value_text(bounds[i]) : "+Inf");
    write(bucket, l, std::to_string(cumulative));
  }
  write(name_ + "_sum", labels, value_text(sum));
  write(name_ + "_count", labels, std::to_string(count));
}

}  // namespace svcdp::control
