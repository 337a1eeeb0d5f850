// What the dataplane remembers about a packet while it moves between a
// worker and the control thread: kept in the mbuf's private area (the
// packet pool is created with room for it), so nothing is allocated.
#pragma once

#include "dataplane/types.h"
#include "lb/types.h"

#include <rte_mbuf.h>

namespace svcdp::dp {

enum class Punt : uint8_t {
  ARP,          // an ARP frame for the control thread (in_role: where it came from)
  NEED_NEIGH,   // ready to send but the next hop's MAC is unknown
  NDP,          // a Neighbor Solicitation or Advertisement, as ARP
  NEED_NEIGH6,  // NEED_NEIGH for an IPv6 next hop
};

struct PktMeta {
  be32 nexthop;  // NEED_NEIGH: the address to resolve
  lb::Addr6 nexthop6;  // NEED_NEIGH6: the address to resolve
  Role in_role;
  Role out_role;
  Punt punt;
};

inline constexpr uint16_t kPktMetaSize = RTE_ALIGN(sizeof(PktMeta), RTE_MBUF_PRIV_ALIGN);

inline PktMeta* pkt_meta(rte_mbuf* m) { return static_cast<PktMeta*>(rte_mbuf_to_priv(m)); }

}  // namespace svcdp::dp
