"""Executing runs: one notebook through papermill in a worker process, the workers, signals.

Each run is executed by :func:`_execute_one` in a worker process (or in this process with one
job); its kernel is this interpreter (:mod:`.kernel`). SIGINT and SIGTERM stop the workers and
their kernels (:class:`_Signals`, :func:`_stop_workers`) and raise :class:`BuildInterrupted`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis._io import atomic_write_text
from analysis.reports import results as _results
from analysis.reports.kernel import INLINE_BACKEND

#: Seconds a worker is given to stop its kernel after SIGTERM before it is killed.
STOP_TIMEOUT = 10.0


class BuildInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped a build; the message says what became of the site."""

    def __init__(self, signum: int, out: Path | None = None, site_written: bool = False):
        super().__init__(signum)
        self.signum = signum
        self.out = out
        self.site_written = site_written

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        name = signal.Signals(self.signum).name
        where = str(self.out) if self.out is not None else "the site"
        if self.site_written:
            return f"report build interrupted by {name} after the new site was written to {where}"
        return (
            f"report build interrupted by {name}: runs stopped, temporary files removed, "
            f"{where} left as it was"
        )


@dataclass(frozen=True)
class RunTask:
    """What a worker needs to execute one run (picklable)."""

    name: str
    title: str
    notebook: str
    notebook_path: str
    parameters: dict[str, Any]
    cwd: str
    timeout: float
    dest: str
    commands: tuple[str, ...] = ()  # shell commands that regenerate the run (shown on its page)


@dataclass(frozen=True)
class RunOutcome:
    """What happened to one run in this build."""

    name: str
    status: str  # "ok", "failed", "skipped-unchanged", "kept", "not-built"
    seconds: float = 0.0
    error: str | None = None
    results: Mapping[str, Any] | None = field(default=None, hash=False)


# --------------------------------------------------------------------------- one run


@contextlib.contextmanager
def _kernel_environment(log: Any) -> Iterator[None]:
    """Set up the kernel's process: inline matplotlib, stderr into ``log``.

    ``MPLBACKEND=Agg`` (set by CI) would reach the kernel and hide every figure, so it is set to
    the inline backend while the kernel starts. The kernel's own stderr (ipykernel start-up
    warnings, zmq noise after a timeout) goes to ``log`` instead of the progress display; the
    notebook's outputs are unaffected (they travel over the kernel protocol).
    """
    before = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        if before is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = before


def _results_document(
    task: RunTask, status: str, error: dict[str, str] | None, results: Any
) -> dict[str, Any]:
    return {
        "name": task.name,
        "title": task.title,
        "notebook": task.notebook,
        "parameters": task.parameters,
        "status": status,
        "error": error,
        "results": results,
    }


#: How often a run is restarted when its kernel dies before replying to its first request.
KERNEL_START_RETRIES = 2
_KERNEL_START_FAILURES = ("before replying to kernel_info", "Kernel didn't respond")


def _kernel_start_failed(exc: BaseException) -> bool:
    """True when the kernel died or hung before it executed anything (safe to retry)."""
    return any(text in str(exc) for text in _KERNEL_START_FAILURES)


def _execute_one(task: RunTask) -> RunOutcome:
    """Execute one run into ``task.dest`` and render it; never raises for a notebook error."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from analysis.reports import site
    from analysis.reports.kernel import KERNEL_NAME, ThisPythonKernelManager

    dest = Path(task.dest)
    dest.mkdir(parents=True, exist_ok=True)
    executed = dest / "executed.ipynb"
    start = time.perf_counter()
    error: dict[str, str] | None = None
    for attempt in range(1 + KERNEL_START_RETRIES):
        error = None
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as log:
            try:
                with _kernel_environment(log):
                    papermill.execute_notebook(
                        task.notebook_path,
                        str(executed),
                        parameters=dict(task.parameters),
                        kernel_name=KERNEL_NAME,
                        language="python",
                        progress_bar=False,
                        log_output=False,
                        cwd=task.cwd,
                        execution_timeout=task.timeout,
                        kernel_manager_class=ThisPythonKernelManager,
                    )
            except PapermillExecutionError as exc:
                error = {"ename": exc.ename, "evalue": exc.evalue}
            except Exception as exc:  # cell timeout, dead kernel, unreadable notebook ...
                error = {"ename": type(exc).__name__, "evalue": str(exc)}
                if _kernel_start_failed(exc) and attempt < KERNEL_START_RETRIES:
                    # a kernel that dies before its first reply (e.g. two kernels racing for the
                    # same ports under --jobs N) ran nothing: start it again
                    print(f"{task.name}: kernel failed to start ({exc}); retrying", file=sys.stderr)
                    continue
                log.seek(0)
                tail = log.read()[-4000:]
                if tail.strip() and not isinstance(exc, TimeoutError):  # e.g. why the kernel died
                    print(f"{task.name}: kernel stderr (last lines):\n{tail}", file=sys.stderr)
        break
    seconds = time.perf_counter() - start
    status = "ok" if error is None else "failed"
    results = None
    nb = None
    if executed.is_file():
        try:
            nb = nbformat.read(str(executed), as_version=4)
            results = _results.extract_results(nb)
        except Exception as exc:  # malformed published values, unreadable output
            if error is None:
                status, error = "failed", {"ename": type(exc).__name__, "evalue": str(exc)}
    message = f"{error['ename']}: {error['evalue']}" if error else None
    try:
        if nb is not None:
            page = site.render_run_page(
                nb,
                name=task.name,
                title=task.title,
                status=status,
                error=message,
                commands=task.commands,
            )
        else:
            page = site.render_missing_notebook_page(
                name=task.name, title=task.title, error=message or "no notebook was written"
            )
    except Exception as exc:
        status, error = "failed", {"ename": type(exc).__name__, "evalue": f"rendering: {exc}"}
        message = f"{error['ename']}: {error['evalue']}"
        page = site.render_missing_notebook_page(name=task.name, title=task.title, error=message)
    atomic_write_text(dest / "index.html", page)
    atomic_write_text(
        dest / "results.json", _results.dumps(_results_document(task, status, error, results))
    )
    return RunOutcome(task.name, status, seconds, message, results)


# --------------------------------------------------------------------------- workers


def skip_iri_grammar() -> None:
    """Keep jsonschema from loading its optional IRI grammar in a build process.

    jsonschema imports ``rfc3987_syntax`` when installed (Jupyter's packages install it), which
    compiles a grammar at import: about 1.5 s in every process that reads a notebook. The
    notebook schema checks no IRI format, so a build process (the ``report`` command, its
    workers) does without it. Call before nbformat is imported; later calls change nothing.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _worker_main(conn: Any, warm_server: str | None = None) -> None:
    """A worker process: execute the tasks it receives until it gets None (or its pipe closes).

    Its kernels are forked from the build's warm server at ``warm_server`` when given. Ctrl-C
    (SIGINT to the whole terminal process group) is the parent's to handle; SIGTERM, sent by the
    parent when the build stops, kills the worker's kernel and ends it at once. On Linux the
    worker gets SIGTERM when the parent dies.
    """
    skip_iri_grammar()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_terminate)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
            if os.getppid() == 1:  # the parent died before that
                _worker_terminate(signal.SIGTERM, None)
    from analysis.reports import kernel

    kernel.use_warm_server(warm_server)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        conn.send(_execute_one(task))


def _worker_terminate(signum: int, frame: Any) -> None:
    kernel = sys.modules.get("analysis.reports.kernel")
    if kernel is not None:
        kernel.kill_kernels()
    os._exit(128 + signum)


def _proc_stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a process from /proc, or None (gone, or no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), fields[19]


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, start time) of every live descendant of ``pid`` (Linux /proc; [] elsewhere)."""
    children: dict[int, list[tuple[int, str]]] = {}
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []
    for child in pids:
        stat = _proc_stat(child)
        if stat is not None:
            children.setdefault(stat[0], []).append((child, stat[1]))
    found: list[tuple[int, str]] = []
    todo = [pid]
    while todo:
        for item in children.get(todo.pop(), []):
            found.append(item)
            todo.append(item[0])
    return found


def _stop_workers(procs: Sequence[Any]) -> None:
    """SIGTERM the workers (each kills its kernel), wait, then SIGKILL whatever is left."""
    left = [d for p in procs if p.pid for d in descendants(p.pid)]  # kernels, their children
    for p in procs:
        if p.is_alive():
            with contextlib.suppress(OSError):
                p.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            with contextlib.suppress(OSError):
                p.kill()
            p.join(5)
    for pid, started in left:
        stat = _proc_stat(pid)
        if stat is not None and stat[1] == started:  # the same process, still there
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@dataclass
class _Worker:
    process: Any
    conn: Any
    task: RunTask | None = None


def _start_worker(ctx: Any, warm_server: str | None) -> _Worker:
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_worker_main, args=(child, warm_server), daemon=True)
    # ignore SIGINT while the child starts, so that it inherits SIG_IGN (Ctrl-C is ours)
    main = threading.current_thread() is threading.main_thread()
    saved = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        process.start()
    finally:
        if main:
            signal.signal(signal.SIGINT, saved)
    child.close()
    return _Worker(process, parent)


def _execute(
    tasks: Sequence[RunTask], jobs: int, report: Any, warm_server: str | None = None
) -> list[RunOutcome]:
    """Execute ``tasks`` here (one job or one task) or on ``jobs`` workers.

    ``warm_server`` is the socket of the build's warm kernel server (:func:`kernel.warm_kernels`),
    or None for ordinary kernels.
    """
    from analysis.reports import kernel

    warm_server = kernel.server_ready(warm_server)
    if jobs <= 1 or len(tasks) <= 1:
        outcomes = []
        kernel.use_warm_server(warm_server)
        try:
            for task in tasks:
                report.start(task.name)
                outcome = _execute_one(task)
                report.done(outcome)
                outcomes.append(outcome)
        except BaseException:
            kernel.kill_kernels()
            raise
        finally:
            kernel.use_warm_server(None)
        return outcomes
    return _execute_parallel(tasks, jobs, report, warm_server)


def _execute_parallel(
    tasks: Sequence[RunTask], jobs: int, report: Any, warm_server: str | None
) -> list[RunOutcome]:
    """Run ``tasks`` on ``jobs`` spawned worker processes (a dead worker fails only its run)."""
    import multiprocessing
    from multiprocessing.connection import wait

    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding zmq sockets
    pending = list(tasks)
    outcomes: list[RunOutcome] = []
    workers: list[_Worker] = []

    def assign(worker: _Worker) -> None:
        worker.task = pending.pop(0) if pending else None
        if worker.task is not None:
            worker.conn.send(worker.task)

    try:
        for _ in range(min(jobs, len(tasks))):
            workers.append(_start_worker(ctx, warm_server))
        report.start(f"{len(tasks)} runs on {len(workers)} workers")
        for worker in workers:
            assign(worker)
        while any(w.task is not None for w in workers):
            busy = [w for w in workers if w.task is not None]
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for i, worker in enumerate(workers):
                task = worker.task
                if task is None or not (worker.conn in ready or worker.process.sentinel in ready):
                    continue
                outcome = None
                with contextlib.suppress(EOFError, OSError):
                    if worker.conn.poll():
                        outcome = worker.conn.recv()
                if outcome is None:  # the worker died running the task
                    worker.process.join(5)
                    message = (
                        f"WorkerDied: the process running it exited with code "
                        f"{worker.process.exitcode}"
                    )
                    _write_failure(task, message)
                    outcome = RunOutcome(task.name, "failed", 0.0, message)
                    worker.conn.close()
                    worker = workers[i] = _start_worker(ctx, warm_server)
                worker.task = None
                report.done(outcome)
                outcomes.append(outcome)
                assign(worker)
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in workers:
            worker.process.join(STOP_TIMEOUT)
    except BaseException:
        _stop_workers([w.process for w in workers])
        raise
    finally:
        for worker in workers:
            worker.conn.close()
    _stop_workers([w.process for w in workers if w.process.is_alive()])
    return outcomes


def _write_failure(task: RunTask, message: str) -> None:
    """A complete run folder (page and results.json) for a run that died without writing one."""
    from analysis.reports import site

    dest = Path(task.dest)
    dest.mkdir(parents=True, exist_ok=True)
    name, evalue = message.split(": ", 1)
    atomic_write_text(
        dest / "index.html",
        site.render_missing_notebook_page(name=task.name, title=task.title, error=message),
    )
    error = {"ename": name, "evalue": evalue}
    atomic_write_text(
        dest / "results.json", _results.dumps(_results_document(task, "failed", error, None))
    )


class _Progress:
    """tqdm bar on stderr with one line per finished run."""

    def __init__(self, total: int, enabled: bool):
        from tqdm import tqdm

        self.bar = tqdm(
            total=total, unit="run", desc="report", file=sys.stderr, disable=not enabled
        )
        self.enabled = enabled

    def start(self, label: str) -> None:
        self.bar.set_postfix_str(label)

    def line(self, text: str) -> None:
        if self.enabled:
            self.bar.write(text, file=sys.stderr)

    def done(self, outcome: RunOutcome, note: str = "") -> None:
        if outcome.status == "skipped-unchanged":
            line = f"{outcome.name}: skipped (unchanged)"
        elif outcome.status == "ok":
            line = f"{outcome.name}: ok in {outcome.seconds:.1f} s"
        else:
            first = (outcome.error or "").strip().splitlines()[:1]
            line = f"{outcome.name}: FAILED in {outcome.seconds:.1f} s: {''.join(first)}"
        self.line(line + note)
        self.bar.update(1)

    def close(self, clear: bool = False) -> None:
        if clear:
            self.bar.leave = False
        self.bar.close()


# --------------------------------------------------------------------------- signals


class _Signals:
    """SIGINT and SIGTERM during a build: raise :class:`BuildInterrupted` once, else remember.

    After the first signal (and inside :meth:`deferred`) a further signal is only recorded, so
    that stopping workers, removing the temporary folder and moving the new site into place are
    never cut short.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.pending: int | None = None
        self.defer = False
        self.saved: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self.saved[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.saved.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.defer:
            self.pending = self.pending or signum
            return
        self.defer = True
        raise BuildInterrupted(signum)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        before, self.defer = self.defer, True
        try:
            yield
        finally:
            self.defer = before
