#!/bin/sh
# tests/shell/surface.sh -- the shape of the sources, checked:
#  - the front ends (src/cli, src/daemon, src/launch, tests/daemon) include
#    only shelf.h of libshelf's headers, besides their own;
#  - no header includes itself through others (no circle of includes);
#  - no dead export: every function a header declares is used by a file
#    other than the one that defines it.
: "${SHELF_SRCDIR:?SHELF_SRCDIR must point at the source tree}"
exec python3 - "$SHELF_SRCDIR" <<'EOF'
import glob, os, re, sys

top = sys.argv[1]
n = 0
failed = 0


def check(ok, name, diag=()):
    global n, failed
    n += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (n, name))
    if not ok:
        failed += 1
        for line in list(diag)[:20]:
            print("#   " + line)


def rel(p):
    return os.path.relpath(p, top)


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return re.findall(r'^\s*#\s*include\s+"([^"]+)"', f.read(), flags=re.M)


# A front end's own headers sit beside it; the daemon's tests drive the
# daemon's library (libshelfd) through its headers.
front = {"src/cli": "src/cli", "src/daemon": "src/daemon", "src/launch": "src/launch",
         "tests/daemon": "src/daemon"}
bad = []
for d, own_dir in front.items():
    for path in sorted(glob.glob(os.path.join(top, d, "*.[ch]"))):
        for h in includes(path):
            own = os.path.exists(os.path.join(top, own_dir, h))
            if h not in ("shelf.h", "config.h") and not own:
                bad.append("%s includes %s" % (rel(path), h))
check(not bad, "the front ends include only shelf.h of libshelf's headers", bad)

# The include graph of the project's headers (a name is looked up beside the
# file first, then in src/lib, as the build's -I flags do).
headers = glob.glob(os.path.join(top, "src", "*", "*.h"))
graph = {}
for h in headers:
    edges = []
    for inc in includes(h):
        for cand in (os.path.join(os.path.dirname(h), inc), os.path.join(top, "src/lib", inc)):
            if os.path.exists(cand):
                edges.append(os.path.normpath(cand))
                break
    graph[os.path.normpath(h)] = edges
cycles = []
state = {}


def visit(node, stack):
    state[node] = 1
    stack.append(node)
    for nxt in graph.get(node, []):
        if state.get(nxt) == 1:
            cycles.append(" -> ".join(rel(p) for p in stack[stack.index(nxt):] + [nxt]))
        elif not state.get(nxt):
            visit(nxt, stack)
    stack.pop()
    state[node] = 2


for h in sorted(graph):
    if not state.get(h):
        visit(h, [])
check(not cycles, "no circle of includes among the headers", cycles)

# Dead exports.
sources = glob.glob(os.path.join(top, "src", "*", "*.c")) + \
    glob.glob(os.path.join(top, "tests", "**", "*.c"), recursive=True)
texts = {}
for p in sources:
    with open(p, encoding="utf-8", errors="replace") as f:
        texts[p] = f.read()
dead = []
for h in sorted(headers):
    with open(h, encoding="utf-8", errors="replace") as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    names = set(re.findall(r"\b([a-z][a-z0-9_]*)\s*\(", text)) - {"sizeof", "defined"}
    for name in sorted(names):
        defs = [p for p, t in texts.items()
                if re.search(r"^[a-z][^;\n]*\b%s\s*\([^;]*$" % name, t, flags=re.M)]
        if not defs:
            continue
        word = re.compile(r"\b%s\b" % name)
        if not any(word.search(t) for p, t in texts.items() if p not in defs):
            dead.append("%s: %s (defined in %s)" % (rel(h), name, ", ".join(rel(d) for d in defs)))
check(not dead, "every function a header declares is used outside the file defining it", dead)

print("1..%d" % n)
sys.exit(1 if failed else 0)
EOF
