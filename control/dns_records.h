// What cluster DNS serves for one Service, from its object and its
// EndpointSlices, as CoreDNS's kubernetes plugin reads them
// (plugin/kubernetes/object/service.go, endpoint.go): ready endpoints
// only (an absent condition is ready), each slice's ports, hostnames
// kept, an endpoint without one named by its address with dashes.
#pragma once

#include "control/endpoint_slice_cache.h"
#include "control/k8s_objects.h"
#include "dns/zone.h"

#include <memory>
#include <optional>
#include <string>

namespace svcdp::control {

struct DnsParams {
  // --dns-service: the Service whose ClusterIP pods ask ("" ns: DNS off).
  std::string service_ns, service_name;
  std::string domain = "cluster.local";  // --cluster-domain
  uint32_t ttl = 5;                      // --dns-ttl
  std::optional<uint32_t> local_address;  // --dns-local-address, host order
  bool enabled() const { return !service_name.empty(); }
};

// Thread: control.
std::shared_ptr<const dns::ServiceRecords> dns_records(const ServiceInfo& service, const EndpointSliceCache& slices);

}  // namespace svcdp::control
