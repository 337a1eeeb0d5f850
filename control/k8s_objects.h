// Kubernetes objects as svcdp needs them: v1 Node, v1 Service and
// discovery.k8s.io/v1 EndpointSlice, decoded from their JSON form (what
// the API server sends; the file source converts YAML to the same JSON).
// One translation, shared by the file source and the API watcher.
//
// These are faithful, validated views of the objects, not yet load-
// balancing decisions: which endpoints serve is decided later (lb/).
#pragma once

#include "conf/inet.h"

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace svcdp::control {

struct ObjectMeta {
  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;
  std::string creation_timestamp;  // RFC 3339, as the API server writes it


  bool operator==(const ObjectMeta&) const = default;
};

struct NodeInfo {
  std::string name;
  uint32_t internal_ip = 0;  // host order; the node's VTEP address (0: an IPv6-only node)
  std::vector<conf::Ipv4Prefix> pod_cidrs;
  // flannel.alpha.coreos.com/backend-data "VtepMAC", when the node has one.
  std::optional<conf::MacAddr> vtep_mac;
  std::string zone;  // topology.kubernetes.io/zone
  // Not being deleted (metadata.deletionTimestamp) and without the
  // cluster autoscaler's ToBeDeletedByClusterAutoscaler taint: kube-proxy's
  // nodeEligible (pkg/proxy/healthcheck/proxier_health.go).
  bool eligible = true;
  std::vector<uint32_t> addresses = {};  // every IPv4 InternalIP and ExternalIP, host order
  // The first IPv6 InternalIP (zero: none): the node's primary IPv6
  // address, where its IPv6 NodePorts are served by default.
  conf::Ipv6Addr internal_ip_v6 = {};
  // Dual-stack: spec.podCIDRs' and status.addresses' IPv6 entries (the
  // IPv6 pod CIDRs of other nodes are reached in VXLAN over IPv4).
  std::vector<conf::Ipv6Prefix> pod_cidrs_v6 = {};
  std::vector<conf::Ipv6Addr> addresses_v6 = {};
  // flannel.alpha.coreos.com/backend-v6-data "VtepMAC": its IPv6 VTEP's
  // (flannel-v6.1), when it has one.
  std::optional<conf::MacAddr> vtep_mac6 = {};


  bool operator==(const NodeInfo&) const = default;
};

enum class Protocol : uint8_t { TCP, UDP, SCTP };

struct ServicePort {
  std::string name;
  Protocol protocol = Protocol::TCP;
  uint16_t port = 0;
  uint16_t node_port = 0;  // 0: none
  // targetPort: a number, or the name of a container port resolved
  // through the EndpointSlice's ports.
  uint16_t target_port = 0;
  std::string target_port_name;


  bool operator==(const ServicePort&) const = default;
};

struct ServiceInfo {
  ObjectMeta meta;
  std::string type;  // ClusterIP, NodePort, LoadBalancer, ExternalName
  std::vector<uint32_t> cluster_ips;  // IPv4, host order; empty when headless
  bool headless = false;              // clusterIP: None
  std::vector<uint32_t> external_ips;
  std::vector<uint32_t> load_balancer_ips;  // status.loadBalancer.ingress[].ip
  std::vector<ServicePort> ports;
  bool affinity_client_ip = false;
  uint32_t affinity_timeout_s = 10800;  // Kubernetes' default (3 hours)
  // spec.loadBalancerSourceRanges of each family (host bits dropped, as
  // Go's ParseCIDR has them; entries that do not parse are ignored, as
  // kube-proxy ignores them).
  std::vector<conf::Ipv4Prefix> source_ranges;
  std::vector<conf::Ipv6Prefix> source_ranges_v6 = {};
  uint16_t health_check_node_port = 0;  // spec.healthCheckNodePort, 0: none
  bool external_policy_local = false;   // externalTrafficPolicy: Local
  bool internal_policy_local = false;   // internalTrafficPolicy: Local
  // Label service.kubernetes.io/service-proxy-name (another proxy owns it)
  // or service.kubernetes.io/headless: kube-proxy's informers select
  // neither (pkg/proxy/apis labelSelector), so svcdp leaves it alone
  // whichever source it came from.
  bool other_proxy = false;
  std::string external_name = {};  // spec.externalName (type ExternalName)
  // Dual-stack (read, not yet served: issue 18): spec.ipFamilies in order
  // (the first is the primary family; derived from spec.clusterIPs when
  // absent, as the API server defaults it), spec.ipFamilyPolicy, and the
  // IPv6 addresses of clusterIPs, externalIPs and LoadBalancer ingress.
  std::vector<conf::IpFamily> ip_families = {};
  std::string ip_family_policy = {};  // SingleStack, PreferDualStack, RequireDualStack
  std::vector<conf::Ipv6Addr> cluster_ips_v6 = {};
  std::vector<conf::Ipv6Addr> external_ips_v6 = {};
  std::vector<conf::Ipv6Addr> load_balancer_ips_v6 = {};

  bool operator==(const ServiceInfo&) const = default;
};

struct Endpoint {
  uint32_t address = 0;  // host order (IPv4 slices)
  std::string node_name;
  std::string zone;
  // EndpointConditions (discovery/v1): an absent ready or serving means
  // true, an absent terminating false (kube-proxy's reading).
  bool ready = true;
  bool serving = true;
  bool terminating = false;
  std::vector<std::string> zone_hints, node_hints;  // hints.forZones / forNodes
  std::string hostname = {};  // its DNS label under a headless Service (StatefulSet pods)
  conf::Ipv6Addr address_v6 = {};  // IPv6 slices

  bool operator==(const Endpoint&) const = default;
};

struct EndpointPort {
  std::string name;
  Protocol protocol = Protocol::TCP;
  uint16_t port = 0;  // 0: unset (all ports)
  bool complete = true;  // name, port and protocol all given: else ignored, as kube-proxy does

  bool operator==(const EndpointPort&) const = default;
};

struct EndpointSliceInfo {
  ObjectMeta meta;
  std::string service_name;  // label kubernetes.io/service-name
  bool other_proxy = false;  // as ServiceInfo::other_proxy: a slice kube-proxy never sees
  // addressType: IPv4 or IPv6; none for FQDN (kube-proxy reads neither).
  std::optional<conf::IpFamily> family;
  std::vector<Endpoint> endpoints;     // an IPv4 slice's, what every table reads
  std::vector<Endpoint> endpoints_v6;  // an IPv6 slice's (read, not yet served: issue 18)
  std::vector<EndpointPort> ports;
  // Annotation endpoints.kubernetes.io/last-change-trigger-time (Unix ns;
  // 0: absent or not RFC 3339): when the change this slice carries
  // happened, the start of the network programming latency SLI.
  int64_t trigger_unix_ns = 0;

  // The trigger time alone is no change (kube-proxy compares endpoints,
  // pkg/proxy/endpointslicecache.go).
  bool operator==(const EndpointSliceInfo& o) const {
    return meta == o.meta && service_name == o.service_name && other_proxy == o.other_proxy && family == o.family &&
           endpoints == o.endpoints && endpoints_v6 == o.endpoints_v6 && ports == o.ports;
  }
};

// An RFC 3339 timestamp ("2026-12-01T10:00:00.25Z", offsets allowed) as
// Unix nanoseconds; nullopt when it is not one. Thread: any.
std::optional<int64_t> parse_rfc3339_ns(std::string_view text);

// Whether two objects say the same thing. The API server gives each
// change of an object a new resourceVersion, so one version on both is
// the same object and nothing is compared (client-go's informers skip
// such resyncs: a relist from the watch cache costs no reading). Objects
// without one (a cluster file: replace_events clears them) are compared
// field by field, as are two versions (a relist after 410, a Node
// heartbeat that changed nothing svcdp reads).
template <typename T>
bool same_content(const T& a, const T& b) {
  if (a.meta.resource_version == b.meta.resource_version) return !a.meta.resource_version.empty() || a == b;
  T c = b;
  c.meta.resource_version = a.meta.resource_version;
  return a == c;
}

// Each returns the decoded object, or nullopt with `error` saying what is
// wrong ("Service shop/x: port 0 out of range"). Thread: control.
std::optional<NodeInfo> node_from_json(simdjson::dom::element obj, std::string& error);
std::optional<ServiceInfo> service_from_json(simdjson::dom::element obj, std::string& error);
std::optional<EndpointSliceInfo> endpoint_slice_from_json(simdjson::dom::element obj, std::string& error);

const char* protocol_name(Protocol p);

}  // namespace svcdp::control
