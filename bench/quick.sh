#!/bin/bash
# bench/quick.sh -- side-by-side timing of shelf and Debian's Lmod on the
# bundled sample tree: `load gcc openmpi hdf5` from a clean environment and
# `list` with those three loaded. Prints medians (wall ms) of RUNS runs,
# peers interleaved, and the ratio.
#   bench/quick.sh [SHELF-BINARY]   (default: build/gcc/src/cli/shelf)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
shelf=${1:-$top/build/gcc/src/cli/shelf}
lmod=${LMOD_CMD:-/usr/share/lmod/lmod/libexec/lmod}
runs=${RUNS:-21}
[ -x "$shelf" ] || { echo "no shelf binary at $shelf (run scripts/build first)" >&2; exit 1; }
[ -x "$lmod" ] || { echo "Lmod not found at $lmod (apt-get install lmod)" >&2; exit 1; }
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
base=(env -i HOME="$home" PATH=/usr/bin:/bin TERM=dumb LMOD_IGNORE_CACHE=1
      MODULEPATH="$top/modulefiles/Core")

# The environment after `load gcc openmpi hdf5`, as NAME=value words for env.
loaded_env() {
    "${base[@]}" bash --norc --noprofile -c 'eval "$("$1" bash load gcc openmpi hdf5 2>/dev/null)"
        env -0' _ "$1" | tr '\0' '\n' | grep -v '^_=' || true
}

ms() { # command... -> wall milliseconds
    local t0 t1
    t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000))
}

median() { sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.1f", m/1000}'; }

mapfile -t lmod_env < <(loaded_env "$lmod")
mapfile -t shelf_env < <(loaded_env "$shelf")

declare -A t
for op in load list; do t[lmod-$op]=""; t[shelf-$op]=""; done
for ((i = 0; i < runs; i++)); do
    t[lmod-load]+="$(ms "${base[@]}" "$lmod" bash load gcc openmpi hdf5) "
    t[shelf-load]+="$(ms "${base[@]}" "$shelf" bash load gcc openmpi hdf5) "
    t[lmod-list]+="$(ms env -i "${lmod_env[@]}" "$lmod" bash list) "
    t[shelf-list]+="$(ms env -i "${shelf_env[@]}" "$shelf" bash list) "
done

printf '%-38s %10s %10s %8s\n' "operation (sample tree, $runs runs)" "Lmod ms" "shelf ms" "ratio"
for op in load list; do
    l=$(echo "${t[lmod-$op]}" | tr ' ' '\n' | grep . | median)
    s=$(echo "${t[shelf-$op]}" | tr ' ' '\n' | grep . | median)
    label=$([ "$op" = load ] && echo "load gcc openmpi hdf5" || echo "list (3 loaded)")
    printf '%-38s %10s %10s %7.1fx\n' "$label" "$l" "$s" "$(awk -v l="$l" -v s="$s" 'BEGIN { print l / s }')"
done
