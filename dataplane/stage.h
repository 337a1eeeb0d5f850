// The worker's stages, named as in worker.h's map: one list drives the
// enum, the per-stage packet and cycle counters (VPP's `show runtime`)
// and the names a packet trace prints. The list is in graph order: the
// worker runs the pending vector of the first stage in it that has one,
// so a packet's next stages (mostly later in the list) run after it.
#pragma once

#include "dataplane/named_list.h"

namespace svcdp::dp {

#define SVCDP_STAGES(X)                                                                    \
  X(kEthInput, "eth_input", "every frame received")                                        \
  X(kUplinkInput, "uplink_input", "IPv4 from the physical network")                        \
  X(kPodsInput, "pods_input", "IPv4 from a local pod")                                     \
  X(kIp6Input, "ip6_input", "IPv6 from a local pod: neighbour discovery, Services, other pods")  \
  X(kIp6UplinkInput, "ip6_uplink_input", "IPv6 from the physical network: Service front ends, else the kernel's") \
  X(kExceptionInput, "exception_input", "what the node's kernel sent through the TAP")    \
  X(kVxlanDecap, "vxlan_decap", "VXLAN for this node's VTEP")                              \
  X(kDns, "dns", "a query to the cluster DNS Service: answered here or passed on")            \
  X(kLb, "lb", "looked up in conntrack: front ends and possibly translated flows")         \
  X(kLbNewFlow, "lb_new_flow", "a new flow to a Service front end")                        \
  X(kMasquerade, "masquerade", "a new pod flow leaving the cluster")                       \
  X(kIpRoute, "ip_route", "routed by destination after translation")                       \
  X(kPodsOutput, "pods_output", "to a pod on this node (IPv4 or IPv6)")                                   \
  X(kVxlanEncap, "vxlan_encap", "to a pod on another node")                                \
  X(kUplinkOutput, "uplink_output", "out of the uplink, not tunnelled (IPv4 or IPv6)")     \
  X(kToKernel, "to_kernel", "to the node's kernel")                                        \
  X(kIcmpError, "icmp_error", "an ICMP error originated instead of forwarding")           \
  X(kIpFragment, "ip_fragment", "fragmented: larger than the link, DF not set")          \
  X(kArp, "arp", "ARP, to the control thread")                                             \
  X(kNdp, "ndp", "IPv6 neighbour discovery, to the control thread")

SVCDP_NAMED_LIST(Stage, uint8_t, kStageInfo, kStageCount, SVCDP_STAGES)
static_assert(kStageCount <= 32, "a worker's pending stages are a 32-bit mask");

}  // namespace svcdp::dp
