// A canonical text of a table generation for tests: remote nodes, and
// every service port with its front ends and endpoints (with their
// state), sorted, so two generations compare with ==.
#pragma once

#include "dataplane/fib.h"

#include <rte_byteorder.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace svcdp::control::testing {

inline std::string table_text(const dp::Fib& fib) {
  std::ostringstream out;
  for (const auto& n : fib.nodes) out << "node " << n.name << " " << rte_be_to_cpu_32(n.vtep) << "\n";
  std::vector<std::string> lines;
  for (const auto& svc : fib.services->services()) {
    std::ostringstream l;
    const auto& sp = svc->spec();
    l << sp.ns << "/" << sp.name << ":" << sp.port_name << "/" << int(sp.proto);
    for (const auto& f : sp.frontends) l << " fe=" << rte_be_to_cpu_32(f.vip) << ":" << rte_be_to_cpu_16(f.port);
    for (const auto& e : sp.endpoints)
      l << " ep=" << rte_be_to_cpu_32(e.addr) << ":" << rte_be_to_cpu_16(e.port) << (e.ready ? "R" : "")
        << (e.serving ? "S" : "") << (e.terminating ? "T" : "") << (e.local ? "L" : "");
    lines.push_back(l.str());
  }
  std::sort(lines.begin(), lines.end());
  for (const auto& l : lines) out << l << "\n";
  for (auto ip : fib.announced) out << "announce " << rte_be_to_cpu_32(ip) << "\n";
  return out.str();
}

}  // namespace svcdp::control::testing
