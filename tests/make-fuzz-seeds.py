#!/usr/bin/env python3
"""Writes the seed corpora of the fuzzers (dataplane/fuzz-seeds,
control/fuzz-seeds, dns/fuzz-seeds). Run from the repository root; the output is committed.

Packet seeds: one control byte (bits 0-1 port: 0 uplink, 1 pods, 2 kernel;
bit 2/3: harness fixes outer/inner IPv4 checksums; bit 4: harness writes
the port's MAC as destination) then an Ethernet frame. Every frame of the
malformed corpus (tests/bad-packets, one drop reason each) is a seed too,
sent to its port's MAC with its checksums as they are."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pktlib import BCAST, arp, eth, ipv4, ipv6, read_pcap, tcp, udp, vxlan  # noqa: E402

POD_MAC = bytes.fromhex("025d0000010a")
REMOTE_MAC = bytes.fromhex("025d00000201")


packets = {
    "arp-request-gateway": (1, eth(BCAST, POD_MAC, 0x0806, arp(1, POD_MAC, "10.244.1.10", b"\0" * 6, "10.244.1.1"))),
    "arp-request-node": (0, eth(BCAST, REMOTE_MAC, 0x0806, arp(1, REMOTE_MAC, "192.168.56.12", b"\0" * 6, "192.168.56.11"))),
    "pod-to-remote-udp": (5, eth(BCAST, POD_MAC, 0x0800, ipv4("10.244.1.10", "10.244.2.10", 17, udp(40000, 53, b"q" * 20)))),
    "pod-to-remote-tcp-syn": (5, eth(BCAST, POD_MAC, 0x0800, ipv4("10.244.1.10", "10.244.2.10", 6, tcp(40000, 80, 2)))),
    "pod-to-pod-local": (5, eth(BCAST, POD_MAC, 0x0800, ipv4("10.244.1.10", "10.244.1.11", 1, b"\x08\0\0\0\0\0\0\0"))),
    "vxlan-to-local-pod": (12, eth(BCAST, REMOTE_MAC, 0x0800, ipv4("192.168.56.12", "192.168.56.11", 17, udp(50000, 4789, vxlan(1, eth(BCAST, REMOTE_MAC, 0x0800, ipv4("10.244.2.10", "10.244.1.10", 6, tcp(80, 40000, 0x12)))))))),
    "ssh-to-node": (4, eth(BCAST, REMOTE_MAC, 0x0800, ipv4("192.168.56.12", "192.168.56.11", 6, tcp(40000, 22, 2)))),
    "ipv6-on-uplink": (0, eth(BCAST, REMOTE_MAC, 0x86DD, b"\x60" + b"\0" * 39)),
    "pod-to-clusterip-syn": (5, eth(BCAST, POD_MAC, 0x0800, ipv4("10.244.1.10", "10.96.0.10", 6, tcp(40000, 80, 2)))),
    "pod-to-clusterip-udp": (5, eth(BCAST, POD_MAC, 0x0800, ipv4("10.244.1.10", "10.96.0.10", 17, udp(40000, 80, b"q" * 20)))),
    "endpoint-reply-udp": (5, eth(BCAST, POD_MAC, 0x0800, ipv4("10.244.1.11", "10.244.1.10", 17, udp(8080, 40000, b"a" * 20)))),
    "pod-to-empty-service": (5, eth(BCAST, POD_MAC, 0x0800, ipv4("10.244.1.10", "10.96.0.13", 6, tcp(40000, 80, 2)))),
    "nodeport-syn": (4, eth(BCAST, REMOTE_MAC, 0x0800, ipv4("192.168.56.100", "192.168.56.11", 6, tcp(50000, 30080, 2)))),
    "lb-ip-udp": (4, eth(BCAST, REMOTE_MAC, 0x0800, ipv4("192.168.56.100", "192.168.56.200", 17, udp(50000, 80, b"d" * 8)))),
    "icmp-error-from-endpoint": (5, eth(BCAST, POD_MAC, 0x0800, ipv4("10.244.1.11", "10.244.1.10", 1, b"\x03\x03\0\0\0\0\0\0" + ipv4("10.244.1.10", "10.244.1.11", 17, udp(40000, 8080, b"q" * 8))))),
    "from-kernel": (2, eth(REMOTE_MAC, POD_MAC, 0x0800, ipv4("192.168.56.11", "192.168.56.12", 6, tcp(22, 40000, 0x12)))),
    # IPv6 (worker_fuzz's node-a is dual-stack: fd00:10:244:1::/64, node-b
    # fd00:10:244:2::/64, ClusterIP fd00:10:96::a with a local and a
    # remote endpoint).
    "ipv6-ns-gateway": (1, eth(bytes.fromhex("3333ff000001"), POD_MAC, 0x86DD, ipv6("fd00:10:244:1::5", "ff02::1:ff00:1", 58, bytes([135, 0, 0, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, "fd00:10:244:1::1") + bytes([1, 1]) + POD_MAC, hops=255))),
    "ipv6-echo-to-gateway": (1, eth(BCAST, POD_MAC, 0x86DD, ipv6("fd00:10:244:1::5", "fd00:10:244:1::1", 58, bytes([128, 0, 0, 0, 0, 7, 0, 1]) + b"x" * 16))),
    "ipv6-pod-to-pod": (1, eth(BCAST, POD_MAC, 0x86DD, ipv6("fd00:10:244:1::5", "fd00:10:244:1::b", 58, bytes([128, 0, 0, 0, 0, 7, 0, 1]), hops=1))),
    "ipv6-syn-to-clusterip": (1, eth(BCAST, POD_MAC, 0x86DD, ipv6("fd00:10:244:1::5", "fd00:10:96::a", 6, tcp(40000, 80, 2)))),
    # REJECT over IPv6: a RST, the hop-by-hop header (RFC 8200 4.3, PadN) left out of it.
    "ipv6-syn-to-empty-service": (1, eth(BCAST, POD_MAC, 0x86DD, ipv6("fd00:10:244:1::5", "fd00:10:96::e", 0, bytes([6, 0, 1, 4, 0, 0, 0, 0]) + tcp(40000, 80, 2)))),
    "ipv6-pod-to-remote-pod": (1, eth(BCAST, POD_MAC, 0x86DD, ipv6("fd00:10:244:1::5", "fd00:10:244:2::a", 17, udp(40000, 53, b"q" * 20)))),
    "ipv6-nodeport-syn": (0, eth(BCAST, REMOTE_MAC, 0x86DD, ipv6("2001:db8::5", "fd00:56::11", 6, tcp(50000, 30080, 2)))),
    "ipv6-pod-egress-syn": (1, eth(BCAST, POD_MAC, 0x86DD, ipv6("fd00:10:244:1::5", "2001:db8::5", 6, tcp(40000, 443, 2)))),
    "ipv6-masq-reply": (0, eth(BCAST, REMOTE_MAC, 0x86DD, ipv6("2001:db8::5", "fd00:56::11", 6, tcp(443, 61000, 0x12)))),
    "vxlan6-to-local-pod": (0, eth(BCAST, REMOTE_MAC, 0x86DD, ipv6("fd00:56::12", "fd00:56::11", 17, udp(50000, 4789, vxlan(1, eth(BCAST, REMOTE_MAC, 0x86DD, ipv6("fd00:10:244:2::a", "fd00:10:244:1::5", 6, tcp(8080, 40000, 0x12)))))))),
    "ipv6-vxlan-to-local-pod": (4, eth(BCAST, REMOTE_MAC, 0x0800, ipv4("192.168.56.12", "192.168.56.11", 17, udp(50000, 4789, vxlan(1, eth(BCAST, REMOTE_MAC, 0x86DD, ipv6("fd00:10:244:2::a", "fd00:10:244:1::5", 6, tcp(8080, 40000, 0x12)))))))),
}
UNICAST = 16
packets = {name: (ctl | UNICAST if frame[:6] == BCAST and ctl & 3 != 2 and frame[12:14] != b"\x08\x06" else ctl, frame)
           for name, (ctl, frame) in packets.items()}
for port, pcap in ((0, "uplink"), (1, "pods")):
    pcap_port_mac = bytes.fromhex(f"0270636170{port:02x}")  # what net_pcap gives the port in bad_packets_test
    for i, frame in enumerate(read_pcap(f"tests/bad-packets/{pcap}.pcap")):
        packets[f"bad-{pcap}-{i:02d}"] = (port | (UNICAST if frame[:6] == pcap_port_mac else 0), frame)
os.makedirs("dataplane/fuzz-seeds", exist_ok=True)
for name, (ctl, frame) in packets.items():
    with open(f"dataplane/fuzz-seeds/{name}.bin", "wb") as f:
        f.write(bytes([ctl]) + frame)

docs = {
    "node.yaml": "kind: Node\nmetadata: {name: a}\nspec: {podCIDR: 10.244.1.0/24}\nstatus: {addresses: [{type: InternalIP, address: 1.2.3.4}]}\n",
    "list.yaml": "apiVersion: v1\nkind: List\nitems:\n- kind: Service\n  metadata: {name: s, namespace: ns}\n  spec:\n    clusterIP: 10.96.0.10\n    ports: [{name: dns, protocol: UDP, port: 53, targetPort: dns}]\n- kind: EndpointSlice\n  metadata: {name: s-1, namespace: ns, labels: {kubernetes.io/service-name: s}}\n  addressType: IPv4\n  endpoints: [{addresses: [10.244.1.5], conditions: {ready: true}, nodeName: a}]\n  ports: [{name: dns, protocol: UDP, port: 5353}]\n",
    "nodelist.json": '{"kind":"NodeList","items":[{"metadata":{"name":"n","annotations":{"flannel.alpha.coreos.com/backend-data":"{\\"VtepMAC\\":\\"02:00:00:00:00:01\\"}"}},"spec":{"podCIDRs":["10.0.1.0/24"]},"status":{"addresses":[{"type":"InternalIP","address":"10.9.0.1"}]}}]}',
    "multi.yaml": "kind: Node\nmetadata: {name: x}\n---\nkind: Service\nmetadata: {name: z}\nspec: {clusterIP: None}\n",
}
os.makedirs("control/fuzz-seeds", exist_ok=True)
for name, text in docs.items():
    with open(f"control/fuzz-seeds/{name}", "w") as f:
        f.write(text)


# DNS messages (dns/fuzz-seeds): queries as resolvers send them (RFC 1035
# 4.1), with and without an EDNS0 OPT (RFC 6891).
def dns_name(name):
    out = b""
    for label in name.split(".") if name else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_query(name, qtype, edns=None, flags=0x0100, ident=0x1234):
    header = ident.to_bytes(2, "big") + flags.to_bytes(2, "big") + b"\0\x01\0\0\0\0" + (b"\0\x01" if edns else b"\0\0")
    opt = b"\0\0\x29" + edns.to_bytes(2, "big") + b"\0\0\0\0\0\0" if edns else b""
    return header + dns_name(name) + qtype.to_bytes(2, "big") + b"\0\x01" + opt


queries = {
    "a-service": dns_query("web.default.svc.cluster.local", 1),
    "a-search-expansion": dns_query("example.com.default.svc.cluster.local", 1, edns=1232),
    "srv-named-port": dns_query("_http._tcp.web.default.svc.cluster.local", 33),
    "ptr-clusterip": dns_query("20.0.96.10.in-addr.arpa", 12),
    "aaaa-pod": dns_query("10-244-1-5.default.pod.cluster.local", 28, edns=4096),
    "txt-version": dns_query("dns-version.cluster.local", 16),
    "ns-apex": dns_query("cluster.local", 2),
    "headless": dns_query("db.default.svc.cluster.local", 1),
    "external": dns_query("example.test", 1),
    "compressed-answer": dns_query("web.default", 1)[:-4] + b"\0\x01\0\x01\xc0\x0c\0\x01\0\x01\0\0\0\x05\0\x04\x0a\x60\0\x14",
}
# The worker's dns stage: a pod's query to the cluster DNS (10.96.0.10).
for name, msg in (("pod-dns-query", queries["a-service"]), ("pod-dns-external", queries["external"])):
    with open(f"dataplane/fuzz-seeds/{name}.bin", "wb") as f:
        f.write(bytes([5 | UNICAST]) + eth(BCAST, POD_MAC, 0x0800, ipv4("10.244.1.10", "10.96.0.10", 17, udp(40000, 53, msg))))
os.makedirs("dns/fuzz-seeds", exist_ok=True)
for name, msg in queries.items():
    with open(f"dns/fuzz-seeds/{name}.bin", "wb") as f:
        f.write(msg)
