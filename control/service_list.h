// The service ports of the generation being built, kept from one build to
// the next so that a change costs O(its ports), not O(all services) (the
// same idea as kube-proxy's per-service change trackers,
// pkg/proxy/servicechangetracker.go): a changed port takes its
// predecessor's place, so the front ends stay where the last
// lb::ServiceTable had them and it copies its lookup index; the
// external/LoadBalancer IPs to announce are counted per address as ports
// come and go; the ports are owned in chunks of kChunk, so a generation
// copies one pointer per port and a reference count per chunk, and only
// the chunks that changed are made again.
#pragma once

#include "lb/service.h"

#include <map>
#include <memory>
#include <span>
#include <vector>

namespace svcdp::control {

// One per address family, as the tables are.
template <lb::Family F>
class BasicServiceList {
 public:
  using Addr = typename F::Addr;
  using Ptr = std::shared_ptr<const lb::BasicService<F>>;

  // Replaces the ports `old` (all in the list) by `fresh` (none in it):
  // one with an id of `old` takes its place, the others are appended, and
  // what is left of `old` is removed (the last port moves into its place).
  // Thread: control.
  void replace(std::span<const Ptr> old, std::span<const Ptr> fresh);

  // Every port, in the order the next table keeps. Thread: control.
  const std::vector<Ptr>& all() const { return all_; }

  // The same as the next lb::ServiceTable takes them. Thread: control.
  typename lb::BasicServiceTable<F>::Services services();

  // announced_ips() of the list, sorted (network order). Thread: control.
  const std::vector<Addr>& announced();

 private:
  static constexpr size_t kChunk = 64;
  void count_announced(const lb::BasicService<F>& s, int delta);
  void set(uint32_t at, Ptr p);

  std::vector<Ptr> all_;
  std::vector<const lb::BasicService<F>*> items_;  // all_'s pointers
  std::vector<std::shared_ptr<const void>> chunks_;  // chunk c owns all_[c * kChunk, (c + 1) * kChunk)
  std::vector<bool> chunk_stale_;
  std::vector<uint32_t> position_;  // by service id: index in all_, kNone if absent
  std::map<Addr, uint32_t> announced_count_;
  std::vector<Addr> announced_;
  bool announced_stale_ = false;
  static constexpr uint32_t kNone = UINT32_MAX;
};
using ServiceList = BasicServiceList<lb::Ip4>;
using ServiceList6 = BasicServiceList<lb::Ip6>;
extern template class BasicServiceList<lb::Ip4>;
extern template class BasicServiceList<lb::Ip6>;

// The external and LoadBalancer IPs of `s` this node answers ARP for:
// none unless it has an endpoint usable for external traffic here (with
// externalTrafficPolicy Local, only when a local endpoint exists, as
// MetalLB's layer-2 mode announces). Network order. Thread: any.
template <lb::Family F>
std::vector<typename F::Addr> announced_ips(const lb::BasicService<F>& s);

}  // namespace svcdp::control
