#include "conf/suggest.h"

#include <algorithm>

namespace svcdp::conf {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string closest(std::string_view word, const std::vector<std::string>& known) {
  std::string best;
  size_t best_d = std::max<size_t>(3, word.size() / 3 + 1);
  for (const std::string& k : known)
    if (const size_t d = edit_distance(word, k); d < best_d) {
      best = k;
      best_d = d;
    }
  return best;
}

}  // namespace svcdp::conf
