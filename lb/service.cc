#include "lb/service.h"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <tuple>

namespace svcdp::lb {

namespace {

enum class Topology : uint8_t { kNone, kSameZone, kSameNode };

// pkg/proxy/topology.go, topologyModeFromHints (PreferSameTrafficDistribution on).
template <Family F>
Topology topology_mode(const std::vector<BasicEndpoint<F>>& endpoints) {
  bool all_node_hints = true, for_node = false, all_zone_hints = true, for_zone = false, any_ready = false;
  for (const BasicEndpoint<F>& e : endpoints) {
    if (!e.ready) continue;
    any_ready = true;
    all_node_hints &= e.has_node_hints;
    for_node |= e.for_this_node;
    all_zone_hints &= e.has_zone_hints;
    for_zone |= e.for_this_zone;
  }
  if (any_ready && all_node_hints && for_node) return Topology::kSameNode;
  if (any_ready && all_zone_hints && for_zone) return Topology::kSameZone;
  return Topology::kNone;
}

// The Maglev backend of an endpoint: its address and port hashed.
uint64_t backend_hash(be32 addr, be16 port) { return mix64(uint64_t{addr} << 16 | port); }
uint64_t backend_hash(const Addr6& addr, be16 port) { return mix64(fold_hash(addr) ^ port); }

}  // namespace

template <Family F>
std::vector<uint32_t> usable_endpoints(const std::vector<BasicEndpoint<F>>& endpoints, TrafficPolicy policy) {
  const Topology topology = policy == TrafficPolicy::kCluster ? topology_mode(endpoints) : Topology::kNone;
  std::vector<uint32_t> ready, terminating;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const BasicEndpoint<F>& e = endpoints[i];
    if (policy == TrafficPolicy::kLocal && !e.local) continue;
    if (e.weight == 0) continue;
    if (e.ready) {
      if ((topology == Topology::kSameNode && !e.for_this_node) ||
          (topology == Topology::kSameZone && !e.for_this_zone))
        continue;
      ready.push_back(static_cast<uint32_t>(i));
    } else if (e.serving && e.terminating) {
      terminating.push_back(static_cast<uint32_t>(i));
    }
  }
  return ready.empty() ? terminating : ready;
}

template <Family F>
bool has_any_endpoint(const std::vector<BasicEndpoint<F>>& endpoints) {
  return std::any_of(endpoints.begin(), endpoints.end(),
                     [](const BasicEndpoint<F>& e) { return e.ready || (e.serving && e.terminating); });
}

template <Family F>
std::shared_ptr<const Maglev> BasicService<F>::build(const std::vector<Endpoint>& eps, std::span<const uint32_t> usable,
                                             uint32_t maglev_max, std::pmr::memory_resource* memory) {
  std::vector<MaglevBackend> backends;
  backends.reserve(usable.size());
  for (uint32_t i : usable)
    backends.push_back({backend_hash(eps[i].addr, eps[i].port), eps[i].weight});
  return make_table<Maglev>(memory, backends, Maglev::size_for(backends.size(), maglev_max), memory);
}

template <Family F>
BasicService<F>::BasicService(ServiceSpec spec, uint32_t maglev_max, const BasicService* previous,
                              std::pmr::memory_resource* memory)
    : spec_(std::move(spec)), int_usable_(or_heap(memory)), ext_usable_(or_heap(memory)) {
  std::sort(spec_.endpoints.begin(), spec_.endpoints.end(),
            [](const Endpoint& a, const Endpoint& b) { return std::pair{a.addr, a.port} < std::pair{b.addr, b.port}; });
  const auto int_usable = usable_endpoints(spec_.endpoints, spec_.internal_policy);
  const auto ext_usable = usable_endpoints(spec_.endpoints, spec_.external_policy);
  int_usable_.assign(int_usable.begin(), int_usable.end());
  ext_usable_.assign(ext_usable.begin(), ext_usable.end());
  has_any_ = lb::has_any_endpoint<F>(spec_.endpoints);

  // Reuse a table when the same endpoints (address, port, weight, in the
  // same order) take new flows: rebuild only what changed.
  auto same = [](const BasicService& old, std::span<const uint32_t> old_u, const std::vector<Endpoint>& eps,
                 std::span<const uint32_t> u) {
    if (old_u.size() != u.size()) return false;
    for (size_t i = 0; i < u.size(); ++i) {
      const Endpoint &a = old.spec_.endpoints[old_u[i]], &b = eps[u[i]];
      if (!a.same_as(b) || a.weight != b.weight) return false;
    }
    return true;
  };
  if (previous && same(*previous, previous->int_usable_, spec_.endpoints, int_usable_) &&
      same(*previous, previous->ext_usable_, spec_.endpoints, ext_usable_)) {
    internal_ = previous->internal_;
    external_ = previous->external_;
    reused_ = true;
    return;
  }
  internal_ = build(spec_.endpoints, int_usable_, maglev_max, memory);
  external_ = ext_usable_ == int_usable_ ? internal_ : build(spec_.endpoints, ext_usable_, maglev_max, memory);
}

template <Family F>
bool BasicService<F>::source_allowed(Frontend kind, const Addr& src) const {
  if (kind != Frontend::kLoadBalancerIp || spec_.source_ranges.empty()) return true;
  return std::any_of(spec_.source_ranges.begin(), spec_.source_ranges.end(),
                     [&](const typename ServiceSpec::SourceRange& r) { return prefix_contains(r.addr, r.len, src); });
}

template <Family F>
bool BasicService<F>::source_allowed(const Addr& vip, const Addr& src) const {
  const bool lb_ip = std::any_of(spec_.frontends.begin(), spec_.frontends.end(), [&](const BasicFrontendAddr<F>& f) {
    return f.kind == Frontend::kLoadBalancerIp && f.vip == vip;
  });
  return !lb_ip || source_allowed(Frontend::kLoadBalancerIp, src);
}

template <Family F>
auto BasicService<F>::find(const Addr& addr, be16 port) const -> const Endpoint* {
  auto it = std::lower_bound(spec_.endpoints.begin(), spec_.endpoints.end(), std::pair{addr, port},
                             [](const Endpoint& e, const std::pair<Addr, be16>& k) {
                               return std::pair{e.addr, e.port} < k;
                             });
  return it != spec_.endpoints.end() && it->addr == addr && it->port == port ? &*it : nullptr;
}

template <Family F>
bool BasicService<F>::usable(bool external, const Endpoint& e) const {
  const auto i = static_cast<uint32_t>(&e - spec_.endpoints.data());
  const auto& u = usable_indices(external);
  return std::binary_search(u.begin(), u.end(), i);
}

namespace {

template <Family F>
typename BasicServiceTable<F>::Services owned(std::vector<std::shared_ptr<const BasicService<F>>> services) {
  typename BasicServiceTable<F>::Services out;
  out.items.reserve(services.size());
  for (const auto& s : services) out.items.push_back(s.get());
  out.owners.push_back(
      std::make_shared<const std::vector<std::shared_ptr<const BasicService<F>>>>(std::move(services)));
  return out;
}

}  // namespace

template <Family F>
BasicServiceTable<F>::BasicServiceTable(std::vector<ServiceSpec> specs, uint64_t generation, uint32_t maglev_max,
                                        const BasicServiceTable* previous, std::pmr::memory_resource* memory)
    : generation_(generation), services_(or_heap(memory)) {
  std::vector<std::shared_ptr<const Service>> built;
  built.reserve(specs.size());
  for (ServiceSpec& s : specs) {
    const Service* prev = previous ? previous->by_id(s.id) : nullptr;
    built.push_back(make_table<Service>(memory, std::move(s), maglev_max, prev, memory));
  }
  Services all = owned<F>(std::move(built));
  services_.assign(all.items.begin(), all.items.end());
  owners_ = std::move(all.owners);
  index(memory);
  filter_endpoints(previous, memory);
}

template <Family F>
BasicServiceTable<F>::BasicServiceTable(std::vector<std::shared_ptr<const Service>> services, uint64_t generation,
                                        const BasicServiceTable* previous, std::pmr::memory_resource* memory)
    : BasicServiceTable(owned<F>(std::move(services)), generation, previous, memory) {}

template <Family F>
BasicServiceTable<F>::BasicServiceTable(Services services, uint64_t generation, const BasicServiceTable* previous,
                                        std::pmr::memory_resource* memory)
    : generation_(generation),
      services_(services.items.begin(), services.items.end(), or_heap(memory)),
      owners_(std::move(services.owners)) {
  if (previous && same_layout(*previous)) {
    index_ = previous->index_;
    vip_filter_ = previous->vip_filter_;
  } else {
    index(memory);
  }
  filter_endpoints(previous, memory);
}

template <Family F>
void BasicServiceTable<F>::filter_endpoints(const BasicServiceTable* previous, std::pmr::memory_resource* memory) {
  filter_ = previous ? previous->filter_ : make_table<BasicEndpointFilter<F>>(memory, memory);
  for (size_t i = 0; i < services_.size(); ++i) {
    const Service* svc = services_[i];
    // A service in the place it had is shared (no need to read it: 10 k
    // services would be 10 k cache misses per generation).
    if (previous && i < previous->services_.size() && previous->services_[i] == svc) continue;
    if (previous && previous->by_id(svc->spec().id) == svc) continue;
    for (const BasicEndpoint<F>& e : svc->endpoints()) filter_->add(e.addr, e.port, svc->spec().proto);
  }
}

template <Family F>
bool BasicServiceTable<F>::same_layout(const BasicServiceTable& o) const {
  if (services_.size() != o.services_.size()) return false;
  for (size_t i = 0; i < services_.size(); ++i) {
    if (services_[i] == o.services_[i]) continue;
    const ServiceSpec &a = services_[i]->spec(), &b = o.services_[i]->spec();
    if (a.id != b.id || a.proto != b.proto || a.created != b.created || a.frontends.size() != b.frontends.size())
      return false;
    for (size_t f = 0; f < a.frontends.size(); ++f)
      if (a.frontends[f].vip != b.frontends[f].vip || a.frontends[f].port != b.frontends[f].port ||
          a.frontends[f].kind != b.frontends[f].kind)
        return false;
  }
  return true;
}

// The front-end hash (open addressing, at most half full) and the id index.
template <Family F>
void BasicServiceTable<F>::index(std::pmr::memory_resource* memory) {
  auto ix = make_table<Index>(memory, or_heap(memory));
  size_t frontends = 0;
  for (const auto& s : services_) frontends += s->spec().frontends.size();
  const size_t size = std::bit_ceil(frontends * 2 + 2);
  ix->slots.assign(size, Slot{});
  ix->mask = size - 1;
  vip_filter_ = {};
  const auto older = [](const ServiceSpec& a, const ServiceSpec& b) {
    return std::tie(a.created, a.ns, a.name) < std::tie(b.created, b.ns, b.name);
  };
  for (size_t si = 0; si < services_.size(); ++si) {
    const ServiceSpec& s = services_[si]->spec();
    for (const FrontendAddr& f : s.frontends) {
      const uint32_t bit = vip_bit(f.vip);
      vip_filter_[bit >> 6] |= uint64_t{1} << (bit & 63);
      const Key key{f.vip, f.port, s.proto, 1};
      size_t i = key_hash(key) & ix->mask;
      while (ix->slots[i].key.used && ix->slots[i].key != key) i = (i + 1) & ix->mask;
      if (ix->slots[i].key == key) {
        const ServiceSpec& holder = services_[ix->slots[i].service]->spec();
        if (holder.id == s.id) continue;  // listed twice by one service
        const bool takes_over = older(s, holder);
        ix->conflicts.push_back({f, s.proto, takes_over ? s.id : holder.id, takes_over ? holder.id : s.id});
        if (!takes_over) continue;
      }
      ix->slots[i] = {key, static_cast<uint32_t>(si), f.kind};
    }
    if (s.id >= ix->by_id.size()) ix->by_id.resize(s.id + 1, kNoIndex);
    ix->by_id[s.id] = static_cast<uint32_t>(si);
  }
  index_ = std::move(ix);
}

template <Family F>
auto BasicServiceTable<F>::by_id(uint32_t id) const -> const Service* {
  const auto& by_id = index_->by_id;
  return id < by_id.size() && by_id[id] != kNoIndex ? services_[by_id[id]] : nullptr;
}

// kube-proxy clears the conntrack entries of a UDP endpoint that stops
// serving or leaves (pkg/proxy/endpointschangetracker.go,
// detectStaleConntrackEntries; pkg/proxy/conntrack/cleanup.go): a UDP
// flow has no connection to keep, so it moves at its next packet. TCP
// flows stay on a listed endpoint, terminating included.
template <Family F>
FlowVerdict BasicServiceTable<F>::check_flow(uint32_t id, const Addr& addr, be16 port, uint8_t proto,
                                             bool external) const {
  const Service* s = by_id(id);
  const BasicEndpoint<F>* e = s ? s->find(addr, port) : nullptr;
  if (e && (proto != kUdp || e->serving)) return FlowVerdict::kKeep;
  if (proto != kUdp) return FlowVerdict::kReset;
  return s && s->has_usable(external) ? FlowVerdict::kRebalance : FlowVerdict::kReject;
}

template <Family F>
size_t BasicServiceTable<F>::reused_tables() const {
  return static_cast<size_t>(std::count_if(services_.begin(), services_.end(),
                                           [](const auto& s) { return s->reused_tables(); }));
}

template std::vector<uint32_t> usable_endpoints<Ip4>(const std::vector<Endpoint>&, TrafficPolicy);
template std::vector<uint32_t> usable_endpoints<Ip6>(const std::vector<Endpoint6>&, TrafficPolicy);
template bool has_any_endpoint<Ip4>(const std::vector<Endpoint>&);
template bool has_any_endpoint<Ip6>(const std::vector<Endpoint6>&);
template class BasicService<Ip4>;
template class BasicService<Ip6>;
template class BasicServiceTable<Ip4>;
template class BasicServiceTable<Ip6>;

}  // namespace svcdp::lb
