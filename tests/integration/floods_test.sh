#!/usr/bin/env bash
# Floods against a small table, with real clients beside them: a SYN flood
# at 10 k/s (FLOOD_RATE; spoofed sources, then one source whose kernel resets every
# SYN-ACK) at a NodePort while conntrack holds 1,024 flows, and an ARP
# flood of 10 k senders against a 4,096-entry neighbour table. During the
# SYN flood at least 90 % of a LAN client's new connections are answered
# within 1 s and an established stream keeps going (content checked);
# after it, every new connection is answered at once; after the ARP flood
# a pod started then is reachable. Cleans up on any exit.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${SVCDP_BIN:?set SVCDP_BIN to the svcdp binary}
rate=${FLOOD_RATE:-10000}
capacity=${FLOOD_CT_CAPACITY:-1024}
# shellcheck source=netns.sh
. "$here/netns.sh"
# shellcheck source=cluster_gen.sh
. "$here/cluster_gen.sh"
tool="python3 $here/svc_tool.py"
flood="python3 $here/flood.py"
topo_require
trap topo_down EXIT INT TERM

NS_EXT=$TOPO_PREFIX-ext
NS_FLOOD=$TOPO_PREFIX-flood
NS_NEWPOD=$TOPO_PREFIX-newpod
NS_GW=$TOPO_PREFIX-gw NS_INET=$TOPO_PREFIX-inet
EXT_IP=192.168.56.100 FLOOD_IP=192.168.56.66 NEWPOD_IP=10.244.1.30 GW_IP=192.168.56.1

topo_up
backends_up
add_lan_host "$NS_EXT" "$EXT_IP"
add_lan_host "$NS_FLOOD" "$FLOOD_IP"
# The node's default gateway: answers to spoofed sources go there, as on
# any node, rather than to an ARP request each.
add_internet "$NS_GW" "$GW_IP" "$NS_INET" 203.0.113.10
{
  gen_nodes
  gen_service web 10.96.0.10 80 8080 TCP 30080
  gen_slice web TCP 8080 "$LPOD_IP@node-a" "$RPOD_IP@node-b" "$RPOD2_IP@node-b"
  gen_service stream 10.96.0.20 9000 9000 TCP 30900
  gen_slice stream TCP 9000 "$LPOD_IP@node-a"
} >"$TOPO_TMP/cluster.yaml"
TOPO_CLUSTER=$TOPO_TMP/cluster.yaml start_svcdp "$bin" --conntrack-capacity "$capacity" \
  --uplink-gateway "$GW_IP" --uplink-subnet 192.168.56.0/24 || exit 1
in_ns "$NS_EXT" ping -c 1 -W 2 "$NODE_IP" >/dev/null 2>&1
in_ns "$NS_RPOD" ping -c 1 -W 2 "$LPOD_IP" >/dev/null 2>&1

metric() {
  ip netns exec "$NS_NODE" curl -s -m 3 http://127.0.0.1:9662/metrics |
    awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { print s + 0 }'
}

# syn_flood WHAT SOURCES: the flood for 8 s; from its second second on, a
# LAN client's connection attempts (>= 90 % answered within 1 s); then a
# second of attempts that must all be answered.
syn_flood() {
  local what=$1 sources=$2
  in_ns "$NS_FLOOD" $flood syn eth0 "$UPLINK_MAC" "$NODE_IP" 30080 "$rate" 8 "$sources" >"$TOPO_TMP/flood.log" 2>&1 &
  local pid=$!
  sleep 1.5
  check "SYN flood ($what): >= 90 % of new connections answered during it" \
    in_ns "$NS_EXT" $tool attempts "$NODE_IP" 30080 5 0.9
  wait "$pid"
  sed 's/^/    /' "$TOPO_TMP/flood.log"
  check "SYN flood ($what): every new connection answered right after it" \
    in_ns "$NS_EXT" $tool attempts "$NODE_IP" 30080 1 1.0
}

# An established stream from the LAN host through the NodePort for the
# whole of both floods: no send waits over 1 s, the endpoint gets every byte.
ip netns exec "$NS_EXT" $tool stream "$NODE_IP" 30900 22 - 1.0 >"$TOPO_TMP/stream.log" 2>&1 &
stream=$!
sleep 1
syn_flood "spoofed sources" spoofed
syn_flood "one source, resetting" "$FLOOD_IP"
echo "    conntrack evictions: $(metric svcdp_conntrack_evictions_total), refusals: $(metric svcdp_conntrack_refusals_total)"
check "the flood filled the table: flows were evicted for room" test "$(metric svcdp_conntrack_evictions_total)" -gt 0
wait "$stream"
rc=$?
sed 's/^/    /' "$TOPO_TMP/stream.log"
check "the established stream kept going through both floods, intact" test "$rc" -eq 0

# ARP flood: 10 k senders asking for the node's address, 2.5 times the
# neighbour table; then a new pod must still be reachable (its entry
# takes the place of a sender's) from node-b's pod and from the LAN host.
in_ns "$NS_FLOOD" $flood arp eth0 10000 "$NODE_IP" | sed 's/^/    /'
sleep 0.5
echo "    neighbour evictions: $(metric svcdp_neighbour_evictions_total)"
add_pod "$NS_NEWPOD" "$NEWPOD_IP"
check "after an ARP flood of 10 k senders a new pod answers node-b's pod" \
  in_ns "$NS_RPOD" ping -c 2 -W 2 "$NEWPOD_IP"
check "... and the LAN host still reaches the NodePort" in_ns "$NS_EXT" $tool attempts "$NODE_IP" 30080 1 1.0
check "learned senders gave way to needed neighbours (evictions counted)" \
  test "$(metric svcdp_neighbour_evictions_total)" -gt 0

stop_svcdp
check "svcdp exits 0 on SIGINT" test $? -eq 0
sed -n "/drops by reason/,\$p" "$SVCDP_LOG" | sed "s/^/    /"
check_report
