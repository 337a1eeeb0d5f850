// Fragments of a load-balanced datagram follow its first fragment: only
// the first carries the ports (RFC 791 section 3.2: the transport header
// sits in the fragment at offset 0), so the worker remembers, per
// (source, destination, protocol, identification), the addresses the first
// fragment was translated to, and gives the later fragments the same.
// A small direct-mapped cache per worker: a fragment train is short-lived
// and a collision only costs that datagram (as a lost fragment would).
#pragma once

#include "dataplane/types.h"

#include <rte_ip.h>

#include <array>

namespace svcdp::dp {

class FragCache {
 public:
  // How long a first fragment's decision is kept: Linux's ipfrag_time.
  static constexpr uint32_t kTimeoutS = 30;

  struct Translation {
    be32 src, dst;
  };

  // Records the translation of the first fragment `ip` (its header as
  // received). Thread: the owning worker.
  void remember(const rte_ipv4_hdr* ip, Translation to, uint32_t now_s) {
    Entry& e = slot(ip);
    e = {ip->src_addr, ip->dst_addr, ip->packet_id, ip->next_proto_id, true, now_s, to};
  }

  // The translation for a later fragment of the same datagram, if known.
  // Thread: the owning worker.
  const Translation* find(const rte_ipv4_hdr* ip, uint32_t now_s) const {
    const Entry& e = slot(ip);
    if (!e.used || e.src != ip->src_addr || e.dst != ip->dst_addr || e.id != ip->packet_id ||
        e.proto != ip->next_proto_id || now_s - e.seen_s > kTimeoutS)
      return nullptr;
    return &e.to;
  }

 private:
  static constexpr size_t kSlots = 1024;
  struct Entry {
    be32 src = 0, dst = 0;
    be16 id = 0;
    uint8_t proto = 0;
    bool used = false;
    uint32_t seen_s = 0;
    Translation to{};
  };
  static size_t index(const rte_ipv4_hdr* ip) {
    uint32_t h = ip->src_addr * 0x9e3779b1u ^ ip->dst_addr * 0x85ebca6bu ^ ip->packet_id * 0xc2b2ae35u;
    return (h ^ (h >> 16)) & (kSlots - 1);
  }
  Entry& slot(const rte_ipv4_hdr* ip) { return slots_[index(ip)]; }
  const Entry& slot(const rte_ipv4_hdr* ip) const { return slots_[index(ip)]; }

  std::array<Entry, kSlots> slots_{};
};

}  // namespace svcdp::dp
