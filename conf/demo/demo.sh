#!/usr/bin/env bash
# make demo: svcdp carrying a pod network between two "nodes" built from
# network namespaces and load-balancing a Service with one local and two
# remote endpoints (ClusterIP and NodePort), with real Linux traffic and
# curl; prints what crossed and svcdp's counters, then removes everything. Usage: demo.sh [SVCDP_BINARY]
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

NS_EXT=$TOPO_PREFIX-ext

# curl_many NS URL N: N requests, one connection each; prints "count backend".
curl_many() {
  local ns=$1 url=$2 n=$3 i
  for i in $(seq "$n"); do
    ip netns exec "$ns" curl -s -m 5 "$url" || echo "(failed)"
  done
}

step "1. A two-node cluster in network namespaces"
topo_up
backends_up
add_lan_host "$NS_EXT" 192.168.56.100
cat <<TXT
  node-a (svcdp)   InternalIP $NODE_IP   pods 10.244.1.0/24   uplink up0 $UPLINK_MAC
      client pod   $POD_IP   (gateway 10.244.1.1, answered by svcdp)
      lpod         10.244.1.20   backend of Service default/web
  node-b (Linux)   InternalIP $REMOTE_IP   pods 10.244.2.0/24   vxlan0 VNI 1, VtepMAC $REMOTE_VTEP_MAC
      rpod, rpod2  $RPOD_IP, 10.244.2.11   backends of Service default/web
  ext              192.168.56.100 on the uplink network (outside the cluster)
  Service default/web: ClusterIP 10.96.0.10:80, NodePort 30080 -> endpoints :8080
  The cluster as Kubernetes sees it: conf/demo/cluster.yaml
TXT

step "2. Start svcdp on node-a (net_af_packet on up0 and pods0, TAP svcdp0 to the node's kernel)"
echo "  $bin -l 0,1 --no-huge -m 512 --no-pci --vdev=net_af_packet0,iface=up0 --vdev=net_af_packet1,iface=pods0 --"
echo "       --node-name node-a --cluster-file conf/demo/cluster.yaml --uplink net_af_packet0 --pods net_af_packet1 --exception-iface svcdp0"
start_svcdp "$bin" --exception-iface svcdp0 || fail "svcdp did not start"
host_kernel_up
grep "svcdp:\|tables built" "$SVCDP_LOG" | sed 's/^/  /'

step "3. The overlay: client pod $POD_IP pings pod $RPOD_IP on node-b (VXLAN), and back"
in_ns "$NS_POD" ping -c 1 -W 2 "$RPOD_IP" >/dev/null 2>&1  # first packet waits for ARP
in_ns "$NS_POD" ping -q -c 3 -i 0.2 -W 2 "$RPOD_IP" | tail -2 | sed 's/^/  /' || fail "ping pod -> remote pod failed"
printf '  10 MB over TCP pod -> remote pod, sha256 checked: '
tcp_transfer "$NS_POD" "$NS_RPOD" "$RPOD_IP" 10000000 || fail "transfer pod -> remote pod failed"

step "4. curl http://10.96.0.10/ from the client pod, 30 times: each backend says who it is and who asked"
echo "  $(curl_many "$NS_POD" http://10.96.0.10/ 1)"
curl_many "$NS_POD" http://10.96.0.10/ 30 | awk '{ print $1 }' | sort | uniq -c | awk '{ printf "  %-6s %2d of 30  %s\n", $2, $1, substr("##############################", 1, $1) }'

step "5. curl http://$NODE_IP:30080/ (the NodePort) from ext, 12 times: masqueraded to 10.244.1.1"
curl_many "$NS_EXT" "http://$NODE_IP:30080/" 12 | sort | sed 's/^/  /'

step "6. The node stays reachable: ext pings node-a's address, answered by its kernel through svcdp0"
in_ns "$NS_EXT" ping -c 1 -W 2 "$NODE_IP" >/dev/null 2>&1
in_ns "$NS_EXT" ping -q -c 3 -i 0.2 -W 2 "$NODE_IP" | tail -2 | sed 's/^/  /' || fail "node address unreachable"

step "7. Stop svcdp (SIGINT): port, load-balancer and per-service counters, drops by reason"
log=$SVCDP_LOG
stop_svcdp || fail "svcdp did not exit cleanly"
sed -n '/svcdp: counters/,$p' "$log" | sed 's/^/  /'

step "Done: everything the demo made is being removed."
