// What the API watchers hand to the control thread: decoded objects with
// what happened to them, through a queue that only non-worker threads
// touch (the control thread drains it once per loop).
#pragma once

#include "control/k8s_objects.h"

#include <cstdint>
#include <mutex>
#include <variant>
#include <vector>

namespace svcdp::control {

enum class ResourceKind : uint8_t { kNode, kService, kSlice };
inline constexpr const char* kResourceNames[] = {"nodes", "services", "endpointslices"};

using KubeObject = std::variant<NodeInfo, ServiceInfo, EndpointSliceInfo>;

struct KubeEvent {
  enum class Type : uint8_t {
    kUpsert,   // ADDED or MODIFIED
    kDelete,   // DELETED (the object's last state)
    kReplace,  // a complete list: these objects and no others
  };
  ResourceKind kind;
  Type type;
  std::vector<KubeObject> objects;
  uint64_t received_ns = 0;  // when the watcher had it (steady clock)
};

class EventQueue {
 public:
  // Thread: any watcher.
  void push(KubeEvent e) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(e));
  }
  // Everything queued so far, oldest first. Thread: control.
  std::vector<KubeEvent> drain() {
    std::vector<KubeEvent> out;
    std::lock_guard lock(mu_);
    out.swap(events_);
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<KubeEvent> events_;
};

}  // namespace svcdp::control
