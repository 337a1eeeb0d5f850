#!/usr/bin/env python3
"""DNS through a churning Service: a client pod resolves a name with
glibc's getaddrinfo (A and AAAA, as every program does) through the
cluster DNS Service while the DNS Service's EndpointSlice changes every
INTERVAL seconds through the test API server: change k leaves endpoint
k mod 3 out, or lists it not ready, the other two ready. Fails when any
lookup fails or takes over 1 s (a lost query costs glibc's 5 s retry).

Usage: dns_churn.py SERVER_DIR SLICE.json CLIENT_NS NAME LOOKUPS CHANGES INTERVAL
"""
import copy
import json
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

d, slice_file, client_ns, name = sys.argv[1:5]
lookups, changes, interval = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
ctx = ssl.create_default_context(cafile=f"{d}/ca.crt")
port = open(f"{d}/kubeconfig").read().split("127.0.0.1:")[1].split('"')[0]
with open(slice_file) as f:
    slice_ = json.load(f)


def put(obj):
    req = urllib.request.Request(f"https://127.0.0.1:{port}/_test/put", data=json.dumps(obj).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, context=ctx).read()


def churn():
    for k in range(changes):
        time.sleep(interval)
        obj = copy.deepcopy(slice_)
        victim = obj["endpoints"][k % 3]
        if k % 2 == 0:
            obj["endpoints"].remove(victim)
        else:
            victim["conditions"] = {"ready": False, "serving": False, "terminating": False}
        put(obj)
    time.sleep(interval)
    put(slice_)


# The client: one getaddrinfo per iteration in a Python process inside the
# pod, each timed; paced so that the lookups span every change.
client = f"""
import socket, sys, time
slow, failed, worst = 0, 0, 0.0
pause = {interval * (changes + 1) / lookups}
for i in range({lookups}):
    t = time.monotonic()
    try:
        socket.getaddrinfo({name!r}, 80, type=socket.SOCK_STREAM)
    except OSError as e:
        failed += 1
        print(f"lookup {{i}}: {{e}}", flush=True)
    took = time.monotonic() - t
    worst = max(worst, took)
    if took > 1:
        slow += 1
        print(f"lookup {{i}} took {{took:.2f}} s", flush=True)
    time.sleep(pause)
print(f"{lookups} lookups: {{failed}} failed, {{slow}} over 1 s, slowest {{worst * 1000:.1f}} ms")
sys.exit(1 if failed or slow else 0)
"""
t = threading.Thread(target=churn)
t.start()
rc = subprocess.run(["ip", "netns", "exec", client_ns, "python3", "-c", client]).returncode
t.join()
print(f"{changes} endpoint changes of the DNS Service during the lookups")
sys.exit(rc)
