// End-to-end generator: a DPDK process of its own that drives a running
// svcdp over net_memif (client side of svcdp's two server ports), sends the
// frames of a pcap from perf/make_traffic.py, receives what svcdp sends
// back, and checks it: every packet's IPv4 and TCP/UDP checksums (svcdp
// updates them incrementally), the rewrite (destination now an endpoint on
// port 8080, TTL one less, for VXLAN the outer headers of RFC 7348), and a
// sample byte for byte against a frame rebuilt here from the input.
//
//   e2e_gen <EAL args> -- PCAP SECONDS RUNS
//
// Ports: 0 = svcdp's uplink, 1 = svcdp's pods port; frames go in on
// port 1 (the pcap's clients). Prints Mpps received and loss per run, then
// min/median/max.
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<uint8_t>;

std::vector<Bytes> read_pcap(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<Bytes> frames;
  char header[24];
  if (!in.read(header, sizeof header)) return frames;
  for (;;) {
    uint32_t rec[4];
    if (!in.read(reinterpret_cast<char*>(rec), sizeof rec)) break;
    Bytes f(rec[2]);
    if (!in.read(reinterpret_cast<char*>(f.data()), static_cast<std::streamsize>(f.size()))) break;
    frames.push_back(std::move(f));
  }
  return frames;
}

struct Stats {
  uint64_t sent = 0, received = 0, bad_checksum = 0, bad_rewrite = 0, sampled = 0, sample_mismatch = 0;
};

// Checks one frame svcdp sent; `by_client` maps (client address, port) to
// the input frame it answers.
void check(const uint8_t* p, uint32_t len, const std::map<uint64_t, const Bytes*>& by_client, Stats& st) {
  if (len < 14 + 20 + 8) return ++st.bad_rewrite, void();
  const uint8_t* inner = p;
  uint32_t inner_len = len;
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(p + 14);
  // VXLAN towards a remote endpoint: RFC 7348 outer IPv4/UDP 4789/VXLAN.
  if (ip->next_proto_id == IPPROTO_UDP && reinterpret_cast<const rte_udp_hdr*>(ip + 1)->dst_port == rte_cpu_to_be_16(4789)) {
    if (rte_ipv4_cksum(ip) != 0 && ip->hdr_checksum != 0xffff) ++st.bad_checksum;
    inner = p + 14 + 20 + 8 + 8;
    inner_len = len - 50;
    ip = reinterpret_cast<const rte_ipv4_hdr*>(inner + 14);
  }
  if (inner_len < 14 + 20 + 20) return ++st.bad_rewrite, void();
  // A header with a correct checksum sums to 0 (RFC 1071).
  if (rte_ipv4_cksum(ip) != 0 && ip->hdr_checksum != 0xffff) ++st.bad_checksum;
  // The transport checksum over the pseudo-header sums to 0 when right
  // (rte_ipv4_udptcp_cksum_verify is still experimental in 22.11).
  const auto l4_len = static_cast<size_t>(rte_be_to_cpu_16(ip->total_length) - sizeof(rte_ipv4_hdr));
  uint32_t sum = uint32_t{rte_raw_cksum(ip + 1, l4_len)} + rte_ipv4_phdr_cksum(ip, 0);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  if (sum != 0xffff) ++st.bad_checksum;
  const auto* tcp = reinterpret_cast<const rte_tcp_hdr*>(ip + 1);
  const uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
  const bool endpoint = (dst >> 16) == 0x0af5 || (dst >> 15) == (0x0af48000 >> 15);  // 10.245/16, 10.244.128/17
  if (!endpoint || tcp->dst_port != rte_cpu_to_be_16(8080)) ++st.bad_rewrite;
  // A sample, byte for byte: the input frame with the endpoint as
  // destination, TTL - 1 and both checksums computed from scratch.
  if ((st.received & 1023) != 0) return;
  const uint64_t key = uint64_t{ip->src_addr} << 16 | tcp->src_port;
  auto it = by_client.find(key);
  if (it == by_client.end()) return;
  ++st.sampled;
  Bytes want(*it->second);
  std::memcpy(want.data(), inner, 12);  // MACs: what svcdp's neighbour table says
  auto* wip = reinterpret_cast<rte_ipv4_hdr*>(want.data() + 14);
  std::memcpy(&wip->dst_addr, &ip->dst_addr, 4);
  wip->time_to_live = static_cast<uint8_t>(wip->time_to_live - 1);
  auto* wtcp = reinterpret_cast<rte_tcp_hdr*>(wip + 1);
  wtcp->dst_port = tcp->dst_port;
  wip->hdr_checksum = 0;
  wip->hdr_checksum = rte_ipv4_cksum(wip);
  wtcp->cksum = 0;
  wtcp->cksum = rte_ipv4_udptcp_cksum(wip, wtcp);
  if (want.size() != inner_len || std::memcmp(want.data(), inner, want.size()) != 0) ++st.sample_mismatch;
}

}  // namespace

int main(int argc, char** argv) {
  const int eal = rte_eal_init(argc, argv);
  if (eal < 0) return std::fprintf(stderr, "e2e_gen: EAL init failed\n"), 1;
  argc -= eal;
  argv += eal;
  if (argc < 4) return std::fprintf(stderr, "usage: e2e_gen <EAL> -- PCAP SECONDS RUNS\n"), 2;
  const std::vector<Bytes> frames = read_pcap(argv[1]);
  const double seconds = std::atof(argv[2]);
  const int runs = std::atoi(argv[3]);
  if (frames.empty() || rte_eth_dev_count_avail() < 2) return std::fprintf(stderr, "e2e_gen: need frames and 2 ports\n"), 2;
  std::map<uint64_t, const Bytes*> by_client;
  for (const Bytes& f : frames) {
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(f.data() + 14);
    by_client[uint64_t{ip->src_addr} << 16 | reinterpret_cast<const rte_tcp_hdr*>(ip + 1)->src_port] = &f;
  }

  rte_mempool* pool = rte_pktmbuf_pool_create("e2e", 65535, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
  for (uint16_t port = 0; port < 2; ++port) {
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 || rte_eth_rx_queue_setup(port, 0, 1024, 0, nullptr, pool) != 0 ||
        rte_eth_tx_queue_setup(port, 0, 1024, 0, nullptr) != 0 || rte_eth_dev_start(port) != 0)
      return std::fprintf(stderr, "e2e_gen: port %u set-up failed\n", port), 1;
  }
  // memif connects asynchronously.
  for (int i = 0; i < 100; ++i) {
    rte_eth_link a{}, b{};
    rte_eth_link_get_nowait(0, &a);
    rte_eth_link_get_nowait(1, &b);
    if (a.link_status && b.link_status) break;
    rte_delay_ms(100);
  }

  std::vector<double> mpps, loss;
  Stats total;
  for (int run = 0; run < runs; ++run) {
    Stats st;
    size_t next = 0;
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    rte_mbuf* burst[32];
    while (Clock::now() < end) {
      if (rte_pktmbuf_alloc_bulk(pool, burst, 32) == 0) {
        for (rte_mbuf*& m : burst) {
          const Bytes& f = frames[next++ % frames.size()];
          std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
        }
        const uint16_t sent = rte_eth_tx_burst(1, 0, burst, 32);
        if (sent < 32) rte_pktmbuf_free_bulk(burst + sent, 32 - sent);
        st.sent += sent;
      }
      for (uint16_t port = 0; port < 2; ++port) {
        const uint16_t n = rte_eth_rx_burst(port, 0, burst, 32);
        for (uint16_t i = 0; i < n; ++i) {
          check(rte_pktmbuf_mtod(burst[i], const uint8_t*), rte_pktmbuf_data_len(burst[i]), by_client, st);
          ++st.received;
        }
        rte_pktmbuf_free_bulk(burst, n);
      }
    }
    const double got = static_cast<double>(st.received);
    mpps.push_back(got / seconds / 1e6);
    loss.push_back(st.sent ? 100.0 * (1.0 - got / static_cast<double>(st.sent)) : 100.0);
    std::printf("run %d: sent %llu, received %llu (%.2f Mpps), loss %.2f %%, bad checksums %llu, bad rewrites %llu, "
                "sampled %llu byte for byte, %llu differ\n",
                run + 1, static_cast<unsigned long long>(st.sent), static_cast<unsigned long long>(st.received),
                mpps.back(), loss.back(), static_cast<unsigned long long>(st.bad_checksum),
                static_cast<unsigned long long>(st.bad_rewrite), static_cast<unsigned long long>(st.sampled),
                static_cast<unsigned long long>(st.sample_mismatch));
    total.bad_checksum += st.bad_checksum;
    total.bad_rewrite += st.bad_rewrite;
    total.sample_mismatch += st.sample_mismatch;
    total.sampled += st.sampled;
    rte_delay_ms(100);  // drain what is in flight before the next run
    for (uint16_t port = 0; port < 2; ++port)
      for (uint16_t n; (n = rte_eth_rx_burst(port, 0, burst, 32)) > 0;) rte_pktmbuf_free_bulk(burst, n);
  }
  auto mmm = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return std::array<double, 3>{v.front(), v[v.size() / 2], v.back()};
  };
  const auto r = mmm(mpps), l = mmm(loss);
  std::printf("e2e: %.2f / %.2f / %.2f Mpps (min/median/max of %d runs), loss %.2f / %.2f / %.2f %%, "
              "bad checksums %llu, bad rewrites %llu, byte-for-byte samples %llu with %llu differences\n",
              r[0], r[1], r[2], runs, l[0], l[1], l[2], static_cast<unsigned long long>(total.bad_checksum),
              static_cast<unsigned long long>(total.bad_rewrite), static_cast<unsigned long long>(total.sampled),
              static_cast<unsigned long long>(total.sample_mismatch));
  for (uint16_t port = 0; port < 2; ++port) rte_eth_dev_stop(port);
  rte_eal_cleanup();
  return total.bad_checksum || total.bad_rewrite || total.sample_mismatch || !total.sampled ? 1 : 0;
}
