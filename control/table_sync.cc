#include "control/table_sync.h"

#include "control/log.h"

#include <chrono>
#include <set>

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
    ClusterState::Dirty dirty = state_.take_dirty();
    dirty.all |= rebuild_all_;
    rebuild_all_ = true;  // until this build succeeds
    auto fib = builder_.build(state_, dirty, generation_ + 1, warnings);
    rebuild_all_ = false;
    // Each problem once, not once per generation.
    std::set<std::string> now(warnings.begin(), warnings.end());
    for (const auto& w : now)
      if (!warned_.count(w)) log::warning("left out", {{"reason", w}});
    if (!now.empty() && now != warned_) log::warning("left out in total", {{"count", std::to_string(now.size())}});
    warned_ = std::move(now);
    ++generation_;
    build_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (builder_.failed_services() == 0)
      unbuilt_since_ns_ = 0;
    else if (unbuilt_since_ns_ == 0)
      unbuilt_since_ns_ = oldest_pending_ns_ ? oldest_pending_ns_ : now_ns;
    building_since_ns_ = oldest_pending_ns_;
    oldest_pending_ns_ = 0;
    return fib;
  } catch (const std::exception& e) {
    log::error("cannot build tables, keeping the current ones", {{"error", e.what()}});
    oldest_pending_ns_ = 0;
    return nullptr;
  }
}

uint64_t TableSync::pending_since_ns() const {
  uint64_t since = 0;
  for (uint64_t t : {oldest_pending_ns_, building_since_ns_, unbuilt_since_ns_})
    if (t != 0 && (since == 0 || t < since)) since = t;
  return since;
}

void TableSync::published(uint64_t now_ns) {
  if (building_since_ns_ && now_ns >= building_since_ns_) latency_.observe(double(now_ns - building_since_ns_) * 1e-9);
  building_since_ns_ = 0;
}

}  // namespace svcdp::control
