#include "control/fib_builder.h"

#include <rte_byteorder.h>

#include <algorithm>
#include <span>
#include <cstring>
#include <map>

namespace svcdp::control {
namespace {

rte_ether_addr to_ether(const conf::MacAddr& m) {
  rte_ether_addr e;
  std::memcpy(e.addr_bytes, m.data(), m.size());
  return e;
}

// The pod CIDRs taken so far as disjoint address ranges by first address:
// a node's prefix is checked against the one range that can hold or
// precede it, O(log N), not against every other node's (a 5,000-node
// cluster made that 25 M compares per generation).
class TakenCidrs {
 public:
  // A taken prefix `c` overlaps, or null.
  const conf::Ipv4Prefix* overlap(const conf::Ipv4Prefix& c) const {
    const auto [first, last] = range(c);
    auto it = by_first_.upper_bound(last);
    if (it == by_first_.begin()) return nullptr;
    --it;
    return range(it->second).second >= first ? &it->second : nullptr;
  }
  // Prefixes nest or are disjoint: one that covers taken ones replaces them.
  void add(const conf::Ipv4Prefix& c) {
    all_.push_back(c);
    if (const conf::Ipv4Prefix* t = overlap(c); t && t->len <= c.len) return;
    const auto [first, last] = range(c);
    by_first_.erase(by_first_.lower_bound(first), by_first_.upper_bound(last));
    by_first_.emplace(first, c);
  }
  const std::vector<conf::Ipv4Prefix>& all() const { return all_; }

 private:
  static std::pair<uint32_t, uint32_t> range(const conf::Ipv4Prefix& c) {
    const uint32_t mask = c.len == 0 ? 0 : ~uint32_t{0} << (32 - c.len);
    return {c.addr & mask, (c.addr & mask) | ~mask};
  }
  std::map<uint32_t, conf::Ipv4Prefix> by_first_;
  std::vector<conf::Ipv4Prefix> all_;
};

}  // namespace

conf::MacAddr derived_vtep_mac(uint32_t ip) {
  return {0x0a, 0x58, static_cast<uint8_t>(ip >> 24), static_cast<uint8_t>(ip >> 16), static_cast<uint8_t>(ip >> 8),
          static_cast<uint8_t>(ip)};
}

std::unique_ptr<dp::Fib> bootstrap_fib(const FibParams& p) {
  auto fib = std::make_unique<dp::Fib>();
  fib->vni = p.vni;
  fib->vxlan_port = rte_cpu_to_be_16(p.vxlan_port);
  return fib;
}

namespace {

std::unique_ptr<dp::Fib> build_from(std::span<const NodeInfo* const> nodes, const FibParams& p, uint64_t generation,
                                    std::vector<std::string>& warnings) {
  auto found = std::find_if(nodes.begin(), nodes.end(), [&](const NodeInfo* n) { return n->name == p.node_name; });
  if (found == nodes.end()) throw FibBuildError("this node '" + p.node_name + "' is not among the Node objects");
  const NodeInfo* self = *found;
  // A node without a pod CIDR (a control-plane node, a cluster whose
  // overlay is another CNI's) has no pods here, but its Services are still
  // served, their SNAT from the node address, as kube-proxy masquerades.
  if (self->pod_cidrs.empty())
    warnings.push_back("this node '" + p.node_name +
                       "' has no IPv4 pod CIDR: no pods or overlay here, Services still served");

  auto fib = std::make_unique<dp::Fib>();
  fib->generation = generation;
  fib->node_ip = rte_cpu_to_be_32(self->internal_ip);
  // pkg/proxy/util/nodeport_addresses.go: "primary", or the node's
  // addresses within the CIDRs given.
  if (p.nodeport_cidrs.empty()) {
    fib->nodeport_addresses = {fib->node_ip};
  } else {
    for (uint32_t a : self->addresses)
      if (std::any_of(p.nodeport_cidrs.begin(), p.nodeport_cidrs.end(), [&](const auto& c) { return c.contains(a); }))
        fib->nodeport_addresses.push_back(rte_cpu_to_be_32(a));
    std::sort(fib->nodeport_addresses.begin(), fib->nodeport_addresses.end());
    fib->nodeport_addresses.erase(std::unique(fib->nodeport_addresses.begin(), fib->nodeport_addresses.end()),
                                  fib->nodeport_addresses.end());
  }
  fib->pod_gateway = rte_cpu_to_be_32(
      p.pod_gateway.value_or(self->pod_cidrs.empty() ? self->internal_ip : self->pod_cidrs[0].addr + 1));
  fib->vni = p.vni;
  fib->vxlan_port = rte_cpu_to_be_16(p.vxlan_port);
  if (p.uplink_gateway) fib->uplink_gateway = rte_cpu_to_be_32(*p.uplink_gateway);
  if (p.uplink_subnet) fib->uplink_subnet = dp::PrefixTable({{p.uplink_subnet->addr, p.uplink_subnet->len, 0}});

  std::vector<dp::PrefixTable::Entry> local;
  for (const auto& c : self->pod_cidrs) local.push_back({c.addr, c.len, 0});
  fib->local_pods = dp::PrefixTable(local);
  fib->local_pod_cidrs = local;

  TakenCidrs taken;
  for (const auto& c : self->pod_cidrs) taken.add(c);
  std::vector<dp::PrefixTable::Entry> remote;
  std::vector<dp::RemoteNode> remote_nodes;
  const rte_ether_addr local_mac = to_ether(p.uplink_mac);
  for (const NodeInfo* node : nodes) {
    const NodeInfo& n = *node;
    if (n.name == p.node_name) continue;
    bool clash = false;
    for (const auto& c : n.pod_cidrs)
      if (const conf::Ipv4Prefix* t = taken.overlap(c)) {
        warnings.push_back("node " + n.name + ": pod CIDR " + conf::format_prefix(c) + " overlaps " +
                           conf::format_prefix(*t) + "; node skipped");
        clash = true;
      }
    if (clash || n.pod_cidrs.empty()) continue;
    dp::RemoteNode rn;
    rn.name = n.name;
    rn.vtep = rte_cpu_to_be_32(n.internal_ip);
    rn.nexthop = fib->uplink_nexthop(rn.vtep);
    rn.tmpl = dp::make_vxlan_template(local_mac, fib->node_ip, rn.vtep,
                                      to_ether(n.vtep_mac.value_or(derived_vtep_mac(n.internal_ip))), p.vni,
                                      p.vxlan_port);
    const auto index = static_cast<uint32_t>(remote_nodes.size());
    for (const auto& c : n.pod_cidrs) {
      remote.push_back({c.addr, c.len, index});
      rn.pod_cidrs.push_back(remote.back());
      taken.add(c);
    }
    remote_nodes.push_back(std::move(rn));
  }
  fib->remote_pods = dp::PrefixTable(remote);
  std::vector<dp::PrefixTable::Entry> vteps;
  for (const dp::RemoteNode& rn : remote_nodes) vteps.push_back({rte_be_to_cpu_32(rn.vtep), 32, 0});
  fib->nodes = dp::SharedArray<dp::RemoteNode>(std::move(remote_nodes));
  fib->remote_vteps = dp::PrefixTable(vteps);

  std::vector<dp::PrefixTable::Entry> cluster, no_masq;
  for (const auto& c : p.cluster_cidrs.empty() ? taken.all() : p.cluster_cidrs) cluster.push_back({c.addr, c.len, 0});
  for (const auto& c : p.non_masquerade_cidrs) no_masq.push_back({c.addr, c.len, 0});
  fib->cluster = dp::PrefixTable(cluster);
  fib->no_masquerade = dp::PrefixTable(no_masq);
  return fib;
}

}  // namespace

std::unique_ptr<dp::Fib> build_fib(const std::vector<NodeInfo>& nodes, const FibParams& p, uint64_t generation,
                                   std::vector<std::string>& warnings) {
  std::vector<const NodeInfo*> all;
  for (const NodeInfo& n : nodes) all.push_back(&n);
  return build_from(all, p, generation, warnings);
}

std::unique_ptr<dp::Fib> build_fib(std::span<const NodeInfo* const> nodes, const FibParams& p, uint64_t generation,
                                   std::vector<std::string>& warnings) {
  return build_from(nodes, p, generation, warnings);
}

}  // namespace svcdp::control
