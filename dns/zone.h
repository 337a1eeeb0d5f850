// The cluster's DNS zone as the workers answer it: the records of the
// Kubernetes DNS-Based Service Discovery specification (kubernetes/dns
// docs/specification.md, 1.1.0), with the choices CoreDNS's kubernetes
// plugin makes where the specification leaves room (plugin/kubernetes/
// kubernetes.go findServices/findPods, parse.go parseRequest, reverse.go,
// handler.go, plugin/backend_lookup.go; `pods insecure`, ttl 5).
//
// Built by the control thread from the same ClusterState and in the same
// table generation as the service tables; read by every worker, never
// written after construction. No DPDK.
#pragma once

#include "dns/message.h"
#include "dns/sharded_map.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace svcdp::dns {

// An address of either family as the reverse index keys it: IPv6, IPv4 as
// ::ffff:a.b.c.d (RFC 4291 2.5.5.2).
using Addr16 = std::array<uint8_t, 16>;
struct Addr16Hash {
  size_t operator()(const Addr16& a) const {
    uint64_t hi, lo;
    std::memcpy(&hi, a.data(), 8);
    std::memcpy(&lo, a.data() + 8, 8);
    return std::hash<uint64_t>{}(hi * 0x9e3779b97f4a7c15ull ^ lo);
  }
};

// One Service as DNS sees it (built per Service, shared between
// generations while it does not change).
struct ServiceRecords {
  enum class Kind : uint8_t { kClusterIP, kHeadless, kExternalName };
  struct Port {
    std::string name;      // lower case ("" when unnamed)
    std::string protocol;  // "tcp", "udp", "sctp"
    int32_t port = -1;     // -1: a slice without ports (CoreDNS's sentinel: no SRV)
  };
  struct Endpoint {
    uint32_t address = 0;  // host order
    std::string label;     // its hostname, or the address with dashes (10-244-1-5)
  };
  struct Endpoint6 {
    std::array<uint8_t, 16> address{};
    std::string label;  // its hostname, or the address with dashes (fd00-10-244-1--5)
  };
  // One EndpointSlice's ready endpoints and ports: its records are the
  // product of the two (CoreDNS's EndpointSubset). A slice has one
  // address type: IPv4 endpoints or IPv6 ones (AAAA records, ip6.arpa
  // names).
  struct Slice {
    std::vector<Port> ports;  // never empty: {"", "", -1} when the slice has none
    std::vector<Endpoint> endpoints;
    std::vector<Endpoint6> endpoints_v6 = {};
  };
  std::string name, ns;
  Kind kind = Kind::kClusterIP;
  std::vector<uint32_t> cluster_ips;  // host order
  std::vector<std::array<uint8_t, 16>> cluster_ips_v6 = {};  // a dual-stack or IPv6 Service's (AAAA)
  std::string external_name;          // kExternalName: lower case, no trailing dot
  std::vector<Port> ports;            // the Service's
  std::vector<Slice> slices;          // sorted by slice name
};

struct ZoneConfig {
  std::string domain = "cluster.local";  // --cluster-domain, lower case, no trailing dot
  uint32_t ttl = 5;                      // --dns-ttl (CoreDNS's default)
  uint32_t ns_address = 0;               // the DNS Service's ClusterIP (ns.dns.<zone>), host order; 0: none
};

class Zone {
 public:
  // `namespaces`: those that exist (their names answer NODATA, not
  // NXDOMAIN). `serial`: the SOA serial. Thread: control.
  Zone(ZoneConfig config, std::vector<std::shared_ptr<const ServiceRecords>> services,
       std::vector<std::string> namespaces, uint32_t serial);

  struct Result {
    enum class What : uint8_t {
      kAnswered,  // `len` bytes of answer are in the buffer
      kPass,      // not ours to answer (another zone, an ExternalName's address...): pass it on unchanged
    } what;
    size_t len = 0;
    uint16_t rcode = kNoError;
  };
  // Answers `q` (parsed from `buf`) in `buf`, within `limit` bytes (512
  // or the client's EDNS size, and the buffer's room). No allocation.
  // Thread: any (workers).
  Result answer(const Query& q, std::span<uint8_t> buf, size_t limit) const;

  // The namespace of the pod with this address (host order) when it is a
  // ready endpoint of some Service (EndpointSlices are svcdp's only view
  // of pods), else "". Thread: any.
  std::string_view namespace_of(uint32_t address) const {
    const std::string* ns = pod_namespaces_.find(address);
    return ns ? std::string_view(*ns) : std::string_view{};
  }

  const ZoneConfig& config() const { return config_; }
  size_t service_count() const { return services_.size(); }

 private:
  friend class ZoneIndex;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Named {
    std::shared_ptr<const ServiceRecords> records;
    std::string fqdn;  // name.namespace.svc.<zone>
  };
  using Names = ShardedMap<std::string, Named, Hash>;
  using Namespaces = std::unordered_set<std::string, Hash, std::equal_to<>>;

  Zone() = default;
  // The labels of a name inside the zone, as parseRequest splits them.
  struct Request;
  enum class Found : uint8_t { kRecords, kNoData, kNxDomain };
  Found lookup(const Request& r, auto&& each) const;
  bool parse(std::string_view base, Request& r) const;
  Result answer_zone(const Query& q, std::string_view base, Writer& w) const;
  Result answer_reverse(const Query& q, Writer& w) const;
  Result answer_ptr(const Addr16& addr, Writer& w) const;
  Result finish(Writer& w, uint16_t rcode, bool with_soa) const;
  bool write_soa(Writer& w, Writer::Section s) const;

  ZoneConfig config_;
  uint32_t serial_ = 0;
  std::string soa_mname_, soa_rname_, ns_name_;  // ns.dns.<zone>, hostmaster.<zone>
  Names services_;                                // by "name.namespace"
  std::shared_ptr<const Namespaces> namespaces_ = std::make_shared<const Namespaces>();
  // PTR targets by address: a ClusterIP's service name, or the names of
  // the endpoints with that address.
  // (A generation copies the parts a change touched: 1,024 of them keep
  // those of 100 k endpoint addresses small; the names are shared.)
  using Names_ = std::shared_ptr<const std::vector<std::string>>;
  ShardedMap<Addr16, Names_, Addr16Hash, std::equal_to<>, 10> reverse_;
  ShardedMap<uint32_t, std::string, std::hash<uint32_t>, std::equal_to<>, 10> pod_namespaces_;
};

// The control thread's side of the zone: every service's records and the
// services each address belongs to, kept as services change, so that the
// next Zone is the last one with only what changed made again (the parts
// of its maps a change touched: O(the change), not O(the cluster)).
// Thread: control.
class ZoneIndex {
 public:
  // `config`: the zone's domain and TTL. `namespaces`: those that exist
  // whatever the services (their names answer NODATA, not NXDOMAIN).
  ZoneIndex(ZoneConfig config, std::vector<std::string> namespaces);

  // The records of Service ns/name from now on (null: it is gone).
  void set(const std::string& ns, const std::string& name, std::shared_ptr<const ServiceRecords> records);

  // The zone of every service set so far. `ns_address`: the DNS Service's
  // ClusterIP (host order, 0: none); `serial`: the SOA serial.
  std::shared_ptr<const Zone> zone(uint32_t ns_address, uint32_t serial);

 private:
  // The reverse name and pod namespace of `addr`, from the services that
  // have it (the first by name.namespace where two claim it).
  void refresh(const Addr16& addr);

  Zone next_;  // the maps the next zone copies
  std::vector<std::string> fixed_namespaces_;
  std::unordered_map<std::string, size_t> namespace_services_;  // services per namespace
  bool namespaces_changed_ = true;
  std::unordered_map<Addr16, std::set<std::string>, Addr16Hash> users_;  // address → "name.namespace" of its services
  std::set<Addr16> changed_;  // addresses to refresh before the next zone
};

}  // namespace svcdp::dns
