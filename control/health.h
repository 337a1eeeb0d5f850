// What svcdp's health endpoints answer.
//
// svcdp's own /healthz (on --metrics-address) is a liveness check: 503
// when the control loop or a worker has not gone round for kStall
// (a worker spinning in a bug, a control thread stuck in a build).
//
// kube-proxy's node health server (--healthz-address, :10256 as
// kube-proxy's --healthz-bind-address), so that existing probes and cloud
// load-balancer health checks keep working when svcdp replaces kube-proxy
// (pkg/proxy/healthcheck/proxier_health.go): healthy unless a change
// received from the API server has waited longer than the timeout to be
// programmed; /healthz also 503 while the Node is being deleted or carries
// the cluster autoscaler's ToBeDeletedByClusterAutoscaler taint, /livez
// ignores the Node. Both answer kube-proxy's JSON body.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace svcdp::control {

struct HttpAnswer {
  HttpAnswer(int status_code = 200, std::string text = {}, std::string type = "text/plain")
      : status(status_code), body(std::move(text)), content_type(std::move(type)) {}
  int status;
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
};

class Health {
 public:
  static constexpr uint64_t kStallNs = 5'000'000'000;
  // kube-proxy: 2 x its sync period (30 s).
  static constexpr uint64_t kProxierTimeoutNs = 60'000'000'000;

  // Thread: main.
  explicit Health(unsigned workers, uint64_t proxier_timeout_ns = kProxierTimeoutNs);

  // Every round of the control loop: the loop's heartbeat, since when a
  // change has been waiting to be published (0: nothing waiting), and
  // each worker's count of poll rounds. Times on the steady clock.
  // Thread: control.
  void control_round(uint64_t now_ns, uint64_t pending_since_ns, std::span<const uint64_t> worker_loops);
  // After each publish; `unix_ns` is the wall clock. Thread: control.
  void updated(int64_t unix_ns) { last_updated_unix_ns_.store(unix_ns, std::memory_order_relaxed); }
  // The Node's eligibility, from its deletionTimestamp and taints.
  // Thread: control.
  void node_eligible(bool eligible) { node_eligible_.store(eligible, std::memory_order_relaxed); }
  // Service ports that cannot be built and keep their last tables: named
  // in /healthz's body (it stays 200: restarting svcdp would not build
  // them; kube-proxy's health server turns 503 through the pending
  // change). Thread: control.
  void unbuilt(size_t ports) { unbuilt_.store(ports, std::memory_order_relaxed); }

  // Thread: any.
  HttpAnswer healthz(uint64_t now_ns) const;
  HttpAnswer proxier_healthz(uint64_t now_ns, int64_t unix_now_ns) const;
  HttpAnswer proxier_livez(uint64_t now_ns, int64_t unix_now_ns) const;

 private:
  bool proxier_healthy(uint64_t now_ns) const;
  HttpAnswer proxier_answer(bool healthy, bool with_node, int64_t unix_now_ns) const;

  const uint64_t proxier_timeout_ns_;
  std::atomic<uint64_t> control_round_ns_{0};  // 0: the loop has not started
  std::atomic<uint64_t> pending_since_ns_{0};
  std::atomic<int64_t> last_updated_unix_ns_{0};
  std::atomic<bool> node_eligible_{true};
  std::atomic<size_t> unbuilt_{0};  // as kube-proxy: eligible until a Node says otherwise
  // Per worker: its loop count when last seen moving, and when (control only
  // writes them; readers compare the time).
  struct WorkerProgress {
    uint64_t loops = 0;
    std::atomic<uint64_t> moved_ns{0};
  };
  std::unique_ptr<WorkerProgress[]> workers_;
  unsigned worker_count_;
};

// Go's time.Time.String() of a Unix time in UTC, as kube-proxy's JSON
// carries it: "2006-01-02 15:04:05.999999999 +0000 UTC". Thread: any.
std::string go_time_string(int64_t unix_ns);

}  // namespace svcdp::control
