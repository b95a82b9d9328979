"""shelf_jupyter.daemon -- the connection to shelfd: finds or starts the
daemon, keeps this server's environment context in step with os.environ,
sends requests and opens event streams.

A managed daemon (no `address` configured) is started on a unix socket in a
private 0700 directory, restarted when a request finds it dead, and stopped
when the server stops (and, through PR_SET_PDEATHSIG, when the server dies).
"""

import asyncio
import atexit
import ctypes
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import weakref

from tornado import gen
from tornado.http1connection import HTTP1Connection, HTTP1ConnectionParameters
from tornado.httpclient import HTTPRequest, HTTPClientError
from tornado.httputil import HTTPHeaders, RequestStartLine
from tornado.iostream import StreamClosedError
from tornado.netutil import Resolver
from tornado.process import Subprocess
from tornado.simple_httpclient import SimpleAsyncHTTPClient, HTTPTimeoutError
from tornado.tcpclient import TCPClient

# Actions whose answer carries `changes` to mirror into os.environ.
ACTIONS = frozenset(["load", "unload", "swap", "purge", "reload", "restore"])

UNIX_HOST = "shelfd"  # the host name the unix resolver maps to the socket

# Exported to terminals so that their module commands reach our context
# (see the shelf command's follow.c); never part of the context itself.
CONTEXT_VARS = ("SHELF_CONTEXT_SOCKET", "SHELF_CONTEXT_CLIENT")


def apply_env_changes(env, changes):
    """Applies the variables of a shelfd change set ({"env": {name: value},
    "unset": [name]}, the shape of `shelf json`) to env, a mapping; names
    that cannot be environment variables are skipped. A byte that is not
    UTF-8 arrives as a lone surrogate (\\udcXX), which os.environ turns back
    into that byte."""
    for name, value in (changes.get("env") or {}).items():
        if isinstance(value, str) and name and "=" not in name:
            env[name] = value
    for name in changes.get("unset") or []:
        env.pop(name, None)


class DaemonError(Exception):
    """shelfd could not be reached (status 503) or did not answer in time (504)."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class UnixResolver(Resolver):
    """Resolves every host to one AF_UNIX address: the daemon's socket."""

    def initialize(self, path):
        self.path = path

    async def resolve(self, host, port, family=socket.AF_UNSPEC):
        return [(socket.AF_UNIX, self.path)]


def _pdeathsig():
    """In the child: get SIGTERM when the parent (the Jupyter server) dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def child_preexec():
    """preexec_fn for helper processes: die with the server."""
    _pdeathsig()


def private_dir():
    """A new 0700 directory under $XDG_RUNTIME_DIR (or the temp dir)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if not base or not os.path.isdir(base) or not os.access(base, os.W_OK | os.X_OK):
        base = None
    # AF_UNIX paths are limited to 107 bytes: fall back to /tmp when long.
    path = tempfile.mkdtemp(prefix="shelf-jupyter-", dir=base)
    if len(os.path.join(path, "shelfd.sock")) > 100:
        os.rmdir(path)
        path = tempfile.mkdtemp(prefix="shelf-jupyter-", dir="/tmp")
    os.chmod(path, 0o700)
    return path


def _tail(path, limit=2000):
    """The last `limit` characters of a text file ("" if unreadable)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            return f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


_instances = weakref.WeakSet()


@atexit.register
def _stop_all_at_exit():
    for daemon in list(_instances):
        daemon.stop_sync()


class Daemon:
    """This server's view of shelfd (one per server process).

    config: the Shelf configurable. log: a logging.Logger.
    on_changes: called with the `changes` dict after they were applied to
    os.environ (the web apps use it to stop apps whose module left).
    """

    def __init__(self, config, log, on_changes=None):
        self.config = config
        self.log = log
        self.on_changes = on_changes
        self.client_id = config.client_id
        self.managed = not config.address
        self.dir = None
        self.proc = None
        self.stdout = None  # shelfd's stdout pipe, held open while it runs
        self.pid = None
        self.socket_path = None
        self.url = None  # http://... for TCP
        self.last_error = None
        self._context_ready = False
        self._mirror = {}  # the environment shelfd holds for our context
        self._lock = asyncio.Lock()
        self._client = None
        self._resync_task = None
        self._resync_again = False
        self._watch_task = None
        self._stopping = False
        if not self.managed:
            addr = config.address
            if addr.startswith("unix:"):
                self.socket_path = addr[len("unix:"):]
            elif addr.startswith("http://"):
                self.url = addr.rstrip("/")
            else:
                raise ValueError("Shelf.address must be unix:PATH or http://HOST:PORT, not %r" % addr)
        _instances.add(self)

    # ---------------------------------------------------------------- address

    @property
    def address(self):
        """The daemon's address as shown to people."""
        if self.socket_path:
            return "unix:" + self.socket_path
        return self.url or ""

    def _base_url(self):
        return "http://%s" % UNIX_HOST if self.socket_path else self.url

    def _http_client(self):
        if self._client is None:
            if self.socket_path:
                self._client = SimpleAsyncHTTPClient(
                    force_instance=True, max_clients=64,
                    resolver=UnixResolver(path=self.socket_path))
            else:
                self._client = SimpleAsyncHTTPClient(force_instance=True, max_clients=64)
        return self._client

    def _auth_headers(self):
        if self.url and self.config.token_file:
            try:
                with open(self.config.token_file) as f:
                    return {"Authorization": "Bearer " + f.read().strip()}
            except OSError as exc:
                raise DaemonError(503, "daemon_unavailable",
                                  "cannot read the token file %s: %s"
                                  % (self.config.token_file, exc.strerror))
        return {}

    # ------------------------------------------------------------ life cycle

    def alive(self):
        """True when the managed process runs (always True for an external daemon)."""
        if not self.managed:
            return True
        return self.proc is not None and self.proc.proc.poll() is None

    async def _start(self):
        """Starts shelfd and waits until it serves; raises DaemonError."""
        shelfd = self.config.shelfd
        if not shelfd:
            raise DaemonError(503, "daemon_unavailable",
                              "no shelfd program: set Shelf.shelfd (or $SHELFD) or put shelfd on PATH")
        if self.dir is None or not os.path.isdir(self.dir):
            self.dir = private_dir()
        sock = os.path.join(self.dir, "shelfd.sock")
        log_path = os.path.join(self.dir, "shelfd.log")
        argv = [shelfd, "--foreground", "--print-address", "--socket", sock]
        for tree in self.config.trees:
            argv += ["--tree", os.path.normpath(tree)]
        try:
            with open(log_path, "ab") as log_file:
                proc = Subprocess(argv, stdin=subprocess.DEVNULL, stdout=Subprocess.STREAM,
                                  stderr=log_file, env=dict(os.environ), close_fds=True,
                                  preexec_fn=child_preexec)
        except OSError as exc:
            raise DaemonError(503, "daemon_unavailable",
                              "cannot run %s: %s" % (shelfd, exc.strerror or exc))
        info = {}
        deadline = time.monotonic() + self.config.start_timeout
        try:
            while "pid" not in info:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise gen.TimeoutError()
                line = await gen.with_timeout(_delta(left), proc.stdout.read_until(b"\n"))
                key, _, value = line.decode("utf-8", "replace").strip().partition("=")
                info[key] = value
        except (gen.TimeoutError, StreamClosedError):
            self.proc = proc
            self._kill()
            detail = _tail(log_path)
            raise DaemonError(503, "daemon_unavailable",
                              "shelfd did not start%s" % (": " + detail if detail else ""))
        self.socket_path = info.get("socket", sock)
        self.pid = int(info["pid"])
        self.proc = proc
        self.stdout = proc.stdout
        self._client = None
        self._context_ready = False
        self.log.info("shelf_jupyter: started shelfd (pid %d) on %s", self.pid, self.socket_path)

    def _kill(self):
        """Stops the managed process now (TERM, then KILL after 5 s)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        p = proc.proc
        if p.poll() is None:
            try:
                p.terminate()
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            except OSError:
                pass
        try:
            proc.stdout.close()
        except Exception:
            pass
        self.stdout = None

    def stop_sync(self):
        """Stops a managed daemon and removes its directory (idempotent)."""
        self._stopping = True
        if self._watch_task is not None:
            self._watch_task.cancel()
            self._watch_task = None
        if self._client is not None:
            try:
                self._client.close()
            except Exception:
                pass
            self._client = None
        if not self.managed:
            return
        if self.proc is not None:
            self.log.info("shelf_jupyter: stopping shelfd (pid %s)", self.pid)
        self._kill()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    async def ensure(self):
        """Makes sure a daemon serves and holds our context; raises DaemonError."""
        if self.alive() and self._context_ready:
            return
        async with self._lock:  # one start and one PUT context at a time
            if self.managed and not self.alive():
                if self.proc is not None:
                    self.log.warning("shelf_jupyter: shelfd (pid %s) is gone; restarting it", self.pid)
                    self._kill()
                await self._start()
            if not self._context_ready:
                await self.put_context()
        self._watch_start()

    # -------------------------------------------------------------- requests

    async def raw(self, method, path, body=None, query="", timeout=None):
        """One request to /api/v1/PATH; returns the tornado HTTPResponse.

        Raises DaemonError when the daemon is unreachable or slow. Does not
        start the daemon (see request()).
        """
        url = "%s/api/v1/%s" % (self._base_url(), path)
        if query:
            url += "?" + query
        headers = {"X-Shelf-Client": self.client_id, "Accept": "application/json"}
        headers.update(self._auth_headers())
        if body is not None:
            headers["Content-Type"] = "application/json"
        elif method in ("POST", "PUT"):
            body = b""
        timeout = timeout or self.config.request_timeout
        req = HTTPRequest(url, method=method, headers=headers, body=body,
                          request_timeout=timeout, connect_timeout=min(timeout, 10),
                          allow_nonstandard_methods=True, follow_redirects=False,
                          decompress_response=False)
        try:
            return await self._http_client().fetch(req, raise_error=False)
        except HTTPTimeoutError as exc:
            raise DaemonError(504, "daemon_timeout",
                              "shelfd did not answer %s %s within %g s (%s)"
                              % (method, path, timeout, exc.message))
        except HTTPClientError as exc:
            raise DaemonError(503, "daemon_unavailable", "shelfd: %s" % exc)
        except (OSError, StreamClosedError) as exc:
            err = DaemonError(503, "daemon_unavailable",
                              "cannot reach shelfd at %s: %s" % (self.address, _reason(exc)))
            err.connect_failed = getattr(exc, "errno", None) in (errno.ECONNREFUSED, errno.ENOENT)
            raise err

    async def request(self, method, path, body=None, query="", timeout=None):
        """Sends a request (starting or restarting the daemon as needed).

        Returns the HTTPResponse (any status shelfd gives). Raises
        DaemonError (503/504). A managed daemon that refuses the connection
        is restarted and the request is sent once more.
        """
        for attempt in (0, 1):
            try:
                await self.ensure()
                resp = await self.raw(method, path, body, query, timeout)
                self.last_error = None
                return resp
            except DaemonError as exc:
                self.last_error = exc.message
                retry = (self.managed and attempt == 0 and exc.status == 503
                         and getattr(exc, "connect_failed", False))
                if not retry:
                    if exc.status == 503 and self.managed:
                        self._context_ready = False
                    raise
                self.log.warning("shelf_jupyter: %s; restarting shelfd", exc.message)
                async with self._lock:
                    self._kill()
                self._context_ready = False

    def _share_context(self):
        """Exports where our context is to the shells started from now on."""
        if self.config.share_context and self.socket_path:
            os.environ["SHELF_CONTEXT_SOCKET"] = self.socket_path
            os.environ["SHELF_CONTEXT_CLIENT"] = self.client_id
        else:
            for name in CONTEXT_VARS:
                os.environ.pop(name, None)

    async def put_context(self):
        """PUT context with this process's os.environ; raises DaemonError."""
        self._share_context()
        env = {k: v for k, v in os.environ.items() if k not in CONTEXT_VARS}
        resp = await self.raw("PUT", "context", json.dumps({"env": env}).encode())
        if resp.code != 200:
            raise DaemonError(503, "daemon_unavailable",
                              "shelfd refused the server's environment (%d): %s"
                              % (resp.code, resp.body.decode("utf-8", "replace")[:500]))
        self._context_ready = True
        try:
            for w in json.loads(resp.body).get("warnings") or []:
                self.log.warning("shelf_jupyter: shelfd: %s", w)
        except ValueError:
            pass
        # The context as shelfd keeps it (MODULEPATH checked against the
        # trees): what later changes of the context are measured against.
        held = await self._context_env()
        self._mirror = held if held is not None else env

    async def _context_env(self, timeout=None):
        """The context's environment (without CONTEXT_VARS), or None."""
        try:
            resp = await self.raw("GET", "context", timeout=timeout)
            env = json.loads(resp.body).get("env") if resp.code == 200 else None
        except (DaemonError, ValueError) as exc:
            self.log.warning("shelf_jupyter: cannot read the context: %s", exc)
            return None
        if not isinstance(env, dict):
            return None
        return {k: v for k, v in env.items() if k not in CONTEXT_VARS and isinstance(v, str)}

    # --------------------------------------------------------- environment

    def apply_changes(self, changes):
        """Applies an action's `changes` (env, unset) to os.environ."""
        if not isinstance(changes, dict):
            return
        apply_env_changes(os.environ, changes)
        apply_env_changes(self._mirror, changes)
        if self.on_changes:
            self.on_changes(changes)

    def resync_later(self):
        """Mirrors the context's environment into os.environ soon: after an
        action timed out (once shelfd finished it), and after a `loaded`
        event (a module command in a terminal sharing the context). A call
        while a resync runs makes it read the context once more."""
        if self._resync_task is None or self._resync_task.done():
            self._resync_task = asyncio.ensure_future(self._resync_loop())
        else:
            self._resync_again = True

    async def _resync_loop(self):
        while True:
            self._resync_again = False
            await self._resync()
            if not self._resync_again or self._stopping:
                return

    async def _resync(self):
        """Applies what changed in the context since we last knew it."""
        env = await self._context_env(timeout=max(300.0, self.config.request_timeout))
        if env is None:
            return
        changes = {"env": {k: v for k, v in env.items() if self._mirror.get(k) != v},
                   "unset": [k for k in self._mirror if k not in env]}
        if changes["env"] or changes["unset"]:
            self.log.info("shelf_jupyter: applying the context's changes (%d set, %d unset)",
                          len(changes["env"]), len(changes["unset"]))
            self.apply_changes(changes)

    # --------------------------------------------------------------- events

    def _watch_start(self):
        if self.config.share_context and not self._stopping and (
                self._watch_task is None or self._watch_task.done()):
            self._watch_task = asyncio.ensure_future(self._watch())

    async def _watch(self):
        """Follows our context's `loaded` events: one that this server did
        not cause (a terminal sharing the context) changes os.environ too.
        Reconnects when the stream ends (a restarted daemon)."""
        pause = 0.5
        reconnect = False
        while not self._stopping:
            try:
                stream, conn = await self.open_events()
            except DaemonError as exc:
                self.log.debug("shelf_jupyter: event watch: %s", exc.message)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
                continue
            pause = 0.5
            if reconnect:  # changes made while no stream was open
                self.resync_later()
            reconnect = True
            try:
                await conn.read_response(_EventNames(self._on_event))
            except (StreamClosedError, OSError):
                pass
            finally:
                stream.close()
            await asyncio.sleep(pause)

    def _on_event(self, name):
        if name == "loaded":
            self.resync_later()

    async def open_events(self, query=""):
        """Opens GET /api/v1/events; returns (stream, connection, start_line, headers).

        The caller reads the body with read_events(). Raises DaemonError.
        """
        await self.ensure()
        if self.socket_path:
            host, port = UNIX_HOST, 80
            tcp = TCPClient(resolver=UnixResolver(path=self.socket_path))
        else:
            parts = urllib.parse.urlsplit(self.url)
            host, port = parts.hostname, parts.port or 80
            tcp = TCPClient()
        try:
            stream = await gen.with_timeout(_delta(self.config.request_timeout),
                                            tcp.connect(host, port))
        except gen.TimeoutError:
            raise DaemonError(504, "daemon_timeout", "shelfd did not accept the connection in time")
        except (OSError, StreamClosedError) as exc:
            self._context_ready = False
            raise DaemonError(503, "daemon_unavailable",
                              "cannot reach shelfd at %s: %s" % (self.address, _reason(exc)))
        finally:
            tcp.close()
        path = "/api/v1/events" + ("?" + query if query else "")
        headers = HTTPHeaders({"Host": host, "X-Shelf-Client": self.client_id,
                               "Accept": "text/event-stream"})
        for k, v in self._auth_headers().items():
            headers[k] = v
        conn = HTTP1Connection(stream, True, HTTP1ConnectionParameters(
            no_keep_alive=True, decompress=False, max_body_size=1 << 62, body_timeout=None))
        conn.write_headers(RequestStartLine("GET", path, "HTTP/1.1"), headers)
        conn.finish()
        return stream, conn


class EventSplitter:
    """HTTP1Connection delegate for shelfd's event stream: calls
    self.event(raw) with each whole event (its lines, without the blank line
    that ends it) of a 200 answer, and self.other_body(chunk) with the body
    of any other answer."""

    def __init__(self):
        self.status = None
        self.buf = b""

    def headers_received(self, start_line, headers):
        self.status = start_line.code

    def data_received(self, chunk):
        if self.status != 200:
            self.other_body(chunk)
            return
        self.buf += chunk.replace(b"\r\n", b"\n")
        while b"\n\n" in self.buf:
            event, self.buf = self.buf.split(b"\n\n", 1)
            self.event(event)

    def event(self, raw):
        pass

    def other_body(self, chunk):
        pass

    def finish(self):
        pass

    def on_connection_close(self):
        pass


class _EventNames(EventSplitter):
    """Calls on_event(name) for each event."""

    def __init__(self, on_event):
        super().__init__()
        self.on_event = on_event

    def event(self, raw):
        for line in raw.split(b"\n"):
            if line.startswith(b"event:"):
                self.on_event(line[6:].strip().decode("utf-8", "replace"))


def _delta(seconds):
    import datetime
    return datetime.timedelta(seconds=seconds)


def _reason(exc):
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or exc.__class__.__name__
