// Test helpers for table generations: a canonical text of one (remote
// nodes, every service port with its front ends and endpoints with their
// state and VTEP, announced IPs; sorted, so two generations compare with ==), and a
// full build from a set of objects.
#pragma once

#include "control/cluster_state.h"
#include "control/table_builder.h"
#include "dataplane/fib.h"

#include <rte_byteorder.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace svcdp::control::testing {

inline std::string table_text(const dp::Fib& fib) {
  std::ostringstream out;
  // Nodes by name, whatever their slots: each with its pod CIDRs as the
  // lookups see them, and whether VXLAN from its VTEP is accepted.
  std::vector<std::string> nodes;
  for (const auto& n : fib.nodes) {
    if (n.name.empty()) continue;
    std::ostringstream l;
    l << "node " << n.name << " " << rte_be_to_cpu_32(n.vtep) << " nexthop " << rte_be_to_cpu_32(n.nexthop)
      << " vtep_accepted " << fib.remote_vteps.contains(rte_be_to_cpu_32(n.vtep)) << " mac";
    for (uint8_t b : n.tmpl.inner_dst.addr_bytes) l << " " << int(b);
    for (const auto& c : n.pod_cidrs) {
      const auto to = fib.remote_pods.lookup(c.addr);
      l << " cidr " << c.addr << "/" << int(c.len) << "->" << (to ? fib.nodes[*to].name : "none")
        << " cluster " << fib.cluster.contains(c.addr);
    }
    for (const auto& c : n.pod_cidrs6) {
      const auto to = fib.remote_pods6.lookup(c.addr);
      l << " cidr6 " << conf::format_ipv6(c.addr.bytes) << "/" << int(c.len) << "->"
        << (to ? fib.nodes[*to].name : "none");
    }
    nodes.push_back(l.str());
  }
  std::sort(nodes.begin(), nodes.end());
  for (const auto& l : nodes) out << l << "\n";
  out << "remote_pods " << fib.remote_pods.size() << " remote_pods6 " << fib.remote_pods6.size() << " vteps " << fib.remote_vteps.size() << " cluster "
      << fib.cluster.size() << " nodes " << fib.remote_node_count << "\n";
  std::vector<std::string> lines;
  for (const auto& svc : fib.services->services()) {
    std::ostringstream l;
    const auto& sp = svc->spec();
    l << sp.ns << "/" << sp.name << ":" << sp.port_name << "/" << int(sp.proto);
    for (const auto& f : sp.frontends) l << " fe=" << rte_be_to_cpu_32(f.vip) << ":" << rte_be_to_cpu_16(f.port);
    for (const auto& e : sp.endpoints)
      l << " ep=" << rte_be_to_cpu_32(e.addr) << ":" << rte_be_to_cpu_16(e.port) << (e.ready ? "R" : "")
        << (e.serving ? "S" : "") << (e.terminating ? "T" : "") << (e.local ? "L" : "") << "@"
        << rte_be_to_cpu_32(e.vtep);
    lines.push_back(l.str());
  }
  std::sort(lines.begin(), lines.end());
  for (const auto& l : lines) out << l << "\n";
  for (auto ip : fib.announced) out << "announce " << rte_be_to_cpu_32(ip) << "\n";
  return out.str();
}

// Generation 1 built from scratch out of `objects`, for this node `node`.
inline std::unique_ptr<dp::Fib> full_build(ClusterObjects objects, const std::string& node = "node-a") {
  ClusterState state;
  for (const KubeEvent& e : replace_events(std::move(objects), 0)) state.apply(e);
  TableBuilder builder(FibParams{node, 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251);
  std::vector<std::string> warnings;
  return builder.build(state, ClusterState::Dirty{}, 1, warnings);
}

}  // namespace svcdp::control::testing
