#!/usr/bin/env python3
"""API tests of shelfd (tests/shell/api.sh runs this; prints TAP).

Usage: api_test.py [--daemon SHELFD] [--driver API_DRIVER], with SHELF
(the shelf command) and SHELF_SRCDIR in the environment; each target given
gets the whole suite, and one TAP plan covers them all.

Works on a copy of the sample tree (so that a modulefile can be changed to
make a saved collection drift) plus two broken modulefiles, in a temporary
HOME. Talks to the real daemon over its unix socket (http.client), or, with
--driver, to tests/daemon/api_driver, which calls api_handle() directly.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

n_tests = 0
n_failed = 0


def ok(cond, name, diag=None):
    global n_tests, n_failed
    n_tests += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n_tests, name))
    if not cond:
        n_failed += 1
        if diag is not None:
            for line in str(diag)[:2000].splitlines():
                print("#   " + line)
    sys.stdout.flush()
    return cond


def is_(got, want, name):
    return ok(got == want, name, "got:  %r\nwant: %r" % (got, want))


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.sock_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.sock_path)
        self.sock = s


class Response:
    def __init__(self, status, allow, text):
        self.status = status
        self.allow = allow
        self.text = text
        try:
            self.json = json.loads(text)
        except ValueError:
            self.json = None

    def __repr__(self):
        return "%d %s" % (self.status, self.text[:1500])


class Daemon:
    """The real shelfd on a temporary unix socket."""

    def __init__(self, shelfd, tree, env, wrapper=(), extra=(), trees=()):
        self.sock = os.path.join(env["XDG_RUNTIME_DIR"], "api-%d.sock" % id(self))
        args = list(wrapper) + [shelfd, "--foreground", "--socket", self.sock,
                                "--tree", tree, "--print-address"] + list(extra)
        for t in trees:
            args += ["--tree", t]
        # The log goes to a file: a pipe nobody reads would fill and block it.
        self.log = self.sock + ".log"
        with open(self.log, "w") as log:
            # A session of its own: stop() signals the whole group, so a
            # daemon under a wrapper (strace detaches on SIGTERM) stops too.
            self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE,
                                         stderr=log, text=True, start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("socket="):
                break
        while not os.path.exists(self.sock) and time.time() < deadline:
            time.sleep(0.05)

    def request(self, method, url, client=None, body=None, raw=None):
        c = UnixHTTPConnection(self.sock)
        headers = {}
        if client:
            headers["X-Shelf-Client"] = client
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        c.request(method, url, body=data, headers=headers)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        allow = r.getheader("Allow")
        c.close()
        return Response(r.status, allow, text)

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        # Whatever of the group is left (the traced daemon, after strace):
        # wait for it to go, then make sure.
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.killpg(self.proc.pid, signal.SIGKILL)
        with open(self.log) as f:
            return f.read()


class Driver:
    """tests/daemon/api_driver: api_handle() without HTTP, one line a request."""

    def __init__(self, driver, tree, env, wrapper=(), extra=(), trees=()):
        self.log = os.path.join(env["XDG_RUNTIME_DIR"], "driver-%d.log" % id(self))
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(list(wrapper) + [driver, tree] + list(trees), env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log, text=True)
        self.lock = threading.Lock()

    def request(self, method, url, client=None, body=None, raw=None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        assert "\n" not in data
        line = "%s %s %s %s\n" % (method, url, client or "-", data)
        with self.lock:
            self.proc.stdin.write(line)
            self.proc.stdin.flush()
            out = self.proc.stdout.readline()
        status, allow, text = out.rstrip("\n").split("\t", 2)
        return Response(int(status), None if allow == "-" else allow, text)

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(60)
        with open(self.log) as f:
            return f.read()


def names(resp):
    return [m["name"] for m in resp.json["modules"]]


def loaded_names(resp):
    return [m["fullname"] for m in resp.json["loaded"]]


def main():
    shelf = os.environ["SHELF"]
    srcdir = os.environ["SHELF_SRCDIR"]
    args = sys.argv[1:]
    for mode, binary in zip(args[0::2], args[1::2]):
        print("# %s %s" % (mode, binary))
        tmp = tempfile.mkdtemp(prefix="shelf-api-")
        try:
            run(mode, binary, shelf, srcdir, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % n_tests)
    return 1 if n_failed else 0


def run(mode, binary, shelf, srcdir, tmp):
    top = os.path.join(tmp, "modulefiles")
    shutil.copytree(os.path.join(srcdir, "modulefiles"), top, symlinks=True)
    tree = os.path.join(top, "Core")
    os.makedirs(os.path.join(tree, "broken"))
    with open(os.path.join(tree, "broken", "1.0.lua"), "w") as f:
        f.write('whatis("Description: a broken module")\n\nlocal x = nil\nx.field = 1\n')
    os.makedirs(os.path.join(tree, "latin"))
    with open(os.path.join(tree, "latin", "1.0.lua"), "w") as f:
        f.write('whatis("Description: sets a value that is not UTF-8")\n'
                'setenv("LATIN_B", "caf\\233")\n')
    os.makedirs(os.path.join(tree, "refuses"))
    with open(os.path.join(tree, "refuses", "1.0.lua"), "w") as f:
        f.write('whatis("Description: always refuses")\nLmodError("refuses to load here")\n')
    outside = os.path.join(tmp, "outside")
    os.makedirs(outside)
    with open(os.path.join(outside, "secret.lua"), "w") as f:
        f.write('setenv("SECRET", "1")\n')
    home = os.path.join(tmp, "home")
    os.makedirs(home)
    runtime = os.path.join(tmp, "run")
    os.makedirs(runtime, mode=0o700)
    env = {"HOME": home, "PATH": "/usr/bin:/bin", "MODULEPATH": tree,
           "XDG_CONFIG_HOME": os.path.join(home, "cfg"),
           "XDG_CACHE_HOME": os.path.join(home, "cache"),
           "XDG_RUNTIME_DIR": runtime, "LANG": "C"}
    kind = Daemon if mode == "--daemon" else Driver
    api = kind(binary, tree, env)
    try:
        endpoints(api, shelf, env, tree, top, outside, mode)
        concurrency(api)
    finally:
        log = api.stop()
    ok(api.proc.returncode == 0, "the server exits cleanly", log[-3000:])
    defaults_across_trees(kind, binary, shelf, tmp)
    defaults_from_a_reached_level(kind, binary, shelf, tmp)
    defaults_per_environment(kind, binary, shelf, tmp)
    if mode == "--daemon" or shutil.which("strace"):
        confinement(kind, binary, tree, env, tmp, outside)


def home_env(home, modulepath):
    """The environment of a user whose home (with its private runtime
    directory) is home."""
    runtime = os.path.join(home, "run")
    os.makedirs(runtime, mode=0o700)
    return {"HOME": home, "PATH": "/usr/bin:/bin", "MODULEPATH": modulepath,
            "XDG_RUNTIME_DIR": runtime, "XDG_CACHE_HOME": os.path.join(home, "cache"),
            "XDG_CONFIG_HOME": os.path.join(home, "cfg"), "LANG": "C"}


def defaults_across_trees(kind, binary, shelf, tmp):
    """foo/1.0 in one tree, foo/2.0 in another: the daemon's default is the
    engine's, what `module load foo` loads."""
    V = "/api/v1/"
    two = os.path.join(tmp, "two")
    a, b = os.path.join(two, "a"), os.path.join(two, "b")
    for d, v in ((a, "1.0"), (b, "2.0")):
        os.makedirs(os.path.join(d, "foo"))
        with open(os.path.join(d, "foo", v + ".lua"), "w") as f:
            f.write('whatis("Description: foo %s")\nsetenv("FOO_VERSION", "%s")\n' % (v, v))
    env = home_env(two, a + ":" + b)
    p = cli(shelf, env, "json", "load", "foo")
    want = "2.0"
    ok(p.returncode == 0 and json.loads(p.stdout)["env"]["FOO_VERSION"] == want,
       "two trees: module load foo loads foo/2.0", p.stdout + p.stderr)
    api = kind(binary, a, env, trees=[b])
    try:
        r = api.request("GET", V + "modules?all=1", "two")
        foo = [m for m in (r.json or {}).get("modules", []) if m["name"] == "foo"]
        ok(foo and foo[0]["default_fullname"] == "foo/" + want,
           "two trees: GET modules calls foo/%s the default" % want, r)
        ok(foo and [v["fullname"] for v in foo[0]["versions"] if v["default"]] == ["foo/" + want],
           "two trees: only that version is marked default", r)
        r = api.request("GET", V + "modules/foo/" + want, "two")
        ok(r.status == 200 and r.json["default"], "two trees: its details say default", r)
        r = api.request("GET", V + "modules/foo/1.0", "two")
        ok(r.status == 200 and not r.json["default"], "two trees: the other is not", r)
        r = api.request("POST", V + "load", "two", {"modules": ["foo"]})
        ok(r.status == 200 and loaded_names(r) == ["foo/" + want],
           "two trees: POST load foo loads that default", r)
    finally:
        api.stop()


def defaults_from_a_reached_level(kind, binary, shelf, tmp):
    """An indexed tree where loading gcc opens a level whose .modulerc.lua
    hides foo/2.0: once gcc is loaded, the daemon's default of
    foo is foo/1.0 too, as `module load foo` says."""
    V = "/api/v1/"
    top = os.path.join(tmp, "reached")
    core, comp = os.path.join(top, "Core"), os.path.join(top, "Compiler", "gcc", "12")
    for v in ("1.0", "2.0"):
        os.makedirs(os.path.join(core, "foo"), exist_ok=True)
        with open(os.path.join(core, "foo", v + ".lua"), "w") as f:
            f.write('whatis("Description: foo %s")\nsetenv("FOO_VERSION", "%s")\n' % (v, v))
    os.makedirs(os.path.join(core, "gcc"))
    with open(os.path.join(core, "gcc", "12.lua"), "w") as f:
        f.write('whatis("Description: gcc")\nprepend_path("MODULEPATH", "%s")\n' % comp)
    os.makedirs(comp)
    with open(os.path.join(comp, ".modulerc.lua"), "w") as f:
        f.write('hide_version("foo/2.0")\n')
    env = home_env(top, core)
    p = cli(shelf, env, "index", "--quiet", core)
    ok(p.returncode == 0, "reached level: the tree is indexed", p.stderr)
    p = subprocess.run(["bash", "-c", 'eval "$("$0" bash load gcc)" && "$0" json load foo', shelf],
                       env=env, capture_output=True, text=True)
    ok(p.returncode == 0 and json.loads(p.stdout)["env"]["FOO_VERSION"] == "1.0",
       "reached level: after gcc, module load foo loads foo/1.0", p.stdout + p.stderr)
    api = kind(binary, core, env, trees=[os.path.join(top, "Compiler")])
    try:
        r = api.request("POST", V + "load", "reach", {"modules": ["gcc"]})
        ok(r.status == 200, "reached level: POST load gcc", r)
        r = api.request("GET", V + "modules?all=1", "reach")
        foo = [m for m in (r.json or {}).get("modules", []) if m["name"] == "foo"]
        ok(foo and foo[0]["default_fullname"] == "foo/1.0",
           "reached level: GET modules calls foo/1.0 the default", r)
        r = api.request("POST", V + "load", "reach", {"modules": ["foo"]})
        ok(r.status == 200 and "foo/1.0" in loaded_names(r),
           "reached level: POST load foo loads foo/1.0", r)
    finally:
        api.stop()


def defaults_per_environment(kind, binary, shelf, tmp):
    """A .modulerc.lua whose default depends on a variable: two contexts
    that differ only there each get their own default, whoever asked
    first (GET modules caches its answers)."""
    V = "/api/v1/"
    top = os.path.join(tmp, "flavor")
    tree = os.path.join(top, "mf")
    os.makedirs(os.path.join(tree, "foo"))
    for v in ("1.0", "2.0"):
        with open(os.path.join(tree, "foo", v + ".lua"), "w") as f:
            f.write('whatis("Description: foo %s")\n' % v)
    with open(os.path.join(tree, "foo", ".modulerc.lua"), "w") as f:
        f.write('if os.getenv("FLAVOR") == "old" then module_version("foo/1.0", "default") end\n')
    env = home_env(top, tree)
    for flavor, want in (("old", "1.0"), ("new", "2.0")):
        p = cli(shelf, dict(env, FLAVOR=flavor), "json", "load", "foo")
        ok(p.returncode == 0 and "foo/" + want in json.loads(p.stdout)["env"]["LOADEDMODULES"],
           "FLAVOR=%s: module load foo loads foo/%s" % (flavor, want), p.stdout + p.stderr)
    api = kind(binary, tree, env)
    try:
        for client, flavor in (("new", "new"), ("old", "old")):
            r = api.request("PUT", V + "context", client,
                            {"env": {"MODULEPATH": tree, "HOME": top, "FLAVOR": flavor}})
            ok(r.status == 200, "PUT context FLAVOR=" + flavor, r)

        def default_of(client):
            r = api.request("GET", V + "modules?all=1", client)
            foo = [m for m in (r.json or {}).get("modules", []) if m["name"] == "foo"]
            return foo[0]["default_fullname"] if foo else r
        is_(default_of("new"), "foo/2.0", "FLAVOR=new: GET modules calls foo/2.0 the default")
        is_(default_of("old"), "foo/1.0", "FLAVOR=old: GET modules calls foo/1.0 the default")
        is_(default_of("new"), "foo/2.0", "FLAVOR=new again: still foo/2.0 (not the other's)")
    finally:
        api.stop()


def cli(shelf, env, *args):
    p = subprocess.run([shelf] + list(args), env=env, capture_output=True, text=True)
    return p


def endpoints(api, shelf, env, tree, top, outside, mode):
    V = "/api/v1/"
    # ---- version, health
    r = api.request("GET", V + "version")
    is_((r.status, r.json), (200, {"shelf": "0.1.0", "api": 1}), "GET version")
    r = api.request("GET", V + "health")
    ok(r.status == 200 and r.json["status"] == "ok" and tree in r.json["trees"]
       and isinstance(r.json["uptime_s"], (int, float)) and "contexts" in r.json,
       "GET health", r)

    # ---- the module list
    r = api.request("GET", V + "modules?q=hdf")
    ok(r.status == 200 and names(r) == ["hdf5"], "modules?q=hdf lists hdf5 alone", r)
    hdf5 = r.json["modules"][0]
    ok(not hdf5["loadable"] and ["gcc/12.3.0", "openmpi/4.1.6"] in hdf5["requires"]
       and ["gcc/13.2.0", "openmpi/4.1.6"] in hdf5["requires"],
       "hdf5 is unlocked by gcc then openmpi", hdf5)
    is_(names(api.request("GET", V + "modules?q=HDF")), ["hdf5"], "q ignores case")
    r = api.request("GET", V + "modules?q=openmpi")
    om = [m for m in r.json["modules"] if m["name"] == "openmpi"]
    ok(om and sorted(om[0]["requires"]) == [["gcc/12.3.0"], ["gcc/13.2.0"]],
       "openmpi requires gcc", r)
    # With gcc/13.2.0 loaded, the engine's choice is gcc 13's build, and its
    # requirement the loaded compiler: Load must not swap the compiler back.
    r = api.request("POST", V + "load", "gcc13", {"modules": ["gcc/13.2.0"]})
    ok(r.status == 200 and "gcc/13.2.0" in loaded_names(r), "gcc13: gcc/13.2.0 loaded", r)
    r = api.request("GET", V + "modules?all=1", "gcc13")
    mods = {m["name"]: m for m in (r.json or {}).get("modules", [])}
    om = mods.get("openmpi", {})
    dflt = [v for v in om.get("versions", []) if v["default"]]
    ok(len(dflt) == 1 and "/Compiler/gcc/13/" in dflt[0]["file"] and dflt[0]["loadable"]
       and dflt[0]["requires"][:1] == [["gcc/13.2.0"]],
       "gcc13: openmpi's default is gcc 13's, needing the loaded gcc", om)
    h5 = mods.get("hdf5", {})
    dflt = [v for v in h5.get("versions", []) if v["default"]]
    ok(len(dflt) == 1 and "/MPI/gcc/13/" in dflt[0]["file"] and not dflt[0]["loadable"]
       and dflt[0]["requires"][:1] == [["gcc/13.2.0", "openmpi/4.1.6"]],
       "gcc13: hdf5's default is gcc 13's build, its first way keeps gcc 13", h5)
    r = api.request("GET", V + "modules/hdf5", "gcc13")
    ok(r.status == 200 and "/MPI/gcc/13/" in r.json["file"] and r.json["default"]
       and r.json["requires"][:1] == [["gcc/13.2.0", "openmpi/4.1.6"]],
       "gcc13: GET modules/hdf5 agrees", r)
    r = api.request("GET", V + "modules?q=deep%20learning")
    is_(sorted(names(r)), ["torch", "torchvision"], "q matches keywords and descriptions")
    r = api.request("GET", V + "modules")
    gcc = [m for m in r.json["modules"] if m["name"] == "gcc"][0]
    ok(gcc["loadable"] and gcc["requires"] == [] and gcc["category"] == "Compiler"
       and gcc["description"] and isinstance(gcc["properties"], dict),
       "gcc: loadable, category, description", gcc)
    ok(len(gcc["versions"]) == 1 and gcc["versions"][0]["default"],
       "without all=1 only the default version", gcc["versions"])
    r = api.request("GET", V + "modules?all=1")
    gcc = [m for m in r.json["modules"] if m["name"] == "gcc"][0]
    is_([v["fullname"] for v in gcc["versions"]], ["gcc/12.3.0", "gcc/13.2.0"],
        "all=1 lists every version")
    numpy = [m for m in r.json["modules"] if m["name"] == "numpy"][0]
    ok(all(not v["hidden"] for v in numpy["versions"]), "hidden versions left out", numpy)
    r = api.request("GET", V + "modules?all=1&hidden=1")
    numpy = [m for m in r.json["modules"] if m["name"] == "numpy"][0]
    ok(any(v["hidden"] and v["fullname"] == "numpy/.2.0.0rc1" for v in numpy["versions"]),
       "hidden=1 lists numpy's hidden pre-release", numpy)
    spider = json.loads(cli(shelf, env, "bash", "spider", "--json").stdout)
    is_(sorted(set(names(r))), sorted(set(m["name"] for m in spider)),
        "the module names are those of shelf spider --json")

    # ---- one module
    r = api.request("GET", V + "modules/torchvision")
    tv = r.json
    ok(r.status == 200 and tv["fullname"] == "torchvision/0.17.0" and tv["loadable"]
       and {"function": "depends_on", "modules": ["torch"]} in tv["dependencies"]
       and "Name: torchvision" in tv["whatis"] and "torchvision_demo" in tv["help"],
       "details of torchvision: whatis, help, depends_on torch", r)
    shown = cli(shelf, env, "bash", "show", "torchvision").stderr.splitlines()
    is_("\n".join(tv["show"]), "\n".join(shown[3:]).rstrip("\n"),
        "show actions are those of shelf bash show")
    r = api.request("GET", V + "modules/torchvision/0.17.0")
    is_((r.status, r.json.get("file")), (200, os.path.join(tree, "torchvision", "0.17.0.lua")),
        "modules/NAME/VERSION")
    r = api.request("GET", V + "modules/gcc/12.3.0")
    ok(r.status == 200 and r.json["family"] == "compiler" and r.json["category"] == "Compiler",
       "gcc's family", r)
    r = api.request("GET", V + "modules/hdf5")
    ok(r.status == 200 and not r.json["loadable"] and r.json["requires"],
       "a module of a deeper level: details with what unlocks it", r)
    r = api.request("GET", V + "modules/nosuchthing")
    ok(r.status == 404 and r.json["error"]["code"] == "not_found"
       and "nosuchthing" in r.json["error"]["message"], "unknown module: 404 JSON", r)

    # ---- load, loaded, unload
    r = api.request("POST", V + "load", "a", {"modules": ["torchvision"]})
    ok(r.status == 200, "POST load torchvision", r)
    deps = {m["fullname"]: m["dependency"] for m in r.json["loaded"]}
    ok(deps.get("torch/2.2.0") is True and deps.get("torchvision/0.17.0") is False,
       "torch is loaded as a dependency", r.json["loaded"])
    ok("sw/torchvision/0.17.0" in r.json["changes"]["env"].get("PYTHONPATH", ""),
       "changes.set.PYTHONPATH", r.json["changes"])
    mine = json.loads(cli(shelf, env, "json", "load", "torchvision").stdout)
    is_(r.json["changes"]["env"]["LOADEDMODULES"], mine["env"]["LOADEDMODULES"],
        "LOADEDMODULES as shelf json load makes it")
    is_(r.json["changes"]["env"]["PYTHONPATH"], mine["env"]["PYTHONPATH"],
        "PYTHONPATH as shelf json load makes it")
    r = api.request("GET", V + "loaded", "a")
    is_(loaded_names(r), ["python/3.11.8", "torch/2.2.0", "torchvision/0.17.0"],
        "GET loaded after the load")
    # A value that is not UTF-8 arrives as \udcXX, byte for byte, in valid
    # JSON, as shelf json load writes it.
    r = api.request("POST", V + "load", "latin", {"modules": ["latin"]})
    val = r.json and r.json["changes"]["env"].get("LATIN_B")
    ok(r.status == 200 and val is not None and os.fsencode(val) == b"caf\xe9",
       "POST load: a byte that is not UTF-8 comes back exactly (\\udcXX)", r)
    mine = json.loads(cli(shelf, env, "json", "load", "latin").stdout)
    is_(val, mine["env"]["LATIN_B"], "the same value as shelf json load")
    r = api.request("GET", V + "context", "latin")
    ok(r.status == 200 and r.json["env"].get("LATIN_B") == val,
       "the context holds the same bytes", r)
    r = api.request("GET", V + "modules?q=torch", "a")
    tvm = [m for m in r.json["modules"] if m["name"] == "torchvision"][0]
    ok(tvm["loaded"] and tvm["versions"][0]["loaded"], "the module list marks loaded ones", tvm)
    r = api.request("GET", V + "loaded", "b")
    is_((r.status, r.json["loaded"]), (200, []), "client b's context is untouched")
    r = api.request("GET", V + "modules?q=torch", "b")
    tvm = [m for m in r.json["modules"] if m["name"] == "torchvision"][0]
    ok(not tvm["loaded"], "client b's module list marks nothing", tvm)
    r = api.request("POST", V + "unload", "a", {"modules": ["torchvision"]})
    ok(r.status == 200 and r.json["loaded"] == [] and "PYTHONPATH" in r.json["changes"]["unset"],
       "POST unload drops the dependencies and unsets PYTHONPATH", r)

    # ---- the hierarchy
    r = api.request("POST", V + "load", "h", {"modules": ["gcc/12.3.0", "openmpi"]})
    ok(r.status == 200, "load gcc and openmpi", r)
    r = api.request("GET", V + "modules?q=hdf", "h")
    ok(r.json["modules"] and r.json["modules"][0]["loadable"],
       "hdf5 is loadable once gcc and openmpi are loaded", r)
    r = api.request("POST", V + "load", "h", {"modules": ["hdf5"]})
    ok(r.status == 200 and "hdf5/1.14.3" in loaded_names(r), "load hdf5", r)

    # ---- contexts
    bad_dir = os.path.join(outside)
    r = api.request("PUT", V + "context", "c",
                    {"env": {"MODULEPATH": tree + ":" + bad_dir + ":/etc", "HOME": env["HOME"],
                             "PATH": "/usr/bin:/bin", "MYVAR": "x y"}})
    ok(r.status == 200 and len(r.json["warnings"]) == 2
       and any(bad_dir in w for w in r.json["warnings"]), "PUT context drops dirs outside the trees", r)
    r = api.request("GET", V + "context", "c")
    ok(r.status == 200 and r.json["env"]["MODULEPATH"] == tree and r.json["env"]["MYVAR"] == "x y",
       "GET context returns the posted environment", r)
    # json.dumps writes a character above U+FFFF as a surrogate pair, whose
    # second half may look like a \udcXX byte escape (U+1F4BB: \ud83d\udcbb)
    r = api.request("PUT", V + "context", "e",
                    {"env": {"MODULEPATH": tree, "HOME": env["HOME"], "PS1": "\U0001f4bb laptop"}})
    ok(r.status == 200, "PUT context with a character above U+FFFF", r)
    r = api.request("GET", V + "context", "e")
    ok(r.status == 200 and r.json["env"].get("PS1") == "\U0001f4bb laptop",
       "GET context gives that character back", r)
    r = api.request("PUT", V + "context", "c", {"env": {"A": 1}})
    is_(r.status, 400, "PUT context with a non-string value: 400")
    r = api.request("PUT", V + "context", "c", {"noenv": {}})
    is_(r.status, 400, "PUT context without env: 400")

    # ---- swap
    r = api.request("POST", V + "load", "s", {"modules": ["python"]})
    is_(loaded_names(r), ["python/3.11.8"], "python's default is 3.11.8 (.version)")
    r = api.request("POST", V + "swap", "s", {"old": "python", "new": "python/3.12.2"})
    ok(r.status == 200 and loaded_names(r) == ["python/3.12.2"], "swap python 3.11 -> 3.12", r)
    r = api.request("POST", V + "swap", "s", {"new": "python/3.11.8"})
    ok(r.status == 200 and loaded_names(r) == ["python/3.11.8"], "swap with new alone", r)
    r = api.request("POST", V + "swap", "s", {"old": "python"})
    is_(r.status, 400, "swap without new: 400")

    # ---- collections
    r = api.request("POST", V + "load", "k", {"modules": ["torchvision"]})
    r = api.request("POST", V + "collections/train", "k")
    ok(r.status == 201 and [m["fullname"] for m in r.json["modules"]][-1] == "torchvision/0.17.0",
       "POST collections/train saves the loaded set", r)
    r = api.request("PUT", V + "collections/other", "s")
    is_(r.status, 201, "PUT collections/other")
    r = api.request("GET", V + "collections")
    got = {c["name"]: c.get("modules") for c in r.json["collections"]}
    is_(got, {"other": 1, "train": 3}, "GET collections lists them with module counts")
    ok(all(c.get("created") for c in r.json["collections"]), "with their creation time", r)
    r = api.request("GET", V + "collections/train")
    ok(r.status == 200 and r.json["drift"] == [] and not r.json["drifted"], "describe: no drift", r)
    for bad in ["..hidden", "-x", "a%20b", "a%2fb"]:
        r = api.request("GET", V + "collections/" + bad)
        ok(r.status in (400, 404) and r.json and "error" in r.json,
           "bad collection name %s: JSON error" % bad, r)
        ok(r.status == 400 or "/" in urllib.parse.unquote(bad), "bad name %s: 400" % bad, r)
    r = api.request("POST", V + "collections/..x", "k")
    is_(r.status, 400, "saving under a bad name: 400")
    r = api.request("POST", V + "purge", "k", {})
    ok(r.status == 200 and r.json["loaded"] == [], "POST purge", r)
    r = api.request("POST", V + "restore", "k", {"name": "train"})
    ok(r.status == 200 and loaded_names(r) == ["python/3.11.8", "torch/2.2.0", "torchvision/0.17.0"],
       "POST restore brings the collection back", r)
    r = api.request("POST", V + "reload", "k")
    ok(r.status == 200 and len(r.json["loaded"]) == 3, "POST reload", r)
    with open(os.path.join(tree, "torch", "2.2.0.lua"), "a") as f:
        f.write("-- changed after the save\n")
    r = api.request("GET", V + "collections/train")
    ok(r.status == 200 and r.json["drifted"]
       and [d["module"] for d in r.json["drift"]] == ["torch/2.2.0"]
       and r.json["drift"][0]["kind"] == "changed", "describe reports the drift", r)
    api.request("POST", V + "purge", "k", {})
    r = api.request("POST", V + "restore", "k", {"name": "train"})
    ok(r.status == 409 and r.json["error"]["code"] == "drift" and "torch" in r.json["error"]["message"],
       "restore of a changed collection: 409", r)
    is_(api.request("GET", V + "loaded", "k").json["loaded"], [], "a failed restore changes nothing")
    r = api.request("POST", V + "restore", "k", {"name": "train", "allow_changes": True})
    ok(r.status == 200 and len(r.json["loaded"]) == 3 and r.json["messages"],
       "restore with allow_changes loads it and says why", r)
    r = api.request("POST", V + "restore", "k", {"name": "nosuch"})
    is_(r.status, 404, "restore of an unknown collection: 404")

    # ---- preamble
    r = api.request("GET", V + "preamble?lang=python", "k")
    code = r.json["code"] if r.json else ""
    ok(r.status == 200 and code.startswith("import shelf\n") and '"torchvision/0.17.0"' in code,
       "python preamble names the pinned version", r)
    p = subprocess.run([sys.executable, "-c", "compile(open(0).read(), 'preamble', 'exec')"],
                       input=code, capture_output=True, text=True)
    ok(p.returncode == 0, "the python preamble compiles", p.stderr)
    r = api.request("GET", V + "preamble?lang=bash", "k")
    is_(r.json["code"], "module load 'torchvision/0.17.0'\n", "bash preamble")
    r = api.request("GET", V + "preamble?lang=python&collection=other", "nobody")
    ok(r.status == 200 and '"python/3.11.8"' in r.json["code"], "preamble of a collection", r)
    is_(api.request("GET", V + "preamble?lang=cobol").status, 400, "unknown preamble language: 400")
    is_(api.request("GET", V + "preamble?collection=..x").status, 400, "preamble: bad collection name")

    r = api.request("DELETE", V + "collections/other")
    is_((r.status, r.json), (200, {"deleted": "other"}), "DELETE collections/other")
    is_(api.request("GET", V + "collections/other").status, 404, "deleted: 404")
    is_(api.request("DELETE", V + "collections/other").status, 404, "deleting again: 404")

    # ---- errors
    r = api.request("POST", V + "load", "e", {"modules": ["nosuchthing"]})
    ok(r.status == 404 and "nosuchthing" in r.json["error"]["message"], "load unknown: 404", r)
    r = api.request("POST", V + "load", "e", {"modules": ["broken"]})
    err = (r.json or {}).get("error", {})
    ok(r.status == 422 and err.get("code") == "modulefile_error"
       and err.get("file") == os.path.join(tree, "broken", "1.0.lua") and err.get("line") == 4,
       "a modulefile error: 422 with file and line", r)
    r = api.request("POST", V + "load", "e", {"modules": ["refuses"]})
    err = (r.json or {}).get("error", {})
    ok(r.status == 422 and err.get("code") == "lmod_error" and "refuses to load" in err["message"]
       and err.get("line") == 2, "LmodError: 422", r)
    is_(api.request("GET", V + "loaded", "e").json["loaded"], [], "failed loads change nothing")
    r = api.request("GET", V + "modules/broken", "e")
    ok(r.status == 422 and r.json["error"]["line"] == 4, "details of a broken modulefile: 422", r)
    r = api.request("POST", V + "load", "e", raw='{"modules": ["gcc"')
    ok(r.status == 400 and r.json["error"]["code"] == "bad_json", "malformed JSON body: 400", r)
    r = api.request("POST", V + "load", "e", raw='["gcc"]')
    is_(r.status, 400, "a body that is not an object: 400")
    r = api.request("POST", V + "load", "e", {"modules": "gcc"})
    is_(r.status, 400, "modules not an array: 400")
    r = api.request("POST", V + "load", "e")
    is_(r.status, 400, "load without a body: 400")
    r = api.request("DELETE", V + "modules")
    ok(r.status == 405 and r.json["error"]["code"] == "method_not_allowed", "wrong method: 405", r)
    if mode == "--daemon":
        is_(r.allow, "GET", "405 says Allow: GET")
    else:
        is_(r.allow, "GET", "405 sets allow")
    r = api.request("GET", V + "load")
    ok(r.status == 405 and r.allow == "POST", "GET load: 405, Allow: POST", r)
    r = api.request("POST", V + "context")
    ok(r.status == 405 and r.allow == "GET, PUT", "POST context: 405, Allow: GET, PUT", r)
    for path in ["/api/v1/nothing", "/api/v2/modules", "/", "/api/v1/load/x", "/api/v1/healthz"]:
        r = api.request("GET", path)
        ok(r.status == 404 and r.json and r.json["error"]["code"] == "not_found",
           "unknown path %s: 404 JSON" % path, r)
    bad_names(api, outside)


BAD_NAMES = ["..", "../outside/secret", "gcc/../../outside/secret", "gcc/..",
             "%2e%2e/%2e%2e/outside/secret", "%2fetc/passwd", "gcc//12.3.0", "gcc/12.3.0/",
             "gcc%5c..%5csecret", "gcc%01", "gcc%0a", "gcc%7f", "./gcc", "gcc/.",
             "gcc%00/../../outside/secret", "%00"]


def bad_names(api, outside):
    V = "/api/v1/"
    for name in BAD_NAMES:
        r = api.request("GET", V + "modules/" + name)
        if "%00" in name and isinstance(api, Driver):
            # A C string ends at the NUL: what remains ("gcc", "") is a plain name.
            ok(r.status in (200, 400, 404), "name %s: answered" % name, r)
            continue
        ok(r.status == 400 and r.json and r.json["error"]["code"] in ("bad_name", "bad_request"),
           "GET modules/%s: 400" % name, r)
    r = api.request("GET", V + "modules//etc/passwd")
    is_(r.status, 400, "GET modules//etc/passwd: 400")
    for name in ["../outside/secret", "/etc/passwd", "a\\b", "x\u0001", "gcc/", "a\u0000b"]:
        r = api.request("POST", V + "load", "bad", {"modules": [name]})
        ok(r.status == 400, "load %r: 400" % name, r)
    r = api.request("POST", V + "swap", "bad", {"new": "../outside/secret"})
    is_(r.status, 400, "swap to a bad name: 400")


def concurrency(api):
    V = "/api/v1/"
    errors = []

    def worker(i):
        try:
            for j in range(15):
                r = api.request("GET", V + "modules?q=hdf", "t%d" % i)
                if r.status != 200 or names(r) != ["hdf5"]:
                    errors.append(r)
                r = api.request("POST", V + "load", "t%d" % i, {"modules": ["torch"]})
                if r.status != 200 or "torch/2.2.0" not in loaded_names(r):
                    errors.append(r)
                r = api.request("POST", V + "unload", "t%d" % i, {"modules": ["torch"]})
                if r.status != 200 or r.json["loaded"] != []:
                    errors.append(r)
        except Exception as e:  # noqa: BLE001 -- reported as a failure
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok(not errors, "16 clients at once: loads, unloads and lists all answer right",
       errors[:3])


def confinement(kind, binary, tree, env, tmp, outside):
    """Runs the server under strace and checks that no bad name makes it
    touch anything outside the tree."""
    if not shutil.which("strace"):
        ok(False, "strace is installed (scripts/deps installs it)")
        return
    trace = os.path.join(tmp, "trace")
    api = kind(binary, tree, env,
               wrapper=["strace", "-f", "-qq", "-o", trace,
                        "-e", "trace=open,openat,openat2,stat,lstat,newfstatat,statx,access,"
                              "faccessat,faccessat2,readlink,readlinkat,execve"])
    try:
        api.request("GET", "/api/v1/modules?q=gcc")  # the catalog is built
        bad_names(api, outside)
    finally:
        api.stop()
    with open(trace) as f:
        all_lines = f.readlines()
    ok(any(tree in l for l in all_lines), "strace saw the server read the tree",
       "".join(all_lines[:5]))
    lines = [l for l in all_lines if "outside" in l or "/etc/passwd" in l]
    ok(not lines, "no file outside the tree was looked at (strace)", "".join(lines[:10]))


if __name__ == "__main__":
    sys.exit(main())
