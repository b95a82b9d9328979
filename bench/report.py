#!/usr/bin/env python3
"""bench/report.py -- turn bench/run.sh's raw data into RESULTS.md and an SVG plot.

    bench/report.py DATADIR RESULTS.md results.svg

DATADIR holds meta.tsv (machine and versions) and one size-N.tsv per tree
size, as run.sh writes them. Standard library only.
"""

import math
import os
import sys

TOOLS = ["shelf", "shelfdir", "lmod", "lmodc", "em"]
TOOL_NAMES = {"shelf": "shelf", "shelfdir": "shelf (dir check)", "lmod": "Lmod (no cache)",
              "lmodc": "Lmod (system cache)", "em": "Env Modules"}
COLORS = {"shelf": "#d62728", "shelfdir": "#ff7f0e", "lmod": "#1f77b4", "lmodc": "#17becf",
          "em": "#2ca02c"}
# The absolute targets for shelf at ~67,500 modulefiles (ms).
TARGET_MS = {"avail_t": 20, "spider": 20, "keyword": 20, "load": 5, "list": 2, "swap": 8}
OPS = ["avail_t", "avail", "spider", "keyword", "load", "list", "swap", "unload"]


def op_names(env):
    return {
        "avail_t": "`avail -t` (compiler + MPI loaded)",
        "avail": "full `avail` (compiler + MPI loaded)",
        "spider": "`spider %s`" % env.get("spider", "NAME"),
        "keyword": "`keyword %s` (EM: `search`)" % env.get("keyword", "WORD"),
        "load": "`load gcc openmpi wrf` (wrf has 3 deps), clean env",
        "list": "`list` with 10 loaded",
        "swap": "`swap gcc clang` with 4 dependents loaded",
        "unload": "`unload hdf5` (needed by wrf)",
    }


def num(s):
    try:
        v = float(s)
        return None if math.isnan(v) else v
    except (TypeError, ValueError):
        return None


def read_data(d):
    meta = {}
    with open(os.path.join(d, "meta.tsv")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    sizes = []
    for fn in os.listdir(d):
        if not (fn.startswith("size-") and fn.endswith(".tsv")):
            continue
        s = {"ops": {}, "entries": {}, "disk": {}, "state_errors": [], "index_error": None}
        with open(os.path.join(d, fn)) as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if p[0] == "size":
                    s["n"], s["lua"], s["tcl"] = int(p[1]), int(p[3]), int(p[5])
                elif p[0] == "op":
                    s["ops"][(p[1], p[2])] = {
                        "ms": num(p[3]), "runs": int(p[4]), "rss": num(p[5]),
                        "fs": num(p[6]), "rc": p[7] if len(p) > 7 else ""}
                elif p[0] == "entries":
                    s["entries"][p[1]] = int(p[2])
                elif p[0] == "disk":
                    s["disk"][p[1]] = num(p[2])
                elif p[0] == "baseline":
                    s["baseline"] = num(p[1])
                elif p[0] == "index_error":
                    s["index_error"] = p[1]
                elif p[0] == "state_error":
                    s["state_errors"].append(p[1:])
        sizes.append(s)
    sizes.sort(key=lambda s: s["n"])
    return meta, sizes


def fmt_ms(v):
    if v is None:
        return "—"
    if v >= 100:
        return "{:,.0f}".format(v)
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def cell(s, op, tool):
    c = s["ops"].get((op, tool))
    if not c or c["ms"] is None:
        return "—"
    txt = fmt_ms(c["ms"])
    ref = s["ops"].get((op, "shelf"))
    if tool != "shelf" and ref and ref["ms"]:
        txt += " (%.0fx)" % (c["ms"] / ref["ms"]) if c["ms"] / ref["ms"] >= 10 \
            else " (%.1fx)" % (c["ms"] / ref["ms"])
    if c["runs"] < 3 or (c["runs"] and c["runs"] < int(META.get("runs", "7"))):
        txt += " ⁿ⁼%d" % c["runs"]
    if c["rc"] not in ("0", ""):
        txt += " [exit %s]" % c["rc"]
    return txt


def table(s, key, fmt, ops=OPS):
    names = op_names(ENV)
    out = ["| operation | " + " | ".join(TOOL_NAMES[t] for t in TOOLS) + " |",
           "|---|" + "---:|" * len(TOOLS)]
    for op in ops:
        row = []
        for t in TOOLS:
            c = s["ops"].get((op, t))
            row.append(fmt(c[key]) if c and c[key] is not None else "—")
        out.append("| %s | %s |" % (names.get(op, op), " | ".join(row)))
    return "\n".join(out)


def best_peer(s, op):
    vals = [s["ops"][(op, t)]["ms"] for t in ("lmod", "lmodc", "em")
            if (op, t) in s["ops"] and s["ops"][(op, t)]["ms"] is not None]
    return min(vals) if vals else None


def closest(sizes, files):
    """The measured size nearest (within a factor 1.5) to `files` modulefiles."""
    best = None
    for s in sizes:
        r = s["lua"] / files
        if 1 / 1.5 <= r <= 1.5 and (best is None or abs(math.log(r)) <
                                     abs(math.log(best["lua"] / files))):
            best = s
    return best


def targets(sizes):
    rows = []

    def add(name, measured, ok):
        rows.append("| %s | %s | %s |" % (name, measured,
                                          "—" if ok is None else ("**pass**" if ok else "**FAIL**")))

    mid, big = closest(sizes, 13509), closest(sizes, 67509)
    for label, s in (("~13,500", mid), ("~67,500", big)):
        for op in OPS:
            need = 20 if op in ("avail_t", "avail", "spider", "keyword") else 10
            name = "%s at %s modulefiles: ≥%dx faster than the fastest peer" % (
                op_names(ENV)[op].split(" (")[0], label, need)
            if s is None:
                add(name, "size not run", None)
                continue
            sh = s["ops"].get((op, "shelf"), {}).get("ms")
            bp = best_peer(s, op)
            if sh is None or bp is None:
                add(name, "not measured", None)
                continue
            add(name, "%.1fx (%s vs %s ms)" % (bp / sh, fmt_ms(sh), fmt_ms(bp)), bp / sh >= need)
    limits = [("avail_t", 20), ("spider", 20), ("keyword", 20), ("load", 5), ("list", 2),
              ("swap", 8)]
    for op, lim in limits:
        name = "%s at ~67,500 modulefiles under %d ms" % (op_names(ENV)[op].split(" (")[0], lim)
        if big is None:
            add(name, "size not run", None)
            continue
        v = big["ops"].get((op, "shelf"), {}).get("ms")
        add(name, "%s ms" % fmt_ms(v), None if v is None else v < lim)
    fs = [(s["lua"], s["ops"].get(("load", "shelf"), {}).get("fs")) for s in sizes]
    fs = [(n, v) for n, v in fs if v is not None]
    if fs:
        mx = max(v for _, v in fs)
        add("file-system calls on load below 150",
            ", ".join("%d at %s" % (v, "{:,}".format(n)) for n, v in fs), mx < 150)
        if len(fs) > 1:
            add("file-system calls on load independent of tree size",
                "min %d, max %d" % (min(v for _, v in fs), mx),
                mx - min(v for _, v in fs) <= max(2, 0.05 * mx))
        else:
            add("file-system calls on load independent of tree size", "one size only", None)
    if mid is not None:
        b = mid["ops"].get(("build", "shelf"), {})
        ok = b.get("ms") is not None and b.get("rc") == "0"
        add("index build for ~13,500 modulefiles under 10 s",
            ("%.2f s" % (b["ms"] / 1000)) if ok else "index build failed", ok and b["ms"] < 10000)
    else:
        add("index build for ~13,500 modulefiles under 10 s", "size not run", None)
    rss = [(s["lua"], op, s["ops"][(op, "shelf")]["rss"]) for s in sizes for op in OPS
           if (op, "shelf") in s["ops"] and s["ops"][(op, "shelf")]["rss"] is not None]
    if rss:
        n, op, v = max(rss, key=lambda x: x[2])
        add("peak RSS under 16 MB for any user command",
            "max %.1f MB (%s at %s)" % (v / 1024, op, "{:,}".format(n)), v < 16 * 1024)
    if len(sizes) > 1:
        a, z = sizes[0], sizes[-1]
        la = a["ops"].get(("load", "shelf"), {}).get("ms")
        lz = z["ops"].get(("load", "shelf"), {}).get("ms")
        if la and lz:
            add("`load` flat in N (largest / smallest tree, at most 1.5x)",
                "%s ms → %s ms (%.2fx for %.0fx the modulefiles)" % (
                    fmt_ms(la), fmt_ms(lz), lz / la, z["lua"] / a["lua"]), lz / la <= 1.5)
        aa = a["ops"].get(("avail_t", "shelf"), {}).get("ms")
        az = z["ops"].get(("avail_t", "shelf"), {}).get("ms")
        ea, ez = a["entries"].get("shelf"), z["entries"].get("shelf")
        if aa and az and ea and ez:
            add("`avail` at most linear in the modules printed (time ratio ≤ entries ratio)",
                "time %.2fx for %.2fx the entries" % (az / aa, ez / ea), az / aa <= ez / ea * 1.1)
    else:
        add("cost growth in N", "one size only", None)
    return "\n".join(["| target | measured (shelf) | result |", "|---|---|---|"] + rows)


# ---- SVG -------------------------------------------------------------------------

def svg_plot(sizes, path):
    panels = [("avail_t", "avail -t"), ("spider", "spider NAME"), ("keyword", "keyword WORD"),
              ("load", "load compiler+MPI+leaf"), ("list", "list (10 loaded)"),
              ("swap", "swap compiler (4 dependents)")]
    pw, ph, ml, mt, mb, mr = 300, 230, 60, 30, 42, 14
    cols = 3
    rows = (len(panels) + cols - 1) // cols
    W, H = cols * (pw + ml + mr) + 20, rows * (ph + mt + mb) + 70
    xs = [s["lua"] for s in sizes]
    allv = [c["ms"] for s in sizes for (op, t), c in s["ops"].items()
            if op != "build" and c["ms"]]
    if not xs or not allv:
        return
    x0 = 10 ** math.floor(math.log10(min(xs)))
    x1 = 10 ** math.ceil(math.log10(max(xs)) + (0.01 if len(xs) == 1 else 0))
    if x1 <= x0:
        x1 = x0 * 10
    y0 = 10 ** math.floor(math.log10(min(allv)))
    y1 = 10 ** math.ceil(math.log10(max(allv)))
    if y1 <= y0:
        y1 = y0 * 10
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
         'viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">' % (W, H, W, H),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="20" font-size="15" text-anchor="middle">Wall time (median ms, log) '
         'against modulefiles in the tree (log)</text>' % (W // 2)]
    for i, (op, title) in enumerate(panels):
        ox = 10 + (i % cols) * (pw + ml + mr) + ml
        oy = 30 + (i // cols) * (ph + mt + mb) + mt

        def X(v):
            return ox + pw * (math.log10(v) - math.log10(x0)) / (math.log10(x1) - math.log10(x0))

        def Y(v):
            return oy + ph - ph * (math.log10(v) - math.log10(y0)) / (math.log10(y1) - math.log10(y0))

        o.append('<text x="%d" y="%d" font-size="13" text-anchor="middle" font-weight="bold">'
                 '%s</text>' % (ox + pw // 2, oy - 8, title))
        o.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#444"/>'
                 % (ox, oy, pw, ph))
        e = int(math.log10(y0))
        while 10 ** e <= y1 * 1.0001:
            y = Y(10 ** e)
            o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (ox, y, ox + pw, y))
            lab = "{:,}".format(10 ** e) if e >= 0 else ("%g" % round(10 ** e, -e))
            o.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (ox - 4, y + 4, lab))
            e += 1
        e = int(math.log10(x0))
        while 10 ** e <= x1 * 1.0001:
            x = X(10 ** e)
            o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, oy, x, oy + ph))
            o.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'
                     % (x, oy + ph + 14, "{:,}".format(10 ** e)))
            e += 1
        o.append('<text x="%d" y="%d" text-anchor="middle" fill="#555">modulefiles</text>'
                 % (ox + pw // 2, oy + ph + 30))
        o.append('<text x="%d" y="%d" text-anchor="middle" fill="#555" '
                 'transform="rotate(-90 %d %d)">ms</text>' % (ox - 42, oy + ph // 2, ox - 42, oy + ph // 2))
        for t in TOOLS:
            pts = [(s["lua"] if t != "em" else s["tcl"], s["ops"][(op, t)]["ms"])
                   for s in sizes if (op, t) in s["ops"] and s["ops"][(op, t)]["ms"]]
            if not pts:
                continue
            dash = ' stroke-dasharray="6,3"' if t == "lmodc" else ""
            if len(pts) > 1:
                o.append('<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>' % (
                    COLORS[t], dash, " ".join("%.1f,%.1f" % (X(a), Y(b)) for a, b in pts)))
            for a, b in pts:
                if t == "lmodc":  # hollow: Lmod's two modes often coincide
                    o.append('<circle cx="%.1f" cy="%.1f" r="5" fill="none" stroke="%s" '
                             'stroke-width="2"/>' % (X(a), Y(b), COLORS[t]))
                else:
                    o.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>'
                             % (X(a), Y(b), COLORS[t]))
        lim = TARGET_MS.get(op)
        if lim and y0 <= lim <= y1:
            o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#888" '
                     'stroke-dasharray="2,3"/>' % (ox, Y(lim), ox + pw, Y(lim)))
            o.append('<text x="%d" y="%.1f" text-anchor="end" fill="#666" font-size="10">'
                     'target at ~67k: %g ms</text>' % (ox + pw - 3, Y(lim) - 3, lim))
    lx = 10 + ml
    ly = H - 18
    for t in TOOLS:
        o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"%s/>'
                 % (lx, ly - 4, lx + 24, ly - 4, COLORS[t],
                    ' stroke-dasharray="6,3"' if t == "lmodc" else ""))
        o.append('<text x="%d" y="%d" font-size="12">%s</text>' % (lx + 30, ly, TOOL_NAMES[t]))
        lx += 60 + 7 * len(TOOL_NAMES[t])
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


# ---- shelfd under load (bench/daemon.sh) --------------------------------------

def daemon_section(datadir):
    """The shelfd section, from daemon.tsv (bench/daemon.sh), or nothing."""
    path = os.path.join(datadir, "daemon.tsv")
    if not os.path.exists(path):
        return []
    rows, info = {}, {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if f[0] == "daemon" and len(f) >= 7:
            rows[f[1]] = {"rps": float(f[2]), "p50": float(f[3]), "p99": float(f[4]),
                          "n": int(f[5]), "err": int(f[6])}
        elif f[0] == "daemon-info" and len(f) >= 3:
            info[f[1]] = f[2]
    if not rows:
        return []
    L = ["## shelfd under load (issue 5)", "",
         "`bench/daemon.sh`: shelfd on 127.0.0.1 with a bearer token, serving the generated "
         "tree of %s from its Core level, with its index; %s, 2 threads, %s connections, %s s per test. "
         "Errors: socket errors, time-outs and answers with a status of 400 or more."
         % (info.get("tree", "?"), info.get("wrk", "?"), info.get("connections", "?"),
            info.get("duration", "?")), "",
         "| test | requests/s | p50 ms | p99 ms | requests | errors |",
         "|---|---:|---:|---:|---:|---:|"]
    names = {"modules": "`GET /api/v1/modules?q=hdf`",
             "loadpair": "`POST load` / `POST unload` of one module, alternating"}
    for k in ("modules", "loadpair"):
        if k in rows:
            r = rows[k]
            L.append("| %s | {:,.0f} | %.2f | %.2f | {:,} | {:,} |".format(r["rps"], r["n"], r["err"])
                     % (names[k], r["p50"], r["p99"]))
    L += ["", "| target | measured | result |", "|---|---|---|"]
    def res(ok):
        return "**pass**" if ok else "**FAIL**"
    if "modules" in rows:
        r = rows["modules"]
        L.append("| `GET modules?q=` at 64 connections: at least 10,000 requests/s | {:,.0f}/s | {} |"
                 .format(r["rps"], res(r["rps"] >= 10000)))
        L.append("| ... with p99 under 10 ms | %.2f ms | %s |" % (r["p99"], res(r["p99"] < 10)))
        L.append("| ... with zero errors | %d | %s |" % (r["err"], res(r["err"] == 0)))
    if "loadpair" in rows:
        r = rows["loadpair"]
        pairs = r["rps"] / 2
        L.append("| `POST load` + `POST unload` pairs: at least 1,000/s | {:,.0f} pairs/s | {} |"
                 .format(pairs, res(pairs >= 1000)))
        L.append("| ... with zero errors | %d | %s |" % (r["err"], res(r["err"] == 0)))
    return L + [""]


# ---- RESULTS.md -----------------------------------------------------------------

def main(argv):
    global META, ENV
    if len(argv) != 4:
        sys.stderr.write("usage: report.py DATADIR RESULTS.md results.svg\n")
        return 2
    META, sizes = read_data(argv[1])
    ENV = {"spider": "hdf5", "keyword": "climate"}
    if not sizes:
        sys.stderr.write("report.py: no size-*.tsv in %s\n" % argv[1])
        return 1
    runs = META.get("runs", "?")
    L = ["# Benchmark results: shelf, Lmod and Environment Modules",
         "",
         "Generated by `bench/run.sh%s` on %s. Do not edit: rerun `make bench`."
         % (" --quick" if META.get("quick") == "1" else "", META.get("date", "?")),
         "",
         "## Machine and versions",
         "",
         "| | |", "|---|---|",
         "| CPU | %s (%s cores) |" % (META.get("cpu"), META.get("nproc")),
         "| memory | %s |" % META.get("mem"),
         "| kernel | %s |" % META.get("kernel"),
         "| file system of the trees | %s (local disk, warm page cache) |" % META.get("fs"),
         "| shelf | %s (source %s) |" % (META.get("shelf"), META.get("commit", "unknown")),
         "| Lmod | %s (Debian, run by %s) |" % (META.get("lmod"), META.get("lua")),
         "| Environment Modules | %s (Debian package, extracted; Tcl %s) |"
         % (META.get("em"), META.get("tcl")),
         "",
         "## Method",
         "",
         "- Trees from `bench/gen-tree N` (N packages; Core / Compiler (gcc 12.3.0, gcc 13.2.0, "
         "clang 17.0.6) / MPI (openmpi, mpich per compiler); 1-5 versions per package; whatis, "
         "help, paths, `depends_on`, families, default markers, hidden versions), written as Lua "
         "(shelf, Lmod) and as Tcl (Environment Modules) with the same content.",
         "- Each cell: median wall time in ms of %s runs (fewer where marked ⁿ⁼k: cells whose "
         "first run took over 1.5 s get 3 runs, over 30 s one run); the tools interleaved; "
         "each command started by `bench/spawn-time.py` (posix_spawn from a small process, "
         "as hyperfine does: no shell or `env -i` in between, whose own start-up would add "
         "about 0.7 ms to every figure) with exactly `HOME=<fresh> PATH=/usr/bin:/bin "
         "TERM=dumb MODULEPATH=<Core>`, or, for list/swap/unload and avail, the environment "
         "that the tool's own `load` output produced when evaluated by bash. "
         "Output goes to /dev/null. In parentheses: time relative to shelf." % runs,
         "- shelf: its index built with `shelf index --timestamp FILE`, which readers trust "
         "while FILE is untouched and each level's top directory is unchanged, as Lmod's system "
         "cache trusts its timestamp file. shelf (dir check): the same index with "
         "`SHELF_INDEX_CHECK=dirs`, i.e. one `stat` of every directory the index recorded "
         "under the levels the command reads (the default for an index built without "
         "`--timestamp`); measured for the read commands only.",
         "- Lmod (no cache): `LMOD_IGNORE_CACHE=1`. Lmod (system cache): "
         "`update_lmod_system_cache_files` output, found through `LMOD_RC` (`scDescriptT`); "
         "Lmod ignores it for `-t avail` (unless `LMOD_CACHED_LOADS=yes`) and loads still "
         "walk the MODULEPATH directories.",
         "- Environment Modules has no `spider`; `keyword` is its `search`. Its full (column) "
         "`avail` grows quadratically with the entries, compare the `-t` form. Behaviour "
         "differs: on `unload` of a needed dependency Lmod and shelf keep the dependent (with "
         "a warning), Environment Modules unloads it too; on the compiler swap Lmod and shelf "
         "reload the dependents from the new compiler's level, Environment Modules keeps the "
         "old builds loaded.",
         "- The machine is not otherwise idle (builds and tests may run beside the "
         "benchmark): interleaving spreads that noise over all tools, so the ratios are "
         "sturdier than the absolute times.",
         "- Peak RSS: `/usr/bin/time -f %M`, one run (slow cells: one of the timed runs). "
         "File-system calls: "
         "`strace -f -c -e trace=%file,getdents64`, total calls of one run.",
         ""]
    if sizes and sizes[0].get("baseline") is not None:
        L.append("- Starting `/bin/true` the same way costs %.2f ms here: no command can "
                 "take less.\n" % sizes[0]["baseline"])
    L += ["## Trees", "",
          "| packages | Lua modulefiles | Tcl modulefiles | `avail -t` entries (shelf / Lmod / "
          "Lmod cached / EM) | `shelf index` build | Lmod cache build |",
          "|---:|---:|---:|---|---|---|"]
    for s in sizes:
        def build(t):
            b = s["ops"].get(("build", t))
            if not b or b["ms"] is None:
                return "—"
            if b["rc"] != "0":
                return "failed (exit %s)" % b["rc"]
            d = s["disk"].get(t)
            return "%.2f s, %.0f MB RSS%s" % (b["ms"] / 1000, (b["rss"] or 0) / 1024,
                                              ", %.1f MB on disk" % (d / 1024) if d else "")
        L.append("| {:,} | {:,} | {:,} | {} | {} | {} |".format(
            s["n"], s["lua"], s["tcl"],
            " / ".join("{:,}".format(s["entries"][t]) if t in s["entries"] else "—"
                       for t in TOOLS),
            build("shelf"), build("lmodc")))
    L.append("")
    noindex = [s for s in sizes if s["index_error"]]
    if noindex:
        L += ["**`shelf index` failed**, so shelf's figures below were measured **without an "
              "index** (shelf read the tree itself). The error at N=%d: `%s`"
              % (noindex[0]["n"], noindex[0]["index_error"].strip()[:200]), ""]
    for s in sizes:
        for e in s["state_errors"]:
            L.append("- Warning (N=%d): %s did not reach the starting state `%s` (loaded: `%s`); "
                     "its cells from that state are not comparable." % (s["n"], e[0], e[1],
                                                                         e[2] if len(e) > 2 else ""))
    for s in sizes:
        L += ["## %s packages, %s modulefiles" % ("{:,}".format(s["n"]), "{:,}".format(s["lua"])),
              "", "Median wall ms (ratio to shelf):", ""]
        names = op_names(ENV)
        L.append("| operation | " + " | ".join(TOOL_NAMES[t] for t in TOOLS) + " |")
        L.append("|---|" + "---:|" * len(TOOLS))
        for op in OPS:
            L.append("| %s | %s |" % (names[op], " | ".join(cell(s, op, t) for t in TOOLS)))
        L += ["", "Peak RSS (MB):", "",
              table(s, "rss", lambda v: "%.1f" % (v / 1024)),
              "", "File-system calls (strace, total):", "",
              table(s, "fs", lambda v: "{:,.0f}".format(v)), ""]
    L += ["## Targets (issue 3)", "",
          "\"Fastest peer\" is the fastest of Lmod (no cache), Lmod (system cache) and "
          "Environment Modules for that operation.", "", targets(sizes), "",
          "![time against tree size](results.svg)", ""]
    L += daemon_section(argv[1])
    with open(argv[2], "w") as f:
        f.write("\n".join(L))
    svg_plot(sizes, argv[3])
    return 0


META, ENV = {}, {}
if __name__ == "__main__":
    sys.exit(main(sys.argv))
