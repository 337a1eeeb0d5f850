#!/usr/bin/env bash
# Pod-to-pod across nodes through svcdp: a local pod and a pod behind a
# Linux node with a flannel-style vxlan device ping each other and move
# 10 MB over TCP both ways, content checked. Cleans up on any exit.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${SVCDP_BIN:?set SVCDP_BIN to the svcdp binary}
# shellcheck source=netns.sh
. "$here/netns.sh"
topo_require
trap topo_down EXIT INT TERM

topo_up
start_svcdp "$bin" --exception-iface svcdp0 || exit 1
host_kernel_up

# The first packets wait for ARP on both sides: warm up, then expect no loss.
in_ns "$NS_POD" ping -c 2 -W 2 "$RPOD_IP" >/dev/null 2>&1
check "ping pod -> remote pod" in_ns "$NS_POD" ping -q -c 5 -i 0.2 -W 2 "$RPOD_IP"
check "ping remote pod -> pod" in_ns "$NS_RPOD" ping -q -c 5 -i 0.2 -W 2 "$POD_IP"
check "ping with 1422-byte payload (full 1450 MTU, DF)" in_ns "$NS_POD" ping -q -c 3 -M do -s 1422 -W 2 "$RPOD_IP"
check "10 MB TCP pod -> remote pod" tcp_transfer "$NS_POD" "$NS_RPOD" "$RPOD_IP" 10000000
check "10 MB TCP remote pod -> pod" tcp_transfer "$NS_RPOD" "$NS_POD" "$POD_IP" 10000000
# The node itself stays reachable through the exception path: ARP and
# ping answered by its kernel, and a TCP service on the node address.
in_ns "$NS_REMOTE" ping -c 1 -W 2 "$NODE_IP" >/dev/null 2>&1
check "ping remote node -> node address (kernel behind the TAP)" in_ns "$NS_REMOTE" ping -q -c 3 -i 0.2 -W 2 "$NODE_IP"
check "1 MB TCP remote node -> node address (SSH-like)" tcp_transfer "$NS_REMOTE" "$NS_HOST" "$NODE_IP" 1000000

stop_svcdp
rc=$?
check "svcdp exits 0 on SIGINT" test "$rc" -eq 0
grep -E "vxlan_encap|drops by reason" -A3 "$SVCDP_LOG" | head -8
check "svcdp encapsulated and decapsulated" grep -qE "vxlan_encap=[1-9][0-9]* vxlan_decap=[1-9]" "$SVCDP_LOG"
check "svcdp handed node traffic to the kernel" grep -qE "to_kernel=[1-9]" "$SVCDP_LOG"

check_report
