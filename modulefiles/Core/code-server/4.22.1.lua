-- code-server 4.22.1: VS Code in the browser (sample build).
--
-- A web application. It follows the tree's web-app convention, read by the
-- JupyterLab launcher (a tile per loaded web app) and by `shelf launch`:
--
--   SHELF_WEBAPP_<NAME>_CMD    command line that starts the app; the launcher
--                              replaces "{port}" with a free TCP port it
--                              chose, and the app must serve HTTP on
--                              127.0.0.1:{port} (loopback only: the launcher
--                              proxies it). Use absolute paths.
--   SHELF_WEBAPP_<NAME>_TITLE  the tile's label.
--   SHELF_WEBAPP_<NAME>_ICON   an SVG file for the tile (optional).
--   SHELF_WEBAPP_<NAME>_URL    path to open once the app answers (default "/").
--
-- <NAME> is the module name in upper case with every character other than
-- a letter or digit turned into "_": code-server -> CODE_SERVER.
-- The launcher waits until GET {URL} on the port answers before opening it.

help([[
code-server 4.22.1: Visual Studio Code in the browser (sample build).

Puts code-server on PATH. In JupyterLab, loading this module adds a
"VS Code" tile to the launcher. From a shell:

    code-server --auth none --bind-addr 127.0.0.1:8080 DIR

or the shell function "code-server-here [PORT]", which opens the current
directory on 127.0.0.1:PORT (default 8080).
]])

whatis("Name: code-server")
whatis("Version: 4.22.1")
whatis("Description: Visual Studio Code in the browser, as a web application")
whatis("Category: Tools, Development, Web application")
whatis("Keywords: editor, IDE, vscode, web, jupyter")
whatis("URL: https://github.com/coder/code-server")

-- This file is <tree>/Core/code-server/<version>.lua: <tree>/sw holds the software.
local tree   = myFileName():match("^(.*)/Core/[^/]+/[^/]+%.lua$")
local prefix = pathJoin(tree, "sw", "code-server", myModuleVersion())
local exe    = pathJoin(prefix, "bin", "code-server")

prepend_path("PATH", pathJoin(prefix, "bin"))

setenv("SHELF_WEBAPP_CODE_SERVER_CMD",
       exe .. " --auth none --disable-telemetry --bind-addr 127.0.0.1:{port}")
setenv("SHELF_WEBAPP_CODE_SERVER_TITLE", "VS Code")
setenv("SHELF_WEBAPP_CODE_SERVER_ICON", pathJoin(prefix, "share/icons/code-server.svg"))
setenv("SHELF_WEBAPP_CODE_SERVER_URL", "/")

set_shell_function("code-server-here",
    'code-server --auth none --bind-addr "127.0.0.1:${1:-8080}" "$PWD"',
    'code-server --auth none --bind-addr "127.0.0.1:8080" "$cwd"')
