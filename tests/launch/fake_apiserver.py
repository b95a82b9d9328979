#!/usr/bin/python3
"""fake_apiserver.py -- a loopback stand-in for a Kubernetes API server, for
driving the real kubectl in tests (no real API server can be installed
where the tests run). It answers the discovery kubectl needs (/api,
/apis, /api/v1, /apis/kubeflow.org/v1, /version, and an empty
/openapi/v2 for kubectl's client-side validation) and keeps secrets, pods, services
and kubeflow.org notebooks in memory: GET (one or a list, with
labelSelector), POST, DELETE. Every request is appended to LOG as one JSON
line {"method", "path", "body"}.

usage: fake_apiserver.py PORTFILE LOG [--fail-create KIND]
  Listens on 127.0.0.1 (a free port, written to PORTFILE).
  --fail-create services: creating a Service fails (HTTP 500), to test
  that nothing is left half-created.
"""
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORTFILE, LOG = sys.argv[1], sys.argv[2]
FAIL = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--fail-create" else None
STORE = {}  # (plural, namespace, name) -> object
LOCK = threading.Lock()

CORE = [("pods", "Pod"), ("services", "Service"), ("secrets", "Secret")]
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def resources(items):
    return [{"name": p, "singularName": k.lower(), "namespaced": True, "kind": k,
             "verbs": VERBS} for p, k in items]


DISCOVERY = {
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                             "serverAddress": "127.0.0.1"}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "kubeflow.org", "versions": [{"groupVersion": "kubeflow.org/v1",
                                               "version": "v1"}],
         "preferredVersion": {"groupVersion": "kubeflow.org/v1", "version": "v1"}}]},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": resources(CORE)},
    "/apis/kubeflow.org/v1": {"kind": "APIResourceList", "groupVersion": "kubeflow.org/v1",
                              "resources": resources([("notebooks", "Notebook")])},
    "/version": {"major": "1", "minor": "30", "gitVersion": "v1.30.0-fake"},
}


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def parse(path):
    """-> (prefix, namespace, plural, name) for an object path, or None."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        rest, prefix = parts[2:], "/api/v1"
    elif parts[:3] == ["apis", "kubeflow.org", "v1"]:
        rest, prefix = parts[3:], "/apis/kubeflow.org/v1"
    else:
        return None
    if len(rest) >= 3 and rest[0] == "namespaces":
        return prefix, rest[1], rest[2], rest[3] if len(rest) > 3 else None
    if len(rest) == 1:
        return prefix, None, rest[0], None
    return None


def matches(obj, selector):
    if not selector:
        return True
    labels = obj.get("metadata", {}).get("labels", {})
    for term in selector.split(","):
        k, _, v = term.partition("=")
        if labels.get(k) != v:
            return False
    return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def record(self, body):
        with LOCK, open(LOG, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "body": body}) + "\n")

    def send(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode(errors="replace")

    def do_GET(self):
        self.record(None)
        url = urlparse(self.path)
        if url.path == "/openapi/v2":
            # kubectl asks for protobuf; an empty message is a valid, empty
            # OpenAPI document (no definitions: nothing to validate against)
            self.send_response(200)
            self.send_header("Content-Type",
                             "application/octet-stream")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if url.path in DISCOVERY:
            return self.send(200, DISCOVERY[url.path])
        p = parse(url.path)
        parts = [x for x in url.path.split("/") if x]
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 4:
            return self.send(200, {"kind": "Namespace", "apiVersion": "v1",
                                   "metadata": {"name": parts[3]}, "status": {"phase": "Active"}})
        if not p:
            return self.send(404, status(404, "NotFound", "the server could not find the "
                                         "requested resource"))
        prefix, ns, plural, name = p
        with LOCK:
            if name:
                obj = STORE.get((plural, ns, name))
                if obj is None:
                    return self.send(404, status(404, "NotFound",
                                                 f'{plural} "{name}" not found'))
                return self.send(200, obj)
            sel = parse_qs(url.query).get("labelSelector", [""])[0]
            items = [o for (pl, n, _), o in sorted(STORE.items())
                     if pl == plural and (ns is None or n == ns) and matches(o, sel)]
        kind = {"pods": "PodList", "services": "ServiceList", "secrets": "SecretList",
                "notebooks": "NotebookList"}.get(plural, "List")
        api = "v1" if prefix == "/api/v1" else "kubeflow.org/v1"
        return self.send(200, {"kind": kind, "apiVersion": api,
                               "metadata": {"resourceVersion": "1"}, "items": items})

    def do_POST(self):
        obj = self.body()
        self.record(obj)
        p = parse(urlparse(self.path).path)
        if not p or not isinstance(obj, dict):
            return self.send(400, status(400, "BadRequest", "bad request"))
        _, ns, plural, _ = p
        if FAIL == plural:
            return self.send(500, status(500, "InternalError",
                                         f"creating {plural} is broken on purpose"))
        name = obj["metadata"]["name"]
        with LOCK:
            if (plural, ns, name) in STORE:
                return self.send(409, status(409, "AlreadyExists",
                                             f'{plural} "{name}" already exists'))
            meta = obj["metadata"]
            meta["namespace"] = ns
            meta["uid"] = str(uuid.uuid4())
            meta["resourceVersion"] = "1"
            meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            STORE[(plural, ns, name)] = obj
        return self.send(201, obj)

    def do_DELETE(self):
        self.record(self.body())
        p = parse(urlparse(self.path).path)
        if not p or not p[3]:
            return self.send(405, status(405, "MethodNotAllowed", "not here"))
        _, ns, plural, name = p
        with LOCK:
            obj = STORE.pop((plural, ns, name), None)
        if obj is None:
            return self.send(404, status(404, "NotFound", f'{plural} "{name}" not found'))
        return self.send(200, obj)

    def do_PATCH(self):
        self.record(self.body())
        return self.send(405, status(405, "MethodNotAllowed", "this stand-in does not patch"))

    do_PUT = do_PATCH


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os  # noqa: E402
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
