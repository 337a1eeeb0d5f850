#!/usr/bin/env bash
# Services through svcdp with real Linux clients and servers: a client pod,
# one local and two remote backend pods (each a server that says who it
# is), an external host on the uplink, the node's kernel behind the TAP.
# Covers ClusterIP distribution, UDP and fragmented UDP answers, NodePort
# with Cluster and Local policy, session affinity, REJECT, a stream across
# a reload, UDP re-balancing, TCP reset, and SSH-like traffic to the node.
# Cleans up on any exit.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${SVCDP_BIN:?set SVCDP_BIN to the svcdp binary}
# shellcheck source=netns.sh
. "$here/netns.sh"
# shellcheck source=cluster_gen.sh
. "$here/cluster_gen.sh"
tool="python3 $here/svc_tool.py"
topo_require
trap topo_down EXIT INT TERM

NS_EXT=$TOPO_PREFIX-ext
EXT_IP=192.168.56.100
L=$LPOD_IP@node-a R1=$RPOD_IP@node-b R2=$RPOD2_IP@node-b

# write_cluster UDPMOVE_ENDPOINTS... : the cluster with the udpmove service's
# endpoints as given; `reloaded` adds an endpoint to stream and swaps
# tcpgone's endpoint.
write_cluster() {
  local variant=$1
  shift
  {
    gen_nodes
    gen_service web 10.96.0.10 80 8080 TCP 30080
    gen_slice web TCP 8080 "$L" "$R1" "$R2"
    gen_service web-local 10.96.0.11 80 8080 TCP 30081 "externalTrafficPolicy: Local"
    gen_slice web-local TCP 8080 "$L" "$R1" "$R2"
    gen_service dns 10.96.0.53 53 5353 UDP
    gen_slice dns UDP 5353 "$L" "$R1" "$R2"
    gen_service dns-remote 10.96.0.54 53 5353 UDP
    gen_slice dns-remote UDP 5353 "$R1" "$R2"
    gen_service udp-closed 10.96.0.55 53 5999 UDP
    gen_slice udp-closed UDP 5999 "$R1"
    gen_service sticky 10.96.0.12 80 8080 TCP "" "sessionAffinity: ClientIP"
    gen_slice sticky TCP 8080 "$L" "$R1" "$R2"
    gen_service empty 10.96.0.13 80 8080 TCP
    gen_service stream 10.96.0.20 9000 9000 TCP
    if [ "$variant" = reloaded ]; then gen_slice stream TCP 9000 "$L" "$R1"; else gen_slice stream TCP 9000 "$L"; fi
    gen_service udpmove 10.96.0.30 53 5353 UDP
    gen_slice udpmove UDP 5353 "$@"
    gen_service udpdead 10.96.0.32 53 5353 UDP
    gen_slice udpdead UDP 5353 $UDPDEAD
    gen_service tcpgone 10.96.0.31 9001 9001 TCP
    if [ "$variant" = reloaded ]; then gen_slice tcpgone TCP 9001 "$R2"; else gen_slice tcpgone TCP 9001 "$R1"; fi
  } >"$TOPO_TMP/cluster.yaml"
}

topo_up
backends_up
add_lan_host "$NS_EXT" "$EXT_IP"
UDPDEAD="$L $R1"
write_cluster initial "$L" "$R1"
TOPO_CLUSTER=$TOPO_TMP/cluster.yaml start_svcdp "$bin" --exception-iface svcdp0 || exit 1
host_kernel_up
# Warm the neighbours up (ARP on both ports) before counting anything.
in_ns "$NS_POD" ping -c 1 -W 2 "$RPOD_IP" >/dev/null 2>&1
in_ns "$NS_POD" ping -c 1 -W 2 "$LPOD_IP" >/dev/null 2>&1

# 1. 300 HTTP requests to the ClusterIP, one connection each. Maglev gives
# each endpoint 1/3 of the slots (within 1 %, lb/ unit test) and the flow
# hash is uniform over source ports, so each endpoint's count is
# Binomial(300, 1/3): mean 100, sd 8.2. We accept 100 ± 33 (4 sd); the
# chance that a fair balancer fails this is below 2e-4.
fair_share() {
  local out
  out=$(in_ns "$NS_POD" $tool http 10.96.0.10 80 300) || return 1
  echo "$out" | sed 's/^/    /'
  [ "$(echo "$out" | wc -l)" -eq 3 ] && echo "$out" | awk '$2 < 67 || $2 > 133 { bad = 1 } END { exit bad }'
}
check "300 HTTP requests to the ClusterIP reach all three endpoints fairly" fair_share

# 2. UDP through a VIP, and answers bigger than the MTU (fragmented by
# the backends' kernels, 1450-byte pod MTU) arriving whole. The endpoints
# are remote: DPDK 22.11's net_af_packet joins its queues with
# PACKET_FANOUT_FLAG_DEFRAG, so fragments that reach svcdp's pods port
# directly are reassembled by the kernel into one frame no mbuf holds;
# inside VXLAN they arrive as the fragments they are. (The pipeline test
# FragmentsFollowTheFirstFragment covers fragments on the pods port.)
udp_names() {
  local out
  out=$(in_ns "$NS_POD" $tool udp "$@") || return 1
  echo "$out" | sed 's/^/    /'
  [ "$(echo "$out" | wc -l)" -ge 2 ]
}
check "UDP request/response through a VIP" udp_names 10.96.0.53 53 20 64
check "4000-byte UDP answers (3 fragments each) arrive whole" udp_names 10.96.0.54 53 30 4000

check "an endpoint's ICMP port unreachable reaches the client about the VIP (RFC 5508)" \
  in_ns "$NS_POD" $tool udp-refused 10.96.0.55 53

# 3. NodePort from a host on the uplink. Cluster policy: any endpoint, the
# backend sees the node's pod-network address; Local: only the local
# endpoint, which sees the real client.
nodeport() {
  local port=$1 want_client=$2 want_backends=$3 out
  out=$(for _ in $(seq 12); do
    in_ns "$NS_EXT" python3 -c "
import socket,sys
s=socket.create_connection(('$NODE_IP',$port),timeout=5);s.sendall(b'GET / HTTP/1.0\r\n\r\n')
d=b''
while c:=s.recv(4096): d+=c
print(d.split(b'\r\n\r\n',1)[1].decode().strip())"
  done) || return 1
  echo "$out" | sort | uniq -c | sed 's/^/    /'
  echo "$out" | awk -v c="$want_client" '{ split($2, a, ":"); if (a[1] != c) bad = 1 } END { exit bad }' &&
    [ "$(echo "$out" | awk "{ print \$1 }" | sort -u | wc -l)" "-${want_backends% *}" "${want_backends#* }" ]
}
check "NodePort, policy Cluster: SNAT to 10.244.1.1, several endpoints" nodeport 30080 10.244.1.1 "ge 2"
check "NodePort, policy Local: the local endpoint sees the client $EXT_IP" nodeport 30081 "$EXT_IP" "eq 1"

# 4. Session affinity and REJECT.
sticky() {
  local out
  out=$(in_ns "$NS_POD" $tool http 10.96.0.12 80 20) || return 1
  echo "$out" | sed 's/^/    /'
  [ "$(echo "$out" | wc -l)" -eq 1 ]
}
check "sessionAffinity ClientIP pins the client to one endpoint (20 connections)" sticky
check "a service without endpoints refuses at once" in_ns "$NS_POD" $tool refused 10.96.0.13 80

# 5. Changes while flows run: a TCP stream to `stream` across a reload that
# keeps its endpoint; a UDP flow whose endpoint is removed moves; a TCP
# session whose endpoint is removed is reset.
first=$(in_ns "$NS_POD" $tool udp 10.96.0.30 53 1 64 45000 | awk '{ print $1 }')
echo "    udpmove answered by $first"
case $first in lpod) keep=$R1 ;; *) keep=$L ;; esac
dead_first=$(in_ns "$NS_POD" $tool udp 10.96.0.32 53 1 64 45001 | awk '{ print $1 }')
echo "    udpdead answered by $dead_first"
case $dead_first in lpod) UDPDEAD="$L@notready $R1" ;; *) UDPDEAD="$L $R1@notready" ;; esac
mkfifo "$TOPO_TMP/ctl"
ip netns exec "$NS_POD" $tool echo-session 10.96.0.31 9001 "$TOPO_TMP/ctl" >"$TOPO_TMP/session.log" 2>&1 &
session=$!
exec 7>"$TOPO_TMP/ctl"
echo send >&7
ip netns exec "$NS_POD" $tool stream 10.96.0.20 9000 4 "$TOPO_TMP/half" >"$TOPO_TMP/stream.log" 2>&1 &
stream=$!
for _ in $(seq 50); do [ -e "$TOPO_TMP/half" ] && break; sleep 0.1; done
write_cluster reloaded "$keep"
ip netns exec "$NS_NODE" kill -HUP "$SVCDP_PID"
for _ in $(seq 50); do grep -q "generation.*2" "$SVCDP_LOG" && break; sleep 0.1; done
sleep 0.3
moved=$(in_ns "$NS_POD" $tool udp 10.96.0.30 53 1 64 45000 | awk '{ print $1 }')
echo "    after the reload udpmove answered by $moved"
check "a UDP flow whose endpoint left moves to a live endpoint" test -n "$moved" -a "$moved" != "$first"
# The endpoint stays listed but turns ready: false (a dead CoreDNS pod):
# the long-lived flow's next query is answered by the other endpoint at the
# first try (svc_tool waits 1 s), as kube-proxy's UDP conntrack cleanup has it.
dead_moved=$(in_ns "$NS_POD" $tool udp 10.96.0.32 53 1 64 45001 | awk '{ print $1 }')
echo "    after it turned not ready, udpdead answered by $dead_moved"
check "a UDP flow whose endpoint turns not ready moves to a live endpoint at once" \
  test -n "$dead_moved" -a "$dead_moved" != "$dead_first"
echo send >&7
exec 7>&-
wait "$session"
sed 's/^/    /' "$TOPO_TMP/session.log"
check "a TCP flow whose endpoint left is reset" test "$(tail -n 1 "$TOPO_TMP/session.log")" = reset
wait "$stream"
src=$?
sed 's/^/    /' "$TOPO_TMP/stream.log"
check "a TCP stream keeps flowing across a reload that keeps its endpoint" test "$src" -eq 0

# 6. The node itself: SSH-like TCP to its address goes to its kernel.
check "TCP to the node address (not a NodePort) reaches the node's kernel" \
  tcp_transfer "$NS_EXT" "$NS_HOST" "$NODE_IP" 100000

stop_svcdp
rc=$?
check "svcdp exits 0 on SIGINT" test "$rc" -eq 0
sed -n '/  lb:/,$p' "$SVCDP_LOG" | head -24

check_report
