// The forwarding tables of one generation: where each pod CIDR lives, how
// to reach its node, and the Services to load-balance. Built by the control thread from Node objects,
// immutable once published; workers read it through an RCU-protected
// pointer (see FibPublisher).
#pragma once

#include "conf/inet.h"
#include "dataplane/prefix_table.h"
#include "dataplane/persistent_vector.h"

#include <rte_byteorder.h>
#include "dataplane/types.h"
#include "dataplane/vxlan.h"
#include "dns/policy.h"
#include "dns/zone.h"
#include "lb/service.h"

#include <memory>

#include <string>
#include <vector>

namespace svcdp::dp {

struct RemoteNode {
  std::string name;
  be32 vtep = 0;     // the node's InternalIP
  be32 nexthop = 0;  // vtep itself, or the uplink gateway
  VxlanTemplate tmpl;
  // Its IPv6 VTEP (--vxlan-ipv6-underlay: IPv6 pods in VXLAN over IPv6,
  // as flannel's dual-stack flannel-v6.1; zero: over IPv4 with `tmpl`).
  lb::Addr6 vtep6;
  lb::Addr6 nexthop6;
  VxlanTemplate6 tmpl6;
  std::vector<PrefixTable::Entry> pod_cidrs;  // what remote_pods sends it (for operators; the lookup is remote_pods)
  std::vector<PrefixTable6::Entry> pod_cidrs6;  // the same of remote_pods6
};

// Indexed by remote_pods' values; a slot without a name is free.
using RemoteNodes = PersistentVector<RemoteNode, 4>;

// A table without services, one per family for every Fib that has none
// yet (an empty table still has its 272 KiB endpoint filter).
template <lb::Family F>
std::shared_ptr<const lb::BasicServiceTable<F>> no_services() {
  static const auto empty =
      std::make_shared<const lb::BasicServiceTable<F>>(std::vector<lb::BasicServiceSpec<F>>{}, 0);
  return empty;
}

struct Fib {
  uint64_t generation = 0;
  be32 node_ip = 0;      // this node's InternalIP (our VTEP); 0 before the first tables (bootstrap)
  std::vector<be32> nodeport_addresses;  // where NodePorts are served (the control thread's list)
  std::vector<lb::Addr6> nodeport_addresses6;  // the same for IPv6 Services
  be32 pod_gateway = 0;  // answered for on the pods port
  // This node's IPv6 pod CIDRs (a node has one or two: scanned), and the
  // pods' IPv6 gateway, their first address (zero without one).
  std::vector<conf::Ipv6Prefix> local_pods6;
  lb::Addr6 pod_gateway6;
  // This node's IPv6 InternalIP (zero: none; the source of its NDP and
  // ICMPv6 errors on the uplink) and the uplink's IPv6 next hop (zero:
  // every IPv6 destination is on-link).
  lb::Addr6 node_ip6;
  lb::Addr6 uplink_gateway6;
  // --cluster-cidr's and --non-masquerade-cidr's IPv6 ranges (few:
  // scanned). IPv6 beyond the Nodes' pod CIDRs and these is masqueraded.
  std::vector<conf::Ipv6Prefix> cluster6;
  std::vector<conf::Ipv6Prefix> no_masquerade6;
  uint32_t vni = 0;
  be16 vxlan_port = 0;
  PrefixTable local_pods;   // this node's pod CIDRs (value unused)
  std::vector<PrefixTable::Entry> local_pod_cidrs;  // the same, listed (for the CNI configuration)
  PrefixTable remote_pods;  // other nodes' pod CIDRs → index in `nodes`
  PrefixTable6 remote_pods6;  // their IPv6 pod CIDRs (VXLAN over the IPv4 underlay)
  RemoteNodes nodes;
  uint32_t remote_node_count = 0;  // the slots of `nodes` a node holds
  PrefixTable remote_vteps;  // the nodes' VTEP addresses (/32s): VXLAN is accepted from these only
  PrefixTable6 remote_vteps6;  // the same for the IPv6 underlay (/128s)
  be32 uplink_gateway = 0;  // next hop beyond the uplink; 0: destinations are on-link
  PrefixTable uplink_subnet;  // on-link destinations when there is a gateway (empty: none)
  // Destinations inside the cluster's pod network (--cluster-cidr, or the
  // Nodes' pod CIDRs): never masqueraded; without a node to route them to
  // they are dropped (ip_no_route).
  PrefixTable cluster;
  // Destinations outside the cluster that pods reach with their own
  // address (--non-masquerade-cidr, ip-masq-agent's nonMasqueradeCIDRs).
  PrefixTable no_masquerade;
  // Services of this generation (never null once built); the control
  // thread lends it to the next generation to reuse its Maglev tables.
  std::shared_ptr<const lb::ServiceTable> services = no_services<lb::Ip4>();
  // The IPv6 Services (kube-proxy's IPv6 proxier), ids shared with `services`.
  std::shared_ptr<const lb::ServiceTable6> services6 = no_services<lb::Ip6>();
  std::vector<be32> announced;  // external and LoadBalancer IPs ARP is answered for
  std::vector<lb::Addr6> announced6;  // the same for NDP (IPv6 Services)
  // Cluster DNS of this generation (null: off), built from the same
  // objects as `services`: UDP queries from this node's pods and kernel to
  // one of `dns_addresses` port 53 are answered from it, or passed on.
  std::shared_ptr<const dns::Zone> dns;
  std::vector<be32> dns_addresses;
  // The FQDN policy local pods' queries are checked against first (null:
  // none); it outlives generations, reloaded on SIGHUP.
  std::shared_ptr<const dns::Policy> dns_policy;

  // The neighbour that takes a packet for `dst` beyond the uplink: `dst`
  // itself when on-link, else the uplink gateway. Thread: any.
  be32 uplink_nexthop(be32 dst) const {
    if (uplink_gateway == 0 || uplink_subnet.contains(rte_be_to_cpu_32(dst))) return dst;
    return uplink_gateway;
  }
  const lb::Addr6& uplink_nexthop6(const lb::Addr6& dst) const {
    return uplink_gateway6.is_zero() ? dst : uplink_gateway6;
  }
};

}  // namespace svcdp::dp
