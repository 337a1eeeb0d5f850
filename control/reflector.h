// List + watch of one resource (Nodes, Services or EndpointSlices), as
// client-go's Reflector does it:
//  - list, a page at a time (limit / continue); the complete list becomes
//    one kReplace event, so the control thread applies the difference and
//    never sees an object vanish that still exists;
//  - watch from the list's resourceVersion with allowWatchBookmarks; every
//    event and bookmark advances the resourceVersion; a watch the server
//    ends (timeoutSeconds) is resumed from it;
//  - "410 Gone" (an ERROR event with code 410 in the stream, or HTTP 410
//    on a list page) means the version is too old: relist;
//  - 401/403/5xx, garbage, stalls and connection failures retry with
//    jittered exponential backoff and one log line each.
#pragma once

#include "control/kube_events.h"
#include "control/kube_http.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <random>
#include <string>

namespace svcdp::control {

struct ReflectorOptions {
  uint32_t page_size = 500;
  uint32_t watch_timeout_s = 300;  // asked of the server; it ends the watch then
  uint32_t backoff_min_ms = 100;
  uint32_t backoff_max_ms = 30'000;
  // Server-side filter (kube-proxy's): services owned by another proxy and
  // headless services' slices are not sent at all.
  std::string label_selector = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless";
};

// API requests as client-go counts them (rest_client_requests_total by
// code and method, rest_client_request_duration_seconds): by verb and
// HTTP status code; list pages timed from request to body.
struct ApiRequestStats {
  enum Verb : uint8_t { kList, kWatch, kVerbs };
  static constexpr std::array<int, 9> kCodes = {200, 401, 403, 404, 410, 429, 500, 503, 504};
  static constexpr size_t kOther = kCodes.size(), kNoAnswer = kCodes.size() + 1;  // "other", "<error>"
  // client-go's bounds (k8s.io/client-go/tools/metrics, component-base restclient metrics).
  static constexpr std::array<double, 12> kBounds = {0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60};

  // Thread: the reflector's. `status` 0: no answer.
  void count(Verb verb, long status) {
    size_t i = status == 0 ? kNoAnswer : kOther;
    for (size_t c = 0; c < kCodes.size(); ++c)
      if (kCodes[c] == status) i = c;
    bump(by_code[verb][i]);
  }
  void list_took(double seconds) {
    const auto it = std::lower_bound(kBounds.begin(), kBounds.end(), seconds);
    bump(list_latency[static_cast<size_t>(it - kBounds.begin())]);
    list_latency_sum_ns.store(list_latency_sum_ns.load(std::memory_order_relaxed) + static_cast<uint64_t>(seconds * 1e9),
                              std::memory_order_relaxed);
  }

  // One writer: a load and a store, no read-modify-write.
  static void bump(std::atomic<uint64_t>& c) { c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

  std::array<std::array<std::atomic<uint64_t>, kCodes.size() + 2>, kVerbs> by_code{};
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> list_latency{};  // per bucket, the last +Inf
  std::atomic<uint64_t> list_latency_sum_ns{0};
};

struct ReflectorStats {
  std::atomic<uint64_t> lists{0}, watches{0}, events{0}, bookmarks{0}, expired{0}, errors{0}, bad_events{0};
  std::atomic<uint64_t> added{0}, modified{0}, deleted{0};  // events by type
  // Steady-clock time of the last answer from the API server: a complete
  // list, a watch event or bookmark, a watch the server ended as asked.
  std::atomic<uint64_t> last_contact_ns{0};
  ApiRequestStats requests;
};

class Reflector {
 public:
  Reflector(ResourceKind kind, KubeHttp& http, EventQueue& out, ReflectorOptions options = {});

  // Lists and watches until `stop` is set. Thread: its own (blocking I/O).
  void run(const std::atomic<bool>& stop);

  const ReflectorStats& stats() const { return stats_; }
  ResourceKind kind() const { return kind_; }

 private:
  enum class WatchEnd : uint8_t { kClosed, kExpired, kFailed };
  bool list(const std::atomic<bool>& stop);
  WatchEnd watch(const std::atomic<bool>& stop);
  bool on_line(std::string_view line, WatchEnd& end);
  std::string query(const std::string& extra) const;
  // The first list page's resourceVersion parameters.
  std::string list_version() const;
  void failed(const std::string& what, const HttpResult& r);
  void backoff(const std::atomic<bool>& stop);

  ResourceKind kind_;
  KubeHttp& http_;
  EventQueue& out_;
  ReflectorOptions options_;
  ReflectorStats stats_;
  std::string path_;
  std::string resource_version_;
  // The version listed last is gone (a list from it got 410): the next
  // list is a quorum read (client-go's isLastSyncResourceVersionUnavailable).
  bool version_unavailable_ = false;
  uint32_t failures_ = 0;
  std::minstd_rand rng_;
  simdjson::dom::parser parser_;
};

// Decodes one object of `kind`; nullopt with `error` when it is unusable.
// Thread: any (with its own parser's element).
std::optional<KubeObject> decode_object(ResourceKind kind, simdjson::dom::element obj, std::string& error);

}  // namespace svcdp::control
