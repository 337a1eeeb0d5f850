// Keeps the workers' tables in step with the cluster: applies source
// events to the ClusterState, coalesces bursts (BoundedRunner), builds a
// generation when due, and measures how long a change took from its
// arrival to a generation ready to publish. The last good generation
// stays when a build fails. Shared by the file source and the API source.
#pragma once

#include "control/bounded_runner.h"
#include "control/cluster_state.h"
#include "control/histogram.h"
#include "control/table_builder.h"

#include <memory>
#include <set>
#include <string>

namespace svcdp::control {

// What TableSync measures, as the metrics report it.
struct SyncStats {
  Histogram sync_latency;  // change received by the source → generation published
  Histogram build_time;
  // kube-proxy's network programming latency SLI: an EndpointSlice's
  // endpoints.kubernetes.io/last-change-trigger-time → the generation
  // with it visible to the workers.
  Histogram programming{kProgrammingBounds};
  size_t unbuilt = 0;  // service ports that cannot be built (they keep their last tables)
};

class TableSync {
 public:
  // `start_unix_ns`: trigger times before it are not measured (a relist
  // at start replays old changes: kube-proxy's trackerStartTime).
  // Thread: control.
  TableSync(TableBuilder& builder, uint64_t min_interval_ns, int64_t start_unix_ns = 0)
      : builder_(builder), runner_(min_interval_ns), start_unix_ns_(start_unix_ns) {}

  // Whether the event changed anything. Thread: control.
  bool apply(const KubeEvent& e);

  // Asks for a new generation although the cluster did not change (the
  // DNS policy did). Thread: control.
  void refresh(uint64_t now_ns) {
    runner_.request();
    if (oldest_pending_ns_ == 0) oldest_pending_ns_ = now_ns;
  }

  // The next generation when a change is due and the state is complete;
  // nullptr otherwise (or when the build failed: logged, the current
  // tables stay). `now_ns` on the steady clock. Thread: control.
  std::unique_ptr<dp::Fib> build_if_due(uint64_t now_ns);

  // Records that the generation built last is now visible to the workers
  // (`unix_ns`: the wall clock, for the trigger times; 0: not measured).
  // Thread: control.
  void published(uint64_t now_ns, int64_t unix_ns = 0);

  const ClusterState& state() const { return state_; }
  // Arrival of the oldest change not yet published, 0 when none waits
  // (kube-proxy's oldestPendingQueued). A service port that cannot be
  // built is a change still waiting, from the build that first failed it
  // until one builds it (as kube-proxy's failed syncs keep its healthz
  // timestamp from moving, pkg/proxy/healthcheck/proxier_health.go).
  // Thread: control.
  uint64_t pending_since_ns() const;
  uint64_t generation() const { return generation_; }
  // Event received → generation published, per change batch.
  const Histogram& sync_latency() const { return stats_.sync_latency; }
  const Histogram& build_time() const { return stats_.build_time; }
  const Histogram& programming_latency() const { return stats_.programming; }
  size_t unbuilt_services() const { return builder_.failed_services(); }
  const SyncStats& stats() const { return stats_; }

 private:
  TableBuilder& builder_;
  BoundedRunner runner_;
  ClusterState state_;
  uint64_t generation_ = 0;
  bool rebuild_all_ = true;  // the first build, and after a failed one
  uint64_t oldest_pending_ns_ = 0;  // arrival of the oldest change not yet built
  uint64_t building_since_ns_ = 0;  // arrival of the oldest change in the last build
  uint64_t unbuilt_since_ns_ = 0;   // since when some service port cannot be built
  SyncStats stats_;
  const int64_t start_unix_ns_;
  // Trigger times of the changes not yet built, and of the last build.
  std::vector<int64_t> pending_triggers_, building_triggers_;
  std::set<std::string> warned_;
};

}  // namespace svcdp::control
