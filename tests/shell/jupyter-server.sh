#!/bin/sh
# Tests of the Jupyter server extension (jupyter-ext/shelf_jupyter) against a
# real jupyter_server and the real shelfd on loopback: authentication and
# XSRF, the API proxy, the server's environment reaching new kernels,
# collections, events, a killed or slow daemon, web apps, shutdown.
# The checks live in jupyter-ext/tests/python/test_server_extension.py,
# which prints one TAP line per test.
. "$SHELF_SRCDIR/tests/lib.sh"
: "${SHELF_BUILDDIR:?SHELF_BUILDDIR must point at the build tree}"

# Debian's jupyter_server lives in /usr/bin/python3 (not in a pyenv python3).
PY=${SHELF_JUPYTER_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import jupyter_server, ipykernel' >/dev/null 2>&1; then
    echo "1..1"
    echo "not ok 1 - $PY has jupyter_server and ipykernel (scripts/deps installs python3-jupyter-server python3-ipykernel)"
    exit 1
fi
if [ ! -x "$SHELF_BUILDDIR/src/daemon/shelfd" ]; then
    fail "shelfd is built ($SHELF_BUILDDIR/src/daemon/shelfd)"
    done_testing
    exit 1
fi
exec "$PY" "$SHELF_SRCDIR/jupyter-ext/tests/python/test_server_extension.py" --tap
