#!/usr/bin/env bash
# The shipped deployment files start as shipped: svcdp is run with the
# DaemonSet's ConfigMap, command and args, then with the systemd unit's
# ExecStart and conf/svcdp.conf, in the namespace topology, substituting
# only what differs per node (the uplink device, paths, the API server,
# the node name; the EAL gets --no-huge and the uplink's af_packet vdev).
# A broken file fails here. Also: the unit's hardening score, its install
# path, and the Containerfile's runtime packages against what svcdp links.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${SVCDP_BIN:?set SVCDP_BIN to the svcdp binary}
build=$(dirname "$bin")
# shellcheck source=netns.sh
. "$here/netns.sh"
# shellcheck source=cluster_gen.sh
. "$here/cluster_gen.sh"
files="python3 $here/deploy_files.py"
topo_require
command -v openssl >/dev/null || { echo "missing openssl: run make deps"; exit 1; }
trap topo_down EXIT INT TERM

topo_up
gen_nodes >"$TOPO_TMP/state.yaml"
as_list "$TOPO_TMP/state.yaml" "$TOPO_TMP/state.json"
ip netns exec "$NS_NODE" python3 "$root/tests/kube-api/server.py" "$TOPO_TMP/api" "$TOPO_TMP/state.json" \
  >"$TOPO_TMP/api.out" 2>"$TOPO_TMP/api.err" &
for _ in $(seq 100); do grep -q ready "$TOPO_TMP/api.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TOPO_TMP/api.out" || { cat "$TOPO_TMP/api.err"; echo "FAIL: test API server"; exit 1; }
api="https://127.0.0.1:$(awk '/ready/ {print $2}' "$TOPO_TMP/api.out")"
eal=(--no-huge -m 512 --no-pci --no-shconf)

# run_shipped DIR [ENV...]: runs DIR/argv (the binary swapped for the
# build's, the test's EAL options after it) in the node namespace on
# CPUs 0-1, as a cpuset would give them; sets SVCDP_PID and SVCDP_LOG.
run_shipped() {
  local dir=$1
  shift
  mapfile -t argv <"$dir/argv"
  SVCDP_LOG=$dir/svcdp.log
  ip netns exec "$NS_NODE" env "$@" taskset -c 0,1 "$bin" "${eal[@]}" "${argv[@]:1}" >"$SVCDP_LOG" 2>&1 &
  SVCDP_PID=$!
}
# probe PORT PATH: the HTTP status of http://127.0.0.1:PORT/PATH in the node namespace.
probe() { ip netns exec "$NS_NODE" curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$1$2"; }

# --- the DaemonSet ---------------------------------------------------------
ds=$TOPO_TMP/ds
mkdir -p "$ds/net.d" "$ds/run"
$files daemonset "$ds" cni-conf-dir="$ds/net.d" admin-socket="$ds/run/svcdp.sock" state-dir="$ds/run" \
  "@/etc/svcdp/svcdp.conf=$ds/svcdp.conf" '$(NODE_NAME)=node-a' "\$(API_SERVER)=$api" '$(UPLINK_IFACE)=up0' \
  >"$ds/facts" || exit 1
# The node's address on the NIC, for the DaemonSet's --take-over-address.
ip -n "$NS_NODE" addr add "$NODE_IP/24" dev up0
sed 's/^/    /' "$ds/facts"
check "the DaemonSet's container runs /usr/bin/svcdp (the image's path)" test "$(head -1 "$ds/argv")" = /usr/bin/svcdp
check "every \$(VAR) in its args is an env var it defines" \
  test "$(awk '$1 == "refs" {$1 = ""; print}' "$ds/facts")" = "$(awk '$1 == "env" {$1 = ""; print}' "$ds/facts")"
run_shipped "$ds" KUBECONFIG="$TOPO_TMP/api/kubeconfig"
check "svcdp starts with the DaemonSet's config and args, ready within 10 s" wait_svcdp_ready 10
check "one worker: the EAL took the cpuset's two CPUs (no -l)" grep -q "workers=1 source=kube" "$SVCDP_LOG"
while read -r what path port; do
  case $what in
    startupProbe | livenessProbe | readinessProbe)
      check "$what $path on $port answers 200" test "$(probe "$port" "$path")" = 200 ;;
    scrape)
      check "the scrape annotation's port $path serves svcdp's metrics on every address" sh -c "
        ip netns exec $NS_NODE ss -ltn | grep -q ' 0.0.0.0:$path ' &&
        ip netns exec $NS_NODE curl -s -m 3 http://127.0.0.1:$path/metrics | grep -q '^svcdp_'" ;;
    grace) grace=$path ;;
  esac
done <"$ds/facts"
check "kube-proxy's node health server on :10256: /healthz with nodeEligible, /livez" sh -c "
  ip netns exec $NS_NODE curl -sf -m 3 http://127.0.0.1:10256/healthz | grep -q '\"nodeEligible\": true' &&
  ip netns exec $NS_NODE curl -sf -m 3 http://127.0.0.1:10256/livez | grep -q lastUpdated"
check "the node's address taken over from up0 to svcdp0" sh -c "
  ip -n $NS_NODE -4 addr show dev svcdp0 | grep -q 'inet $NODE_IP/24' && ! ip -n $NS_NODE -4 addr show dev up0 | grep -q inet"
check "the CNI configuration is written for the pods TAP" grep -q '"master": "svcdp-pods"' "$ds/net.d/10-svcdp.conflist"
start=$(date +%s)
kill -TERM "$SVCDP_PID"
wait "$SVCDP_PID"
rc=$?
SVCDP_PID=
check "SIGTERM: exit 0 within terminationGracePeriodSeconds ($grace s)" test "$rc" -eq 0 -a $(($(date +%s) - start)) -lt "$grace"
check "SIGTERM: the address given back to up0" sh -c "ip -n $NS_NODE -4 addr show dev up0 | grep -q 'inet $NODE_IP/24'"

# --- the systemd unit --------------------------------------------------------
un=$TOPO_TMP/unit
mkdir -p "$un/net.d"
$files unit "$un" uplink=net_af_packet0 kubeconfig="$TOPO_TMP/api/kubeconfig" cni-conf-dir="$un/net.d" \
  admin-socket="$un/svcdp.sock" state-dir="$un" "@/etc/svcdp/svcdp.conf=$un/svcdp.conf" >"$un/facts" || exit 1
eal+=(--vdev=net_af_packet0,iface=up0)  # the unit names a PCI NIC: af_packet stands in for it
sed 's/^/    /' "$un/facts"
installed=$(meson introspect "$build" --installed 2>/dev/null | python3 -c "
import json, sys
print(next(v for k, v in json.load(sys.stdin).items() if k.endswith('/svcdp')))")
check "the unit runs svcdp where meson install puts it ($installed)" test "$(head -1 "$un/argv")" = "$installed"
check "Type=notify with a watchdog" grep -q "^type notify" "$un/facts"
# The service manager's side of sd_notify: a datagram socket collecting messages.
ip netns exec "$NS_NODE" python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], 'a', buffering=1)
while True:
    out.write(s.recv(4096).decode().replace(chr(10), ' ') + chr(10))
" "$un/notify" "$un/notified" &
for _ in $(seq 50); do [ -S "$un/notify" ] && break; sleep 0.1; done
run_shipped "$un" NOTIFY_SOCKET="$un/notify" WATCHDOG_USEC=1000000
check "svcdp starts with the unit's ExecStart and conf/svcdp.conf" wait_svcdp_ready 10
for _ in $(seq 30); do [ "$(grep -c WATCHDOG=1 "$un/notified" 2>/dev/null)" -ge 2 ] && break; sleep 0.1; done
check "READY=1 sent to the service manager" grep -q "READY=1" "$un/notified"
check "WATCHDOG=1 keep-alives at half WatchdogSec" test "$(grep -c WATCHDOG=1 "$un/notified")" -ge 2
stop_svcdp
rc=$?
check "STOPPING=1 at exit, exit code 0" sh -c "grep -q STOPPING=1 $un/notified && test $rc -eq 0"
mapfile -t stoppost <"$un/stoppost"
check "the unit's ExecStopPost (give back a killed svcdp's addresses) runs: nothing to give back" sh -c "
  ip netns exec $NS_NODE $bin ${stoppost[*]:1} 2>&1 | grep -q 'no addresses to give back'"
score=$(systemd-analyze security --offline=true "$root/conf/deploy/svcdp.service" 2>/dev/null |
  awk '/Overall exposure level/ {print $(NF-2)}')
check "systemd-analyze security: exposure $score, at most 5.0" python3 -c "import sys; sys.exit(not float('${score:-10}') <= 5.0)"

# --- the image ---------------------------------------------------------------
runtime=$($files runtime-packages)
missing=
for lib in $(readelf -d "$bin" | awk '/NEEDED/ {gsub(/[\[\]]/, "", $5); print $5}'); do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
  pkg=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null)
  pkg=${pkg%%:*}
  case " $runtime libc6 libstdc++6 libgcc-s1 " in *" $pkg "*) ;; *) missing+=" $lib($pkg)" ;; esac
done
for pkg in librte-net-tap23 librte-mempool-ring23 librte-bus-pci23; do
  case " $runtime " in *" $pkg "*) ;; *) missing+=" $pkg" ;; esac
done
check "the Containerfile's runtime stage installs every library svcdp links and the drivers it is deployed with${missing:+ (missing:$missing)}" \
  test -z "$missing"
check_report
