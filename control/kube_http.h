// HTTPS requests to the Kubernetes API server with libcurl: one-shot GETs
// (lists) and streamed GETs (watches: the body is cut into lines, one JSON
// event each). TLS verification is on unless the kubeconfig turned it off.
// Credentials go into request headers and TLS options only; libcurl's
// verbose output, which would show them, is never enabled.
//
// One KubeHttp per thread (a libcurl easy handle is not shared).
#pragma once

#include "control/kube_config.h"

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

namespace svcdp::control {

struct HttpResult {
  long status = 0;      // HTTP status, 0 when no answer came
  std::string body;     // the body (for streams: what was not consumed as lines)
  std::string error;    // transport error ("connection refused", "stalled"...), empty if none
  bool ok() const { return error.empty() && status == 200; }
};

struct HttpTimeouts {
  long connect_s = 10;
  long list_s = 60;   // a whole list request
  long stall_s = 90;  // a watch with no byte for this long is cut (bookmarks come every minute)
};

class KubeHttp {
 public:
  // Thread: the thread that will use it.
  explicit KubeHttp(KubeConfig config, HttpTimeouts timeouts = {});
  ~KubeHttp();
  KubeHttp(const KubeHttp&) = delete;
  KubeHttp& operator=(const KubeHttp&) = delete;

  // GET server + `path` (path and query). Thread: the owner.
  HttpResult get(const std::string& path);

  // GET server + `path`, calling `on_line` for every complete line of the
  // body while the status is 200 (a non-200 body is returned whole).
  // Returns when the server ends the stream, `on_line` returns false, the
  // connection stalls, or `stop` is set. Thread: the owner.
  HttpResult stream(const std::string& path, const std::function<bool(std::string_view)>& on_line,
                    const std::atomic<bool>& stop);

  const KubeConfig& config() const { return config_; }

 private:
  struct Transfer;
  HttpResult perform(const std::string& path, Transfer& t, long timeout_s);

  KubeConfig config_;
  HttpTimeouts timeouts_;
  void* curl_;
};

}  // namespace svcdp::control
