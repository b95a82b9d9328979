#!/bin/sh
# tests/shell/index.sh -- `shelf index` and the read commands answering
# from it: the same bytes with and without an index (sample tree, flat and
# with a compiler level loaded), a stale index gives a hint and the answer
# of the tree, --check, --quiet, concurrent builds, the user's cache.
. "$SHELF_SRCDIR/tests/lib.sh"

t=$(mktemp -d)
trap 'chmod -R u+w "$t" 2>/dev/null; rm -rf "$t"' EXIT
cp -R "$SHELF_SRCDIR/modulefiles" "$t/mf"
core="$t/mf/Core"
comp=$(ls -d "$t"/mf/Compiler/gcc/* | head -1)
export XDG_CACHE_HOME="$t/cache" HOME="$t"

# run MODULEPATH ARGS...: stdout and stderr of `shelf bash ARGS`, and the status
run() {
    mp=$1; shift
    env -i HOME="$t" PATH=/usr/bin:/bin XDG_CACHE_HOME="$t/cache" MODULEPATH="$mp" \
        COLUMNS=100 "$SHELF" bash "$@" 2>&1
    echo "status $?"
}

cmds="avail|avail -t|avail -d|--json avail|avail gcc|spider|spider -t|--json spider|spider gcc|spider openmpi|spider hdf5/1.14.3|spider -t py|--json spider hdf5|keyword mpi|keyword -t python|--json keyword mpi|whatis gcc|is-avail gcc|is-avail nope"
all() {
    echo "$cmds" | tr '|' '\n' | while read -r c; do
        echo "== $c"
        # shellcheck disable=SC2086
        run "$1" $c
    done
}

for mp in "$core" "$comp:$core"; do
    rm -rf "$core/.shelf"
    all "$mp" >"$t/walk"
    "$SHELF" index --quiet "$core" >"$t/quiet" 2>&1
    is "$(cat "$t/quiet")" "" "--quiet prints nothing"
    [ -f "$core/.shelf/index.db" ] && pass "index written next to the tree" ||
        fail "index written next to the tree"
    all "$mp" >"$t/indexed"
    if cmp -s "$t/walk" "$t/indexed"; then
        pass "same output with and without the index (MODULEPATH=${mp#$t/})"
    else
        fail "same output with and without the index (MODULEPATH=${mp#$t/})" \
            "$(diff "$t/walk" "$t/indexed" | head -20)"
    fi
done

# Spider mode answers as a fresh login would (nothing loaded; isAvail()
# with the modulefile's own directory alone), whoever runs it: a walk of
# the tree says what an index built by anyone else says.
sp="$t/spider"
mkdir -p "$sp/a/foo" "$sp/b/bar" "$sp/b/baz"
cat >"$sp/a/foo/1.0.lua" <<'EOF'
if isAvail("bar") then whatis("Description: sees bar") else whatis("Description: no bar") end
if isloaded("baz") then help("baz is loaded") else help("baz is not loaded") end
EOF
echo 'whatis("Description: bar")' >"$sp/b/bar/1.0.lua"
echo 'whatis("Description: baz")' >"$sp/b/baz/1.0.lua"
semantics() { # with baz loaded: avail, spider and keyword
    env -i HOME="$t" PATH=/usr/bin:/bin XDG_CACHE_HOME="$t/cache" MODULEPATH="$sp/a:$sp/b" \
        COLUMNS=100 SHELF="$SHELF" sh -c '
        eval "$("$SHELF" sh load baz)"
        for c in "--json avail" "spider foo/1.0" "--json spider foo" "keyword bar"; do
            echo "== $c"; "$SHELF" sh $c 2>&1
        done'
}
semantics >"$t/walk2"
"$SHELF" index -q "$sp/a" && "$SHELF" index -q "$sp/b"
semantics >"$t/indexed2"
if cmp -s "$t/walk2" "$t/indexed2"; then
    pass "isAvail() and isloaded() in spider mode: the same with and without an index"
else
    fail "isAvail() and isloaded() in spider mode: the same with and without an index" \
        "$(diff "$t/walk2" "$t/indexed2" | head -20)"
fi
case $(cat "$t/walk2") in
    *"no bar"*"baz is not loaded"*) pass "spider mode answers as a fresh login would" ;;
    *) fail "spider mode answers as a fresh login would" "$(cat "$t/walk2")" ;; esac

# The answers do come from the index: an in-place edit of a modulefile
# (its directory unchanged) shows only after `shelf index`.
f=$(ls "$core"/gcc/*.lua | tail -1)
sed 's/Description: [^"]*/Description: EDITED IN PLACE/' "$f" >"$t/edit" && cat "$t/edit" >"$f"
got=$(run "$core" spider gcc)
case $got in *"EDITED IN PLACE"*) fail "spider answers from the index" "$got" ;;
    *) pass "spider answers from the index" ;; esac
"$SHELF" index -q "$core"
got=$(run "$core" spider gcc)
case $got in *"EDITED IN PLACE"*) pass "re-index picks up the edited modulefile" ;;
    *) fail "re-index picks up the edited modulefile" "$got" ;; esac

perm=$(stat -c %a "$core/.shelf/index.db")
is "$perm" 644 "the index is readable by all"

out=$("$SHELF" index --check "$core"); st=$?
is "$st" 0 "--check of a fresh index exits 0"
case $out in *"is fresh"*) pass "--check says fresh" ;; *) fail "--check says fresh" "$out" ;; esac

# A stale index: a new version appears; the answer is the tree's, with a hint.
mkdir -p "$core/newpkg"
echo 'whatis("Description: brand new")' >"$core/newpkg/1.0.lua"
got=$(run "$core" avail -t)
case $got in
    *"is stale"*"shelf index"*newpkg/1.0*) pass "stale index: hint and the new module" ;;
    *) fail "stale index: hint and the new module" "$got" ;;
esac
hints=$(printf '%s\n' "$got" | grep -c "is stale")
is "$hints" 1 "one hint line"
out=$("$SHELF" index --check "$core"); st=$?
is "$st" 1 "--check of a stale index exits 1"
"$SHELF" index -q "$core"
got=$(run "$core" spider newpkg)
case $got in
    *"brand new"*) pass "re-indexed: spider finds the new module" ;;
    *) fail "re-indexed: spider finds the new module" "$got" ;;
esac
case $got in *stale*) fail "no hint once fresh" "$got" ;; *) pass "no hint once fresh" ;; esac

# Broken modulefiles are listed by --check, not fatal.
mkdir -p "$core/bad"
echo 'whatis("Description: bad") this is not lua' >"$core/bad/1.0.lua"
"$SHELF" index -q "$core"; st=$?
is "$st" 0 "a broken modulefile does not fail the index"
out=$("$SHELF" index --check "$core")
case $out in *"broken: $core/bad/1.0.lua"*) pass "--check lists the broken modulefile" ;;
    *) fail "--check lists the broken modulefile" "$out" ;; esac

# Corrupt index: garbage in place of the file -> the tree's answer and a hint.
rm -rf "$core/bad"
"$SHELF" index -q "$core"
all "$core" >"$t/good"
printf 'garbage garbage garbage garbage garbage garbage garbage garbage garbage\n' \
    >"$core/.shelf/index.db"
got=$(run "$core" avail -t)
case $got in *"unusable"*newpkg/1.0*) pass "corrupt index: hint and the tree's answer" ;;
    *) fail "corrupt index: hint and the tree's answer" "$got" ;; esac
out=$("$SHELF" index --check "$core"); st=$?
is "$st" 1 "--check of a corrupt index exits 1"

# Two builds at once, five times: the index is whole after each pair.
ok=1
for i in 1 2 3 4 5; do
    "$SHELF" index -q --full "$core" & p1=$!
    "$SHELF" index -q --full "$core" & p2=$!
    wait $p1 || ok=0
    wait $p2 || ok=0
    "$SHELF" index --check -q "$core" >/dev/null || ok=0
done
is "$ok" 1 "concurrent builds leave a valid, fresh index"
all "$core" >"$t/after"
cmp -s "$t/good" "$t/after" && pass "answers after concurrent builds" ||
    fail "answers after concurrent builds" "$(diff "$t/good" "$t/after" | head)"
left=$(ls "$core/.shelf" | grep -v '^index.db' | wc -l)
is "$left" 0 "no temp files left behind"

# An unwritable DIR goes to XDG_CACHE_HOME (skipped as root: root writes anywhere).
if [ "$(id -u)" != 0 ]; then
    cp -R "$SHELF_SRCDIR/modulefiles" "$t/ro"
    chmod -R a-w "$t/ro"
    "$SHELF" index -q "$t/ro/Core"
    n=$(ls "$t/cache/shelf/" 2>/dev/null | grep -c '^index-.*\.db$')
    is "$n" 1 "unwritable DIR: the index goes to \$XDG_CACHE_HOME/shelf"
    got=$("$SHELF" index --check "$t/ro/Core")
    case $got in *"$t/cache/shelf/index-"*fresh*) pass "readers find the cached index" ;;
        *) fail "readers find the cached index" "$got" ;; esac
else
    "$SHELF" index -q --output "$XDG_CACHE_HOME/x/idx.db" "$core"
    [ -f "$XDG_CACHE_HOME/x/idx.db" ] && pass "--output names the file" || fail "--output names the file"
fi

# Timestamp mode (--timestamp FILE), as Lmod's system cache: trusted while
# FILE is untouched and the level roots are unchanged.
rm -rf "$core/.shelf"
all "$core" >"$t/stampwalk"
"$SHELF" index -q --timestamp "$t/stamp" "$core"
[ -f "$t/stamp" ] && pass "--timestamp creates the file" || fail "--timestamp creates the file"
out=$("$SHELF" index --check "$core"); st=$?
is "$st" 0 "--check of a fresh timestamp index exits 0"
case $out in *"timestamp mode"*"$t/stamp"*) pass "--check names the timestamp mode" ;;
    *) fail "--check names the timestamp mode" "$out" ;; esac
all "$core" >"$t/stamped"
cmp -s "$t/stamped" "$t/stampwalk" && pass "timestamp index: same output as the tree" ||
    fail "timestamp index: same output as the tree" "$(diff "$t/stamped" "$t/stampwalk" | head)"
# The documented trade-off: a version added inside a package directory is
# not seen while FILE is untouched.
echo 'whatis("Description: quiet version")' >"$core/newpkg/9.9.lua"
got=$(run "$core" avail -t)
case $got in *newpkg/9.9*|*stale*) fail "timestamp index: trusted while FILE is untouched" "$got" ;;
    *) pass "timestamp index: trusted while FILE is untouched" ;; esac
# SHELF_INDEX_CHECK=dirs: the full check all the same.
got=$(env -i HOME="$t" PATH=/usr/bin:/bin XDG_CACHE_HOME="$t/cache" MODULEPATH="$core" \
      SHELF_INDEX_CHECK=dirs "$SHELF" bash avail -t 2>&1)
case $got in *"is stale"*newpkg/9.9*) pass "SHELF_INDEX_CHECK=dirs checks every directory" ;;
    *) fail "SHELF_INDEX_CHECK=dirs checks every directory" "$got" ;; esac
touch "$t/stamp"
got=$(run "$core" avail -t)
case $got in *"is stale"*"$t/stamp"*newpkg/9.9*) pass "timestamp index: stale once FILE is touched" ;;
    *) fail "timestamp index: stale once FILE is touched" "$got" ;; esac
out=$("$SHELF" index --check "$core"); st=$?
is "$st" 1 "--check: stale once FILE is touched"
"$SHELF" index -q --timestamp "$t/stamp" "$core"
got=$(run "$core" avail -t)
case $got in *stale*) fail "re-indexed timestamp index is fresh" "$got" ;;
    *newpkg/9.9*) pass "re-indexed timestamp index is fresh" ;;
    *) fail "re-indexed timestamp index is fresh" "$got" ;; esac
mkdir -p "$core/otherpkg"
echo 'whatis("Description: other")' >"$core/otherpkg/1.0.lua"
got=$(run "$core" avail -t)
case $got in *"is stale"*otherpkg/1.0*) pass "timestamp index: a new package at a level root is seen" ;;
    *) fail "timestamp index: a new package at a level root is seen" "$got" ;; esac
rm -rf "$core/otherpkg" "$core/newpkg/9.9.lua"
rm -f "$t/stamp"
got=$(run "$core" avail -t)
case $got in *"is stale"*) pass "timestamp index: stale when FILE is removed" ;;
    *) fail "timestamp index: stale when FILE is removed" "$got" ;; esac
rm -rf "$core/.shelf"

# A generated three-level tree (bench/gen-tree: a few hundred modules with
# whatis, help, properties, hidden versions) with a compiler and an MPI
# loaded: the streamed answers of the index are the tree's, byte for byte,
# in both freshness modes.
if [ -x "$SHELF_SRCDIR/bench/gen-tree" ] && command -v python3 >/dev/null; then
    python3 "$SHELF_SRCDIR/bench/gen-tree" 200 "$t/gen" >/dev/null 2>&1
    . "$t/gen/bench.env"
    gcore="$t/gen/lua/Core"
    gmp=$(env -i HOME="$t" PATH=/usr/bin:/bin MODULEPATH="$gcore" "$SHELF" bash load \
        "$COMPILER" "$MPI" 2>/dev/null | tr ';' '\n' | sed -n 's/^ *MODULEPATH=//p' |
        sed "s/^'//; s/'$//")
    case $gmp in */MPI/*:*/Compiler/*:"$gcore") pass "generated tree: $COMPILER and $MPI open their levels" ;;
        *) fail "generated tree: $COMPILER and $MPI open their levels" "$gmp" ;; esac
    gcmds="avail|avail -t|avail -d|avail -t -d|--json avail|--show_hidden avail|avail $SPIDER_NAME"
    gcmds="$gcmds|spider|spider -t|spider $SPIDER_NAME|--json spider $SPIDER_NAME"
    v=$(ls "$gcore/$SPIDER_NAME" 2>/dev/null | sed -n 's/\.lua$//p' | head -1)
    gcmds="$gcmds|spider $SPIDER_NAME/$v|keyword $KEYWORD|keyword $KEYWORD model a"
    gcmds="$gcmds|keyword -t $KEYWORD|--json keyword $KEYWORD|--json spider|is-avail $SPIDER_NAME"
    cmds=$gcmds
    all "$gmp" >"$t/genwalk"
    "$SHELF" index -q "$gcore"
    all "$gmp" >"$t/genix"
    cmp -s "$t/genwalk" "$t/genix" && pass "generated tree: same output with the index" ||
        fail "generated tree: same output with the index" "$(diff "$t/genwalk" "$t/genix" | head -20)"
    rm -rf "$gcore/.shelf"
    "$SHELF" index -q --timestamp "$t/genstamp" "$gcore"
    all "$gmp" >"$t/genstamped"
    cmp -s "$t/genwalk" "$t/genstamped" && pass "generated tree: same output, timestamp mode" ||
        fail "generated tree: same output, timestamp mode" \
            "$(diff "$t/genwalk" "$t/genstamped" | head -20)"
    grep -q "is stale" "$t/genix" "$t/genstamped" && fail "generated tree: no hint when fresh" ||
        pass "generated tree: no hint when fresh"
else
    pass "# SKIP no bench/gen-tree or python3"
fi

"$SHELF" index >/dev/null 2>&1; st=$?
is "$st" 2 "index without DIR is a usage error"

done_testing
