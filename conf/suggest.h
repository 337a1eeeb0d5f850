// "Did you mean": the known word closest to a mistyped one, for errors
// about option names and configuration fields.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace svcdp::conf {

// Levenshtein distance. Thread: any.
size_t edit_distance(std::string_view a, std::string_view b);

// The word of `known` within 2 edits (or a third of its length) of
// `word`, closest first; "" when none is. Thread: any.
std::string closest(std::string_view word, const std::vector<std::string>& known);

}  // namespace svcdp::conf
