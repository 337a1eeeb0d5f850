#include "control/table_builder.h"

#include "conf/inet.h"

#include <rte_byteorder.h>

#include <algorithm>

namespace svcdp::control {
namespace {

std::string format_addr(lb::be32 a) { return conf::format_ipv4(rte_be_to_cpu_32(a)); }
std::string format_addr(const lb::Addr6& a) {
  std::string text(1, '[');
  text.append(conf::format_ipv6(a.bytes)).push_back(']');
  return text;
}

// One line for a front end two services claim (lb::ServiceTable::Conflict).
template <lb::Family F>
std::string conflict_warning(const lb::BasicServiceTable<F>& table,
                             const typename lb::BasicServiceTable<F>::Conflict& c) {
  const auto name = [&](uint32_t id) {
    const auto& s = table.by_id(id)->spec();
    return s.ns + "/" + s.name + ":" + s.port_name;
  };
  const char* proto = c.proto == lb::kTcp ? "TCP" : c.proto == lb::kUdp ? "UDP" : "SCTP";
  return "service " + name(c.shadowed) + ": front end " + format_addr(c.frontend.vip) + ":" +
         std::to_string(rte_be_to_cpu_16(c.frontend.port)) + "/" + proto + " is service " + name(c.kept) +
         "'s, created first";
}

}  // namespace

TableBuilder::TableBuilder(FibParams params, uint32_t maglev_size, std::pmr::memory_resource* table_memory,
                           DnsParams dns)
    : dns_(std::move(dns)),
      params_(std::move(params)),
      maglev_size_(maglev_size),
      memory_(table_memory),
      node_tables_(params_) {
  // Namespaces are not watched: those with a Service exist, and those
  // every cluster has (CoreDNS asks the API server).
  if (dns_.enabled())
    dns_index_.emplace(dns::ZoneConfig{dns_.domain, dns_.ttl, 0},
                       std::vector<std::string>{"default", "kube-system", "kube-public", "kube-node-lease"});
}

template <lb::Family F>
void TableBuilder::build_ports(std::vector<lb::BasicServiceSpec<F>> specs, const lb::BasicServiceTable<F>* previous,
                               const std::vector<std::shared_ptr<const lb::BasicService<F>>>* old,
                               std::vector<std::shared_ptr<const lb::BasicService<F>>>& out, Built& fresh) {
  for (lb::BasicServiceSpec<F>& spec : specs) {
    const lb::BasicService<F>* prev = previous ? previous->by_id(spec.id) : nullptr;
    const uint32_t id = spec.id;
    const std::string name = spec.ns + "/" + spec.name + ":" + spec.port_name;
    try {
      out.push_back(lb::make_table<lb::BasicService<F>>(memory_, std::move(spec), maglev_size_, prev, memory_));
    } catch (const std::exception& e) {
      // Only this service port keeps its last tables (if it had any);
      // every other one is built and published as usual.
      ++fresh.failed;
      fresh.warnings.push_back("service " + name + (std::is_same_v<F, lb::Ip6> ? " (IPv6)" : "") +
                               ": cannot be built (" + e.what() + "); it keeps its last tables");
      if (old)
        for (const auto& o : *old)
          if (o->spec().id == id) out.push_back(o);
    }
  }
}

void TableBuilder::rebuild(const ClusterState::Key& key, const ServiceInfo* service, const EndpointSliceCache& slices,
                           const dp::Fib& fib) {
  if (dns_index_) dns_index_->set(key.first, key.second, service ? dns_records(*service, slices) : nullptr);
  Built fresh;
  auto it = built_.find(key);
  const Built* was = it != built_.end() ? &it->second : nullptr;
  if (service) {
    build_ports<lb::Ip4>(
        service_port_specs(*service, slices, fib, params_.node_name, ids_, fresh.port_keys, fresh.warnings, zone_),
        previous_.get(), was ? &was->services : nullptr, fresh.services, fresh);
    const VtepOf vtep_of = [&](const std::string& node) -> lb::be32 {
      const NodeInfo* n = node == params_.node_name ? nullptr : node_tables_.node(node);
      return n ? rte_cpu_to_be_32(n->internal_ip) : 0;
    };
    build_ports<lb::Ip6>(service_port_specs6(*service, slices, fib, vtep_of, params_.node_name, ids_, fresh.port_keys,
                                             fresh.warnings, zone_),
                         previous6_.get(), was ? &was->services6 : nullptr, fresh.services6, fresh);
  }
  if (fresh.warnings.empty())
    warned_.erase(key);
  else
    warned_.insert(key);
  failed_ += fresh.failed;
  if (was) {
    failed_ -= was->failed;
    index_addresses(it->first, *was, false);
    list_.replace(was->services, fresh.services);
    list6_.replace(was->services6, fresh.services6);
    for (const std::string& k : was->port_keys)
      if (std::find(fresh.port_keys.begin(), fresh.port_keys.end(), k) == fresh.port_keys.end()) ids_.release(k);
  } else {
    list_.replace({}, fresh.services);
    list6_.replace({}, fresh.services6);
  }
  if (!service) {
    if (was) built_.erase(it);
    return;
  }
  auto [at, added] = built_.insert_or_assign(key, std::move(fresh));
  index_addresses(at->first, at->second, true);
}

void TableBuilder::index_addresses(const ClusterState::Key& key, const Built& ports, bool add) {
  for (const auto& port : ports.services)
    for (const lb::Endpoint& e : port->endpoints()) {
      if (add)
        by_address_.emplace(rte_be_to_cpu_32(e.addr), &key);
      else
        by_address_.erase({rte_be_to_cpu_32(e.addr), &key});
    }
  for (const auto& port : ports.services6)
    for (const lb::Endpoint6& e : port->endpoints()) {
      if (e.node.empty()) continue;
      if (add)
        by_node6_.emplace(e.node, &key);
      else
        by_node6_.erase({e.node, &key});
    }
}

void TableBuilder::services_in(const conf::Ipv4Prefix& cidr, std::set<ClusterState::Key>& out) const {
  const uint32_t last = cidr.addr | ~cidr.mask();
  for (auto it = by_address_.lower_bound({cidr.addr, nullptr}); it != by_address_.end() && it->first <= last; ++it)
    out.insert(*it->second);
}

std::unique_ptr<dp::Fib> TableBuilder::build(const ClusterState& state, const ClusterState::Dirty& dirty,
                                             uint64_t generation, std::vector<std::string>& warnings) {
  // The Nodes' tables (remote nodes with their VXLAN templates, pod
  // CIDRs, NodePort addresses) are built from every Node only when this
  // node changed; another node's change is edited in (O(log N): a
  // heartbeat of a 5,000-node cluster changes nothing, a joining Node
  // copies a few table leaves). It touches only the services with an
  // endpoint in its pod CIDRs, before or after (their VTEP); this node's,
  // all of them.
  std::set<ClusterState::Key> moved;
  if (dirty.all || !node_tables_.built() || dirty.nodes.count(params_.node_name)) {
    std::vector<const NodeInfo*> nodes;
    nodes.reserve(state.node_map().size());
    for (const auto& [name, n] : state.node_map()) nodes.push_back(&n);
    node_tables_.rebuild(nodes);
  } else {
    for (const std::string& name : dirty.nodes) {
      const NodeInfo* now = state.node(name);
      if (const NodeInfo* was = node_tables_.node(name))
        for (const conf::Ipv4Prefix& c : was->pod_cidrs) services_in(c, moved);
      if (now)
        for (const conf::Ipv4Prefix& c : now->pod_cidrs) services_in(c, moved);
      for (auto at = by_node6_.lower_bound({name, nullptr}); at != by_node6_.end() && at->first == name; ++at)
        moved.insert(*at->second);
      node_tables_.update(name, now);
    }
  }
  std::unique_ptr<dp::Fib> fib = node_tables_.fib(generation);
  const std::vector<std::string> node_warnings = node_tables_.warnings();
  warnings.insert(warnings.end(), node_warnings.begin(), node_warnings.end());
  const NodeInfo* self = state.node(params_.node_name);
  bool everything = dirty.all || !previous_ || dirty.nodes.count(params_.node_name);
  if (const std::string zone = self ? self->zone : ""; zone != zone_) {
    zone_ = zone;  // every service's topology hints read again
    everything = true;
  }
  if (everything) {
    for (auto it = built_.begin(); it != built_.end();) {
      auto next = std::next(it);
      if (!state.service(it->first)) rebuild(it->first, nullptr, state.slices(), *fib);
      it = next;
    }
    for (const auto& [key, service] : state.service_map()) rebuild(key, &service, state.slices(), *fib);
  } else {
    moved.insert(dirty.services.begin(), dirty.services.end());
    for (const ClusterState::Key& key : moved) rebuild(key, state.service(key), state.slices(), *fib);
  }
  for (const ClusterState::Key& key : warned_) {
    const std::vector<std::string>& w = built_.at(key).warnings;
    warnings.insert(warnings.end(), w.begin(), w.end());
  }
  auto table = lb::make_table<lb::ServiceTable>(memory_, list_.services(), generation, previous_.get(), memory_);
  for (const lb::ServiceTable::Conflict& c : table->conflicts()) warnings.push_back(conflict_warning(*table, c));
  // IPv6 tables only once there is an IPv6 Service (an IPv4-only
  // cluster's hugepages hold no IPv6 endpoint filter).
  std::shared_ptr<const lb::ServiceTable6> table6;
  if (previous6_ || !list6_.all().empty()) {
    table6 = lb::make_table<lb::ServiceTable6>(memory_, list6_.services(), generation, previous6_.get(), memory_);
    for (const lb::ServiceTable6::Conflict& c : table6->conflicts()) warnings.push_back(conflict_warning(*table6, c));
  }
  if (dns_.enabled()) build_dns(state, *fib);
  fib->announced = list_.announced();
  fib->services = table;
  fib->announced6 = list6_.announced();
  if (table6) fib->services6 = table6;
  previous_ = std::move(table);
  previous6_ = std::move(table6);
  return fib;
}

void TableBuilder::build_dns(const ClusterState& state, dp::Fib& fib) {
  uint32_t ns_address = 0;
  if (const ServiceInfo* s = state.service({dns_.service_ns, dns_.service_name})) {
    if (!s->cluster_ips.empty()) ns_address = s->cluster_ips.front();
    for (uint32_t ip : s->cluster_ips) fib.dns_addresses.push_back(rte_cpu_to_be_32(ip));
  }
  if (dns_.local_address) fib.dns_addresses.push_back(rte_cpu_to_be_32(*dns_.local_address));
  fib.dns_policy = dns_policy_;
  fib.dns = dns_index_->zone(ns_address, static_cast<uint32_t>(fib.generation));
}

}  // namespace svcdp::control
