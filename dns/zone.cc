#include "dns/zone.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace svcdp::dns {
namespace {

constexpr std::string_view kDnsSchemaVersion = "1.1.0";  // specification.md section 1
constexpr uint32_t kVersionTtl = 28800;                  // CoreDNS's TTL for dns-version
constexpr std::string_view kReverseZone = "in-addr.arpa";
constexpr std::string_view kReverseZone6 = "ip6.arpa";

Addr16 v4_mapped(uint32_t host_order) {
  Addr16 a{};
  a[10] = a[11] = 0xff;
  for (int i = 0; i < 4; ++i) a[static_cast<size_t>(12 + i)] = static_cast<uint8_t>(host_order >> (24 - 8 * i));
  return a;
}

// Every address a service's records give, with its role: a ClusterIP
// (empty label) or an endpoint's (its label).
template <typename Fn>
void each_address(const ServiceRecords& r, Fn&& fn) {
  for (uint32_t ip : r.cluster_ips) fn(v4_mapped(ip), std::string_view{}, true);
  for (const Addr16& ip : r.cluster_ips_v6) fn(ip, std::string_view{}, true);
  for (const ServiceRecords::Slice& slice : r.slices) {
    for (const ServiceRecords::Endpoint& ep : slice.endpoints) fn(v4_mapped(ep.address), std::string_view(ep.label), false);
    for (const ServiceRecords::Endpoint6& ep : slice.endpoints_v6) fn(ep.address, std::string_view(ep.label), false);
  }
}

// Names built while answering (SRV targets) live here until the answer is
// written: the writer's compression refers to them.
class Arena {
 public:
  std::string_view join(std::string_view a, std::string_view b) {
    const size_t n = a.size() + 1 + b.size();
    if (used_ + n > buf_.size()) return {};
    char* p = buf_.data() + used_;
    std::memcpy(p, a.data(), a.size());
    p[a.size()] = '.';
    std::memcpy(p + a.size() + 1, b.data(), b.size());
    used_ += n;
    return {p, n};
  }

 private:
  std::array<char, 8192> buf_;
  size_t used_ = 0;
};

// What one lookup yields, as CoreDNS's msg.Service: an address or a
// name, the port, and the label its SRV target starts with.
struct Entry {
  uint16_t type;  // kA, kAAAA or kCNAME
  std::array<uint8_t, 16> addr{};
  std::string_view cname = {};
  int32_t port = -1;
  std::string_view label = {};  // endpoint label or pod name ("": the service itself)
  std::string_view parent = {};  // the FQDN `label` is under: its service's, or its pod namespace's
};

Entry a_entry(uint32_t host_order, int32_t port, std::string_view label, std::string_view parent) {
  Entry e{kA};
  const uint32_t be = htonl(host_order);
  std::memcpy(e.addr.data(), &be, 4);
  e.port = port;
  e.label = label;
  e.parent = parent;
  return e;
}

Entry aaaa_entry(const std::array<uint8_t, 16>& addr, int32_t port, std::string_view label, std::string_view parent) {
  Entry e{kAAAA};
  e.addr = addr;
  e.port = port;
  e.label = label;
  e.parent = parent;
  return e;
}

bool put_addr(Writer& w, const Entry& e) { return w.put_bytes(e.addr.data(), e.type == kA ? 4 : 16); }

// Up to a bound, what was written already (CoreDNS dedups A records by
// address and SRV records by target and port).
template <class T, size_t N = 64>
class Seen {
 public:
  bool insert(const T& v) {
    for (size_t i = 0; i < n_; ++i)
      if (items_[i] == v) return false;
    if (n_ < N) items_[n_++] = v;
    return true;
  }

 private:
  std::array<T, N> items_;  // the first n_ are set
  size_t n_ = 0;
};

bool port_matches(std::string_view want_port, std::string_view want_proto, const ServiceRecords::Port& p) {
  return (want_port.empty() || want_port == p.name) && (want_proto.empty() || want_proto == p.protocol);
}

std::string_view strip_underscore(std::string_view s) { return !s.empty() && s[0] == '_' ? s.substr(1) : s; }

bool ends_with_label(std::string_view name, std::string_view zone, std::string_view& base) {
  if (name == zone) {
    base = {};
    return true;
  }
  if (name.size() > zone.size() && name.ends_with(zone) && name[name.size() - zone.size() - 1] == '.') {
    base = name.substr(0, name.size() - zone.size() - 1);
    return true;
  }
  return false;
}

}  // namespace

struct Zone::Request {
  std::string_view kind;  // "svc", "pod"; "": the apex, svc.<zone> or pod.<zone>
  std::string_view ns, service, endpoint, port, protocol;
  std::string_view key;   // "service.namespace", as the qname holds it
  std::string_view parent;  // "namespace.pod.<zone>" (pods)
};

Zone::Zone(ZoneConfig config, std::vector<std::shared_ptr<const ServiceRecords>> services,
           std::vector<std::string> namespaces, uint32_t serial) {
  ZoneIndex index(config, std::move(namespaces));
  for (const auto& s : services) index.set(s->ns, s->name, s);
  *this = *index.zone(config.ns_address, serial);
}

ZoneIndex::ZoneIndex(ZoneConfig config, std::vector<std::string> namespaces)
    : fixed_namespaces_(std::move(namespaces)) {
  next_.config_ = std::move(config);
  next_.soa_mname_ = "ns.dns." + next_.config_.domain;
  next_.soa_rname_ = "hostmaster." + next_.config_.domain;
  next_.ns_name_ = next_.soa_mname_;
}

void ZoneIndex::set(const std::string& ns, const std::string& name, std::shared_ptr<const ServiceRecords> records) {
  const std::string key = name + "." + ns;
  // What each address is to this service (ClusterIP: an empty label),
  // before and after: only the addresses whose part changed are looked at
  // again (a slice update usually changes one endpoint of many).
  using Role = std::pair<Addr16, std::string_view>;
  std::vector<Role> before, after;
  const auto roles = [](const ServiceRecords& r, std::vector<Role>& out) {
    each_address(r, [&](const Addr16& a, std::string_view label, bool) { out.emplace_back(a, label); });
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  };
  const Zone::Named* old = next_.services_.find(key);
  std::shared_ptr<const ServiceRecords> keep = old ? old->records : nullptr;  // `before` views it
  if (old) roles(*old->records, before);
  if (records) roles(*records, after);
  std::vector<Role> differ;
  std::set_symmetric_difference(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(differ));
  for (const auto& [a, label] : differ) changed_.insert(a);
  const auto has = [](const std::vector<Role>& v, const Addr16& a) {
    const auto it = std::lower_bound(v.begin(), v.end(), Role{a, {}});
    return it != v.end() && it->first == a;
  };
  for (const auto& [a, label] : before)
    if (!has(after, a))
      if (auto it = users_.find(a); it != users_.end() && it->second.erase(key) && it->second.empty()) users_.erase(it);
  for (const auto& [a, label] : after) users_[a].insert(key);
  if (old && --namespace_services_[ns] == 0) {
    namespace_services_.erase(ns);
    namespaces_changed_ = true;
  }
  if (!records) {
    if (old) next_.services_.erase(key);
    return;
  }
  if (namespace_services_[ns]++ == 0) namespaces_changed_ = true;
  std::string fqdn = name + "." + ns + ".svc." + next_.config_.domain;
  next_.services_.set(key, Zone::Named{std::move(records), std::move(fqdn)});
}

// reverse.go: a ClusterIP's name alone; an address no ClusterIP has
// names every endpoint that has it. The pod namespace (IPv4 pods): the
// first service's (by name.namespace) with an endpoint there.
void ZoneIndex::refresh(const Addr16& addr) {
  const bool v4 = addr[10] == 0xff && addr[11] == 0xff && std::all_of(addr.begin(), addr.begin() + 10, [](uint8_t b) {
    return b == 0;
  });
  const uint32_t host = uint32_t{addr[12]} << 24 | uint32_t{addr[13]} << 16 | uint32_t{addr[14]} << 8 | addr[15];
  const auto users = users_.find(addr);
  if (users == users_.end()) {
    next_.reverse_.erase(addr);
    if (v4) next_.pod_namespaces_.erase(host);
    return;
  }
  std::vector<std::string> cluster_ip, endpoints;
  const std::string* pod_ns = nullptr;
  for (const std::string& key : users->second) {
    const Zone::Named& named = *next_.services_.find(key);
    const ServiceRecords& r = *named.records;
    each_address(r, [&](const Addr16& a, std::string_view label, bool is_cluster_ip) {
      if (a != addr) return;
      if (is_cluster_ip) {
        if (cluster_ip.empty()) cluster_ip = {named.fqdn};
        return;
      }
      if (!pod_ns) pod_ns = &r.ns;
      std::string n = std::string(label) + "." + named.fqdn;
      if (std::find(endpoints.begin(), endpoints.end(), n) == endpoints.end()) endpoints.push_back(std::move(n));
    });
  }
  if (v4 && pod_ns)
    next_.pod_namespaces_.set(host, *pod_ns);
  else if (v4)
    next_.pod_namespaces_.erase(host);
  next_.reverse_.set(addr, std::make_shared<const std::vector<std::string>>(cluster_ip.empty() ? std::move(endpoints)
                                                                                                : std::move(cluster_ip)));
}

std::shared_ptr<const Zone> ZoneIndex::zone(uint32_t ns_address, uint32_t serial) {
  for (const Addr16& a : changed_) refresh(a);
  changed_.clear();
  if (namespaces_changed_) {
    Zone::Namespaces all(fixed_namespaces_.begin(), fixed_namespaces_.end());
    for (const auto& [ns, n] : namespace_services_) all.insert(ns);
    next_.namespaces_ = std::make_shared<const Zone::Namespaces>(std::move(all));
    namespaces_changed_ = false;
  }
  next_.config_.ns_address = ns_address;
  next_.serial_ = serial;
  return std::shared_ptr<const Zone>(new Zone(next_));
}

bool Zone::parse(std::string_view base, Request& r) const {
  if (base.empty() || base == "svc" || base == "pod") return true;  // NODATA (parse.go)
  std::array<std::string_view, 7> segs;
  size_t n = 0;
  for (size_t pos = 0;;) {
    const size_t dot = base.find('.', pos);
    if (n == segs.size()) return false;  // too long to be a name of the zone
    segs[n++] = base.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  r.kind = segs[n - 1];
  if (r.kind != "svc" && r.kind != "pod") return false;
  if (n < 2) return true;
  r.ns = segs[n - 2];
  if (n < 3) return true;
  r.service = segs[n - 3];
  r.key = {r.service.data(), static_cast<size_t>(r.ns.data() + r.ns.size() - r.service.data())};
  // The pod's namespace's FQDN, as the qname holds it (base is its prefix).
  r.parent = {r.ns.data(), static_cast<size_t>(base.data() + base.size() - r.ns.data()) + 1 + config_.domain.size()};
  switch (n - 3) {
    case 0:
      return true;
    case 1:
      r.endpoint = segs[0];
      return true;
    case 2:
      r.port = strip_underscore(segs[0]);
      r.protocol = strip_underscore(segs[1]);
      return true;
    default:
      return false;
  }
}

// kubernetes.go Records → findPods / findServices: calls `each(Entry)`
// for every record source the name has.
Zone::Found Zone::lookup(const Request& r, auto&& each) const {
  if (r.kind.empty()) return Found::kNoData;
  if (!namespaces_->contains(r.ns)) return Found::kNxDomain;
  if (r.service.empty()) return Found::kNoData;
  if (r.kind == "pod") {
    // `pods insecure`: a-b-c-d (or an IPv6 address with dashes) is the
    // address, whether such a pod exists or not.
    std::array<char, 64> text{};
    if (r.service.size() >= text.size()) return Found::kNxDomain;
    const bool v4 = std::count(r.service.begin(), r.service.end(), '-') == 3 && r.service.find("--") == std::string_view::npos;
    std::transform(r.service.begin(), r.service.end(), text.begin(), [&](char c) { return c == '-' ? (v4 ? '.' : ':') : c; });
    Entry e{v4 ? kA : kAAAA};
    if (inet_pton(v4 ? AF_INET : AF_INET6, text.data(), e.addr.data()) != 1) return Found::kNxDomain;
    e.port = 0;
    e.label = r.service;
    e.parent = r.parent;
    each(e);
    return Found::kRecords;
  }
  const Named* named = services_.find(r.key);
  if (!named) return Found::kNxDomain;
  const ServiceRecords& s = *named->records;
  const std::string_view fqdn = named->fqdn;
  bool found = false;
  switch (s.kind) {
    case ServiceRecords::Kind::kExternalName: {
      if (!r.endpoint.empty()) return Found::kNxDomain;
      Entry e{kCNAME};
      e.cname = s.external_name;
      each(e);
      return Found::kRecords;
    }
    case ServiceRecords::Kind::kHeadless:
    case ServiceRecords::Kind::kClusterIP:
      break;
  }
  if (s.kind == ServiceRecords::Kind::kHeadless || !r.endpoint.empty()) {
    // (kubernetes.go findServices: every ready address of every slice,
    // either family; the query type picks A or AAAA.)
    const auto endpoints = [&](const ServiceRecords::Slice& slice, const auto& list, auto entry) {
      for (const auto& ep : list) {
        if (!r.endpoint.empty() && r.endpoint != ep.label) continue;
        for (const ServiceRecords::Port& p : slice.ports) {
          if (!port_matches(r.port, r.protocol, p)) continue;
          found = true;
          each(entry(ep.address, p.port, ep.label, fqdn));
        }
      }
    };
    for (const ServiceRecords::Slice& slice : s.slices) {
      endpoints(slice, slice.endpoints, a_entry);
      endpoints(slice, slice.endpoints_v6, aaaa_entry);
    }
    return found ? Found::kRecords : Found::kNxDomain;
  }
  for (const ServiceRecords::Port& p : s.ports) {
    if (!port_matches(r.port, r.protocol, p)) continue;
    found = true;
    for (uint32_t ip : s.cluster_ips) each(a_entry(ip, p.port, {}, fqdn));
    for (const auto& ip : s.cluster_ips_v6) each(aaaa_entry(ip, p.port, {}, fqdn));
  }
  return found ? Found::kRecords : Found::kNxDomain;
}

bool Zone::write_soa(Writer& w, Writer::Section s) const {
  // backend_lookup.go SOA: TTL min(300, ttl), the zone's own names.
  return w.record_named(s, config_.domain, kSOA, std::min<uint32_t>(300, config_.ttl), [&] {
    return w.put_name(soa_mname_) && w.put_name(soa_rname_) && w.put_u32(serial_) && w.put_u32(7200) &&
           w.put_u32(1800) && w.put_u32(86400) && w.put_u32(config_.ttl);
  });
}

Zone::Result Zone::finish(Writer& w, uint16_t rcode, bool with_soa) const {
  if (with_soa) write_soa(w, Writer::kAuthority);
  return {Result::What::kAnswered, w.finish(), rcode};
}

Zone::Result Zone::answer(const Query& q, std::span<uint8_t> buf, size_t limit) const {
  const Result pass{Result::What::kPass};
  if (q.qclass != kClassIN || q.tsig || !q.name_plain) return pass;
  std::string_view base;
  Writer w(buf, q, limit);
  if (ends_with_label(q.qname(), config_.domain, base)) {
    if (q.edns && q.edns_version != 0) {  // RFC 6891 6.1.3
      w.begin(kBadVers);
      return finish(w, kBadVers, false);
    }
    return answer_zone(q, base, w);
  }
  if (ends_with_label(q.qname(), kReverseZone, base) || ends_with_label(q.qname(), kReverseZone6, base))
    return answer_reverse(q, w);
  return pass;
}

// CoreDNS's ExtractAddressFromReverse (plugin/pkg/dnsutil/reverse.go):
// d.c.b.a.in-addr.arpa (RFC 1035 3.5) or 32 nibbles, least significant
// first, .ip6.arpa (RFC 3596 2.5); anything else is not ours.
Zone::Result Zone::answer_reverse(const Query& q, Writer& w) const {
  const Result pass{Result::What::kPass};
  if (q.qtype != kPTR) return pass;  // CoreDNS falls through to its upstream for the reverse zones
  std::string_view name = q.qname();
  const auto next_label = [&name] {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    name.remove_prefix(dot == std::string_view::npos ? name.size() : dot + 1);
    return label;
  };
  if (name.ends_with(kReverseZone6)) {
    Addr16 a{};
    for (int i = 31; i >= 0; --i) {
      const std::string_view label = next_label();
      if (label.size() != 1) return pass;
      const char c = label[0];
      const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (v < 0) return pass;
      a[static_cast<size_t>(i / 2)] |= static_cast<uint8_t>(i % 2 ? v : v << 4);
    }
    return name == kReverseZone6 ? answer_ptr(a, w) : pass;
  }
  std::array<uint32_t, 4> octets{};
  for (int i = 0; i < 4; ++i) {
    const std::string_view label = next_label();
    if (label.empty() || label.size() > 3 || (label.size() > 1 && label[0] == '0')) return pass;
    uint32_t v = 0;
    for (char c : label) {
      if (c < '0' || c > '9') return pass;
      v = v * 10 + static_cast<uint32_t>(c - '0');
    }
    if (v > 255) return pass;
    octets[static_cast<size_t>(i)] = v;
  }
  if (name != kReverseZone) return pass;
  return answer_ptr(v4_mapped(octets[3] << 24 | octets[2] << 16 | octets[1] << 8 | octets[0]), w);
}

Zone::Result Zone::answer_ptr(const Addr16& addr, Writer& w) const {
  const Names_* targets = reverse_.find(addr);
  if (!targets) return Result{Result::What::kPass};
  w.begin(kNoError);
  for (const std::string& target : **targets)
    if (!w.record_at_question(Writer::kAnswer, kPTR, config_.ttl, [&] { return w.put_name(target); })) break;
  return finish(w, kNoError, false);
}

Zone::Result Zone::answer_zone(const Query& q, std::string_view base, Writer& w) const {
  const uint32_t ttl = config_.ttl;
  Request r;
  const bool valid = parse(base, r);
  const bool default_ns = base == "ns.dns";  // kubernetes.go isDefaultNS
  const auto lookup_rcode = [&]() -> Found {
    if (!valid) return Found::kNxDomain;
    if (default_ns) return Found::kNoData;
    return lookup(r, [](const Entry&) {});
  };
  const auto negative = [&](Found f) {
    const uint16_t rcode = f == Found::kNxDomain ? kNxDomain : kNoError;
    w.begin(rcode);
    return finish(w, rcode, true);
  };

  switch (q.qtype) {
    case kAXFR:
    case kIXFR:
      return {Result::What::kPass};
    case kSOA:  // handler.go: the zone's SOA, whatever name in it was asked
      w.begin(kNoError);
      write_soa(w, Writer::kAnswer);
      return finish(w, kNoError, false);
    case kNS:
      if (!base.empty()) break;
      w.begin(kNoError);
      w.record_at_question(Writer::kAnswer, kNS, ttl, [&] { return w.put_name(ns_name_); });
      if (config_.ns_address)
        w.record_named(Writer::kAdditional, ns_name_, kA, ttl,
                       [&] { return put_addr(w, a_entry(config_.ns_address, 0, {}, {})); });
      return finish(w, kNoError, false);
    case kTXT:
      if (base != "dns-version") return negative(Found::kNoData);
      w.begin(kNoError);
      w.record_at_question(Writer::kAnswer, kTXT, kVersionTtl, [&] {
        return w.put_u8(static_cast<uint8_t>(kDnsSchemaVersion.size())) &&
               w.put_bytes(kDnsSchemaVersion.data(), kDnsSchemaVersion.size());
      });
      return finish(w, kNoError, false);
    case kA:
    case kAAAA: {
      if (default_ns) {
        if (q.qtype != kA || config_.ns_address == 0) return negative(Found::kNoData);
        w.begin(kNoError);
        w.record_at_question(Writer::kAnswer, kA, ttl,
                             [&] { return put_addr(w, a_entry(config_.ns_address, 0, {}, {})); });
        return finish(w, kNoError, false);
      }
      if (!valid) return negative(Found::kNxDomain);
      // An ExternalName's address is its upstream's to give (CoreDNS
      // looks the target up there): CoreDNS answers it. Its one entry
      // comes before anything is written.
      bool external = false;
      w.begin(kNoError);
      Seen<std::array<uint8_t, 16>> seen;
      const Found f = lookup(r, [&](const Entry& e) {
        external |= e.type == kCNAME;
        if (e.type != q.qtype || !seen.insert(e.addr)) return;
        w.record_at_question(Writer::kAnswer, e.type, ttl, [&] { return put_addr(w, e); });
      });
      if (external) {
        w.cancel();
        return {Result::What::kPass};
      }
      if (f != Found::kRecords) return negative(f);
      return finish(w, kNoError, w.count(Writer::kAnswer) == 0 && !w.truncated());
    }
    case kCNAME:
    case kPTR: {
      // backend_lookup.go CNAME / PTR: the first name-valued record (an
      // ExternalName's), else nothing.
      const Found f = lookup_rcode();
      if (f != Found::kRecords) return negative(f);
      std::string_view target;
      lookup(r, [&](const Entry& e) {
        if (target.empty() && e.type == kCNAME) target = e.cname;
      });
      if (target.empty()) return negative(Found::kNoData);
      w.begin(kNoError);
      w.record_at_question(Writer::kAnswer, q.qtype, ttl, [&] { return w.put_name(target); });
      return finish(w, kNoError, false);
    }
    case kSRV: {
      const Found f = lookup_rcode();
      if (f != Found::kRecords) return negative(f);
      // backend_lookup.go SRV: priority 0 for all, weights sharing 100,
      // targets named after the service (or endpoint, or pod), their
      // addresses in the additional section; SRV for ExternalName is not
      // served.
      size_t n = 0;
      lookup(r, [&](const Entry& e) { n += e.type != kCNAME; });
      if (n == 0) return negative(Found::kNoData);
      const auto weight = static_cast<uint16_t>(std::max<size_t>(1, 100 / n));
      Arena arena;
      const auto target_of = [&](const Entry& e) { return e.label.empty() ? e.parent : arena.join(e.label, e.parent); };
      w.begin(kNoError);
      Seen<std::pair<std::string_view, int32_t>> srv_seen;
      lookup(r, [&](const Entry& e) {
        if (e.type == kCNAME || e.port == -1) return;
        const std::string_view target = target_of(e);
        if (target.empty() || !srv_seen.insert({target, e.port})) return;
        w.record_at_question(Writer::kAnswer, kSRV, ttl, [&] {
          return w.put_u16(0) && w.put_u16(weight) && w.put_u16(static_cast<uint16_t>(e.port)) && w.put_name(target);
        });
      });
      Seen<std::pair<std::string_view, std::array<uint8_t, 16>>> addr_seen;
      lookup(r, [&](const Entry& e) {
        if (e.type == kCNAME || e.port == -1 || w.truncated()) return;
        const std::string_view target = target_of(e);
        if (target.empty() || !addr_seen.insert({target, e.addr})) return;
        w.record_named(Writer::kAdditional, target, e.type, ttl, [&] { return put_addr(w, e); });
      });
      return finish(w, kNoError, false);
    }
    default:
      break;
  }
  // Any other type: "a fake A lookup, so we can distinguish between NODATA
  // and NXDOMAIN" (handler.go).
  return negative(lookup_rcode() == Found::kNxDomain ? Found::kNxDomain : Found::kNoData);
}

}  // namespace svcdp::dns
