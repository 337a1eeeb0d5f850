// Writing a file others read while svcdp runs (the CNI configuration a
// container runtime picks up, the state a restart reads back): the
// content goes to PATH.tmp, then is renamed over PATH, so that a reader
// sees the old file or the new one, never half of either.
#pragma once

#include <string>
#include <string_view>

namespace svcdp::control {

// Throws std::runtime_error naming the file and the reason. Thread: any.
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace svcdp::control
