// Translates Kubernetes Services and their EndpointSlices into the load
// balancer's model (lb::ServiceSpec, one per Service port), the way
// kube-proxy reads them. The file source and the API watcher share it.
//
//  - Headless Services, ExternalName Services and Services labelled
//    service.kubernetes.io/service-proxy-name (another proxy owns them)
//    are left alone.
//  - Each port gets front ends: every ClusterIP, the NodePort on this
//    node's address, every externalIP and every LoadBalancer ingress IP.
//  - Endpoints come from the EndpointSliceCache (slices merged, named
//    target ports resolved through the slice's ports); an endpoint is
//    local when its nodeName is this node (or, without a nodeName, when its
//    address is in this node's pod CIDR), and remote endpoints carry the
//    VTEP of the node whose pod CIDR holds them.
#pragma once

#include "control/endpoint_slice_cache.h"
#include "control/k8s_objects.h"
#include "dataplane/counters.h"
#include "dataplane/fib.h"
#include "lb/service.h"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace svcdp::control {

// Stable service ids: the same Service port keeps its id across table
// generations (flows refer to services by id); ids of vanished ports are
// reused, lowest first, so they stay dense (per-service counters are an
// array indexed by id). Thread: control.
class ServiceIds {
 public:
  // At most as many ids as workers can count (a test may ask for fewer).
  explicit ServiceIds(uint32_t max_ids = dp::ServiceCounterTable::kMaxIds) : max_(max_ids) {}
  // The id of ns/name/port/proto, or max_ids() when all are taken.
  uint32_t get(const std::string& key);
  // Frees the ids of every key not in `live`.
  void retain(const std::set<std::string>& live);
  // Frees the id of one key (no-op for an unknown key).
  void release(const std::string& key);
  uint32_t max_ids() const { return max_; }

 private:
  uint32_t max_;
  std::map<std::string, uint32_t> ids_;
  std::set<uint32_t> free_;
  uint32_t next_ = 0;
};

// The VTEP of another node by name (0: unknown, or this node): where an
// IPv6 endpoint there is reached, its node named by the slice.
using VtepOf = std::function<lb::be32(const std::string& node_name)>;

struct ServiceBuild {
  std::vector<lb::ServiceSpec> specs;
  std::vector<lb::ServiceSpec6> specs6;
  std::vector<std::string> warnings;  // one line per port or endpoint left out
};

// The IPv4 specs of one Service's ports (none for a service svcdp leaves
// alone, or without an IPv4 ClusterIP); appends the ports' keys
// (ns/name:port/proto) to `port_keys` (once).
// `node_zone`: this node's topology.kubernetes.io/zone, for hints.
// Thread: control.
std::vector<lb::ServiceSpec> service_port_specs(const ServiceInfo& service, const EndpointSliceCache& slices,
                                                const dp::Fib& fib, const std::string& node_name, ServiceIds& ids,
                                                std::vector<std::string>& port_keys,
                                                std::vector<std::string>& warnings, const std::string& node_zone = {});

// The IPv6 specs of the same ports, from its IPv6 ClusterIPs, external
// and LoadBalancer IPs and source ranges, this node's IPv6 NodePort
// addresses and the Service's IPv6 slices, with the same ids: kube-proxy's
// IPv6 proxier beside the IPv4 one (pkg/proxy/metaproxier). Thread: control.
std::vector<lb::ServiceSpec6> service_port_specs6(const ServiceInfo& service, const EndpointSliceCache& slices,
                                                  const dp::Fib& fib, const VtepOf& vtep_of,
                                                  const std::string& node_name, ServiceIds& ids,
                                                  std::vector<std::string>& port_keys,
                                                  std::vector<std::string>& warnings,
                                                  const std::string& node_zone = {});

// Every service at once. Thread: control. `fib` is the generation the
// services will be published with (this node's address, pod CIDRs and
// remote nodes).
ServiceBuild build_services(const std::vector<ServiceInfo>& services, const EndpointSliceCache& slices,
                            const dp::Fib& fib, const std::string& node_name, ServiceIds& ids,
                            const std::string& node_zone = {}, const VtepOf& vtep_of = {});

}  // namespace svcdp::control
