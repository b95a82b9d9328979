#!/bin/sh
# API tests of shelfd: every endpoint of /api/v1/ against the real daemon
# on a temporary unix socket (and against tests/daemon/api_driver, which
# calls api_handle() without HTTP, when it is built). The checks live in
# tests/daemon/api_test.py, which prints TAP.
: "${SHELF:?SHELF must point at the shelf binary (make check sets it)}"
: "${SHELF_SRCDIR:?SHELF_SRCDIR must point at the source tree}"
: "${SHELF_BUILDDIR:?SHELF_BUILDDIR must point at the build tree}"

if ! command -v python3 >/dev/null 2>&1; then
    printf '1..1\nnot ok 1 - python3 is installed (scripts/deps installs it)\n'
    exit 1
fi
set --
[ -x "$SHELF_BUILDDIR/src/daemon/shelfd" ] && set -- "$@" --daemon "$SHELF_BUILDDIR/src/daemon/shelfd"
[ -x "$SHELF_BUILDDIR/tests/daemon/api_driver" ] && set -- "$@" --driver "$SHELF_BUILDDIR/tests/daemon/api_driver"
if [ $# -ne 4 ]; then
    printf '1..1\nnot ok 1 - shelfd and tests/daemon/api_driver are built (make check builds both)\n'
    exit 1
fi
exec python3 "$SHELF_SRCDIR/tests/daemon/api_test.py" "$@"
