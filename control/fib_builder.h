// Builds a dataplane forwarding-table generation (dp::Fib) from the
// cluster's Node objects: which pod CIDRs are ours, which node owns every
// other pod CIDR, and each remote node's prebuilt VXLAN header template.
#pragma once

#include "control/k8s_objects.h"
#include "dataplane/fib.h"

#include <memory>
#include <span>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace svcdp::control {

struct FibParams {
  std::string node_name;
  uint32_t vni = 1;
  uint16_t vxlan_port = 4789;
  std::optional<uint32_t> uplink_gateway;  // host order
  // The uplink's on-link network; with a gateway, everything outside it
  // is sent through the gateway. Unset: everything is (or, without a
  // gateway, nothing is).
  std::optional<conf::Ipv4Prefix> uplink_subnet;
  std::optional<uint32_t> pod_gateway;     // host order
  conf::MacAddr uplink_mac{};              // our VTEP MAC
  // The cluster's pod network; empty: the union of the Nodes' pod CIDRs.
  std::vector<conf::Ipv4Prefix> cluster_cidrs;
  // Outside the cluster, reached without masquerading (ip-masq-agent).
  std::vector<conf::Ipv4Prefix> non_masquerade_cidrs;
  // --nodeport-addresses: this node's addresses within these serve
  // NodePorts; empty: its InternalIP only ("primary").
  std::vector<conf::Ipv4Prefix> nodeport_cidrs;
};

struct FibBuildError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The MAC a node's VTEP has when its Node carries no flannel VtepMAC:
// 0a:58 followed by the IPv4 address, the convention OVN-Kubernetes uses
// for addresses derived from IPs. Thread: any.
conf::MacAddr derived_vtep_mac(uint32_t vtep_ip);

// The generation workers start with before the cluster is known (the
// API server may be reachable only through svcdp itself): no node, no
// pod, no Service; node_ip 0, which makes every IPv4 packet from the
// uplink the kernel's, and the kernel's own traffic leaves by the uplink
// as it is (the exception path). Thread: control.
std::unique_ptr<dp::Fib> bootstrap_fib(const FibParams& params);

// Throws FibBuildError when this node is missing or has no pod CIDR.
// Problems with other nodes (overlapping CIDRs...) skip that node and add a
// line to `warnings`. Thread: control.
std::unique_ptr<dp::Fib> build_fib(const std::vector<NodeInfo>& nodes, const FibParams& params, uint64_t generation,
                                   std::vector<std::string>& warnings);
// The same from pointers to them (no copy of the Node objects).
std::unique_ptr<dp::Fib> build_fib(std::span<const NodeInfo* const> nodes, const FibParams& params, uint64_t generation,
                                   std::vector<std::string>& warnings);

}  // namespace svcdp::control
