#!/usr/bin/env bash
# dnsperf end to end from a pod: the same query file (A and AAAA of 100
# Services, as getaddrinfo asks) against the kube-dns ClusterIP, answered
# by svcdp's worker, and against dnsmasq in a pod (the stand-in for
# CoreDNS, with the same names as host records), whose queries and
# answers cross svcdp as pod-to-pod traffic. Alternated A B A B in one
# run; queries per second and latency as dnsperf reports them. Both
# programs share this machine's CPUs with svcdp's worker, so the ratio is
# the meaningful figure, not the rates.
#
#   perf/dnsperf_bench.sh BUILD_DIR [SECONDS]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: dnsperf_bench.sh BUILD_DIR [SECONDS]}" && pwd)
seconds=${2:-5}
here=$root/tests/integration
# shellcheck source=../tests/integration/netns.sh
. "$here/netns.sh"
# shellcheck source=../tests/integration/cluster_gen.sh
. "$here/cluster_gen.sh"
topo_require
command -v dnsperf >/dev/null && command -v dnsmasq >/dev/null || { echo "missing dnsperf or dnsmasq: make deps"; exit 1; }
trap topo_down EXIT INT TERM

DNS_IP=10.96.0.10
{
  gen_nodes
  gen_kube_dns "$DNS_IP" "$LPOD_IP"
  for i in $(seq 0 99); do gen_service "s$i" "10.96.1.$i" 80 8080 TCP; done
} >"$TOPO_TMP/cluster.yaml"
records=() queries=$TOPO_TMP/queries.txt
: >"$queries"
for i in $(seq 0 99); do
  records+=("--host-record=s$i.default.svc.cluster.local,10.96.1.$i")
  printf 's%d.default.svc.cluster.local A\ns%d.default.svc.cluster.local AAAA\n' "$i" "$i" >>"$queries"
done

topo_up
add_pod "$NS_LPOD" "$LPOD_IP"
ip netns exec "$NS_LPOD" dnsmasq --no-daemon --no-resolv --no-hosts --listen-address "$LPOD_IP" --bind-interfaces \
  "${records[@]}" >"$TOPO_TMP/dnsmasq.log" 2>&1 &
for _ in $(seq 50); do ip netns exec "$NS_LPOD" ss -lun | grep -q "$LPOD_IP:53 " && break; sleep 0.1; done
TOPO_CLUSTER=$TOPO_TMP/cluster.yaml start_svcdp "$build/svcdp" --dns-service kube-system/kube-dns || exit 1
in_ns "$NS_POD" ping -c 1 -W 2 "$LPOD_IP" >/dev/null 2>&1

# run SERVER → "qps avg_ms max_ms lost_percent"
run() {
  timeout $((seconds + 10)) ip netns exec "$NS_POD" dnsperf -s "$1" -d "$queries" -l "$seconds" -q 100 2>&1 |
    awk '/Queries lost:/ { gsub(/[()%]/, "", $4); lost = $4 }
         /Queries per second:/ { qps = $4 }
         /Average Latency/ { avg = $4 * 1000; gsub(/[(),]/, "", $8); max = $8 * 1000 }
         END { printf "%.0f %.3f %.3f %s\n", qps, avg, max, lost }'
}
printf '| server | round | queries/s | avg latency ms | max latency ms | lost %% |\n|---|---|---|---|---|---|\n'
for round in 1 2; do
  read -r q a m l < <(run "$DNS_IP")
  printf '| svcdp (kube-dns ClusterIP) | %d | %s | %s | %s | %s |\n' "$round" "$q" "$a" "$m" "$l"
  read -r q a m l < <(run "$LPOD_IP")
  printf '| dnsmasq in a pod (for CoreDNS) | %d | %s | %s | %s | %s |\n' "$round" "$q" "$a" "$m" "$l"
done
