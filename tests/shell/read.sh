#!/bin/bash
# tests/shell/read.sh -- the read-only subcommands (list, avail, spider,
# keyword, whatis, help, show, is-loaded, is-avail), their --help texts and
# --json output.
#
# Where the formats are meant to agree, shelf's output is compared with
# Debian's Lmod on the same trees, in clean environments: a small tree made
# here (defaults, hidden versions, N/V/V names, a Tcl file, an alias, a
# property, a missing MODULEPATH directory) and the sample tree in
# $SHELF_SRCDIR/modulefiles. Without Lmod those comparisons are skipped.

. "${SHELF_SRCDIR:?SHELF_SRCDIR must point at the source tree}/tests/lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/shelf-read.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

have_lmod=0
[ -x "$LMOD_CMD" ] && have_lmod=1
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }

# ---- a small tree ---------------------------------------------------------
t=$tmp/tree
mkdir -p "$t/A/foo" "$t/A/bar" "$t/A/Zed" "$t/A/fftw/3.3" "$t/A/tclmod" "$t/B/foo" "$t/B/baz"
cat >"$t/A/foo/1.0.lua" <<'EOF'
whatis("Description: Foo one")
whatis("Category: tools")
help([[Foo help text
second line]])
setenv("FOO", "1")
prepend_path("PATH", "/opt/foo/bin")
add_property("arch", "gpu")
EOF
cat >"$t/A/foo/2.0.lua" <<'EOF'
whatis("Description: Foo two")
whatis("Keywords: alpha, beta")
setenv("FOO", "2")
EOF
echo 'whatis("Description: hidden foo")' >"$t/A/foo/.3.0.lua"
echo 'whatis("Description: Bar")' >"$t/A/bar/1.lua"
echo 'whatis("Description: Bar 10")' >"$t/A/bar/10.lua"
echo 'module_version("bar/1", "default")' >"$t/A/bar/.modulerc.lua"
echo 'module_alias("quux", "foo/1.0")' >"$t/A/.modulerc.lua"
echo 'whatis("Description: zed")' >"$t/A/Zed/0.1.lua"
echo 'whatis("Description: fftw mpi")' >"$t/A/fftw/3.3/mpi.lua"
echo 'whatis("Description: fftw serial")' >"$t/A/fftw/3.3/serial.lua"
printf '#%%Module\nmodule-whatis "tcl thing"\nsetenv TCLV 1\n' >"$t/A/tclmod/1.0"
echo 'whatis("Description: foo in B")' >"$t/B/foo/1.0.lua"
echo 'whatis("Description: foo 3 in B")' >"$t/B/foo/3.0.lua"
printf 'whatis("Description: baz")\nadd_property("lmod", "sticky")\n' >"$t/B/baz/1.0.lua"
small_mp=$t/A:$t/missing:$t/B

sample=$(cd "$SHELF_SRCDIR/modulefiles" 2>/dev/null && pwd)
[ -d "$sample/Core" ] || sample=

# out MP TOOL ARGS...: TOOL's stderr (what the person reads), paths of the
# temp dir normalised; the exit status is TOOL's.
out() {
    local mp=$1 tool=$2; shift 2
    rm -rf "${tmp:?}/home"; mkdir "$tmp/home"
    env -i HOME="$tmp/home" PATH=/usr/bin:/bin TERM=dumb LMOD_IGNORE_CACHE=1 \
        MODULEPATH="$mp" "$tool" bash "$@" 2>"$tmp/err" >"$tmp/stdout"
    local st=$?
    sed "s|$tmp|TMP|g" "$tmp/err"
    return $st
}

# session MP TOOL SCRIPT: runs SCRIPT in bash with `module` calling TOOL
# (keeping TOOL's exit status); prints its stderr and stdout, normalised.
session() {
    local mp=$1 tool=$2 script=$3
    rm -rf "${tmp:?}/home"; mkdir "$tmp/home"
    env -i HOME="$tmp/home" PATH=/usr/bin:/bin TERM=dumb LMOD_IGNORE_CACHE=1 \
        MODULEPATH="$mp" MODCMD="$tool" \
        bash -c 'module() {
                     local code st
                     code=$("$MODCMD" bash "$@"); st=$?
                     eval "$code"
                     return $st
                 }
                 '"$script" 2>&1 </dev/null | sed "s|$tmp|TMP|g"
}

# Lmod's avail ends with hints naming commands shelf does not have; the
# listing itself (blocks, markers, legend) must agree.
cut_tail() { sed '/^If the avail list is too long/,$d'; }

# same NAME MP ARGS...: shelf prints exactly what Lmod prints.
same() {
    local name=$1 mp=$2; shift 2
    if [ $have_lmod = 0 ]; then skip "$name" "no Lmod"; return; fi
    local want got
    want=$(out "$mp" "$LMOD_CMD" "$@" | cut_tail)
    got=$(out "$mp" "$SHELF" "$@" | cut_tail)
    if [ "$got" = "$want" ]; then pass "$name"; else
        fail "$name" "$(diff <(echo "$want") <(echo "$got") | head -20)"; fi
}

# same_session NAME MP SCRIPT: the whole session prints the same.
same_session() {
    local name=$1 mp=$2 script=$3
    if [ $have_lmod = 0 ]; then skip "$name" "no Lmod"; return; fi
    local want got
    want=$(session "$mp" "$LMOD_CMD" "$script")
    got=$(session "$mp" "$SHELF" "$script")
    if [ "$got" = "$want" ]; then pass "$name"; else
        fail "$name" "$(diff <(echo "$want") <(echo "$got") | head -20)"; fi
}

# ---- avail ---------------------------------------------------------------------
same "-t avail on a small tree" "$small_mp" -t avail
same "-t -d avail" "$small_mp" -t -d avail
same "-t avail with a search word" "$small_mp" -t avail FOO
same "--show_hidden -t avail" "$small_mp" --show_hidden -t avail
same "avail (columns, markers, aliases, legend)" "$small_mp" avail
same "-d avail" "$small_mp" -d avail
same "--show_hidden avail" "$small_mp" --show_hidden avail
got=$(out "$small_mp" "$SHELF" -t avail)
case $got in
    *"TMP/tree/missing"*) fail "a missing MODULEPATH directory is skipped" "$got" ;;
    *) pass "a missing MODULEPATH directory is skipped" ;;
esac
case $got in
    *"tclmod/1.0"*) pass "Tcl modulefiles are listed" ;;
    *) fail "Tcl modulefiles are listed" "$got" ;;
esac
case $got in
    *"foo/.3.0"*) fail "hidden modules are not listed without --show-hidden" "$got" ;;
    *) pass "hidden modules are not listed without --show-hidden" ;;
esac
got=$(out "$small_mp" "$SHELF" avail)
if printf '%s\n' "$got" | grep -Eq 'foo/1\.0 +\(g\)' &&
   printf '%s\n' "$got" | grep -Eq 'baz/1\.0 +\(S\)' &&
   printf '%s\n' "$got" | grep -Eq 'foo/3\.0 +\(D\)' &&
   printf '%s\n' "$got" | grep -q '^   g:  built for GPU$'; then
    pass "avail marks properties and defaults, with a legend"
else
    fail "avail marks properties and defaults, with a legend" "$got"
fi

# ---- list --------------------------------------------------------------------
same_session "list and -t list after loads" "$small_mp" \
    'module load foo/1.0 bar baz; module list; module -t list; module list FO; module list zzz'
same_session "list with nothing loaded" "$small_mp" 'module list; module -t list'
same_session "avail marks loaded modules" "$small_mp" \
    'module load foo/1.0 bar; module avail 2>&1 | sed "/^If the avail list/,\$d"'
got=$(session "$small_mp" "$SHELF" 'module load foo/1.0 bar; module -t list')
is "$got" "foo/1.0
bar/1" "-t list prints the loaded full names in load order"

# ---- whatis, help, show --------------------------------------------------------------
same "whatis" "$small_mp" whatis foo/1.0 bar
same "whatis of a Tcl modulefile" "$small_mp" whatis tclmod
same "help" "$small_mp" help foo/1.0
same "show" "$small_mp" show foo/1.0
got=$(out "$small_mp" "$SHELF" whatis foo/1.0)
is "$got" "foo/1.0             : Description: Foo one
foo/1.0             : Category: tools" "whatis pads the full name to 20 columns"
got=$(out "$small_mp" "$SHELF" show foo/1.0)
case $got in
    *"TMP/tree/A/foo/1.0.lua:"*'setenv("FOO","1")'*'prepend_path("PATH","/opt/foo/bin")'*'add_property("arch","gpu")'*)
        pass "show names the file and lists the calls" ;;
    *) fail "show names the file and lists the calls" "$got" ;;
esac
for cmd in whatis help show; do
    got=$(out "$small_mp" "$SHELF" $cmd nosuchmodule); st=$?
    is "$st" 1 "$cmd of an unknown module exits 1"
    case $got in
        *error*nosuchmodule*) pass "$cmd of an unknown module says so" ;;
        *) fail "$cmd of an unknown module says so" "$got" ;;
    esac
done

# ---- is-loaded, is-avail -----------------------------------------------------
probe='module load foo/1.0 baz
for a in "is-loaded foo" "is-loaded foo/1.0" "is-loaded foo/1" "is-loaded bar" "is-loaded foo baz" \
         "is-avail foo" "is-avail foo/2.0" "is-avail foo/.3.0" "is-avail nope" "is-avail quux" \
         "is-avail fftw/3.3/mpi" "is-avail bar nope"; do
    module $a; echo "$a: $?"
done'
got=$(session "$small_mp" "$SHELF" "$probe")
case $got in
    *"is-loaded foo: 0"*"is-loaded foo/1: 1"*"is-loaded bar: 1"*"is-avail foo: 0"*"is-avail nope: 1"*)
        pass "is-loaded/is-avail exit statuses" ;;
    *) fail "is-loaded/is-avail exit statuses" "$got" ;;
esac
same_session "is-loaded/is-avail exit statuses agree with Lmod" "$small_mp" "$probe"

# ---- spider, keyword -------------------------------------------------------------
same "spider -t" "$small_mp" -t spider
same "spider NAME/VERSION" "$small_mp" spider fftw/3.3/mpi
same "keyword" "$small_mp" keyword foo
got=$(out "$small_mp" "$SHELF" spider nosuchmodule); st=$?
is "$st" 1 "spider of an unknown name exits 1"

if [ -n "$sample" ]; then
    core=$sample/Core
    same "sample tree: -t avail" "$core" -t avail
    same "sample tree: avail" "$core" avail
    same "sample tree: spider -t" "$core" -t spider
    same "sample tree: spider hdf5/1.14.3" "$core" spider hdf5/1.14.3
    same "sample tree: spider openmpi" "$core" spider openmpi
    same "sample tree: spider gcc/12.3.0" "$core" spider gcc/12.3.0
    same "sample tree: keyword mpi" "$core" keyword mpi
    same "sample tree: whatis gcc cuda" "$core" whatis gcc cuda
    same "sample tree: show gcc" "$core" show gcc
    got=$(out "$core" "$SHELF" spider hdf5/1.14.3)
    case $got in
        *'before the "hdf5/1.14.3" module is available to load.'*"gcc/12.3.0  openmpi/4.1.6"*"gcc/13.2.0  openmpi/4.1.6"*)
            pass "spider NAME/VERSION names the modules to load first" ;;
        *) fail "spider NAME/VERSION names the modules to load first" "$got" ;;
    esac
    got=$(out "$core" "$SHELF" spider gcc/12.3.0)
    case $got in
        *"This module can be loaded directly: module load gcc/12.3.0"*)
            pass "spider says when a module loads directly" ;;
        *) fail "spider says when a module loads directly" "$got" ;;
    esac
    same_session "sample tree: list with inactive modules" "$core" \
        "module load gcc/12.3.0 openmpi hdf5 cuda; module list; module -t list
         module unuse $sample/Compiler/gcc/12 2>/dev/null; module list; module -t list"
    same_session "sample tree: spider with a level loaded" "$core" \
        'module load gcc/12.3.0 openmpi; module spider hdf5/1.14.3; module spider openmpi/4.1.6'
else
    skip "sample tree comparisons" "no sample tree"
fi

# ---- --json --------------------------------------------------------------------
json_ok() {
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert isinstance(d, list)' 2>/dev/null
}
for args in "avail" "spider" "keyword foo" "list"; do
    out "$small_mp" "$SHELF" --json $args >/dev/null
    if json_ok <"$tmp/stdout"; then pass "--json $args parses"; else
        fail "--json $args parses" "$(head -c 400 "$tmp/stdout")"; fi
done
out "$small_mp" "$SHELF" --json avail >/dev/null
got=$(python3 -c 'import json,sys
d = json.load(sys.stdin)
foo = [m for m in d if m["fullname"] == "foo/1.0"][0]
print(foo["name"], foo["version"], foo["properties"]["arch"][0], foo["description"], foo["default"])' <"$tmp/stdout")
is "$got" "foo 1.0 gpu Foo one False" "--json avail describes each module"
got=$(session "$small_mp" "$SHELF" 'module load foo/1.0; "$MODCMD" bash --json list 2>/dev/null' |
      python3 -c 'import json,sys; print([m["fullname"] for m in json.load(sys.stdin)])')
is "$got" "['foo/1.0']" "--json list lists the loaded modules"
# whatis --json: one object per module, the whatis lines as Lmod's whatis
# prints them after the name; an unknown module fails but the JSON stays valid.
out "$small_mp" "$SHELF" whatis foo/1.0 >/dev/null
want=$(sed -n 's/^foo\/1\.0 *: //p' "$tmp/err" | tr '\n' '|')
out "$small_mp" "$SHELF" --json whatis foo/1.0 nosuch >/dev/null; st=$?
got=$(python3 -c 'import json,sys
d = json.load(sys.stdin)
print(len(d), d[0]["name"], "|".join(d[0]["whatis"]) + "|")' <"$tmp/stdout")
is "$st:$got" "1:1 foo/1.0 $want" "--json whatis: lines as whatis prints them; unknown module fails"

# ---- help texts ------------------------------------------------------------------
for cmd in load try-load unload swap purge reload refresh use unuse reset list avail \
           spider whatis help show keyword is-loaded is-avail save restore savelist \
           describe disable; do
    got=$(out "$small_mp" "$SHELF" $cmd --help); st=$?
    case "$st:$got" in
        "0:Usage: module "*) pass "$cmd --help" ;;
        *) fail "$cmd --help" "status $st" "$got" ;;
    esac
done
got=$(out "$small_mp" "$SHELF" help); st=$?
case "$st:$got" in
    0:*"Usage: module"*"Loading/Unloading"*"Listing / Searching"*"collection"*) pass "help without a module: the overview" ;;
    *) fail "help without a module: the overview" "status $st" "$got" ;;
esac

done_testing
