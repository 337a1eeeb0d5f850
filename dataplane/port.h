// Ethernet port set-up: find a DPDK device by name, configure one RX and
// one TX queue per worker (RSS across them where the PMD offers it), start.
#pragma once

#include "dataplane/types.h"

#include <rte_ether.h>
#include <rte_mempool.h>

#include <span>

#include <string>

namespace svcdp::dp {

struct PortSetup {
  std::string device;  // DPDK name: PCI address or vdev name
  Role role = Role::UPLINK;
  uint16_t queues = 1;
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint16_t mtu = 1500;  // IP MTU the port is set to; refused when above its max_mtu
};

// Returns the port id of `device`, configured and with its queues set up
// (not started): RX queue q fills from rx_pools[q] (the pool on the
// socket of the worker polling it). Throws DataplaneError naming the
// device and the problem. Thread: main, after EAL init.
uint16_t port_configure(const PortSetup& setup, std::span<rte_mempool* const> rx_pools);

// A kernel TAP interface made by the net_tap PMD, removed on destruction.
// The kernel side gets `mac` (the uplink's), so frames pass between the
// uplink and the kernel unchanged. Throws DataplaneError. Thread: main.
class TapDevice {
 public:
  TapDevice(const std::string& iface, const rte_ether_addr& mac);
  ~TapDevice();
  TapDevice(const TapDevice&) = delete;
  TapDevice& operator=(const TapDevice&) = delete;
  const std::string& device() const { return device_; }

 private:
  std::string device_;
};

// MAC of a device by name, before it is configured. Thread: main.
rte_ether_addr port_mac_by_name(const std::string& device);

// Thread: main.
void port_start(uint16_t port_id, const std::string& device);
void port_stop(uint16_t port_id);
rte_ether_addr port_mac(uint16_t port_id);

}  // namespace svcdp::dp
