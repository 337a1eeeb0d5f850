#include "control/k8s_node.h"

#include <yaml-cpp/yaml.h>

namespace svcdp::control {
namespace {

constexpr const char* kFlannelBackendData = "flannel.alpha.coreos.com/backend-data";

std::string scalar(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : std::string(); }

}  // namespace

std::optional<NodeInfo> node_from_object(const YAML::Node& obj, std::string& error) {
  NodeInfo node;
  const YAML::Node meta = obj["metadata"];
  node.name = scalar(meta ? meta["name"] : YAML::Node());
  if (node.name.empty()) {
    error = "Node without metadata.name";
    return std::nullopt;
  }

  // spec.podCIDRs (dual-stack era) supersedes spec.podCIDR; IPv6 entries are
  // not carried by this IPv4 overlay and are skipped.
  const YAML::Node spec = obj["spec"];
  std::vector<std::string> cidrs;
  if (spec && spec["podCIDRs"] && spec["podCIDRs"].IsSequence()) {
    for (const auto& c : spec["podCIDRs"]) cidrs.push_back(scalar(c));
  } else if (spec && spec["podCIDR"]) {
    cidrs.push_back(scalar(spec["podCIDR"]));
  }
  for (const auto& c : cidrs) {
    if (c.find(':') != std::string::npos) continue;
    auto p = conf::parse_ipv4_prefix(c);
    if (!p) {
      error = "Node " + node.name + ": malformed pod CIDR '" + c + "'";
      return std::nullopt;
    }
    node.pod_cidrs.push_back(*p);
  }

  const YAML::Node addresses = obj["status"] ? obj["status"]["addresses"] : YAML::Node();
  if (addresses && addresses.IsSequence()) {
    for (const auto& a : addresses) {
      if (scalar(a["type"]) != "InternalIP") continue;
      if (auto ip = conf::parse_ipv4(scalar(a["address"]))) {
        node.internal_ip = *ip;
        break;
      }
    }
  }
  if (node.internal_ip == 0) {
    error = "Node " + node.name + ": no IPv4 InternalIP in status.addresses";
    return std::nullopt;
  }

  // flannel stores {"VNI":1,"VtepMAC":"..."} as a JSON string annotation;
  // JSON is YAML, so the same parser reads it.
  const YAML::Node ann = meta["annotations"];
  if (ann && ann[kFlannelBackendData]) {
    try {
      YAML::Node data = YAML::Load(scalar(ann[kFlannelBackendData]));
      if (auto mac = conf::parse_mac(scalar(data["VtepMAC"]))) node.vtep_mac = *mac;
    } catch (const YAML::Exception&) {
      error = "Node " + node.name + ": annotation " + kFlannelBackendData + " is not valid JSON";
      return std::nullopt;
    }
  }
  return node;
}

}  // namespace svcdp::control
