#include "control/service_builder.h"

#include <rte_byteorder.h>

#include <algorithm>

namespace svcdp::control {
namespace {

uint8_t ip_proto(Protocol p) {
  switch (p) {
    case Protocol::TCP: return lb::kTcp;
    case Protocol::UDP: return lb::kUdp;
    case Protocol::SCTP: return lb::kSctp;
  }
  return lb::kTcp;
}

std::string port_key(const ServiceInfo& s, const ServicePort& p) {
  return s.meta.ns + "/" + s.meta.name + ":" + p.name + "/" + protocol_name(p.protocol);
}

// An endpoint is local when its nodeName is this node's, never by its
// address (pkg/proxy/endpointslicecache.go, isLocal); its hints are read
// against this node's name and zone.
lb::Endpoint to_lb(const PortEndpoint& pe, const dp::Fib& fib, const std::string& node_name,
                   const std::string& node_zone) {
  lb::Endpoint e;
  e.addr = rte_cpu_to_be_32(pe.address);
  e.port = rte_cpu_to_be_16(pe.port);
  e.ready = pe.ready;
  e.serving = pe.serving;
  e.terminating = pe.terminating;
  e.node = pe.node_name;
  e.zone = pe.zone;
  e.local = !pe.node_name.empty() && pe.node_name == node_name;
  if (auto n = fib.remote_pods.lookup(pe.address)) e.vtep = fib.nodes[*n].vtep;
  const auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return !x.empty() && std::find(v.begin(), v.end(), x) != v.end();
  };
  e.has_zone_hints = !pe.zone_hints.empty();
  e.for_this_zone = has(pe.zone_hints, node_zone);
  e.has_node_hints = !pe.node_hints.empty();
  e.for_this_node = has(pe.node_hints, node_name);
  return e;
}

}  // namespace

uint32_t ServiceIds::get(const std::string& key) {
  if (auto it = ids_.find(key); it != ids_.end()) return it->second;
  uint32_t id;
  if (!free_.empty()) {
    id = *free_.begin();
    free_.erase(free_.begin());
  } else if (next_ < max_) {
    id = next_++;
  } else {
    return max_;
  }
  ids_.emplace(key, id);
  return id;
}

void ServiceIds::retain(const std::set<std::string>& live) {
  for (auto it = ids_.begin(); it != ids_.end();) {
    if (live.count(it->first)) {
      ++it;
      continue;
    }
    free_.insert(it->second);
    it = ids_.erase(it);
  }
}

void ServiceIds::release(const std::string& key) {
  auto it = ids_.find(key);
  if (it == ids_.end()) return;
  free_.insert(it->second);
  ids_.erase(it);
}

std::vector<lb::ServiceSpec> service_port_specs(const ServiceInfo& s, const EndpointSliceCache& slices,
                                                const dp::Fib& fib, const std::string& node_name, ServiceIds& ids,
                                                std::vector<std::string>& port_keys,
                                                std::vector<std::string>& warnings, const std::string& node_zone) {
  std::vector<lb::ServiceSpec> out;
  if (s.other_proxy || s.headless || s.type == "ExternalName" || s.cluster_ips.empty()) return out;
  for (const ServicePort& p : s.ports) {
    const std::string key = port_key(s, p);
    const uint32_t id = ids.get(key);
    if (id == ids.max_ids()) {
      warnings.push_back("service " + key + ": more than " + std::to_string(ids.max_ids()) +
                         " service ports in the cluster, svcdp's limit; left out");
      continue;
    }
    port_keys.push_back(key);
    lb::ServiceSpec spec;
    spec.id = id;
    spec.ns = s.meta.ns;
    spec.name = s.meta.name;
    spec.port_name = p.name;
    spec.created = s.meta.creation_timestamp;
    spec.proto = ip_proto(p.protocol);
    spec.affinity_client_ip = s.affinity_client_ip;
    spec.affinity_timeout_s = s.affinity_timeout_s;
    spec.external_policy = s.external_policy_local ? lb::TrafficPolicy::kLocal : lb::TrafficPolicy::kCluster;
    spec.internal_policy = s.internal_policy_local ? lb::TrafficPolicy::kLocal : lb::TrafficPolicy::kCluster;
    for (const conf::Ipv4Prefix& r : s.source_ranges) spec.source_ranges.push_back({rte_cpu_to_be_32(r.addr), r.len});
    spec.health_check_node_port = s.health_check_node_port;
    const lb::be16 port = rte_cpu_to_be_16(p.port);
    for (uint32_t ip : s.cluster_ips) spec.frontends.push_back({rte_cpu_to_be_32(ip), port, lb::Frontend::kClusterIp});
    if (p.node_port)
      for (lb::be32 a : fib.nodeport_addresses) spec.frontends.push_back({a, rte_cpu_to_be_16(p.node_port), lb::Frontend::kNodePort});
    for (uint32_t ip : s.external_ips) spec.frontends.push_back({rte_cpu_to_be_32(ip), port, lb::Frontend::kExternalIp});
    for (uint32_t ip : s.load_balancer_ips)
      spec.frontends.push_back({rte_cpu_to_be_32(ip), port, lb::Frontend::kLoadBalancerIp});
    for (const PortEndpoint& pe : slices.endpoints(s.meta.ns, s.meta.name, p.name, p.protocol))
      spec.endpoints.push_back(to_lb(pe, fib, node_name, node_zone));
    out.push_back(std::move(spec));
  }
  return out;
}

ServiceBuild build_services(const std::vector<ServiceInfo>& services, const EndpointSliceCache& slices,
                            const dp::Fib& fib, const std::string& node_name, ServiceIds& ids,
                            const std::string& node_zone) {
  ServiceBuild out;
  std::vector<std::string> keys;
  for (const ServiceInfo& s : services)
    for (auto& spec : service_port_specs(s, slices, fib, node_name, ids, keys, out.warnings, node_zone))
      out.specs.push_back(std::move(spec));
  ids.retain(std::set<std::string>(keys.begin(), keys.end()));
  return out;
}

}  // namespace svcdp::control
