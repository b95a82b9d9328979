"""shelf_jupyter.config -- the `Shelf` configurable: every setting of the
server extension, with its default and help text.

Set them as `--Shelf.NAME=VALUE` on the command line or as `c.Shelf.NAME`
in a jupyter_server_config.py (see README.md).
"""

import getpass
import os
import re
import shutil

from traitlets import Bool, Float, List, Unicode, default
from traitlets.config import Configurable


def _user_name():
    """The login name, or "user" when it cannot be found."""
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry, no LOGNAME: a container
        return "user"


def client_id_for(name):
    """`name` made a valid X-Shelf-Client value (1-128 of A-Z a-z 0-9 . _ : @ -)."""
    cleaned = re.sub(r"[^A-Za-z0-9._:@-]", "_", name)[:128]
    return cleaned or "jupyter"


class Shelf(Configurable):
    """Settings of Shelf's Jupyter server extension (shelf_jupyter)."""

    shelfd = Unicode(
        help="""Path of the shelfd program the extension starts when `address`
        is empty. Default: $SHELFD, else `shelfd` found on PATH.""",
    ).tag(config=True)

    @default("shelfd")
    def _default_shelfd(self):
        return os.environ.get("SHELFD") or shutil.which("shelfd") or ""

    shelf = Unicode(
        help="""Path of the shelf command. Exported to kernels and terminals as
        SHELF_CMD (when that is not already set), which `import shelf` and the
        shell `module` function use. Default: $SHELF_CMD, else `shelf` beside
        shelfd, else `shelf` found on PATH.""",
    ).tag(config=True)

    @default("shelf")
    def _default_shelf(self):
        if os.environ.get("SHELF_CMD"):
            return os.environ["SHELF_CMD"]
        if self.shelfd:
            beside = os.path.join(os.path.dirname(os.path.abspath(self.shelfd)), "shelf")
            if os.path.isfile(beside) and os.access(beside, os.X_OK):
                return beside
        return shutil.which("shelf") or ""

    python_path = Unicode(
        help="""Directory holding the `shelf` Python module (the one kernels
        `import shelf` from). It is prepended to PYTHONPATH of the server
        process, so every kernel started afterwards can import it. Default:
        $SHELF_PYTHONPATH, else PREFIX/share/shelf/python for the shelf
        command PREFIX/bin/shelf, when that directory exists.""",
    ).tag(config=True)

    @default("python_path")
    def _default_python_path(self):
        if os.environ.get("SHELF_PYTHONPATH"):
            return os.environ["SHELF_PYTHONPATH"]
        if self.shelf:
            prefix = os.path.dirname(os.path.dirname(os.path.realpath(self.shelf)))
            candidate = os.path.join(prefix, "share", "shelf", "python")
            if os.path.isdir(os.path.join(candidate, "shelf")):
                return candidate
        return ""

    address = Unicode(
        "",
        help="""Address of an already running shelfd to use instead of starting
        one: `unix:/path/to/shelfd.sock` or `http://127.0.0.1:PORT` (then
        `token_file` is needed). Empty (the default): the extension starts its
        own shelfd on a private unix socket and stops it with the server.""",
    ).tag(config=True)

    token_file = Unicode(
        "",
        help="""File holding the bearer token of the shelfd given by an
        `http://` `address` (what `shelfd --listen ... --token-file FILE`
        wrote). Read again at each connection, as shelfd makes a new token
        at each start.""",
    ).tag(config=True)

    trees = List(
        Unicode(),
        help="""Module trees the extension's own shelfd serves (one --tree
        each). Default: the directories of MODULEPATH when the server
        starts.""",
    ).tag(config=True)

    @default("trees")
    def _default_trees(self):
        return [d for d in os.environ.get("MODULEPATH", "").split(":") if d]

    client_id = Unicode(
        help="""The shelfd client id (X-Shelf-Client) of this server: its
        environment context. The browser cannot choose another one.
        Default: jupyter-<user name>.""",
    ).tag(config=True)

    @default("client_id")
    def _default_client_id(self):
        return client_id_for("jupyter-" + _user_name())

    share_context = Bool(
        True,
        help="""Let the terminals and shells started by this server share its
        context: SHELF_CONTEXT_SOCKET and SHELF_CONTEXT_CLIENT are exported
        to them, and a `module load` (unload, swap, purge, restore ...) there
        is sent to shelfd as well, so the Software panel shows it and new
        kernels get it. Needs a unix-socket daemon (the managed one, or a
        `unix:` address). False: terminals change only themselves.""",
    ).tag(config=True)

    request_timeout = Float(
        30.0,
        help="""Seconds to wait for shelfd to answer a request before the
        browser gets 504 daemon_timeout.""",
    ).tag(config=True)

    start_timeout = Float(
        10.0,
        help="""Seconds to wait for a started shelfd to serve (its
        --print-address lines) before giving up with 503.""",
    ).tag(config=True)

    featured = List(
        Unicode(),
        help="""Module names the Software panel shows as Featured by default
        (given to the panel by GET /shelf/status; the panel's own settings
        may override it).""",
    ).tag(config=True)

    webapps = Bool(
        True,
        help="""Offer the web applications of loaded modules (the
        SHELF_WEBAPP_<KEY>_* variables): list them, start them on a loopback
        port and proxy them under /shelf/app/<KEY>/. False: the /shelf/webapps
        list is empty and no app is started.""",
    ).tag(config=True)

    webapp_timeout = Float(
        30.0,
        help="""Seconds a started web application has to answer GET on its
        URL before the start fails (and the app is stopped).""",
    ).tag(config=True)
