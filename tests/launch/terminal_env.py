#!/usr/bin/python3
"""terminal_env.py -- opens a terminal in a running Jupyter server (started
by `shelf launch`), as JupyterLab's Terminal does, types a command line and
prints what the terminal answered: whether `module` is a shell function,
LOADEDMODULES, and whether `module list` works there. The terminal is
deleted again before the program exits.

usage: terminal_env.py URL-WITH-TOKEN
Needs Debian's python3 (tornado).
"""
import json
import sys
from urllib.parse import urlparse, parse_qs

from tornado import httpclient, ioloop, websocket

url = sys.argv[1]
u = urlparse(url)
token = parse_qs(u.query)["token"][0]
base = f"http://{u.netloc}{u.path}"
HEADERS = {"Authorization": f"token {token}"}
# The quotes split the markers, so the terminal's echo of the typed line
# never looks like the answer.
LINE = 'echo "T""YPE=$(type -t module) LM=$LOADEDMODULES"; module -t list 2>&1 | tr "\\n" " "; echo E""ND\r'


async def main():
    http = httpclient.AsyncHTTPClient()
    r = await http.fetch(base + "api/terminals", method="POST", body="{}", headers=HEADERS)
    name = json.loads(r.body)["name"]
    out = ""
    try:
        ws = await websocket.websocket_connect(httpclient.HTTPRequest(
            base.replace("http://", "ws://") + f"terminals/websocket/{name}", headers=HEADERS))
        ws.write_message(json.dumps(["stdin", LINE]))
        while "TYPE=" not in out or "END" not in out[out.rfind("TYPE="):]:
            msg = await ws.read_message()
            if msg is None:
                break
            kind, *rest = json.loads(msg)
            if kind == "stdout":
                out += rest[0]
        ws.close()
    finally:
        await http.fetch(base + f"api/terminals/{name}", method="DELETE", headers=HEADERS,
                         raise_error=False)
    # The answer: the last TYPE=... line and what module list printed after it.
    tail = out[out.rfind("TYPE="):]
    print(" ".join(tail.replace("\r", " ").split()))


ioloop.IOLoop.current().run_sync(main, timeout=30)
