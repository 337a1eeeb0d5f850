#include "control/fib_builder.h"

#include <rte_byteorder.h>

#include <algorithm>
#include <span>
#include <cstring>
#include <map>

namespace svcdp::control {
namespace {

rte_ether_addr to_ether(const conf::MacAddr& m) {
  rte_ether_addr e;
  std::memcpy(e.addr_bytes, m.data(), m.size());
  return e;
}

std::pair<uint32_t, uint32_t> range(const conf::Ipv4Prefix& c) {
  return {c.addr & c.mask(), (c.addr & c.mask()) | ~c.mask()};
}

// First and last address, compared as big-endian bytes (numerically).
std::pair<conf::Ipv6Addr, conf::Ipv6Addr> range(const conf::Ipv6Prefix& c) {
  conf::Ipv6Addr first = c.addr, last = c.addr;
  for (int bit = c.len; bit < 128; ++bit) {
    const auto mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    first[bit / 8] &= static_cast<uint8_t>(~mask);
    last[bit / 8] |= mask;
  }
  return {first, last};
}

std::string text(const conf::Ipv4Prefix& c) { return conf::format_prefix(c); }
std::string text(const conf::Ipv6Prefix& c) { return conf::format_ipv6_prefix(c); }

}  // namespace

conf::MacAddr derived_vtep_mac(uint32_t ip) {
  return {0x0a, 0x58, static_cast<uint8_t>(ip >> 24), static_cast<uint8_t>(ip >> 16), static_cast<uint8_t>(ip >> 8),
          static_cast<uint8_t>(ip)};
}

std::unique_ptr<dp::Fib> bootstrap_fib(const FibParams& p) {
  auto fib = std::make_unique<dp::Fib>();
  fib->vni = p.vni;
  fib->vxlan_port = rte_cpu_to_be_16(p.vxlan_port);
  return fib;
}

void NodeTables::rebuild(std::span<const NodeInfo* const> nodes) {
  auto found = std::find_if(nodes.begin(), nodes.end(), [&](const NodeInfo* n) { return n->name == p_.node_name; });
  if (found == nodes.end()) throw FibBuildError("this node '" + p_.node_name + "' is not among the Node objects");
  const NodeInfo* self = *found;
  *this = NodeTables(std::move(p_));
  built_ = true;
  // A node without a pod CIDR (a control-plane node, a cluster whose
  // overlay is another CNI's) has no pods here, but its Services are still
  // served, their SNAT from the node address, as kube-proxy masquerades.
  if (self->pod_cidrs.empty() && self->pod_cidrs_v6.empty())
    self_warning_ =
        "this node '" + p_.node_name + "' has no pod CIDR: no pods or overlay here, Services still served";

  dp::Fib& fib = tables_;
  fib.node_ip = rte_cpu_to_be_32(self->internal_ip);
  // pkg/proxy/util/nodeport_addresses.go: "primary", or the node's
  // addresses within the CIDRs given.
  if (p_.nodeport_cidrs.empty()) {
    if (fib.node_ip != 0) fib.nodeport_addresses = {fib.node_ip};
  } else {
    for (uint32_t a : self->addresses)
      if (std::any_of(p_.nodeport_cidrs.begin(), p_.nodeport_cidrs.end(), [&](const auto& c) { return c.contains(a); }))
        fib.nodeport_addresses.push_back(rte_cpu_to_be_32(a));
    std::sort(fib.nodeport_addresses.begin(), fib.nodeport_addresses.end());
    fib.nodeport_addresses.erase(std::unique(fib.nodeport_addresses.begin(), fib.nodeport_addresses.end()),
                                 fib.nodeport_addresses.end());
  }
  // The IPv6 proxier's list: "primary" is the node's IPv6 InternalIP;
  // CIDRs given name no IPv6 range (--nodeport-addresses takes IPv4
  // ones), so every IPv6 address of the node matches, as
  // NewNodePortAddresses has it for a family without CIDRs.
  const conf::Ipv6Addr none{};
  if (p_.nodeport_cidrs.empty()) {
    if (self->internal_ip_v6 != none) fib.nodeport_addresses6 = {lb::Addr6{self->internal_ip_v6}};
  } else {
    for (const conf::Ipv6Addr& a : self->addresses_v6) fib.nodeport_addresses6.push_back(lb::Addr6{a});
    std::sort(fib.nodeport_addresses6.begin(), fib.nodeport_addresses6.end());
    fib.nodeport_addresses6.erase(std::unique(fib.nodeport_addresses6.begin(), fib.nodeport_addresses6.end()),
                                  fib.nodeport_addresses6.end());
  }
  fib.pod_gateway = rte_cpu_to_be_32(
      p_.pod_gateway.value_or(self->pod_cidrs.empty() ? self->internal_ip : self->pod_cidrs[0].addr + 1));
  fib.vni = p_.vni;
  fib.vxlan_port = rte_cpu_to_be_16(p_.vxlan_port);
  if (p_.uplink_gateway) fib.uplink_gateway = rte_cpu_to_be_32(*p_.uplink_gateway);
  if (p_.uplink_subnet) fib.uplink_subnet = dp::PrefixTable({{p_.uplink_subnet->addr, p_.uplink_subnet->len, 0}});

  // Dual-stack: this node's IPv6 pod CIDRs, their first address the pods'
  // IPv6 gateway (as the IPv4 one), answered by NDP on the pods port.
  fib.local_pods6 = self->pod_cidrs_v6;
  fib.node_ip6 = lb::Addr6{self->internal_ip_v6};
  fib.cluster6 = p_.cluster_cidrs6;
  fib.no_masquerade6 = p_.non_masquerade_cidrs6;
  if (p_.uplink_gateway6) fib.uplink_gateway6 = lb::Addr6{*p_.uplink_gateway6};
  for (const auto& c : self->pod_cidrs_v6) taken6_.take(c, nullptr);
  if (!self->pod_cidrs_v6.empty()) {
    conf::Ipv6Addr gw = self->pod_cidrs_v6[0].addr;
    gw[15] |= 1;
    fib.pod_gateway6 = lb::Addr6{gw};
  }
  std::vector<dp::PrefixTable::Entry> local;
  for (const auto& c : self->pod_cidrs) local.push_back({c.addr, c.len, 0});
  fib.local_pods = dp::PrefixTable(local);
  fib.local_pod_cidrs = local;
  for (const auto& c : self->pod_cidrs) {
    taken_.take(c, nullptr);
    if (p_.cluster_cidrs.empty()) count_in(cluster_refs_, fib.cluster, c.addr, c.len, +1);
  }
  for (const auto& c : p_.cluster_cidrs) count_in(cluster_refs_, fib.cluster, c.addr, c.len, +1);
  std::vector<dp::PrefixTable::Entry> no_masq;
  for (const auto& c : p_.non_masquerade_cidrs) no_masq.push_back({c.addr, c.len, 0});
  fib.no_masquerade = dp::PrefixTable(no_masq);
  // In name order, as ClusterState keeps them: nothing placed gives way.
  std::vector<const NodeInfo*> others;
  for (const NodeInfo* n : nodes)
    if (n->name != p_.node_name) others.push_back(n);
  std::sort(others.begin(), others.end(), [](const NodeInfo* a, const NodeInfo* b) { return a->name < b->name; });
  for (const NodeInfo* n : others) update(n->name, n);
}

void NodeTables::update(const std::string& name, const NodeInfo* now) {
  auto it = members_.find(name);
  if (it != members_.end()) {
    const NodeInfo& was = it->second.node;
    // Only what the tables hold counts (a heartbeat, a label: nothing).
    if (now && now->pod_cidrs == was.pod_cidrs && now->pod_cidrs_v6 == was.pod_cidrs_v6 &&
        now->internal_ip == was.internal_ip && now->vtep_mac == was.vtep_mac &&
        now->internal_ip_v6 == was.internal_ip_v6 && now->vtep_mac6 == was.vtep_mac6)
      return;
    unplace(it->second);
    skipped_.erase(name);
    members_.erase(it);
  }
  if (now) {
    Member& m = members_.emplace(name, Member{*now, std::nullopt, {}}).first->second;
    std::vector<Member*> evicted;
    if (!place(m, evicted) && !m.clashes.empty()) skipped_.insert(name);
    for (Member* e : evicted) skipped_.insert(e->node.name);
  }
  // A node that gave way, or one an old CIDR of `name` kept out, may fit now.
  settle();
}

void NodeTables::settle() {
  for (bool changed = true; changed;) {
    changed = false;
    for (const std::string& skipped : skipped_) {
      Member& m = members_.at(skipped);
      std::vector<Member*> evicted;
      if (!place(m, evicted)) continue;
      skipped_.erase(m.node.name);
      for (Member* e : evicted) skipped_.insert(e->node.name);
      changed = true;
      break;
    }
  }
}

template <class P>
std::vector<const typename NodeTables::Claims<P>::Taken*> NodeTables::Claims<P>::overlapping(const P& c) const {
  const auto [first, last] = range(c);
  std::vector<const Taken*> out;
  auto it = by_first_.upper_bound(first);
  if (it != by_first_.begin() && std::prev(it)->second.last >= first) out.push_back(&std::prev(it)->second);
  for (; it != by_first_.end() && it->first <= last; ++it) out.push_back(&it->second);
  return out;
}

template <class P>
void NodeTables::Claims<P>::take(const P& c, const std::string* owner) {
  // One node's own nested CIDRs: the widest stands for them.
  for (const Taken* t : overlapping(c))
    if (t->prefix.len <= c.len) return;
  const auto [first, last] = range(c);
  by_first_.erase(by_first_.lower_bound(first), by_first_.upper_bound(last));
  by_first_.emplace(first, Taken{last, c, owner});
}

template <class P>
void NodeTables::Claims<P>::release(const P& c, const std::string* owner) {
  const auto [first, last] = range(c);
  if (auto it = by_first_.find(first); it != by_first_.end() && it->second.owner == owner && it->second.last == last)
    by_first_.erase(it);
}

template <class P>
void NodeTables::find_clashes(const Claims<P>& claims, const std::vector<P>& cidrs, Member& m,
                              std::set<const std::string*>& later) const {
  const NodeInfo& n = m.node;
  for (const auto& c : cidrs) {
    bool clash = false;
    for (const auto* t : claims.overlapping(c)) {
      if (t->owner != nullptr && *t->owner > n.name) {
        later.insert(t->owner);
      } else if (!clash) {
        std::string why = "node ";
        why.append(n.name).append(": pod CIDR ").append(text(c)).append(" overlaps ").append(text(t->prefix));
        m.clashes.push_back(why.append("; node skipped"));
        clash = true;
      }
    }
  }
}

bool NodeTables::place(Member& m, std::vector<Member*>& evicted) {
  const NodeInfo& n = m.node;
  m.clashes.clear();
  if (n.pod_cidrs.empty() && n.pod_cidrs_v6.empty()) return false;  // no pods there: nothing to route to it
  std::set<const std::string*> later;
  find_clashes(taken_, n.pod_cidrs, m, later);
  find_clashes(taken6_, n.pod_cidrs_v6, m, later);
  if (!m.clashes.empty()) return false;
  for (const std::string* owner : later) {
    Member& e = members_.at(*owner);
    unplace(e);
    evicted.push_back(&e);
  }

  dp::RemoteNode rn;
  rn.name = n.name;
  // The IPv4 underlay when both ends have an IPv4 address.
  const bool underlay4 = n.internal_ip != 0 && tables_.node_ip != 0;
  if (underlay4) {
    rn.vtep = rte_cpu_to_be_32(n.internal_ip);
    rn.nexthop = tables_.uplink_nexthop(rn.vtep);
    rn.tmpl = dp::make_vxlan_template(to_ether(p_.uplink_mac), tables_.node_ip, rn.vtep,
                                      to_ether(n.vtep_mac.value_or(derived_vtep_mac(n.internal_ip))), p_.vni,
                                      p_.vxlan_port);
  }
  // The IPv6 underlay, when both ends have an IPv6 address and it is asked
  // for or the only one (IPv6-only nodes, flannel's flannel-v6.1 alone).
  const conf::Ipv6Addr none6{};
  if ((p_.vxlan_ipv6_underlay || !underlay4) && !tables_.node_ip6.is_zero() && n.internal_ip_v6 != none6) {
    rn.vtep6 = lb::Addr6{n.internal_ip_v6};
    rn.nexthop6 = tables_.uplink_nexthop6(rn.vtep6);
    rn.tmpl6 = dp::make_vxlan_template6(to_ether(p_.uplink_mac), tables_.node_ip6, rn.vtep6,
                                        to_ether(n.vtep_mac6.value_or(n.vtep_mac.value_or(derived_vtep_mac(n.internal_ip)))),
                                        p_.vni, p_.vxlan_port);
    count_vtep6(rn.vtep6, +1);
  }
  dp::RemoteNodes::Edit nodes(tables_.nodes);
  uint32_t index;
  if (free_.empty()) {
    index = static_cast<uint32_t>(nodes.size());
    nodes.push_back({});
  } else {
    index = free_.back();
    free_.pop_back();
  }
  dp::PrefixTable::Edit remote(tables_.remote_pods);
  for (const auto& c : n.pod_cidrs) {
    if (underlay4 && !remote.contains(c.addr, c.len)) {
      remote.set(c.addr, c.len, index);
      rn.pod_cidrs.push_back({c.addr, c.len, index});
    }
    taken_.take(c, &members_.find(n.name)->first);
    if (p_.cluster_cidrs.empty()) count_in(cluster_refs_, tables_.cluster, c.addr, c.len, +1);
  }
  tables_.remote_pods = remote.finish();
  dp::PrefixTable6::Edit remote6(tables_.remote_pods6);
  for (const auto& c : n.pod_cidrs_v6) {
    const lb::Addr6 a{c.addr};
    if (remote6.contains(a, c.len)) continue;
    remote6.set(a, c.len, index);
    rn.pod_cidrs6.push_back({a, c.len, index});
  }
  tables_.remote_pods6 = remote6.finish();
  for (const auto& c : n.pod_cidrs_v6) taken6_.take(c, &members_.find(n.name)->first);
  nodes.mut(index) = std::move(rn);
  tables_.nodes = nodes.finish();
  if (underlay4) count_in(vtep_refs_, tables_.remote_vteps, n.internal_ip, 32, +1);
  ++tables_.remote_node_count;
  m.index = index;
  return true;
}

void NodeTables::unplace(Member& m) {
  if (!m.index) return;
  const NodeInfo& n = m.node;
  const std::string* owner = &members_.find(n.name)->first;
  dp::PrefixTable::Edit remote(tables_.remote_pods);
  for (const dp::PrefixTable::Entry& e : tables_.nodes[*m.index].pod_cidrs) remote.erase(e.addr, e.len);
  tables_.remote_pods = remote.finish();
  dp::PrefixTable6::Edit remote6(tables_.remote_pods6);
  for (const dp::PrefixTable6::Entry& e : tables_.nodes[*m.index].pod_cidrs6) remote6.erase(e.addr, e.len);
  tables_.remote_pods6 = remote6.finish();
  for (const auto& c : n.pod_cidrs_v6) taken6_.release(c, owner);
  for (const auto& c : n.pod_cidrs) {
    taken_.release(c, owner);
    if (p_.cluster_cidrs.empty()) count_in(cluster_refs_, tables_.cluster, c.addr, c.len, -1);
  }
  if (tables_.nodes[*m.index].vtep != 0) count_in(vtep_refs_, tables_.remote_vteps, n.internal_ip, 32, -1);
  if (const lb::Addr6 v6 = tables_.nodes[*m.index].vtep6; !v6.is_zero()) count_vtep6(v6, -1);
  dp::RemoteNodes::Edit nodes(tables_.nodes);
  nodes.mut(*m.index) = {};  // no name: a free slot (introspection skips it)
  tables_.nodes = nodes.finish();
  free_.push_back(*m.index);
  --tables_.remote_node_count;
  m.index.reset();
}

void NodeTables::count_in(std::map<std::pair<uint32_t, uint8_t>, uint32_t>& refs, dp::PrefixTable& table,
                          uint32_t addr, uint8_t len, int delta) {
  uint32_t& n = refs[{addr, len}];
  if (delta > 0 && n++ != 0) return;
  if (delta < 0 && --n != 0) return;
  dp::PrefixTable::Edit e(table);
  if (n != 0)
    e.set(addr, len, 0);
  else
    e.erase(addr, len);
  table = e.finish();
  if (n == 0) refs.erase({addr, len});
}

void NodeTables::count_vtep6(const lb::Addr6& vtep, int delta) {
  uint32_t& n = vtep6_refs_[vtep];
  if (delta > 0 && n++ != 0) return;
  if (delta < 0 && --n != 0) return;
  dp::PrefixTable6::Edit e(tables_.remote_vteps6);
  if (n != 0)
    e.set(vtep, 128, 0);
  else
    e.erase(vtep, 128);
  tables_.remote_vteps6 = e.finish();
  if (n == 0) vtep6_refs_.erase(vtep);
}

std::unique_ptr<dp::Fib> NodeTables::fib(uint64_t generation) const {
  auto fib = std::make_unique<dp::Fib>(tables_);
  fib->generation = generation;
  return fib;
}

std::vector<std::string> NodeTables::warnings() const {
  std::vector<std::string> out;
  if (!self_warning_.empty()) out.push_back(self_warning_);
  for (const std::string& name : skipped_) {
    const auto& c = members_.at(name).clashes;
    out.insert(out.end(), c.begin(), c.end());
  }
  return out;
}

std::unique_ptr<dp::Fib> build_fib(const std::vector<NodeInfo>& nodes, const FibParams& p, uint64_t generation,
                                   std::vector<std::string>& warnings) {
  std::vector<const NodeInfo*> all;
  for (const NodeInfo& n : nodes) all.push_back(&n);
  return build_fib(all, p, generation, warnings);
}

std::unique_ptr<dp::Fib> build_fib(std::span<const NodeInfo* const> nodes, const FibParams& p, uint64_t generation,
                                   std::vector<std::string>& warnings) {
  NodeTables t(p);
  t.rebuild(nodes);
  const auto w = t.warnings();
  warnings.insert(warnings.end(), w.begin(), w.end());
  return t.fib(generation);
}

}  // namespace svcdp::control
