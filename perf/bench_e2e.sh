#!/usr/bin/env bash
# End to end: svcdp (worker on core 1) and perf/e2e_gen (core 0), two
# processes joined by net_memif; e2e_gen sends a scenario's frames, checks
# what comes back (checksums, rewrite, a byte-for-byte sample) and reports
# Mpps and loss over several runs. On this 2-vCPU class the two processes'
# rates jump between plateaus from run to run: read the spread, not one run.
#
#   perf/bench_e2e.sh BUILD_DIR SCENARIO SECONDS RUNS   → one summary line
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
scenario=$2 seconds=$3 runs=$4
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

python3 "$root/perf/make_traffic.py" "$work/s" "$scenario" --services 100 --flows 4096 --packets-per-flow 1 >/dev/null
"$build/svcdp" -l 0,1 --no-huge -m 512 --no-pci --no-shconf --file-prefix e2e-dut$$ --log-level '*:error' \
  --vdev "net_memif0,role=server,socket=$work/uplink.sock,id=0,mac=02:70:63:61:70:00" \
  --vdev "net_memif1,role=server,socket=$work/pods.sock,id=0,mac=02:70:63:61:70:01" \
  -- --config "$work/s/svcdp.conf" --uplink net_memif0 --pods net_memif1 --metrics-address off --admin-socket off \
  >"$work/svcdp.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "svcdp: ready" "$work/svcdp.log" && break; sleep 0.1; done
grep -q "svcdp: ready" "$work/svcdp.log" || { cat "$work/svcdp.log"; exit 1; }
"$build/perf/e2e_gen" -l 0 --no-huge -m 512 --no-pci --no-shconf --file-prefix e2e-gen$$ --log-level '*:error' \
  --vdev "net_memif0,role=client,socket=$work/uplink.sock,id=0" --vdev "net_memif1,role=client,socket=$work/pods.sock,id=0" \
  -- "$work/s/pods.pcap" "$seconds" "$runs" >"$work/gen.log" 2>&1
rc=$?
kill -INT "$pid"; wait "$pid" 2>/dev/null || true; pid=
grep "^run " "$work/gen.log" | sed 's/^/    /' >&2
grep "^e2e:" "$work/gen.log" || cat "$work/gen.log"
exit $rc
