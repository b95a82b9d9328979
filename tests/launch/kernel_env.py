#!/usr/bin/python3
"""kernel_env.py -- asks a running Jupyter server (started by `shelf launch`)
for a kernel and reports what that kernel sees, as one JSON object on
stdout:

  status      GET BASE/api/status with the token: the HTTP status
  environ     the kernel process's environment, read from /proc/PID/environ
              (LOADEDMODULES, MODULEPATH, PYTHONPATH)
  ran         what code run in the kernel over its websocket printed:
              LOADEDMODULES, where `import torch_demo` and `import shelf`
              come from, whether the tree's mount path is writable

The kernel is deleted again before the program exits.
usage: kernel_env.py URL-WITH-TOKEN TREE-MOUNT
Needs Debian's python3 (tornado, jupyter_server).
"""
import json
import os
import sys
import uuid
from urllib.parse import urlparse, parse_qs

from tornado import httpclient, ioloop, websocket

url, mount = sys.argv[1], sys.argv[2]
u = urlparse(url)
token = parse_qs(u.query)["token"][0]
base = f"http://{u.netloc}{u.path}"
HEADERS = {"Authorization": f"token {token}"}

CODE = f"""
import json, os
r = {{"LOADEDMODULES": os.environ.get("LOADEDMODULES", "")}}
try:
    import torch_demo
    r["torch_demo"] = torch_demo.__file__
except Exception as e:
    r["torch_demo"] = "import failed: %s" % e
try:
    import shelf
    r["shelf"] = shelf.__file__
except Exception as e:
    r["shelf"] = "import failed: %s" % e
try:
    open({json.dumps(mount)} + "/.write-test", "w").close()
    r["tree_writable"] = True
except OSError:
    r["tree_writable"] = False
print("RESULT " + json.dumps(r))
"""


def kernel_pid(kid):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if kid.encode() in f.read():
                    return int(pid)
        except OSError:
            pass
    return None


def environ_of(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        pairs = [e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e]
    env = {k.decode(): v.decode(errors="replace") for k, v in pairs}
    return {k: env.get(k, "") for k in ("LOADEDMODULES", "MODULEPATH", "PYTHONPATH")}


async def main():
    client = httpclient.AsyncHTTPClient()
    out = {}
    r = await client.fetch(base + "api/status", headers=HEADERS, raise_error=False)
    out["status"] = r.code
    r = await client.fetch(base + "api/kernels", method="POST", headers=HEADERS,
                           body=json.dumps({"name": "python3"}))
    kid = json.loads(r.body)["id"]
    try:
        ws = await websocket.websocket_connect(httpclient.HTTPRequest(
            f"ws://{u.netloc}{u.path}api/kernels/{kid}/channels", headers=HEADERS))
        msg_id = uuid.uuid4().hex
        ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": CODE, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False,
                        "stop_on_error": True}}))
        text = ""
        while True:
            m = await ws.read_message()
            if m is None:
                break
            m = json.loads(m)
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if m["msg_type"] == "stream":
                text += m["content"]["text"]
            elif m["msg_type"] == "error":
                text += "ERROR " + m["content"]["ename"] + ": " + m["content"]["evalue"]
            elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break
        ws.close()
        line = [x for x in text.splitlines() if x.startswith("RESULT ")]
        out["ran"] = json.loads(line[0][7:]) if line else {"output": text}
        pid = kernel_pid(kid)
        out["environ"] = environ_of(pid) if pid else None
    finally:
        await client.fetch(base + f"api/kernels/{kid}", method="DELETE", headers=HEADERS,
                           raise_error=False)
    print(json.dumps(out, indent=1))


ioloop.IOLoop.current().run_sync(main, timeout=40)
