#!/usr/bin/env bash
# Hitless under churn: svcdp watches the test API server (tests/kube-api)
# while a TCP stream runs through a ClusterIP and the service's slice gets
# 1000 changes (endpoints added, removed, made not ready, terminating), and
# 1,000 more Nodes send status heartbeats. The stream must end intact
# without a pause over 1 s, new connections made after a change is
# published must only reach usable endpoints, a ping through svcdp every
# 10 ms (its ARP entry flushed every second) never misses two replies in a
# row, no heartbeat costs a table build, and every change is measured by
# svcdp_network_programming_duration_seconds from its trigger time.
# Then DNS: 1,000 getaddrinfo lookups from a pod through the cluster DNS
# Service (dnsmasq in three pods) across 20 changes of its endpoints, none
# slower than 1 s.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${SVCDP_BIN:?set SVCDP_BIN to the svcdp binary}
changes=${CHURN_CHANGES:-1000}
# shellcheck source=netns.sh
. "$here/netns.sh"
tool="python3 $here/svc_tool.py"
topo_require
command -v openssl >/dev/null || { echo "missing openssl: run make deps"; exit 1; }
command -v curl >/dev/null || { echo "missing curl: run make deps"; exit 1; }
command -v dnsmasq >/dev/null || { echo "missing dnsmasq: run make deps"; exit 1; }
# The client pod's resolver (ip netns exec binds /etc/netns/NS/resolv.conf).
[ -d /etc/netns ] && made_etc_netns= || made_etc_netns=1
cleanup() {
  topo_down
  rm -rf "/etc/netns/$NS_POD"
  [ -z "$made_etc_netns" ] || rmdir /etc/netns 2>/dev/null
}
trap cleanup EXIT INT TERM

topo_up
backends_up

# The cluster the API server starts from: the two nodes, Service churn
# (10.96.0.40: port 9000 for the stream, 80 for HTTP) with lpod only.
python3 - "$TOPO_TMP" "$UPLINK_MAC" "$REMOTE_VTEP_MAC" <<'PY'
import json, sys
d = sys.argv[1]
def node(name, ip, cidr, vtep_mac):
    backend = json.dumps({"VNI": 1, "VtepMAC": vtep_mac})
    return {"kind": "Node", "apiVersion": "v1",
            "metadata": {"name": name, "annotations": {"flannel.alpha.coreos.com/backend-data": backend}},
            "spec": {"podCIDR": cidr}, "status": {"addresses": [{"type": "InternalIP", "address": ip}]}}
def ep(ip, node, name):
    return {"addresses": [ip], "nodeName": node, "conditions": {"ready": True}, "_name": name}
svc = {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "churn", "namespace": "default"},
       "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.40", "clusterIPs": ["10.96.0.40"],
                "ports": [{"name": "stream", "port": 9000, "protocol": "TCP", "targetPort": 9000},
                          {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}}
slice_ = {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
          "metadata": {"name": "churn-1", "namespace": "default", "labels": {"kubernetes.io/service-name": "churn"}},
          "addressType": "IPv4",
          "ports": [{"name": "stream", "port": 9000, "protocol": "TCP"}, {"name": "http", "port": 8080, "protocol": "TCP"}],
          "endpoints": [ep("10.244.1.20", "node-a", "lpod"), ep("10.244.2.10", "node-b", "rpod"),
                        ep("10.244.2.11", "node-b", "rpod2")]}
json.dump(slice_, open(f"{d}/slice.json", "w"))
first = dict(slice_, endpoints=[{k: v for k, v in slice_["endpoints"][0].items() if k != "_name"}])
dns = {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "kube-dns", "namespace": "kube-system"},
       "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.53", "clusterIPs": ["10.96.0.53"],
                "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                          {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}]}}
dns_slice = {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
             "metadata": {"name": "kube-dns-1", "namespace": "kube-system",
                          "labels": {"kubernetes.io/service-name": "kube-dns"}},
             "addressType": "IPv4",
             "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}],
             "endpoints": [{"addresses": [ip], "nodeName": n, "conditions": {"ready": True}}
                           for ip, n in (("10.244.1.20", "node-a"), ("10.244.2.10", "node-b"), ("10.244.2.11", "node-b"))]}
json.dump(dns_slice, open(f"{d}/dns-slice.json", "w"))
# 1,000 more Nodes (TEST-NET-less 100.64.0.0/10 pod CIDRs, never sent
# to) with the status a kubelet reports, for the heartbeats.
def big_node(i):
    n = node(f"hb-{i:04d}", f"172.16.{i >> 8}.{i & 255}", f"100.64.{i >> 2}.{(i & 3) * 64}/26", "")
    del n["metadata"]["annotations"]
    n["status"]["conditions"] = [{"type": t, "status": "True" if t == "Ready" else "False",
                                  "lastHeartbeatTime": "2026-12-02T10:00:00Z",
                                  "lastTransitionTime": "2026-12-01T08:00:00Z", "reason": "KubeletReady"}
                                 for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")]
    return n
items = [node("node-a", "192.168.56.11", "10.244.1.0/24", sys.argv[2]),
         node("node-b", "192.168.56.12", "10.244.2.0/24", sys.argv[3]), svc, first, dns, dns_slice]
items += [big_node(i) for i in range(1000)]
json.dump({"kind": "List", "apiVersion": "v1", "items": items}, open(f"{d}/state.json", "w"))
PY
ip netns exec "$NS_NODE" python3 "$root/tests/kube-api/server.py" "$TOPO_TMP/api" "$TOPO_TMP/state.json" \
  >"$TOPO_TMP/api.out" 2>"$TOPO_TMP/api.err" &
for _ in $(seq 100); do grep -q ready "$TOPO_TMP/api.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TOPO_TMP/api.out" || { cat "$TOPO_TMP/api.err"; echo "FAIL: test API server"; exit 1; }

start_svcdp "$bin" --source kube --kubeconfig "$TOPO_TMP/api/kubeconfig" --log-level info || exit 1
in_ns "$NS_POD" ping -c 1 -W 2 "$RPOD_IP" >/dev/null 2>&1
check "svcdp built its tables from the API server" grep -q "source=kube" "$SVCDP_LOG"
check "the service answers through its ClusterIP" in_ns "$NS_POD" curl -s -m 3 http://10.96.0.40/

metric() {  # metric NAME: its value in /metrics (0 when absent)
  ip netns exec "$NS_NODE" curl -s -m 3 http://127.0.0.1:9662/metrics |
    awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}
generations_before=$(metric svcdp_table_generation)
seconds=${CHURN_STREAM_SECONDS:-25}
ip netns exec "$NS_POD" $tool stream 10.96.0.40 9000 "$seconds" >"$TOPO_TMP/stream.log" 2>&1 &
stream=$!
# Heartbeats of the 1,000 Nodes (each every 10 s, kubelet's
# nodeStatusUpdateFrequency), a ping every 10 ms to the remote pod through
# svcdp, and the pod's neighbour entry for its gateway flushed every second
# so that svcdp's ARP answers are needed all along.
ip netns exec "$NS_NODE" python3 "$root/tests/kube-api/heartbeats.py" "$TOPO_TMP/api" "$TOPO_TMP/state.json" hb- \
  100 "$((seconds - 2))" >"$TOPO_TMP/heartbeats.log" 2>&1 &
beats=$!
ip netns exec "$NS_POD" ping -n -i 0.01 -w "$((seconds - 2))" "$RPOD_IP" >"$TOPO_TMP/ping.log" 2>&1 &
pinger=$!
( end=$((SECONDS + seconds - 2)); while [ $SECONDS -lt $end ]; do
    sleep 1; ip -n "$NS_POD" neigh flush dev eth0 2>/dev/null; done ) &
flusher=$!
sleep 1
ip netns exec "$NS_NODE" python3 "$root/tests/kube-api/churn.py" "$TOPO_TMP/api" "$changes" 25 "$NS_POD" 10.96.0.40 \
  "$TOPO_TMP/slice.json" >"$TOPO_TMP/churn.log" 2>&1
churn=$?
tail -n 5 "$TOPO_TMP/churn.log" | sed 's/^/    /'
check "$changes endpoint changes: new connections only reach usable endpoints" test "$churn" -eq 0
kill -0 "$stream" 2>/dev/null || echo "    (the stream ended before the churn did: raise CHURN_STREAM_SECONDS)"
wait "$stream"
rc=$?
sed 's/^/    /' "$TOPO_TMP/stream.log"
check "the stream through the ClusterIP ran through the churn intact, no reset, no stall" test "$rc" -eq 0
wait "$beats" "$pinger" "$flusher"
sed 's/^/    /' "$TOPO_TMP/heartbeats.log"
check "the Node heartbeats went out" grep -q "Node heartbeats in" "$TOPO_TMP/heartbeats.log"
python3 "$here/ping_gaps.py" 1 <"$TOPO_TMP/ping.log" >"$TOPO_TMP/gaps.log"
ping_rc=$?
sed 's/^/    /' "$TOPO_TMP/gaps.log"
check "a ping every 10 ms through svcdp (ARP flushed every second) never missed two replies in a row" \
  test "$ping_rc" -eq 0
# Only endpoint changes make generations: a heartbeat changes nothing
# svcdp reads (at most one generation per slice change).
generations=$(($(metric svcdp_table_generation) - generations_before))
echo "    $generations generations for $changes slice changes and $(grep -o '^[0-9]*' "$TOPO_TMP/heartbeats.log") heartbeats"
check "no Node heartbeat built tables" test "$generations" -le "$changes"
# kube-proxy's SLI, end to end: from each update's trigger-time annotation
# (stamped by churn.py as the EndpointSlice controller does) to the
# generation being visible to the workers.
programmed=$(metric svcdp_network_programming_duration_seconds_count)
sum=$(metric svcdp_network_programming_duration_seconds_sum)
echo "    network programming: $programmed changes measured, mean $(awk -v s="$sum" -v n="$programmed" 'BEGIN { printf "%.1f ms", n ? s / n * 1000 : 0 }')"
check "every slice change was measured from its trigger time (svcdp_network_programming_duration_seconds)" \
  test "$programmed" -ge "$changes"

# Cluster DNS: dnsmasq in the three backend pods answers svc.test; the
# client pod's resolver is the kube-dns ClusterIP, glibc's defaults
# (timeout 5 s, 2 attempts), as kubelet writes it.
for ns in "$NS_LPOD" "$NS_RPOD" "$NS_RPOD2"; do
  ip netns exec "$ns" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --user=root \
    --pid-file= --bind-dynamic --port=53 --address=/svc.test/10.1.2.3 >"$TOPO_TMP/dnsmasq-${ns##*-}.log" 2>&1 &
done
mkdir -p "/etc/netns/$NS_POD"
echo "nameserver 10.96.0.53" >"/etc/netns/$NS_POD/resolv.conf"
for _ in $(seq 50); do in_ns "$NS_POD" getent ahostsv4 web.svc.test >/dev/null && break; sleep 0.1; done
ip netns exec "$NS_NODE" python3 "$root/tests/kube-api/dns_churn.py" "$TOPO_TMP/api" "$TOPO_TMP/dns-slice.json" \
  "$NS_POD" web.svc.test 1000 20 0.5 >"$TOPO_TMP/dns.log" 2>&1
dns=$?
tail -n 5 "$TOPO_TMP/dns.log" | sed 's/^/    /'
check "1000 getaddrinfo lookups across 20 DNS endpoint changes: none failed or over 1 s" test "$dns" -eq 0

stop_svcdp
check "svcdp exits 0 on SIGINT" test $? -eq 0
grep -E "sync latency|API watch|  lb:" "$SVCDP_LOG" | sed "s/^/    /"
sed -n "/drops by reason/,\$p" "$SVCDP_LOG" | sed "s/^/    /"
check "svcdp reset no flow" grep -q "reset=0 " "$SVCDP_LOG"
check_report
