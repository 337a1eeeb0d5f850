#include "dataplane/port.h"

#include "dataplane/error.h"

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace svcdp::dp {
namespace {

[[noreturn]] void fail(const PortSetup& s, const std::string& what, int rc) {
  throw DataplaneError(std::string(kRoleNames[idx(s.role)]) + " port " + s.device + ": " + what +
                       (rc ? std::string(" (") + std::strerror(rc < 0 ? -rc : rc) + ")" : std::string()));
}

}  // namespace

uint16_t port_configure(const PortSetup& s, std::span<rte_mempool* const> rx_pools) {
  uint16_t port_id = 0;
  if (rte_eth_dev_get_port_by_name(s.device.c_str(), &port_id) != 0) {
    std::string known;
    uint16_t p;
    RTE_ETH_FOREACH_DEV(p) {
      char name[RTE_ETH_NAME_MAX_LEN];
      if (rte_eth_dev_get_name_by_port(p, name) == 0) known += (known.empty() ? "" : ", ") + std::string(name);
    }
    throw DataplaneError(std::string(kRoleNames[idx(s.role)]) + " port: no DPDK device named '" + s.device +
                         "' (devices: " + (known.empty() ? "none" : known) + ")");
  }
  rte_eth_dev_info info;
  if (int rc = rte_eth_dev_info_get(port_id, &info); rc != 0) fail(s, "cannot read device info", rc);
  if (s.mtu > info.max_mtu)
    fail(s, "supports an MTU up to " + std::to_string(info.max_mtu) + ", not --mtu " + std::to_string(s.mtu), 0);
  if (info.max_rx_queues < s.queues || info.max_tx_queues < s.queues)
    fail(s,
         "has " + std::to_string(std::min(info.max_rx_queues, info.max_tx_queues)) + " queue pairs, " +
             std::to_string(s.queues) + " workers need one each (e.g. net_af_packet's qpairs=)",
         0);

  rte_eth_conf conf{};
  if (s.queues > 1 && info.flow_type_rss_offloads != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
  }
  // The port verifies IPv4 header checksums when it can; check_ipv4
  // trusts its verdict. svcdp's own rewrites update checksums
  // incrementally (RFC 1624), cheaper than describing headers for TX
  // offload, so none is asked for.
  conf.rxmode.offloads = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
  if (int rc = rte_eth_dev_configure(port_id, s.queues, s.queues, &conf); rc != 0)
    fail(s, "configure failed", rc);
  // Virtual devices that cannot set an MTU (DPDK 22.11's memif, ring)
  // carry whatever they are given: not an error.
  if (int rc = rte_eth_dev_set_mtu(port_id, s.mtu); rc != 0 && rc != -ENOTSUP && rc != -ENOSYS)
    fail(s, "cannot set MTU " + std::to_string(s.mtu), rc);
  uint16_t rx_desc = s.rx_desc, tx_desc = s.tx_desc;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rx_desc, &tx_desc); rc != 0)
    fail(s, "descriptor counts refused", rc);
  const int socket = std::max(rte_eth_dev_socket_id(port_id), 0);
  for (uint16_t q = 0; q < s.queues; ++q) {
    if (int rc = rte_eth_rx_queue_setup(port_id, q, rx_desc, socket, nullptr, rx_pools[q]); rc != 0)
      fail(s, "RX queue " + std::to_string(q) + " set-up failed", rc);
    if (int rc = rte_eth_tx_queue_setup(port_id, q, tx_desc, socket, nullptr); rc != 0)
      fail(s, "TX queue " + std::to_string(q) + " set-up failed", rc);
  }
  return port_id;
}

void port_start(uint16_t port_id, const std::string& device) {
  if (int rc = rte_eth_dev_start(port_id); rc != 0)
    throw DataplaneError("port " + device + ": start failed (" + std::strerror(-rc) + ")");
}

void port_stop(uint16_t port_id) {
  rte_eth_dev_stop(port_id);
  rte_eth_dev_close(port_id);
}

TapDevice::TapDevice(const std::string& iface, const rte_ether_addr& mac) : device_("net_tap_" + iface) {
  char mac_text[RTE_ETHER_ADDR_FMT_SIZE];
  rte_ether_format_addr(mac_text, sizeof mac_text, &mac);
  const std::string args = "iface=" + iface + ",mac=" + mac_text;
  if (int rc = rte_vdev_init(device_.c_str(), args.c_str()); rc != 0)
    throw DataplaneError("exception port: cannot create TAP interface '" + iface + "' (" + std::strerror(-rc) +
                         "; needs /dev/net/tun and CAP_NET_ADMIN)");
}

TapDevice::~TapDevice() { rte_vdev_uninit(device_.c_str()); }

rte_ether_addr port_mac_by_name(const std::string& device) {
  uint16_t port_id;
  if (rte_eth_dev_get_port_by_name(device.c_str(), &port_id) != 0)
    throw DataplaneError("no DPDK device named '" + device + "'");
  return port_mac(port_id);
}

rte_ether_addr port_mac(uint16_t port_id) {
  rte_ether_addr mac{};
  rte_eth_macaddr_get(port_id, &mac);
  return mac;
}

}  // namespace svcdp::dp
