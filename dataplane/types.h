// Small shared vocabulary of the dataplane: port roles, wire-order integers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace svcdp::dp {

// Values in network byte order, exactly as on the wire.
using be16 = uint16_t;
using be32 = uint32_t;

// A port's job. uplink: the physical network (other nodes, VXLAN);
// pods: this node's pods; exception: a TAP to the node's kernel for the
// traffic svcdp does not own (SSH, kubelet, IPv6...), optional.
enum class Role : uint8_t { UPLINK, PODS, EXCEPTION };
inline constexpr size_t kRoleCount = 3;
inline constexpr const char* kRoleNames[kRoleCount] = {"uplink", "pods", "exception"};

// Port id of a role that has no port.
inline constexpr uint16_t kNoPort = UINT16_MAX;

constexpr size_t idx(Role r) { return static_cast<size_t>(r); }

}  // namespace svcdp::dp
