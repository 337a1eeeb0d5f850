#!/usr/bin/env bash
# make bench: run every benchmark in full: the Google Benchmark programs
# (results in BUILD/bench/*.json, comparable with Google Benchmark's
# compare.py), the sync latency benchmark, and the per-core dataplane
# benchmark against dpdk-testpmd (perf/results/<date>-<host>.md + plots),
# and dnsperf end to end against svcdp's DNS and a DNS server in a pod.
set -euo pipefail
build=${1:-build}
out="$build/bench"
mkdir -p "$out"
for b in "$build"/perf/*_bench; do
  [ -x "$b" ] || continue
  name=$(basename "$b")
  echo "== $name"
  if [ "$name" = sync_bench ]; then
    # 2 / 1,000 / 5,000 Nodes, each with 10 s of heartbeats (500/s) and
    # endpoint changes (100/s) mixed in, one after the other in one run.
    : > "$out/$name.txt"
    for nodes in 2 1000 5000; do
      "$b" --nodes "$nodes" --seconds 10 | tee -a "$out/$name.txt"
    done
  else
    "$b" --benchmark_out="$out/$name.json" --benchmark_out_format=json "${@:2}"
  fi
done
echo "results: $out/"
# The per-core dataplane figures against dpdk-testpmd, with the report
# and plots under perf/results/.
echo "== bench_core (svcdp vs dpdk-testpmd, one core)"
bash "$(dirname "$0")/bench_core.sh" "$build"
# Cluster DNS end to end from a pod: svcdp's answers against a DNS server
# in a pod (dnsperf, same query file, same run).
echo "== dnsperf_bench (svcdp's DNS answers vs a DNS server in a pod)"
bash "$(dirname "$0")/dnsperf_bench.sh" "$build" | tee "$out/dnsperf_bench.md"
