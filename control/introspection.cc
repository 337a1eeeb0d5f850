#include "control/introspection.h"

#include "dns/stats.h"
#include "dns/text.h"

#include <nlohmann/json.hpp>

#include "conf/inet.h"
#include "control/metrics_writer.h"
#include "control/process_metrics.h"

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_version.h>

#include <rte_mempool.h>

#include <chrono>
#include <cmath>
#include <thread>
#include <tuple>
#include <cstdio>
#include <numeric>
#include <vector>

namespace svcdp::control {
namespace {

const char* proto_name(uint8_t p) {
  return p == lb::kTcp ? "TCP" : p == lb::kUdp ? "UDP" : p == lb::kSctp ? "SCTP" : p == lb::kIcmp ? "ICMP" : "other";
}
const char* frontend_name(lb::Frontend f) {
  switch (f) {
    case lb::Frontend::kClusterIp: return "ClusterIP";
    case lb::Frontend::kNodePort: return "NodePort";
    case lb::Frontend::kExternalIp: return "ExternalIP";
    case lb::Frontend::kLoadBalancerIp: return "LoadBalancer";
  }
  return "?";
}
std::string addr(lb::be32 a) { return conf::format_ipv4(rte_be_to_cpu_32(a)); }
// As ip(8) prints it: lower case.
std::string mac_text(const rte_ether_addr& m) {
  char text[18];
  const uint8_t* b = m.addr_bytes;
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
  return text;
}
std::string addr_port(lb::be32 a, lb::be16 p) { return addr(a) + ":" + std::to_string(rte_be_to_cpu_16(p)); }
// RFC 5952 section 6: [address]:port.
std::string addr_port(const lb::Addr6& a, lb::be16 p) {
  std::string text(1, '[');
  text.append(conf::format_ipv6(a.bytes)).append("]:").append(std::to_string(rte_be_to_cpu_16(p)));
  return text;
}
std::string prefix_text(lb::be32 a, uint8_t len) { return conf::format_prefix({lb::from_be32(a), len}); }
std::string prefix_text(const lb::Addr6& a, uint8_t len) { return conf::format_ipv6_prefix({a.bytes, len}); }

using Json = nlohmann::ordered_json;  // keys in the order written, as svcdpctl shows them

// {"name": count, ...} for the non-zero counters of a named list.
template <size_t N>
Json nonzero_counts(const std::array<uint64_t, N>& counts, const dp::NamedInfo (&info)[N]) {
  Json out = Json::object();
  for (size_t i = 0; i < N; ++i)
    if (counts[i]) out[info[i].name] = counts[i];
  return out;
}

std::string service_label(const lb::ServiceSpec& s) { return s.ns + "/" + s.name + ":" + s.port_name; }

// "endpoints" when some endpoint takes new connections of that traffic,
// else "DROP" (a Local policy, endpoints elsewhere) or "REJECT" (none).
template <lb::Family F>
const char* verdict(const lb::BasicService<F>& svc, bool external) {
  if (svc.has_usable(external)) return "endpoints";
  return svc.has_any_endpoint() ? "DROP" : "REJECT";
}

}  // namespace

Introspection::Introspection(const dp::Dataplane& dataplane, std::array<std::string, dp::kRoleCount> devices,
                             const KubeSource* kube)
    : dp_(dataplane), devices_(std::move(devices)), kube_(kube), tsc_hz_(static_cast<double>(rte_get_tsc_hz())) {}

void Introspection::published(Published p, const SyncStats& sync) {
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::lock_guard lock(mu_);
  snap_ = {std::move(p.services), std::move(p.services6), p.generation, now, sync, std::move(p.dns),
           std::move(p.dns_policy), std::move(p.nodes)};
}

std::string Introspection::dns_lookup_json(const std::string& name, const std::string& type) const {
  using nlohmann::json;
  const auto error = [](const std::string& what) { return json_line(json{{"error", what}}); };
  const std::optional<uint16_t> qtype = dns::type_from_name(type.empty() ? "A" : type);
  if (!qtype) return error("unknown record type '" + type + "' (A, AAAA, SRV, PTR, CNAME, TXT, NS, SOA or TYPEn)");
  std::string qname = name;
  while (!qname.empty() && qname.back() == '.') qname.pop_back();
  if (qname.empty() || qname.size() > 253) return error("'" + name + "' is not a domain name");
  const Snapshot s = snapshot();
  if (!s.dns) return error("cluster DNS is off (svcdp --dns-service)");
  // A query as a resolver sends it, with EDNS0 so that the whole answer is shown.
  dns::QueryOptions o;
  o.edns_size = 4096;
  dns::Bytes buf = dns::make_query(qname, *qtype, o);
  const size_t len = buf.size();
  buf.resize(4096);
  dns::Query q;
  if (dns::parse_query({buf.data(), len}, q) != dns::Parse::kOk) return error("'" + name + "' is not a domain name");
  const dns::Zone::Result r = s.dns->answer(q, buf, buf.size());
  json out{{"name", qname}, {"type", dns::type_name(*qtype)}, {"generation", s.generation}};
  if (r.what == dns::Zone::Result::What::kPass) {
    out["answered_by"] = "coredns";
    return json_line(out);
  }
  buf.resize(r.len);
  const dns::Decoded d = dns::decode(buf);
  out["answered_by"] = "svcdp";
  out["rcode"] = dns::rcode_name(d.rcode);
  out["truncated"] = d.tc;
  out["answer"] = d.answer;
  out["authority"] = d.authority;
  std::vector<std::string> additional;
  for (const std::string& a : d.additional)
    if (!a.starts_with("OPT ")) additional.push_back(a);
  out["additional"] = additional;
  return json_line(out);
}

std::string Introspection::dns_stats_json() const {
  using nlohmann::json;
  const dp::Counters c = dp_.totals();
  json queries = json::array();
  uint64_t answered = 0, passed = 0;
  for (size_t t = 0; t < dns::kTypeBuckets; ++t) {
    for (size_t r = 0; r < dns::kRcodeBuckets; ++r)
      if (const uint64_t n = c.dns_answered[t * dns::kRcodeBuckets + r]) {
        queries.push_back({{"type", dns::kTypeNames[t]}, {"rcode", dns::kRcodeNames[r]}, {"answered_by", "svcdp"},
                           {"queries", n}});
        answered += n;
      }
    if (const uint64_t n = c.dns_passed[t]) {
      queries.push_back({{"type", dns::kTypeNames[t]}, {"answered_by", "coredns"}, {"queries", n}});
      passed += n;
    }
  }
  const Snapshot s = snapshot();
  json out{{"enabled", s.dns != nullptr},
           {"answered", answered},
           {"passed", passed},
           {"not_queries", c.drops[static_cast<size_t>(dp::Drop::kDnsNotQuery)]},
           {"queries", queries}};
  if (s.dns) {
    out["domain"] = s.dns->config().domain;
    out["ttl"] = s.dns->config().ttl;
    out["services"] = s.dns->service_count();
  }
  return json_line(out);
}

Introspection::Snapshot Introspection::snapshot() const {
  std::lock_guard lock(mu_);
  return snap_;
}

bool Introspection::ready() const { return snapshot().generation > 0; }

std::optional<std::vector<uint32_t>> Introspection::service_ids(const std::string& ns, const std::string& name,
                                                                const std::string& port) const {
  const Snapshot s = snapshot();
  if (!s.services) return std::nullopt;
  std::vector<uint32_t> ids;
  for (const auto& svc : s.services->services()) {
    const auto& sp = svc->spec();
    if (sp.ns == ns && sp.name == name && (port.empty() || sp.port_name == port)) ids.push_back(sp.id);
  }
  if (ids.empty()) return std::nullopt;
  return ids;
}

std::string Introspection::metrics() const {
  const Snapshot s = snapshot();
  const dp::Counters c = dp_.totals();
  MetricsWriter w;
  using L = MetricsWriter::Labels;

  w.family("svcdp_build_info", "gauge", "svcdp version and the DPDK it runs on");
  w.sample(L{{"version", SVCDP_VERSION}, {"dpdk_version", rte_version()}}, uint64_t{1});
  if (const auto p = process_stats()) write_process_metrics(w, *p);

  // Ports, from the PMDs' own counters.
  struct PortStat {
    const char* name;
    const char* help;
    uint64_t rte_eth_stats::*field;
  };
  static constexpr PortStat kPortStats[] = {
      {"svcdp_port_rx_packets_total", "packets received by the port", &rte_eth_stats::ipackets},
      {"svcdp_port_tx_packets_total", "packets sent by the port", &rte_eth_stats::opackets},
      {"svcdp_port_rx_bytes_total", "bytes received by the port", &rte_eth_stats::ibytes},
      {"svcdp_port_tx_bytes_total", "bytes sent by the port", &rte_eth_stats::obytes},
      {"svcdp_port_rx_missed_total", "packets the port dropped for lack of RX descriptors", &rte_eth_stats::imissed},
      {"svcdp_port_rx_errors_total", "erroneous packets received", &rte_eth_stats::ierrors},
      {"svcdp_port_tx_errors_total", "packets the port failed to send", &rte_eth_stats::oerrors},
  };
  std::array<rte_eth_stats, dp::kRoleCount> port_stats{};
  for (size_t r = 0; r < dp::kRoleCount; ++r)
    if (dp_.port_id(static_cast<dp::Role>(r)) != dp::kNoPort) rte_eth_stats_get(dp_.port_id(static_cast<dp::Role>(r)), &port_stats[r]);
  for (const PortStat& ps : kPortStats) {
    w.family(ps.name, "counter", ps.help);
    for (size_t r = 0; r < dp::kRoleCount; ++r)
      if (dp_.port_id(static_cast<dp::Role>(r)) != dp::kNoPort)
        w.sample(L{{"role", dp::kRoleNames[r]}, {"device", devices_[r]}}, port_stats[r].*ps.field);
  }

  // Everything else the PMDs count (per-queue packets, error kinds...):
  // names are the driver's own, a bounded set per device; one family per
  // unit, as the names end (DPDK's xstats naming: *_bytes, *_packets).
  struct Xstats {
    const char* family;
    const char* help;
  };
  static constexpr Xstats kXstats[] = {
      {"svcdp_port_xstats_bytes_total", "the port driver's extended byte counters (rte_eth_xstats named *_bytes)"},
      {"svcdp_port_xstats_packets_total", "the port driver's extended packet counters (rte_eth_xstats named *_packets)"},
      {"svcdp_port_xstats_events_total", "the port driver's other extended counters: errors, drops, events (rte_eth_xstats)"},
  };
  const auto xstat_kind = [](std::string_view name) -> size_t {
    if (name.ends_with("_bytes")) return 0;
    if (name.ends_with("_packets") || name.ends_with("_pkts")) return 1;
    return 2;
  };
  struct Xstat {
    size_t role;
    std::string name;
    uint64_t value;
  };
  std::vector<Xstat> xstats;
  for (size_t r = 0; r < dp::kRoleCount; ++r) {
    const uint16_t id = dp_.port_id(static_cast<dp::Role>(r));
    if (id == dp::kNoPort) continue;
    const int n = rte_eth_xstats_get_names(id, nullptr, 0);
    if (n <= 0) continue;
    std::vector<rte_eth_xstat_name> names(static_cast<size_t>(n));
    std::vector<rte_eth_xstat> values(static_cast<size_t>(n));
    if (rte_eth_xstats_get_names(id, names.data(), static_cast<unsigned>(n)) != n ||
        rte_eth_xstats_get(id, values.data(), static_cast<unsigned>(n)) != n)
      continue;
    for (const rte_eth_xstat& x : values)
      if (x.id < names.size()) xstats.push_back({r, names[x.id].name, x.value});
  }
  for (size_t k = 0; k < std::size(kXstats); ++k) {
    w.family(kXstats[k].family, "counter", kXstats[k].help);
    for (const Xstat& x : xstats)
      if (xstat_kind(x.name) == k)
        w.sample(L{{"role", dp::kRoleNames[x.role]}, {"device", devices_[x.role]}, {"name", x.name}}, x.value);
  }

  // Packet pools (one per socket with workers, and the control thread's).
  w.family("svcdp_mempool_mbufs_in_use", "gauge", "packet buffers taken from the pool (in rings, queues and flight)");
  for (const rte_mempool* mp : dp_.pools()) w.sample(L{{"pool", mp->name}}, uint64_t{rte_mempool_in_use_count(mp)});
  w.family("svcdp_mempool_mbufs", "gauge", "packet buffers the pool holds");
  for (const rte_mempool* mp : dp_.pools()) w.sample(L{{"pool", mp->name}}, uint64_t{mp->size});

  // Neighbours (ARP), as the workers see them.
  const dp::NeighTable::Census neigh = dp_.neighbours().census();
  w.family("svcdp_neighbour_entries", "gauge", "neighbour table entries, resolved (a MAC) or unresolved (asked, not answered)");
  w.sample(L{{"state", "resolved"}}, uint64_t{neigh.resolved});
  w.sample(L{{"state", "unresolved"}}, uint64_t{neigh.unresolved});
  w.family("svcdp_neighbour_capacity", "gauge", "neighbour table entries allocated");
  w.sample(L{}, uint64_t{dp_.neighbours().capacity()});

  // Workers.
  w.family("svcdp_worker_rx_packets_total", "counter", "packets a worker received, by port role");
  for (unsigned i = 0; i < dp_.worker_count(); ++i)
    for (size_t r = 0; r < dp::kRoleCount; ++r)
      w.sample(L{{"worker", std::to_string(i)}, {"role", dp::kRoleNames[r]}}, dp_.worker(i).counters().rx_packets[r]);
  w.family("svcdp_worker_tx_packets_total", "counter", "packets a worker sent, by port role");
  for (unsigned i = 0; i < dp_.worker_count(); ++i)
    for (size_t r = 0; r < dp::kRoleCount; ++r)
      w.sample(L{{"worker", std::to_string(i)}, {"role", dp::kRoleNames[r]}}, dp_.worker(i).counters().tx_packets[r]);
  w.family("svcdp_worker_drops_total", "counter", "packets a worker dropped, every reason (svcdp_drops_total has them by reason)");
  for (unsigned i = 0; i < dp_.worker_count(); ++i) {
    const auto& d = dp_.worker(i).counters().drops;
    w.sample(L{{"worker", std::to_string(i)}}, std::accumulate(d.begin(), d.end(), uint64_t{0}));
  }
  w.family("svcdp_worker_busy_seconds_total", "counter", "time a worker spent in poll rounds that received packets");
  for (unsigned i = 0; i < dp_.worker_count(); ++i)
    w.sample(L{{"worker", std::to_string(i)}}, double(dp_.worker(i).counters().busy_cycles) / tsc_hz_);
  w.family("svcdp_worker_idle_seconds_total", "counter", "time a worker spent in poll rounds that received nothing");
  for (unsigned i = 0; i < dp_.worker_count(); ++i)
    w.sample(L{{"worker", std::to_string(i)}}, double(dp_.worker(i).counters().idle_cycles) / tsc_hz_);

  // `show runtime`: packets and time per stage (each stage runs over a
  // vector; icmp_error, ip_fragment, lb_new_flow and arp run inline, their
  // time in their caller's), and per input port (every stage its bursts'
  // packets went through).
  w.family("svcdp_stage_packets_total", "counter", "packets that entered a worker stage (dataplane/stage.h)");
  for (size_t i = 0; i < dp::kStageCount; ++i) w.sample(L{{"stage", dp::kStageInfo[i].name}}, c.stage_packets[i]);
  w.family("svcdp_stage_processing_seconds_total", "counter",
           "time workers spent running a stage over its vectors (inline stages count in their caller's)");
  for (size_t i = 0; i < dp::kStageCount; ++i)
    w.sample(L{{"stage", dp::kStageInfo[i].name}}, double(c.stage_cycles[i]) / tsc_hz_);
  w.family("svcdp_worker_processing_seconds_total", "counter",
           "time a worker spent processing the bursts of an input port, every stage included");
  for (unsigned i = 0; i < dp_.worker_count(); ++i)
    for (size_t r = 0; r < dp::kRoleCount; ++r)
      w.sample(L{{"worker", std::to_string(i)}, {"role", dp::kRoleNames[r]}},
               double(dp_.worker(i).counters().rx_cycles[r]) / tsc_hz_);

  w.family("svcdp_drops_total", "counter", "packets dropped, by reason (dataplane/drop_reason.h)");
  for (size_t i = 0; i < dp::kDropCount; ++i) w.sample(L{{"reason", dp::kDropInfo[i].name}}, c.drops[i]);

  // Cluster DNS, as CoreDNS counts requests (series appear once seen):
  // answered by a worker with its rcode, or passed on to the DNS
  // Service's endpoints, whose answer svcdp does not read.
  w.family("svcdp_dns_queries_total", "counter",
           "UDP queries to the cluster DNS from this node, by type, rcode and who answered (svcdp, or coredns: passed on)");
  for (size_t t = 0; t < dns::kTypeBuckets; ++t) {
    for (size_t r = 0; r < dns::kRcodeBuckets; ++r)
      if (const uint64_t n = c.dns_answered[t * dns::kRcodeBuckets + r])
        w.sample(L{{"type", std::string(dns::kTypeNames[t])}, {"rcode", std::string(dns::kRcodeNames[r])},
                   {"answered_by", "svcdp"}},
                 n);
    if (const uint64_t n = c.dns_passed[t])
      w.sample(L{{"type", std::string(dns::kTypeNames[t])}, {"rcode", "unknown"}, {"answered_by", "coredns"}}, n);
  }
  if (const auto& policy = snapshot().dns_policy) {
    // Per rule of the policy loaded (counted from its loading), and the
    // queries no rule decided.
    w.family("svcdp_dns_policy_queries_total", "counter",
             "local pods' DNS queries by the policy rule that decided them (rule=\"\": a default) and its action");
    const auto& rules = policy->spec().rules;
    for (size_t i = 0; i < rules.size(); ++i)
      w.sample(L{{"rule", rules[i].name}, {"action", rules[i].deny ? "deny" : "allow"}}, policy->decided(i));
    w.sample(L{{"rule", ""}, {"action", "default"}}, policy->decided(rules.size()));
  }

  struct Plain {
    const char* name;
    const char* help;
    uint64_t dp::Counters::*field;
  };
  static constexpr Plain kPlain[] = {
      {"svcdp_vxlan_encap_packets_total", "packets encapsulated towards another node", &dp::Counters::vxlan_encap},
      {"svcdp_vxlan_decap_packets_total", "packets decapsulated from another node", &dp::Counters::vxlan_decap},
      {"svcdp_forwarded_local_packets_total", "packets delivered to a pod of this node", &dp::Counters::forwarded_local},
      {"svcdp_neighbour_evictions_total", "neighbours learned from requests released to make room for needed ones", &dp::Counters::neigh_evicted},
      {"svcdp_to_kernel_packets_total", "packets handed to the node's kernel (exception path)", &dp::Counters::to_kernel},
      {"svcdp_from_kernel_packets_total", "IPv4 and IPv6 packets the node's kernel sent through the exception path", &dp::Counters::from_kernel},
      {"svcdp_forwarded_uplink_packets_total", "packets routed out of the uplink without VXLAN", &dp::Counters::forwarded_uplink},
      {"svcdp_masquerade_new_flows_total", "pod flows leaving the cluster, masqueraded to the node address", &dp::Counters::masq_new_flows},
      {"svcdp_ip_fragments_total", "fragments made of datagrams without DF too large for their link (RFC 791)", &dp::Counters::ip_fragments},
      {"svcdp_icmp_errors_sent_total", "ICMP Time Exceeded and Fragmentation Needed, ICMPv6 Time Exceeded and Destination Unreachable sent",
       &dp::Counters::icmp_errors_sent},
      {"svcdp_icmp_errors_rate_limited_total", "ICMP errors not sent: over the per-worker rate limit", &dp::Counters::icmp_rate_limited},
      {"svcdp_lb_new_flows_total", "flows load-balanced to an endpoint", &dp::Counters::lb_new_flows},
      {"svcdp_lb_picked_up_flows_total", "TCP flows taken up mid-stream by consistent hashing (no entry: a restart, an expiry)", &dp::Counters::lb_picked_up},
      {"svcdp_lb_forward_packets_total", "packets translated client to endpoint", &dp::Counters::lb_forward},
      {"svcdp_lb_reply_packets_total", "packets translated endpoint to client", &dp::Counters::lb_reply},
      {"svcdp_lb_rejected_total", "REJECT answers for services without endpoints", &dp::Counters::lb_rejected},
      {"svcdp_lb_reset_flows_total", "TCP flows reset because their endpoint left", &dp::Counters::lb_reset},
      {"svcdp_lb_grace_replies_total", "replies delivered in the grace period after their endpoint left", &dp::Counters::lb_grace_replies},
      {"svcdp_fragment_trains_evicted_total", "fragment trains that gave way in a full fragment cache", &dp::Counters::frag_evicted},
      {"svcdp_lb_rebalanced_flows_total", "UDP flows moved because their endpoint left", &dp::Counters::lb_rebalanced},
      {"svcdp_lb_icmp_translated_total", "ICMP errors translated for a flow", &dp::Counters::lb_icmp_translated},
      {"svcdp_lb_fragments_total", "non-first fragments that followed their first", &dp::Counters::lb_fragments},
  };
  for (const Plain& p : kPlain) {
    w.family(p.name, "counter", p.help);
    w.sample(L{}, c.*p.field);
  }

  // Services: bounded labels (namespace, service, port name, protocol).
  if (s.services) {
    const auto totals = dp_.service_totals();
    struct Svc {
      const char* name;
      const char* help;
      uint64_t dp::ServiceCounters::*field;
    };
    static constexpr Svc kSvc[] = {
        {"svcdp_service_packets_total", "packets of the service's flows, both directions", &dp::ServiceCounters::packets},
        {"svcdp_service_bytes_total", "IP bytes of the service's flows, both directions", &dp::ServiceCounters::bytes},
        {"svcdp_service_new_flows_total", "flows load-balanced for the service", &dp::ServiceCounters::new_flows},
        {"svcdp_service_rejects_total", "REJECT answers of the service (no usable endpoint)", &dp::ServiceCounters::rejected},
    };
    auto labels = [](const lb::ServiceSpec& sp) {
      return L{{"namespace", sp.ns}, {"service", sp.name}, {"port", sp.port_name}, {"protocol", proto_name(sp.proto)}};
    };
    for (const Svc& m : kSvc) {
      w.family(m.name, "counter", m.help);
      for (const auto& svc : s.services->services())
        if (svc->spec().id < totals.size()) w.sample(labels(svc->spec()), totals[svc->spec().id].*m.field);
    }
    // Disjoint states (they sum to the endpoints): ready; serving but
    // terminating; neither. Which take new flows is its own family.
    w.family("svcdp_service_endpoints", "gauge",
             "endpoints of the service by state: ready, terminating (serving, not ready) or not_ready");
    std::vector<uint64_t> usable;
    usable.reserve(s.services->size());
    for (const auto& svc : s.services->services()) {
      uint64_t ready = 0, terminating = 0, other = 0, u = 0;
      for (const auto& e : svc->endpoints()) {
        if (e.ready)
          ++ready;
        else if (e.serving && e.terminating)
          ++terminating;
        else
          ++other;
        u += svc->usable(false, e);
      }
      usable.push_back(u);
      for (auto [state, v] : {std::pair{"ready", ready}, {"terminating", terminating}, {"not_ready", other}}) {
        L l = labels(svc->spec());
        l.emplace_back("state", state);
        w.sample(l, v);
      }
    }
    w.family("svcdp_service_usable_endpoints", "gauge",
             "endpoints that take the service's new flows (internal traffic, kube-proxy's CategorizeEndpoints)");
    size_t i = 0;
    for (const auto& svc : s.services->services()) w.sample(labels(svc->spec()), usable[i++]);
  }

  // Conntrack.
  const lb::CtStats ct = dp_.conntrack().stats();
  w.family("svcdp_conntrack_entries", "gauge", "connection-tracking entries in use (flows and affinity)");
  w.sample(L{}, ct.entries);
  w.family("svcdp_conntrack_capacity", "gauge", "connection-tracking entries allocated");
  w.sample(L{}, ct.capacity);
  w.family("svcdp_conntrack_fill_ratio", "gauge", "connection-tracking entries in use over those allocated (0 to 1)");
  w.sample(L{}, ct.capacity ? double(ct.entries) / double(ct.capacity) : 0.0);
  w.family("svcdp_conntrack_affinity_entries", "gauge", "session-affinity entries in use");
  w.sample(L{}, ct.affinity_entries);
  w.family("svcdp_conntrack_expired_total", "counter", "entries freed by expiry");
  w.sample(L{}, ct.expired);
  static constexpr const char* kCtProto[] = {"TCP", "UDP", "other"};
  for (auto [name, help, arr] : {std::tuple{"svcdp_conntrack_inserts_total", "flows inserted", &ct.inserts},
                                 std::tuple{"svcdp_conntrack_evictions_total", "flows evicted for room (unassured first, then idle)", &ct.evictions},
                                 std::tuple{"svcdp_conntrack_refusals_total", "flows refused: table full", &ct.refusals}}) {
    w.family(name, "counter", help);
    for (size_t p = 0; p < 3; ++p) w.sample(L{{"protocol", kCtProto[p]}}, (*arr)[p]);
  }

  // Control plane.
  w.family("svcdp_table_generation", "gauge", "number of the table generation the workers use");
  w.sample(L{}, s.generation);
  w.family("svcdp_last_sync_timestamp_seconds", "gauge", "when the current table generation was published (Unix time)");
  w.sample(L{}, s.published_unix_s);
  w.family("svcdp_sync_last_queued_timestamp_seconds", "gauge",
           "when a change last asked for a new generation (Unix time; 0 before any)");
  w.sample(L{}, double(last_queued_unix_ns_.load(std::memory_order_relaxed)) * 1e-9);
  w.family("svcdp_sync_changes_pending", "gauge", "services with a change not yet in a built generation");
  w.sample(L{}, uint64_t{pending_.load(std::memory_order_relaxed)});
  w.family("svcdp_sync_latency_seconds", "histogram", "change received by the source to generation published");
  w.histogram(L{}, s.sync.sync_latency);
  w.family("svcdp_network_programming_duration_seconds", "histogram",
           "an EndpointSlice's last-change-trigger-time to the generation with it visible to the workers "
           "(kube-proxy's network programming latency SLI)");
  w.histogram(L{}, s.sync.programming);
  w.family("svcdp_table_build_seconds", "histogram", "time to build a table generation");
  w.histogram(L{}, s.sync.build_time);
  w.family("svcdp_service_ports_unbuilt", "gauge", "service ports that could not be built and keep their last tables");
  w.sample(L{}, s.sync.unbuilt);
  if (kube_) {
    struct Watch {
      const char* name;
      const char* help;
      std::atomic<uint64_t> ReflectorStats::*field;
      const char* type;  // event type label, or null
    };
    static constexpr Watch kWatch[] = {
        {"svcdp_watch_events_total", "watch events applied", &ReflectorStats::added, "ADDED"},
        {"svcdp_watch_events_total", "", &ReflectorStats::modified, "MODIFIED"},
        {"svcdp_watch_events_total", "", &ReflectorStats::deleted, "DELETED"},
        {"svcdp_watch_events_total", "", &ReflectorStats::bookmarks, "BOOKMARK"},
        {"svcdp_watch_lists_total", "complete lists (start, and after 410 Gone)", &ReflectorStats::lists, nullptr},
        {"svcdp_watch_relists_total", "lists forced by 410 Gone (expired resourceVersion)", &ReflectorStats::expired, nullptr},
        {"svcdp_api_errors_total", "failed API requests (HTTP errors, connection failures, stalls)", &ReflectorStats::errors, nullptr},
        {"svcdp_watch_bad_events_total", "watch lines that were not usable JSON or objects", &ReflectorStats::bad_events, nullptr},
    };
    for (const Watch& m : kWatch) {
      if (*m.help) w.family(m.name, "counter", m.help);
      for (auto kind : {ResourceKind::kNode, ResourceKind::kService, ResourceKind::kSlice}) {
        L l{{"resource", kResourceNames[static_cast<int>(kind)]}};
        if (m.type) l.emplace_back("type", m.type);
        w.sample(l, (kube_->stats(kind).*m.field).load());
      }
    }
    // client-go's rest_client_requests_total / _request_duration_seconds.
    w.family("svcdp_api_requests_total", "counter", "API requests by resource, verb and HTTP status code");
    for (auto kind : {ResourceKind::kNode, ResourceKind::kService, ResourceKind::kSlice})
      for (size_t v = 0; v < ApiRequestStats::kVerbs; ++v)
        for (size_t ci = 0; ci < ApiRequestStats::kCodes.size() + 2; ++ci) {
          const uint64_t count = kube_->stats(kind).requests.by_code[v][ci].load();
          if (count == 0) continue;
          const std::string code = ci < ApiRequestStats::kCodes.size() ? std::to_string(ApiRequestStats::kCodes[ci])
                                   : ci == ApiRequestStats::kOther       ? "other"
                                                                         : "<error>";
          w.sample(L{{"resource", kResourceNames[static_cast<int>(kind)]}, {"verb", v == 0 ? "list" : "watch"},
                     {"code", code}},
                   count);
        }
    w.family("svcdp_api_request_duration_seconds", "histogram", "API list page requests, sent to answer read");
    for (auto kind : {ResourceKind::kNode, ResourceKind::kService, ResourceKind::kSlice}) {
      const ApiRequestStats& r = kube_->stats(kind).requests;
      std::array<uint64_t, ApiRequestStats::kBounds.size() + 1> counts{};
      uint64_t total = 0;
      for (size_t i = 0; i < counts.size(); ++i) total += counts[i] = r.list_latency[i].load();
      w.histogram(L{{"resource", kResourceNames[static_cast<int>(kind)]}, {"verb", "list"}}, ApiRequestStats::kBounds,
                  counts, double(r.list_latency_sum_ns.load()) * 1e-9, total);
    }
    // Seconds since each resource last heard from the API server (a list,
    // an event, a bookmark); absent until it has.
    w.family("svcdp_api_last_contact_age_seconds", "gauge",
             "seconds since the API server last answered for the resource (list, event or bookmark)");
    const auto now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               std::chrono::steady_clock::now().time_since_epoch())
                                               .count());
    for (auto kind : {ResourceKind::kNode, ResourceKind::kService, ResourceKind::kSlice}) {
      const uint64_t last = kube_->stats(kind).last_contact_ns.load();
      if (last != 0 && now >= last)
        w.sample(L{{"resource", kResourceNames[static_cast<int>(kind)]}}, double(now - last) * 1e-9);
    }
  }
  return w.text();
}

namespace {

// One service port of either family as svcdpctl shows it.
template <lb::Family F>
Json service_json(const lb::BasicService<F>& svc, const std::vector<dp::ServiceCounters>& totals) {
  const auto& sp = svc.spec();
  Json j{{"id", sp.id},
         {"namespace", sp.ns},
         {"name", sp.name},
         {"port", sp.port_name},
         {"family", F::kName},
         {"protocol", proto_name(sp.proto)},
         {"affinity", sp.affinity_client_ip},
         {"affinity_timeout_s", sp.affinity_timeout_s},
         // What a new connection gets when no endpoint takes it: kube-proxy's
         // filter verdicts (pkg/proxy/nftables/proxier.go).
         {"internal_verdict", verdict(svc, false)},
         {"external_verdict", verdict(svc, true)},
         {"external_policy", sp.external_policy == lb::TrafficPolicy::kLocal ? "Local" : "Cluster"},
         {"internal_policy", sp.internal_policy == lb::TrafficPolicy::kLocal ? "Local" : "Cluster"}};
  Json& frontends = j["frontends"] = Json::array();
  for (const auto& f : sp.frontends)
    frontends.push_back({{"type", frontend_name(f.kind)}, {"address", addr_port(f.vip, f.port)}});
  if (sp.health_check_node_port) {
    // What the Service's health check answers (control/service_health.h).
    const bool local = std::any_of(svc.endpoints().begin(), svc.endpoints().end(),
                                   [](const auto& e) { return e.local && e.ready; });
    j["health_check_node_port"] = sp.health_check_node_port;
    j["health_check_status"] = local ? 200 : 503;
  }
  Json& ranges = j["source_ranges"] = Json::array();
  for (const auto& r : sp.source_ranges) ranges.push_back(prefix_text(r.addr, r.len));
  Json& endpoints = j["endpoints"] = Json::array();
  for (const auto& e : svc.endpoints())
    endpoints.push_back({{"address", addr_port(e.addr, e.port)},
                         {"node", e.node},
                         {"local", e.local},
                         {"ready", e.ready},
                         {"serving", e.serving},
                         {"terminating", e.terminating},
                         {"usable", svc.usable(false, e)},
                         {"usable_external", svc.usable(true, e)}});
  // Counted per service port, both families together (one id).
  const dp::ServiceCounters sc = sp.id < totals.size() ? totals[sp.id] : dp::ServiceCounters{};
  j["new_flows"] = sc.new_flows;
  j["rejected"] = sc.rejected;
  j["packets"] = sc.packets;
  j["bytes"] = sc.bytes;
  return j;
}

}  // namespace

std::string Introspection::services_json() const {
  const Snapshot s = snapshot();
  const auto totals = dp_.service_totals();
  Json services = Json::array();
  if (s.services)
    for (const lb::Service* svc : s.services->services()) services.push_back(service_json(*svc, totals));
  if (s.services6)
    for (const lb::Service6* svc : s.services6->services()) services.push_back(service_json(*svc, totals));
  return json_line(Json{{"generation", s.generation}, {"services", std::move(services)}});
}

std::string Introspection::conntrack_json(const FlowFilter& f) const {
  const Snapshot s = snapshot();
  const auto now_s = static_cast<uint32_t>(rte_rdtsc() / rte_get_tsc_hz());  // the workers' clock
  Json flows = Json::array();
  size_t total = 0, shown = 0;
  dp_.conntrack().for_each(now_s, [&](const lb::CtMatch& m) {
    if (m.kind != lb::kFlow) return;
    if ((f.service_id && m.service_id != *f.service_id) || (f.client && m.fwd.src != *f.client) ||
        (f.endpoint && m.nat.backend != *f.endpoint) || (f.proto && m.fwd.proto != *f.proto))
      return;
    ++total;
    if (shown >= f.limit) return;
    ++shown;
    const lb::Service* svc = s.services ? s.services->by_id(m.service_id) : nullptr;
    flows.push_back(
        {{"protocol", proto_name(m.fwd.proto)},
         {"client", addr_port(m.fwd.src, m.fwd.sport)},
         {"frontend", addr_port(m.fwd.dst, m.fwd.dport)},
         {"endpoint", addr_port(m.nat.backend, m.nat.backend_port)},
         {"snat", m.nat.snat ? Json(addr_port(m.nat.snat, m.nat.snat_port)) : Json(nullptr)},
         {"service", m.service_id == lb::kNoService ? "(masquerade)" : svc ? service_label(svc->spec()) : "(gone)"},
         {"state", m.fwd.proto == lb::kTcp ? lb::tcp_state_name(m.state()) : (m.rep_flags ? "REPLIED" : "UNREPLIED")},
         {"idle_s", now_s >= m.last_seen_s ? now_s - m.last_seen_s : 0},
         {"timeout_s", dp_.conntrack().timeout(m)},
         {"worker", m.shard}});
  });
  return json_line(Json{{"total", total}, {"shown", shown}, {"flows", std::move(flows)}});
}

std::string trace_json(const std::vector<dp::Dataplane::Traced>& records) {
  Json packets = Json::array();
  for (const dp::Dataplane::Traced& t : records) {
    const dp::TraceRecord& r = t.record;
    Json j{{"worker", t.worker}, {"port", dp::kRoleNames[dp::idx(r.in)]}};
    if (r.ether_type == RTE_ETHER_TYPE_IPV4) {
      const bool ports = r.proto == IPPROTO_TCP || r.proto == IPPROTO_UDP;
      j["proto"] = r.proto == IPPROTO_TCP    ? "tcp"
                   : r.proto == IPPROTO_UDP  ? "udp"
                   : r.proto == IPPROTO_ICMP ? "icmp"
                                             : std::to_string(r.proto);
      j["src"] = addr(r.src) + (ports ? ":" + std::to_string(rte_be_to_cpu_16(r.sport)) : "");
      j["dst"] = addr(r.dst) + (ports ? ":" + std::to_string(rte_be_to_cpu_16(r.dport)) : "");
    } else {
      char et[8];
      std::snprintf(et, sizeof et, "0x%04x", r.ether_type);
      j["ether_type"] = et;
    }
    Json& stages = j["stages"] = Json::array();
    for (uint8_t s = 0; s < r.nstages; ++s) stages.push_back(dp::kStageInfo[static_cast<size_t>(r.stages[s])].name);
    std::string verdict;
    switch (r.verdict) {
      case dp::TraceRecord::Verdict::kTx: verdict = std::string("tx ") + dp::kRoleNames[r.detail]; break;
      case dp::TraceRecord::Verdict::kDrop: verdict = std::string("drop ") + dp::kDropInfo[r.detail].name; break;
      case dp::TraceRecord::Verdict::kPunt: verdict = r.detail == 0 ? "punt arp" : "punt next hop unresolved"; break;
      case dp::TraceRecord::Verdict::kNone: verdict = "none"; break;
    }
    j["verdict"] = verdict;
    packets.push_back(std::move(j));
  }
  return json_line(Json{{"packets", std::move(packets)}});
}

std::string Introspection::stats_json() const {
  const Snapshot s = snapshot();
  const dp::Counters c = dp_.totals();
  const lb::CtStats ct = dp_.conntrack().stats();
  Json ports = Json::object();
  for (size_t r = 0; r < dp::kRoleCount; ++r) {
    if (dp_.port_id(static_cast<dp::Role>(r)) == dp::kNoPort) continue;
    rte_eth_stats st{};
    rte_eth_stats_get(dp_.port_id(static_cast<dp::Role>(r)), &st);
    ports[dp::kRoleNames[r]] = {{"device", devices_[r]},
                                {"rx_packets", st.ipackets},
                                {"tx_packets", st.opackets},
                                {"rx_missed", st.imissed}};
  }
  // Per input port: packets, and cycles per packet over every stage.
  Json runtime = Json::object();
  for (size_t r = 0; r < dp::kRoleCount; ++r)
    if (c.rx_packets[r])
      runtime[dp::kRoleNames[r]] = {{"packets", c.rx_packets[r]}, {"cycles_per_packet", c.rx_cycles[r] / c.rx_packets[r]}};
  // Per stage: packets, and cycles per packet of the stage alone.
  std::array<uint64_t, dp::kStageCount> stage_cpp{};
  for (size_t i = 0; i < dp::kStageCount; ++i)
    if (c.stage_packets[i]) stage_cpp[i] = c.stage_cycles[i] / c.stage_packets[i];
  const double p99 = s.sync.sync_latency.quantile(0.99);
  return json_line(Json{{"generation", s.generation},
              {"services", s.services ? s.services->size() : 0},
              {"workers", dp_.worker_count()},
              {"ports", std::move(ports)},
              {"lb",
               {{"new_flows", c.lb_new_flows},
                {"forward", c.lb_forward},
                {"reply", c.lb_reply},
                {"rejected", c.lb_rejected},
                {"reset", c.lb_reset},
                {"rebalanced", c.lb_rebalanced}}},
              {"conntrack", {{"entries", ct.entries}, {"capacity", ct.capacity}, {"affinity", ct.affinity_entries}}},
              {"runtime", std::move(runtime)},
              {"stage_cycles_per_packet", nonzero_counts(stage_cpp, dp::kStageInfo)},
              {"stages", nonzero_counts(c.stage_packets, dp::kStageInfo)},
              {"drops", nonzero_counts(c.drops, dp::kDropInfo)},
              {"sync_latency_p99_le_s",
               std::isinf(p99) || !s.sync.sync_latency.count() ? Json(nullptr) : Json(p99)}});
}

std::string Introspection::status_json(unsigned window_ms) const {
  const Snapshot s = snapshot();
  // Each worker's share of busy time over the window (its poll loop
  // counts every round as busy or idle).
  std::vector<std::pair<uint64_t, uint64_t>> before(dp_.worker_count());
  for (unsigned i = 0; i < dp_.worker_count(); ++i)
    before[i] = {dp_.worker(i).counters().busy_cycles, dp_.worker(i).counters().idle_cycles};
  std::this_thread::sleep_for(std::chrono::milliseconds(window_ms));
  Json workers = Json::array();
  for (unsigned i = 0; i < dp_.worker_count(); ++i) {
    const uint64_t busy = dp_.worker(i).counters().busy_cycles - before[i].first;
    const uint64_t idle = dp_.worker(i).counters().idle_cycles - before[i].second;
    Json w{{"worker", i}};
    if (busy + idle)
      w["busy_ratio"] = std::round(double(busy) / double(busy + idle) * 1000) / 1000;
    else
      w["busy_ratio"] = nullptr;  // the loop did not go round: stalled
    workers.push_back(std::move(w));
  }
  const double now_unix = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  Json source{{"description", source_}};
  if (kube_) {
    const auto now = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
    Json& contact = source["last_contact_age_s"] = Json::object();
    uint64_t events = 0;
    for (auto kind : {ResourceKind::kNode, ResourceKind::kService, ResourceKind::kSlice}) {
      const ReflectorStats& st = kube_->stats(kind);
      const uint64_t last = st.last_contact_ns.load();
      contact[kResourceNames[static_cast<int>(kind)]] =
          last && now >= last ? Json(std::round(double(now - last) * 1e-6) / 1000) : Json(nullptr);
      events += st.events.load();
    }
    source["events"] = events;
  }
  source["state"] = s.generation == 0 ? "waiting for the first complete lists" : "synced";
  return json_line(Json{
      {"version", SVCDP_VERSION},
      {"uptime_s", static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::steady_clock::now() - started_)
                                              .count())},
      {"source", std::move(source)},
      {"generation", s.generation},
      {"generation_age_s", s.generation ? Json(std::round((now_unix - s.published_unix_s) * 1000) / 1000) : Json(nullptr)},
      {"services", s.services ? s.services->size() : 0},
      {"remote_nodes", std::count_if(s.nodes.begin(), s.nodes.end(), [](const dp::RemoteNode& n) { return !n.name.empty(); })},
      {"changes_pending", pending_.load()},
      {"workers", std::move(workers)},
      {"load_window_ms", window_ms}});
}

std::string Introspection::neighbours_json() const {
  Json out = Json::array();
  dp_.neighbours().for_each([&](dp::Role role, lb::be32 ip, bool resolved, const rte_ether_addr& mac) {
    out.push_back({{"port", dp::kRoleNames[dp::idx(role)]},
                   {"address", addr(ip)},
                   {"mac", resolved ? Json(mac_text(mac)) : Json(nullptr)},
                   {"state", resolved ? "resolved" : "unresolved"}});
  });
  std::sort(out.begin(), out.end(), [](const Json& a, const Json& b) {
    return std::tie(a["port"].get_ref<const std::string&>(), a["address"].get_ref<const std::string&>()) <
           std::tie(b["port"].get_ref<const std::string&>(), b["address"].get_ref<const std::string&>());
  });
  return json_line(Json{{"capacity", dp_.neighbours().capacity()}, {"neighbours", std::move(out)}});
}

std::string Introspection::nodes_json() const {
  const Snapshot s = snapshot();
  Json out = Json::array();
  std::vector<const dp::RemoteNode*> live;
  for (const dp::RemoteNode& n : s.nodes)
    if (!n.name.empty()) live.push_back(&n);  // (free slots have none)
  std::sort(live.begin(), live.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  for (const dp::RemoteNode* node : live) {
    const dp::RemoteNode& n = *node;
    Json cidrs = Json::array();
    for (const auto& c : n.pod_cidrs) cidrs.push_back(conf::format_prefix({c.addr, c.len}));
    out.push_back({{"name", n.name},
                   {"vtep", addr(n.vtep)},
                   {"next_hop", addr(n.nexthop)},
                   {"vtep_mac", mac_text(n.tmpl.inner_dst)},
                   {"pod_cidrs", std::move(cidrs)}});
  }
  return json_line(Json{{"generation", s.generation}, {"nodes", std::move(out)}});
}

}  // namespace svcdp::control
