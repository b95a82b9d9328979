"""shelf_jupyter.webapps -- the web applications of loaded modules.

A module declares one with the SHELF_WEBAPP_<KEY>_CMD/_TITLE/_ICON/_URL
variables (modulefiles/README.md). This file lists them from the server's
os.environ, starts one on a free loopback port (its `{port}`), waits until
it answers, stops it, and stops every app whose module is unloaded or when
the server stops. The HTTP proxy in front of them is in handlers.py.
"""

import asyncio
import os
import re
import shlex
import signal
import socket
import stat
import subprocess
import time

from tornado.httpclient import HTTPRequest
from tornado.simple_httpclient import SimpleAsyncHTTPClient

from .daemon import child_preexec, private_dir, _tail

_CMD_RE = re.compile(r"^SHELF_WEBAPP_([A-Z0-9_]+)_CMD$")
ICON_MAX = 64 * 1024


class WebAppError(Exception):
    """A web app could not be started (status: 404 unknown, 502 failed, 504 slow)."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def declared(env=None):
    """{KEY: {"cmd", "title", "icon", "url"}} for every SHELF_WEBAPP_<KEY>_CMD in env."""
    env = os.environ if env is None else env
    apps = {}
    for name, value in env.items():
        m = _CMD_RE.match(name)
        if not m or not value.strip():
            continue
        key = m.group(1)
        prefix = "SHELF_WEBAPP_%s_" % key
        url = env.get(prefix + "URL") or "/"
        if not url.startswith("/"):
            url = "/" + url
        apps[key] = {"cmd": value, "title": env.get(prefix + "TITLE") or key.lower().replace("_", "-"),
                     "icon": env.get(prefix + "ICON") or None, "url": url}
    return apps


def read_icon(path, roots):
    """The SVG text of `path`, or None unless it is a regular file under one
    of `roots` (after resolving symlinks), smaller than 64 KiB, starting
    with <svg or <?xml."""
    if not path or not os.path.isabs(path):
        return None
    real = os.path.realpath(path)
    if not any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots):
        return None
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size >= ICON_MAX:
            return None
        data = os.read(fd, ICON_MAX)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head = text.lstrip("\ufeff \t\r\n")
    if not (head.startswith("<svg") or head.startswith("<?xml")):
        return None
    return text


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """One running web app."""

    def __init__(self, key, cmd, port, proc, log_path, url):
        self.key = key
        self.cmd = cmd
        self.port = port
        self.proc = proc
        self.log_path = log_path
        self.url = url

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """TERM the app's process group, KILL after 3 s."""
        if self.proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 3)):
            try:
                os.killpg(self.proc.pid, sig)
            except OSError:
                pass
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


class WebApps:
    """The web apps of this server; `roots()` gives the directories icons may live in."""

    def __init__(self, config, log, roots, cwd=None):
        self.config = config
        self.log = log
        self.roots = roots
        self.cwd = cwd
        self.apps = {}
        self.starting = {}
        self.dir = None

    def _running(self, key):
        app = self.apps.get(key)
        if app is not None and not app.alive():
            self.log.info("shelf_jupyter: web app %s (pid %d) has exited", key, app.proc.pid)
            del self.apps[key]
            app = None
        return app

    def listing(self, base_url):
        """The list GET /shelf/webapps answers."""
        if not self.config.webapps:
            return []
        roots = [os.path.realpath(r) for r in self.roots()]
        out = []
        for key, d in sorted(declared().items()):
            out.append({"key": key, "title": d["title"], "icon": read_icon(d["icon"], roots),
                        "running": self._running(key) is not None,
                        "url": "%sshelf/app/%s/" % (base_url, key)})
        return out

    async def port(self, key):
        """The port of app KEY, started on first use. Raises WebAppError."""
        app = self._running(key)
        if app is None:
            app = await self.start(key)
        return app.port

    async def start(self, key):
        """Starts app KEY if it does not run; returns its App. Raises WebAppError."""
        if not self.config.webapps:
            raise WebAppError(404, "not_found", "web apps are disabled (Shelf.webapps)")
        d = declared().get(key)
        if d is None:
            raise WebAppError(404, "not_found", "no loaded module declares the web app %s" % key)
        app = self._running(key)
        if app is not None and app.cmd == d["cmd"]:
            return app
        if app is not None:
            self.stop(key)
        if key in self.starting:  # another request is starting it
            return await asyncio.shield(self.starting[key])
        fut = asyncio.ensure_future(self._start(key, d))  # _start forgets it when done
        self.starting[key] = fut
        return await asyncio.shield(fut)

    async def _start(self, key, d):
        try:
            return await self._spawn(key, d)
        finally:
            self.starting.pop(key, None)

    async def _spawn(self, key, d):
        if self.dir is None or not os.path.isdir(self.dir):
            self.dir = private_dir()
        port = free_port()
        try:
            argv = [a.replace("{port}", str(port)) for a in shlex.split(d["cmd"])]
        except ValueError as exc:
            raise WebAppError(502, "webapp_failed", "cannot parse SHELF_WEBAPP_%s_CMD: %s" % (key, exc))
        if not argv:
            raise WebAppError(502, "webapp_failed", "SHELF_WEBAPP_%s_CMD is empty" % key)
        log_path = os.path.join(self.dir, "%s.log" % key)
        try:
            with open(log_path, "wb") as log_file:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_file,
                                        stderr=subprocess.STDOUT, env=dict(os.environ),
                                        cwd=self.cwd or None, close_fds=True,
                                        start_new_session=True, preexec_fn=child_preexec)
        except OSError as exc:
            raise WebAppError(502, "webapp_failed", "cannot run %s: %s" % (argv[0], exc.strerror or exc))
        app = App(key, d["cmd"], port, proc, log_path, d["url"])
        self.log.info("shelf_jupyter: started web app %s (pid %d) on port %d", key, proc.pid, port)
        client = SimpleAsyncHTTPClient(force_instance=True)
        deadline = time.monotonic() + self.config.webapp_timeout
        try:
            while True:
                if proc.poll() is not None:
                    tail = _tail(log_path)
                    raise WebAppError(502, "webapp_failed", "%s exited with status %d%s"
                                      % (key, proc.returncode, ":\n" + tail if tail else ""))
                if time.monotonic() > deadline:
                    app.stop()
                    tail = _tail(log_path)
                    raise WebAppError(504, "webapp_timeout",
                                      "%s did not answer on 127.0.0.1:%d%s within %g s%s"
                                      % (key, port, d["url"], self.config.webapp_timeout,
                                         ":\n" + tail if tail else ""))
                try:
                    await client.fetch(HTTPRequest("http://127.0.0.1:%d%s" % (port, d["url"]),
                                                   request_timeout=2, follow_redirects=False),
                                       raise_error=False)
                    break
                except Exception:
                    await asyncio.sleep(0.1)
        finally:
            client.close()
        self.apps[key] = app
        return app

    def stop(self, key):
        """Stops app KEY; returns True if it ran."""
        app = self.apps.pop(key, None)
        if app is None:
            return False
        self.log.info("shelf_jupyter: stopping web app %s (pid %d)", key, app.proc.pid)
        app.stop()
        return True

    def reconcile(self, changes=None):
        """Stops the apps whose CMD variable is gone or changed (module unloaded)."""
        now = declared()
        for key in list(self.apps):
            d = now.get(key)
            if d is None or d["cmd"] != self.apps[key].cmd or not self.config.webapps:
                self.stop(key)

    def stop_all(self):
        for key in list(self.apps):
            self.stop(key)
        if self.dir:
            import shutil
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
