#include "control/address_handover.h"

#include "conf/inet.h"
#include "control/atomic_file.h"
#include "control/log.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <type_traits>
#include <stdexcept>

namespace svcdp::control {
namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

using nlohmann::json;

std::string format_ip(uint32_t ip) { return conf::format_ipv4(ip); }
std::string format_ip(const Ip6& ip) { return conf::format_ipv6(ip); }

template <class Addr>
Addr parse_ip(const json& j, const char* field) {
  if (!j.contains(field)) return {};
  const auto text = j.at(field).get<std::string>();
  std::optional<Addr> ip;
  if constexpr (std::is_same_v<Addr, Ip6>)
    ip = conf::parse_ipv6(text);
  else
    ip = conf::parse_ipv4(text);
  if (!ip) throw std::runtime_error(std::string("bad address in field ") + field);
  return *ip;
}

// An address or route field, left out when zero.
template <class Addr>
void put_ip(json& j, const char* field, const Addr& ip) {
  if (ip != Addr{}) j[field] = format_ip(ip);
}

template <class Addr>
json addresses_json(const std::vector<BasicIfAddress<Addr>>& addresses) {
  json out = json::array();
  for (const auto& a : addresses) {
    json j = {{"local", format_ip(a.local)}, {"prefix_len", a.prefix_len}};
    put_ip(j, "broadcast", a.broadcast);
    out.push_back(j);
  }
  return out;
}

template <class Addr>
json routes_json(const std::vector<BasicIfRoute<Addr>>& routes) {
  json out = json::array();
  for (const auto& r : routes) {
    json j = {{"dst", format_ip(r.dst)}, {"dst_len", r.dst_len}, {"metric", r.metric},
              {"protocol", r.protocol},  {"scope", r.scope},     {"onlink", r.onlink}};
    put_ip(j, "gateway", r.gateway);
    put_ip(j, "prefsrc", r.prefsrc);
    out.push_back(j);
  }
  return out;
}

template <class Addr>
void parse_addresses(const json& list, std::vector<BasicIfAddress<Addr>>& out) {
  for (const auto& a : list)
    out.push_back({parse_ip<Addr>(a, "local"), a.at("prefix_len").get<uint8_t>(), parse_ip<Addr>(a, "broadcast")});
}

template <class Addr>
void parse_routes(const json& list, std::vector<BasicIfRoute<Addr>>& out) {
  for (const auto& r : list)
    out.push_back({parse_ip<Addr>(r, "dst"), r.at("dst_len").get<uint8_t>(), parse_ip<Addr>(r, "gateway"),
                   parse_ip<Addr>(r, "prefsrc"), r.at("metric").get<uint32_t>(), r.at("protocol").get<uint8_t>(),
                   r.at("scope").get<uint8_t>(), r.value("onlink", false)});
}

// family: "ipv4" or "ipv6".
std::string sysctl_path(const std::string& iface, const char* family, const char* name) {
  return std::string("/proc/sys/net/") + family + "/conf/" + iface + "/" + name;
}

int read_sysctl(const std::string& iface, const char* family, const char* name) {
  std::ifstream in(sysctl_path(iface, family, name));
  int v = -1;
  return in >> v ? v : -1;
}

// Best effort: a read-only /proc/sys (systemd's ProtectKernelTunables)
// leaves the kernel taking the NIC's frames too, which costs duplicates,
// not connectivity.
void write_sysctl(const std::string& iface, const char* family, const char* name, int value) {
  if (value < 0) return;
  const std::string path = sysctl_path(iface, family, name);
  std::ofstream out(path);
  if (!(out << value << "\n" && out.flush()))
    log::warning("cannot set a sysctl", {{"sysctl", path}, {"value", std::to_string(value)}});
}

// Deletes the addresses svcdp put on the TAP, some of which may already be
// gone with it.
template <class Addr>
void del_addresses(Netlink& nl, int ifindex, const std::vector<BasicIfAddress<Addr>>& addresses) {
  for (const auto& a : addresses) {
    try {
      nl.del_address(ifindex, a);
    } catch (const NetlinkError&) {
      // Nothing to undo.
    }
  }
}

// Addresses first: a route's source or gateway must be on the interface.
void add_all(Netlink& nl, int ifindex, const HandoverState& s) {
  for (const IfAddress& a : s.addresses) nl.add_address(ifindex, a);
  for (const IfAddress6& a : s.addresses6) nl.add_address(ifindex, a);
  for (const IfRoute& r : s.routes) nl.add_route(ifindex, r);
  for (const IfRoute6& r : s.routes6) nl.add_route(ifindex, r);
}

}  // namespace

std::string handover_json(const HandoverState& s) {
  return json{{"iface", s.iface},
              {"mtu", s.mtu},
              {"addresses", addresses_json(s.addresses)},
              {"routes", routes_json(s.routes)},
              {"addresses6", addresses_json(s.addresses6)},
              {"routes6", routes_json(s.routes6)},
              {"rp_filter", s.rp_filter},
              {"arp_ignore", s.arp_ignore},
              {"disable_ipv6", s.disable_ipv6}}
             .dump(2) +
         "\n";
}

HandoverState parse_handover_json(const std::string& text) {
  try {
    const auto j = json::parse(text);
    HandoverState s;
    s.iface = j.at("iface").get<std::string>();
    s.mtu = j.at("mtu").get<int>();
    s.rp_filter = j.value("rp_filter", -1);
    s.arp_ignore = j.value("arp_ignore", -1);
    s.disable_ipv6 = j.value("disable_ipv6", -1);
    parse_addresses(j.at("addresses"), s.addresses);
    parse_routes(j.at("routes"), s.routes);
    // A state file from before IPv6 has no IPv6 lists.
    parse_addresses(j.value("addresses6", json::array()), s.addresses6);
    parse_routes(j.value("routes6", json::array()), s.routes6);
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("not a hand-over state: ") + e.what());
  }
}

AddressHandover::AddressHandover(const std::string& iface, std::string state_file)
    : state_file_(std::move(state_file)) {
  restore_from(state_file_);
  Netlink nl;
  const auto index = nl.ifindex(iface);
  if (!index) throw std::runtime_error("--take-over-address: no interface '" + iface + "'");
  state_.iface = iface;
  state_.mtu = nl.mtu(iface);
  state_.addresses = nl.addresses(*index);
  state_.routes = nl.routes(*index);
  try {
    state_.addresses6 = nl.addresses<Ip6>(*index);
    state_.routes6 = nl.routes<Ip6>(*index);
  } catch (const NetlinkError& e) {
    // A kernel without IPv6 (ipv6.disable=1) has none to move.
    log::warning("cannot read the interface's IPv6 addresses; moving IPv4 only", {{"iface", iface}, {"error", e.what()}});
    state_.addresses6.clear();
    state_.routes6.clear();
  }
  state_.rp_filter = read_sysctl(iface, "ipv4", "rp_filter");
  state_.arp_ignore = read_sysctl(iface, "ipv4", "arp_ignore");
  state_.disable_ipv6 = read_sysctl(iface, "ipv6", "disable_ipv6");
  if (state_.addresses.empty() && state_.addresses6.empty())
    throw std::runtime_error("--take-over-address: " + iface + " has no IPv4 or global IPv6 address to take over");
  write_file_atomically(state_file_, handover_json(state_));
}

AddressHandover::~AddressHandover() {
  try {
    restore();
  } catch (const std::exception& e) {
    log::error("cannot give the node's addresses back", {{"error", e.what()}, {"state", state_file_}});
  }
}

void AddressHandover::take_over(const std::string& tap) {
  Netlink nl;
  const auto from = nl.ifindex(state_.iface), to = nl.ifindex(tap);
  if (!to) throw std::runtime_error("--take-over-address: no interface '" + tap + "'");
  tap_ = tap;
  nl.set_mtu(tap, state_.mtu);
  if (!state_.addresses6.empty() || !state_.routes6.empty()) write_sysctl(tap, "ipv6", "disable_ipv6", 0);
  nl.set_up(tap);
  // Deleting the addresses takes the routes through them away with them.
  if (from) {
    // Just read from it: failing to delete one is an error, not a leftover.
    for (const IfAddress& a : state_.addresses) nl.del_address(*from, a);
    for (const IfAddress6& a : state_.addresses6) nl.del_address(*from, a);
    write_sysctl(state_.iface, "ipv4", "rp_filter", 1);
    write_sysctl(state_.iface, "ipv4", "arp_ignore", 8);
    write_sysctl(state_.iface, "ipv6", "disable_ipv6", 1);
  }
  add_all(nl, *to, state_);
  log::info("node addresses taken over",
            {{"from", state_.iface},
             {"to", tap},
             {"addresses", std::to_string(state_.addresses.size() + state_.addresses6.size())},
             {"routes", std::to_string(state_.routes.size() + state_.routes6.size())}});
}

void AddressHandover::give_back(Netlink& nl, const HandoverState& s, const std::string& from_tap) {
  if (!from_tap.empty())
    if (auto tap = nl.ifindex(from_tap)) {
      del_addresses(nl, *tap, s.addresses);
      del_addresses(nl, *tap, s.addresses6);
    }
  const auto to = nl.ifindex(s.iface);
  if (!to) throw std::runtime_error("no interface '" + s.iface + "' to give the node's addresses back to");
  nl.set_mtu(s.iface, s.mtu);
  write_sysctl(s.iface, "ipv4", "rp_filter", s.rp_filter);
  write_sysctl(s.iface, "ipv4", "arp_ignore", s.arp_ignore);
  write_sysctl(s.iface, "ipv6", "disable_ipv6", s.disable_ipv6);
  nl.set_up(s.iface);
  add_all(nl, *to, s);
}

void AddressHandover::restore() {
  if (restored_) return;
  restored_ = true;
  Netlink nl;
  give_back(nl, state_, tap_);
  std::remove(state_file_.c_str());
  log::info("node addresses given back", {{"to", state_.iface}});
}

bool AddressHandover::restore_from(const std::string& state_file) {
  const auto text = read_file(state_file);
  if (!text) return false;
  const HandoverState s = parse_handover_json(*text);
  Netlink nl;
  give_back(nl, s, "");
  std::remove(state_file.c_str());
  log::info("node addresses given back from a previous run", {{"to", s.iface}, {"state", state_file}});
  return true;
}

}  // namespace svcdp::control
