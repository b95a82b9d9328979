#!/bin/bash
# errors.sh -- bad input: each case gives one clear message naming the
# module, file and line where there is one, exits non-zero and leaves the
# environment exactly as it was (checked by comparing `env` before/after in
# a real bash using the init file).
. "$SHELF_SRCDIR/tests/lib.sh"

tmp=$(mktemp -d)
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
mf=$tmp/mf
mkdir -p "$mf/core/ok" "$mf/core/syntax" "$mf/core/runtime" "$mf/core/lerr" \
         "$mf/core/conf" "$mf/core/pre" "$mf/core/dangle" "$mf/core/locked/sub" \
         "$mf/core/chain" "$mf/core/tclmod"
cat >"$mf/core/ok/1.0.lua" <<'L'
setenv("OK_VAR", "ok")
prepend_path("PATH", "/opt/ok/bin")
L
printf 'setenv("S", "1")\nsetenv("S2" "2")\n' >"$mf/core/syntax/1.0.lua"
printf 'setenv("R", "1")\nlocal t\nt.x = 1\n' >"$mf/core/runtime/1.0.lua"
printf 'setenv("E", "1")\nLmodError("this build is withdrawn")\n' >"$mf/core/lerr/1.0.lua"
printf 'conflict("ok")\nsetenv("C", "1")\n' >"$mf/core/conf/1.0.lua"
printf 'prereq("ok")\nsetenv("P", "1")\n' >"$mf/core/pre/1.0.lua"
ln -s "$mf/core/dangle/missing.lua" "$mf/core/dangle/2.0.lua"
printf 'setenv("CH", "1")\nload("lerr")\n' >"$mf/core/chain/1.0.lua"
printf '#%%Module1.0\nsetenv T 1\n' >"$mf/core/tclmod/1.0"
printf 'setenv("L", "1")\n' >"$mf/core/locked/sub/1.0.lua"
chmod 000 "$mf/core/locked"

# run_case NAME EXPECTED-STDERR-REGEX SETUP COMMAND...
# Runs in a clean bash: SETUP, snapshot env, `module COMMAND`, snapshot env.
run_case() {
    local name=$1 want=$2 setup=$3; shift 3
    local out
    out=$(env -i HOME="$tmp" PATH=/usr/bin:/bin MODULEPATH="$mf/core" SHELF_CMD="$SHELF" \
        bash --norc --noprofile -c '
            . "$1/shell-init/bash"; eval "$2"; shift 2
            env | LC_ALL=C sort >"$HOME/before"
            module "$@" 2>"$HOME/stderr"; st=$?
            env | LC_ALL=C sort >"$HOME/after"
            echo "status=$st"' _ "$SHELF_SRCDIR" "$setup" "$@")
    local st=${out##*status=}
    if [ "$st" = 0 ]; then fail "$name: exits non-zero" "status 0"; else pass "$name: exits non-zero"; fi
    if cmp -s "$tmp/before" "$tmp/after"; then pass "$name: environment unchanged"
    else fail "$name: environment unchanged" "$(diff "$tmp/before" "$tmp/after")"; fi
    if tr '\n' ' ' <"$tmp/stderr" | grep -Eq "$want"; then pass "$name: message"
    else fail "$name: message" "stderr: $(cat "$tmp/stderr")" "wanted /$want/"; fi
    if grep -q "Segmentation\|Aborted\|core dumped" "$tmp/stderr"; then fail "$name: no crash"
    else pass "$name: no crash"; fi
}

run_case "syntax error" "syntax error.*syntax/1.0.lua, line 2" "" load ok syntax
run_case "runtime error" "attempt to index a nil value.*runtime/1.0.lua, line 3" "" load ok runtime
run_case "LmodError" "this build is withdrawn.*lerr/1.0.lua, line 2 \(module lerr/1.0\)" "" load lerr
run_case "LmodError two levels down" "withdrawn.*lerr/1.0.lua, line 2" "" load ok chain
run_case "unknown module" 'unknown: "nosuch"' "" load ok nosuch
run_case "two unknown modules" 'unknown: "nosuch", "nope"' "" load nosuch ok nope
run_case "conflict" 'Cannot load module "conf/1.0" because these module\(s\) are loaded:.*ok' \
    "module load ok" load conf
run_case "missing prereq" 'Cannot load module "pre/1.0" without all of these module\(s\) loaded:.*ok' "" load pre
run_case "dangling symlink" "dangle" "" load ok dangle/2.0
# An unreadable directory: root reads everything, so as root this case runs
# as nobody, with copies of the binary and init file it can reach.
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$tmp/bin" && cp "$SHELF" "$tmp/bin/shelf" && cp "$SHELF_SRCDIR/shell-init/bash" "$tmp/bin/"
    chmod 755 "$tmp" "$tmp/bin"; chmod -R a+rX "$mf/core/ok"; chmod a+rx "$mf" "$mf/core"
    mkdir -p "$tmp/home" && chmod 777 "$tmp/home"
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
        env -i HOME="$tmp/home" PATH=/usr/bin:/bin MODULEPATH="$mf/core" SHELF_CMD="$tmp/bin/shelf" \
        bash --norc --noprofile -c '. "$1"; module load ok locked/sub 2>"$HOME/stderr"
            echo "status=$? loaded=${LOADEDMODULES-unset}"' _ "$tmp/bin/bash")
    is "$out" "status=1 loaded=unset" "unreadable directory (as nobody): fails, nothing loaded"
    if grep -q 'unknown: "locked/sub"' "$tmp/home/stderr"; then pass "unreadable directory: message"
    else fail "unreadable directory: message" "$(cat "$tmp/home/stderr")"; fi
else
    run_case "unreadable directory" 'unknown: "locked/sub"' "" load ok locked/sub
fi
run_case "Tcl modulefile" "Tcl modulefile" "" load tclmod
run_case "corrupt _SHELF_ state" "corrupt.*--force purge" \
    "module load ok; export _SHELF_TABLE_001='{not json'" load ok
run_case "missing state chunk" "_SHELF_TABLE_002 is missing" \
    "module load ok; export _SHELF_TABLE_SZ=2" unload ok
run_case "MODULEPATH entry that does not exist" 'unknown: "nosuch"' \
    "export MODULEPATH=/does/not/exist:\$MODULEPATH" load ok nosuch
run_case "unknown subcommand" 'unknown subcommand "frobnicate"' "" frobnicate
run_case "load without a name" "name at least one module" "" load

# A MODULEPATH entry that does not exist is not an error by itself.
out=$(env -i HOME="$tmp" PATH=/usr/bin:/bin MODULEPATH="/does/not/exist:$mf/core" \
      "$SHELF" bash load ok 2>&1 >/dev/null; echo "status=$?")
is "${out##*status=}" 0 "missing MODULEPATH entry is skipped"

# --force purge recovers from a corrupt table.
out=$(env -i HOME="$tmp" PATH=/usr/bin:/bin MODULEPATH="$mf/core" SHELF_CMD="$SHELF" \
    bash --norc --noprofile -c '. "$1/shell-init/bash"; module load ok
        export _SHELF_TABLE_001=garbage; module --force purge 2>/dev/null
        echo "st=$? table=${_SHELF_TABLE_SZ-unset} loaded=${LOADEDMODULES-unset}"' _ "$SHELF_SRCDIR")
is "$out" "st=0 table=unset loaded=unset" "--force purge clears a corrupt table"

done_testing
