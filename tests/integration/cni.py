#!/usr/bin/env python3
"""Invokes the CNI plugins of a conflist as a container runtime does
(libcni's AddNetworkList / DelNetworkList, CNI spec 1.0.0): each plugin
in order with its configuration plus the list's name and cniVersion (and
the previous result for chained plugins), CNI_COMMAND and friends in the
environment; DEL in reverse order.

Usage: cni.py add|del CONFLIST NETNS CONTAINER_ID [IFNAME]
  NETNS: a namespace name (under /var/run/netns) or a path.
  CNI_PATH defaults to /usr/lib/cni (Debian's containernetworking-plugins).
  CNI_IPAM_DATA_DIR, if set, replaces host-local's dataDir (tests keep the
  IPAM state in their temporary directory).
Prints the final result (ADD) and exits non-zero with the plugin's error."""
import json
import os
import subprocess
import sys


def run(plugin, command, netns, container, ifname, prev=None):
    conf = dict(plugin)
    conf["name"], conf["cniVersion"] = LIST["name"], LIST["cniVersion"]
    if prev is not None:
        conf["prevResult"] = prev
    data_dir = os.environ.get("CNI_IPAM_DATA_DIR")
    if data_dir and conf.get("ipam", {}).get("type") == "host-local":
        conf["ipam"] = dict(conf["ipam"], dataDir=data_dir)
    path = os.environ.get("CNI_PATH", "/usr/lib/cni")
    env = dict(os.environ, CNI_COMMAND=command, CNI_CONTAINERID=container, CNI_NETNS=netns, CNI_IFNAME=ifname,
               CNI_PATH=path)
    p = subprocess.run([os.path.join(path, plugin["type"])], input=json.dumps(conf).encode(), env=env,
                       capture_output=True)
    if p.returncode != 0:
        sys.exit(f"cni: {plugin['type']} {command} failed: {p.stdout.decode().strip()} {p.stderr.decode().strip()}")
    return json.loads(p.stdout) if p.stdout.strip() else None


command, conflist, netns, container = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ifname = sys.argv[5] if len(sys.argv) > 5 else "eth0"
if "/" not in netns:
    netns = f"/var/run/netns/{netns}"
with open(conflist) as f:
    LIST = json.load(f)
if command == "add":
    result = None
    for plugin in LIST["plugins"]:
        result = run(plugin, "ADD", netns, container, ifname, result)
    print(json.dumps(result))
elif command == "del":
    for plugin in reversed(LIST["plugins"]):
        run(plugin, "DEL", netns, container, ifname)
else:
    sys.exit("usage: cni.py add|del CONFLIST NETNS CONTAINER_ID [IFNAME]")
