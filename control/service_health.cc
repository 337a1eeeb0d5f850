#include "control/service_health.h"

#include "control/log.h"

#include <set>

namespace svcdp::control {

int local_ready_endpoints(std::span<const std::shared_ptr<const lb::Service>> ports) {
  std::set<lb::be32> ips;
  for (const auto& svc : ports)
    for (const lb::Endpoint& e : svc->endpoints())
      if (e.local && e.ready) ips.insert(e.addr);
  return static_cast<int>(ips.size());
}

HttpAnswer service_health_answer(const ClusterState::Key& service, int local_endpoints, bool proxy_healthy) {
  HttpAnswer a;
  a.status = local_endpoints != 0 && proxy_healthy ? 200 : 503;
  a.content_type = "application/json";
  a.headers = {{"X-Content-Type-Options", "nosniff"},
               {"X-Load-Balancing-Endpoint-Weight", std::to_string(local_endpoints)}};
  // The body as kube-proxy prints it (a dedented Go template, tabs).
  a.body = "{\n\t\"service\": {\n\t\t\"namespace\": \"" + service.first + "\",\n\t\t\"name\": \"" + service.second +
           "\"\n\t},\n\t\"localEndpoints\": " + std::to_string(local_endpoints) +
           ",\n\t\"serviceProxyHealthy\": " + (proxy_healthy ? "true" : "false") + "\n}";
  return a;
}

void ServiceHealth::sync(const std::map<ClusterState::Key, uint16_t>& health_check_ports, const PortsOf& ports_of) {
  std::map<uint16_t, ClusterState::Key> wanted;
  for (const auto& [key, port] : health_check_ports) wanted.emplace(port, key);
  for (auto it = by_port_.begin(); it != by_port_.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || w->second != it->second->service)
      it = by_port_.erase(it);
    else
      ++it;
  }
  for (const auto& [port, key] : wanted) {
    auto& server = by_port_[port];
    if (!server) {
      server = std::make_unique<Server>();
      server->service = key;
      Server* raw = server.get();
      const std::string address = bind_ip_ + ":" + std::to_string(port);
      try {
        server->http = std::make_unique<HttpEndpoint>(
            address, std::vector<HttpRoute>{{".*", [this, raw] {
                                               return service_health_answer(raw->service, raw->local_endpoints.load(),
                                                                            healthy_());
                                             }}});
        failed_.erase(port);
      } catch (const std::exception& e) {
        if (failed_[port] != e.what())
          log::error("cannot serve a service health check",
                     {{"service", key.first + "/" + key.second}, {"address", address}, {"error", e.what()}});
        failed_[port] = e.what();
        by_port_.erase(port);
        continue;
      }
    }
    server->local_endpoints.store(local_ready_endpoints(ports_of(key)));
  }
}

}  // namespace svcdp::control
