// eth_input: the first stage of every received frame (IEEE 802.3 framing,
// RFC 1812 section 5.2.2 checks), and the per-port IPv4 input stages that
// decide where a packet goes next.
#include "dataplane/ipv4.h"
#include "dataplane/stages.h"

#include <rte_arp.h>

namespace svcdp::dp {
namespace {

// The target address of an ARP frame (RFC 826 layout for Ethernet/IPv4),
// 0 when the frame is too short to hold one.
be32 arp_target(const rte_mbuf* m) {
  constexpr uint32_t kOffset = sizeof(rte_ether_hdr) + offsetof(rte_arp_hdr, arp_data) +
                               offsetof(rte_arp_ipv4, arp_tip);
  if (rte_pktmbuf_data_len(m) < kOffset + sizeof(be32)) return 0;
  be32 tip;
  std::memcpy(&tip, rte_pktmbuf_mtod_offset(m, const uint8_t*, kOffset), sizeof tip);
  return tip;
}

}  // namespace

void eth_input(WorkerContext& w, Role in, rte_mbuf* m, uint64_t hash) {
  w.stage(Stage::kEthInput);
  if (m->nb_segs != 1) return w.drop(m, Drop::kMbufChained);
  const uint32_t len = rte_pktmbuf_data_len(m);
  if (len < sizeof(rte_ether_hdr)) return w.drop(m, Drop::kEthRunt);
  if (in == Role::EXCEPTION) return w.next(Stage::kExceptionInput, m, From::kNode, 0, hash);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  const bool group = rte_is_multicast_ether_addr(&eth->dst_addr);  // broadcast included
  if (!group && !rte_is_same_ether_addr(&eth->dst_addr, &w.setup.macs[idx(in)])) return w.drop(m, Drop::kEthNotForUs);
  if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) return w.punt(m, Punt::ARP, in, 0);
  // IPv6, neighbour discovery's multicast included: a pod's, or the
  // physical network's (Service front ends; the rest is the kernel's).
  if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6))
    return in == Role::PODS ? w.next(Stage::kIp6Input, m, From::kPods, 0, hash)
                            : w.next(Stage::kIp6UplinkInput, m, From::kUplink, 0, hash);
  // The node's multicast and broadcast (IPv6 neighbour discovery, VRRP,
  // LLDP, OSPF, DHCP) and every protocol svcdp does not route are the
  // kernel's; pods get no say in them.
  if (group || eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
    if (in == Role::UPLINK) return w.next(Stage::kToKernel, m, From::kUplink, kernel_or(Drop::kEthertypeUnsupported));
    return w.drop(m, group ? Drop::kEthGroupFromPod : Drop::kEthertypeUnsupported);
  }

  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  if (auto bad = check_ipv4(ip, len - sizeof(rte_ether_hdr), m->ol_flags)) return w.drop(m, *bad);
  // Drop Ethernet padding so that it is not carried into a tunnel.
  trim_padding(m, rte_be_to_cpu_16(ip->total_length));

  if (in == Role::UPLINK) return w.next(Stage::kUplinkInput, m, From::kUplink, 0, hash);
  w.next(Stage::kPodsInput, m, From::kPods, 0, hash);
}

// From the physical network: VXLAN for our VTEP, Service front ends
// (NodePorts, external and LoadBalancer IPs) and replies to masqueraded
// pod flows are svcdp's; everything else to the node is the kernel's
// (SSH, kubelet, BGP).
void uplink_input(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, uint64_t hash) {
  w.stage(Stage::kUplinkInput);
  if (ipv4_is_martian_source(rte_be_to_cpu_32(ip->src_addr))) return w.drop(m, Drop::kIpMartianSource);
  if (ip->dst_addr != fib.node_ip) {
    if (lb_input(w, m, ip, fib, From::kUplink, Continue::kUplinkTransit, hash)) return;
    return lb_continue(w, m, Continue::kUplinkTransit, fib);
  }
  if (ip->next_proto_id == IPPROTO_UDP && !ipv4_is_fragment(ip)) {
    const uint32_t avail = rte_be_to_cpu_16(ip->total_length) - sizeof(rte_ipv4_hdr);
    if (avail < sizeof(rte_udp_hdr)) return w.drop(m, Drop::kUdpTruncated);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    if (udp->dst_port == fib.vxlan_port) return w.next(Stage::kVxlanDecap, m, From::kUplink);
  }
  if (lb_input(w, m, ip, fib, From::kUplink, Continue::kUplinkLocal, hash)) return;
  lb_continue(w, m, Continue::kUplinkLocal, fib);
}

// From a local pod: Services first, then by destination. The node's own
// addresses are the kernel's (kubelet, hostNetwork pods, metrics-server
// scraping kubelet); destinations outside the cluster are masqueraded
// unless listed as non-masquerade. Ingress filtering (RFC 3704 section
// 2.1) first: the pods port only carries addresses of this node's pod
// CIDRs, so that no pod speaks for another node's pod, the node or an
// outside host into the overlay, a Service or the masquerade.
void pods_input(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, uint64_t hash) {
  w.stage(Stage::kPodsInput);
  if (!fib.local_pods.contains(rte_be_to_cpu_32(ip->src_addr))) return w.drop(m, Drop::kPodSrcSpoofed);
  if (lb_input(w, m, ip, fib, From::kPods, Continue::kPodsRoute, hash)) return;
  pods_route(w, m, ip, fib);
}

void pods_route(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib) {
  if (ip->dst_addr == fib.node_ip || ip->dst_addr == fib.pod_gateway)
    return w.next(Stage::kToKernel, m, From::kPods, kernel_or(Drop::kIpLocalUnhandled));
  const uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
  if (fib.local_pods.contains(dst)) return w.next(Stage::kPodsOutput, m, From::kPods);
  if (auto node = fib.remote_pods.lookup(dst)) return w.next(Stage::kVxlanEncap, m, From::kPods, *node);
  if (fib.cluster.contains(dst)) return w.drop(m, Drop::kIpNoRoute);
  if (fib.no_masquerade.contains(dst)) return w.next(Stage::kUplinkOutput, m, From::kPods);
  w.next(Stage::kMasquerade, m, From::kPods);
}

// From the node's kernel through the TAP (kubelet's probes, hostNetwork
// pods, the node reaching Services): local and remote pods and Services
// through svcdp; everything else leaves by the uplink as the kernel sent
// it (its own routes and neighbours). ARP for the pod gateway, which the
// kernel's routes to pods and Services use as next hop, is answered by
// the control thread.
void exception_input(WorkerContext& w, rte_mbuf* m, const Fib& fib, uint64_t hash) {
  w.stage(Stage::kExceptionInput);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
    if (arp_target(m) == fib.pod_gateway) return w.punt(m, Punt::ARP, Role::EXCEPTION, 0);
    return w.tx(Role::UPLINK, m);
  }
  if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) return exception_input6(w, m, fib, hash);
  if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || rte_is_multicast_ether_addr(&eth->dst_addr))
    return w.tx(Role::UPLINK, m);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  const uint32_t len = rte_pktmbuf_data_len(m);
  if (auto bad = check_ipv4(ip, len - sizeof(rte_ether_hdr), m->ol_flags)) return w.drop(m, *bad);
  trim_padding(m, rte_be_to_cpu_16(ip->total_length));
  ++w.counters.from_kernel;
  if (lb_input(w, m, ip, fib, From::kNode, Continue::kNodeRoute, hash)) return;
  node_route(w, m, ip, fib);
}

void node_route(WorkerContext& w, rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib) {
  const uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
  if (fib.local_pods.contains(dst)) return w.next(Stage::kPodsOutput, m, From::kNode);
  if (auto node = fib.remote_pods.lookup(dst)) return w.next(Stage::kVxlanEncap, m, From::kNode, *node);
  w.tx(Role::UPLINK, m);
}

}  // namespace svcdp::dp
