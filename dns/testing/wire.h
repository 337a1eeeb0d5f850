// The tests' names for dns/text.h (queries built from text, answers read
// back as dig prints them).
#pragma once

#include "dns/text.h"

#include <string>

namespace svcdp::dns::testing {

using dns::Bytes;
using dns::decode;
using dns::Decoded;
using dns::QueryOptions;

inline Bytes query(const std::string& name, uint16_t type, QueryOptions o = {}) { return make_query(name, type, o); }

}  // namespace svcdp::dns::testing
