#!/usr/bin/env bash
# make bench: run every benchmark in full and keep the results beside the
# build (BUILD/bench/*.json) so two runs can be compared with
# compare.py from Google Benchmark's tools.
set -euo pipefail
build=${1:-build}
out="$build/bench"
mkdir -p "$out"
for b in "$build"/perf/*_bench; do
  [ -x "$b" ] || continue
  name=$(basename "$b")
  echo "== $name"
  "$b" --benchmark_out="$out/$name.json" --benchmark_out_format=json "${@:2}"
done
echo "results: $out/"
