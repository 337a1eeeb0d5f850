#!/usr/bin/env python3
"""Floods for the reliability test, written straight onto an interface
(AF_PACKET; standard library and tests/pktlib.py only).

  flood.py syn IFACE DST_MAC DST_IP DPORT RATE SECONDS SOURCES
      TCP SYNs at RATE per second for SECONDS. SOURCES "spoofed": a random
      source in 198.18.0.0/15 (RFC 2544's benchmarking range, no host's)
      per SYN; an address: that one source (its kernel resets every
      SYN-ACK). Prints how many were sent and the rate reached.
  flood.py arp IFACE COUNT TARGET_IP
      COUNT ARP requests for TARGET_IP, each from another sender
      (10.200.0.0/16 onwards, a MAC each), as fast as they go.
"""
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pktlib import BCAST, arp, csum, eth, ip, ipv4, mac, tcp  # noqa: E402


def own_mac(iface):
    with open(f"/sys/class/net/{iface}/address") as f:
        return mac(f.read().strip())


def ip_str(n):
    return socket.inet_ntoa(struct.pack("!I", n))


def tcp_syn(src, dst, sport, dport):
    """A SYN with its checksum (RFC 793 section 3.1 pseudo-header): the
    endpoint's kernel answers it."""
    seg = bytearray(tcp(sport, dport, 0x02, seq=random.getrandbits(32)))
    struct.pack_into("!H", seg, 16, csum(ip(src) + ip(dst) + struct.pack("!BBH", 0, 6, len(seg)) + bytes(seg)))
    return ipv4(src, dst, 6, bytes(seg))


def syn(iface, dst_mac, dst_ip, dport, rate, seconds, sources):
    rate, seconds, dport = float(rate), float(seconds), int(dport)
    src_mac, dst_mac = own_mac(iface), mac(dst_mac)
    rng = random.Random(1)
    # A pool built before the clock starts: checksums cost more than sends.
    frames = []
    for i in range(min(int(rate * seconds), 60000)):
        src = ip_str((198 << 24 | 18 << 16) + rng.randrange(1 << 17)) if sources == "spoofed" else sources
        frames.append(eth(dst_mac, src_mac, 0x0800, tcp_syn(src, dst_ip, 1024 + i % 64000, dport)))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    start = time.monotonic()
    sent = 0
    while (now := time.monotonic()) - start < seconds:
        due = int((now - start) * rate)
        while sent < due:
            s.send(frames[sent % len(frames)])
            sent += 1
        time.sleep(0.0005)
    elapsed = time.monotonic() - start
    print(f"{sent} SYNs in {elapsed:.1f} s ({sent / elapsed:.0f}/s)")


def arp_flood(iface, count, target_ip):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for i in range(int(count)):
        sender_mac = bytes([0x02, 0xaa]) + struct.pack("!I", i)
        sender_ip = ip_str((10 << 24 | 200 << 16) + i)
        s.send(eth(BCAST, sender_mac, 0x0806, arp(1, sender_mac, sender_ip, b"\0" * 6, target_ip)))
    print(f"{count} ARP requests from {count} senders")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"syn": syn, "arp": arp_flood}[cmd](*args)
