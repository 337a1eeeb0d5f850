// ARP for IPv4 over Ethernet (RFC 826): parsing requests and replies, and
// building the frames svcdp sends. Pure functions over bytes.
#pragma once

#include "dataplane/types.h"

#include <rte_arp.h>
#include <rte_ether.h>

#include <optional>

namespace svcdp::dp {

struct ArpMessage {
  uint16_t op;  // RTE_ARP_OP_REQUEST or RTE_ARP_OP_REPLY (host order)
  rte_ether_addr sender_mac;
  be32 sender_ip;
  rte_ether_addr target_mac;
  be32 target_ip;
};

// Parses the ARP payload that follows an Ethernet header. Only Ethernet
// hardware (htype 1, hlen 6) and IPv4 protocol (ptype 0x0800, plen 4) are
// accepted, as RFC 826's "?Do I have the hardware type / speak the
// protocol" steps require. Thread: any.
std::optional<ArpMessage> parse_arp(const uint8_t* payload, uint32_t len);

// Size of the frames build_arp writes: Ethernet + ARP, padded to the
// Ethernet minimum (60 bytes without FCS).
inline constexpr uint32_t kArpFrameLen = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;

// Writes a complete ARP frame into `frame` (kArpFrameLen bytes).
// `eth_dst` is the Ethernet destination (broadcast for a request).
// Thread: any.
void build_arp(uint8_t* frame, uint16_t op, const rte_ether_addr& eth_dst, const rte_ether_addr& sender_mac,
               be32 sender_ip, const rte_ether_addr& target_mac, be32 target_ip);

}  // namespace svcdp::dp
