// The pipeline-test fixture: the real Dataplane over net_ring ports
// (testing::RingHarness) with node-a's tables, under an EAL started once
// per test program with --no-huge --no-pci (pipeline.cc). Shared by the
// worker and load-balancing pipeline tests.
#pragma once

#include "control/fib_builder.h"
#include "dataplane/dataplane.h"
#include "dataplane/testing/packet_builder.h"
#include "dataplane/testing/ring_harness.h"

#include <gtest/gtest.h>

#include <memory>

namespace svcdp::dp {

using svcdp::testing::Bytes;
using svcdp::testing::Frame;
using svcdp::testing::ip4;
using svcdp::testing::Mac;

constexpr uint32_t kNodeIp = ip4(192, 168, 56, 11);
constexpr uint32_t kRemoteIp = ip4(192, 168, 56, 12);
constexpr uint32_t kPodGw = ip4(10, 244, 1, 1);
constexpr uint32_t kPod = ip4(10, 244, 1, 10);
constexpr uint32_t kPod2 = ip4(10, 244, 1, 11);
constexpr uint32_t kRemotePod = ip4(10, 244, 2, 10);
constexpr Mac kPodMac = {0x02, 0x5d, 0, 0, 0x01, 0x0a};
constexpr Mac kPod2Mac = {0x02, 0x5d, 0, 0, 0x01, 0x0b};
constexpr Mac kRemoteMac = {0x02, 0x5d, 0, 0, 0x02, 0x01};      // remote node's NIC
constexpr Mac kRemoteVtepMac = {0x02, 0x5d, 0, 0, 0x02, 0xff};  // its flannel.1
constexpr Mac kZero = {};
constexpr uint32_t kVni = 1;

class Pipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    DataplaneConfig c;
    c.workers = workers();
    c.rx_desc = c.tx_desc = 128;
    c.mbufs = 4095;
    c.neigh_capacity = 64;
    c.neigh_timers.retrans_ns = 1'000'000;     // 1 ms
    c.neigh_timers.reachable_ns = 50'000'000;  // 50 ms
    c.announce_lb_ips = announce_lb_ips();
    h_ = std::make_unique<testing::RingHarness>(c, with_kernel());
    up_mac_ = h_->mac(Role::UPLINK);
    pods_mac_ = h_->mac(Role::PODS);

    h_->dataplane().publish(node_fib(1));
  }

  // Generation `gen` of node-a's routes: its pods 10.244.1.0/24, node-b
  // (192.168.56.12) with 10.244.2.0/24, cluster CIDR 10.244.0.0/16 (so
  // 10.244.9.0/24 is in the cluster but has no node); no services.
  std::unique_ptr<Fib> node_fib(uint64_t gen) const {
    control::NodeInfo a{"node-a", kNodeIp, {*conf::parse_ipv4_prefix("10.244.1.0/24")}, std::nullopt, ""};
    control::NodeInfo b{"node-b", kRemoteIp, {*conf::parse_ipv4_prefix("10.244.2.0/24")}, kRemoteVtepMac, ""};
    control::FibParams p;
    p.node_name = "node-a";
    p.vni = kVni;
    p.uplink_mac = up_mac_;
    p.cluster_cidrs = {*conf::parse_ipv4_prefix("10.244.0.0/16")};
    std::vector<std::string> warnings;
    return control::build_fib({a, b}, p, gen, warnings);
  }

  virtual bool with_kernel() const { return false; }
  virtual bool announce_lb_ips() const { return false; }
  virtual unsigned workers() const { return 1; }

  void inject(Role role, const Bytes& frame, unsigned queue = 0) { ASSERT_TRUE(h_->inject(role, frame, queue)); }
  std::vector<Bytes> sent(Role role) { return h_->sent(role); }
  void run(int rounds = 3) { h_->run(rounds); }
  uint64_t drops(Drop d) const { return h_->dataplane().totals().drops[static_cast<size_t>(d)]; }
  Counters totals() const { return h_->dataplane().totals(); }

  // The pod asks for its gateway; svcdp answers and learns the pod's MAC.
  void pod_arps_gateway(uint32_t pod, const Mac& mac) {
    inject(Role::PODS, Frame().eth(testing::kBroadcast, mac, 0x0806).arp(1, mac, pod, kZero, kPodGw).pad_to(60).build());
    run();
    auto out = sent(Role::PODS);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], Frame().eth(mac, pods_mac_, 0x0806).arp(2, pods_mac_, kPodGw, mac, pod).pad_to(60).build());
  }

  // The remote node answers svcdp's ARP request for its VTEP.
  void remote_answers_arp() {
    auto req = sent(Role::UPLINK);
    ASSERT_EQ(req.size(), 1u);
    EXPECT_EQ(req[0], Frame()
                          .eth(testing::kBroadcast, up_mac_, 0x0806)
                          .arp(1, up_mac_, kNodeIp, kZero, kRemoteIp)
                          .pad_to(60)
                          .build());
    inject(Role::UPLINK,
           Frame().eth(up_mac_, kRemoteMac, 0x0806).arp(2, kRemoteMac, kRemoteIp, up_mac_, kNodeIp).build());
    run();
  }

  // VXLAN (RFC 7348) around `inner` over the IPv4 underlay: as node-b's
  // VTEP sends it to ours, and as svcdp sends it to node-b from outer UDP
  // source port `sport` (the inner flow's hash, section 5).
  Bytes from_tunnel(const Bytes& inner) const {
    return Frame()
        .eth(up_mac_, kRemoteMac, 0x0800)
        .ipv4(kRemoteIp, kNodeIp, 17, 64, /*df=*/true)
        .udp(50000, 4789)
        .vxlan(kVni)
        .raw(inner)
        .build();
  }
  Bytes to_tunnel(const Bytes& inner, uint16_t sport) const {
    return Frame()
        .eth(kRemoteMac, up_mac_, 0x0800)
        .ipv4(kNodeIp, kRemoteIp, 17, 64, /*df=*/true)
        .udp(sport, 4789)
        .vxlan(kVni)
        .raw(inner)
        .build();
  }

  std::unique_ptr<testing::RingHarness> h_;
  Mac up_mac_{}, pods_mac_{};
};

}  // namespace svcdp::dp
