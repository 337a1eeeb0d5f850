// VXLAN encapsulation (RFC 7348) with a prebuilt header template, as grout
// and VPP do: per remote node, the 50 bytes of outer Ethernet + IPv4 + UDP +
// VXLAN are built once on the control thread; the worker copies them in
// front of the inner frame and patches only what varies per packet
// (next-hop MAC, lengths, checksum, UDP source port).
#pragma once

#include "dataplane/drop_reason.h"
#include "dataplane/ipv4.h"
#include "dataplane/types.h"
#include "lb/types.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include <cstring>
#include <optional>

namespace svcdp::dp {

inline constexpr uint32_t kVxlanOuterLen =
    sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr) + sizeof(rte_vxlan_hdr);
static_assert(kVxlanOuterLen == 50);

// RFC 7348 section 5: the I flag (0x08 in the first byte) marks a valid VNI.
inline constexpr uint8_t kVxlanFlagI = 0x08;

struct VxlanTemplate {
  alignas(16) uint8_t bytes[kVxlanOuterLen];
  // One's-complement sum of the outer IPv4 header with total length and
  // checksum zero; per packet only the length is added (RFC 1624).
  uint32_t ip_sum_base;
  // Inner Ethernet addresses: ours (source) and the remote VTEP's.
  rte_ether_addr inner_src;
  rte_ether_addr inner_dst;
};

// Builds the template for one remote VTEP. Outer Ethernet: source
// `local_mac`, destination filled per packet from the neighbour table.
// Outer IPv4 (RFC 7348 section 5): DF set, since VTEPs must not fragment
// (section 4.3); TTL 64. UDP checksum zero, allowed over IPv4 (section 5).
// Thread: control.
VxlanTemplate make_vxlan_template(const rte_ether_addr& local_mac, be32 local_ip, be32 remote_ip,
                                  const rte_ether_addr& remote_vtep_mac, uint32_t vni, uint16_t udp_port);

// RFC 7348 section 5 recommends a source port from a hash of the inner
// flow, in the dynamic range 49152-65535, so that ECMP in the underlay
// spreads flows yet keeps each one on one path.
inline be16 vxlan_source_port(uint32_t inner_hash) {
  return rte_cpu_to_be_16(static_cast<uint16_t>(49152u | (inner_hash & 0x3fffu)));
}

// Writes the template at `outer` (kVxlanOuterLen bytes in front of an inner
// Ethernet frame of `inner_len` bytes) and patches it. Thread: any worker.
inline void vxlan_write_outer(uint8_t* outer, const VxlanTemplate& t, const rte_ether_addr& nexthop_mac,
                              uint32_t inner_len, be16 src_port) {
  std::memcpy(outer, t.bytes, kVxlanOuterLen);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(outer);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
  eth->dst_addr = nexthop_mac;
  const uint16_t ip_len = static_cast<uint16_t>(inner_len + kVxlanOuterLen - sizeof(rte_ether_hdr));
  ip->total_length = rte_cpu_to_be_16(ip_len);
  uint32_t sum = t.ip_sum_base + ip->total_length;
  ip->hdr_checksum = static_cast<uint16_t>(~csum_fold32(sum));
  udp->src_port = src_port;
  udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(ip_len - sizeof(rte_ipv4_hdr)));
}

// The same over an IPv6 underlay (RFC 7348 section 5 allows either):
// outer Ethernet + IPv6 + UDP + VXLAN, 70 bytes. Unlike IPv4, the UDP
// checksum is computed over the whole datagram: RFC 6935's zero checksum
// is for tunnels that meet RFC 6936's conditions, and Linux's vxlan
// drops such packets unless told otherwise (udp6zerocsumrx).
inline constexpr uint32_t kVxlanOuterLen6 = sizeof(rte_ether_hdr) + 40 + sizeof(rte_udp_hdr) + sizeof(rte_vxlan_hdr);
static_assert(kVxlanOuterLen6 == 70);

struct VxlanTemplate6 {
  alignas(16) uint8_t bytes[kVxlanOuterLen6];
  rte_ether_addr inner_src;
  rte_ether_addr inner_dst;
};

// Outer IPv6: traffic class and flow label 0, hop limit 64. Thread: control.
VxlanTemplate6 make_vxlan_template6(const rte_ether_addr& local_mac, const lb::Addr6& local_ip,
                                    const lb::Addr6& remote_ip, const rte_ether_addr& remote_vtep_mac, uint32_t vni,
                                    uint16_t udp_port);

// Writes the IPv6 template at `outer` and patches it: lengths, source
// port, the UDP checksum over the inner frame. Thread: any worker.
inline void vxlan_write_outer6(uint8_t* outer, const VxlanTemplate6& t, const rte_ether_addr& nexthop_mac,
                               uint32_t inner_len, be16 src_port) {
  std::memcpy(outer, t.bytes, kVxlanOuterLen6);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(outer);
  auto* ip6 = reinterpret_cast<rte_ipv6_hdr*>(eth + 1);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(ip6 + 1);
  eth->dst_addr = nexthop_mac;
  const auto udp_len = rte_cpu_to_be_16(static_cast<uint16_t>(inner_len + sizeof(rte_udp_hdr) + sizeof(rte_vxlan_hdr)));
  ip6->payload_len = udp_len;
  udp->dgram_len = udp_len;
  udp->src_port = src_port;
  udp->dgram_cksum = 0;
  udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip6, udp);  // 0 comes out as 0xffff (RFC 8200 section 8.1)
}

// Checks the VXLAN header and the inner frame after an outer IPv4/UDP
// header already validated (RFC 7348 section 5: I flag must be set,
// reserved bits ignored on receipt; VNI must be ours). `udp` points at the
// outer UDP header, `avail` bytes from there to the end of the frame.
// Thread: any.
std::optional<Drop> vxlan_check(const rte_udp_hdr* udp, uint32_t avail, uint32_t vni);

}  // namespace svcdp::dp
