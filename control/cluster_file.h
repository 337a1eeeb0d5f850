// The file source: Kubernetes objects read from a file, in the forms
// `kubectl get -o yaml|json` prints (a List, a single object, or several
// YAML documents). Unknown kinds are ignored; a broken object is skipped
// with a reason, and only an unreadable file fails the load.
#pragma once

#include "control/k8s_node.h"

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace svcdp::control {

struct ClusterObjects {
  std::vector<NodeInfo> nodes;
  std::vector<std::string> skipped;  // one line per object that was not usable
};

struct ClusterFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thread: control. Throws ClusterFileError naming the file and the problem.
ClusterObjects parse_cluster_text(std::string_view text, const std::string& origin);
ClusterObjects load_cluster_file(const std::string& path);

}  // namespace svcdp::control
