#!/bin/bash
# bench/run.sh -- times shelf, Lmod (without and with its system spider cache)
# and Environment Modules side by side on generated trees (bench/gen-tree),
# then writes bench/RESULTS.md and bench/results.svg (bench/report.py).
#
#   bench/run.sh [--sizes "200 2000 10000"] [--runs K] [--quick]
#
# SHELF names the shelf binary (default: build/gcc/src/cli/shelf), SHELFD the
# daemon (default: beside it, ../daemon/shelfd), measured with wrk by
# bench/daemon.sh on the 2,000-package tree.
# BENCH_WORK is where trees, caches, Environment Modules and raw data go
# (default /var/tmp/shelf-bench). Sizes are numbers of packages; the trees
# hold about 6.75 modulefiles per package (2,000 -> 13,509).
#
# Every cell is the median wall time of K runs (default 7; cells whose first
# run takes over 1.5 s get 3 runs, over 30 s 1 run), tools interleaved, each
# command started by bench/spawn-time.py with exactly a clean environment
# (HOME=<fresh> PATH=/usr/bin:/bin TERM=dumb MODULEPATH=<Core>) or the
# environment the tool itself produced for the starting state (its own
# `load` output evaluated by bash). Peak RSS
# comes from one run under /usr/bin/time, file-system calls from one run under
# strace -f -c -e trace=%file,getdents64.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bench=$top/bench
sizes="200 2000 10000"
runs=7
quick=0
while [ $# -gt 0 ]; do
    case $1 in
    --sizes) sizes=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --quick) quick=1; sizes=200; runs=5; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
SHELF=${SHELF:-$top/build/gcc/src/cli/shelf}
work=${BENCH_WORK:-/var/tmp/shelf-bench}
LMOD=/usr/share/lmod/lmod/libexec/lmod
LMOD_UPDATE=/usr/share/lmod/lmod/libexec/update_lmod_system_cache_files
case $SHELF in /*) ;; *) SHELF=$PWD/$SHELF ;; esac
[ -x "$SHELF" ] || { echo "run.sh: no shelf binary at $SHELF (set SHELF=...)" >&2; exit 1; }
mkdir -p "$work" || exit 1
say() { printf '%s [bench] %s\n' "$(date +%T)" "$*" >&2; }

# ---- what we need ------------------------------------------------------------
need=""
[ -x "$LMOD" ] || need+=" lmod"
command -v tclsh8.6 >/dev/null || need+=" tcl8.6"
command -v strace >/dev/null || need+=" strace"
[ -x /usr/bin/time ] || need+=" time"
command -v python3 >/dev/null || need+=" python3"
if [ -n "$need" ]; then
    say "installing$need"
    apt-get install -y $need >"$work/apt.log" 2>&1 ||
        { apt-get update >>"$work/apt.log" 2>&1 && apt-get install -y $need >>"$work/apt.log" 2>&1; } ||
        { echo "run.sh: apt-get install$need failed (see $work/apt.log)" >&2; exit 1; }
fi
# Environment Modules conflicts with lmod as a package: run it from an
# extracted copy. Its Tcl extension library is looked up at a fixed path, so
# the copy's modulecmd.tcl is pointed at the extracted library.
emroot=$work/em/root
EM=$emroot/usr/lib/x86_64-linux-gnu/modulecmd.tcl
if [ ! -x "$EM" ]; then
    say "extracting environment-modules"
    rm -rf "$work/em" && mkdir -p "$work/em" &&
        (cd "$work/em" && apt-get download environment-modules >/dev/null 2>&1 &&
         dpkg -x environment-modules_*.deb root) ||
        { echo "run.sh: could not fetch environment-modules" >&2; exit 1; }
    sed -i "s|^   set libdir {/usr/lib/x86_64-linux-gnu}|   set libdir {$emroot/usr/lib/x86_64-linux-gnu}|" "$EM"
fi

lmod_version=$("$LMOD" --version 2>&1 | grep -o 'Version [0-9.]*' | head -1 | cut -d' ' -f2)
em_version=$(env -i PATH=/usr/bin:/bin "$EM" bash --version 2>&1 | grep -o '[0-9][0-9.]*' | head -1)
shelf_version=$("$SHELF" --version 2>&1 | head -1)
data=$work/data
rm -rf "$data" && mkdir -p "$data"
{
    echo "date	$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "nproc	$(nproc)"
    echo "cpu	$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel	$(uname -sr)"
    echo "mem	$(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)"
    echo "fs	$(df -T "$work" | awk 'NR==2 {print $2}')"
    echo "shelf	$shelf_version"
    echo "commit	$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "lmod	$lmod_version"
    echo "em	$em_version"
    echo "tcl	$(echo 'puts [info patchlevel]' | tclsh8.6)"
    echo "lua	$(head -1 "$LMOD" | sed 's|.*/||')"
    echo "runs	$runs"
    echo "quick	$quick"
} >"$data/meta.tsv"

# ---- timing helpers ------------------------------------------------------------
# now_us: wall clock in microseconds without starting a process.
now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }
# time_us CMD...: run CMD (output discarded), set T (µs) and RC.
time_us() {
    local t0 t1
    t0=${EPOCHREALTIME/./}
    "$@" >/dev/null 2>&1
    RC=$?
    t1=${EPOCHREALTIME/./}
    T=$((t1 - t0))
}
# spawn_us NAME=VALUE... -- CMD ARGS...: one run of CMD with exactly those
# variables, started by bench/spawn-time.py (posix_spawn from a small
# process, as hyperfine does: no shell or env(1) start-up in the figure);
# sets T (µs) and RC.
spawn_us() {
    local out
    out=$(python3 "$bench/spawn-time.py" "$@") || { T=0; RC=127; return; }
    T=${out% *}
    RC=${out#* }
}
median_ms() { tr ' ' '\n' | grep . | sort -n |
    awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else printf "%.2f", a[int((NR+1)/2)]/1000}'; }
rss_kb() { /usr/bin/time -f %M -o "$data/time.out" "$@" >/dev/null 2>&1; tail -1 "$data/time.out"; }
fs_calls() {
    strace -f --seccomp-bpf -c -e trace=%file,getdents64 -o "$data/strace.out" "$@" >/dev/null 2>&1
    awk '$NF == "total" {print $4}' "$data/strace.out"
}

# Environment after evaluating a tool's output for `load ARGS` in bash,
# started from the tool's clean environment; one NAME=value per element of
# the array named by $1.
state_env() {
    local out=$1; shift
    local tool=$1; shift
    local -n base_=base_$tool cmd_=cmd_$tool
    mapfile -d '' -t "$out" < <("${base_[@]}" bash --norc --noprofile -c '
        c=$1; shift
        if [ $# -gt 0 ]; then eval "$("$c" bash "$@" 2>/dev/null)"; fi
        unset c OLDPWD PWD SHLVL _
        env -0' _ "$cmd_" "$@" | grep -zv '^\(_\|PWD\|OLDPWD\|SHLVL\)=')
}

# loaded_in ARRAY: the LOADEDMODULES value in an environment array.
loaded_in() { local -n e_=$1; printf '%s\n' "${e_[@]}" | sed -n 's/^LOADEDMODULES=//p'; }

# shelf: its index built with --timestamp, trusted as Lmod's system cache
# trusts its timestamp; shelfdir: the same index with every recorded
# directory checked (SHELF_INDEX_CHECK=dirs, the default for an index built
# without --timestamp), for the read commands.
tools="shelf shelfdir lmod lmodc em"
ops="avail_t avail spider keyword load list swap unload"

for n in $sizes; do
    tree=$work/tree-$n
    stamp=$(md5sum "$bench/gen-tree" | cut -c1-32)
    if [ ! -f "$tree/bench.env" ] || [ "$(cat "$tree/.gen-stamp" 2>/dev/null)" != "$stamp" ]; then
        say "N=$n: generating tree"
        python3 "$bench/gen-tree" "$n" "$tree" >&2 || exit 1
        echo "$stamp" >"$tree/.gen-stamp"
    fi
    # shellcheck disable=SC1091
    . "$tree/bench.env"
    out=$data/size-$n.tsv
    printf 'size\t%s\tlua_files\t%s\ttcl_files\t%s\n' "$n" "$LUA_FILES" "$TCL_FILES" >"$out"

    # ---- clean environments (one fresh HOME per tool and size) ------------------
    for tool in $tools; do
        h=$work/home-$tool-$n
        rm -rf "$h" && mkdir -p "$h"
        case $tool in
        shelf) base_shelf=(env -i HOME="$h" PATH=/usr/bin:/bin TERM=dumb MODULEPATH="$LUA_CORE")
               cmd_shelf=$SHELF ;;
        shelfdir) base_shelfdir=(env -i HOME="$h" PATH=/usr/bin:/bin TERM=dumb MODULEPATH="$LUA_CORE"
                                 SHELF_INDEX_CHECK=dirs)
                  cmd_shelfdir=$SHELF ;;
        lmod) base_lmod=(env -i HOME="$h" PATH=/usr/bin:/bin TERM=dumb MODULEPATH="$LUA_CORE"
                         LMOD_IGNORE_CACHE=1)
              cmd_lmod=$LMOD ;;
        lmodc) base_lmodc=(env -i HOME="$h" PATH=/usr/bin:/bin TERM=dumb MODULEPATH="$LUA_CORE"
                           LMOD_RC="$tree/lmodrc.lua")
               cmd_lmodc=$LMOD ;;
        em) base_em=(env -i HOME="$h" PATH=/usr/bin:/bin TERM=dumb MODULEPATH="$TCL_CORE")
            cmd_em=$EM ;;
        esac
    done
    # ---- Lmod's system cache -----------------------------------------------------
    cache=$tree/lmodcache
    rm -rf "$cache" && mkdir -p "$cache"
    printf 'scDescriptT = {\n  { dir = "%s", timestamp = "%s/timestamp" },\n}\n' \
        "$cache" "$cache" >"$tree/lmodrc.lua"
    say "N=$n: building Lmod's system cache"
    h=$(mktemp -d "$work/home.XXXXXX")
    t0=$(now_us)
    /usr/bin/time -f %M -o "$data/time.out" env -i HOME="$h" PATH=/usr/bin:/bin TERM=dumb \
        "$LMOD_UPDATE" -d "$cache" -t "$cache/timestamp" "$LUA_CORE" >"$data/lmodcache.log" 2>&1
    rc=$?
    t1=$(now_us)
    printf 'op\tbuild\tlmodc\t%s\t1\t%s\tnan\t%s\n' "$(echo $((t1 - t0)) | median_ms)" \
        "$(tail -1 "$data/time.out")" "$rc" >>"$out"
    printf 'disk\tlmodc\t%s\n' "$(du -sk "$cache" | cut -f1)" >>"$out"

    # ---- shelf's index -----------------------------------------------------------
    say "N=$n: shelf index"
    rm -rf "$LUA_CORE/.shelf"
    t0=$(now_us)
    /usr/bin/time -f %M -o "$data/time.out" env -i HOME="$work/home-shelf-$n" PATH=/usr/bin:/bin \
        TERM=dumb "$SHELF" index --quiet --timestamp "$tree/shelf-timestamp" "$LUA_CORE" \
        >"$data/index-$n.log" 2>&1
    rc=$?
    t1=$(now_us)
    if [ $rc -ne 0 ]; then # perhaps no --quiet yet
        t0=$(now_us)
        /usr/bin/time -f %M -o "$data/time.out" env -i HOME="$work/home-shelf-$n" PATH=/usr/bin:/bin \
            TERM=dumb "$SHELF" index "$LUA_CORE" >>"$data/index-$n.log" 2>&1
        rc=$?
        t1=$(now_us)
    fi
    printf 'op\tbuild\tshelf\t%s\t1\t%s\tnan\t%s\n' "$(echo $((t1 - t0)) | median_ms)" \
        "$(tail -1 "$data/time.out")" "$rc" >>"$out"
    if [ $rc -eq 0 ]; then
        printf 'disk\tshelf\t%s\n' "$(du -skc "$LUA_CORE/.shelf" "$work/home-shelf-$n/.cache/shelf" \
            2>/dev/null | tail -1 | cut -f1)" >>"$out"
    else
        printf 'index_error\t%s\n' "$(head -c 300 "$data/index-$n.log" | tr '\n\t' '  ')" >>"$out"
        say "N=$n: shelf index failed (rc $rc): shelf is measured without an index"
    fi
    rm -rf "$h"

    # shellcheck disable=SC2086
    set -- $LEAF_DEPS
    dep1=$1
    declare -A args state
    args=([avail_t]="-t avail" [avail]="avail" [spider]="spider $SPIDER_NAME"
          [keyword]="keyword $KEYWORD" [load]="load $COMPILER $MPI $LEAF" [list]="list"
          [swap]="swap $COMPILER $COMPILER2" [unload]="unload $dep1")
    state=([avail_t]=cm [avail]=cm [spider]=clean [keyword]=clean [load]=clean
           [list]=ten [swap]=dependents [unload]=leaf)
    declare -A states=([clean]="" [cm]="load $COMPILER $MPI"
                       [ten]="load $COMPILER $MPI $LEAF $DEPENDENTS"
                       [dependents]="load $COMPILER $DEPENDENTS"
                       [leaf]="load $COMPILER $MPI $LEAF")
    declare -A expect=([clean]=0 [cm]=2 [ten]=10 [dependents]=5 [leaf]=6)
    for tool in $tools; do
        for s in "${!states[@]}"; do
            # shellcheck disable=SC2086
            state_env "env_${tool}_$s" "$tool" ${states[$s]}
            local_lm=$(loaded_in "env_${tool}_$s")
            got=$(printf '%s' "$local_lm" | tr ':' '\n' | grep -c .)
            if [ "$got" -ne "${expect[$s]}" ]; then
                say "N=$n: $tool: state $s has $got modules loaded, expected ${expect[$s]}: $local_lm"
                printf 'state_error\t%s\t%s\t%s\n' "$tool" "$s" "$local_lm" >>"$out"
            fi
        done
    done
    # argv for one tool and operation, into the array CMD.
    build_cmd() { # tool op
        local tool=$1 op=$2 a=${args[$2]}
        local -n envs=env_${1}_${state[$2]} c=cmd_$1
        [ "$tool" = em ] && [ "$op" = keyword ] && a="search $KEYWORD"
        # shellcheck disable=SC2206
        CMD=(env -i "${envs[@]}" "$c" bash $a)   # for /usr/bin/time and strace
        TCMD=("${envs[@]}" -- "$c" bash $a)             # for spawn_us
    }
    applies() {
        case $1:$2 in
        em:spider) return 1 ;;
        shelfdir:avail_t | shelfdir:avail | shelfdir:spider | shelfdir:keyword) return 0 ;;
        shelfdir:*) return 1 ;;
        esac
    }

    # ---- what each tool prints (sanity: the same modules) ---------------------
    for tool in $tools; do
        for op in avail_t spider keyword; do
            applies "$tool" "$op" || continue
            build_cmd "$tool" "$op"
            "${CMD[@]}" >"$data/out-$n-$tool-$op.txt" 2>&1
        done
        # entries listed by avail -t: lines that are neither headers nor blank
        # (Lmod also prints its shell code, lines ending in `;`, on stdout)
        printf 'entries\t%s\t%s\n' "$tool" "$(grep -v -e ':$' -e '/$' -e ';$' -e '^ *$' \
            "$data/out-$n-$tool-avail_t.txt" | grep -vc -e '^Currently' -e '^No ')" >>"$out"
    done

    # ---- baseline: starting a process that does nothing ----------------------
    b=""
    for ((i = 0; i < 21; i++)); do spawn_us -- /bin/true; b+="$T "; done
    printf 'baseline\t%s\n' "$(echo "$b" | median_ms)" >>"$out"

    # ---- timings, interleaved ------------------------------------------------------
    say "N=$n: timing ($runs runs; slow cells fewer)"
    declare -A times=() want=() rcs=() rsss=()
    for op in $ops; do for tool in $tools; do want[$tool-$op]=$runs; times[$tool-$op]=""; done; done
    for ((r = 0; r < runs; r++)); do
        for op in $ops; do
            for tool in $tools; do
                applies "$tool" "$op" || continue
                [ "$r" -lt "${want[$tool-$op]}" ] || continue
                build_cmd "$tool" "$op"
                # Slow cells (over 1.5 s) take their peak RSS from a timed run
                # under /usr/bin/time: its cost is lost in theirs.
                if [ "$r" -gt 0 ] && [ "${want[$tool-$op]}" -lt "$runs" ] && [ -z "${rsss[$tool-$op]:-}" ]; then
                    time_us /usr/bin/time -f %M -o "$data/time.out" "${CMD[@]}"
                    rsss[$tool-$op]=$(tail -1 "$data/time.out")
                else
                    spawn_us "${TCMD[@]}"
                fi
                times[$tool-$op]+="$T "
                if [ "$r" -eq 0 ]; then
                    rcs[$tool-$op]=$RC
                    if [ "$T" -gt 30000000 ]; then want[$tool-$op]=1
                    elif [ "$T" -gt 1500000 ] && [ "$runs" -gt 3 ]; then want[$tool-$op]=3; fi
                fi
            done
        done
    done
    say "N=$n: peak RSS and file-system calls"
    for op in $ops; do
        for tool in $tools; do
            applies "$tool" "$op" || continue
            build_cmd "$tool" "$op"
            rss=${rsss[$tool-$op]:-$(rss_kb "${CMD[@]}")}
            fs=$(fs_calls "${CMD[@]}")
            nr=$(echo "${times[$tool-$op]}" | wc -w)
            printf 'op\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$op" "$tool" \
                "$(echo "${times[$tool-$op]}" | median_ms)" "$nr" "${rss:-nan}" \
                "${fs:-nan}" "${rcs[$tool-$op]}" >>"$out"
        done
    done
    unset times want rcs rsss args state states expect
    say "N=$n: done"
done

# ---- shelfd under load: the 2,000-package tree (else the largest measured) ----
SHELFD=${SHELFD:-$(dirname "$SHELF")/../daemon/shelfd}
dn=2000
case " $sizes " in *" 2000 "*) ;; *) dn=${sizes##* } ;; esac
if [ -x "$SHELFD" ]; then
    say "shelfd under load (N=$dn)"
    dtree=$work/tree-$dn
    # shellcheck disable=SC1091
    . "$dtree/bench.env"
    SHELFD=$SHELFD SHELF=$SHELF "$bench/daemon.sh" --tree "$LUA_CORE" \
        --label "$(python3 -c "print(f'{$LUA_FILES:,} modulefiles ({$dn:,} packages)')")" \
        --duration "$([ $quick -eq 1 ] && echo 3 || echo 10)" --out "$data/daemon.tsv" ||
        say "bench/daemon.sh failed: no shelfd figures"
else
    say "no shelfd at $SHELFD: no shelfd figures"
fi

python3 "$bench/report.py" "$data" "$bench/RESULTS.md" "$bench/results.svg" || exit 1
say "wrote $bench/RESULTS.md and $bench/results.svg (raw data in $data)"
