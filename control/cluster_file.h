// The file source: Kubernetes objects read from a file, in the forms
// `kubectl get -o yaml|json` prints (a List, a typed list, a single object,
// or several YAML documents). Unknown kinds are ignored; a broken object is
// skipped with a reason, and only an unreadable file fails the load.
#pragma once

#include "control/k8s_objects.h"

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace svcdp::control {

struct ClusterObjects {
  std::vector<NodeInfo> nodes;
  std::vector<ServiceInfo> services;
  std::vector<EndpointSliceInfo> slices;
  std::vector<std::string> skipped;  // one line per object that was not usable
};

struct ClusterFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Adds one decoded object (or every item of a list) to `out`.
// Thread: control.
void add_object(simdjson::dom::element obj, ClusterObjects& out);

// Thread: control. Throw ClusterFileError naming the file and the problem.
ClusterObjects parse_cluster_text(std::string_view text, const std::string& origin);
ClusterObjects load_cluster_file(const std::string& path);

}  // namespace svcdp::control
