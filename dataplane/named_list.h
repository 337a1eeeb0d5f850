// A list of named things (drop reasons, stages) written once as an X-macro
// LIST(X), each entry X(id, "name", "help"), becomes an enum class, a
// table of names and help texts in the same order, and its size: adding
// an entry is adding one line to the list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

namespace svcdp::dp {

struct NamedInfo {
  const char* name;
  const char* help;
};

#define SVCDP_NAMED_LIST_ID(id, name, help) id,
#define SVCDP_NAMED_LIST_INFO(id, name, help) {name, help},
#define SVCDP_NAMED_LIST(Enum, Underlying, info, count, LIST)                  \
  enum class Enum : Underlying { LIST(SVCDP_NAMED_LIST_ID) };                  \
  inline constexpr NamedInfo info[] = {LIST(SVCDP_NAMED_LIST_INFO)};           \
  inline constexpr size_t count = std::size(info);

}  // namespace svcdp::dp
