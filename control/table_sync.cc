#include "control/table_sync.h"

#include "control/log.h"

#include <chrono>

namespace svcdp::control {

void TableSync::apply(const KubeEvent& e) {
  if (!state_.apply(e)) return;
  runner_.request();
  if (oldest_pending_ns_ == 0 || (e.received_ns && e.received_ns < oldest_pending_ns_))
    oldest_pending_ns_ = e.received_ns;
}

std::unique_ptr<dp::Fib> TableSync::build_if_due(uint64_t now_ns) {
  if (!state_.synced() || !runner_.due(now_ns)) return nullptr;
  std::vector<std::string> warnings;
  const auto start = std::chrono::steady_clock::now();
  try {
    auto fib = builder_.build(state_.nodes(), state_.services(), state_.slices(), generation_ + 1, warnings);
    for (const auto& w : warnings) log::warning("left out", {{"reason", w}});
    ++generation_;
    build_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    building_since_ns_ = oldest_pending_ns_;
    oldest_pending_ns_ = 0;
    return fib;
  } catch (const std::exception& e) {
    log::error("cannot build tables, keeping the current ones", {{"error", e.what()}});
    oldest_pending_ns_ = 0;
    return nullptr;
  }
}

void TableSync::published(uint64_t now_ns) {
  if (building_since_ns_ && now_ns >= building_since_ns_) latency_.observe(double(now_ns - building_since_ns_) * 1e-9);
  building_since_ns_ = 0;
}

}  // namespace svcdp::control
