#include "control/reflector.h"

#include "control/log.h"

#include <chrono>
#include <thread>

namespace svcdp::control {
namespace {

using simdjson::dom::element;

uint64_t steady_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string str_at(element e, std::string_view pointer) {
  std::string_view v;
  if (e.at_pointer(pointer).get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}

// The message of a Status body, for log lines.
std::string status_message(simdjson::dom::parser& parser, const std::string& body) {
  element e;
  if (parser.parse(body).get(e) != simdjson::SUCCESS) return body.substr(0, 120);
  return str_at(e, "/message");
}

}  // namespace

std::optional<KubeObject> decode_object(ResourceKind kind, element obj, std::string& error) {
  switch (kind) {
    case ResourceKind::kNode:
      if (auto n = node_from_json(obj, error)) return KubeObject(std::move(*n));
      break;
    case ResourceKind::kService:
      if (auto s = service_from_json(obj, error)) return KubeObject(std::move(*s));
      break;
    case ResourceKind::kSlice:
      if (auto s = endpoint_slice_from_json(obj, error)) return KubeObject(std::move(*s));
      break;
  }
  return std::nullopt;
}

Reflector::Reflector(ResourceKind kind, KubeHttp& http, EventQueue& out, ReflectorOptions options)
    : kind_(kind), http_(http), out_(out), options_(std::move(options)), rng_(std::random_device{}()) {
  static const char* paths[] = {"/api/v1/nodes", "/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices"};
  path_ = paths[static_cast<int>(kind)];
  if (kind == ResourceKind::kNode) options_.label_selector.clear();
}

std::string Reflector::query(const std::string& extra) const {
  std::string q = path_ + "?" + extra;
  if (!options_.label_selector.empty()) q += "&labelSelector=" + url_encode(options_.label_selector);
  return q;
}

void Reflector::run(const std::atomic<bool>& stop) {
  while (!stop) {
    if (!list(stop)) {
      backoff(stop);
      continue;
    }
    failures_ = 0;
    for (;;) {
      if (stop) return;
      const WatchEnd end = watch(stop);
      if (end == WatchEnd::kExpired) break;  // relist
      if (end == WatchEnd::kFailed) backoff(stop);
      else failures_ = 0;
    }
  }
}

// Lists as client-go's reflector does (tools/cache/reflector.go,
// relistResourceVersion): the first list at resourceVersion 0, served by
// the API server's watch cache instead of a quorum read of etcd on every
// node at once; a relist (after a watch expired) from the version seen
// last, NotOlderThan, so that it never goes back in time; a quorum read
// only when that version is gone (the list got 410).
std::string Reflector::list_version() const {
  if (version_unavailable_) return "";
  if (resource_version_.empty()) return "&resourceVersion=0";
  return "&resourceVersion=" + resource_version_ + "&resourceVersionMatch=NotOlderThan";
}

bool Reflector::list(const std::atomic<bool>& stop) {
  KubeEvent replace{kind_, KubeEvent::Type::kReplace, {}, 0};
  std::string cont;
  for (;;) {
    if (stop) return false;
    // Continuation pages carry the token alone (the API refuses a version with it).
    std::string extra = "limit=" + std::to_string(options_.page_size);
    extra += cont.empty() ? list_version() : "&continue=" + url_encode(cont);
    const auto sent = std::chrono::steady_clock::now();
    const HttpResult r = http_.get(query(extra));
    stats_.requests.count(ApiRequestStats::kList, r.status);
    if (r.error.empty())
      stats_.requests.list_took(std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count());
    if (r.status == 410 && cont.empty() && !version_unavailable_ && !resource_version_.empty()) {
      ++stats_.expired;
      log::info("list version expired, listing from etcd", {{"resource", kResourceNames[int(kind_)]},
                                                           {"resource_version", resource_version_}});
      version_unavailable_ = true;
      continue;
    }
    if (r.status == 410 && !cont.empty()) {
      // The continue token expired between pages: start over, whole.
      ++stats_.expired;
      log::info("list continuation expired, listing again", {{"resource", kResourceNames[int(kind_)]}});
      replace.objects.clear();
      cont.clear();
      continue;
    }
    if (!r.ok()) {
      failed("list", r);
      return false;
    }
    element root;
    simdjson::dom::array items;
    if (parser_.parse(r.body).get(root) != simdjson::SUCCESS || root["items"].get(items) != simdjson::SUCCESS) {
      failed("list", HttpResult{r.status, {}, "the answer is not a list"});
      return false;
    }
    for (element item : items) {
      std::string error;
      if (auto o = decode_object(kind_, item, error))
        replace.objects.push_back(std::move(*o));
      else
        log::warning("object left out", {{"resource", kResourceNames[int(kind_)]}, {"reason", error}});
    }
    resource_version_ = str_at(root, "/metadata/resourceVersion");
    cont = str_at(root, "/metadata/continue");
    if (cont.empty()) break;
  }
  version_unavailable_ = false;
  replace.received_ns = steady_ns();
  ++stats_.lists;
  stats_.last_contact_ns.store(replace.received_ns, std::memory_order_relaxed);
  log::info("listed", {{"resource", kResourceNames[int(kind_)]},
                       {"objects", std::to_string(replace.objects.size())},
                       {"resource_version", resource_version_}});
  out_.push(std::move(replace));
  return true;
}

Reflector::WatchEnd Reflector::watch(const std::atomic<bool>& stop) {
  ++stats_.watches;
  WatchEnd end = WatchEnd::kClosed;
  const std::string q = query("watch=1&allowWatchBookmarks=true&timeoutSeconds=" +
                              std::to_string(options_.watch_timeout_s) + "&resourceVersion=" + resource_version_);
  const std::function<bool(std::string_view)> cb = [&](std::string_view line) { return on_line(line, end); };
  const HttpResult r = http_.stream(q, cb, stop);
  stats_.requests.count(ApiRequestStats::kWatch, r.status);
  if (end != WatchEnd::kClosed) return end;
  if (r.status == 410) {
    ++stats_.expired;
    return WatchEnd::kExpired;
  }
  if (!r.error.empty() || r.status != 200) {
    failed("watch", r);
    return WatchEnd::kFailed;
  }
  return WatchEnd::kClosed;
}

bool Reflector::on_line(std::string_view line, WatchEnd& end) {
  element ev;
  std::string_view type;
  element obj;
  if (parser_.parse(line.data(), line.size()).get(ev) != simdjson::SUCCESS ||
      ev["type"].get(type) != simdjson::SUCCESS || ev["object"].get(obj) != simdjson::SUCCESS) {
    ++stats_.bad_events;
    log::warning("watch event is not JSON, watching again", {{"resource", kResourceNames[int(kind_)]},
                                                             {"bytes", std::to_string(line.size())}});
    end = WatchEnd::kFailed;
    return false;
  }
  if (type == "ERROR") {
    int64_t code = 0;
    if (obj["code"].get(code) == simdjson::SUCCESS && code == 410) {
      ++stats_.expired;
      log::info("watch expired (410), listing again", {{"resource", kResourceNames[int(kind_)]},
                                                       {"message", str_at(obj, "/message")}});
      end = WatchEnd::kExpired;
    } else {
      ++stats_.errors;
      log::warning("watch error event", {{"resource", kResourceNames[int(kind_)]}, {"message", str_at(obj, "/message")}});
      end = WatchEnd::kFailed;
    }
    return false;
  }
  stats_.last_contact_ns.store(steady_ns(), std::memory_order_relaxed);
  const std::string rv = str_at(obj, "/metadata/resourceVersion");
  if (type == "BOOKMARK") {
    ++stats_.bookmarks;
    if (!rv.empty()) resource_version_ = rv;
    return true;
  }
  KubeEvent::Type t;
  if (type == "ADDED" || type == "MODIFIED")
    t = KubeEvent::Type::kUpsert;
  else if (type == "DELETED")
    t = KubeEvent::Type::kDelete;
  else
    return true;  // unknown types are skipped
  std::string error;
  auto o = decode_object(kind_, obj, error);
  if (!o) {
    ++stats_.bad_events;
    log::warning("object left out", {{"resource", kResourceNames[int(kind_)]}, {"reason", error}});
  } else {
    ++stats_.events;
    ++(type == "ADDED" ? stats_.added : type == "MODIFIED" ? stats_.modified : stats_.deleted);
    out_.push(KubeEvent{kind_, t, {std::move(*o)}, steady_ns()});
  }
  if (!rv.empty()) resource_version_ = rv;
  return true;
}

void Reflector::failed(const std::string& what, const HttpResult& r) {
  ++stats_.errors;
  std::string reason = r.error;
  if (reason.empty()) reason = "HTTP " + std::to_string(r.status) + ": " + status_message(parser_, r.body);
  log::warning(what + " failed, retrying", {{"resource", kResourceNames[int(kind_)]},
                                           {"server", http_.config().server},
                                           {"reason", reason},
                                           {"attempt", std::to_string(failures_ + 1)}});
}

// Full jitter over an exponential bound (AWS "exponential backoff and
// jitter"): delay uniform in [bound/2, bound], bound doubling per failure.
void Reflector::backoff(const std::atomic<bool>& stop) {
  const uint64_t bound = std::min<uint64_t>(options_.backoff_max_ms,
                                            uint64_t{options_.backoff_min_ms} << std::min<uint32_t>(failures_, 20));
  ++failures_;
  const uint64_t ms = bound / 2 + rng_() % (bound / 2 + 1);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!stop && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace svcdp::control
