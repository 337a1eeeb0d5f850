#!/usr/bin/env python3
"""Backends and clients for the Service integration tests (standard library only).

  svc_tool.py serve NAME          a backend pod: says who it is and who asked
      TCP 8080  HTTP/1.0: "NAME <client-ip>:<client-port>"
      UDP 5353  datagram "N": answers "NAME <client-ip>" padded to N bytes
      TCP 9000  sink: reads to EOF, answers "<bytes> <sha256>"
      TCP 9001  line echo: each line comes back prefixed with NAME
  svc_tool.py http HOST PORT N    N requests, one connection each; prints "NAME count" lines
  svc_tool.py udp HOST PORT N SIZE [SPORT]   N requests for SIZE-byte answers; checks each is whole
  svc_tool.py stream HOST PORT SECONDS [MARK [MAX_PAUSE]]  streams for SECONDS (touching MARK half-way, "-" for
      none), checks the sha256 and that no send waited over MAX_PAUSE seconds (default 1)
  svc_tool.py attempts HOST PORT SECONDS MIN_SHARE  a new HTTP connection every 0.1 s, 1 s each; fails below
      MIN_SHARE answered
  svc_tool.py refused HOST PORT   exits 0 when the connection is refused within 2 s
  svc_tool.py udp-refused HOST PORT  exits 0 when a connected UDP socket gets ECONNREFUSED
  svc_tool.py echo-session HOST PORT CTL  a TCP session driven by lines on the fifo CTL
"""
import collections
import hashlib
import os
import socket
import socketserver
import sys
import threading
import time


def serve(name):
    class Http(socketserver.StreamRequestHandler):
        def handle(self):
            self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            body = f"{name} {self.client_address[0]}:{self.client_address[1]}\n".encode()
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    class Sink(socketserver.StreamRequestHandler):
        def handle(self):
            h, n = hashlib.sha256(), 0
            while chunk := self.rfile.read1(65536):
                h.update(chunk)
                n += len(chunk)
            self.wfile.write(f"{n} {h.hexdigest()}\n".encode())

    class Echo(socketserver.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                self.wfile.write(name.encode() + b" " + line)
                self.wfile.flush()

    class Udp(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            size = int(data.strip() or b"64")
            answer = f"{name} {self.client_address[0]}".encode()
            sock.sendto(answer.ljust(size, b"."), self.client_address)

    class TcpServer(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    class Tcp6Server(TcpServer):
        """The same port over IPv6 only, beside the IPv4 server (whose
        clients keep their dotted addresses in the answers)."""
        address_family = socket.AF_INET6

        def server_bind(self):
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            super().server_bind()

    servers = [TcpServer(("", 8080), Http), TcpServer(("", 9000), Sink), TcpServer(("", 9001), Echo),
               socketserver.ThreadingUDPServer(("", 5353), Udp)]
    class Udp6Server(socketserver.ThreadingUDPServer):
        address_family = socket.AF_INET6

        def server_bind(self):
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            super().server_bind()

    for port, make in ((8080, lambda: Tcp6Server(("::", 8080), Http)), (9000, lambda: Tcp6Server(("::", 9000), Sink)),
                       (5353, lambda: Udp6Server(("::", 5353), Udp))):
        try:
            servers.append(make())
        except OSError:
            pass  # no IPv6 in this namespace
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("serving", flush=True)
    threading.Event().wait()


def http(host, port, n):
    counts = collections.Counter()
    for _ in range(int(n)):
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: svc\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        counts[data.split(b"\r\n\r\n", 1)[1].split()[0].decode()] += 1
    for name, count in sorted(counts.items()):
        print(name, count)


def attempts(host, port, seconds, min_share):
    """A new HTTP connection every 0.1 s for SECONDS, each given 1 s; exits
    non-zero when fewer than MIN_SHARE (0-1) of them were answered."""
    ok = tried = 0
    first = None
    begin = time.monotonic()
    end = begin + float(seconds)
    while time.monotonic() < end:
        tried += 1
        started = time.monotonic()
        try:
            with socket.create_connection((host, int(port)), timeout=1) as s:
                s.settimeout(1)
                s.sendall(b"GET / HTTP/1.0\r\nHost: svc\r\n\r\n")
                if s.recv(4096).startswith(b"HTTP/1.0 200"):
                    ok += 1
                    first = time.monotonic() - begin if first is None else first
        except OSError:
            pass
        time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))
    since = f"{first * 1000:.0f} ms" if first is not None else "never"
    print(f"{ok} of {tried} connections answered within 1 s; the first answer came after {since}")
    if ok < float(min_share) * tried:
        sys.exit("too few")


def udp(host, port, n, size, sport=0, request=0):
    """n requests for size-byte answers; each request padded to `request`
    bytes (a large one is fragmented by the sender's kernel)."""
    names = collections.Counter()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for i in range(int(n)):
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("", int(sport)))
            s.settimeout(2)
            s.sendto(size.encode().ljust(int(request), b" "), (host, int(port)))
            data, _ = s.recvfrom(65536)
            if len(data) != int(size):
                sys.exit(f"answer {i}: {len(data)} bytes, want {size}")
            names[data.split()[0].decode()] += 1
    for name, count in sorted(names.items()):
        print(name, count)


def stream(host, port, seconds, mark=None, max_pause=1.0):
    h, sent = hashlib.sha256(), 0
    block = os.urandom(16384)
    end = time.monotonic() + float(seconds)
    marked = False
    max_gap, last = 0.0, time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as s:
        while time.monotonic() < end:
            s.sendall(block)
            now = time.monotonic()
            max_gap, last = max(max_gap, now - last), now
            h.update(block)
            sent += len(block)
            if mark and mark != "-" and not marked and time.monotonic() > end - float(seconds) / 2:
                open(mark, "w").close()
                marked = True
            time.sleep(0.005)
        s.shutdown(socket.SHUT_WR)
        answer = s.makefile().readline().split()
    if answer != [str(sent), h.hexdigest()]:
        sys.exit(f"sent {sent} bytes, the backend got {answer}")
    print(f"{sent} bytes intact, longest pause between sends {max_gap * 1000:.0f} ms")
    if max_gap > float(max_pause):
        sys.exit("the stream stalled")


def refused(host, port):
    start = time.monotonic()
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except ConnectionRefusedError:
        print(f"refused after {time.monotonic() - start:.3f} s")
        return
    except OSError as e:
        sys.exit(f"not refused: {e}")
    sys.exit("connected")


def udp_refused(host, port):
    """A connected UDP socket hears of an ICMP port unreachable only when it
    names the socket's own peer: the error must come back translated."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.connect((host, int(port)))
        s.send(b"64")
        try:
            s.recv(100)
        except ConnectionRefusedError:
            print("ICMP port unreachable reported for the service address")
            return
        except socket.timeout:
            sys.exit("no answer and no error")
    sys.exit("answered")


def echo_session(host, port, ctl):
    """Reads commands from the fifo CTL: 'send' sends a line and prints the answer or the error."""
    with socket.create_connection((host, int(port)), timeout=3) as s:
        f = s.makefile("rb")
        with open(ctl) as commands:
            for cmd in commands:
                if cmd.strip() != "send":
                    continue
                try:
                    s.sendall(b"ping\n")
                    line = f.readline()
                    print(line.decode().strip() if line else "closed", flush=True)
                except ConnectionResetError:
                    print("reset", flush=True)
                    return


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"serve": serve, "http": http, "attempts": attempts, "udp": udp, "stream": stream, "refused": refused,
     "udp-refused": udp_refused, "echo-session": echo_session}[cmd](*args)
