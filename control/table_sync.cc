#include "control/table_sync.h"

#include "control/log.h"

#include <chrono>
#include <set>

namespace svcdp::control {

bool TableSync::apply(const KubeEvent& e) {
  if (!state_.apply(e)) return false;
  runner_.request();
  if (oldest_pending_ns_ == 0 || (e.received_ns && e.received_ns < oldest_pending_ns_))
    oldest_pending_ns_ = e.received_ns;
  return true;
}

std::unique_ptr<dp::Fib> TableSync::build_if_due(uint64_t now_ns) {
  if (!state_.synced() || !runner_.due(now_ns)) return nullptr;
  std::vector<std::string> warnings;
  const auto start = std::chrono::steady_clock::now();
  try {
    ClusterState::Dirty dirty = state_.take_dirty();
    for (const auto& [service, times] : dirty.triggers)
      pending_triggers_.insert(pending_triggers_.end(), times.begin(), times.end());
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
    stats_.build_time.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    stats_.unbuilt = builder_.failed_services();
    building_triggers_.insert(building_triggers_.end(), pending_triggers_.begin(), pending_triggers_.end());
    pending_triggers_.clear();
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

void TableSync::published(uint64_t now_ns, int64_t unix_ns) {
  if (building_since_ns_ && now_ns >= building_since_ns_)
    stats_.sync_latency.observe(double(now_ns - building_since_ns_) * 1e-9);
  building_since_ns_ = 0;
  // One observation per change, as kube-proxy's proxiers make after each
  // sync (a clock behind the API server's counts as 0).
  if (unix_ns != 0)
    for (int64_t t : building_triggers_)
      if (t > start_unix_ns_) stats_.programming.observe(double(std::max<int64_t>(0, unix_ns - t)) * 1e-9);
  building_triggers_.clear();
}

}  // namespace svcdp::control
