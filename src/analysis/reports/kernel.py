"""The notebook kernel of a report build: this interpreter, whatever Jupyter has installed.

:class:`ThisPythonKernelManager` starts ``sys.executable -m ipykernel_launcher`` for every
notebook, so a build runs in the environment it was started from and no kernel spec has to be
installed (a user-level ``python3`` kernel of another Python cannot take over). The notebook's
metadata still name the ``python3`` kernel, so plain ``papermill`` keeps working wherever the
package is installed. Every kernel started is remembered until it stops, so that a build that is
interrupted can kill them (:func:`kill_kernels`).

Within a build the kernels are forked from a warm server (:func:`warm_kernels`,
:mod:`analysis.reports._warmkernel`) that has already imported what the notebooks import: each run
still gets a kernel of its own in which nothing has run, without paying about two seconds of
imports again. Where the server is unavailable (not Linux, not started, another environment) an
ordinary kernel process is started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Iterator
from typing import Any

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec

KERNEL_NAME = "python3"
#: matplotlib's backend in the kernels (figures inline in the executed notebook).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: Seconds a kernel launch waits for the warm server (its first imports included) before starting
#: an ordinary kernel instead; a server that fails once is not asked again by this process.
WARM_SERVER_TIMEOUT = 20.0

#: The warm server's socket this process uses (set by :func:`use_warm_server`), or None.
_WARM_SOCKET: str | None = None

_MANAGERS: weakref.WeakSet[ThisPythonKernelManager] = weakref.WeakSet()


def kernel_spec() -> KernelSpec:
    """A kernel spec for ipykernel in this interpreter (``sys.executable``)."""
    return KernelSpec(
        argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name="Python 3 (ipykernel)",
        language="python",
        name=KERNEL_NAME,
        resource_dir="",
    )


class ThisPythonKernelManager(AsyncKernelManager):
    """An nbclient kernel manager whose kernel is always ipykernel in ``sys.executable``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _MANAGERS.add(self)

    @property
    def kernel_spec(self) -> KernelSpec:
        if self._kernel_spec is None:
            self._kernel_spec = kernel_spec()
        return self._kernel_spec

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        # papermill runs the notebook in its folder by changing this process's folder
        cwd = kw.get("cwd") or os.getcwd()
        process = _fork_from_warm_server(kernel_cmd, kw.get("env"), cwd)
        if process is None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        provisioner: Any = self.provisioner
        provisioner.process = process
        provisioner.pid = provisioner.pgid = process.pid
        provisioner.cwd = cwd
        self._reconcile_connection_info(provisioner.connection_info)


# --------------------------------------------------------------------------- warm kernels


def kernel_environment() -> dict[str, str]:
    """The environment of a report kernel: this process's, with the inline matplotlib backend."""
    env = dict(os.environ)
    env["MPLBACKEND"] = INLINE_BACKEND
    return env


@contextlib.contextmanager
def warm_kernels(enabled: bool = True) -> Iterator[str | None]:
    """Start the warm kernel server for a build; yields its socket path (None when not used).

    The server imports in the background while the build prepares its runs; it is stopped, with
    any kernel it forked that still runs, when the block ends.
    """
    if not enabled or not sys.platform.startswith("linux"):
        yield None
        return
    folder = tempfile.mkdtemp(prefix="analysis-kernels-")
    path = os.path.join(folder, "server.sock")
    server = subprocess.Popen(
        [sys.executable, "-m", "analysis.reports._warmkernel", path],
        env=kernel_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def server_ready(path: str | None, timeout: float = 10.0) -> str | None:
    """``path`` once the warm server listens on it (None if it does not within ``timeout`` s).

    The server binds its socket within a fraction of a second of starting, before its imports;
    a kernel asked for earlier would be started the ordinary way.
    """
    if path is None:
        return None
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)
    return path


def use_warm_server(path: str | None) -> None:
    """Launch this process's kernels from the warm server at ``path`` (None: ordinary kernels)."""
    global _WARM_SOCKET
    _WARM_SOCKET = path


class ForkedKernel:
    """A kernel forked by the warm server, as far as a kernel manager needs a process handle.

    It is not this process's child: it is watched through /proc (its pid and start time) and
    signalled by pid; its exit status is not known (``returncode`` 0 once it is gone).
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self._started = process_start_time(pid)

    def poll(self) -> int | None:
        if self.returncode is None and (
            self._started is None or process_start_time(self.pid) != self._started
        ):
            self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0.0)
            time.sleep(0.02)
        return 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def process_start_time(pid: int) -> str | None:
    """The start time of process ``pid`` from /proc (None when it is gone or a zombie): with the
    pid it names one process, never another that reuses the pid later."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _fork_from_warm_server(
    cmd: list[str], env: dict[str, str] | None, cwd: str
) -> ForkedKernel | None:
    """Ask the warm server for a kernel; None (start an ordinary one) when it cannot give one."""
    global _WARM_SOCKET
    if _WARM_SOCKET is None or env is None:
        return None
    if cmd[:3] != [sys.executable, "-m", "ipykernel_launcher"]:
        return None
    request = {
        "args": cmd[3:],  # -f CONNECTION_FILE and nbclient's options
        "cwd": str(cwd),
        # as jupyter_client's launcher sets it for an ordinary kernel
        "env": {**env, "JPY_PARENT_PID": str(os.getpid())},
        "stderr": f"/proc/{os.getpid()}/fd/2",  # where an ordinary kernel's stderr would go
        # the kernel ends when this process does (an ordinary kernel's parent poller)
        "parent": [os.getpid(), process_start_time(os.getpid())],
    }
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(WARM_SERVER_TIMEOUT)
            conn.connect(_WARM_SOCKET)
            conn.sendall((json.dumps(request) + "\n").encode())
            reply = json.loads(conn.makefile("r", encoding="utf-8").readline() or "{}")
    except (OSError, ValueError):
        _WARM_SOCKET = None  # not answering: ordinary kernels from now on
        return None
    pid = reply.get("pid")
    return ForkedKernel(pid) if isinstance(pid, int) else None


def kill_kernels() -> list[int]:
    """Kill (SIGKILL, whole process group) every kernel this process started that still runs.

    Also removes their connection files. Returns the pids signalled. A kernel whose process has
    ended (and been reaped) is left alone: its pid and group id may belong to another process by
    now.
    """
    killed = []
    for km in list(_MANAGERS):
        provisioner = getattr(km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        pid = getattr(provisioner, "pid", None)
        if not pid or process is None or getattr(process, "pid", pid) != pid:
            continue
        with contextlib.suppress(Exception):
            if process.poll() is not None:  # ended: now reaped, nothing to kill
                continue
        pgid = getattr(provisioner, "pgid", None)
        with contextlib.suppress(OSError):
            if pgid and pgid != os.getpgrp():
                os.killpg(pgid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        with contextlib.suppress(Exception):  # reap it: no zombie left behind
            process.wait(timeout=5)
        with contextlib.suppress(Exception):
            km.cleanup_connection_file()
    return killed
