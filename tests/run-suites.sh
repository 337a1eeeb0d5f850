#!/usr/bin/env bash
# Runs the named meson test suites and ends with one plain summary line,
# "N passed, N failed", that CI reads. Usage: run-suites.sh BUILD SUITE...
set -uo pipefail
build=$1
shift
args=()
for s in "$@"; do args+=(--suite "$s"); done
meson test -C "$build" --no-rebuild --print-errorlogs "${args[@]}"
rc=$?
log="$build/meson-logs/testlog.json"
passed=$(grep -c '"result": "OK"' "$log" 2>/dev/null || true)
skipped=$(grep -c '"result": "SKIP"' "$log" 2>/dev/null || true)
failed=$(grep -cE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" 2>/dev/null || true)
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit $rc
