# shellcheck shell=bash
# Network-namespace topology shared by the integration tests and the demo,
# in the style of grout's smoke tests: the Linux kernel is every peer.
#
#   [pod 10.244.1.10]--+                              +--eth0 [remote node 192.168.56.12]
#   [more local pods]--+-- podsw --pods0 [svcdp] up0--+-- lan    vxlan0 (VNI 1, flannel-style)
#                                                     |          cni0 bridge --[rpod 10.244.2.10]
#                                    [lan hosts: add_lan_host]--+              --[add_remote_pod]
#
# svcdp's node is node-a (192.168.56.11, pods 10.244.1.0/24); the remote
# node is node-b (10.244.2.0/24). The two bridges (in namespaces of their
# own) stand for the switches. Everything lives in namespaces named with a
# per-run prefix and is removed by topo_down, which the trap calls on
# every exit. Source this file; it needs root, iproute2 and ethtool.

TOPO_PREFIX=${TOPO_PREFIX:-svcdp$$}
TOPO_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS_NODE=$TOPO_PREFIX-node
NS_POD=$TOPO_PREFIX-pod
NS_REMOTE=$TOPO_PREFIX-remote
NS_RPOD=$TOPO_PREFIX-rpod
NS_HOST=$TOPO_PREFIX-host
NS_PODSW=$TOPO_PREFIX-podsw
NS_LAN=$TOPO_PREFIX-lan
UPLINK_MAC=02:5d:00:00:00:01
PODS_MAC=02:5d:00:00:01:01
REMOTE_VTEP_MAC=02:5d:00:00:02:ff
NODE_IP=192.168.56.11
REMOTE_IP=192.168.56.12
POD_IP=10.244.1.10
RPOD_IP=10.244.2.10
# Service backends (backends_up): one on this node, two on node-b.
NS_LPOD=$TOPO_PREFIX-lpod
NS_RPOD2=$TOPO_PREFIX-rpod2
LPOD_IP=10.244.1.20
RPOD2_IP=10.244.2.11
SVCDP_PID=
SVCDP_LOG=
TOPO_TMP=$(mktemp -d)
# svcdpctl finds the daemon of this run here; metrics are on the node
# namespace's own loopback (127.0.0.1:9662).
export SVCDP_SOCKET=$TOPO_TMP/svcdp.sock
TOPO_NAMESPACES=()
TOPO_PORTS=0

topo_require() {
  [ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 1; }
  local tool
  for tool in ip ethtool socat ping sha256sum timeout python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool: run make deps"; exit 1; }
  done
  [ -x /usr/lib/cni/macvlan ] && [ -x /usr/lib/cni/host-local ] ||
    { echo "missing the CNI plugins (containernetworking-plugins): run make deps"; exit 1; }
}

# Checksum offload leaves TCP/UDP checksums to be filled by hardware that a
# veth does not have: an af_packet reader would see them wrong. Real
# checksums on every sending interface, and no GSO/GRO super-frames.
no_offload() {
  ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
}

new_ns() {
  ip netns add "$1"
  ip -n "$1" link set lo up
  TOPO_NAMESPACES+=("$1")
}

# plug SWITCH_NS NS DEV [MAC]: a veth from bridge sw0 in SWITCH_NS to DEV in NS.
plug() {
  local sw=$1 ns=$2 dev=$3 mac=${4:-} port
  TOPO_PORTS=$((TOPO_PORTS + 1))
  port=p$TOPO_PORTS
  ip link add "$port" netns "$sw" type veth peer name "$dev" netns "$ns" ${mac:+address "$mac"}
  ip -n "$sw" link set "$port" master sw0 up
  no_offload "$sw" "$port"
  no_offload "$ns" "$dev"
}

# add_pod NS IP: a pod on this node, made as containerd makes one: the
# CNI plugins of Debian's containernetworking-plugins invoked with
# CNI_COMMAND=ADD (cni.py) on the configuration svcdp writes
# (control/cni_config.cc): a macvlan interface in private mode, so that
# pods reach each other only through svcdp (which answers ARP for the pod
# CIDR), and host-local IPAM over 10.244.1.0/24, the address asked for
# with CNI_ARGS IP=, as kubelet's static-IP tests do. The macvlan master is
# cnim, a veth on podsw (svcdp's pods port, pods0, is the other port
# there): pods can be made before svcdp starts.
add_pod() {
  new_ns "$1"
  CNI_ARGS="IgnoreUnknown=1;IP=$2" CNI_IPAM_DATA_DIR=$TOPO_TMP/ipam-node-a \
    ip netns exec "$NS_NODE" python3 "$TOPO_HERE/cni.py" add "$TOPO_TMP/cni-node-a.conflist" "$1" "${1##*-}" \
    >/dev/null || { echo "CNI ADD of pod $1 failed"; return 1; }
  no_offload "$1" eth0
}

# The CNI configuration of node-a's pods, as svcdp writes it for a pods
# port (master: cnim here).
write_cni_conflist() {
  cat >"$TOPO_TMP/cni-node-a.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "svcdp",
  "plugins": [
    {
      "type": "macvlan", "master": "cnim", "mode": "private", "mtu": 1450,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "10.244.1.0/24", "gateway": "10.244.1.1"}]],
        "routes": [{"dst": "0.0.0.0/0", "gw": "10.244.1.1"}]
      }
    }
  ]
}
JSON
}

# add_remote_pod NS IP [MTU]: a pod on node-b, made as flannel's CNI
# plugin makes one there: the bridge plugin on cni0 (the node's gateway
# address on the bridge) with host-local IPAM over 10.244.2.0/24, what
# flannel delegates to (its 10-flannel.conflist, MTU of the VXLAN device);
# MTU, when given, for both ends of the pod's veth.
add_remote_pod() {
  new_ns "$1"
  CNI_ARGS="IgnoreUnknown=1;IP=$2" CNI_IPAM_DATA_DIR=$TOPO_TMP/ipam-node-b \
    ip netns exec "$NS_REMOTE" python3 "$TOPO_HERE/cni.py" add "$TOPO_TMP/cni-node-b.conflist" "$1" "${1##*-}" \
    >/dev/null || { echo "CNI ADD of pod $1 on node-b failed"; return 1; }
  ip -n "$NS_REMOTE" link show master cni0 | awk -F': ' '/^[0-9]/ {sub("@.*", "", $2); print $2}' |
    while read -r port; do no_offload "$NS_REMOTE" "$port"; done
  no_offload "$NS_REMOTE" cni0
  no_offload "$1" eth0
  if [ -n "${3:-}" ]; then
    local peer
    peer=$(ip -n "$1" -o link show eth0 | sed -n 's/.*eth0@if\([0-9]*\).*/\1/p')
    ip -n "$NS_REMOTE" -o link show | awk -F': ' -v i="$peer" '$1 == i {sub("@.*", "", $2); print $2}' |
      xargs -r -I{} ip -n "$NS_REMOTE" link set {} mtu "$3"
    ip -n "$1" link set eth0 mtu "$3"
  fi
}

# add_lan_host NS IP: a machine beside the nodes on the uplink network
# (an external client).
add_lan_host() {
  new_ns "$1"
  plug "$NS_LAN" "$1" eth0
  ip -n "$1" addr add "$2/24" dev eth0
  ip -n "$1" link set eth0 up
}

# add_svcdp_node NS IP MAC POD_CIDR: another node on the LAN whose uplink
# (up0, MAC) a second svcdp drives (TOPO_SVCDP_NS=NS for start_svcdp);
# node-b (flannel) learns its pod CIDR as flannel would.
add_svcdp_node() {
  local ns=$1 ip=$2 mac=$3 cidr=$4
  new_ns "$ns"
  plug "$NS_LAN" "$ns" up0 "$mac"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.up0.disable_ipv6=1
  ip -n "$ns" link set up0 up
  ip -n "$NS_REMOTE" route add "$cidr" via "${cidr%/*}" dev vxlan0 onlink
  ip -n "$NS_REMOTE" neigh add "${cidr%/*}" lladdr "$mac" dev vxlan0 nud permanent
  ip netns exec "$NS_REMOTE" bridge fdb append "$mac" dev vxlan0 dst "$ip"
}

# add_internet GW_NS GW_IP INET_NS INET_IP: the uplink gateway (a LAN host
# at GW_IP that forwards) and an "internet" host behind it in TEST-NET-3
# (INET_IP in 203.0.113.0/24, the gateway being 203.0.113.1).
add_internet() {
  local gw=$1 gw_ip=$2 inet=$3 inet_ip=$4
  add_lan_host "$gw" "$gw_ip"
  new_ns "$inet"
  ip link add inet0 netns "$gw" type veth peer name eth0 netns "$inet"
  ip -n "$gw" addr add 203.0.113.1/24 dev inet0
  ip -n "$gw" link set inet0 up
  ip netns exec "$gw" sysctl -qw net.ipv4.ip_forward=1
  ip -n "$inet" addr add "$inet_ip/24" dev eth0
  ip -n "$inet" link set eth0 up
  ip -n "$inet" route add default via 203.0.113.1
  no_offload "$gw" inet0
  no_offload "$inet" eth0
}

topo_up() {
  local ns
  for ns in "$NS_PODSW" "$NS_LAN" "$NS_NODE" "$NS_REMOTE" "$NS_HOST"; do new_ns "$ns"; done
  for ns in "$NS_PODSW" "$NS_LAN"; do
    ip -n "$ns" link add sw0 type bridge
    ip -n "$ns" link set sw0 up
  done

  # node: the two ports svcdp drives, no addresses, no IPv6 chatter, and
  # the CNI plugins' macvlan master on the pods switch.
  plug "$NS_LAN" "$NS_NODE" up0 "$UPLINK_MAC"
  plug "$NS_PODSW" "$NS_NODE" pods0 "$PODS_MAC"
  plug "$NS_PODSW" "$NS_NODE" cnim
  write_cni_conflist
  for dev in up0 pods0 cnim; do
    ip netns exec "$NS_NODE" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
    ip -n "$NS_NODE" link set "$dev" up
  done

  # the remote node, set up as flannel's vxlan backend does it.
  plug "$NS_LAN" "$NS_REMOTE" eth0
  ip -n "$NS_REMOTE" addr add "$REMOTE_IP/24" dev eth0
  ip -n "$NS_REMOTE" link set eth0 up
  ip -n "$NS_REMOTE" link add vxlan0 address "$REMOTE_VTEP_MAC" type vxlan id 1 dstport 4789 \
    local "$REMOTE_IP" dev eth0 nolearning
  ip -n "$NS_REMOTE" link set vxlan0 mtu 1450 up
  no_offload "$NS_REMOTE" vxlan0
  ip -n "$NS_REMOTE" addr add 10.244.2.0/32 dev vxlan0
  ip -n "$NS_REMOTE" route add 10.244.1.0/24 via 10.244.1.0 dev vxlan0 onlink
  ip -n "$NS_REMOTE" neigh add 10.244.1.0 lladdr "$UPLINK_MAC" dev vxlan0 nud permanent
  ip netns exec "$NS_REMOTE" bridge fdb append "$UPLINK_MAC" dev vxlan0 dst "$NODE_IP"
  ip netns exec "$NS_REMOTE" sysctl -qw net.ipv4.ip_forward=1
  cat >"$TOPO_TMP/cni-node-b.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "cbr0",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "hairpinMode": true, "mtu": 1450,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.2.0/24", "gateway": "10.244.2.1"}]],
               "routes": [{"dst": "0.0.0.0/0"}]}
    }
  ]
}
JSON

  add_pod "$NS_POD" "$POD_IP"
  add_remote_pod "$NS_RPOD" "$RPOD_IP"
}

# backends_up: the Service backends (lpod on this node; rpod and rpod2 on
# node-b), each running tests/integration/svc_tool.py serve (HTTP 8080 that
# says who it is, UDP 5353, TCP 9000 sink, TCP 9001 echo); returns once
# all three listen. Call after topo_up.
backends_up() {
  local ns tool i
  tool=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/svc_tool.py
  add_pod "$NS_LPOD" "$LPOD_IP"
  add_remote_pod "$NS_RPOD2" "$RPOD2_IP"
  for ns in "$NS_LPOD" "$NS_RPOD" "$NS_RPOD2"; do
    ip netns exec "$ns" python3 "$tool" serve "${ns##*-}" >"$TOPO_TMP/${ns##*-}.log" 2>&1 &
  done
  for ns in lpod rpod rpod2; do
    for i in $(seq 50); do grep -q serving "$TOPO_TMP/$ns.log" && break; sleep 0.1; done
  done
}

topo_down() {
  # Cleaning up must finish even when stdout is gone (`make demo | head`).
  trap '' PIPE
  stop_svcdp
  local ns
  # The shell reports each background job it sees die ("Killed"): the
  # servers are ended on purpose, so those notices go nowhere.
  exec 3>&2 2>/dev/null
  for ns in "${TOPO_NAMESPACES[@]}"; do
    # Anything still running in the namespace (socat, ping) goes with it.
    ip netns pids "$ns" | xargs -r kill -9
    ip netns del "$ns"
  done
  wait
  exec 2>&3 3>&-
  rm -rf "$TOPO_TMP"
}

# launch_svcdp BINARY [extra svcdp options...]: runs svcdp in the node
# namespace on the two veths, in the background.
launch_svcdp() {
  local bin=$1
  shift
  SVCDP_LOG=${TOPO_SVCDP_LOG:-$TOPO_TMP/svcdp.log}
  # One worker on CPU 1, or TOPO_WORKERS workers sharing it (this machine
  # has two CPUs); af_packet gives each worker its own queue pair.
  # TOPO_PODS_TAP=NAME: the pods port is a TAP named NAME in the node
  # namespace (pods attached by the CNI plugins), not the veth to podsw.
  local workers=${TOPO_WORKERS:-1} lcores=0@0 w
  local pods_vdev="net_af_packet1,iface=pods0,qpairs=$workers" pods=net_af_packet1
  if [ -n "${TOPO_PODS_TAP:-}" ]; then
    pods_vdev="net_tap1,iface=$TOPO_PODS_TAP"
    pods=net_tap1
  fi
  for w in $(seq "$workers"); do lcores+=",$w@1"; done
  # TOPO_SVCDP_NS / TOPO_SVCDP_NODE: another node's namespace and name
  # (a second svcdp node); its uplink veth is up0 there as well.
  local ns=${TOPO_SVCDP_NS:-$NS_NODE} node=${TOPO_SVCDP_NODE:-node-a}
  ip netns exec "$ns" "$bin" --lcores "$lcores" --no-huge -m 512 --no-pci --no-shconf --file-prefix "$TOPO_PREFIX-$node" \
    --vdev="net_af_packet0,iface=up0,qpairs=$workers" --vdev="$pods_vdev" -- \
    --node-name "$node" --cluster-file "$TOPO_CLUSTER" --uplink net_af_packet0 --pods "$pods" \
    --admin-socket "$SVCDP_SOCKET" "$@" \
    >"$SVCDP_LOG" 2>&1 &
  SVCDP_PID=$!
}

# wait_svcdp_ready [SECONDS]: until svcdp says it is ready (default 10 s);
# prints its log and fails if it exits or takes longer.
wait_svcdp_ready() {
  local i
  for i in $(seq $((${1:-10} * 10))); do
    grep -q "svcdp: ready" "$SVCDP_LOG" && return 0
    kill -0 "$SVCDP_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "svcdp did not start:"
  cat "$SVCDP_LOG"
  return 1
}

# start_svcdp BIN ARGS...: svcdp in the node namespace, ready.
start_svcdp() {
  launch_svcdp "$@" && wait_svcdp_ready
}

# host_kernel_up: the node's own kernel behind svcdp's exception TAP.
# svcdp made svcdp0 in the node namespace; it moves to a namespace of its
# own, as on a real node, where the kernel never sees the DPDK-bound NIC
# (here the veths up0/pods0 would otherwise deliver to it as well).
host_kernel_up() {
  ip -n "$NS_NODE" link set svcdp0 netns "$NS_HOST"
  ip -n "$NS_HOST" addr add "$NODE_IP/24" dev svcdp0
  ip -n "$NS_HOST" link set svcdp0 up
  no_offload "$NS_HOST" svcdp0
}

# stop_svcdp: SIGINT, then SIGKILL after 10 s; returns svcdp's exit code.
stop_svcdp() {
  [ -n "$SVCDP_PID" ] || return 0
  local pid=$SVCDP_PID rc=0 i
  SVCDP_PID=
  kill -INT "$pid" 2>/dev/null
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null && rc=137
  wait "$pid" 2>/dev/null || rc=$?
  return $rc
}

# in_ns NS COMMAND...: runs a command in a namespace under a time limit.
in_ns() {
  local ns=$1
  shift
  timeout 30 ip netns exec "$ns" "$@"
}

# tcp_transfer FROM_NS TO_NS TO_IP BYTES: sends BYTES random bytes over a
# real TCP connection and checks they arrive intact. Prints MB/s.
tcp_transfer() {
  local from=$1 to=$2 ip=$3 bytes=$4 port=5001 listen=TCP-LISTEN connect="TCP:$3:5001"
  case $ip in *:*) listen=TCP6-LISTEN connect="TCP6:[$ip]:$port" ;; esac
  head -c "$bytes" /dev/urandom >"$TOPO_TMP/send"
  rm -f "$TOPO_TMP/recv"
  timeout 30 ip netns exec "$to" socat -u "$listen:$port,reuseaddr" "OPEN:$TOPO_TMP/recv,creat,trunc" &
  local server=$! i
  for i in $(seq 50); do
    ip netns exec "$to" ss -ltn 2>/dev/null | grep -q ":$port " && break
    sleep 0.1
  done
  local start end
  start=$(date +%s.%N)
  in_ns "$from" socat -u "OPEN:$TOPO_TMP/send" "$connect,connect-timeout=5" || { kill "$server" 2>/dev/null; return 1; }
  wait "$server" || return 1
  end=$(date +%s.%N)
  [ "$(sha256sum <"$TOPO_TMP/send")" = "$(sha256sum <"$TOPO_TMP/recv")" ] || { echo "content differs"; return 1; }
  awk -v b="$bytes" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f MB/s\n", b / 1e6 / (e - s) }'
}

# check WHAT COMMAND...: runs one check of a test and counts it;
# check_report prints the tally and fails when any check failed.
passed=0 failed=0
check() {
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok: $what"
  else
    failed=$((failed + 1))
    echo "FAIL: $what"
  fi
}
check_report() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

TOPO_CLUSTER=${TOPO_CLUSTER:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/conf/demo/cluster.yaml}
