#!/bin/sh
# tests/shell/roundtrip.sh -- pushes nasty values through every emitter into
# the real shell, the way the shell-init files do, and compares bytes.
#
# For each shell (bash zsh sh=dash ksh tcsh csh fish python3) the test
# sources shell-init/<shell> with SHELF_CMD pointing at a stand-in that
# runs tests/emit-driver (so `module x` evaluates exactly what shelf_emit()
# wrote, through the init file's own evaluation path), then writes
# `printenv V` to a file and compares it with the value plus a newline:
# byte for byte, so lost trailing newlines or mangled bytes show up. Python
# exec()s the code and runs printenv as a child. Also: unset, aliases,
# shell functions, the failure idiom, and that a failing shelf changes
# nothing. A shell missing from the machine is a failed test, not a skip.
. "$SHELF_SRCDIR/tests/lib.sh"

DRIVER=$SHELF_BUILDDIR/tests/emit-driver
INIT=$SHELF_SRCDIR/shell-init
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/home" "$work/tmp" "$work/values"

# The stand-in for shelf: `fake SHELL ARGS...` ignores ARGS and runs the
# driver with the NUL-separated arguments in $FAKE_ARGS (bash reads them
# back exactly, trailing newlines included).
cat > "$work/fake" <<EOF
#!/bin/bash
args=()
while IFS= read -r -d '' a; do args+=("\$a"); done < "\$FAKE_ARGS"
exec "$DRIVER" "\$1" "\${args[@]}"
EOF
# A shelf that fails: message on stderr, the failure idiom on stdout, exit 1.
cat > "$work/fakefail" <<EOF
#!/bin/sh
echo "shelf: module 'nosuch' not found" >&2
"$DRIVER" "\$1" set SHOULD_NOT_BE_SET x fail >/dev/null
exit 1
EOF
chmod +x "$work/fake" "$work/fakefail"

# ---- the values -------------------------------------------------------------
v() { printf -- "$2" > "$work/values/$1"; }
v space 'hello world'
v squote "it's a 'quoted' thing"
v dquote 'say "hi" ""'
v dollar '$HOME ${PATH} $1 $$ $(id)'
v backtick '`id` and `uname -a`'
v bang 'wow!! !$ !-1 !! a!b'
v backslash 'a\\b\\\\c \\n \\'
v newline 'line1\nline2'
v trailing_nl 'x\n\n'
v only_nl '\n'
v tab 'a\tb\t'
v glob '*?[a-z] {a,b}'
v dash '-n -e --'
v tilde '~ ~root a:~/b'
v utf8 'h\303\251llo w\303\266rld \342\234\223 \346\227\245\346\234\254'
v bad_utf8 '\377\376 \300\200 \355\240\200 bytes'
v empty ''
v metachars 'a;b&c|d<e>f (g) #h %%s ^i^j\n^k'
v mixed_nl '$a\n`b`\n!c\n\\\n'"'"
# 100 KB with every kind of trouble repeated
i=0; : > "$work/values/long"
while [ $i -lt 2000 ]; do
    printf "x \"y\" \$z !w \`v\` \\\\ 'u'\n\t\303\251 -%05d-" $i >> "$work/values/long"
    i=$((i + 1))
done
# every byte from 1 to 255
printf '%b' "$(i=1; while [ $i -le 255 ]; do printf '\\0%o' $i; i=$((i + 1)); done)" \
    > "$work/values/allbytes"
values=$(ls "$work/values")

# Writes the driver arguments (NUL-separated) for `set NAME <file>`.
args_set() { # NAME FILE
    { printf 'set\0%s\0' "$1"; cat "$2"; printf '\0'; } > "$work/args"
}
args() { # ARG... (no NUL, so printf is fine)
    : > "$work/args"
    for a in "$@"; do printf '%s\0' "$a" >> "$work/args"; done
}

# Runs a script in a shell from a clean environment (V=old set, SHELF_CMD
# the stand-in, or $shelf_cmd), its output in $work/stdout and stderr.
# run SHELL SCRIPT-FILE
run() {
    sh_=$1; script_=$2; shift 2
    case $sh_ in
        tcsh|csh) set -- "$sh_" -f "$script_" "$@" ;;
        fish) set -- fish --no-config "$script_" "$@" ;;
        bash) set -- bash --norc --noprofile "$script_" "$@" ;;
        *) set -- "$sh_" "$script_" "$@" ;;
    esac
    sh_cmd=$1; shift
    env -i HOME="$work/home" PATH=/usr/bin:/bin TMPDIR="$work/tmp" \
        SHELF_CMD="${shelf_cmd:-$work/fake}" FAKE_ARGS="$work/args" V=old \
        "$sh_cmd" "$@" > "$work/stdout" 2> "$work/stderr"
}

init_for() { # SHELL -> the init file that shell sources
    case $1 in dash) echo "$INIT/sh" ;; *) echo "$INIT/$1" ;; esac
}
emit_shell() { # SHELL -> the emitter's name for it
    case $1 in dash) echo sh ;; python3) echo python ;; *) echo "$1" ;; esac
}

# Writes $work/script for: source init; module; write printenv V to $work/got.
script_set() { # SHELL
    i_=$(init_for "$1")
    case $1 in
        tcsh|csh) printf 'source %s\nmodule x\nif ($status != 0) exit 3\nprintenv V > %s\n' \
                         "$i_" "$work/got" ;;
        fish) printf 'source %s\nmodule x; or exit 3\nprintenv V > %s\n' "$i_" "$work/got" ;;
        python3) printf '%s\n' \
            'import os, subprocess, sys' \
            "out = subprocess.run(['$work/fake', 'python'], check=True, stdout=subprocess.PIPE).stdout" \
            'exec(out.decode("ascii"))' \
            "subprocess.run(['printenv', 'V'], stdout=open('$work/got', 'wb'))" ;;
        *) printf '. %s\nmodule x || exit 3\nprintenv V > %s\n' "$i_" "$work/got" ;;
    esac > "$work/script"
}

tmp_clean() { # the csh alias must remove its temporary file
    [ -z "$(ls -A "$work/tmp")" ]
}

check_shell() { # SHELL
    sh=$1
    es=$(emit_shell "$sh")
    for name in $values; do
        args_set V "$work/values/$name"
        script_set "$sh"
        rm -f "$work/got"
        run "$sh" "$work/script"
        { cat "$work/values/$name"; echo; } > "$work/expected"
        if cmp -s "$work/expected" "$work/got" && tmp_clean; then
            pass "$sh: set $name round-trips"
        else
            fail "$sh: set $name round-trips" "stderr: $(head -c 300 "$work/stderr")" \
                "expected: $(od -c "$work/expected" | head -3)" \
                "got:      $(od -c "$work/got" 2>&1 | head -3)"
            rm -rf "$work/tmp"/*
        fi
    done

    # unset: V=old comes from the environment
    args unset V
    i_=$(init_for "$sh")
    case $sh in
        tcsh|csh) printf 'source %s\nmodule x\nif ($status != 0) exit 3\nif ($?V) exit 4\n' "$i_" ;;
        fish) printf 'source %s\nmodule x; or exit 3\nset -q V; and exit 4\nexit 0\n' "$i_" ;;
        python3) printf '%s\n' 'import os, subprocess' \
            "exec(subprocess.run(['$work/fake', 'python'], check=True, stdout=subprocess.PIPE).stdout)" \
            "raise SystemExit(0 if subprocess.run(['printenv', 'V']).returncode == 1 else 4)" ;;
        *) printf '. %s\nmodule x || exit 3\nprintenv V >/dev/null && exit 4\nexit 0\n' "$i_" ;;
    esac > "$work/script"
    run "$sh" "$work/script"
    st=$?
    is "$st" 0 "$sh: unset removes the variable"

    # fish: path variables become lists, other values stay one string
    if [ "$sh" = fish ]; then
        args set MANPATH '/a b::/c:' set NOTPATHLIKE 'a:b'
        printf 'source %s\nmodule x; or exit 3\necho (count $MANPATH) (count $NOTPATHLIKE)\nprintenv MANPATH\n' \
            "$i_" > "$work/script"
        run fish "$work/script"
        is "$(cat "$work/stdout")" "4 1
/a b::/c:" "fish: MANPATH is a list of 4, exported joined with ':'"
    fi

    [ "$sh" = python3 ] && return

    # aliases: defined, callable, removed
    case $sh in
        tcsh|csh) body='echo "alias-ok:$1" '"'"'$x'"'"' \!' ;;
        *) body='echo "alias-ok" '"'"'$x'"'"' \!' ;;
    esac
    args alias myal "$body"
    case $sh in
        tcsh|csh) printf 'source %s\nmodule x\nmyal arg1\nsetenv FAKE_ARGS %s\nmodule x\nalias myal\n' \
                         "$i_" "$work/args2" ;;
        fish) printf 'source %s\nmodule x\nmyal\nset -gx FAKE_ARGS %s\nmodule x\nfunctions -q myal; and echo still-there\n' \
                     "$i_" "$work/args2" ;;
        bash) printf 'shopt -s expand_aliases\n. %s\nmodule x\nmyal\nFAKE_ARGS=%s module x\nalias myal 2>/dev/null\n' \
                     "$i_" "$work/args2" ;;
        *) printf '. %s\nmodule x\nmyal\nFAKE_ARGS=%s module x\nalias myal 2>/dev/null\n' \
                  "$i_" "$work/args2" ;;
    esac > "$work/script"
    : > "$work/args2"; printf 'unalias\0myal\0' > "$work/args2"
    run "$sh" "$work/script"
    case $sh in
        tcsh|csh) want='alias-ok:arg1 $x !' ;;
        *) want='alias-ok $x !' ;;
    esac
    is "$(cat "$work/stdout")" "$want" "$sh: alias defined, callable, then removed"

    # shell functions: defined (csh: from the csh body, as an alias), removed
    case $sh in
        fish) args func myfn 'echo "fn: $argv[1]" '"'"'$q'"'"'' '' ;;
        *) args func myfn 'echo "fn: $1" '"'"'$q'"'"'' 'echo "fn: $1" '"'"'$q'"'"'' ;;
    esac
    printf 'unfunc\0myfn\0' > "$work/args2"
    case $sh in
        tcsh|csh) printf 'source %s\nmodule x\nmyfn a1\nsetenv FAKE_ARGS %s\nmodule x\nalias myfn\n' \
                         "$i_" "$work/args2" ;;
        fish) printf 'source %s\nmodule x\nmyfn a1\nset -gx FAKE_ARGS %s\nmodule x\nfunctions -q myfn; and echo still-there\n' \
                     "$i_" "$work/args2" ;;
        *) printf '. %s\nmodule x\nmyfn a1\nFAKE_ARGS=%s module x\ncommand -v myfn\n' \
                  "$i_" "$work/args2" ;;
    esac > "$work/script"
    run "$sh" "$work/script"
    is "$(cat "$work/stdout")" 'fn: a1 $q' "$sh: shell function defined, callable, then removed"

    # a failing shelf: module returns non-zero, nothing is evaluated
    case $sh in
        tcsh|csh) printf 'source %s\nmodule load nosuch\nset st = $status\nif ($?SHOULD_NOT_BE_SET) exit 9\nexit $st\n' "$i_" ;;
        fish) printf 'source %s\nmodule load nosuch\nset -l st $status\nset -q SHOULD_NOT_BE_SET; and exit 9\nexit $st\n' "$i_" ;;
        *) printf '. %s\nmodule load nosuch\nst=$?\n[ -n "${SHOULD_NOT_BE_SET+x}" ] && exit 9\nexit $st\n' "$i_" ;;
    esac > "$work/script"
    shelf_cmd=$work/fakefail
    run "$sh" "$work/script"
    st=$?
    shelf_cmd=
    if [ "$st" = 1 ] && tmp_clean && grep -q "not found" "$work/stderr"; then
        pass "$sh: module returns shelf's failure and changes nothing"
    else
        fail "$sh: module returns shelf's failure and changes nothing" "status $st" \
            "$(cat "$work/stderr")"
        rm -rf "$work/tmp"/*
    fi

    # the failure idiom alone makes a hand-written evaluation fail
    "$DRIVER" "$es" fail > "$work/failcode"
    case $sh in
        tcsh|csh) printf 'source %s\nset st = $status\necho alive\nexit $st\n' "$work/failcode" ;;
        fish) printf 'source %s\nset -l st $status\necho alive\nexit $st\n' "$work/failcode" ;;
        *) printf 'eval "$(cat %s)"\nst=$?\necho alive\nexit $st\n' "$work/failcode" ;;
    esac > "$work/script"
    run "$sh" "$work/script"
    st=$?
    is "$st:$(cat "$work/stdout")" "1:alive" "$sh: the failure idiom fails the evaluation, the shell goes on"
}

# json has no shell: Python's json module reads it back and os.fsencode()
# turns the text into the bytes (surrogateescape for invalid UTF-8).
check_json() {
    for name in $values; do
        args_set V "$work/values/$name"
        { cat "$work/values/$name"; echo; } > "$work/expected"
        FAKE_ARGS="$work/args" "$work/fake" json > "$work/json" &&
        python3 -c 'import json, os, sys
d = json.load(open(sys.argv[1], encoding="utf-8", errors="surrogateescape"))
sys.stdout.buffer.write(os.fsencode(d["env"]["V"]) + b"\n")' "$work/json" > "$work/got" 2> "$work/stderr"
        if cmp -s "$work/expected" "$work/got"; then
            pass "json: set $name round-trips through Python's json"
        else
            fail "json: set $name round-trips through Python's json" "$(head -c 300 "$work/stderr")"
        fi
    done
}

# ---- run every shell -----------------------------------------------------
if command -v csh > /dev/null 2>&1; then
    echo "# csh is $(readlink -f "$(command -v csh)")"
fi
if command -v ksh > /dev/null 2>&1; then
    echo "# ksh is $(readlink -f "$(command -v ksh)")"
fi
for sh in bash zsh dash ksh tcsh csh fish python3; do
    if ! command -v "$sh" > /dev/null 2>&1; then
        fail "$sh is installed (needed for the round-trip tests)"
        continue
    fi
    check_shell "$sh"
done
command -v python3 > /dev/null 2>&1 && check_json

done_testing
