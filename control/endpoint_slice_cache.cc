#include "control/endpoint_slice_cache.h"

#include <algorithm>
#include <set>

namespace svcdp::control {

void EndpointSliceCache::upsert(const EndpointSliceInfo& slice) {
  remove(slice.meta.ns, slice.meta.name);
  if (slice.service_name.empty()) return;  // not managed for a Service
  by_service_[{slice.meta.ns, slice.service_name}][slice.meta.name] = slice;
  owner_[{slice.meta.ns, slice.meta.name}] = slice.service_name;
}

void EndpointSliceCache::remove(const std::string& ns, const std::string& slice_name) {
  auto it = owner_.find({ns, slice_name});
  if (it == owner_.end()) return;
  auto svc = by_service_.find({ns, it->second});
  if (svc != by_service_.end()) {
    svc->second.erase(slice_name);
    if (svc->second.empty()) by_service_.erase(svc);
  }
  owner_.erase(it);
}

std::vector<PortEndpoint> EndpointSliceCache::endpoints(const std::string& ns, const std::string& service,
                                                        const std::string& port_name, Protocol protocol) const {
  std::vector<PortEndpoint> out;
  auto svc = by_service_.find({ns, service});
  if (svc == by_service_.end()) return out;
  std::set<std::pair<uint32_t, uint16_t>> seen;
  for (const auto& [name, slice] : svc->second) {
    // A Service port matches the slice port of the same name and protocol
    // (kube-proxy's rule); that port's number is the target port.
    auto port = std::find_if(slice.ports.begin(), slice.ports.end(), [&](const EndpointPort& p) {
      return p.name == port_name && p.protocol == protocol;
    });
    if (port == slice.ports.end() || port->port == 0) continue;
    for (const Endpoint& e : slice.endpoints) {
      if (!seen.insert({e.address, port->port}).second) continue;
      out.push_back({e.address, port->port, e.node_name, e.zone, e.ready, e.serving, e.terminating});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key() < b.key(); });
  return out;
}

size_t EndpointSliceCache::slice_count() const { return owner_.size(); }

}  // namespace svcdp::control
