// Kubernetes v1 Node objects → svcdp's view of a node: its pod CIDRs and its
// VXLAN tunnel endpoint. Shared by the file source and the API watcher.
#pragma once

#include "conf/inet.h"

#include <optional>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace svcdp::control {

struct NodeInfo {
  std::string name;
  uint32_t internal_ip = 0;  // host order; the node's VTEP address
  std::vector<conf::Ipv4Prefix> pod_cidrs;
  // flannel.alpha.coreos.com/backend-data "VtepMAC", when the node has one.
  std::optional<conf::MacAddr> vtep_mac;
};

// Translates one decoded Node object. Returns the node, or nullopt with
// `error` naming the problem (no InternalIP, a malformed CIDR, ...).
// Thread: control.
std::optional<NodeInfo> node_from_object(const YAML::Node& obj, std::string& error);

}  // namespace svcdp::control
