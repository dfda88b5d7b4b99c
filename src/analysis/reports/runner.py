"""Build the report site: execute the run matrix with papermill and write static HTML.

Layout of the site (default :func:`analysis.config.reports_dir`)::

    <out>/index.html                  every run: status, parameters, headline figures, links
    <out>/<run>/executed.ipynb        the executed notebook (with the traceback if it failed)
    <out>/<run>/index.html            the notebook as HTML without code cells
    <out>/<run>/results.json          name, title, notebook, parameters, status, error, results
    <out>/<run>/fingerprint.txt       what the run was built from (see .fingerprint)
    <out>/.analysis-report-site       the manifest: JSON listing the files the build made

Every notebook runs in the interpreter the build was started from (:mod:`.kernel`), whatever
kernels Jupyter has installed. Runs are executed into a sibling temporary folder
``<out>.tmp-*``; only when every run has finished are the new run folders, the index and the
manifest moved into ``<out>``, so an interrupted or crashed build leaves the previous site as it
was. Only what the manifest lists is ever replaced or removed: other files in ``<out>`` (notes,
``assets/``, ``.git``, ``CNAME``, a file added to a run's folder) are left alone. A run's folder
is removed only when the run matrix no longer has the run (the build says so). Runs whose
fingerprint matches their last good build are left as they are (``--force`` reruns them); a
failed run is never skipped; runs left out by ``--only`` are kept.

One build at a time writes to a site (a lock on ``<out>``); a build removes the temporary
folders that earlier, killed builds of the same site left behind. SIGINT and SIGTERM stop the
workers and their kernels, remove the temporary folder and raise :class:`BuildInterrupted`.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis import config
from analysis._io import atomic_write_text
from analysis.errors import AnalysisError, SpecificationError
from analysis.reports import results as _results
from analysis.reports.fingerprint import (
    FINGERPRINT_FILE,
    environment_components,
    run_fingerprint,
)
from analysis.reports.matrix import NAME_PATTERN, Run, _suggest, load_matrix

SITE_MARKER = ".analysis-report-site"
TEMP_MARKER = ".analysis-report-build"
MANIFEST_FORMAT = 1
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
RUN_FILES = ("executed.ipynb", "index.html", "results.json")
#: Files a build writes in a run's folder (replaced by a rebuild, whatever the manifest says).
BUILD_FILES = (*RUN_FILES, FINGERPRINT_FILE)
#: Seconds a worker is given to stop its kernel after SIGTERM before it is killed.
STOP_TIMEOUT = 10.0


class ReportBuildError(AnalysisError):
    """The report site cannot be built where or how it was asked."""


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


@dataclass(frozen=True)
class RunOutcome:
    """What happened to one run in this build."""

    name: str
    status: str  # "ok", "failed", "skipped-unchanged", "kept", "not-built"
    seconds: float = 0.0
    error: str | None = None
    results: Mapping[str, Any] | None = field(default=None, hash=False)


@dataclass(frozen=True)
class BuildResult:
    """The outcome of :func:`build_reports`."""

    out: Path
    outcomes: tuple[RunOutcome, ...]
    seconds: float
    removed: tuple[str, ...] = ()  # runs the matrix no longer has, whose folders were removed

    @property
    def failed(self) -> tuple[RunOutcome, ...]:
        """Runs executed in this build that failed."""
        return tuple(o for o in self.outcomes if o.status == "failed")

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def status_line(self) -> str:
        """One line: the index page and how many runs ended how (e.g. "22 ok (62.4 s)")."""
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        if self.removed:
            counts["removed"] = len(self.removed)
        text = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no runs"
        return f"{self.out / 'index.html'}: {text} ({self.seconds:.1f} s)"


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
                nb, name=task.name, title=task.title, status=status, error=message
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


def _worker_main(conn: Any) -> None:
    """A worker process: execute the tasks it receives until it gets None (or its pipe closes).

    Ctrl-C (SIGINT to the whole terminal process group) is the parent's to handle; SIGTERM, sent
    by the parent when the build stops, kills the worker's kernel and ends it at once. On Linux
    the worker gets SIGTERM when the parent dies.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_terminate)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
            if os.getppid() == 1:  # the parent died before that
                _worker_terminate(signal.SIGTERM, None)
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


def _start_worker(ctx: Any) -> _Worker:
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_worker_main, args=(child,), daemon=True)
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


def _execute(tasks: Sequence[RunTask], jobs: int, report: Any) -> list[RunOutcome]:
    if jobs <= 1 or len(tasks) <= 1:
        outcomes = []
        try:
            for task in tasks:
                report.start(task.name)
                outcome = _execute_one(task)
                report.done(outcome)
                outcomes.append(outcome)
        except BaseException:
            kernel = sys.modules.get("analysis.reports.kernel")
            if kernel is not None:
                kernel.kill_kernels()
            raise
        return outcomes
    return _execute_parallel(tasks, jobs, report)


def _execute_parallel(tasks: Sequence[RunTask], jobs: int, report: Any) -> list[RunOutcome]:
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
            workers.append(_start_worker(ctx))
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
                    worker = workers[i] = _start_worker(ctx)
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


# --------------------------------------------------------------------------- the site


@dataclass
class _Manifest:
    """What a build wrote in the site: top-level files and, per run, the files of its folder."""

    files: list[str] = field(default_factory=list)
    runs: dict[str, list[str]] = field(default_factory=dict)

    def dumps(self) -> str:
        doc = {
            "format": MANIFEST_FORMAT,
            "written_by": "python -m analysis report",
            "files": sorted(self.files),
            "runs": {k: sorted(v) for k, v in sorted(self.runs.items())},
        }
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _read_manifest(out: Path) -> _Manifest:
    """The previous build's manifest; for a site of an older build (a text marker), its runs."""
    path = out / SITE_MARKER
    if not path.is_file():
        return _Manifest()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        files, runs = doc["files"], doc["runs"]
        if isinstance(files, list) and isinstance(runs, dict):
            # only run names and plain file names: a hand-edited entry such as ".." or
            # "../x" must never make the build remove anything outside the site's runs
            return _Manifest(
                [f for f in files if _plain_name(f)],
                {
                    k: [f for f in v if _plain_name(f)]
                    for k, v in runs.items()
                    if isinstance(k, str) and NAME_PATTERN.fullmatch(k) and isinstance(v, list)
                },
            )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    # an older site: its index and every folder holding a run's results.json
    runs = {
        p.name: [f for f in BUILD_FILES if (p / f).is_file()]
        for p in out.iterdir()
        if p.is_dir() and not p.is_symlink() and (p / "results.json").is_file()
    }
    return _Manifest(["index.html"], runs)


def _plain_name(name: object) -> bool:
    """True for a file name without a folder part (not "", ".", ".." or a path)."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and not any(c in name for c in "/\\\0")
    )


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ReportBuildError(f"--out {out} is a file; give a folder for the report site")
    if out.is_dir() and any(out.iterdir()) and not (out / SITE_MARKER).is_file():
        raise ReportBuildError(
            f"--out {out} exists, is not empty and is not a report site (no {SITE_MARKER} "
            "file); choose a new or empty folder"
        )


@contextlib.contextmanager
def _site_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the site folder (created if missing) for one build.

    ``flock`` on the folder itself, so the lock leaves no file behind; where ``fcntl`` does not
    exist (Windows) builds are not locked against each other.
    """
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_RDONLY)
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            pass
        else:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ReportBuildError(
                    f"another report build is writing to {out}; wait for it to finish (or stop "
                    "it) and build again"
                ) from None
        yield
    finally:
        os.close(fd)
        if created:  # a first build that wrote nothing leaves no empty folder behind
            with contextlib.suppress(OSError):
                out.rmdir()


def _temp_folders(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f"{glob.escape(out.name)}.tmp-*"))


def _make_temp(out: Path) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f"{out.name}.tmp-", dir=out.parent))
    (tmp / TEMP_MARKER).write_text(f"{out}\n", encoding="utf-8")
    return tmp


def _remove_temp(tmp: Path) -> None:
    """Remove a temporary build folder, its marker last (a half-removed one is still known)."""
    for child in tmp.iterdir():
        if child.name == TEMP_MARKER:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                child.unlink()
    with contextlib.suppress(OSError):
        (tmp / TEMP_MARKER).unlink()
    with contextlib.suppress(OSError):
        tmp.rmdir()


def _remove_stale_temps(out: Path) -> list[Path]:
    """Remove temporary folders of earlier builds of ``out`` that were killed (lock held)."""
    removed = []
    for tmp in _temp_folders(out):
        if not tmp.is_dir() or tmp.is_symlink():
            continue
        marker = tmp / TEMP_MARKER
        try:
            ours = marker.read_text(encoding="utf-8").strip() == str(out)
        except OSError:
            ours = not any(tmp.iterdir())  # created, killed before the marker was written
        if ours:
            _remove_temp(tmp)
            removed.append(tmp)
    return removed


def _previous(folder: Path) -> tuple[str | None, str | None]:
    """(status, fingerprint text) of a run in the previous site, or (None, None)."""
    if not all((folder / f).is_file() for f in RUN_FILES):
        return None, None
    try:
        status = json.loads((folder / "results.json").read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError, AttributeError):
        return None, None
    fp = folder / FINGERPRINT_FILE
    return status, (fp.read_text(encoding="utf-8") if fp.is_file() else None)


def _commit(
    tmp: Path, out: Path, built: Sequence[str], removed: Sequence[str], old: _Manifest
) -> dict[str, list[str]]:
    """Move the new run folders, the index and the manifest from ``tmp`` into ``out``.

    A rebuilt run's folder replaces the old one; files in the old folder that the build did not
    make are moved into the new one. A removed run loses only the build's files (its folder
    goes when nothing else is left). Returns, per removed run, the files that were kept.
    """
    trash = tmp / ".replaced"
    trash.mkdir()
    for name in built:
        new, dest = tmp / name, out / name
        if dest.is_dir() and not dest.is_symlink():
            ours = set(old.runs.get(name, ())) | set(BUILD_FILES)
            for child in dest.iterdir():
                if child.name not in ours and not (new / child.name).exists():
                    os.rename(child, new / child.name)
        if dest.exists() or dest.is_symlink():
            os.rename(dest, trash / name)
        os.rename(new, dest)
    kept: dict[str, list[str]] = {}
    for name in removed:
        dest = out / name
        if not dest.is_dir() or dest.is_symlink():
            continue
        (trash / name).mkdir()
        for f in old.runs.get(name, ()):
            if (dest / f).is_file():
                os.rename(dest / f, trash / name / f)
        others = sorted(p.name for p in dest.iterdir())
        if others:
            kept[name] = others
        else:
            dest.rmdir()
    os.replace(tmp / "index.html", out / "index.html")
    os.replace(tmp / SITE_MARKER, out / SITE_MARKER)
    return kept


def _check_foreign_folder(name: str, dest: Path) -> None:
    """Refuse a run whose folder exists in the site but is not the build's (not in the manifest).

    A folder holding none of the files a build writes is taken over as for a rebuilt run: its
    files stay (e.g. the notes left in the folder of a run that was dropped and is back).
    """
    if not (dest.exists() or dest.is_symlink()):
        return
    if dest.is_dir() and not dest.is_symlink():
        clash = [f for f in BUILD_FILES if (dest / f).exists() or (dest / f).is_symlink()]
        if not clash:
            return
        what = f"holds {', '.join(clash)}, which the build would replace,"
    else:
        what = "exists, is not a folder"
    raise ReportBuildError(
        f"run '{name}': {dest} {what} and was not made by a report build (not in "
        f"{SITE_MARKER}); rename the run in the matrix or move that folder away"
    )


def _task(run: Run, dest: Path) -> RunTask:
    return RunTask(
        name=run.name,
        title=run.label,
        notebook=run.notebook,
        notebook_path=str(run.notebook_path),
        parameters=dict(run.parameters),
        cwd=str(run.notebooks_dir),
        timeout=run.timeout,
        dest=str(dest),
    )


# --------------------------------------------------------------------------- the build


def build_reports(
    *,
    matrix: str | Path | None = None,
    out: str | Path | None = None,
    only: Sequence[str] = (),
    jobs: int = 1,
    force: bool = False,
    progress: bool = True,
) -> BuildResult:
    """Execute the run matrix and write the report site; see the module docstring.

    Returns a :class:`BuildResult` (``exit_code`` 1 when a run failed); raises
    :class:`~analysis.reports.matrix.RunMatrixError` before running anything if the matrix is
    invalid or empty, :class:`ReportBuildError` if the output folder is unusable or another
    build holds it, :class:`BuildInterrupted` on SIGINT or SIGTERM.
    """
    started = time.perf_counter()
    config.resolve_environment()  # kernels run in notebooks/: they get absolute paths
    matrix_path = Path(matrix).absolute() if matrix is not None else config.run_matrix_path()
    runs = load_matrix(matrix_path)
    if jobs < 1:
        raise SpecificationError(f"--jobs {jobs}: give a number of parallel runs >= 1")
    names = [r.name for r in runs]
    for name in only:
        if name not in names:
            raise SpecificationError(
                f"--only {name}: no run of that name in {matrix_path}{_suggest(name, names)}; "
                f"runs: {', '.join(names) or '(none)'}"
            )
    out = Path(out) if out is not None else config.reports_dir()
    out = out.expanduser().absolute()
    _check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _site_lock(out), _Signals() as signals:
        try:
            return _build_locked(runs, out, only, jobs, force, progress, signals, started)
        except BuildInterrupted as exc:
            exc.out = out
            raise


def _build_locked(
    runs: Sequence[Run],
    out: Path,
    only: Sequence[str],
    jobs: int,
    force: bool,
    progress: bool,
    signals: _Signals,
    started: float,
) -> BuildResult:
    with signals.deferred():
        _remove_stale_temps(out)
    old = _read_manifest(out)
    names = {r.name for r in runs}
    for r in runs:
        if r.name not in old.runs:
            _check_foreign_folder(r.name, out / r.name)
    removed = sorted(n for n in old.runs if n not in names)

    environment = environment_components()
    fingerprints = {
        r.name: run_fingerprint(r.notebook_path, r.parameters, r.label, environment) for r in runs
    }
    selected = {r.name for r in runs if not only or r.name in only}
    previous = {r.name: _previous(out / r.name) for r in runs}
    plan: dict[str, str] = {}  # name -> "run", "skip", "keep", "missing"
    for r in runs:
        status, fp = previous[r.name]
        if r.name in selected:
            unchanged = status == "ok" and fp == fingerprints[r.name]
            plan[r.name] = "skip" if unchanged and not force else "run"
        else:
            plan[r.name] = "keep" if status is not None else "missing"

    with signals.deferred():
        tmp = _make_temp(out)
    bar = _Progress(len(selected), progress)
    interrupted = False
    try:
        outcomes: dict[str, RunOutcome] = {}
        for r in runs:
            if plan[r.name] == "skip":
                outcomes[r.name] = RunOutcome(r.name, "skipped-unchanged")
                bar.done(outcomes[r.name])
        tasks = [_task(r, tmp / r.name) for r in runs if plan[r.name] == "run"]
        for outcome in _execute(tasks, jobs, bar):
            outcomes[outcome.name] = outcome
        built = [r.name for r in runs if plan[r.name] == "run"]
        if tasks:  # what the runs saw at the end (e.g. series imported into the cache on demand)
            after = environment_components()
            for r in runs:
                if plan[r.name] == "run":
                    text = run_fingerprint(r.notebook_path, r.parameters, r.label, after)
                    atomic_write_text(tmp / r.name / FINGERPRINT_FILE, text)
        entries = []
        manifest = _Manifest(["index.html"])
        for r in runs:
            folder = tmp / r.name if r.name in built else out / r.name
            if r.name not in outcomes:
                status = "kept" if plan[r.name] == "keep" else "not-built"
                outcomes[r.name] = RunOutcome(r.name, status)
            outcome = outcomes[r.name]
            entries.append(_index_entry(r, outcome, folder, previous[r.name], fingerprints[r.name]))
            if r.name in built:
                manifest.runs[r.name] = sorted(p.name for p in folder.iterdir())
            elif r.name in old.runs:
                manifest.runs[r.name] = old.runs[r.name]
        from analysis.reports.site import render_index

        atomic_write_text(tmp / "index.html", render_index(entries))
        atomic_write_text(tmp / SITE_MARKER, manifest.dumps())
        with signals.deferred():
            kept = _commit(tmp, out, built, removed, old)
        for name in removed:
            note = (
                f"; kept files not made by the build: {', '.join(kept[name])}"
                if name in kept
                else ""
            )
            bar.line(f"{name}: removed (no longer in the run matrix){note}")
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        raise
    finally:
        with signals.deferred():
            bar.close(clear=interrupted)
            _remove_temp(tmp)
    if signals.pending is not None:
        raise BuildInterrupted(signals.pending, out, site_written=True)
    ordered = tuple(outcomes[r.name] for r in runs)
    return BuildResult(out, ordered, time.perf_counter() - started, tuple(removed))


def _index_entry(
    run: Run,
    outcome: RunOutcome,
    folder: Path,
    previous: tuple[str | None, str | None],
    fingerprint: str,
) -> Any:
    from analysis.reports.site import IndexEntry

    doc: dict[str, Any] = {}
    if (folder / "results.json").is_file():
        doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    note = ""
    if outcome.status == "kept":
        prev_status, prev_fp = previous
        note = f"previous build: {prev_status}"
        if prev_fp != fingerprint:
            note += "; out of date (inputs changed since)"
    error = outcome.error
    if error is None and doc.get("error"):
        error = f"{doc['error'].get('ename')}: {doc['error'].get('evalue')}"
    if error:  # the first line; the run page and results.json hold all of it
        lines = error.strip().splitlines()
        error = lines[0] if lines else error
        if len(error) > 300:
            error = error[:297] + "..."
    return IndexEntry(
        name=run.name,
        title=doc.get("title", run.label),
        notebook=doc.get("notebook", run.notebook),
        status=outcome.status,
        parameters=doc.get("parameters", dict(run.parameters)),
        results=doc.get("results"),
        error=error,
        note=note,
        has_page=(folder / "index.html").is_file(),
        has_notebook=(folder / "executed.ipynb").is_file(),
        has_results=(folder / "results.json").is_file(),
    )
