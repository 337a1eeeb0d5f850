// The worker's stages (the map is in worker.h): free functions over the
// worker's context, one file each, as grout's nodes over their context.
// A vector stage takes one packet of its vector with the headers the
// dispatcher found and queues it for its next stage (WorkerContext::next),
// transmits it, or drops it under a reason. Thread: the worker's lcore.
#pragma once

#include "dataplane/ipv6.h"
#include "dataplane/worker_context.h"

#include <rte_ip.h>
#include <rte_udp.h>

namespace svcdp::dp {

// Drops Ethernet padding after the IP packet of `packet_len` bytes, so
// that it is not carried into a tunnel or a translated length.
inline void trim_padding(rte_mbuf* m, uint32_t packet_len) {
  const uint32_t len = rte_pktmbuf_data_len(m), frame_len = sizeof(rte_ether_hdr) + packet_len;
  if (len > frame_len) rte_pktmbuf_trim(m, static_cast<uint16_t>(len - frame_len));
}

// The IPv6 packet of frame `m`, its header chain walked into `c` (RFC 8200
// section 4); nullptr, with `m` dropped for what is wrong, when it is
// malformed.
inline uint8_t* walk_frame6(WorkerContext& w, rte_mbuf* m, Ipv6Chain& c) {
  auto* ip6 = rte_pktmbuf_mtod_offset(m, uint8_t*, sizeof(rte_ether_hdr));
  if (auto bad = walk_ipv6(ip6, rte_pktmbuf_data_len(m) - uint32_t{sizeof(rte_ether_hdr)}, c)) {
    w.drop(m, *bad);
    return nullptr;
  }
  return ip6;
}

// eth_input.cc. `hash`: the tuple's flow_hash when the RX loop computed
// it for the conntrack prefetch (0: none), passed on to lb_input.
void eth_input(WorkerContext& w, Role in, rte_mbuf* m, uint64_t hash);
void uplink_input(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, uint64_t hash);
void pods_input(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, uint64_t hash);
void exception_input(WorkerContext& w, rte_mbuf* m, const Fib& fib, uint64_t hash);

// ip6_input.cc: IPv6 from a local pod (frames of the IPv6 EtherType on
// the pods port, neighbour discovery's multicast included), and IPv6 to
// one (`ip6`: its IPv6 header in `m`).
// `hash`: the flow_hash the RX loop computed guessing TCP/UDP right after
// the fixed header (0: none), passed on to lb6_input.
void ip6_input(WorkerContext& w, rte_mbuf* m, const Fib& fib, uint64_t hash = 0);
void pods_output6(WorkerContext& w, rte_mbuf* m, rte_ether_hdr* eth, uint8_t* ip6, const Ipv6Chain& chain,
                  const lb::Addr6& dst, const Fib& fib, From from = From::kPods);
// An IPv6 packet sent by its destination `dst`: a pod of this node, one
// of another node (VXLAN), the node's kernel (its IPv6 address, with an
// exception TAP); a translated one (a Service's reply to an outside
// client) beyond the cluster out of the uplink, the kernel's own as it
// sent it; a pod's masqueraded; else Destination Unreachable back where it
// came from.
void ip6_route(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const lb::Addr6& dst,
               const Fib& fib, From from, bool translated);

// ip6_node.cc: IPv6 from the node's kernel (from exception_input, its
// stage): to pods and IPv6 Services through svcdp, the rest to the uplink.
void exception_input6(WorkerContext& w, rte_mbuf* m, const Fib& fib, uint64_t hash);

// ip6_uplink.cc: IPv6 from the physical network (neighbour discovery to
// the control thread and the kernel, Service front ends to lb6, the rest
// to the kernel); and IPv6 out of the uplink, to its next hop
// (Fib::uplink_nexthop6) over NDP.
void uplink_input6(WorkerContext& w, rte_mbuf* m, const Fib& fib, uint64_t hash);
void uplink_output6(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const lb::Addr6& dst,
                    const Fib& fib, From from);

// lb6_stage.cc: IPv6 Service traffic of this node's pods (inline in
// ip6_input, after the ingress filter): true when it took the packet
// (translated and delivered, rejected or dropped), false when it is no
// Service traffic and ip6_input goes on with it. Whether `a` is in one of
// this node's IPv6 pod CIDRs.
bool lb6_input(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const Fib& fib, From from,
               uint64_t hash = 0);
bool local_pod6(const Fib& fib, const lb::Addr6& a);
// Whether `a` is in the cluster's IPv6 pod network: a Node's IPv6 pod
// CIDR or an IPv6 --cluster-cidr.
bool in_cluster6(const Fib& fib, const lb::Addr6& a);
// Rewrites an IPv6 packet of flow `f` → ip6_route.
void lb6_translate(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const lb::CtMatch6& f,
                   const Fib& fib, From from);
// A free source port of `ports` for `key` NATed to nat.snat (as snat_port).
bool snat_port6(WorkerContext& w, const lb::FlowKey6& key, lb::Nat6& nat, lb::PortAllocator& ports);
// The 5-tuple of an IPv6 TCP, UDP or SCTP packet whose ports are there.
inline lb::FlowKey6 flow_key6(const uint8_t* ip6, const Ipv6Chain& c) {
  return {ipv6_src(ip6), ipv6_dst(ip6), l4_port(ip6 + c.l4_offset, 0), l4_port(ip6 + c.l4_offset, 2), c.proto};
}
// The parts of pods_input and exception_input after the lb stage.
void pods_route(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib);
void node_route(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib);

// vxlan_stage.cc. inner_flow_hash: the hash of an IPv4 flow used where
// the NIC gave none (addresses, protocol and, for whole TCP/UDP
// datagrams, ports), for the outer UDP source port. Thread: any.
uint32_t inner_flow_hash(const rte_ipv4_hdr* ip);
void vxlan_decap(WorkerContext& w, rte_mbuf* m, rte_udp_hdr* udp, uint32_t udp_avail, const Fib& fib);
// VXLAN over the IPv6 underlay (from ip6_uplink_input, `c` the outer chain).
void vxlan_decap_ip6(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const Fib& fib);
// Both underlays' common part: the VXLAN header (`udp` the outer UDP
// header, `outer_len` the bytes in front of the inner frame), then the
// inner IPv4 or IPv6 packet for a local pod.
void vxlan_inner(WorkerContext& w, rte_mbuf* m, rte_udp_hdr* udp, uint32_t udp_avail, uint32_t outer_len,
                 const Fib& fib);
void vxlan_encap(WorkerContext& w, rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, const RemoteNode& node,
                 From from, const Fib& fib);
// The same for an IPv6 packet of a local pod (`c` as walk_ipv6 read it),
// inline in ip6_route; and its flow hash.
uint32_t inner_flow_hash6(const uint8_t* ip6, const Ipv6Chain& c);
void vxlan_encap6(WorkerContext& w, rte_mbuf* m, rte_ether_hdr* eth, uint8_t* ip6, const Ipv6Chain& c,
                  const RemoteNode& node, const Fib& fib, From from);

// ip_output.cc: sends a packet by its destination: the node's kernel, a
// local pod, a remote pod, or beyond the uplink (on-link, or through the
// uplink gateway).
void ip_route(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from);
void pods_output(WorkerContext& w, rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, From from, const Fib& fib);
void uplink_output(WorkerContext& w, rte_mbuf* m, rte_ether_hdr* eth, rte_ipv4_hdr* ip, From from, const Fib& fib);
// Hands a frame to the node's kernel through the exception TAP, or drops
// it for `otherwise` when there is none.
void to_kernel(WorkerContext& w, rte_mbuf* m, Drop otherwise);
// TTL and MTU checks before forwarding onto a link of IP MTU `mtu`.
enum class Fit : uint8_t {
  kForward,   // fits: TTL decremented, go on
  kConsumed,  // an ICMP error sent instead, or dropped
  kFragment,  // too large without DF: fragment, then each fragment again
};
Fit forward_check(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, uint16_t mtu, From from, const Fib& fib);

// ip_fragment.cc: replaces `m` by fragments of at most `mtu` bytes
// (RFC 791 section 3.2); returns how many (0: dropped).
uint16_t ip_fragment(WorkerContext& w, rte_mbuf* m, const rte_ipv4_hdr* ip, uint16_t mtu,
                     rte_mbuf* (&out)[kMaxFragments]);
// Runs `output` (uplink_output or vxlan_encap's caller) on each fragment of `m`.
template <class Output>
void fragment_then(WorkerContext& w, rte_mbuf* m, const rte_ipv4_hdr* ip, uint16_t mtu, Output output) {
  rte_mbuf* frags[kMaxFragments];
  const uint16_t n = ip_fragment(w, m, ip, mtu, frags);
  for (uint16_t i = 0; i < n; ++i) {
    auto* eth = rte_pktmbuf_mtod(frags[i], rte_ether_hdr*);
    output(frags[i], eth, reinterpret_cast<rte_ipv4_hdr*>(eth + 1));
  }
}

// icmp_error.cc: replaces `m` by the ICMP error `type`/`code` about it
// (RFC 792, RFC 1812 section 4.3.2), or drops it for `why` when none may
// or can be sent; rate-limited like Linux's icmp_ratelimit.
void icmp_error(WorkerContext& w, rte_mbuf* m, uint8_t type, uint8_t code, uint16_t mtu, Drop why, From from,
                const Fib& fib);
// The same for an IPv6 packet (RFC 4443), `chain` as walk_ipv6 read it,
// `param` the second word, sent back where it came from (`from`): to the
// pods from their IPv6 gateway, to the uplink from the node's IPv6
// address; rate-limited with the IPv4 errors.
void icmp6_error(WorkerContext& w, rte_mbuf* m, const Ipv6Chain& chain, uint8_t type, uint8_t code, uint32_t param,
                 Drop why, const Fib& fib, From from = From::kPods);

// masquerade.cc: a new pod flow to outside the cluster, its source
// rewritten to the node address (flannel's ipMasq, ip-masq-agent); and
// the same for IPv6, to the node's IPv6 address (`c` as walk_ipv6 read it).
void masquerade(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib);
void masquerade6(WorkerContext& w, rte_mbuf* m, uint8_t* ip6, const Ipv6Chain& c, const Fib& fib);

// lb_stage.cc. lb_input, inline in the input stages: the checks and the
// classification before conntrack; true when it took the packet
// (dropped, an ICMP error or later fragment translated, or queued for the
// lb stage, which sends what it does not translate on to `otherwise`),
// false when it is not translated traffic and the caller goes on with it.
// `hash`: flow_hash of the packet's tuple if known (0: computed here).
bool lb_input(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from, Continue otherwise,
              uint64_t hash = 0);
// The lb stage, per packet of its vector, in order (a flow a packet opens
// is found by the next): conntrack, new flows, NAT; false when the packet
// is not translated traffic after all. `hash`: the tuple's flow_hash, as
// lb_input computed it (0: computed here).
bool lb_flow(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from, uint64_t hash);
// Where a packet lb_flow did not take goes on.
void lb_continue(WorkerContext& w, rte_mbuf* m, Continue where, const Fib& fib);
// An ICMP error quoting a packet of a translated flow: its quote and
// outer header translated as that flow's packets are (RFC 5508 section 4)
// → ip_route; false when it is about no flow.
bool lb_icmp_error(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, From from);
// Rewrites a packet of flow `f` → ip_route.
void lb_translate(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const lb::CtMatch& f, From from);
// A free source port of this worker's part of `ports` for `key` NATed to
// nat.snat: free means no flow already answers on (backend, snat, port).
bool snat_port(WorkerContext& w, const lb::FlowKey& key, lb::Nat& nat, lb::PortAllocator& ports);
// The conntrack lookup, starting with the shard that owns an SNAT or
// masquerade port when the destination is one of ours. `h`:
// flow_hash(key) when known (0: computed).
std::optional<lb::CtMatch> ct_lookup(const WorkerContext& w, const lb::FlowKey& key, const Fib& fib, uint64_t h = 0);

// dns_stage.cc: a UDP query to the cluster DNS (lb_input checked the UDP
// header is there) answered → pods_output | to_kernel, or → lb.
void dns_query(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, const PktCtx& c);

}  // namespace svcdp::dp
