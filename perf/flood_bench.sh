#!/usr/bin/env bash
# The SYN flood against the flood rate: tests/integration/floods_test.sh
# at each rate (conntrack capacity 1,024, a LAN client's new connections
# beside the flood, 1 and 2 workers), as a table of the share of
# connections answered within 1 s during the flood and how long after it
# the first new connection was answered. Writes
# perf/results/<date>-<host>-flood.md. Needs root (network namespaces).
# Usage: flood_bench.sh BUILD [RATE...]
set -euo pipefail
build=${1:?usage: flood_bench.sh BUILD [RATE...]}
shift
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(5000 10000 20000 40000)
here=$(cd "$(dirname "$0")" && pwd)
report="$here/results/$(date +%F)-$(hostname -s)-flood.md"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
{
  echo "# SYN flood: legitimate connections against the flood rate ($(git -C "$here" rev-parse --short HEAD))"
  echo
  echo "tests/integration/floods_test.sh: 8 s of SYNs to a NodePort, conntrack capacity 1,024; a LAN client"
  echo "opens a connection every 0.1 s (1 s each) from the flood's 2nd to 7th second, then for 1 s after it."
  echo "The sender is Python on the same 2-vCPU machine: 'sent/s' is the rate it reached."
  echo
  echo "| workers | flood | sent/s | answered during | first answer after the flood |"
  echo "|---|---|---|---|---|"
} >"$report"
for workers in 1 2; do
  for rate in "${rates[@]}"; do
    FLOOD_RATE=$rate TOPO_WORKERS=$workers SVCDP_BIN="$build/svcdp" bash "$here/../tests/integration/floods_test.sh" >"$log" 2>&1 || true
    # Per flood kind: the during line, the "SYNs in" line, the after line.
    python3 - "$workers" "$log" >>"$report" <<'PY'
import re, sys
workers, lines = sys.argv[1], open(sys.argv[2]).read().splitlines()
answered = [l for l in lines if re.match(r"\d+ of \d+ connections answered", l)]
sent = [re.search(r"\((\d+)/s\)", l).group(1) for l in lines if "SYNs in" in l]
for i, kind in enumerate(("spoofed sources", "one source, resetting")):
    during, after = answered[2 * i], answered[2 * i + 1]
    share = "%s of %s" % re.match(r"(\d+) of (\d+)", during).groups()
    first = re.search(r"after (\S+ ?m?s|never)", after).group(1)
    print(f"| {workers} | {kind} | {sent[i]} | {share} | {first} |")
PY
  done
done
echo "report: $report"
cat "$report"
