#!/usr/bin/env bash
# A short libFuzzer run from the in-tree seeds: run-fuzz.sh FUZZER SEEDS SECONDS.
# New inputs go to a scratch directory; the seed corpus is never modified.
set -euo pipefail
fuzzer=$1 seeds=$2 seconds=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$fuzzer" -max_total_time="$seconds" -seed=1 -print_final_stats=1 -rss_limit_mb=2048 "$scratch" "$seeds"
