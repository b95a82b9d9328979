#!/bin/sh
# tests/shell/python.sh -- the Python module `shelf` (python/shelf) with the
# real shelf binary and the sample tree, in real interpreters: a plain
# python3 process and an IPython kernel driven through jupyter_client.
#
# The checks live in tests/python/shelf_checks.py (one scenario per run);
# each prints PASS/FAIL lines that become TAP lines here, and DONE when the
# scenario ran to its end. Every run starts from a clean environment with
# SHELF_CMD=$SHELF and the source tree's python/ on PYTHONPATH (the module
# is not installed during `make check`).
. "$SHELF_SRCDIR/tests/lib.sh"

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
tree=$(CDPATH= cd -P -- "$SHELF_SRCDIR/modulefiles" && pwd)
pydir=$(CDPATH= cd -P -- "$SHELF_SRCDIR/python" && pwd)
checks=$SHELF_SRCDIR/tests/python/shelf_checks.py
mkdir -p "$work/home" "$work/jupyter" "$work/bad/broken" "$work/bad/warn" "$work/bad/odd" \
    "$work/bad/latin" "$work/fake"

# Debian's python3 has ipykernel and jupyter_client; another python3 first
# on PATH may not.
if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3; else py=$(command -v python3); fi
if [ -z "$py" ]; then
    echo "1..0 # SKIP no python3"
    exit 0
fi

printf 'setenv("BROKEN_X", "1")\nthis is not lua(\n' > "$work/bad/broken/1.0.lua"
printf 'setenv("WARN_X", "yes")\nLmodWarning("careful with this one")\n' \
    > "$work/bad/warn/1.0.lua"
# A value with a newline, quotes, a backslash, UTF-8 and a byte that is not.
printf 'setenv("ODD_X", "caf\303\251 \\\\ \\"q\\" \\n\351!")\n' > "$work/bad/odd/1.0.lua"
# A byte that is not UTF-8 written with Lua's decimal escape (233 = 0xe9).
printf 'setenv("LATIN_X", "caf\\233")\n' > "$work/bad/latin/1.0.lua"

# clean [VAR=VALUE...] COMMAND...: runs COMMAND in a clean environment with
# the sample tree's Core on MODULEPATH.
clean() {
    env -i HOME="$work/home" PATH=/usr/bin:/bin MODULEPATH="$tree/Core" \
        JUPYTER_RUNTIME_DIR="$work/jupyter/runtime" JUPYTER_CONFIG_DIR="$work/jupyter" \
        IPYTHONDIR="$work/jupyter/ipython" XDG_CONFIG_HOME="$work/home/.config" "$@"
}

# report NAME STATUS: turns the PASS/FAIL lines of a run of shelf_checks.py
# (in $work/out, its stderr in $work/err) into TAP.
report() {
    while IFS= read -r line; do
        case $line in
        "PASS "*) pass "$1: ${line#PASS }" ;;
        "FAIL "*) fail "$1: ${line#FAIL }" ;;
        "# "*) printf '%s\n' "$line" ;;
        esac
    done < "$work/out"
    if [ "$2" -eq 0 ] && tail -n 1 "$work/out" | grep -qx DONE; then
        pass "$1: ran to the end"
    else
        fail "$1: ran to the end (exit status $2)" "$(cat "$work/err")"
    fi
}

# scenario NAME [VAR=VALUE...] -- ARGS...: runs the scenario NAME of
# shelf_checks.py with ARGS in a clean environment plus the VARs (at most
# 60 s), and reports.
scenario() {
    name=$1; shift
    n=$#
    while [ "$n" -gt 0 ]; do
        arg=$1; shift; n=$((n - 1))
        if [ "$arg" = -- ]; then
            set -- "$@" timeout 60 "$py" "$checks" "$name"
        else
            set -- "$@" "$arg"
        fi
    done
    clean "$@" > "$work/out" 2> "$work/err"
    report "$name" "$?"
}

# What bash makes of `module load torchvision` / `module load torch`.
loaded_in_bash() { # MODULE
    clean bash -c 'eval "$("$1" bash load "$2")" && printf %s "$LOADEDMODULES"' sh "$SHELF" "$1"
}
tv_loaded=$(loaded_in_bash torchvision)
is "$tv_loaded" "python/3.11.8:torch/2.2.0:torchvision/0.17.0" "bash: load torchvision"

dev="SHELF_CMD=$SHELF"
scenario session "$dev" "PYTHONPATH=$pydir" -- "$tree" "$tv_loaded"
# The package found through sys.path, not PYTHONPATH: PYTHONPATH starts empty.
scenario no-pythonpath "$dev" -- "$tree" "$pydir"
scenario swap-purge "$dev" "PYTHONPATH=$pydir" -- "$tree"
scenario errors "$dev" "PYTHONPATH=$pydir" -- "$work/bad"
# An interpreter whose file system encoding is ASCII (C locale, no UTF-8 mode).
scenario ascii-locale "$dev" "PYTHONPATH=$pydir" LC_ALL=C PYTHONUTF8=0 PYTHONCOERCECLOCALE=0 \
    -- "$work/bad"
# SHELF_CMD is a script that prints documents shelf would not write.
scenario malformed "PYTHONPATH=$pydir" -- "$work/fake"

# Installed as `make install` lays it out, without SHELF_CMD.
prefix=$work/prefix
mkdir -p "$prefix/bin" "$prefix/share/shelf/python/shelf"
ln -s "$SHELF" "$prefix/bin/shelf"
cp "$pydir/shelf/__init__.py" "$prefix/share/shelf/python/shelf/"
scenario installed -- "$prefix"

# The init files put PREFIX/share/shelf/python on PYTHONPATH, once, even when
# sourced twice (sh and csh find PREFIX from the shelf on PATH).
mkdir -p "$prefix/share/shelf/init"
for f in bash zsh sh ksh csh tcsh fish; do
    cp "$SHELF_SRCDIR/shell-init/$f" "$prefix/share/shelf/init/$f"
done
pyinst=$(CDPATH= cd -P -- "$prefix/share/shelf/python" && pwd)
for sh in bash zsh dash ksh csh tcsh fish; do
    init=$prefix/share/shelf/init/$sh
    src=.
    case $sh in
    dash) init=$prefix/share/shelf/init/sh; set -- dash -c ;;
    csh|tcsh) src=source; set -- "$sh" -f -c ;;
    fish) src=source; set -- fish --no-config -c ;;
    *) set -- "$sh" -c ;;
    esac
    if ! command -v "$sh" > /dev/null 2>&1; then
        pass "init $sh # SKIP $sh is not installed"
        continue
    fi
    got=$(clean PATH="$prefix/bin:/usr/bin:/bin" PYTHONPATH=/x "$@" \
        "$src $init; $src $init; printenv PYTHONPATH" 2>&1)
    is "$got" "/x:$pyinst" "init $sh: PYTHONPATH gets the python directory once"
done
got=$(clean bash -c '. "$1"; "$2" -c "import shelf; shelf.load(\"torch\"); print(shelf.list())"' \
    sh "$prefix/share/shelf/init/bash" "$py" 2>&1)
is "$got" "['python/3.11.8', 'torch/2.2.0']" "init bash: python3 can import shelf and load"

if "$py" -c 'import ipykernel, jupyter_client' 2> /dev/null; then
    scenario kernel "$dev" "PYTHONPATH=$pydir" -- "$tree" "$work/jupyter"
else
    pass "kernel # SKIP $py has no ipykernel/jupyter_client"
fi

# A collection saved in bash, restored in Python.
t_loaded=$(clean bash -c 'eval "$("$1" bash load torch)" && "$1" bash save t1 > /dev/null 2>&1 &&
    printf %s "$LOADEDMODULES"' sh "$SHELF")
is "$t_loaded" "python/3.11.8:torch/2.2.0" "bash: load torch; save t1"
scenario restore "$dev" "PYTHONPATH=$pydir" -- t1 "$t_loaded"

# A collection whose modulefile changed after the save.
mkdir -p "$work/coll/c"
echo 'setenv("C_X", "1")' > "$work/coll/c/1.0.lua"
clean MODULEPATH="$work/coll" bash -c 'eval "$("$1" bash load c)" && "$1" bash save cc' \
    sh "$SHELF" > /dev/null 2>&1
echo 'setenv("C_X", "2")' > "$work/coll/c/1.0.lua"
scenario restore-changed "$dev" "PYTHONPATH=$pydir" "MODULEPATH=$work/coll" -- cc

done_testing
