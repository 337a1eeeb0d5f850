#include "control/address_handover.h"

#include "conf/inet.h"
#include "control/atomic_file.h"
#include "control/log.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
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

uint32_t parse_ip(const nlohmann::json& j, const char* field) {
  if (!j.contains(field)) return 0;
  auto ip = conf::parse_ipv4(j.at(field).get<std::string>());
  if (!ip) throw std::runtime_error(std::string("bad address in field ") + field);
  return *ip;
}

std::string sysctl_path(const std::string& iface, const char* name) {
  return "/proc/sys/net/ipv4/conf/" + iface + "/" + name;
}

int read_sysctl(const std::string& iface, const char* name) {
  std::ifstream in(sysctl_path(iface, name));
  int v = -1;
  return in >> v ? v : -1;
}

// Best effort: a read-only /proc/sys (systemd's ProtectKernelTunables)
// leaves the kernel taking the NIC's frames too, which costs duplicates,
// not connectivity.
void write_sysctl(const std::string& iface, const char* name, int value) {
  if (value < 0) return;
  std::ofstream out(sysctl_path(iface, name));
  if (!(out << value << "\n" && out.flush()))
    log::warning("cannot set a sysctl", {{"sysctl", sysctl_path(iface, name)}, {"value", std::to_string(value)}});
}

}  // namespace

std::string handover_json(const HandoverState& s) {
  using nlohmann::json;
  json addrs = json::array(), routes = json::array();
  for (const IfAddress& a : s.addresses) {
    json j = {{"local", conf::format_ipv4(a.local)}, {"prefix_len", a.prefix_len}};
    if (a.broadcast) j["broadcast"] = conf::format_ipv4(a.broadcast);
    addrs.push_back(j);
  }
  for (const IfRoute& r : s.routes) {
    json j = {{"dst", conf::format_ipv4(r.dst)}, {"dst_len", r.dst_len}, {"metric", r.metric},
              {"protocol", r.protocol},          {"scope", r.scope},     {"onlink", r.onlink}};
    if (r.gateway) j["gateway"] = conf::format_ipv4(r.gateway);
    if (r.prefsrc) j["prefsrc"] = conf::format_ipv4(r.prefsrc);
    routes.push_back(j);
  }
  return json{{"iface", s.iface},   {"mtu", s.mtu},           {"addresses", addrs},
              {"routes", routes},   {"rp_filter", s.rp_filter}, {"arp_ignore", s.arp_ignore}}
             .dump(2) +
         "\n";
}

HandoverState parse_handover_json(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    HandoverState s;
    s.iface = j.at("iface").get<std::string>();
    s.mtu = j.at("mtu").get<int>();
    s.rp_filter = j.value("rp_filter", -1);
    s.arp_ignore = j.value("arp_ignore", -1);
    for (const auto& a : j.at("addresses"))
      s.addresses.push_back({parse_ip(a, "local"), a.at("prefix_len").get<uint8_t>(), parse_ip(a, "broadcast")});
    for (const auto& r : j.at("routes"))
      s.routes.push_back({parse_ip(r, "dst"), r.at("dst_len").get<uint8_t>(), parse_ip(r, "gateway"),
                          parse_ip(r, "prefsrc"), r.at("metric").get<uint32_t>(), r.at("protocol").get<uint8_t>(),
                          r.at("scope").get<uint8_t>(), r.value("onlink", false)});
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
  state_.rp_filter = read_sysctl(iface, "rp_filter");
  state_.arp_ignore = read_sysctl(iface, "arp_ignore");
  if (state_.addresses.empty())
    throw std::runtime_error("--take-over-address: " + iface + " has no IPv4 address to take over");
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
  nl.set_up(tap);
  // Deleting the addresses takes the routes through them away with them.
  if (from) {
    for (const IfAddress& a : state_.addresses) nl.del_address(*from, a);
    write_sysctl(state_.iface, "rp_filter", 1);
    write_sysctl(state_.iface, "arp_ignore", 8);
  }
  for (const IfAddress& a : state_.addresses) nl.add_address(*to, a);
  for (const IfRoute& r : state_.routes) nl.add_route(*to, r);
  log::info("node addresses taken over", {{"from", state_.iface}, {"to", tap},
                                          {"addresses", std::to_string(state_.addresses.size())},
                                          {"routes", std::to_string(state_.routes.size())}});
}

void AddressHandover::give_back(Netlink& nl, const HandoverState& s, const std::string& from_tap) {
  if (!from_tap.empty())
    if (auto tap = nl.ifindex(from_tap))
      for (const IfAddress& a : s.addresses) {
        try {
          nl.del_address(*tap, a);
        } catch (const NetlinkError&) {
          // Already gone with the TAP's routes: nothing to undo.
        }
      }
  const auto to = nl.ifindex(s.iface);
  if (!to) throw std::runtime_error("no interface '" + s.iface + "' to give the node's addresses back to");
  nl.set_mtu(s.iface, s.mtu);
  nl.set_up(s.iface);
  write_sysctl(s.iface, "rp_filter", s.rp_filter);
  write_sysctl(s.iface, "arp_ignore", s.arp_ignore);
  for (const IfAddress& a : s.addresses) nl.add_address(*to, a);
  for (const IfRoute& r : s.routes) nl.add_route(*to, r);
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
