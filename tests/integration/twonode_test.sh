#!/usr/bin/env bash
# Two svcdp nodes and a Linux flannel node: node-a (192.168.56.11, pods
# 10.244.1.0/24) and node-c (192.168.56.13, 10.244.3.0/24) run svcdp, each
# with pods made by the CNI plugins from the configuration it writes;
# node-b (10.244.2.0/24) is the flannel-style Linux node of netns.sh.
# Checked: pod <-> pod across every pair of nodes, a ClusterIP with an
# endpoint on each of the three nodes reached from pods of both svcdp
# nodes (all three answer), the NodePort on each svcdp node from a LAN
# host, and a 10 MB transfer between pods of the two svcdp nodes.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${SVCDP_BIN:?set SVCDP_BIN to the svcdp binary}
# shellcheck source=netns.sh
. "$here/netns.sh"
# shellcheck source=cluster_gen.sh
. "$here/cluster_gen.sh"
tool="python3 $here/svc_tool.py"
cni="python3 $here/cni.py"
topo_require
[ -x /usr/lib/cni/macvlan ] || { echo "missing the CNI plugins (containernetworking-plugins): run make deps"; exit 1; }
trap topo_down EXIT INT TERM

NS_NODEC=$TOPO_PREFIX-nodec
NS_EXT=$TOPO_PREFIX-ext
NS_A1=$TOPO_PREFIX-a1
NS_C1=$TOPO_PREFIX-c1
NODEC_IP=192.168.56.13
NODEC_MAC=02:5d:00:00:03:01
A1_IP=10.244.1.2
C1_IP=10.244.3.2

topo_up
add_lan_host "$NS_EXT" 192.168.56.100
# node-c: a second svcdp node on the LAN.
add_svcdp_node "$NS_NODEC" "$NODEC_IP" "$NODEC_MAC" 10.244.3.0/24
ip netns exec "$NS_RPOD" python3 "$here/svc_tool.py" serve rpod >"$TOPO_TMP/rpod.log" 2>&1 &

{
  gen_nodes
  gen_node node-c "$NODEC_IP" 10.244.3.0/24 "$NODEC_MAC"
  gen_service web 10.96.0.10 80 8080 TCP 30080
  gen_slice web TCP 8080 "$A1_IP@node-a" "$RPOD_IP@node-b" "$C1_IP@node-c"
} >"$TOPO_TMP/cluster.yaml"
export TOPO_CLUSTER=$TOPO_TMP/cluster.yaml TOPO_PODS_TAP=svcdp-pods CNI_IPAM_DATA_DIR
mkdir -p "$TOPO_TMP/net.d-a" "$TOPO_TMP/net.d-c"

start_svcdp "$bin" --cni-conf-dir "$TOPO_TMP/net.d-a" || exit 1
pid_a=$SVCDP_PID log_a=$SVCDP_LOG
TOPO_SVCDP_NS=$NS_NODEC TOPO_SVCDP_NODE=node-c TOPO_SVCDP_LOG=$TOPO_TMP/svcdp-c.log SVCDP_SOCKET=$TOPO_TMP/c.sock \
  start_svcdp "$bin" --cni-conf-dir "$TOPO_TMP/net.d-c" || exit 1
pid_c=$SVCDP_PID log_c=$SVCDP_LOG
SVCDP_PID=$pid_a

# pod NODE_NS NET.D POD_NS NAME: a pod made by the CNI plugins on a node.
pod() {
  local node=$1 netd=$2 ns=$3 name=$4
  ip netns exec "$node" ip link set svcdp-pods up
  new_ns "$ns"
  CNI_IPAM_DATA_DIR=$TOPO_TMP/ipam-${node##*-} ip netns exec "$node" $cni add "$netd/10-svcdp.conflist" "$ns" "$name" \
    >/dev/null || return 1
  ip netns exec "$ns" python3 "$here/svc_tool.py" serve "$name" >"$TOPO_TMP/$name.log" 2>&1 &
}
check "CNI ADD on node-a (svcdp)" pod "$NS_NODE" "$TOPO_TMP/net.d-a" "$NS_A1" a1
check "CNI ADD on node-c (svcdp)" pod "$NS_NODEC" "$TOPO_TMP/net.d-c" "$NS_C1" c1
check "the pods got the first addresses of their nodes' pod CIDRs" sh -c "
  ip -n $NS_A1 -4 addr show eth0 | grep -q 'inet $A1_IP/24' && ip -n $NS_C1 -4 addr show eth0 | grep -q 'inet $C1_IP/24'"
for n in a1 c1 rpod; do
  for _ in $(seq 50); do grep -q serving "$TOPO_TMP/$n.log" && break; sleep 0.1; done
done

check "pod a1 (node-a) -> pod c1 (node-c): svcdp to svcdp" in_ns "$NS_A1" ping -q -c 2 -i 0.2 -W 2 "$C1_IP"
check "pod c1 (node-c) -> pod a1 (node-a)" in_ns "$NS_C1" ping -q -c 2 -i 0.2 -W 2 "$A1_IP"
check "pod a1 (node-a) -> rpod (node-b, flannel)" in_ns "$NS_A1" ping -q -c 2 -i 0.2 -W 2 "$RPOD_IP"
check "pod c1 (node-c) -> rpod (node-b, flannel)" in_ns "$NS_C1" ping -q -c 2 -i 0.2 -W 2 "$RPOD_IP"
check "rpod (node-b, flannel) -> pod c1 (node-c)" in_ns "$NS_RPOD" ping -q -c 2 -i 0.2 -W 2 "$C1_IP"

# all_three NS HOST PORT: 60 connections from NS reach all three endpoints.
all_three() {
  local out
  out=$(in_ns "$1" $tool http "$2" "$3" 60) || return 1
  echo "$out" | sed 's/^/    /'
  echo "$out" | grep -q '^a1 ' && echo "$out" | grep -q '^c1 ' && echo "$out" | grep -q '^rpod '
}
check "ClusterIP from a pod of node-a reaches the endpoints of all three nodes" all_three "$NS_A1" 10.96.0.10 80
check "ClusterIP from a pod of node-c reaches the endpoints of all three nodes" all_three "$NS_C1" 10.96.0.10 80
check "NodePort on node-a from a LAN host" all_three "$NS_EXT" "$NODE_IP" 30080
check "NodePort on node-c from a LAN host" all_three "$NS_EXT" "$NODEC_IP" 30080
check "10 MB TCP from pod a1 (node-a) to pod c1 (node-c), content checked" tcp_transfer "$NS_A1" "$NS_C1" "$C1_IP" 10000000

stop_svcdp
check "node-a's svcdp exits 0" test $? -eq 0
SVCDP_PID=$pid_c
stop_svcdp
check "node-c's svcdp exits 0" test $? -eq 0
grep -h "drops by reason" -A6 "$log_a" "$log_c" | sed 's/^/    /'
check_report
