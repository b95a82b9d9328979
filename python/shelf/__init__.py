"""Load and unload environment modules from a running Python interpreter.

In a notebook cell (or any Python program)::

    import shelf
    shelf.load("torchvision")     # torch comes with it, as a dependency
    import torchvision_demo       # found: the module put it on PYTHONPATH
    shelf.list()                  # ['python/3.11.8', 'torch/2.2.0', ...]
    shelf.unload("torchvision")   # torch leaves with it; the import fails again

Every function runs the ``shelf`` command as ``shelf json SUBCOMMAND ...``
with the current ``os.environ`` (the table of loaded modules lives in the
environment) and applies the changes it prints (one JSON document) to this
process:

* ``os.environ`` gets the new values, so programs started from here
  (``subprocess``, ``!cmd`` in a notebook) see the loaded modules;
* entries the change adds to ``PYTHONPATH`` are inserted into ``sys.path``
  where ``PYTHONPATH`` entries live (after the script directory, before the
  standard library), in ``PYTHONPATH`` order; entries it removes leave
  ``sys.path``, and the modules imported from them leave ``sys.modules``, so
  a later ``import`` of them fails as it would in a new interpreter.

A command either succeeds completely or changes nothing: on failure
:class:`ModuleError` is raised, carrying shelf's message, and neither
``os.environ`` nor ``sys.path`` is touched. When a modulefile only warns
(``LmodWarning``), the changes are applied, as ``module`` does in a shell,
and the message is issued as a :class:`ModuleWarning` with
:func:`warnings.warn`; turn it into an exception with
``warnings.simplefilter("error", shelf.ModuleWarning)``. Other messages
(``The following have been reloaded ...``) are printed to ``sys.stderr``.

What the running interpreter has already done is not redone: variables read
at start-up (``LD_LIBRARY_PATH``, ``PYTHONHOME``) take effect only in the
programs started afterwards, and modules imported before a load keep the
versions they were imported from.

The ``shelf`` command used is ``$SHELF_CMD`` when set (as for the shell
``module`` command); else the ``shelf`` installed beside this package
(``PREFIX/bin/shelf`` for ``PREFIX/share/shelf/python/shelf``); else
``shelf`` from ``PATH``.
"""

import builtins
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import warnings

__all__ = [
    "ModuleError", "ModuleWarning", "load", "unload", "swap", "purge",
    "restore", "list", "avail",
]

_ERROR_PREFIX = "shelf: error: "


class ModuleError(Exception):
    """A shelf command failed; nothing was changed.

    Attributes:
        message: shelf's explanation (what it prints after ``shelf: error:``,
            with the lines that follow, e.g. the modulefile and line).
        command: the command that was run, as a list of strings.
        status: its exit status (None when it could not be started).
        stderr: everything it printed on standard error.
    """

    def __init__(self, message, command=None, status=None, stderr=""):
        super().__init__(message)
        self.message = message
        self.command = command
        self.status = status
        self.stderr = stderr


class ModuleWarning(UserWarning):
    """A modulefile warned; the changes were applied all the same."""


def _shelf_command():
    """The shelf executable to run; raises ModuleError if there is none."""
    cmd = os.environ.get("SHELF_CMD")
    if cmd:
        return cmd
    here = os.path.dirname(os.path.abspath(__file__))
    beside = os.path.normpath(os.path.join(here, "..", "..", "..", "..", "bin", "shelf"))
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("shelf")
    if found:
        return found
    raise ModuleError(
        "cannot find the shelf command: set SHELF_CMD to its path, or put "
        "the directory that holds it on PATH (looked for %s too)" % beside)


def _run(args):
    """Runs `shelf json ARGS` with the current environment.

    Returns (command, status, stdout bytes, stderr text); raises ModuleError
    when the command cannot be started.
    """
    command = [_shelf_command(), "json"] + [str(a) for a in args]
    try:
        proc = subprocess.run(command, env=dict(os.environ), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise ModuleError("cannot run %s: %s" % (command[0], exc.strerror or exc),
                          command=command) from None
    return command, proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


def _error(command, status, stderr):
    """The ModuleError for a failed command."""
    at = stderr.find(_ERROR_PREFIX)
    if at >= 0:
        message = stderr[at + len(_ERROR_PREFIX):].rstrip()
    else:
        message = stderr.strip() or "%s exited with status %s" % (
            os.path.basename(command[0]), status)
    return ModuleError(message, command=command, status=status, stderr=stderr)


def _unreadable(command, status, stderr, exc):
    """The ModuleError for output that is not what shelf writes."""
    return ModuleError("cannot read the output of %s: %s" % (" ".join(command), exc),
                       command=command, status=status, stderr=stderr)


def _show(stderr):
    """Passes shelf's messages (if any) on to sys.stderr."""
    if stderr.strip():
        sys.stderr.write(stderr if stderr.endswith("\n") else stderr + "\n")
        sys.stderr.flush()


# The keys of a change document, each always present (src/lib/emit_json.c),
# and what shelf accepts as a variable name (src/lib/emit.c).
# The document's keys, in pairs: what is set (an object) and what is unset
# (an array of names).
_DOCUMENT_PAIRS = (("env", "unset"), ("alias", "unalias"), ("shellFunc", "unshellFunc"))
_DOCUMENT_KEYS = tuple(key for pair in _DOCUMENT_PAIRS for key in pair)
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _unique_keys(pairs):
    """json.loads object hook: a dict, or ValueError on a repeated key."""
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError("key %s appears twice in an object" % json.dumps(key))
        obj[key] = value
    return obj


def _object_names(doc, key):
    """The keys of the object doc[key]; ValueError naming key otherwise."""
    value = doc[key]
    if not isinstance(value, dict):
        raise ValueError('"%s" is not an object' % key)
    return builtins.list(value)


def _array_names(doc, key):
    """The strings of the array doc[key], without repeats; ValueError
    naming key otherwise."""
    value = doc[key]
    if not isinstance(value, builtins.list) or not all(isinstance(n, str) for n in value):
        raise ValueError('"%s" is not an array of strings' % key)
    if len(set(value)) != len(value):
        raise ValueError('"%s" names something twice' % key)
    return value


def _variable(name):
    """A variable name of the document as bytes; ValueError if shelf would
    not have written it."""
    if not _VARIABLE_NAME.fullmatch(name):
        raise ValueError("invalid environment variable name %s" % json.dumps(name))
    return name.encode("ascii")


def _value(name, value):
    """The bytes a value of "env" stands for: UTF-8, with \\udcXX for a byte
    that is not (surrogateescape); ValueError if it is no string, holds a
    NUL or a surrogate that stands for no byte."""
    if not isinstance(value, str):
        raise ValueError('the value of %s in "env" is not a string' % name)
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise ValueError("the value of %s holds a character that is no byte" % name) from None
    if b"\0" in data:
        raise ValueError("the value of %s holds a NUL byte" % name)
    return data


def _parse_changes(output):
    """Reads the document `shelf json` prints for a change, without applying it.

    The document must have exactly the shape src/lib/emit_json.c writes:
    one line of UTF-8 holding an object with the six keys, a name at most
    once per pair (env/unset, alias/unalias, shellFunc/unshellFunc),
    strings where strings belong. Aliases and shell functions are checked,
    then ignored: they mean nothing to Python. Returns the environment
    changes as a dict, variable name -> new value (None = unset), both
    bytes; raises ValueError saying what is wrong.
    """
    text = output.decode("utf-8")
    if not text.endswith("\n") or "\n" in text[:-1]:
        raise ValueError("the document is not one line ending in a newline")
    doc = json.loads(text, object_pairs_hook=_unique_keys)
    if not isinstance(doc, dict):
        raise ValueError("the document is not an object")
    if set(doc) != set(_DOCUMENT_KEYS):
        raise ValueError("the document's keys are %s, not %s" % (
            ", ".join(sorted(doc)) or "none", ", ".join(_DOCUMENT_KEYS)))
    for set_key, unset_key in _DOCUMENT_PAIRS:
        both = set(_object_names(doc, set_key)) & set(_array_names(doc, unset_key))
        if both:
            raise ValueError('"%s" and "%s" both name %s' % (
                set_key, unset_key, ", ".join(sorted(both))))
    if not all(isinstance(v, str) for v in doc["alias"].values()):
        raise ValueError('an alias in "alias" is not a string')
    for f in doc["shellFunc"].values():
        if not (isinstance(f, dict) and sorted(f) == ["csh", "sh"] and
                isinstance(f["sh"], str) and (f["csh"] is None or isinstance(f["csh"], str))):
            raise ValueError('a function in "shellFunc" is not '
                             '{"sh": string, "csh": string or null}')
    changes = {_variable(name): None for name in doc["unset"]}
    for name, value in doc["env"].items():
        key = _variable(name)
        changes[key] = _value(name, value)
    return changes


def _path_entries(value):
    """The directories of a PYTHONPATH value, absolute, in order, once each."""
    seen = []
    for entry in (value or "").split(os.pathsep):
        if entry:
            entry = os.path.abspath(entry)
            if entry not in seen:
                seen.append(entry)
    return seen


def _under(path, dirs):
    """Whether path lies in one of dirs (absolute directories)."""
    if not isinstance(path, str) or not path:
        return False
    path = os.path.abspath(path)
    return any(path == d or path.startswith(d.rstrip(os.sep) + os.sep) for d in dirs)


def _module_locations(module):
    """The files and directories a module was imported from."""
    locations = []
    value = getattr(module, "__file__", None)
    if isinstance(value, str):
        locations.append(value)
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None)
    if isinstance(origin, str):
        locations.append(origin)
    try:
        locations.extend(p for p in getattr(module, "__path__", ()) or () if isinstance(p, str))
    except Exception:  # a broken custom __path__ must not stop the unload
        pass
    return locations


def _pythonpath_anchor():
    """Where PYTHONPATH entries start in sys.path when there are none yet:
    just before the standard library (its zip entry or its directory)."""
    zip_name = "python%d%d.zip" % sys.version_info[:2]
    stdlib = os.path.dirname(os.__file__)
    for i, entry in enumerate(sys.path):
        if isinstance(entry, str) and (os.path.basename(entry) == zip_name or
                                       (entry and os.path.abspath(entry) == stdlib)):
            return i
    return 1 if sys.path else 0


def _sync_sys_path(before, after):
    """Makes sys.path follow a PYTHONPATH change from `before` to `after`."""
    old = _path_entries(before)
    new = _path_entries(after)
    removed = [d for d in old if d not in new]
    if removed:
        sys.path[:] = [p for p in sys.path
                       if not (isinstance(p, str) and p and os.path.abspath(p) in removed)]
        for key in [k for k in sys.path_importer_cache if _under(k, removed)]:
            del sys.path_importer_cache[key]
        for name, module in builtins.list(sys.modules.items()):
            if module is not None and any(_under(p, removed)
                                          for p in _module_locations(module)):
                del sys.modules[name]

    def index_of(directory):
        for i, entry in enumerate(sys.path):
            if isinstance(entry, str) and entry and os.path.abspath(entry) == directory:
                return i
        return -1

    for k, directory in enumerate(new):
        if index_of(directory) >= 0:
            continue
        at = -1
        for prev in reversed(new[:k]):
            at = index_of(prev)
            if at >= 0:
                at += 1
                break
        if at < 0:
            for nxt in new[k + 1:]:
                at = index_of(nxt)
                if at >= 0:
                    break
        if at < 0:
            at = _pythonpath_anchor()
        sys.path.insert(at, directory)
    importlib.invalidate_caches()


def _apply(changes):
    """Applies a NAME -> value (None = unset) dict of bytes to os.environ
    and sys.path."""
    before = os.environ.get("PYTHONPATH")
    for name, value in changes.items():
        if value is None:
            os.environb.pop(name, None)
        else:
            os.environb[name] = value
    after = os.environ.get("PYTHONPATH")
    if before != after:
        _sync_sys_path(before, after)


def _change(*args):
    """Runs a subcommand that changes the environment and applies it.

    `shelf json` prints the document of the changes when they stand: with
    exit status 0, or 1 when a modulefile warned; when the command fails it
    prints nothing (src/cli/shelf.c).
    """
    command, status, stdout, stderr = _run(args)
    warned = status == 1 and stdout != b""
    if status != 0 and not warned:
        raise _error(command, status, stderr)
    try:
        changes = _parse_changes(stdout)
    except ValueError as exc:
        raise _unreadable(command, status, stderr, exc) from None
    _apply(changes)
    if warned:
        warnings.warn(stderr.rstrip() or "%s exited with status 1 after a warning" %
                      os.path.basename(command[0]), ModuleWarning, stacklevel=3)
    else:
        _show(stderr)


def _query(*args):
    """Runs a read-only subcommand with --json and returns the parsed data."""
    command, status, stdout, stderr = _run(("--json",) + args)
    if status != 0:
        raise _error(command, status, stderr)
    _show(stderr)
    try:
        return json.loads(stdout)
    except ValueError as exc:
        raise _unreadable(command, status, stderr, exc) from None


def load(*names):
    """Loads the named modules (``"torch"``, ``"python/3.12.2"``) and what
    they depend on. Raises ModuleError (changing nothing) if one is unknown
    or its modulefile fails."""
    _change("load", *names)


def unload(*names):
    """Unloads the named modules, with the modules only they had pulled in.
    Packages imported from their PYTHONPATH entries are forgotten."""
    _change("unload", *names)


def swap(a, b=None):
    """``swap(old, new)`` replaces module old by new; ``swap(new)`` replaces
    the loaded module of the same name by version new."""
    if b is None:
        _change("swap", a)
    else:
        _change("swap", a, b)


def purge():
    """Unloads every loaded module (sticky ones stay, as with ``module purge``)."""
    _change("purge")


def restore(name=None, allow_changes=False):
    """Replaces the loaded modules by the collection saved as `name`
    (``module save NAME`` in a shell); the default collection when None.

    When a module of the collection vanished or its modulefile changed since
    the save, ModuleError is raised and nothing changes, unless
    `allow_changes` is true: then the rest is restored and shelf says what
    differs."""
    args = ["restore"]
    if name is not None:
        args.append(name)
    if allow_changes:
        args.append("--allow-changes")
    _change(*args)


def list():  # noqa: A001 -- the name users know from `module list`
    """The full names of the loaded modules, in load order, e.g.
    ``['python/3.11.8', 'torch/2.2.0', 'torchvision/0.17.0']``."""
    return [m["fullname"] for m in _query("list") if m.get("active", True)]


def avail(query=None):
    """The modules that can be loaded now, as a list of dicts (keys include
    ``name``, ``version``, ``fullname``, ``default``, ``loaded``,
    ``description``, ``file``), restricted to those matching `query` when
    given (as ``module avail QUERY``)."""
    if query is None:
        return _query("avail")
    return _query("avail", query)
