// --take-over-address IFACE: the node's IPv4 and IPv6 addresses, routes
// and MTU move from the kernel interface the uplink NIC had to the
// exception TAP at start, and back at exit, as Calico VPP's agent does, so
// that the node stays reachable (SSH, kubelet, the API server) while DPDK owns the NIC.
// What was taken is saved first in a state file; a start that finds one
// (svcdp was killed) gives it back before taking over again, and
// `svcdp --restore-address` (a supervisor's ExecStopPost) gives it back
// without starting.
#pragma once

#include "control/netlink.h"

#include <optional>
#include <string>
#include <vector>

namespace svcdp::control {

struct HandoverState {
  std::string iface;  // where the addresses came from
  int mtu = 0;
  std::vector<IfAddress> addresses;
  std::vector<IfRoute> routes;
  // IPv6: addresses of global scope (the link-local ones are each
  // interface's own) and routes, often via the router's link-local
  // address as router advertisements give it.
  std::vector<IfAddress6> addresses6;
  std::vector<IfRoute6> routes6;
  // The interface's net.ipv4.conf and net.ipv6.conf sysctls before svcdp
  // set them (-1: unknown). While svcdp drives a NIC whose kernel
  // interface stays (an af_packet uplink), the kernel must not take its
  // frames as well: strict rp_filter drops them (every route is via the
  // TAP), arp_ignore 8 leaves ARP to the TAP, and disable_ipv6 keeps it
  // from answering Neighbor Solicitations and configuring addresses from
  // router advertisements there.
  int rp_filter = -1, arp_ignore = -1, disable_ipv6 = -1;
  bool operator==(const HandoverState&) const = default;
};

// The state file's JSON. Thread: any.
std::string handover_json(const HandoverState& s);
// Throws std::runtime_error naming what is wrong. Thread: any.
HandoverState parse_handover_json(const std::string& text);

class AddressHandover {
 public:
  // Gives back what a previous run left in `state_file`, then reads
  // `iface` and saves it there. Throws std::runtime_error. Thread: main.
  AddressHandover(const std::string& iface, std::string state_file);
  ~AddressHandover();
  AddressHandover(const AddressHandover&) = delete;
  AddressHandover& operator=(const AddressHandover&) = delete;

  // Moves the addresses, routes and MTU to `tap` (up, with IPv6 enabled
  // when there are IPv6 addresses to move). Thread: main.
  void take_over(const std::string& tap);
  // Gives them back to the interface and removes the state file; later
  // calls do nothing. Thread: main.
  void restore();

  const HandoverState& state() const { return state_; }

  // What `svcdp --restore-address` does: gives back what `state_file`
  // records, if it exists. Returns false when there was nothing to do.
  // Throws std::runtime_error. Thread: main.
  static bool restore_from(const std::string& state_file);

 private:
  static void give_back(Netlink& nl, const HandoverState& s, const std::string& from_tap);
  std::string state_file_;
  HandoverState state_;
  std::string tap_;
  bool restored_ = false;
};

}  // namespace svcdp::control
