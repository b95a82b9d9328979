#!/bin/sh
# tests/shell/init.sh -- the shell-init files with the real shelf binary,
# in every shell, from a clean login environment.
#
# The init files and the binary are laid out as `make install` does
# (PREFIX/share/shelf/init/<shell>, PREFIX/bin/shelf). bash, zsh, ksh and
# fish get PATH=/usr/bin:/bin and must find PREFIX/bin/shelf beside their
# init file by themselves; sh and csh/tcsh cannot know their init file's
# path, so they get PREFIX/bin on PATH (as a site profile would set it).
# In each shell: `module --version` succeeds; `module load nosuchmodule`
# fails and leaves the environment exactly as it was; `module load a` sets
# A_VAR (and B_VAR, with a newline, quotes and `!`) byte for byte;
# `module unload a` removes them; `ml a` / `ml` / `ml -a` do the same;
# `module --json avail` shows its JSON (on stderr) instead of evaluating it.
. "$SHELF_SRCDIR/tests/lib.sh"

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
mkdir -p "$prefix/bin" "$prefix/share/shelf/init" "$work/home" "$work/tmp" "$work/mp"
for f in bash zsh sh ksh csh tcsh fish bash-completion zsh-completion fish-completion; do
    cp "$SHELF_SRCDIR/shell-init/$f" "$prefix/share/shelf/init/$f"
done
ln -s "$SHELF" "$prefix/bin/shelf"

cat > "$work/mp/a.lua" <<'EOF'
setenv("A_VAR", "x y $z")
setenv("B_VAR", "line 1\nline 2 !x 'q' \"d\" `b` \\")
EOF
printf 'x y $z\n' > "$work/a_expected"
printf 'line 1\nline 2 !x '"'q'"' "d" `b` \\\n' > "$work/b_expected"

# Runs $work/script in SHELL from a clean login environment.
run() { # SHELL
    path=/usr/bin:/bin
    case $1 in dash|tcsh|csh) path=$prefix/bin:$path ;; esac
    case $1 in
        tcsh|csh) set -- "$1" -f ;;
        fish) set -- fish --no-config ;;
        bash) set -- bash --norc --noprofile ;;
    esac
    env -i HOME="$work/home" PATH="$path" TMPDIR="$work/tmp" MODULEPATH="$work/mp" \
        "$@" "$work/script" > "$work/stdout" 2> "$work/stderr"
}

# Writes the test script for SHELL from a neutral description: each line
# of the here-documents below is in that shell's own syntax.
script_for() { # SHELL
    init=$prefix/share/shelf/init/$1
    [ "$1" = dash ] && init=$prefix/share/shelf/init/sh
    # The things the shells spell differently.
    case $1 in
    tcsh|csh) src=source st='$status' isset='if ($?A_VAR) echo' jsonout= ;;
    fish) src=source st='$status' isset='set -q A_VAR; and echo' jsonout=" > $work/json_out" ;;
    *) src=. st='$?' isset='[ -n "${A_VAR+x}" ] \&\& echo' jsonout=" > $work/json_out" ;;
    esac
    # (csh cannot redirect an alias that redirects itself: there the
    # JSON simply must not reach the evaluation)
    sed -e "s|@SRC@|$src|" -e "s|@ST@|$st|" -e "s|@ISSET@|$isset|" -e "s|@JSONOUT@|$jsonout|" \
        > "$work/script" <<EOF
@SRC@ $init
module --version
echo "version=@ST@"
printenv > $work/env-before
module load nosuchmodule
echo "bad=@ST@"
printenv > $work/env-after
module load a
echo "load=@ST@"
printenv A_VAR > $work/a_got
printenv B_VAR > $work/b_got
module unload a
echo "unload=@ST@"
@ISSET@ "A_VAR still set"
ml a
echo "ml-load=@ST@"
printenv A_VAR > $work/a_ml
ml
echo "ml=@ST@"
ml -a
echo "ml-unload=@ST@"
@ISSET@ "A_VAR still set after ml -a"
module --json avail@JSONOUT@
echo "json=@ST@"
EOF
}

status_of() { # KEY: the value printed as KEY=N
    sed -n "s/^$1=//p" "$work/stdout"
}

for sh in bash zsh dash ksh tcsh csh fish; do
    if ! command -v "$sh" > /dev/null 2>&1; then
        fail "$sh is installed (needed for the init tests)"
        continue
    fi
    rm -f "$work"/env-* "$work"/a_got "$work"/b_got "$work"/a_ml "$work"/json_out
    script_for "$sh"
    run "$sh"
    diag="stderr: $(head -c 400 "$work/stderr")"
    is "$(status_of version)" 0 "$sh: module --version succeeds"
    bad=$(status_of bad)
    if [ -n "$bad" ] && [ "$bad" != 0 ]; then
        pass "$sh: module load nosuchmodule fails"
    else
        fail "$sh: module load nosuchmodule fails" "status: '$bad'" "$diag"
    fi
    if [ -s "$work/env-before" ] && cmp -s "$work/env-before" "$work/env-after"; then
        pass "$sh: a failed load leaves the environment unchanged"
    else
        fail "$sh: a failed load leaves the environment unchanged" \
            "$(diff "$work/env-before" "$work/env-after" 2>&1 | head -10)"
    fi
    is "$(status_of load)" 0 "$sh: module load a succeeds"
    if cmp -s "$work/a_expected" "$work/a_got" && cmp -s "$work/b_expected" "$work/b_got"; then
        pass "$sh: module load a sets A_VAR and B_VAR exactly"
    else
        fail "$sh: module load a sets A_VAR and B_VAR exactly" "$diag" \
            "A_VAR: $(od -c "$work/a_got" 2>&1 | head -2)" \
            "B_VAR: $(od -c "$work/b_got" 2>&1 | head -3)"
    fi
    is "$(status_of unload)" 0 "$sh: module unload a succeeds"
    if grep -q "still set" "$work/stdout"; then
        fail "$sh: unload removes A_VAR" "$(grep 'still set' "$work/stdout")"
    else
        pass "$sh: unload removes A_VAR"
    fi
    is "$(status_of ml-load):$(status_of ml):$(status_of ml-unload)" 0:0:0 \
        "$sh: ml a, ml, ml -a succeed"
    if cmp -s "$work/a_expected" "$work/a_ml"; then
        pass "$sh: ml a sets A_VAR"
    else
        fail "$sh: ml a sets A_VAR" "$diag"
    fi
    # The JSON is for the person (or a 2> redirection), not code to evaluate.
    if [ "$(status_of json)" = 0 ] && [ ! -s "$work/json_out" ] &&
        grep -q '"fullname":' "$work/stderr"; then
        pass "$sh: module --json avail shows the JSON instead of evaluating it"
    else
        fail "$sh: module --json avail shows the JSON instead of evaluating it" \
            "status: $(status_of json)" "$diag"
    fi
    if [ -z "$(ls -A "$work/tmp")" ]; then
        pass "$sh: no temporary file left behind"
    else
        fail "$sh: no temporary file left behind" "$(ls "$work/tmp")"
        rm -rf "$work/tmp"/*
    fi
done

# bash exports `module` (as Lmod does): a script started from the shell can
# use it, even with PATH not leading to shelf.
cat > "$work/script" <<EOF
. $prefix/share/shelf/init/bash
module load a
PATH=/usr/bin:/bin bash --norc --noprofile -c 'module unload a; echo "child=\$?:\${A_VAR-unset}"'
EOF
run bash
is "$(status_of child)" "0:unset" "bash: scripts started from the shell have module"

done_testing
