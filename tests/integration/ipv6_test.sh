#!/usr/bin/env bash
# IPv6 on a dual-stack node (issue 18), with the pods' kernels as peers:
# node-a's Node has an IPv6 pod CIDR, pods are made by the real CNI
# plugins (macvlan + host-local, as svcdp's conflist has them, IPv6 range
# included as svcdp writes it (cni_test.sh), here at MTU 1500 so that the
# tunnel's Packet Too Big is exercised).
# Checked: svcdp answers the pods' Neighbor Solicitations for their IPv6
# gateway (Router flag) and, by proxy, for the other pod, so that both land
# in the pods' neighbour tables with svcdp's MAC; the pods' duplicate
# address detection succeeds (svcdp never answers it); ping -6 from pod to
# pod passes svcdp (which solicits the destination itself), and with hop
# limit 1 is answered with Time Exceeded from the gateway, which answers
# ping itself. IPv6 Services as kube-proxy's IPv6 proxier serves them
# (NAT66): curl from pod a to an IPv6-only Service's ClusterIP reaches
# pod b, which sees pod a's address; pod b reaching itself through it is
# SNATed to the gateway (hairpin); a Service without endpoints is refused
# at once (a TCP RST, not a timeout); a dual-stack Service
# answers on both ClusterIPs. Across nodes: node-b (the Linux kernel,
# flannel-style) carries IPv6 pods in the same VXLAN device as IPv4, over
# the IPv4 underlay; its pod (made by the bridge plugin, MTU 1500 as pod a
# here) is reached with ping -6 and a 10 MB TCP transfer each way, pod a's
# 1500-byte segments answered by svcdp with Packet Too Big (tunnel MTU
# 1450), which pod a's kernel takes as its path MTU (the round trip
# RFC 8201 needs) before the transfer completes; an IPv6 Service whose
# endpoint is node-b's pod. From outside: a LAN host reaches IPv6
# NodePorts on the node's IPv6 InternalIP (svcdp answers NDP for it, there
# being no kernel behind a TAP here, and resolves the host over NDP for
# the replies): Cluster policy SNATed to the pods' gateway, Local policy
# keeping the client's address. Pod egress over IPv6 is masqueraded to
# the node's IPv6 address: curl and ping -6 from pod a to the LAN host.
# Then svcdp again with --vxlan-ipv6-underlay, node-b as flannel's
# dual-stack nodes are (a second VXLAN device over IPv6, flannel-v6.1,
# its MAC from the backend-v6-data annotation): ping -6, Packet Too Big at
# the IPv6 tunnel's MTU (1430) and 10 MB each way over the IPv6 underlay;
# node-b's pod's expiring echo gets Time Exceeded back through the tunnel.
# Then both Nodes IPv6-only (an IPv6 InternalIP, IPv6 pod CIDRs): the
# IPv6 underlay without --vxlan-ipv6-underlay, an IPv6 ClusterIP.
# Last, the node's own kernel behind the exception TAP holding the node's
# IPv6 address: svcdp installs its IPv6 routes (--kernel-route), it
# probes a pod over IPv6 as kubelet does, reaches node-b's pod and an
# IPv6 ClusterIP, pods reach a server on the node's IPv6 address, and the
# LAN host reaches both the kernel and the IPv6 NodePort there.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${SVCDP_BIN:?set SVCDP_BIN to the svcdp binary}
# shellcheck source=netns.sh
. "$here/netns.sh"
# shellcheck source=cluster_gen.sh
. "$here/cluster_gen.sh"
topo_require
[ -x /usr/lib/cni/macvlan ] && [ -x /usr/lib/cni/host-local ] ||
  { echo "missing the CNI plugins (containernetworking-plugins): run make deps"; exit 1; }
trap topo_down EXIT INT TERM

NS_A=$TOPO_PREFIX-v6a
NS_B=$TOPO_PREFIX-v6b
GW6=fd00:10:244:1::1
# host-local hands out each range in order after its gateway.
A6=fd00:10:244:1::2
B6=fd00:10:244:1::3
NS_R=$TOPO_PREFIX-v6r
GW6_B=fd00:10:244:2::1
R6=fd00:10:244:2::2
VIPR6=fd00:10:96::20
NODE6=fd00:56::11
REMOTE6=fd00:56::12
REMOTE_VTEP6_MAC=02:5d:00:00:02:fe
NS_LAN6=$TOPO_PREFIX-lan6
LAN6=fd00:56::100

topo_up
VIP6=fd00:10:96::a
EMPTY6=fd00:10:96::b
DUAL4=10.96.0.60
DUAL6=fd00:10:96::60
# slice6 NAME SERVICE ADDRESS...: an IPv6 EndpointSlice, endpoints on
# node-a (SLICE_NODE: another).
slice6() {
  local name=$1 svc=$2 a node=${SLICE_NODE:-node-a}
  shift 2
  printf -- '---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n'
  printf 'metadata: {name: %s, namespace: default, labels: {kubernetes.io/service-name: %s}}\n' "$name" "$svc"
  printf 'addressType: IPv6\nports: [{name: p, port: 8080, protocol: TCP}]\nendpoints:\n'
  for a in "$@"; do printf -- '- {addresses: ["%s"], nodeName: %s}\n' "$a" "$node"; done
}
{
  gen_node node-a "$NODE_IP" 10.244.1.0/24 "$UPLINK_MAC" fd00:10:244:1::/64 "$NODE6"
  cat <<YAML
---
apiVersion: v1
kind: Node
metadata:
  name: node-b
  annotations: {flannel.alpha.coreos.com/backend-data: '{"VNI":1,"VtepMAC":"$REMOTE_VTEP_MAC"}',
                flannel.alpha.coreos.com/backend-v6-data: '{"VNI":1,"VtepMAC":"$REMOTE_VTEP6_MAC"}'}
spec: {podCIDR: 10.244.2.0/24, podCIDRs: [10.244.2.0/24, "fd00:10:244:2::/64"]}
status: {addresses: [{type: InternalIP, address: $REMOTE_IP}, {type: InternalIP, address: "$REMOTE6"}]}
YAML
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: web6, namespace: default}
spec: {ipFamilies: [IPv6], ipFamilyPolicy: SingleStack, clusterIP: "$VIP6", clusterIPs: ["$VIP6"],
       ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: empty6, namespace: default}
spec: {ipFamilies: [IPv6], clusterIP: "$EMPTY6", clusterIPs: ["$EMPTY6"], ports: [{name: p, port: 80, protocol: TCP}]}
---
apiVersion: v1
kind: Service
metadata: {name: dual, namespace: default}
spec: {ipFamilies: [IPv4, IPv6], ipFamilyPolicy: RequireDualStack, clusterIP: $DUAL4, clusterIPs: [$DUAL4, "$DUAL6"],
       ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: remote6, namespace: default}
spec: {ipFamilies: [IPv6], clusterIP: "$VIPR6", clusterIPs: ["$VIPR6"],
       ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080}]}
YAML
  for policy in Cluster Local; do
    cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: np6-$policy, namespace: default}
spec: {type: NodePort, externalTrafficPolicy: $policy, ipFamilies: [IPv6], clusterIP: "fd00:10:96::3${#policy}",
       clusterIPs: ["fd00:10:96::3${#policy}"],
       ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080, nodePort: 3008${#policy}}]}
YAML
    slice6 "np6-$policy-1" "np6-$policy" "$B6"
  done
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: udp6, namespace: default}
spec: {ipFamilies: [IPv6], clusterIP: "fd00:10:96::53", clusterIPs: ["fd00:10:96::53"],
       ports: [{name: d, port: 53, protocol: UDP, targetPort: 5353}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: udp6-1, namespace: default, labels: {kubernetes.io/service-name: udp6}}
addressType: IPv6
ports: [{name: d, port: 5353, protocol: UDP}]
endpoints: [{addresses: ["$B6"], nodeName: node-a}]
YAML
  SLICE_NODE=node-b slice6 remote6-1 remote6 "$R6"
  slice6 web6-1 web6 "$B6"
  slice6 dual-6 dual "$B6"
  gen_slice dual TCP 8080 "10.244.1.3@node-a"
} >"$TOPO_TMP/cluster.yaml"
TOPO_CLUSTER=$TOPO_TMP/cluster.yaml start_svcdp "$bin" || exit 1

# The conflist of netns.sh (svcdp's, IPv4) with the IPv6 range and default
# route svcdp writes on a dual-stack node.
python3 - "$TOPO_TMP/cni-node-a.conflist" "$TOPO_TMP/dual.conflist" "$GW6" <<'PY'
import json, sys
conf = json.load(open(sys.argv[1]))
ipam = conf["plugins"][0]["ipam"]
ipam["ranges"].append([{"subnet": "fd00:10:244:1::/64", "gateway": sys.argv[3]}])
ipam["routes"].append({"dst": "::/0", "gw": sys.argv[3]})
conf["plugins"][0]["mtu"] = 1500  # larger than the tunnel: Packet Too Big
json.dump(conf, open(sys.argv[2], "w"))
PY
# node-b as flannel's dual-stack nodes route IPv6 pods, but in the one
# VXLAN device (IPv4 underlay): the IPv6 route to node-a's pods through
# it, their gateway's neighbour entry svcdp's VTEP MAC.
ip netns exec "$NS_REMOTE" sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$NS_REMOTE" -6 route add fd00:10:244:1::/64 via fd00:10:244:1:: dev vxlan0 onlink
ip -n "$NS_REMOTE" -6 neigh add fd00:10:244:1:: lladdr "$UPLINK_MAC" dev vxlan0 nud permanent
python3 - "$TOPO_TMP/cni-node-b.conflist" "$TOPO_TMP/dual-b.conflist" "$GW6_B" <<'PY'
import json, sys
conf = json.load(open(sys.argv[1]))
conf["plugins"][0]["mtu"] = 1500
ipam = conf["plugins"][0]["ipam"]
ipam["ranges"].append([{"subnet": "fd00:10:244:2::/64", "gateway": sys.argv[3]}])
ipam["routes"].append({"dst": "::/0"})
json.dump(conf, open(sys.argv[2], "w"))
PY
dual_pod() {
  new_ns "$1"
  CNI_IPAM_DATA_DIR=$TOPO_TMP/ipam-v6 \
    ip netns exec "$NS_NODE" python3 "$here/cni.py" add "$TOPO_TMP/dual.conflist" "$1" "${1##*-}" >/dev/null
}
check "CNI ADD: dual-stack pod a" dual_pod "$NS_A"
check "CNI ADD: dual-stack pod b" dual_pod "$NS_B"
dual_remote_pod() {
  new_ns "$1"
  CNI_IPAM_DATA_DIR=$TOPO_TMP/ipam-b6 \
    ip netns exec "$NS_REMOTE" python3 "$here/cni.py" add "$TOPO_TMP/dual-b.conflist" "$1" "${1##*-}" >/dev/null || return 1
  ip -n "$NS_REMOTE" link show master cni0 | awk -F': ' '/^[0-9]/ {sub("@.*", "", $2); print $2}' |
    while read -r port; do no_offload "$NS_REMOTE" "$port"; done
  no_offload "$1" eth0
  for dev in $(ip -n "$NS_A" -o link show | awk -F': ' '{sub("@.*", "", $2); print $2}'); do no_offload "$NS_A" "$dev"; done
}
check "CNI ADD: dual-stack pod on node-b (bridge plugin)" dual_remote_pod "$NS_R"
ip netns exec "$NS_R" python3 "$here/svc_tool.py" serve r >"$TOPO_TMP/r.log" 2>&1 &
ip netns exec "$NS_B" python3 "$here/svc_tool.py" serve b >"$TOPO_TMP/b.log" 2>&1 &
# Duplicate address detection takes the kernel about a second; svcdp must
# not answer it (the address would be "dadfailed").
dad_done() {
  for _ in $(seq 50); do
    ip -n "$1" -6 addr show dev eth0 | grep -q tentative || break
    sleep 0.1
  done
  ip -n "$1" -6 addr show dev eth0 | grep "inet6 $2/64" | grep -vq "tentative\|dadfailed"
}
check "pod a's IPv6 address passed duplicate address detection" dad_done "$NS_A" "$A6"
check "node-b's pod's IPv6 address passed duplicate address detection" dad_done "$NS_R" "$R6"
check "pod b's IPv6 address passed duplicate address detection" dad_done "$NS_B" "$B6"

neigh_is_svcdp() {  # NS ADDRESS [router]
  local line
  ip netns exec "$1" ping -6 -q -c 1 -W 1 "$2" >/dev/null 2>&1  # sends the NS first
  line=$(ip -n "$1" -6 neigh show "$2" dev eth0)
  echo "    $line"
  echo "$line" | grep -qi "lladdr $PODS_MAC" || return 1
  if [ "${3:-}" = router ]; then echo "$line" | grep -qw router; else ! echo "$line" | grep -qw router; fi
}
check "pod a resolves its IPv6 gateway to svcdp, a router (NDP)" neigh_is_svcdp "$NS_A" "$GW6" router
check "pod a resolves pod b's IPv6 address to svcdp (proxy NDP)" neigh_is_svcdp "$NS_A" "$B6"
check "pod b resolves pod a's IPv6 address to svcdp (proxy NDP)" neigh_is_svcdp "$NS_B" "$A6"
check "pod a -> pod b over IPv6, through svcdp (ping -6)" in_ns "$NS_A" ping -6 -q -c 3 -i 0.2 -W 2 "$B6"
check "pod b -> pod a over IPv6, 1400-byte echoes" in_ns "$NS_B" ping -6 -q -c 2 -i 0.2 -W 2 -s 1400 "$A6"
time_exceeded() {
  local out
  out=$(ip netns exec "$NS_A" ping -6 -c 1 -W 2 -t 1 "$B6" 2>&1)
  echo "$out" | grep -i "from $GW6.*time exceeded"
}
check "hop limit 1: Time Exceeded from the pods' IPv6 gateway (RFC 4443)" time_exceeded
check "pod a -> its IPv6 gateway: svcdp answers ping -6" in_ns "$NS_A" ping -6 -q -c 2 -i 0.2 -W 2 "$GW6"

# Across nodes (VXLAN, IPv6 inside IPv4).
# ping6_across HOW: pod a and node-b's pod ping each other over IPv6.
ping6_across() {
  ip netns exec "$NS_A" ping -6 -c 2 -W 2 "$R6" >/dev/null 2>&1 # NDP (and ARP) on the way
  check "pod a -> node-b's pod over IPv6 $1 (ping -6)" in_ns "$NS_A" ping -6 -q -c 3 -i 0.2 -W 2 "$R6"
  check "node-b's pod -> pod a over IPv6 $1 (ping -6)" in_ns "$NS_R" ping -6 -q -c 3 -i 0.2 -W 2 "$A6"
}
# too_big SIZE MTU: a SIZE-byte echo from pod a to node-b's pod that may not
# be fragmented gets Packet Too Big for MTU from the pods' gateway.
too_big() {
  local out
  out=$(ip netns exec "$NS_A" ping -6 -c 1 -W 2 -M do -s "$1" "$R6" 2>&1)
  echo "$out" | grep -i "from $GW6.*too big.*mtu=$2"
}
ping6_across "in VXLAN"
check "a 1468-byte IPv6 packet for the tunnel: Packet Too Big, mtu 1450, from the gateway" too_big 1420 1450
learned() {
  ip -n "$NS_A" -6 route get "$R6" | tee /dev/stderr | grep -q "mtu 1450"
}
check "pod a's kernel took 1450 as its path MTU to node-b's pod" learned
# Forgotten again: the transfer's own 1500-byte segments meet the tunnel.
ip -n "$NS_A" -6 route flush cache
check "10 MB IPv6 TCP pod a (MTU 1500) -> node-b's pod across VXLAN" tcp_transfer "$NS_A" "$NS_R" "$R6" 10000000
check "the transfer learned the path MTU from svcdp's Packet Too Big" learned
check "10 MB IPv6 TCP node-b's pod -> pod a across VXLAN" tcp_transfer "$NS_R" "$NS_A" "$A6" 10000000
# node-b's kernel routes the echo (hop limit 2 -> 1): it expires at svcdp,
# whose Time Exceeded goes back into the tunnel (RFC 4443 section 3.3).
tunnel_time_exceeded() {
  local out
  out=$(ip netns exec "$NS_R" ping -6 -c 1 -W 2 -t 2 "$A6" 2>&1)
  echo "$out" | grep -i "from $GW6.*time exceeded"
}
check "node-b's pod, hop limit 2: Time Exceeded from the gateway, back through the tunnel" tunnel_time_exceeded

for _ in $(seq 50); do grep -q serving "$TOPO_TMP/b.log" && break; sleep 0.1; done
curl6() {  # NS URL WANT: the body starts with WANT
  local body
  body=$(ip netns exec "$1" curl -g -s -m 3 "$2")
  echo "    $body"
  case "$body" in "$3"*) return 0 ;; esac
  return 1
}
check "pod a -> IPv6 ClusterIP [$VIP6]:80 -> pod b, the client address kept (NAT66)" \
  curl6 "$NS_A" "http://[$VIP6]/" "b $A6:"
check "pod b -> its own Service: SNAT to the gateway (hairpin)" curl6 "$NS_B" "http://[$VIP6]/" "b $GW6:"
refused() {
  ip netns exec "$NS_A" curl -g -s -m 3 "http://[$EMPTY6]/"
  [ $? -eq 7 ]  # could not connect: refused at once, not a timeout (28)
}
check "a Service without endpoints is refused (RST)" refused
check "a 4000-byte UDP request and a 6000-byte answer through an IPv6 ClusterIP, in fragments" \
  in_ns "$NS_A" python3 "$here/svc_tool.py" udp fd00:10:96::53 53 3 6000 0 4000
check "dual-stack Service on its IPv6 ClusterIP" curl6 "$NS_A" "http://[$DUAL6]/" "b $A6:"
check "dual-stack Service on its IPv4 ClusterIP" curl6 "$NS_A" "http://$DUAL4/" "b 10.244.1.2:"
# An outside IPv6 client beside the node (NodePorts 30087: Cluster, 30085: Local).
add_lan_host "$NS_LAN6" 192.168.56.106
ip netns exec "$NS_LAN6" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
ip -n "$NS_LAN6" -6 addr add "$LAN6/64" dev eth0 nodad
no_offload "$NS_LAN6" eth0
check "LAN host -> IPv6 NodePort [$NODE6]:30087 (Cluster: SNAT to the pods' gateway)" \
  curl6 "$NS_LAN6" "http://[$NODE6]:30087/" "b $GW6:"
check "LAN host -> IPv6 NodePort [$NODE6]:30085 (Local: the client's address kept)" \
  curl6 "$NS_LAN6" "http://[$NODE6]:30085/" "b $LAN6:"
check "the LAN host resolved the node's IPv6 address to svcdp's uplink (NDP)" \
  sh -c "ip -n '$NS_LAN6' -6 neigh show '$NODE6' | grep -qi 'lladdr $UPLINK_MAC'"
ip netns exec "$NS_LAN6" python3 "$here/svc_tool.py" serve lan6 >"$TOPO_TMP/lan6.log" 2>&1 &
for _ in $(seq 50); do grep -q serving "$TOPO_TMP/lan6.log" && break; sleep 0.1; done
check "pod a -> the LAN host over IPv6: masqueraded to the node's IPv6 address" \
  curl6 "$NS_A" "http://[$LAN6]:8080/" "lan6 $NODE6:"
check "pod a -> the LAN host: ping -6, masqueraded by identifier" in_ns "$NS_A" ping -6 -q -c 3 -i 0.2 -W 2 "$LAN6"
for _ in $(seq 50); do grep -q serving "$TOPO_TMP/r.log" && break; sleep 0.1; done
check "pod a -> IPv6 ClusterIP [$VIPR6]:80 -> node-b's pod in VXLAN (NAT66)" \
  curl6 "$NS_A" "http://[$VIPR6]/" "r $A6:"

stop_svcdp
check "svcdp exits 0 on SIGINT" test $? -eq 0
check "the pod's flows to the LAN host were masqueraded" grep -Eq "masquerade_new_flows=[1-9]" "$SVCDP_LOG"
check "Packet Too Big for the ping and for the transfer (mtu_exceeded >= 2)" \
  grep -Eq "^ +mtu_exceeded +([2-9]|[1-9][0-9]+) " "$SVCDP_LOG"
check "no solicitation was refused as invalid" sh -c "! grep -Eq '^ +ndp_invalid +[1-9]' '$SVCDP_LOG'"
check "no fragment lost its first" sh -c "! grep -Eq '^ +frag_no_first +[1-9]' '$SVCDP_LOG'"

# The IPv6 underlay: node-b's flannel-v6.1 on its IPv6 address.
ip -n "$NS_REMOTE" -6 addr add "$REMOTE6/64" dev eth0 nodad
ip -n "$NS_REMOTE" link add vxlan6 address "$REMOTE_VTEP6_MAC" type vxlan id 1 dstport 4789 local "$REMOTE6" \
  dev eth0 nolearning
ip -n "$NS_REMOTE" link set vxlan6 mtu 1430 up
no_offload "$NS_REMOTE" vxlan6
# (A replace cannot move an onlink route to another device: delete, add.)
ip -n "$NS_REMOTE" -6 route del fd00:10:244:1::/64
ip -n "$NS_REMOTE" -6 route add fd00:10:244:1::/64 via fd00:10:244:1:: dev vxlan6 onlink
ip -n "$NS_REMOTE" -6 neigh add fd00:10:244:1:: lladdr "$UPLINK_MAC" dev vxlan6 nud permanent
ip netns exec "$NS_REMOTE" bridge fdb append "$UPLINK_MAC" dev vxlan6 dst "$NODE6"
TOPO_CLUSTER=$TOPO_TMP/cluster.yaml start_svcdp "$bin" --vxlan-ipv6-underlay || exit 1
ip -n "$NS_A" -6 route flush cache
ping6_across "over the IPv6 underlay"
check "IPv6 underlay: a 1448-byte packet gets Packet Too Big, mtu 1430" too_big 1400 1430
ip -n "$NS_A" -6 route flush cache
check "IPv6 underlay: 10 MB IPv6 TCP pod a -> node-b's pod" tcp_transfer "$NS_A" "$NS_R" "$R6" 10000000
check "IPv6 underlay: 10 MB IPv6 TCP node-b's pod -> pod a" tcp_transfer "$NS_R" "$NS_A" "$A6" 10000000
check "IPv6 underlay: the packets crossed node-b's IPv6 VXLAN device both ways" \
  sh -c "ip -n '$NS_REMOTE' -s link show vxlan6 | awk '/RX:/ {getline; rx = \$2} /TX:/ {getline; tx = \$2} END {exit !(rx > 5000 && tx > 5000)}'"
stop_svcdp
check "svcdp exits 0 on SIGINT (IPv6 underlay)" test $? -eq 0
check "no VXLAN over IPv6 was refused" sh -c "! grep -Eq '^ +vxlan_(zero_checksum|unknown_vtep) +[1-9]' '$SVCDP_LOG'"

# IPv6-only Nodes (no IPv4 InternalIP, IPv6 pod CIDRs only): the IPv6
# underlay without being asked, it being the only one; an IPv6 ClusterIP.
{
  for n in a:11:1 b:12:2; do
    IFS=: read -r name host cidr <<<"$n"
    cat <<YAML
---
apiVersion: v1
kind: Node
metadata:
  name: node-$name
  annotations: {flannel.alpha.coreos.com/backend-v6-data: '{"VNI":1,"VtepMAC":"$REMOTE_VTEP6_MAC"}'}
spec: {podCIDRs: ["fd00:10:244:$cidr::/64"]}
status: {addresses: [{type: InternalIP, address: "fd00:56::$host"}]}
YAML
  done
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: web6, namespace: default}
spec: {ipFamilies: [IPv6], ipFamilyPolicy: SingleStack, clusterIP: "$VIP6", clusterIPs: ["$VIP6"],
       ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080}]}
YAML
  slice6 web6-1 web6 "$B6"
} >"$TOPO_TMP/cluster6only.yaml"
TOPO_CLUSTER=$TOPO_TMP/cluster6only.yaml start_svcdp "$bin" || exit 1
ping6_across "between IPv6-only nodes"
check "IPv6-only nodes: pod a -> IPv6 ClusterIP [$VIP6]:80 -> pod b" curl6 "$NS_A" "http://[$VIP6]/" "b $A6:"
stop_svcdp
check "svcdp exits 0 on SIGINT (IPv6-only nodes)" test $? -eq 0
check "IPv6-only nodes: both Nodes taken, none skipped" sh -c "! grep -q 'no InternalIP' '$SVCDP_LOG'"

# The node's own kernel behind the exception TAP, as on a real node: the
# node namespace's kernel, which has IPv6 on svcdp0 only (its veths have
# it disabled), holds the node's IPv6 address and answers NDP for it;
# svcdp gives it routes to the IPv6 pod CIDRs and Services via the pods'
# IPv6 gateway (--kernel-route). As kubelet it probes a pod over IPv6,
# reaches node-b's pod in VXLAN, an IPv6 ClusterIP (SNATed to the
# gateway, as kube-proxy masquerades the node's own Service traffic);
# pods reach a server on the node's IPv6 address; the LAN host pings the
# kernel there and still reaches the IPv6 NodePort, which stays svcdp's.
TOPO_CLUSTER=$TOPO_TMP/cluster.yaml launch_svcdp "$bin" --vxlan-ipv6-underlay --exception-iface svcdp0 \
  --kernel-route fd00:10:244::/56 --kernel-route fd00:10:96::/112
for _ in $(seq 100); do ip -n "$NS_NODE" link show svcdp0 >/dev/null 2>&1 && break; sleep 0.1; done
ip netns exec "$NS_NODE" sysctl -qw net.ipv6.conf.svcdp0.disable_ipv6=0
ip -n "$NS_NODE" -6 addr add "$NODE6/64" dev svcdp0 nodad
ip -n "$NS_NODE" link set svcdp0 up
no_offload "$NS_NODE" svcdp0
wait_svcdp_ready || exit 1
ip netns exec "$NS_NODE" python3 "$here/svc_tool.py" serve node >"$TOPO_TMP/node.log" 2>&1 &
kernel_routes6() {
  local i
  for i in $(seq 30); do
    ip -n "$NS_NODE" -6 route show fd00:10:96::/112 | grep -q "via $GW6 dev svcdp0 proto static src $NODE6" && break
    sleep 0.1
  done
  ip -n "$NS_NODE" -6 route show | grep "via $GW6" | sed 's/^/    /'
  ip -n "$NS_NODE" -6 route show fd00:10:244::/56 | grep -q "via $GW6 dev svcdp0 proto static src $NODE6" &&
    ip -n "$NS_NODE" -6 route show fd00:10:96::/112 | grep -q "via $GW6 dev svcdp0 proto static src $NODE6"
}
check "svcdp gave the kernel its IPv6 routes via the pods' IPv6 gateway (--kernel-route)" kernel_routes6
probes6() {
  local out
  out=$(in_ns "$NS_NODE" python3 "$here/svc_tool.py" http "$B6" 8080 20) || return 1
  echo "    $out"
  [ "$out" = "b 20" ]
}
check "kernel: 20 HTTP probes to pod b over IPv6 all answered" probes6
check "kernel: the pods' IPv6 gateway resolved to svcdp over NDP on the TAP" \
  sh -c "ip -n '$NS_NODE' -6 neigh show '$GW6' dev svcdp0 | grep -qi 'lladdr $PODS_MAC'"
check "kernel -> IPv6 ClusterIP [$VIP6]: SNAT to the pods' gateway" curl6 "$NS_NODE" "http://[$VIP6]/" "b $GW6:"
check "kernel -> node-b's pod over IPv6 in VXLAN, from the node's IPv6 address" \
  curl6 "$NS_NODE" "http://[$R6]:8080/" "r $NODE6:"
refused_from_node() {
  ip netns exec "$NS_NODE" curl -g -s -m 3 "http://[$EMPTY6]/"
  [ $? -eq 7 ]
}
check "kernel -> an IPv6 Service without endpoints: refused on the TAP" refused_from_node
for _ in $(seq 50); do grep -q serving "$TOPO_TMP/node.log" && break; sleep 0.1; done
check "pod a -> a server on the node's IPv6 address (the kernel), pod address kept" \
  curl6 "$NS_A" "http://[$NODE6]:8080/" "node $A6:"
ip -n "$NS_LAN6" -6 neigh flush dev eth0
check "LAN host -> the node's IPv6 address: the kernel answers ping -6 (and NDP)" \
  in_ns "$NS_LAN6" ping -6 -q -c 2 -i 0.2 -W 2 "$NODE6"
check "LAN host -> IPv6 NodePort [$NODE6]:30087 with the kernel holding the address: still svcdp's" \
  curl6 "$NS_LAN6" "http://[$NODE6]:30087/" "b $GW6:"
stop_svcdp
check "svcdp exits 0 on SIGINT (with the kernel)" test $? -eq 0
check "the kernel's packets came through the TAP" grep -Eq "from_kernel=[1-9]" "$SVCDP_LOG"
sed -n "/drops by reason/,\$p" "$SVCDP_LOG" | sed "s/^/    /"
check_report
