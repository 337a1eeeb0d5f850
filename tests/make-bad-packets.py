#!/usr/bin/env python3
"""Writes tests/bad-packets/{uplink,pods}.pcap and expected.txt: malformed
and unwanted frames, each with the drop reason svcdp must count for it.
Run from the repository root; the output is committed.

The node is node-a (192.168.56.11, pods 10.244.1.0/24; node-b has
10.244.2.0/24 at 192.168.56.12), VNI 1, cluster CIDR 10.244.0.0/16. Frames
are addressed to the MAC net_pcap gives each port (02:70:63:61:70:<index>,
the uplink being net_pcap0 and the pods port net_pcap1) so that they reach
the stage they are meant to break."""
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pktlib import BCAST, eth, ipv4, mac, tcp, udp, vxlan, write_pcap  # noqa: E402

POD = mac("02:5d:00:00:01:0a")
UP_PORT, PODS_PORT = mac("02:70:63:61:70:00"), mac("02:70:63:61:70:01")
INTERNET = "203.0.113.5"
REMOTE = mac("02:5d:00:00:02:01")
NODE, REMOTE_IP, POD_IP, RPOD = "192.168.56.11", "192.168.56.12", "10.244.1.10", "10.244.2.10"


def corrupt(b, at, value):
    b = bytearray(b)
    b[at] = value
    return bytes(b)


def good_pod_udp():
    return eth(PODS_PORT, POD, 0x0800, ipv4(POD_IP, RPOD, 17, udp(40000, 53, b"x" * 20)))


def to_node_vxlan(inner, vni=1, flags=0x08):
    return eth(UP_PORT, REMOTE, 0x0800, ipv4(REMOTE_IP, NODE, 17, udp(50000, 4789, vxlan(vni, inner, flags))))


def ip6_header(next_header, payload_len):
    """fd00:10:244:1::a -> fd00:10:244:2::a, hop limit 64."""
    src = bytes.fromhex("fd000010024400010000000000000a00"[:30] + "0a")
    dst = bytes.fromhex("fd000010024400020000000000000a00"[:30] + "0a")
    return bytes([0x60, 0, 0, 0, payload_len >> 8, payload_len & 0xFF, next_header, 64]) + src + dst


inner_ok = eth(BCAST, REMOTE, 0x0800, ipv4(RPOD, POD_IP, 6, tcp(80, 40000, 0x12)))

pods = [
    ("eth_runt", b"\x01" * 10),
    ("eth_not_for_us", eth(mac("02:00:00:00:00:99"), POD, 0x0800, ipv4(POD_IP, RPOD, 17, udp(1, 2, b"")))),
    ("ethertype_unsupported", eth(PODS_PORT, POD, 0x8847, b"\0" * 40)),  # MPLS
    # IPv6 (RFC 8200): a jumbogram's zero length, Hop-by-Hop not first,
    # a Routing header with segments left, a chain past the payload.
    ("ip6_bad_length", eth(PODS_PORT, POD, 0x86DD, b"\x60" + b"\0" * 39)),
    ("ip6_bad_chain", eth(PODS_PORT, POD, 0x86DD, ip6_header(60, 16) + bytes([0, 0, 1, 4, 0, 0, 0, 0]) * 2)),
    ("ip6_routing_header", eth(PODS_PORT, POD, 0x86DD, ip6_header(43, 24) + bytes([6, 2, 4, 1]) + b"\0" * 20)),
    ("ip6_bad_chain", eth(PODS_PORT, POD, 0x86DD, ip6_header(60, 8) + bytes([6, 3, 1, 4, 0, 0, 0, 0]))),
    ("ip_truncated", eth(PODS_PORT, POD, 0x0800, b"\x45" * 10)),
    ("ip_bad_version", corrupt(good_pod_udp(), 14, 0x65)),
    ("ip_bad_ihl", corrupt(good_pod_udp(), 14, 0x44)),
    ("ip_options", eth(PODS_PORT, POD, 0x0800, ipv4(POD_IP, RPOD, 17, udp(1, 2, b""), ihl=6, options=b"\x01\x01\x01\x00"))),
    ("ip_bad_length", corrupt(good_pod_udp(), 16, 0x05)),
    ("ip_bad_checksum", corrupt(good_pod_udp(), 24, 0)),
    # RFC 3704 ingress filtering: sources outside the node's pod CIDR.
    ("pod_src_spoofed", eth(PODS_PORT, POD, 0x0800, ipv4("0.0.0.0", RPOD, 17, udp(1, 2, b""), ttl=1))),
    ("pod_src_spoofed", eth(PODS_PORT, POD, 0x0800, ipv4(RPOD, "10.244.1.11", 17, udp(1, 2, b"")))),
    ("pod_src_spoofed", eth(PODS_PORT, POD, 0x0800, ipv4(NODE, INTERNET, 6, tcp(40000, 443, 0x02)))),
    # Inside the cluster CIDR, on no node.
    ("ip_no_route", eth(PODS_PORT, POD, 0x0800, ipv4(POD_IP, "10.244.9.9", 17, udp(1, 2, b"")))),
    ("eth_group_from_pod", eth(BCAST, POD, 0x0800, ipv4(POD_IP, "255.255.255.255", 17, udp(68, 67, b"")))),
    ("masq_no_flow", eth(PODS_PORT, POD, 0x0800, ipv4(POD_IP, INTERNET, 6, tcp(40000, 443, 0x10)))),
    ("masq_unsupported", eth(PODS_PORT, POD, 0x0800, ipv4(POD_IP, INTERNET, 47, b"\0" * 8))),
    ("arp_malformed", eth(BCAST, POD, 0x0806, b"\x00\x01" * 5)),
    ("l4_truncated", eth(PODS_PORT, POD, 0x0800, ipv4(POD_IP, RPOD, 6, b"\0" * 10))),
    ("tcp_bad_flags", eth(PODS_PORT, POD, 0x0800, ipv4(POD_IP, RPOD, 6, tcp(40000, 80, 0x03)))),  # SYN+FIN
    ("tcp_bad_flags", eth(PODS_PORT, POD, 0x0800, ipv4(POD_IP, RPOD, 6, tcp(40000, 80, 0x00)))),  # no flag
    ("tcp_bad_flags", eth(PODS_PORT, POD, 0x0800, ipv4(POD_IP, RPOD, 6, tcp(40000, 80, 0x29)))),  # FIN+PSH+URG (Xmas)
    # The test's cluster has web (10.96.0.10:80, one endpoint) and empty
    # (10.96.0.13:80, none).
    # An RST of no flow (a mid-stream ACK would be taken up by Maglev).
    ("lb_no_flow", eth(PODS_PORT, POD, 0x0800, ipv4(POD_IP, "10.96.0.10", 6, tcp(40000, 80, 0x04)))),
    ("tcp_bad_offset", eth(PODS_PORT, POD, 0x0800, ipv4(POD_IP, "10.96.0.10", 6, corrupt(tcp(40000, 80, 0x02), 12, 0x40)))),
]
uplink = [
    ("ip_no_route", eth(UP_PORT, REMOTE, 0x0800, ipv4(REMOTE_IP, "1.1.1.1", 17, udp(1, 2, b"")))),
    ("udp_truncated", eth(UP_PORT, REMOTE, 0x0800, ipv4(REMOTE_IP, NODE, 17, b"\x12\x34"))),
    ("vxlan_truncated", eth(UP_PORT, REMOTE, 0x0800, ipv4(REMOTE_IP, NODE, 17, udp(1, 4789, b"\x08\0")))),
    ("vxlan_unknown_vtep", eth(UP_PORT, REMOTE, 0x0800, ipv4("192.168.56.99", NODE, 17, udp(50000, 4789, vxlan(1, inner_ok))))),
    ("vxlan_bad_flags", to_node_vxlan(inner_ok, flags=0x00)),
    ("vxlan_unknown_vni", to_node_vxlan(inner_ok, vni=42)),
    ("vxlan_inner_runt", to_node_vxlan(b"\0" * 20)),
    ("vxlan_inner_not_ip", to_node_vxlan(eth(BCAST, REMOTE, 0x0806, b"\0" * 28))),
    ("ip_bad_checksum", to_node_vxlan(corrupt(inner_ok, 24, 0))),
    ("vxlan_inner_not_local", to_node_vxlan(eth(BCAST, REMOTE, 0x0800, ipv4(RPOD, RPOD, 17, udp(1, 2, b""))))),
    ("ip_local_unhandled", eth(UP_PORT, REMOTE, 0x0800, ipv4(REMOTE_IP, NODE, 6, tcp(40000, 22, 2)))),
    # Martian sources (RFC 1812 section 5.3.7) to web's NodePort 30080 and
    # to empty's 30013: never load-balanced, answered or learned.
    ("ip_martian_source", eth(UP_PORT, REMOTE, 0x0800, ipv4("0.0.0.0", NODE, 6, tcp(40000, 30080, 0x02), ttl=1))),
    ("ip_martian_source", eth(UP_PORT, REMOTE, 0x0800, ipv4("127.0.0.1", NODE, 6, tcp(40000, 30013, 0x02)))),
    ("ip_martian_source", eth(UP_PORT, REMOTE, 0x0800, ipv4("255.255.255.255", NODE, 17, udp(1, 30080, b"")))),
    ("ip_martian_source", eth(UP_PORT, REMOTE, 0x0800, ipv4("224.0.0.5", "10.244.1.20", 17, udp(1, 2, b"")))),
]

os.makedirs("tests/bad-packets", exist_ok=True)
write_pcap("tests/bad-packets/pods.pcap", [f for _, f in pods])
write_pcap("tests/bad-packets/uplink.pcap", [f for _, f in uplink])
counts = collections.Counter(r for r, _ in pods + uplink)
with open("tests/bad-packets/expected.txt", "w") as f:
    f.write("# drop reason and count svcdp must report after replaying uplink.pcap and pods.pcap\n")
    for reason, n in sorted(counts.items()):
        f.write(f"{reason} {n}\n")
