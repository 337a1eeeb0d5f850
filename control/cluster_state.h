// The cluster as the control thread knows it: the latest Nodes, Services
// and EndpointSlices, applied from watch events (or from the cluster file
// as complete lists). It says when something changed and hands the
// objects to the TableBuilder.
#pragma once

#include "control/endpoint_slice_cache.h"
#include "control/kube_events.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace svcdp::control {

class ClusterState {
 public:
  // Applies one event; returns whether anything changed. Thread: control.
  bool apply(const KubeEvent& e);

  // Every kind has had its complete list at least once: tables built
  // before that would drop services that simply have not arrived yet.
  bool synced() const { return listed_[0] && listed_[1] && listed_[2]; }

  // Thread: control.
  std::vector<NodeInfo> nodes() const;
  std::vector<ServiceInfo> services() const;
  const EndpointSliceCache& slices() const { return slices_; }
  size_t slice_count() const { return slice_names_.size(); }

 private:
  using Key = std::pair<std::string, std::string>;  // namespace, name
  bool upsert(const KubeObject& o);
  bool remove(ResourceKind kind, const Key& key);
  static Key key_of(const KubeObject& o);

  std::map<std::string, NodeInfo> nodes_;
  std::map<Key, ServiceInfo> services_;
  std::map<Key, std::string> slice_names_;  // slice → its resourceVersion
  EndpointSliceCache slices_;
  bool listed_[3] = {false, false, false};
};

}  // namespace svcdp::control
