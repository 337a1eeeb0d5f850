// The few rtnetlink (RFC 3549, rtnetlink(7)) operations the address
// hand-over and --kernel-route need: a kernel interface's IPv4 and IPv6
// addresses and routes of the main table, adding and deleting them, its
// MTU and state. Thread: control.
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

using Ip6 = std::array<uint8_t, 16>;

// An interface address: IPv4 (uint32_t, host order) or IPv6 (Ip6, network
// order; no broadcast).
template <class Addr>
struct BasicIfAddress {
  Addr local{};
  uint8_t prefix_len = 0;
  Addr broadcast{};  // zero: none
  bool operator==(const BasicIfAddress&) const = default;
};
using IfAddress = BasicIfAddress<uint32_t>;
using IfAddress6 = BasicIfAddress<Ip6>;

// A route of the main table.
template <class Addr>
struct BasicIfRoute {
  Addr dst{};
  uint8_t dst_len = 0;
  Addr gateway{};  // zero: on-link
  Addr prefsrc{};  // zero: none
  uint32_t metric = 0;
  uint8_t protocol = 0;  // RTPROT_*
  uint8_t scope = 0;     // RT_SCOPE_*
  bool onlink = false;   // the gateway is on the link whatever the addresses say (RTNH_F_ONLINK)
  bool operator==(const BasicIfRoute&) const = default;
};
using IfRoute = BasicIfRoute<uint32_t>;
using IfRoute6 = BasicIfRoute<Ip6>;

class Netlink {
 public:
  // Throws NetlinkError. Thread: control.
  Netlink();
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // nullopt when there is no such interface.
  std::optional<int> ifindex(const std::string& name) const;
  // The interface's addresses of global scope (IPv6 link-local and
  // temporary privacy addresses are the kernel's own and stay).
  template <class Addr = uint32_t>
  std::vector<BasicIfAddress<Addr>> addresses(int ifindex);
  // Routes of the main table out of `ifindex`, without those the kernel
  // made itself for an address (proto kernel), which come back with it.
  template <class Addr = uint32_t>
  std::vector<BasicIfRoute<Addr>> routes(int ifindex);
  // IPv6 addresses are added without duplicate address detection
  // (IFA_F_NODAD): they move between interfaces, they are not new.
  template <class Addr>
  void add_address(int ifindex, const BasicIfAddress<Addr>& a);
  template <class Addr>
  void del_address(int ifindex, const BasicIfAddress<Addr>& a);
  template <class Addr>
  void add_route(int ifindex, const BasicIfRoute<Addr>& r);
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
