#include "control/endpoint_slice_cache.h"

#include <algorithm>
#include <map>

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

template <class PE, class Address>
std::vector<PE> EndpointSliceCache::collect(const ServiceKey& service, const std::string& port_name, Protocol protocol,
                                            std::vector<Endpoint> EndpointSliceInfo::*list,
                                            Address Endpoint::*address) const {
  std::vector<PE> out;
  auto svc = by_service_.find(service);
  if (svc == by_service_.end()) return out;
  std::map<std::pair<Address, uint16_t>, size_t> seen;  // → index in out
  // Which of two copies of one endpoint counts (see the header).
  const auto better = [](const PE& a, const PE& b) {
    return std::pair{!a.terminating, a.ready} > std::pair{!b.terminating, b.ready};
  };
  for (const auto& [name, slice] : svc->second) {
    if (slice.other_proxy) continue;  // kube-proxy's informer never sees it (DNS does)
    // A Service port matches the slice port of the same name and protocol
    // (kube-proxy's rule); that port's number is the target port.
    auto port = std::find_if(slice.ports.begin(), slice.ports.end(), [&](const EndpointPort& p) {
      return p.complete && p.name == port_name && p.protocol == protocol;
    });
    if (port == slice.ports.end() || port->port == 0) continue;
    for (const Endpoint& e : slice.*list) {
      PE pe{e.*address, port->port, e.node_name, e.zone, e.ready, e.serving, e.terminating, e.zone_hints, e.node_hints};
      auto [it, fresh] = seen.try_emplace(pe.key(), out.size());
      if (fresh)
        out.push_back(std::move(pe));
      else if (better(pe, out[it->second]))
        out[it->second] = std::move(pe);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key() < b.key(); });
  return out;
}

std::vector<PortEndpoint> EndpointSliceCache::endpoints(const std::string& ns, const std::string& service,
                                                        const std::string& port_name, Protocol protocol) const {
  return collect<PortEndpoint>({ns, service}, port_name, protocol, &EndpointSliceInfo::endpoints, &Endpoint::address);
}

std::vector<PortEndpoint6> EndpointSliceCache::endpoints6(const std::string& ns, const std::string& service,
                                                          const std::string& port_name, Protocol protocol) const {
  return collect<PortEndpoint6>({ns, service}, port_name, protocol, &EndpointSliceInfo::endpoints_v6,
                                &Endpoint::address_v6);
}

const std::map<std::string, EndpointSliceInfo>* EndpointSliceCache::slices_of(const std::string& ns,
                                                                             const std::string& service) const {
  const auto it = by_service_.find({ns, service});
  return it == by_service_.end() ? nullptr : &it->second;
}

size_t EndpointSliceCache::slice_count() const { return owner_.size(); }

const EndpointSliceInfo* EndpointSliceCache::find(const std::string& ns, const std::string& slice_name) const {
  auto owner = owner_.find({ns, slice_name});
  if (owner == owner_.end()) return nullptr;
  auto svc = by_service_.find({ns, owner->second});
  if (svc == by_service_.end()) return nullptr;
  auto it = svc->second.find(slice_name);
  return it == svc->second.end() ? nullptr : &it->second;
}

}  // namespace svcdp::control
