// svcdp command line and config file (Boost.Program_options).
//
// The daemon is invoked as `svcdp <EAL args> -- <svcdp options>`; this module
// parses the part after `--` (and an optional --config file holding the same
// options as `key = value` lines). It runs before the EAL starts, so --help
// and every option error are answered without touching DPDK.
#pragma once

#include "conf/inet.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace svcdp::conf {

struct Options {
  std::string config_file;
  std::string node_name;     // this node's Kubernetes Node name
  std::string source = "file";  // file | kube
  std::string cluster_file;    // Kubernetes objects (Nodes, Services, EndpointSlices)
  std::string kubeconfig;      // empty: in-cluster, $KUBECONFIG, ~/.kube/config
  std::string api_server;  // overrides the kubeconfig's (or in-cluster) server
  double min_sync_interval_ms = 1.0;
  uint32_t watch_timeout_s = 300;
  uint32_t api_stall_timeout_s = 90;
  std::string uplink;        // DPDK device name of the uplink port
  std::string pods;          // DPDK device name of the pods port
  std::string exception_iface;  // kernel TAP for traffic svcdp does not own
  std::string take_over_address;  // kernel interface whose addresses move to the TAP
  std::vector<std::string> kernel_routes;  // CIDRs the node's kernel reaches via the pod gateway on the TAP
  std::string state_dir = "/run/svcdp";
  bool restore_address = false;
  bool save_flows = false;  // keep connections across a restart (STATE_DIR/flows.bin)
  std::string cni_conf_dir;  // write 10-svcdp.conflist here (empty: do not)
  uint32_t vni = 1;
  uint16_t vxlan_port = 4789;
  std::string uplink_gateway;  // empty: every destination is on-link
  std::string uplink_gateway6;  // the same for IPv6
  std::string uplink_subnet;   // on-link network of the uplink (with a gateway)
  std::string pod_gateway;     // empty: first address of the pod CIDR
  uint16_t mtu = 1500;
  std::vector<std::string> cluster_cidr;         // as given; empty: the Nodes' pod CIDRs
  std::vector<std::string> nodeport_addresses;   // CIDRs or "primary" (the default)
  std::vector<std::string> non_masquerade_cidr;  // as given
  std::string masquerade_ports = "61000-65535";  // node-address source ports for pod egress
  uint16_t masquerade_lo = 61000, masquerade_hi = 65535;  // masquerade_ports, parsed
  bool announce_lb_ips = false;  // answer ARP for external and LoadBalancer IPs
  bool vxlan_ipv6_underlay = false;  // IPv6 pods in VXLAN over IPv6 between nodes with IPv6 InternalIPs
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint16_t burst = 32;
  uint32_t mbufs = 0;  // 0: sized from ports, queues and descriptors
  uint32_t neigh_capacity = 4096;
  uint32_t neigh_reachable_s = 30;
  std::vector<std::string> static_neigh;  // ROLE,IP,MAC as given
  struct StaticNeigh {
    bool uplink;    // else the pods port
    uint32_t ip;    // host order (0 for an IPv6 neighbour)
    std::optional<Ipv6Addr> ip6;  // an IPv6 neighbour (pods port only)
    std::array<uint8_t, 6> mac;
  };
  std::vector<StaticNeigh> static_neighbours;  // static_neigh, parsed
  uint64_t conntrack_capacity = 1 << 20;
  uint64_t conntrack6_capacity = 1 << 16;  // IPv6 flows: a table of their own
  uint32_t maglev_size = 65537;
  // Cluster DNS (off unless --dns-service names the Service).
  std::string dns_service;                    // NS/NAME, as given
  std::string dns_service_ns, dns_service_name;  // dns_service, parsed
  std::string cluster_domain = "cluster.local";  // lower case, no trailing dot once validated
  uint32_t dns_ttl = 5;
  std::string dns_policy;  // FQDN policy file; empty: none
  uint32_t stats_interval_s = 0;  // 0: print counters only at exit
  std::string metrics_address = "127.0.0.1:9662";
  std::string healthz_address = "0.0.0.0:10256";  // kube-proxy's node health server ("off": none)
  uint32_t readyz_max_api_age_s = 0;  // /readyz also needs API contact this recent (0: not)
  std::string admin_socket = "/run/svcdp/svcdp.sock";
  std::string log_level = "info";
};

// Outcome of parsing: either options to run with, or an exit the caller
// should take right away (help printed, or an error line already written).
struct ParseResult {
  std::optional<Options> options;
  int exit_code = 0;
};

// Parses svcdp's own arguments (argv[0] is the program name; the EAL part
// must already be split off). Prints --help to stdout, and every error as a
// single line "svcdp: error: ..." to stderr. Thread: main, before EAL init.
ParseResult parse(int argc, const char* const* argv);

// Splits `svcdp <eal...> -- <svcdp...>` at the first "--". Returns the index
// of the "--" or argc when there is none (then everything is EAL arguments,
// except that a lone --help/-h is treated as svcdp's). Thread: any.
int find_separator(int argc, const char* const* argv);

}  // namespace svcdp::conf
