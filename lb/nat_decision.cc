#include "lb/nat_decision.h"

namespace svcdp::lb {

NewFlow decide_new_flow(const Service& svc, Frontend kind, Origin origin, const FlowKey& key, const Nat* pinned) {
  const ServiceSpec& spec = svc.spec();
  const bool external_frontend = kind != Frontend::kClusterIp;
  NewFlow d;
  if (!svc.source_allowed(kind, key.src)) {
    d.firewalled = true;
    return d;
  }
  d.external = external_frontend && (origin == Origin::kExternal || spec.external_policy == TrafficPolicy::kCluster);
  if (spec.affinity_client_ip && pinned != nullptr)
    if (const Endpoint* e = svc.find(pinned->backend, pinned->backend_port); e && svc.usable(d.external, *e))
      d.endpoint = e;
  if (d.endpoint == nullptr) d.endpoint = svc.pick(d.external, spec.affinity_client_ip ? mix64(key.src) : flow_hash(key));
  if (d.endpoint == nullptr) {
    d.reject = !svc.has_any_endpoint();
    return d;
  }
  d.snat = (external_frontend && spec.external_policy == TrafficPolicy::kCluster) || origin == Origin::kNode ||
           d.endpoint->addr == key.src;
  return d;
}

}  // namespace svcdp::lb
