# shellcheck shell=bash
# Writes Kubernetes objects as `kubectl get -o yaml` prints them (trimmed),
# for the integration tests and the demo: the two nodes of netns.sh, and
# Services with their EndpointSlices. Source this file; each function
# prints one YAML document.

# gen_node NAME INTERNAL_IP POD_CIDR VTEP_MAC [IPV6_POD_CIDR [IPV6_INTERNAL_IP]]
gen_node() {
  cat <<YAML
---
apiVersion: v1
kind: Node
metadata:
  name: $1
  annotations: {flannel.alpha.coreos.com/backend-data: '{"VNI":1,"VtepMAC":"$4"}'}
spec: {podCIDR: $3, podCIDRs: [$3${5:+, \"$5\"}]}
status: {addresses: [{type: InternalIP, address: $2}${6:+, {type: InternalIP, address: \"$6\"\}}]}
YAML
}

# gen_nodes: the two nodes of netns.sh.
gen_nodes() {
  gen_node node-a "$NODE_IP" 10.244.1.0/24 "$UPLINK_MAC"
  gen_node node-b "$REMOTE_IP" 10.244.2.0/24 "$REMOTE_VTEP_MAC"
}

# gen_service NAME CLUSTER_IP PORT TARGET PROTO [NODE_PORT [EXTRA_SPEC]]
gen_service() {
  local name=$1 ip=$2 port=$3 target=$4 proto=$5 node_port=${6:-} extra=${7:-} type=ClusterIP
  [ -n "$node_port" ] && type=NodePort
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: $name, namespace: default}
spec:
  type: $type
  clusterIP: $ip
  clusterIPs: [$ip]
  ports: [{name: p, port: $port, protocol: $proto, targetPort: $target${node_port:+, nodePort: $node_port}}]
YAML
  [ -n "$extra" ] && printf '  %s\n' "$extra"
  return 0
}

# gen_slice SERVICE PROTO PORT ENDPOINT...   (ENDPOINT: ip@node[@notready], or ip@ for no node)
gen_slice() {
  local svc=$1 proto=$2 port=$3 ep
  shift 3
  cat <<YAML
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $svc-1
  namespace: default
  labels: {kubernetes.io/service-name: $svc}
addressType: IPv4
ports: [{name: p, port: $port, protocol: $proto}]
endpoints:
YAML
  [ $# -eq 0 ] && echo "  []"
  local ip node cond
  for ep in "$@"; do
    # ip@node, or ip@node@notready: listed, neither ready nor serving (a
    # failing pod, as the EndpointSlice controller writes it).
    IFS=@ read -r ip node cond <<<"$ep"
    if [ "$cond" = notready ]; then cond="{ready: false, serving: false}"; else cond="{ready: true}"; fi
    printf -- '- addresses: [%s]\n' "$ip"
    [ -n "$node" ] && printf '  nodeName: %s\n' "$node"  # ip@ : an address outside the cluster, on no node
    printf '  conditions: %s\n' "$cond"
  done
}

# gen_kube_dns CLUSTER_IP ENDPOINT_IP: kube-system/kube-dns (UDP and TCP
# 53) with one endpoint on node-a, where a DNS server stands in for CoreDNS.
gen_kube_dns() {
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec: {clusterIP: $1, ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: kube-dns-1, namespace: kube-system, labels: {kubernetes.io/service-name: kube-dns}}
addressType: IPv4
ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]
endpoints: [{addresses: [$2], nodeName: node-a, conditions: {ready: true}}]
YAML
}

# as_list YAML_FILE JSON_FILE: the documents as one v1 List, what the test
# API server (tests/kube-api/server.py) starts from.
as_list() {
  python3 -c '
import json, sys, yaml
items = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
json.dump({"kind": "List", "apiVersion": "v1", "items": items}, open(sys.argv[2], "w"))' "$1" "$2"
}
