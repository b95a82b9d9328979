"""shelf_jupyter -- Shelf's Jupyter server extension, behind the JupyterLab
"Software" panel.

It starts (or finds) shelfd, proxies shelfd's API under <base_url>shelf/api/v1/
with Jupyter's own authentication (token or cookie, XSRF), and applies the
environment changes of every load, unload, swap, purge, reload and restore
to the server's os.environ, so kernels and terminals started afterwards
inherit the loaded modules. It also starts the web applications of loaded
modules (SHELF_WEBAPP_<KEY>_*) and proxies them under <base_url>shelf/app/<KEY>/.

Enable it with ``--ServerApp.jpserver_extensions='{"shelf_jupyter": True}'``
(jupyter_server 1.x and 2.x), or install
jupyter-config/jupyter_server_config.d/shelf_jupyter.json.

Settings (``--Shelf.NAME=VALUE`` or ``c.Shelf.NAME = VALUE``):

  shelfd            path of shelfd (default $SHELFD, else shelfd on PATH)
  shelf             path of the shelf command, exported as SHELF_CMD when unset
                    (default $SHELF_CMD, else shelf beside shelfd, else on PATH)
  python_path       directory of the `shelf` Python module, prepended to
                    PYTHONPATH (default $SHELF_PYTHONPATH, else
                    PREFIX/share/shelf/python)
  address           a running shelfd: unix:/path or http://127.0.0.1:PORT;
                    empty (default) = start our own on a private socket
  token_file        bearer token file for an http:// address
  trees             trees our own shelfd serves (default: MODULEPATH's dirs)
  client_id         shelfd client id (default jupyter-<user name>)
  request_timeout   seconds before a request to shelfd gives 504 (default 30)
  start_timeout     seconds shelfd has to start (default 10)
  featured          module names the panel shows as Featured (default [])
  webapps           offer the web apps of loaded modules (default True)
  webapp_timeout    seconds a web app has to answer after its start (default 30)

The endpoints are described in README.md beside this file.
"""

import os

from .config import Shelf
from .daemon import Daemon, apply_env_changes
from .handlers import handlers
from .webapps import WebApps

__version__ = "0.1.0"

__all__ = ["Shelf", "load_jupyter_server_extension", "_load_jupyter_server_extension",
           "_jupyter_server_extension_points", "_jupyter_labextension_paths"]


def _jupyter_server_extension_points():
    return [{"module": "shelf_jupyter"}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "shelf-jupyterlab"}]


class Extension:
    """The extension's state, kept in the web app's settings["shelf_jupyter"]."""

    def __init__(self, serverapp):
        self.serverapp = serverapp
        self.log = serverapp.log
        self.config = Shelf(parent=serverapp)
        self._prepare_environment()
        self.webapps = WebApps(self.config, self.log, self._icon_roots,
                               cwd=getattr(serverapp, "root_dir", None))
        self.daemon = Daemon(self.config, self.log, on_changes=self._changed)
        self.stopped = False

    def _changed(self, changes):
        self.webapps.reconcile(changes)
        self._update_kernel_restarts(changes)

    def _update_kernel_restarts(self, changes):
        """A kernel restart reuses the environment its kernel was first
        started with (jupyter_client keeps the launch arguments, and
        jupyter_server puts a copy of os.environ in them). Apply the change
        there too, so that "Restart kernel" gives the loaded set, as a new
        kernel gets it. Kernel managers that keep no such copy are left
        alone."""
        mkm = getattr(self.serverapp, "kernel_manager", None)
        for kid in list(getattr(mkm, "list_kernel_ids", lambda: [])()):
            try:
                args = getattr(mkm.get_kernel(kid), "_launch_args", None)
            except KeyError:
                continue
            env = args.get("env") if isinstance(args, dict) else None
            if isinstance(env, dict):
                apply_env_changes(env, changes)

    def _prepare_environment(self):
        """SHELF_CMD and PYTHONPATH for the kernels, and MODULEPATH without
        "." or ".." components (shelfd refuses such entries as possibly
        outside its trees), before the context is sent."""
        cfg = self.config
        mp = os.environ.get("MODULEPATH")
        if mp:
            entries = [os.path.normpath(d) if d.startswith("/") else d for d in mp.split(":") if d]
            os.environ["MODULEPATH"] = ":".join(dict.fromkeys(entries))
        if cfg.shelf and not os.environ.get("SHELF_CMD"):
            os.environ["SHELF_CMD"] = cfg.shelf
        if cfg.python_path:
            parts = [p for p in os.environ.get("PYTHONPATH", "").split(":") if p]
            if cfg.python_path not in parts:
                os.environ["PYTHONPATH"] = ":".join([cfg.python_path] + parts)

    def _icon_roots(self):
        """Directories a web app's icon may be read from: each tree and the
        directory holding it (a tree's Core/ sits beside its sw/)."""
        roots = []
        for tree in self.config.trees:
            tree = os.path.realpath(tree)
            roots += [tree, os.path.dirname(tree)]
        return [r for r in roots if r and r != "/"]

    async def start(self):
        """Starts shelfd and sends the context; failures are logged, the
        next request tries again."""
        try:
            await self.daemon.ensure()
        except Exception as exc:
            self.log.warning("shelf_jupyter: shelfd is not available yet: %s", getattr(exc, "message", exc))

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        self.webapps.stop_all()
        self.daemon.stop_sync()


def _hook_shutdown(serverapp, ext):
    """Stops shelfd and the web apps with the server (atexit is the fallback)."""
    import atexit
    atexit.register(ext.stop)
    original = getattr(serverapp, "cleanup_extensions", None)
    if original is None:
        return

    async def cleanup_extensions(*args, **kwargs):
        try:
            ext.stop()
        finally:
            result = original(*args, **kwargs)
            if hasattr(result, "__await__"):
                await result

    serverapp.cleanup_extensions = cleanup_extensions


def _load_jupyter_server_extension(serverapp):
    """Loads the extension into a running jupyter_server ServerApp."""
    ext = Extension(serverapp)
    web_app = serverapp.web_app
    web_app.settings["shelf_jupyter"] = ext
    base_url = web_app.settings.get("base_url", "/")
    web_app.add_handlers(".*$", handlers(base_url))
    _hook_shutdown(serverapp, ext)
    try:
        from tornado.ioloop import IOLoop
        IOLoop.current().add_callback(ext.start)
    except Exception:
        pass
    serverapp.log.info("shelf_jupyter: serving %sshelf/ (client %s, daemon %s)", base_url,
                       ext.daemon.client_id, ext.daemon.address or "managed")


load_jupyter_server_extension = _load_jupyter_server_extension
