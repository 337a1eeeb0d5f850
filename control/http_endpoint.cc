#include "control/http_endpoint.h"

#include <httplib.h>

#include <stdexcept>

namespace svcdp::control {

HttpEndpoint::HttpEndpoint(const std::string& address, std::vector<HttpRoute> routes)
    : server_(std::make_unique<httplib::Server>()) {
  for (HttpRoute& r : routes)
    server_->Get(r.path, [answer = std::move(r.answer)](const httplib::Request&, httplib::Response& res) {
      HttpAnswer a = answer();
      res.status = a.status;
      for (const auto& [name, value] : a.headers) res.set_header(name, value);
      res.set_content(a.body, a.content_type);
    });
  const auto colon = address.rfind(':');
  const std::string host = address.substr(0, colon);
  const auto port = static_cast<uint16_t>(std::stoul(address.substr(colon + 1)));
  const int bound = port ? (server_->bind_to_port(host.c_str(), port) ? port : 0) : server_->bind_to_any_port(host.c_str());
  if (bound <= 0) throw std::runtime_error("cannot listen on " + address);
  bound_ = host + ":" + std::to_string(bound);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

HttpEndpoint::~HttpEndpoint() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace svcdp::control
