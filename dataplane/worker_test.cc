// Pipeline tests: the real Dataplane (pool, ports, worker, control half)
// over net_ring ports under an EAL started with --no-huge --no-pci.
// Crafted frames go in; the exact bytes that come out are compared.
#include "dataplane/testing/pipeline.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

namespace svcdp::dp {
namespace {

// An ICMPv6 error (RFC 4443 section 2.1): type, code and the 32-bit
// field after the checksum (the MTU of a Packet Too Big).
struct Icmp6Type {
  uint8_t type, code;
  uint32_t rest = 0;
};
// The error from `src` to `dst` with hop limit `hop`, quoting the IPv6
// packet of `frame`, whole or its first `quote` bytes.
Bytes icmp6_error(const Mac& dst_mac, const Mac& src_mac, const testing::Ip6& src, const testing::Ip6& dst, uint8_t hop,
                  Icmp6Type what, const Bytes& frame, size_t quote = SIZE_MAX) {
  const auto packet = frame.begin() + 14;
  const auto end = quote >= frame.size() - 14 ? frame.end() : packet + static_cast<std::ptrdiff_t>(quote);
  return Frame()
      .eth(dst_mac, src_mac, 0x86dd)
      .ipv6(src, dst, 58, hop)
      .icmp6(what.type, what.code, what.rest)
      .raw(Bytes(packet, end))
      .build();
}

// An IPv6 TCP segment: sequence 1000, acknowledging 1 when it has ACK.
Bytes tcp(const Mac& dst, const Mac& src, const testing::Ip6& s, uint16_t sp, const testing::Ip6& d, uint16_t dp,
          uint8_t flags, uint8_t hops = 64) {
  return Frame().eth(dst, src, 0x86dd).ipv6(s, d, 6, hops).tcp(sp, dp, flags, 1000, flags & 0x10 ? 1 : 0).build();
}

Bytes pod_to_remote_udp(const Mac& gw_mac, uint8_t ttl = 64) {
  return Frame().eth(gw_mac, kPodMac, 0x0800).ipv4(kPod, kRemotePod, 17, ttl).udp(40000, 53).payload(20).build();
}

TEST_F(Pipeline, PodToRemotePodIsEncapsulatedAfterArp) {
  inject(Role::PODS, pod_to_remote_udp(pods_mac_));
  run();
  EXPECT_TRUE(sent(Role::PODS).empty());
  remote_answers_arp();
  auto out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u) << "the held packet leaves once the VTEP is resolved";

  const Bytes inner = Frame()
                          .eth(kRemoteVtepMac, up_mac_, 0x0800)
                          .ipv4(kPod, kRemotePod, 17, 63)
                          .udp(40000, 53)
                          .payload(20)
                          .build();
  // The outer UDP source port comes from the inner flow hash (RFC 7348
  // section 5); take it from the output, check its range and stability.
  ASSERT_GE(out[0].size(), 50u);
  const uint16_t sport = static_cast<uint16_t>(out[0][34] << 8 | out[0][35]);
  EXPECT_GE(sport, 49152);
  const Bytes want = to_tunnel(inner, sport);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);

  // The same flow again: straight through, same outer source port.
  inject(Role::PODS, pod_to_remote_udp(pods_mac_));
  run(1);
  out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], want);
  EXPECT_EQ(totals().vxlan_encap, 2u);
}

TEST_F(Pipeline, VxlanFromRemoteIsDecapsulatedToTheLocalPod) {
  pod_arps_gateway(kPod, kPodMac);
  const Bytes inner = Frame()
                          .eth(up_mac_, kRemoteVtepMac, 0x0800)
                          .ipv4(kRemotePod, kPod, 6, 64)
                          .tcp(80, 40000, 0x12)
                          .payload(100)
                          .build();
  inject(Role::UPLINK, from_tunnel(inner));
  run(1);
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes want =
      Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kRemotePod, kPod, 6, 63).tcp(80, 40000, 0x12).payload(100).build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_EQ(totals().vxlan_decap, 1u);
}

TEST_F(Pipeline, PodToPodOnThisNodeIsRoutedBackToThePodsPort) {
  pod_arps_gateway(kPod, kPodMac);
  pod_arps_gateway(kPod2, kPod2Mac);
  inject(Role::PODS, Frame().eth(pods_mac_, kPod2Mac, 0x0800).ipv4(kPod2, kPod, 1, 64).payload(40).build());
  run(1);
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kPod2, kPod, 1, 63).payload(40).build());
}

TEST_F(Pipeline, UnansweredArpDropsHeldPacketsWithAReason) {
  for (int i = 0; i < 3; ++i) inject(Role::PODS, pod_to_remote_udp(pods_mac_));
  for (int i = 0; i < 20; ++i) run();  // 6 ms: three 1 ms retransmits, then give up
  auto out = sent(Role::UPLINK);
  EXPECT_EQ(out.size(), 3u) << "three ARP requests, one per retransmit interval";
  for (const auto& f : out) {
    ASSERT_GE(f.size(), 14u);
    EXPECT_EQ(f[12] << 8 | f[13], 0x0806) << "ARP";
  }
  EXPECT_EQ(drops(Drop::kNeighUnresolved), 3u);
}

TEST_F(Pipeline, NeighbourIsReprobedAfterReachableTime) {
  inject(Role::PODS, pod_to_remote_udp(pods_mac_));
  run();
  remote_answers_arp();
  sent(Role::UPLINK);
  h_->now_ns += 60'000'000;  // past the 50 ms reachable time
  run();
  auto out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Frame()
                        .eth(kRemoteMac, up_mac_, 0x0806)
                        .arp(1, up_mac_, kNodeIp, kZero, kRemoteIp)
                        .pad_to(60)
                        .build())
      << "unicast probe to the known MAC";
}

// Katran-style fixtures: a frame, the port it arrives on, the drop it must
// cause. Nothing may be sent for any of them.
struct BadFrame {
  const char* what;
  bool on_uplink;
  Drop reason;
  Bytes (*make)(const Mac& up, const Mac& pods);
};

Bytes vxlan_to_us(const Mac& up, const Bytes& inner, uint32_t vni = kVni, uint8_t flags = 0x08) {
  return Frame()
      .eth(up, kRemoteMac, 0x0800)
      .ipv4(kRemoteIp, kNodeIp, 17)
      .udp(50000, 4789)
      .vxlan(vni, flags)
      .raw(inner)
      .build();
}

Bytes corrupt(Bytes b, size_t at, uint8_t value) {
  b.at(at) = value;
  return b;
}

const BadFrame kBadFrames[] = {
    {"runt", false, Drop::kEthRunt, [](const Mac&, const Mac&) { return Bytes(10, 0); }},
    {"other host", false, Drop::kEthNotForUs,
     [](const Mac&, const Mac&) { return pod_to_remote_udp({0x02, 0, 0, 0, 0, 0x99}); }},
    {"ipv6 type, version 0", false, Drop::kIpBadVersion,
     [](const Mac&, const Mac& p) { return Frame().eth(p, kPodMac, 0x86dd).payload(60).build(); }},
    {"ipv6 truncated", false, Drop::kIp6Truncated,
     [](const Mac&, const Mac& p) { return Frame().eth(p, kPodMac, 0x86dd).raw({0x60, 0, 0, 0}).build(); }},
    {"mpls", false, Drop::kEthertypeUnsupported,
     [](const Mac&, const Mac& p) { return Frame().eth(p, kPodMac, 0x8847).payload(60).build(); }},
    {"ip truncated", false, Drop::kIpTruncated,
     [](const Mac&, const Mac& p) { return Frame().eth(p, kPodMac, 0x0800).payload(10).build(); }},
    {"ip version 6", false, Drop::kIpBadVersion,
     [](const Mac&, const Mac& p) { return corrupt(pod_to_remote_udp(p), 14, 0x65); }},
    {"ihl 4", false, Drop::kIpBadIhl, [](const Mac&, const Mac& p) { return corrupt(pod_to_remote_udp(p), 14, 0x44); }},
    {"ip options", false, Drop::kIpOptions,
     [](const Mac&, const Mac& p) { return corrupt(pod_to_remote_udp(p), 14, 0x46); }},
    {"total length too long", false, Drop::kIpBadLength,
     [](const Mac&, const Mac& p) { return corrupt(pod_to_remote_udp(p), 16, 0x05); }},
    {"bad checksum", false, Drop::kIpBadChecksum,
     [](const Mac&, const Mac& p) { return corrupt(pod_to_remote_udp(p), 24, 0x00); }},
    // RFC 3704 ingress filtering: a pod speaks only for its node's pod CIDR.
    {"a pod sending as 255.255.255.255", false, Drop::kPodSrcSpoofed,
     [](const Mac&, const Mac& p) {
       return Frame().eth(p, kPodMac, 0x0800).ipv4(ip4(255, 255, 255, 255), kRemotePod, 17, 1).udp(1, 2).build();
     }},
    {"a pod sending as another node's pod", false, Drop::kPodSrcSpoofed,
     [](const Mac&, const Mac& p) {
       return Frame().eth(p, kPodMac, 0x0800).ipv4(kRemotePod, kPod2, 17).udp(1, 2).build();
     }},
    {"a pod sending as the node", false, Drop::kPodSrcSpoofed,
     [](const Mac&, const Mac& p) {
       return Frame().eth(p, kPodMac, 0x0800).ipv4(kNodeIp, kRemotePod, 6).tcp(1, 2, 2).build();
     }},
    {"in the cluster, no node", false, Drop::kIpNoRoute,
     [](const Mac&, const Mac& p) {
       return Frame().eth(p, kPodMac, 0x0800).ipv4(kPod, ip4(10, 244, 9, 9), 17).udp(1, 2).build();
     }},
    {"multicast from a pod", false, Drop::kEthGroupFromPod,
     [](const Mac&, const Mac&) {
       return Frame().eth({0x01, 0x00, 0x5e, 0, 0, 0x12}, kPodMac, 0x0800).ipv4(kPod, ip4(224, 0, 0, 18), 112).build();
     }},
    {"checksum field 0xffff, header wrong", false, Drop::kIpBadChecksum,
     [](const Mac&, const Mac& p) {
       auto f = pod_to_remote_udp(p);
       f[24] = f[25] = 0xff;
       return f;
     }},
    {"to the gateway", false, Drop::kIpLocalUnhandled,
     [](const Mac&, const Mac& p) {
       return Frame().eth(p, kPodMac, 0x0800).ipv4(kPod, kPodGw, 6).tcp(1, 22, 2).build();
     }},
    {"a pod sending as 0.0.0.0", false, Drop::kPodSrcSpoofed,
     [](const Mac&, const Mac& p) {
       return Frame().eth(p, kPodMac, 0x0800).ipv4(0, kRemotePod, 17, 64, true).udp(1, 2).payload(100).build();
     }},
    {"a martian source from the network", true, Drop::kIpMartianSource,
     [](const Mac& u, const Mac&) {
       return Frame().eth(u, kRemoteMac, 0x0800).ipv4(ip4(127, 0, 0, 1), kNodeIp, 6).tcp(1, 22, 2).build();
     }},
    {"vxlan from no node's vtep", true, Drop::kVxlanUnknownVtep,
     [](const Mac& u, const Mac&) {
       return Frame().eth(u, kRemoteMac, 0x0800).ipv4(ip4(192, 168, 56, 99), kNodeIp, 17, 64, true).udp(50000, 4789)
           .vxlan(kVni).raw(Frame().eth(u, kRemoteVtepMac, 0x0800).ipv4(kRemotePod, kPod, 17).udp(1, 2).build())
           .build();
     }},
    {"uplink transit", true, Drop::kIpNoRoute,
     [](const Mac& u, const Mac&) {
       return Frame().eth(u, kRemoteMac, 0x0800).ipv4(kRemoteIp, ip4(1, 1, 1, 1), 17).udp(1, 2).build();
     }},
    {"uplink ssh", true, Drop::kIpLocalUnhandled,
     [](const Mac& u, const Mac&) {
       return Frame().eth(u, kRemoteMac, 0x0800).ipv4(kRemoteIp, kNodeIp, 6).tcp(1, 22, 2).build();
     }},
    {"udp truncated", true, Drop::kUdpTruncated,
     [](const Mac& u, const Mac&) {
       return Frame().eth(u, kRemoteMac, 0x0800).ipv4(kRemoteIp, kNodeIp, 17).payload(4).build();
     }},
    {"vxlan truncated", true, Drop::kVxlanTruncated,
     [](const Mac& u, const Mac&) {
       return Frame().eth(u, kRemoteMac, 0x0800).ipv4(kRemoteIp, kNodeIp, 17).udp(1, 4789).payload(4).build();
     }},
    {"vxlan no I flag", true, Drop::kVxlanBadFlags,
     [](const Mac& u, const Mac&) { return vxlan_to_us(u, Bytes(60, 0), kVni, 0x00); }},
    {"vxlan other vni", true, Drop::kVxlanUnknownVni,
     [](const Mac& u, const Mac&) { return vxlan_to_us(u, Bytes(60, 0), 42); }},
    {"vxlan inner runt", true, Drop::kVxlanInnerRunt,
     [](const Mac& u, const Mac&) { return vxlan_to_us(u, Bytes(20, 0)); }},
    {"vxlan inner arp", true, Drop::kVxlanInnerNotIp,
     [](const Mac& u, const Mac&) {
       return vxlan_to_us(u, Frame().eth(u, kRemoteVtepMac, 0x0806).payload(40).build());
     }},
    {"vxlan inner bad checksum", true, Drop::kIpBadChecksum,
     [](const Mac& u, const Mac&) {
       return vxlan_to_us(
           u, corrupt(Frame().eth(u, kRemoteVtepMac, 0x0800).ipv4(kRemotePod, kPod, 17).udp(1, 2).build(), 24, 0));
     }},
    {"vxlan inner not local", true, Drop::kVxlanInnerNotLocal,
     [](const Mac& u, const Mac&) {
       return vxlan_to_us(u, Frame().eth(u, kRemoteVtepMac, 0x0800).ipv4(kRemotePod, kRemotePod, 17).udp(1, 2).build());
     }},
};

TEST_F(Pipeline, EveryBadFrameIsDroppedWithItsReason) {
  for (const BadFrame& f : kBadFrames) {
    const uint64_t before = drops(f.reason);
    inject(f.on_uplink ? Role::UPLINK : Role::PODS, f.make(up_mac_, pods_mac_));
    run(1);
    EXPECT_EQ(drops(f.reason), before + 1) << f.what << " should count as " << drop_info(f.reason).name;
    EXPECT_TRUE(sent(Role::UPLINK).empty()) << f.what;
    EXPECT_TRUE(sent(Role::PODS).empty()) << f.what;
  }
}

TEST_F(Pipeline, ArpForAnAddressWeDoNotOwnIsCountedNotAnswered) {
  inject(Role::PODS,
         Frame().eth(testing::kBroadcast, kPodMac, 0x0806).arp(1, kPodMac, kPod, kZero, kRemotePod).pad_to(60).build());
  inject(Role::PODS, Frame().eth(testing::kBroadcast, kPodMac, 0x0806).payload(10).build());
  run();
  EXPECT_TRUE(sent(Role::PODS).empty());
  EXPECT_EQ(drops(Drop::kArpNotForUs), 1u);
  EXPECT_EQ(drops(Drop::kArpMalformed), 1u);
}

// ARP is answered by the neighbour thread while the control thread is
// busy elsewhere (here: publishing generation after generation, as a
// long build would keep it): nothing but the worker is polled by hand.
TEST_F(Pipeline, TheNeighbourThreadAnswersArpWhileTheControlThreadPublishes) {
  h_->dataplane().start_neighbour_thread();
  std::atomic<bool> done{false};
  std::thread control([&] {
    for (uint64_t gen = 2; !done.load(); ++gen) h_->dataplane().publish(node_fib(gen));
  });
  const Bytes request = Frame().eth(testing::kBroadcast, kPodMac, 0x0806).arp(1, kPodMac, kPod, kZero, kPodGw).pad_to(60).build();
  std::vector<Bytes> out;
  for (int round = 0; round < 3; ++round) {
    inject(Role::PODS, request);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::vector<Bytes> got;
    while (got.empty() && std::chrono::steady_clock::now() < deadline) {
      h_->dataplane().worker(0).poll();
      got = sent(Role::PODS);
    }
    out.insert(out.end(), got.begin(), got.end());
  }
  done = true;
  control.join();
  ASSERT_EQ(out.size(), 3u);
  for (const Bytes& b : out)
    EXPECT_EQ(b, Frame().eth(kPodMac, pods_mac_, 0x0806).arp(2, pods_mac_, kPodGw, kPodMac, kPod).pad_to(60).build());
}

// Proxy ARP for the node's pod CIDR on the pods port: a pod asking for
// another pod of the node (pods on one macvlan or bridge segment) gets
// svcdp's MAC, so their traffic passes svcdp; probes and gratuitous ARP
// are not answered (RFC 5227), and the pod asking is learned.
TEST_F(Pipeline, ArpForAnotherLocalPodIsAnsweredBySvcdp) {
  inject(Role::PODS,
         Frame().eth(testing::kBroadcast, kPodMac, 0x0806).arp(1, kPodMac, kPod, kZero, kPod2).pad_to(60).build());
  run();
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Frame().eth(kPodMac, pods_mac_, 0x0806).arp(2, pods_mac_, kPod2, kPodMac, kPod).pad_to(60).build());
  inject(Role::PODS,
         Frame().eth(testing::kBroadcast, kPodMac, 0x0806).arp(1, kPodMac, 0, kZero, kPod2).pad_to(60).build());
  inject(Role::PODS,
         Frame().eth(testing::kBroadcast, kPodMac, 0x0806).arp(1, kPodMac, kPod, kZero, kPod).pad_to(60).build());
  run();
  EXPECT_TRUE(sent(Role::PODS).empty()) << "a probe and a gratuitous request";
  // The pod that asked is known: a packet to it leaves without ARP.
  pod_arps_gateway(kPod2, kPod2Mac);
  inject(Role::PODS, Frame().eth(pods_mac_, kPod2Mac, 0x0800).ipv4(kPod2, kPod, 1, 64).payload(40).build());
  run(1);
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kPod2, kPod, 1, 63).payload(40).build());
}

// ARP floods on the uplink, as Pipeline tests of the neighbour table use them.
class NeighbourFlood : public Pipeline {
 protected:
  // `senders` requests for the node's address, each from another LAN host.
  void arp_flood_on_uplink(uint32_t senders) {
    for (uint32_t i = 0; i < senders; ++i) {
      const Mac mac = {0x02, 0x66, 0, 0, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
      inject(Role::UPLINK, Frame().eth(testing::kBroadcast, mac, 0x0806)
                               .arp(1, mac, ip4(192, 168, 57, 0) + i, kZero, kNodeIp).pad_to(60).build());
      if (i % 32 == 31) run();
    }
    run();
    sent(Role::UPLINK);
  }
  // A datagram from node-b's pod to local pod `pod`, in VXLAN.
  Bytes vxlan_to_pod(uint32_t pod) const {
    const Bytes inner =
        Frame().eth(up_mac_, kRemoteVtepMac, 0x0800).ipv4(kRemotePod, pod, 17, 64).udp(1, 2).payload(8).build();
    return from_tunnel(inner);
  }
};

// An ARP flood of 1000 LAN senders asking for the node address fills
// a 64-entry neighbour table with entries nothing needs; a pod started
// afterwards must still be reachable: those passive entries give way
// (Linux's forced neighbour GC).
TEST_F(NeighbourFlood, ArpFloodDoesNotLockOutANewPod) {
  arp_flood_on_uplink(1000);
  // VXLAN from node-b to pod2, which nobody has resolved yet.
  inject(Role::UPLINK, vxlan_to_pod(kPod2));
  run();
  auto req = sent(Role::PODS);
  ASSERT_EQ(req.size(), 1u) << "svcdp asks for pod2";
  EXPECT_EQ(req[0][12] << 8 | req[0][13], 0x0806);
  inject(Role::PODS, Frame().eth(pods_mac_, kPod2Mac, 0x0806).arp(2, kPod2Mac, kPod2, pods_mac_, kPodGw).pad_to(60)
                         .build());
  run();
  EXPECT_EQ(sent(Role::PODS).size(), 1u) << "the held packet reaches pod2";
  EXPECT_EQ(drops(Drop::kNeighTableFull), 0u);
  EXPECT_GT(totals().neigh_evicted, 0u);
}

// Linux's forced GC keeps referenced neighbours: node-b's VTEP, learned
// from its own request for the node's address, then used by the tunnel,
// is not given up for a flood's senders.
TEST_F(Pipeline, ANeighbourInUseOutlivesAnArpFlood) {
  inject(Role::UPLINK, Frame().eth(testing::kBroadcast, kRemoteMac, 0x0806)
                           .arp(1, kRemoteMac, kRemoteIp, kZero, kNodeIp).pad_to(60).build());
  run();
  ASSERT_EQ(sent(Role::UPLINK).size(), 1u) << "the ARP reply";
  const Bytes to_remote = pod_to_remote_udp(pods_mac_);
  for (uint32_t i = 0; i < 1000; ++i) {
    if (i % 32 == 0) {
      inject(Role::PODS, to_remote);
      run();
      const auto out = sent(Role::UPLINK);
      ASSERT_FALSE(out.empty());
      ASSERT_EQ(out[0][12] << 8 | out[0][13], 0x0800) << "packet " << i << ": tunnelled at once, no ARP needed";
    }
    const Mac mac = {0x02, 0x66, 0, 0, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    inject(Role::UPLINK, Frame().eth(testing::kBroadcast, mac, 0x0806)
                             .arp(1, mac, ip4(192, 168, 57, 0) + i, kZero, kNodeIp).pad_to(60).build());
  }
  EXPECT_GT(totals().neigh_evicted, 0u);
}

// A port's request senders hold half the table at most: a flood on the
// uplink leaves the pods' entries alone.
TEST_F(NeighbourFlood, AnArpFloodOnTheUplinkLeavesThePodsEntriesAlone) {
  pod_arps_gateway(kPod, kPodMac);
  arp_flood_on_uplink(1000);
  // VXLAN from node-b to the pod: its MAC is still known, no ARP request.
  inject(Role::UPLINK, vxlan_to_pod(kPod));
  run();
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0][12] << 8 | out[0][13], 0x0800) << "delivered at once";
  EXPECT_LE(h_->dataplane().neighbours().size(), 64u);
}

// RFC 5227: a sender claiming the pod gateway is a conflict, neither
// answered nor learned; a group or zero sender MAC is no host's.
TEST_F(Pipeline, ArpFromImpossibleOrConflictingSendersIsRefused) {
  const Mac group = {0x01, 0x00, 0x5e, 0, 0, 1};
  inject(Role::PODS, Frame().eth(testing::kBroadcast, group, 0x0806).arp(1, group, kPod, kZero, kPodGw).pad_to(60)
                         .build());
  inject(Role::PODS, Frame().eth(testing::kBroadcast, kPodMac, 0x0806).arp(1, kPodMac, kPodGw, kZero, kPodGw)
                         .pad_to(60).build());
  run();
  EXPECT_TRUE(sent(Role::PODS).empty());
  EXPECT_EQ(drops(Drop::kArpBadSender), 1u);
  EXPECT_EQ(drops(Drop::kArpAddressConflict), 1u);
}

// With an exception port the node's kernel gets what svcdp does not own,
// and what it sends leaves through the uplink untouched.
class PipelineWithKernel : public Pipeline {
 protected:
  bool with_kernel() const override { return true; }
};

TEST_F(PipelineWithKernel, NodeTrafficGoesToTheKernelAndBack) {
  const Bytes ssh = Frame().eth(up_mac_, kRemoteMac, 0x0800).ipv4(kRemoteIp, kNodeIp, 6).tcp(40000, 22, 2).build();
  const testing::Ip6 node6 = {0xfd, 0, 0, 0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11};
  const testing::Ip6 remote6 = {0xfd, 0, 0, 0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12};
  const Bytes ipv6 = Frame().eth(up_mac_, kRemoteMac, 0x86dd).ipv6(remote6, node6, 6, 64).tcp(40000, 22, 2).build();
  inject(Role::UPLINK, ssh);
  inject(Role::UPLINK, ipv6);
  run(1);
  // Two flows: each packet's stages run as vectors, so the IPv6 frame
  // (to_kernel straight from eth_input) may leave first.
  auto got = sent(Role::EXCEPTION);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE((got[0] == ssh && got[1] == ipv6) || (got[0] == ipv6 && got[1] == ssh));

  const Bytes reply = Frame().eth(kRemoteMac, up_mac_, 0x0800).ipv4(kNodeIp, kRemoteIp, 6).tcp(22, 40000, 0x12).build();
  inject(Role::EXCEPTION, reply);
  run(1);
  auto out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], reply);
  EXPECT_EQ(totals().to_kernel, 2u);
}

TEST_F(PipelineWithKernel, TheKernelAnswersArpForTheNodeAddress) {
  const Bytes who_has =
      Frame().eth(testing::kBroadcast, kRemoteMac, 0x0806).arp(1, kRemoteMac, kRemoteIp, kZero, kNodeIp).pad_to(60).build();
  inject(Role::UPLINK, who_has);
  run();
  EXPECT_TRUE(sent(Role::UPLINK).empty()) << "svcdp leaves the answer to the kernel";
  auto got = sent(Role::EXCEPTION);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], who_has);
  EXPECT_EQ(drops(Drop::kArpNotForUs), 0u);
  // ...and learned the asker, so the tunnel to it needs no ARP of its own.
  inject(Role::PODS, pod_to_remote_udp(pods_mac_));
  run(1);
  EXPECT_EQ(sent(Role::UPLINK).size(), 1u);
}

// RFC 792 / RFC 1812 section 5.3.1: a TTL that runs out in svcdp is
// answered with Time Exceeded from the pod gateway, quoting the packet.
TEST_F(Pipeline, ExpiredTtlIsAnsweredWithTimeExceeded) {
  pod_arps_gateway(kPod, kPodMac);
  const Bytes probe = pod_to_remote_udp(pods_mac_, 1);
  inject(Role::PODS, probe);
  run(1);
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Frame()
                        .eth(kPodMac, pods_mac_, 0x0800)
                        .ipv4(kPodGw, kPod, 1, 64, true)
                        .icmp(11, 0)
                        .raw(Bytes(probe.begin() + 14, probe.end()))
                        .build());
  EXPECT_EQ(drops(Drop::kIpTtlExpired), 1u);
  EXPECT_EQ(totals().icmp_errors_sent, 1u);
}

// RFC 1191: a DF packet that does not fit the tunnel gets Fragmentation
// Needed with the tunnel MTU (1500 - 50), so the pod's PMTUD adapts.
TEST_F(Pipeline, TooBigForTheTunnelWithDfGetsFragmentationNeeded) {
  pod_arps_gateway(kPod, kPodMac);
  const Bytes big = Frame().eth(pods_mac_, kPodMac, 0x0800).ipv4(kPod, kRemotePod, 6, 64, true).tcp(40000, 80, 0x10)
                        .payload(1451 - 40).build();
  inject(Role::PODS, big);
  run(1);
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const size_t quoted = 576 - 28;
  EXPECT_EQ(out[0], Frame()
                        .eth(kPodMac, pods_mac_, 0x0800)
                        .ipv4(kPodGw, kPod, 1, 64, true)
                        .icmp(3, 4, 1450)
                        .raw(Bytes(big.begin() + 14, big.begin() + 14 + quoted))
                        .build());
  EXPECT_TRUE(sent(Role::UPLINK).empty());
}

// RFC 791 section 3.2: without DF, a datagram too large for the tunnel
// is fragmented (1424 = 8-byte multiple of 1450 - 20 data bytes per
// fragment), each fragment encapsulated.
TEST_F(Pipeline, TooBigForTheTunnelWithoutDfIsFragmented) {
  inject(Role::PODS, Frame().eth(pods_mac_, kPodMac, 0x0800).ipv4(kPod, kRemotePod, 17, 64).udp(40000, 53)
                         .payload(1500 - 28).build());
  run();
  remote_answers_arp();
  auto out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 2u);
  const Bytes whole = Frame().ipv4(kPod, kRemotePod, 17, 63).udp(40000, 53).payload(1500 - 28).build();
  const Bytes data(whole.begin() + 20, whole.end());
  for (size_t i = 0; i < 2; ++i) {
    const size_t off = i * 1424, len = i == 0 ? 1424 : data.size() - 1424;
    ASSERT_GE(out[i].size(), 50u);
    const uint16_t sport = static_cast<uint16_t>(out[i][34] << 8 | out[i][35]);
    const Bytes inner = Frame()
                            .eth(kRemoteVtepMac, up_mac_, 0x0800)
                            .ipv4(kPod, kRemotePod, 17, 63)
                            .fragment(0, static_cast<uint16_t>(off), i == 0)
                            .raw(Bytes(data.begin() + off, data.begin() + off + len))
                            .build();
    const Bytes want = to_tunnel(inner, sport);
    EXPECT_EQ(out[i], want) << "fragment " << i << testing::hexdump_diff(out[i], want);
  }
  EXPECT_EQ(totals().ip_fragments, 2u);
}

// Linux's icmp_msgs_burst: at most 50 errors at once, the rest counted.
TEST_F(Pipeline, IcmpErrorsAreRateLimited) {
  pod_arps_gateway(kPod, kPodMac);
  for (int i = 0; i < 60; ++i) inject(Role::PODS, pod_to_remote_udp(pods_mac_, 1));
  run(2);
  EXPECT_EQ(sent(Role::PODS).size(), 50u);
  EXPECT_EQ(totals().icmp_rate_limited, 10u);
  EXPECT_EQ(drops(Drop::kIpTtlExpired), 60u);
}

// Pod egress (flannel's ipMasq): a destination outside the cluster gets
// the node address and a masquerade port; the reply finds its way back.
TEST_F(Pipeline, PodEgressIsMasqueradedAndRepliesReturn) {
  constexpr uint32_t kInternet = ip4(203, 0, 113, 5);
  constexpr Mac kHostMac = {0x02, 0x5d, 0, 0, 0x09, 0x05};
  pod_arps_gateway(kPod, kPodMac);
  inject(Role::PODS, Frame().eth(pods_mac_, kPodMac, 0x0800).ipv4(kPod, kInternet, 17).udp(40000, 53).payload(8).build());
  run();
  auto req = sent(Role::UPLINK);
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(req[0], Frame().eth(testing::kBroadcast, up_mac_, 0x0806).arp(1, up_mac_, kNodeIp, kZero, kInternet)
                        .pad_to(60).build());
  inject(Role::UPLINK, Frame().eth(up_mac_, kHostMac, 0x0806).arp(2, kHostMac, kInternet, up_mac_, kNodeIp).build());
  run();
  auto out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Frame().eth(kHostMac, up_mac_, 0x0800).ipv4(kNodeIp, kInternet, 17, 63).udp(61001, 53).payload(8)
                        .build());
  inject(Role::UPLINK, Frame().eth(up_mac_, kHostMac, 0x0800).ipv4(kInternet, kNodeIp, 17).udp(53, 61001).payload(8)
                           .build());
  run(1);
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kInternet, kPod, 17, 63).udp(53, 40000).payload(8)
                        .build());
  EXPECT_EQ(totals().masq_new_flows, 1u);
}

// A pod that resolved its gateway, and an "internet" host beyond the
// uplink (TEST-NET-3) whose MAC svcdp learned from its ARP request.
class PodEgress : public Pipeline {
 protected:
  static constexpr uint32_t kInternet = ip4(203, 0, 113, 5);
  static constexpr Mac kHostMac = {0x02, 0x5d, 0, 0, 0x09, 0x05};
  void SetUp() override {
    Pipeline::SetUp();
    pod_arps_gateway(kPod, kPodMac);
    inject(Role::UPLINK, Frame().eth(up_mac_, kHostMac, 0x0806).arp(1, kHostMac, kInternet, kZero, kNodeIp).pad_to(60)
                             .build());
    run();
    sent(Role::UPLINK);
  }
};

// Two datagrams of a new egress flow in one burst (glibc sends its A and
// AAAA queries at once): both pass the lb stage before masquerade opens
// the flow, and the second joins it instead of racing it to a second
// entry and port (the conntrack insert race of kubernetes issue 56903).
TEST_F(PodEgress, TwoDatagramsOfANewEgressFlowInOneBurstShareItsEntry) {
  const Bytes query = Frame().eth(pods_mac_, kPodMac, 0x0800).ipv4(kPod, kInternet, 17).udp(40000, 53).payload(8).build();
  inject(Role::PODS, query);
  inject(Role::PODS, query);
  run(1);
  auto out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 2u);
  const Bytes want =
      Frame().eth(kHostMac, up_mac_, 0x0800).ipv4(kNodeIp, kInternet, 17, 63).udp(61001, 53).payload(8).build();
  EXPECT_EQ(out[0], want);
  EXPECT_EQ(out[1], want) << "the same masquerade port";
  EXPECT_EQ(totals().masq_new_flows, 1u);
}

// ping from a pod to the internet: ICMP echo tracked by its identifier.
TEST_F(PodEgress, PodEchoIsMasqueradedByIdentifier) {
  inject(Role::PODS, Frame().eth(pods_mac_, kPodMac, 0x0800).ipv4(kPod, kInternet, 1).icmp(8, 0, 0x12340001).build());
  run(1);
  auto out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Frame().eth(kHostMac, up_mac_, 0x0800).ipv4(kNodeIp, kInternet, 1, 63).icmp(8, 0, 61001u << 16 | 1)
                        .build());
  inject(Role::UPLINK, Frame().eth(up_mac_, kHostMac, 0x0800).ipv4(kInternet, kNodeIp, 1).icmp(0, 0, 61001u << 16 | 1)
                           .build());
  run(1);
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kInternet, kPod, 1, 63).icmp(0, 0, 0x12340001).build());
}

TEST_F(Pipeline, PodToPodTrafficNeverTouchesConntrack) {
  pod_arps_gateway(kPod, kPodMac);
  inject(Role::PODS, pod_to_remote_udp(pods_mac_));
  run();
  remote_answers_arp();
  sent(Role::UPLINK);
  for (int i = 0; i < 10; ++i) inject(Role::PODS, pod_to_remote_udp(pods_mac_));
  run(1);
  EXPECT_EQ(sent(Role::UPLINK).size(), 10u);
  EXPECT_EQ(h_->dataplane().conntrack().stats().entries, 0u);
  const Counters c = totals();
  EXPECT_EQ(c.stage_packets[static_cast<size_t>(Stage::kLb)], 0u) << "no conntrack lookup at all";
  EXPECT_EQ(c.stage_packets[static_cast<size_t>(Stage::kVxlanEncap)], 11u);
}

// The node's multicast (VRRP; IPv6 ND, copied to the kernel after svcdp's
// neighbour code saw it; LLDP alike) reaches its kernel.
TEST_F(PipelineWithKernel, UplinkMulticastReachesTheKernel) {
  const Bytes vrrp = Frame().eth({0x01, 0x00, 0x5e, 0, 0, 0x12}, kRemoteMac, 0x0800)
                         .ipv4(kRemoteIp, ip4(224, 0, 0, 18), 112, 255).payload(20).build();
  // A Neighbor Solicitation for the node's IPv6 address fd00:0:0:56::11.
  const testing::Ip6 node6 = {0xfd, 0, 0, 0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11};
  const testing::Ip6 remote6 = {0xfd, 0, 0, 0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12};
  const testing::Ip6 group = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 0x11};
  Bytes option(8);
  option[0] = 1;
  option[1] = 1;
  std::copy(kRemoteMac.begin(), kRemoteMac.end(), option.begin() + 2);
  const Bytes nd = Frame()
                       .eth({0x33, 0x33, 0xff, 0, 0, 0x11}, kRemoteMac, 0x86dd)
                       .ipv6(remote6, group, 58, 255)
                       .icmp6(135, 0)
                       .raw(Bytes(node6.begin(), node6.end()))
                       .raw(option)
                       .build();
  inject(Role::UPLINK, vrrp);
  inject(Role::UPLINK, nd);
  run(1);
  auto got = sent(Role::EXCEPTION);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], vrrp);
  EXPECT_EQ(got[1], nd);
}

// kubelet's probe: the kernel ARPs for the pod gateway on the TAP (its
// route to pods is via it), sends to the pod, and the pod's answer to the
// node address goes back to the kernel.
TEST_F(PipelineWithKernel, KernelReachesALocalPodAndThePodAnswers) {
  const Mac tap_mac = h_->mac(Role::EXCEPTION);
  constexpr Mac kKernelMac = {0x02, 0x5d, 0, 0, 0x00, 0x77};
  pod_arps_gateway(kPod, kPodMac);
  inject(Role::EXCEPTION,
         Frame().eth(testing::kBroadcast, kKernelMac, 0x0806).arp(1, kKernelMac, kNodeIp, kZero, kPodGw).pad_to(60)
             .build());
  run();
  auto arp = sent(Role::EXCEPTION);
  ASSERT_EQ(arp.size(), 1u);
  EXPECT_EQ(arp[0], Frame().eth(kKernelMac, pods_mac_, 0x0806).arp(2, pods_mac_, kPodGw, kKernelMac, kNodeIp).pad_to(60)
                        .build());
  inject(Role::EXCEPTION,
         Frame().eth(pods_mac_, kKernelMac, 0x0800).ipv4(kNodeIp, kPod, 6).tcp(45000, 8080, 0x02).build());
  run(1);
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Frame().eth(kPodMac, pods_mac_, 0x0800).ipv4(kNodeIp, kPod, 6).tcp(45000, 8080, 0x02).build());
  inject(Role::PODS, Frame().eth(pods_mac_, kPodMac, 0x0800).ipv4(kPod, kNodeIp, 6).tcp(8080, 45000, 0x12).build());
  run(1);
  out = sent(Role::EXCEPTION);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], Frame().eth(tap_mac, kPodMac, 0x0800).ipv4(kPod, kNodeIp, 6).tcp(8080, 45000, 0x12).build());
  EXPECT_EQ(h_->dataplane().conntrack().stats().entries, 0u);
}

// NDP on the pods port (RFC 4861): with an IPv6 pod CIDR the pods' IPv6
// gateway (its first address) answers Neighbor Solicitations, Router flag
// set; another pod's address is answered by proxy, Router flag clear, as
// proxy ARP does for IPv4; duplicate address detection (from ::) and
// addresses outside the CIDR get no answer; a pod's other IPv6 is counted
// as not routed.
class Ndp : public Pipeline {
 protected:
  static testing::Ip6 v6(uint16_t last) {
    testing::Ip6 a = {0xfd, 0x00, 0x00, 0x10, 0x02, 0x44, 0x00, 0x01};  // fd00:10:244:1::/64
    a[14] = static_cast<uint8_t>(last >> 8);
    a[15] = static_cast<uint8_t>(last);
    return a;
  }
  static testing::Ip6 solicited(const testing::Ip6& t) {
    return {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, t[13], t[14], t[15]};
  }
  static Bytes bytes(const testing::Ip6& a) { return Bytes(a.begin(), a.end()); }
  static Bytes ll_option(uint8_t type, const Mac& mac) {
    Bytes o(8);
    o[0] = type;
    o[1] = 1;  // 8 bytes
    std::copy(mac.begin(), mac.end(), o.begin() + 2);
    return o;
  }
  // A Neighbor Solicitation from `src` (:: for DAD, without the source
  // link-layer option) for `target`.
  static Bytes ns(const testing::Ip6& src, const testing::Ip6& target, const Mac& mac = kPodMac) {
    const testing::Ip6 group = solicited(target);
    const Mac group_mac = {0x33, 0x33, group[12], group[13], group[14], group[15]};
    const bool dad = src == testing::Ip6{};
    return Frame()
        .eth(group_mac, mac, 0x86dd)
        .ipv6(src, group, 58, 255)
        .icmp6(135, 0)
        .raw(bytes(target))
        .raw(dad ? Bytes{} : ll_option(1, mac))
        .build();
  }
  Bytes na(const testing::Ip6& target, bool router) const {
    return Frame()
        .eth(kPodMac, pods_mac_, 0x86dd)
        .ipv6(target, kPod6, 58, 255)
        .icmp6(136, 0, router ? 0xe0000000u : 0x60000000u)
        .raw(bytes(target))
        .raw(ll_option(2, pods_mac_))
        .build();
  }
  void SetUp() override {
    Pipeline::SetUp();
    publish6({});
  }
  // node-a dual-stack, with these IPv6 Service ports.
  void publish6(std::vector<lb::ServiceSpec6> services) {
    control::NodeInfo a{"node-a", kNodeIp, {*conf::parse_ipv4_prefix("10.244.1.0/24")}, std::nullopt, ""};
    a.pod_cidrs_v6 = {*conf::parse_ipv6_prefix("fd00:10:244:1::/64")};
    if (node_has_ipv6_) a.internal_ip_v6 = kNode6;
    control::NodeInfo b{"node-b", kRemoteIp, {*conf::parse_ipv4_prefix("10.244.2.0/24")}, kRemoteVtepMac, ""};
    b.pod_cidrs_v6 = {*conf::parse_ipv6_prefix("fd00:10:244:2::/64")};
    control::FibParams p;
    if (underlay6_) b.internal_ip_v6 = kRemote6;
    p.node_name = "node-a";
    p.uplink_mac = up_mac_;
    p.vxlan_ipv6_underlay = underlay6_;
    std::vector<std::string> warnings;
    auto fib = control::build_fib({a, b}, p, ++gen_, warnings);
    fib->services6 = std::make_shared<lb::ServiceTable6>(std::move(services), gen_);
    h_->dataplane().publish(std::move(fib));
  }
  // `who` on the uplink (MAC kRemoteMac) answers svcdp's solicitation.
  void uplink_neighbour_advertises(const testing::Ip6& who) {
    inject(Role::UPLINK, Frame()
                             .eth(up_mac_, kRemoteMac, 0x86dd)
                             .ipv6(who, kNode6, 58, 255)
                             .icmp6(136, 0, 0x60000000u)
                             .raw(bytes(who))
                             .raw(ll_option(2, kRemoteMac))
                             .build());
  }
  // Both pods tell svcdp their MACs (asking for the gateway).
  void pods_known() {
    inject(Role::PODS, ns(kPod6, kGw6));
    inject(Role::PODS, ns(kPod6b, kGw6, kPod2Mac));
    run();
    ASSERT_EQ(sent(Role::PODS).size(), 2u);
  }
  static lb::ServiceSpec6 service6(uint32_t id, const testing::Ip6& vip, std::vector<testing::Ip6> endpoints,
                                   bool local = true) {
    lb::ServiceSpec6 s;
    s.id = id;
    s.ns = "default";
    s.name = id == 0 ? "web" : "empty";
    s.proto = lb::kTcp;
    s.frontends = {{lb::Addr6{vip}, lb::to_be16(80), lb::Frontend::kClusterIp}};
    for (const auto& a : endpoints) {
      lb::Endpoint6 e;
      e.addr = lb::Addr6{a};
      e.port = lb::to_be16(8080);
      e.local = local;
      if (!local) e.vtep = lb::to_be32(kRemoteIp);
      s.endpoints.push_back(e);
    }
    return s;
  }
  uint64_t gen_ = 1;
  bool node_has_ipv6_ = true;  // an IPv6 InternalIP (IPv6 on the uplink, egress masqueraded)
  bool underlay6_ = false;      // --vxlan-ipv6-underlay, node-b at kRemote6
  const testing::Ip6 kPod6 = v6(5), kPod6b = v6(7), kGw6 = v6(1);
  const testing::Ip6 kRemotePod6 = {0xfd, 0x00, 0x00, 0x10, 0x02, 0x44, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0x0a};
  const testing::Ip6 kNode6 = {0xfd, 0, 0, 0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11};    // fd00:0:0:56::11
  const testing::Ip6 kRemote6 = {0xfd, 0, 0, 0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12};  // node-b's IPv6 VTEP
  const testing::Ip6 kClient6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05};  // 2001:db8::5
  const testing::Ip6 kVip6 = {0xfd, 0x00, 0, 0x10, 0, 0x96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a};  // fd00:10:96::a
};

// An IPv6 ClusterIP (kube-proxy's IPv6 proxier, NAT66): the SYN of pod a
// DNATed to the endpoint pod b, the SYN-ACK's source put back to the
// VIP; a Service without endpoints answers a SYN with a RST from its VIP
// (kube-proxy's REJECT, as for IPv4); pod b reaching itself through the
// Service is SNATed to the gateway (hairpin).
TEST_F(Ndp, AnIpv6ClusterIpIsTranslatedBothWays) {
  testing::Ip6 empty_vip = kVip6;
  empty_vip[15] = 0x0b;
  publish6({service6(0, kVip6, {kPod6b}), service6(1, empty_vip, {})});
  pods_known();
  inject(Role::PODS, tcp(pods_mac_, kPodMac, kPod6, 40000, kVip6, 80, 0x02));
  run();
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  Bytes want = tcp(kPod2Mac, pods_mac_, kPod6, 40000, kPod6b, 8080, 0x02, 63);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);

  inject(Role::PODS, tcp(pods_mac_, kPod2Mac, kPod6b, 8080, kPod6, 40000, 0x12));
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  want = tcp(kPodMac, pods_mac_, kVip6, 80, kPod6, 40000, 0x12, 63);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_EQ(totals().lb_new_flows, 1u);
  EXPECT_EQ(totals().lb_reply, 1u);

  const Bytes to_empty = tcp(pods_mac_, kPodMac, kPod6, 40001, empty_vip, 80, 0x02);
  inject(Role::PODS, to_empty);
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  want = Frame().eth(kPodMac, pods_mac_, 0x86dd).ipv6(empty_vip, kPod6, 6, 64).tcp(80, 40001, 0x14, 0, 1001, 0).build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_EQ(totals().lb_rejected, 1u);

  inject(Role::PODS, tcp(pods_mac_, kPod2Mac, kPod6b, 41000, kVip6, 80, 0x02));
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].size(), 14u + 40u + 20u);
  EXPECT_EQ(Bytes(out[0].begin() + 22, out[0].begin() + 38), bytes(kGw6)) << "hairpin: SNAT to the gateway";
  EXPECT_EQ(Bytes(out[0].begin() + 38, out[0].begin() + 54), bytes(kPod6b));
  const auto snat_port = static_cast<uint16_t>(out[0][54] << 8 | out[0][55]);
  EXPECT_GE(snat_port, 1024);
  want = tcp(kPod2Mac, pods_mac_, kGw6, snat_port, kPod6b, 8080, 0x02, 63);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
}

TEST_F(Ndp, TheGatewayAndOtherPodsAreAnsweredForOverNdp) {
  inject(Role::PODS, ns(kPod6, kGw6));
  run();
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], na(kGw6, true)) << testing::hexdump_diff(out[0], na(kGw6, true));

  inject(Role::PODS, ns(kPod6, kPod6b));
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], na(kPod6b, false)) << "proxy NDP: not a router";

  inject(Role::PODS, ns(testing::Ip6{}, kPod6b));  // pod b's duplicate address detection
  testing::Ip6 outside = kPod6b;
  outside[7] = 2;  // fd00:10:244:2::7, another node's
  inject(Role::PODS, ns(kPod6, outside));
  run();
  EXPECT_TRUE(sent(Role::PODS).empty());
  EXPECT_EQ(drops(Drop::kNdpNotForUs), 2u);
  EXPECT_EQ(totals().stage_packets[static_cast<size_t>(Stage::kNdp)], 4u);

  // A node without an IPv6 address has no IPv6 beyond the cluster.
  node_has_ipv6_ = false;
  publish6({});
  testing::Ip6 elsewhere = kPod6b;
  elsewhere[0] = 0x20;  // 2000:10:244:1::7, beyond the cluster
  const Bytes unrouted =
      Frame().eth(pods_mac_, kPodMac, 0x86dd).ipv6(kPod6, elsewhere, 58, 64).icmp6(128, 0, 1).build();
  inject(Role::PODS, unrouted);
  run();
  EXPECT_EQ(drops(Drop::kIp6Unrouted), 1u);
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes unreachable = icmp6_error(kPodMac, pods_mac_, kGw6, kPod6, 64, {1, 0}, unrouted);
  EXPECT_EQ(out[0], unreachable) << "no route: Destination Unreachable, code 0";
}

// Pod to pod on this node over IPv6: svcdp solicits the destination
// (its solicited-node group, from the gateway), holds the packet, and
// sends it once pod b advertises, hop limit less one; a spoofed source
// and an expiring hop limit are dropped.
TEST_F(Ndp, PodToPodOnThisNodeIsForwardedAfterNdp) {
  const Bytes echo = Frame().eth(pods_mac_, kPodMac, 0x86dd).ipv6(kPod6, kPod6b, 58, 64).icmp6(128, 0, 1).payload(8).build();
  inject(Role::PODS, echo);
  run();
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const testing::Ip6 group = solicited(kPod6b);
  const Mac group_mac = {0x33, 0x33, group[12], group[13], group[14], group[15]};
  const Bytes want_ns = Frame()
                            .eth(group_mac, pods_mac_, 0x86dd)
                            .ipv6(kGw6, group, 58, 255)
                            .icmp6(135, 0)
                            .raw(bytes(kPod6b))
                            .raw(ll_option(1, pods_mac_))
                            .build();
  EXPECT_EQ(out[0], want_ns) << testing::hexdump_diff(out[0], want_ns);
  inject(Role::PODS, Frame()
                         .eth(pods_mac_, kPod2Mac, 0x86dd)
                         .ipv6(kPod6b, kGw6, 58, 255)
                         .icmp6(136, 0, 0x60000000u)
                         .raw(bytes(kPod6b))
                         .raw(ll_option(2, kPod2Mac))
                         .build());
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes want = Frame().eth(kPod2Mac, pods_mac_, 0x86dd).ipv6(kPod6, kPod6b, 58, 63).icmp6(128, 0, 1).payload(8).build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);

  testing::Ip6 other_node = kPod6;
  other_node[7] = 2;
  inject(Role::PODS, Frame().eth(pods_mac_, kPodMac, 0x86dd).ipv6(other_node, kPod6b, 58, 64).icmp6(128, 0, 1).build());
  run();
  EXPECT_TRUE(sent(Role::PODS).empty());
  EXPECT_EQ(drops(Drop::kPodSrcSpoofed), 1u);

  // Hop limit 1: Time Exceeded from the gateway, quoting the packet
  // (RFC 4443 section 3.3), back to the pod's MAC.
  const Bytes expiring =
      Frame().eth(pods_mac_, kPodMac, 0x86dd).ipv6(kPod6, kPod6b, 58, 1).icmp6(128, 0, 1).payload(16).build();
  inject(Role::PODS, expiring);
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes time_exceeded = icmp6_error(kPodMac, pods_mac_, kGw6, kPod6, 64, {3, 0}, expiring);
  EXPECT_EQ(out[0], time_exceeded) << testing::hexdump_diff(out[0], time_exceeded);
  EXPECT_EQ(drops(Drop::kIpTtlExpired), 1u);
  EXPECT_EQ(totals().icmp_errors_sent, 1u);
  // Never about an ICMPv6 error (RFC 4443 section 2.4 (e)).
  inject(Role::PODS, Frame().eth(pods_mac_, kPodMac, 0x86dd).ipv6(kPod6, kPod6b, 58, 1).icmp6(1, 4).payload(48).build());
  run();
  EXPECT_TRUE(sent(Role::PODS).empty());
  EXPECT_EQ(drops(Drop::kIpTtlExpired), 2u);
}

// The pods' IPv6 gateway answers ping (RFC 4443 section 4.2).
TEST_F(Ndp, TheGatewayAnswersEchoRequests) {
  inject(Role::PODS, Frame().eth(pods_mac_, kPodMac, 0x86dd).ipv6(kPod6, kGw6, 58, 64).icmp6(128, 0, 0x00070001).payload(24).build());
  run();
  const auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes want = Frame().eth(kPodMac, pods_mac_, 0x86dd).ipv6(kGw6, kPod6, 58, 64).icmp6(129, 0, 0x00070001).payload(24).build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
}

// A large packet's Time Exceeded quotes only what fits in 1280 bytes.
TEST_F(Ndp, AnIcmpV6ErrorIsAtMostTheMinimumMtu) {
  const Bytes big =
      Frame().eth(pods_mac_, kPodMac, 0x86dd).ipv6(kPod6, kPod6b, 17, 1).udp(5000, 53, true).payload(1400).build();
  inject(Role::PODS, big);
  run();
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes want = icmp6_error(kPodMac, pods_mac_, kGw6, kPod6, 64, {3, 0}, big, 1280 - 48);
  EXPECT_EQ(out[0].size(), 14u + 1280u);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
}

// RFC 7348 with an IPv6 inner packet over the IPv4 underlay: a pod's
// packet to a pod of node-b (fd00:10:244:2::/64) leaves in VXLAN to
// node-b's VTEP once ARP resolved it, the hop limit decremented; node-b's
// answer is decapsulated to the pod.
TEST_F(Ndp, PodToRemoteIpv6PodCrossesVxlanBothWays) {
  pods_known();
  const auto udp6 = [](const Mac& dst, const Mac& src, const testing::Ip6& s, const testing::Ip6& d, uint8_t hops) {
    return Frame().eth(dst, src, 0x86dd).ipv6(s, d, 17, hops).udp(40000, 53, true).payload(20).build();
  };
  inject(Role::PODS, udp6(pods_mac_, kPodMac, kPod6, kRemotePod6, 64));
  run();
  remote_answers_arp();
  auto out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_GE(out[0].size(), 50u);
  const uint16_t sport = static_cast<uint16_t>(out[0][34] << 8 | out[0][35]);
  EXPECT_GE(sport, 49152);
  const Bytes want = to_tunnel(udp6(kRemoteVtepMac, up_mac_, kPod6, kRemotePod6, 63), sport);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);

  inject(Role::UPLINK, from_tunnel(udp6(up_mac_, kRemoteVtepMac, kRemotePod6, kPod6, 64)));
  run(1);
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes back = udp6(kPodMac, pods_mac_, kRemotePod6, kPod6, 63);
  EXPECT_EQ(out[0], back) << testing::hexdump_diff(out[0], back);
  EXPECT_EQ(totals().vxlan_encap, 1u);
  EXPECT_EQ(totals().vxlan_decap, 1u);

  // An inner IPv6 packet for no pod of this node is refused.
  inject(Role::UPLINK, from_tunnel(udp6(up_mac_, kRemoteVtepMac, kRemotePod6, kRemotePod6, 64)));
  run(1);
  EXPECT_TRUE(sent(Role::PODS).empty());
  EXPECT_EQ(drops(Drop::kVxlanInnerNotLocal), 1u);
}

// RFC 8200 section 5, RFC 4443 section 3.2: an IPv6 packet larger than
// the tunnel (1500 - 50) is not fragmented but answered with Packet Too
// Big carrying that MTU, from the pods' gateway, quoting what fits 1280.
TEST_F(Ndp, TooBigForTheTunnelGetsPacketTooBig) {
  pods_known();
  const Bytes big = Frame()
                        .eth(pods_mac_, kPodMac, 0x86dd)
                        .ipv6(kPod6, kRemotePod6, 6, 64)
                        .tcp(40000, 80, 0x10)
                        .payload(1451 - 40 - 20)
                        .build();
  ASSERT_EQ(big.size(), 14u + 1451u);
  inject(Role::PODS, big);
  run();
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes want = icmp6_error(kPodMac, pods_mac_, kGw6, kPod6, 64, {2, 0, 1450}, big, 1280 - 48);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_TRUE(sent(Role::UPLINK).empty());
  EXPECT_EQ(drops(Drop::kMtuExceeded), 1u);
  // One byte less fits.
  inject(Role::PODS, Frame()
                         .eth(pods_mac_, kPodMac, 0x86dd)
                         .ipv6(kPod6, kRemotePod6, 6, 64)
                         .tcp(40000, 80, 0x10)
                         .payload(1450 - 40 - 20)
                         .build());
  run();
  remote_answers_arp();
  out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].size(), 1500u + 14u);
}

// An IPv6 ClusterIP whose endpoint is a pod of node-b: DNATed, then in
// VXLAN to node-b; the endpoint's reply comes back decapsulated and is
// translated back to the VIP.
TEST_F(Ndp, AnIpv6ServiceReachesAnEndpointOnAnotherNode) {
  publish6({service6(0, kVip6, {kRemotePod6}, /*local=*/false)});
  pods_known();
  inject(Role::PODS, tcp(pods_mac_, kPodMac, kPod6, 40000, kVip6, 80, 0x02, 64));
  run();
  remote_answers_arp();
  auto out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_GE(out[0].size(), 50u);
  const uint16_t sport = static_cast<uint16_t>(out[0][34] << 8 | out[0][35]);
  Bytes want = to_tunnel(tcp(kRemoteVtepMac, up_mac_, kPod6, 40000, kRemotePod6, 8080, 0x02, 63), sport);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);

  inject(Role::UPLINK, from_tunnel(tcp(up_mac_, kRemoteVtepMac, kRemotePod6, 8080, kPod6, 40000, 0x12, 64)));
  run(1);
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  want = tcp(kPodMac, pods_mac_, kVip6, 80, kPod6, 40000, 0x12, 63);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_EQ(totals().lb_reply, 1u);
}

// An IPv6 NodePort (kube-proxy's IPv6 proxier: the node's IPv6 InternalIP)
// from an outside client on the uplink: DNAT to pod b and, the policy
// being Cluster, SNAT to the pods' IPv6 gateway; pod b's reply is put back
// to [node]:30080 and leaves by the uplink once NDP (from the node's
// address) resolved the on-link client.
TEST_F(Ndp, AnIpv6NodePortFromTheUplinkIsTranslatedBothWays) {
  lb::ServiceSpec6 np = service6(0, kVip6, {kPod6b});
  np.frontends.push_back({lb::Addr6{kNode6}, lb::to_be16(30080), lb::Frontend::kNodePort});
  publish6({np});
  pods_known();
  inject(Role::UPLINK, tcp(up_mac_, kRemoteMac, kClient6, 50000, kNode6, 30080, 0x02, 64));
  run();
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].size(), 14u + 40u + 20u);
  EXPECT_EQ(Bytes(out[0].begin() + 22, out[0].begin() + 38), bytes(kGw6)) << "SNAT to the gateway (Cluster policy)";
  const auto snat_port = static_cast<uint16_t>(out[0][54] << 8 | out[0][55]);
  Bytes want = tcp(kPod2Mac, pods_mac_, kGw6, snat_port, kPod6b, 8080, 0x02, 63);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);

  inject(Role::PODS, tcp(pods_mac_, kPod2Mac, kPod6b, 8080, kGw6, snat_port, 0x12, 64));
  run();
  out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u) << "a Neighbor Solicitation for the client";
  ASSERT_GE(out[0].size(), 14u + 40u + 24u);
  EXPECT_EQ(out[0][20], 58);
  EXPECT_EQ(out[0][54], 135);
  EXPECT_EQ(Bytes(out[0].begin() + 22, out[0].begin() + 38), bytes(kNode6)) << "from the node's address";
  EXPECT_EQ(Bytes(out[0].begin() + 62, out[0].begin() + 78), bytes(kClient6));
  uplink_neighbour_advertises(kClient6);
  run();
  out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  want = tcp(kRemoteMac, up_mac_, kNode6, 30080, kClient6, 50000, 0x12, 63);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_EQ(totals().lb_reply, 1u);

  // The node's own IPv6 (SSH) is not svcdp's; without a kernel, dropped.
  inject(Role::UPLINK, tcp(up_mac_, kRemoteMac, kClient6, 50001, kNode6, 22, 0x02, 64));
  run();
  EXPECT_TRUE(sent(Role::PODS).empty());
  EXPECT_EQ(drops(Drop::kIpLocalUnhandled), 1u);
}

// IPv6 pod egress (ip6tables MASQUERADE of a dual-stack flannel): a pod's
// SYN to 2001:db8::5 leaves by the uplink from the node's IPv6 address
// and a masquerade port, the answer comes back to the pod; ping -6 is
// tracked by its identifier.
TEST_F(Ndp, Ipv6EgressIsMasqueradedToTheNodeAddress) {
  pods_known();
  inject(Role::PODS, tcp(pods_mac_, kPodMac, kPod6, 40000, kClient6, 443, 0x02, 64));
  run();
  auto out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u) << "a Neighbor Solicitation for 2001:db8::5 (on-link: no IPv6 gateway)";
  uplink_neighbour_advertises(kClient6);
  run();
  out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].size(), 14u + 40u + 20u);
  const auto port = static_cast<uint16_t>(out[0][54] << 8 | out[0][55]);
  EXPECT_GE(port, 40000) << "the default --masquerade-ports";
  Bytes want = tcp(kRemoteMac, up_mac_, kNode6, port, kClient6, 443, 0x02, 63);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);

  inject(Role::UPLINK, tcp(up_mac_, kRemoteMac, kClient6, 443, kNode6, port, 0x12, 60));
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  want = tcp(kPodMac, pods_mac_, kClient6, 443, kPod6, 40000, 0x12, 59);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_EQ(totals().masq_new_flows, 1u);

  // A router beyond the uplink sends Packet Too Big about the masqueraded
  // SYN (as it left, hop limit 63): the pod gets it, quoting its own SYN.
  const testing::Ip6 router = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  const Bytes sent_syn = tcp(kRemoteMac, up_mac_, kNode6, port, kClient6, 443, 0x02, 63);
  inject(Role::UPLINK, icmp6_error(up_mac_, kRemoteMac, router, kNode6, 64, {2, 0, 1280}, sent_syn));
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes pod_syn = tcp(kRemoteMac, up_mac_, kPod6, 40000, kClient6, 443, 0x02, 63);
  want = icmp6_error(kPodMac, pods_mac_, router, kPod6, 63, {2, 0, 1280}, pod_syn);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_EQ(totals().lb_icmp_translated, 1u);

  // Echo: the identifier 7 becomes a masquerade port and back.
  inject(Role::PODS,
         Frame().eth(pods_mac_, kPodMac, 0x86dd).ipv6(kPod6, kClient6, 58, 64).icmp6(128, 0, 0x00070001).payload(8).build());
  run();
  out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  const auto id = static_cast<uint16_t>(out[0][58] << 8 | out[0][59]);
  want = Frame().eth(kRemoteMac, up_mac_, 0x86dd).ipv6(kNode6, kClient6, 58, 63).icmp6(128, 0, uint32_t{id} << 16 | 1).payload(8).build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  inject(Role::UPLINK,
         Frame().eth(up_mac_, kRemoteMac, 0x86dd).ipv6(kClient6, kNode6, 58, 64).icmp6(129, 0, uint32_t{id} << 16 | 1).payload(8).build());
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  want = Frame().eth(kPodMac, pods_mac_, 0x86dd).ipv6(kClient6, kPod6, 58, 63).icmp6(129, 0, 0x00070001).payload(8).build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
}

// --vxlan-ipv6-underlay (flannel's dual-stack flannel-v6.1): an IPv6 pod's
// packet for node-b goes in VXLAN over IPv6 from the node's IPv6 address
// to node-b's, resolved over NDP, with the UDP checksum RFC 6935 asks for
// and the tunnel MTU 70 bytes short of the uplink's; node-b's answer over
// IPv6 is decapsulated; one without a checksum or from no node's VTEP is
// refused.
TEST_F(Ndp, Ipv6PodsCrossTheIpv6Underlay) {
  underlay6_ = true;
  publish6({});
  pods_known();
  const auto udp6 = [](const Mac& dst, const Mac& src, const testing::Ip6& s, const testing::Ip6& d, uint8_t hops,
                       size_t payload = 20) {
    return Frame().eth(dst, src, 0x86dd).ipv6(s, d, 17, hops).udp(40000, 53, true).payload(payload).build();
  };
  inject(Role::PODS, udp6(pods_mac_, kPodMac, kPod6, kRemotePod6, 64));
  run();
  auto out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u) << "a Neighbor Solicitation for node-b's IPv6 VTEP";
  EXPECT_EQ(out[0][54], 135);
  EXPECT_EQ(Bytes(out[0].begin() + 62, out[0].begin() + 78), bytes(kRemote6));
  uplink_neighbour_advertises(kRemote6);
  run();
  out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_GE(out[0].size(), 70u);
  const uint16_t sport = static_cast<uint16_t>(out[0][54] << 8 | out[0][55]);
  EXPECT_GE(sport, 49152);
  Bytes want = Frame()
                   .eth(kRemoteMac, up_mac_, 0x86dd)
                   .ipv6(kNode6, kRemote6, 17, 64)
                   .udp(sport, 4789, /*checksum=*/true)
                   .vxlan(kVni)
                   .raw(udp6(kRemoteVtepMac, up_mac_, kPod6, kRemotePod6, 63))
                   .build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);

  const auto from_b = [&](const testing::Ip6& vtep, bool checksum) {
    return Frame()
        .eth(up_mac_, kRemoteMac, 0x86dd)
        .ipv6(vtep, kNode6, 17, 64)
        .udp(50000, 4789, checksum)
        .vxlan(kVni)
        .raw(udp6(up_mac_, kRemoteVtepMac, kRemotePod6, kPod6, 64))
        .build();
  };
  inject(Role::UPLINK, from_b(kRemote6, true));
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  want = udp6(kPodMac, pods_mac_, kRemotePod6, kPod6, 63);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  inject(Role::UPLINK, from_b(kRemote6, false));
  inject(Role::UPLINK, from_b(kClient6, true));
  run();
  EXPECT_TRUE(sent(Role::PODS).empty());
  EXPECT_EQ(drops(Drop::kVxlanZeroChecksum), 1u);
  EXPECT_EQ(drops(Drop::kVxlanUnknownVtep), 1u);

  // 1431 bytes do not fit the IPv6 tunnel (1500 - 70).
  inject(Role::PODS, udp6(pods_mac_, kPodMac, kPod6, kRemotePod6, 64, 1431 - 48));
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0][54], 2) << "Packet Too Big";
  EXPECT_EQ(Bytes(out[0].begin() + 58, out[0].begin() + 62), (Bytes{0, 0, 0x05, 0x96})) << "MTU 1430";
}

// An endpoint's Destination Unreachable about a client's datagram to an
// IPv6 ClusterIP reaches the client as if from the Service: outer source
// the VIP, the quoted packet the client's own (RFC 5508, NAT66).
TEST_F(Ndp, AnEndpointsIcmpv6ErrorIsTranslatedForTheClient) {
  lb::ServiceSpec6 udp = service6(0, kVip6, {kPod6b});
  udp.proto = lb::kUdp;
  publish6({udp});
  pods_known();
  const auto dgram = [](const Mac& dst, const Mac& src, const testing::Ip6& s, uint16_t sp, const testing::Ip6& d,
                        uint16_t dp, uint8_t hops) {
    return Frame().eth(dst, src, 0x86dd).ipv6(s, d, 17, hops).udp(sp, dp, true).payload(16).build();
  };
  inject(Role::PODS, dgram(pods_mac_, kPodMac, kPod6, 40000, kVip6, 80, 64));
  run();
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes at_b = dgram(kPod2Mac, pods_mac_, kPod6, 40000, kPod6b, 8080, 63);
  EXPECT_EQ(out[0], at_b) << testing::hexdump_diff(out[0], at_b);
  inject(Role::PODS, icmp6_error(pods_mac_, kPod2Mac, kPod6b, kPod6, 64, {1, 4}, at_b));
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  const Bytes as_sent = dgram(kPod2Mac, pods_mac_, kPod6, 40000, kVip6, 80, 63);
  const Bytes want = icmp6_error(kPodMac, pods_mac_, kVip6, kPod6, 63, {1, 4}, as_sent);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
}

// RFC 8200 section 4.5: a datagram to an IPv6 ClusterIP in two fragments;
// the first (with the UDP header) is translated and its train
// remembered, the later one gets the same addresses; a later fragment
// whose first was never seen is dropped.
TEST_F(Ndp, Ipv6FragmentsFollowTheirFirstThroughAService) {
  lb::ServiceSpec6 udp = service6(0, kVip6, {kPod6b});
  udp.proto = lb::kUdp;
  publish6({udp});
  pods_known();
  const auto frag = [](uint16_t offset, bool more, uint32_t id) {
    const auto word = static_cast<uint16_t>(offset << 3 | (more ? 1 : 0));
    return Bytes{17, 0, static_cast<uint8_t>(word >> 8), static_cast<uint8_t>(word), static_cast<uint8_t>(id >> 24),
                 static_cast<uint8_t>(id >> 16), static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)};
  };
  const auto first = [&](const Mac& dst, const Mac& src, const testing::Ip6& d, uint16_t dport, uint8_t hops) {
    return Frame().eth(dst, src, 0x86dd).ipv6(kPod6, d, 44, hops).raw(frag(0, true, 0x1234)).udp(40000, dport).payload(32).build();
  };
  const auto later = [&](const Mac& dst, const Mac& src, const testing::Ip6& d, uint8_t hops, uint32_t id = 0x1234) {
    return Frame().eth(dst, src, 0x86dd).ipv6(kPod6, d, 44, hops).raw(frag(5, false, id)).payload(16).build();
  };
  inject(Role::PODS, first(pods_mac_, kPodMac, kVip6, 80, 64));
  run(1);
  inject(Role::PODS, later(pods_mac_, kPodMac, kVip6, 64));
  run();
  auto out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 2u);
  Bytes want = first(kPod2Mac, pods_mac_, kPod6b, 8080, 63);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  want = later(kPod2Mac, pods_mac_, kPod6b, 63);
  EXPECT_EQ(out[1], want) << testing::hexdump_diff(out[1], want);
  EXPECT_EQ(totals().lb_fragments, 1u);

  inject(Role::PODS, later(pods_mac_, kPodMac, kVip6, 64, 0x9999));
  run();
  EXPECT_TRUE(sent(Role::PODS).empty());
  EXPECT_EQ(drops(Drop::kFragNoFirst), 1u);
}

// Hop limit 1 on a decapsulated packet for a local pod: Time Exceeded
// from the pods' IPv6 gateway goes back into the tunnel to the sender's
// node (RFC 4443 section 3.3), as node-b's kernel would answer ours.
TEST_F(Ndp, AnExpiringTunnelledPacketIsAnsweredIntoTheTunnel) {
  pods_known();
  const Bytes inner = Frame()
                          .eth(up_mac_, kRemoteVtepMac, 0x86dd)
                          .ipv6(kRemotePod6, kPod6, 17, 1)
                          .udp(40000, 33434, true)
                          .payload(20)
                          .build();
  inject(Role::UPLINK, from_tunnel(inner));
  run(1);
  EXPECT_TRUE(sent(Role::PODS).empty());
  remote_answers_arp();
  auto out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_GE(out[0].size(), 50u);
  const uint16_t sport = static_cast<uint16_t>(out[0][34] << 8 | out[0][35]);
  const Bytes want = to_tunnel(icmp6_error(kRemoteVtepMac, up_mac_, kGw6, kRemotePod6, 63, {3, 0}, inner), sport);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  EXPECT_EQ(drops(Drop::kIpTtlExpired), 1u);
  EXPECT_EQ(totals().icmp_errors_sent, 1u);
}

// The node's kernel over IPv6 through the TAP (kubelet's probes, the node
// reaching IPv6 Services): it solicits the pods' IPv6 gateway, its route's
// next hop, and svcdp answers; its SYN reaches the pod and the pod's
// answer to the node's IPv6 address goes back to the kernel; to an IPv6
// ClusterIP the node's flow is SNATed to the gateway (kube-proxy
// masquerades traffic from outside the cluster) and the reply reaches
// the kernel from the VIP; a Service without endpoints is refused on the
// TAP; the kernel's other IPv6 leaves by the uplink as it was sent.
class NdpWithKernel : public Ndp {
 protected:
  bool with_kernel() const override { return true; }
};

TEST_F(NdpWithKernel, TheKernelReachesIpv6PodsAndServices) {
  testing::Ip6 empty_vip = kVip6;
  empty_vip[15] = 0x0b;
  publish6({service6(0, kVip6, {kPod6b}), service6(1, empty_vip, {})});
  pods_known();
  const Mac tap_mac = h_->mac(Role::EXCEPTION);
  constexpr Mac kKernelMac = {0x02, 0x5d, 0, 0, 0x00, 0x77};
  inject(Role::EXCEPTION, ns(kNode6, kGw6, kKernelMac));
  run();
  auto out = sent(Role::EXCEPTION);
  ASSERT_EQ(out.size(), 1u);
  const Bytes na_gw = Frame()
                          .eth(kKernelMac, pods_mac_, 0x86dd)
                          .ipv6(kGw6, kNode6, 58, 255)
                          .icmp6(136, 0, 0xe0000000u)
                          .raw(bytes(kGw6))
                          .raw(ll_option(2, pods_mac_))
                          .build();
  EXPECT_EQ(out[0], na_gw) << testing::hexdump_diff(out[0], na_gw);

  inject(Role::EXCEPTION, tcp(pods_mac_, kKernelMac, kNode6, 45000, kPod6, 8080, 0x02));
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  Bytes want = tcp(kPodMac, pods_mac_, kNode6, 45000, kPod6, 8080, 0x02, 63);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);
  inject(Role::PODS, tcp(pods_mac_, kPodMac, kPod6, 8080, kNode6, 45000, 0x12));
  run();
  out = sent(Role::EXCEPTION);
  ASSERT_EQ(out.size(), 1u);
  want = tcp(tap_mac, kPodMac, kPod6, 8080, kNode6, 45000, 0x12);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);

  inject(Role::EXCEPTION, tcp(pods_mac_, kKernelMac, kNode6, 45001, kVip6, 80, 0x02));
  run();
  out = sent(Role::PODS);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].size(), 14u + 40u + 20u);
  const auto snat_port = static_cast<uint16_t>(out[0][54] << 8 | out[0][55]);
  want = tcp(kPod2Mac, pods_mac_, kGw6, snat_port, kPod6b, 8080, 0x02, 63);
  EXPECT_EQ(out[0], want) << "the node's flow SNATed to the gateway\n" << testing::hexdump_diff(out[0], want);
  inject(Role::PODS, tcp(pods_mac_, kPod2Mac, kPod6b, 8080, kGw6, snat_port, 0x12));
  run();
  out = sent(Role::EXCEPTION);
  ASSERT_EQ(out.size(), 1u);
  want = tcp(tap_mac, kPod2Mac, kVip6, 80, kNode6, 45001, 0x12);
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);

  const Bytes to_empty = tcp(pods_mac_, kKernelMac, kNode6, 45002, empty_vip, 80, 0x02);
  inject(Role::EXCEPTION, to_empty);
  run();
  out = sent(Role::EXCEPTION);
  ASSERT_EQ(out.size(), 1u);
  want = Frame().eth(kKernelMac, pods_mac_, 0x86dd).ipv6(empty_vip, kNode6, 6, 64).tcp(80, 45002, 0x14, 0, 1001, 0).build();
  EXPECT_EQ(out[0], want) << testing::hexdump_diff(out[0], want);

  const Bytes beyond = tcp(kRemoteMac, kKernelMac, kNode6, 45003, kClient6, 443, 0x02);
  inject(Role::EXCEPTION, beyond);
  run();
  out = sent(Role::UPLINK);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], beyond);
  EXPECT_EQ(totals().from_kernel, 4u);
}

}  // namespace
}  // namespace svcdp::dp
