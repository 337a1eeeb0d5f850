#include "control/k8s_objects.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>
#include <tuple>

namespace svcdp::control {
namespace {

using simdjson::dom::element;

std::string str(element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}

// A JSON number, or nullopt when absent; errors when it is not a number.
std::optional<int64_t> num(element e, const char* key, bool& bad) {
  element v;
  if (e[key].get(v) != simdjson::SUCCESS) return std::nullopt;
  int64_t n;
  if (v.get(n) != simdjson::SUCCESS) {
    bad = true;
    return std::nullopt;
  }
  return n;
}

// A boolean field: nullopt when absent or null (Go's nil *bool); `bad`
// set when it holds anything else.
std::optional<bool> boolean(element e, const char* key, bool& bad) {
  element v;
  if (e[key].get(v) != simdjson::SUCCESS || v.is_null()) return std::nullopt;
  bool b;
  if (v.get(b) != simdjson::SUCCESS) {
    bad = true;
    return std::nullopt;
  }
  return b;
}


// Calls f(item) for each item of the array e[key], if there is one.
template <typename F>
void for_each(element e, const char* key, F&& f) {
  simdjson::dom::array a;
  if (e[key].get(a) != simdjson::SUCCESS) return;
  for (element item : a) f(item);
}

// The names of a hints list (hints.forZones / hints.forNodes: [{name: x}]).
std::vector<std::string> hint_names(element hints, const char* key) {
  std::vector<std::string> out;
  for_each(hints, key, [&](element h) {
    if (std::string n = str(h, "name"); !n.empty()) out.push_back(std::move(n));
  });
  return out;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

ObjectMeta meta_of(element obj) {
  ObjectMeta m;
  element md;
  if (obj["metadata"].get(md) != simdjson::SUCCESS) return m;
  m.ns = str(md, "namespace");
  m.name = str(md, "name");
  m.uid = str(md, "uid");
  m.resource_version = str(md, "resourceVersion");
  m.creation_timestamp = str(md, "creationTimestamp");
  return m;
}

std::string label(element obj, const char* key, bool* present = nullptr) {
  std::string_view v;
  const bool found = obj["metadata"]["labels"][key].get(v) == simdjson::SUCCESS;
  if (present) *present = found;
  return found ? std::string(v) : std::string();
}

std::optional<Protocol> protocol_of(const std::string& s) {
  if (s.empty() || s == "TCP") return Protocol::TCP;
  if (s == "UDP") return Protocol::UDP;
  if (s == "SCTP") return Protocol::SCTP;
  return std::nullopt;
}

std::optional<uint16_t> port_number(std::optional<int64_t> n, bool allow_zero) {
  if (!n) return allow_zero ? std::optional<uint16_t>(0) : std::nullopt;
  if (*n < (allow_zero ? 0 : 1) || *n > 65535) return std::nullopt;
  return static_cast<uint16_t>(*n);
}

}  // namespace

const char* protocol_name(Protocol p) {
  switch (p) {
    case Protocol::TCP: return "TCP";
    case Protocol::UDP: return "UDP";
    case Protocol::SCTP: return "SCTP";
  }
  return "?";
}

std::optional<NodeInfo> node_from_json(element obj, std::string& error) {
  NodeInfo node;
  node.name = meta_of(obj).name;
  if (node.name.empty()) {
    error = "Node without metadata.name";
    return std::nullopt;
  }
  node.zone = label(obj, "topology.kubernetes.io/zone");

  // spec.podCIDRs (dual-stack era) supersedes spec.podCIDR; IPv6 entries
  // are not carried by this IPv4 overlay.
  std::string_view deletion;
  if (obj["metadata"]["deletionTimestamp"].get(deletion) == simdjson::SUCCESS && !deletion.empty()) node.eligible = false;
  std::vector<std::string> cidrs;
  element spec;
  if (obj["spec"].get(spec) == simdjson::SUCCESS) {
    for_each(spec, "taints", [&](element t) {
      if (str(t, "key") == "ToBeDeletedByClusterAutoscaler") node.eligible = false;
    });
    for_each(spec, "podCIDRs", [&](element c) {
      std::string_view v;
      if (c.get(v) == simdjson::SUCCESS) cidrs.emplace_back(v);
    });
    if (cidrs.empty() && !str(spec, "podCIDR").empty()) cidrs.push_back(str(spec, "podCIDR"));
  }
  for (const auto& c : cidrs) {
    if (c.find(':') != std::string::npos) {
      auto p6 = conf::parse_ipv6_prefix(c);
      if (!p6) {
        error = "Node " + node.name + ": malformed pod CIDR '" + c + "'";
        return std::nullopt;
      }
      node.pod_cidrs_v6.push_back(*p6);
      continue;
    }
    auto p = conf::parse_ipv4_prefix(c);
    if (!p) {
      error = "Node " + node.name + ": malformed pod CIDR '" + c + "'";
      return std::nullopt;
    }
    node.pod_cidrs.push_back(*p);
  }

  element status;
  if (obj["status"].get(status) == simdjson::SUCCESS) {
    for_each(status, "addresses", [&](element a) {
      const std::string type = str(a, "type");
      if (type != "InternalIP" && type != "ExternalIP") return;
      const std::string text = str(a, "address");
      if (const auto ip6 = conf::parse_ipv6(text)) {
        if (node.internal_ip_v6 == conf::Ipv6Addr{} && type == "InternalIP") node.internal_ip_v6 = *ip6;
        return node.addresses_v6.push_back(*ip6);
      }
      const auto ip = conf::parse_ipv4(text);
      if (!ip) return;
      node.addresses.push_back(*ip);
      if (node.internal_ip == 0 && type == "InternalIP") node.internal_ip = *ip;
    });
  }
  // IPv6-only nodes have only an IPv6 InternalIP (kube-proxy's IPv6
  // proxier serves them, its IPv4 one has no node address there).
  if (node.internal_ip == 0 && node.internal_ip_v6 == conf::Ipv6Addr{}) {
    error = "Node " + node.name + ": no InternalIP in status.addresses";
    return std::nullopt;
  }

  // flannel keeps {"VNI":1,"VtepMAC":"..."} as a JSON string annotation,
  // for its IPv6 VTEP under backend-v6-data.
  for (const auto& [key, field] : {std::pair{"flannel.alpha.coreos.com/backend-data", &node.vtep_mac},
                                   {"flannel.alpha.coreos.com/backend-v6-data", &node.vtep_mac6}}) {
    std::string_view backend;
    if (obj["metadata"]["annotations"][key].get(backend) != simdjson::SUCCESS) continue;
    simdjson::dom::parser parser;
    element data;
    std::string_view mac;
    if (parser.parse(backend.data(), backend.size()).get(data) != simdjson::SUCCESS) {
      error = "Node " + node.name + ": annotation " + key + " is not valid JSON";
      return std::nullopt;
    }
    if (data["VtepMAC"].get(mac) == simdjson::SUCCESS) *field = conf::parse_mac(mac);
  }
  return node;
}

std::optional<ServiceInfo> service_from_json(element obj, std::string& error) {
  ServiceInfo s;
  s.meta = meta_of(obj);
  const std::string id = "Service " + s.meta.ns + "/" + s.meta.name;
  if (s.meta.name.empty()) {
    error = "Service without metadata.name";
    return std::nullopt;
  }
  bool proxy_name = false, headless = false;
  label(obj, "service.kubernetes.io/service-proxy-name", &proxy_name);
  label(obj, "service.kubernetes.io/headless", &headless);
  s.other_proxy = proxy_name || headless;
  element spec;
  if (obj["spec"].get(spec) != simdjson::SUCCESS) {
    error = id + ": no spec";
    return std::nullopt;
  }
  s.type = str(spec, "type");
  if (s.type.empty()) s.type = "ClusterIP";
  s.external_name = str(spec, "externalName");

  std::vector<std::string> ips;
  for_each(spec, "clusterIPs", [&](element c) {
    std::string_view v;
    if (c.get(v) == simdjson::SUCCESS) ips.emplace_back(v);
  });
  if (ips.empty() && !str(spec, "clusterIP").empty()) ips.push_back(str(spec, "clusterIP"));
  for (const auto& ip : ips) {
    if (ip == "None") {
      s.headless = true;
      continue;
    }
    if (ip.find(':') != std::string::npos) {
      const auto v6 = conf::parse_ipv6(ip);
      if (!v6) {
        error = id + ": malformed clusterIP '" + ip + "'";
        return std::nullopt;
      }
      s.cluster_ips_v6.push_back(*v6);
      if (s.ip_families.size() < 2) s.ip_families.push_back(conf::IpFamily::kIPv6);  // until spec.ipFamilies says
      continue;
    }
    if (s.ip_families.size() < 2) s.ip_families.push_back(conf::IpFamily::kIPv4);
    auto v4 = conf::parse_ipv4(ip);
    if (!v4) {
      error = id + ": malformed clusterIP '" + ip + "'";
      return std::nullopt;
    }
    s.cluster_ips.push_back(*v4);
  }
  // The API server defaults spec.ipFamilies from the clusterIPs; an
  // object that has it says the order itself (headless services too).
  std::vector<conf::IpFamily> families;
  for_each(spec, "ipFamilies", [&](element f) {
    std::string_view v;
    if (f.get(v) != simdjson::SUCCESS) return;
    if (v == "IPv4") families.push_back(conf::IpFamily::kIPv4);
    if (v == "IPv6") families.push_back(conf::IpFamily::kIPv6);
  });
  if (!families.empty()) s.ip_families = std::move(families);
  s.ip_family_policy = str(spec, "ipFamilyPolicy");
  for_each(spec, "externalIPs", [&](element e) {
    std::string_view v;
    if (e.get(v) != simdjson::SUCCESS) return;
    if (auto ip = conf::parse_ipv4(v))
      s.external_ips.push_back(*ip);
    else if (auto ip6 = conf::parse_ipv6(v))
      s.external_ips_v6.push_back(*ip6);
  });
  element lb;
  if (obj["status"]["loadBalancer"].get(lb) == simdjson::SUCCESS)
    for_each(lb, "ingress", [&](element ing) {
      // KEP-1860: with ipMode Proxy the load balancer proxies to the
      // nodes itself and kube-proxy does not capture the IP
      // (pkg/proxy/serviceport.go); VIP, or none, is captured.
      if (str(ing, "ipMode") == "Proxy") return;
      const std::string ip = str(ing, "ip");
      if (auto v4 = conf::parse_ipv4(ip))
        s.load_balancer_ips.push_back(*v4);
      else if (auto v6 = conf::parse_ipv6(ip))
        s.load_balancer_ips_v6.push_back(*v6);
    });

  simdjson::dom::array ports;
  if (spec["ports"].get(ports) == simdjson::SUCCESS) for (element p : ports) {
    ServicePort sp;
    bool bad = false;
    sp.name = str(p, "name");
    auto proto = protocol_of(str(p, "protocol"));
    auto port = port_number(num(p, "port", bad), false);
    auto node_port = port_number(num(p, "nodePort", bad), true);
    if (!proto || !port || !node_port || bad) {
      error = id + ": port '" + sp.name + "' has a bad protocol, port or nodePort";
      return std::nullopt;
    }
    sp.protocol = *proto;
    sp.port = *port;
    sp.node_port = *node_port;
    // targetPort is IntOrString; absent means "same as port".
    element tp;
    int64_t tn;
    std::string_view tname;
    if (p["targetPort"].get(tp) != simdjson::SUCCESS) {
      sp.target_port = sp.port;
    } else if (tp.get(tn) == simdjson::SUCCESS) {
      auto t = port_number(tn, false);
      if (!t) {
        error = id + ": port '" + sp.name + "' has targetPort out of range";
        return std::nullopt;
      }
      sp.target_port = *t;
    } else if (tp.get(tname) == simdjson::SUCCESS) {
      sp.target_port_name = std::string(tname);
    }
    s.ports.push_back(std::move(sp));
  }

  s.affinity_client_ip = str(spec, "sessionAffinity") == "ClientIP";
  element client_ip;
  bool bad = false;
  if (spec["sessionAffinityConfig"]["clientIP"].get(client_ip) == simdjson::SUCCESS)
    if (auto t = num(client_ip, "timeoutSeconds", bad))
      s.affinity_timeout_s = static_cast<uint32_t>(std::clamp<int64_t>(*t, 1, 86400));
  // Each family's proxier takes the ranges of its family, spaces trimmed
  // (pkg/proxy/serviceport.go, newBaseServiceInfo: validation lets padding
  // through); host bits are dropped, as Go's ParseCIDR has them.
  for_each(spec, "loadBalancerSourceRanges", [&](element r) {
    std::string_view v;
    if (r.get(v) != simdjson::SUCCESS) return;
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    const size_t slash = v.find('/');
    if (slash == std::string_view::npos) return;
    unsigned len = 129;
    const std::string_view digits = v.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
    if (ec != std::errc{} || end != digits.data() + digits.size()) return;
    if (const auto addr = conf::parse_ipv4(v.substr(0, slash)); addr && len <= 32) {
      conf::Ipv4Prefix p{0, static_cast<uint8_t>(len)};
      p.addr = *addr & p.mask();
      s.source_ranges.push_back(p);
    } else if (const auto addr6 = conf::parse_ipv6(v.substr(0, slash)); addr6 && len <= 128) {
      conf::Ipv6Prefix p{*addr6, static_cast<uint8_t>(len)};
      for (unsigned bit = len; bit < 128; ++bit) p.addr[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
      s.source_ranges_v6.push_back(p);
    }
  });
  s.external_policy_local = str(spec, "externalTrafficPolicy") == "Local";
  bool bad_hc = false;
  if (auto hc = port_number(num(spec, "healthCheckNodePort", bad_hc), true); hc && !bad_hc) {
    s.health_check_node_port = *hc;
  } else {
    error = id + ": healthCheckNodePort out of range";
    return std::nullopt;
  }
  s.internal_policy_local = str(spec, "internalTrafficPolicy") == "Local";
  return s;
}

std::optional<EndpointSliceInfo> endpoint_slice_from_json(element obj, std::string& error) {
  EndpointSliceInfo es;
  es.meta = meta_of(obj);
  // kube-proxy ignores a trigger time it cannot parse (endpointschangetracker.go).
  if (std::string_view t;
      obj["metadata"]["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"].get(t) == simdjson::SUCCESS)
    es.trigger_unix_ns = parse_rfc3339_ns(t).value_or(0);
  const std::string id = "EndpointSlice " + es.meta.ns + "/" + es.meta.name;
  if (es.meta.name.empty()) {
    error = "EndpointSlice without metadata.name";
    return std::nullopt;
  }
  es.service_name = label(obj, "kubernetes.io/service-name");
  bool proxy_name = false, headless = false;
  label(obj, "service.kubernetes.io/service-proxy-name", &proxy_name);
  label(obj, "service.kubernetes.io/headless", &headless);
  es.other_proxy = proxy_name || headless;
  const std::string family = str(obj, "addressType");
  if (family == "IPv4") es.family = conf::IpFamily::kIPv4;
  if (family == "IPv6") es.family = conf::IpFamily::kIPv6;
  if (!es.family) return es;  // FQDN slices: kube-proxy reads neither kind
  const bool v6 = *es.family == conf::IpFamily::kIPv6;
  simdjson::dom::array endpoints;
  size_t index = 0;
  if (obj["endpoints"].get(endpoints) == simdjson::SUCCESS) for (element e : endpoints) {
    const std::string at = id + ": endpoints[" + std::to_string(index++) + "]";
    // Every address of an endpoint is the same pod; kube-proxy uses the first.
    std::string_view a;
    if (e["addresses"].at(0).error() == simdjson::INDEX_OUT_OF_BOUNDS) continue;
    Endpoint ep;
    const auto a4 = e["addresses"].at(0).get(a) == simdjson::SUCCESS && !v6 ? conf::parse_ipv4(a) : std::nullopt;
    const auto a6 = v6 && e["addresses"].at(0).get(a) == simdjson::SUCCESS ? conf::parse_ipv6(a) : std::nullopt;
    if (!a4 && !a6) {
      error = id + ": malformed endpoint address";
      return std::nullopt;
    }
    if (a4) ep.address = *a4;
    if (a6) ep.address_v6 = *a6;
    ep.node_name = str(e, "nodeName");
    ep.zone = str(e, "zone");
    ep.hostname = str(e, "hostname");
    // pkg/proxy/endpointslicecache.go: a nil ready or serving is true, a
    // nil terminating false. A value of another type is refused, naming
    // it, never read as a default.
    element cond;
    if (e["conditions"].get(cond) == simdjson::SUCCESS) {
      for (auto [field, value, absent] : {std::tuple{"ready", &ep.ready, true}, std::tuple{"serving", &ep.serving, true},
                                          std::tuple{"terminating", &ep.terminating, false}}) {
        bool bad = false;
        *value = boolean(cond, field, bad).value_or(absent);
        if (bad) {
          error = at + ".conditions." + field + " is not a boolean";
          return std::nullopt;
        }
      }
    }
    element hints;
    if (e["hints"].get(hints) == simdjson::SUCCESS) {
      ep.zone_hints = hint_names(hints, "forZones");
      ep.node_hints = hint_names(hints, "forNodes");
    }
    (v6 ? es.endpoints_v6 : es.endpoints).push_back(std::move(ep));
  }
  simdjson::dom::array ports;
  if (obj["ports"].get(ports) == simdjson::SUCCESS) for (element p : ports) {
    EndpointPort ep;
    bool bad = false;
    ep.name = str(p, "name");
    // kube-proxy ignores a slice port whose name, port or protocol is nil
    // (endpointslicecache.go, endpointInfoByServicePort): an unnamed slice
    // port is not the unnamed Service port.
    std::string_view given;
    ep.complete = p["name"].get(given) == simdjson::SUCCESS && p["port"].error() == simdjson::SUCCESS &&
                  p["protocol"].get(given) == simdjson::SUCCESS;
    auto proto = protocol_of(str(p, "protocol"));
    auto port = port_number(num(p, "port", bad), true);
    if (!proto || !port || bad) {
      error = id + ": port '" + ep.name + "' has a bad protocol or port";
      return std::nullopt;
    }
    ep.protocol = *proto;
    ep.port = *port;
    es.ports.push_back(std::move(ep));
  }
  return es;
}

// RFC 3339 section 5.6: full-date "T" partial-time time-offset.
std::optional<int64_t> parse_rfc3339_ns(std::string_view t) {
  size_t i = 0;
  auto digits = [&](size_t n, unsigned& out) {
    if (i + n > t.size()) return false;
    out = 0;
    for (size_t k = 0; k < n; ++k, ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + static_cast<unsigned>(t[i] - '0');
    }
    return true;
  };
  auto sep = [&](char c) { return i < t.size() && (t[i] == c || (c == 'T' && t[i] == 't')) && (++i, true); };
  unsigned y, mo, d, h, mi, sec;
  if (!digits(4, y) || !sep('-') || !digits(2, mo) || !sep('-') || !digits(2, d) || !sep('T') || !digits(2, h) ||
      !sep(':') || !digits(2, mi) || !sep(':') || !digits(2, sec))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  int64_t frac_ns = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    int64_t scale = 100'000'000;
    const size_t start = i;
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i, scale /= 10) frac_ns += (t[i] - '0') * scale;
    if (i == start) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    const int sign = t[i++] == '-' ? -1 : 1;
    unsigned oh, om;
    if (!digits(2, oh) || !sep(':') || !digits(2, om) || oh > 23 || om > 59) return std::nullopt;
    offset_s = sign * static_cast<int64_t>(oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (i != t.size()) return std::nullopt;
  const int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * 1'000'000'000 + frac_ns;
}

}  // namespace svcdp::control
