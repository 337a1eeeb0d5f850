// Sync latency: how long a single endpoint change takes from the watch
// event's JSON to a table generation the workers see, with a large
// cluster loaded (default 10 k services, 100 k endpoints), and how long the
// full build at start-up takes. Each change goes the watcher's way: the
// event line is parsed with simdjson and decoded (as Reflector does), applied
// to the ClusterState, built by TableSync and published with FibPublisher
// (RCU pointer swap; EAL with --no-huge, no ports).
//
//   sync_bench [--services N] [--endpoints-per-service M] [--changes K] [--nodes N]
//
// --nodes: the two nodes the endpoints are on plus that many more, each
// with its own /24 of 100.64.0.0/10 (a 5,000-node cluster's Node objects).
//
// Prints p50/p99/max of the per-change latency and the start-up build.
#include "control/reflector.h"
#include "control/table_sync.h"
#include "dataplane/fib_publisher.h"

#include <rte_eal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace svcdp;
using Clock = std::chrono::steady_clock;

uint64_t ns(Clock::time_point t) { return static_cast<uint64_t>(t.time_since_epoch().count()); }

std::string ip(uint32_t v) {
  return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." + std::to_string((v >> 8) & 255) + "." +
         std::to_string(v & 255);
}

std::string node_json(const std::string& name, const std::string& addr, const std::string& cidr) {
  return R"({"kind":"Node","apiVersion":"v1","metadata":{"name":")" + name +
         R"("},"spec":{"podCIDR":")" + cidr + R"("},"status":{"addresses":[{"type":"InternalIP","address":")" + addr +
         R"("}]}})";
}

// Node n beyond node-a and node-b: 172.16.x.y, pod CIDR a /24 of 100.64.0.0/10.
std::string extra_node_json(uint32_t n) {
  return node_json("node-" + std::to_string(n), ip(0xac100000 + n), ip(0x64400000 + (n << 8)) + "/24");
}

std::string service_json(uint32_t i) {
  return R"({"kind":"Service","apiVersion":"v1","metadata":{"name":"svc-)" + std::to_string(i) +
         R"(","namespace":"bench","resourceVersion":"1"},"spec":{"type":"ClusterIP","clusterIP":")" +
         ip(0x0a600000 + i) + R"(","ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":8080}]}})";
}

// Slice of service i: endpoints alternate between node-a (10.244.0.0/16)
// and node-b (10.245.0.0/16); endpoint `not_ready` (if < m) is not ready.
std::string slice_json(uint32_t i, uint32_t m, uint32_t version, uint32_t not_ready) {
  std::string eps;
  for (uint32_t e = 0; e < m; ++e) {
    const uint32_t addr = ((i * m + e) % 2 ? 0x0af50000 : 0x0af40000) + ((i * m + e) & 0xffff);
    if (!eps.empty()) eps += ",";
    eps += R"({"addresses":[")" + ip(addr) + R"("],"nodeName":")" + ((i * m + e) % 2 ? "node-b" : "node-a") +
           R"(","conditions":{"ready":)" + (e == not_ready ? "false" : "true") + "}}";
  }
  return R"({"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1","metadata":{"name":"svc-)" +
         std::to_string(i) + R"(-1","namespace":"bench","resourceVersion":")" + std::to_string(version) +
         R"(","labels":{"kubernetes.io/service-name":"svc-)" + std::to_string(i) +
         R"("}},"addressType":"IPv4","ports":[{"name":"http","port":8080,"protocol":"TCP"}],"endpoints":[)" + eps +
         "]}";
}

control::KubeObject decode(simdjson::dom::parser& parser, control::ResourceKind kind, const std::string& json) {
  simdjson::dom::element e;
  if (parser.parse(json).get(e) != simdjson::SUCCESS) std::abort();
  std::string error;
  auto o = control::decode_object(kind, e, error);
  if (!o) {
    std::fprintf(stderr, "decode: %s\n", error.c_str());
    std::abort();
  }
  return std::move(*o);
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t services = 10'000, per_service = 10, changes = 1000, nodes_total = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--services")) services = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    if (!std::strcmp(argv[i], "--endpoints-per-service")) per_service = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    if (!std::strcmp(argv[i], "--changes")) changes = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    if (!std::strcmp(argv[i], "--nodes")) nodes_total = std::max<uint32_t>(2, static_cast<uint32_t>(std::stoul(argv[i + 1])));
  }
  const char* eal[] = {"sync_bench", "--no-huge", "-m", "128", "--no-pci", "--no-shconf", "-l", "0",
                       "--log-level", "*:error", "--file-prefix", "svcdp-sync-bench"};
  if (rte_eal_init(static_cast<int>(std::size(eal)), const_cast<char**>(eal)) < 0) return 1;
  {
    dp::FibPublisher publisher(1);
    publisher.register_worker(0);
    control::TableBuilder builder(control::FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 65537);
    control::TableSync sync(builder, 0);
    simdjson::dom::parser parser;

    using control::KubeEvent;
    using control::ResourceKind;
    const auto t0 = Clock::now();
    KubeEvent nodes{ResourceKind::kNode, KubeEvent::Type::kReplace, {}, ns(t0)};
    nodes.objects.push_back(decode(parser, ResourceKind::kNode, node_json("node-a", "192.168.56.11", "10.244.0.0/16")));
    nodes.objects.push_back(decode(parser, ResourceKind::kNode, node_json("node-b", "192.168.56.12", "10.245.0.0/16")));
    for (uint32_t n = 2; n < nodes_total; ++n)
      nodes.objects.push_back(decode(parser, ResourceKind::kNode, extra_node_json(n)));
    KubeEvent svcs{ResourceKind::kService, KubeEvent::Type::kReplace, {}, ns(t0)};
    KubeEvent slices{ResourceKind::kSlice, KubeEvent::Type::kReplace, {}, ns(t0)};
    for (uint32_t i = 0; i < services; ++i) {
      svcs.objects.push_back(decode(parser, ResourceKind::kService, service_json(i)));
      slices.objects.push_back(decode(parser, ResourceKind::kSlice, slice_json(i, per_service, 1, per_service)));
    }
    const auto t1 = Clock::now();
    sync.apply(nodes);
    sync.apply(svcs);
    sync.apply(slices);
    auto first = sync.build_if_due(ns(Clock::now()));
    if (!first) return 1;
    publisher.publish(std::move(first));
    const auto t2 = Clock::now();
    std::printf("cluster: %u nodes, %u services, %u endpoints\n", nodes_total, services, services * per_service);
    std::printf("start-up: decode %.1f ms, apply + full build + publish %.1f ms\n",
                std::chrono::duration<double, std::milli>(t1 - t0).count(),
                std::chrono::duration<double, std::milli>(t2 - t1).count());

    std::mt19937 rng(1);
    std::vector<double> latency_us;
    // Each change turns another endpoint of the service not ready: an
    // update that says what the slice already says builds nothing.
    std::vector<uint32_t> not_ready(services, per_service);
    for (uint32_t c = 0; c < changes; ++c) {
      const uint32_t svc = rng() % services;
      uint32_t k = rng() % per_service;
      if (k == not_ready[svc]) k = (k + 1) % per_service;
      not_ready[svc] = k;
      const std::string line = R"({"type":"MODIFIED","object":)" + slice_json(svc, per_service, c + 2, k) + "}";
      const auto start = Clock::now();
      simdjson::dom::element ev;
      if (parser.parse(line).get(ev) != simdjson::SUCCESS) return 1;
      std::string error;
      auto obj = control::decode_object(ResourceKind::kSlice, ev["object"], error);
      sync.apply(KubeEvent{ResourceKind::kSlice, KubeEvent::Type::kUpsert, {std::move(*obj)}, ns(start)});
      auto fib = sync.build_if_due(ns(Clock::now()));
      if (!fib) return 1;
      publisher.publish(std::move(fib));  // the workers see it from here
      latency_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      publisher.reclaim();  // the control loop's next round
    }
    std::printf("single-endpoint change, event line -> generation published (%u changes): "
                "p50 %.0f us, p99 %.0f us, max %.0f us\n",
                changes, percentile(latency_us, 0.5), percentile(latency_us, 0.99), percentile(latency_us, 1.0));
  }
  rte_eal_cleanup();
  return 0;
}
