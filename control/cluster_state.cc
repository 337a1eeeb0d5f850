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

bool ClusterState::upsert(const KubeObject& o) {
  if (auto* n = std::get_if<NodeInfo>(&o)) {
    nodes_[n->name] = *n;
    return true;
  }
  if (auto* s = std::get_if<ServiceInfo>(&o)) {
    services_[{s->meta.ns, s->meta.name}] = *s;
    return true;
  }
  const auto& slice = std::get<EndpointSliceInfo>(o);
  std::string& rv = slice_names_[{slice.meta.ns, slice.meta.name}];
  // A relist or a replayed event of the same version changes nothing.
  if (!rv.empty() && rv == slice.meta.resource_version) return false;
  rv = slice.meta.resource_version;
  slices_.upsert(slice);
  return true;
}

bool ClusterState::remove(ResourceKind kind, const Key& key) {
  switch (kind) {
    case ResourceKind::kNode:
      return nodes_.erase(key.second) > 0;
    case ResourceKind::kService:
      return services_.erase(key) > 0;
    case ResourceKind::kSlice:
      slices_.remove(key.first, key.second);
      return slice_names_.erase(key) > 0;
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
      if (e.kind == ResourceKind::kSlice) collect(slice_names_, [](const auto& s) { return s.first; });
      for (const Key& k : gone) changed |= remove(e.kind, k);
      for (const auto& o : e.objects) changed |= upsert(o);
      changed |= !listed_[static_cast<int>(e.kind)];
      listed_[static_cast<int>(e.kind)] = true;
      break;
    }
  }
  return changed;
}

std::vector<NodeInfo> ClusterState::nodes() const {
  std::vector<NodeInfo> out;
  for (const auto& [name, n] : nodes_) out.push_back(n);
  return out;
}

std::vector<ServiceInfo> ClusterState::services() const {
  std::vector<ServiceInfo> out;
  for (const auto& [key, s] : services_) out.push_back(s);
  return out;
}

}  // namespace svcdp::control
