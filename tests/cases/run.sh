#!/bin/bash
# tests/cases/run.sh -- the differential suite: every case directory under
# tests/cases/ (mf/ tree + steps file, see README.md) is played once under
# Lmod and once under shelf, each in its own clean bash process, and the two
# traces (exit statuses, environment snapshots, aliases, shell functions)
# must be identical.  Prints TAP, one line per case.
#
#   tests/cases/run.sh                 all cases
#   tests/cases/run.sh NAME...         only these cases
#   SHELF_CASES_SELFTEST=1 run.sh      Lmod on both sides (proves the cases
#                                      are deterministic and normalised)
#   SHELF_CASES_KEEP=1 run.sh          keep the work directories, print where
set -u

here=$(cd -P "$(dirname "$0")" && pwd)
: "${SHELF_SRCDIR:=$(cd -P "$here/../.." && pwd)}"
export SHELF_SRCDIR
if [ -n "${SHELF_CASES_SELFTEST:-}" ]; then : "${SHELF:=none}"; export SHELF; fi
. "$SHELF_SRCDIR/tests/lib.sh"

if [ ! -x "$LMOD_CMD" ]; then
    echo "1..0 # SKIP Lmod not installed ($LMOD_CMD)"
    exit 0
fi

lmod_tool=$LMOD_CMD
shelf_tool=$SHELF
shelf_label=shelf
if [ -n "${SHELF_CASES_SELFTEST:-}" ]; then
    shelf_tool=$LMOD_CMD
    shelf_label=lmod-again
fi
step_timeout=${SHELF_CASES_TIMEOUT:-30}

work=$(mktemp -d "${TMPDIR:-/tmp}/shelf-cases.XXXXXX") || exit 99
if [ -n "${SHELF_CASES_KEEP:-}" ]; then
    echo "# work directory kept: $work"
else
    trap 'rm -rf "$work"' EXIT
fi

# gen_script STEPS MF TOOL DIR: writes DIR/script, the bash program that
# plays STEPS with TOOL, writing its trace to DIR/trace, the stderr of every
# command to DIR/stderr, and expectation failures to DIR/unexpected.
# Returns non-zero (with a message on stderr) on a malformed steps file.
gen_script() {
    local steps=$1 mf=$2 tool=$3 dir=$4 line kw rest lineno=0 d mp
    {
        cat <<'EOF'
# generated from a steps file; see tests/cases/README.md
# (tools by absolute path: the modules under test rewrite PATH)
__case_n=0
__case_k=0
__case_lasterr=
__case_run() {
    local __case_want=$1 __case_out __case_rc __case_got=ok
    shift
    __case_n=$((__case_n + 1))
    __case_lasterr=$__case_dir/err.$__case_n
    __case_out=$(/usr/bin/timeout "$__case_timeout" "$__case_tool" bash "$@" 2>"$__case_lasterr")
    __case_rc=$?
    eval "$__case_out"
    [ "$__case_rc" -ne 0 ] && __case_got=fail
    [ "$__case_rc" -ge 124 ] && __case_got="fail (status $__case_rc)"
    printf 'run %s -> %s\n' "$(__case_norm "$*")" "$__case_got" >> "$__case_dir/trace"
    { printf '### step %s: %s (status %s)\n' "$__case_n" "$*" "$__case_rc"
      /usr/bin/cat "$__case_lasterr"; } >> "$__case_dir/stderr"
    if [ "$__case_got" != "$__case_want" ]; then
        printf 'step %s `%s`: expected %s, got status %s\n' "$__case_n" "$*" \
            "$__case_want" "$__case_rc" >> "$__case_dir/unexpected"
    fi
}
__case_stderr() {
    local __case_want="$*" __case_have __case_r=yes
    __case_have=$(/usr/bin/tr -s ' \t\n' '   ' < "$__case_lasterr")
    case "$__case_have" in *"$__case_want"*) ;; *) __case_r=no ;; esac
    printf 'stderr contains "%s": %s\n' "$__case_want" "$__case_r" >> "$__case_dir/trace"
    if [ "$__case_r" = no ]; then
        printf 'after step %s: stderr lacks "%s"\n' "$__case_n" "$__case_want" \
            >> "$__case_dir/unexpected"
    fi
}
__case_norm() {
    local v=${1//"$__case_mf"/@MF@}
    printf '%s' "${v//"$HOME"/@HOME@}"
}
__case_check() {
    local __case_kv __case_name __case_f
    __case_k=$((__case_k + 1))
    {
        printf '== check %s\n' "$__case_k"
        while IFS= read -r -d '' __case_kv; do
            __case_name=${__case_kv%%=*}
            case "$__case_name" in
                LMOD_FAMILY_*) ;;
                _ModuleTable*|__LMOD*|LMOD_*|_SHELF_*|BASH_FUNC_*) continue ;;
                MODULESHOME|PWD|OLDPWD|SHLVL|_|HOME|TERM) continue ;;
            esac
            printf 'env %s=%q\n' "$__case_name" \
                "$(__case_norm "${__case_kv#*=}")"
        done < <(/usr/bin/env -0 | LC_ALL=C /usr/bin/sort -z)
        alias -p | LC_ALL=C /usr/bin/sort | while IFS= read -r __case_kv; do
            printf 'alias %s\n' "$(__case_norm "${__case_kv#alias }")"
        done
        for __case_f in $(declare -F | /usr/bin/sed 's/^declare -f[a-z]* //' | LC_ALL=C /usr/bin/sort); do
            case "$__case_f" in __case_*) continue ;; esac
            declare -f "$__case_f" | /usr/bin/sed 's/^/function| /'
        done
    } >> "$__case_dir/trace"
}
EOF
        printf '__case_tool=%q\n__case_dir=%q\n__case_mf=%q\n__case_timeout=%q\n' \
            "$tool" "$dir" "$mf" "$step_timeout"
        while IFS= read -r line || [ -n "$line" ]; do
            lineno=$((lineno + 1))
            line=$(printf '%s' "$line" | sed -e 's/^[[:space:]]*//' \
                -e 's/^#.*//' -e 's/[[:space:]]#.*//' -e 's/[[:space:]]*$//')
            [ -z "$line" ] && continue
            kw=${line%%[[:space:]]*}
            rest=
            [ "$kw" != "$line" ] && rest=${line#"$kw"} && rest=${rest#"${rest%%[![:space:]]*}"}
            rest=${rest//@MF@/$mf}
            case "$kw" in
                modulepath)
                    mp=
                    for d in $rest; do
                        if [ ! -d "$mf/$d" ]; then
                            echo "$steps:$lineno: no directory mf/$d" >&2; return 1
                        fi
                        mp=${mp:+$mp:}$mf/$d
                    done
                    printf 'export MODULEPATH=%q\n' "$mp" ;;
                run)     printf '__case_run ok %s\n' "$rest" ;;
                runfail) printf '__case_run fail %s\n' "$rest" ;;
                check)   printf '__case_check\n' ;;
                stderr)  printf '__case_stderr %q\n' "$rest" ;;
                sh)      printf 'printf "sh %%s\\n" "$(__case_norm %q)" >> "$__case_dir/trace"\n%s\n' \
                             "$rest" "$rest" ;;
                *) echo "$steps:$lineno: unknown step '$kw'" >&2; return 1 ;;
            esac
        done < "$steps"
        printf 'echo "== end" >> "$__case_dir/trace"\n'
    } > "$dir/script"
}

# play CASE SIDE TOOL: runs the case with TOOL in $work/CASE/SIDE.
play() {
    local c=$1 tool=$3 dir=$work/$1/$2 mf
    mf=$(cd -P "$here/$c/mf" && pwd) || return 1
    mkdir -p "$dir/home" || return 1
    : > "$dir/trace"; : > "$dir/stderr"; : > "$dir/unexpected"
    gen_script "$here/$c/steps" "$mf" "$tool" "$dir" 2> "$dir/generr" || return 1
    (cd "$dir/home" && env -i HOME="$dir/home" PATH=/usr/bin:/bin TERM=dumb \
        LMOD_IGNORE_CACHE=1 bash --norc --noprofile "$dir/script" \
        > "$dir/out" 2>&1)
    return 0
}

if [ $# -gt 0 ]; then
    cases=("$@")
else
    cases=()
    for s in "$here"/*/steps; do
        [ -f "$s" ] || continue
        s=${s%/steps}; cases+=("${s##*/}")
    done
fi

for c in "${cases[@]}"; do
    c=${c%/}
    if [ ! -f "$here/$c/steps" ] || [ ! -d "$here/$c/mf" ]; then
        fail "$c" "no such case: $here/$c (needs steps and mf/)"; continue
    fi
    mkdir -p "$work/$c"
    if ! play "$c" lmod "$lmod_tool"; then
        fail "$c" "cannot set up the case:" "$(cat "$work/$c/lmod/generr" 2>/dev/null)"
        continue
    fi
    steps_summary=$(grep -E '^(run|sh) ' "$work/$c/lmod/trace" | sed 's/^run //' |
        paste -sd ';' | sed 's/;/; /g')
    if [ -s "$work/$c/lmod/unexpected" ] || ! tail -n 1 "$work/$c/lmod/trace" | grep -qx '== end'; then
        fail "$c" "Lmod itself does not behave as the steps file expects:" \
            "$(cat "$work/$c/lmod/unexpected")" "$(tail -n 5 "$work/$c/lmod/out")" \
            "Lmod stderr:" "$(tail -n 20 "$work/$c/lmod/stderr")"
        continue
    fi
    if [ "$shelf_label" = shelf ] && [ ! -x "$shelf_tool" ]; then
        fail "$c" "shelf binary not executable: $shelf_tool" "steps: $steps_summary"
        continue
    fi
    play "$c" "$shelf_label" "$shelf_tool"
    if d=$(diff -u --label lmod --label "$shelf_label" \
            "$work/$c/lmod/trace" "$work/$c/$shelf_label/trace"); then
        pass "$c"
        echo "#   steps: $steps_summary"
    else
        fail "$c" "steps: $steps_summary" "trace differs (- lmod, + $shelf_label):" "$d" \
            "$shelf_label stderr (last lines):" "$(tail -n 15 "$work/$c/$shelf_label/stderr")" \
            "$(tail -n 5 "$work/$c/$shelf_label/out")"
    fi
done

done_testing
