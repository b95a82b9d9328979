"""shelf_jupyter.handlers -- the HTTP endpoints under <base_url>shelf/.

Every handler requires Jupyter's authentication (token or login cookie) and,
for the API's POST/PUT/DELETE, its XSRF check. Errors are JSON documents in
shelfd's shape, {"error": {"code", "message", "module", "file", "line"}},
never HTML pages. The endpoints are listed in README.md.
"""

import json
import urllib.parse

from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.httpclient import HTTPRequest
from tornado.httputil import responses
from tornado.ioloop import PeriodicCallback
from tornado.iostream import StreamClosedError
from tornado.routing import PathMatches, Rule
from tornado.simple_httpclient import SimpleAsyncHTTPClient
from tornado.websocket import WebSocketClosedError, WebSocketHandler, websocket_connect

from .daemon import ACTIONS, DaemonError, EventSplitter
from .webapps import WebAppError

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 413: "too_large", 500: "internal",
          502: "bad_gateway", 503: "daemon_unavailable", 504: "daemon_timeout"}

HOP_BY_HOP = frozenset(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "te", "trailer", "trailers", "transfer-encoding", "upgrade"])

HEARTBEAT_MS = 15000


def error_doc(code, message):
    return {"error": {"code": code, "message": message, "module": None, "file": None, "line": None}}


def strip_client(query):
    """The query string without `client` parameters (the context is ours)."""
    if not query:
        return ""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return urllib.parse.urlencode([(k, v) for k, v in pairs if k != "client"])


class JsonErrors:
    """Mixin: errors as JSON documents, access to the extension's state."""

    @property
    def shelf(self):
        return self.settings["shelf_jupyter"]

    def write_error(self, status_code, **kwargs):
        message = responses.get(status_code, "Unknown HTTP Error")
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        if isinstance(exc, web.HTTPError):
            if exc.log_message:
                try:
                    message = exc.log_message % exc.args
                except (TypeError, ValueError):
                    message = exc.log_message
        elif exc is not None:
            self.log.error("shelf_jupyter: %s", exc, exc_info=kwargs.get("exc_info"))
            message = "internal error: %s" % exc
        self.clear_header("Content-Encoding")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(error_doc(_CODES.get(status_code, "error"), message)))

    def send_error_doc(self, status, code, message):
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(error_doc(code, message)))

    def raw_rest(self, prefix):
        """The request's path (still percent-encoded) after base_url + prefix."""
        full = url_path_join(self.base_url, prefix)
        path = self.request.path
        return path[len(full):] if path.startswith(full) else ""


class ShelfHandler(JsonErrors, APIHandler):
    """Base of the JSON endpoints."""


class ApiProxyHandler(ShelfHandler):
    """/shelf/api/v1/<path>: shelfd's API under this server's context."""

    async def _proxy(self, method):
        rest = self.raw_rest("shelf/api/v1/")
        if method == "PUT" and rest.strip("/") == "context":
            return self.send_error_doc(403, "forbidden",
                                       "the context of this server is its own environment; it cannot be replaced")
        body = self.request.body if method in ("POST", "PUT", "DELETE") and self.request.body else None
        daemon = self.shelf.daemon
        try:
            resp = await daemon.request(method, rest, body, strip_client(self.request.query))
        except DaemonError as exc:
            if exc.code == "daemon_timeout" and method == "POST" and rest in ACTIONS:
                daemon.resync_later()
            return self.send_error_doc(exc.status, exc.code, exc.message)
        if method == "POST" and rest in ACTIONS and resp.code == 200:
            try:
                daemon.apply_changes(json.loads(resp.body).get("changes"))
            except ValueError:
                self.log.warning("shelf_jupyter: shelfd's answer to %s is not JSON", rest)
        self.set_status(resp.code, resp.reason if resp.code not in responses else None)
        self.set_header("Content-Type", resp.headers.get("Content-Type", "application/json"))
        if "Allow" in resp.headers:
            self.set_header("Allow", resp.headers["Allow"])
        self.finish(resp.body or b"")

    @web.authenticated
    async def _any(self, path):
        await self._proxy(self.request.method)

    # tornado dispatches on the method's name; every one proxies alike.
    get = post = put = delete = _any


class _EventRelay(EventSplitter):
    """Forwards whole events to the browser."""

    def __init__(self, handler):
        super().__init__()
        self.handler = handler
        self.error_body = b""

    def headers_received(self, start_line, headers):
        super().headers_received(start_line, headers)
        if self.status == 200:
            h = self.handler
            h.set_header("Content-Type", "text/event-stream; charset=utf-8")
            h.set_header("Cache-Control", "no-cache")
            h.set_header("X-Accel-Buffering", "no")
            h.started = True
            h.flush()

    def event(self, raw):
        self.handler.send_chunk(raw + b"\n\n")

    def other_body(self, chunk):
        self.error_body += chunk


class EventsHandler(ShelfHandler):
    """/shelf/api/v1/events: shelfd's server-sent events, relayed."""

    upstream = None
    started = False
    gone = False

    def send_chunk(self, data):
        if self.gone:
            return
        try:
            self.write(data)
            self.flush()
        except StreamClosedError:
            self.on_connection_close()

    def _heartbeat(self):
        if self.started:
            self.send_chunk(b": shelf-jupyter keep-alive\n\n")

    def on_connection_close(self):
        self.gone = True
        if self.upstream is not None:
            self.upstream.close()

    @web.authenticated
    async def get(self):
        try:
            stream, conn = await self.shelf.daemon.open_events(strip_client(self.request.query))
        except DaemonError as exc:
            return self.send_error_doc(exc.status, exc.code, exc.message)
        self.upstream = stream
        if self.gone:
            stream.close()
            return
        relay = _EventRelay(self)
        beat = PeriodicCallback(self._heartbeat, HEARTBEAT_MS)
        beat.start()
        try:
            await conn.read_response(relay)
        except (StreamClosedError, OSError):
            pass
        finally:
            beat.stop()
            stream.close()
        if self.gone:
            return
        if not self.started:
            if relay.status:
                self.set_status(relay.status)
                self.set_header("Content-Type", "application/json")
                return self.finish(relay.error_body)
            return self.send_error_doc(503, "daemon_unavailable", "shelfd closed the event stream")
        try:
            self.finish()
        except StreamClosedError:
            pass


class StatusHandler(ShelfHandler):
    """/shelf/status: the daemon's state and the panel's settings."""

    @web.authenticated
    async def get(self):
        ext = self.shelf
        daemon = ext.daemon
        version, error, ok = None, None, False
        try:
            resp = await daemon.request("GET", "version")
            if resp.code == 200:
                version = json.loads(resp.body)
                ok = True
            else:
                error = "shelfd answered %d" % resp.code
        except DaemonError as exc:
            error = exc.message
        except ValueError:
            error = "shelfd's version is not JSON"
        self.finish(json.dumps({
            "daemon": {"ok": ok, "address": daemon.address, "managed": daemon.managed,
                       "pid": daemon.pid if daemon.managed and daemon.alive() else None,
                       "error": error},
            "client": daemon.client_id,
            "featured": list(ext.config.featured),
            "python_path": ext.config.python_path,
            "shelf": ext.config.shelf,
            "webapps": bool(ext.config.webapps),
            "version": version,
        }))


class WebAppsHandler(ShelfHandler):
    """/shelf/webapps: the web apps of the loaded modules."""

    @web.authenticated
    def get(self):
        self.finish(json.dumps({"webapps": self.shelf.webapps.listing(self.base_url)}))


class WebAppActionHandler(ShelfHandler):
    """/shelf/webapps/<KEY>/(start|stop)."""

    @web.authenticated
    async def post(self, key, action):
        apps = self.shelf.webapps
        if action == "stop":
            return self.finish(json.dumps({"key": key, "stopped": apps.stop(key)}))
        try:
            app = await apps.start(key)
        except WebAppError as exc:
            return self.send_error_doc(exc.status, exc.code, exc.message)
        url = "%sshelf/app/%s%s" % (self.base_url, key, app.url)
        self.finish(json.dumps({"key": key, "url": url, "port": app.port}))


class WebAppProxyHandler(JsonErrors, JupyterHandler):
    """/shelf/app/<KEY>/<path>: HTTP reverse proxy to a started web app.

    XSRF checks are left to the app (as jupyter-server-proxy does): its own
    forms cannot know Jupyter's _xsrf value. Authentication still applies.
    WebSocket upgrades go to WebAppWebSocketHandler.
    """

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
    _client = None

    def check_xsrf_cookie(self):
        return

    @classmethod
    def client(cls):
        if cls._client is None:
            cls._client = SimpleAsyncHTTPClient(force_instance=True, max_clients=64)
        return cls._client

    async def _proxy(self, key, rest):
        prefix = "%sshelf/app/%s" % (self.base_url, key)
        if rest is None:  # /shelf/app/KEY: the app's pages need the slash
            return self.redirect(prefix + "/" + ("?" + self.request.query if self.request.query else ""))
        try:
            port = await self.shelf.webapps.port(key)
        except WebAppError as exc:
            return self.send_error_doc(exc.status, exc.code, exc.message)
        raw = self.raw_rest("shelf/app/%s" % key) or "/"
        url = "http://127.0.0.1:%d%s" % (port, raw)
        if self.request.query:
            url += "?" + self.request.query
        headers = {}
        conn_tokens = {t.strip().lower() for t in self.request.headers.get("Connection", "").split(",")}
        for name, value in self.request.headers.get_all():
            low = name.lower()
            if low in HOP_BY_HOP or low in conn_tokens or low == "content-length":
                continue
            headers[name] = value if name not in headers else headers[name] + ", " + value
        headers["X-Forwarded-Prefix"] = prefix
        headers["X-Forwarded-Proto"] = self.request.protocol
        headers["X-Forwarded-Host"] = self.request.host
        method = self.request.method
        body = self.request.body if method in ("POST", "PUT", "PATCH", "DELETE") else None
        if method in ("POST", "PUT", "PATCH") and body is None:
            body = b""
        req = HTTPRequest(url, method=method, headers=headers, body=body,
                          follow_redirects=False, decompress_response=False,
                          allow_nonstandard_methods=True, request_timeout=300, connect_timeout=10)
        try:
            resp = await self.client().fetch(req, raise_error=False)
        except Exception as exc:
            return self.send_error_doc(502, "bad_gateway", "web app %s: %s" % (key, exc))
        if resp.code == 599:
            return self.send_error_doc(502, "bad_gateway", "web app %s: %s" % (key, resp.error))
        self.set_status(resp.code, resp.reason if resp.code not in responses else None)
        self.clear_header("Content-Type")
        origin = "http://127.0.0.1:%d" % port
        seen = set()
        for name, value in resp.headers.get_all():
            low = name.lower()
            if low in HOP_BY_HOP or low == "content-length":
                continue
            if low == "location" and value.startswith(origin):
                value = prefix + value[len(origin):]
            elif low == "location" and value.startswith("/") and not value.startswith("//"):
                value = prefix + value
            if low in seen:
                self.add_header(name, value)  # Set-Cookie and other repeated headers
            else:
                self.set_header(name, value)  # replaces the server's own Date, Server, CSP
                seen.add(low)
        if method != "HEAD" and resp.code not in (204, 304) and resp.body:
            self.write(resp.body)
        self.finish()

    @web.authenticated
    async def _any(self, key, rest=None):
        await self._proxy(key, rest)

    # tornado dispatches on the method's name; every one proxies alike.
    get = head = post = put = delete = patch = options = _any


class WebAppWebSocketHandler(JsonErrors, JupyterHandler, WebSocketHandler):
    """/shelf/app/<KEY>/<path> with Upgrade: websocket: relays messages both
    ways between the browser and ws://127.0.0.1:<port>/<path>.

    Jupyter's authentication and Origin check (check_origin) apply.
    """

    upstream = None
    closed = False

    async def get(self, key, rest=None):
        if self.current_user is None:
            raise web.HTTPError(403)
        try:
            port = await self.shelf.webapps.port(key)
        except WebAppError as exc:
            raise web.HTTPError(exc.status, exc.message)
        url = "ws://127.0.0.1:%d%s" % (port, self.raw_rest("shelf/app/%s" % key) or "/")
        if self.request.query:
            url += "?" + self.request.query
        headers = {}
        for name in ("Cookie", "User-Agent", "Accept-Language"):
            if name in self.request.headers:
                headers[name] = self.request.headers[name]
        headers["X-Forwarded-Prefix"] = "%sshelf/app/%s" % (self.base_url, key)
        protocols = [p.strip() for p in self.request.headers.get("Sec-WebSocket-Protocol", "").split(",")
                     if p.strip()]
        try:
            self.upstream = await websocket_connect(
                HTTPRequest(url, headers=headers, connect_timeout=10, request_timeout=30),
                on_message_callback=self._from_app, subprotocols=protocols or None)
        except Exception as exc:
            raise web.HTTPError(502, "web app %s: %s" % (key, exc))
        await WebSocketHandler.get(self, key, rest)

    def select_subprotocol(self, subprotocols):
        chosen = self.upstream.selected_subprotocol if self.upstream else None
        return chosen if chosen in subprotocols else None

    def _from_app(self, message):
        if message is None:  # the app closed
            if not self.closed:
                self.close()
            return
        try:
            self.write_message(message, binary=isinstance(message, bytes))
        except WebSocketClosedError:
            self.upstream.close()

    def on_message(self, message):
        if self.upstream is not None:
            try:
                self.upstream.write_message(message, binary=isinstance(message, bytes))
            except WebSocketClosedError:
                self.close()

    def on_close(self):
        self.closed = True
        if self.upstream is not None:
            self.upstream.close()


class _WebSocketUpgrade(PathMatches):
    """Matches the path only for requests asking for a websocket."""

    def match(self, request):
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return None
        return super().match(request)


def handlers(base_url):
    """The (pattern, handler) list to add to the server's web app."""
    def u(p):
        return url_path_join(base_url, p)
    return [
        (u(r"/shelf/api/v1/events"), EventsHandler),
        (u(r"/shelf/api/v1/(.*)"), ApiProxyHandler),
        (u(r"/shelf/status"), StatusHandler),
        (u(r"/shelf/webapps"), WebAppsHandler),
        (u(r"/shelf/webapps/([A-Z0-9_]+)/(start|stop)"), WebAppActionHandler),
        Rule(_WebSocketUpgrade(u(r"/shelf/app/([A-Z0-9_]+)(/.*)?")), WebAppWebSocketHandler),
        (u(r"/shelf/app/([A-Z0-9_]+)(/.*)?"), WebAppProxyHandler),
    ]
