#!/bin/bash
# tests/shell/sample-tree.sh -- the bundled sample tree (modulefiles/) under
# Debian's Lmod and under shelf.
#
# Each scenario is a bash script run in a clean environment (env -i, HOME in
# a scratch directory, MODULEPATH=<tree>/Core) whose `module` function evals
# the output of `TOOL bash ARGS...`; TOOL is Lmod ($LMOD_CMD) and then shelf
# ($SHELF). A scenario reports KEY=VALUE lines. Lmod's values are checked
# against what the tree promises; shelf's against Lmod's, and shelf must also
# really deliver (imports work, programs run).

. "${SHELF_SRCDIR:?SHELF_SRCDIR must point at the source tree}/tests/lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/shelf-sample.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

tree=$(cd "$SHELF_SRCDIR/modulefiles" 2>/dev/null && pwd)
if [ -z "$tree" ] || [ ! -d "$tree/Core" ]; then
    fail "sample tree found at \$SHELF_SRCDIR/modulefiles/Core"
    done_testing; exit
fi
if [ -x "$LMOD_CMD" ]; then pass "Lmod is at $LMOD_CMD"; else fail "Lmod is at $LMOD_CMD"; fi

# run OUT TOOL SCRIPT [VAR=VALUE...]: run SCRIPT with `module` calling TOOL;
# its stdout goes to $tmp/OUT, its stderr to $tmp/OUT.err.
run() {
    local out=$1 tool=$2 script=$3; shift 3
    rm -rf "${tmp:?}/home"; mkdir "$tmp/home"
    env -i HOME="$tmp/home" PATH=/usr/bin:/bin TERM=dumb LMOD_IGNORE_CACHE=1 PYTHONDONTWRITEBYTECODE=1 \
        MODULEPATH="${SAMPLE_MODULEPATH:-$tree/Core}" MODCMD="$tool" "$@" \
        bash -c 'module() {
                     local code
                     code=$("$MODCMD" bash "$@") || { echo "module $*: failed" >&2; return 1; }
                     eval "$code"
                 }
                 '"$script" >"$tmp/$out" 2>"$tmp/$out.err" </dev/null
}

# get OUT KEY: the value a scenario reported for KEY ("" when it did not)
get() { awk -v k="$2=" 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "$tmp/$1"; }

# both NAME SCRIPT [VAR=VALUE...]: run the scenario under Lmod and under shelf
both() {
    local name=$1 script=$2; shift 2
    run "$name.lmod" "$LMOD_CMD" "$script" "$@"
    run "$name.shelf" "$SHELF" "$script" "$@"
}

# expect NAME KEY VALUE TEXT: Lmod reported VALUE for KEY, and so did shelf
expect() {
    is "$(get "$1.lmod" "$2")" "$3" "lmod: $4"
    expect_shelf "$1" "$2" "$4"
}
# expect_shelf NAME KEY TEXT: shelf reported what Lmod reported for KEY
expect_shelf() {
    local ref got
    ref=$(get "$1.lmod" "$2"); got=$(get "$1.shelf" "$2")
    if [ -z "$ref" ]; then
        fail "shelf: $3 (same as Lmod)" "Lmod reported no $2" "$(tail -n 5 "$tmp/$1.lmod.err")"
    elif [ "$got" = "$ref" ]; then
        pass "shelf: $3 (same as Lmod)"
    else
        fail "shelf: $3 (same as Lmod)" "got:      $got" "expected: $ref" \
             "$(tail -n 5 "$tmp/$1.shelf.err")"
    fi
}
# expect_each NAME KEY VALUE TEXT: both tools reported VALUE (no comparison:
# for facts, like an exit status, that each must deliver on its own)
expect_each() {
    local t got
    for t in lmod shelf; do
        got=$(get "$1.$t" "$2")
        if [ "$got" = "$3" ]; then
            pass "$t: $4"
        else
            fail "$t: $4" "got:      $got" "expected: $3" "$(tail -n 5 "$tmp/$1.$t.err")"
        fi
    done
}

# ---- the tree itself ---------------------------------------------------------
bad=
for f in $(cd "$tree" && find Core Compiler MPI -name '*.lua' ! -name .modulerc.lua | sort); do
    for want in 'help([[' 'whatis("Description: ' 'whatis("Category: ' \
                'whatis("Keywords: ' 'whatis("URL: '; do
        grep -qF "$want" "$tree/$f" || bad="$bad $f:$want"
    done
done
is "$bad" "" "every modulefile has help and Description/Category/Keywords/URL whatis lines"
is "$(cd "$tree" && find sw -name '*.lua' | head -n 3)" "" "no modulefiles under sw/"
n=$(cd "$tree" && find Core Compiler MPI -name '*.lua' ! -name .modulerc.lua | wc -l)
if [ "$n" -ge 20 ]; then pass "tree has $n modulefiles"; else fail "tree has $n modulefiles, want >= 20"; fi
if [ -L "$tree/Core/cuda/default" ] && [ -f "$tree/Core/gcc/.modulerc.lua" ] \
   && [ -f "$tree/Core/python/.version" ]; then
    pass "defaults marked by a default symlink, .modulerc.lua and .version"
else
    fail "defaults marked by a default symlink, .modulerc.lua and .version"
fi

# ---- python libraries: load torchvision pulls torch, unload removes both ------
both torchvision '
module load torchvision; echo "load=$?"
echo "LM=${LOADEDMODULES-unset}"
python3 -c "import torchvision_demo, torch_demo; print(torchvision_demo.__version__)" >/dev/null 2>&1
import=$?; echo "import=$import"
# after unload, each check carries the state before it: "0->1" means the
# import worked after load and fails after unload
python3 -c "import torch_demo" >/dev/null 2>&1; torch1=$?
lm1=${LOADEDMODULES-unset}; pp1=${PYTHONPATH-unset}
module unload torchvision; echo "unload=$?"
echo "LM2=$lm1 -> ${LOADEDMODULES-unset}"
echo "PYTHONPATH2=$pp1 -> ${PYTHONPATH-unset}"
python3 -c "import torchvision_demo" >/dev/null 2>&1; echo "import2=$import->$?"
python3 -c "import torch_demo" >/dev/null 2>&1; echo "import3=$torch1->$?"
'
expect_each torchvision load 0 "load torchvision succeeds"
expect_each torchvision import 0 "after load torchvision, python3 imports torchvision_demo"
for t in lmod shelf; do
    case ":$(get torchvision.$t LM):" in
    *:torch/*:torchvision/*) pass "$t: LOADEDMODULES holds torch before torchvision" ;;
    *) fail "$t: LOADEDMODULES holds torch before torchvision" "got: $(get torchvision.$t LM)" ;;
    esac
done
expect torchvision LM "python/3.11.8:torch/2.2.0:torchvision/0.17.0" "LOADEDMODULES after load torchvision"
expect_each torchvision unload 0 "unload torchvision succeeds"
expect_each torchvision import2 "0->1" "importing torchvision_demo works after load, fails after unload"
expect_each torchvision import3 "0->1" "the dependency torch_demo leaves with torchvision"
expect torchvision LM2 "python/3.11.8:torch/2.2.0:torchvision/0.17.0 -> unset" \
    "LOADEDMODULES after unload torchvision"
expect torchvision PYTHONPATH2 "$tree/sw/torchvision/0.17.0/lib/python3/site-packages:$tree/sw/torch/2.2.0/lib/python3/site-packages -> unset" \
    "PYTHONPATH after load and unload torchvision"

# ---- hierarchy: gcc opens Compiler/, openmpi opens MPI/; swap the compiler ----
both hier '
module load gcc openmpi hdf5; echo "load=$?"
echo "LM=${LOADEDMODULES-unset}"
echo "MP=${MODULEPATH-unset}"
echo "FILES=${_LMFILES_-unset}"
echo "h5=$(h5dump-demo 2>&1)"
echo "CC=${CC-unset}"
module swap gcc gcc/13.2.0; echo "swap=$?"
echo "LM2=${LOADEDMODULES-unset}"
echo "MP2=${MODULEPATH-unset}"
echo "FILES2=${_LMFILES_-unset}"
echo "h5_2=$(h5dump-demo 2>&1)"
echo "mpi2=$(mpirun-demo 2>&1)"
'
expect_each hier load 0 "load gcc openmpi hdf5 succeeds"
expect hier LM "gcc/12.3.0:openmpi/4.1.6:hdf5/1.14.3" "LOADEDMODULES after load gcc openmpi hdf5"
expect hier MP "$tree/MPI/gcc/12/openmpi/4.1:$tree/Compiler/gcc/12:$tree/Core" \
    "MODULEPATH holds the MPI and compiler levels of gcc 12"
expect hier FILES "$tree/Core/gcc/12.3.0.lua:$tree/Compiler/gcc/12/openmpi/4.1.6.lua:$tree/MPI/gcc/12/openmpi/4.1/hdf5/1.14.3.lua" \
    "_LMFILES_ after load gcc openmpi hdf5"
expect_each hier h5 "h5dump-demo: HDF5 1.14.3, parallel, built with gcc 12 and openmpi 4.1" \
    "the gcc 12 build of hdf5 runs"
expect hier CC gcc "gcc sets CC"
expect_each hier swap 0 "swap gcc gcc/13.2.0 succeeds"
expect hier LM2 "gcc/13.2.0:openmpi/4.1.6:hdf5/1.14.3" "LOADEDMODULES after the swap"
expect hier MP2 "$tree/MPI/gcc/13/openmpi/4.1:$tree/Compiler/gcc/13:$tree/Core" \
    "MODULEPATH holds the levels of gcc 13 after the swap"
expect hier FILES2 "$tree/Core/gcc/13.2.0.lua:$tree/Compiler/gcc/13/openmpi/4.1.6.lua:$tree/MPI/gcc/13/openmpi/4.1/hdf5/1.14.3.lua" \
    "openmpi and hdf5 reloaded from the gcc 13 levels"
expect_each hier h5_2 "h5dump-demo: HDF5 1.14.3, parallel, built with gcc 13 and openmpi 4.1" \
    "the gcc 13 build of hdf5 runs after the swap"
expect_each hier mpi2 "mpirun-demo (Open MPI) 4.1.6, built with gcc 13" \
    "the gcc 13 build of openmpi runs after the swap"

# ---- defaults (three markers), a hidden version, pushenv ------------------------
both defaults '
CC=clang; export CC
module load gcc python cuda; echo "load=$?"
echo "LM=${LOADEDMODULES-unset}"
echo "CC=${CC-unset}"
cc1=${CC-unset}; module unload gcc; echo "CCback=$cc1->${CC-unset}"
module purge
av=$(module -t avail numpy 2>&1)
echo "avail=$(echo "$av" | grep -c "numpy/1\.26\.4"),$(echo "$av" | grep -c "2\.0\.0rc1")"
module load numpy/.2.0.0rc1; echo "hload=$?"
echo "HLM=${LOADEDMODULES-unset}"
echo "hver=$(python3 -c "import numpy_demo; print(numpy_demo.__version__)" 2>&1)"
module purge
module load pandas matplotlib; echo "LM3=${LOADEDMODULES-unset}"
echo "plot=$(python3 -c "import matplotlib_demo, pandas_demo; print(matplotlib_demo.plot([1, 2, 3]))" 2>&1)"
'
expect_each defaults load 0 "load gcc python cuda succeeds"
expect defaults LM "gcc/12.3.0:python/3.11.8:cuda/11.8.0" \
    "defaults from .modulerc.lua (gcc), .version (python), default symlink (cuda)"
expect defaults CC gcc "pushenv sets CC over the user's value"
expect defaults CCback "gcc->clang" "unload restores the CC pushenv replaced"
expect defaults avail "1,0" "-t avail lists numpy/1.26.4, not the hidden numpy/.2.0.0rc1"
expect_each defaults hload 0 "the hidden numpy loads by its full name"
expect defaults HLM "python/3.11.8:numpy/.2.0.0rc1" "LOADEDMODULES after loading the hidden numpy"
expect_each defaults hver 2.0.0rc1 "the hidden numpy is the one python3 imports"
expect defaults LM3 "python/3.11.8:numpy/1.26.4:pandas/2.2.1:matplotlib/3.8.3" \
    "pandas and matplotlib share their numpy"
expect_each defaults plot "-*@" "matplotlib_demo and pandas_demo import numpy_demo"

# ---- cuda: the gpu property, CUDA_HOME -------------------------------------------
both cuda '
echo "avail=$(module avail cuda 2>&1 | grep -o "cuda/12\.2\.2 *([^)]*)")"
echo "spider=$(module spider cuda/12.2.2 2>&1 | grep -c "built for GPU")"
module load cuda/12.2.2; echo "load=$?"
echo "home=${CUDA_HOME-unset}"
echo "nvcc=$(nvcc-demo 2>&1)"
'
expect cuda avail "cuda/12.2.2 (g)" "avail marks cuda with the gpu property"
is "$(get cuda.lmod spider)" 1 "lmod: spider lists the gpu property of cuda"
expect_each cuda load 0 "load cuda/12.2.2 succeeds"
expect cuda home "$tree/sw/cuda/12.2.2" "cuda sets CUDA_HOME"
expect_each cuda nvcc "nvcc-demo: NVIDIA (R) Cuda compiler driver, release 12.2, V12.2.2 (sample)" \
    "nvcc-demo runs"

# ---- apps: code-server (a web app), R (an alias) ---------------------------------
both apps '
module load code-server R; echo "load=$?"
echo "version=$(code-server --version 2>&1)"
echo "cmd=${SHELF_WEBAPP_CODE_SERVER_CMD-unset}"
echo "title=${SHELF_WEBAPP_CODE_SERVER_TITLE-unset}"
echo "icon=$([ -f "$SHELF_WEBAPP_CODE_SERVER_ICON" ] && echo present)"
echo "func=$(type -t code-server-here)"
echo "alias=$(alias R 2>&1)"
cmd=${SHELF_WEBAPP_CODE_SERVER_CMD/\{port\}/0}
$cmd "$HOME" 2>"$HOME/cs.err" & pid=$!
url=
for i in $(seq 100); do
    url=$(sed -n "s/^HTTP server listening on //p" "$HOME/cs.err")
    [ -n "$url" ] && break
    sleep 0.1
done
echo "health=$(python3 -c "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + \"healthz\", timeout=5).read().decode())" "$url" 2>&1 | tail -n 1)"
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
func1=$(type -t code-server-here || echo none)
alias1=$(alias R >/dev/null 2>&1 && echo alias || echo none)
module unload code-server R
echo "func2=$func1->$(type -t code-server-here || echo none)"
echo "alias2=$alias1->$(alias R >/dev/null 2>&1 && echo alias || echo none)"
'
expect_each apps load 0 "load code-server R succeeds"
expect_each apps version "4.22.1 (sample build)" "code-server runs"
expect apps cmd "$tree/sw/code-server/4.22.1/bin/code-server --auth none --disable-telemetry --bind-addr 127.0.0.1:{port}" \
    "code-server sets SHELF_WEBAPP_CODE_SERVER_CMD"
expect apps title "VS Code" "code-server sets SHELF_WEBAPP_CODE_SERVER_TITLE"
expect_each apps icon present "SHELF_WEBAPP_CODE_SERVER_ICON names a file"
expect_each apps health '{"status": "alive", "version": "4.22.1"}' \
    "the web app started from SHELF_WEBAPP_CODE_SERVER_CMD answers"
expect apps func function "code-server defines the shell function code-server-here"
expect apps alias "alias R='R-demo --no-save --no-restore'" "R sets an alias"
expect apps func2 "function->none" "unload removes the shell function"
expect apps alias2 "alias->none" "unload removes the alias"

# ---- every modulefile loads ------------------------------------------------------
core=$(cd "$tree/Core" && find . -name '*.lua' ! -name .modulerc.lua | sed 's|^\./||; s|\.lua$||' | sort)
script='
for m in $CORE; do
    module purge >/dev/null 2>&1
    module load "$m" >/dev/null 2>&1; echo "$m=$? ${LOADEDMODULES-unset}"
done
for g in 12 13; do
    gv=$(cd "$TREE/Core/gcc" && ls $g.*.lua | sed "s/\.lua$//")
    for f in $(cd "$TREE/Compiler/gcc/$g" && ls */*.lua); do
        m=${f%.lua}
        module purge >/dev/null 2>&1
        module load "gcc/$gv" "$m" >/dev/null 2>&1; echo "gcc$g:$m=$? ${LOADEDMODULES-unset}"
    done
    for f in $(cd "$TREE/MPI/gcc/$g/openmpi/4.1" && ls */*.lua); do
        m=${f%.lua}
        module purge >/dev/null 2>&1
        module load "gcc/$gv" openmpi/4.1.6 "$m" >/dev/null 2>&1; echo "gcc$g:$m=$? ${LOADEDMODULES-unset}"
    done
done
'
both each "$script" CORE="$core" TREE="$tree"
keys=$(cut -d= -f1 "$tmp/each.lmod")
if [ "$(echo "$keys" | wc -l)" -ge 20 ]; then
    pass "lmod: every modulefile tried ($(echo "$keys" | wc -l))"
else
    fail "lmod: every modulefile tried" "$(cat "$tmp/each.lmod" "$tmp/each.lmod.err")"
fi
for k in $keys; do
    v=$(get each.lmod "$k"); m=${k#gcc1[23]:}
    case "$v" in
    "0 "*"${m}") pass "lmod: load $k" ;;
    *) fail "lmod: load $k" "got: $v" ;;
    esac
    expect_shelf each "$k" "load $k"
done

# ---- the tree works from a copy anywhere (installed, mounted) ----------------------
mkdir -p "$tmp/prefix/share/shelf" "$tmp/mnt"
cp -R "$tree" "$tmp/prefix/share/shelf/modulefiles"
cp -R "$tree" "$tmp/mnt/apps"
for copy in "$tmp/prefix/share/shelf/modulefiles" "$tmp/mnt/apps"; do
    SAMPLE_MODULEPATH=$copy/Core both copy '
module load gcc openmpi hdf5 torchvision; echo "load=$?"
echo "h5=$(command -v h5dump-demo)"
echo "tv=$(python3 -c "import torchvision_demo; print(torchvision_demo.__file__)" 2>&1)"
echo "MP=$MODULEPATH"
'
    expect_each copy load 0 "load from the copy in ${copy#"$tmp"/}"
    expect_each copy h5 "$copy/sw/hdf5/1.14.3/gcc-12-openmpi-4.1/bin/h5dump-demo" \
        "the copy in ${copy#"$tmp"/} finds its own software"
    expect_each copy tv "$copy/sw/torchvision/0.17.0/lib/python3/site-packages/torchvision_demo/__init__.py" \
        "the copy in ${copy#"$tmp"/} finds its own Python packages"
    expect copy MP "$copy/MPI/gcc/12/openmpi/4.1:$copy/Compiler/gcc/12:$copy/Core" \
        "the copy in ${copy#"$tmp"/} opens its own levels"
done

done_testing
