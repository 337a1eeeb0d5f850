#!/usr/bin/env bash
# Per-core benchmark: svcdp with one worker core against dpdk-testpmd (io
# and macswap) on the very same input, run alternately (A B A B) in one
# session, input from net_pcap with infinite_rx=1, output dropped by the
# PMD (net_pcap without a TX file drops, as net_null does). testpmd
# forwards the one stream svcdp forwards (--port-topology=loop on the pcap
# port: received and sent on it, nothing else polled).
#
# Memory as a node runs it: the full run reserves 2 MB hugepages (and
# mounts hugetlbfs) and runs both programs on them; if that fails it falls
# back to --no-huge and the report says so. The smoke run uses --no-huge.
#
#   perf/bench_core.sh BUILD_DIR [--smoke]
#   ONLY=REGEX     run only the scenarios whose name matches (e.g. ONLY='^est')
#   RESULTS=DIR    write the report there instead of perf/results
#   PROFILE_SCENARIOS="a b"  scenarios profiled with perf in one more run
#                  (default: est-remote pod2pod newconn)
#
# Writes perf/results/<date>-<host>.md (and PNG plots with gnuplot); the
# smoke run (make test) uses one small scenario and short intervals and
# writes to BUILD_DIR/bench-smoke instead. No rate is asserted anywhere.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: bench_core.sh BUILD_DIR [--smoke]}" && pwd)
smoke=${2:-}
svcdp=$build/svcdp
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ "$smoke" = --smoke ]; then
  WARMUP=1 INTERVAL=1 ROUNDS=1
  results=$build/bench-smoke
  scenarios=("est-local|est-local --services 10 --flows 256")
else
  WARMUP=${WARMUP:-2} INTERVAL=${INTERVAL:-4} ROUNDS=${ROUNDS:-2}
  PROFILE_SCENARIOS=${PROFILE_SCENARIOS:-est-remote pod2pod newconn}
  results=${RESULTS:-$root/perf/results}
  scenarios=(
    "est-local|est-local --services 100 --flows 4096"
    "est-local6|est-local6 --services 100 --flows 4096"
    "est-remote|est-remote --services 100 --flows 4096"
    "pod2pod|pod2pod --services 100 --flows 4096"
    "replies|replies --services 100 --flows 4096"
    "nodeport|nodeport --services 100 --flows 4096"
    "udp|udp --services 100 --flows 4096"
    "newconn|newconn --services 100 --flows 65536"
    "dns answers|dns --services 1000 --flows 4096"
    "est-local 1500B|est-local --services 100 --flows 4096 --size 1500"
    # Services at a fixed flow count (10 k flows spread over the table).
    "services=1|est-local --services 1 --flows 10000 --endpoints-per-service 1 --packets-per-flow 4"
    "services=1k|est-local --services 1000 --flows 10000 --endpoints-per-service 1 --packets-per-flow 4"
    "services=10k|est-local --services 10000 --flows 10000 --endpoints-per-service 1 --packets-per-flow 4"
    "services=100k|est-local --services 100000 --flows 10000 --endpoints-per-service 1 --packets-per-flow 4"
    "flows=1k|est-local --services 100 --flows 1000"
    "flows=16k|est-local --services 100 --flows 16000 --packets-per-flow 4"
    "flows=256k|est-local --services 100 --flows 256000 --packets-per-flow 2"
    "flows=1M|est-local --services 100 --flows 1000000 --packets-per-flow 2"
  )
fi
mkdir -p "$results"
command -v dpdk-testpmd >/dev/null || { echo "dpdk-testpmd missing: make deps"; exit 1; }

# Hugepages: HUGEPAGES (default 5632 x 2 MB: svcdp on the 1 M-flow pcap, 2 M frames, asks for 10.6 GB) free pages, hugetlbfs mounted.
memory_mode=no-huge
if [ "$smoke" != --smoke ]; then
  want=${HUGEPAGES:-5632}
  hp=/sys/kernel/mm/hugepages/hugepages-2048kB
  if [ "$(cat "$hp/free_hugepages" 2>/dev/null || echo 0)" -lt "$want" ]; then
    echo $(( $(cat "$hp/nr_hugepages") + want - $(cat "$hp/free_hugepages") )) >"$hp/nr_hugepages" 2>/dev/null || true
  fi
  if ! grep -q '^[^ ]* [^ ]* hugetlbfs ' /proc/mounts; then
    mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
  fi
  if [ "$(cat "$hp/free_hugepages" 2>/dev/null || echo 0)" -ge "$want" ] && grep -q ' hugetlbfs ' /proc/mounts; then
    memory_mode=hugepages
  else
    echo "bench_core: WARNING: could not get $want free 2 MB hugepages; both programs run with --no-huge" >&2
  fi
fi

median() {  # of whitespace-separated numbers on stdin
  tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'
}

eal() {  # EAL arguments: main lcore 0, the measured core 1, memory for the pcap
  local mem="--no-huge"
  [ "$memory_mode" = hugepages ] && mem="--in-memory"
  echo "-l 0,1 $mem -m $1 --no-pci --no-shconf --file-prefix bench$$ --log-level *:error"
}
mem_mb() {  # EAL memory: about 3 KB per mbuf for every packet of the pcap, plus pools, rings and tables
  echo $(( ($1 + 70000) * 3 / 1000 + 512 ))
}

# testpmd MODE PCAP PACKETS → Mpps (median of the per-second samples after warm-up)
testpmd_rate() {
  local mode=$1 pcap=$2 packets=$3 n
  # Start-up (EAL memory, the pcap loaded into mbufs) before the first
  # sample: generous, as a loaded machine starts slowly; awk stops reading
  # once it has its samples, and testpmd ends on the closed pipe.
  n=$((WARMUP + INTERVAL + 20 + packets / 100000))
  # shellcheck disable=SC2046
  timeout "$n" dpdk-testpmd $(eal "$(mem_mb "$packets")") --vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" \
    -- --forward-mode="$mode" --port-topology=loop --nb-cores=1 --total-num-mbufs=$((packets + 32768)) \
    --stats-period 1 2>/dev/null |
    awk -v skip="$WARMUP" -v keep="$INTERVAL" '/Rx-pps:/ { if ($2 > 0) ++n; if (n > skip && n <= skip + keep) printf "%.2f\n", $2 / 1e6; if (n >= skip + keep) exit }' |
    median || true
}

metric() {  # metric FILE NAME_AND_LABELS → value
  awk -v k="$2" 'index($0, k " ") == 1 { print $NF }' "$1"
}

# svcdp DIR [PROFILE_OUT] → "Mpps ns_per_packet forwarded_percent"; with
# PROFILE_OUT, the interval runs under `perf record` on the worker's core
# and PROFILE_OUT gets the time per stage and the top symbols (a run of
# its own, not one of the A B A B rounds).
svcdp_rate() {
  local dir=$1 profile=${2:-} drive packets port inputs m1=$work/m1 m2=$work/m2 t1 t2 i
  drive=$(python3 -c "import json; print(json.load(open('$dir/meta.json'))['drive'])")
  packets=$(python3 -c "import json; print(json.load(open('$dir/meta.json'))['packets'])")
  if [ "$drive" = pods ]; then
    inputs="--vdev net_pcap0,rx_pcap=$dir/uplink.pcap --vdev net_pcap1,rx_pcap=$dir/pods.pcap,infinite_rx=1"
  else
    inputs="--vdev net_pcap0,rx_pcap=$dir/uplink.pcap,infinite_rx=1 --vdev net_pcap1,rx_pcap=$dir/pods.pcap"
  fi
  port=$((9800 + RANDOM % 100))
  # shellcheck disable=SC2086,SC2046
  "$svcdp" $(eal "$(($(mem_mb "$packets") + packets / 512 + 256))") $inputs -- --config "$dir/svcdp.conf" --uplink net_pcap0 --pods net_pcap1 \
    --metrics-address "127.0.0.1:$port" --admin-socket off --mbufs $((packets + 65536)) >"$work/svcdp.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for i in $(seq 600); do
    curl -sf "127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/svcdp.log" >&2; echo "0 0 0"; return; }
    sleep 0.1
  done
  sleep "$WARMUP"
  t1=$(date +%s.%N); curl -s "127.0.0.1:$port/metrics" >"$m1"
  if [ -n "$profile" ]; then
    perf record -q -C 1 -o "$work/perf.data" -- sleep "$INTERVAL" >/dev/null 2>&1 || true
  else
    sleep "$INTERVAL"
  fi
  t2=$(date +%s.%N); curl -s "127.0.0.1:$port/metrics" >"$m2"
  kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  python3 - "$m1" "$m2" "$t1" "$t2" "$drive" "$profile" <<'PY'
import re, sys
def load(p):
    d = {}
    for line in open(p):
        if line.startswith("svcdp_"):
            k, v = line.rsplit(" ", 1)
            d[k] = float(v)
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
dt = float(sys.argv[4]) - float(sys.argv[3])
drive, profile = sys.argv[5], sys.argv[6]
d = lambda k: b.get(k, 0) - a.get(k, 0)
rx = d(f'svcdp_worker_rx_packets_total{{worker="0",role="{drive}"}}')
busy = d('svcdp_worker_busy_seconds_total{worker="0"}')
tx = sum(d(k) for k in b if k.startswith("svcdp_port_tx_packets_total"))
print(f"{rx / dt / 1e6:.2f} {busy / rx * 1e9 if rx else 0:.1f} {100 * tx / rx if rx else 0:.0f}")
if profile and rx:
    stages = [f"{m.group(1)} {d(k) / rx * 1e9:.1f}" for k in b
              if (m := re.match(r'svcdp_stage_processing_seconds_total\{stage="([a-z_]+)"', k)) and d(k) > 0]
    with open(profile, "w") as f:
        print("ns per received packet by stage (svcdp_stage_processing_seconds_total): " + ", ".join(stages), file=f)
PY
  if [ -n "$profile" ]; then
    {
      echo '```'
      perf report -q -i "$work/perf.data" --no-children --sort dso,symbol --percent-limit 1 2>/dev/null |
        sed 's/[ -]*$//' | grep -v '^$' | head -25
      echo '```'
    } >>"$profile"
  fi
}

host=$(hostname)
report=$results/$(date +%F)-$host.md
[ "$smoke" = --smoke ] && report=$results/report.md
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
dpdk=$(pkg-config --modversion libdpdk)
{
  echo "# svcdp per-core benchmark, $(date '+%F %H:%M'), $host"
  echo
  echo "- CPU: $cpu ($(nproc) vCPU); DPDK $dpdk; svcdp $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')"
  echo "- One worker core (lcore 1), input net_pcap infinite_rx=1, output dropped by the PMD; rates from the"
  echo "  port/worker counters over ${INTERVAL} s after ${WARMUP} s of warm-up; testpmd (io, macswap) on the"
  echo "  same pcap and core, forwarding that one stream (--port-topology=loop), alternated with svcdp"
  echo "  (A B A B, ${ROUNDS} round(s)); figures are medians of the rounds."
  if [ "$memory_mode" = hugepages ]; then
    echo "- Memory: 2 MB hugepages for both programs (EAL --in-memory); svcdp's conntrack and worker contexts on them."
  else
    echo "- Memory: **--no-huge for both programs** (4 KB pages: testpmd runs about half as fast as on"
    echo "  hugepages and table costs are hidden; $( [ "$smoke" = --smoke ] && echo 'the smoke run' || echo 'no hugepages could be reserved'))."
  fi
  echo "- ns/pkt: the worker's busy TSC time divided by the packets it received (polls that got packets)."
  echo
  echo "| scenario | frames | testpmd io Mpps | testpmd macswap Mpps | svcdp Mpps | svcdp / macswap | ns/pkt | forwarded |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$report"

declare -A rate_of ns_of
plot_services=$work/services.dat plot_flows=$work/flows.dat
: >"$plot_services"; : >"$plot_flows"
for entry in "${scenarios[@]}"; do
  name=${entry%%|*}
  args=${entry#*|}
  [[ -z ${ONLY:-} || $name =~ $ONLY ]] || continue
  dir=$work/s
  rm -rf "$dir"
  # shellcheck disable=SC2086
  python3 "$root/perf/make_traffic.py" "$dir" $args
  drive=$(python3 -c "import json; print(json.load(open('$dir/meta.json'))['drive'])")
  packets=$(python3 -c "import json; print(json.load(open('$dir/meta.json'))['packets'])")
  io="" mac="" sv="" ns="" fw=""
  for _ in $(seq "$ROUNDS"); do
    io+=" $(testpmd_rate io "$dir/$drive.pcap" "$packets")"
    read -r r n f < <(svcdp_rate "$dir")
    sv+=" $r"; ns+=" $n"; fw+=" $f"
    mac+=" $(testpmd_rate macswap "$dir/$drive.pcap" "$packets")"
  done
  io=$(echo $io | median); mac=$(echo $mac | median); sv=$(echo $sv | median); ns=$(echo $ns | median); fw=$(echo $fw | median)
  rate_of[$name]=$sv ns_of[$name]=$ns
  ratio=$(awk -v a="$sv" -v b="$mac" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), a / b }')
  printf '| %s | %s on %s | %s | %s | %s | %s | %s | %s%% |\n' "$name" "$packets" "$drive" "$io" "$mac" "$sv" "$ratio" "$ns" "$fw" | tee -a "$report"
  # No rate is asserted; but each program must have moved packets, and
  # svcdp must have forwarded what it received.
  if awk -v a="$io" -v b="$mac" -v c="$sv" 'BEGIN { exit !(a <= 0 || b <= 0 || c <= 0) }' || [ "$fw" -lt 99 ]; then
    echo "bench_core: $name: a run moved no packets, or svcdp forwarded only $fw %" >&2
    failed=1
  fi
  # What bounds the headline scenarios: one more svcdp run under perf.
  if [[ $smoke != --smoke && " $PROFILE_SCENARIOS " == *" $name "* ]] && command -v perf >/dev/null; then
    svcdp_rate "$dir" "$work/profile-$name" >/dev/null
    { echo; echo "### $name"; echo; cat "$work/profile-$name"; } >>"$work/profiles.md"
  fi
  case $name in
    services=*) echo "${name#services=} $sv $mac" | sed 's/k /000 /' >>"$plot_services" ;;
    flows=*) echo "${name#flows=} $sv $mac" | sed 's/k /000 /' >>"$plot_flows" ;;
  esac
done

# IPv6 against IPv4 (issue 18: within 15 %): the same flows, Services and
# endpoints; the IPv6 frames are 74 bytes, the IPv4 ones 64.
if [ -n "${rate_of[est-local6]:-}" ] && [ -n "${rate_of[est-local]:-}" ]; then
  awk -v r6="${rate_of[est-local6]}" -v r4="${rate_of[est-local]}" -v n6="${ns_of[est-local6]}" -v n4="${ns_of[est-local]}" \
    'BEGIN { if (r4 > 0 && n4 > 0) printf "\nIPv6 / IPv4 established flows (est-local6 / est-local): %.2f of the rate, %.2f of the ns/pkt\n", r6 / r4, n6 / n4 }' |
    tee -a "$report"
fi

# End to end over net_memif: two processes on the two vCPUs (this class of
# machine jumps between rate plateaus run to run: min/median/max).
if [ "$smoke" != --smoke ] && [ -z "${ONLY:-}" ]; then
  {
    echo
    echo "## End to end (perf/e2e_gen over net_memif, two processes)"
    echo
    echo "e2e_gen on core 0 sends the scenario's frames to svcdp (worker on core 1) and checks every packet that"
    echo "comes back: IPv4 and TCP checksums, the rewrite, and one in 1024 byte for byte against a frame rebuilt"
    echo "from the input. The generator is the slower side here; the figures bound svcdp from below."
    echo
    for sc in est-local est-remote; do
      echo "- $sc: $(bash "$root/perf/bench_e2e.sh" "$build" "$sc" 3 5 2>/dev/null | sed 's/^e2e: //')"
    done
  } >>"$report"
fi

if [ -s "$work/profiles.md" ]; then
  {
    echo
    echo "## Profiles of the worker (perf record -C 1, cpu-clock; one more run each, not in the figures above)"
    cat "$work/profiles.md"
  } >>"$report"
elif [ "$smoke" != --smoke ] && ! command -v perf >/dev/null; then
  echo -e "\n(No profiles: perf is not installed; make deps installs linux-perf.)" >>"$report"
fi

if command -v gnuplot >/dev/null && [ -s "$plot_services" ]; then
  base=${report%.md}
  for kind in services flows; do
    gnuplot <<GP
set terminal pngcairo size 800,450 noenhanced
set output "$base-$kind.png"
set logscale x
set xlabel "$kind"
set ylabel "Mpps, one core"
set yrange [0:*]
set key bottom left
set grid
plot "$work/$kind.dat" using 1:2 with linespoints title "svcdp", "" using 1:3 with linespoints title "testpmd macswap"
GP
    echo "" >>"$report"
    echo "![Mpps vs $kind]($(basename "$base")-$kind.png)" >>"$report"
  done
fi
echo "report: $report"
exit "${failed:-0}"
