#include "control/http_endpoint.h"

#include <httplib.h>

#include <stdexcept>

namespace svcdp::control {

HttpEndpoint::HttpEndpoint(const std::string& host, uint16_t port, const Introspection& introspection)
    : server_(std::make_unique<httplib::Server>()) {
  server_->Get("/metrics", [&introspection](const httplib::Request&, httplib::Response& res) {
    res.set_content(introspection.metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  server_->Get("/readyz", [&introspection](const httplib::Request&, httplib::Response& res) {
    const bool ready = introspection.ready();
    res.status = ready ? 200 : 503;
    res.set_content(ready ? "ready\n" : "waiting for the first table generation\n", "text/plain");
  });
  const bool bound = port ? server_->bind_to_port(host.c_str(), port) : server_->bind_to_any_port(host.c_str()) > 0;
  if (!bound) throw std::runtime_error("cannot listen for metrics on " + host + ":" + std::to_string(port));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

HttpEndpoint::~HttpEndpoint() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace svcdp::control
