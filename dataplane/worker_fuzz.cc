// libFuzzer target: arbitrary frames through the real worker and control
// half (ring harness, exception port on). The first input byte picks the
// port (bits 0-1) and whether the harness fixes the outer (bit 2) and the
// VXLAN-inner (bit 3) IPv4 header checksums, so that mutations get past
// the checksum checks into the deeper stages. Must never crash, leak or
// trip a sanitizer; the other tests check what comes out.
#include "control/fib_builder.h"
#include "dataplane/testing/ring_harness.h"

#include <rte_eal.h>
#include <rte_ip.h>

#include <cstdlib>
#include <memory>

namespace {

using namespace svcdp;

std::unique_ptr<testing::RingHarness> g_harness;

void fix_ip_checksum(testing::Bytes& f, size_t at) {
  if (f.size() < at + sizeof(rte_ipv4_hdr)) return;
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(f.data() + at);
  if ((ip->version_ihl & 0xf) != 5) return;  // only what the worker accepts
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
}

std::vector<lb::ServiceSpec> services() {
  using lb::to_be16;
  using lb::to_be32;
  std::vector<lb::ServiceSpec> specs;
  for (uint8_t proto : {lb::kTcp, lb::kUdp}) {
    lb::ServiceSpec s;
    s.id = static_cast<uint32_t>(specs.size());
    s.proto = proto;
    s.affinity_client_ip = proto == lb::kUdp;
    s.frontends = {{to_be32(0x0a60000a), to_be16(80), lb::Frontend::kClusterIp},         // 10.96.0.10
                   {to_be32(0xc0a8380b), to_be16(30080), lb::Frontend::kNodePort},       // node-a
                   {to_be32(0xc0a838c8), to_be16(80), lb::Frontend::kLoadBalancerIp}};  // 192.168.56.200
    lb::Endpoint local, remote;
    local.addr = to_be32(0x0af4010b);  // 10.244.1.11
    local.port = to_be16(8080);
    local.local = true;
    remote.addr = to_be32(0x0af4020a);  // 10.244.2.10
    remote.port = to_be16(8080);
    remote.vtep = to_be32(0xc0a8380c);
    s.endpoints = {local, remote};
    specs.push_back(s);
  }
  lb::ServiceSpec empty;
  empty.id = 2;
  empty.frontends = {{to_be32(0x0a60000d), to_be16(80), lb::Frontend::kClusterIp}};  // 10.96.0.13
  specs.push_back(empty);
  return specs;
}

// An IPv6 ClusterIP fd00:10:96::a:80 (and NodePort [fd00:56::11]:30080)
// with a local endpoint and one on node-b (VXLAN over IPv6), and a UDP
// and a TCP one without endpoints (NAT66, REJECT: ICMPv6 and RST).
std::vector<lb::ServiceSpec6> services6() {
  const auto addr = [](const char* text) { return lb::Addr6{*conf::parse_ipv6(text)}; };
  lb::ServiceSpec6 web;
  web.id = 3;
  web.proto = lb::kTcp;
  web.frontends = {{addr("fd00:10:96::a"), lb::to_be16(80), lb::Frontend::kClusterIp},
                   {addr("fd00:56::11"), lb::to_be16(30080), lb::Frontend::kNodePort}};
  lb::Endpoint6 e;
  e.addr = addr("fd00:10:244:1::b");
  e.port = lb::to_be16(8080);
  e.local = true;
  lb::Endpoint6 remote;
  remote.addr = addr("fd00:10:244:2::a");
  remote.port = lb::to_be16(8080);
  remote.vtep = lb::to_be32(0xc0a8380c);
  web.endpoints = {e, remote};
  lb::ServiceSpec6 empty;
  empty.id = 4;
  empty.proto = lb::kUdp;
  empty.frontends = {{addr("fd00:10:96::d"), lb::to_be16(53), lb::Frontend::kClusterIp}};
  lb::ServiceSpec6 empty_tcp;
  empty_tcp.id = 5;
  empty_tcp.proto = lb::kTcp;
  empty_tcp.frontends = {{addr("fd00:10:96::e"), lb::to_be16(80), lb::Frontend::kClusterIp}};
  return {web, empty, empty_tcp};
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* args[] = {"worker_fuzz", "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "-l", "0",
                        "--log-level", "*:error", "--file-prefix", "svcdp-fuzz"};
  if (rte_eal_init(static_cast<int>(std::size(args)), const_cast<char**>(args)) < 0) std::abort();
  dp::DataplaneConfig c;
  c.workers = 1;
  c.rx_desc = c.tx_desc = 128;
  c.mbufs = 4095;
  c.neigh_capacity = 256;
  g_harness = std::make_unique<testing::RingHarness>(c, /*with_kernel=*/true);
  control::NodeInfo a{"node-a", 0xc0a8380b, {*conf::parse_ipv4_prefix("10.244.1.0/24")}, std::nullopt, ""};
  a.pod_cidrs_v6 = {*conf::parse_ipv6_prefix("fd00:10:244:1::/64")};  // IPv6 pods, gateway fd00:10:244:1::1
  a.internal_ip_v6 = *conf::parse_ipv6("fd00:56::11");  // IPv6 NodePorts, egress masquerade, the IPv6 underlay
  control::NodeInfo b{"node-b", 0xc0a8380c, {*conf::parse_ipv4_prefix("10.244.2.0/24")}, std::nullopt, ""};
  b.pod_cidrs_v6 = {*conf::parse_ipv6_prefix("fd00:10:244:2::/64")};
  b.internal_ip_v6 = *conf::parse_ipv6("fd00:56::12");
  control::FibParams p;
  p.vxlan_ipv6_underlay = true;
  p.node_name = "node-a";
  p.uplink_mac = g_harness->mac(dp::Role::UPLINK);
  std::vector<std::string> warnings;
  auto fib = control::build_fib({a, b}, p, 1, warnings);
  fib->services = std::make_shared<const lb::ServiceTable>(services(), 1);
  fib->services6 = std::make_shared<const lb::ServiceTable6>(services6(), 1);
  // Cluster DNS at 10.96.0.10:53 (queries from pods and the kernel reach
  // the dns stage), with a policy in front.
  auto web = std::make_shared<dns::ServiceRecords>();
  web->name = "web";
  web->ns = "default";
  web->cluster_ips = {0x0a600014};
  web->ports = {{"http", "tcp", 80}};
  web->slices = {{{{"http", "tcp", 8080}}, {{0x0af4010b, "10-244-1-11"}}}};
  dns::ZoneConfig zc;
  zc.ns_address = 0x0a60000a;
  fib->dns = std::make_shared<const dns::Zone>(zc, std::vector<std::shared_ptr<const dns::ServiceRecords>>{web},
                                               std::vector<std::string>{}, 1);
  fib->dns_addresses = {lb::to_be32(0x0a60000a)};
  dns::PolicySpec policy;
  policy.rules = {{"blocked", dns::PolicyRule::Match::kPattern, "*.blocked.test", true, {}},
                  {"ads", dns::PolicyRule::Match::kRegex, "^ads[0-9]+\\.", true, {}}};
  std::string error;
  fib->dns_policy = dns::Policy::compile(policy, 1, error);
  if (!fib->dns_policy) std::abort();
  g_harness->dataplane().publish(std::move(fib));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 2001) return -1;
  const uint8_t ctl = data[0];
  testing::Bytes frame(data + 1, data + size);
  if (ctl & 4) fix_ip_checksum(frame, 14);
  if (ctl & 8) fix_ip_checksum(frame, 64);  // Ethernet + IPv4 + UDP + VXLAN + inner Ethernet
  const auto role = static_cast<dp::Role>((ctl & 3) % dp::kRoleCount);
  if ((ctl & 16) && frame.size() >= 6) {
    const testing::Mac port_mac = g_harness->mac(role);
    std::copy(port_mac.begin(), port_mac.end(), frame.begin());
  }
  g_harness->inject(role, frame);
  g_harness->run(1, 300'000'000);  // time moves: neighbour timers fire too
  g_harness->discard_sent();
  return 0;
}
