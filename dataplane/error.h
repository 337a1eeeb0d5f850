#pragma once

#include <stdexcept>

namespace svcdp::dp {

// A set-up problem the operator must fix (missing port, too few queues...).
// Its message is one line naming the problem.
struct DataplaneError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace svcdp::dp
