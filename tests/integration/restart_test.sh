#!/usr/bin/env bash
# Connections survive a restart of svcdp (a DaemonSet rolling update):
# TCP streams through a ClusterIP to a local endpoint, through one to a
# remote endpoint (VXLAN), and from a LAN host through a NodePort (SNAT to
# the pod gateway) run while svcdp stops (SIGTERM: flows saved with
# --save-flows) and starts again (flows put back); every byte arrives
# (sha256 checked), no RST. Then, after a SIGKILL (nothing saved), the
# ClusterIP stream survives by being taken up by Maglev (Katran's way).
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
state=$TOPO_TMP/state
mkdir -p "$state"

topo_up
backends_up
add_lan_host "$NS_EXT" 192.168.56.100
{
  gen_nodes
  gen_service local 10.96.0.21 9000 9000 TCP
  gen_slice local TCP 9000 "$LPOD_IP@node-a"
  gen_service remote 10.96.0.22 9000 9000 TCP
  gen_slice remote TCP 9000 "$RPOD_IP@node-b"
  gen_service np 10.96.0.23 9000 9000 TCP 30090
  gen_slice np TCP 9000 "$RPOD2_IP@node-b"
} >"$TOPO_TMP/cluster.yaml"
export TOPO_CLUSTER=$TOPO_TMP/cluster.yaml
run() { start_svcdp "$bin" --save-flows --state-dir "$state" --log-level info; }
run || exit 1
in_ns "$NS_POD" ping -c 1 -W 2 "$RPOD_IP" >/dev/null 2>&1

# stream NAME NS HOST PORT: a 12 s stream in the background; pauses of up
# to 8 s (the restart) are allowed, a reset or a lost byte is not.
stream() {
  ip netns exec "$2" $tool stream "$3" "$4" 12 - 8 >"$TOPO_TMP/$1.log" 2>&1 &
  eval "pid_$1=$!"
}
ended_intact() {
  local pid
  eval "pid=\$pid_$1"
  wait "$pid"
  local rc=$?
  sed 's/^/    /' "$TOPO_TMP/$1.log"
  return $rc
}

stream local "$NS_POD" 10.96.0.21 9000
stream remote "$NS_POD" 10.96.0.22 9000
stream nodeport "$NS_EXT" "$NODE_IP" 30090
sleep 3
stop_svcdp
check "SIGTERM: svcdp exits 0 and saves its flows" sh -c "test $? -eq 0 && grep -q 'flows saved' $SVCDP_LOG"
grep -o 'flows saved[^$]*' "$SVCDP_LOG" | sed 's/^/    /'
start=$(date +%s%N)
run || exit 1
echo "    svcdp ready again after $(( ($(date +%s%N) - start) / 1000000 )) ms"
for _ in $(seq 30); do grep -q "saved flows put back" "$SVCDP_LOG" && break; sleep 0.1; done
check "the saved flows are put back" grep -qE "saved flows put back.* flows=[1-9]" "$SVCDP_LOG"
check "stream through a ClusterIP to a local endpoint survived the restart" ended_intact local
check "stream through a ClusterIP to a remote endpoint survived the restart" ended_intact remote
check "stream through a NodePort (SNAT) survived the restart" ended_intact nodeport

# Nothing saved: the ClusterIP stream is taken up by Maglev.
stream local "$NS_POD" 10.96.0.21 9000
sleep 3
kill -KILL "$SVCDP_PID"
wait "$SVCDP_PID" 2>/dev/null
SVCDP_PID=
run || exit 1
check "after a SIGKILL, a ClusterIP stream is taken up mid-stream (Maglev)" ended_intact local
stop_svcdp
check "svcdp exits 0" test $? -eq 0
check "the stream was picked up, not dropped" grep -qE "picked_up=[1-9]|lb_picked" "$SVCDP_LOG"
check_report
