// Pipeline tests of the load-balancing stage: Service traffic through the
// real worker over net_ring ports. Each test publishes services, sends
// frames a client, an endpoint or an external host would send, and compares
// the exact bytes that come out with frames built independently.
#include "control/service_builder.h"
#include "control/service_list.h"
#include "dataplane/testing/pipeline.h"
#include "dns/testing/wire.h"

#include <rte_byteorder.h>

#include <set>

namespace svcdp::dp {
namespace {

constexpr uint32_t kPod3 = ip4(10, 244, 1, 12);
constexpr Mac kPod3Mac = {0x02, 0x5d, 0, 0, 0x01, 0x0c};
constexpr uint32_t kExt = ip4(192, 168, 56, 100);  // a host beside the node on the uplink
constexpr Mac kExtMac = {0x02, 0x5d, 0, 0, 0x09, 0x01};
constexpr uint32_t kVip = ip4(10, 96, 0, 10);
constexpr uint32_t kLbIp = ip4(192, 168, 56, 200);
constexpr uint16_t kNodePort = 30080;
constexpr uint8_t kSyn = 0x02, kAck = 0x10, kRst = 0x04, kFin = 0x01;

lb::Endpoint endpoint(uint32_t ip, uint16_t port, bool local) {
  lb::Endpoint e;
  e.addr = rte_cpu_to_be_32(ip);
  e.port = rte_cpu_to_be_16(port);
  e.local = local;
  if (!local) e.vtep = rte_cpu_to_be_32(kRemoteIp);
  return e;
}

// default/web: VIP:80 (and NodePort 30080, LoadBalancer IP) → endpoints:8080.
lb::ServiceSpec web(std::vector<lb::Endpoint> eps, uint8_t proto = lb::kTcp) {
  lb::ServiceSpec s;
  s.id = 1;
  s.ns = "default";
  s.name = "web";
  s.proto = proto;
  const uint16_t port = 80;
  s.frontends = {{rte_cpu_to_be_32(kVip), rte_cpu_to_be_16(port), lb::Frontend::kClusterIp},
                 {rte_cpu_to_be_32(kNodeIp), rte_cpu_to_be_16(kNodePort), lb::Frontend::kNodePort},
                 {rte_cpu_to_be_32(kLbIp), rte_cpu_to_be_16(port), lb::Frontend::kLoadBalancerIp}};
  s.endpoints = std::move(eps);
  return s;
}

class LbPipeline : public Pipeline {
 protected:
  void SetUp() override {
    Pipeline::SetUp();
    pod_arps_gateway(kPod, kPodMac);
    pod_arps_gateway(kPod2, kPod2Mac);
    pod_arps_gateway(kPod3, kPod3Mac);
  }

  // Publishes the next generation with these services (as a reload does:
  // the previous table lends its Maglev tables).
  void publish(std::vector<lb::ServiceSpec> specs) {
    auto fib = node_fib(++gen_);
    auto table = std::make_shared<const lb::ServiceTable>(std::move(specs), gen_, lb::Maglev::kDefaultMaxSize,
                                                          table_.get());
    control::ServiceList list;  // what TableBuilder announces for these services
    for (const lb::Service* s : table->services())
      list.replace({}, std::vector<control::ServiceList::Ptr>{std::shared_ptr<const lb::Service>(table, s)});
    fib->announced = list.announced();
    fib->services = table_ = table;
    h_->dataplane().publish(std::move(fib));
  }

  // One frame in, the frames out of `out`.
  std::vector<Bytes> through(Role in, const Bytes& frame, Role out) {
    inject(in, frame);
    run(1);
    return sent(out);
  }

  // svcdp asks for `ip` on the uplink; the host answers.
  void uplink_host_answers_arp(uint32_t ip, const Mac& mac) {
    auto req = sent(Role::UPLINK);
    ASSERT_EQ(req.size(), 1u);
    EXPECT_EQ(req[0],
              Frame().eth(testing::kBroadcast, up_mac_, 0x0806).arp(1, up_mac_, kNodeIp, kZero, ip).pad_to(60).build());
    inject(Role::UPLINK, Frame().eth(up_mac_, mac, 0x0806).arp(2, mac, ip, up_mac_, kNodeIp).build());
    run();
  }

  Bytes from_pod(uint32_t src, const Mac& mac, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags,
                 size_t payload = 0) const {
    return Frame().eth(pods_mac_, mac, 0x0800).ipv4(src, dst, 6, 64).tcp(sport, dport, flags).payload(payload).build();
  }
  Bytes udp_from_pod(uint32_t src, const Mac& mac, uint32_t dst, uint16_t sport, uint16_t dport) const {
    return Frame().eth(pods_mac_, mac, 0x0800).ipv4(src, dst, 17, 64).udp(sport, dport, true).payload(32).build();
  }
  // The frame svcdp should emit on the pods port to `mac`.
  Bytes to_pod(const Mac& mac, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags,
               size_t payload = 0) const {
    return Frame().eth(mac, pods_mac_, 0x0800).ipv4(src, dst, 6, 63).tcp(sport, dport, flags).payload(payload).build();
  }
  Bytes udp_to_pod(const Mac& mac, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) const {
    return Frame().eth(mac, pods_mac_, 0x0800).ipv4(src, dst, 17, 63).udp(sport, dport, true).payload(32).build();
  }

  // Destination address of an IPv4 frame, host order.
  static uint32_t ip_dst(const Bytes& f) { return uint32_t{f[30]} << 24 | f[31] << 16 | f[32] << 8 | f[33]; }
  static uint32_t ip_src(const Bytes& f) { return uint32_t{f[26]} << 24 | f[27] << 16 | f[28] << 8 | f[29]; }
  static uint16_t sport(const Bytes& f) { return static_cast<uint16_t>(f[34] << 8 | f[35]); }

  const ServiceCounters& service(uint32_t id) {
    svc_ = h_->dataplane().service_totals();
    return svc_.at(id);
  }

  uint64_t gen_ = 1;
  std::shared_ptr<const lb::ServiceTable> table_;
  std::vector<ServiceCounters> svc_;
};

TEST_F(LbPipeline, ClusterIpToALocalEndpointAndBack) {
  publish({web({endpoint(kPod2, 8080, true)})});
  auto out = through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kSyn), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  Bytes want = to_pod(kPod2Mac, kPod, kPod2, 40000, 8080, kSyn);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);

  out = through(Role::PODS, from_pod(kPod2, kPod2Mac, kPod, 8080, 40000, kSyn | kAck), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  want = to_pod(kPodMac, kVip, kPod, 80, 40000, kSyn | kAck);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);

  out = through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kAck, 500), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], to_pod(kPod2Mac, kPod, kPod2, 40000, 8080, kAck, 500));
  EXPECT_EQ(totals().lb_new_flows, 1u);
  EXPECT_EQ(totals().lb_forward, 2u);
  EXPECT_EQ(totals().lb_reply, 1u);
  EXPECT_EQ(service(1).new_flows, 1u);
  EXPECT_EQ(service(1).packets, 3u);
}

TEST_F(LbPipeline, ClusterIpToARemoteEndpointOverVxlanAndBack) {
  publish({web({endpoint(kRemotePod, 8080, false)})});
  inject(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kSyn));
  run();
  remote_answers_arp();
  auto out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  const Bytes inner = Frame().eth(kRemoteVtepMac, up_mac_, 0x0800).ipv4(kPod, kRemotePod, 6, 63).tcp(40000, 8080, kSyn).build();
  ASSERT_GT(out[0].size(), inner.size());
  EXPECT_EQ(Bytes(out[0].end() - static_cast<long>(inner.size()), out[0].end()), inner);

  // The endpoint's answer comes back encapsulated by node-b.
  const Bytes reply_inner =
      Frame().eth(up_mac_, kRemoteVtepMac, 0x0800).ipv4(kRemotePod, kPod, 6, 64).tcp(8080, 40000, kSyn | kAck).build();
  out = through(Role::UPLINK,
                from_tunnel(reply_inner),
                Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], to_pod(kPodMac, kVip, kPod, 80, 40000, kSyn | kAck));
}

TEST_F(LbPipeline, NodePortWithClusterPolicyIsMasqueraded) {
  publish({web({endpoint(kPod2, 8080, true)})});
  auto out = through(Role::UPLINK,
                     Frame().eth(up_mac_, kExtMac, 0x0800).ipv4(kExt, kNodeIp, 6, 64).tcp(50000, kNodePort, kSyn).build(),
                     Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const uint16_t snat_port = sport(out[0]);
  EXPECT_GE(snat_port, 1024);
  EXPECT_EQ(out[0], to_pod(kPod2Mac, kPodGw, kPod2, snat_port, 8080, kSyn)) << "source: the node's pod-network address";

  // The endpoint answers its gateway; svcdp sends it to the client from the NodePort.
  inject(Role::PODS, from_pod(kPod2, kPod2Mac, kPodGw, 8080, snat_port, kSyn | kAck));
  run();
  uplink_host_answers_arp(kExt, kExtMac);
  out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  const Bytes want =
      Frame().eth(kExtMac, up_mac_, 0x0800).ipv4(kNodeIp, kExt, 6, 63).tcp(kNodePort, 50000, kSyn | kAck).build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
}

TEST_F(LbPipeline, NodePortWithLocalPolicyKeepsTheClientAddress) {
  auto s = web({endpoint(kPod2, 8080, true), endpoint(kRemotePod, 8080, false)});
  s.external_policy = lb::TrafficPolicy::kLocal;
  publish({s});
  for (uint16_t p = 50000; p < 50016; ++p) {
    auto out = through(Role::UPLINK,
                       Frame().eth(up_mac_, kExtMac, 0x0800).ipv4(kExt, kNodeIp, 6, 64).tcp(p, kNodePort, kSyn).build(),
                       Role::PODS);
    ASSERT_EQ(out.size(), 1u) << "only the local endpoint takes external traffic";
    EXPECT_EQ(out[0], to_pod(kPod2Mac, kExt, kPod2, p, 8080, kSyn));
  }
}

// pkg/proxy/nftables/proxier.go: Local policy and endpoints only on other
// nodes: the packet is dropped ("has no local endpoints"), no RST; a
// pod's packet to the same NodePort takes the cluster-wide endpoints (the
// local-traffic short-circuit).
TEST_F(LbPipeline, NodePortWithLocalPolicyAndNoLocalEndpointDropsWithoutReset) {
  auto s = web({endpoint(kRemotePod, 8080, false)});
  s.external_policy = lb::TrafficPolicy::kLocal;
  publish({s});
  auto out = through(Role::UPLINK,
                     Frame().eth(up_mac_, kExtMac, 0x0800).ipv4(kExt, kNodeIp, 6, 64).tcp(50000, kNodePort, kSyn).build(),
                     Role::UPLINK);
  EXPECT_TRUE(out.empty()) << "no RST";
  EXPECT_EQ(drops(Drop::kLbNoLocalEndpoint), 1u);
  EXPECT_EQ(totals().lb_rejected, 0u);
  inject(Role::PODS, from_pod(kPod, kPodMac, kNodeIp, 40000, kNodePort, kSyn));
  run(1);
  EXPECT_EQ(totals().vxlan_encap, 1u) << "a pod reaches the remote endpoint";
}

// CRC32c bit by bit (RFC 9260 appendix A), as an oracle independent of
// the crc32 instruction svcdp uses.
uint32_t crc32c(const Bytes& b, size_t from) {
  uint32_t crc = 0xffffffff;
  for (size_t i = from; i < b.size(); ++i) {
    crc ^= b[i];
    for (int k = 0; k < 8; ++k) crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
  }
  return ~crc;
}

// An SCTP packet (common header, then one chunk) with a valid checksum.
Bytes sctp_frame(const Mac& dst_mac, const Mac& src_mac, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                 uint8_t ttl) {
  Bytes sctp = {static_cast<uint8_t>(sport >> 8), static_cast<uint8_t>(sport), static_cast<uint8_t>(dport >> 8),
                static_cast<uint8_t>(dport), 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0};
  const Bytes chunk = {1, 0, 0, 20, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0xff, 0xff, 0, 1, 0, 1, 0, 0, 0, 1};  // INIT
  sctp.insert(sctp.end(), chunk.begin(), chunk.end());
  const uint32_t crc = crc32c(sctp, 0);
  for (int i = 0; i < 4; ++i) sctp[8 + i] = static_cast<uint8_t>(crc >> (8 * i));  // least significant byte first
  return Frame().eth(dst_mac, src_mac, 0x0800).ipv4(src, dst, 132, ttl).raw(sctp).build();
}

bool sctp_checksum_ok(const Bytes& f) {
  Bytes copy(f.begin() + 34, f.end());
  const uint32_t stored = copy[8] | copy[9] << 8 | copy[10] << 16 | static_cast<uint32_t>(copy[11]) << 24;
  copy[8] = copy[9] = copy[10] = copy[11] = 0;
  return crc32c(copy, 0) == stored;
}

// SCTP Services translated (pkg/proxy: SCTP like TCP/UDP): ports rewritten
// and the CRC32c computed again; the reply translated back.
TEST_F(LbPipeline, SctpClusterIpToAnEndpointAndBack) {
  EXPECT_EQ(crc32c(Bytes{'1', '2', '3', '4', '5', '6', '7', '8', '9'}, 0), 0xe3069283u) << "the oracle itself";
  publish({web({endpoint(kPod2, 38412, true)}, lb::kSctp)});
  auto out = through(Role::PODS, sctp_frame(pods_mac_, kPodMac, kPod, kVip, 40000, 80, 64), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ip_dst(out[0]), kPod2);
  EXPECT_EQ(out[0][36] << 8 | out[0][37], 38412) << "destination port";
  EXPECT_TRUE(sctp_checksum_ok(out[0])) << testing::hexdump_diff(out[0], out[0]);
  out = through(Role::PODS, sctp_frame(pods_mac_, kPod2Mac, kPod2, kPod, 38412, 40000, 64), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ip_src(out[0]), kVip);
  EXPECT_EQ(sport(out[0]), 80);
  EXPECT_TRUE(sctp_checksum_ok(out[0]));
  EXPECT_EQ(totals().lb_reply, 1u);
}

class LbPipelineAnnouncing : public LbPipeline {
 protected:
  bool announce_lb_ips() const override { return true; }
};

// Without --announce-lb-ips the ARP request is not svcdp's to answer (the
// node's kernel, where MetalLB's or keepalived's speaker runs, gets it),
// yet traffic to the LB IP is served.
TEST_F(LbPipeline, LoadBalancerIpIsLeftToTheSpeakerAndServed) {
  publish({web({endpoint(kPod2, 8080, true)})});
  auto out = through(Role::UPLINK,
                     Frame().eth(testing::kBroadcast, kExtMac, 0x0806).arp(1, kExtMac, kExt, kZero, kLbIp).pad_to(60).build(),
                     Role::UPLINK);
  EXPECT_TRUE(out.empty());
  out = through(Role::UPLINK,
                Frame().eth(up_mac_, kExtMac, 0x0800).ipv4(kExt, kLbIp, 6, 64).tcp(50000, 80, kSyn).build(), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ip_dst(out[0]), kPod2);
}

// loadBalancerSourceRanges (pkg/proxy/nftables/proxier.go, the firewall
// check): the LB IP takes only sources in the ranges, the NodePort is not
// filtered; a flow whose client a new range leaves out ends.
TEST_F(LbPipeline, LoadBalancerSourceRangesFilterTheLbIpOnly) {
  auto s = web({endpoint(kPod2, 8080, true)});
  s.source_ranges = {{lb::to_be32(kExt & 0xffffff00u), 24}};
  publish({s});
  const Bytes syn = Frame().eth(up_mac_, kExtMac, 0x0800).ipv4(kExt, kLbIp, 6, 64).tcp(50000, 80, kSyn).build();
  ASSERT_EQ(through(Role::UPLINK, syn, Role::PODS).size(), 1u) << "inside the range";
  const Bytes ack = Frame().eth(up_mac_, kExtMac, 0x0800).ipv4(kExt, kLbIp, 6, 64).tcp(50000, 80, kAck).build();
  s.source_ranges = {{lb::to_be32(0x0a000000u), 8}};  // the client is outside it now
  publish({s});
  EXPECT_TRUE(through(Role::UPLINK, ack, Role::PODS).empty()) << "its flow ends";
  EXPECT_TRUE(through(Role::UPLINK, syn, Role::PODS).empty());
  EXPECT_EQ(drops(Drop::kLbSourceRange), 2u);
  const Bytes to_nodeport =
      Frame().eth(up_mac_, kExtMac, 0x0800).ipv4(kExt, kNodeIp, 6, 64).tcp(50001, kNodePort, kSyn).build();
  EXPECT_EQ(through(Role::UPLINK, to_nodeport, Role::PODS).size(), 1u) << "NodePorts are not filtered";
}

TEST_F(LbPipelineAnnouncing, LoadBalancerIpIsAnnouncedAndServed) {
  publish({web({endpoint(kPod2, 8080, true)})});
  auto out = through(Role::UPLINK,
                     Frame().eth(testing::kBroadcast, kExtMac, 0x0806).arp(1, kExtMac, kExt, kZero, kLbIp).pad_to(60).build(),
                     Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Frame().eth(kExtMac, up_mac_, 0x0806).arp(2, up_mac_, kLbIp, kExtMac, kExt).pad_to(60).build());
  out = through(Role::UPLINK,
                Frame().eth(up_mac_, kExtMac, 0x0800).ipv4(kExt, kLbIp, 6, 64).tcp(50000, 80, kSyn).build(), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(ip_dst(out[0]), kPod2);
  EXPECT_EQ(ip_src(out[0]), kPodGw);
}

// No fixed cap on service ports: an id far beyond the first chunk of
// per-worker counters is served and counted (the counters grow before
// the generation using it is published).
TEST_F(LbPipeline, AServicePortWithAnIdBeyondTheFirstCountersIsServedAndCounted) {
  lb::ServiceSpec s = web({endpoint(kPod2, 8080, true)});
  s.id = 100'000;
  publish({s});
  auto out = through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kSyn), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], to_pod(kPod2Mac, kPod, kPod2, 40000, 8080, kSyn));
  EXPECT_EQ(service(100'000).new_flows, 1u);
  EXPECT_EQ(service(100'000).packets, 1u);
}

TEST_F(LbPipeline, APodReachingItselfThroughItsServiceIsMasqueraded) {
  publish({web({endpoint(kPod2, 8080, true)})});
  auto out = through(Role::PODS, from_pod(kPod2, kPod2Mac, kVip, 40000, 80, kSyn), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const uint16_t snat_port = sport(out[0]);
  EXPECT_EQ(out[0], to_pod(kPod2Mac, kPodGw, kPod2, snat_port, 8080, kSyn)) << "else it would answer itself";
  out = through(Role::PODS, from_pod(kPod2, kPod2Mac, kPodGw, 8080, snat_port, kSyn | kAck), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], to_pod(kPod2Mac, kVip, kPod2, 80, 40000, kSyn | kAck));
}

TEST_F(LbPipeline, AClashingReplyTupleGetsANewSourcePort) {
  auto other = web({endpoint(kPod2, 8080, true)});
  other.id = 2;
  other.frontends = {{rte_cpu_to_be_32(kVip + 1), rte_cpu_to_be_16(80), lb::Frontend::kClusterIp}};
  publish({web({endpoint(kPod2, 8080, true)}), other});
  through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kSyn), Role::PODS);
  // Same client port, another VIP, same endpoint: its replies would look
  // like the first flow's.
  auto out = through(Role::PODS, from_pod(kPod, kPodMac, kVip + 1, 40000, 80, kSyn), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const uint16_t port = sport(out[0]);
  EXPECT_NE(port, 40000);
  EXPECT_EQ(out[0], to_pod(kPod2Mac, kPod, kPod2, port, 8080, kSyn)) << "client address kept, port remapped";
  out = through(Role::PODS, from_pod(kPod2, kPod2Mac, kPod, 8080, port, kSyn | kAck), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], to_pod(kPodMac, kVip + 1, kPod, 80, 40000, kSyn | kAck));
}

TEST_F(LbPipeline, ASynReusingAClosedFlowsTupleIsANewConnection) {
  publish({web({endpoint(kPod2, 8080, true)})});
  through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kSyn), Role::PODS);
  through(Role::PODS, from_pod(kPod2, kPod2Mac, kPod, 8080, 40000, kSyn | kAck), Role::PODS);
  through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kFin | kAck), Role::PODS);
  through(Role::PODS, from_pod(kPod2, kPod2Mac, kPod, 8080, 40000, kFin | kAck), Role::PODS);
  publish({web({endpoint(kPod3, 8080, true)})});  // the old endpoint left meanwhile
  auto out = through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kSyn), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], to_pod(kPod3Mac, kPod, kPod3, 40000, 8080, kSyn)) << "not a RST for the old flow";
  EXPECT_EQ(totals().lb_reset, 0u);
}

TEST_F(LbPipeline, AClosingFlowWhoseEndpointLeftFinishesWithoutReset) {
  publish({web({endpoint(kPod2, 8080, true)})});
  through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kSyn), Role::PODS);
  through(Role::PODS, from_pod(kPod2, kPod2Mac, kPod, 8080, 40000, kSyn | kAck), Role::PODS);
  through(Role::PODS, from_pod(kPod2, kPod2Mac, kPod, 8080, 40000, kFin | kAck), Role::PODS);
  publish({web({endpoint(kPod3, 8080, true)})});
  auto out = through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kFin | kAck), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], to_pod(kPod2Mac, kPod, kPod2, 40000, 8080, kFin | kAck)) << "the last FIN still reaches it";
  EXPECT_EQ(totals().lb_reset, 0u);
}

TEST_F(LbPipeline, ServiceWithoutEndpointsRejectsAtOnce) {
  publish({web({}), web({}, lb::kUdp)});
  auto out = through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kSyn), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes rst =
      Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kVip, kPod, 6, 64, true).tcp(80, 40000, kRst | kAck, 0, 1001, 0).build();
  EXPECT_EQ(out[0], rst) << testing::hexdump_diff(out[0], rst);

  out = through(Role::PODS, udp_from_pod(kPod, kPodMac, kVip, 40000, 80), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_GE(out[0].size(), 36u);
  EXPECT_EQ(out[0][23], 1) << "ICMP";
  EXPECT_EQ(out[0][34], 3) << "destination unreachable";
  EXPECT_EQ(out[0][35], 3) << "port unreachable";
  EXPECT_EQ(ip_src(out[0]), kVip);
  EXPECT_EQ(totals().lb_rejected, 2u);
  EXPECT_EQ(service(1).rejected, 2u);
}

TEST_F(LbPipeline, OnlyTerminatingEndpointsStillServe) {
  auto e = endpoint(kPod2, 8080, true);
  e.ready = false;
  e.terminating = true;
  publish({web({e})});
  auto out = through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kSyn), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], to_pod(kPod2Mac, kPod, kPod2, 40000, 8080, kSyn));
}

TEST_F(LbPipeline, ReloadKeepingTheEndpointKeepsTheFlow) {
  publish({web({endpoint(kPod2, 8080, true)})});
  through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kSyn), Role::PODS);
  publish({web({endpoint(kPod2, 8080, true), endpoint(kPod3, 8080, true)})});
  for (int i = 0; i < 10; ++i) {
    auto out = through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kAck, 100), Role::PODS);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], to_pod(kPod2Mac, kPod, kPod2, 40000, 8080, kAck, 100));
  }
}

// After a restart (no entry), a mid-stream segment is taken up by the
// endpoint Maglev gives, and the endpoint's reply is translated back.
TEST_F(LbPipeline, MidStreamSegmentWithoutAnEntryIsTakenUp) {
  publish({web({endpoint(kPod2, 8080, true)})});
  auto out = through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kAck, 100), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], to_pod(kPod2Mac, kPod, kPod2, 40000, 8080, kAck, 100));
  out = through(Role::PODS, from_pod(kPod2, kPod2Mac, kPod, 8080, 40000, kAck, 10), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], to_pod(kPodMac, kVip, kPod, 80, 40000, kAck, 10));
  EXPECT_EQ(totals().lb_picked_up, 1u);
  EXPECT_EQ(totals().lb_new_flows, 0u);
}

TEST_F(LbPipeline, TcpFlowWhoseEndpointLeftIsReset) {
  publish({web({endpoint(kPod2, 8080, true)})});
  through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kSyn), Role::PODS);
  publish({web({endpoint(kPod3, 8080, true)})});
  auto out = through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kAck, 100), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0][47], kRst) << "RST from the service address";
  EXPECT_EQ(ip_src(out[0]), kVip);
  EXPECT_EQ(totals().lb_reset, 1u);
  // The flow is gone: a stray segment of it is taken up by the live
  // endpoint (whose kernel answers it with a RST), as Katran would.
  out = through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kAck, 100), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], to_pod(kPod3Mac, kPod, kPod3, 40000, 8080, kAck, 100));
  EXPECT_EQ(totals().lb_picked_up, 1u);
}

// kube-proxy clears the conntrack of a UDP endpoint that stops serving
// (a dead CoreDNS pod turning ready: false): the flow's next datagram goes
// to a live endpoint. A TCP flow stays on its listed endpoint.
TEST_F(LbPipeline, UdpFlowWhoseEndpointStopsServingMovesToALiveOne) {
  publish({web({endpoint(kPod2, 5353, true)}, lb::kUdp)});
  auto out = through(Role::PODS, udp_from_pod(kPod, kPodMac, kVip, 40000, 80), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], udp_to_pod(kPod2Mac, kPod, kPod2, 40000, 5353));
  auto dead = endpoint(kPod2, 5353, true);
  dead.ready = dead.serving = false;
  publish({web({dead, endpoint(kPod3, 5353, true)}, lb::kUdp)});
  out = through(Role::PODS, udp_from_pod(kPod, kPodMac, kVip, 40000, 80), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], udp_to_pod(kPod3Mac, kPod, kPod3, 40000, 5353));
  EXPECT_EQ(totals().lb_rebalanced, 1u);
}

// Two-phase removal: the answer to a query sent just before the endpoint
// left is still delivered, translated.
TEST_F(LbPipeline, ReplyInFlightWhenTheEndpointLeftIsDelivered) {
  publish({web({endpoint(kPod2, 5353, true)}, lb::kUdp)});
  through(Role::PODS, udp_from_pod(kPod, kPodMac, kVip, 40000, 80), Role::PODS);
  publish({web({endpoint(kPod3, 5353, true)}, lb::kUdp)});
  auto out = through(Role::PODS, udp_from_pod(kPod2, kPod2Mac, kPod, 5353, 40000), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], udp_to_pod(kPodMac, kVip, kPod, 80, 40000));
  EXPECT_EQ(totals().lb_grace_replies, 1u);
  EXPECT_EQ(drops(Drop::kLbEndpointGone), 0u);
}

TEST_F(LbPipeline, UdpFlowWhoseEndpointLeftMovesToALiveOne) {
  publish({web({endpoint(kPod2, 5353, true)}, lb::kUdp)});
  auto out = through(Role::PODS, udp_from_pod(kPod, kPodMac, kVip, 40000, 80), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], udp_to_pod(kPod2Mac, kPod, kPod2, 40000, 5353));
  publish({web({endpoint(kPod3, 5353, true)}, lb::kUdp)});
  for (int i = 0; i < 3; ++i) {
    out = through(Role::PODS, udp_from_pod(kPod, kPodMac, kVip, 40000, 80), Role::PODS);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], udp_to_pod(kPod3Mac, kPod, kPod3, 40000, 5353));
  }
  EXPECT_EQ(totals().lb_rebalanced, 1u);
  // The new endpoint's answer is translated back.
  out = through(Role::PODS, udp_from_pod(kPod3, kPod3Mac, kPod, 5353, 40000), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], udp_to_pod(kPodMac, kVip, kPod, 80, 40000));
}

TEST_F(LbPipeline, SessionAffinityPinsAClient) {
  auto s = web({endpoint(kPod2, 8080, true), endpoint(kPod3, 8080, true)});
  auto spread = [&](bool affinity) {
    s.affinity_client_ip = affinity;
    s.id = affinity ? 2 : 3;
    publish({s});
    std::set<uint32_t> endpoints;
    const uint16_t base = affinity ? 41000 : 42000;  // new flows each time
    for (uint16_t p = base; p < base + 32; ++p) {
      auto out = through(Role::PODS, from_pod(kPod, kPodMac, kVip, p, 80, kSyn), Role::PODS);
      if (out.size() == 1) endpoints.insert(ip_dst(out[0]));
    }
    h_->discard_sent();
    return endpoints.size();
  };
  EXPECT_EQ(spread(true), 1u) << "32 connections of one client, one endpoint";
  EXPECT_EQ(spread(false), 2u) << "without affinity 32 flows use both (all on one: p = 2^-31)";
}

TEST_F(LbPipeline, FragmentsFollowTheFirstFragment) {
  publish({web({endpoint(kPod2, 5353, true)}, lb::kUdp)});
  through(Role::PODS, udp_from_pod(kPod, kPodMac, kVip, 40000, 80), Role::PODS);
  // A 1600-byte answer in two fragments; only the first has the ports.
  auto first = Frame().eth(pods_mac_, kPod2Mac, 0x0800).ipv4(kPod2, kPod, 17, 64).fragment(77, 0, true)
                   .udp(5353, 40000).payload(1000).build();
  auto second = Frame().eth(pods_mac_, kPod2Mac, 0x0800).ipv4(kPod2, kPod, 17, 64).fragment(77, 1008, false)
                    .payload(600, 9).build();
  auto out = through(Role::PODS, first, Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kVip, kPod, 17, 63).fragment(77, 0, true)
                        .udp(80, 40000).payload(1000).build());
  out = through(Role::PODS, second, Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes want = Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kVip, kPod, 17, 63).fragment(77, 1008, false)
                         .payload(600, 9).build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_EQ(totals().lb_fragments, 1u);
}

// Fragments of one datagram arrive back to back, in one burst: the stages
// run over vectors, and the later fragment still finds the translation
// its first left in the lb stage just before it; a UDP datagram sent
// right behind the first of a new flow (glibc's A and AAAA queries) joins
// that flow.
TEST_F(LbPipeline, FragmentsAndDatagramsInOneBurstFollowTheFirst) {
  publish({web({endpoint(kPod2, 5353, true)}, lb::kUdp)});
  inject(Role::PODS, udp_from_pod(kPod, kPodMac, kVip, 40000, 80));
  inject(Role::PODS, udp_from_pod(kPod, kPodMac, kVip, 40000, 80));
  run(1);
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], out[1]);
  EXPECT_EQ(totals().lb_new_flows, 1u);
  inject(Role::PODS, Frame().eth(pods_mac_, kPod2Mac, 0x0800).ipv4(kPod2, kPod, 17, 64).fragment(78, 0, true)
                         .udp(5353, 40000).payload(1000).build());
  inject(Role::PODS, Frame().eth(pods_mac_, kPod2Mac, 0x0800).ipv4(kPod2, kPod, 17, 64).fragment(78, 1008, false)
                         .payload(600, 9).build());
  run(1);
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kVip, kPod, 17, 63).fragment(78, 0, true)
                        .udp(80, 40000).payload(1000).build());
  EXPECT_EQ(out[1], Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kVip, kPod, 17, 63).fragment(78, 1008, false)
                        .payload(600, 9).build());
  EXPECT_EQ(totals().lb_fragments, 1u);
}

// 2000 fragment trains in flight at once (issue 13: 1,074 of the later
// fragments were lost at 2,000): the 8192-entry cache keeps every first
// fragment's translation; a later fragment to the VIP whose first is
// unknown is dropped under its own reason, not routed.
TEST_F(LbPipeline, ThousandsOfFragmentTrainsInFlightAllFollowTheirFirst) {
  publish({web({endpoint(kPod2, 5353, true)}, lb::kUdp)});
  auto train = [&](uint16_t i, bool first) {
    Frame f;
    f.eth(pods_mac_, kPodMac, 0x0800).ipv4(kPod, kVip, 17, 64).fragment(i, first ? 0 : 1008, first);
    if (first) f.udp(static_cast<uint16_t>(20000 + i), 80);
    return f.payload(first ? 1000 : 100).build();
  };
  constexpr uint16_t kTrains = 2000;
  size_t out = 0;
  for (bool first : {true, false})
    for (uint16_t i = 0; i < kTrains; ++i) {
      inject(Role::PODS, train(i, first));
      if (i % 32 == 31) {
        run(1);
        out += sent(Role::PODS).size();
      }
    }
  run(2);
  out += sent(Role::PODS).size();
  EXPECT_EQ(out, 2u * kTrains);
  EXPECT_EQ(totals().lb_fragments, kTrains);
  EXPECT_EQ(totals().frag_evicted, 0u);
  through(Role::PODS, train(kTrains + 1, false), Role::PODS);
  EXPECT_EQ(drops(Drop::kFragNoFirst), 1u);
  EXPECT_EQ(drops(Drop::kIpNoRoute), 0u);
}

TEST_F(LbPipeline, IcmpErrorAboutATranslatedFlowReachesTheClient) {
  publish({web({endpoint(kPod2, 5353, true)}, lb::kUdp)});
  through(Role::PODS, udp_from_pod(kPod, kPodMac, kVip, 40000, 80), Role::PODS);
  // The endpoint's kernel: port unreachable, quoting the packet it got.
  const Bytes quoted_in = Frame().ipv4(kPod, kPod2, 17, 63).udp(40000, 5353).payload(8).build();
  const Bytes quoted_out = Frame().ipv4(kPod, kVip, 17, 63).udp(40000, 80).payload(8).build();
  auto out = through(Role::PODS,
                     Frame().eth(pods_mac_, kPod2Mac, 0x0800).ipv4(kPod2, kPod, 1, 64).icmp(3, 3).raw(quoted_in).build(),
                     Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes want = Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kVip, kPod, 1, 63).icmp(3, 3).raw(quoted_out).build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_EQ(totals().lb_icmp_translated, 1u);
}

// Frames the stage refuses, each with its own counter.
struct Refused {
  const char* name;
  uint8_t tcp_flags;
  Drop reason;
};

class LbRefuses : public LbPipeline, public ::testing::WithParamInterface<Refused> {};

TEST_P(LbRefuses, WithANamedCounter) {
  publish({web({endpoint(kPod2, 8080, true)})});
  auto out = through(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, GetParam().tcp_flags), Role::PODS);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(drops(GetParam().reason), 1u);
}

// Headers no stack sends are refused before conntrack, each counted.
TEST_F(LbPipeline, MalformedTcpAndUdpHeadersNeverOpenAFlow) {
  publish({web({endpoint(kPod2, 8080, true)})});
  Bytes tcp = from_pod(kPod, kPodMac, kVip, 40000, 80, kSyn);
  tcp[14 + 20 + 12] = 0x40;  // data offset 4 words
  EXPECT_TRUE(through(Role::PODS, tcp, Role::PODS).empty());
  publish({web({endpoint(kPod2, 5353, true)}, lb::kUdp)});
  Bytes udp = udp_from_pod(kPod, kPodMac, kVip, 40000, 80);
  udp[14 + 20 + 4] = 0x01;  // UDP length 256 + ..., beyond the 40 bytes there
  EXPECT_TRUE(through(Role::PODS, udp, Role::PODS).empty());
  EXPECT_EQ(drops(Drop::kTcpBadOffset), 1u);
  EXPECT_EQ(drops(Drop::kUdpBadLength), 1u);
  EXPECT_EQ(totals().lb_new_flows, 0u);
}

INSTANTIATE_TEST_SUITE_P(Tcp, LbRefuses,
                         ::testing::Values(Refused{"syn_fin", kSyn | kFin, Drop::kTcpBadFlags},
                                           Refused{"syn_rst", kSyn | kRst, Drop::kTcpBadFlags},
                                           Refused{"no_flags", 0, Drop::kTcpBadFlags},
                                           Refused{"fin_without_ack", kFin, Drop::kTcpBadFlags},
                                           Refused{"rst_without_flow", kRst, Drop::kLbNoFlow},
                                           Refused{"rst_ack_without_flow", kRst | kAck, Drop::kLbNoFlow}),
                         [](const auto& p) { return std::string(p.param.name); });

// Two workers, each polling its own queue of every port (as RSS spreads
// flows on a NIC).
class LbPipelineTwoWorkers : public LbPipeline {
 protected:
  unsigned workers() const override { return 2; }
};

// One packet pool per socket with workers: both workers here run on the
// main lcore's socket, so they share its pool with the control thread.
TEST_F(LbPipelineTwoWorkers, WorkersFillFromThePoolOfTheirSocket) {
  const Dataplane& dp = h_->dataplane();
  for (unsigned w = 0; w < 2; ++w) {
    ASSERT_NE(dp.worker_pool(w), nullptr);
    EXPECT_EQ(dp.worker_pool(w)->socket_id, static_cast<int>(rte_socket_id()));
  }
  EXPECT_EQ(dp.worker_pool(0), dp.pool());
}

// sessionAffinity ClientIP: two workers receiving a client's first
// connections at the same moment each find no affinity entry yet, and
// must still agree. So the first choice depends on the client address
// alone: here one client reaches two services with the same endpoints
// (hence the same Maglev table) through two workers, with no affinity
// entry to share, and lands on the same endpoint every time. With a
// per-connection hash each of the 8 clients would split with probability
// 1/2.
TEST_F(LbPipelineTwoWorkers, FirstChoiceUnderAffinityDependsOnTheClientAlone) {
  auto a = web({endpoint(kPod2, 8080, true), endpoint(kPod3, 8080, true)});
  a.affinity_client_ip = true;
  auto b = a;
  b.id = 2;
  b.name = "web2";
  constexpr uint32_t kVip2 = ip4(10, 96, 0, 11);
  b.frontends = {{rte_cpu_to_be_32(kVip2), rte_cpu_to_be_16(80), lb::Frontend::kClusterIp}};
  publish({a, b});
  for (uint32_t c = 0; c < 8; ++c) {
    const uint32_t client = ip4(10, 244, 1, 100 + c);
    inject(Role::PODS, from_pod(client, kPodMac, kVip, 40000, 80, kSyn), 0);
    inject(Role::PODS, from_pod(client, kPodMac, kVip2, 40001 + 2 * c, 80, kSyn), 1);
    run(1);
    std::set<uint32_t> endpoints;
    const auto out = sent(Role::PODS);
    for (const Bytes& f : out) endpoints.insert(ip_dst(f));
    EXPECT_EQ(out.size(), 2u);
    EXPECT_EQ(endpoints.size(), 1u) << "client " << c << " got " << endpoints.size() << " endpoints";
  }
}

// The reply of a flow one worker created, received by the other, is
// translated back all the same.
TEST_F(LbPipelineTwoWorkers, ReplyOnTheOtherWorkerIsTranslated) {
  publish({web({endpoint(kPod2, 8080, true)})});
  inject(Role::PODS, from_pod(kPod, kPodMac, kVip, 40000, 80, kSyn), 0);
  run(1);
  ASSERT_EQ(sent(Role::PODS).size(), 1u);
  inject(Role::PODS, from_pod(kPod2, kPod2Mac, kPod, 8080, 40000, kSyn | kAck), 1);
  run(1);
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], to_pod(kPodMac, kVip, kPod, 80, 40000, kSyn | kAck));
}

// Cluster DNS in the worker: kube-system/kube-dns at kVip:53/UDP with
// CoreDNS at kPod3; the zone knows default/web (10.96.0.20).
class DnsPipeline : public LbPipeline {
 protected:
  void SetUp() override {
    LbPipeline::SetUp();
    publish_dns(nullptr);
  }
  void publish_dns(std::shared_ptr<const svcdp::dns::Policy> policy) {
    lb::ServiceSpec dns = web({endpoint(kPod3, 53, true)}, lb::kUdp);
    dns.ns = "kube-system";
    dns.name = "kube-dns";
    dns.frontends = {{rte_cpu_to_be_32(kVip), rte_cpu_to_be_16(53), lb::Frontend::kClusterIp}};
    auto fib = node_fib(++gen_);
    table_ = std::make_shared<const lb::ServiceTable>(std::vector<lb::ServiceSpec>{dns}, gen_,
                                                      lb::Maglev::kDefaultMaxSize, table_.get());
    fib->services = table_;
    auto records = std::make_shared<svcdp::dns::ServiceRecords>();
    records->name = "web";
    records->ns = "default";
    records->cluster_ips = {ip4(10, 96, 0, 20)};
    records->ports = {{"http", "tcp", 80}};
    svcdp::dns::ZoneConfig config;
    config.ns_address = kVip;
    fib->dns = std::make_shared<const svcdp::dns::Zone>(
        config, std::vector<std::shared_ptr<const svcdp::dns::ServiceRecords>>{records}, std::vector<std::string>{},
        1);
    fib->dns_addresses = {rte_cpu_to_be_32(kVip)};
    fib->dns_policy = std::move(policy);
    h_->dataplane().publish(std::move(fib));
  }
  Bytes query_frame(const Bytes& dns) const {
    return Frame().eth(pods_mac_, kPodMac, 0x0800).ipv4(kPod, kVip, 17, 64).udp(40000, 53, true).raw(dns).build();
  }
};

TEST_F(DnsPipeline, AClusterNameIsAnsweredByTheWorker) {
  const Bytes q = svcdp::dns::testing::query("web.default.svc.cluster.local", 1);
  auto out = through(Role::PODS, query_frame(q), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  Bytes answer = q;
  answer[2] = 0x85;  // QR AA RD
  answer[7] = 1;     // ANCOUNT
  for (uint8_t b : {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 10, 96, 0, 20}) answer.push_back(b);
  const Bytes want =
      Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kVip, kPod, 17, 64, /*df=*/true).udp(53, 40000, true).raw(answer).build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_EQ(totals().dns_answered[0], 1u) << "A, NOERROR";
  EXPECT_EQ(totals().lb_new_flows, 0u) << "no conntrack entry for an answered query";
}

TEST_F(DnsPipeline, OtherNamesGoOnToCoreDnsUnchanged) {
  const Bytes q = svcdp::dns::testing::query("example.com", 1);
  auto out = through(Role::PODS, query_frame(q), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes want =
      Frame().eth(kPod3Mac, pods_mac_, 0x0800).ipv4(kPod, kPod3, 17, 63).udp(40000, 53, true).raw(q).build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_EQ(totals().dns_passed[0], 1u);
  EXPECT_EQ(totals().lb_new_flows, 1u);
}

// A denied name is answered with the policy's rcode and the question, by
// the worker, whoever would have answered it.
TEST_F(DnsPipeline, ThePolicyDeniesANameToLocalPods) {
  svcdp::dns::PolicySpec spec;
  svcdp::dns::PolicyRule rule;
  rule.name = "blocked";
  rule.match = svcdp::dns::PolicyRule::Match::kPattern;
  rule.value = "*.blocked.test";
  rule.deny = true;
  spec.rules = {rule};
  std::string error;
  std::shared_ptr<const svcdp::dns::Policy> policy = svcdp::dns::Policy::compile(spec, 1, error);
  ASSERT_NE(policy, nullptr) << error;
  publish_dns(policy);
  const Bytes q = svcdp::dns::testing::query("www.blocked.test", 1);
  auto out = through(Role::PODS, query_frame(q), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  Bytes answer = q;
  answer[2] = 0x81;  // QR RD (not authoritative for another zone)
  answer[3] = 3;     // NXDOMAIN
  const Bytes want =
      Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kVip, kPod, 17, 64, /*df=*/true).udp(53, 40000, true).raw(answer).build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_EQ(totals().dns_denied, 1u);
  EXPECT_EQ(policy->decided(0), 1u);
  EXPECT_EQ(through(Role::PODS, query_frame(svcdp::dns::testing::query("example.com", 1)), Role::PODS).size(), 1u)
      << "not matched: passed on to CoreDNS (kPod3)";
  EXPECT_EQ(totals().dns_passed[0], 1u);
}

TEST_F(DnsPipeline, WhatIsNoQueryIsDroppedAndWhatCannotBeReadIsFormerr) {
  Bytes response = svcdp::dns::testing::query("web.default.svc.cluster.local", 1);
  response[2] |= 0x80;
  EXPECT_TRUE(through(Role::PODS, query_frame(response), Role::PODS).empty());
  EXPECT_EQ(drops(Drop::kDnsNotQuery), 1u);
  Bytes two = svcdp::dns::testing::query("web.default.svc.cluster.local", 1);
  two[5] = 2;
  auto out = through(Role::PODS, query_frame(two), Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const size_t dns_at = 14 + 20 + 8;
  ASSERT_EQ(out[0].size(), dns_at + 12);
  EXPECT_EQ(out[0][dns_at + 3] & 0xf, 1) << "FORMERR, header only";
}

}  // namespace
}  // namespace svcdp::dp
