#include "control/service_health.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <rte_byteorder.h>

namespace svcdp::control {
namespace {

lb::Endpoint ep(uint32_t ip, uint16_t port, bool local, bool ready) {
  lb::Endpoint e;
  e.addr = rte_cpu_to_be_32(ip);
  e.port = rte_cpu_to_be_16(port);
  e.local = local;
  e.ready = ready;
  return e;
}

lb::ServiceSpec spec(uint32_t id, const std::string& port, std::vector<lb::Endpoint> eps) {
  lb::ServiceSpec s;
  s.id = id;
  s.ns = "shop";
  s.name = "edge";
  s.port_name = port;
  s.endpoints = std::move(eps);
  return s;
}

// endpoints.go LocalReadyEndpoints: local and ready, an address once
// whatever its ports; terminating ones do not count.
TEST(ServiceHealth, LocalReadyEndpointsCountAddressesOnce) {
  const std::vector<std::shared_ptr<const lb::Service>> ports{
      std::make_shared<const lb::Service>(spec(1, "http", {ep(0x0af40105, 80, true, true), ep(0x0af40106, 80, true, false),
                                                           ep(0x0af40205, 80, false, true)}),
                                          251, nullptr),
      std::make_shared<const lb::Service>(spec(2, "https", {ep(0x0af40105, 443, true, true)}), 251, nullptr)};
  EXPECT_EQ(local_ready_endpoints(ports), 1);
  EXPECT_EQ(local_ready_endpoints({}), 0);
}

// service_health.go ServeHTTP: status, headers and body.
TEST(ServiceHealth, AnswerAsKubeProxyWritesIt) {
  HttpAnswer a = service_health_answer({"shop", "edge"}, 2, true);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.content_type, "application/json");
  EXPECT_EQ(a.body,
            "{\n\t\"service\": {\n\t\t\"namespace\": \"shop\",\n\t\t\"name\": \"edge\"\n\t},\n\t\"localEndpoints\": 2,\n"
            "\t\"serviceProxyHealthy\": true\n}");
  EXPECT_EQ(a.headers.at(1), (std::pair<std::string, std::string>{"X-Load-Balancing-Endpoint-Weight", "2"}));
  EXPECT_EQ(service_health_answer({"shop", "edge"}, 0, true).status, 503) << "no local endpoint";
  EXPECT_EQ(service_health_answer({"shop", "edge"}, 2, false).status, 503) << "proxy unhealthy";
}

TEST(ServiceHealth, ServesEachHealthCheckNodePort) {
  bool healthy = true;
  ServiceHealth health("127.0.0.1", [&] { return healthy; });
  std::map<ClusterState::Key, uint16_t> services{{{"shop", "edge"}, 39871}};
  std::vector<std::shared_ptr<const lb::Service>> ports{
      std::make_shared<const lb::Service>(spec(1, "http", {ep(0x0af40105, 80, true, true)}), 251, nullptr)};
  const auto ports_of = [&](const ClusterState::Key& k) {
    return k == ClusterState::Key{"shop", "edge"} ? std::span<const std::shared_ptr<const lb::Service>>(ports)
                                                  : std::span<const std::shared_ptr<const lb::Service>>{};
  };
  health.sync(services, ports_of);
  ASSERT_EQ(health.servers(), 1u);
  httplib::Client client("127.0.0.1", 39871);
  auto r = client.Get("/any/path");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("X-Load-Balancing-Endpoint-Weight"), "1");
  ports = {std::make_shared<const lb::Service>(spec(1, "http", {ep(0x0af40205, 80, false, true)}), 251, nullptr)};
  health.sync(services, ports_of);
  r = client.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("\"localEndpoints\": 0"), std::string::npos);
  services.clear();
  health.sync(services, ports_of);
  EXPECT_EQ(health.servers(), 0u);
  EXPECT_FALSE(client.Get("/")) << "closed with the service";
}

}  // namespace
}  // namespace svcdp::control
