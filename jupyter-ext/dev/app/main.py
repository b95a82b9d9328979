"""The development JupyterLab app: the front end built by webpack in
build/, served by Debian's jupyter_server and jupyterlab_server (Debian
packages no `jupyterlab` Python application, and PyPI is out of reach).

Started by jupyter-ext/dev/lab; Shelf's server extension (shelf_jupyter)
is always enabled. Modelled on jupyterlab/jupyterlab's examples/app/main.py.
Settings and workspaces live in $SHELF_LAB_STATE (default: a directory
under $XDG_STATE_HOME), never in the source tree.
"""
import json
import os

import jupyter_server
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyterlab_server import LabServerApp
from tornado import web, websocket

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
STATE = os.environ.get("SHELF_LAB_STATE") or os.path.join(
    os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"), "shelf", "lab")

with open(os.path.join(HERE, "..", "..", "package.json"), encoding="utf-8") as f:
    VERSION = json.load(f)["version"]


class MeHandler(APIHandler):
    """/api/me: JupyterLab 4 asks who the user is; jupyter_server 1.x has
    no such handler (2.x does)."""

    @web.authenticated
    def get(self):
        user = self.current_user
        name = str(user.get("name", "user") if isinstance(user, dict) else user or "user")
        if name in ("", "anonymous") or len(name) > 64:
            name = "user"
        self.finish(json.dumps({"identity": {
            "username": name, "name": name, "display_name": name,
            "initials": name[:1].upper(), "avatar_url": None, "color": None},
            "permissions": {}}))


class EventsHandler(JupyterHandler, websocket.WebSocketHandler):
    """/api/events/subscribe: jupyter_server 1.x has no event bus; accept
    the socket and stay silent, so JupyterLab does not log errors."""

    async def get(self, *args, **kwargs):
        if self.current_user is None:
            raise web.HTTPError(403)
        return await super().get(*args, **kwargs)

    def on_message(self, message):
        pass


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": ShelfLabApp}]


class ShelfLabApp(LabServerApp):
    name = __name__
    app_name = "JupyterLab (Shelf development app)"
    app_version = VERSION
    extension_url = "/lab"
    default_url = "/lab"
    load_other_extensions = False
    serverapp_config = {"jpserver_extensions": {"shelf_jupyter": True}}
    app_settings_dir = os.path.join(HERE, "settings")
    schemas_dir = os.path.join(BUILD, "schemas")
    static_dir = BUILD
    templates_dir = os.path.join(HERE, "templates")
    themes_dir = os.path.join(BUILD, "themes")
    user_settings_dir = os.path.join(STATE, "user-settings")
    workspaces_dir = os.path.join(STATE, "workspaces")

    def initialize_handlers(self):
        super().initialize_handlers()
        if int(jupyter_server.__version__.split(".")[0]) < 2:  # 2.x has both
            self.handlers.append((r"/api/me", MeHandler))
            self.handlers.append((r"/api/events/subscribe", EventsHandler))


if __name__ == "__main__":
    os.environ["JUPYTER_NO_CONFIG"] = "1"  # ~/.jupyter must not change the app
    ShelfLabApp.launch_instance()
