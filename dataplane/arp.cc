#include "dataplane/arp.h"

#include <cstring>

namespace svcdp::dp {

std::optional<ArpMessage> parse_arp(const uint8_t* payload, uint32_t len) {
  if (len < sizeof(rte_arp_hdr)) return std::nullopt;
  rte_arp_hdr arp;
  std::memcpy(&arp, payload, sizeof arp);
  if (arp.arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) || arp.arp_hlen != RTE_ETHER_ADDR_LEN ||
      arp.arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || arp.arp_plen != 4)
    return std::nullopt;
  const uint16_t op = rte_be_to_cpu_16(arp.arp_opcode);
  if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) return std::nullopt;
  return ArpMessage{op, arp.arp_data.arp_sha, arp.arp_data.arp_sip, arp.arp_data.arp_tha, arp.arp_data.arp_tip};
}

void build_arp(uint8_t* frame, uint16_t op, const rte_ether_addr& eth_dst, const rte_ether_addr& sender_mac,
               be32 sender_ip, const rte_ether_addr& target_mac, be32 target_ip) {
  std::memset(frame, 0, kArpFrameLen);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(frame);
  eth->dst_addr = eth_dst;
  eth->src_addr = sender_mac;
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
  rte_arp_hdr arp{};
  arp.arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
  arp.arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  arp.arp_hlen = RTE_ETHER_ADDR_LEN;
  arp.arp_plen = 4;
  arp.arp_opcode = rte_cpu_to_be_16(op);
  arp.arp_data.arp_sha = sender_mac;
  arp.arp_data.arp_sip = sender_ip;
  arp.arp_data.arp_tha = target_mac;
  arp.arp_data.arp_tip = target_ip;
  std::memcpy(eth + 1, &arp, sizeof arp);
}

}  // namespace svcdp::dp
