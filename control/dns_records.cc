#include "control/dns_records.h"

#include "conf/inet.h"

#include <algorithm>
#include <cctype>

namespace svcdp::control {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string protocol_label(Protocol p) { return lower(protocol_name(p)); }

std::string dashed(uint32_t address) {
  std::string s = conf::format_ipv4(address);
  std::replace(s.begin(), s.end(), '.', '-');
  return s;
}

// CoreDNS's endpointHostname for an IPv6 address: its colons as dashes.
std::string dashed(const conf::Ipv6Addr& address) {
  std::string s = conf::format_ipv6(address);
  std::replace(s.begin(), s.end(), ':', '-');
  return s;
}

}  // namespace

std::shared_ptr<const dns::ServiceRecords> dns_records(const ServiceInfo& service, const EndpointSliceCache& slices) {
  using Kind = dns::ServiceRecords::Kind;
  auto r = std::make_shared<dns::ServiceRecords>();
  r->name = service.meta.name;
  r->ns = service.meta.ns;
  r->kind = service.type == "ExternalName" ? Kind::kExternalName : service.headless ? Kind::kHeadless : Kind::kClusterIP;
  r->cluster_ips = service.cluster_ips;
  r->cluster_ips_v6 = service.cluster_ips_v6;
  r->external_name = lower(service.external_name);
  while (!r->external_name.empty() && r->external_name.back() == '.') r->external_name.pop_back();
  for (const ServicePort& p : service.ports) r->ports.push_back({lower(p.name), protocol_label(p.protocol), p.port});
  if (const auto* by_name = slices.slices_of(service.meta.ns, service.meta.name))
    for (const auto& [name, slice] : *by_name) {
      dns::ServiceRecords::Slice s;
      for (const EndpointPort& p : slice.ports) s.ports.push_back({lower(p.name), protocol_label(p.protocol), p.port});
      if (s.ports.empty()) s.ports.push_back({});  // CoreDNS's sentinel: addresses, no SRV
      for (const Endpoint& e : slice.endpoints)
        if (e.ready) s.endpoints.push_back({e.address, e.hostname.empty() ? dashed(e.address) : lower(e.hostname)});
      for (const Endpoint& e : slice.endpoints_v6)
        if (e.ready)
          s.endpoints_v6.push_back({e.address_v6, e.hostname.empty() ? dashed(e.address_v6) : lower(e.hostname)});
      if (!s.endpoints.empty() || !s.endpoints_v6.empty()) r->slices.push_back(std::move(s));
    }
  return r;
}

}  // namespace svcdp::control
