#!/usr/bin/env python3
"""Reads the shipped deployment files and prints what they would run, with
only the node-specific values substituted (devices, paths, the API server),
for tests/integration/deploy_test.sh.

  deploy_files.py daemonset OUT SUBST...   writes OUT/svcdp.conf (the ConfigMap's)
      and OUT/argv (the container's command and args, one per line, env
      references expanded); prints `key value` lines: probe paths and ports,
      scrape port, grace period
  deploy_files.py unit OUT SUBST...        the same for conf/deploy/svcdp.service's
      ExecStart with conf/svcdp.conf
  deploy_files.py runtime-packages         the Containerfile's runtime packages

SUBST: key=value, replacing that option's value in the config file
(uplink=net_af_packet0), or @FROM=TO, replacing a string in the argv (the
config path, the installed binary) or $(VAR)=VALUE for the DaemonSet's env."""
import os
import re
import shlex
import sys

import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def substitute_conf(text, subst):
    for key, value in subst.items():
        text, n = re.subn(rf"^{re.escape(key)}\s*=.*$", f"{key} = {value}", text, flags=re.M)
        if n != 1:
            sys.exit(f"deploy_files: the shipped config has {n} '{key} =' lines")
    return text


def split(args):
    conf, argv = {}, {}
    for a in args:
        k, v = a.split("=", 1)
        (argv if k.startswith("@") or k.startswith("$(") else conf)[k.lstrip("@")] = v
    return conf, argv


def write(out, conf_text, argv, argv_subst):
    for k, v in argv_subst.items():
        argv = [a.replace(k, v) for a in argv]
    with open(f"{out}/svcdp.conf", "w") as f:
        f.write(conf_text)
    with open(f"{out}/argv", "w") as f:
        f.write("\n".join(argv) + "\n")


def daemonset(out, args):
    docs = list(yaml.safe_load_all(open(f"{ROOT}/conf/deploy/daemonset.yaml")))
    cm = next(d for d in docs if d["kind"] == "ConfigMap")
    ds = next(d for d in docs if d["kind"] == "DaemonSet")
    pod = ds["spec"]["template"]
    c = pod["spec"]["containers"][0]
    conf_subst, argv_subst = split(args)
    write(out, substitute_conf(cm["data"]["svcdp.conf"], conf_subst), c["command"] + c["args"], argv_subst)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        print(probe, c[probe]["httpGet"]["path"], c[probe]["httpGet"]["port"])
    print("scrape", pod["metadata"]["annotations"]["prometheus.io/port"])
    print("grace", pod["spec"]["terminationGracePeriodSeconds"])
    print("env", " ".join(sorted(e["name"] for e in c["env"])))
    print("refs", " ".join(sorted(set(re.findall(r"\$\((\w+)\)", " ".join(c["args"]))))))


def unit(out, args):
    text = open(f"{ROOT}/conf/deploy/svcdp.service").read()
    execstart = re.search(r"^ExecStart=(.*)$", text, flags=re.M).group(1)
    conf_subst, argv_subst = split(args)
    write(out, substitute_conf(open(f"{ROOT}/conf/svcdp.conf").read(), conf_subst), shlex.split(execstart), argv_subst)
    stoppost = shlex.split(re.search(r"^ExecStopPost=(.*)$", text, flags=re.M).group(1))
    for k, v in argv_subst.items():
        stoppost = [a.replace(k, v) for a in stoppost]
    with open(f"{out}/stoppost", "w") as f:
        f.write("\n".join(stoppost) + "\n")
    print("watchdog", re.search(r"^WatchdogSec=(\d+)", text, flags=re.M).group(1))
    print("type", re.search(r"^Type=(\w+)", text, flags=re.M).group(1))


def runtime_packages():
    text = open(f"{ROOT}/conf/deploy/Containerfile").read()
    final = text[text.rindex("\nFROM "):]
    install = re.search(r"apt-get install -y --no-install-recommends((?:[^&]|\\\n)*)", final).group(1)
    print(" ".join(install.replace("\\\n", " ").split()))


cmd = sys.argv[1]
if cmd == "daemonset":
    daemonset(sys.argv[2], sys.argv[3:])
elif cmd == "unit":
    unit(sys.argv[2], sys.argv[3:])
elif cmd == "runtime-packages":
    runtime_packages()
else:
    sys.exit(__doc__)
