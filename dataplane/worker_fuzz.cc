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
  control::NodeInfo b{"node-b", 0xc0a8380c, {*conf::parse_ipv4_prefix("10.244.2.0/24")}, std::nullopt, ""};
  control::FibParams p;
  p.node_name = "node-a";
  p.uplink_mac = g_harness->mac(dp::Role::UPLINK);
  std::vector<std::string> warnings;
  g_harness->dataplane().publish(control::build_fib({a, b}, p, 1, warnings));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 2001) return -1;
  const uint8_t ctl = data[0];
  testing::Bytes frame(data + 1, data + size);
  if (ctl & 4) fix_ip_checksum(frame, 14);
  if (ctl & 8) fix_ip_checksum(frame, 64);  // Ethernet + IPv4 + UDP + VXLAN + inner Ethernet
  const auto role = static_cast<dp::Role>((ctl & 3) % dp::kRoleCount);
  g_harness->inject(role, frame);
  g_harness->run(1, 300'000'000);  // time moves: neighbour timers fire too
  g_harness->discard_sent();
  return 0;
}
