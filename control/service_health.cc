#include "control/service_health.h"

#include "control/log.h"

#include <set>

namespace svcdp::control {

std::map<ClusterState::Key, int> local_ready_endpoints(const lb::ServiceTable& table,
                                                       const std::set<ClusterState::Key>& of) {
  std::map<ClusterState::Key, std::set<lb::be32>> ips;
  if (of.empty()) return {};
  for (const auto& svc : table.services()) {
    const ClusterState::Key key{svc->spec().ns, svc->spec().name};
    if (!of.count(key)) continue;
    for (const lb::Endpoint& e : svc->endpoints())
      if (e.local && e.ready) ips[key].insert(e.addr);
  }
  std::map<ClusterState::Key, int> out;
  for (const auto& [key, set] : ips) out[key] = static_cast<int>(set.size());
  return out;
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

void ServiceHealth::sync(const std::map<ClusterState::Key, ServiceInfo>& services, const lb::ServiceTable& table) {
  std::map<uint16_t, ClusterState::Key> wanted;
  for (const auto& [key, s] : services)
    if (s.health_check_node_port && !s.other_proxy) wanted.emplace(s.health_check_node_port, key);
  for (auto it = by_port_.begin(); it != by_port_.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || w->second != it->second->service)
      it = by_port_.erase(it);
    else
      ++it;
  }
  // Only the Services with a health check are counted: most generations
  // have none, and a walk over every endpoint would cost the control loop.
  std::set<ClusterState::Key> checked;
  for (const auto& [port, key] : wanted) checked.insert(key);
  const auto counts = local_ready_endpoints(table, checked);
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
    auto c = counts.find(key);
    server->local_endpoints.store(c == counts.end() ? 0 : c->second);
  }
}

}  // namespace svcdp::control
