// What operators see of a running svcdp: Prometheus metrics, and the JSON
// answers svcdpctl shows (services, conntrack, stats). It reads the
// workers' plain counters and the conntrack without stopping anything,
// and a snapshot of the published service table that the control thread
// hands over after each publish.
#pragma once

#include "control/histogram.h"
#include "control/kube_source.h"
#include "control/table_sync.h"
#include "dataplane/dataplane.h"
#include "lb/service.h"

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace svcdp::control {

// One answer line of the admin socket: `j` compact (invalid UTF-8 in a
// name replaced, never thrown) and a newline. Thread: any.
template <typename Json>
std::string json_line(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

// A packet trace as svcdpctl shows it: one object per packet with the
// worker, input port, addresses, the stages and the verdict. Thread: any.
std::string trace_json(const std::vector<dp::Dataplane::Traced>& records);

// Which flows a conntrack listing or a flush names; unset fields match all.
struct FlowFilter {
  std::optional<uint32_t> service_id;
  std::optional<lb::be32> client, endpoint;
  std::optional<uint8_t> proto;
  size_t limit = 1000;
};

class Introspection {
 public:
  // `kube` may be null (file source). Thread: control.
  Introspection(const dp::Dataplane& dataplane, std::array<std::string, dp::kRoleCount> devices,
                const KubeSource* kube);

  // After changes arrive: when a sync was last queued (Unix ns) and the
  // services with changes waiting (kube-proxy's
  // sync_proxy_rules_last_queued_timestamp_seconds and *_changes_pending).
  // Thread: control.
  void queued(int64_t unix_ns) { last_queued_unix_ns_.store(unix_ns, std::memory_order_relaxed); }
  void pending(size_t services) { pending_.store(services, std::memory_order_relaxed); }

  // What svcdp reads its cluster from ("file PATH", "kube SERVER"), for
  // `status`. Thread: control, before answering.
  void set_source(std::string description) { source_ = std::move(description); }

  // What a published generation is made of, as operators see it.
  struct Published {
    std::shared_ptr<const lb::ServiceTable> services;
    std::shared_ptr<const lb::ServiceTable6> services6;
    uint64_t generation = 0;
    std::shared_ptr<const dns::Zone> dns;  // null when DNS is off
    std::shared_ptr<const dns::Policy> dns_policy;
    dp::RemoteNodes nodes;  // shared with the generation, not copied
  };
  // After each publish. Thread: control.
  void published(Published p, const SyncStats& sync);

  // Thread: any.
  bool ready() const;
  std::string metrics() const;
  std::string services_json() const;
  std::string conntrack_json(const FlowFilter& filter) const;
  std::string stats_json() const;
  // svcdpctl status: version, uptime, source and its state, generation
  // and its age, workers and their load over the last `window_ms`
  // (the call waits that long).
  std::string status_json(unsigned window_ms) const;
  // svcdpctl neighbours: the ARP table the workers use.
  std::string neighbours_json() const;
  // svcdpctl nodes: the remote nodes of the current generation.
  std::string nodes_json() const;
  // What the workers would answer to a UDP query for `name` of `type`
  // (svcdpctl dns lookup), or that they would pass it on to CoreDNS.
  std::string dns_lookup_json(const std::string& name, const std::string& type) const;
  // The DNS counters summed over workers (svcdpctl dns stats).
  std::string dns_stats_json() const;
  // The id of ns/name:port (any port when `port` is empty); nullopt if unknown.
  std::optional<std::vector<uint32_t>> service_ids(const std::string& ns, const std::string& name,
                                                   const std::string& port) const;

 private:
  struct Snapshot {
    std::shared_ptr<const lb::ServiceTable> services;
    std::shared_ptr<const lb::ServiceTable6> services6;
    uint64_t generation = 0;
    double published_unix_s = 0;
    SyncStats sync;
    std::shared_ptr<const dns::Zone> dns;
    std::shared_ptr<const dns::Policy> dns_policy;
    dp::RemoteNodes nodes;
  };
  Snapshot snapshot() const;

  const dp::Dataplane& dp_;
  std::array<std::string, dp::kRoleCount> devices_;
  const KubeSource* kube_;
  std::string source_;
  double tsc_hz_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  mutable std::mutex mu_;
  Snapshot snap_;
  std::atomic<int64_t> last_queued_unix_ns_{0};
  std::atomic<size_t> pending_{0};
};

}  // namespace svcdp::control
