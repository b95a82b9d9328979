#!/bin/sh
# tests/shell/follow.sh -- shells that share a shelfd context: with
# SHELF_CONTEXT_SOCKET and SHELF_CONTEXT_CLIENT set (as the Jupyter server
# extension sets them for its terminals), `module` commands in bash and fish
# change the shell and send the same change of the module set to the
# daemon's context. Checked against the real shelfd on a temporary socket:
# the context's loaded set after each command, what it keeps of its own,
# and the warnings when it cannot follow.
. "$SHELF_SRCDIR/tests/lib.sh"

SHELFD=${SHELFD:-$SHELF_BUILDDIR/src/daemon/shelfd}
if [ ! -x "$SHELFD" ]; then
    printf '1..1\nnot ok 1 - %s is built (make check builds it)\n' "$SHELFD"
    exit 1
fi

tmp=$(mktemp -d /tmp/shelf-follow.XXXXXX)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

T=$(cd "$SHELF_SRCDIR/modulefiles" && pwd -P)
mkdir -p "$tmp/run" "$tmp/config" "$tmp/mine/mine"
chmod 700 "$tmp/run"
printf 'setenv("MINE", "1")\n' > "$tmp/mine/mine/1.0.lua"
XDG_RUNTIME_DIR=$tmp/run
XDG_CONFIG_HOME=$tmp/config
MODULEPATH=$T/Core
export XDG_RUNTIME_DIR XDG_CONFIG_HOME MODULEPATH
unset LOADEDMODULES _LMFILES_ SHELF_CONTEXT_SOCKET SHELF_CONTEXT_CLIENT
for v in $(env | sed -n 's/^\(_ModuleTable[0-9]*_\)=.*/\1/p;s/^\(__LMOD_REF_COUNT_[A-Za-z0-9_]*\)=.*/\1/p'); do
    unset "$v"
done

out=$("$SHELFD" --tree "$T/Core" --tree "$T/Compiler" --tree "$T/MPI" --print-address 2>"$tmp/err")
S=$(printf '%s\n' "$out" | sed -n 's/^socket=//p')
pid=$(printf '%s\n' "$out" | sed -n 's/^pid=//p')
if [ -z "$S" ] || [ -z "$pid" ]; then
    fail "shelfd starts" "$(cat "$tmp/err")"
    done_testing
    exit 1
fi

# api CLIENT METHOD PATH [BODY]: the answer's body in $tmp/body, status printed
api() {
    curl -s --max-time 60 -o "$tmp/body" -w '%{http_code}' --unix-socket "$S" \
        -H "X-Shelf-Client: $1" -X "$2" ${4:+-d "$4"} "http://localhost/api/v1/$3"
}
# context CLIENT: the context's loaded modules, "name" or "name*" (asked for
# by the user), in load order, space-separated
context() {
    api "$1" GET loaded >/dev/null
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(" ".join(m["fullname"] + ("*" if m["user_loaded"] else "") for m in d["loaded"]))' "$tmp/body"
}

is "$(api term PUT context "{\"env\": {\"MODULEPATH\": \"$T/Core\", \"PATH\": \"/usr/bin:/bin\"}}")" 200 \
    "the context starts from the shell's MODULEPATH"
SHELF_CMD=$SHELF
export SHELF_CMD S tmp

# One bash session, as a JupyterLab terminal runs it. `got KEY VALUE`
# records what a step saw; the checks below read $tmp/got.
cat > "$tmp/session.bash" <<'EOF_SESSION'
. "$SHELF_SRCDIR/shell-init/bash"
export SHELF_CONTEXT_SOCKET="$S" SHELF_CONTEXT_CLIENT=term
: > "$tmp/got"
got() { printf '%s=%s\n' "$1" "$2" >> "$tmp/got"; }
ctx() { # CLIENT: the context's modules, "name*" when asked for by the user
    curl -s --max-time 60 --unix-socket "$S" -H "X-Shelf-Client: $1" http://localhost/api/v1/loaded |
        python3 -c 'import json,sys
print(" ".join(m["fullname"] + ("*" if m["user_loaded"] else "") for m in json.load(sys.stdin)["loaded"]))'
}
ctx_files() {
    curl -s --max-time 60 --unix-socket "$S" -H "X-Shelf-Client: $1" http://localhost/api/v1/loaded |
        python3 -c 'import json,sys
print(":".join(sorted(m["file"] for m in json.load(sys.stdin)["loaded"])))'
}
sorted_colon() { printf '%s\n' "$1" | tr ':' '\n' | sed '/^$/d' | sort | paste -sd: -; }
post() { curl -s --max-time 60 -o /dev/null -w '%{http_code}' --unix-socket "$S" \
             -H "X-Shelf-Client: term" -d "$2" "http://localhost/api/v1/$1"; }

module load torchvision; got load.rc $?
got load.ctx "$(ctx term)"
got load.other "$(ctx other)"

module load torch; module unload torchvision
got unload.shell "$LOADEDMODULES"
got unload.ctx "$(ctx term)"

module unload torch; ml -torch cuda/12.2.2
got ml.shell "$LOADEDMODULES"
got ml.ctx "$(ctx term)"

module purge; module load gcc/12.3.0 openmpi hdf5 && module swap gcc gcc/13.2.0; got swap.rc $?
got swap.shell "$(sorted_colon "$_LMFILES_")"
got swap.ctx "$(ctx_files term)"

got panel.rc "$(post load '{"modules": ["R"]}')"
module purge; module load cuda/11.8.0
got keep.shell "$LOADEDMODULES"
got keep.ctx "$(ctx term)"
post purge '{}' >/dev/null

module purge; module load torchvision cuda/12.2.2; module save pair >/dev/null 2>&1
module purge; module restore pair 2>/dev/null; got restore.rc $?
got restore.ctx "$(ctx term)"

got fail.before "$(ctx term)"
module load nosuchmodule 2>/dev/null; got fail.rc $?
got fail.ctx "$(ctx term)"

module use "$tmp/mine"; module load mine 2>"$tmp/mine.err"; got mine.rc $?
got mine.var "$MINE"
got mine.ctx "$(ctx term)"
module unuse "$tmp/mine"

SHELF_CONTEXT_SOCKET=/nonexistent/shelfd.sock module load R 2>"$tmp/gone.err"; got gone.rc $?
SHELF_CONTEXT_SOCKET=/nonexistent/shelfd.sock module -q load R 2>"$tmp/quiet.err"; got quiet.rc $?
EOF_SESSION
SHELF_SRCDIR=$SHELF_SRCDIR bash "$tmp/session.bash" >"$tmp/out" 2>"$tmp/stderr"
# got KEY: what the session recorded
got() { sed -n "s/^$1=//p" "$tmp/got" | tail -n 1; }

is "$(got load.rc)" 0 "bash: module load torchvision succeeds"
is "$(got load.ctx)" "python/3.11.8 torch/2.2.0 torchvision/0.17.0*" \
    "the context loads what the shell asked for; its dependencies come as dependencies"
is "$(got load.other)" "" "another client's context is untouched"
is "$(got unload.shell)" "python/3.11.8:torch/2.2.0" "bash: load a dependency, unload what needed it"
is "$(got unload.ctx)" "python/3.11.8 torch/2.2.0*" \
    "the context follows: torch is now asked for, torchvision is gone"
is "$(got ml.shell)" "cuda/12.2.2" "bash: ml -torch cuda"
is "$(got ml.ctx)" "cuda/12.2.2*" "ml's unloads and loads both reach the context"

# A swap in a hierarchy: the modules reloaded from the new compiler's
# level are other modulefiles; the context ends with the same files.
is "$(got swap.rc)" 0 "bash: swap gcc in a gcc/openmpi/hdf5 hierarchy"
case $(got swap.shell) in
*/Compiler/gcc/13/openmpi/*) pass "the shell's openmpi comes from gcc 13's level" ;;
*) fail "the shell's openmpi comes from gcc 13's level" "$(got swap.shell)" ;;
esac
is "$(got swap.ctx)" "$(got swap.shell)" "the context holds the same modulefiles as the shell"

# What the context loaded on its own (the panel) stays when the shell,
# which never had it, changes something else.
is "$(got panel.rc)" 200 "the panel loads R in the context"
is "$(got keep.shell)" "cuda/11.8.0" "bash: purge and load cuda/11.8.0"
case " $(got keep.ctx) " in
*" R/"*"cuda/11.8.0*"*) pass "the context keeps R, which the shell never had, and follows the rest" ;;
*) fail "the context keeps R, which the shell never had, and follows the rest" "$(got keep.ctx)" ;;
esac
case " $(got keep.ctx) " in
*gcc*|*openmpi*|*hdf5*) fail "the shell's purge unloaded its modules in the context" "$(got keep.ctx)" ;;
*) pass "the shell's purge unloaded its modules in the context" ;;
esac

is "$(got restore.rc)" 0 "bash: save and restore a collection"
is "$(got restore.ctx)" "python/3.11.8 torch/2.2.0 torchvision/0.17.0* cuda/12.2.2*" \
    "the restored collection is the context's set"

is "$(got fail.rc)" 1 "bash: loading an unknown module fails"
is "$(got fail.ctx)" "$(got fail.before)" "after a failed command the context is unchanged"

# The context cannot follow: a module of the user's own tree, which the
# daemon does not serve. The shell's load stands; a warning says why.
is "$(got mine.rc)" 0 "bash: a module of the user's own tree loads"
is "$(got mine.var)" 1 "and its variable is set in the shell"
if grep -q "warning: the shared context \"term\" (shelfd at $S) did not load mine/1.0: 404" "$tmp/mine.err"; then
    pass "a warning names the context, the daemon and the module it could not load"
else
    fail "a warning names the context, the daemon and the module it could not load" "$(cat "$tmp/mine.err")"
fi
is "$(got mine.ctx)" "$(got fail.before)" "the context is unchanged by what it could not load"

# The daemon is gone: the shell still works and says so.
is "$(got gone.rc)" 0 "bash: a load succeeds while the shared daemon is unreachable"
if grep -q 'did not load R/[^:]*: cannot connect: No such file or directory' "$tmp/gone.err"; then
    pass "the warning says the daemon could not be reached"
else
    fail "the warning says the daemon could not be reached" "$(cat "$tmp/gone.err")"
fi
is "$(got quiet.rc)" 0 "bash: module -q load R"
if grep -q 'shared context' "$tmp/quiet.err"; then
    fail "-q silences the warning" "$(cat "$tmp/quiet.err")"
else
    pass "-q silences the warning"
fi

# Code for Python and programs (kernels, `import shelf`) never changes the
# shared context, nor does a shell without SHELF_CONTEXT_SOCKET.
before=$(context term)
for sh in python json; do
    SHELF_CONTEXT_SOCKET=$S SHELF_CONTEXT_CLIENT=term "$SHELF" $sh load R >/dev/null 2>"$tmp/stderr"
    is "$?" 0 "shelf $sh load R"
    is "$(context term)" "$before" "shelf $sh leaves the shared context alone"
done
SHELF_CONTEXT_CLIENT=term "$SHELF" bash load R >/dev/null 2>&1
is "$(context term)" "$before" "without SHELF_CONTEXT_SOCKET nothing is sent"
SHELF_CONTEXT_SOCKET=$S "$SHELF" bash load R >/dev/null 2>&1
case " $(context default) " in
*" R/"*) pass "without SHELF_CONTEXT_CLIENT the client is \"default\"" ;;
*) fail "without SHELF_CONTEXT_CLIENT the client is \"default\"" "$(context default)" ;;
esac

# fish: its `module` follows too.
if command -v fish >/dev/null 2>&1; then
    api fishy PUT context "{\"env\": {\"MODULEPATH\": \"$T/Core\"}}" >/dev/null
    SHELF_CONTEXT_SOCKET=$S SHELF_CONTEXT_CLIENT=fishy \
        fish -c "source '$SHELF_SRCDIR/shell-init/fish'; module load torchvision; and module unload torchvision; and module load cuda/12.2.2; echo \"rc=\$status\"" \
        >"$tmp/out" 2>"$tmp/stderr"
    is "$(sed -n 's/^rc=//p' "$tmp/out")" 0 "fish: load, unload, load"
    is "$(context fishy)" "cuda/12.2.2*" "fish's module commands reach the context"
else
    fail "fish is installed (scripts/deps installs it)"
fi

done_testing
