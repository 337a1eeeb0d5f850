#!/usr/bin/env bash
# svcdp as a real node's dataplane, with the node's own kernel behind the
# exception TAP and a router to an "internet" beyond the uplink:
#
#   the kernel as kubelet: HTTP probes to a local pod, curl to a remote
#     pod, to a ClusterIP (local and remote endpoints) and to an external
#     IP routed via the pod gateway;
#   pods: to a server on the node address, to a host beyond the uplink
#     gateway (TEST-NET-3, masqueraded: the host sees the node address),
#     traceroute through svcdp (Time Exceeded hops), a 10 MB transfer from
#     a pod whose MTU is larger than the tunnel allows (PMTUD), and a
#     datagram without DF fragmented into the tunnel;
#   the network: IPv6 neighbour discovery (multicast) reaches the kernel,
#     ARP for an external IP is answered by the node's kernel (as
#     keepalived's or MetalLB's speaker would), not by svcdp.
# Cleans up on any exit.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${SVCDP_BIN:?set SVCDP_BIN to the svcdp binary}
SVCDPCTL_BIN=${SVCDPCTL_BIN:?set SVCDPCTL_BIN to svcdpctl}
# shellcheck source=netns.sh
. "$here/netns.sh"
# shellcheck source=cluster_gen.sh
. "$here/cluster_gen.sh"
tool="python3 $here/svc_tool.py"
topo_require
command -v traceroute >/dev/null || { echo "missing traceroute: run make deps"; exit 1; }
trap topo_down EXIT INT TERM

NS_GW=$TOPO_PREFIX-gw
NS_INET=$TOPO_PREFIX-inet
NS_EXT=$TOPO_PREFIX-ext
NS_BIG=$TOPO_PREFIX-big
GW_IP=192.168.56.1
INET_IP=203.0.113.10
EXT_IP=192.168.56.100
ROUTED_EIP=192.168.56.200  # the node reaches it through its route via the pod gateway
SPEAKER_EIP=192.168.56.201  # the node's kernel holds it, as a VIP speaker would
BIG_IP=10.244.1.30
NS_RBIG=$TOPO_PREFIX-rbig
RBIG_IP=10.244.2.30
L=$LPOD_IP@node-a R1=$RPOD_IP@node-b R2=$RPOD2_IP@node-b

topo_up
backends_up
add_lan_host "$NS_EXT" "$EXT_IP"
add_internet "$NS_GW" "$GW_IP" "$NS_INET" "$INET_IP"
ip netns exec "$NS_INET" python3 "$here/svc_tool.py" serve inet >"$TOPO_TMP/inet.log" 2>&1 &
# Two pods whose MTU is what the uplink has, 50 bytes more than the tunnel
# allows: one here, one on node-b. Their MSS lets full 1500-byte packets
# reach svcdp's VXLAN encap, which must send Fragmentation Needed.
add_pod "$NS_BIG" "$BIG_IP"
ip -n "$NS_BIG" link set eth0 mtu 1500
add_remote_pod "$NS_RBIG" "$RBIG_IP" 1500

{
  gen_nodes
  gen_service web 10.96.0.10 80 8080 TCP 30080 "externalIPs: [$ROUTED_EIP, $SPEAKER_EIP]"
  gen_slice web TCP 8080 "$L" "$R1" "$R2"
} >"$TOPO_TMP/cluster.yaml"
TOPO_CLUSTER=$TOPO_TMP/cluster.yaml start_svcdp "$bin" --exception-iface svcdp0 --uplink-gateway "$GW_IP" \
  --uplink-subnet 192.168.56.0/24 \
  --cluster-cidr 10.244.0.0/16 || exit 1
host_kernel_up
# The node's routes to pods, Services and the routed external IP go
# through svcdp's pod gateway on the TAP.
for dst in 10.244.0.0/16 10.96.0.0/12 "$ROUTED_EIP/32"; do
  ip -n "$NS_HOST" route add "$dst" via 10.244.1.1 dev svcdp0 onlink src "$NODE_IP"
done
ip -n "$NS_HOST" route add default via "$GW_IP"
ip netns exec "$NS_HOST" python3 "$here/svc_tool.py" serve node >"$TOPO_TMP/node.log" 2>&1 &
for i in $(seq 50); do grep -q serving "$TOPO_TMP/node.log" && grep -q serving "$TOPO_TMP/inet.log" && break; sleep 0.1; done
in_ns "$NS_POD" ping -c 1 -W 2 "$RPOD_IP" >/dev/null 2>&1
in_ns "$NS_HOST" ping -c 1 -W 2 "$LPOD_IP" >/dev/null 2>&1

# kubelet's probes: 20 HTTP GETs from the node address to a local pod.
probes() {
  local out
  out=$(in_ns "$NS_HOST" $tool http "$LPOD_IP" 8080 20) || return 1
  echo "    $out"
  [ "$out" = "lpod 20" ]
}
check "kernel: 20 HTTP probes to a local pod all answered" probes
check "kernel: curl to a remote pod (VXLAN)" \
  sh -c "timeout 10 ip netns exec $NS_HOST curl -sf http://$RPOD_IP:8080/ | grep -q '^rpod $NODE_IP:'"
all_three() {
  local out
  out=$(in_ns "$NS_HOST" $tool http "$1" "$2" 60) || return 1
  echo "$out" | sed 's/^/    /'
  [ "$(echo "$out" | wc -l)" -eq 3 ]
}
check "kernel: 60 requests to the ClusterIP reach the local and both remote endpoints" all_three 10.96.0.10 80
check "kernel: an external IP routed via the pod gateway is load-balanced" all_three "$ROUTED_EIP" 80

check "pod -> server on the node address (kernel), pod address kept" \
  sh -c "timeout 10 ip netns exec $NS_POD curl -sf http://$NODE_IP:8080/ | grep -q '^node $POD_IP:'"
egress() {
  local out
  out=$(timeout 10 ip netns exec "$NS_POD" curl -sf "http://$INET_IP:8080/") || return 1
  echo "    $out"
  echo "$out" | grep -qE "^inet $NODE_IP:(6[1-5][0-9]{3})$"
}
check "pod -> internet host: masqueraded, the host sees the node address" egress
check "pod -> internet host: ping (ICMP echo masqueraded)" in_ns "$NS_POD" ping -q -c 3 -i 0.2 -W 2 "$INET_IP"
check "svcdpctl conntrack lists the masqueraded flows, snat to the node address" \
  sh -c "'$SVCDPCTL_BIN' conntrack --client $POD_IP | grep -E 'frontend=$INET_IP:8080 .*snat=$NODE_IP:6[0-9]+ service=\(masquerade\)'"
trace() {
  local out
  out=$(in_ns "$NS_POD" traceroute -n -q 1 -w 2 -m 5 "$INET_IP" 2>&1) || return 1
  echo "$out" | sed 's/^/    /'
  echo "$out" | grep -qE "^ *1 +10\.244\.1\.1 " && echo "$out" | grep -qE "^ *2 +$GW_IP " &&
    echo "$out" | grep -qE "^ *3 +$INET_IP "
}
check "traceroute from a pod: svcdp, the gateway, the host" trace
# Before any PMTUD: a 1500-byte echo without DF must be fragmented into
# the tunnel by svcdp (RFC 791) and reassembled by the remote pod.
check "a 1500-byte datagram without DF is fragmented into the tunnel and answered" \
  in_ns "$NS_BIG" ping -q -c 2 -i 0.2 -W 2 -M dont -s 1472 "$RBIG_IP"
check "10 MB TCP between MTU-1500 pods across the tunnel (PMTUD through Fragmentation Needed)" \
  tcp_transfer "$NS_BIG" "$NS_RBIG" "$RBIG_IP" 10000000
check "the sending pod learned the tunnel's MTU (1450)" \
  sh -c "ip -n $NS_BIG route get $RBIG_IP | grep -q 'mtu 1450'"

# IPv6 neighbour discovery is multicast: a ping to the node kernel's
# link-local address works only if svcdp hands the solicitation over.
ll=
for i in $(seq 40); do
  ll=$(ip -n "$NS_HOST" -6 addr show dev svcdp0 scope link | awk '/inet6/ && !/tentative/ { sub("/.*", "", $2); print $2 }')
  [ -n "$ll" ] && break
  sleep 0.1
done
check "IPv6 ND (multicast) reaches the node's kernel: ping6 to its link-local address" \
  in_ns "$NS_REMOTE" ping -6 -q -c 2 -i 0.2 -W 2 "$ll%eth0"

# ARP for external IPs is the speaker's: the kernel holds one, none holds the other.
ip -n "$NS_HOST" addr add "$SPEAKER_EIP/32" dev svcdp0
in_ns "$NS_EXT" ping -c 1 -W 1 "$ROUTED_EIP" >/dev/null 2>&1
check "ARP for an external IP nobody holds is not answered by svcdp" \
  sh -c "! ip -n $NS_EXT neigh show $ROUTED_EIP | grep -qi lladdr"
check "ARP for an external IP the node's kernel holds is answered (by the kernel) and the Service serves it" \
  sh -c "timeout 10 ip netns exec $NS_EXT curl -sf http://$SPEAKER_EIP/ >/dev/null &&
         ip -n $NS_EXT neigh show $SPEAKER_EIP | grep -qi $UPLINK_MAC"

# The packet trace: pings from a pod to the internet host, as svcdp saw them.
timeout 5 ip netns exec "$NS_POD" ping -q -c 20 -i 0.1 "$INET_IP" >/dev/null 2>&1 &
pinger=$!
traced() {
  local out
  out=$(SVCDP_SOCKET=$SVCDP_SOCKET "$SVCDPCTL_BIN" trace 12 --timeout 5) || return 1
  echo "$out" | sed 's/^/    /'
  # The first echo of a ping opens its flow (the masquerade stage); later ones find it.
  echo "$out" | grep -qE "^w[0-9]+ +pods +icmp $POD_IP > $INET_IP +eth_input pods_input lb (masquerade )?ip_route uplink_output -> tx uplink" &&
    echo "$out" | grep -qE "^w[0-9]+ +uplink +icmp $INET_IP > $NODE_IP +eth_input uplink_input lb ip_route pods_output -> tx pods"
}
check "svcdpctl trace shows an echo's stages both ways" traced
wait "$pinger"

stop_svcdp
rc=$?
check "svcdp exits 0 on SIGINT" test "$rc" -eq 0
grep -E "workers:|drops by reason" -A3 "$SVCDP_LOG" | head -12
check "counted: kernel traffic, masquerade, ICMP errors, fragments" \
  grep -qE "from_kernel=[1-9][0-9]* masquerade_new_flows=[1-9][0-9]* icmp_errors_sent=[1-9][0-9]* .* ip_fragments=[1-9]" "$SVCDP_LOG"

check_report
