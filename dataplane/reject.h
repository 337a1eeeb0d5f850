// Answers for a service that has no usable endpoint, as kube-proxy's
// REJECT rule gives them: a TCP segment gets a RST, anything else an ICMP
// port unreachable. The frame is rewritten in place (no allocation) to go
// back out of the port it came from, from the address it was sent to.
#pragma once

#include "dataplane/ipv6.h"
#include "dataplane/types.h"
#include "lb/types.h"

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

namespace svcdp::dp {

// Size of the ICMP errors svcdp sends: as much of the offending datagram
// as fits in 576 bytes (RFC 1812 section 4.3.2.3).
inline constexpr uint32_t kIcmpErrorMaxIpLen = 576;

// Turns the IPv4 packet in `m` (Ethernet at data start, headers already
// validated) into its rejection. Returns false when none may be sent and
// the caller should just drop: a RST is never answered (RFC 9293 section
// 3.10.7.1), nor are ICMP errors, non-first fragments, or broadcast and
// multicast destinations (RFC 1812 section 4.3.2.7). Thread: any worker.
bool make_reject(rte_mbuf* m);

// Whether an ICMP error may be sent about the IPv4 packet `ip` (RFC 1812
// section 4.3.2.7, as Linux's icmp_send checks it): never about an ICMP
// error, a non-first fragment, a packet to a broadcast or multicast
// address, or from an address that is not a host's (0/8, 127/8,
// multicast, class E, broadcast). Thread: any.
bool icmp_error_allowed(const rte_ether_hdr* eth, const rte_ipv4_hdr* ip);

// Turns the IPv4 packet in `m` into the ICMP error `type`/`code` about it,
// in place: the original header and as much data as fits in 576 bytes
// (RFC 1812 section 4.3.2.3), from `src` to the packet's source, with
// `next_hop_mtu` in the second word for Fragmentation Needed (RFC 1191
// section 4). The Ethernet addresses are swapped; the caller routes it.
// False when there is no headroom. Thread: any worker.
bool make_icmp_error(rte_mbuf* m, uint8_t type, uint8_t code, be32 src, uint16_t next_hop_mtu = 0);

// ICMPv6 (RFC 4443) message types svcdp originates.
inline constexpr uint8_t kIcmp6DestUnreachable = 1, kIcmp6PacketTooBig = 2, kIcmp6TimeExceeded = 3;
// RFC 4443 section 4: Echo Request and Reply.
inline constexpr uint8_t kIcmp6EchoRequest = 128, kIcmp6EchoReply = 129;
// An ICMPv6 error is at most the minimum IPv6 MTU (RFC 4443 section 2.4 (c)).
inline constexpr uint32_t kIcmp6ErrorMaxLen = 1280;

// Whether an ICMPv6 error may be sent about the IPv6 packet `ip6` whose
// chain walk_ipv6 read (RFC 4443 section 2.4 (e), (f)): never about an
// ICMPv6 error (types below 128) or a redirect, nor to a packet sent to a
// multicast address (IPv6 or link layer) unless it is Packet Too Big
// (`packet_too_big`), nor from the unspecified or a multicast address.
// Thread: any.
bool icmp6_error_allowed(const rte_ether_hdr* eth, const uint8_t* ip6, const Ipv6Chain& chain, bool packet_too_big);

// Turns the IPv6 packet in `m` into the ICMPv6 error `type`/`code` about
// it, in place: as much of it as fits in 1280 bytes (RFC 4443 section 2.4
// (c)), from `src` to its source, hop limit 64, `param` in the second word
// (the MTU of Packet Too Big, the pointer of Parameter Problem). The
// Ethernet addresses are swapped; the caller sends it. False when there
// is no headroom. Thread: any worker.
bool make_icmp6_error(rte_mbuf* m, uint8_t type, uint8_t code, const lb::Addr6& src, uint32_t param = 0);

// make_reject for the IPv6 packet in `m` whose chain walk_ipv6 read, from
// `src` (the address it was sent to): a TCP segment gets a RST, anything
// else ICMPv6 port unreachable; false, as make_reject, when none may be
// sent (a RST, a non-first fragment, an ICMPv6 error, a multicast
// destination). Thread: any worker.
bool make_reject6(rte_mbuf* m, const Ipv6Chain& c, const lb::Addr6& src);

}  // namespace svcdp::dp
