#!/usr/bin/env python3
"""Writes the traffic and cluster of one per-core benchmark scenario.

  make_traffic.py OUTDIR SCENARIO [--services N] [--flows N] [--size BYTES] [--endpoints-per-service N]

SCENARIO:
  est-local   established TCP flows from client pods to ClusterIPs, DNAT to
              endpoints on this node (pods port in, pods port out)
  est-remote  the same with endpoints on node-b: DNAT + VXLAN encap
              (pods port in, uplink out)
  est-local6  est-local over IPv6: IPv6-only Services (fd00:10:96::/112)
              with local IPv6 endpoints, NAT66 (74-byte frames at least:
              the IPv6 header is 20 bytes longer)
  replies     the endpoints' answers as node-b sends them: VXLAN decap +
              reverse NAT (uplink in, pods port out); the flows are opened by a
              pods-port pcap read once
  newconn     every packet a SYN of a new connection to a VIP (conntrack kept
              tiny so that each one is new again the next round)
  nodeport    external clients to a NodePort on the uplink, masqueraded to
              local endpoints (uplink in, pods port out)
  udp         UDP request flows to ClusterIPs, local endpoints
  pod2pod     TCP between client pods and pods on node-b, no Service: VXLAN
              encap only, no conntrack (pods port in, uplink out)
  dns         UDP queries to kube-dns (10.111.0.10) from client pods, the
              search-list mix of getaddrinfo: A+AAAA of a Service's short
              name, and for one flow in four an external name's three
              NXDOMAIN expansions; all answered by the worker (pods port
              in and out)

Files: pods.pcap / uplink.pcap (the inputs), cluster.json (Nodes,
Services, EndpointSlices), svcdp.conf (options: static neighbours for
every endpoint and client, so that no ARP is needed), meta.json (which pcap
drives the measurement, which port it is on).

Addresses: node-a 192.168.56.11 (pods 10.244.0.0/16, clients 10.244.0.0/17,
endpoints 10.244.128.0/17), node-b 192.168.56.12 (pods 10.245.0.0/16),
VIPs 10.96.0.0/12, external clients 172.16.0.0/12; IPv6: node-a's pods
fd00:10:244::/64 (clients ::1:x, endpoints ::2:x), VIPs fd00:10:96::x. Frames are addressed
to the MACs net_pcap gives svcdp's ports (02:70:63:61:70:<index>: the
uplink is net_pcap0, the pods port net_pcap1; bench_e2e.sh gives its memif
ports the same), as a pod or a switch would address them."""
import argparse
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from pktlib import csum, eth, ipv4, ipv6, mac, tcp, udp, vxlan, write_pcap  # noqa: E402

CLIENT_MAC = mac("02:5d:00:00:01:0a")
UPLINK_PORT_MAC, PODS_PORT_MAC = mac("02:70:63:61:70:00"), mac("02:70:63:61:70:01")
REMOTE_MAC = mac("02:5d:00:00:02:01")
REMOTE_VTEP_MAC = "02:5d:00:00:02:ff"
EP_MAC = "02:5d:00:00:01:ee"


def dotted(v):
    return ".".join(str((v >> s) & 255) for s in (24, 16, 8, 0))


def client(i):
    return 0x0AF40000 + 1 + i % 30000  # 10.244.0.1 ...


def vip(s):
    return 0x0A600000 + s  # 10.96.0.0 ...


def local_ep(s, e, per):
    return 0x0AF48000 + (s * per + e) % 32000  # 10.244.128.0 ...


def remote_ep(s, e, per):
    return 0x0AF50000 + 1 + (s * per + e) % 60000  # 10.245.0.1 ...


def client6(c):
    """Client `c` (its IPv4 address, client(i)) by its IPv6 address."""
    return f"fd00:10:244::1:{c - client(0):x}"


def vip6(s):
    return f"fd00:10:96::{s:x}"


def local_ep6(s, e, per):
    return f"fd00:10:244::2:{(s * per + e) % 32000:x}"


def l4sum(ip_packet):
    """The IPv4 packet with its TCP or UDP checksum filled (RFC 9293 3.1,
    RFC 768), so that an end-to-end check can verify svcdp's incremental
    updates."""
    proto, src, dst = ip_packet[9], ip_packet[12:16], ip_packet[16:20]
    l4 = bytearray(ip_packet[20:])
    at = 16 if proto == 6 else 6
    l4[at:at + 2] = b"\0\0"
    c = csum(src + dst + struct.pack("!BBH", 0, proto, len(l4)) + bytes(l4))
    l4[at:at + 2] = struct.pack("!H", c or 0xFFFF)
    return ip_packet[:20] + bytes(l4)


def pad(payload, size, headers):
    return payload + b"\0" * max(0, size - headers - len(payload))


def cluster(services, per, remote, proto="TCP", node_port=False, family6=False):
    items = [
        {"kind": "Node", "apiVersion": "v1", "metadata": {"name": name, "annotations": {
            "flannel.alpha.coreos.com/backend-data": json.dumps({"VNI": 1, "VtepMAC": vtep})}},
         "spec": {"podCIDR": cidr, "podCIDRs": [cidr] + ([cidr6] if family6 else [])},
         "status": {"addresses": [{"type": "InternalIP", "address": ip}]}}
        for name, ip, cidr, cidr6, vtep in (
            ("node-a", "192.168.56.11", "10.244.0.0/16", "fd00:10:244::/64", "02:5d:00:00:00:01"),
            ("node-b", "192.168.56.12", "10.245.0.0/16", "fd00:10:245::/64", REMOTE_VTEP_MAC))]
    for s in range(services):
        port = {"name": "p", "port": 80, "protocol": proto, "targetPort": 8080}
        if node_port:
            port["nodePort"] = 30000 + s % 2768
        spec = {"type": "NodePort" if node_port else "ClusterIP", "clusterIP": dotted(vip(s)), "ports": [port]}
        if family6:
            spec.update(clusterIP=vip6(s), clusterIPs=[vip6(s)], ipFamilies=["IPv6"])
        items.append({"kind": "Service", "apiVersion": "v1", "metadata": {"name": f"s{s}", "namespace": "bench"},
                      "spec": spec})
        eps = [{"addresses": [local_ep6(s, e, per) if family6 else
                              dotted(remote_ep(s, e, per) if remote else local_ep(s, e, per))],
                "nodeName": "node-b" if remote else "node-a", "conditions": {"ready": True}} for e in range(per)]
        items.append({"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
                      "metadata": {"name": f"s{s}-1", "namespace": "bench", "labels": {"kubernetes.io/service-name": f"s{s}"}},
                      "addressType": "IPv6" if family6 else "IPv4", "ports": [{"name": "p", "port": 8080, "protocol": proto}], "endpoints": eps})
    return {"kind": "List", "apiVersion": "v1", "items": items}


DNS_VIP = "10.111.0.10"


def dns_service():
    """kube-system/kube-dns, what the dns scenario's queries are sent to."""
    return {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "kube-dns", "namespace": "kube-system"},
            "spec": {"clusterIP": DNS_VIP, "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("scenario", choices=["est-local", "est-remote", "est-local6", "replies", "newconn", "nodeport", "udp",
                                         "pod2pod", "dns"])
    ap.add_argument("--services", type=int, default=100)
    ap.add_argument("--flows", type=int, default=4096)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--endpoints-per-service", type=int, default=4)
    ap.add_argument("--packets-per-flow", type=int, default=8)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    sc, S, F, per = a.scenario, a.services, a.flows, a.endpoints_per_service
    remote = sc in ("est-remote", "replies", "pod2pod")
    family6 = sc == "est-local6"
    size = max(a.size, 74 if family6 else 64)
    # Headers: Ethernet 14 + IPv4 20 + TCP 20 (UDP 8); frames counted without FCS.
    # Flow f goes to service f mod S; with fewer flows than services they
    # are spread evenly over all of them, so that a fixed flow count
    # measures the size of the service table, not a corner of it.
    def service_of(f):
        return f % S if F >= S else f * S // F

    flows = [(client(f), 10000 + (f // 30000) * 7 + f % 50000, service_of(f)) for f in range(F)]

    def syn(c, port, s):
        return eth(PODS_PORT_MAC, CLIENT_MAC, 0x0800, l4sum(ipv4(dotted(c), dotted(vip(s)), 6, pad(tcp(port, 80, 0x02), size - 34, 20))))

    def ack(c, port, s):
        return eth(PODS_PORT_MAC, CLIENT_MAC, 0x0800, l4sum(ipv4(dotted(c), dotted(vip(s)), 6, pad(tcp(port, 80, 0x10), size - 34, 20))))

    pods, uplink, drive = [], [], "pods"
    opts = {"conntrack-capacity": str(max(4 * F, 65536))}
    def tcp6(c, port, s, flags):
        return eth(PODS_PORT_MAC, CLIENT_MAC, 0x86DD, ipv6(client6(c), vip6(s), 6, pad(tcp(port, 80, flags), size - 54, 20)))

    if sc in ("est-local", "est-remote"):
        pods = [syn(*f) for f in flows] + [ack(*f) for _ in range(a.packets_per_flow - 1) for f in flows]
    elif sc == "est-local6":
        pods = [tcp6(*f, 0x02) for f in flows] + [tcp6(*f, 0x10) for _ in range(a.packets_per_flow - 1) for f in flows]
        opts["conntrack-capacity-ipv6"] = opts["conntrack-capacity"]
    elif sc == "pod2pod":
        pods = [eth(PODS_PORT_MAC, CLIENT_MAC, 0x0800,
                    l4sum(ipv4(dotted(c), dotted(remote_ep(s, f % per, per)), 6, pad(tcp(p, 8080, 0x10), size - 34, 20))))
                for _ in range(a.packets_per_flow) for f, (c, p, s) in enumerate(flows)]
    elif sc == "udp":
        pods = [eth(PODS_PORT_MAC, CLIENT_MAC, 0x0800, ipv4(dotted(c), dotted(vip(s)), 17, udp(p, 80, b"\0" * max(0, size - 42))))
                for _ in range(a.packets_per_flow) for c, p, s in flows]
    elif sc == "newconn":
        pods = [syn(client(i), 1024 + (i * 7919) % 60000, i % S) for i in range(F)]
        opts["conntrack-capacity"] = "1024"
    elif sc == "replies":
        # The flows, opened once on the pods port; then the replies, which
        # are the measurement, on the uplink (read round and round). Each
        # service has one endpoint so that the replies come from the
        # endpoint svcdp chose.
        per = 1
        pods = [syn(*f) for f in flows]
        for c, p, s in flows:
            inner = eth(mac("02:5d:00:00:00:01"), mac(REMOTE_VTEP_MAC), 0x0800,
                        ipv4(dotted(remote_ep(s, 0, 1)), dotted(c), 6, pad(tcp(8080, p, 0x10), size - 34, 20)))
            uplink.append(eth(UPLINK_PORT_MAC, REMOTE_MAC, 0x0800, ipv4("192.168.56.12", "192.168.56.11", 17,
                                                               udp(49152 + p % 16384, 4789, vxlan(1, inner)))))
        drive = "uplink"
    elif sc == "dns":
        # What getaddrinfo sends through kubelet's search list (ndots:5)
        # from pods in namespace bench: A and AAAA of a Service by its
        # short name (the first expansion answers), and an external name's
        # three expansions (NXDOMAIN each; the name itself is CoreDNS's and
        # not in the mix). All answered by the worker.
        def query(qid, name, qtype):
            q = struct.pack(">HHHHHH", qid & 0xFFFF, 0x0100, 1, 0, 0, 0)
            q += b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0" + struct.pack(">HH", qtype, 1)
            return q
        for f, (c, p, s) in enumerate(flows):
            names = [f"s{s}.bench.svc.cluster.local"] * 2
            types = [1, 28]
            if f % 4 == 0:
                ext = f"host{f}.example.com"
                names += [f"{ext}.bench.svc.cluster.local", f"{ext}.svc.cluster.local", f"{ext}.cluster.local"]
                types += [1, 1, 1]
            for k, (n, t) in enumerate(zip(names, types)):
                pods.append(eth(PODS_PORT_MAC, CLIENT_MAC, 0x0800,
                                ipv4(dotted(c), DNS_VIP, 17, udp(p, 53, query(f * 8 + k, n, t)))))
        opts["dns-service"] = "kube-system/kube-dns"
    elif sc == "nodeport":
        uplink = []
        for f, (c, p, s) in enumerate(flows):
            ext = 0xAC100000 + 1 + f % 60000
            for k in range(a.packets_per_flow):
                uplink.append(eth(UPLINK_PORT_MAC, REMOTE_MAC, 0x0800, ipv4(dotted(ext), "192.168.56.11", 6,
                                                                   pad(tcp(p, 30000 + s % 2768, 0x02 if k == 0 else 0x10), size - 34, 20))))
        drive = "uplink"
    objects = cluster(S, per, remote, "UDP" if sc == "udp" else "TCP", sc == "nodeport", family6)
    if sc == "dns":
        objects["items"].append(dns_service())
    with open(os.path.join(a.outdir, "cluster.json"), "w") as f:
        json.dump(objects, f)
    write_pcap(os.path.join(a.outdir, "pods.pcap"), pods)
    write_pcap(os.path.join(a.outdir, "uplink.pcap"), uplink)
    neigh = [f"pods,{dotted(client(i))},02:5d:00:00:01:0a" for i in range(min(F, 30000))]
    if sc == "nodeport":
        neigh = [f"uplink,{dotted(0xAC100000 + 1 + i)},02:5d:00:00:02:01" for i in range(min(F, 60000))]
    if remote:
        neigh.append(f"uplink,192.168.56.12,{REMOTE_MAC.hex(':')}")
    elif family6:
        neigh = [f"pods,{client6(client(i))},02:5d:00:00:01:0a" for i in range(min(F, 30000))]
        neigh += [f"pods,{local_ep6(s, e, per)},{EP_MAC}" for s in range(S) for e in range(per)][:32000]
    else:
        neigh += [f"pods,{dotted(local_ep(s, e, per))},{EP_MAC}" for s in range(S) for e in range(per)][:32000]
    opts["neigh-capacity"] = str(len(set(neigh)) + 64)
    with open(os.path.join(a.outdir, "svcdp.conf"), "w") as f:
        f.write("# written by perf/make_traffic.py\nnode-name = node-a\nsource = file\n")
        f.write(f"cluster-file = {os.path.join(os.path.abspath(a.outdir), 'cluster.json')}\n")
        for k, v in opts.items():
            f.write(f"{k} = {v}\n")
        for n in sorted(set(neigh)):
            f.write(f"static-neigh = {n}\n")
    with open(os.path.join(a.outdir, "meta.json"), "w") as f:
        json.dump({"scenario": sc, "services": S, "flows": F, "size": size, "drive": drive,
                   "packets": len(pods) if drive == "pods" else len(uplink)}, f)


if __name__ == "__main__":
    main()
