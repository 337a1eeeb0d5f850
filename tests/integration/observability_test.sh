#!/usr/bin/env bash
# What an operator sees of a running svcdp, checked with the real tools:
# /metrics passes `promtool check metrics`, a real Prometheus server (Debian's
# package) scrapes it and its HTTP API shows counters moving with traffic;
# /healthz and /readyz answer; svcdpctl lists services and flows, flushes a
# service's flows, prints JSON, and fails clearly without a daemon.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${SVCDP_BIN:?set SVCDP_BIN to the svcdp binary}
ctl=${SVCDPCTL_BIN:?set SVCDPCTL_BIN to the svcdpctl binary}
# shellcheck source=netns.sh
. "$here/netns.sh"
topo_require
for t in curl promtool prometheus; do
  command -v "$t" >/dev/null || { echo "missing $t: run make deps"; exit 1; }
done
trap topo_down EXIT INT TERM

topo_up
backends_up
TOPO_CLUSTER=$root/conf/demo/cluster.yaml start_svcdp "$bin" || exit 1
node_curl() { ip netns exec "$NS_NODE" curl -s -m 5 "$@"; }

check "/healthz answers 200" node_curl -f http://127.0.0.1:9662/healthz -o /dev/null
check "/readyz answers 200 once the first generation is published" node_curl -f http://127.0.0.1:9662/readyz -o /dev/null

# Prometheus, scraping every second, on the node namespace's loopback.
cat >"$TOPO_TMP/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
- job_name: svcdp
  static_configs: [{targets: ["127.0.0.1:9662"]}]
YAML
ip netns exec "$NS_NODE" prometheus --config.file="$TOPO_TMP/prometheus.yml" --storage.tsdb.path="$TOPO_TMP/prom" \
  --web.listen-address=127.0.0.1:9090 >"$TOPO_TMP/prometheus.log" 2>&1 &
prom_query() {  # prints the first value of an instant query, or nothing
  node_curl "http://127.0.0.1:9090/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null
}
for _ in $(seq 100); do [ -n "$(prom_query 'up{job="svcdp"}')" ] && break; sleep 0.2; done
check "Prometheus scrapes svcdp (up == 1)" test "$(prom_query 'up{job="svcdp"}')" = 1
before=$(prom_query 'svcdp_service_new_flows_total{service="web",port="http"}')
in_ns "$NS_POD" ping -c 1 -W 2 "$RPOD_IP" >/dev/null 2>&1
for _ in $(seq 30); do in_ns "$NS_POD" curl -s -m 3 http://10.96.0.10/ >/dev/null; done
sleep 2.5
after=$(prom_query 'svcdp_service_new_flows_total{service="web",port="http"}')
echo "    svcdp_service_new_flows_total{service=\"web\"}: ${before:-?} -> ${after:-?}"
check "the per-service counter moved by the 30 connections in Prometheus" \
  python3 -c "import sys; sys.exit(0 if float('${after:-0}') - float('${before:-0}') >= 30 else 1)"
check "Prometheus has the drop-reason, conntrack and port series" \
  test -n "$(prom_query 'svcdp_drops_total{reason="eth_not_for_us"}')" -a -n "$(prom_query 'svcdp_conntrack_entries')" \
  -a -n "$(prom_query 'svcdp_port_rx_packets_total{role="pods"}')"

node_curl http://127.0.0.1:9662/metrics >"$TOPO_TMP/metrics.txt"
check "promtool check metrics accepts /metrics ($(grep -c '^svcdp_' "$TOPO_TMP/metrics.txt") samples)" \
  sh -c "promtool check metrics <'$TOPO_TMP/metrics.txt'"
# The README's table of series says what /metrics has: every family
# exported is in it, and every row that is not conditional is exported.
check "the README's metrics table matches /metrics, both ways" python3 - "$root/README.md" "$TOPO_TMP/metrics.txt" <<'PY'
import re, sys
rows = re.findall(r"^\| `((?:svcdp|process)_[a-z_]+)` \| [a-z]+ \|[^|]*\|[^|]*\| ([^|]*)\|$", open(sys.argv[1]).read(), re.M)
table = {n for n, _ in rows}
always = {n for n, when in rows if not when.strip().startswith("with")}
exported = set(re.findall(r"^# TYPE ([a-z_]+) ", open(sys.argv[2]).read(), re.M))
missing, extra = exported - table, always - exported
for n in sorted(missing): print(f"    exported but not in the README: {n}")
for n in sorted(extra): print(f"    in the README but not exported: {n}")
sys.exit(1 if missing or extra or len(table) < 50 else 0)
PY
check "no label carries a pod or client address" sh -c "! grep -E '^svcdp_[a-z_]+\{[^}]*10\.244\.' '$TOPO_TMP/metrics.txt'"

# svcdpctl.
"$ctl" services >"$TOPO_TMP/services.txt"
sed 's/^/    /' "$TOPO_TMP/services.txt"
check "svcdpctl services lists the service, its front ends and 3 endpoints" \
  sh -c "grep -q 'default/web:http TCP' '$TOPO_TMP/services.txt' && grep -q 'ClusterIP *10.96.0.10:80' '$TOPO_TMP/services.txt' && test \$(grep -c -- '->' '$TOPO_TMP/services.txt') -eq 3"
check "svcdpctl -o json services is JSON" sh -c "'$ctl' -o json services | python3 -m json.tool >/dev/null"
"$ctl" conntrack --service default/web --limit 3 >"$TOPO_TMP/ct.txt"
sed 's/^/    /' "$TOPO_TMP/ct.txt"
check "svcdpctl conntrack shows the service's flows" grep -q "service=default/web:http" "$TOPO_TMP/ct.txt"
flows=$("$ctl" conntrack --service default/web | sed -n 's/.* flows shown of \([0-9]*\) matching/\1/p')
flushed=$("$ctl" -o json flush service default/web | python3 -c 'import json, sys; print(json.load(sys.stdin)["entries"])')
echo "    $flows flows listed, $flushed entries flushed"
check "svcdpctl flush service answers once done, with the entries it removed" test "${flushed:-0}" -ge "${flows:-1}"
check "after the flush the service has no flow" sh -c "'$ctl' conntrack --service default/web | grep -q '^0 flows shown of 0'"
check "flushing again removes nothing, and says so" sh -c "'$ctl' -o json flush all | grep -q '\"entries\":0' &&
  '$ctl' flush flow tcp 10.244.1.10:1 10.96.0.10:80 | grep -q '^nothing flushed: no tracked flow matched'"
check "svcdpctl stats shows the generation" sh -c "'$ctl' stats | grep -q '^generation'"
"$ctl" -o json stats > "$TOPO_TMP/stats.json"
echo "    cycles per packet by stage: $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["stage_cycles_per_packet"])' "$TOPO_TMP/stats.json")"
check "svcdpctl stats gives each stage's cycles per packet (eth_input and lb ran)" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["stage_cycles_per_packet"]
sys.exit(0 if c.get("eth_input", 0) > 0 and c.get("lb", 0) > 0 else 1)' "$TOPO_TMP/stats.json"
check "svcdpctl stats prints names, not JSON strings" sh -c "'$ctl' stats | grep -q '^  uplink:\$' && ! '$ctl' stats | grep -q '\"'"
"$ctl" status >"$TOPO_TMP/status.txt"
sed 's/^/    /' "$TOPO_TMP/status.txt"
check "svcdpctl status: version, source, generation and each worker's load" sh -c "
  grep -q '^svcdp [0-9.]*, up [0-9]*s' '$TOPO_TMP/status.txt' &&
  grep -q '^source *file .*(synced)' '$TOPO_TMP/status.txt' &&
  grep -q '^generation *[1-9]' '$TOPO_TMP/status.txt' &&
  grep -q '^worker 0 *busy [0-9.]* %' '$TOPO_TMP/status.txt'"
"$ctl" neighbours >"$TOPO_TMP/neigh.txt"
sed 's/^/    /' "$TOPO_TMP/neigh.txt"
check "svcdpctl neighbours lists the remote VTEP's MAC as resolved" \
  sh -c "grep -Eq '^uplink +$REMOTE_IP +([0-9a-f]{2}:){5}[0-9a-f]{2} +resolved' '$TOPO_TMP/neigh.txt'"
"$ctl" nodes >"$TOPO_TMP/nodes.txt"
sed 's/^/    /' "$TOPO_TMP/nodes.txt"
check "svcdpctl nodes lists node-b with its VTEP and pod CIDR" \
  sh -c "grep -Eq '^node-b +vtep $REMOTE_IP .* pods 10.244.2.0/24' '$TOPO_TMP/nodes.txt'"
node_curl http://127.0.0.1:9662/metrics > "$TOPO_TMP/metrics.txt"
check "/metrics has each stage's processing time" grep -q '^svcdp_stage_processing_seconds_total{stage="lb"}' "$TOPO_TMP/metrics.txt"
check "/metrics says when a change was last queued and that none is pending" \
  sh -c "grep -q '^svcdp_sync_last_queued_timestamp_seconds [1-9]' '$TOPO_TMP/metrics.txt' && grep -q '^svcdp_sync_changes_pending 0$' '$TOPO_TMP/metrics.txt'"
check "svcdpctl without a daemon fails with a clear error" \
  sh -c "! '$ctl' --socket '$TOPO_TMP/none.sock' stats 2>'$TOPO_TMP/err.txt' && grep -q 'is svcdp running' '$TOPO_TMP/err.txt'"
check "svcdpctl rejects a bad request with a message" sh -c "! '$ctl' conntrack --client 300.1.1.1 2>/dev/null"
# Arguments are checked before anything is asked: one line, exit 2.
bad_args() {
  local args
  for args in "conntrack --limit abc" "conntrack --limit=-1" "trace many" "conntrack --proto icmp" \
    "conntrack --bogus 1" "services extra" "-o yaml stats" "frob" "trace 5 --timeout 0" "--socket"; do
    # shellcheck disable=SC2086
    "$ctl" $args 2>"$TOPO_TMP/err.txt"
    [ $? -eq 2 ] && [ "$(wc -l <"$TOPO_TMP/err.txt")" -eq 1 ] || { echo "    $args: $(cat "$TOPO_TMP/err.txt")"; return 1; }
  done
  # svcdp's EAL arguments: a CPU it may not use, no hugepages without
  # --no-huge: one line, exit 2, before EAL prints anything.
  local eal
  for eal in "-l 99 --no-huge" "-l 0,1 --huge-dir /nonexistent"; do
    # shellcheck disable=SC2086
    "$bin" $eal -- --source file --cluster-file "$root/conf/demo/cluster.yaml" --uplink net_null0 --pods net_null1 \
      --node-name node-a >"$TOPO_TMP/eal.txt" 2>&1
    local rc=$?
    if [ "$eal" = "-l 0,1 --huge-dir /nonexistent" ] && [ "$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)" != 0 ]; then
      continue  # this machine has hugepages: nothing to refuse
    fi
    [ $rc -eq 2 ] && [ "$(wc -l <"$TOPO_TMP/eal.txt")" -eq 1 ] || { echo "    svcdp $eal: $(cat "$TOPO_TMP/eal.txt")"; return 1; }
    sed 's/^/    /' "$TOPO_TMP/eal.txt"
  done
  "$ctl" --socket="$SVCDP_SOCKET" -o json stats | python3 -m json.tool >/dev/null &&
    "$ctl" --version | grep -q '^svcdpctl ' && "$bin" --version | grep -q '^svcdp '
}
check "svcdpctl and svcdp check their arguments (one-line errors, exit 2), take --name=value; --version on both" bad_args

stop_svcdp
check "svcdp exits 0 on SIGINT" test $? -eq 0
check_report
