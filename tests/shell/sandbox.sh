#!/bin/bash
# sandbox.sh -- the Lua sandbox from the outside: a modulefile that never
# ends (in Lua or in a pattern), eats memory or leaves a finalizer behind
# fails the command with a message naming the file, in `shelf`, `shelf
# index` and shelfd; pcall cannot catch LmodError, a failing load or a
# budget, so nothing is left half applied; one modulefile's changes to the
# libraries are not seen by the next; launch.lua and .modulerc.lua get the
# same policy. Small budgets (SHELF_EVAL_*) keep it fast.
. "$SHELF_SRCDIR/tests/lib.sh"

SHELFD=${SHELFD:-$SHELF_BUILDDIR/src/daemon/shelfd}
LAUNCH=$SHELF_BUILDDIR/src/launch/shelf-launch
tmp=$(mktemp -d /tmp/shelf-sandbox.XXXXXX)
daemon=""
cleanup() {
    [ -n "$daemon" ] && kill -9 "$daemon" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

mf=$tmp/mf
put() { mkdir -p "$(dirname "$mf/$1")"; printf '%b' "$2" >"$mf/$1"; }
put loop/1.0.lua 'setenv("LOOP", "1")\nlocal n = 0\nwhile true do n = n + 1 end\n'
put bomb/1.0.lua 'local s = ("a"):rep(34)\nif s:find(("a?"):rep(34) .. s) then setenv("BOMB", "1") end\n'
put mem/1.0.lua 'local t = {}\nwhile true do t[#t + 1] = ("x"):rep(1000) .. #t end\n'
put gc/1.0.lua 'setmetatable({}, {__gc = function() setenv("X", "1") end})\n'
put fail/1.0.lua 'setenv("FAILVAR", "1")\nLmodError("fail is withdrawn")\n'
put pcload/1.0.lua 'setenv("PCLOAD", "1")\nlocal ok = pcall(load, "fail")\nsetenv("AFTER", tostring(ok))\n'
put pcerr/1.0.lua 'local ok = pcall(LmodError, "boom")\nsetenv("AFTER", tostring(ok))\n'
put pcloop/1.0.lua 'local ok = pcall(function() while true do end end)\nsetenv("AFTER", tostring(ok))\n'
put pcok/1.0.lua 'local ok, e = pcall(error, "plain")\nlocal has = pcall(require, "lfs")\nsetenv("CAUGHT", tostring(ok) .. e .. tostring(has))\n'
put a/1.0.lua 'string.rep = function() return "X" end\ntable.insert = nil\ngetmetatable("").__index.upper = function() return "Y" end\nwhatis("Description: changes the libraries")\n'
put b/1.0.lua 'local v = ("ab"):rep(2) .. string.rep("c", 2) .. ("d"):upper() .. tostring(table.insert ~= nil)\nsetenv("B", v)\nwhatis("Description: " .. v)\n'
put c/1.0.lua 'getmetatable("").__index = {}\n'
put outer/1.0.lua 'load("inner")\nsetenv("OUTER", ("o"):rep(2) .. tostring(string.rep ~= nil))\n'
put inner/1.0.lua 'string.rep = nil\ngetmetatable("").__index = {}\nsetenv("INNER", "1")\n'
put nest/1.0.lua 'load("loop")\nsetenv("NEST", "1")\n'
put r/1.0.lua 'setenv("R", "1.0")\n'
put r/2.0.lua 'setenv("R", "2.0")\n'
put r/.modulerc.lua 'module_version("r/1.0", "default")\nwhile true do pcall(function() while true do end end) end\n'
put s/1.0.lua 'setenv("S", "1.0")\n'
put s/2.0.lua 'setenv("S", "2.0")\n'
put s/.modulerc.lua 'local ok, e = pcall(error, "x")\nif ok == false and e == "x" then module_version("s/1.0", "default") end\n'

small="SHELF_EVAL_INSTRUCTIONS=2000000 SHELF_EVAL_MEMORY_MB=32 SHELF_EVAL_SECONDS=20"
# sh ENV-WORDS ARGS...: shelf with a clean environment; stdout in $tmp/out,
# stderr in $tmp/err, status in $st
sh() {
    local envw=$1; shift
    # shellcheck disable=SC2086
    env -i HOME="$tmp" PATH=/usr/bin:/bin MODULEPATH="$mf" $envw \
        timeout 60 "$SHELF" bash "$@" >"$tmp/out" 2>"$tmp/err"
    st=$?
}
# refused NAME ENV-WORDS STDERR-REGEX ARGS...: exit 1, only the failure idiom
# on stdout, the message
refused() {
    local name=$1 envw=$2 want=$3; shift 3
    sh "$envw" "$@"
    if [ "$st" = 1 ] && [ "$(cat "$tmp/out")" = "false;" ] &&
       tr '\n' ' ' <"$tmp/err" | grep -Eq "$want"; then
        pass "$name"
    else
        fail "$name" "status $st" "stdout: $(cat "$tmp/out")" "stderr: $(cat "$tmp/err")" "wanted /$want/"
    fi
}
# loaded NAME ENV-WORDS WORD ARGS...: exit 0 and stdout has WORD
loaded() {
    local name=$1 envw=$2 want=$3; shift 3
    sh "$envw" "$@"
    if [ "$st" = 0 ] && grep -qF -- "$want" "$tmp/out"; then pass "$name"
    else fail "$name" "status $st" "stdout: $(cat "$tmp/out")" "stderr: $(cat "$tmp/err")" "wanted $want"; fi
}

# ---- 1. budgets --------------------------------------------------------------
refused "a modulefile that loops: stopped by its instruction budget, file and line named" "$small" \
    "instructions.*SHELF_EVAL_INSTRUCTIONS raises it.*in $mf/loop/1.0.lua, line 3 \(module loop/1.0\)" \
    load loop
refused "a loop with instructions to spare: stopped by its time budget" \
    "SHELF_EVAL_INSTRUCTIONS=999999999999 SHELF_EVAL_SECONDS=0.5" \
    "time budget \(0.5 s.*SHELF_EVAL_SECONDS raises it.*loop/1.0.lua, line 3" load loop
refused "the default budgets stop a loop too" "" "ran over.*loop/1.0.lua" load loop
refused "a modulefile that eats memory: stopped by its memory budget" "$small" \
    "memory budget \(32 MiB; SHELF_EVAL_MEMORY_MB raises it.*mem/1.0.lua, line 2" load mem
refused "a loaded module that loops stops the one loading it, naming the inner file" "$small" \
    "instructions.*loop/1.0.lua, line 3" load nest
refused "budgets are checked when shelf starts: SHELF_EVAL_SECONDS" "SHELF_EVAL_SECONDS=soon" \
    'SHELF_EVAL_SECONDS must be a number of seconds above 0.*"soon"' load a
refused "budgets are checked when shelf starts: SHELF_EVAL_MEMORY_MB" "SHELF_EVAL_MEMORY_MB=0" \
    'SHELF_EVAL_MEMORY_MB must be a whole number' list

# ---- 2. patterns the count hook never sees -------------------------------------
refused "a pattern bomb is stopped by the instruction budget" "$small" \
    "instructions.*bomb/1.0.lua, line 2" load bomb
refused "a pattern bomb is stopped by the time budget" \
    "SHELF_EVAL_INSTRUCTIONS=999999999999 SHELF_EVAL_SECONDS=0.5" \
    "time budget.*bomb/1.0.lua, line 2" load bomb

# ---- 3. finalizers ----------------------------------------------------------------
refused "a __gc metamethod is refused, not a crash (shelf load)" "$small" \
    "__gc metamethods are not allowed.*gc/1.0.lua, line 1" load gc
out=$(env -i HOME="$tmp" PATH=/usr/bin:/bin $small timeout 60 "$SHELF" index -q -o "$tmp/ix.db" "$mf" 2>&1)
st=$?
[ "$st" = 0 ] && [ -s "$tmp/ix.db" ] && pass "shelf index of a tree with a finalizer, a loop and a bomb: no crash, no hang" ||
    fail "shelf index of a tree with a finalizer, a loop and a bomb: no crash, no hang" "status $st" "$out"

# ---- 4. what pcall cannot catch -------------------------------------------------------
refused "pcall(load, ...) of a module that fails fails the command: nothing half applied" "$small" \
    "fail is withdrawn.*fail/1.0.lua, line 2" load pcload
refused "pcall(LmodError, ...) fails the command" "$small" "boom.*pcerr/1.0.lua, line 1" load pcerr
refused "pcall of a loop fails the command" "$small" "instructions.*pcloop/1.0.lua, line 1" load pcloop
loaded "pcall still catches ordinary errors (pcall(require, ...) idiom)" "$small" \
    "CAUGHT=falseplainfalse;" load pcok

# ---- 5. each modulefile sees the libraries afresh ----------------------------------------
loaded "string.rep, table.insert and the string metatable changed by a do not reach b" "$small" \
    "B=ababccDtrue" load a b
loaded "a replaced string metatable does not reach the next module" "$small" "B=ababccDtrue" load c b
loaded "a nested load has its own libraries, and the outer module keeps its own" "$small" \
    "OUTER=ootrue" load outer
python3 - "$tmp/ix.db" >"$tmp/desc" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT description FROM modules WHERE sn = 'b'").fetchone()[0])
PY
is "$(cat "$tmp/desc")" "ababccDtrue" "shelf index: b's whatis does not see a's changes"

# ---- .modulerc.lua --------------------------------------------------------------------
loaded "a .modulerc.lua that loops past pcall is stopped and ignored" "$small" "R=2.0" load r
loaded "a .modulerc.lua may use pcall" "$small" "S=1.0" load s

# ---- launch.lua -------------------------------------------------------------------------
printf 'local n = 0\nwhile true do pcall(function() while true do n = n + 1 end end) end\n' >"$tmp/loop.lua"
out=$(timeout 60 "$LAUNCH" --config "$tmp/loop.lua" --list 2>&1)
st=$?
case "$st:$out" in
1:*"$tmp/loop.lua:2: the configuration runs too long"*) pass "launch.lua: a loop past pcall is stopped, naming the file" ;;
*) fail "launch.lua: a loop past pcall is stopped, naming the file" "status $st" "$out" ;;
esac
printf 'return setmetatable({}, {__index = function() error("no") end})\n' >"$tmp/meta.lua"
out=$(timeout 60 "$LAUNCH" --config "$tmp/meta.lua" --list 2>&1)
st=$?
case "$st:$out" in
1:*"$tmp/meta.lua"*profiles*) pass "launch.lua: the returned table is read without its metamethods (no crash)" ;;
*) fail "launch.lua: the returned table is read without its metamethods (no crash)" "status $st" "$out" ;;
esac

# ---- shelfd ---------------------------------------------------------------------------------
mkdir -p "$tmp/run"
chmod 700 "$tmp/run"
rm -rf "$mf/.shelf"
out=$(env -i HOME="$tmp" PATH=/usr/bin:/bin XDG_RUNTIME_DIR="$tmp/run" MODULEPATH="$mf" $small \
      "$SHELFD" --socket "$tmp/run/s" --tree "$mf" --print-address 2>"$tmp/err")
daemon=$(printf '%s\n' "$out" | sed -n 's/^pid=//p')
code=$(curl -s --max-time 60 -o "$tmp/body" -w '%{http_code}' --unix-socket "$tmp/run/s" \
       'http://localhost/api/v1/modules?all')
desc=$(python3 -c 'import json,sys
mods = {m["name"]: m for m in json.load(open(sys.argv[1]))["modules"]}
print(mods["b"].get("description"), "gc" in mods)' "$tmp/body" 2>&1)
is "$code:$desc" "200:ababccDtrue True" \
    "shelfd's catalog of a walked tree with a finalizer, a loop and a bomb: answers, b unchanged by a"
is "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' --unix-socket "$tmp/run/s" \
      http://localhost/api/v1/health)" 200 "shelfd is still up"
code=$(curl -s --max-time 60 -o "$tmp/body" -w '%{http_code}' --unix-socket "$tmp/run/s" \
       -H 'Content-Type: application/json' -d '{"modules": ["loop"]}' http://localhost/api/v1/load)
msg=$(python3 -c 'import json,sys; e = json.load(open(sys.argv[1]))["error"]; print(e["file"], e["message"])' \
      "$tmp/body" 2>&1)
case "$code:$msg" in
4*:"$mf/loop/1.0.lua "*instructions*) pass "shelfd: loading a module that loops answers an error naming the file" ;;
*) fail "shelfd: loading a module that loops answers an error naming the file" "$code" "$msg" ;;
esac
kill -TERM "$daemon"
daemon=""
env -i PATH=/usr/bin:/bin XDG_RUNTIME_DIR="$tmp/run" SHELF_EVAL_INSTRUCTIONS=lots \
    "$SHELFD" --socket "$tmp/run/s2" --tree "$mf" --print-address >/dev/null 2>"$tmp/err"
st=$?
grep -q "SHELF_EVAL_INSTRUCTIONS must be a whole number" "$tmp/err" && [ "$st" = 2 ] &&
    pass "shelfd refuses a bad SHELF_EVAL_INSTRUCTIONS at start" ||
    fail "shelfd refuses a bad SHELF_EVAL_INSTRUCTIONS at start" "status $st" "$(cat "$tmp/err")"

done_testing
