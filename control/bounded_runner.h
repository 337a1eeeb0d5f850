// Coalesces bursts of changes into table rebuilds, as kube-proxy's
// BoundedFrequencyRunner does, with an injected clock (nanoseconds passed
// in) so tests drive time: a change is handled at once when the last run
// is at least `min_interval` ago; changes arriving sooner wait until then
// and are handled together; nothing waits longer than `min_interval`.
// svcdp's defaults are in milliseconds where kube-proxy's are seconds:
// a rebuild costs microseconds to a few milliseconds here.
#pragma once

#include <cstdint>

namespace svcdp::control {

class BoundedRunner {
 public:
  explicit BoundedRunner(uint64_t min_interval_ns) : min_interval_(min_interval_ns) {}

  // Something changed at `now`. Thread: control.
  void request() { pending_ = true; }

  // Whether to run now; when true the caller runs and the request is
  // consumed. Thread: control.
  bool due(uint64_t now_ns) {
    if (!pending_ || (ran_ && now_ns - last_run_ < min_interval_)) return false;
    pending_ = false;
    ran_ = true;
    last_run_ = now_ns;
    return true;
  }

  bool pending() const { return pending_; }

 private:
  uint64_t min_interval_;
  uint64_t last_run_ = 0;
  bool ran_ = false;
  bool pending_ = false;
};

}  // namespace svcdp::control
