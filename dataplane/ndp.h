// IPv6 neighbour discovery over Ethernet (RFC 4861): reading Neighbor
// Solicitations and Advertisements with the checks of RFC 4861 section
// 7.1, and building the Advertisements and Solicitations svcdp sends for
// the addresses it owns (the pods' IPv6 gateway) and the next hops it
// resolves; the ICMPv6 checksum (RFC 4443 section 2.3) over RFC 8200
// section 8.1's pseudo-header. Pure functions over bytes, as arp.h: not
// yet wired into the stages (issue 18). Thread: any.
#pragma once

#include "conf/inet.h"

#include <rte_ether.h>
#include <rte_ip.h>

#include <cstdint>
#include <optional>

namespace svcdp::dp {

inline constexpr uint8_t kIcmp6NeighborSolicitation = 135, kIcmp6NeighborAdvertisement = 136;
inline constexpr uint8_t kIpProtoIcmp6 = 58;

struct NdpMessage {
  uint8_t type;            // kIcmp6NeighborSolicitation or kIcmp6NeighborAdvertisement
  conf::Ipv6Addr src, dst;  // of the IPv6 header
  conf::Ipv6Addr target;
  // The source (NS) or target (NA) link-layer address option, if any.
  std::optional<rte_ether_addr> link_addr;
  bool router = false, solicited = false, override_flag = false;  // NA flags
};

// The ICMPv6 checksum of `icmp` (`len` bytes, its checksum field
// included as it is) under the pseudo-header of `src` and `dst`: 0 when
// a received message's checksum is right; over a message whose checksum
// field is 0, the value to put there.
uint16_t icmp6_checksum(const conf::Ipv6Addr& src, const conf::Ipv6Addr& dst, const uint8_t* icmp, uint32_t len);

// Reads an NS or NA from its IPv6 header on (`len` bytes), or nullopt
// when RFC 4861 section 7.1.1 / 7.1.2 says to discard it silently: hop
// limit not 255, bad checksum, code not 0, shorter than 24 bytes, a
// multicast target, an option of length 0; an NS from the unspecified
// address not to a solicited-node address or with a source link-layer
// option; an NA to a multicast address with the Solicited flag. Extension
// headers are not walked: ND messages carry none.
std::optional<NdpMessage> parse_ndp(const uint8_t* ip6, uint32_t len);

// ff02::1:ffXX:XXXX for `ip` (RFC 4291 section 2.7.1), and its Ethernet
// address 33:33:ff:XX:XX:XX (RFC 2464 section 7).
conf::Ipv6Addr solicited_node(const conf::Ipv6Addr& ip);
rte_ether_addr multicast_mac(const conf::Ipv6Addr& group);

// Size of the frames build_neighbor_advert and build_neighbor_solicit
// write: Ethernet 14 + IPv6 40 + ICMPv6 24 + one 8-byte link-layer
// address option.
inline constexpr uint32_t kNdpFrameLen = sizeof(rte_ether_hdr) + sizeof(rte_ipv6_hdr) + 24 + 8;

// The Advertisement answering `ns` for its target, which svcdp owns at
// `mac` (RFC 4861 section 7.2.4): to the solicitation's source (and its
// link-layer address when it gave one, else `ns_eth_src`), Solicited and
// Override set, Router set when `router`; to all-nodes with Solicited
// clear when the source was unspecified. Writes kNdpFrameLen bytes.
void build_neighbor_advert(uint8_t* frame, const NdpMessage& ns, const rte_ether_addr& ns_eth_src,
                           const rte_ether_addr& mac, bool router);

// A Solicitation from `src` at `mac` for `target`, to its solicited-node
// address (RFC 4861 section 7.2.2). Writes kNdpFrameLen bytes.
void build_neighbor_solicit(uint8_t* frame, const conf::Ipv6Addr& src, const rte_ether_addr& mac,
                            const conf::Ipv6Addr& target);

}  // namespace svcdp::dp
