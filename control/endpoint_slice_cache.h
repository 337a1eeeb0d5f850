// EndpointSlices grouped by the Service they belong to, merged the way
// kube-proxy's EndpointSliceCache merges them (pkg/proxy/
// endpointslicecache.go, addEndpoints): a Service may have many slices;
// an endpoint may move between slices, or briefly sit in two, and is
// counted once: a copy that is not terminating wins over one that is
// (kube-proxy: a new pod reusing a terminating pod's address), then a
// ready one over one that is not, then the slice whose name sorts first,
// so the result does not depend on arrival order; slices may arrive
// before their Service and wait for it.
#pragma once

#include "control/k8s_objects.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace svcdp::control {

// One endpoint of one service port: where to send, and its state.
// `Address`: uint32_t (IPv4, host order) or conf::Ipv6Addr.
template <class Address>
struct BasicPortEndpoint {
  Address address{};
  uint16_t port = 0;     // the target port, resolved through the slice
  std::string node_name;
  std::string zone;
  bool ready = true;
  bool serving = true;
  bool terminating = false;
  std::vector<std::string> zone_hints, node_hints;

  auto key() const { return std::pair{address, port}; }
};
using PortEndpoint = BasicPortEndpoint<uint32_t>;
using PortEndpoint6 = BasicPortEndpoint<conf::Ipv6Addr>;

class EndpointSliceCache {
 public:
  // Adds or replaces a slice (by namespace/name). A slice that moves to
  // another Service (its service-name label changed) leaves the old one.
  // Thread: control.
  void upsert(const EndpointSliceInfo& slice);
  // Thread: control. No-op for an unknown slice.
  void remove(const std::string& ns, const std::string& slice_name);

  // The endpoints of the Service port called `port_name` with
  // `protocol`, sorted by (address, port), each counted once; slices
  // kube-proxy's label selector leaves out (other_proxy) are not read.
  // Thread: control.
  std::vector<PortEndpoint> endpoints(const std::string& ns, const std::string& service, const std::string& port_name,
                                      Protocol protocol) const;
  // The same from the Service's IPv6 slices (addressType IPv6), as the
  // IPv6 proxier's cache holds only those. Thread: control.
  std::vector<PortEndpoint6> endpoints6(const std::string& ns, const std::string& service,
                                        const std::string& port_name, Protocol protocol) const;

  // Every slice of a Service by name, those for another proxy and of
  // headless Services included (DNS serves them, as CoreDNS does), or
  // nullptr. Thread: control.
  const std::map<std::string, EndpointSliceInfo>* slices_of(const std::string& ns, const std::string& service) const;
  size_t slice_count() const;
  // The slice as last upserted, or nullptr. Thread: control.
  const EndpointSliceInfo* find(const std::string& ns, const std::string& slice_name) const;

 private:
  using ServiceKey = std::pair<std::string, std::string>;  // namespace, service
  template <class PE, class Address>
  std::vector<PE> collect(const ServiceKey& service, const std::string& port_name, Protocol protocol,
                          std::vector<Endpoint> EndpointSliceInfo::*list, Address Endpoint::*address) const;
  // Per service, slices by name: std::map keeps names sorted.
  std::map<ServiceKey, std::map<std::string, EndpointSliceInfo>> by_service_;
  // namespace/slice → its service, to find it on update or delete.
  std::map<std::pair<std::string, std::string>, std::string> owner_;
};

}  // namespace svcdp::control
