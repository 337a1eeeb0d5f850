// Builds a dataplane forwarding-table generation (dp::Fib) from the
// cluster's Node objects: which pod CIDRs are ours, which node owns every
// other pod CIDR, and each remote node's prebuilt VXLAN header template.
#pragma once

#include "control/k8s_objects.h"
#include "dataplane/fib.h"

#include <map>
#include <memory>
#include <set>
#include <span>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace svcdp::control {

struct FibParams {
  std::string node_name;
  uint32_t vni = 1;
  uint16_t vxlan_port = 4789;
  std::optional<uint32_t> uplink_gateway;  // host order
  // The uplink's on-link network; with a gateway, everything outside it
  // is sent through the gateway. Unset: everything is (or, without a
  // gateway, nothing is).
  std::optional<conf::Ipv4Prefix> uplink_subnet;
  std::optional<uint32_t> pod_gateway;     // host order
  conf::MacAddr uplink_mac{};              // our VTEP MAC
  // The cluster's pod network; empty: the union of the Nodes' pod CIDRs.
  std::vector<conf::Ipv4Prefix> cluster_cidrs;
  // Outside the cluster, reached without masquerading (ip-masq-agent).
  std::vector<conf::Ipv4Prefix> non_masquerade_cidrs;
  // --nodeport-addresses: this node's addresses within these serve
  // NodePorts; empty: its InternalIP only ("primary").
  std::vector<conf::Ipv4Prefix> nodeport_cidrs;
  std::optional<conf::Ipv6Addr> uplink_gateway6 = {};  // unset: IPv6 destinations are on-link
  // The same two lists for IPv6 (the cluster's: beside the Nodes' pod CIDRs).
  std::vector<conf::Ipv6Prefix> cluster_cidrs6 = {};
  std::vector<conf::Ipv6Prefix> non_masquerade_cidrs6 = {};
  bool vxlan_ipv6_underlay = false;  // IPv6 pods over IPv6 to nodes with an IPv6 InternalIP
};

struct FibBuildError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The MAC a node's VTEP has when its Node carries no flannel VtepMAC:
// 0a:58 followed by the IPv4 address, the convention OVN-Kubernetes uses
// for addresses derived from IPs. Thread: any.
conf::MacAddr derived_vtep_mac(uint32_t vtep_ip);

// The generation workers start with before the cluster is known (the
// API server may be reachable only through svcdp itself): no node, no
// pod, no Service; node_ip 0, which makes every IPv4 packet from the
// uplink the kernel's, and the kernel's own traffic leaves by the uplink
// as it is (the exception path). Thread: control.
std::unique_ptr<dp::Fib> bootstrap_fib(const FibParams& params);

// The Fib's tables made from the Nodes -- this node's addresses and pod
// CIDRs, the remote nodes with their VXLAN templates, the remote pod
// CIDRs, VTEPs and the cluster's pod network -- kept from one generation
// to the next, so that another node's change edits them in O(log N)
// (persistent tables: the edit copies the paths it changes and shares
// the rest with the generations already published). Pod CIDRs that
// overlap are resolved as a build from scratch in name order would: a
// node whose CIDR overlaps this node's or an earlier-named node's is
// skipped with a warning; a later-named one that was placed gives way.
// Thread: control.
class NodeTables {
 public:
  explicit NodeTables(FibParams params) : p_(std::move(params)) {}

  // Everything again from every Node (the first build, or this node
  // changed). Throws FibBuildError when this node is missing; the tables
  // are then as before.
  void rebuild(std::span<const NodeInfo* const> nodes);
  // Another node is now `now` (null: deleted). Its pod CIDRs, VTEP and
  // template are edited in, or out; overlaps resolved again.
  void update(const std::string& name, const NodeInfo* now);
  bool built() const { return built_; }
  // Another node as the tables have it (null: none by that name).
  const NodeInfo* node(const std::string& name) const {
    const auto it = members_.find(name);
    return it == members_.end() ? nullptr : &it->second.node;
  }

  // A generation with these tables and no services.
  std::unique_ptr<dp::Fib> fib(uint64_t generation) const;
  // What was left out: this node without a pod CIDR, each skipped node.
  std::vector<std::string> warnings() const;

 private:
  struct Member {
    NodeInfo node;
    std::optional<uint32_t> index;  // in tables_.nodes when placed
    std::vector<std::string> clashes;  // why it is skipped (none: placed, or no pod CIDR)
  };
  // The pod CIDRs of one family taken, by first address: this node's
  // (owner null) or a placed node's. Disjoint but for one node's own
  // nested CIDRs.
  template <class P>
  class Claims {
   public:
    using Addr = decltype(P::addr);
    struct Taken {
      Addr last;
      P prefix;
      const std::string* owner;
    };
    // The taken CIDRs that overlap `c`.
    std::vector<const Taken*> overlapping(const P& c) const;
    void take(const P& c, const std::string* owner);
    void release(const P& c, const std::string* owner);

   private:
    std::map<Addr, Taken> by_first_;
  };
  // Adds to `m.clashes` the CIDRs of `cidrs` an earlier-named node or this
  // one holds; later-named holders go into `later`.
  template <class P>
  void find_clashes(const Claims<P>& claims, const std::vector<P>& cidrs, Member& m,
                    std::set<const std::string*>& later) const;
  // Places `m` unless an earlier-named node or this one holds a CIDR of
  // it; later-named ones give way (into `evicted`). True when placed.
  bool place(Member& m, std::vector<Member*>& evicted);
  void unplace(Member& m);
  // Places what can be placed among the skipped, earliest name first,
  // until nothing changes.
  void settle();
  // Prefix tables whose entries more than one node may add (a VTEP two
  // Nodes claim, the cluster's CIDRs): counted, removed with the last.
  void count_in(std::map<std::pair<uint32_t, uint8_t>, uint32_t>& refs, dp::PrefixTable& table, uint32_t addr,
                uint8_t len, int delta);

  FibParams p_;
  bool built_ = false;
  dp::Fib tables_;  // no services
  std::string self_warning_;
  std::map<std::string, Member> members_;  // every other Node, by name
  std::set<std::string> skipped_;          // members with clashes
  Claims<conf::Ipv4Prefix> taken_;
  Claims<conf::Ipv6Prefix> taken6_;
  std::vector<uint32_t> free_;  // indexes of tables_.nodes no node holds
  std::map<std::pair<uint32_t, uint8_t>, uint32_t> vtep_refs_, cluster_refs_;
  std::map<lb::Addr6, uint32_t> vtep6_refs_;
  void count_vtep6(const lb::Addr6& vtep, int delta);
};

// A generation's node tables from scratch (NodeTables::rebuild). Throws
// FibBuildError when this node is missing; this node without a pod CIDR,
// and other nodes skipped for overlapping CIDRs, add a line to
// `warnings`. Thread: control.
std::unique_ptr<dp::Fib> build_fib(const std::vector<NodeInfo>& nodes, const FibParams& params, uint64_t generation,
                                   std::vector<std::string>& warnings);
// The same from pointers to them (no copy of the Node objects).
std::unique_ptr<dp::Fib> build_fib(std::span<const NodeInfo* const> nodes, const FibParams& params, uint64_t generation,
                                   std::vector<std::string>& warnings);

}  // namespace svcdp::control
