#!/usr/bin/env bash
# Bootstrap through svcdp's own dataplane: the API server is reachable only
# beyond the uplink gateway (an "internet" host, TEST-NET-3), and svcdp's
# own sockets live in the node's kernel, behind its exception TAP, as on a
# real node. The kubeconfig names the `kubernetes` Service's ClusterIP (as
# in-cluster config does), which needs tables that do not exist yet;
# --api-server gives the real address. svcdp must forward the kernel's
# traffic before its first table generation, become ready within seconds,
# and then serve the `kubernetes` Service to pods and to the node.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${SVCDP_BIN:?set SVCDP_BIN to the svcdp binary}
# shellcheck source=netns.sh
. "$here/netns.sh"
# shellcheck source=cluster_gen.sh
. "$here/cluster_gen.sh"
topo_require
command -v openssl >/dev/null || { echo "missing openssl: run make deps"; exit 1; }
command -v curl >/dev/null || { echo "missing curl: run make deps"; exit 1; }
trap topo_down EXIT INT TERM

NS_GW=$TOPO_PREFIX-gw
NS_INET=$TOPO_PREFIX-inet
GW_IP=192.168.56.1
API_IP=203.0.113.10
API_PORT=6443

topo_up
add_internet "$NS_GW" "$GW_IP" "$NS_INET" "$API_IP"
# Replies to pods (a pod reaching the API through the ClusterIP keeps its
# address) come back to node-a, as a flannel host would route them.
ip -n "$NS_GW" route add 10.244.0.0/16 via "$NODE_IP"

# The node namespace is the node's kernel here: it must not take frames
# from the veths svcdp drives (DPDK owns the NIC on a real node). Strict
# reverse-path filtering drops any IPv4 on them (every route is via the
# TAP), and they answer no ARP.
for dev in up0 pods0; do
  ip netns exec "$NS_NODE" sysctl -qw "net.ipv4.conf.$dev.rp_filter=1" "net.ipv4.conf.$dev.arp_ignore=8"
done

{
  gen_nodes
  gen_service kubernetes 10.96.0.1 443 "$API_PORT" TCP
  gen_slice kubernetes TCP "$API_PORT" "$API_IP@"
} >"$TOPO_TMP/state.yaml"
as_list "$TOPO_TMP/state.yaml" "$TOPO_TMP/state.json"
ip netns exec "$NS_INET" env KUBE_TEST_ADDRESS="$API_IP" KUBE_TEST_PORT="$API_PORT" KUBE_TEST_SANS="IP:10.96.0.1" \
  python3 "$root/tests/kube-api/server.py" "$TOPO_TMP/api" "$TOPO_TMP/state.json" \
  >"$TOPO_TMP/api.out" 2>"$TOPO_TMP/api.err" &
for _ in $(seq 100); do grep -q ready "$TOPO_TMP/api.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TOPO_TMP/api.out" || { cat "$TOPO_TMP/api.err"; echo "FAIL: test API server"; exit 1; }
# What in-cluster config would say: the `kubernetes` Service's ClusterIP.
sed -i "s|https://$API_IP:$API_PORT|https://10.96.0.1:443|" "$TOPO_TMP/api/kubeconfig"

start=$(date +%s%N)
launch_svcdp "$bin" --source kube --kubeconfig "$TOPO_TMP/api/kubeconfig" --api-server "https://$API_IP:$API_PORT" \
  --exception-iface svcdp0 --uplink-gateway "$GW_IP" --uplink-subnet 192.168.56.0/24 --cluster-cidr 10.244.0.0/16 \
  --kernel-route 10.244.0.0/16 --kernel-route 10.96.0.0/12 --readyz-max-api-age 3 --log-level info
# The node's address and routes on the TAP, as soon as svcdp made it.
for _ in $(seq 100); do ip -n "$NS_NODE" link show svcdp0 >/dev/null 2>&1 && break; sleep 0.1; done
ip -n "$NS_NODE" addr add "$NODE_IP/24" dev svcdp0
ip -n "$NS_NODE" link set svcdp0 up
no_offload "$NS_NODE" svcdp0
ip -n "$NS_NODE" route add default via "$GW_IP" dev svcdp0

check "ready within 15 s with the API server only beyond the uplink" wait_svcdp_ready 15
echo "    ready after $(( ($(date +%s%N) - start) / 1000000 )) ms"
check "the API server was reached at --api-server's address" grep -q "server from --api-server" "$SVCDP_LOG"
check "/readyz answers 200 once the first lists are in" \
  sh -c "ip netns exec $NS_NODE curl -sf -m 3 http://127.0.0.1:9662/readyz | grep -q ready"
token=$(cat "$TOPO_TMP/api/token")
api_get() {
  ip netns exec "$1" curl -sf -m 5 --cacert "$TOPO_TMP/api/ca.crt" -H "Authorization: Bearer $token" \
    https://10.96.0.1/api/v1/nodes | grep node-b >/dev/null
}
check "a pod reaches the API server through the kubernetes Service" api_get "$NS_POD"
check "svcdp gave the kernel its routes to pods and Services (--kernel-route)" sh -c "
  ip -n $NS_NODE route show 10.96.0.0/12 | grep -q 'via 10.244.1.1 dev svcdp0 proto static src $NODE_IP onlink' &&
  ip -n $NS_NODE route show 10.244.0.0/16 | grep -q 'via 10.244.1.1 dev svcdp0'"
check "the node's kernel reaches it through the kubernetes Service too" api_get "$NS_NODE"

# --readyz-max-api-age 3: the server's watches go silent (no bookmark, it
# sends one a second otherwise) for 8 s, then speak again.
readyz() { ip netns exec "$NS_NODE" curl -s -o /dev/null -m 2 -w '%{http_code}' http://127.0.0.1:9662/readyz; }
ip netns exec "$NS_INET" curl -sk -m 3 "https://$API_IP:$API_PORT/_test/stall?seconds=8" >/dev/null
sleep 5
check "/readyz 503 when the API server has been silent over --readyz-max-api-age" test "$(readyz)" = 503
for _ in $(seq 60); do [ "$(readyz)" = 200 ] && break; sleep 0.2; done
check "/readyz 200 again once it speaks" test "$(readyz)" = 200
check "svcdp_api_last_contact_age_seconds for each resource, promtool-clean" sh -c "
  ip netns exec $NS_NODE curl -s -m 3 http://127.0.0.1:9662/metrics >$TOPO_TMP/metrics.txt &&
  test \$(grep -c '^svcdp_api_last_contact_age_seconds{resource=' $TOPO_TMP/metrics.txt) -eq 3 &&
  promtool check metrics <$TOPO_TMP/metrics.txt"
stop_svcdp
check "svcdp exits 0 on SIGINT" test $? -eq 0
sed -n "/drops by reason/,\$p" "$SVCDP_LOG" | sed "s/^/    /"
check_report
