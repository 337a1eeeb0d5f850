"""Small packet and pcap writer for test data (seed corpora, pcaps).
Independent of the C++ code under test."""
import socket
import struct

BCAST = b"\xff" * 6


def ip(a):
    return bytes(int(x) for x in a.split("."))


def mac(m):
    return bytes.fromhex(m.replace(":", ""))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b)//2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(src, dst, proto, payload, ttl=64, ihl=5, options=b"", df=False):
    frag = 0x4000 if df else 0
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(payload), 0, frag, ttl, proto, 0, ip(src), ip(dst)) + options
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ipv6(src, dst, nh, payload, hops=64):
    """An IPv6 header (RFC 8200 section 3) before `payload`, whose TCP, UDP
    or ICMPv6 checksum is filled in over the pseudo-header (section 8.1)."""
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    at = {6: 16, 17: 6, 58: 2}.get(nh)
    if at is not None and len(payload) >= at + 2:
        payload = payload[:at] + b"\0\0" + payload[at + 2:]
        c = csum(s + d + struct.pack("!II", len(payload), nh) + payload)
        payload = payload[:at] + struct.pack("!H", c) + payload[at + 2:]
    return struct.pack("!IHBB", 0x60000000, len(payload), nh, hops) + s + d + payload


def udp(sp, dp, payload):
    return struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload


def tcp(sp, dp, flags, seq=1000):
    return struct.pack("!HHIIBBHHH", sp, dp, seq, 0, 0x50, flags, 65535, 0, 0)


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, ip(spa), tha, ip(tpa))


def vxlan(vni, inner, flags=0x08):
    return struct.pack("!II", flags << 24, vni << 8) + inner


def write_pcap(path, frames):
    """libpcap format, Ethernet link type, microsecond timestamps."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", i // 1000, (i % 1000) * 1000, len(frame), len(frame)))
            f.write(frame)


def read_pcap(path):
    """The frames of a file write_pcap wrote."""
    with open(path, "rb") as f:
        data = f.read()[24:]
    frames = []
    while data:
        _, _, caplen, _ = struct.unpack("<IIII", data[:16])
        frames.append(data[16:16 + caplen])
        data = data[16 + caplen:]
    return frames
