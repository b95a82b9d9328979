#!/bin/sh
# tests/shell/export.sh -- `shelf export`: scripts that recreate the
# environment of the loaded modules (or of a collection) without shelf.
#
# For each shell (bash zsh sh=dash ksh tcsh csh fish): a clean shell loads
# modules (evaluating shelf's output for it) and runs `shelf export --format SHELL`;
# ANOTHER clean shell, with no shelf anywhere, sources the script; the two
# environments (env -0, sorted, without shelf's _SHELF_* state and the
# shells' own PWD/SHLVL/_) must be byte for byte the same, and the alias
# and the shell function of the modules must work. The modules: the sample
# tree (gcc opens a Compiler level, torch depends_on python) and a tiny
# tree of our own with nasty values (spaces, quotes, $, backquotes, !,
# newlines, UTF-8), a prepend and an append around a list that exists,
# an unsetenv, an alias and a shell function. Then: the script applied
# where PATH is different keeps that PATH's entries, and an empty MANPATH
# gets no stray ':'; python (exec, os.environ), json (structure and
# values, applied by its documented rule), preamble-python, --collection,
# -o, nothing loaded, and bad usage.
. "$SHELF_SRCDIR/tests/lib.sh"

CORE=$SHELF_SRCDIR/modulefiles/Core
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home" "$work/mf/nasty" "$work/xdg"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

cat > "$work/mf/nasty/1.0.lua" <<'EOF'
setenv("NASTY_SPACE", "a b  c")
setenv("NASTY_QUOTES", [[it's "quoted" '' "]])
setenv("NASTY_DOLLAR", [[$HOME ${PATH} $(id) `id` \ \\ !! !$ a!b]])
setenv("NASTY_NL", "line1\nline2\n")
setenv("NASTY_UTF8", "héllo wörld ✓ 日本")
prepend_path("PATH", "/opt/nasty dir/bin")
prepend_path("MYLIST", "/front")
append_path("MYLIST", "/back it's")
unsetenv("UNSET_ME")
set_alias("nal", "echo alias-ok")
set_shell_function("nfn", 'echo "fn-ok:$1"', 'echo fn-ok:$1')
EOF
MODS="gcc/12.3.0 torch nasty"

# Runs FILE in a clean SHELL: `run_in SHELL FILE [NAME=VALUE...]` (the
# assignments override the base environment).
run_in() {
    sh_=$1; f_=$2; shift 2
    case $sh_ in
        bash) set -- "$@" bash --norc --noprofile "$f_" ;;
        tcsh|csh) set -- "$@" "$sh_" -f "$f_" ;;
        fish) set -- "$@" fish --no-config "$f_" ;;
        *) set -- "$@" "$sh_" "$f_" ;;
    esac
    env -i HOME="$work/home" PATH=/usr/bin:/bin MODULEPATH="$CORE:$work/mf" \
        XDG_CONFIG_HOME="$work/xdg" UNSET_ME=bye MYLIST=/base1:/base2 "$@"
}
fmt_of() { case $1 in dash) echo sh ;; *) echo "$1" ;; esac; }

# A sorted, NUL-separated environment dump without what is not the modules'.
clean_env() { # IN OUT
    grep -zvE '^(_SHELF_[A-Za-z0-9_]*|PWD|OLDPWD|SHLVL|_|BASH_FUNC_[^=]*)=' "$1" |
        sort -z > "$2"
}
same_env() { # A B NAME
    clean_env "$1" "$work/a.env"
    clean_env "$2" "$work/b.env"
    if cmp -s "$work/a.env" "$work/b.env"; then
        pass "$3"
    else
        fail "$3" "$(diff "$(tr '\0' '\n' < "$work/a.env" > "$work/a.txt"; echo "$work/a.txt")" \
                        "$(tr '\0' '\n' < "$work/b.env" > "$work/b.txt"; echo "$work/b.txt")" |
                     head -20)"
    fi
}

# Script that loads $MODS in SHELL (shelf's own output evaluated, as the
# init files do), exports, dumps env, calls the alias and the function.
loader() { # SHELL OUTDIR
    f=$(fmt_of "$1"); d=$2
    case $1 in
        tcsh|csh) printf '%s\n' "$SHELF $f load $MODS > $d/mods.csh" 'if ($status != 0) exit 3' \
            "source $d/mods.csh" \
            "$SHELF export --format $f > $d/script" 'if ($status != 0) exit 4' \
            "env -0 > $d/env1" "nal > $d/out1" "(nfn arg) >> $d/out1" ;;
        fish) printf '%s\n' "$SHELF fish load $MODS > $d/mods.fish; or exit 3" \
            "source $d/mods.fish" \
            "$SHELF export --format $f > $d/script; or exit 4" \
            "env -0 > $d/env1" "nal > $d/out1" "nfn arg >> $d/out1" ;;
        *) printf '%s\n' 'case ${BASH_VERSION-} in ?*) shopt -s expand_aliases ;; esac' \
            "eval \"\$($SHELF $f load $MODS)\" || exit 3" \
            "$SHELF export --format $f > $d/script || exit 4" \
            "env -0 > $d/env1" "nal > $d/out1" "nfn arg >> $d/out1" ;;
    esac > "$d/load"
}
sourcer() { # SHELL OUTDIR SUFFIX
    d=$2
    case $1 in
        tcsh|csh) printf '%s\n' "source $d/script" "env -0 > $d/env$3" "nal > $d/out$3" \
            "(nfn arg) >> $d/out$3" ;;  # an alias using !:1 drops a redirection
        fish) printf '%s\n' "source $d/script" "env -0 > $d/env$3" "nal > $d/out$3" \
            "nfn arg >> $d/out$3" ;;
        *) printf '%s\n' 'case ${BASH_VERSION-} in ?*) shopt -s expand_aliases ;; esac' \
            ". $d/script" "env -0 > $d/env$3" "nal > $d/out$3" "nfn arg >> $d/out$3" ;;
    esac > "$d/src$3"
}
syntax_ok() { # SHELL FILE
    case $1 in
        tcsh|csh) return 0 ;; # no -n: running it is the check
        fish) fish --no-config -n "$2" ;;
        *) "$1" -n "$2" ;;
    esac
}

for sh in bash zsh dash ksh tcsh csh fish; do
    d=$work/$sh; mkdir -p "$d"
    if ! command -v "$sh" >/dev/null 2>&1; then
        fail "$sh: installed"; continue
    fi
    loader "$sh" "$d"
    run_in "$sh" "$d/load" > "$d/stdout" 2> "$d/stderr"
    st=$?
    if [ "$st" -ne 0 ]; then
        fail "$sh: load and export (status $st)" "$(head -c 600 "$d/stderr")"; continue
    fi
    pass "$sh: load and export"
    if syntax_ok "$sh" "$d/script" 2> "$d/syntax"; then pass "$sh: script parses"
    else fail "$sh: script parses" "$(head -5 "$d/syntax")"; fi
    head -1 "$d/script" | grep -q "^# Module environment for $(fmt_of "$sh"), generated by shelf " &&
        grep -q '^#   torch/2.2.0$' "$d/script" && grep -q '^#   gcc/12.3.0$' "$d/script" &&
        ! grep -q _SHELF_ "$d/script"
    is "$?" 0 "$sh: header names shelf and the modules; no _SHELF_ variable"

    sourcer "$sh" "$d" 2
    run_in "$sh" "$d/src2" > "$d/stdout2" 2> "$d/stderr2"
    is "$?" 0 "$sh: script sources without shelf"
    same_env "$d/env1" "$d/env2" "$sh: same environment as the loading shell"
    # (fish runs the sh body as it is: no $1 there)
    want="alias-ok
fn-ok:arg"
    [ "$sh" = fish ] && want="alias-ok
fn-ok:"
    is "$(cat "$d/out2")" "$want" "$sh: alias and shell function work"
    is "$(cat "$d/out2")" "$(cat "$d/out1")" "$sh: alias and function as in the loading shell"

    # Another PATH and an empty MANPATH where the script runs.
    sourcer "$sh" "$d" 3
    run_in "$sh" "$d/src3" PATH=/custom/bin:/usr/bin:/bin MANPATH= > /dev/null 2>&1
    got_path=$(tr '\0' '\n' < "$d/env3" | sed -n 's/^PATH=//p')
    loaded_path=$(tr '\0' '\n' < "$d/env1" | sed -n 's/^PATH=//p')
    is "$got_path" "${loaded_path%:/usr/bin:/bin}:/custom/bin:/usr/bin:/bin" \
        "$sh: modules' entries go before the PATH found at run time"
    is "$(tr '\0' '\n' < "$d/env3" | sed -n 's/^MANPATH=//p')" \
        "$(tr '\0' '\n' < "$d/env1" | sed -n 's/^MANPATH=//p')" \
        "$sh: empty MANPATH at run time: the entries alone, no stray ':'"
done

# ---- python ------------------------------------------------------------------
d=$work/python; mkdir -p "$d"
loader bash "$d"
sed -i "s/--format bash/--format python/" "$d/load"
run_in bash "$d/load" > /dev/null 2> "$d/stderr"
is "$?" 0 "python: load and export"
$PY -c "compile(open('$d/script').read(), 'script', 'exec')" 2> "$d/err"
is "$?" 0 "python: script compiles"
cat > "$d/run.py" <<EOF
import os
exec(open("$d/script").read())
with open("$d/env2", "wb") as f:
    for k, v in os.environb.items():
        if k == b"LC_CTYPE":  # set by Python's own locale coercion
            continue
        f.write(k + b"=" + v + b"\0")
EOF
env -i HOME="$work/home" PATH=/usr/bin:/bin MODULEPATH="$CORE:$work/mf" \
    XDG_CONFIG_HOME="$work/xdg" UNSET_ME=bye MYLIST=/base1:/base2 $PY "$d/run.py" 2> "$d/err"
is "$?" 0 "python: exec in a clean interpreter"
same_env "$d/env1" "$d/env2" "python: os.environ as in the loading shell"

# ---- json --------------------------------------------------------------------
d=$work/json; mkdir -p "$d"
loader bash "$d"
sed -i "s/--format bash/--format json/" "$d/load"
run_in bash "$d/load" > /dev/null 2> "$d/stderr"
is "$?" 0 "json: load and export"
cat > "$d/check.py" <<EOF
import json, os, sys
doc = json.load(open("$d/script", encoding="utf-8"))
want = {}
for item in open("$d/env1", "rb").read().split(b"\0"):
    if item:
        k, _, v = item.partition(b"=")
        want[os.fsdecode(k)] = os.fsdecode(v)
assert doc["format"] == 1, doc["format"]
assert doc["generator"].startswith("shelf "), doc["generator"]
assert doc["collection"] is None
assert doc["modules"] == want["LOADEDMODULES"].split(":"), doc["modules"]
assert set(doc) == {"format", "generator", "created", "collection", "modules", "set",
                    "prepend", "append", "unset", "aliases", "functions"}, sorted(doc)
assert doc["unset"] == ["UNSET_ME"], doc["unset"]
assert doc["aliases"] == {"nal": "echo alias-ok"}, doc["aliases"]
assert doc["functions"] == {"nfn": {"sh": 'echo "fn-ok:\$1"', "csh": 'echo fn-ok:\$1'}}
assert doc["prepend"]["MYLIST"] == ["/front"] and doc["append"]["MYLIST"] == ["/back it's"]
assert not any(k.startswith("_SHELF_") for part in ("set", "prepend", "append")
               for k in doc[part])
# Apply it by the documented rule to the starting environment.
env = {"HOME": "$work/home", "PATH": "/usr/bin:/bin", "MODULEPATH": "$CORE:$work/mf",
       "XDG_CONFIG_HOME": "$work/xdg", "UNSET_ME": "bye", "MYLIST": "/base1:/base2"}
env.update(doc["set"])
for name in set(doc["prepend"]) | set(doc["append"]):
    now = env.get(name, "")
    env[name] = ":".join(doc["prepend"].get(name, []) + ([now] if now else [])
                         + doc["append"].get(name, []))
for name in doc["unset"]:
    env.pop(name, None)
for k in list(want):
    if k.startswith("_SHELF_") or k in ("PWD", "OLDPWD", "SHLVL", "_") \
            or k.startswith("BASH_FUNC_"):
        del want[k]
if env != want:
    for k in sorted(set(env) | set(want)):
        if env.get(k) != want.get(k):
            print("differs:", k, repr(env.get(k)), repr(want.get(k)))
    sys.exit(1)
EOF
$PY "$d/check.py" > "$d/out" 2>&1
st=$?
is "$st" 0 "json: structure, and applied by its rule it gives the loaded environment"
[ "$st" -eq 0 ] || sed 's/^/# /' "$d/out" | head -20

# ---- preamble-python -----------------------------------------------------------
d=$work/pre; mkdir -p "$d"
loader bash "$d"
sed -i "s/--format bash/--format preamble-python/" "$d/load"
run_in bash "$d/load" > /dev/null 2> "$d/stderr"
is "$?" 0 "preamble-python: load and export"
$PY -c "compile(open('$d/script').read(), 'preamble', 'exec')"
is "$?" 0 "preamble-python: compiles"
grep -q '^shelf.load("gcc/12.3.0", "python/3.11.8", "torch/2.2.0", "nasty/1.0")$' "$d/script"
is "$?" 0 "preamble-python: loads every module at its version, in load order"
is "$(grep -cv '^#' "$d/script")" 3 "preamble-python: three lines of code"
if grep -q '^def load' "$SHELF_SRCDIR/python/shelf/__init__.py" 2>/dev/null; then
    printf '%s\n' "exec(open('$d/script').read())" 'import os' \
        'print(os.environ.get("LOADEDMODULES"))' > "$d/run.py"
    got=$(env -i HOME="$work/home" PATH=/usr/bin:/bin \
        MODULEPATH="$CORE:$work/mf" PYTHONPATH="$SHELF_SRCDIR/python" SHELF_CMD="$SHELF" \
        $PY "$d/run.py" 2> "$d/err")
    is "$got" "$(tr '\0' '\n' < "$d/env1" | sed -n 's/^LOADEDMODULES=//p')" \
        "preamble-python: the Python module loads the same modules"
else
    fail "preamble-python: the Python module loads the same modules" \
        "python/shelf/__init__.py has no load() yet"
fi

# ---- nothing loaded ----------------------------------------------------------------
d=$work/none; mkdir -p "$d"
printf '%s\n' "$SHELF export --format bash > $d/script 2> $d/err || exit 4" \
    "env -0 > $d/env1" > "$d/load"
run_in bash "$d/load"
is "$?" 0 "nothing loaded: exit 0"
grep -q '^# No modules are loaded' "$d/script" && grep -q 'no modules are loaded' "$d/err" &&
    [ -z "$(grep -v '^#' "$d/script")" ]
is "$?" 0 "nothing loaded: the script says so and holds no code; a note on stderr"
bash -n "$d/script"
is "$?" 0 "nothing loaded: the script parses"

# ---- -o FILE ------------------------------------------------------------------------
d=$work/out; mkdir -p "$d"
printf '%s\n' "eval \"\$($SHELF bash load gcc/12.3.0)\" || exit 3" \
    "$SHELF export --format sh -o $d/env.sh > $d/stdout 2> $d/stderr || exit 4" \
    "$SHELF export --format sh -o $d/nodir/env.sh > $d/stdout2 2> $d/stderr2; echo \$? > $d/st2" \
    > "$d/load"
run_in bash "$d/load"
is "$?" 0 "-o: exit 0"
[ -s "$d/env.sh" ] && [ ! -s "$d/stdout" ] && grep -q "$d/env.sh" "$d/stderr" &&
    [ -z "$(ls "$d" | grep 'env\.sh\.')" ] && sh -n "$d/env.sh"
is "$?" 0 "-o: the file is written, nothing on stdout, stderr says where, no temp file left"
is "$(cat "$d/st2")" 1 "-o into a missing directory: exit 1"
[ ! -s "$d/stdout2" ] && grep -q '^shelf: error: ' "$d/stderr2"
is "$?" 0 "-o into a missing directory: error on stderr, nothing on stdout"

# ---- --collection -------------------------------------------------------------------
d=$work/coll; mkdir -p "$d"
printf '%s\n' "eval \"\$($SHELF bash load $MODS)\" || exit 3" \
    "eval \"\$($SHELF bash save c1)\" || exit 5" \
    > "$d/save"
run_in bash "$d/save" > /dev/null 2> "$d/save.err"
st=$?
is "$st" 0 "collection: save c1"
if [ "$st" -eq 0 ]; then
    # restore c1 in a clean shell; export c1 in another (with other modules
    # loaded: they must not matter) and source it in a third.
    printf '%s\n' 'shopt -s expand_aliases' "eval \"\$($SHELF bash restore c1)\" || exit 3" \
        "env -0 > $d/env1" "nal > $d/out1" "nfn arg >> $d/out1" > "$d/restore"
    run_in bash "$d/restore" > /dev/null 2> "$d/restore.err"
    is "$?" 0 "collection: restore c1"
    printf '%s\n' "eval \"\$($SHELF bash load python/3.12.2)\" || exit 3" \
        "$SHELF export --collection c1 --format bash > $d/script || exit 4" > "$d/export"
    run_in bash "$d/export" > /dev/null 2> "$d/export.err"
    is "$?" 0 "collection: export --collection c1"
    grep -q '^# Collection: c1$' "$d/script"
    is "$?" 0 "collection: the header names it"
    printf '%s\n' 'shopt -s expand_aliases' ". $d/script" "env -0 > $d/env2" \
        "nal > $d/out2" "nfn arg >> $d/out2" > "$d/src"
    run_in bash "$d/src" > /dev/null 2>&1
    same_env "$d/env1" "$d/env2" "collection: same environment as restoring it"
    is "$(cat "$d/out2")" "$(cat "$d/out1")" "collection: alias and function as restored"
else
    sed 's/^/# /' "$d/save.err" | head -5
fi
printf '%s\n' "$SHELF export --collection nosuch --format bash > $d/o 2> $d/e; echo \$? > $d/st" \
    > "$d/bad"
run_in bash "$d/bad"
is "$(cat "$d/st")" 1 "collection: unknown name: exit 1"
[ ! -s "$d/o" ] && grep -q '^shelf: error: .*nosuch' "$d/e"
is "$?" 0 "collection: unknown name: error names it, nothing on stdout"

# ---- bad usage ------------------------------------------------------------------------
usage_case() { # NAME ARGS...
    n_=$1; shift
    "$SHELF" export "$@" > "$work/u.out" 2> "$work/u.err"
    st_=$?
    if [ "$st_" -eq 2 ] && [ ! -s "$work/u.out" ] && grep -q '^shelf: error: ' "$work/u.err"; then
        pass "usage: $n_"
    else
        fail "usage: $n_" "status $st_" "stdout: $(head -c 200 "$work/u.out")" \
            "stderr: $(head -c 200 "$work/u.err")"
    fi
}
usage_case "no --format"
usage_case "unknown format" --format perl
usage_case "--format without a value" --format
usage_case "extra argument" --format bash extra
usage_case "unknown option" --format bash --frobnicate
usage_case "collection name with /" --format bash --collection a/b
usage_case "collection name with a leading dot" --format bash --collection .hidden
usage_case "--format twice" --format bash --format zsh
"$SHELF" export --help > "$work/h.out" 2> "$work/h.err"
st=$?
[ "$st" -eq 0 ] && grep -q '^usage: shelf export' "$work/h.out" &&
    grep -q 'preamble-python' "$work/h.out" && [ ! -s "$work/h.err" ]
is "$?" 0 "--help: usage and formats on stdout, exit 0"

done_testing
