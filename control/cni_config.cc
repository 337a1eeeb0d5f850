#include "control/cni_config.h"

#include "control/atomic_file.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace svcdp::control {

std::string cni_conflist(const CniParams& p) {
  using nlohmann::json;
  json ranges = json::array();
  for (const conf::Ipv4Prefix& c : p.pod_cidrs) {
    json range = {{"subnet", conf::format_prefix(c)}};
    if (c.contains(p.gateway)) range["gateway"] = conf::format_ipv4(p.gateway);
    ranges.push_back(json::array({range}));
  }
  json routes = json::array();
  if (!p.pod_cidrs.empty()) routes.push_back({{"dst", "0.0.0.0/0"}, {"gw", conf::format_ipv4(p.gateway)}});
  for (const conf::Ipv6Prefix& c : p.pod_cidrs6) {
    json range = {{"subnet", conf::format_ipv6_prefix(c)}};
    if (c.contains(p.gateway6)) range["gateway"] = conf::format_ipv6(p.gateway6);
    ranges.push_back(json::array({range}));
  }
  if (!p.pod_cidrs6.empty()) routes.push_back({{"dst", "::/0"}, {"gw", conf::format_ipv6(p.gateway6)}});
  const json macvlan = {
      {"type", "macvlan"},
      {"master", p.master},
      {"mode", "private"},
      {"mtu", p.mtu},
      {"ipam",
       {{"type", "host-local"},
        {"ranges", ranges},
        {"routes", routes}}},
  };
  const json conflist = {{"cniVersion", "1.0.0"}, {"name", "svcdp"}, {"plugins", json::array({macvlan})}};
  return conflist.dump(2) + "\n";
}

bool write_cni_conflist(const std::string& dir, const std::string& text) {
  const std::string path = dir + "/10-svcdp.conflist";
  {
    std::ifstream in(path);
    std::ostringstream old;
    old << in.rdbuf();
    if (in && old.str() == text) return false;
  }
  write_file_atomically(path, text);
  return true;
}

}  // namespace svcdp::control
