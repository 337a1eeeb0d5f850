#include "conf/options.h"

#include "conf/inet.h"
#include "conf/suggest.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <fstream>
#include <iostream>
#include <sstream>

namespace po = boost::program_options;

namespace svcdp::conf {
namespace {

bool parse_host_port(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || !parse_ipv4(s.substr(0, colon))) return false;
  char* end = nullptr;
  const unsigned long port = std::strtoul(s.c_str() + colon + 1, &end, 10);
  return colon + 1 < s.size() && *end == 0 && port <= 65535;
}

bool is_prime(uint32_t n) {
  if (n < 2) return false;
  for (uint32_t d = 2; uint64_t{d} * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

po::options_description describe(Options& o) {
  po::options_description general("General");
  general.add_options()
      ("help,h", "print this help and exit")
      ("version", "print svcdp's version and exit")
      ("config", po::value(&o.config_file)->value_name("FILE"),
       "read options from FILE (`name = value` lines; the command line wins)")
      ("log-level", po::value(&o.log_level)->default_value(o.log_level)->value_name("LEVEL"),
       "error, warning, info or debug")
      ("stats-interval", po::value(&o.stats_interval_s)->default_value(o.stats_interval_s)->value_name("SEC"),
       "print counters every SEC seconds (0: only at exit)")
      ("metrics-address", po::value(&o.metrics_address)->default_value(o.metrics_address)->value_name("IP:PORT"),
       "serve /metrics, /healthz and /readyz here (port 0: any free port; \"off\": none)")
      ("readyz-max-api-age", po::value(&o.readyz_max_api_age_s)->default_value(o.readyz_max_api_age_s)->value_name("SEC"),
       "with --source kube, /readyz is 503 also when every resource has not heard from the API server (a list, "
       "an event, a bookmark) within SEC seconds; watches get a bookmark a minute (0: not checked)")
      ("healthz-address", po::value(&o.healthz_address)->default_value(o.healthz_address)->value_name("IP:PORT"),
       "serve kube-proxy's node health checks here (/healthz, /livez: 503 when changes wait over 60 s to be "
       "programmed; /healthz also while the Node is being deleted), as kube-proxy's --healthz-bind-address "
       "(\"off\": none)")
      ("admin-socket", po::value(&o.admin_socket)->default_value(o.admin_socket)->value_name("PATH"),
       "unix socket svcdpctl talks to (\"off\": none)");

  po::options_description cluster("Cluster");
  cluster.add_options()
      ("node-name", po::value(&o.node_name)->value_name("NAME"),
       "this node's Kubernetes Node name (default: the host name)")
      ("source", po::value(&o.source)->default_value(o.source)->value_name("file|kube"),
       "where the cluster's Nodes, Services and EndpointSlices come from: the cluster file, or the API server")
      ("cluster-file", po::value(&o.cluster_file)->value_name("FILE"),
       "with --source file: Kubernetes objects (Node, Service, EndpointSlice) as `kubectl get -o yaml` prints them; "
       "SIGHUP re-reads it")
      ("kubeconfig", po::value(&o.kubeconfig)->value_name("FILE"),
       "with --source kube: kubeconfig to use (default: in-cluster service account when KUBERNETES_SERVICE_HOST is "
       "set, else $KUBECONFIG, else ~/.kube/config)")
      ("api-server", po::value(&o.api_server)->value_name("URL"),
       "with --source kube: the API server to use instead of the kubeconfig's or the in-cluster one "
       "(https://HOST:PORT; kube-proxy's --master): the `kubernetes` Service's ClusterIP needs tables that do not "
       "exist yet when svcdp starts")
      ("min-sync-interval", po::value(&o.min_sync_interval_ms)->default_value(o.min_sync_interval_ms)->value_name("MS"),
       "changes closer together than this are published as one table generation")
      ("watch-timeout", po::value(&o.watch_timeout_s)->default_value(o.watch_timeout_s)->value_name("SEC"),
       "timeoutSeconds asked of each watch (the server ends it; svcdp resumes)")
      ("api-stall-timeout", po::value(&o.api_stall_timeout_s)->default_value(o.api_stall_timeout_s)->value_name("SEC"),
       "a watch silent this long (no event, no bookmark) is reconnected");

  po::options_description ports("Ports and queues");
  ports.add_options()
      ("uplink", po::value(&o.uplink)->value_name("DEVICE"),
       "DPDK device of the uplink (physical network, VXLAN to other nodes), e.g. 0000:3b:00.0 or net_af_packet0")
      ("pods", po::value(&o.pods)->value_name("DEVICE"),
       "DPDK device of the pods port (local pods)")
      ("exception-iface", po::value(&o.exception_iface)->value_name("NAME"),
       "create kernel TAP interface NAME (with the uplink's MAC) for traffic svcdp does not own: "
       "SSH, kubelet, IPv6, ARP for the node address; give it the node's address (default: none, such traffic is dropped)")
      ("take-over-address", po::value(&o.take_over_address)->value_name("IFACE"),
       "move IFACE's IPv4 and IPv6 addresses, routes and MTU (the kernel interface the uplink NIC had) to the "
       "--exception-iface TAP at start and back at exit, saved first under --state-dir")
      ("kernel-route", po::value(&o.kernel_routes)->composing()->value_name("CIDR"),
       "give the node's kernel a route to CIDR via svcdp's pod gateway on the --exception-iface TAP, with the "
       "node address as source, once the node is known (repeatable; the cluster's pod CIDR and Service CIDR, so "
       "that kubelet reaches pods and the node reaches Services; an IPv6 CIDR goes via the pods' IPv6 gateway, "
       "from the node's IPv6 address)")
      ("state-dir", po::value(&o.state_dir)->default_value(o.state_dir)->value_name("DIR"),
       "where svcdp keeps what must survive it (the addresses it took over)")
      ("save-flows", po::bool_switch(&o.save_flows),
       "keep connections across a restart: write the conntrack to --state-dir at exit and put it back, checked "
       "against the new tables, at the next start")
      ("restore-address", po::bool_switch(&o.restore_address),
       "give back the addresses a killed svcdp took over (from --state-dir) and exit: a supervisor's "
       "ExecStopPost")
      ("cni-conf-dir", po::value(&o.cni_conf_dir)->value_name("DIR"),
       "write the node's CNI configuration, DIR/10-svcdp.conflist (e.g. /etc/cni/net.d), once its pod CIDR is "
       "known: pods get macvlan interfaces on the pods port's TAP and host-local addresses (default: none)")
      ("mtu", po::value(&o.mtu)->default_value(o.mtu)->value_name("BYTES"),
       "uplink IP MTU; encapsulated packets larger than this are dropped")
      ("rx-desc", po::value(&o.rx_desc)->default_value(o.rx_desc)->value_name("N"), "RX descriptors per queue")
      ("tx-desc", po::value(&o.tx_desc)->default_value(o.tx_desc)->value_name("N"), "TX descriptors per queue")
      ("burst", po::value(&o.burst)->default_value(o.burst)->value_name("N"), "packets per RX burst (1..64)")
      ("mbufs", po::value(&o.mbufs)->default_value(o.mbufs)->value_name("N"),
       "mbufs in each packet pool, one per NUMA socket with workers (0: sized from ports, queues and descriptors)");

  po::options_description overlay("Overlay (RFC 7348 VXLAN)");
  overlay.add_options()
      ("vni", po::value(&o.vni)->default_value(o.vni)->value_name("N"),
       "VXLAN network identifier (flannel's default is 1)")
      ("vxlan-port", po::value(&o.vxlan_port)->default_value(o.vxlan_port)->value_name("PORT"),
       "VXLAN UDP destination port (IANA: 4789)")
      ("uplink-subnet", po::value(&o.uplink_subnet)->value_name("CIDR"),
       "the uplink's on-link network (the node address's prefix, e.g. 192.168.56.0/24): its hosts and VTEPs "
       "are reached directly, everything else through --uplink-gateway")
      ("uplink-gateway", po::value(&o.uplink_gateway)->value_name("IP"),
       "next hop for what leaves the uplink outside --uplink-subnet: VTEPs, pod egress, replies to outside "
       "clients (default: every destination is on-link)")
      ("uplink-gateway6", po::value(&o.uplink_gateway6)->value_name("IPV6"),
       "next hop for IPv6 leaving the uplink (replies to outside IPv6 clients; default: on-link)")
      ("pod-gateway", po::value(&o.pod_gateway)->value_name("IP"),
       "gateway address svcdp answers ARP for on the pods port (default: first address of the pod CIDR)")
      ("neigh-capacity", po::value(&o.neigh_capacity)->default_value(o.neigh_capacity)->value_name("N"),
       "neighbour (ARP) table entries")
      ("neigh-reachable-time", po::value(&o.neigh_reachable_s)->default_value(o.neigh_reachable_s)->value_name("SEC"),
       "seconds a resolved neighbour is trusted before it is probed again")
      ("static-neigh", po::value(&o.static_neigh)->composing()->value_name("ROLE,IP,MAC"),
       "a permanent neighbour on the uplink or pods port (IPv6: pods port), never probed (repeatable)")
      ("nodeport-addresses", po::value(&o.nodeport_addresses)->composing()->value_name("CIDR|primary"),
       "the node addresses NodePorts are served on, as kube-proxy's --nodeport-addresses: those of the Node "
       "(InternalIP, ExternalIP) within one of these CIDRs (repeatable; 0.0.0.0/0: all), or 'primary' "
       "(the default, as kube-proxy's nftables mode): the InternalIP")
      ("cluster-cidr", po::value(&o.cluster_cidr)->composing()->value_name("CIDR"),
       "the cluster's pod network, IPv4 or IPv6, never masqueraded (repeatable; default: the union of the Nodes' "
       "pod CIDRs)")
      ("non-masquerade-cidr", po::value(&o.non_masquerade_cidr)->composing()->value_name("CIDR"),
       "a destination outside the cluster that pods reach with their own address, as ip-masq-agent's "
       "nonMasqueradeCIDRs, IPv4 or IPv6 (repeatable); pod traffic to anywhere else is masqueraded to the node "
       "address of its family")
      ("masquerade-ports", po::value(&o.masquerade_ports)->default_value(o.masquerade_ports)->value_name("LO-HI"),
       "source ports of the node address used for masqueraded pod traffic, split between workers; keep them "
       "outside the kernel's net.ipv4.ip_local_port_range (default 32768-60999) and the NodePort range")
      ("vxlan-ipv6-underlay", po::bool_switch(&o.vxlan_ipv6_underlay),
       "carry IPv6 pods to nodes with an IPv6 InternalIP in VXLAN over IPv6 (UDP checksummed, RFC 6935), as "
       "flannel's dual-stack flannel-v6.1 does (its backend-v6-data VtepMAC); default: over the IPv4 underlay")
      ("announce-lb-ips", po::bool_switch(&o.announce_lb_ips),
       "answer ARP for external and LoadBalancer IPs that have an endpoint (single-node set-ups); by default "
       "such requests go to the node's kernel, where MetalLB's or keepalived's speaker decides");

  po::options_description lb("Load balancing");
  lb.add_options()
      ("conntrack-capacity", po::value(&o.conntrack_capacity)->default_value(o.conntrack_capacity)->value_name("N"),
       "IPv4 connection-tracking entries for all workers together (64 bytes each, allocated at start)")
      ("conntrack-capacity-ipv6", po::value(&o.conntrack6_capacity)->default_value(o.conntrack6_capacity)->value_name("N"),
       "IPv6 connection-tracking entries for all workers together (128 bytes each, allocated at start)")
      ("maglev-size", po::value(&o.maglev_size)->default_value(o.maglev_size)->value_name("PRIME"),
       "Maglev lookup table per service: up to this prime, 100 slots per endpoint; beyond, 10");

  po::options_description dns("Cluster DNS");
  dns.add_options()
      ("dns-service", po::value(&o.dns_service)->value_name("NS/NAME"),
       "answer the cluster's own names (Services, endpoints, pods, reverse) in the workers for UDP queries from "
       "this node's pods and kernel to this Service's ClusterIP, usually kube-system/kube-dns; every other query "
       "goes on to its endpoints (CoreDNS). Off when not given")
      ("cluster-domain", po::value(&o.cluster_domain)->default_value(o.cluster_domain)->value_name("DOMAIN"),
       "the cluster's DNS domain (kubelet's clusterDomain)")
      ("dns-ttl", po::value(&o.dns_ttl)->default_value(o.dns_ttl)->value_name("SECONDS"),
       "TTL of the answers (CoreDNS's kubernetes plugin default: 5)")
      ("dns-policy", po::value(&o.dns_policy)->value_name("FILE"),
       "FQDN policy for local pods' queries (allow/deny by name, pattern or regex, per namespace or CIDR; "
       "control/dns_policy_file.h), re-read on SIGHUP");

  po::options_description all("svcdp options (after `--`)");
  all.add(general).add(cluster).add(ports).add(overlay).add(lb).add(dns);
  return all;
}

bool fail(const std::string& what) {
  std::cerr << "svcdp: error: " << what << "\n";
  return false;
}

bool validate(Options& o) {
  if (o.uplink.empty()) return fail("--uplink is required (the DPDK device of the uplink port)");
  if (o.pods.empty()) return fail("--pods is required (the DPDK device of the pods port)");
  if (o.uplink == o.pods) return fail("--uplink and --pods name the same device '" + o.uplink + "'");
  if (o.metrics_address != "off" && !parse_host_port(o.metrics_address))
    return fail("--metrics-address must be IP:PORT or off, not '" + o.metrics_address + "'");
  if (o.healthz_address != "off" && !parse_host_port(o.healthz_address))
    return fail("--healthz-address must be IP:PORT or off, not '" + o.healthz_address + "'");
  if (o.source != "file" && o.source != "kube") return fail("--source must be file or kube, not '" + o.source + "'");
  if (o.source == "file" && o.cluster_file.empty())
    return fail("--cluster-file is required with --source file (Kubernetes Node, Service, EndpointSlice objects)");
  if (!o.api_server.empty() && o.api_server.rfind("https://", 0) != 0 && o.api_server.rfind("http://", 0) != 0)
    return fail("--api-server must be a URL (https://HOST:PORT), not '" + o.api_server + "'");
  if (o.min_sync_interval_ms < 0 || o.min_sync_interval_ms > 60'000)
    return fail("--min-sync-interval must be between 0 and 60000 ms");
  if (o.watch_timeout_s < 1) return fail("--watch-timeout must be at least 1 s");
  if (o.api_stall_timeout_s < 1) return fail("--api-stall-timeout must be at least 1 s");
  if (o.vni == 0 || o.vni > 0xffffff) return fail("--vni must be 1..16777215 (24 bits, RFC 7348 section 5)");
  if (o.vxlan_port == 0) return fail("--vxlan-port must not be 0");
  if (o.burst == 0 || o.burst > 64) return fail("--burst must be 1..64");
  if (o.mtu < 576 || o.mtu > 9000) return fail("--mtu must be 576..9000");
  for (const auto& [name, value] : {std::pair{"--uplink-gateway", &o.uplink_gateway}, {"--pod-gateway", &o.pod_gateway}})
    if (!value->empty() && !parse_ipv4(*value)) return fail(std::string(name) + " '" + *value + "' is not an IPv4 address");
  if (!o.uplink_gateway6.empty() && !parse_ipv6(o.uplink_gateway6))
    return fail("--uplink-gateway6 '" + o.uplink_gateway6 + "' is not an IPv6 address");
  if (!o.take_over_address.empty() && o.exception_iface.empty())
    return fail("--take-over-address needs --exception-iface (the TAP the addresses move to)");
  if (o.exception_iface.size() > 15) return fail("--exception-iface '" + o.exception_iface + "' is longer than 15 characters");
  if (o.neigh_capacity < 16) return fail("--neigh-capacity must be at least 16");
  if (!o.uplink_subnet.empty() && !parse_ipv4_prefix(o.uplink_subnet))
    return fail("--uplink-subnet '" + o.uplink_subnet + "' is not an IPv4 CIDR (A.B.C.D/LEN)");
  if (!o.kernel_routes.empty() && o.exception_iface.empty())
    return fail("--kernel-route needs --exception-iface (the TAP the routes go through)");
  for (const std::string& c : o.nodeport_addresses)
    if (c != "primary" && !parse_ipv4_prefix(c))
      return fail("--nodeport-addresses '" + c + "' is neither an IPv4 CIDR (A.B.C.D/LEN) nor 'primary'");
  for (const auto& [name, list] : {std::pair{"--cluster-cidr", &o.cluster_cidr},
                                    {"--non-masquerade-cidr", &o.non_masquerade_cidr},
                                    {"--kernel-route", &o.kernel_routes}})
    for (const std::string& c : *list)
      if (!parse_ipv4_prefix(c) && !parse_ipv6_prefix(c))
        return fail(std::string(name) + " '" + c + "' is neither an IPv4 nor an IPv6 CIDR");
  {
    unsigned lo = 0, hi = 0;
    char tail = 0;
    if (std::sscanf(o.masquerade_ports.c_str(), "%u-%u%c", &lo, &hi, &tail) != 2 || lo < 1024 || hi > 65535 || lo > hi ||
        hi - lo + 1 < 64)
      return fail("--masquerade-ports must be LO-HI within 1024-65535 with at least 64 ports, not '" +
                  o.masquerade_ports + "'");
    o.masquerade_lo = static_cast<uint16_t>(lo);
    o.masquerade_hi = static_cast<uint16_t>(hi);
  }
  for (const std::string& n : o.static_neigh) {
    const auto c1 = n.find(','), c2 = n.rfind(',');
    const std::string role = n.substr(0, c1);
    const std::string addr = c1 == std::string::npos ? std::string() : n.substr(c1 + 1, c2 - c1 - 1);
    const auto ip = parse_ipv4(addr);
    const auto ip6 = ip ? std::nullopt : parse_ipv6(addr);
    const auto mac = c1 == c2 ? std::nullopt : parse_mac(n.substr(c2 + 1));
    if ((role != "uplink" && role != "pods") || !(ip || ip6) || !mac)
      return fail("--static-neigh must be uplink|pods,IP,MAC, not '" + n + "'");
    if (ip6 && role == "uplink") return fail("--static-neigh: IPv6 neighbours are the pods port's only, not '" + n + "'");
    o.static_neighbours.push_back({role == "uplink", ip.value_or(0), ip6, *mac});
  }
  if (o.conntrack_capacity < 1024 || o.conntrack_capacity > (uint64_t{1} << 32))
    return fail("--conntrack-capacity must be between 1024 and 4294967296");
  if (o.conntrack6_capacity < 1024 || o.conntrack6_capacity > (uint64_t{1} << 32))
    return fail("--conntrack-capacity-ipv6 must be between 1024 and 4294967296");
  if (o.maglev_size < 2 || !is_prime(o.maglev_size)) return fail("--maglev-size must be a prime, not " + std::to_string(o.maglev_size));
  if (!o.dns_service.empty()) {
    const auto slash = o.dns_service.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == o.dns_service.size() ||
        o.dns_service.find('/', slash + 1) != std::string::npos)
      return fail("--dns-service must be NAMESPACE/NAME (kube-system/kube-dns), not '" + o.dns_service + "'");
    o.dns_service_ns = o.dns_service.substr(0, slash);
    o.dns_service_name = o.dns_service.substr(slash + 1);
  }
  {
    std::string& d = o.cluster_domain;
    while (!d.empty() && d.back() == '.') d.pop_back();
    std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    bool ok = !d.empty() && d.size() <= 253 && d.front() != '.' && d.find("..") == std::string::npos;
    for (size_t pos = 0; ok && pos < d.size();) {
      const size_t dot = std::min(d.find('.', pos), d.size());
      ok = dot - pos <= 63;
      pos = dot + 1;
    }
    for (char c : d) ok &= std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
    if (!ok) return fail("--cluster-domain must be a DNS name (cluster.local), not '" + d + "'");
  }
  if (!o.dns_policy.empty() && o.dns_service.empty()) return fail("--dns-policy needs --dns-service (cluster DNS on)");
  if (o.dns_ttl > 3600) return fail("--dns-ttl must be at most 3600 seconds, not " + std::to_string(o.dns_ttl));
  if (o.log_level != "error" && o.log_level != "warning" && o.log_level != "info" && o.log_level != "debug")
    return fail("--log-level must be error, warning, info or debug, not '" + o.log_level + "'");
  if (o.node_name.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
      return fail("--node-name is not set and the host name is unknown");
    o.node_name = host;
  }
  return true;
}

// The config file line by line, so that an error names the file, the
// line and, for an unknown option, the closest known one. (What the
// command line gave wins: program_options keeps the first value stored.)
bool store_config_file(const std::string& path, const po::options_description& desc, po::variables_map& vm) {
  std::ifstream in(path);
  if (!in) return fail("cannot read config file '" + path + "'");
  std::vector<std::string> names;
  for (const auto& opt : desc.options()) names.push_back(opt->long_name());
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const std::string where = path + ":" + std::to_string(n) + ": ";
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    const size_t eq = line.find('=');
    std::string name = line.substr(start, eq == std::string::npos ? std::string::npos : eq - start);
    name.erase(name.find_last_not_of(" \t") + 1);
    if (eq == std::string::npos) return fail(where + "expected `name = value`, not '" + line + "'");
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      const std::string best = closest(name, names);
      return fail(where + "unknown option '" + name + "'" + (best.empty() ? "" : ", did you mean '" + best + "'?"));
    }
    try {
      std::istringstream one(line);
      po::store(po::parse_config_file(one, desc), vm);
    } catch (const po::error& e) {
      return fail(where + e.what());
    }
  }
  return true;
}

}  // namespace

int find_separator(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--") == 0) return i;
  return argc;
}

ParseResult parse(int argc, const char* const* argv) {
  Options o;
  po::options_description desc = describe(o);
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << "usage: svcdp [EAL options] -- [svcdp options]\n\n"
                   "svcdp: DPDK dataplane for Kubernetes nodes (Service load balancing and VXLAN pod network).\n"
                   "EAL options are DPDK's (for example -l 0,1 --vdev=net_af_packet0,iface=eth1).\n\n"
                << desc << "\n";
      return {std::nullopt, 0};
    }
    if (vm.count("version")) {
      std::cout << "svcdp " << SVCDP_VERSION << "\n";
      return {std::nullopt, 0};
    }
    if (vm.count("config") && !store_config_file(vm["config"].as<std::string>(), desc, vm))
      return {std::nullopt, 2};
    po::notify(vm);
  } catch (const po::error& e) {
    fail(e.what());
    return {std::nullopt, 2};
  }
  if (!validate(o)) return {std::nullopt, 2};
  return {o, 0};
}

}  // namespace svcdp::conf
