#!/usr/bin/env bash
# Cluster DNS with real resolvers: a pod whose resolv.conf is what kubelet
# writes (search <ns>.svc.cluster.local svc.cluster.local cluster.local,
# ndots:5, the kube-dns ClusterIP) asks with dig, glibc's getaddrinfo
# (getent, Python) and through its search list; dnsmasq in a pod stands in
# for CoreDNS as kube-dns's endpoint and answers what svcdp passes on
# (external names, an ExternalName's address, TCP). The node's kernel asks
# too. Cleans up on any exit.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${SVCDP_BIN:?set SVCDP_BIN to the svcdp binary}
# shellcheck source=netns.sh
. "$here/netns.sh"
# shellcheck source=cluster_gen.sh
. "$here/cluster_gen.sh"
topo_require
command -v dig >/dev/null && command -v dnsmasq >/dev/null || { echo "missing dig or dnsmasq: run make deps"; exit 1; }
cleanup() {
  rm -rf "/etc/netns/$NS_POD" "/etc/netns/$NS_HOST"
  topo_down
}
trap cleanup EXIT INT TERM

DNS_IP=10.96.0.10
WEB_IP=10.96.0.30
DUAL_IP=10.96.0.50 DUAL_IP6=fd00:10:96::50 POD_IP6=fd00:10:244:2::5
COREDNS_IP=$LPOD_IP  # dnsmasq, in the local backend pod
EXTERNAL=192.0.2.7   # TEST-NET-1: example.test, as the upstream says

{
  gen_nodes
  gen_kube_dns "$DNS_IP" "$COREDNS_IP"
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {clusterIP: $WEB_IP, ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: default
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [$LPOD_IP], nodeName: node-a, conditions: {ready: true}}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec: {clusterIP: None, ports: [{name: pg, port: 5432, protocol: TCP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-x1
  namespace: default
  labels: {kubernetes.io/service-name: db, service.kubernetes.io/headless: ""}
addressType: IPv4
ports: [{name: pg, port: 5432, protocol: TCP}]
endpoints:
- {addresses: [$RPOD_IP], hostname: db-0, nodeName: node-b, conditions: {ready: true}}
- {addresses: [$RPOD2_IP], hostname: db-1, nodeName: node-b, conditions: {ready: true}}
---
apiVersion: v1
kind: Service
metadata: {name: dual, namespace: default}
spec:
  clusterIP: $DUAL_IP
  clusterIPs: [$DUAL_IP, $DUAL_IP6]
  ipFamilies: [IPv4, IPv6]
  ipFamilyPolicy: RequireDualStack
  ports: [{name: http, port: 80, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: dual-v6
  namespace: default
  labels: {kubernetes.io/service-name: dual}
addressType: IPv6
ports: [{name: http, port: 80, protocol: TCP}]
endpoints: [{addresses: ["$POD_IP6"], nodeName: node-b, conditions: {ready: true}}]
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: default}
spec: {type: ExternalName, externalName: example.test}
---
apiVersion: v1
kind: Service
metadata: {name: big, namespace: default}
spec: {clusterIP: None}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: big-1
  namespace: default
  labels: {kubernetes.io/service-name: big}
addressType: IPv4
ports: []
endpoints:
YAML
  for i in $(seq 1 60); do echo "- {addresses: [10.244.3.$i], conditions: {ready: true}}"; done
  # The client pod is in namespace shop (svcdp knows a pod's namespace
  # from the EndpointSlices it is an endpoint in).
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: client, namespace: shop}
spec: {clusterIP: 10.96.0.40, ports: [{name: http, port: 80, protocol: TCP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: client-1, namespace: shop, labels: {kubernetes.io/service-name: client}}
addressType: IPv4
ports: [{name: http, port: 80, protocol: TCP}]
endpoints: [{addresses: [$POD_IP], nodeName: node-a, conditions: {ready: true}}]
YAML
} >"$TOPO_TMP/cluster.yaml"
cat >"$TOPO_TMP/policy.yaml" <<'YAML'
default: allow
rules:
- name: no-blocked-in-shop
  namespaces: [shop]
  action: deny
  matchPattern: "*.blocked.test"
YAML

topo_up
backends_up
# CoreDNS's stand-in: what svcdp passes on is answered here, and only here.
ip netns exec "$NS_LPOD" dnsmasq --no-daemon --no-resolv --no-hosts --port 53 --listen-address "$COREDNS_IP" \
  --bind-interfaces --host-record=example.test,$EXTERNAL --cname=ext.default.svc.cluster.local,example.test \
  --host-record=big.default.svc.cluster.local,10.244.3.200 --host-record=www.blocked.test,192.0.2.9 --log-queries --log-facility="$TOPO_TMP/coredns.log" \
  >"$TOPO_TMP/dnsmasq.out" 2>&1 &
for i in $(seq 50); do ip netns exec "$NS_LPOD" ss -lun | grep -q "$COREDNS_IP:53 " && break; sleep 0.1; done
# What kubelet writes for a pod in `default` with dnsPolicy ClusterFirst.
for ns in "$NS_POD" "$NS_HOST"; do
  mkdir -p "/etc/netns/$ns"
  printf 'nameserver %s\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' \
    "$DNS_IP" >"/etc/netns/$ns/resolv.conf"
done
TOPO_CLUSTER=$TOPO_TMP/cluster.yaml start_svcdp "$bin" --exception-iface svcdp0 --dns-service kube-system/kube-dns \
  --dns-policy "$TOPO_TMP/policy.yaml" || exit 1
host_kernel_up
ip -n "$NS_HOST" route add 10.96.0.0/12 via 10.244.1.1 dev svcdp0 onlink src "$NODE_IP"
in_ns "$NS_POD" ping -c 1 -W 2 "$LPOD_IP" >/dev/null 2>&1

# dig_is NS ARGS... -- WANT: dig +short's lines, sorted, are WANT.
dig_is() {
  local ns=$1 args=() got want
  shift
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  want=$(printf '%s\n' "$@" | sort)
  got=$(in_ns "$ns" dig +short +time=2 +tries=1 "${args[@]}" | sort)
  [ "$got" = "$want" ] || { echo "    dig ${args[*]}: got '$got', want '$want'"; return 1; }
}

check "A of a ClusterIP Service, answered by svcdp (aa, not seen upstream)" sh -c "
  out=\$(ip netns exec $NS_POD dig +time=2 +tries=1 web.default.svc.cluster.local A) &&
  echo \"\$out\" | grep -q 'flags: qr aa rd;' &&
  echo \"\$out\" | tr -s '\t ' ' ' | grep -q '^web.default.svc.cluster.local. 5 IN A $WEB_IP' &&
  ! grep -q 'web.default.svc.cluster.local' $TOPO_TMP/coredns.log"
check "the search list: dig +search web" dig_is "$NS_POD" +search web -- "$WEB_IP"
check "glibc through the search list: getent hosts web" sh -c "
  ip netns exec $NS_POD getent hosts web | grep -q '^$WEB_IP '"
check "Python's getaddrinfo('web.default', 80)" sh -c "
  ip netns exec $NS_POD python3 -c \"import socket; print(socket.getaddrinfo('web.default', 80, type=socket.SOCK_STREAM)[0][4][0])\" | grep -qx $WEB_IP"
check "SRV of a named port" dig_is "$NS_POD" _http._tcp.web.default.svc.cluster.local SRV -- \
  "0 100 80 web.default.svc.cluster.local."
check "PTR of the ClusterIP" dig_is "$NS_POD" -x "$WEB_IP" -- "web.default.svc.cluster.local."
check "a headless Service: its ready endpoints, and each by hostname" sh -c "
  [ \"\$(ip netns exec $NS_POD dig +short db.default.svc.cluster.local | sort | tr '\n' ' ')\" = '$RPOD_IP $RPOD2_IP ' ] &&
  [ \"\$(ip netns exec $NS_POD dig +short db-1.db.default.svc.cluster.local)\" = '$RPOD2_IP' ]"
check "PTR of a StatefulSet pod" dig_is "$NS_POD" -x "$RPOD_IP" -- "db-0.db.default.svc.cluster.local."
check "AAAA of a dual-stack Service" dig_is "$NS_POD" dual.default.svc.cluster.local AAAA -- "$DUAL_IP6"
check "ip6.arpa PTR of its IPv6 ClusterIP" dig_is "$NS_POD" -x "$DUAL_IP6" -- "dual.default.svc.cluster.local."
check "ip6.arpa PTR of an IPv6 endpoint (its address with dashes)" dig_is "$NS_POD" -x "$POD_IP6" -- \
  "fd00-10-244-2--5.dual.default.svc.cluster.local."
check "TXT dns-version" dig_is "$NS_POD" dns-version.cluster.local TXT -- '"1.1.0"'
check "CNAME of an ExternalName" dig_is "$NS_POD" ext.default.svc.cluster.local CNAME -- "example.test."
check "an ExternalName's address comes from upstream (CoreDNS's stand-in)" sh -c "
  ip netns exec $NS_POD getent hosts ext | grep -q '^$EXTERNAL ' && grep -q 'ext.default.svc.cluster.local' $TOPO_TMP/coredns.log"
check "AAAA of an IPv4 Service: NODATA with the zone's SOA" sh -c "
  out=\$(ip netns exec $NS_POD dig +time=2 +tries=1 web.default.svc.cluster.local AAAA) &&
  echo \"\$out\" | grep -q 'status: NOERROR' && echo \"\$out\" | grep -q 'ANSWER: 0' &&
  echo \"\$out\" | tr -s '\t ' ' ' | grep -q '^cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local.'"
check "a name of the zone that does not exist: NXDOMAIN" sh -c "
  ip netns exec $NS_POD dig +time=2 +tries=1 nope.default.svc.cluster.local | grep -q 'status: NXDOMAIN'"
check "a pod by address (pods insecure)" dig_is "$NS_POD" 10-244-1-10.default.pod.cluster.local -- "10.244.1.10"
# ndots:5 tries example.test.default.svc.cluster.local and two more
# expansions first: svcdp answers those (NXDOMAIN), CoreDNS sees one query.
check "an external name: the search-list expansions answered here, the name upstream" sh -c "
  ip netns exec $NS_POD getent hosts example.test | grep -q '^$EXTERNAL ' &&
  grep -q 'query\[A\] example.test from' $TOPO_TMP/coredns.log &&
  ! grep -q 'example.test.default.svc' $TOPO_TMP/coredns.log"
check "a truncated answer is retried over TCP (which goes to CoreDNS)" sh -c "
  out=\$(ip netns exec $NS_POD dig +noedns +time=2 +tries=1 +ignore big.default.svc.cluster.local) &&
  echo \"\$out\" | grep -q 'flags: qr aa tc rd;' &&
  [ \"\$(ip netns exec $NS_POD dig +noedns +short +time=2 big.default.svc.cluster.local)\" = 10.244.3.200 ]"
check "EDNS0: the whole answer within the client's size" sh -c "
  [ \"\$(ip netns exec $NS_POD dig +bufsize=1232 +short +time=2 +tries=1 big.default.svc.cluster.local | wc -l)\" = 60 ]"
check "the node's kernel asks too" dig_is "$NS_HOST" web.default.svc.cluster.local -- "$WEB_IP"

# 10,000 lookups through glibc (A and AAAA in parallel from one socket,
# the search list: the pattern behind kubernetes#56903), none slow.
many_lookups() {
  ip netns exec "$NS_POD" python3 - <<'PY'
import socket, time
worst = 0.0
for i in range(10000):
    t = time.monotonic()
    socket.getaddrinfo("web", 80, proto=socket.IPPROTO_TCP)
    worst = max(worst, time.monotonic() - t)
print(f"    10000 getaddrinfo calls, slowest {worst * 1000:.1f} ms")
raise SystemExit(0 if worst < 1.0 else 1)
PY
}
check "10,000 getaddrinfo calls, none slower than 1 s" many_lookups

# The FQDN policy: *.blocked.test denied to namespace shop (the client
# pod) only; pod lpod (namespace default) still resolves it through CoreDNS.
check "the policy denies *.blocked.test to namespace shop (NXDOMAIN, not asked upstream)" sh -c "
  ip netns exec $NS_POD dig +time=2 +tries=1 www.blocked.test | grep -q 'status: NXDOMAIN' &&
  ! grep -q 'www.blocked.test from $POD_IP' $TOPO_TMP/coredns.log"
check "... and not to namespace default" dig_is "$NS_LPOD" @"$DNS_IP" www.blocked.test -- 192.0.2.9
check "... nor names it does not match" dig_is "$NS_POD" web.default.svc.cluster.local -- "$WEB_IP"
check "svcdp_dns_policy_queries_total counts the rule" sh -c "
  ip netns exec $NS_NODE curl -s http://127.0.0.1:9662/metrics |
    grep -q '^svcdp_dns_policy_queries_total{rule=\"no-blocked-in-shop\",action=\"deny\"} 1$'"
printf 'default: allow\n' >"$TOPO_TMP/policy.yaml"
kill -HUP "$SVCDP_PID"
policy_reloaded() {
  local i
  for i in $(seq 30); do
    [ "$(ip netns exec "$NS_POD" dig +short +time=1 +tries=1 www.blocked.test)" = 192.0.2.9 ] && return 0
    sleep 0.2
  done
  return 1
}
check "SIGHUP re-reads the policy: the name resolves again" policy_reloaded

dns_metrics() {
  local m
  m=$(ip netns exec "$NS_NODE" curl -s http://127.0.0.1:9662/metrics | grep '^svcdp_dns_queries_total')
  echo "$m" | sed 's/^/    /'
  # Here-strings, not `echo | grep -q`: under pipefail a grep that matches
  # the first line and exits can cost the echo a SIGPIPE (status 141).
  grep -q 'type="A",rcode="NOERROR",answered_by="svcdp"' <<<"$m" &&
    grep -q 'type="A",rcode="NXDOMAIN",answered_by="svcdp"' <<<"$m" &&
    grep -q 'type="A",rcode="unknown",answered_by="coredns"' <<<"$m"
}
check "svcdp_dns_queries_total says who answered what" dns_metrics
if [ -n "${SVCDPCTL_BIN:-}" ]; then
  ctl_lookup() {
    local out
    out=$("$SVCDPCTL_BIN" dns lookup _pg._tcp.db.default.svc.cluster.local srv) || return 1
    echo "$out" | sed 's/^/    /'
    echo "$out" | grep -q '^_pg._tcp.db.default.svc.cluster.local SRV: NOERROR from svcdp' &&
      echo "$out" | grep -q 'SRV 0 50 5432 db-1.db.default.svc.cluster.local.' &&
      "$SVCDPCTL_BIN" dns lookup example.test | grep -q 'passed on to CoreDNS' &&
      "$SVCDPCTL_BIN" -o json dns lookup nope.default.svc.cluster.local | grep -q '"rcode":"NXDOMAIN"' &&
      ! "$SVCDPCTL_BIN" dns lookup web.default.svc.cluster.local bogus 2>/dev/null
  }
  check "svcdpctl dns lookup: what svcdp would answer" ctl_lookup
  check "svcdpctl dns stats" sh -c "\"$SVCDPCTL_BIN\" dns stats | sed 's/^/    /' | tee /dev/stderr | grep -q 'answered [1-9]'"
fi
check_report
