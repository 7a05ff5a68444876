"""Python bindings of libkindmps (the C ABI of kindmps-api), through ctypes.

    import kindmps
    print(kindmps.__version__, kindmps.version())   # the package's and the library's
    inventory = kindmps.host_inspect()              # dict, as `kindmps-api inspect --json`
    with kindmps.Client() as client:                # as the docker CLI: DOCKER_HOST, a context, the socket
        r = client.exec("node", ["sh", "-c", "echo hi"])
        print(r.exit_code, r.stdout, r.stderr)      # 0 b'hi\\n' b''
        print(client.status("my-cluster")["healthy"])
        for r in client.mps_command_all("get_server_list", cluster="my-cluster"):
            print(r.node, r.reply if r.ok else r.error)

The library is found, in this order, through $KINDMPS_LIBRARY (a path, never second-guessed),
else pkg-config (`pkg-config --variable=libdir kindmps`, so PKG_CONFIG_PATH alone finds an
installed prefix), else the dynamic loader's cache (ctypes.util.find_library), else the standard
library directories (/usr/local/lib, /usr/lib/<multiarch>, /usr/lib, ...), else a build tree next
to this package (build/src/capi), else libkindmps.so.0 on LD_LIBRARY_PATH.

Errors raise KindmpsError subclasses, one per error kind (InvalidArgument, NotFound, Conflict,
Unavailable, PermissionDenied, Timeout, EnvironmentMissing, OperationFailed, ...); each carries
`code` (the CLI's exit code: 1, 2 or 3), `kind` and, where the library returned a document with
the failure (an unhealthy cluster), `result`.

Threads: a Client serializes its own calls with a lock, so it may be shared between threads; calls
on different clients run concurrently (the GIL is released during library calls).
"""

import ctypes
import ctypes.util
import json
import os
import shutil
import subprocess
import sysconfig
import threading
from collections import namedtuple

from ._version import __version__

__all__ = [
    "__version__", "version", "host_inspect", "kind_config", "Client", "ExecResult", "ProgressEvent",
    "MpsReply",
    "KindmpsError", "InvalidArgument", "NotFound", "Conflict", "BadRequest", "ServerError",
    "EnvironmentMissing", "Unavailable", "PermissionDenied", "Timeout", "ProtocolError",
    "OperationFailed", "ClusterUnhealthy", "Cancelled", "InternalError",
]

OK, ERR_FAILED, ERR_INVALID, ERR_ENVIRONMENT = 0, 1, 2, 3


# ---- errors ------------------------------------------------------------------------------------

class KindmpsError(Exception):
    """A failed library call. `code`: 1 failed, 2 invalid, 3 environment; `kind`: the error kind's
    name ("not found", ...); `result`: a document returned with the failure, or None."""

    def __init__(self, message, code=ERR_FAILED, kind="failed", result=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.kind = kind
        self.result = result


class InvalidArgument(KindmpsError, ValueError):
    """A NULL/empty argument, invalid JSON or options (code 2)."""


class NotFound(KindmpsError, LookupError):
    """No such container, exec, node, file or command."""


class Conflict(KindmpsError):
    """The container is not running or paused, or a name is in use."""


class BadRequest(KindmpsError):
    """The Docker daemon rejected the request (HTTP 400)."""


class ServerError(KindmpsError):
    """The Docker daemon failed (HTTP 5xx)."""


class EnvironmentMissing(KindmpsError):
    """Something outside is missing (code 3): kind binary, NVIDIA driver files, the library."""


class Unavailable(EnvironmentMissing):
    """The Docker daemon is unreachable (no socket, no listener)."""


class PermissionDenied(EnvironmentMissing, PermissionError):
    """The Docker socket is not accessible."""


class Timeout(KindmpsError, TimeoutError):
    """An external call ran past its deadline."""


class ProtocolError(KindmpsError):
    """Malformed HTTP, a truncated stream or bad JSON from the daemon."""


class OperationFailed(KindmpsError):
    """The operation failed."""


class ClusterUnhealthy(OperationFailed):
    """The cluster is unhealthy; `result` holds the status document."""


class Cancelled(KindmpsError):
    """Interrupted."""


class InternalError(KindmpsError):
    """A bug in the library (an unexpected exception inside it)."""


# The library's error kinds, by the name kmps_error_kind_name() gives them -> exception class.
# tests/test_kindmps.py checks this table against the library's: every kind it has is here, and
# nothing else.
_KIND_CLASSES = {
    "invalid argument": InvalidArgument, "not found": NotFound, "conflict": Conflict,
    "bad request": BadRequest, "server error": ServerError, "unavailable": Unavailable,
    "permission denied": PermissionDenied, "timeout": Timeout, "protocol error": ProtocolError,
    "environment missing": EnvironmentMissing, "failed": OperationFailed, "cancelled": Cancelled,
    "internal error": InternalError,
}
_CODE_CLASSES = {ERR_FAILED: OperationFailed, ERR_INVALID: InvalidArgument, ERR_ENVIRONMENT: EnvironmentMissing}


# ---- the library -------------------------------------------------------------------------------

class _ExecResultC(ctypes.Structure):
    _fields_ = [("exit_code", ctypes.c_int), ("out", ctypes.c_void_p), ("out_len", ctypes.c_size_t),
                ("err", ctypes.c_void_p), ("err_len", ctypes.c_size_t)]


class _ProgressEventC(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("step", ctypes.c_int), ("total", ctypes.c_int),
                ("title", ctypes.c_char_p), ("detail", ctypes.c_char_p), ("elapsed_ms", ctypes.c_double)]


_PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.POINTER(_ProgressEventC), ctypes.c_void_p)

_lib_handle = None
_lib_lock = threading.Lock()


_SONAME = "libkindmps.so.0"


def _pkg_config_libdir():
    """The libdir of kindmps.pc (None without pkg-config or the .pc), and what was asked, for the
    message when nothing loads."""
    exe = shutil.which("pkg-config")
    if not exe:
        return None, "pkg-config: not on PATH"
    try:
        p = subprocess.run([exe, "--variable=libdir", "kindmps"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as e:
        return None, f"pkg-config: {e}"
    libdir = p.stdout.strip()
    if p.returncode != 0 or not libdir:
        return None, "pkg-config: no kindmps (PKG_CONFIG_PATH=%s)" % os.environ.get("PKG_CONFIG_PATH", "")
    return libdir, None


def _standard_dirs():
    multiarch = sysconfig.get_config_var("MULTIARCH")
    dirs = ["/usr/local/lib"]
    if multiarch:
        dirs += [f"/usr/local/lib/{multiarch}", f"/usr/lib/{multiarch}"]
    return dirs + ["/usr/local/lib64", "/usr/lib64", "/usr/lib"]


def _candidates():
    """The paths to try, in order, and notes on the places that gave none."""
    env = os.environ.get("KINDMPS_LIBRARY")
    if env:
        return [env], []  # an explicit choice is never second-guessed
    found, notes = [], []
    libdir, note = _pkg_config_libdir()
    if libdir:
        found.append(os.path.join(os.path.normpath(libdir), _SONAME))
    else:
        notes.append(note)
    name = ctypes.util.find_library("kindmps")
    if name:
        found.append(name)
    else:
        notes.append("the loader's cache: no libkindmps")
    dirs = _standard_dirs()
    standard = [os.path.join(d, _SONAME) for d in dirs if os.path.exists(os.path.join(d, _SONAME))]
    found += standard
    if not standard:
        notes.append("no %s in %s" % (_SONAME, ", ".join(dirs)))
    # A source checkout (bindings/python/kindmps): its build trees.
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", "..", ".."))
    if os.path.isfile(os.path.join(root, "include", "kindmps.h")):
        for build in ("build", "build-release", "build-debug"):
            found.append(os.path.join(root, build, "src", "capi", _SONAME))
    found.append(_SONAME)
    return list(dict.fromkeys(found)), notes  # each once, in order


def _declare(lib):
    c_int, c_char_p, c_void_p = ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p
    out_str = ctypes.POINTER(c_void_p)
    sigs = {
        "kmps_version_string": (c_char_p, []),
        "kmps_last_error": (c_char_p, []),
        "kmps_last_error_kind": (c_int, []),
        "kmps_error_kind_name": (c_char_p, [c_int]),
        "kmps_free": (None, [c_void_p]),
        "kmps_host_inspect": (c_int, [c_char_p, c_char_p, out_str]),
        "kmps_kind_config": (c_int, [c_char_p, out_str]),
        "kmps_client_new": (c_int, [ctypes.POINTER(c_void_p), c_char_p]),
        "kmps_client_free": (None, [c_void_p]),
        "kmps_client_ping": (c_int, [c_void_p]),
        "kmps_exec_result_free": (None, [ctypes.POINTER(_ExecResultC)]),
        "kmps_client_exec": (c_int, [c_void_p, c_char_p, ctypes.POINTER(c_char_p), ctypes.POINTER(c_char_p),
                                     c_int, ctypes.POINTER(ctypes.POINTER(_ExecResultC))]),
        "kmps_cluster_status": (c_int, [c_void_p, c_char_p, out_str]),
        "kmps_cluster_up": (c_int, [c_void_p, c_char_p, _PROGRESS_FN, c_void_p, out_str]),
        "kmps_cluster_down": (c_int, [c_void_p, c_char_p, c_char_p, c_int, _PROGRESS_FN, c_void_p]),
        "kmps_mps_command": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, out_str]),
        "kmps_mps_command_all": (c_int, [c_void_p, c_char_p, c_char_p, out_str]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def _lib():
    global _lib_handle
    if _lib_handle is not None:
        return _lib_handle
    with _lib_lock:
        if _lib_handle is None:
            _lib_handle = _load(*_candidates())
    return _lib_handle


def _load(paths, notes=()):
    """The first of paths that loads and has every function, else EnvironmentMissing naming each
    place tried, on one line."""
    tried = list(notes)
    for path in paths:
        try:
            return _declare(ctypes.CDLL(path))
        except (OSError, AttributeError) as e:  # AttributeError: a library without a function
            text = str(e)
            tried.append(text if text.startswith(path + ":") else f"{path}: {text}")
    raise EnvironmentMissing("cannot load libkindmps (install it, or set PKG_CONFIG_PATH to the directory of "
                             "its kindmps.pc, or KINDMPS_LIBRARY to its path); tried "
                             + "; ".join(t.replace("\n", " ") for t in tried), ERR_ENVIRONMENT, "environment missing")


def _b(text):
    """str or None -> bytes or None for a const char* argument."""
    if text is None:
        return None
    if isinstance(text, bytes):
        return text
    return os.fsencode(text) if isinstance(text, os.PathLike) else str(text).encode("utf-8")


def _take(ptr):
    """Copies a string the library handed out and frees it."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode("utf-8", errors="replace")
    finally:
        _lib().kmps_free(ptr)


def _error(code, result=None, cls=None):
    lib = _lib()
    kind = lib.kmps_last_error_kind()
    message = (lib.kmps_last_error() or b"").decode("utf-8", errors="replace") or f"failed with code {code}"
    kind_name = lib.kmps_error_kind_name(kind).decode()
    cls = cls or _KIND_CLASSES.get(kind_name) or _CODE_CLASSES.get(code, KindmpsError)
    return cls(message, code, kind_name, result)


def _strings(items):
    """A NULL-terminated char* array (kept alive by the returned object)."""
    if items is None:
        return None
    encoded = [_b(i) for i in items]
    return (ctypes.c_char_p * (len(encoded) + 1))(*encoded, None)


# ---- functions ---------------------------------------------------------------------------------

def version():
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return _lib().kmps_version_string().decode()


def host_inspect(driver_root=None, dev_root=None, require_complete=False):
    """The host's NVIDIA driver inventory as a dict (the schema of `kindmps-api inspect --json`).

    When something required is missing the dict says so ("complete": False, "missing": [...]);
    with require_complete=True that raises EnvironmentMissing instead, its `result` the dict."""
    out = ctypes.c_void_p()
    code = _lib().kmps_host_inspect(_b(driver_root), _b(dev_root), ctypes.byref(out))
    text = _take(out.value)
    result = json.loads(text) if text is not None else None
    if code == OK or (code == ERR_ENVIRONMENT and result is not None and not require_complete):
        return result
    raise _error(code, result)


def kind_config(options=None):
    """The kind Cluster config (YAML text) for this host. `options`: a dict with the keys of
    kindmps.yaml (name, workers, image, gpuNodes, shmSize, mps, driverRoot, devRoot, ...), or a JSON
    string."""
    out = ctypes.c_void_p()
    code = _lib().kmps_kind_config(_b(_options_text(options)), ctypes.byref(out))
    text = _take(out.value)
    if code != OK:
        raise _error(code)
    return text


def _options_text(options):
    if options is None:
        return None
    if isinstance(options, (str, bytes)):
        return options
    return json.dumps(options)


ExecResult = namedtuple("ExecResult", ["exit_code", "stdout", "stderr"])
ExecResult.__doc__ = "The result of Client.exec: the exit code, and stdout/stderr as bytes."

ProgressEvent = namedtuple("ProgressEvent", ["kind", "step", "total", "title", "detail", "elapsed_ms"])
ProgressEvent.__doc__ = ("A progress report of up/down. kind: 'started', 'done', 'failed' or 'line'; step is "
                         "1-based (0 for lines) out of total.")
_PROGRESS_KINDS = {0: "started", 1: "done", 2: "failed", 3: "line"}

MpsReply = namedtuple("MpsReply", ["node", "ok", "reply", "error"])
MpsReply.__doc__ = ("One GPU node's answer to Client.mps_command_all: ok and the daemon's reply (str), or "
                    "ok False, reply None and error, the KindmpsError of the node's failure (not raised).")

# The "code" of a failed node in kmps_mps_command_all's document is the kind's name
# (kmps_error_kind_name).
_KIND_CODES = {InvalidArgument: ERR_INVALID, EnvironmentMissing: ERR_ENVIRONMENT}


def _reply_error(message, code_name):
    """The exception of a failed node's reply: the class of its kind, and the CLI's exit code."""
    kind = code_name
    cls = _KIND_CLASSES.get(kind, OperationFailed)
    code = next((c for base, c in _KIND_CODES.items() if issubclass(cls, base)), ERR_FAILED)
    return cls(message, code, kind if kind in _KIND_CLASSES else "failed")


def _mps_replies(text):
    """kmps_mps_command_all's {"replies": [...]} -> [MpsReply]."""
    try:
        items = json.loads(text)["replies"]
        return [MpsReply(r["node"], True, r["reply"], None) if r["ok"]
                else MpsReply(r["node"], False, None, _reply_error(r.get("error", ""), r.get("code", "failed")))
                for r in items]
    except (ValueError, KeyError, TypeError) as e:
        raise ProtocolError(f"bad JSON from the library: {e}", ERR_FAILED, "protocol error") from e


class _Progress:
    """A C callback around a Python callable; an exception it raises is re-raised after the call."""

    def __init__(self, fn):
        self.fn = fn
        self.error = None
        self.c_fn = _PROGRESS_FN(self._call) if fn is not None else _PROGRESS_FN()

    def _call(self, event_p, _user):
        if self.error is not None:
            return
        e = event_p.contents
        try:
            self.fn(ProgressEvent(_PROGRESS_KINDS.get(e.kind, str(e.kind)), e.step, e.total,
                                  (e.title or b"").decode("utf-8", "replace"),
                                  (e.detail or b"").decode("utf-8", "replace"), e.elapsed_ms))
        except BaseException as exc:  # noqa: B902 - kept, and raised on the calling side
            self.error = exc

    def reraise(self):
        if self.error is not None:
            raise self.error


class Client:
    """A Docker Engine API client (libkindmps's kmps_client). Use it as a context manager, or
    call close(). `docker_host`: "unix:///path" or "tcp://host:port"; None means the docker CLI's
    rules ($DOCKER_HOST, else $DOCKER_CONTEXT or the current context, else
    unix:///var/run/docker.sock). Creating it does not connect."""

    def __init__(self, docker_host=None):
        self._lock = threading.Lock()
        self._owner = None
        self._handle = None
        handle = ctypes.c_void_p()
        code = _lib().kmps_client_new(ctypes.byref(handle), _b(docker_host))
        if code != OK:
            raise _error(code)
        self._handle = handle

    def close(self):
        """Frees the handle; later calls raise InvalidArgument. Idempotent."""
        with self._lock:
            if self._handle is not None:
                _lib().kmps_client_free(self._handle)
                self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def _call(self, fn):
        if self._owner == threading.get_ident():
            raise InvalidArgument("a Client cannot be used from its own progress callback", ERR_INVALID,
                                  "invalid argument")
        with self._lock:
            if self._handle is None:
                raise InvalidArgument("the client is closed", ERR_INVALID, "invalid argument")
            self._owner = threading.get_ident()
            try:
                return fn(self._handle)
            finally:
                self._owner = None

    def ping(self):
        """Raises Unavailable/PermissionDenied when the daemon does not answer."""
        def body(h):
            code = _lib().kmps_client_ping(h)
            if code != OK:
                raise _error(code)
        self._call(body)

    def exec(self, container, argv, env=None, timeout=60.0):
        """Runs argv (no shell) in a running container; returns ExecResult(exit_code, stdout, stderr).
        A non-zero exit code is a result, not an error. `env`: a dict or "KEY=value" strings.
        `timeout` in seconds (Timeout when exceeded)."""
        if isinstance(argv, (str, bytes)):
            raise InvalidArgument("argv must be a list of strings, not one string", ERR_INVALID, "invalid argument")
        if isinstance(env, dict):
            env = [f"{k}={v}" for k, v in env.items()]
        c_argv = _strings(list(argv))
        c_env = _strings(env)
        timeout_ms = max(1, int(timeout * 1000)) if timeout else 0

        def body(h):
            out = ctypes.POINTER(_ExecResultC)()
            code = _lib().kmps_client_exec(h, _b(container), c_argv, c_env, timeout_ms, ctypes.byref(out))
            if code != OK:
                raise _error(code)
            try:
                r = out.contents
                return ExecResult(r.exit_code, ctypes.string_at(r.out, r.out_len), ctypes.string_at(r.err, r.err_len))
            finally:
                _lib().kmps_exec_result_free(out)
        return self._call(body)

    def status(self, cluster=None):
        """The cluster's status document (`kindmps-api status --json`) as a dict. An unhealthy
        cluster is a result ("healthy": False), not an error."""
        def body(h):
            out = ctypes.c_void_p()
            code = _lib().kmps_cluster_status(h, _b(cluster), ctypes.byref(out))
            text = _take(out.value)
            if text is not None and code in (OK, ERR_FAILED):
                return json.loads(text)
            raise _error(code)
        return self._call(body)

    def up(self, options=None, progress=None):
        """Creates the kind cluster if needed and starts MPS in its GPU nodes. `options`: a dict
        with kindmps.yaml's keys plus "kind" (the kind binary) and "recreate" (bool). `progress`:
        a callable receiving ProgressEvent, called on this thread. Returns `up --json`'s document;
        raises ClusterUnhealthy (its `result` the document) when the cluster ends unhealthy."""
        cb = _Progress(progress)

        def body(h):
            out = ctypes.c_void_p()
            code = _lib().kmps_cluster_up(h, _b(_options_text(options)), cb.c_fn, None, ctypes.byref(out))
            text = _take(out.value)
            err = _error(code) if code != OK else None
            cb.reraise()
            result = json.loads(text) if text is not None else None
            if err is None:
                return result
            if result is not None:
                raise ClusterUnhealthy(err.message, err.code, err.kind, result)
            raise err
        return self._call(body)

    def down(self, cluster=None, kind=None, keep_cluster=False, progress=None):
        """Quits the MPS daemons, then deletes the kind cluster (unless keep_cluster)."""
        cb = _Progress(progress)

        def body(h):
            code = _lib().kmps_cluster_down(h, _b(cluster), _b(kind), 1 if keep_cluster else 0, cb.c_fn, None)
            err = _error(code) if code != OK else None
            cb.reraise()
            if err is not None:
                raise err
        self._call(body)

    def mps_command(self, command, cluster=None, node=None):
        """Sends one command to a node's MPS control daemon and returns its reply (str)."""
        def body(h):
            out = ctypes.c_void_p()
            code = _lib().kmps_mps_command(h, _b(cluster), _b(node), _b(command), ctypes.byref(out))
            text = _take(out.value)
            if code != OK:
                raise _error(code)
            return text
        return self._call(body)

    def mps_command_all(self, command, cluster=None):
        """Sends one command to the MPS control daemon of every GPU node at once (`kindmps-api mps
        --all`) and returns a list of MpsReply(node, ok, reply, error), one per node in node-name
        order. A node that failed is a reply with ok False and `error` its exception, not raised:
        the list is returned whenever the command was sent. Failures before sending (empty
        command, Docker unreachable, no GPU node) raise."""
        def body(h):
            out = ctypes.c_void_p()
            code = _lib().kmps_mps_command_all(h, _b(cluster), _b(command), ctypes.byref(out))
            text = _take(out.value)
            if text is None:
                raise _error(code if code != OK else ERR_FAILED)
            return _mps_replies(text)
        return self._call(body)
