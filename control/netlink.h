// The few rtnetlink (RFC 3549, rtnetlink(7)) operations the address
// hand-over and --kernel-route need: a kernel interface's IPv4 addresses
// and routes of the main table, adding and deleting them, adding IPv6
// routes, its MTU and state. Thread: control.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace svcdp::control {

struct NetlinkError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct IfAddress {
  uint32_t local = 0;  // host order
  uint8_t prefix_len = 0;
  uint32_t broadcast = 0;  // 0: none
  bool operator==(const IfAddress&) const = default;
};

struct IfRoute {
  uint32_t dst = 0;  // host order
  uint8_t dst_len = 0;
  uint32_t gateway = 0;  // 0: on-link
  uint32_t prefsrc = 0;
  uint32_t metric = 0;
  uint8_t protocol = 0;  // RTPROT_*
  uint8_t scope = 0;     // RT_SCOPE_*
  bool onlink = false;   // the gateway is on the link whatever the addresses say (RTNH_F_ONLINK)
  bool operator==(const IfRoute&) const = default;
};

// An IPv6 route (addresses in network byte order).
struct IfRoute6 {
  std::array<uint8_t, 16> dst{};
  uint8_t dst_len = 0;
  std::array<uint8_t, 16> gateway{};  // all zero: on-link
  std::array<uint8_t, 16> prefsrc{};  // all zero: none
  uint8_t protocol = 0;               // RTPROT_*
  bool onlink = false;
};

class Netlink {
 public:
  // Throws NetlinkError. Thread: control.
  Netlink();
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // nullopt when there is no such interface.
  std::optional<int> ifindex(const std::string& name) const;
  std::vector<IfAddress> addresses(int ifindex);
  // Routes of the main table out of `ifindex`, without those the kernel
  // made itself for an address (proto kernel), which come back with it.
  std::vector<IfRoute> routes(int ifindex);
  void add_address(int ifindex, const IfAddress& a);
  void del_address(int ifindex, const IfAddress& a);
  void add_route(int ifindex, const IfRoute& r);
  void add_route(int ifindex, const IfRoute6& r);
  int mtu(const std::string& name) const;
  void set_mtu(const std::string& name, int mtu) const;
  void set_up(const std::string& name) const;

 private:
  // Sends one request and collects the answers; throws on a NLMSG_ERROR.
  std::vector<std::vector<uint8_t>> transact(std::vector<uint8_t> request, const std::string& what);
  int fd_ = -1;
  uint32_t seq_ = 0;
};

}  // namespace svcdp::control
