#include "control/kube_source.h"

#include <algorithm>

namespace svcdp::control {

KubeSource::KubeSource(const KubeConfig& config, const ReflectorOptions& options, const HttpTimeouts& timeouts) {
  for (int k = 0; k < 3; ++k) {
    Watcher& w = watchers_[k];
    w.http = std::make_unique<KubeHttp>(config, timeouts);
    w.reflector = std::make_unique<Reflector>(static_cast<ResourceKind>(k), *w.http, events_, options);
    w.thread = std::thread([this, r = w.reflector.get()] { r->run(stop_); });
  }
}

KubeSource::~KubeSource() {
  stop_ = true;
  for (Watcher& w : watchers_)
    if (w.thread.joinable()) w.thread.join();
}

uint64_t KubeSource::last_contact_ns() const {
  uint64_t oldest = UINT64_MAX;
  for (const auto& w : watchers_) oldest = std::min(oldest, w.reflector->stats().last_contact_ns.load());
  return oldest == UINT64_MAX ? 0 : oldest;
}

std::string KubeSource::stats() const {
  std::string out;
  for (const Watcher& w : watchers_) {
    const ReflectorStats& s = w.reflector->stats();
    if (!out.empty()) out += "  ";
    out += std::string(kResourceNames[static_cast<int>(w.reflector->kind())]) + ": lists=" + std::to_string(s.lists) +
           " watches=" + std::to_string(s.watches) + " events=" + std::to_string(s.events) +
           " bookmarks=" + std::to_string(s.bookmarks) + " expired=" + std::to_string(s.expired) +
           " errors=" + std::to_string(s.errors) + " bad=" + std::to_string(s.bad_events);
  }
  return out;
}

}  // namespace svcdp::control
