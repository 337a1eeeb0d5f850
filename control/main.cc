// svcdp daemon: `svcdp <EAL args> -- <svcdp options>`.
//
// The main lcore is the control thread: it loads the cluster's objects,
// builds and publishes forwarding-table generations, serves the workers'
// punted packets (ARP) and reloads on SIGHUP. Worker lcores run the poll
// loop (dataplane/worker.h).
#include "conf/eal_check.h"
#include "conf/options.h"
#include "control/cluster_file.h"
#include "control/dns_policy_file.h"
#include "control/log.h"
#include "control/admin_socket.h"
#include "control/http_endpoint.h"
#include "control/introspection.h"
#include "control/address_handover.h"
#include "control/cni_config.h"
#include "control/flow_state.h"
#include "control/health.h"
#include "control/kernel_routes.h"
#include "control/kube_source.h"
#include "control/service_health.h"
#include "control/service_manager.h"
#include "control/table_sync.h"
#include "dataplane/dataplane.h"
#include "dataplane/error.h"
#include "dataplane/port.h"
#include "dataplane/vxlan.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

namespace {

using namespace svcdp;

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reload = 0;

void on_signal(int sig) {
  if (sig == SIGHUP)
    g_reload = 1;
  else
    g_stop = 1;
}

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

std::string handover_state_file(const conf::Options& o) { return o.state_dir + "/address-handover.json"; }
std::string flows_file(const conf::Options& o) { return o.state_dir + "/flows.bin"; }

// The flows a previous svcdp saved, handed to the workers once the first
// tables (with this process's service ids) are published.
void restore_saved_flows(const conf::Options& o, dp::Dataplane& dataplane, const lb::ServiceTable& table) {
  try {
    auto loaded = control::load_flows(flows_file(o), dataplane.worker_count(), table);
    if (loaded) {
      log::info("putting back the flows saved by the previous svcdp",
                {{"flows", std::to_string(loaded->flows)}, {"service_gone", std::to_string(loaded->dropped)}});
      dataplane.restore_flows(std::move(loaded->per_worker));
      return;
    }
  } catch (const std::exception& e) {
    log::warning("saved flows not restored", {{"error", e.what()}});
  }
  dataplane.restore_flows({});
}

int64_t unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

int fail(const std::string& what) {
  std::cerr << "svcdp: error: " << what << "\n";
  return 1;
}

control::FibParams fib_params(const conf::Options& o, const rte_ether_addr& uplink_mac) {
  control::FibParams p;
  p.node_name = o.node_name;
  p.vni = o.vni;
  p.vxlan_port = o.vxlan_port;
  if (!o.uplink_gateway.empty()) p.uplink_gateway = conf::parse_ipv4(o.uplink_gateway);
  if (!o.uplink_gateway6.empty()) p.uplink_gateway6 = conf::parse_ipv6(o.uplink_gateway6);
  p.vxlan_ipv6_underlay = o.vxlan_ipv6_underlay;
  if (!o.uplink_subnet.empty()) p.uplink_subnet = conf::parse_ipv4_prefix(o.uplink_subnet);
  if (!o.pod_gateway.empty()) p.pod_gateway = conf::parse_ipv4(o.pod_gateway);
  std::memcpy(p.uplink_mac.data(), uplink_mac.addr_bytes, p.uplink_mac.size());
  for (const std::string& c : o.cluster_cidr) {
    if (auto v4 = conf::parse_ipv4_prefix(c))
      p.cluster_cidrs.push_back(*v4);
    else
      p.cluster_cidrs6.push_back(*conf::parse_ipv6_prefix(c));
  }
  for (const std::string& c : o.non_masquerade_cidr) {
    if (auto v4 = conf::parse_ipv4_prefix(c))
      p.non_masquerade_cidrs.push_back(*v4);
    else
      p.non_masquerade_cidrs6.push_back(*conf::parse_ipv6_prefix(c));
  }
  for (const std::string& c : o.nodeport_addresses)
    if (c != "primary") p.nodeport_cidrs.push_back(*conf::parse_ipv4_prefix(c));
  return p;
}

// Reads the cluster file into `sync` as three complete lists. Throws on a
// file the operator must fix; skipped objects are logged. Whether it
// changed anything.
bool load_cluster_file(const conf::Options& o, control::TableSync& sync) {
  control::ClusterObjects objs = control::load_cluster_file(o.cluster_file);
  for (const auto& s : objs.skipped) log::warning("object skipped", {{"file", o.cluster_file}, {"reason", s}});
  bool changed = false;
  for (const control::KubeEvent& e : control::replace_events(std::move(objs), now_ns())) changed |= sync.apply(e);
  return changed;
}

control::KubeConfig kube_config(const conf::Options& o) {
  control::KubeConfig kc = !o.kubeconfig.empty()                  ? control::load_kubeconfig(o.kubeconfig)
                           : std::getenv("KUBERNETES_SERVICE_HOST") ? control::in_cluster_config()
                                                                    : control::load_kubeconfig("");
  if (!o.api_server.empty()) {
    kc.server = o.api_server;
    while (kc.server.ends_with('/')) kc.server.pop_back();
    kc.origin += ", server from --api-server";
  }
  return kc;
}

// The node's CNI configuration, rewritten when its pod CIDR or gateway
// changes; a failure is logged and retried with the next generation.
void write_cni_config(const conf::Options& o, const dp::Fib& fib, const std::string& master) {
  if (fib.local_pod_cidrs.empty() && fib.local_pods6.empty()) return;  // no pods on this node (the table build said so)
  control::CniParams p;
  p.master = master;
  for (const auto& e : fib.local_pod_cidrs) p.pod_cidrs.push_back({e.addr, e.len});
  p.gateway = rte_be_to_cpu_32(fib.pod_gateway);
  p.pod_cidrs6 = fib.local_pods6;
  p.gateway6 = fib.pod_gateway6.bytes;
  p.mtu = static_cast<uint16_t>(o.mtu - dp::kVxlanOuterLen);
  try {
    if (control::write_cni_conflist(o.cni_conf_dir, control::cni_conflist(p)))
      log::info("CNI configuration written",
                {{"file", o.cni_conf_dir + "/10-svcdp.conflist"}, {"master", master}, {"gateway", conf::format_ipv4(p.gateway)}});
  } catch (const std::exception& e) {
    log::error("cannot write the CNI configuration", {{"error", e.what()}});
  }
}

void log_generation(const dp::Fib& fib, log::Level level) {
  if (!log::enabled(level)) return;  // maglev_reused reads every service
  log::write(level, "tables published", {{"generation", std::to_string(fib.generation)},
                                 {"remote_nodes", std::to_string(fib.remote_node_count)},
                                 {"service_ports", std::to_string(fib.services->size())},
                                 {"maglev_reused", std::to_string(fib.services->reused_tables())},
                                 {"announced_ips", std::to_string(fib.announced.size())}});
}

void print_service_counters(const dp::Dataplane& dp, const lb::ServiceTable& table) {
  const std::vector<dp::ServiceCounters> c = dp.service_totals();
  std::printf("  services:\n    %-40s %10s %10s %12s %14s %s\n", "namespace/name:port/proto", "new_flows", "rejected",
              "packets", "bytes", "endpoints (ready/all)");
  for (const auto& svc : table.services()) {
    const lb::Service& s = *svc;
    const auto& sp = s.spec();
    if (sp.id >= c.size()) continue;
    const auto ready = std::count_if(sp.endpoints.begin(), sp.endpoints.end(), [](const auto& e) { return e.ready; });
    const std::string name = sp.ns + "/" + sp.name + ":" + (sp.port_name.empty() ? "-" : sp.port_name) + "/" +
                             (sp.proto == lb::kTcp ? "TCP" : sp.proto == lb::kUdp ? "UDP" : "SCTP");
    std::printf("    %-40s %10llu %10llu %12llu %14llu %ld/%zu\n", name.c_str(),
                static_cast<unsigned long long>(c[sp.id].new_flows), static_cast<unsigned long long>(c[sp.id].rejected),
                static_cast<unsigned long long>(c[sp.id].packets), static_cast<unsigned long long>(c[sp.id].bytes),
                static_cast<long>(ready), sp.endpoints.size());
  }
}

void print_counters(const dp::Dataplane& dp, const conf::Options& o, const lb::ServiceTable& services) {
  const dp::Counters c = dp.totals();
  std::printf("svcdp: counters (generation %llu, %u worker%s)\n", static_cast<unsigned long long>(dp.generation()),
              dp.worker_count(), dp.worker_count() == 1 ? "" : "s");
  std::printf("  %-9s %-22s %12s %12s %12s %10s %10s %10s\n", "port", "device", "rx_packets", "tx_packets",
              "rx_bytes", "rx_missed", "rx_errors", "tx_errors");
  const std::string devices[] = {o.uplink, o.pods, o.exception_iface};
  for (size_t r = 0; r < dp::kRoleCount; ++r) {
    if (dp.port_id(static_cast<dp::Role>(r)) == dp::kNoPort) continue;
    rte_eth_stats st{};
    rte_eth_stats_get(dp.port_id(static_cast<dp::Role>(r)), &st);
    std::printf("  %-9s %-22s %12llu %12llu %12llu %10llu %10llu %10llu\n", dp::kRoleNames[r], devices[r].c_str(),
                static_cast<unsigned long long>(st.ipackets), static_cast<unsigned long long>(st.opackets),
                static_cast<unsigned long long>(st.ibytes), static_cast<unsigned long long>(st.imissed),
                static_cast<unsigned long long>(st.ierrors), static_cast<unsigned long long>(st.oerrors));
  }
  std::printf("  workers: rx uplink=%llu pods=%llu  tx uplink=%llu pods=%llu  vxlan_encap=%llu vxlan_decap=%llu "
              "forwarded_local=%llu forwarded_uplink=%llu punted=%llu to_kernel=%llu from_kernel=%llu "
              "masquerade_new_flows=%llu icmp_errors_sent=%llu icmp_rate_limited=%llu ip_fragments=%llu\n",
              static_cast<unsigned long long>(c.rx_packets[0]), static_cast<unsigned long long>(c.rx_packets[1]),
              static_cast<unsigned long long>(c.tx_packets[0]), static_cast<unsigned long long>(c.tx_packets[1]),
              static_cast<unsigned long long>(c.vxlan_encap), static_cast<unsigned long long>(c.vxlan_decap),
              static_cast<unsigned long long>(c.forwarded_local), static_cast<unsigned long long>(c.forwarded_uplink),
              static_cast<unsigned long long>(c.punted), static_cast<unsigned long long>(c.to_kernel),
              static_cast<unsigned long long>(c.from_kernel), static_cast<unsigned long long>(c.masq_new_flows),
              static_cast<unsigned long long>(c.icmp_errors_sent), static_cast<unsigned long long>(c.icmp_rate_limited),
              static_cast<unsigned long long>(c.ip_fragments));
  const lb::CtStats ct = dp.conntrack().stats();
  std::printf("  lb: new_flows=%llu picked_up=%llu forward=%llu reply=%llu rejected=%llu reset=%llu rebalanced=%llu "
              "icmp_translated=%llu fragments=%llu  conntrack: entries=%llu/%llu expired=%llu\n",
              static_cast<unsigned long long>(c.lb_new_flows), static_cast<unsigned long long>(c.lb_picked_up),
              static_cast<unsigned long long>(c.lb_forward),
              static_cast<unsigned long long>(c.lb_reply), static_cast<unsigned long long>(c.lb_rejected),
              static_cast<unsigned long long>(c.lb_reset), static_cast<unsigned long long>(c.lb_rebalanced),
              static_cast<unsigned long long>(c.lb_icmp_translated), static_cast<unsigned long long>(c.lb_fragments),
              static_cast<unsigned long long>(ct.entries), static_cast<unsigned long long>(ct.capacity),
              static_cast<unsigned long long>(ct.expired));
  print_service_counters(dp, services);
  std::printf("  drops by reason:\n");
  bool any = false;
  for (size_t i = 0; i < dp::kDropCount; ++i) {
    if (c.drops[i] == 0) continue;
    any = true;
    std::printf("    %-24s %10llu  %s\n", dp::kDropInfo[i].name, static_cast<unsigned long long>(c.drops[i]),
                dp::kDropInfo[i].help);
  }
  if (!any) std::printf("    (none)\n");
  std::fflush(stdout);
}

int run(const conf::Options& o) {
  if (rte_lcore_count() < 2)
    return fail("need a worker lcore besides the main lcore (EAL -l gave " + std::to_string(rte_lcore_count()) +
                "; try -l 0,1)");
  std::vector<unsigned> lcores;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) { lcores.push_back(lcore); }

  dp::DataplaneConfig cfg;
  cfg.uplink_device = o.uplink;
  cfg.pods_device = o.pods;
  cfg.workers = static_cast<unsigned>(lcores.size());
  cfg.rx_desc = o.rx_desc;
  cfg.tx_desc = o.tx_desc;
  cfg.burst = o.burst;
  cfg.mtu = o.mtu;
  cfg.mbufs = o.mbufs;
  cfg.neigh_capacity = o.neigh_capacity;
  cfg.neigh_timers.reachable_ns = uint64_t{o.neigh_reachable_s} * 1'000'000'000;
  cfg.conntrack_capacity = o.conntrack_capacity;
  cfg.conntrack6_capacity = o.conntrack6_capacity;
  cfg.masquerade_lo = o.masquerade_lo;
  cfg.masquerade_hi = o.masquerade_hi;
  cfg.announce_lb_ips = o.announce_lb_ips;
  for (unsigned l : lcores) cfg.worker_sockets.push_back(static_cast<int>(rte_lcore_to_socket_id(l)));

  // What is taken over is saved before anything changes; a previous
  // run's leftovers are given back first.
  std::unique_ptr<control::AddressHandover> handover;
  if (!o.take_over_address.empty())
    handover = std::make_unique<control::AddressHandover>(o.take_over_address, handover_state_file(o));
  std::unique_ptr<dp::TapDevice> tap;
  if (!o.exception_iface.empty()) {
    tap = std::make_unique<dp::TapDevice>(o.exception_iface, dp::port_mac_by_name(o.uplink));
    cfg.exception_device = tap->device();
  }
  dp::Dataplane dataplane(cfg);
  if (handover) handover->take_over(o.exception_iface);
  for (const auto& n : o.static_neighbours) {
    rte_ether_addr mac;
    std::memcpy(mac.addr_bytes, n.mac.data(), n.mac.size());
    if (n.ip6 ? !dataplane.add_static_neighbour6(lb::Addr6{*n.ip6}, mac)
              : !dataplane.add_static_neighbour(n.uplink ? dp::Role::UPLINK : dp::Role::PODS, rte_cpu_to_be_32(n.ip), mac))
      return fail("neighbour table full adding --static-neigh " + (n.ip6 ? conf::format_ipv6(*n.ip6) : conf::format_ipv4(n.ip)));
  }
  const control::FibParams params = fib_params(o, dataplane.mac(dp::Role::UPLINK));
  control::DnsParams dns;
  dns.service_ns = o.dns_service_ns;
  dns.service_name = o.dns_service_name;
  dns.domain = o.cluster_domain;
  dns.ttl = o.dns_ttl;
  control::TableBuilder builder(params, o.maglev_size, dataplane.table_memory(), dns);
  if (!o.dns_policy.empty()) {
    try {
      builder.set_dns_policy(control::load_dns_policy(o.dns_policy, dataplane.worker_count()));
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }
  control::TableSync sync(builder, static_cast<uint64_t>(o.min_sync_interval_ms * 1e6), unix_ns());
  std::unique_ptr<control::KubeSource> kube;
  std::string kc_server;
  if (o.source == "file") {
    load_cluster_file(o, sync);
  } else {
    const control::KubeConfig kc = kube_config(o);
    kc_server = kc.server;
    log::info("watching the API server", {{"server", kc.server}, {"config", kc.origin}});
    control::HttpTimeouts timeouts;
    timeouts.stall_s = o.api_stall_timeout_s;
    control::ReflectorOptions ro;
    ro.watch_timeout_s = o.watch_timeout_s;
    // DNS serves every Service and slice, as CoreDNS watches them; the
    // service tables leave out what kube-proxy's selector would.
    if (dns.enabled()) ro.label_selector.clear();
    kube = std::make_unique<control::KubeSource>(kc, ro, timeouts);
  }
  // Metrics, probes and svcdpctl's socket: up before the first sync, so
  // that /readyz can say "not yet".
  control::Introspection introspection(dataplane, {o.uplink, o.pods, o.exception_iface}, kube.get());
  if (!kube) introspection.queued(unix_ns());  // the cluster file, read above
  introspection.set_source(kube ? "kube " + kc_server : "file " + o.cluster_file);
  control::Health health(dataplane.worker_count());
  std::vector<uint64_t> worker_loops(dataplane.worker_count());
  std::unique_ptr<control::HttpEndpoint> http, proxier_health;
  if (o.metrics_address != "off") {
    http = std::make_unique<control::HttpEndpoint>(
        o.metrics_address,
        std::vector<control::HttpRoute>{
            {"/metrics",
             [&] {
               return control::HttpAnswer{200, introspection.metrics(), "text/plain; version=0.0.4; charset=utf-8"};
             }},
            {"/healthz", [&] { return health.healthz(now_ns()); }},
            {"/readyz", [&] {
               if (!introspection.ready()) return control::HttpAnswer{503, "waiting for the first table generation\n"};
               const uint64_t contact = kube ? kube->last_contact_ns() : 0, now = now_ns();
               if (kube && o.readyz_max_api_age_s && now > contact + uint64_t{o.readyz_max_api_age_s} * 1'000'000'000)
                 return control::HttpAnswer{503, "no answer from the API server for " +
                                                     std::to_string((now - contact) / 1'000'000'000) + " s\n"};
               return control::HttpAnswer{200, "ready\n"};
             }}});
    log::info("serving metrics", {{"address", "http://" + http->address() + "/metrics"}});
  }
  if (o.healthz_address != "off") {
    proxier_health = std::make_unique<control::HttpEndpoint>(
        o.healthz_address,
        std::vector<control::HttpRoute>{{"/healthz", [&] { return health.proxier_healthz(now_ns(), unix_ns()); }},
                                        {"/livez", [&] { return health.proxier_livez(now_ns(), unix_ns()); }}});
    log::info("serving kube-proxy's node health checks", {{"address", "http://" + proxier_health->address() + "/healthz"}});
  }
  std::unique_ptr<control::AdminSocket> admin;
  if (o.admin_socket != "off") admin = std::make_unique<control::AdminSocket>(o.admin_socket, introspection, dataplane);
  // kube-proxy's per-Service health check servers (healthCheckNodePort),
  // healthy as its node health server says.
  control::ServiceHealth service_health("0.0.0.0", [&] { return health.proxier_healthz(now_ns(), unix_ns()).status == 200; });
  auto published = [&](control::Introspection::Published p) {
    introspection.published(std::move(p), sync.stats());
    service_health.sync(sync.state().health_check_ports(), [&](const auto& key) { return builder.ports_of(key); });
  };

  auto drain = [&] {
    bool changed = false;
    if (kube)
      for (const control::KubeEvent& e : kube->events().drain()) changed |= sync.apply(e);
    if (changed) introspection.queued(unix_ns());
    introspection.pending(sync.state().pending_services());
  };

  std::string cni_master;
  if (!o.cni_conf_dir.empty() && (cni_master = dataplane.kernel_iface(dp::Role::PODS)).empty())
    return fail("--cni-conf-dir: the pods port " + o.pods +
                " has no kernel interface for the CNI plugin's macvlan (use a TAP: --vdev net_tap1,iface=svcdp-pods)");
  std::shared_ptr<const lb::ServiceTable> services;
  std::vector<conf::Ipv4Prefix> route_cidrs;
  std::vector<conf::Ipv6Prefix> route_cidrs6;
  for (const std::string& c : o.kernel_routes) {
    if (auto p = conf::parse_ipv4_prefix(c))
      route_cidrs.push_back(*p);
    else
      route_cidrs6.push_back(*conf::parse_ipv6_prefix(c));
  }
  control::KernelRoutes kernel_routes(o.exception_iface, std::move(route_cidrs), std::move(route_cidrs6));
  bool ready = false, restore_logged = false, counters_short_logged = false;
  control::ServiceManager manager;
  auto publish = [&](std::unique_ptr<dp::Fib> fib) {
    log_generation(*fib, ready && kube ? log::Level::DEBUG : log::Level::INFO);
    if (!o.cni_conf_dir.empty()) write_cni_config(o, *fib, cni_master);
    kernel_routes.published(fib->pod_gateway, fib->node_ip, fib->pod_gateway6, fib->node_ip6);
    services = fib->services;
    control::Introspection::Published shown{fib->services, fib->services6, fib->generation, fib->dns, fib->dns_policy,
                                            fib->nodes};
    const uint64_t gen = fib->generation;
    if (!dataplane.publish(std::move(fib)) && !counters_short_logged) {
      counters_short_logged = true;
      log::warning("out of DPDK memory for per-service counters; later service ports go uncounted",
                   {{"service_ports", std::to_string(services->id_bound())}});
    }
    sync.published(now_ns(), unix_ns());
    published(std::move(shown));
    health.updated(unix_ns());
    health.unbuilt(sync.unbuilt_services());
    if (const control::NodeInfo* self = sync.state().node(o.node_name)) health.node_eligible(self->eligible);
    if (ready) return;
    ready = true;
    if (o.save_flows) restore_saved_flows(o, dataplane, *services);
    std::printf("svcdp: ready node=%s uplink=%s pods=%s workers=%zu source=%s\n", o.node_name.c_str(),
                o.uplink.c_str(), o.pods.c_str(), lcores.size(), o.source.c_str());
    std::fflush(stdout);
    manager.ready("forwarding, generation " + std::to_string(gen));
  };

  // From the file the first generation exists before any worker runs.
  // From the API server it cannot: the server may be reachable only
  // through this node's uplink, so the workers start on the bootstrap
  // generation (the node's kernel <-> uplink, nothing else) and the first
  // complete list replaces it; /readyz says 503 until then.
  if (!kube) {
    auto first = sync.build_if_due(now_ns());
    if (!first) return fail("cannot build the first tables from " + o.cluster_file + " (see the error above)");
    publish(std::move(first));
  } else {
    auto boot = control::bootstrap_fib(params);
    services = boot->services;
    dataplane.publish(std::move(boot));
    log::info("forwarding the node's own traffic until the first complete list arrives");
  }
  dataplane.launch(lcores);

  uint64_t next_stats = o.stats_interval_s ? now_ns() + o.stats_interval_s * 1'000'000'000ull : UINT64_MAX;
  uint64_t next_note = now_ns() + 5'000'000'000;
  while (!g_stop) {
    const uint64_t now = now_ns();
    manager.poll(now);
    kernel_routes.poll(now);
    for (unsigned w = 0; w < dataplane.worker_count(); ++w) {
      const dp::Counters& c = dataplane.worker(w).counters();
      worker_loops[w] = c.busy_cycles + c.idle_cycles;  // grows every poll round
    }
    health.control_round(now, sync.pending_since_ns(), worker_loops);
    dataplane.control_poll();
    drain();
    if (g_reload) {
      g_reload = 0;
      if (!o.dns_policy.empty()) {
        try {
          builder.set_dns_policy(control::load_dns_policy(o.dns_policy, dataplane.worker_count()));
          sync.refresh(now_ns());
          log::info("DNS policy re-read", {{"file", o.dns_policy}});
        } catch (const std::exception& e) {
          log::error("DNS policy not re-read, keeping the current one", {{"error", e.what()}});
        }
      }
      if (kube) {
        if (o.dns_policy.empty()) log::info("SIGHUP ignored: the API server is the source");
      } else {
        try {
          if (load_cluster_file(o, sync)) introspection.queued(unix_ns());
        } catch (const std::exception& e) {
          log::error("reload failed, keeping the current tables", {{"error", e.what()}});
        }
      }
    }
    if (auto fib = sync.build_if_due(now_ns())) publish(std::move(fib));
    if (o.save_flows && !restore_logged && ready && dataplane.restore_done()) {
      restore_logged = true;
      log::info("saved flows put back", {{"flows", std::to_string(dataplane.flows_restored())}});
    }
    if (!ready && now >= next_note) {
      log::info("waiting for the first complete list of nodes, services and endpointslices",
                {{"progress", kube->stats()}});
      next_note = now + 5'000'000'000;
    }
    if (now >= next_stats) {
      print_counters(dataplane, o, *services);
      next_stats = now + o.stats_interval_s * 1'000'000'000ull;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  if (kube) log::info("API watch", {{"stats", kube->stats()}});
  const control::Histogram& lat = sync.sync_latency();
  log::info("sync latency (change received -> generation published)",
            {{"generations", std::to_string(lat.count())},
             {"p50_le_us", std::to_string(lat.quantile(0.5) * 1e6)},
             {"p99_le_us", std::to_string(lat.quantile(0.99) * 1e6)},
             {"mean_us", std::to_string(lat.count() ? lat.sum() / double(lat.count()) * 1e6 : 0)}});
  log::info("stopping");
  manager.stopping();
  dataplane.stop();
  if (handover) handover->restore();
  if (o.save_flows) {
    try {
      const auto now_s = static_cast<uint32_t>(rte_rdtsc() / rte_get_tsc_hz());  // the workers' clock
      const uint64_t n = control::save_flows(flows_file(o), dataplane.conntrack(), now_s, *services);
      log::info("flows saved for the next start", {{"flows", std::to_string(n)}, {"file", flows_file(o)}});
    } catch (const std::exception& e) {
      log::error("cannot save the flows", {{"error", e.what()}});
    }
  }
  print_counters(dataplane, o, *services);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int sep = conf::find_separator(argc, argv);
  std::vector<const char*> own = {argv[0]};
  for (int i = sep + 1; i < argc; ++i) own.push_back(argv[i]);
  if (sep == argc) {
    for (int i = 1; i < argc; ++i)
      if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--version") == 0)
        own.push_back(argv[i][2] == 'v' ? "--version" : "--help");
    if (own.size() == 1) return fail("missing `--` between EAL arguments and svcdp options (see --help)"), 2;
  }
  conf::ParseResult parsed = conf::parse(static_cast<int>(own.size()), own.data());
  if (!parsed.options) return parsed.exit_code;
  const conf::Options& o = *parsed.options;
  log::Level level;
  log::parse_level(o.log_level, level);
  log::set_level(level);
  if (o.restore_address) {
    try {
      if (!control::AddressHandover::restore_from(handover_state_file(o)))
        log::info("no addresses to give back", {{"state", handover_state_file(o)}});
      return 0;
    } catch (const std::exception& e) {
      return fail(e.what()), 1;
    }
  }

  // Read the cluster file (or the kubeconfig) before starting DPDK: a
  // broken one is the most common mistake and deserves a fast, clean answer.
  try {
    if (o.source == "file")
      control::load_cluster_file(o.cluster_file);
    else
      kube_config(o);
    if (!o.dns_policy.empty()) control::load_dns_policy(o.dns_policy, 1);
  } catch (const std::exception& e) {
    return fail(e.what()), 2;
  }

  // EAL's start-up chatter (lcores detected, IOVA mode...) at warning
  // level unless the operator asks otherwise: later --log-level wins.
  std::vector<char*> eal_args = {argv[0], const_cast<char*>("--log-level=lib.eal:warning"),
                                 const_cast<char*>("--log-level=lib.telemetry:warning")};
  eal_args.insert(eal_args.end(), argv + 1, argv + sep);
  if (const auto problem = conf::check_eal_args({argv + 1, argv + sep}, conf::this_machine())) return fail(*problem), 2;
  if (rte_eal_init(static_cast<int>(eal_args.size()), eal_args.data()) < 0)
    return fail(std::string("DPDK EAL initialisation failed: ") + rte_strerror(rte_errno) +
                " (check the EAL arguments before `--`)");
  install_signals();
  int rc;
  try {
    rc = run(o);
  } catch (const std::exception& e) {
    rc = fail(e.what());
  }
  rte_eal_cleanup();
  return rc;
}
