"""Build the report site: execute the run matrix with papermill and write static HTML.

Layout of the site (default :func:`analysis.config.reports_dir`)::

    <out>/index.html                  every run: status, parameters, headline figures, links
    <out>/<run>/executed.ipynb        the executed notebook (with the traceback if it failed)
    <out>/<run>/index.html            the notebook as HTML without code cells
    <out>/<run>/results.json          name, title, notebook, parameters, status, error, results
    <out>/<run>/fingerprint.txt       what the run was built from (see .fingerprint)

The build is written into a sibling temporary folder and swapped into place at the end, so an
interrupted or crashed build leaves the previous site as it was. Runs whose fingerprint matches
their last good build are copied over instead of executed (``--force`` reruns them); a failed run
is never skipped; runs left out by ``--only`` are kept from the previous site.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis import config
from analysis.errors import AnalysisError, SpecificationError
from analysis.reports import results as _results
from analysis.reports.fingerprint import (
    FINGERPRINT_FILE,
    environment_components,
    run_fingerprint,
)
from analysis.reports.matrix import Run, _suggest, load_matrix

KERNEL_NAME = "python3"
SITE_MARKER = ".analysis-report-site"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
RUN_FILES = ("executed.ipynb", "index.html", "results.json")


class ReportBuildError(AnalysisError):
    """The report site cannot be built where or how it was asked."""


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

    @property
    def failed(self) -> tuple[RunOutcome, ...]:
        """Runs executed in this build that failed."""
        return tuple(o for o in self.outcomes if o.status == "failed")

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        text = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no runs"
        return f"{self.out / 'index.html'}: {text} ({self.seconds:.1f} s)"


# --------------------------------------------------------------------------- kernel


def check_kernel(name: str = KERNEL_NAME) -> None:
    """Make sure Jupyter's ``python3`` kernel runs this environment's Python.

    Raises :class:`ReportBuildError` naming both interpreters otherwise (a user-level kernel of
    another Python would run the notebooks without this package or with other versions).
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    fix = f"{sys.executable} -m ipykernel install --sys-prefix --name {name}"
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise ReportBuildError(
            f"no Jupyter kernel named '{name}'; install it with: {fix}"
        ) from None
    exe = spec.argv[0] if spec.argv else ""
    resolved = exe if os.path.isabs(exe) else shutil.which(exe)
    ours = os.path.dirname(os.path.abspath(sys.executable))
    try:
        same = bool(resolved) and os.path.samefile(os.path.dirname(str(resolved)), ours)
    except OSError:
        same = False
    if not same:
        raise ReportBuildError(
            f"the Jupyter kernel '{name}' ({spec.resource_dir}) runs {exe or '(nothing)'}, not this "
            f"environment's {sys.executable}; install this environment's kernel with: {fix}"
        )


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


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_text(path: Path, text: str) -> None:
    """Atomic write: temp file in the same folder, then ``os.replace`` (mode as by ``open``)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
    _write_text(dest / "index.html", page)
    _write_text(
        dest / "results.json", _results.dumps(_results_document(task, status, error, results))
    )
    return RunOutcome(task.name, status, seconds, message, results)


# --------------------------------------------------------------------------- the build


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


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ReportBuildError(f"--out {out} is a file; give a folder for the report site")
    if out.is_dir() and any(out.iterdir()) and not (out / SITE_MARKER).is_file():
        raise ReportBuildError(
            f"--out {out} exists and is not a report site (no {SITE_MARKER} file): the build "
            "replaces the whole folder, so choose a new or empty folder"
        )


def _swap(new: Path, out: Path) -> None:
    """Put ``new`` in place of ``out``: rename the old site aside, rename, then delete it."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f"{out.name}.old-", dir=out.parent))
        old.rmdir()
        os.rename(out, old)
    try:
        os.rename(new, out)
    except BaseException:
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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


def _execute(tasks: Sequence[RunTask], jobs: int, report: Any) -> list[RunOutcome]:
    if jobs <= 1 or len(tasks) <= 1:
        outcomes = []
        for task in tasks:
            report.start(task.name)
            outcome = _execute_one(task)
            report.done(outcome)
            outcomes.append(outcome)
        return outcomes
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding zmq sockets
    outcomes = []
    executor = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=ctx)
    try:
        futures = {executor.submit(_execute_one, task): task for task in tasks}
        report.start(f"{len(tasks)} runs on {min(jobs, len(tasks))} workers")
        for future in as_completed(futures):
            task = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the worker process died
                outcome = RunOutcome(task.name, "failed", 0.0, f"{type(exc).__name__}: {exc}")
            report.done(outcome)
            outcomes.append(outcome)
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
    return outcomes


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

    def done(self, outcome: RunOutcome, note: str = "") -> None:
        if outcome.status == "skipped-unchanged":
            line = f"{outcome.name}: skipped (unchanged)"
        elif outcome.status == "ok":
            line = f"{outcome.name}: ok in {outcome.seconds:.1f} s"
        else:
            first = (outcome.error or "").strip().splitlines()[:1]
            line = f"{outcome.name}: FAILED in {outcome.seconds:.1f} s: {''.join(first)}"
        if self.enabled:
            self.bar.write(line + note, file=sys.stderr)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


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
    invalid, :class:`ReportBuildError` if the output folder or the kernel is unusable.
    """
    started = time.perf_counter()
    matrix_path = Path(matrix) if matrix is not None else config.run_matrix_path()
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
    if "run" in plan.values():
        check_kernel()

    tmp = Path(tempfile.mkdtemp(prefix=f"{out.name}.tmp-", dir=out.parent))
    bar = _Progress(len(selected), progress)
    try:
        outcomes: dict[str, RunOutcome] = {}
        for r in runs:
            if plan[r.name] in ("skip", "keep"):
                shutil.copytree(out / r.name, tmp / r.name)
            if plan[r.name] == "skip":
                outcomes[r.name] = RunOutcome(r.name, "skipped-unchanged")
                bar.done(outcomes[r.name])
        tasks = [_task(r, tmp / r.name) for r in runs if plan[r.name] == "run"]
        for outcome in _execute(tasks, jobs, bar):
            outcomes[outcome.name] = outcome
        if tasks:  # what the runs saw at the end (e.g. series imported into the cache on demand)
            after = environment_components()
            for r in runs:
                if plan[r.name] == "run":
                    text = run_fingerprint(r.notebook_path, r.parameters, r.label, after)
                    _write_text(tmp / r.name / FINGERPRINT_FILE, text)
        entries = []
        for r in runs:
            outcome = outcomes.get(r.name)
            if outcome is None:
                status = "kept" if plan[r.name] == "keep" else "not-built"
                outcome = RunOutcome(r.name, status)
                outcomes[r.name] = outcome
            entries.append(
                _index_entry(r, outcome, tmp / r.name, previous[r.name], fingerprints[r.name])
            )
        from analysis.reports.site import render_index

        _write_text(tmp / "index.html", render_index(entries))
        _write_text(tmp / SITE_MARKER, "report site written by `python -m analysis report`\n")
        os.chmod(tmp, 0o777 & ~_umask())
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        bar.close()
    ordered = tuple(outcomes[r.name] for r in runs)
    return BuildResult(out, ordered, time.perf_counter() - started)


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
