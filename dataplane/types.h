// Small shared vocabulary of the dataplane: port roles, wire-order integers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace svcdp::dp {

// Values in network byte order, exactly as on the wire.
using be16 = uint16_t;
using be32 = uint32_t;

// A port's job. uplink: the physical network (other nodes, VXLAN);
// pods: this node's pods.
enum class Role : uint8_t { UPLINK, PODS };
inline constexpr size_t kRoleCount = 2;
inline constexpr const char* kRoleNames[kRoleCount] = {"uplink", "pods"};

constexpr size_t idx(Role r) { return static_cast<size_t>(r); }

}  // namespace svcdp::dp
