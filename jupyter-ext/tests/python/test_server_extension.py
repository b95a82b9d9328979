"""Tests of the shelf_jupyter server extension against a real jupyter_server
and the real shelfd, on loopback, with fresh ports and temporary homes.

Run with Debian's Python (it has jupyter_server):

    SHELF_BUILDDIR=... SHELF_SRCDIR=... SHELF=.../src/cli/shelf \\
        /usr/bin/python3 jupyter-ext/tests/python/test_server_extension.py [--tap] [-v]

--tap prints one TAP line per test (tests/shell/jupyter-server.sh uses it).
Every server, daemon and web app started here is stopped at the end.
"""

import asyncio
import http.client
import http.cookies
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest
import urllib.parse
import uuid

TOKEN = "shelf-test-token"
SRCDIR = os.environ.get("SHELF_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILDDIR = os.environ.get("SHELF_BUILDDIR", "")
SHELFD = os.path.join(BUILDDIR, "src", "daemon", "shelfd") if BUILDDIR else os.environ.get("SHELFD", "")
SHELF = os.environ.get("SHELF", "")
EXT_DIR = os.path.join(SRCDIR, "jupyter-ext")
CORE = os.path.join(SRCDIR, "modulefiles", "Core")
# shelf_jupyter takes "." and ".." out of MODULEPATH (a `make distcheck`
# SRCDIR has them), so paths under the tree come back normalized.
TORCHVISION_SITE = os.path.join(os.path.normpath(SRCDIR), "modulefiles", "sw", "torchvision", "0.17.0",
                                "lib", "python3", "site-packages")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pid_alive(pid):
    """True if pid runs (a zombie counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children(pid):
    """Pids whose parent is pid."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(name))
    return out


def environ_of(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        data = f.read()
    env = {}
    for item in data.split(b"\0"):
        if b"=" in item:
            k, _, v = item.partition(b"=")
            env[k.decode()] = v.decode("utf-8", "replace")
    return env


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class Server:
    """A jupyter_server with the extension, in its own temporary home."""

    def __init__(self, modulepath, extra_args=(), shelfd=None, extra_env=None):
        self.tmp = tempfile.mkdtemp(prefix="shelf-jsrv-test-")
        self.port = free_port()
        self.home = os.path.join(self.tmp, "home")
        self.root = os.path.join(self.tmp, "root")
        run = os.path.join(self.tmp, "run")
        for d in (self.home, self.root, run):
            os.makedirs(d)
        os.chmod(run, 0o700)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "JPY_", "SHELF_WEBAPP_", "SHELF_CONTEXT_",
                                        "_ModuleTable", "__LMOD", "LMOD"))}
        env.pop("LOADEDMODULES", None)
        env.pop("_LMFILES_", None)
        env.update({
            "HOME": self.home, "XDG_RUNTIME_DIR": run,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_DATA_HOME": os.path.join(self.home, ".local", "share"),
            "XDG_CACHE_HOME": os.path.join(self.home, ".cache"),
            "JUPYTER_CONFIG_DIR": os.path.join(self.home, ".jupyter"),
            "JUPYTER_DATA_DIR": os.path.join(self.home, ".local", "share", "jupyter"),
            "JUPYTER_RUNTIME_DIR": os.path.join(run, "jupyter"),
            "JUPYTER_NO_CONFIG": "1",
            "PYTHONPATH": EXT_DIR,
            "MODULEPATH": modulepath,
            "PATH": "/usr/bin:/bin",
        })
        env.update(extra_env or {})
        self.env = env
        self.argv = [
            "/usr/bin/python3", "-m", "jupyter_server",
            "--ServerApp.jpserver_extensions={'shelf_jupyter': True}",
            "--ServerApp.token=" + TOKEN, "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port=%d" % self.port, "--ServerApp.port_retries=0",
            "--ServerApp.open_browser=False", "--allow-root",
            "--ServerApp.root_dir=" + self.root,
            "--ServerApp.terminado_settings={'shell_command': ['/bin/bash', '--norc', '-i']}",
            "--Shelf.shelfd=" + (shelfd or SHELFD), "--Shelf.shelf=" + SHELF,
            "--Shelf.python_path=" + os.path.join(SRCDIR, "python"),
        ] + list(extra_args)
        self.log_path = os.path.join(self.tmp, "server.log")
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=self.root)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("jupyter_server exited:\n" + self.log_tail())
            try:
                status, _, _ = self.request("GET", "/api/status", timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("jupyter_server did not answer:\n" + self.log_tail())

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def request(self, method, path, body=None, token=True, headers=None, timeout=60):
        """(status, headers, body bytes) of one request; no redirect followed."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {}
        if token:
            h["Authorization"] = "token " + TOKEN
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            conn.close()

    def json(self, method, path, body=None, **kw):
        status, headers, data = self.request(method, path, body, **kw)
        try:
            doc = json.loads(data)
        except ValueError:
            raise AssertionError("%s %s answered %d with non-JSON %r (%s)"
                                 % (method, path, status, data[:300], headers.get("Content-Type")))
        return status, doc

    def api(self, method, path, body=None, **kw):
        return self.json(method, "/shelf/api/v1/" + path, body, **kw)

    def loaded(self):
        status, doc = self.api("GET", "loaded")
        assert status == 200, doc
        return [m["fullname"] for m in doc["loaded"]]

    # ---- kernels

    def start_kernel(self):
        status, doc = self.json("POST", "/api/kernels", {"name": "python3"})
        assert status == 201, (status, doc)
        kid = doc["id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for pid in children(self.proc.pid):
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as f:
                        cmd = f.read()
                except OSError:
                    continue
                if kid.encode() in cmd:
                    return kid, pid
            time.sleep(0.1)
        raise AssertionError("kernel %s has no process among the server's children" % kid)

    def stop_kernel(self, kid):
        self.request("DELETE", "/api/kernels/" + kid)

    def execute(self, kid, code, timeout=60):
        """Runs code in the kernel over its websocket; returns (status, output text)."""
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        async def run():
            req = HTTPRequest("ws://127.0.0.1:%d/api/kernels/%s/channels" % (self.port, kid),
                              headers={"Authorization": "token " + TOKEN})
            ws = await websocket_connect(req)
            msg_id = uuid.uuid4().hex
            ws.write_message(json.dumps({
                "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex,
                           "msg_type": "execute_request", "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": False,
                            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
            out = []
            status = None
            idle = False
            try:
                # The reply comes on the shell channel, the output on iopub:
                # either may arrive first, so wait for the reply and for
                # iopub's "idle", which follows the last output.
                while status is None or not idle:
                    raw = await asyncio.wait_for(ws.read_message(), timeout)
                    if raw is None:
                        return "closed", "".join(out)
                    m = json.loads(raw)
                    if (m.get("parent_header") or {}).get("msg_id") != msg_id:
                        continue
                    t = m.get("msg_type") or m["header"]["msg_type"]
                    if t == "stream":
                        out.append(m["content"]["text"])
                    elif t == "error":
                        out.append("%s: %s" % (m["content"]["ename"], m["content"]["evalue"]))
                    elif t == "execute_reply":
                        status = m["content"]["status"]
                    elif t == "status" and m["content"].get("execution_state") == "idle":
                        idle = True
                return status, "".join(out)
            finally:
                ws.close()

        return asyncio.run(run())


class Terminal:
    """A JupyterLab terminal of the server, driven over its websocket."""

    def __init__(self, server):
        self.server = server
        status, doc = server.json("POST", "/api/terminals")
        assert status == 200, (status, doc)
        self.name = doc["name"]
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)  # tornado's websocket needs a current loop
        self.ws = None
        self.out = ""

    def _run(self, coro):
        return self.loop.run_until_complete(coro)

    def open(self):
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect
        req = HTTPRequest("ws://127.0.0.1:%d/terminals/websocket/%s" % (self.server.port, self.name),
                          headers={"Authorization": "token " + TOKEN})

        async def connect():
            return await websocket_connect(req)

        self.ws = self._run(connect())
        return self

    def run(self, line, timeout=30):
        """Types line; returns the exit status the shell printed for it."""
        import re
        marker = uuid.uuid4().hex[:8]
        self.out = ""

        async def send():
            await self.ws.write_message(json.dumps(["stdin", "%s; echo \"%s=$?\"\r" % (line, marker)]))

        self._run(send())
        pattern = re.compile(marker + r"=(\d+)")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = self._run(asyncio.wait_for(self.ws.read_message(),
                                                 max(0.1, deadline - time.monotonic())))
            except asyncio.TimeoutError:
                break
            if raw is None:
                break
            msg = json.loads(raw)
            if msg[0] == "stdout":
                self.out += msg[1]
                m = pattern.search(self.out)
                if m:
                    return int(m.group(1))
        raise AssertionError("the terminal did not finish %r; it printed %r" % (line, self.out[-2000:]))

    def close(self):
        if self.ws is not None:
            self.ws.close()
            self._run(asyncio.sleep(0.1))
        self.loop.close()
        asyncio.set_event_loop(None)
        self.server.request("DELETE", "/api/terminals/" + self.name)


class EventReader(threading.Thread):
    """Reads /shelf/api/v1/events in the background; events in .events."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.events = []
        self.status = None
        self.content_type = None
        self.ready = threading.Event()
        self.conn = None

    def run(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            self.conn.request("GET", "/shelf/api/v1/events",
                              headers={"Authorization": "token " + TOKEN})
            resp = self.conn.getresponse()
            self.status = resp.status
            self.content_type = resp.headers.get("Content-Type")
            self.ready.set()
            name, data = None, None
            while True:
                line = resp.fp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data = line[5:].strip()
                elif line == "" and name:
                    self.events.append((name, json.loads(data) if data else None))
                    name, data = None, None
        except Exception:
            pass
        finally:
            self.ready.set()

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except Exception:
            pass

    def wait_for(self, name, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ev in self.events:
                if ev[0] == name:
                    return ev
            time.sleep(0.05)
        return None


def _prerequisites():
    missing = []
    if not (SHELFD and os.access(SHELFD, os.X_OK)):
        missing.append("shelfd (set SHELF_BUILDDIR)")
    if not (SHELF and os.access(SHELF, os.X_OK)):
        missing.append("shelf (set SHELF)")
    try:
        import jupyter_server  # noqa: F401
    except ImportError:
        missing.append("jupyter_server (run with /usr/bin/python3)")
    return missing


class ExtraTree:
    """A temporary tree: a module that calls LmodError, one that is slow to load."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="shelf-jsrv-tree-")
        write(os.path.join(self.dir, "broken", "1.0.lua"),
              'whatis("Description: fails on purpose")\n'
              'setenv("BROKEN_SET", "1")\n'
              'LmodError("broken on purpose")\n')
        write(os.path.join(self.dir, "slow", "1.0.lua"),
              'whatis("Description: takes 3 s to load")\n'
              'if mode() == "load" then\n'
              '  local t = os.clock() while os.clock() - t < 3 do end\n'
              'end\n'
              'setenv("SHELF_WEBAPP_SLOW_CMD", "true {port}")\n')

        write(os.path.join(self.dir, "latin", "1.0.lua"),
              'whatis("Description: sets a value that is not UTF-8")\n'
              'setenv("LATIN_B", "caf\\233")\n')

        app = os.path.join(self.dir, "echo_app.py")
        write(app, ECHO_APP)
        write(os.path.join(self.dir, "echo", "1.0.lua"),
              'whatis("Description: a web app with a websocket")\n'
              'setenv("SHELF_WEBAPP_ECHO_CMD", "/usr/bin/python3 %s {port}")\n'
              'setenv("SHELF_WEBAPP_ECHO_TITLE", "Echo")\n'
              'setenv("SHELF_WEBAPP_ECHO_ICON", "/etc/passwd")\n' % app)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


ECHO_APP = """
import sys
from tornado import ioloop, web, websocket

class Page(web.RequestHandler):
    def get(self):
        self.write("echo app at " + self.request.path)

    def post(self):
        self.write("posted " + self.request.body.decode())

class Echo(websocket.WebSocketHandler):
    def on_message(self, message):
        self.write_message("echo:" + message)

web.Application([(r"/ws", Echo), (r"/.*", Page)]).listen(int(sys.argv[1]), "127.0.0.1")
ioloop.IOLoop.current().start()
"""


class OnServer(unittest.TestCase):
    """Tests on one server over the sample tree's Core and an ExtraTree,
    started with server_args."""

    server_args = []
    server_env = {}

    @classmethod
    def setUpClass(cls):
        missing = _prerequisites()
        if missing:
            raise unittest.SkipTest("missing: " + ", ".join(missing))
        cls.tree = ExtraTree()
        cls.server = Server(CORE + ":" + cls.tree.dir, cls.server_args,
                            extra_env=cls.server_env).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.tree.cleanup()


class ServerExtensionTest(OnServer):
    """The story on one server; tests run in name order and build on each other."""

    server_args = ["--Shelf.featured=torchvision", "--Shelf.featured=code-server"]
    app_port = None

    def assertError(self, status, doc, want_status, code=None):
        self.assertEqual(status, want_status, doc)
        self.assertIn("error", doc)
        self.assertIn("message", doc["error"])
        if code:
            self.assertEqual(doc["error"]["code"], code, doc)

    def test_01_status(self):
        status, doc = self.server.json("GET", "/shelf/status")
        self.assertEqual(status, 200, doc)
        self.assertTrue(doc["daemon"]["ok"], doc)
        self.assertTrue(doc["daemon"]["managed"])
        self.assertTrue(doc["daemon"]["address"].startswith("unix:"))
        self.assertTrue(pid_alive(doc["daemon"]["pid"]))
        self.assertEqual(doc["client"], "jupyter-" + __import__("getpass").getuser())
        self.assertEqual(doc["featured"], ["torchvision", "code-server"])
        self.assertEqual(doc["python_path"], os.path.join(SRCDIR, "python"))
        self.assertEqual(doc["shelf"], SHELF)
        self.assertEqual(doc["version"]["api"], 1)

    def test_02_no_token_is_refused(self):
        for method, path in (("GET", "/shelf/status"), ("GET", "/shelf/api/v1/modules"),
                             ("POST", "/shelf/api/v1/load"), ("GET", "/shelf/webapps"),
                             ("GET", "/shelf/app/CODE_SERVER/"), ("GET", "/shelf/api/v1/events")):
            status, _, _ = self.server.request(method, path, body=b'{"modules": ["cuda"]}'
                                               if method == "POST" else None, token=False)
            self.assertIn(status, (302, 403), "%s %s answered %d" % (method, path, status))
        status, _, _ = self.server.request("POST", "/shelf/api/v1/load", body={"modules": ["cuda"]},
                                           headers={"Authorization": "token wrong"})
        self.assertEqual(status, 403)
        self.assertEqual(self.server.loaded(), [], "an unauthenticated load reached the daemon")

    def test_03_cookie_auth_needs_xsrf(self):
        s = self.server
        # The browser path: log in with the token, then use the cookies only.
        status, headers, _ = s.request("GET", "/login", token=False)
        jar = http.cookies.SimpleCookie()
        for v in headers.get_all("Set-Cookie") or []:
            jar.load(v)
        self.assertIn("_xsrf", jar, "the login page sets no _xsrf cookie")
        xsrf = jar["_xsrf"].value
        # XSRF right but not logged in: refused too.
        status, doc = s.api("POST", "load", {"modules": ["cuda"]}, token=False,
                            headers={"Cookie": "_xsrf=" + xsrf, "X-XSRFToken": xsrf})
        self.assertError(status, doc, 403)
        form = urllib.parse.urlencode({"password": TOKEN, "_xsrf": xsrf})
        status, headers, _ = s.request("POST", "/login", body=form, token=False, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "_xsrf=" + xsrf})
        self.assertEqual(status, 302)
        for v in headers.get_all("Set-Cookie") or []:
            jar.load(v)
        cookie = "; ".join("%s=%s" % (k, m.value) for k, m in jar.items())
        status, doc = s.json("GET", "/shelf/api/v1/loaded", token=False, headers={"Cookie": cookie})
        self.assertEqual(status, 200, "cookie auth does not work for GET")
        status, doc = s.api("POST", "load", {"modules": ["cuda"]}, token=False,
                            headers={"Cookie": cookie})
        self.assertError(status, doc, 403)
        self.assertEqual(s.loaded(), [], "a load without XSRF header reached the daemon")
        status, doc = s.api("POST", "load", {"modules": ["cuda"]}, token=False,
                            headers={"Cookie": cookie, "X-XSRFToken": "not-the-cookie"})
        self.assertError(status, doc, 403)
        status, doc = s.api("POST", "load", {"modules": ["cuda"]}, token=False,
                            headers={"Cookie": cookie, "X-XSRFToken": xsrf})
        self.assertEqual(status, 200, doc)
        self.assertIn("CUDA_HOME", doc["changes"]["env"])
        status, doc = s.api("POST", "unload", {"modules": ["cuda"]}, token=False,
                            headers={"Cookie": cookie, "X-XSRFToken": xsrf})
        self.assertEqual(status, 200, doc)
        self.assertIn("CUDA_HOME", doc["changes"]["unset"])
        self.assertEqual(s.loaded(), [])

    def test_04_search(self):
        status, doc = self.server.api("GET", "modules?q=torchv")
        self.assertEqual(status, 200, doc)
        self.assertEqual([m["name"] for m in doc["modules"]], ["torchvision"])
        self.assertEqual(doc["modules"][0]["default_fullname"], "torchvision/0.17.0")
        status, doc = self.server.api("GET", "modules/torchvision")
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["dependencies"], [{"function": "depends_on", "modules": ["torch"]}])

    def test_05_client_cannot_be_chosen(self):
        s = self.server
        status, doc = s.api("GET", "loaded?client=someone-else",
                            headers={"X-Shelf-Client": "someone-else"})
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["client"], "jupyter-" + __import__("getpass").getuser())
        status, doc = s.api("PUT", "context", {"env": {"PATH": "/bin"}})
        self.assertError(status, doc, 403, "forbidden")

    def test_06_failing_loads_change_nothing(self):
        s = self.server
        before_status, before = s.json("GET", "/shelf/webapps")
        status, doc = s.api("POST", "load", {"modules": ["nosuch"]})
        self.assertError(status, doc, 404, "not_found")
        status, doc = s.api("POST", "load", {"modules": ["cuda", "broken"]})
        self.assertError(status, doc, 422)
        self.assertIn("broken on purpose", doc["error"]["message"])
        self.assertEqual(doc["error"]["file"], os.path.join(self.tree.dir, "broken", "1.0.lua"))
        self.assertEqual(doc["error"]["line"], 3)
        self.assertEqual(s.loaded(), [])
        status, doc = s.api("POST", "load", b"{not json")
        self.assertError(status, doc, 400)
        status, doc = s.api("GET", "no/such/endpoint")
        self.assertError(status, doc, 404)

    def test_07_load_reaches_new_kernels(self):
        s = self.server
        events = EventReader(s)
        events.start()
        events.ready.wait(10)
        self.assertEqual(events.status, 200)
        self.assertTrue(events.content_type.startswith("text/event-stream"), events.content_type)
        try:
            time.sleep(0.3)
            status, doc = s.api("POST", "load", {"modules": ["torchvision"]})
            self.assertEqual(status, 200, doc)
            self.assertIn(TORCHVISION_SITE, doc["changes"]["env"]["PYTHONPATH"])
            ev = events.wait_for("loaded")
            self.assertIsNotNone(ev, "no loaded event came through the stream")
            self.assertIn("torchvision/0.17.0", ev[1]["loaded"])
            self.assertIn("torch/2.2.0", ev[1]["loaded"])
        finally:
            events.close()
        self.assertEqual(s.loaded(), ["python/3.11.8", "torch/2.2.0", "torchvision/0.17.0"])
        kid, pid = s.start_kernel()
        try:
            env = environ_of(pid)
            path = env["PYTHONPATH"].split(":")
            self.assertIn(TORCHVISION_SITE, path)
            self.assertIn(os.path.join(SRCDIR, "python"), path)
            self.assertEqual(env.get("SHELF_CMD"), SHELF)
            self.assertIn("torchvision/0.17.0", env.get("LOADEDMODULES", ""))
            status, out = s.execute(kid, "import torchvision_demo, shelf\n"
                                         "print(torchvision_demo.__file__)\n"
                                         "print(shelf.list())\n")
            self.assertEqual(status, "ok", out)
            self.assertIn(TORCHVISION_SITE, out)
            self.assertIn("'torchvision/0.17.0'", out)
        finally:
            s.stop_kernel(kid)
        status, doc = s.api("POST", "unload", {"modules": ["torchvision"]})
        self.assertEqual(status, 200, doc)
        self.assertEqual(s.loaded(), [])
        kid, pid = s.start_kernel()
        try:
            env = environ_of(pid)
            self.assertNotIn(TORCHVISION_SITE, env.get("PYTHONPATH", "").split(":"))
            self.assertIn(os.path.join(SRCDIR, "python"), env["PYTHONPATH"].split(":"))
            status, out = s.execute(kid, "import torchvision_demo\n")
            self.assertEqual(status, "error", out)
            self.assertIn("ModuleNotFoundError", out)
        finally:
            s.stop_kernel(kid)

    def test_07b_bytes_reach_new_kernels(self):
        # A value that is not UTF-8 (0xE9) is valid JSON on its way (\udce9)
        # and reaches the server's environment and new kernels byte for byte.
        s = self.server
        status, doc = s.api("POST", "load", {"modules": ["latin"]})
        self.assertEqual(status, 200, doc)
        self.assertEqual(os.fsencode(doc["changes"]["env"]["LATIN_B"]), b"caf\xe9")
        kid, pid = s.start_kernel()
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                raw = f.read().split(b"\0")
            self.assertIn(b"LATIN_B=caf\xe9", raw)
        finally:
            s.stop_kernel(kid)
        status, doc = s.api("POST", "unload", {"modules": ["latin"]})
        self.assertEqual(status, 200, doc)
        self.assertIn("LATIN_B", doc["changes"]["unset"])

    def test_08_collections(self):
        s = self.server
        status, doc = s.api("POST", "load", {"modules": ["torchvision"]})
        self.assertEqual(status, 200, doc)
        status, doc = s.api("POST", "collections/train")
        self.assertEqual(status, 201, doc)
        status, doc = s.api("GET", "collections")
        self.assertEqual(status, 200, doc)
        self.assertIn("train", [c["name"] for c in doc["collections"]])
        status, doc = s.api("POST", "purge")
        self.assertEqual(status, 200, doc)
        self.assertEqual(s.loaded(), [])
        status, doc = s.api("POST", "restore", {"name": "train"})
        self.assertEqual(status, 200, doc)
        self.assertIn(TORCHVISION_SITE, doc["changes"]["env"]["PYTHONPATH"])
        self.assertIn("torchvision/0.17.0", s.loaded())
        status, doc = s.api("GET", "preamble?lang=python")
        self.assertEqual(status, 200, doc)
        self.assertIn('shelf.load("torchvision/0.17.0")', doc["code"])
        for name in ("a%2Fb", "a/b", "..", "%2E%2E"):
            status, doc = s.api("POST", "collections/" + name)
            self.assertEqual(status // 100, 4, (name, doc))
            self.assertIn("error", doc, name)
        status, doc = s.api("POST", "collections/a%2Fb")
        self.assertError(status, doc, 400)
        status, doc = s.api("DELETE", "collections/train")
        self.assertEqual((status, doc), (200, {"deleted": "train"}))
        status, doc = s.api("GET", "collections/train")
        self.assertError(status, doc, 404, "not_found")
        status, doc = s.api("POST", "purge")
        self.assertEqual(status, 200, doc)

    def test_09_webapps(self):
        s = self.server
        status, doc = s.json("GET", "/shelf/webapps")
        self.assertEqual((status, doc), (200, {"webapps": []}))
        status, doc = s.api("POST", "load", {"modules": ["code-server"]})
        self.assertEqual(status, 200, doc)
        status, doc = s.json("GET", "/shelf/webapps")
        self.assertEqual(status, 200)
        apps = doc["webapps"]
        self.assertEqual([a["key"] for a in apps], ["CODE_SERVER"])
        self.assertEqual(apps[0]["title"], "VS Code")
        self.assertTrue(apps[0]["icon"].startswith("<svg"), apps[0]["icon"])
        self.assertEqual(apps[0]["url"], "/shelf/app/CODE_SERVER/")
        self.assertFalse(apps[0]["running"])
        status, doc = s.json("POST", "/shelf/webapps/CODE_SERVER/start")
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["url"], "/shelf/app/CODE_SERVER/")
        port = doc["port"]
        status, headers, body = s.request("GET", "/shelf/app/CODE_SERVER/")
        self.assertEqual(status, 200)
        self.assertIn(b"code-server 4.22.1 (sample)", body)
        self.assertIn(self.server.root.encode(), body)
        servers = headers.get_all("Server")
        self.assertEqual(len(servers), 1, servers)
        self.assertTrue(servers[0].startswith("BaseHTTP/"), servers)  # the app's own
        self.assertEqual(len(headers.get_all("Date")), 1)
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        status, headers, body = s.request("GET", "/shelf/app/CODE_SERVER/healthz")
        self.assertEqual((status, json.loads(body)["status"]), (200, "alive"))
        status, headers, body = s.request("GET", "/shelf/app/CODE_SERVER/missing")
        self.assertEqual(status, 404)
        status, headers, body = s.request("GET", "/shelf/app/CODE_SERVER")
        self.assertEqual((status, headers["Location"]), (302, "/shelf/app/CODE_SERVER/"))
        status, doc = s.json("GET", "/shelf/webapps")
        self.assertTrue(doc["webapps"][0]["running"])
        # Unloading the module stops its app.
        status, doc = s.api("POST", "unload", {"modules": ["code-server"]})
        self.assertEqual(status, 200, doc)
        deadline = time.monotonic() + 10
        refused = False
        while time.monotonic() < deadline and not refused:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                time.sleep(0.1)
            except OSError:
                refused = True
        self.assertTrue(refused, "the app still serves after its module was unloaded")
        status, doc = s.json("GET", "/shelf/webapps")
        self.assertEqual(doc, {"webapps": []})
        status, doc = s.json("POST", "/shelf/webapps/CODE_SERVER/start")
        self.assertError(status, doc, 404, "not_found")
        status, doc = s.json("GET", "/shelf/app/CODE_SERVER/")
        self.assertError(status, doc, 404, "not_found")
        # Started again for the shutdown test.
        s.api("POST", "load", {"modules": ["code-server"]})
        status, doc = s.json("POST", "/shelf/webapps/CODE_SERVER/start")
        self.assertEqual(status, 200, doc)
        type(self).app_port = doc["port"]

    def test_11_webapp_websocket_and_post(self):
        s = self.server
        status, doc = s.api("POST", "load", {"modules": ["echo"]})
        self.assertEqual(status, 200, doc)
        status, doc = s.json("GET", "/shelf/webapps")
        echo = [a for a in doc["webapps"] if a["key"] == "ECHO"]
        self.assertEqual(len(echo), 1, doc)
        self.assertIsNone(echo[0]["icon"], "an icon outside the trees was read")
        # Started on first use; POST bodies pass (XSRF is the app's business).
        status, _, body = s.request("GET", "/shelf/app/ECHO/sub/page?x=1")
        self.assertEqual((status, body), (200, b"echo app at /sub/page"))
        status, _, body = s.request("POST", "/shelf/app/ECHO/form", body=b"a=b")
        self.assertEqual((status, body), (200, b"posted a=b"))
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        async def talk(token):
            req = HTTPRequest("ws://127.0.0.1:%d/shelf/app/ECHO/ws" % s.port,
                              headers={"Authorization": "token " + token})
            ws = await websocket_connect(req)
            try:
                await ws.write_message("hello")
                return await asyncio.wait_for(ws.read_message(), 10)
            finally:
                ws.close()

        self.assertEqual(asyncio.run(talk(TOKEN)), "echo:hello")
        with self.assertRaises(Exception):
            asyncio.run(talk("wrong"))
        status, doc = s.api("POST", "unload", {"modules": ["echo"]})
        self.assertEqual(status, 200, doc)

    def test_10_daemon_killed_recovers(self):
        s = self.server
        status, doc = s.api("POST", "load", {"modules": ["torchvision"]})
        self.assertEqual(status, 200, doc)
        status, doc = s.json("GET", "/shelf/status")
        pid = doc["daemon"]["pid"]
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(pid_alive(pid))
        status, doc = s.api("GET", "modules?q=torchv")
        self.assertIn(status, (200, 503), doc)
        if status == 503:
            self.assertEqual(doc["error"]["code"], "daemon_unavailable")
            status, doc = s.api("GET", "modules?q=torchv")
        self.assertEqual(status, 200, doc)
        status, doc = s.json("GET", "/shelf/status")
        self.assertTrue(doc["daemon"]["ok"], doc)
        self.assertNotEqual(doc["daemon"]["pid"], pid)
        self.assertTrue(pid_alive(doc["daemon"]["pid"]))
        # The new daemon took the server's environment: the loaded set survived.
        self.assertIn("torchvision/0.17.0", s.loaded())
        status, doc = s.api("POST", "unload", {"modules": ["torchvision"]})
        self.assertEqual(status, 200, doc)
        self.assertNotIn(TORCHVISION_SITE, doc["changes"]["env"].get("PYTHONPATH", ""))
        self.assertNotIn("torchvision/0.17.0", s.loaded())
        events = EventReader(s)
        events.start()
        events.ready.wait(10)
        self.assertEqual(events.status, 200)
        events.close()

    def test_12_terminal_shares_the_context(self):
        """`module load` in a JupyterLab terminal reaches the panel (an
        event, GET loaded) and the kernels started afterwards; `shelf
        json` (what a kernel's `import shelf` runs) does not touch the
        shared context."""
        s = self.server
        s.api("POST", "purge", {})
        events = EventReader(s)
        events.start()
        events.ready.wait(10)
        term = Terminal(s).open()
        try:
            init = os.path.join(SRCDIR, "shell-init", "bash")
            self.assertEqual(term.run(". '%s'" % init), 0, term.out)
            self.assertEqual(term.run('test -S "$SHELF_CONTEXT_SOCKET" && '
                                      'test -n "$SHELF_CONTEXT_CLIENT"'), 0,
                             "the terminal was not told which context it shares: " + term.out)
            self.assertEqual(term.run("module load cuda/12.2.2 && test -n \"$CUDA_HOME\""), 0, term.out)
            ev = events.wait_for("loaded")
            self.assertIsNotNone(ev, "no loaded event after the terminal's module load")
            self.assertIn("cuda/12.2.2", ev[1]["loaded"])
            self.assertEqual(s.loaded(), ["cuda/12.2.2"])
            # The server's environment follows: a kernel started now has it.
            deadline = time.monotonic() + 15
            env = {}
            while time.monotonic() < deadline:
                kid, pid = s.start_kernel()
                env = environ_of(pid)
                s.stop_kernel(kid)
                if env.get("CUDA_VERSION") == "12.2":
                    break
                time.sleep(0.5)
            self.assertEqual(env.get("CUDA_VERSION"), "12.2", "a new kernel did not get the terminal's load")
            self.assertIn(os.path.join(os.path.normpath(SRCDIR), "modulefiles", "sw", "cuda", "12.2.2", "bin"),
                          env.get("PATH", "").split(":"))
            # Python code (a kernel's `import shelf`) changes only its own process.
            self.assertEqual(term.run('"$SHELF_CMD" json load torchvision >/dev/null'), 0, term.out)
            self.assertEqual(s.loaded(), ["cuda/12.2.2"])
            # A swap and an unload follow too.
            self.assertEqual(term.run("module swap cuda/12.2.2 cuda/11.8.0"), 0, term.out)
            self.assertEqual(s.loaded(), ["cuda/11.8.0"])
            self.assertEqual(term.run("module unload cuda"), 0, term.out)
            self.assertEqual(s.loaded(), [])
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                kid, pid = s.start_kernel()
                env = environ_of(pid)
                s.stop_kernel(kid)
                if "CUDA_VERSION" not in env:
                    break
                time.sleep(0.5)
            self.assertNotIn("CUDA_VERSION", env, "the terminal's unload did not reach new kernels")
        finally:
            term.close()
            events.close()

    def test_99_server_stop_stops_everything(self):
        s = self.server
        status, doc = s.json("GET", "/shelf/status")
        pid = doc["daemon"]["pid"]
        self.assertTrue(pid_alive(pid))
        address = doc["daemon"]["address"][len("unix:"):]
        s.stop()
        self.assertEqual(s.proc.returncode, 0, s.log_tail())
        self.assertFalse(pid_alive(pid), "shelfd still runs after the server stopped")
        self.assertFalse(os.path.exists(address), "the socket is left behind")
        self.assertFalse(os.path.exists(os.path.dirname(address)), "the private directory is left")
        if self.app_port:
            with self.assertRaises(OSError, msg="the web app still serves"):
                socket.create_connection(("127.0.0.1", self.app_port), 1).close()


class SlowDaemonTest(OnServer):
    """request_timeout=1 and a modulefile that takes 3 s of CPU time."""

    server_args = ["--Shelf.request_timeout=1"]
    # On a busy machine 3 s of CPU can take longer than the default 10 s
    # evaluation budget (wall-clock): give it room, this test is about the
    # request timeout.
    server_env = {"SHELF_EVAL_SECONDS": "120"}

    def test_slow_load_is_504_and_server_stays_responsive(self):
        s = self.server
        status, doc = s.json("GET", "/shelf/status")
        self.assertTrue(doc["daemon"]["ok"], doc)
        result = {}

        def slow():
            t = time.monotonic()
            result["answer"] = s.api("POST", "load", {"modules": ["slow"]})
            result["seconds"] = time.monotonic() - t

        th = threading.Thread(target=slow)
        th.start()
        time.sleep(0.3)
        t = time.monotonic()
        status, doc = s.json("GET", "/shelf/status")
        fast = time.monotonic() - t
        self.assertEqual(status, 200)
        self.assertTrue(doc["daemon"]["ok"], doc)
        status, doc = s.api("GET", "version")
        self.assertEqual(status, 200, doc)
        self.assertLess(time.monotonic() - t, 0.9, "the server was blocked by the slow request")
        self.assertLess(fast, 0.9)
        th.join(10)
        status, doc = result["answer"]
        self.assertEqual(status, 504, doc)
        self.assertEqual(doc["error"]["code"], "daemon_timeout")
        self.assertLess(result["seconds"], 2.5)
        # Once the daemon finished the load, the server mirrors it.
        deadline = time.monotonic() + 15
        keys = []
        while time.monotonic() < deadline:
            status, doc = s.json("GET", "/shelf/webapps")
            keys = [a["key"] for a in doc["webapps"]]
            if keys:
                break
            time.sleep(0.2)
        self.assertEqual(keys, ["SLOW"], "the server's environment did not take the slow load")
        self.assertIn("slow/1.0", s.loaded())


class DaemonMissingTest(unittest.TestCase):
    """Shelf.shelfd that cannot run: 503 JSON, the server still works."""

    @classmethod
    def setUpClass(cls):
        missing = _prerequisites()
        if missing:
            raise unittest.SkipTest("missing: " + ", ".join(missing))
        cls.server = Server(CORE, shelfd="/nonexistent/shelfd").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_unavailable(self):
        s = self.server
        status, doc = s.api("GET", "modules")
        self.assertEqual(status, 503, doc)
        self.assertEqual(doc["error"]["code"], "daemon_unavailable")
        self.assertIn("/nonexistent/shelfd", doc["error"]["message"])
        status, doc = s.json("GET", "/shelf/status")
        self.assertEqual(status, 200)
        self.assertFalse(doc["daemon"]["ok"])
        self.assertIsNone(doc["daemon"]["pid"])
        self.assertIn("/nonexistent/shelfd", doc["daemon"]["error"])
        status, _, _ = s.request("GET", "/api/status")
        self.assertEqual(status, 200)


class TapResult(unittest.TestResult):
    """One TAP line per test."""

    def __init__(self, stream=None, descriptions=None, verbosity=0):
        super().__init__(stream, descriptions, verbosity)
        self.n = 0

    def _line(self, ok, test, extra=""):
        self.n += 1
        name = test.id().split(".", 1)[-1] if hasattr(test, "id") else str(test)
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, name, extra), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(True, test)

    def _bad(self, test, err):
        self._line(False, test)
        for line in "".join(traceback.format_exception(*err)).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._bad(test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._bad(test, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(True, test, " # SKIP " + reason)


def main():
    if "--tap" in sys.argv:
        suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
        result = TapResult()
        suite.run(result)
        print("1..%d" % result.n)
        sys.exit(0 if result.wasSuccessful() else 1)
    unittest.main()


if __name__ == "__main__":
    main()
