// kube-proxy's service health checks (pkg/proxy/healthcheck/
// service_health.go): for every Service with a healthCheckNodePort (a
// LoadBalancer with externalTrafficPolicy Local), an HTTP server on that
// port of the node answering any path 200 while the node has a ready
// endpoint of the Service and the proxy is healthy, 503 otherwise, with
// kube-proxy's JSON body and X-Load-Balancing-Endpoint-Weight header, so
// that cloud and MetalLB-style balancers send only to nodes with
// endpoints. Requests come through the node's kernel (svcdp hands the
// node's own TCP traffic to it).
#pragma once

#include "control/cluster_state.h"
#include "control/http_endpoint.h"
#include "lb/service.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>

namespace svcdp::control {

// Local ready endpoints of a Service, given its ports, each address once
// whatever its ports (endpoints.go, LocalReadyEndpoints). Thread: any.
int local_ready_endpoints(std::span<const std::shared_ptr<const lb::Service>> ports);

// The answer for one Service. Thread: any.
HttpAnswer service_health_answer(const ClusterState::Key& service, int local_endpoints, bool proxy_healthy);

class ServiceHealth {
 public:
  // Servers listen on `bind_ip` (kube-proxy: the nodePortAddresses; svcdp:
  // 0.0.0.0 by default). `healthy` says whether svcdp is (kube-proxy's
  // healthz server state). Thread: control.
  ServiceHealth(std::string bind_ip, std::function<bool()> healthy)
      : bind_ip_(std::move(bind_ip)), healthy_(std::move(healthy)) {}

  // The built ports of a Service (TableBuilder::ports_of).
  using PortsOf = std::function<std::span<const std::shared_ptr<const lb::Service>>(const ClusterState::Key&)>;

  // Opens and closes servers to match the services' health check ports
  // (ClusterState::health_check_ports) and sets their endpoint counts from
  // their ports: O(services with a health check), not O(services). A port
  // that cannot be opened is logged once and tried again at the next sync.
  // Thread: control.
  void sync(const std::map<ClusterState::Key, uint16_t>& health_check_ports, const PortsOf& ports_of);

  size_t servers() const { return by_port_.size(); }

 private:
  struct Server {
    ClusterState::Key service;
    std::atomic<int> local_endpoints{0};
    std::unique_ptr<HttpEndpoint> http;
  };
  std::string bind_ip_;
  std::function<bool()> healthy_;
  std::map<uint16_t, std::unique_ptr<Server>> by_port_;
  std::map<uint16_t, std::string> failed_;  // port → the error logged for it
};

}  // namespace svcdp::control
