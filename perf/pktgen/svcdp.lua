-- pktgen-dpdk 23.x Lua script: the svcdp mixes on port 0 one after the
-- other, each loaded from its command file (the traffic is defined there
-- once), sent for `duration` seconds, then what pktgen sent is printed so
-- that it can be compared with svcdp's /metrics over the same window.
--   pktgen -l 0-2 -n 4 -a <PCI> -- -P -m "[1:2].0" -f svcdp.lua
-- Run from perf/pktgen (the command files are found relative to it).
-- Only pktgen's built-in `pktgen` table is used: no require of its
-- Pktgen.lua, so the script runs from any directory.

local port = "0"
local duration = tonumber(os.getenv("SVCDP_PKTGEN_SECONDS") or "10")
-- The node's uplink MAC when it is not the files' 02:5d:00:00:00:01.
local node_mac = os.getenv("SVCDP_NODE_MAC")
-- pktgen owns the terminal: the results also go to this file.
local out = io.open(os.getenv("SVCDP_PKTGEN_OUT") or "/tmp/svcdp-pktgen.txt", "a")

local function report(line)
  print(line)
  out:write(line, "\n")
  out:flush()
end

local function run(name, file)
  pktgen.load(file)
  if node_mac then pktgen.range.dst_mac(port, "start", node_mac) end
  pktgen.clr()
  pktgen.start(port)
  pktgen.delay(duration * 1000)
  pktgen.stop(port)
  pktgen.delay(500)  -- the last bursts leave the port
  local stats = pktgen.portStats(port, "port")[tonumber(port)]
  report(string.format("svcdp-pktgen %-18s sent %d packets in %d s: %.3f Mpps", name, stats.opackets, duration,
                       stats.opackets / duration / 1e6))
end

pktgen.screen("off")
run("nodeport-tcp64", "nodeport-tcp64.pkt")
run("lb-ip-udp", "lb-ip-udp.pkt")
out:close()
pktgen.quit()
