"""The notebook kernel of a report build: this interpreter, whatever Jupyter has installed.

:class:`ThisPythonKernelManager` starts ``sys.executable -m ipykernel_launcher`` for every
notebook, so a build runs in the environment it was started from and no kernel spec has to be
installed (a user-level ``python3`` kernel of another Python cannot take over). The notebook's
metadata still name the ``python3`` kernel, so plain ``papermill`` keeps working wherever the
package is installed. Every kernel started is remembered until it stops, so that a build that is
interrupted can kill them (:func:`kill_kernels`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import weakref

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec

KERNEL_NAME = "python3"

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
