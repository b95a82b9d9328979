#!/bin/sh
# tests/shell/collections.sh -- save, restore, savelist, describe and
# disable, through the real init files in every shell and through bash for
# the rest: pinned versions after a default moved on, vanished and edited
# modulefiles, a module that now comes from another file, concurrent
# saves, damaged files, bad names, a full disk and a read-only directory.
# Lmod is the oracle for the plain round trip.
. "$SHELF_SRCDIR/tests/lib.sh"

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
mkdir -p "$prefix/bin" "$prefix/share/shelf/init" "$work/tmp"
for f in bash zsh sh ksh csh tcsh fish; do
    cp "$SHELF_SRCDIR/shell-init/$f" "$prefix/share/shelf/init/$f"
done
ln -s "$SHELF" "$prefix/bin/shelf"
# A copy of the sample tree that the tests may change.
cp -R "$SHELF_SRCDIR/modulefiles" "$work/mf"
core=$work/mf/Core

# Shell-internal variables that differ between two points of one script.
envdump() { grep -v -e '^_=' -e '^SHLVL=' -e '^PWD=' -e '^OLDPWD=' -e '^_AST_FEATURES=' "$1" | sort; }

# ---- the round trip in each shell ---------------------------------------------
# In each shell: load modules (with a dependency and a hierarchy level),
# save, purge, restore: the environment after restore is byte for byte the
# one after the loads (the module table included: same versions, same
# user/dependency marks).
for sh in bash zsh dash ksh tcsh csh fish; do
    home=$work/home-$sh
    mkdir -p "$home"
    init=$prefix/share/shelf/init/$sh
    [ "$sh" = dash ] && init=$prefix/share/shelf/init/sh
    case $sh in
    tcsh | csh) src=source st='$status' ;;
    fish) src=source st='$status' ;;
    *) src=. st='$?' ;;
    esac
    sed -e "s|@SRC@|$src|" -e "s|@ST@|$st|" > "$work/script" <<EOF
@SRC@ $init
module load torchvision gcc
module load openmpi
printenv > $work/$sh-loaded
module save rt
echo "save=@ST@"
module purge
printenv > $work/$sh-purged
module restore rt
echo "restore=@ST@"
printenv > $work/$sh-restored
EOF
    path=/usr/bin:/bin
    case $sh in dash | tcsh | csh) path=$prefix/bin:$path ;; esac
    set -- "$sh"
    case $sh in
    tcsh | csh) set -- "$sh" -f ;;
    fish) set -- fish --no-config ;;
    bash) set -- bash --norc --noprofile ;;
    esac
    env -i HOME="$home" PATH="$path" TMPDIR="$work/tmp" MODULEPATH="$core" \
        "$@" "$work/script" > "$work/stdout" 2> "$work/stderr"
    is "$(cat "$work/stdout")" "save=0
restore=0" "$sh: save and restore succeed"
    if [ -f "$home/.config/shelf/collections/rt.json" ]; then
        pass "$sh: the collection is stored under ~/.config/shelf/collections"
    else
        fail "$sh: the collection is stored under ~/.config/shelf/collections" \
            "$(ls -R "$home" 2>&1)" "$(cat "$work/stderr")"
    fi
    lm=$(grep '^LOADEDMODULES=' "$work/$sh-loaded")
    is "$lm" "LOADEDMODULES=python/3.11.8:torch/2.2.0:torchvision/0.17.0:gcc/12.3.0:openmpi/4.1.6" \
        "$sh: the modules loaded"
    if grep -q '^LOADEDMODULES=' "$work/$sh-purged"; then
        fail "$sh: purge unloaded everything" "$(grep LOADEDMODULES "$work/$sh-purged")"
    else
        pass "$sh: purge unloaded everything"
    fi
    envdump "$work/$sh-loaded" > "$work/a"
    envdump "$work/$sh-restored" > "$work/b"
    if cmp -s "$work/a" "$work/b"; then
        pass "$sh: restore gives back the same environment, module table included"
    else
        fail "$sh: restore gives back the same environment, module table included" \
            "$(diff "$work/a" "$work/b" | head -20)" "$(cat "$work/stderr")"
    fi
done

# ---- bash from here on ------------------------------------------------------------
# sh_run SCRIPT: runs bash with the init file sourced, in a clean environment
# (HOME=$work/home, XDG_CONFIG_HOME unset unless XDG is set) and extra
# variables from $EXTRA.
mkdir -p "$work/home"
sh_run() {
    # shellcheck disable=SC2086
    env -i HOME="$work/home" PATH=/usr/bin:/bin TMPDIR="$work/tmp" MODULEPATH="${MP:-$core}" SHELF="$SHELF" \
        ${XDG:+XDG_CONFIG_HOME="$XDG"} $EXTRA \
        bash --norc --noprofile -c ". $prefix/share/shelf/init/bash
$1" > "$work/out" 2> "$work/err"
}
EXTRA=
cdir=$work/home/.config/shelf/collections

# ---- reset unloads sticky modules too, as Lmod's -------------------------------------
mkdir -p "$work/rs/s" "$work/rs/a"
printf 'add_property("lmod", "sticky")\nsetenv("S_VAR", "1")\n' > "$work/rs/s/1.0.lua"
printf 'setenv("A_VAR", "1")\n' > "$work/rs/a/1.0.lua"
lmod_reset=$(env -i HOME="$work/lmod-rs" PATH=/usr/bin:/bin MODULEPATH="$work/rs" \
    LMOD_IGNORE_CACHE=1 LMOD_SYSTEM_DEFAULT_MODULES=a LMOD_CMD="$LMOD_CMD" \
    bash --norc --noprofile -c 'm() { eval "$("$LMOD_CMD" bash "$@")"; }
        m load s; m reset; echo "$LOADEDMODULES ${S_VAR-unset}"' 2>/dev/null)
MP=$work/rs EXTRA=SHELF_SYSTEM_DEFAULT_MODULES=a
sh_run 'module load s; module reset; echo "$LOADEDMODULES ${S_VAR-unset}"'
MP= EXTRA=
is "$(cat "$work/out")" "$lmod_reset" "reset unloads a sticky module and loads the defaults, as Lmod"
is "$lmod_reset" "a/1.0 unset" "(Lmod itself: the sticky module and its S_VAR are gone)"

# ---- Lmod agrees on the plain round trip -------------------------------------------
lmod_home=$work/lmod-home
mkdir -p "$lmod_home"
lmod_lm=$(env -i HOME="$lmod_home" PATH=/usr/bin:/bin MODULEPATH="$core" LMOD_IGNORE_CACHE=1 \
    LMOD_CMD="$LMOD_CMD" bash --norc --noprofile -c '
        m() { eval "$("$LMOD_CMD" bash "$@")"; }
        m load torchvision gcc; m load openmpi; m save rt; m purge; m restore rt
        echo "$LOADEDMODULES"' 2>/dev/null)
sh_run 'module load torchvision gcc; module load openmpi; module save rt; module purge
module restore rt; echo "$LOADEDMODULES"'
is "$(cat "$work/out")" "$lmod_lm" "restore gives the modules Lmod's restore gives"
grep -q 'Restoring modules from collection "rt"' "$work/err" &&
    pass "restore says which collection it restores" ||
    fail "restore says which collection it restores" "$(cat "$work/err")"

# ---- versions stay pinned when the default moves on ---------------------------------
sh_run 'module load torchvision; module save pin'
cp "$core/torch/2.2.0.lua" "$core/torch/9.0.0.lua"
sh_run 'module load torchvision; echo "$LOADEDMODULES"'
is "$(cat "$work/out")" "python/3.11.8:torch/9.0.0:torchvision/0.17.0" \
    "a new torch is now the default for a plain load"
sh_run 'module restore pin; echo "$LOADEDMODULES"'
is "$(cat "$work/out")" "python/3.11.8:torch/2.2.0:torchvision/0.17.0" \
    "restore loads the dependency at the saved version, not the new default"
sh_run 'module restore pin; module unload torchvision; echo "[$LOADEDMODULES]"'
is "$(cat "$work/out")" "[]" "restored dependencies are still dependencies (they leave with torchvision)"
rm "$core/torch/9.0.0.lua"

# ---- restore without a name ----------------------------------------------------------
sh_run 'module restore; echo "[$LOADEDMODULES]"'
is "$(cat "$work/out")" "[]" "restore without a name and no default collection: nothing loaded"
EXTRA=SHELF_SYSTEM_DEFAULT_MODULES=gcc:cuda
sh_run 'module load R; module restore; echo "[$LOADEDMODULES]"'
is "$(cat "$work/out")" "[gcc/12.3.0:cuda/11.8.0]" \
    "restore without a name and no default collection: SHELF_SYSTEM_DEFAULT_MODULES"
sh_run 'module load python/3.12.2; module save; module purge; module restore; echo "[$LOADEDMODULES]"'
is "$(cat "$work/out")" "[python/3.12.2]" "save/restore without a name use \"default\""
EXTRA=

# ---- a vanished modulefile -------------------------------------------------------------
sh_run 'module load gcc/12.3.0 R; module save gone'
mv "$core/R/4.3.3.lua" "$work/R.lua.away"
sh_run 'module load cuda; printenv > '"$work"'/before; module restore gone; echo "st=$?"
printenv > '"$work"'/after'
grep -q '^st=1$' "$work/out" && pass "restore with a vanished modulefile fails" ||
    fail "restore with a vanished modulefile fails" "$(cat "$work/out" "$work/err")"
grep -q 'R/4.3.3: its modulefile .*R/4.3.3.lua is gone' "$work/err" &&
    pass "the message names the module and its file" ||
    fail "the message names the module and its file" "$(cat "$work/err")"
envdump "$work/before" > "$work/a"
envdump "$work/after" > "$work/b"
cmp -s "$work/a" "$work/b" && pass "a failed restore changes nothing" ||
    fail "a failed restore changes nothing" "$(diff "$work/a" "$work/b" | head)"
sh_run 'module restore --allow-changes gone; echo "st=$? [$LOADEDMODULES]"'
is "$(cat "$work/out")" "st=0 [gcc/12.3.0]" "--allow-changes restores the rest"
grep -q 'restored with changes' "$work/err" && grep -q 'R/4.3.3' "$work/err" &&
    pass "--allow-changes reports what differs" ||
    fail "--allow-changes reports what differs" "$(cat "$work/err")"
sh_run 'module describe gone'
grep -q 'vanished: R/4.3.3' "$work/err" && pass "describe reports the vanished module" ||
    fail "describe reports the vanished module" "$(cat "$work/err")"
mv "$work/R.lua.away" "$core/R/4.3.3.lua"

# ---- an edited modulefile -----------------------------------------------------------------
sh_run 'module load torchvision; module save edit'
cp "$core/torch/2.2.0.lua" "$work/torch.orig"
printf '\nsetenv("TORCH_EDITED", "yes")\n' >> "$core/torch/2.2.0.lua"
sh_run 'module restore edit; echo "st=$? [$LOADEDMODULES]"'
is "$(cat "$work/out")" "st=1 []" "restore with an edited modulefile fails and loads nothing"
grep -q 'torch/2.2.0: its modulefile .*torch/2.2.0.lua changed since the save' "$work/err" &&
    pass "the message says which modulefile changed" ||
    fail "the message says which modulefile changed" "$(cat "$work/err")"
sh_run 'module restore --allow-changes edit; echo "st=$? [$LOADEDMODULES] $TORCH_EDITED"'
is "$(cat "$work/out")" "st=0 [python/3.11.8:torch/2.2.0:torchvision/0.17.0] yes" \
    "--allow-changes loads the edited modulefile"
sh_run '"$SHELF" bash --json describe edit'
python3 - "$work/out" > "$work/py" 2>&1 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print(d["name"], d["format"], [m["fullname"] for m in d["modules"]],
      [(x["module"], x["kind"]) for x in d["drift"]],
      [m["user_loaded"] for m in d["modules"]], d["modules"][0]["needed_by"])
EOF
is "$(cat "$work/py")" "edit 1 ['python/3.11.8', 'torch/2.2.0', 'torchvision/0.17.0'] [('torch/2.2.0', 'changed')] [False, False, True] ['torch']" \
    "describe --json: the modules, who asked for them, and the drift"
cp "$work/torch.orig" "$core/torch/2.2.0.lua"
sh_run 'module describe edit'
grep -q 'Every modulefile is as it was when saved' "$work/err" &&
    pass "describe: nothing changed once the file is back" ||
    fail "describe: nothing changed once the file is back" "$(cat "$work/err")"

# ---- a module that now comes from another file ------------------------------------------------
mkdir -p "$work/site"
MP=$work/site:$core
sh_run 'module load torch; module save moved'
mkdir -p "$work/site/torch"
cp "$core/torch/2.2.0.lua" "$work/site/torch/2.2.0.lua"
sh_run 'module restore moved; echo "st=$? [$LOADEDMODULES]"'
is "$(cat "$work/out")" "st=1 []" "restore fails when a module now resolves to another file"
grep -q "torch/2.2.0 now comes from $work/site/torch/2.2.0.lua" "$work/err" &&
    pass "the message names both files" || fail "the message names both files" "$(cat "$work/err")"
rm -rf "$work/site/torch"
MP=

# ---- savelist, disable ----------------------------------------------------------------------
sh_run 'module savelist'
is "$(cat "$work/err")" "Named collection list:
  1) default
  2) edit
  3) gone
  4) moved
  5) pin
  6) rt" "savelist lists the collections, sorted"
sh_run 'module -t savelist; "$SHELF" bash --json savelist'
is "$(cat "$work/err" "$work/out")" 'default
edit
gone
moved
pin
rt
["default","edit","gone","moved","pin","rt"]' "savelist -t and --json"
sh_run 'module disable moved; echo "st=$?"; module disable moved; echo "st=$?"'
is "$(cat "$work/out")" "st=0
st=1" "disable deletes; deleting again is an error"
[ ! -e "$cdir/moved.json" ] && pass "the file is gone" || fail "the file is gone"
grep -q 'no collection named "moved"' "$work/err" && pass "disable of an unknown name says so" ||
    fail "disable of an unknown name says so" "$(cat "$work/err")"
sh_run 'module restore nosuch; echo "st=$?"'
is "$(cat "$work/out")" "st=1" "restore of an unknown collection fails"
grep -q 'no collection named "nosuch"' "$work/err" && pass "and says so" ||
    fail "and says so" "$(cat "$work/err")"

# ---- bad names -----------------------------------------------------------------------------
for name in 'a/b' '..' '../x' '.hidden' '-x' 'a b' 'x$y'; do
    sh_run "module load gcc; module save '$name'; echo \"st=\$?\""
    if grep -q '^st=1$' "$work/out" && grep -q 'is not a valid collection name' "$work/err"; then
        pass "save refuses the name '$name'"
    else
        fail "save refuses the name '$name'" "$(cat "$work/out" "$work/err")"
    fi
done
[ -z "$(find "$work/home" "$work/home/.config" -maxdepth 1 -name 'x*' 2>/dev/null)" ] &&
    [ ! -e "$work/home/.config/shelf/x.json" ] &&
    pass "no file appears outside the collections directory" ||
    fail "no file appears outside the collections directory" "$(find "$work/home")"
sh_run "module restore '../collections/rt'; echo \"st=\$?\""
grep -q 'is not a valid collection name' "$work/err" && pass "restore refuses a path as a name" ||
    fail "restore refuses a path as a name" "$(cat "$work/err")"

# ---- damaged files ----------------------------------------------------------------------------
printf '{"format": 1, "modules": [\n  {"fullname": "gcc/12.3.0",\n' > "$cdir/broken.json"
sh_run 'module restore broken; echo "st=$?"'
grep -q "collection file $cdir/broken.json is not valid JSON (near line 3)" "$work/err" &&
    grep -q '^st=1$' "$work/out" && pass "a truncated file: error with the file and the line" ||
    fail "a truncated file: error with the file and the line" "$(cat "$work/out" "$work/err")"
sed 's/"sha256":[^,]*/"sha256": "xyz"/' "$cdir/rt.json" > "$cdir/badhash.json"
sh_run 'module restore badhash'
grep -q "badhash.json is damaged: the sha256 of python/3.11.8 is not 64 lowercase hex digits" \
    "$work/err" && pass "a hand-edited digest is named" ||
    fail "a hand-edited digest is named" "$(cat "$work/err")"
sed 's|"file":[^,]*|"file": "relative/path.lua"|' "$cdir/rt.json" > "$cdir/badfile.json"
sh_run 'module describe badfile'
grep -q "is damaged: the file of python/3.11.8 is not an absolute path" "$work/err" &&
    pass "a relative modulefile path is refused" ||
    fail "a relative modulefile path is refused" "$(cat "$work/err")"
printf '{"format": 1, "modules": {"a": 1}}\n' > "$cdir/notlist.json"
sh_run 'module restore notlist'
grep -q 'notlist.json is damaged: it has no "modules" list' "$work/err" &&
    pass "modules that are not a list" || fail "modules that are not a list" "$(cat "$work/err")"
printf '{"format": 7, "modules": []}\n' > "$cdir/future.json"
sh_run 'module restore future'
grep -q 'was written by a newer shelf (format 7' "$work/err" &&
    pass "a file from a newer shelf is recognised" ||
    fail "a file from a newer shelf is recognised" "$(cat "$work/err")"
printf '[1, 2]\n' > "$cdir/array.json"
sh_run 'module restore array'
grep -q 'array.json is damaged: it is not a JSON object' "$work/err" &&
    pass "a JSON array instead of an object" || fail "a JSON array instead of an object" "$(cat "$work/err")"
sh_run 'module -t savelist'
grep -q '^broken$' "$work/err" && pass "savelist still lists a damaged collection" ||
    fail "savelist still lists a damaged collection" "$(cat "$work/err")"
rm -f "$cdir/broken.json" "$cdir/badhash.json" "$cdir/badfile.json" "$cdir/notlist.json" \
    "$cdir/future.json" "$cdir/array.json"

# ---- concurrent saves ---------------------------------------------------------------------------
i=0
while [ $i -lt 16 ]; do
    if [ $((i % 2)) -eq 0 ]; then mods=torchvision; else mods="gcc/12.3.0 openmpi"; fi
    sh_run "module load $mods; module save race" &
    i=$((i + 1))
done
wait
python3 - "$cdir/race.json" > "$work/py" 2>&1 <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(m["fullname"] for m in d["modules"]))
EOF
case $(cat "$work/py") in
"python/3.11.8 torch/2.2.0 torchvision/0.17.0" | "gcc/12.3.0 openmpi/4.1.6")
    pass "16 concurrent saves leave one whole collection" ;;
*) fail "16 concurrent saves leave one whole collection" "$(cat "$work/py")" ;;
esac
left=$(find "$cdir" -name '.*' -type f | wc -l)
is "$left" 0 "no temporary files are left behind"

# ---- a full disk: the old collection stays whole --------------------------------------------------
sh_run 'module load gcc; module save keep'
cp "$cdir/keep.json" "$work/keep.orig"
# (the limit applies to files only: the output goes through a pipe)
sh_run 'module load torchvision R
(trap "" XFSZ; ulimit -f 0; "$SHELF" bash save keep 2>&1; echo "st=$?") | cat'
cat "$work/out" >> "$work/err"
grep -q '^st=1$' "$work/out" && grep -q 'cannot save collection "keep"' "$work/err" &&
    grep -q 'nothing was changed' "$work/err" &&
    pass "a save that cannot write fails with a clear message" ||
    fail "a save that cannot write fails with a clear message" "$(cat "$work/out" "$work/err")"
cmp -s "$work/keep.orig" "$cdir/keep.json" && pass "and the old collection is intact" ||
    fail "and the old collection is intact"
is "$(find "$cdir" -name '.*' -type f | wc -l)" 0 "and no temporary file is left"

# ---- a read-only collections directory -------------------------------------------------------------
if [ "$(id -u)" -eq 0 ]; then ns="unshare -m"; else ns="unshare -r -m"; fi
cat > "$work/ro.sh" <<EOF
mount --bind "$cdir" "$cdir" && mount -o remount,bind,ro "$cdir" || exit 77
. $prefix/share/shelf/init/bash
module load R
module save keep; echo "save=\$?"
module restore keep; echo "restore=\$? [\$LOADEDMODULES]"
EOF
env -i HOME="$work/home" PATH=/usr/bin:/bin:/usr/sbin:/sbin MODULEPATH="$core" \
    $ns bash --norc --noprofile "$work/ro.sh" > "$work/out" 2> "$work/err"
st=$?
if [ $st -eq 77 ] || ! command -v unshare > /dev/null; then
    # No mount namespace here: a directory that cannot be created instead.
    env -i HOME=/sys/kernel PATH=/usr/bin:/bin MODULEPATH="$core" \
        bash --norc --noprofile -c ". $prefix/share/shelf/init/bash
module load R; module save keep; echo save=\$?" > "$work/out" 2> "$work/err"
    grep -q '^save=1$' "$work/out" && grep -q 'cannot create the directory' "$work/err" &&
        pass "save into a directory that cannot be created fails clearly" ||
        fail "save into a directory that cannot be created fails clearly" "$(cat "$work/out" "$work/err")"
else
    is "$(cat "$work/out")" "save=1
restore=0 [gcc/12.3.0]" "read-only directory: save fails, restore still works"
    grep -q 'Read-only file system' "$work/err" && pass "and the message says why" ||
        fail "and the message says why" "$(cat "$work/err")"
fi
cmp -s "$work/keep.orig" "$cdir/keep.json" && pass "the collection survived" ||
    fail "the collection survived"

# ---- where collections live -------------------------------------------------------------------------
XDG=$work/xdg
sh_run 'module load gcc; module save here'
[ -f "$work/xdg/shelf/collections/here.json" ] && pass "XDG_CONFIG_HOME is honoured" ||
    fail "XDG_CONFIG_HOME is honoured" "$(find "$work/xdg" 2>&1)"
XDG=
env -i PATH=/usr/bin:/bin MODULEPATH="$core" XDG_CONFIG_HOME=relative \
    "$SHELF" bash save x > "$work/out" 2> "$work/err"
grep -q 'cannot tell where collections live' "$work/err" &&
    pass "no HOME and a relative XDG_CONFIG_HOME: a clear error" ||
    fail "no HOME and a relative XDG_CONFIG_HOME: a clear error" "$(cat "$work/err")"

# ---- an empty collection ------------------------------------------------------------------------------
sh_run 'module save empty; module load gcc R; module restore empty; echo "[$LOADEDMODULES]"'
is "$(cat "$work/out")" "[]" "restoring an empty collection unloads everything"
grep -q 'restoring it unloads everything' "$work/err" && pass "saving an empty set says so" ||
    fail "saving an empty set says so" "$(cat "$work/err")"

# ---- completion offers the collections ------------------------------------------------
cp "$SHELF_SRCDIR/shell-init/bash-completion" "$SHELF_SRCDIR/shell-init/fish-completion" \
    "$prefix/share/shelf/init/"
sh_run 'module -t savelist'
want=$(sort "$work/err")
sh_run '. '"$prefix"'/share/shelf/init/bash-completion
COMP_WORDS=(module restore ""); COMP_CWORD=2; __shelf_complete_module
printf "%s\n" "${COMPREPLY[@]}"'
is "$(sort "$work/out")" "$want" "bash: module restore TAB offers the collections"
env -i HOME="$work/home" PATH=/usr/bin:/bin MODULEPATH="$core" \
    fish --no-config -c "source $prefix/share/shelf/init/fish
source $prefix/share/shelf/init/fish-completion
complete -C 'module describe '" > "$work/out" 2> "$work/err"
is "$(cut -f1 "$work/out" | sort)" "$want" "fish: module describe TAB offers the collections"

done_testing
