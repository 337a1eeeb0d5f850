-- pktgen-dpdk Lua script: the svcdp flow mixes on port 0, one after the
-- other, each for `duration` seconds at full rate, printing what pktgen
-- sent so it can be compared with svcdp's /metrics over the same window.
--   pktgen -l 0-4 -n 4 -a <PCI> -- -P -m "[1:2].0" -f svcdp.lua
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local port = "0"
local node_mac = "02:5d:00:00:00:01"  -- svcdp's uplink
local node_ip = "192.168.56.11"
local duration = 10

local function common(proto, size)
  pktgen.stop(port)
  pktgen.set(port, "rate", 100)  -- or lower: pktgen paces to the link speed the port reports
  pktgen.ip_proto(port, proto)
  pktgen.dst_mac(port, "start", node_mac)
  pktgen.src_ip(port, "start", "172.16.0.1")
  pktgen.src_ip(port, "inc", "0.0.0.1")
  pktgen.src_ip(port, "min", "172.16.0.1")
  pktgen.src_ip(port, "max", "172.16.255.254")
  pktgen.src_port(port, "start", 1024)
  pktgen.src_port(port, "inc", 1)
  pktgen.src_port(port, "min", 1024)
  pktgen.src_port(port, "max", 1039)
  pktgen.pkt_size(port, "start", size)
  pktgen.pkt_size(port, "inc", 0)
  pktgen.pkt_size(port, "min", size)
  pktgen.pkt_size(port, "max", size)
end

local function run(name)
  pktgen.set_range(port, "on")
  pktgen.clr()
  pktgen.start(port)
  pktgen.delay(duration * 1000)
  pktgen.stop(port)
  local stats = pktgen.portStats(port, "port")[tonumber(port)]
  printf("%-28s sent %d packets, %.2f Mpps\n", name, stats.opackets, stats.opackets / duration / 1e6)
end

-- NodePort, 64-byte TCP (SYN then segments of 1 M flows as the ranges wrap).
common("tcp", 64)
pktgen.dst_ip(port, "start", node_ip)
pktgen.dst_ip(port, "inc", "0.0.0.0")
pktgen.dst_port(port, "start", 30080)
pktgen.dst_port(port, "inc", 0)
run("nodeport tcp 64B")

-- LoadBalancer IPs, 64-byte UDP over 40 addresses.
common("udp", 64)
pktgen.dst_ip(port, "start", "192.168.56.200")
pktgen.dst_ip(port, "inc", "0.0.0.1")
pktgen.dst_ip(port, "min", "192.168.56.200")
pktgen.dst_ip(port, "max", "192.168.56.239")
pktgen.dst_port(port, "start", 53)
pktgen.dst_port(port, "inc", 0)
run("lb-ip udp 64B")

-- The same at 1500 bytes.
common("udp", 1500)
pktgen.dst_ip(port, "start", "192.168.56.200")
run("lb-ip udp 1500B")
