#!/usr/bin/env python3
"""Endpoint churn for the hitless test: N changes to one EndpointSlice
through the test API server, each endpoint but the first randomly added,
removed, made not ready or terminating. Every CHECK-th change it waits for
svcdp to publish (a few ms) and asks the service over HTTP, from the client
pod, who answers: it must be an endpoint that is ready (or, with no ready
one, serving and terminating) in the current slice. Each update carries
the endpoints.kubernetes.io/last-change-trigger-time annotation.

Usage: churn.py SERVER_DIR N CHECK CLIENT_NS VIP SLICE.json
"""
import copy
import json
import random
import ssl
import subprocess
import sys
import time
import urllib.request

d, n, every, client_ns, vip, slice_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context(cafile=f"{d}/ca.crt")
port = open(f"{d}/kubeconfig").read().split("127.0.0.1:")[1].split('"')[0]
base = f"https://127.0.0.1:{port}/_test/"
with open(slice_file) as f:
    slice_ = json.load(f)
names = {ep["addresses"][0]: ep["_name"] for ep in slice_["endpoints"]}
for ep in slice_["endpoints"]:
    del ep["_name"]
fixed, extra = slice_["endpoints"][0], slice_["endpoints"][1:]
state = {e["addresses"][0]: "absent" for e in extra}
rng = random.Random(7)


def put(obj):
    req = urllib.request.Request(base + "put", data=json.dumps(obj).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, context=ctx).read()


def current():
    eps = [fixed]
    for e in extra:
        st = state[e["addresses"][0]]
        if st == "absent":
            continue
        e = copy.deepcopy(e)
        e["conditions"] = {"ready": st == "ready", "serving": st in ("ready", "terminating"),
                           "terminating": st == "terminating"}
        eps.append(e)
    return eps


def usable(eps):
    ready = [e["addresses"][0] for e in eps if e["conditions"]["ready"]]
    return ready or [e["addresses"][0] for e in eps if e["conditions"]["serving"] and e["conditions"]["terminating"]]


bad = checked = 0
for i in range(1, n + 1):
    ip = rng.choice(list(state))
    state[ip] = rng.choice([s for s in ("absent", "ready", "notready", "terminating") if s != state[ip]])
    obj = copy.deepcopy(slice_)
    obj["endpoints"] = current()
    # As the EndpointSlice controller stamps it: when the change that
    # caused this update happened (kube-proxy's SLI starts there).
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    obj["metadata"].setdefault("annotations", {})["endpoints.kubernetes.io/last-change-trigger-time"] = stamp
    put(obj)
    if i % every == 0:
        time.sleep(0.05)  # svcdp publishes within a few ms
        allowed = {names[a] for a in usable(obj["endpoints"])}
        for _ in range(3):
            r = subprocess.run(["ip", "netns", "exec", client_ns, "curl", "-sS", "-m", "3", f"http://{vip}/"],
                               capture_output=True, text=True)
            out = r.stdout.split()
            checked += 1
            if not out or out[0] not in allowed:
                bad += 1
                print(f"change {i}: answered by {out[:1]} ({r.stderr.strip()}), usable {sorted(allowed)}")
print(f"{n} changes, {checked} connections checked, {bad} to an endpoint that was not usable")
sys.exit(1 if bad else 0)
