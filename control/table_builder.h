// Builds complete dataplane generations (dp::Fib): the node routes from
// Node objects (fib_builder) and the service tables from Services and
// EndpointSlices (service_builder), keeping what must survive from one
// generation to the next: stable service ids, and the previous service
// table whose Maglev tables unchanged services reuse.
#pragma once

#include "control/cluster_state.h"
#include "control/dns_records.h"
#include "control/endpoint_slice_cache.h"
#include "control/fib_builder.h"
#include "control/service_builder.h"
#include "control/service_list.h"

#include <memory>
#include <memory_resource>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace svcdp::control {

class TableBuilder {
 public:
  // The service tables the workers read are allocated in `table_memory`
  // (the dataplane's hugepages on the workers' socket; the heap if null),
  // which must outlive every generation built.
  // `maglev_size`: --maglev-size (Maglev::size_for).
  // `dns`: the cluster DNS zone to build with every generation (off when
  // it names no service).
  TableBuilder(FibParams params, uint32_t maglev_size, std::pmr::memory_resource* table_memory = nullptr,
               DnsParams dns = {});

  // Generation `generation` of `state`, rebuilding only the services in
  // `dirty` (or all when dirty.all): the others are shared, as they are,
  // with the previous generation. Objects left out (broken nodes, too many
  // services) add a line to `warnings`. Throws FibBuildError when this
  // node is missing. Thread: control.
  std::unique_ptr<dp::Fib> build(const ClusterState& state, const ClusterState::Dirty& dirty, uint64_t generation,
                                 std::vector<std::string>& warnings);

  // The FQDN policy the following generations carry (null: none).
  // Thread: control.
  void set_dns_policy(std::shared_ptr<const dns::Policy> policy) { dns_policy_ = std::move(policy); }

  // The ports the last build has of a Service (none when it has no
  // tables). Thread: control.
  std::span<const std::shared_ptr<const lb::Service>> ports_of(const ClusterState::Key& key) const {
    auto it = built_.find(key);
    if (it == built_.end()) return {};
    return it->second.services;
  }

  // Service ports the last build could not build (each kept its last
  // tables, the error named in `warnings`). Thread: control.
  size_t failed_services() const { return failed_; }

 private:
  struct Built {
    std::vector<std::string> port_keys;
    std::vector<std::shared_ptr<const lb::Service>> services;
    std::vector<std::shared_ptr<const lb::Service6>> services6;  // its IPv6 ports (same ids)
    size_t failed = 0;  // service ports that could not be built (kept their last tables)
    std::vector<std::string> warnings;
  };
  void rebuild(const ClusterState::Key& key, const ServiceInfo* service, const EndpointSliceCache& slices,
               const dp::Fib& fib);
  // One family's ports from their specs into `out`; a port that cannot be
  // built keeps `old`'s tables for its id.
  template <lb::Family F>
  void build_ports(std::vector<lb::BasicServiceSpec<F>> specs, const lb::BasicServiceTable<F>* previous,
                   const std::vector<std::shared_ptr<const lb::BasicService<F>>>* old,
                   std::vector<std::shared_ptr<const lb::BasicService<F>>>& out, Built& fresh);

  // The cluster DNS zone of every service (only what changed made again)
  // and its addresses, into `fib`.
  void build_dns(const ClusterState& state, dp::Fib& fib);

  // Adds or removes the endpoint addresses of a service's ports (IPv6
  // ones by their node's name).
  void index_addresses(const ClusterState::Key& key, const Built& ports, bool add);
  // The services with an endpoint in `cidr`, into `out`.
  void services_in(const conf::Ipv4Prefix& cidr, std::set<ClusterState::Key>& out) const;

  std::map<ClusterState::Key, Built> built_;
  // (endpoint address, host order; its service's key in built_): which
  // services a Node's pod CIDR holds endpoints of.
  std::set<std::pair<uint32_t, const ClusterState::Key*>> by_address_;
  // (node name, service key): whose IPv6 endpoints sit on which node (their
  // VTEP is the node's).
  std::set<std::pair<std::string, const ClusterState::Key*>> by_node6_;
  ServiceList list_;                    // every built port, in the order the tables keep
  ServiceList6 list6_;                  // every built IPv6 port
  std::set<ClusterState::Key> warned_;  // the services in built_ with warnings
  DnsParams dns_;
  std::shared_ptr<const dns::Policy> dns_policy_;
  std::optional<dns::ZoneIndex> dns_index_;  // with DNS on: every service's records, zones made from them
  FibParams params_;
  uint32_t maglev_size_;
  std::pmr::memory_resource* memory_;
  ServiceIds ids_;
  std::shared_ptr<const lb::ServiceTable> previous_;
  std::shared_ptr<const lb::ServiceTable6> previous6_;
  NodeTables node_tables_;  // the tables from the Nodes, edited per changed Node
  std::string zone_;  // this node's zone, as the built services read their hints
  size_t failed_ = 0;
};

}  // namespace svcdp::control
