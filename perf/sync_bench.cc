// Sync latency: how long a single endpoint change takes from the watch
// event's JSON to a table generation the workers see, with a large
// cluster loaded (default 10 k services, 100 k endpoints), and how long the
// full build at start-up takes. Each change goes the watcher's way: the
// event line is parsed with simdjson and decoded (as Reflector does), applied
// to the ClusterState, built by TableSync and published with FibPublisher
// (RCU pointer swap; EAL with --no-huge, no ports).
//
//   sync_bench [--services N] [--endpoints-per-service M] [--changes K] [--nodes N]
//              [--seconds S] [--heartbeats-per-s H] [--changes-per-s C] [--dns]
//
// --nodes: the two nodes the endpoints are on plus that many more, each
// with its own /24 of 100.64.0.0/10 (a 5,000-node cluster's Node objects).
//
// Prints, in order: the start-up (bytes the three lists are, decode, full
// build, resident memory per 100 k endpoints); K back-to-back endpoint
// changes (p50/p99/max); Nodes joining and leaving; then S seconds of a
// live cluster's mix: H Node status heartbeats a second (kubelet's status
// with conditions and images, a new resourceVersion, nothing svcdp reads
// changed; every Node but this one in turn) and C endpoint changes a
// second, paced by the clock: the
// changes' latency, each heartbeat's cost, and the control thread's CPU
// time per second. --dns: with cluster DNS on (the zone built with every
// generation; bench/svc-0 stands for kube-dns).
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
#include <string_view>
#include <thread>
#include <vector>

#include <time.h>
#include <unistd.h>

namespace {

using namespace svcdp;
using Clock = std::chrono::steady_clock;

uint64_t ns(Clock::time_point t) { return static_cast<uint64_t>(t.time_since_epoch().count()); }

std::string ip(uint32_t v) {
  return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." + std::to_string((v >> 8) & 255) + "." +
         std::to_string(v & 255);
}

std::string node_json(const std::string& name, const std::string& addr, const std::string& cidr,
                      const std::string& status_extra = "", uint32_t version = 1) {
  return R"({"kind":"Node","apiVersion":"v1","metadata":{"name":")" + name + R"(","resourceVersion":")" +
         std::to_string(version) + R"("},"spec":{"podCIDR":")" + cidr + R"(","podCIDRs":[")" + cidr +
         R"("]},"status":{)" + status_extra + R"("addresses":[{"type":"InternalIP","address":")" + addr +
         R"("},{"type":"Hostname","address":")" + name + R"("}]}})";
}

// Node n beyond node-a and node-b: 172.16.x.y, pod CIDR a /24 of 100.64.0.0/10.
std::string extra_node_json(uint32_t n, const std::string& status_extra = "", uint32_t version = 1) {
  return node_json("node-" + std::to_string(n), ip(0xac100000 + n), ip(0x64400000 + (n << 8)) + "/24", status_extra,
                   version);
}

// What a kubelet's status update carries besides the addresses (~4 KB, as
// on a node with 20 images): conditions with their heartbeat times,
// capacity, nodeInfo, images. Only `beat` differs from one to the next.
std::string kubelet_status(uint32_t beat) {
  const std::string t = "2026-12-02T10:" + std::to_string(10 + beat / 60 % 50) + ":" + std::to_string(10 + beat % 50) + "Z";
  std::string conds;
  for (const char* type : {"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"}) {
    if (!conds.empty()) conds += ",";
    conds += R"({"type":")" + std::string(type) + R"(","status":")" + (std::string(type) == "Ready" ? "True" : "False") +
             R"(","lastHeartbeatTime":")" + t +
             R"(","lastTransitionTime":"2026-11-30T08:00:00Z","reason":"KubeletHasSufficientMemory","message":"kubelet has sufficient memory available"})";
  }
  std::string images;
  for (int i = 0; i < 20; ++i) {
    if (!images.empty()) images += ",";
    images += R"({"names":["registry.example.com/team/app-)" + std::to_string(i) +
              R"(@sha256:4b6e3c0f5d2a9c8b7e6f5a4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09","registry.example.com/team/app-)" +
              std::to_string(i) + R"(:v1.)" + std::to_string(i) + R"("],"sizeBytes":)" + std::to_string(40'000'000 + i) + "}";
  }
  return R"("capacity":{"cpu":"32","ephemeral-storage":"479151816Ki","memory":"131912396Ki","pods":"110"},)"
         R"("allocatable":{"cpu":"31800m","ephemeral-storage":"441586026424","memory":"130761420Ki","pods":"110"},)"
         R"("conditions":[)" + conds + R"(],"daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},)"
         R"("nodeInfo":{"machineID":"5f0c7b4a1e2d4c3b9a8f7e6d5c4b3a29","systemUUID":"4c4c4544-0042-3510-8051-b7c04f4b4d32",)"
         R"("bootID":"0b7c5f7e-9d2e-4f3a-8b1c-6d5e4f3a2b1c","kernelVersion":"6.1.0-27-amd64","osImage":"Debian GNU/Linux 12 bookworm",)"
         R"("containerRuntimeVersion":"containerd://1.7.24","kubeletVersion":"v1.31.4","kubeProxyVersion":"v1.31.4",)"
         R"("operatingSystem":"linux","architecture":"amd64"},"images":[)" + images + "],";
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
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

std::string summary(const std::vector<double>& us) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "p50 %.0f us, p99 %.0f us, max %.0f us (%zu)", percentile(us, 0.5),
                percentile(us, 0.99), percentile(us, 1.0), us.size());
  return buf;
}

double rss_mib() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

double thread_cpu_s() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

// One API list body as the server sends it: {"kind":...,"items":[...]}.
size_t list_bytes(const std::vector<std::string>& items) {
  size_t n = 96;  // kind, apiVersion, metadata.resourceVersion
  for (const std::string& i : items) n += i.size() + 1;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t services = 10'000, per_service = 10, changes = 1000, nodes_total = 2;
  double seconds = 0, heartbeats_per_s = 500, changes_per_s = 100;
  bool dns = false;
  for (int i = 1; i < argc; i += 2) {
    const std::string_view opt = argv[i];
    if (opt == "--dns") {
      dns = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "sync_bench: %s needs a value\n", argv[i]);
      return 2;
    }
    const char* v = argv[i + 1];
    if (opt == "--services") services = static_cast<uint32_t>(std::stoul(v));
    else if (opt == "--endpoints-per-service") per_service = static_cast<uint32_t>(std::stoul(v));
    else if (opt == "--changes") changes = static_cast<uint32_t>(std::stoul(v));
    else if (opt == "--nodes") nodes_total = std::max<uint32_t>(2, static_cast<uint32_t>(std::stoul(v)));
    else if (opt == "--seconds") seconds = std::stod(v);
    else if (opt == "--heartbeats-per-s") heartbeats_per_s = std::stod(v);
    else if (opt == "--changes-per-s") changes_per_s = std::stod(v);
    else {
      std::fprintf(stderr, "sync_bench: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  const char* eal[] = {"sync_bench", "--no-huge", "-m", "128", "--no-pci", "--no-shconf", "-l", "0",
                       "--log-level", "*:error", "--file-prefix", "svcdp-sync-bench"};
  if (rte_eal_init(static_cast<int>(std::size(eal)), const_cast<char**>(eal)) < 0) return 1;
  {
    dp::FibPublisher publisher(1);
    publisher.register_worker(0);
    control::DnsParams dns_params;
    if (dns) dns_params = {"bench", "svc-0", "cluster.local", 5, std::nullopt};
    control::TableBuilder builder(control::FibParams{"node-a", 1, 4789, {}, {}, {}, {}, {}, {}, {}}, 65537, nullptr,
                                  dns_params);
    control::TableSync sync(builder, 0);
    simdjson::dom::parser parser;

    using control::KubeEvent;
    using control::ResourceKind;
    std::vector<std::string> node_items{node_json("node-a", "192.168.56.11", "10.244.0.0/16"),
                                        node_json("node-b", "192.168.56.12", "10.245.0.0/16")};
    for (uint32_t n = 2; n < nodes_total; ++n) node_items.push_back(extra_node_json(n, kubelet_status(0)));
    std::vector<std::string> svc_items, slice_items;
    for (uint32_t i = 0; i < services; ++i) {
      svc_items.push_back(service_json(i));
      slice_items.push_back(slice_json(i, per_service, 1, per_service));
    }
    const double rss0 = rss_mib();  // the JSON is what the API server would send: not svcdp's
    const auto t0 = Clock::now();
    KubeEvent nodes{ResourceKind::kNode, KubeEvent::Type::kReplace, {}, ns(t0)};
    for (const std::string& j : node_items) nodes.objects.push_back(decode(parser, ResourceKind::kNode, j));
    KubeEvent svcs{ResourceKind::kService, KubeEvent::Type::kReplace, {}, ns(t0)};
    KubeEvent slices{ResourceKind::kSlice, KubeEvent::Type::kReplace, {}, ns(t0)};
    for (uint32_t i = 0; i < services; ++i) {
      svcs.objects.push_back(decode(parser, ResourceKind::kService, svc_items[i]));
      slices.objects.push_back(decode(parser, ResourceKind::kSlice, slice_items[i]));
    }
    const auto t1 = Clock::now();
    sync.apply(nodes);
    sync.apply(svcs);
    sync.apply(slices);
    nodes = {};
    svcs = {};
    slices = {};
    auto first = sync.build_if_due(ns(Clock::now()));
    if (!first) return 1;
    publisher.publish(std::move(first));
    const auto t2 = Clock::now();
    const double rss1 = rss_mib();
    std::printf("cluster: %u nodes, %u services, %u endpoints\n", nodes_total, services, services * per_service);
    std::printf("start-up: lists %.1f MB (nodes %.1f, services %.1f, slices %.1f), decode %.1f ms, "
                "apply + full build + publish %.1f ms\n",
                double(list_bytes(node_items) + list_bytes(svc_items) + list_bytes(slice_items)) / 1e6,
                double(list_bytes(node_items)) / 1e6, double(list_bytes(svc_items)) / 1e6,
                double(list_bytes(slice_items)) / 1e6, std::chrono::duration<double, std::milli>(t1 - t0).count(),
                std::chrono::duration<double, std::milli>(t2 - t1).count());
    std::printf("resident memory: +%.0f MiB for the cluster's objects and tables (%.0f MiB per 100 k endpoints)\n",
                rss1 - rss0, (rss1 - rss0) * 100'000.0 / std::max(1.0, double(services) * per_service));
    svc_items.clear();
    slice_items.clear();

    std::mt19937 rng(1);
    // Each change turns another endpoint of the service not ready: an
    // update that says what the slice already says builds nothing.
    std::vector<uint32_t> not_ready(services, per_service);
    uint32_t version = 2;
    double control_busy_us = 0;  // apply, build, publish, reclaim: the control thread's share
    // One endpoint change, event line to published; its latency in us.
    auto endpoint_change = [&]() -> double {
      const uint32_t svc = rng() % services;
      uint32_t k = rng() % per_service;
      if (k == not_ready[svc]) k = (k + 1) % per_service;
      not_ready[svc] = k;
      const std::string line = R"({"type":"MODIFIED","object":)" + slice_json(svc, per_service, version++, k) + "}";
      const auto start = Clock::now();
      simdjson::dom::element ev;
      if (parser.parse(line).get(ev) != simdjson::SUCCESS) std::abort();
      std::string error;
      auto obj = control::decode_object(ResourceKind::kSlice, ev["object"], error);
      const auto decoded = Clock::now();
      sync.apply(KubeEvent{ResourceKind::kSlice, KubeEvent::Type::kUpsert, {std::move(*obj)}, ns(start)});
      auto fib = sync.build_if_due(ns(Clock::now()));
      if (!fib) std::abort();
      publisher.publish(std::move(fib));  // the workers see it from here
      const auto published = Clock::now();
      publisher.reclaim();  // the control loop's next round
      control_busy_us += std::chrono::duration<double, std::micro>(Clock::now() - decoded).count();
      return std::chrono::duration<double, std::micro>(published - start).count();
    };
    // A Node event line through the same path: what the watch thread
    // spends on it (parse, decode) and what the control thread does (apply,
    // and the build if it changed anything), in us.
    struct Cost {
      double decode_us, control_us;
    };
    auto node_event = [&](const char* type, const std::string& json, bool builds) -> Cost {
      const std::string line = R"({"type":")" + std::string(type) + R"(","object":)" + json + "}";
      const auto start = Clock::now();
      simdjson::dom::element ev;
      if (parser.parse(line).get(ev) != simdjson::SUCCESS) std::abort();
      std::string error;
      auto obj = control::decode_object(ResourceKind::kNode, ev["object"], error);
      if (!obj) std::abort();
      const auto decoded = Clock::now();
      const auto kind = std::string_view(type) == "DELETED" ? KubeEvent::Type::kDelete : KubeEvent::Type::kUpsert;
      sync.apply(KubeEvent{ResourceKind::kNode, kind, {std::move(*obj)}, ns(start)});
      if (auto fib = sync.build_if_due(ns(Clock::now()))) {
        if (!builds) std::abort();  // a heartbeat must build nothing
        publisher.publish(std::move(fib));
      }
      const auto end = Clock::now();
      publisher.reclaim();
      control_busy_us += std::chrono::duration<double, std::micro>(Clock::now() - decoded).count();
      return {std::chrono::duration<double, std::micro>(decoded - start).count(),
              std::chrono::duration<double, std::micro>(end - decoded).count()};
    };

    std::vector<double> latency_us;
    for (uint32_t c = 0; c < changes; ++c) latency_us.push_back(endpoint_change());
    std::printf("single-endpoint change, event line -> generation published, back to back: %s\n",
                summary(latency_us).c_str());

    std::vector<double> join_us, leave_us;
    for (uint32_t j = 0; j < 20; ++j) {
      const std::string joiner = extra_node_json(nodes_total + j, kubelet_status(0), version++);
      const Cost join = node_event("ADDED", joiner, true), leave = node_event("DELETED", joiner, true);
      join_us.push_back(join.decode_us + join.control_us);
      leave_us.push_back(leave.decode_us + leave.control_us);
    }
    std::printf("a Node joins: %s; leaves: %s\n", summary(join_us).c_str(), summary(leave_us).c_str());

    if (seconds > 0) {
      // Paced by the clock: every event is due at its time, heartbeats of
      // node 2, 3, ... in turn (a cluster's Nodes each every N/H seconds).
      std::vector<double> change_us, beat_decode_us, beat_apply_us;
      const double cpu0 = thread_cpu_s();
      control_busy_us = 0;
      const auto begin = Clock::now();
      uint64_t beats = 0, edits = 0;
      uint32_t next_node = 1;  // node-b, then the others in turn
      for (;;) {
        const double t = std::chrono::duration<double>(Clock::now() - begin).count();
        if (t >= seconds) break;
        bool did = false;
        if (double(beats) < t * heartbeats_per_s) {
          const uint32_t n = next_node;
          next_node = next_node + 1 < nodes_total ? next_node + 1 : 1;
          ++beats;
          const std::string status = kubelet_status(static_cast<uint32_t>(beats));
          const Cost c = node_event("MODIFIED",
                                    n == 1 ? node_json("node-b", "192.168.56.12", "10.245.0.0/16", status, version++)
                                           : extra_node_json(n, status, version++),
                                    false);
          beat_decode_us.push_back(c.decode_us);
          beat_apply_us.push_back(c.control_us);
          did = true;
        }
        if (double(edits) < t * changes_per_s) {
          ++edits;
          change_us.push_back(endpoint_change());
          did = true;
        }
        if (!did) std::this_thread::sleep_for(std::chrono::microseconds(100));  // the control loop's idle sleep
      }
      const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
      const double cpu = thread_cpu_s() - cpu0;
      std::printf("live mix for %.0f s (%.0f heartbeats/s, %.0f endpoint changes/s):\n", elapsed,
                  double(beats) / elapsed, double(edits) / elapsed);
      std::printf("  endpoint change -> published: %s\n", summary(change_us).c_str());
      std::printf("  Node heartbeat, control thread (apply: compare, no build): %s\n", summary(beat_apply_us).c_str());
      std::printf("  Node heartbeat, watch thread (parse + decode %.1f KB): %s\n",
                  double(extra_node_json(3, kubelet_status(0)).size()) / 1e3, summary(beat_decode_us).c_str());
      std::printf("  control thread busy (apply, build, publish, reclaim): %.1f ms per second\n",
                  control_busy_us / 1000 / elapsed);
      std::printf("  CPU of this thread (also the watch threads' decoding and making the event lines): %.1f ms per "
                  "second\n",
                  cpu * 1000 / elapsed);
    }
  }
  rte_eal_cleanup();
  return 0;
}
