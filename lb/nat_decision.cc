#include "lb/nat_decision.h"

namespace svcdp::lb {

namespace {

// The endpoint a client's address hashes to (session affinity).
uint64_t client_hash(be32 a) { return mix64(a); }
uint64_t client_hash(const Addr6& a) { return fold_hash(a); }

}  // namespace

template <Family F>
BasicNewFlow<F> decide_new_flow(const BasicService<F>& svc, Frontend kind, Origin origin, const BasicFlowKey<F>& key,
                                const std::type_identity_t<BasicNat<F>>* pinned) {
  const BasicServiceSpec<F>& spec = svc.spec();
  const bool external_frontend = kind != Frontend::kClusterIp;
  BasicNewFlow<F> d;
  if (!svc.source_allowed(kind, key.src)) {
    d.firewalled = true;
    return d;
  }
  d.external = external_frontend && (origin == Origin::kExternal || spec.external_policy == TrafficPolicy::kCluster);
  if (spec.affinity_client_ip && pinned != nullptr)
    if (const BasicEndpoint<F>* e = svc.find(pinned->backend, pinned->backend_port); e && svc.usable(d.external, *e))
      d.endpoint = e;
  if (d.endpoint == nullptr)
    d.endpoint = svc.pick(d.external, spec.affinity_client_ip ? client_hash(key.src) : flow_hash(key));
  if (d.endpoint == nullptr) {
    d.reject = !svc.has_any_endpoint();
    return d;
  }
  d.snat = (external_frontend && spec.external_policy == TrafficPolicy::kCluster) || origin == Origin::kNode ||
           d.endpoint->addr == key.src;
  return d;
}

template BasicNewFlow<Ip4> decide_new_flow(const Service&, Frontend, Origin, const FlowKey&, const Nat*);
template BasicNewFlow<Ip6> decide_new_flow(const Service6&, Frontend, Origin, const FlowKey6&, const Nat6*);

}  // namespace svcdp::lb
