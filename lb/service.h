// Services and their endpoints as the workers see them: one immutable
// generation (ServiceTable) built by the control thread and read by every
// worker without locks. What it decides:
//  - which service a packet's destination (VIP, port, protocol) is;
//  - which endpoints may take a new flow (kube-proxy's rules, below);
//  - which of those a given flow gets (Maglev);
//  - what happens to an existing flow when a new generation arrives.
#pragma once

#include "lb/maglev.h"
#include "lb/table_memory.h"
#include "lb/types.h"

#include <array>
#include <atomic>
#include <bit>
#include <memory>
#include <memory_resource>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace svcdp::lb {

enum class TrafficPolicy : uint8_t { kCluster, kLocal };

// Every type below is a template over the address family (lb/types.h):
// an IPv6 Service port is its own entry in its own table, as kube-proxy
// runs one proxier per family (pkg/proxy/metaproxier). The aliases
// without a suffix are IPv4's, those ending in 6 IPv6's.
template <Family F>
struct BasicEndpoint {
  using Addr = typename F::Addr;
  Addr addr{};
  be16 port = 0;
  be32 vtep = 0;  // its node's tunnel endpoint; 0 for an endpoint on this node
  bool local = false;
  // EndpointSlice conditions.
  bool ready = true;
  bool serving = true;
  bool terminating = false;
  uint16_t weight = 1;
  std::string node;
  std::string zone;
  // Topology hints (EndpointSlice hints.forZones / hints.forNodes), as the
  // control thread found them for this node: whether there are any, and
  // whether one names this node's zone / this node.
  bool has_zone_hints = false, for_this_zone = false;
  bool has_node_hints = false, for_this_node = false;

  bool same_as(const BasicEndpoint& o) const { return addr == o.addr && port == o.port; }
};
using Endpoint = BasicEndpoint<Ip4>;
using Endpoint6 = BasicEndpoint<Ip6>;

// Kinds of front end: ClusterIP is internal traffic; NodePort, externalIPs
// and LoadBalancer ingress IPs are external traffic (KEP-2086 names).
enum class Frontend : uint8_t { kClusterIp, kNodePort, kExternalIp, kLoadBalancerIp };

template <Family F>
struct BasicFrontendAddr {
  typename F::Addr vip;
  be16 port;
  Frontend kind;
};
using FrontendAddr = BasicFrontendAddr<Ip4>;
using FrontendAddr6 = BasicFrontendAddr<Ip6>;

// One Service port of one family, as the control thread describes it.
template <Family F>
struct BasicServiceSpec {
  using Addr = typename F::Addr;
  uint32_t id = 0;  // stable across generations (the control thread assigns it)
  std::string ns, name, port_name;
  // metadata.creationTimestamp (RFC 3339, UTC: orders as text): who keeps
  // a front end two services claim.
  std::string created;
  uint8_t proto = kTcp;
  std::vector<BasicFrontendAddr<F>> frontends;
  bool affinity_client_ip = false;
  uint32_t affinity_timeout_s = 10800;  // Kubernetes' default
  TrafficPolicy external_policy = TrafficPolicy::kCluster;
  TrafficPolicy internal_policy = TrafficPolicy::kCluster;
  // spec.loadBalancerSourceRanges: the sources its LoadBalancer IPs accept
  // (empty: any). Host order. NodePorts and the rest are not filtered, as
  // kube-proxy has it (pkg/proxy/nftables/proxier.go, firewall chain).
  // Network order, host bits zero.
  struct SourceRange {
    Addr addr;
    uint8_t len;
    bool operator==(const SourceRange&) const = default;
  };
  std::vector<SourceRange> source_ranges;
  uint16_t health_check_node_port = 0;  // spec.healthCheckNodePort (served by control/service_health)
  std::vector<BasicEndpoint<F>> endpoints;  // every endpoint of the slices, any state
};
using ServiceSpec = BasicServiceSpec<Ip4>;
using ServiceSpec6 = BasicServiceSpec<Ip6>;

// Which endpoints may take new flows, as kube-proxy's CategorizeEndpoints
// decides (pkg/proxy/topology.go, KEP-1669, KEP-2433, KEP-4444): with a
// Local policy only this node's endpoints count, the ready ones, else
// those serving and terminating. With Cluster, the ready endpoints the
// topology mode keeps (topologyModeFromHints: PreferSameNode when every
// ready endpoint has node hints and one names this node, else
// PreferSameZone likewise for zones, else all), else every serving and
// terminating one, topology ignored. Returns indices into `endpoints`.
// Thread: any.
template <Family F>
std::vector<uint32_t> usable_endpoints(const std::vector<BasicEndpoint<F>>& endpoints, TrafficPolicy policy);

// Whether any endpoint anywhere may take traffic (ready, or serving and
// terminating): kube-proxy's hasAnyEndpoints. Without one a service
// rejects; with one but none usable under a Local policy, its packets are
// dropped (pkg/proxy/nftables/proxier.go: "has no local endpoints").
// Thread: any.
template <Family F>
bool has_any_endpoint(const std::vector<BasicEndpoint<F>>& endpoints);

template <Family F>
class BasicService {
 public:
  using Addr = typename F::Addr;
  using Endpoint = BasicEndpoint<F>;
  using ServiceSpec = BasicServiceSpec<F>;

  // Thread: control. `previous`: the same service in the last generation,
  // whose Maglev tables are reused when its usable endpoints are unchanged.
  // The lookup tables are allocated in `memory` (the heap if null).
  BasicService(ServiceSpec spec, uint32_t maglev_max, const BasicService* previous,
               std::pmr::memory_resource* memory = nullptr);

  const ServiceSpec& spec() const { return spec_; }
  const std::vector<Endpoint>& endpoints() const { return spec_.endpoints; }

  // The endpoint for a new flow with hash `h`, for external or internal
  // traffic; nullptr: no usable endpoint (reject). Thread: any.
  const Endpoint* pick(bool external, uint64_t h) const {
    const Maglev& m = external ? *external_ : *internal_;
    const int i = m.lookup(h);
    return i < 0 ? nullptr : &spec_.endpoints[usable_indices(external)[static_cast<size_t>(i)]];
  }
  // Whether `e` (an element of endpoints()) may take new flows of external
  // or internal traffic. Thread: any.
  bool usable(bool external, const Endpoint& e) const;
  bool has_usable(bool external) const { return !(external ? *external_ : *internal_).empty(); }
  // has_any_endpoint() of its endpoints: when pick() finds none, reject
  // (false) or drop (true). Thread: any.
  bool has_any_endpoint() const { return has_any_; }
  // Whether `src` may reach front end `kind` (loadBalancerSourceRanges).
  // Thread: any.
  bool source_allowed(Frontend kind, const Addr& src) const;
  // The same for a flow that reached address `vip`. Thread: any.
  bool source_allowed(const Addr& vip, const Addr& src) const;
  // The Maglev table new flows of external or internal traffic use.
  const Maglev& table(bool external) const { return external ? *external_ : *internal_; }

  // The endpoint at (addr, port), in whatever state, if it is still part
  // of the service. Thread: any.
  const Endpoint* find(const Addr& addr, be16 port) const;

  // Whether the tables are shared with the previous generation (for tests
  // and the control thread's accounting).
  bool reused_tables() const { return reused_; }

 private:
  const std::pmr::vector<uint32_t>& usable_indices(bool external) const {
    return external ? ext_usable_ : int_usable_;
  }
  static std::shared_ptr<const Maglev> build(const std::vector<Endpoint>& eps, std::span<const uint32_t> usable,
                                             uint32_t maglev_max, std::pmr::memory_resource* memory);

  ServiceSpec spec_;
  std::pmr::vector<uint32_t> int_usable_, ext_usable_;
  std::shared_ptr<const Maglev> internal_, external_;
  bool has_any_ = false;
  bool reused_ = false;
};
using Service = BasicService<Ip4>;
using Service6 = BasicService<Ip6>;

// What becomes of an established flow when the tables change (the rules
// kube-proxy and Cilium have open bugs about: kubernetes #19029 #59368,
// cilium #32472 #23761).
enum class FlowVerdict : uint8_t {
  kKeep,       // its endpoint is still in the service (terminating included; UDP: still serving)
  kRebalance,  // UDP whose endpoint left or stopped serving: move it to a live endpoint
  kReset,      // TCP/SCTP whose endpoint left: end it (client gets a RST)
  kReject,     // the endpoint left and no live endpoint remains
};

// A superset of every Service endpoint (address, port, protocol) any
// generation has had, never cleared, shared by all generations. It tells
// the dataplane which packets may be replies of a translated flow, so that
// other pod traffic skips conntrack; a false positive only costs a
// conntrack lookup. Two levels: a bitmap of the ports endpoints serve on
// per protocol (8 KiB each, stays in L1: a client's ephemeral source port
// is rejected there), then one bit per (address, port, protocol) hash
// (256 KiB: ~5 % false positives at 100 k endpoints). Bits are set by the
// control thread before the generation naming the endpoint is published.
template <Family F>
class BasicEndpointFilter {
 public:
  using Addr = typename F::Addr;
  static constexpr unsigned kBits = 21;
  // The address bitmap is allocated in `memory` (the heap if null).
  explicit BasicEndpointFilter(std::pmr::memory_resource* memory = nullptr) : words_(kWords, memory) {
    for (size_t i = 0; i < kWords; ++i) words_[i].store(0, std::memory_order_relaxed);
    for (auto& proto : ports_)
      for (auto& w : proto) w.store(0, std::memory_order_relaxed);
  }
  // Thread: control.
  void add(const Addr& addr, be16 port, uint8_t proto) {
    const uint64_t h = hash(addr, port, proto);
    words_[h >> 6].fetch_or(uint64_t{1} << (h & 63), std::memory_order_relaxed);
    ports_[proto == kUdp][port >> 6].fetch_or(uint64_t{1} << (port & 63), std::memory_order_relaxed);
  }
  // Thread: any.
  bool maybe(const Addr& addr, be16 port, uint8_t proto) const {
    if (!(ports_[proto == kUdp][port >> 6].load(std::memory_order_relaxed) >> (port & 63) & 1)) return false;
    const uint64_t h = hash(addr, port, proto);
    return words_[h >> 6].load(std::memory_order_relaxed) >> (h & 63) & 1;
  }

 private:
  static constexpr size_t kWords = (size_t{1} << kBits) / 64;
  static uint64_t hash(const Addr& addr, be16 port, uint8_t proto) {
    if constexpr (std::is_same_v<F, Ip4>) {
      return mix64(uint64_t{addr} << 24 | uint64_t{port} << 8 | proto) >> (64 - kBits);
    } else {
      return mix64(addr_hash(addr) ^ (uint64_t{port} << 8 | proto)) >> (64 - kBits);
    }
  }
  TableArray<std::atomic<uint64_t>> words_;
  std::array<std::array<std::atomic<uint64_t>, 1024>, 2> ports_;  // [TCP/SCTP, UDP][port / 64]
};
using EndpointFilter = BasicEndpointFilter<Ip4>;
using EndpointFilter6 = BasicEndpointFilter<Ip6>;

// The front-end key of the lookup hash: address, port and protocol, and
// a byte that tells a used slot from an empty one (for IPv4 the whole key
// is one 64-bit word).
template <Family F>
struct FrontendKey {
  typename F::Addr vip{};
  be16 port = 0;
  uint8_t proto = 0;
  uint8_t used = 0;
  // No padding: compared as bytes (one 64-bit compare for IPv4).
  bool operator==(const FrontendKey& o) const { return std::memcmp(this, &o, sizeof(*this)) == 0; }
};
static_assert(sizeof(FrontendKey<Ip4>) == 8 && sizeof(FrontendKey<Ip6>) == 20);

template <Family F>
class BasicServiceTable {
 public:
  using Addr = typename F::Addr;
  using Service = BasicService<F>;
  using ServiceSpec = BasicServiceSpec<F>;
  using FrontendAddr = BasicFrontendAddr<F>;
  struct Match {
    const Service* service;
    Frontend kind;
  };
  // A front end (address, port, protocol) two services claim. The API
  // server never allocates one ClusterIP twice, but a cluster file, a
  // deleted Service still in a slow watch, or external IPs (which nothing
  // allocates) can: the service created first keeps it, as the API
  // server's allocator would have it (then by namespace/name), and the
  // other loses that front end only.
  struct Conflict {
    FrontendAddr frontend;
    uint8_t proto;
    uint32_t kept, shadowed;  // service ids
  };

  // Builds a generation. `previous` lends Maglev tables of unchanged
  // services. What the workers read (front-end index, Maglev tables,
  // endpoint filter) is allocated in `memory`, the heap if null; the
  // dataplane gives hugepage memory. Thread: control.
  BasicServiceTable(std::vector<ServiceSpec> specs, uint64_t generation, uint32_t maglev_max = Maglev::kDefaultMaxSize,
                    const BasicServiceTable* previous = nullptr, std::pmr::memory_resource* memory = nullptr);
  // Already built services and what keeps them alive: the table reads
  // `items`, `owners` own them (the control thread shares them between
  // generations in chunks, so that a generation costs a pointer copy per
  // service, not a reference count on each: 10 k services' counts are
  // 10 k cache misses).
  struct Services {
    std::vector<const Service*> items;
    std::vector<std::shared_ptr<const void>> owners;
  };
  // A generation of already built services: those that did not change
  // are shared with the previous generation, not copied. When the front
  // ends are laid out as in `previous` (only endpoints changed, the common
  // case), its lookup index is copied instead of rebuilt. Thread: control.
  BasicServiceTable(Services services, uint64_t generation, const BasicServiceTable* previous = nullptr,
                    std::pmr::memory_resource* memory = nullptr);
  BasicServiceTable(std::vector<std::shared_ptr<const Service>> services, uint64_t generation,
                    const BasicServiceTable* previous = nullptr, std::pmr::memory_resource* memory = nullptr);

  // Whether `vip` may be a front-end address (a 512-byte bitmap, hot in
  // L1: most packets are to no front end). Thread: any.
  bool maybe_frontend(const Addr& vip) const {
    const uint32_t b = vip_bit(vip);
    return vip_filter_[b >> 6] >> (b & 63) & 1;
  }

  // The service a destination belongs to. Thread: any.
  std::optional<Match> lookup(const Addr& vip, be16 port, uint8_t proto) const {
    if (!maybe_frontend(vip)) return std::nullopt;
    const Key key{vip, port, proto, 1};
    const Index& ix = *index_;
    for (size_t i = key_hash(key) & ix.mask;; i = (i + 1) & ix.mask) {
      const Slot& s = ix.slots[i];
      if (s.key == key) return Match{services_[s.service], s.kind};
      if (!s.key.used) return std::nullopt;
    }
  }

  // By stable id, or nullptr when the service is gone. Thread: any.
  const Service* by_id(uint32_t id) const;

  // The verdict for a flow of `proto` pinned to (addr, port) of service
  // `id`. Thread: any.
  FlowVerdict check_flow(uint32_t id, const Addr& addr, be16 port, uint8_t proto, bool external) const;

  // Whether (addr, port) may be an endpoint of a `proto` service, in this
  // generation or an earlier one. Thread: any.
  bool maybe_endpoint(const Addr& addr, be16 port, uint8_t proto) const { return filter_->maybe(addr, port, proto); }

  uint64_t generation() const { return generation_; }
  size_t size() const { return services_.size(); }
  // One above the largest service id in this table (0 when empty).
  uint32_t id_bound() const { return static_cast<uint32_t>(index_->by_id.size()); }
  std::span<const Service* const> services() const { return services_; }
  size_t reused_tables() const;
  const std::vector<Conflict>& conflicts() const { return index_->conflicts; }

 private:
  using Key = FrontendKey<F>;
  static uint32_t vip_bit(const Addr& vip) {
    if constexpr (std::is_same_v<F, Ip4>) {
      return static_cast<uint32_t>((uint64_t{vip} * 0x9e3779b97f4a7c15ull) >> 52);
    } else {
      return static_cast<uint32_t>(addr_hash(vip) >> 52);
    }
  }
  static uint64_t key_hash(const Key& k) {
    if constexpr (std::is_same_v<F, Ip4>) {
      return mix64(std::bit_cast<uint64_t>(k));
    } else {
      return fold_hash(k);
    }
  }
  struct Slot {
    Key key{};
    uint32_t service = 0;
    Frontend kind = Frontend::kClusterIp;
  };

  // The front-end hash and the id index: shared by the generations
  // whose front ends are laid out alike (a change of endpoints only), so
  // such a generation copies a pointer, not 512 KiB at 10 k services.
  struct Index {
    explicit Index(std::pmr::memory_resource* memory) : slots(memory), by_id(memory) {}
    std::pmr::vector<Slot> slots;
    size_t mask = 0;
    std::pmr::vector<uint32_t> by_id;  // id → index in services_ (ids are dense), kNoIndex if none
    std::vector<Conflict> conflicts;
  };

  void index(std::pmr::memory_resource* memory);
  bool same_layout(const BasicServiceTable& o) const;
  // Shares the previous generation's endpoint filter (or starts one) and
  // adds the endpoints of services that are not shared with it.
  void filter_endpoints(const BasicServiceTable* previous, std::pmr::memory_resource* memory);

  uint64_t generation_;
  std::pmr::vector<const Service*> services_;
  std::vector<std::shared_ptr<const void>> owners_;  // keep services_ alive
  std::shared_ptr<const Index> index_;
  std::array<uint64_t, 64> vip_filter_{};  // bit vip_bit(a) set for every front-end address a
  std::shared_ptr<BasicEndpointFilter<F>> filter_;
  static constexpr uint32_t kNoIndex = UINT32_MAX;
};
using ServiceTable = BasicServiceTable<Ip4>;
using ServiceTable6 = BasicServiceTable<Ip6>;

extern template class BasicService<Ip4>;
extern template class BasicService<Ip6>;
extern template class BasicServiceTable<Ip4>;
extern template class BasicServiceTable<Ip6>;

}  // namespace svcdp::lb
