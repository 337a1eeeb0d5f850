// The cluster as the control thread knows it: the latest Nodes, Services
// and EndpointSlices, applied from watch events (or from the cluster file
// as complete lists). It says when something changed and hands the
// objects to the TableBuilder.
#pragma once

#include "control/cluster_file.h"
#include "control/endpoint_slice_cache.h"
#include "control/kube_events.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace svcdp::control {

class ClusterState {
 public:
  using Key = std::pair<std::string, std::string>;  // namespace, name
  // What changed since the last take_dirty(): everything, or these
  // Nodes, and these services (their object or one of their slices).
  struct Dirty {
    bool all = true;
    std::set<Key> services;
    std::set<std::string> nodes = {};
    // The last-change-trigger-times of the slice changes among them, per
    // service (kube-proxy's lastChangeTriggerTimes, endpointschangetracker.go:
    // a slice's removal drops its service's).
    std::map<Key, std::vector<int64_t>> triggers = {};
  };

  // Applies one event; returns whether anything changed. Thread: control.
  bool apply(const KubeEvent& e);

  // Every kind has had its complete list at least once: tables built
  // before that would drop services that simply have not arrived yet.
  bool synced() const { return listed_[0] && listed_[1] && listed_[2]; }

  // Thread: control.
  const std::map<std::string, NodeInfo>& node_map() const { return nodes_; }
  const NodeInfo* node(const std::string& name) const {
    auto it = nodes_.find(name);
    return it == nodes_.end() ? nullptr : &it->second;
  }
  std::vector<ServiceInfo> services() const;
  const EndpointSliceCache& slices() const { return slices_; }
  size_t slice_count() const { return slices_by_name_.size(); }
  const std::map<Key, ServiceInfo>& service_map() const { return services_; }
  const ServiceInfo* service(const Key& key) const {
    auto it = services_.find(key);
    return it == services_.end() ? nullptr : &it->second;
  }

  // The Services with a healthCheckNodePort that svcdp serves (not
  // another proxy's), kept as they change. Thread: control.
  const std::map<Key, uint16_t>& health_check_ports() const { return health_checked_; }

  // Services with a change not yet taken (kube-proxy's
  // sync_proxy_rules_*_changes_pending). Thread: control.
  size_t pending_services() const { return dirty_.services.size(); }

  // Returns and clears what changed. Thread: control.
  Dirty take_dirty() { return std::exchange(dirty_, Dirty{false, {}}); }

 private:
  struct SliceSeen {
    std::string service;
  };
  bool upsert(const KubeObject& o);
  bool remove(ResourceKind kind, const Key& key);
  static Key key_of(const KubeObject& o);

  std::map<std::string, NodeInfo> nodes_;
  std::map<Key, ServiceInfo> services_;
  std::map<Key, uint16_t> health_checked_;
  std::map<Key, SliceSeen> slices_by_name_;
  EndpointSliceCache slices_;
  bool listed_[3] = {false, false, false};
  Dirty dirty_;
};

// A complete set of objects (the cluster file's) as the three complete
// lists a source reports: applying them makes a state hold exactly these.
// Thread: any.
std::vector<KubeEvent> replace_events(ClusterObjects objects, uint64_t now_ns);

}  // namespace svcdp::control
