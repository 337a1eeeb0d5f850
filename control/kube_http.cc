#include "control/kube_http.h"

#include <curl/curl.h>

#include <fstream>
#include <mutex>
#include <sstream>

namespace svcdp::control {
namespace {

std::once_flag g_curl_init;

std::string trim_token(std::string t) {
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  return t;
}

}  // namespace

struct KubeHttp::Transfer {
  const std::function<bool(std::string_view)>* on_line = nullptr;
  const std::atomic<bool>* stop = nullptr;
  CURL* curl = nullptr;
  std::string buffer;
  bool stopped = false;
};

KubeHttp::KubeHttp(KubeConfig config, HttpTimeouts timeouts) : config_(std::move(config)), timeouts_(timeouts) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

KubeHttp::~KubeHttp() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

HttpResult KubeHttp::get(const std::string& path) {
  Transfer t;
  return perform(path, t, timeouts_.list_s);
}

HttpResult KubeHttp::stream(const std::string& path, const std::function<bool(std::string_view)>& on_line,
                            const std::atomic<bool>& stop) {
  Transfer t;
  t.on_line = &on_line;
  t.stop = &stop;
  return perform(path, t, 0);
}

HttpResult KubeHttp::perform(const std::string& path, Transfer& t, long timeout_s) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  t.curl = c;
  const std::string url = config_.server + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeouts_.connect_s);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
  // A stalled stream: less than 1 byte/s for stall_s seconds.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, timeouts_.stall_s);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "svcdp/0.1");
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);

  curl_blob ca{}, cert{}, key{};
  if (config_.insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!config_.ca_pem.empty()) {
    ca = {const_cast<char*>(config_.ca_pem.data()), config_.ca_pem.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
  } else if (!config_.ca_file.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
  }
  if (!config_.cert_pem.empty()) {
    cert = {const_cast<char*>(config_.cert_pem.data()), config_.cert_pem.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
  } else if (!config_.cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, config_.cert_file.c_str());
  }
  if (!config_.key_pem.empty()) {
    key = {const_cast<char*>(config_.key_pem.data()), config_.key_pem.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
  } else if (!config_.key_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLKEY, config_.key_file.c_str());
  }

  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  std::string token = config_.token;
  if (!config_.token_file.empty()) {  // re-read: service account tokens rotate
    std::ifstream in(config_.token_file);
    std::ostringstream s;
    s << in.rdbuf();
    token = trim_token(s.str());
  }
  if (!token.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  auto write = +[](char* data, size_t size, size_t n, void* arg) -> size_t {
    auto* tr = static_cast<Transfer*>(arg);
    tr->buffer.append(data, size * n);
    if (tr->on_line == nullptr) return size * n;
    long status = 0;
    curl_easy_getinfo(tr->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) return size * n;  // an error body: kept whole
    size_t start = 0;
    for (size_t nl; (nl = tr->buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (nl > start && !(*tr->on_line)(std::string_view(tr->buffer).substr(start, nl - start))) {
        tr->stopped = true;
        return 0;  // aborts the transfer
      }
    }
    tr->buffer.erase(0, start);
    return size * n;
  };
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  // Checked about once a second even when nothing arrives.
  auto progress = +[](void* arg, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
    auto* tr = static_cast<Transfer*>(arg);
    if (tr->stop && tr->stop->load()) {
      tr->stopped = true;
      return 1;
    }
    return 0;
  };
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);

  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  HttpResult r;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  r.body = std::move(t.buffer);
  if (rc != CURLE_OK && !t.stopped)
    r.error = rc == CURLE_OPERATION_TIMEDOUT ? "no data for " + std::to_string(timeouts_.stall_s) + " s (stalled)"
                                             : curl_easy_strerror(rc);
  return r;
}

}  // namespace svcdp::control
