#!/usr/bin/env bash
# Pods made the way containerd makes them: svcdp writes the node's CNI
# configuration once it knows the pod CIDR (--cni-conf-dir), and the real
# plugins of Debian's containernetworking-plugins (macvlan, host-local)
# are invoked with CNI_COMMAND=ADD/DEL (tests/integration/cni.py, as
# libcni does). The pods port is a TAP whose kernel side is the macvlan
# master. Checked: the pod's addressing, pod <-> pod on this node through
# svcdp (proxy ARP), to a pod on node-b (VXLAN), a ClusterIP whose
# endpoint is the other CNI pod on this node (the reply reverse-translated),
# and DEL releasing the addresses. node-a is dual-stack: the conflist has
# its IPv6 range too, each pod gets an IPv6 address with svcdp's IPv6
# gateway as default route, and ping -6 passes between them.
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
[ -x /usr/lib/cni/macvlan ] && [ -x /usr/lib/cni/host-local ] ||
  { echo "missing the CNI plugins (containernetworking-plugins): run make deps"; exit 1; }
trap topo_down EXIT INT TERM

NS_A=$TOPO_PREFIX-cnia
NS_B=$TOPO_PREFIX-cnib
# host-local hands out the pod CIDR in order after the gateway.
A_IP=10.244.1.2
B_IP=10.244.1.3
export CNI_IPAM_DATA_DIR=$TOPO_TMP/ipam

topo_up
{
  gen_node node-a "$NODE_IP" 10.244.1.0/24 "$UPLINK_MAC" fd00:10:244:1::/64
  gen_node node-b "$REMOTE_IP" 10.244.2.0/24 "$REMOTE_VTEP_MAC"
  gen_service web 10.96.0.10 80 8080 TCP
  gen_slice web TCP 8080 "$B_IP@node-a"
} >"$TOPO_TMP/cluster.yaml"
mkdir -p "$TOPO_TMP/net.d"
TOPO_PODS_TAP=svcdp-pods TOPO_CLUSTER=$TOPO_TMP/cluster.yaml start_svcdp "$bin" --cni-conf-dir "$TOPO_TMP/net.d" || exit 1
conflist=$TOPO_TMP/net.d/10-svcdp.conflist
ip netns exec "$NS_NODE" ip link set svcdp-pods up
check "svcdp wrote the CNI configuration for the node's pod CIDR" \
  python3 -c "
import json, sys
p = json.load(open('$conflist'))['plugins'][0]
assert p['type'] == 'macvlan' and p['master'] == 'svcdp-pods' and p['mode'] == 'private', p
r = p['ipam']['ranges'][0][0]
assert r['subnet'] == '10.244.1.0/24' and r['gateway'] == '10.244.1.1', r
r6 = p['ipam']['ranges'][1][0]
assert r6['subnet'] == 'fd00:10:244:1::/64' and r6['gateway'] == 'fd00:10:244:1::1', r6
assert {'dst': '::/0', 'gw': 'fd00:10:244:1::1'} in p['ipam']['routes'], p['ipam']['routes']"

cni_add() {
  new_ns "$1"
  ip netns exec "$NS_NODE" $cni add "$conflist" "$1" "$2" >"$TOPO_TMP/$2.result" || return 1
  ip netns exec "$1" python3 "$here/svc_tool.py" serve "$2" >"$TOPO_TMP/$2.log" 2>&1 &
}
check "CNI ADD: pod a" cni_add "$NS_A" a
check "CNI ADD: pod b" cni_add "$NS_B" b
check "pod a has the first address and the pod gateway as default route" \
  sh -c "ip -n $NS_A -4 addr show eth0 | grep -q 'inet $A_IP/24' && ip -n $NS_A route | grep -q 'default via 10.244.1.1'"
for _ in $(seq 50); do grep -q serving "$TOPO_TMP/b.log" && break; sleep 0.1; done
check "pod a -> pod b on this node, through svcdp (proxy ARP)" in_ns "$NS_A" ping -q -c 2 -i 0.2 -W 2 "$B_IP"
check "pod a learned svcdp's MAC for pod b" \
  sh -c "ip -n $NS_A neigh show $B_IP | grep -qi '$PODS_MAC\|$(ip -n "$NS_NODE" link show svcdp-pods | awk '/ether/ {print $2}')'"
check "pod a -> a pod on node-b (VXLAN)" in_ns "$NS_A" ping -q -c 2 -i 0.2 -W 2 "$RPOD_IP"
check "pod a -> ClusterIP whose endpoint is pod b on this node" \
  sh -c "ip netns exec $NS_A curl -s -m 3 http://10.96.0.10/ | grep -q '^b $A_IP:'"

dad_done() {  # NS ADDRESS: the kernel's duplicate address detection passed
  for _ in $(seq 50); do
    ip -n "$1" -6 addr show dev eth0 | grep -q tentative || break
    sleep 0.1
  done
  ip -n "$1" -6 addr show dev eth0 | grep "inet6 $2/64" | grep -vq "tentative\|dadfailed"
}
check "pod a has an IPv6 address of the node's IPv6 pod CIDR" dad_done "$NS_A" fd00:10:244:1::2
check "pod b has the next one" dad_done "$NS_B" fd00:10:244:1::3
check "pod a's IPv6 default route is svcdp's IPv6 gateway" \
  sh -c "ip -n $NS_A -6 route | grep -q 'default via fd00:10:244:1::1'"
check "pod a -> pod b over IPv6, through svcdp (ping -6)" in_ns "$NS_A" ping -6 -q -c 2 -i 0.2 -W 2 fd00:10:244:1::3

check "CNI DEL: both pods, their addresses released" sh -c "
  ip netns exec $NS_NODE $cni del $conflist $NS_A a && ip netns exec $NS_NODE $cni del $conflist $NS_B b &&
  ! ls $CNI_IPAM_DATA_DIR/svcdp | grep -q '^10\\.'"
stop_svcdp
check "svcdp exits 0 on SIGINT" test $? -eq 0
sed -n "/drops by reason/,\$p" "$SVCDP_LOG" | sed "s/^/    /"
check_report
