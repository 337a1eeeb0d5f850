// Per-context counters: plain fields, written by exactly one thread (a
// worker, or the control thread for what it handles), cache-line aligned so
// contexts never share a line. Readers sum them (torn reads of a 64-bit
// aligned field do not happen on x86-64; values may lag by a burst).
#pragma once

#include "dataplane/drop_reason.h"
#include "dataplane/types.h"

#include <array>
#include <cstdint>

namespace svcdp::dp {

struct alignas(64) Counters {
  std::array<uint64_t, kRoleCount> rx_packets{};
  std::array<uint64_t, kRoleCount> tx_packets{};
  std::array<uint64_t, kDropCount> drops{};
  uint64_t vxlan_encap = 0;
  uint64_t vxlan_decap = 0;
  uint64_t forwarded_local = 0;
  uint64_t punted = 0;
  uint64_t to_kernel = 0;
  uint64_t busy_cycles = 0;
  uint64_t idle_cycles = 0;

  void drop(Drop d, uint64_t n = 1) { drops[static_cast<size_t>(d)] += n; }

  // Thread: any (reads another context's plain fields).
  Counters& operator+=(const Counters& o) {
    for (size_t i = 0; i < kRoleCount; ++i) {
      rx_packets[i] += o.rx_packets[i];
      tx_packets[i] += o.tx_packets[i];
    }
    for (size_t i = 0; i < kDropCount; ++i) drops[i] += o.drops[i];
    vxlan_encap += o.vxlan_encap;
    vxlan_decap += o.vxlan_decap;
    forwarded_local += o.forwarded_local;
    punted += o.punted;
    to_kernel += o.to_kernel;
    busy_cycles += o.busy_cycles;
    idle_cycles += o.idle_cycles;
    return *this;
  }
};

}  // namespace svcdp::dp
