#include "control/endpoint_slice_cache.h"

#include <gtest/gtest.h>

namespace svcdp::control {
namespace {

Endpoint ep(uint32_t addr, bool ready = true, bool terminating = false) {
  Endpoint e;
  e.address = addr;
  e.node_name = "node-a";
  e.ready = ready;
  e.serving = ready || terminating;
  e.terminating = terminating;
  return e;
}

EndpointSliceInfo slice(const std::string& name, const std::string& service, std::vector<Endpoint> eps,
                        std::vector<EndpointPort> ports = {{"http", Protocol::TCP, 8080}}) {
  EndpointSliceInfo s;
  s.meta.ns = "shop";
  s.meta.name = name;
  s.service_name = service;
  s.endpoints = std::move(eps);
  s.ports = std::move(ports);
  return s;
}

std::vector<uint32_t> addrs(const std::vector<PortEndpoint>& v) {
  std::vector<uint32_t> out;
  for (const auto& e : v) out.push_back(e.address);
  return out;
}

TEST(EndpointSliceCache, ManySlicesMergeSorted) {
  EndpointSliceCache c;
  c.upsert(slice("web-b", "web", {ep(3), ep(1)}));
  c.upsert(slice("web-a", "web", {ep(2)}));
  auto e = c.endpoints("shop", "web", "http", Protocol::TCP);
  EXPECT_EQ(addrs(e), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(e[0].port, 8080);
  EXPECT_TRUE(c.endpoints("shop", "web", "http", Protocol::UDP).empty()) << "protocol must match";
  EXPECT_TRUE(c.endpoints("shop", "web", "grpc", Protocol::TCP).empty()) << "port name must match";
  EXPECT_TRUE(c.endpoints("other", "web", "http", Protocol::TCP).empty());
}

// pkg/proxy/endpointslicecache.go addEndpoints: a copy that is not
// terminating replaces one that is (a new pod on a terminating pod's
// address); then the ready copy; then the slice sorting first.
TEST(EndpointSliceCache, EndpointInTwoSlicesCountsOnceTheLiveCopyWins) {
  for (bool ready_first : {false, true}) {
    EndpointSliceCache c;
    c.upsert(slice(ready_first ? "web-a" : "web-b", "web", {ep(1, /*ready=*/true)}));
    c.upsert(slice(ready_first ? "web-b" : "web-a", "web", {ep(1, /*ready=*/false, /*terminating=*/true)}));
    auto e = c.endpoints("shop", "web", "http", Protocol::TCP);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_FALSE(e[0].terminating) << "whichever slice sorts first";
    EXPECT_TRUE(e[0].ready);
  }
  EndpointSliceCache c;
  c.upsert(slice("web-a", "web", {ep(1, /*ready=*/false)}));
  c.upsert(slice("web-b", "web", {ep(1, /*ready=*/true)}));
  EXPECT_TRUE(c.endpoints("shop", "web", "http", Protocol::TCP).at(0).ready) << "the ready copy wins";
}

// pkg/proxy/endpointslicecache.go: a slice port whose name, port or
// protocol is nil is skipped, not read as the unnamed ("") service port.
TEST(EndpointSliceCache, ASlicePortWithoutANameIsNotTheUnnamedServicePort) {
  EndpointSliceCache c;
  EndpointSliceInfo s = slice("web-a", "web", {ep(1)});
  s.ports = {{"", Protocol::TCP, 8080, /*complete=*/false}};
  c.upsert(s);
  EXPECT_TRUE(c.endpoints("shop", "web", "", Protocol::TCP).empty());
  s.ports[0].complete = true;  // name: "" given
  c.upsert(s);
  EXPECT_EQ(c.endpoints("shop", "web", "", Protocol::TCP).size(), 1u);
}

TEST(EndpointSliceCache, EndpointMovesBetweenSlices) {
  EndpointSliceCache c;
  c.upsert(slice("web-a", "web", {ep(1), ep(2)}));
  c.upsert(slice("web-b", "web", {}));
  // The controller moves endpoint 2: it appears in web-b before it leaves web-a.
  c.upsert(slice("web-b", "web", {ep(2)}));
  EXPECT_EQ(addrs(c.endpoints("shop", "web", "http", Protocol::TCP)), (std::vector<uint32_t>{1, 2}));
  c.upsert(slice("web-a", "web", {ep(1)}));
  EXPECT_EQ(addrs(c.endpoints("shop", "web", "http", Protocol::TCP)), (std::vector<uint32_t>{1, 2}));
  c.remove("shop", "web-b");
  EXPECT_EQ(addrs(c.endpoints("shop", "web", "http", Protocol::TCP)), (std::vector<uint32_t>{1}));
}

TEST(EndpointSliceCache, SliceThatChangesServiceLeavesTheOld) {
  EndpointSliceCache c;
  c.upsert(slice("s-1", "old", {ep(1)}));
  c.upsert(slice("s-1", "new", {ep(1)}));
  EXPECT_TRUE(c.endpoints("shop", "old", "http", Protocol::TCP).empty());
  EXPECT_EQ(c.endpoints("shop", "new", "http", Protocol::TCP).size(), 1u);
  EXPECT_EQ(c.slice_count(), 1u);
  c.remove("shop", "nope");
  c.remove("shop", "s-1");
  EXPECT_EQ(c.slice_count(), 0u);
}

TEST(EndpointSliceCache, NamedTargetPortsResolvePerSlice) {
  // Pods of two versions expose "http" on different container ports.
  EndpointSliceCache c;
  c.upsert(slice("web-v1", "web", {ep(1)}, {{"http", Protocol::TCP, 8080}}));
  c.upsert(slice("web-v2", "web", {ep(2)}, {{"http", Protocol::TCP, 9090}}));
  auto e = c.endpoints("shop", "web", "http", Protocol::TCP);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].port, 8080);
  EXPECT_EQ(e[1].port, 9090);
}

}  // namespace
}  // namespace svcdp::control
