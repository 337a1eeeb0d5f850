// ip_fragment: a datagram without DF that is larger than the link it
// leaves by is cut into fragments that fit (RFC 791 section 3.2,
// "Fragmentation"; RFC 1812 section 5.2.6 for routers), each a new mbuf of
// the packet's pool. The fragments then take the output stage the packet
// was headed for.
#include "dataplane/ipv4.h"
#include "dataplane/stages.h"

#include <algorithm>
#include <cstring>

namespace svcdp::dp {

uint16_t ip_fragment(WorkerContext& w, rte_mbuf* m, const rte_ipv4_hdr* ip, uint16_t mtu, rte_mbuf* (&out)[kMaxFragments]) {
  w.stage(Stage::kIpFragment);
  const uint32_t ihl = sizeof(rte_ipv4_hdr);  // check_ipv4 refused options
  const uint32_t payload = rte_be_to_cpu_16(ip->total_length) - ihl;
  // Every fragment but the last carries a multiple of 8 bytes of data
  // (offsets count 8-byte units); RFC 791 guarantees 68 bytes of MTU.
  const uint32_t chunk = (std::max<uint32_t>(mtu, 68) - ihl) & ~7u;
  const uint32_t count = (payload + chunk - 1) / chunk;
  if (count > kMaxFragments) {
    w.drop(m, Drop::kMtuExceeded);
    return 0;
  }
  const uint16_t frag_word = rte_be_to_cpu_16(ip->fragment_offset);
  const uint16_t first_offset = frag_word & RTE_IPV4_HDR_OFFSET_MASK;
  const bool more_after = frag_word & RTE_IPV4_HDR_MF_FLAG;  // the datagram was itself a fragment
  const auto* eth = rte_pktmbuf_mtod(m, const uint8_t*);
  const auto* data = reinterpret_cast<const uint8_t*>(ip) + ihl;
  for (uint32_t i = 0; i < count; ++i) {
    rte_mbuf* f = rte_pktmbuf_alloc(m->pool);
    if (f == nullptr) {
      rte_pktmbuf_free_bulk(out, i);
      w.drop(m, Drop::kNoMbuf);
      return 0;
    }
    const uint32_t off = i * chunk, len = std::min(chunk, payload - off);
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(f, static_cast<uint16_t>(sizeof(rte_ether_hdr) + ihl + len)));
    std::memcpy(p, eth, sizeof(rte_ether_hdr) + ihl);
    std::memcpy(p + sizeof(rte_ether_hdr) + ihl, data + off, len);
    auto* fip = reinterpret_cast<rte_ipv4_hdr*>(p + sizeof(rte_ether_hdr));
    fip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(ihl + len));
    const bool mf = i + 1 < count || more_after;
    fip->fragment_offset =
        rte_cpu_to_be_16(static_cast<uint16_t>((first_offset + off / 8) | (mf ? RTE_IPV4_HDR_MF_FLAG : 0)));
    fip->hdr_checksum = 0;
    fip->hdr_checksum = rte_ipv4_cksum(fip);
    f->ol_flags |= m->ol_flags & RTE_MBUF_F_RX_RSS_HASH;
    f->hash.rss = m->hash.rss;
    out[i] = f;
  }
  w.counters.ip_fragments += count;
  rte_pktmbuf_free(m);
  return static_cast<uint16_t>(count);
}

}  // namespace svcdp::dp
