#!/usr/bin/env python3
"""A test Kubernetes API server for svcdp's watcher tests (standard library only).

It speaks the list/watch wire format of a real kube-apiserver (1.26), as
recorded in fixtures/ (see fixtures/README.md): HTTPS with a CA made at
start-up, bearer tokens, compact JSON lists with limit/continue, watches as
chunked HTTP/1.1 with one JSON event per chunk, BOOKMARK events, ERROR 410
in the stream for a too-old resourceVersion, HTTP 410/401/403 bodies taken
from the recordings. Its state starts as the recorded lists (rv 214).

Scenario controls (no auth), GET /_test/<op>?args:
  apply?file=F            replay the ADDED/MODIFIED/DELETED events of a recorded watch
  put  (POST, JSON obj)   create or replace an object (kind from the object)
  delete?resource=R&ns=N&name=X
  silent-put / silent-delete  the same without a watch event (as if lost)
  close                   end every open watch now (as timeoutSeconds would)
  expire                  compact: watches from an older version get ERROR 410
  expire-continue         the next list continuation gets HTTP 410
  expire-list             the next list from a resourceVersion other than 0 gets HTTP 410
                          (a list at an Exact version older than the compaction always does)
  garbage?text=T          every open watch sends T as an event line, then ends
  stall?seconds=S         open watches send nothing for S seconds (no bookmarks)
  down?seconds=S          every API request gets 503 for S seconds
  token?value=V           the bearer token the server accepts from now on
  state                   all objects now, as one v1 List (kinds filled in)
  stats                   request counters
Usage: server.py DIR [STATE.json]   (writes DIR/ca.crt, DIR/kubeconfig, DIR/token;
prints "ready PORT"). With STATE.json (a v1 List of objects with their kinds)
the server starts from those objects instead of the recorded lists.
Environment: KUBE_TEST_ADDRESS (listen address, default 127.0.0.1),
KUBE_TEST_PORT (default: any free port), KUBE_TEST_SANS (more
subjectAltName entries for the certificate, e.g. "IP:10.96.0.1", as a real
API server's certificate names the `kubernetes` Service's ClusterIP).
"""
import base64
import copy
import http.server
import json
import os
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "fixtures")
RESOURCES = {
    "/api/v1/services": ("services", "Service", "v1"),
    "/apis/discovery.k8s.io/v1/endpointslices": ("endpointslices", "EndpointSlice", "discovery.k8s.io/v1"),
    "/api/v1/nodes": ("nodes", "Node", "v1"),
}
KIND_TO_RES = {v[1]: v[0] for v in RESOURCES.values()}


def fixture(name):
    with open(os.path.join(FIX, name), "rb") as f:
        return f.read()


def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


class State:
    def __init__(self, initial=None):
        self.cv = threading.Condition()
        self.rv = 214
        self.objects = {r[0]: {} for r in RESOURCES.values()}
        self.events = {r[0]: [] for r in RESOURCES.values()}  # (rv, type, obj)
        self.compacted = 0
        self.expire_continue = False
        self.expire_list = False
        self.generation = 0  # bumped to end open watches
        self.garbage = None
        self.stall_until = 0.0
        self.snapshots, self.next_list = {}, 0  # list id -> the items a paginated list was read from
        self.down_until = 0.0
        self.token = "svcdp-test-token"
        # list_versions: resourceVersion/resourceVersionMatch of each list's first page
        self.stats = {"lists": 0, "watches": 0, "unauthorized": 0, "unavailable": 0, "list_versions": []}
        if initial is not None:
            for item in initial:
                item["metadata"].setdefault("resourceVersion", "214")
                self.objects[KIND_TO_RES[item["kind"]]][self.key(item)] = item
            return
        for res, kind, api in RESOURCES.values():
            for item in json.loads(fixture(f"list-{res}.json"))["items"]:
                item = dict(item, kind=kind, apiVersion=api)
                self.objects[res][self.key(item)] = item

    @staticmethod
    def key(obj):
        m = obj["metadata"]
        return (m.get("namespace", ""), m["name"])

    def change(self, res, typ, obj, silent=False):
        with self.cv:
            self.rv += 1
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = str(self.rv)
            if typ == "DELETED":
                self.objects[res].pop(self.key(obj), None)
            else:
                self.objects[res][self.key(obj)] = obj
            if not silent:
                self.events[res].append((self.rv, typ, obj))
            self.cv.notify_all()


STATE = None


def selector_matches(selector, obj):
    labels = obj["metadata"].get("labels") or {}
    for term in filter(None, (selector or "").split(",")):
        if term.startswith("!"):
            if term[1:] in labels:
                return False
        elif "=" in term:
            k, v = term.split("=", 1)
            if labels.get(k) != v:
                return False
        elif term not in labels:
            return False
    return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: without this, Nagle holds the
    # body for the client's delayed ACK (40 ms per request on a kept-alive
    # connection).
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def send_body(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_POST(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        if url.path.startswith("/_test/"):
            return self.control(url.path[len("/_test/"):], q)
        if url.path not in RESOURCES:
            return self.send_body(404, fixture("error-404-notfound.json"))
        if self.headers.get("Authorization") != "Bearer " + STATE.token:
            STATE.stats["unauthorized"] += 1
            return self.send_body(401, fixture("error-401-unauthorized.json"))
        if time.monotonic() < STATE.down_until:
            STATE.stats["unavailable"] += 1
            return self.send_body(503, compact({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                                "message": "the server is shutting down", "code": 503}))
        res, kind, api = RESOURCES[url.path]
        if q.get("watch") in ("1", "true"):
            return self.watch(res, kind, api, q)
        return self.list(res, kind, api, q)

    def list(self, res, kind, api, q):
        STATE.stats["lists"] += 1
        limit = int(q.get("limit", "0") or 0)
        with STATE.cv:
            if "continue" in q:
                token = json.loads(base64.b64decode(q["continue"]))
                if STATE.expire_continue or token["rv"] < STATE.compacted or token["list"] not in STATE.snapshots:
                    STATE.expire_continue = False
                    return self.send_body(410, fixture("error-410-expired-continue.json"))
                items, rv, start = STATE.snapshots[token["list"]], token["rv"], token["start"]
            else:
                rv_q, match = q.get("resourceVersion", ""), q.get("resourceVersionMatch", "")
                STATE.stats["list_versions"].append(rv_q + "/" + match)
                # The API's semantics: with a limit and no match a version is Exact.
                exact = match == "Exact" or (limit and not match)
                if rv_q not in ("", "0") and (STATE.expire_list or (exact and int(rv_q) < STATE.compacted)):
                    STATE.expire_list = False
                    return self.send_body(410, fixture("error-410-expired-list-exact.json"))
                items = [copy.deepcopy(o) for _, o in sorted(STATE.objects[res].items())
                         if selector_matches(q.get("labelSelector"), o)]
                rv, start = STATE.rv, 0
        end = start + limit if limit else len(items)
        page = []
        for o in items[start:end]:
            o = dict(o)
            o.pop("kind", None)
            o.pop("apiVersion", None)  # list items carry neither
            page.append(o)
        meta = {"resourceVersion": str(rv)}
        if end < len(items):
            # A small opaque token, as the API server's (the list's items
            # stay here, as etcd keeps the revision the list was read at).
            with STATE.cv:
                if "continue" in q:
                    list_id = token["list"]
                else:
                    list_id = STATE.next_list
                    STATE.next_list += 1
                    STATE.snapshots[list_id] = items
                    STATE.snapshots.pop(list_id - 16, None)
            meta["continue"] = base64.b64encode(json.dumps({"rv": rv, "start": end, "list": list_id}).encode()).decode()
            meta["remainingItemCount"] = len(items) - end
        body = compact({"kind": kind + "List", "apiVersion": api, "metadata": meta, "items": page}) + b"\n"
        self.send_body(200, body)

    def watch(self, res, kind, api, q):
        STATE.stats["watches"] += 1
        since = int(q.get("resourceVersion") or 0)
        deadline = time.monotonic() + float(q.get("timeoutSeconds", "300"))
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if since and since < STATE.compacted:
                line = fixture(f"watch-{res}-expired.jsonl").splitlines()[0]
                self.chunk(line + b"\n")
                return
            with STATE.cv:
                generation = STATE.generation
                since = max(since, 0)
            next_bookmark = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                with STATE.cv:
                    if since < STATE.compacted:  # 410 mid-stream
                        self.chunk(fixture(f"watch-{res}-expired.jsonl").splitlines()[0] + b"\n")
                        return
                    if STATE.generation != generation:
                        return
                    if STATE.garbage is not None:
                        self.chunk(STATE.garbage.encode() + b"\n")
                        return
                    stalled = time.monotonic() < STATE.stall_until
                    pending = [] if stalled else [(rv, t, o) for rv, t, o in STATE.events[res] if rv > since]
                    current = STATE.rv
                for rv, typ, obj in pending:
                    since = rv
                    if selector_matches(q.get("labelSelector"), obj):
                        self.chunk(compact({"type": typ, "object": obj}) + b"\n")
                if not stalled and bookmarks and time.monotonic() >= next_bookmark:
                    self.chunk(compact({"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": api,
                                                                       "metadata": {"resourceVersion": str(current)}}}) + b"\n")
                    next_bookmark = time.monotonic() + 1.0
                with STATE.cv:
                    STATE.cv.wait(0.05)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            return
        finally:
            try:
                self.chunk(b"")
            except OSError:
                pass

    def control(self, op, q):
        s = STATE
        ok = b"ok\n"
        if op == "apply":
            for line in fixture(q["file"]).splitlines():
                ev = json.loads(line)
                if ev["type"] in ("ADDED", "MODIFIED", "DELETED"):
                    s.change(KIND_TO_RES[ev["object"]["kind"]], ev["type"], ev["object"])
        elif op in ("put", "silent-put"):
            obj = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            res = KIND_TO_RES[obj["kind"]]
            typ = "MODIFIED" if s.key(obj) in s.objects[res] else "ADDED"
            s.change(res, typ, obj, silent=op == "silent-put")
        elif op in ("delete", "silent-delete"):
            obj = s.objects[q["resource"]].get((q.get("ns", ""), q["name"]))
            if obj:
                s.change(q["resource"], "DELETED", obj, silent=op == "silent-delete")
        elif op == "close":
            with s.cv:
                s.generation += 1
                s.cv.notify_all()
        elif op == "expire":
            with s.cv:
                s.compacted = s.rv  # etcd compacts up to the current revision
                s.cv.notify_all()
        elif op == "expire-continue":
            s.expire_continue = True
        elif op == "expire-list":
            s.expire_list = True
        elif op == "garbage":
            with s.cv:
                s.garbage = q["text"]
                s.cv.notify_all()
            time.sleep(0.3)
            s.garbage = None
        elif op == "stall":
            s.stall_until = time.monotonic() + float(q["seconds"])
        elif op == "down":
            s.down_until = time.monotonic() + float(q["seconds"])
            with s.cv:
                s.generation += 1
                s.cv.notify_all()
        elif op == "token":
            s.token = q["value"]
        elif op == "state":
            with s.cv:
                items = [o for res in s.objects.values() for o in res.values()]
            ok = compact({"kind": "List", "apiVersion": "v1", "items": items})
        elif op == "stats":
            ok = compact(dict(s.stats, rv=s.rv))
        else:
            return self.send_body(404, b"unknown op\n", "text/plain")
        self.send_body(200, ok)


def make_tls(d, address, sans):
    """A CA and a server certificate for `address` (and `sans`), made now with openssl."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=svcdp-test-ca",
        "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={address}", "-keyout", f"{d}/server.key",
        "-out", f"{d}/server.csr")
    with open(f"{d}/san.ext", "w") as f:
        f.write(",".join([f"subjectAltName=IP:{address}"] + ([sans] if sans else [])) + "\n")
    run("x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.crt", "-CAkey", f"{d}/ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", f"{d}/san.ext", "-out", f"{d}/server.crt")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global STATE
    d = sys.argv[1]
    initial = None
    if len(sys.argv) > 2:
        with open(sys.argv[2]) as f:
            initial = json.load(f)["items"]
    STATE = State(initial)
    os.makedirs(d, exist_ok=True)
    address = os.environ.get("KUBE_TEST_ADDRESS", "127.0.0.1")
    make_tls(d, address, os.environ.get("KUBE_TEST_SANS", ""))
    srv = Server((address, int(os.environ.get("KUBE_TEST_PORT", "0"))), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f"{d}/server.crt", f"{d}/server.key")
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    with open(f"{d}/token", "w") as f:
        f.write(STATE.token + "\n")
    with open(f"{d}/kubeconfig", "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster: {{server: "https://{address}:{port}", certificate-authority: ca.crt}}
contexts:
- name: test
  context: {{cluster: test, user: watcher}}
users:
- name: watcher
  user: {{tokenFile: token}}
""")
    print(f"ready {port}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
