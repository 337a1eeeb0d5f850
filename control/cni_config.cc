#include "control/cni_config.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace svcdp::control {

std::string cni_conflist(const CniParams& p) {
  using nlohmann::json;
  json ranges = json::array();
  for (const conf::Ipv4Prefix& c : p.pod_cidrs) {
    json range = {{"subnet", conf::format_prefix(c)}};
    if (c.contains(p.gateway)) range["gateway"] = conf::format_ipv4(p.gateway);
    ranges.push_back(json::array({range}));
  }
  const json macvlan = {
      {"type", "macvlan"},
      {"master", p.master},
      {"mode", "private"},
      {"mtu", p.mtu},
      {"ipam",
       {{"type", "host-local"},
        {"ranges", ranges},
        {"routes", json::array({{{"dst", "0.0.0.0/0"}, {"gw", conf::format_ipv4(p.gateway)}}})}}},
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
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  return true;
}

}  // namespace svcdp::control
