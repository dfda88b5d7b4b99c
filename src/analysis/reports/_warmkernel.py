"""A fork server for notebook kernels: imports once, forks a fresh kernel per run.

Started by a report build (:func:`analysis.reports.kernel.warm_kernels`) as
``python -m analysis.reports._warmkernel SOCKET``. It imports what every report notebook imports
(:data:`PRELOAD`: pandas, matplotlib, the engine; about 2 s), then answers on the Unix socket
``SOCKET``, importing what only some notebooks need (:data:`PRELOAD_LATER`: statsmodels, arch,
the studies) while no request waits. Each request (one JSON line: the kernel's command-line arguments, working
folder, environment and stderr path) is answered by forking a child that becomes the kernel:
new session, the request's folder and environment, ``sys.path`` without the start folder, stdin from /dev/null,
stdout and stderr to the requested file, default SIGCHLD, SIGTERM and SIGINT handlers, reseeded ``random`` and NumPy
global generators, then ``ipykernel_launcher``'s own start-up with the request's arguments. The reply is the child's pid.

A child is therefore the kernel a fresh ``python -m ipykernel_launcher -f FILE`` would be, with
the imports already done: the modules' import-time state is the same, nothing has been run in
it. The server answers ``{"mismatch": [...]}`` instead when the requested environment differs
from its own (then the caller starts an ordinary kernel). It kills its live children and exits
on SIGTERM, when its parent dies (Linux ``PR_SET_PDEATHSIG``) or when its socket is removed.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import socket
import sys
from typing import Any

from analysis.reports.kernel import process_start_time

#: Imported before the server answers: what every report notebook imports (never a matplotlib
#: backend: the inline backend registers itself with the kernel's shell when it is first used).
#: The server then runs OpenBLAS's worker threads and pyarrow's allocator thread (pandas loads
#: pyarrow); both register fork handlers (pthread_atfork), so a child never inherits a lock one of
#: those threads held; it starts with the forking thread only, and they start workers as needed.
PRELOAD: tuple[str, ...] = (
    "IPython",
    "IPython.display",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "numpy",
    "pandas",
    "scipy.stats",
    "matplotlib.pyplot",
    "seaborn",
    "pyarrow.parquet",  # the price cache
    "filelock",
    "analysis.eventstudy.study",
    "analysis.eventstudy.results",
    "analysis.plots",
    "analysis.data.prices",
    "analysis.reports.notebook",
    "analysis.reports.display",
)

#: Imported one by one while no request waits: what some notebooks import (a kernel forked
#: before one of them is imported imports it itself, as a new interpreter would).
PRELOAD_LATER: tuple[str, ...] = (
    "statsmodels.api",
    "arch.univariate",  # the GARCH fits
    "analysis.eventstudy.activity",
    "analysis.eventstudy.garch",
    "analysis.eventstudy.synthetic",
    "analysis.eventstudy.power",
    "analysis.studies.findings",
    "analysis.studies.factcheck",
    "analysis.studies.exposure",
    "analysis.studies.hardware",
    "analysis.studies.retail",
    "analysis.reports.frontpage",
)

#: Environment variables not compared with the server's own: set per kernel by Jupyter
#: (``JPY_*``), or the terminal's size (``COLUMNS``, ``LINES``: set by some tools while a build
#: runs; read when output is formatted, never at import). The kernel gets them as requested.
PER_KERNEL_PREFIXES: tuple[str, ...] = ("JPY_", "COLUMNS", "LINES")

#: The kernels forked and still running: pid -> start time (a pid reused later is not ours).
_CHILDREN: dict[int, str | None] = {}


def environment_mismatch(requested: dict[str, str], own: dict[str, str]) -> list[str]:
    """Names of variables whose values differ (:data:`PER_KERNEL_PREFIXES` left out)."""

    def relevant(env: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in env.items() if not k.startswith(PER_KERNEL_PREFIXES)}

    a, b = relevant(requested), relevant(own)
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _preload(name: str) -> None:
    # a module that fails to import here fails again, with its message, in the notebook
    with contextlib.suppress(Exception):
        importlib.import_module(name)


def _kill_children(*_: Any) -> None:
    for pid, started in list(_CHILDREN.items()):
        if started is not None and process_start_time(pid) == started:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
    os._exit(0)


def _watch_parent(pid: int, started: str | None) -> None:
    """End this kernel when the process that asked for it ends, as ipykernel's parent poller
    ends an ordinary kernel whose parent died."""
    import threading
    import time

    def watch() -> None:
        while process_start_time(pid) == started:
            time.sleep(1.0)
        os._exit(1)

    if started is not None:
        threading.Thread(target=watch, name="parent-watcher", daemon=True).start()


def _become_kernel(
    request: dict[str, Any], listener: socket.socket, conn: socket.socket, ready: int
) -> None:
    """In the forked child: set up the process as a fresh kernel would be, then run it.
    ``ready`` is written once the child leads its own session (the server then answers)."""
    code = 1
    try:
        listener.close()
        conn.close()
        os.setsid()
        os.write(ready, b"1")
        os.close(ready)
        # as a new interpreter has them (Python itself ignores SIGPIPE, as the server does)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _die_with_parent()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        try:
            out = os.open(request["stderr"], os.O_WRONLY | os.O_APPEND)
        except (KeyError, TypeError, OSError):
            out = os.open(os.devnull, os.O_WRONLY)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        del sys.path[0]  # the server's folder: ``ipykernel_launcher`` removes the kernel's
        import random

        import numpy

        random.seed()
        numpy.random.seed()  # noqa: NPY002 (the global generator a new interpreter seeds)
        import ipykernel_launcher  # type: ignore[import-untyped]
        from ipykernel import kernelapp

        sys.argv = [ipykernel_launcher.__file__, *request["args"]]
        parent = request.get("parent")
        if parent:
            _watch_parent(int(parent[0]), parent[1])
        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        import atexit

        with contextlib.suppress(Exception):
            atexit._run_exitfuncs()  # what interpreter shutdown would run
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve(path: str) -> None:
    """Preload, then fork a kernel for every request on the Unix socket ``path``."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the build
    signal.signal(signal.SIGTERM, _kill_children)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)  # bound before the imports: clients queue until the server is ready
    listener.listen(16)
    own = dict(os.environ)
    for name in PRELOAD:
        _preload(name)
    later = list(PRELOAD_LATER)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # ended kernels are reaped by the OS
    while True:
        ready, _, _ = select.select([listener], [], [], 0.0 if later else 5.0)
        if not ready:
            if later:
                _preload(later.pop(0))
                continue
            if not os.path.exists(path):  # the build removed its folder: it is over
                _kill_children()
            for p, started in list(_CHILDREN.items()):
                if process_start_time(p) != started:
                    del _CHILDREN[p]
            continue
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(30.0)
            try:
                request = json.loads(conn.makefile("r", encoding="utf-8").readline())
                mismatch = environment_mismatch(request["env"], own)
                if mismatch:
                    reply: dict[str, Any] = {"mismatch": mismatch}
                else:
                    rd, wr = os.pipe()
                    pid = os.fork()
                    if pid == 0:
                        os.close(rd)
                        _become_kernel(request, listener, conn, wr)
                    os.close(wr)
                    with os.fdopen(rd, "rb") as pipe:  # the child leads its own session now
                        pipe.read(1)
                    _CHILDREN[pid] = process_start_time(pid)
                    reply = {"pid": pid}
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            with contextlib.suppress(OSError):
                conn.sendall((json.dumps(reply) + "\n").encode())


if __name__ == "__main__":
    serve(sys.argv[1])
