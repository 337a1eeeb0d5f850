// Every reason svcdp drops a packet. This one list drives the enum, the
// per-worker counter array, the names printed at exit and the metrics
// labels: adding a reason is adding a line here.
#pragma once

#include "dataplane/named_list.h"

namespace svcdp::dp {

#define SVCDP_DROP_REASONS(X)                                                             \
  X(kEthRunt, "eth_runt", "frame shorter than an Ethernet header")                        \
  X(kMbufChained, "mbuf_chained", "frame spread over several mbufs (jumbo)")              \
  X(kEthNotForUs, "eth_not_for_us", "destination MAC neither the port's nor broadcast") \
  X(kEthertypeUnsupported, "ethertype_unsupported", "neither IPv4, IPv6 nor ARP; or the node's multicast, with no kernel to take it")               \
  X(kPodSrcSpoofed, "pod_src_spoofed", "from the pods port with a source outside the node's pod CIDRs (RFC 3704)") \
  X(kEthGroupFromPod, "eth_group_from_pod", "multicast or broadcast frame from a pod (not routed)") \
  X(kIpTruncated, "ip_truncated", "shorter than its IPv4 header")                         \
  X(kIpBadVersion, "ip_bad_version", "IP version not the EtherType's (4 or 6)")          \
  X(kIpBadIhl, "ip_bad_ihl", "IPv4 header length below 20 bytes")                        \
  X(kIpOptions, "ip_options", "IPv4 options present")                                     \
  X(kIpBadLength, "ip_bad_length", "IPv4 total length beyond the frame or below IHL")    \
  X(kIpBadChecksum, "ip_bad_checksum", "IPv4 header checksum wrong")                     \
  X(kIp6Truncated, "ip6_truncated", "shorter than its IPv6 header")                      \
  X(kIp6Unrouted, "ip6_unrouted", "IPv6 from a pod to no pod of the cluster (beyond it: not routed yet; Destination Unreachable sent)") \
  X(kIp6BadLength, "ip6_bad_length", "IPv6 payload length beyond the frame, or a jumbogram (RFC 2675)") \
  X(kIp6BadChain, "ip6_bad_chain", "IPv6 extension headers malformed, too many, or cut from a first fragment (RFC 8200 4, RFC 7112)") \
  X(kIp6RoutingHeader, "ip6_routing_header", "IPv6 Routing header with segments left (not source-routed; RFC 5095)") \
  X(kIp6BadFragment, "ip6_bad_fragment", "two IPv6 Fragment headers, or a non-last fragment not a multiple of 8 bytes") \
  X(kIpMartianSource, "ip_martian_source", "source no host may use: 0/8, 127/8, 224/4, 240/4 (RFC 1812 5.3.7)") \
  X(kIpTtlExpired, "ip_ttl_expired", "TTL (IPv6: hop limit) would reach zero when forwarded") \
  X(kIpNoRoute, "ip_no_route", "no pod CIDR or local address matches the destination")  \
  X(kIpLocalUnhandled, "ip_local_unhandled", "addressed to the node, nothing handles it") \
  X(kUdpTruncated, "udp_truncated", "shorter than its UDP header")                        \
  X(kVxlanTruncated, "vxlan_truncated", "shorter than a VXLAN header")                    \
  X(kVxlanBadFlags, "vxlan_bad_flags", "VXLAN I flag not set (RFC 7348 section 5)")      \
  X(kVxlanUnknownVni, "vxlan_unknown_vni", "VXLAN network identifier not ours")          \
  X(kVxlanUnknownVtep, "vxlan_unknown_vtep", "VXLAN from an address that is no node's VTEP") \
  X(kVxlanInnerRunt, "vxlan_inner_runt", "inner frame shorter than Ethernet + IPv4")     \
  X(kVxlanInnerNotIp, "vxlan_inner_not_ip", "inner frame neither IPv4 nor IPv6")           \
  X(kVxlanInnerNotLocal, "vxlan_inner_not_local", "inner destination not a local pod")  \
  X(kVxlanZeroChecksum, "vxlan_zero_checksum", "VXLAN over IPv6 without a UDP checksum (RFC 6936)") \
  X(kMtuExceeded, "mtu_exceeded", "DF (or IPv6) packet larger than its link (Fragmentation Needed / Packet Too Big sent)") \
  X(kNoHeadroom, "no_headroom", "no mbuf headroom for the VXLAN header")                  \
  X(kNeighUnresolved, "neigh_unresolved", "next hop did not answer ARP, or hold full")    \
  X(kNeighTableFull, "neigh_table_full", "no room for a new neighbour entry")            \
  X(kPuntQueueFull, "punt_queue_full", "queue to the neighbour thread full")               \
  X(kTxQueueFull, "tx_queue_full", "port TX queue full")                                 \
  X(kStageVectorFull, "stage_vector_full", "a stage's vector full (never expected: at most a burst is in flight)") \
  X(kArpMalformed, "arp_malformed", "ARP not Ethernet/IPv4 or truncated (RFC 826)")       \
  X(kArpNotForUs, "arp_not_for_us", "ARP request for an address svcdp does not own")    \
  X(kArpUnsolicited, "arp_unsolicited", "ARP reply from a neighbour svcdp neither knows nor asked")  \
  X(kArpBadSender, "arp_bad_sender", "ARP sender MAC is a group or zero address (no host's)") \
  X(kArpAddressConflict, "arp_address_conflict", "ARP sender claims an address that is ours (RFC 5227)") \
  X(kNdpInvalid, "ndp_invalid", "Neighbor Solicitation or Advertisement failing RFC 4861 7.1's checks") \
  X(kNdpNotForUs, "ndp_not_for_us", "Neighbor Solicitation for an address svcdp does not own") \
  X(kNdpUnsolicited, "ndp_unsolicited", "Neighbor Advertisement from a neighbour svcdp neither knows nor asked") \
  X(kNdpAddressConflict, "ndp_address_conflict", "NDP sender claims an address that is ours (RFC 4862 5.4)") \
  X(kNoMbuf, "no_mbuf", "packet pool empty")                                             \
  X(kL4Truncated, "l4_truncated", "TCP or UDP header cut short")                          \
  X(kFragNoFirst, "frag_no_first", "later fragment to a front end whose first fragment is unknown") \
  X(kTcpBadOffset, "tcp_bad_offset", "TCP data offset below 5 words or beyond the segment") \
  X(kUdpBadLength, "udp_bad_length", "UDP length below 8 or beyond the IP payload (RFC 768)") \
  X(kTcpBadFlags, "tcp_bad_flags", "TCP flag combination no stack sends (SYN+FIN, none...)") \
  X(kLbNoFlow, "lb_no_flow", "TCP segment to a service, no flow: an RST, or one needing SNAT") \
  X(kLbEndpointGone, "lb_endpoint_gone", "reply of a flow whose endpoint left, after the grace period") \
  X(kLbNoLocalEndpoint, "lb_no_local_endpoint", "Local traffic policy, no usable endpoint on this node (kube-proxy drops)") \
  X(kLbSourceRange, "lb_source_range", "to a LoadBalancer IP from outside its loadBalancerSourceRanges") \
  X(kLbNoReject, "lb_no_reject", "service without endpoints; no reject may be sent")      \
  X(kConntrackFull, "conntrack_full", "no conntrack room for a new flow")                 \
  X(kSnatPortsExhausted, "snat_ports_exhausted", "no free SNAT or masquerade port for a new flow") \
  X(kMasqNoFlow, "masq_no_flow", "TCP segment leaving the cluster, no flow and not a SYN")  \
  X(kMasqUnsupported, "masq_unsupported", "pod egress that cannot be masqueraded (protocol, fragment)") \
  X(kDnsNotQuery, "dns_not_query", "to the cluster DNS: a DNS response or less than a header, not a query") \
  X(kShutdown, "shutdown", "held for ARP or queued to or from the neighbour thread when svcdp stopped")

SVCDP_NAMED_LIST(Drop, uint16_t, kDropInfo, kDropCount, SVCDP_DROP_REASONS)
using DropInfo = NamedInfo;

constexpr const DropInfo& drop_info(Drop d) { return kDropInfo[static_cast<size_t>(d)]; }

}  // namespace svcdp::dp
