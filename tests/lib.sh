# tests/lib.sh -- TAP helpers for the shell-level tests.
# Source it, call `ok COND-EXIT-STATUS "name"` style helpers, end with `done_testing`.
# Tests print one TAP line each; automake's tap-driver counts them.

tap_n=0
tap_failed=0

# pass NAME / fail NAME [DIAGNOSTIC...]
pass() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
fail() {
    tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1))
    echo "not ok $tap_n - $1"; shift
    for line in "$@"; do printf '%s\n' "$line" | sed 's/^/# /'; done
}
# is GOT EXPECTED NAME
is() {
    if [ "$1" = "$2" ]; then pass "$3"; else fail "$3" "got:      $1" "expected: $2"; fi
}
done_testing() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

: "${SHELF:?SHELF must point at the shelf binary (make check sets it)}"
: "${SHELF_SRCDIR:?SHELF_SRCDIR must point at the source tree}"
LMOD_CMD=${LMOD_CMD:-/usr/share/lmod/lmod/libexec/lmod}
