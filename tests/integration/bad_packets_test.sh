#!/usr/bin/env bash
# Replays pcaps of malformed frames (tests/make-bad-packets.py) into the
# svcdp daemon through net_pcap ports: it must stay up, send nothing, exit 0
# on SIGINT and count each frame under the drop reason expected for it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SVCDP_BIN:?set SVCDP_BIN to the svcdp binary}
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

cat >"$tmp/cluster.yaml" <<'YAML'
kind: List
apiVersion: v1
items:
- kind: Node
  metadata: {name: node-a}
  spec: {podCIDR: 10.244.1.0/24}
  status: {addresses: [{type: InternalIP, address: 192.168.56.11}]}
- kind: Node
  metadata: {name: node-b}
  spec: {podCIDR: 10.244.2.0/24}
  status: {addresses: [{type: InternalIP, address: 192.168.56.12}]}
- kind: Service
  metadata: {name: web, namespace: default}
  spec: {type: NodePort, clusterIP: 10.96.0.10, ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]}
- kind: Service
  metadata: {name: empty, namespace: default}
  spec: {type: NodePort, clusterIP: 10.96.0.13, ports: [{name: http, port: 80, nodePort: 30013}]}
- kind: EndpointSlice
  apiVersion: discovery.k8s.io/v1
  metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
  addressType: IPv4
  ports: [{name: http, port: 8080, protocol: TCP}]
  endpoints: [{addresses: [10.244.1.20], nodeName: node-a}]
YAML

"$bin" -l 0,1 --no-huge -m 256 --no-pci --no-shconf \
  --vdev "net_pcap0,rx_pcap=$here/bad-packets/uplink.pcap,tx_pcap=$tmp/uplink-out.pcap" \
  --vdev "net_pcap1,rx_pcap=$here/bad-packets/pods.pcap,tx_pcap=$tmp/pods-out.pcap" \
  -- --node-name node-a --cluster-file "$tmp/cluster.yaml" --uplink net_pcap0 --pods net_pcap1 --cluster-cidr 10.244.0.0/16 \
  --metrics-address 127.0.0.1:0 --admin-socket "$tmp/svcdp.sock" \
  >"$tmp/out.txt" 2>"$tmp/err.txt" &
pid=$!
for _ in $(seq 100); do
  grep -q "svcdp: ready" "$tmp/out.txt" && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/err.txt"; echo "FAIL: svcdp exited early"; exit 1; }
  sleep 0.1
done
sleep 1
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
pid=
cat "$tmp/out.txt"
[ "$rc" -eq 0 ] || { cat "$tmp/err.txt"; echo "FAIL: svcdp exited with $rc"; exit 1; }

passed=0 failed=0
while read -r reason want; do
  [[ $reason == \#* || -z $reason ]] && continue
  got=$(awk -v r="$reason" '$1 == r { print $2 }' "$tmp/out.txt")
  if [ "${got:-0}" = "$want" ]; then
    passed=$((passed + 1))
  else
    echo "FAIL: $reason counted ${got:-0}, expected $want"
    failed=$((failed + 1))
  fi
done <"$here/bad-packets/expected.txt"
# Nothing may leave: the pcap writers hold only their 24-byte file header.
for f in uplink-out pods-out; do
  size=$(stat -c %s "$tmp/$f.pcap" 2>/dev/null || echo 24)
  if [ "$size" -le 24 ]; then passed=$((passed + 1)); else echo "FAIL: $f.pcap has frames"; failed=$((failed + 1)); fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
