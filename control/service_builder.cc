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

// What one family's proxier reads of a Service, its slices and the node
// (pkg/proxy/serviceport.go, newBaseServiceInfo: every address list
// filtered to the family; the endpoint cache holds that family's slices).
template <lb::Family F>
struct FamilyView;

template <>
struct FamilyView<lb::Ip4> {
  static lb::be32 addr(uint32_t host) { return rte_cpu_to_be_32(host); }
  static const auto& cluster_ips(const ServiceInfo& s) { return s.cluster_ips; }
  static const auto& external_ips(const ServiceInfo& s) { return s.external_ips; }
  static const auto& load_balancer_ips(const ServiceInfo& s) { return s.load_balancer_ips; }
  static lb::ServiceSpec::SourceRange range(const conf::Ipv4Prefix& r) { return {rte_cpu_to_be_32(r.addr), r.len}; }
  static const auto& source_ranges(const ServiceInfo& s) { return s.source_ranges; }
  static const auto& nodeport_addresses(const dp::Fib& fib) { return fib.nodeport_addresses; }
  static auto endpoints(const EndpointSliceCache& c, const ServiceInfo& s, const ServicePort& p) {
    return c.endpoints(s.meta.ns, s.meta.name, p.name, p.protocol);
  }
  // The node whose pod CIDR holds the endpoint.
  static lb::be32 vtep(const PortEndpoint& pe, const dp::Fib& fib, const VtepOf&) {
    const auto n = fib.remote_pods.lookup(pe.address);
    return n ? fib.nodes[*n].vtep : 0;
  }
};

template <>
struct FamilyView<lb::Ip6> {
  static lb::Addr6 addr(const conf::Ipv6Addr& a) { return lb::Addr6{a}; }
  static const auto& cluster_ips(const ServiceInfo& s) { return s.cluster_ips_v6; }
  static const auto& external_ips(const ServiceInfo& s) { return s.external_ips_v6; }
  static const auto& load_balancer_ips(const ServiceInfo& s) { return s.load_balancer_ips_v6; }
  static lb::ServiceSpec6::SourceRange range(const conf::Ipv6Prefix& r) { return {lb::Addr6{r.addr}, r.len}; }
  static const auto& source_ranges(const ServiceInfo& s) { return s.source_ranges_v6; }
  static const auto& nodeport_addresses(const dp::Fib& fib) { return fib.nodeport_addresses6; }
  static auto endpoints(const EndpointSliceCache& c, const ServiceInfo& s, const ServicePort& p) {
    return c.endpoints6(s.meta.ns, s.meta.name, p.name, p.protocol);
  }
  // The endpoint's node by its nodeName (the IPv4 underlay carries both
  // families).
  static lb::be32 vtep(const PortEndpoint6& pe, const dp::Fib&, const VtepOf& vtep_of) {
    return vtep_of && !pe.node_name.empty() ? vtep_of(pe.node_name) : 0;
  }
};

// An endpoint is local when its nodeName is this node's, never by its
// address (pkg/proxy/endpointslicecache.go, isLocal); its hints are read
// against this node's name and zone.
template <lb::Family F, class PE>
lb::BasicEndpoint<F> to_lb(const PE& pe, const dp::Fib& fib, const VtepOf& vtep_of, const std::string& node_name,
                           const std::string& node_zone) {
  lb::BasicEndpoint<F> e;
  e.addr = FamilyView<F>::addr(pe.address);
  e.port = rte_cpu_to_be_16(pe.port);
  e.ready = pe.ready;
  e.serving = pe.serving;
  e.terminating = pe.terminating;
  e.node = pe.node_name;
  e.zone = pe.zone;
  e.local = !pe.node_name.empty() && pe.node_name == node_name;
  e.vtep = FamilyView<F>::vtep(pe, fib, vtep_of);
  const auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return !x.empty() && std::find(v.begin(), v.end(), x) != v.end();
  };
  e.has_zone_hints = !pe.zone_hints.empty();
  e.for_this_zone = has(pe.zone_hints, node_zone);
  e.has_node_hints = !pe.node_hints.empty();
  e.for_this_node = has(pe.node_hints, node_name);
  return e;
}

// One family's specs of a Service's ports: none unless it has a ClusterIP
// of the family (servicechangetracker.go: GetClusterIPByFamily "" skips it).
template <lb::Family F>
std::vector<lb::BasicServiceSpec<F>> port_specs(const ServiceInfo& s, const EndpointSliceCache& slices,
                                                const dp::Fib& fib, const VtepOf& vtep_of,
                                                const std::string& node_name, ServiceIds& ids,
                                                std::vector<std::string>& port_keys,
                                                std::vector<std::string>& warnings, const std::string& node_zone) {
  using View = FamilyView<F>;
  std::vector<lb::BasicServiceSpec<F>> out;
  if (s.other_proxy || s.headless || s.type == "ExternalName" || View::cluster_ips(s).empty()) return out;
  for (const ServicePort& p : s.ports) {
    const std::string key = port_key(s, p);
    const uint32_t id = ids.get(key);
    if (id == ids.max_ids()) {
      warnings.push_back("service " + key + ": more than " + std::to_string(ids.max_ids()) +
                         " service ports in the cluster, svcdp's limit; left out");
      continue;
    }
    if (std::find(port_keys.begin(), port_keys.end(), key) == port_keys.end()) port_keys.push_back(key);
    lb::BasicServiceSpec<F> spec;
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
    for (const auto& r : View::source_ranges(s)) spec.source_ranges.push_back(View::range(r));
    spec.health_check_node_port = s.health_check_node_port;
    const lb::be16 port = rte_cpu_to_be_16(p.port);
    for (const auto& ip : View::cluster_ips(s)) spec.frontends.push_back({View::addr(ip), port, lb::Frontend::kClusterIp});
    if (p.node_port)
      for (const auto& a : View::nodeport_addresses(fib))
        spec.frontends.push_back({a, rte_cpu_to_be_16(p.node_port), lb::Frontend::kNodePort});
    for (const auto& ip : View::external_ips(s))
      spec.frontends.push_back({View::addr(ip), port, lb::Frontend::kExternalIp});
    for (const auto& ip : View::load_balancer_ips(s))
      spec.frontends.push_back({View::addr(ip), port, lb::Frontend::kLoadBalancerIp});
    for (const auto& pe : View::endpoints(slices, s, p))
      spec.endpoints.push_back(to_lb<F>(pe, fib, vtep_of, node_name, node_zone));
    out.push_back(std::move(spec));
  }
  return out;
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
  return port_specs<lb::Ip4>(s, slices, fib, {}, node_name, ids, port_keys, warnings, node_zone);
}

std::vector<lb::ServiceSpec6> service_port_specs6(const ServiceInfo& s, const EndpointSliceCache& slices,
                                                  const dp::Fib& fib, const VtepOf& vtep_of,
                                                  const std::string& node_name, ServiceIds& ids,
                                                  std::vector<std::string>& port_keys,
                                                  std::vector<std::string>& warnings, const std::string& node_zone) {
  return port_specs<lb::Ip6>(s, slices, fib, vtep_of, node_name, ids, port_keys, warnings, node_zone);
}

ServiceBuild build_services(const std::vector<ServiceInfo>& services, const EndpointSliceCache& slices,
                            const dp::Fib& fib, const std::string& node_name, ServiceIds& ids,
                            const std::string& node_zone, const VtepOf& vtep_of) {
  ServiceBuild out;
  std::vector<std::string> keys;
  for (const ServiceInfo& s : services) {
    for (auto& spec : service_port_specs(s, slices, fib, node_name, ids, keys, out.warnings, node_zone))
      out.specs.push_back(std::move(spec));
    for (auto& spec : service_port_specs6(s, slices, fib, vtep_of, node_name, ids, keys, out.warnings, node_zone))
      out.specs6.push_back(std::move(spec));
  }
  ids.retain(std::set<std::string>(keys.begin(), keys.end()));
  return out;
}

}  // namespace svcdp::control
