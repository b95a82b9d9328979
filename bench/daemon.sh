#!/bin/bash
# bench/daemon.sh -- load benchmark of shelfd with wrk (Debian's package).
#
#   bench/daemon.sh --tree CORE [--duration S] [--connections N] [--module M]
#                   [--label TEXT] [--out FILE]
#
# Starts shelfd on 127.0.0.1 (port picked by the kernel, bearer token) with
# MODULEPATH=CORE (a Core level of bench/gen-tree: its index must exist or
# is built first) and measures, each for S seconds (default 10) with N
# connections (default 64) on 2 wrk threads:
#   modules   GET /api/v1/modules?q=hdf
#   loadpair  POST /api/v1/load {"modules":[M]} then POST /api/v1/unload,
#             alternating, each wrk thread in its own client context
#             (M: default cmake, a Core module of bench/gen-tree)
# and writes one TSV line per test to FILE (default stdout):
#   daemon  TEST  REQUESTS_PER_S  P50_MS  P99_MS  REQUESTS  ERRORS
# (and daemon-info lines: the tree, as --label TEXT names it, wrk's version,
# the connections and the duration). ERRORS counts socket errors, time-outs
# and answers with a status >= 400.
# SHELFD names the daemon (default build/gcc/src/daemon/shelfd).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tree="" duration=10 conns=64 out=/dev/stdout module=cmake label=""
while [ $# -gt 0 ]; do
    case $1 in
    --tree) tree=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --module) module=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "daemon.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$tree" ] && [ -d "$tree" ] || { echo "daemon.sh: --tree CORE (a directory) is required" >&2; exit 2; }
SHELFD=${SHELFD:-$top/build/gcc/src/daemon/shelfd}
SHELF=${SHELF:-$(dirname "$SHELFD")/../cli/shelf}
[ -x "$SHELFD" ] || { echo "daemon.sh: no shelfd at $SHELFD (set SHELFD=...)" >&2; exit 1; }
if ! command -v wrk >/dev/null; then
    echo "daemon.sh: installing wrk" >&2
    apt-get install -y -qq wrk >/dev/null 2>&1 || { echo "daemon.sh: cannot install wrk" >&2; exit 1; }
fi

work=$(mktemp -d) || exit 1
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
[ -f "$tree/.shelf/index.db" ] || "$SHELF" index --quiet "$tree" >&2 || exit 1

env -i HOME="$work" PATH=/usr/bin:/bin MODULEPATH="$tree" XDG_RUNTIME_DIR="$work" \
    "$SHELFD" --foreground --listen 127.0.0.1:0 --token-file "$work/token" \
    --pid-file "$work/pid" --print-address >"$work/addr" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do grep -q '^url=' "$work/addr" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^url=//p' "$work/addr")
[ -n "$url" ] || { echo "daemon.sh: shelfd did not start:" >&2; cat "$work/log" >&2; exit 1; }
token=$(cat "$work/token")
{
    printf 'daemon-info\ttree\t%s\n' "${label:-$tree}"
    printf 'daemon-info\twrk\t%s\n' "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
    printf 'daemon-info\tconnections\t%s\n' "$conns"
    printf 'daemon-info\tduration\t%s\n' "$duration"
} >>"$out"

cat >"$work/modules.lua" <<EOF
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer $token"
EOF
cat >"$work/loadpair.lua" <<EOF
local n = 0
local id = 0
setup = function(thread) id = id + 1; thread:set("client", "bench" .. id) end
request = function()
    n = n + 1
    local path = (n % 2 == 1) and "/api/v1/load" or "/api/v1/unload"
    return wrk.format("POST", path, {
        ["Authorization"] = "Bearer $token",
        ["Content-Type"] = "application/json",
        ["X-Shelf-Client"] = client,
    }, '{"modules": ["$module"]}')
end
EOF
# wrk counts answers with a status above 399 in errors.status.
for f in modules loadpair; do
    cat >>"$work/$f.lua" <<'EOF'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT\t%.1f\t%.3f\t%.3f\t%d\t%d\n",
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        summary.requests, e.connect + e.read + e.write + e.timeout + e.status))
end
EOF
done

run() { # TEST PATH
    wrk -t2 -c"$conns" -d"${duration}s" --timeout 5s -s "$work/$1.lua" "$url$2" >"$work/$1.out" 2>&1
    local r
    r=$(grep '^RESULT' "$work/$1.out" | cut -f2-)
    [ -n "$r" ] || { echo "daemon.sh: wrk failed for $1:" >&2; cat "$work/$1.out" >&2; return 1; }
    printf 'daemon\t%s\t%s\n' "$1" "$r" >>"$out"
}
# Warm-up: the first request builds the catalog.
curl -s -H "Authorization: Bearer $token" "$url/api/v1/modules?q=hdf" >/dev/null
run modules "/api/v1/modules?q=hdf" || exit 1
run loadpair "/api/v1/load" || exit 1
kill "$pid" && wait "$pid"
st=$?
pid=""
[ $st -eq 0 ] || { echo "daemon.sh: shelfd exited $st on SIGTERM" >&2; exit 1; }
