// The Kubernetes API source: one thread per resource (Nodes, Services,
// EndpointSlices), each with its own HTTPS connection and Reflector,
// feeding one EventQueue that the control thread drains.
#pragma once

#include "control/reflector.h"

#include <array>
#include <memory>
#include <string>
#include <thread>

namespace svcdp::control {

class KubeSource {
 public:
  // Thread: control.
  KubeSource(const KubeConfig& config, const ReflectorOptions& options, const HttpTimeouts& timeouts);
  // Stops the watchers and joins them. Thread: control.
  ~KubeSource();
  KubeSource(const KubeSource&) = delete;
  KubeSource& operator=(const KubeSource&) = delete;

  EventQueue& events() { return events_; }
  // One line: lists, watches, events, bookmarks, 410s, errors per resource.
  std::string stats() const;
  // The oldest of the resources' last contact with the API server
  // (steady clock), 0 while one has had none. Thread: any.
  uint64_t last_contact_ns() const;
  const ReflectorStats& stats(ResourceKind kind) const { return watchers_[static_cast<size_t>(kind)].reflector->stats(); }

 private:
  struct Watcher {
    std::unique_ptr<KubeHttp> http;
    std::unique_ptr<Reflector> reflector;
    std::thread thread;
  };
  EventQueue events_;
  std::atomic<bool> stop_{false};
  std::array<Watcher, 3> watchers_;
};

}  // namespace svcdp::control
