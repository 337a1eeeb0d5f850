#!/usr/bin/env python3
"""Node status heartbeats through the test API server, as the kubelets of a
large cluster send them: each of the Nodes named PREFIX-0000.. in turn gets
its status PUT again with new lastHeartbeatTime values (the server gives it
a new resourceVersion and sends a MODIFIED event), RATE a second, for
SECONDS seconds. Nothing svcdp reads changes, so none must cost a table
build. One HTTP/1.1 connection, kept alive.

Usage: heartbeats.py SERVER_DIR STATE.json PREFIX RATE SECONDS
(STATE.json: the List the server started from, holding those Nodes.)
Prints how many were sent and the rate reached.
"""
import copy
import http.client
import json
import ssl
import sys
import time

d, state_file, prefix, rate, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
ctx = ssl.create_default_context(cafile=f"{d}/ca.crt")
port = int(open(f"{d}/kubeconfig").read().split("127.0.0.1:")[1].split('"')[0])
nodes = [o for o in json.load(open(state_file))["items"]
         if o["kind"] == "Node" and o["metadata"]["name"].startswith(prefix)]
if not nodes:
    sys.exit(f"heartbeats: no Node named {prefix}* in {state_file}")
conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
start = time.monotonic()
sent = 0
while True:
    now = time.monotonic() - start
    if now >= seconds:
        break
    if sent >= now * rate:
        time.sleep(0.002)
        continue
    node = copy.deepcopy(nodes[sent % len(nodes)])
    beat = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for c in node["status"].get("conditions", []):
        c["lastHeartbeatTime"] = beat
    conn.request("POST", "/_test/put", body=json.dumps(node), headers={"Content-Type": "application/json"})
    conn.getresponse().read()
    sent += 1
elapsed = time.monotonic() - start
print(f"{sent} Node heartbeats in {elapsed:.1f} s ({sent / elapsed:.0f}/s) over {len(nodes)} Nodes")
