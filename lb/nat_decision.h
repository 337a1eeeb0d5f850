// The decisions a new flow's first packet needs, without DPDK: which
// endpoint set applies, which endpoint, whether the source is translated
// too, and which source port. The dataplane (dataplane/lb_stage.cc and
// masquerade.cc) applies them to packets; these functions only decide.
#pragma once

#include "lb/conntrack.h"
#include "lb/service.h"

#include <optional>
#include <type_traits>

namespace svcdp::lb {

// Where the first packet of a flow came from.
enum class Origin : uint8_t {
  kPod,       // a pod of this node
  kNode,      // this node's own kernel (kubelet, hostNetwork pods)
  kExternal,  // beyond the uplink
};

template <Family F>
struct BasicNewFlow {
  // null: no usable endpoint; then `reject` says whether to answer (the
  // service has no endpoint at all) or drop silently (a Local policy and
  // no endpoint on this node), as kube-proxy's filter rules have it
  // (pkg/proxy/nftables/proxier.go, "has no endpoints" / "has no local endpoints").
  const BasicEndpoint<F>* endpoint = nullptr;
  bool reject = false;
  bool firewalled = false;  // a LoadBalancer IP, the source outside loadBalancerSourceRanges: drop
  bool external = false;  // the external endpoint set was used (kept in conntrack for later checks)
  bool snat = false;      // the source becomes this node's pod-network address
};
using NewFlow = BasicNewFlow<Ip4>;

// A new flow to `svc` reached through a front end of `kind`, kube-proxy's
// way:
//  - external front ends with externalTrafficPolicy Local keep only this
//    node's endpoints for traffic from outside; pods and the node reaching
//    them get the cluster-wide endpoints (the short-circuit of local
//    traffic, pkg/proxy/iptables/proxier.go and nftables/proxier.go);
//  - sessionAffinity ClientIP: `pinned` (the client's affinity entry) when
//    it may still take new flows; else the endpoint the client address
//    hashes to, the same on every worker, so that two first connections
//    received by two workers at once agree; without affinity, the flow hash;
//  - origin kPod also stands for any source in the cluster CIDR, wherever
//    it entered (kube-proxy's local-traffic detector, ClusterCIDR mode);
//  - the source is translated for external traffic with policy Cluster
//    (so the reply comes back here), for the node's own traffic (its
//    address is outside the pod network; kube-proxy marks it for
//    masquerade too) and for a pod reaching itself (hairpin).
// The same for both families. Thread: any.
template <Family F>
BasicNewFlow<F> decide_new_flow(const BasicService<F>& svc, Frontend kind, Origin origin, const BasicFlowKey<F>& key,
                                const std::type_identity_t<BasicNat<F>>* pinned);

// One worker's share of a port range for source translation: ports are
// tried in turn from where the last search stopped, skipping those
// `taken(port)` says are in use, at most `kTries` of them.
class PortAllocator {
 public:
  static constexpr int kTries = 16;
  // Worker `id` of `workers` gets an equal part of [lo, hi].
  PortAllocator(uint32_t lo, uint32_t hi, unsigned workers, unsigned id)
      : lo_(static_cast<uint16_t>(lo + (hi - lo + 1) / workers * id)),
        span_(static_cast<uint16_t>((hi - lo + 1) / workers)) {}

  // A free port (network order), or nullopt when the tries ran out.
  template <typename Taken>
  std::optional<be16> next(Taken taken) {
    for (int attempt = 0; attempt < kTries; ++attempt) {
      next_ = static_cast<uint16_t>((next_ + 1) % span_);
      const be16 port = to_be16(static_cast<uint16_t>(lo_ + next_));
      if (!taken(port)) return port;
    }
    return std::nullopt;
  }
  uint16_t first() const { return lo_; }
  uint16_t span() const { return span_; }

 private:
  uint16_t lo_, span_, next_ = 0;
};

}  // namespace svcdp::lb
