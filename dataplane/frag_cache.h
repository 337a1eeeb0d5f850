// Fragments of a load-balanced datagram follow its first fragment: only
// the first carries the ports (RFC 791 section 3.2: the transport header
// sits in the fragment at offset 0), so the worker remembers, per
// (source, destination, protocol, identification), the addresses the first
// fragment was translated to, and gives the later fragments the same.
// A bounded cache per worker, 8-way set associative (8192 trains): a
// train whose slot is taken replaces an expired entry of its set, else the
// oldest, and says so (counted: a bound like Linux's ipfrag_high_thresh,
// not a silent loss).
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
  // received). Returns false when a live train had to give way.
  // Thread: the owning worker.
  bool remember(const rte_ipv4_hdr* ip, Translation to, uint32_t now_s) {
    Entry* set = &slots_[set_of(ip) * kWays];
    Entry* victim = nullptr;
    for (size_t w = 0; w < kWays; ++w) {
      Entry& e = set[w];
      if (e.same(ip) || !e.used || now_s - e.seen_s > kTimeoutS) {
        victim = &e;
        break;
      }
      if (victim == nullptr || e.seen_s < victim->seen_s) victim = &e;
    }
    const bool evicted = victim->used && !victim->same(ip) && now_s - victim->seen_s <= kTimeoutS;
    *victim = {ip->src_addr, ip->dst_addr, ip->packet_id, ip->next_proto_id, true, now_s, to};
    return !evicted;
  }

  // The translation for a later fragment of the same datagram, if known.
  // Thread: the owning worker.
  const Translation* find(const rte_ipv4_hdr* ip, uint32_t now_s) const {
    const Entry* set = &slots_[set_of(ip) * kWays];
    for (size_t w = 0; w < kWays; ++w)
      if (set[w].used && set[w].same(ip) && now_s - set[w].seen_s <= kTimeoutS) return &set[w].to;
    return nullptr;
  }

 private:
  static constexpr size_t kSets = 1024, kWays = 8;
  struct Entry {
    be32 src = 0, dst = 0;
    be16 id = 0;
    uint8_t proto = 0;
    bool used = false;
    uint32_t seen_s = 0;
    Translation to{};
    bool same(const rte_ipv4_hdr* ip) const {
      return src == ip->src_addr && dst == ip->dst_addr && id == ip->packet_id && proto == ip->next_proto_id;
    }
  };
  static size_t set_of(const rte_ipv4_hdr* ip) {
    uint32_t h = ip->src_addr * 0x9e3779b1u ^ ip->dst_addr * 0x85ebca6bu ^ ip->packet_id * 0xc2b2ae35u;
    return (h ^ (h >> 16)) & (kSets - 1);
  }

  std::array<Entry, kSets * kWays> slots_{};
};

}  // namespace svcdp::dp
