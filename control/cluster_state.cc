#include "control/cluster_state.h"

#include <set>

namespace svcdp::control {
namespace {

const ObjectMeta* meta_of(const KubeObject& o) {
  if (auto* s = std::get_if<ServiceInfo>(&o)) return &s->meta;
  if (auto* s = std::get_if<EndpointSliceInfo>(&o)) return &s->meta;
  return nullptr;
}

}  // namespace

ClusterState::Key ClusterState::key_of(const KubeObject& o) {
  if (auto* n = std::get_if<NodeInfo>(&o)) return {"", n->name};
  const ObjectMeta* m = meta_of(o);
  return {m->ns, m->name};
}

// An object that says what the stored one says changes nothing, whatever
// its resourceVersion: a relist, a replayed event, a Node heartbeat that
// touched nothing svcdp reads; an edit that kept the version (a cluster
// file) is applied.
bool ClusterState::upsert(const KubeObject& o) {
  if (auto* n = std::get_if<NodeInfo>(&o)) {
    auto [it, fresh] = nodes_.try_emplace(n->name, *n);
    if (!fresh && it->second == *n) return false;
    it->second = *n;
    dirty_.nodes.insert(n->name);  // remote endpoints' VTEPs; this node's: everything
    return true;
  }
  if (auto* s = std::get_if<ServiceInfo>(&o)) {
    auto [it, fresh] = services_.try_emplace({s->meta.ns, s->meta.name}, *s);
    if (!fresh && same_content(it->second, *s)) return false;
    it->second = *s;
    if (s->health_check_node_port && !s->other_proxy)
      health_checked_[it->first] = s->health_check_node_port;
    else
      health_checked_.erase(it->first);
    dirty_.services.insert(it->first);
    return true;
  }
  // A slice kube-proxy's label selector leaves out (when the API server
  // sends it at all: with cluster DNS svcdp lists every slice, as CoreDNS
  // does) is kept for DNS; the Service's endpoints never read it.
  const auto& slice = std::get<EndpointSliceInfo>(o);
  if (const EndpointSliceInfo* stored = slices_.find(slice.meta.ns, slice.meta.name))
    if (same_content(*stored, slice)) return false;
  SliceSeen& seen = slices_by_name_[{slice.meta.ns, slice.meta.name}];
  if (!seen.service.empty() && seen.service != slice.service_name) dirty_.services.insert({slice.meta.ns, seen.service});
  seen = {slice.service_name};
  dirty_.services.insert({slice.meta.ns, slice.service_name});
  if (slice.trigger_unix_ns != 0) dirty_.triggers[{slice.meta.ns, slice.service_name}].push_back(slice.trigger_unix_ns);
  slices_.upsert(slice);
  return true;
}

bool ClusterState::remove(ResourceKind kind, const Key& key) {
  switch (kind) {
    case ResourceKind::kNode:
      dirty_.nodes.insert(key.second);
      return nodes_.erase(key.second) > 0;
    case ResourceKind::kService:
      dirty_.services.insert(key);
      health_checked_.erase(key);
      return services_.erase(key) > 0;
    case ResourceKind::kSlice: {
      auto it = slices_by_name_.find(key);
      if (it == slices_by_name_.end()) return false;
      dirty_.services.insert({key.first, it->second.service});
      dirty_.triggers.erase({key.first, it->second.service});
      slices_.remove(key.first, key.second);
      slices_by_name_.erase(it);
      return true;
    }
  }
  return false;
}

bool ClusterState::apply(const KubeEvent& e) {
  bool changed = false;
  switch (e.type) {
    case KubeEvent::Type::kUpsert:
      for (const auto& o : e.objects) changed |= upsert(o);
      break;
    case KubeEvent::Type::kDelete:
      for (const auto& o : e.objects) changed |= remove(e.kind, key_of(o));
      break;
    case KubeEvent::Type::kReplace: {
      // The difference only: what the list lacks goes, the rest is upserted.
      std::set<Key> keep;
      for (const auto& o : e.objects) keep.insert(key_of(o));
      std::vector<Key> gone;
      auto collect = [&](const auto& map, auto key) {
        for (const auto& entry : map)
          if (!keep.count(key(entry))) gone.push_back(key(entry));
      };
      if (e.kind == ResourceKind::kNode) collect(nodes_, [](const auto& n) { return Key{"", n.first}; });
      if (e.kind == ResourceKind::kService) collect(services_, [](const auto& s) { return s.first; });
      if (e.kind == ResourceKind::kSlice) collect(slices_by_name_, [](const auto& s) { return s.first; });
      for (const Key& k : gone) changed |= remove(e.kind, k);
      for (const auto& o : e.objects) changed |= upsert(o);
      changed |= !listed_[static_cast<int>(e.kind)];
      listed_[static_cast<int>(e.kind)] = true;
      break;
    }
  }
  return changed;
}

std::vector<ServiceInfo> ClusterState::services() const {
  std::vector<ServiceInfo> out;
  for (const auto& [key, s] : services_) out.push_back(s);
  return out;
}

std::vector<KubeEvent> replace_events(ClusterObjects objects, uint64_t now_ns) {
  std::vector<KubeEvent> out;
  auto add = [&](ResourceKind kind, auto& list) {
    KubeEvent e{kind, KubeEvent::Type::kReplace, {}, now_ns};
    for (auto& o : list) {
      // A file's resourceVersion is whatever was last copied into it: an
      // edit that kept it must still count (same_content).
      if constexpr (requires { o.meta; }) o.meta.resource_version.clear();
      e.objects.emplace_back(std::move(o));
    }
    out.push_back(std::move(e));
  };
  add(ResourceKind::kNode, objects.nodes);
  add(ResourceKind::kService, objects.services);
  add(ResourceKind::kSlice, objects.slices);
  return out;
}

}  // namespace svcdp::control
