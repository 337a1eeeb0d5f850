#!/usr/bin/env bash
# make demo: svcdp carrying a pod network between two "nodes" built from
# network namespaces, with real Linux traffic; prints what crossed and
# svcdp's counters, then removes everything. Usage: demo.sh [SVCDP_BINARY]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/svcdp}
# shellcheck source=../../tests/integration/netns.sh
. "$root/tests/integration/netns.sh"
topo_require
trap topo_down EXIT INT TERM

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
fail() {
  echo "demo: $*" >&2
  exit 1
}

step "1. A two-node cluster in network namespaces"
topo_up
cat <<TXT
  node-a (svcdp)   InternalIP $NODE_IP   pods 10.244.1.0/24   uplink up0 $UPLINK_MAC
      pod          $POD_IP on the pods port (gateway 10.244.1.1, answered by svcdp)
  node-b (Linux)   InternalIP $REMOTE_IP   pods 10.244.2.0/24   vxlan0 VNI 1, VtepMAC $REMOTE_VTEP_MAC
      pod          $RPOD_IP behind cni0
  Nodes as Kubernetes sees them: conf/demo/cluster.yaml
TXT

step "2. Start svcdp on node-a (net_af_packet on up0 and pods0, TAP svcdp0 to the node's kernel)"
echo "  $bin -l 0,1 --no-huge -m 512 --no-pci --vdev=net_af_packet0,iface=up0 --vdev=net_af_packet1,iface=pods0 --"
echo "       --node-name node-a --cluster-file conf/demo/cluster.yaml --uplink net_af_packet0 --pods net_af_packet1 --exception-iface svcdp0"
start_svcdp "$bin" --exception-iface svcdp0 || fail "svcdp did not start"
host_kernel_up
grep "svcdp:" "$SVCDP_LOG" | sed 's/^/  /'

step "3. ping across the overlay: pod $POD_IP -> pod $RPOD_IP (VXLAN to node-b), and back"
in_ns "$NS_POD" ping -c 1 -W 2 "$RPOD_IP" >/dev/null 2>&1  # first packet waits for ARP
in_ns "$NS_POD" ping -c 4 -i 0.2 -W 2 "$RPOD_IP" | sed 's/^/  /' || fail "ping pod -> remote pod failed"
in_ns "$NS_RPOD" ping -q -c 4 -i 0.2 -W 2 "$POD_IP" | tail -2 | sed 's/^/  /' || fail "ping remote pod -> pod failed"

step "4. 10 MB over TCP, content checked with sha256, both ways"
printf '  pod -> remote pod: '
tcp_transfer "$NS_POD" "$NS_RPOD" "$RPOD_IP" 10000000 || fail "transfer pod -> remote pod failed"
printf '  remote pod -> pod: '
tcp_transfer "$NS_RPOD" "$NS_POD" "$POD_IP" 10000000 || fail "transfer remote pod -> pod failed"

step "5. The node stays reachable: node-b pings node-a's address, answered by its kernel through svcdp0"
in_ns "$NS_REMOTE" ping -c 1 -W 2 "$NODE_IP" >/dev/null 2>&1
in_ns "$NS_REMOTE" ping -q -c 3 -i 0.2 -W 2 "$NODE_IP" | tail -2 | sed 's/^/  /' || fail "node address unreachable"

step "6. Stop svcdp (SIGINT): per-port counters and drops by reason"
log=$SVCDP_LOG
stop_svcdp || fail "svcdp did not exit cleanly"
sed -n '/svcdp: counters/,$p' "$log" | sed 's/^/  /'

step "Done: everything the demo made is being removed."
