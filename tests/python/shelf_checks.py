"""Checks of the Python module `shelf`, run by tests/shell/python.sh.

Usage: python3 shelf_checks.py SCENARIO [ARGS...]

Each check prints "PASS name" or "FAIL name" followed by "# " lines of
diagnostics; the last line is "DONE" when the scenario ran to its end.
The environment (SHELF_CMD, MODULEPATH, PYTHONPATH with the package's
directory) is set by the caller.
"""

import io
import os
import sys
import warnings


def check(cond, name, *diag):
    print(("PASS " if cond else "FAIL ") + name)
    if not cond:
        for line in diag:
            for part in str(line).splitlines() or [""]:
                print("# " + part)
    sys.stdout.flush()
    return cond


def same(got, expected, name):
    return check(got == expected, name, "got:      %r" % (got,), "expected: %r" % (expected,))


def importable(name):
    """Whether `import name` works now, importing it afresh."""
    sys.modules.pop(name, None)
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def under(path, directory):
    return os.path.abspath(path).startswith(os.path.abspath(directory) + os.sep)


def session(tree, expected_loaded):
    """load / list / unload with the sample tree; sys.path and sys.modules."""
    import shelf
    sw = os.path.join(tree, "sw")
    path_before = sys.path[:]
    env_before = dict(os.environ)
    check(not importable("torchvision_demo"), "torchvision_demo is not importable before load")

    shelf.load("torchvision")
    check(importable("torchvision_demo"), "torchvision_demo is importable after load")
    import torchvision_demo
    check(under(torchvision_demo.__file__, os.path.join(sw, "torchvision")),
          "torchvision_demo comes from the tree's sw/torchvision",
          "file: %s" % torchvision_demo.__file__)
    same(torchvision_demo.__version__, "0.17.0", "torchvision_demo.__version__")
    check(importable("torch_demo"), "torch_demo (the dependency) is importable too")
    import torch_demo
    check(under(torch_demo.__file__, os.path.join(sw, "torch")),
          "torch_demo comes from the tree's sw/torch", "file: %s" % torch_demo.__file__)
    same(shelf.list(), ["python/3.11.8", "torch/2.2.0", "torchvision/0.17.0"],
         "list() names the loaded modules with versions")
    same(os.environ.get("LOADEDMODULES"), expected_loaded,
         "LOADEDMODULES is what `shelf bash load torchvision` sets in bash")
    pp = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    added = [p for p in sys.path if p not in path_before]
    same(added, [p for p in pp if p not in path_before],
         "sys.path gained the new PYTHONPATH entries, in PYTHONPATH order")
    same(sys.path[0], path_before[0], "sys.path[0] stays the script directory")
    first = sys.path.index(added[0]) if added else -1
    same(sys.path[first:first + len(added)], added, "the new entries are next to each other")

    shelf.unload("torchvision")
    same(shelf.list(), [], "unload took the dependencies along")
    check("torchvision_demo" not in sys.modules and "torch_demo" not in sys.modules,
          "unload dropped the packages from sys.modules",
          [m for m in sys.modules if m.endswith("_demo")])
    check(not importable("torchvision_demo"), "torchvision_demo is not importable after unload")
    check(not importable("torch_demo"), "torch_demo is not importable after unload")
    same(sys.path, path_before, "sys.path is as before load")
    same(dict(os.environ), env_before, "os.environ is as before load")

    names = [m["fullname"] for m in shelf.avail("torch")]
    same(names, ["torch/2.2.0", "torchvision/0.17.0"], "avail('torch') lists the matches")
    check(all(isinstance(m, dict) and "description" in m for m in shelf.avail()),
          "avail() gives dicts with a description")


def no_pythonpath(tree, package_dir):
    """PYTHONPATH was empty: the entries go after sys.path[0], before the stdlib."""
    sys.path.append(package_dir)
    import shelf
    check("PYTHONPATH" not in os.environ, "PYTHONPATH is unset at the start")
    before = sys.path[:]
    shelf.load("torch")
    entry = os.path.join(tree, "sw", "torch", "2.2.0", "lib", "python3", "site-packages")
    same(os.environ.get("PYTHONPATH"), entry, "PYTHONPATH is the torch entry")
    same(sys.path, before[:1] + [entry] + before[1:],
         "the entry is right after the script directory")
    check(importable("torch_demo"), "torch_demo is importable")
    shelf.unload("torch")
    same(sys.path, before, "sys.path is as before")
    check("PYTHONPATH" not in os.environ, "PYTHONPATH is unset again")


def swap_purge(tree):
    import shelf
    sw = os.path.join(tree, "sw", "python")
    path0 = os.environ["PATH"]
    shelf.load("python/3.11.8")
    check(os.environ["PATH"].startswith(os.path.join(sw, "3.11.8", "bin") + os.pathsep),
          "load python/3.11.8 puts its bin first on PATH", os.environ["PATH"])
    err = io.StringIO()
    real, sys.stderr = sys.stderr, err
    try:
        shelf.swap("python/3.11.8", "python/3.12.2")
    finally:
        sys.stderr = real
    same(shelf.list(), ["python/3.12.2"], "swap(old, new) loads the new version")
    paths = os.environ["PATH"].split(os.pathsep)
    check(os.path.join(sw, "3.12.2", "bin") in paths and
          os.path.join(sw, "3.11.8", "bin") not in paths,
          "swap replaced the PATH entry", os.environ["PATH"])
    check("python/3.11.8 => python/3.12.2" in err.getvalue(),
          "swap showed shelf's message on sys.stderr", "stderr: %r" % err.getvalue())
    shelf.swap("python/3.11.8")
    same(shelf.list(), ["python/3.11.8"], "swap(new) replaces the module of that name")
    shelf.load("torch")
    shelf.purge()
    same(shelf.list(), [], "purge unloads everything")
    same(os.environ["PATH"], path0, "purge restored PATH")
    check("LOADEDMODULES" not in os.environ or os.environ["LOADEDMODULES"] == "",
          "purge emptied LOADEDMODULES", os.environ.get("LOADEDMODULES"))
    check(not importable("torch_demo"), "torch_demo is gone after purge")


def errors(bad_tree):
    import shelf
    check(issubclass(shelf.ModuleError, Exception), "ModuleError is an Exception")
    shelf.load("torch")
    env0, path0 = dict(os.environ), sys.path[:]

    def failing(name, what, *args):
        try:
            getattr(shelf, what)(*args)
        except shelf.ModuleError as exc:
            same(dict(os.environ), env0, name + ": os.environ unchanged")
            same(sys.path, path0, name + ": sys.path unchanged")
            return exc
        check(False, name + ": raises ModuleError")
        return None

    exc = failing("unknown module", "load", "nonesuch")
    if exc:
        check("unknown" in exc.message and "nonesuch" in exc.message,
              "the message is the engine's", exc.message)
        same(str(exc), exc.message, "str(error) is the message")
        check(not exc.message.startswith("shelf: error:"), "without the `shelf: error:` prefix",
              exc.message)
        same(exc.status, 1, "status is the exit status")
        same(exc.command[1:], ["json", "load", "nonesuch"], "command is the command run")
    os.environ["MODULEPATH"] += os.pathsep + bad_tree
    env0 = dict(os.environ)
    exc = failing("broken modulefile", "load", "broken")
    if exc:
        check(os.path.join(bad_tree, "broken", "1.0.lua") in exc.message,
              "the message names the modulefile", exc.message)
    check("BROKEN_X" not in os.environ, "the broken module's setenv did not happen")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shelf.load("warn")
    same(os.environ.get("WARN_X"), "yes", "a warning module's changes are applied")
    same([(w.category, str(w.message)) for w in caught],
         [(shelf.ModuleWarning, "Warning: careful with this one (warn/1.0)")],
         "its LmodWarning is issued as a ModuleWarning")
    same(shelf.list(), ["python/3.11.8", "torch/2.2.0", "warn/1.0"], "and it is loaded")

    shelf.load("odd")
    same(os.environb.get(b"ODD_X"), b'caf\xc3\xa9 \\ "q" \n\xe9!',
         "a value with quotes, newline and non-UTF-8 bytes arrives byte for byte")
    shelf.load("latin")
    same(os.environb.get(b"LATIN_X"), b"caf\xe9", "a byte that is not UTF-8 arrives as that byte")

    os.environ["SHELF_CMD"] = os.path.join(bad_tree, "no-such-shelf")
    try:
        shelf.list()
        check(False, "a missing shelf command raises ModuleError")
    except shelf.ModuleError as exc:
        check("no-such-shelf" in exc.message, "a missing shelf command raises ModuleError",
              exc.message)


def ascii_locale(bad_tree):
    """The interpreter encodes file names and the environment as ASCII: the
    values still arrive as the modulefiles' bytes."""
    import shelf
    same(sys.getfilesystemencoding(), "ascii", "the file system encoding is ASCII")
    os.environ["MODULEPATH"] += os.pathsep + bad_tree
    env0 = dict(os.environb)
    shelf.load("odd", "latin")
    same(os.environb.get(b"ODD_X"), b'caf\xc3\xa9 \\ "q" \n\xe9!',
         "UTF-8 and a byte that is not arrive byte for byte")
    same(os.environb.get(b"LATIN_X"), b"caf\xe9", "a Lua decimal escape arrives as its byte, 0xe9")
    same(shelf.list(), ["odd/1.0", "latin/1.0"], "both are loaded")
    shelf.unload("odd", "latin")
    same(dict(os.environb), env0, "unload gives back the environment as it was")


def malformed(workdir):
    """SHELF_CMD prints documents shelf would not write: ModuleError, nothing applied."""
    import json
    import shelf
    fake = os.path.join(workdir, "shelf-fake")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\ncat "$0.out"\ncat "$0.err" >&2\nexit "$(cat "$0.status")"\n')
    os.chmod(fake, 0o755)
    os.environ["SHELF_CMD"] = fake

    def prints(output, status=0, stderr=b""):
        with open(fake + ".out", "wb") as f:
            f.write(output)
        with open(fake + ".err", "wb") as f:
            f.write(stderr)
        with open(fake + ".status", "w") as f:
            f.write(str(status))

    other = os.path.join(workdir, "other")

    def doc(**keys):
        """A document that sets MALFORMED_Y and adds `other` to PYTHONPATH,
        with `keys` replacing the keys of that name."""
        d = {"env": {"MALFORMED_Y": "1", "PYTHONPATH": workdir + os.pathsep + other},
             "unset": [], "alias": {}, "unalias": [], "shellFunc": {}, "unshellFunc": []}
        d.update(keys)
        return (json.dumps(d) + "\n").encode()

    # The script works: a document of the right shape is applied, its
    # aliases and shell functions ignored.
    os.environ["MALFORMED_GONE"] = "x"
    env0, path0 = dict(os.environ), sys.path[:]
    prints(doc(env={"MALFORMED_X": "1", "PYTHONPATH": workdir}, unset=["MALFORMED_GONE"],
               alias={"ll": "ls -l"}, unalias=["la"],
               shellFunc={"f": {"sh": "echo f", "csh": None}, "g": {"sh": "", "csh": ""}},
               unshellFunc=["h"]))
    shelf.load("anything")
    expected = dict(env0, MALFORMED_X="1", PYTHONPATH=workdir)
    del expected["MALFORMED_GONE"]
    same(dict(os.environ), expected,
         "a well-formed document is applied: env and unset, not aliases and functions")
    same([p for p in sys.path if p not in path0], [workdir], "its PYTHONPATH reaches sys.path")

    # Exit status 1 with a document: a warning, whatever stderr says.
    for stderr in (b"shelf: error: not really\n", b""):
        prints(doc(env={"MALFORMED_W": stderr.decode()}), 1, stderr)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            shelf.load("anything")
        same((os.environ.get("MALFORMED_W"), [w.category for w in caught]),
             (stderr.decode(), [shelf.ModuleWarning]),
             "status 1 and a document, %r on stderr: applied, and a ModuleWarning" % stderr)

    env0, path0 = dict(os.environ), sys.path[:]
    good = doc()
    cases = [
        ("invalid JSON", good[:-3] + b"\n", 0, "Expecting"),
        ("not UTF-8", good.replace(b'"1"', b'"caf\xe9"'), 0, "can't decode byte 0xe9"),
        ("nothing on stdout", b"", 0, "not one line"),
        ("no newline at the end", good[:-1], 0, "not one line"),
        ("two documents", good + good, 0, "not one line"),
        ("not an object", b"[]\n", 0, "not an object"),
        ("a key missing", good.replace(b', "unshellFunc": []', b""), 0,
         "keys are alias, env, shellFunc, unalias, unset, not"),
        ("an unknown key", doc(cwd="/"), 0, "keys are alias, cwd, env"),
        ("a key twice", good.replace(b'{"MALFORMED_Y": "1"', b'{"MALFORMED_Y": "1", "MALFORMED_Y": "2"'),
         0, 'key "MALFORMED_Y" appears twice'),
        ("env not an object", doc(env=[["MALFORMED_Y", "1"]]), 0, '"env" is not an object'),
        ("a value that is no string",
         doc(env={"MALFORMED_Y": "1", "PYTHONPATH": other, "MALFORMED_N": 1}), 0,
         'the value of MALFORMED_N in "env" is not a string'),
        ("a NUL in a value", doc(env={"PYTHONPATH": other, "MALFORMED_Y": "a\0b"}), 0,
         "the value of MALFORMED_Y holds a NUL byte"),
        ("a surrogate that stands for no byte",
         doc(env={"PYTHONPATH": other, "MALFORMED_Y": "\ud800"}), 0,
         "the value of MALFORMED_Y holds a character that is no byte"),
        ("an invalid variable name", doc(env={"PYTHONPATH": other, "A=B": "1"}), 0,
         'invalid environment variable name "A=B"'),
        ("unset not an array of strings", doc(unset=["MALFORMED_Z", 1]), 0,
         '"unset" is not an array of strings'),
        ("a name unset twice", doc(unset=["MALFORMED_Z", "MALFORMED_Z"]), 0,
         '"unset" names something twice'),
        ("a name set and unset", doc(unset=["MALFORMED_Y"]), 0,
         '"env" and "unset" both name MALFORMED_Y'),
        ("an alias that is no string", doc(alias={"ll": ["ls"]}), 0,
         'an alias in "alias" is not a string'),
        ("unalias not an array", doc(unalias="ll"), 0, '"unalias" is not an array of strings'),
        ("a shell function that is a string", doc(shellFunc={"f": "echo f"}), 0,
         'a function in "shellFunc" is not {"sh": string, "csh": string or null}'),
        ("a shell function without csh", doc(shellFunc={"f": {"sh": "echo f"}}), 0,
         'a function in "shellFunc" is not'),
        ("a function set and unset",
         doc(shellFunc={"f": {"sh": "", "csh": None}}, unshellFunc=["f"]), 0,
         '"shellFunc" and "unshellFunc" both name f'),
        ("a document with exit status 2", good, 2, "shelf-fake exited with status 2"),
    ]
    for name, output, status, part in cases:
        prints(output, status)
        try:
            shelf.load("anything")
        except shelf.ModuleError as exc:
            check(part in exc.message, name + ": ModuleError says what is wrong", exc.message)
            same((dict(os.environ), sys.path), (env0, path0), name + ": nothing changed")
        else:
            check(False, name + ": raises ModuleError",
                  "MALFORMED_Y=%r" % os.environ.get("MALFORMED_Y"))
            os.environ.clear()
            os.environ.update(env0)
            sys.path[:] = path0


def installed(prefix):
    """No SHELF_CMD: the shelf installed beside the package is used."""
    sys.path.insert(0, os.path.join(prefix, "share", "shelf", "python"))
    import shelf
    check(under(shelf.__file__, prefix), "the installed package is imported", shelf.__file__)
    check("SHELF_CMD" not in os.environ, "SHELF_CMD is unset")
    shelf.load("torch")
    same(shelf.list(), ["python/3.11.8", "torch/2.2.0"], "load works through PREFIX/bin/shelf")


def restore(name, expected_loaded):
    import shelf
    same(shelf.list(), [], "nothing loaded before restore")
    shelf.restore(name)
    same(os.environ.get("LOADEDMODULES"), expected_loaded,
         "restore(%r) gives the LOADEDMODULES of the saved shell" % name)
    check(importable("torch_demo"), "torch_demo is importable after restore")


def restore_changed(name):
    """The collection's modulefile changed after the save."""
    import shelf
    env0 = dict(os.environ)
    try:
        shelf.restore(name)
        check(False, "restore raises ModuleError when a modulefile changed")
    except shelf.ModuleError as exc:
        check("changed" in exc.message, "restore raises ModuleError when a modulefile changed",
              exc.message)
    same(dict(os.environ), env0, "and changes nothing")
    err = io.StringIO()
    real, sys.stderr = sys.stderr, err
    try:
        shelf.restore(name, allow_changes=True)
    finally:
        sys.stderr = real
    same((shelf.list(), os.environ.get("C_X")), (["c/1.0"], "2"),
         "restore(allow_changes=True) loads the changed modulefile")
    check("changed" in err.getvalue(), "and says so on sys.stderr", err.getvalue())


def kernel(tree, workdir):
    """The module in an IPython kernel driven through jupyter_client."""
    import json
    from jupyter_client.manager import start_new_kernel
    spec = os.path.join(workdir, "kernels", "shelf-test")
    os.makedirs(spec, exist_ok=True)
    with open(os.path.join(spec, "kernel.json"), "w") as f:
        json.dump({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f",
                            "{connection_file}"],
                   "display_name": "shelf test", "language": "python"}, f)
    os.environ["JUPYTER_PATH"] = workdir
    km, kc = start_new_kernel(kernel_name="shelf-test", startup_timeout=30)
    try:
        def run(code):
            out = []

            def hook(msg):
                if msg["msg_type"] == "stream":
                    out.append(msg["content"]["text"])
                elif msg["msg_type"] == "error":
                    out.append(msg["content"]["ename"])
            # stop_on_error=False: a cell that fails on purpose must not make
            # the kernel abort the next request, which it does when that one
            # comes in soon enough (under load).
            reply = kc.execute_interactive(code, timeout=20, output_hook=hook,
                                           stop_on_error=False)
            return reply["content"], "".join(out)

        reply, out = run("import sys; print(sys.executable)")
        same(out.strip(), sys.executable, "the kernel runs this interpreter")
        reply, out = run("import shelf; shelf.load('torchvision')")
        same(reply["status"], "ok", "shelf.load('torchvision') in a cell")
        reply, out = run("import torchvision_demo; print(torchvision_demo.__version__)")
        same((reply["status"], out), ("ok", "0.17.0\n"),
             "import torchvision_demo in the next cell prints its version on iopub")
        reply, out = run("print(shelf.list())")
        same(out, "['python/3.11.8', 'torch/2.2.0', 'torchvision/0.17.0']\n",
             "shelf.list() in the kernel")
        reply, out = run("shelf.unload('torchvision')")
        same(reply["status"], "ok", "shelf.unload('torchvision') in a cell")
        reply, out = run("import torchvision_demo")
        same((reply["status"], reply.get("ename")), ("error", "ModuleNotFoundError"),
             "import torchvision_demo fails after unload")
        reply, out = run("shelf.load('nonesuch')")
        same((reply["status"], reply.get("ename")), ("error", "ModuleError"),
             "a failing load raises ModuleError in the cell")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    check(not km.is_alive(), "the kernel shut down")


def main():
    scenario, args = sys.argv[1], sys.argv[2:]
    {"session": session, "no-pythonpath": no_pythonpath, "swap-purge": swap_purge,
     "errors": errors, "ascii-locale": ascii_locale, "malformed": malformed,
     "installed": installed, "restore": restore,
     "restore-changed": restore_changed,
     "kernel": kernel}[scenario](*args)
    print("DONE")


if __name__ == "__main__":
    main()
