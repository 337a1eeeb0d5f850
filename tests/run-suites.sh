#!/usr/bin/env bash
# Runs meson test suites across build trees and ends with one plain summary
# line, "N passed, N failed, N skipped", that CI reads.
# Usage: run-suites.sh BUILD:SUITE[,SUITE...] ...
set -uo pipefail
passed=0 failed=0 skipped=0 rc=0
for spec in "$@"; do
  build=${spec%%:*}
  args=()
  IFS=, read -ra suites <<<"${spec#*:}"
  for s in "${suites[@]}"; do args+=(--suite "$s"); done
  meson test -C "$build" --no-rebuild --print-errorlogs "${args[@]}" || rc=1
  log="$build/meson-logs/testlog.json"
  passed=$((passed + $(grep -c '"result": "OK"' "$log" || true)))
  skipped=$((skipped + $(grep -c '"result": "SKIP"' "$log" || true)))
  failed=$((failed + $(grep -cE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)))
done
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
