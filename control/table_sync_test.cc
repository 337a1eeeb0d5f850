#include "control/table_sync.h"

#include "control/testing/table_text.h"

#include <gtest/gtest.h>

#include <memory_resource>

#include <random>

namespace svcdp::control {
namespace {

constexpr uint64_t kMs = 1'000'000;

TEST(BoundedRunner, FirstChangeRunsAtOnceABurstWaitsForTheInterval) {
  BoundedRunner r(2 * kMs);
  EXPECT_FALSE(r.due(0)) << "nothing requested";
  r.request();
  EXPECT_TRUE(r.due(10 * kMs)) << "leading edge: no wait";
  for (int i = 0; i < 100; ++i) r.request();  // a burst right after
  EXPECT_FALSE(r.due(10 * kMs + kMs));
  EXPECT_TRUE(r.due(12 * kMs)) << "the whole burst, once, min_interval after the last run";
  EXPECT_FALSE(r.due(20 * kMs)) << "consumed";
}

NodeInfo node(const std::string& name, uint32_t ip, const char* cidr) {
  return {name, ip, {*conf::parse_ipv4_prefix(cidr)}, std::nullopt, ""};
}

ServiceInfo service(const std::string& name, uint32_t vip) {
  ServiceInfo s;
  s.meta = {"default", name, "", "", ""};
  s.type = "ClusterIP";
  s.cluster_ips = {vip};
  s.ports = {{"http", Protocol::TCP, 80, 0, 8080, ""}};
  return s;
}

KubeEvent replace(ResourceKind kind, std::vector<KubeObject> objects) {
  return {kind, KubeEvent::Type::kReplace, std::move(objects), 1};
}

TEST(ClusterState, SyncedOnlyOnceEveryKindWasListed) {
  ClusterState s;
  EXPECT_TRUE(s.apply(replace(ResourceKind::kNode, {node("node-a", 0xc0a8380b, "10.244.1.0/24")})));
  EXPECT_TRUE(s.apply(replace(ResourceKind::kService, {})));
  EXPECT_FALSE(s.synced());
  EXPECT_TRUE(s.apply(replace(ResourceKind::kSlice, {})));
  EXPECT_TRUE(s.synced());
}

TEST(ClusterState, ARelistRemovesWhatIsGoneAndKeepsTheRest) {
  ClusterState s;
  s.apply(replace(ResourceKind::kService, {service("a", 1), service("b", 2)}));
  s.apply({ResourceKind::kService, KubeEvent::Type::kUpsert, {service("c", 3)}, 1});
  s.apply(replace(ResourceKind::kService, {service("b", 2), service("d", 4)}));
  std::vector<std::string> names;
  for (const auto& sv : s.services()) names.push_back(sv.meta.name);
  EXPECT_EQ(names, (std::vector<std::string>{"b", "d"}));
  s.apply({ResourceKind::kService, KubeEvent::Type::kDelete, {service("b", 2)}, 1});
  EXPECT_EQ(s.services().size(), 1u);
}

TEST(ClusterState, ASliceSeenAgainAtTheSameVersionChangesNothing) {
  ClusterState s;
  EndpointSliceInfo slice;
  slice.meta = {"default", "a-1", "", "42", ""};
  slice.service_name = "a";
  EXPECT_TRUE(s.apply({ResourceKind::kSlice, KubeEvent::Type::kUpsert, {slice}, 1}));
  EXPECT_FALSE(s.apply({ResourceKind::kSlice, KubeEvent::Type::kUpsert, {slice}, 1}));
}

// An object the API server sends again at the version svcdp has is the
// same object: nothing is compared or rebuilt. A new version that says the
// same (a relist, a Node heartbeat) changes nothing either; a cluster file
// edited without bumping its versions is applied (replace_events drops
// them: the file is not the API server).
TEST(ClusterState, TheVersionSaysUnchangedAndContentSaysTheRest) {
  ClusterState s;
  EndpointSliceInfo slice;
  slice.meta = {"default", "a-1", "", "42", ""};
  slice.service_name = "a";
  s.apply({ResourceKind::kSlice, KubeEvent::Type::kUpsert, {slice}, 1});
  s.take_dirty();
  EndpointSliceInfo same_version = slice;
  same_version.endpoints.push_back({});  // the API server never does this
  EXPECT_FALSE(s.apply({ResourceKind::kSlice, KubeEvent::Type::kUpsert, {same_version}, 1}))
      << "version 42 again: not read";
  slice.meta.resource_version = "43";
  EXPECT_FALSE(s.apply({ResourceKind::kSlice, KubeEvent::Type::kUpsert, {slice}, 1})) << "new version, same content";
  slice.endpoints.push_back({});
  slice.meta.resource_version = "44";
  EXPECT_TRUE(s.apply({ResourceKind::kSlice, KubeEvent::Type::kUpsert, {slice}, 1}));

  ClusterObjects file;
  file.services.push_back(service("f", 9));
  file.services.back().meta.resource_version = "5";
  for (const KubeEvent& e : replace_events(file, 1)) s.apply(e);
  s.take_dirty();
  file.services.back().ports[0].port = 81;  // edited, version kept
  bool changed = false;
  for (const KubeEvent& e : replace_events(file, 1)) changed |= s.apply(e);
  EXPECT_TRUE(changed) << "a cluster file edited without bumping resourceVersion";
  EXPECT_EQ(s.service({"default", "f"})->ports[0].port, 81);

  s.apply(replace(ResourceKind::kNode, {node("node-a", 0xc0a8380b, "10.244.1.0/24")}));
  s.take_dirty();
  EXPECT_FALSE(s.apply({ResourceKind::kNode, KubeEvent::Type::kUpsert, {node("node-a", 0xc0a8380b, "10.244.1.0/24")}, 1}))
      << "a heartbeat";
  EXPECT_FALSE(s.take_dirty().all);
  ServiceInfo svc = service("a", 1);
  s.apply({ResourceKind::kService, KubeEvent::Type::kUpsert, {svc}, 1});
  s.take_dirty();
  svc.meta.resource_version = "7";
  EXPECT_FALSE(s.apply({ResourceKind::kService, KubeEvent::Type::kUpsert, {svc}, 1}));
  EXPECT_TRUE(s.take_dirty().services.empty());
}

// The Services whose healthCheckNodePort svcdp serves, kept per change
// (ServiceHealth reads them after every generation: no walk over all).
TEST(ClusterState, HealthCheckPortsFollowTheServices) {
  ClusterState s;
  ServiceInfo lb = service("edge", 1);
  lb.health_check_node_port = 31000;
  ServiceInfo other = service("other", 2);
  other.health_check_node_port = 31001;
  other.other_proxy = true;
  s.apply(replace(ResourceKind::kService, {lb, other, service("plain", 3)}));
  EXPECT_EQ(s.health_check_ports(), (std::map<ClusterState::Key, uint16_t>{{{"default", "edge"}, 31000}}));
  lb.health_check_node_port = 0;
  lb.meta.resource_version = "2";
  s.apply({ResourceKind::kService, KubeEvent::Type::kUpsert, {lb}, 1});
  EXPECT_TRUE(s.health_check_ports().empty());
  lb.health_check_node_port = 31002;
  lb.meta.resource_version = "3";
  s.apply({ResourceKind::kService, KubeEvent::Type::kUpsert, {lb}, 1});
  EXPECT_EQ(s.health_check_ports().size(), 1u);
  s.apply({ResourceKind::kService, KubeEvent::Type::kDelete, {lb}, 1});
  EXPECT_TRUE(s.health_check_ports().empty());
}

// kube-proxy's informers select neither service.kubernetes.io/service-proxy-name
// nor service.kubernetes.io/headless; a slice that gains one leaves the
// Service's endpoints (and stays for DNS, which reads every slice).
TEST(ClusterState, ASliceForAnotherProxyOrHeadlessIsLeftOut) {
  ClusterState s;
  EndpointSliceInfo slice;
  slice.meta = {"default", "a-1", "", "1", ""};
  slice.service_name = "a";
  slice.endpoints.push_back({});
  slice.ports = {{"http", Protocol::TCP, 8080}};
  s.apply({ResourceKind::kSlice, KubeEvent::Type::kUpsert, {slice}, 1});
  EXPECT_EQ(s.slice_count(), 1u);
  EXPECT_EQ(s.slices().endpoints("default", "a", "http", Protocol::TCP).size(), 1u);
  slice.other_proxy = true;
  slice.meta.resource_version = "2";
  s.apply({ResourceKind::kSlice, KubeEvent::Type::kUpsert, {slice}, 1});
  ASSERT_NE(s.slices().slices_of("default", "a"), nullptr);
  EXPECT_TRUE(s.slices().endpoints("default", "a", "http", Protocol::TCP).empty());
}

TEST(TableSync, BuildsWhenSyncedAndMeasuresTheLatency) {
  TableBuilder builder(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251);
  TableSync sync(builder, kMs);
  sync.apply(replace(ResourceKind::kNode, {node("node-a", 0xc0a8380b, "10.244.1.0/24")}));
  sync.apply(replace(ResourceKind::kService, {service("a", 0x0a60000a)}));
  EXPECT_EQ(sync.build_if_due(10 * kMs), nullptr) << "slices not listed yet";
  sync.apply(replace(ResourceKind::kSlice, {}));
  auto fib = sync.build_if_due(10 * kMs);
  ASSERT_NE(fib, nullptr);
  EXPECT_EQ(fib->generation, 1u);
  EXPECT_EQ(fib->services->size(), 1u);
  sync.published(10 * kMs);
  EXPECT_EQ(sync.sync_latency().count(), 1u);
  EXPECT_EQ(sync.build_if_due(20 * kMs), nullptr) << "no change, no generation";
}

TEST(TableSync, ABrokenStateKeepsTheLastGoodTables) {
  TableBuilder builder(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251);
  TableSync sync(builder, 0);
  sync.apply(replace(ResourceKind::kNode, {node("node-a", 0xc0a8380b, "10.244.1.0/24")}));
  sync.apply(replace(ResourceKind::kService, {}));
  sync.apply(replace(ResourceKind::kSlice, {}));
  ASSERT_NE(sync.build_if_due(1), nullptr);
  sync.apply(replace(ResourceKind::kNode, {}));  // this node vanished
  EXPECT_EQ(sync.build_if_due(2), nullptr);
  EXPECT_EQ(sync.generation(), 1u);
}

TEST(TableBuilder, TwoServicesOnOneClusterIpAreReportedByName) {
  TableBuilder builder(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251);
  ClusterState state;
  state.apply(replace(ResourceKind::kNode, {node("node-a", 0xc0a8380b, "10.244.1.0/24")}));
  ServiceInfo older = service("zeta", 0x0a60000a), newer = service("alpha", 0x0a60000a);
  older.meta.creation_timestamp = "2026-01-01T00:00:00Z";
  newer.meta.creation_timestamp = "2026-06-01T00:00:00Z";
  state.apply(replace(ResourceKind::kService, {older, newer}));
  state.apply(replace(ResourceKind::kSlice, {}));
  std::vector<std::string> warnings;
  auto fib = builder.build(state, state.take_dirty(), 1, warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "service default/alpha:http: front end 10.96.0.10:80/TCP is service default/zeta:http's, created first");
  EXPECT_EQ(fib->services->lookup(rte_cpu_to_be_32(0x0a60000a), rte_cpu_to_be_16(80), lb::kTcp)->service->spec().name,
            "zeta");
}

EndpointSliceInfo slice(const std::string& svc, uint32_t version, std::vector<Endpoint> eps);

// No fixed cap: a Service of 70,000 endpoints is programmed. One that
// truly cannot be built (here: its tables do not fit the memory given)
// keeps its last tables, named in one warning; the others are built.
TEST(TableBuilder, AHugeServiceIsBuiltAndOneThatCannotBeKeepsItsLastTables) {
  ClusterState state;
  state.apply(replace(ResourceKind::kNode, {node("node-a", 0xc0a8380b, "10.244.1.0/24")}));
  state.apply(replace(ResourceKind::kService, {service("big", 0x0a60000b), service("small", 0x0a60000c)}));
  std::vector<Endpoint> many;
  for (uint32_t i = 0; i < 70000; ++i) many.push_back({0x0a000000u + i, "node-b", "", true, true, false, {}, {}});
  state.apply(replace(ResourceKind::kSlice, {slice("big", 1, many), slice("small", 1, {many[0]})}));
  {
    TableBuilder heap(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251);
    std::vector<std::string> warnings;
    auto fib = heap.build(state, state.take_dirty(), 1, warnings);
    EXPECT_TRUE(warnings.empty());
    EXPECT_EQ(fib->services->size(), 2u);
    EXPECT_EQ(heap.failed_services(), 0u);
  }
  // 1 MiB: the endpoint filter (272 KiB) and big's endpoint lists (560 KiB) fit, its 512 KiB of Maglev slots do not.
  std::vector<std::byte> arena(1 << 20);
  std::pmr::monotonic_buffer_resource small_memory(arena.data(), arena.size(), std::pmr::null_memory_resource());
  TableBuilder tight(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251, &small_memory);
  std::vector<std::string> warnings;
  state.apply(replace(ResourceKind::kService, {service("big", 0x0a60000b), service("small", 0x0a60000c)}));
  auto fib = tight.build(state, {true, {}}, 1, warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("service default/big:http: cannot be built"), std::string::npos) << warnings[0];
  EXPECT_EQ(tight.failed_services(), 1u);
  ASSERT_EQ(fib->services->size(), 1u) << "big had no earlier tables to keep";
  EXPECT_EQ(fib->services->services()[0]->spec().name, "small");
}

// A generation in which no Node changed takes the Nodes' tables of the
// last one (a 5,000-node cluster's heartbeats change none of them), with
// what was said about them.
TEST(TableBuilder, GenerationsWithoutANodeChangeKeepTheNodeTables) {
  ClusterState state;
  state.apply(replace(ResourceKind::kNode, {node("node-a", 0xc0a8380b, "10.244.1.0/24"),
                                            node("node-b", 0xc0a8380c, "10.244.2.0/24"),
                                            node("bad", 0xc0a8380d, "10.244.0.0/16")}));
  state.apply(replace(ResourceKind::kService, {service("a", 0x0a60000a)}));
  state.apply(replace(ResourceKind::kSlice, {slice("a", 1, {{0x0af40205, "node-b", "", true, true, false, {}, {}}})}));
  TableBuilder builder(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251);
  std::vector<std::string> warnings;
  auto first = builder.build(state, state.take_dirty(), 1, warnings);
  ASSERT_EQ(warnings.size(), 1u);
  state.apply({ResourceKind::kSlice, KubeEvent::Type::kUpsert,
               {slice("a", 2, {{0x0af40206, "node-b", "", true, true, false, {}, {}}})}, 1});
  const ClusterState::Dirty dirty = state.take_dirty();
  ASSERT_FALSE(dirty.all);
  warnings.clear();
  auto second = builder.build(state, dirty, 2, warnings);
  EXPECT_EQ(second->generation, 2u);
  EXPECT_EQ(warnings, (std::vector<std::string>{"node bad: pod CIDR 10.244.0.0/16 overlaps 10.244.1.0/24; node skipped"}));
  ASSERT_EQ(second->nodes.size(), 1u);
  EXPECT_EQ(second->nodes[0].name, "node-b");
  EXPECT_TRUE(second->remote_pods.lookup(0x0af40206).has_value());
}

// The number of service ports has no setting: 5,000 (more than the 4,096
// the old --max-services default left in) are all built, none warned of.
TEST(TableBuilder, ServicePortsAreNotCapped) {
  ClusterState state;
  state.apply(replace(ResourceKind::kNode, {node("node-a", 0xc0a8380b, "10.244.1.0/24")}));
  std::vector<KubeObject> services, slices;
  for (uint32_t i = 0; i < 5000; ++i) {
    const std::string name = std::to_string(i);  // ("s" + to_string trips GCC 12's -Wrestrict)
    services.push_back(service(name, 0x0a600000u + i));
    slices.push_back(slice(name, 1, {{0x0af40100u + i % 200, "node-a", "", true, true, false, {}, {}}}));
  }
  state.apply(replace(ResourceKind::kService, std::move(services)));
  state.apply(replace(ResourceKind::kSlice, std::move(slices)));
  TableBuilder builder(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251);
  std::vector<std::string> warnings;
  auto fib = builder.build(state, state.take_dirty(), 1, warnings);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  EXPECT_EQ(fib->services->size(), 5000u);
  EXPECT_EQ(fib->services->id_bound(), 5000u);
}

// kube-proxy's network programming latency (pkg/proxy/endpointschangetracker.go
// and the proxiers' syncProxyRules): each slice change's trigger time to
// the sync that programmed it, one observation per change; changes from
// before the start (a relist replaying them) are not measured; a slice's
// removal drops its service's pending trigger times.
TEST(TableSync, NetworkProgrammingLatencyStartsAtTheSlicesTriggerTime) {
  constexpr int64_t kS = 1'000'000'000;
  TableBuilder builder(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251);
  TableSync sync(builder, kMs, /*start_unix_ns=*/1000 * kS);
  auto slice_at = [&](const std::string& svc, uint32_t version, int64_t trigger) {
    // Each version a different endpoint: a real change.
    EndpointSliceInfo s = slice(svc, version, {{0x0af40100 + version, "node-a", "", true, true, false, {}, {}}});
    s.trigger_unix_ns = trigger;
    return s;
  };
  sync.apply(replace(ResourceKind::kNode, {node("node-a", 0xc0a8380b, "10.244.1.0/24")}));
  sync.apply(replace(ResourceKind::kService, {service("a", 0x0a60000a), service("b", 0x0a60000b)}));
  sync.apply(replace(ResourceKind::kSlice, {slice_at("a", 1, 900 * kS)}));  // from before the start
  ASSERT_NE(sync.build_if_due(10 * kMs), nullptr);
  sync.published(10 * kMs, 1001 * kS);
  EXPECT_EQ(sync.programming_latency().count(), 0u);

  sync.apply({ResourceKind::kSlice, KubeEvent::Type::kUpsert, {slice_at("a", 2, 2000 * kS)}, 1});
  sync.apply({ResourceKind::kSlice, KubeEvent::Type::kUpsert, {slice_at("b", 1, 2000 * kS + kS / 2)}, 1});
  ASSERT_NE(sync.build_if_due(20 * kMs), nullptr);
  sync.published(20 * kMs, 2001 * kS);
  EXPECT_EQ(sync.programming_latency().count(), 2u);
  EXPECT_DOUBLE_EQ(sync.programming_latency().sum(), 1.5);

  sync.apply({ResourceKind::kSlice, KubeEvent::Type::kUpsert, {slice_at("b", 2, 3000 * kS)}, 1});
  sync.apply({ResourceKind::kSlice, KubeEvent::Type::kDelete, {slice_at("b", 2, 3000 * kS)}, 1});
  ASSERT_NE(sync.build_if_due(30 * kMs), nullptr);
  sync.published(30 * kMs, 3001 * kS);
  EXPECT_EQ(sync.programming_latency().count(), 2u) << "removed before it was programmed";
}

// A service port that cannot be built is a change that was never
// programmed: it stays pending (so kube-proxy's /healthz turns 503 after
// its timeout, as it does when kube-proxy's syncs keep failing) until a
// build succeeds for it.
TEST(TableSync, AServicePortThatCannotBeBuiltStaysPending) {
  std::vector<std::byte> arena(1 << 20);
  std::pmr::monotonic_buffer_resource small_memory(arena.data(), arena.size(), std::pmr::null_memory_resource());
  TableBuilder tight(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251, &small_memory);
  TableSync sync(tight, kMs);
  std::vector<Endpoint> many;
  for (uint32_t i = 0; i < 70000; ++i) many.push_back({0x0a000000u + i, "node-b", "", true, true, false, {}, {}});
  auto at = [](KubeEvent e, uint64_t ns) {
    e.received_ns = ns;
    return e;
  };
  sync.apply(at(replace(ResourceKind::kNode, {node("node-a", 0xc0a8380b, "10.244.1.0/24")}), 5 * kMs));
  sync.apply(at(replace(ResourceKind::kService, {service("big", 0x0a60000b)}), 5 * kMs));
  sync.apply(at(replace(ResourceKind::kSlice, {slice("big", 1, many)}), 7 * kMs));
  ASSERT_NE(sync.build_if_due(10 * kMs), nullptr);
  sync.published(11 * kMs);
  EXPECT_EQ(sync.unbuilt_services(), 1u);
  EXPECT_EQ(sync.pending_since_ns(), 5 * kMs) << "the change that made big is not programmed";
  sync.apply(at({ResourceKind::kSlice, KubeEvent::Type::kUpsert, {slice("big", 2, {many[0]})}, 1}, 50 * kMs));
  ASSERT_NE(sync.build_if_due(60 * kMs), nullptr);
  sync.published(61 * kMs);
  EXPECT_EQ(sync.unbuilt_services(), 0u);
  EXPECT_EQ(sync.pending_since_ns(), 0u);
}

EndpointSliceInfo slice(const std::string& svc, uint32_t version, std::vector<Endpoint> eps) {
  EndpointSliceInfo s;
  s.meta = {"default", svc + "-1", "", std::to_string(version), ""};
  s.service_name = svc;
  s.endpoints = std::move(eps);
  s.ports = {{"http", Protocol::TCP, 8080}};
  return s;
}

// The IPv6 proxier's table is published beside the IPv4 one, built only
// once a Service has an IPv6 ClusterIP; an IPv6 endpoint on another node
// is reached at that node's VTEP, and follows it when the Node changes.
TEST(TableBuilder, Ipv6ServicesArePublishedAndFollowTheirNodesVtep) {
  TableBuilder builder(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251);
  ClusterState state;
  state.apply(replace(ResourceKind::kNode, {node("node-a", 0xc0a8380b, "10.244.1.0/24"),
                                            node("node-b", 0xc0a8380c, "10.244.2.0/24")}));
  state.apply(replace(ResourceKind::kService, {service("four", 0x0a60000a)}));
  state.apply(replace(ResourceKind::kSlice, {}));
  std::vector<std::string> warnings;
  auto fib = builder.build(state, state.take_dirty(), 1, warnings);
  EXPECT_EQ(fib->services6, dp::no_services<lb::Ip6>()) << "no IPv6 Service, no IPv6 tables";

  ServiceInfo six = service("six", 0);
  six.cluster_ips = {};
  const conf::Ipv6Addr vip = *conf::parse_ipv6("fd00:10:96::6"), pod = *conf::parse_ipv6("fd00:10:244:2::6");
  six.cluster_ips_v6 = {vip};
  EndpointSliceInfo sl = slice("six", 1, {});
  sl.family = conf::IpFamily::kIPv6;
  Endpoint e;
  e.node_name = "node-b";
  e.address_v6 = pod;
  sl.endpoints_v6 = {e};
  state.apply(replace(ResourceKind::kService, {service("four", 0x0a60000a), six}));
  state.apply(replace(ResourceKind::kSlice, {sl}));
  fib = builder.build(state, state.take_dirty(), 2, warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(fib->services->size(), 1u);
  ASSERT_EQ(fib->services6->size(), 1u);
  auto m = fib->services6->lookup(lb::Addr6{vip}, rte_cpu_to_be_16(80), lb::kTcp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->service->pick(false, 1)->vtep, rte_cpu_to_be_32(0xc0a8380c));
  EXPECT_TRUE(fib->services6->maybe_endpoint(lb::Addr6{pod}, rte_cpu_to_be_16(8080), lb::kTcp));

  // node-b moves to another address: only that is dirty, and the IPv6
  // service with an endpoint there is rebuilt.
  state.apply(replace(ResourceKind::kNode, {node("node-a", 0xc0a8380b, "10.244.1.0/24"),
                                            node("node-b", 0xc0a8380d, "10.244.2.0/24")}));
  fib = builder.build(state, state.take_dirty(), 3, warnings);
  m = fib->services6->lookup(lb::Addr6{vip}, rte_cpu_to_be_16(80), lb::kTcp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->service->pick(false, 1)->vtep, rte_cpu_to_be_32(0xc0a8380d));
}

// The incremental path (only changed services rebuilt, the rest shared;
// after another node's change, only the services with endpoints in its
// pod CIDRs) must give exactly the tables a full build from scratch gives.
TEST(TableSync, IncrementalBuildsEqualFullBuilds) {
  TableBuilder builder(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251);
  TableSync sync(builder, 0);
  ClusterState mirror;  // the same events, built from scratch each time
  auto apply = [&](const KubeEvent& e) {
    sync.apply(e);
    mirror.apply(e);
  };
  apply(replace(ResourceKind::kNode, {node("node-a", 0xc0a8380b, "10.244.1.0/24"),
                                      node("node-b", 0xc0a8380c, "10.244.2.0/24")}));
  std::vector<KubeObject> svcs;
  for (uint32_t i = 0; i < 8; ++i) svcs.push_back(service("s" + std::to_string(i), 0x0a600000 + i));
  apply(replace(ResourceKind::kService, svcs));
  apply(replace(ResourceKind::kSlice, {}));
  ASSERT_NE(sync.build_if_due(1), nullptr);
  std::minstd_rand rng(3);  // 32-bit results
  for (uint32_t step = 0; step < 300; ++step) {
    const std::string name = "s" + std::to_string(rng() % 10);  // s8, s9 do not exist at first
    switch (rng() % 6) {
      case 0: {
        std::vector<Endpoint> eps;
        for (uint32_t e = 0, n = rng() % 4; e < n; ++e)
          eps.push_back({static_cast<uint32_t>(0x0af40100u + (rng() % 2) * 0x100 + rng() % 8), rng() % 2 ? "node-a" : "node-b", "",
                         rng() % 3 != 0, true, rng() % 4 == 0, {}, {}});
        apply({ResourceKind::kSlice, KubeEvent::Type::kUpsert, {slice(name, step + 2, eps)}, 1});
        break;
      }
      case 1:
        apply({ResourceKind::kSlice, KubeEvent::Type::kDelete, {slice(name, 0, {})}, 1});
        break;
      case 2:
        apply({ResourceKind::kService, KubeEvent::Type::kUpsert, {service(name, 0x0a600100 + rng() % 4)}, 1});
        break;
      case 3:
        apply({ResourceKind::kService, KubeEvent::Type::kDelete, {service(name, 0)}, 1});
        break;
      case 4: {
        // node-b or node-c takes 10.244.2.0/24 or half of it (the other
        // then clashes and is skipped), under one of two addresses.
        const char* cidrs[] = {"10.244.2.0/24", "10.244.2.0/25", "10.244.3.0/24"};
        apply({ResourceKind::kNode, KubeEvent::Type::kUpsert,
               {node(rng() % 2 ? "node-b" : "node-c", 0xc0a83820 + rng() % 2, cidrs[rng() % 3])}, 1});
        break;
      }
      case 5:
        apply({ResourceKind::kNode, KubeEvent::Type::kDelete, {node(rng() % 2 ? "node-b" : "node-c", 0, "10.244.9.0/24")}, 1});
        break;
    }
    auto fib = sync.build_if_due(step + 2);
    if (!fib) continue;
    TableBuilder fresh(FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 251);
    std::vector<std::string> warnings;
    auto full = fresh.build(mirror, ClusterState::Dirty{}, 1, warnings);
    ASSERT_EQ(testing::table_text(*fib), testing::table_text(*full)) << "step " << step;
  }
}

}  // namespace
}  // namespace svcdp::control
