#include "control/health.h"

#include <cstdio>
#include <cstring>
#include <ctime>

namespace svcdp::control {

Health::Health(unsigned workers, uint64_t proxier_timeout_ns)
    : proxier_timeout_ns_(proxier_timeout_ns), workers_(new WorkerProgress[workers]), worker_count_(workers) {}

void Health::control_round(uint64_t now_ns, uint64_t pending_since_ns, std::span<const uint64_t> worker_loops) {
  control_round_ns_.store(now_ns, std::memory_order_relaxed);
  pending_since_ns_.store(pending_since_ns, std::memory_order_relaxed);
  for (unsigned w = 0; w < worker_count_ && w < worker_loops.size(); ++w) {
    const uint64_t loops = worker_loops[w];
    WorkerProgress& p = workers_[w];
    if (loops != p.loops || p.moved_ns.load(std::memory_order_relaxed) == 0) {
      p.loops = loops;
      p.moved_ns.store(now_ns, std::memory_order_relaxed);
    }
  }
}

HttpAnswer Health::healthz(uint64_t now_ns) const {
  const uint64_t round = control_round_ns_.load(std::memory_order_relaxed);
  if (round == 0) return {200, "ok (starting)\n"};
  if (now_ns > round + kStallNs)
    return {503, "control loop stalled for " + std::to_string((now_ns - round) / 1'000'000) + " ms\n"};
  for (unsigned w = 0; w < worker_count_; ++w) {
    const uint64_t moved = workers_[w].moved_ns.load(std::memory_order_relaxed);
    // The control loop's own view: a worker that has not gone round in
    // kStall by the time of the last control round.
    if (moved != 0 && round > moved + kStallNs)
      return {503, "worker " + std::to_string(w) + " stalled for " + std::to_string((round - moved) / 1'000'000) +
                       " ms\n"};
  }
  if (const size_t n = unbuilt_.load(std::memory_order_relaxed))
    return {200, "ok (" + std::to_string(n) + " service ports cannot be built and keep their last tables: "
                 "see the log and svcdp_service_ports_unbuilt)\n"};
  return {200, "ok\n"};
}

bool Health::proxier_healthy(uint64_t now_ns) const {
  const uint64_t pending = pending_since_ns_.load(std::memory_order_relaxed);
  return pending == 0 || now_ns < pending + proxier_timeout_ns_;
}

HttpAnswer Health::proxier_answer(bool healthy, bool with_node, int64_t unix_now_ns) const {
  // As kube-proxy: lastUpdated is "now" while healthy. The body is
  // kube-proxy's own template byte for byte (pkg/proxy/healthcheck/
  // proxier_health.go, its spacing included), not a JSON library's form:
  // probes and tests written against kube-proxy compare it.
  const int64_t last = healthy ? unix_now_ns : last_updated_unix_ns_.load(std::memory_order_relaxed);
  std::string body = "{\"lastUpdated\": \"" + go_time_string(last) + "\",\"currentTime\": \"" +
                     go_time_string(unix_now_ns) + "\"";
  if (with_node) body += std::string(", \"nodeEligible\": ") + (node_eligible_.load() ? "true" : "false");
  body += "}";
  return {healthy ? 200 : 503, body, "application/json"};
}

HttpAnswer Health::proxier_healthz(uint64_t now_ns, int64_t unix_now_ns) const {
  return proxier_answer(proxier_healthy(now_ns) && node_eligible_.load(std::memory_order_relaxed), true,
                        unix_now_ns);
}

HttpAnswer Health::proxier_livez(uint64_t now_ns, int64_t unix_now_ns) const {
  return proxier_answer(proxier_healthy(now_ns), false, unix_now_ns);
}

std::string go_time_string(int64_t unix_ns) {
  const time_t s = static_cast<time_t>(unix_ns / 1'000'000'000);
  const auto frac = static_cast<long>(unix_ns % 1'000'000'000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char date[32], out[80];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  // Go prints the fraction without trailing zeros, and none when it is 0.
  char digits[16] = "";
  if (frac != 0) {
    std::snprintf(digits, sizeof digits, ".%09ld", frac);
    for (size_t n = std::strlen(digits); n > 1 && digits[n - 1] == '0'; --n) digits[n - 1] = '\0';
  }
  std::snprintf(out, sizeof out, "%s%s +0000 UTC", date, digits);
  return out;
}

}  // namespace svcdp::control
