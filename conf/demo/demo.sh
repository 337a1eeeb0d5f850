#!/usr/bin/env bash
# make demo: svcdp as a node's dataplane, between network namespaces with
# the Linux kernel as every peer. node-a runs svcdp: it takes the node's
# address over from the NIC, writes the CNI configuration, and its pods
# are made by the real CNI plugins; its kernel probes a pod and curls a
# ClusterIP through svcdp; a pod reaches a host outside the cluster
# (masqueraded); node-c is a second svcdp node, node-b a flannel-style
# Linux node. Prints what crossed, one `svcdpctl services` and a few
# metrics, then removes everything. Usage: demo.sh [SVCDP_BINARY]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/svcdp}
ctl=$(dirname "$bin")/svcdpctl
here=$root/tests/integration
# shellcheck source=../../tests/integration/netns.sh
. "$here/netns.sh"
# shellcheck source=../../tests/integration/cluster_gen.sh
. "$here/cluster_gen.sh"
tool="python3 $here/svc_tool.py"
cni="python3 $here/cni.py"
topo_require
command -v dnsmasq >/dev/null || { echo "missing dnsmasq: run make deps"; exit 1; }
cleanup() {
  rm -rf "/etc/netns/$NS_CLIENT"
  topo_down
}
trap cleanup EXIT INT TERM

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
fail() {
  echo "demo: $*" >&2
  exit 1
}
indent() { sed 's/^/  /'; }

NS_EXT=$TOPO_PREFIX-ext NS_GW=$TOPO_PREFIX-gw NS_INET=$TOPO_PREFIX-inet NS_NODEC=$TOPO_PREFIX-nodec
NS_CLIENT=$TOPO_PREFIX-client NS_WEB=$TOPO_PREFIX-web NS_C1=$TOPO_PREFIX-c1
GW_IP=192.168.56.1 INET_IP=203.0.113.10 NODEC_IP=192.168.56.13 NODEC_MAC=02:5d:00:00:03:01
CLIENT_IP=10.244.1.2 WEB_IP=10.244.1.3 C1_IP=10.244.3.2

# histogram NS URL N: N requests, one connection each; "backend count" lines.
histogram() {
  $tool http "$2" "${3#http://}" "$4" 2>/dev/null || true
}

step "1. The cluster: three nodes on one LAN, a gateway to the internet"
topo_up
add_lan_host "$NS_EXT" 192.168.56.100
add_internet "$NS_GW" "$GW_IP" "$NS_INET" "$INET_IP"
ip netns exec "$NS_INET" python3 "$here/svc_tool.py" serve internet >"$TOPO_TMP/inet.log" 2>&1 &
ip -n "$NS_GW" route add 10.244.0.0/16 via "$NODE_IP"
# node-a's kernel owns its address on the NIC (up0) until svcdp starts.
ip -n "$NS_NODE" addr add "$NODE_IP/24" dev up0
ip -n "$NS_NODE" route add default via "$GW_IP"
ip netns exec "$NS_NODE" python3 -m http.server --bind 0.0.0.0 10250 >/dev/null 2>&1 &  # "kubelet"
# node-c: a second svcdp node; node-b (flannel) knows it.
add_svcdp_node "$NS_NODEC" "$NODEC_IP" "$NODEC_MAC" 10.244.3.0/24
ip netns exec "$NS_RPOD" python3 "$here/svc_tool.py" serve rpod >"$TOPO_TMP/rpod.log" 2>&1 &
{
  gen_nodes
  gen_node node-c "$NODEC_IP" 10.244.3.0/24 "$NODEC_MAC"
  gen_service web 10.96.0.10 80 8080 TCP 30080
  gen_slice web TCP 8080 "$WEB_IP@node-a" "$RPOD_IP@node-b" "$C1_IP@node-c"
  gen_kube_dns 10.96.0.53 "$WEB_IP"  # dnsmasq in pod web stands in for CoreDNS
} >"$TOPO_TMP/cluster.yaml"
cat <<TXT | indent
node-a  svcdp  $NODE_IP  pods 10.244.1.0/24  (its kernel: "kubelet" on :10250)
node-b  Linux  $REMOTE_IP  pods 10.244.2.0/24  flannel-style vxlan0; rpod $RPOD_IP
node-c  svcdp  $NODEC_IP  pods 10.244.3.0/24
ext     host   192.168.56.100 on the LAN; gateway $GW_IP; internet host $INET_IP
Service default/web: ClusterIP 10.96.0.10:80, NodePort 30080, endpoints on all three nodes
Service kube-system/kube-dns: ClusterIP 10.96.0.53, dnsmasq in pod web standing in for CoreDNS
TXT

step "2. svcdp on node-a: the node's address moves from up0 to the TAP svcdp0, CNI configuration written"
export TOPO_CLUSTER=$TOPO_TMP/cluster.yaml TOPO_PODS_TAP=svcdp-pods
mkdir -p "$TOPO_TMP/net.d-a" "$TOPO_TMP/net.d-c" "$TOPO_TMP/state"
echo "  svcdp ... --vdev=net_af_packet0,iface=up0 --vdev=net_tap1,iface=svcdp-pods -- --node-name node-a"
echo "        --uplink net_af_packet0 --pods net_tap1 --exception-iface svcdp0 --take-over-address up0"
echo "        --kernel-route 10.244.0.0/16 --kernel-route 10.96.0.0/12 --cni-conf-dir /etc/cni/net.d"
echo "        --dns-service kube-system/kube-dns ..."
start_svcdp "$bin" --exception-iface svcdp0 --take-over-address up0 --state-dir "$TOPO_TMP/state" \
  --dns-service kube-system/kube-dns \
  --kernel-route 10.244.0.0/16 --kernel-route 10.96.0.0/12 --cni-conf-dir "$TOPO_TMP/net.d-a" \
  --uplink-gateway "$GW_IP" --uplink-subnet 192.168.56.0/24 --cluster-cidr 10.244.0.0/16 || fail "svcdp did not start"
pid_a=$SVCDP_PID
for _ in $(seq 30); do ip -n "$NS_NODE" route show 10.96.0.0/12 | grep -q svcdp0 && break; sleep 0.1; done
echo "  node-a's kernel now:"
ip -n "$NS_NODE" -4 -br addr show | indent | indent
ip -n "$NS_NODE" route | indent | indent
echo "  /etc/cni/net.d/10-svcdp.conflist: $(python3 -c "
import json; p = json.load(open('$TOPO_TMP/net.d-a/10-svcdp.conflist'))['plugins'][0]
print(p['type'], p['mode'], 'on', p['master'] + ',', p['ipam']['type'], p['ipam']['ranges'][0][0]['subnet'], 'gw', p['ipam']['ranges'][0][0]['gateway'])")"

step "3. Pods made as containerd makes them: CNI ADD with Debian's macvlan and host-local plugins"
pod() {
  ip netns exec "$1" ip link set svcdp-pods up
  new_ns "$3"
  CNI_IPAM_DATA_DIR=$TOPO_TMP/ipam-${1##*-} ip netns exec "$1" $cni add "$2/10-svcdp.conflist" "$3" "$4" >/dev/null ||
    fail "CNI ADD $4"
  ip netns exec "$3" python3 "$here/svc_tool.py" serve "$4" >"$TOPO_TMP/$4.log" 2>&1 &
  echo "  $4: $(ip -n "$3" -4 -br addr show eth0 | awk '{print $3}'), $(ip -n "$3" route | head -1)"
}
pod "$NS_NODE" "$TOPO_TMP/net.d-a" "$NS_CLIENT" client
pod "$NS_NODE" "$TOPO_TMP/net.d-a" "$NS_WEB" web
echo "  node-c, a second svcdp node, with its own CNI configuration and pod:"
TOPO_SVCDP_NS=$NS_NODEC TOPO_SVCDP_NODE=node-c TOPO_SVCDP_LOG=$TOPO_TMP/svcdp-c.log SVCDP_SOCKET=$TOPO_TMP/c.sock \
  start_svcdp "$bin" --cni-conf-dir "$TOPO_TMP/net.d-c" || fail "svcdp on node-c did not start"
pid_c=$SVCDP_PID
SVCDP_PID=$pid_a
pod "$NS_NODEC" "$TOPO_TMP/net.d-c" "$NS_C1" c1
for n in client web rpod c1; do for _ in $(seq 50); do grep -q serving "$TOPO_TMP/$n.log" && break; sleep 0.1; done; done
in_ns "$NS_CLIENT" ping -c 1 -W 2 "$RPOD_IP" >/dev/null 2>&1  # first packets wait for ARP
in_ns "$NS_CLIENT" ping -c 1 -W 2 "$C1_IP" >/dev/null 2>&1

step "4. node-a's kernel as kubelet: 10 HTTP probes of pod web, then curl to the ClusterIP"
ok=0
for _ in $(seq 10); do ip netns exec "$NS_NODE" curl -sf -m 2 "http://$WEB_IP:8080/" >/dev/null && ok=$((ok + 1)); done
echo "  probes answered: $ok of 10"
echo "  curl http://10.96.0.10/ from the node: $(ip netns exec "$NS_NODE" curl -s -m 3 http://10.96.0.10/)"

step "5. Pod client: to the ClusterIP 30 times (every node's endpoint answers), to the internet"
ip netns exec "$NS_CLIENT" $tool http 10.96.0.10 80 30 | indent
echo "  curl http://$INET_IP:8080/ from pod client: $(ip netns exec "$NS_CLIENT" curl -s -m 3 "http://$INET_IP:8080/")"
echo "  (the internet host saw node-a's address: masqueraded; the pod got the answer back)"

step "5b. Cluster DNS: pod client resolves \`web\` through kubelet's search list and curls http://web/"
ip netns exec "$NS_WEB" dnsmasq --no-daemon --no-resolv --no-hosts --listen-address "$WEB_IP" --bind-interfaces \
  --host-record=example.test,"$INET_IP" --log-queries --log-facility="$TOPO_TMP/coredns.log" >/dev/null 2>&1 &
mkdir -p "/etc/netns/$NS_CLIENT"
printf 'nameserver 10.96.0.53\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' \
  >"/etc/netns/$NS_CLIENT/resolv.conf"
echo "  /etc/resolv.conf of pod client, as kubelet writes it:"
indent <"/etc/netns/$NS_CLIENT/resolv.conf" | indent
for _ in $(seq 30); do ip netns exec "$NS_WEB" ss -lun | grep -q "$WEB_IP:53 " && break; sleep 0.1; done
echo "  getent hosts web: $(ip netns exec "$NS_CLIENT" getent hosts web)"
echo "  curl http://web/ from pod client: $(ip netns exec "$NS_CLIENT" curl -s -m 3 http://web/)"
echo "  getent hosts example.test (external: its search-list expansions answered by svcdp, the name by \"CoreDNS\"):"
echo "    $(ip netns exec "$NS_CLIENT" getent hosts example.test)"
echo "  queries \"CoreDNS\" saw: $(grep -c 'query\[' "$TOPO_TMP/coredns.log" 2>/dev/null || echo 0)"
"$ctl" dns stats | indent

step "6. Between the two svcdp nodes: pod client (node-a) <-> pod c1 (node-c), and the NodePorts"
in_ns "$NS_CLIENT" ping -c 1 -W 2 "$C1_IP" >/dev/null 2>&1
in_ns "$NS_CLIENT" ping -q -c 3 -i 0.2 -W 2 "$C1_IP" | tail -2 | indent
printf '  10 MB over TCP client (node-a) -> c1 (node-c), sha256 checked: '
tcp_transfer "$NS_CLIENT" "$NS_C1" "$C1_IP" 10000000 || fail "transfer node-a -> node-c failed"
echo "  the NodePort on each svcdp node from ext, 12 requests each:"
for ip in "$NODE_IP" "$NODEC_IP"; do
  echo "    $ip:30080 ->" $(ip netns exec "$NS_EXT" $tool http "$ip" 30080 12 | tr '\n' ' ')
done

step "7. svcdpctl services, and a few of node-a's metrics"
"$ctl" services | indent
ip netns exec "$NS_NODE" curl -s -m 3 http://127.0.0.1:9662/metrics |
  grep -E '^svcdp_(lb_new_flows_total|masquerade_new_flows_total|vxlan_encap_packets_total|to_kernel_packets_total|from_kernel_packets_total) ' | indent

step "8. Stop both svcdp (SIGINT): node-a gives its address back to up0"
stop_svcdp || fail "svcdp on node-a did not exit cleanly"
SVCDP_PID=$pid_c
stop_svcdp || fail "svcdp on node-c did not exit cleanly"
ip -n "$NS_NODE" -4 -br addr show up0 | indent

step "Done: everything the demo made is being removed."
