"""Build the report site: execute the run matrix with papermill and write static HTML.

Layout of the site (default :func:`analysis.config.reports_dir`)::

    <out>/index.html                  every run: status, parameters, headline figures, links
    <out>/<run>/executed.ipynb        the executed notebook (with the traceback if it failed)
    <out>/<run>/index.html            the notebook as HTML without code cells
    <out>/<run>/results.json          name, title, notebook, parameters, status, error, results
    <out>/<run>/fingerprint.txt       what the run was built from (see .fingerprint)
    <out>/.analysis-report-site       the manifest: JSON listing the files the build made

Every notebook runs in the interpreter the build was started from (:mod:`.kernel`), whatever
kernels Jupyter has installed; each in a kernel of its own, forked from a server that has done
the notebooks' imports once per build (``warm_kernels=False``: a new interpreter per run). Runs are executed into a sibling temporary folder
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

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis import config
from analysis._io import atomic_write_text
from analysis.errors import SpecificationError
from analysis.reports import kernel
from analysis.reports.execution import (
    BuildInterrupted,
    RunOutcome,
    RunTask,
    _execute,
    _Progress,
    _Signals,
)
from analysis.reports.fingerprint import (
    FINGERPRINT_FILE,
    environment_components,
    run_fingerprint,
)
from analysis.reports.matrix import Run, _suggest, load_matrix, run_commands
from analysis.reports.sitefolder import (
    ROOT_PAGES,
    SITE_MARKER,
    _check_foreign_folder,
    _check_foreign_root_pages,
    _check_out,
    _commit,
    _make_temp,
    _Manifest,
    _previous,
    _read_manifest,
    _remove_stale_temps,
    _remove_temp,
    _site_lock,
)


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
        commands=run_commands(run),
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
    warm_kernels: bool = True,
) -> BuildResult:
    """Execute the run matrix and write the report site; see the module docstring.

    Returns a :class:`BuildResult` (``exit_code`` 1 when a run failed); raises
    :class:`~analysis.reports.matrix.RunMatrixError` before running anything if the matrix is
    invalid or empty, :class:`ReportBuildError` if the output folder is unusable or another
    build holds it, :class:`BuildInterrupted` on SIGINT or SIGTERM.
    """
    started = time.perf_counter()
    config.resolve_environment()  # kernels run in notebooks/: they get absolute paths
    with kernel.warm_kernels(warm_kernels) as server:  # imports while the runs are prepared
        return _build(matrix, out, only, jobs, force, progress, started, server)


def _build(
    matrix: str | Path | None,
    out: str | Path | None,
    only: Sequence[str],
    jobs: int,
    force: bool,
    progress: bool,
    started: float,
    server: str | None,
) -> BuildResult:
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
            return _build_locked(runs, out, only, jobs, force, progress, signals, started, server)
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
    server: str | None,
) -> BuildResult:
    with signals.deferred():
        _remove_stale_temps(out)
    old = _read_manifest(out)
    _check_foreign_root_pages(out, old)
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
        # the front page is the longest run: started first, it does not hold up the build's end
        order = sorted(runs, key=lambda r: not r.front_page)
        tasks = [_task(r, tmp / r.name) for r in order if plan[r.name] == "run"]
        for outcome in _execute(tasks, jobs, bar, server):
            outcomes[outcome.name] = outcome
        built = [r.name for r in runs if plan[r.name] == "run"]
        if tasks:  # what the runs saw at the end (e.g. series imported into the cache on demand)
            after = environment_components()
            for r in runs:
                if plan[r.name] == "run":
                    text = run_fingerprint(r.notebook_path, r.parameters, r.label, after)
                    atomic_write_text(tmp / r.name / FINGERPRINT_FILE, text)
        entries = []
        manifest = _Manifest(list(ROOT_PAGES))
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

        status_page = render_index(entries)
        front = _front_page(
            runs, entries, {r.name: tmp / r.name if r.name in built else out / r.name for r in runs}
        )
        atomic_write_text(tmp / "index.html", front or status_page)
        atomic_write_text(tmp / "build.html", status_page)
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


def _front_page(
    runs: Sequence[Run], entries: Sequence[Any], folders: dict[str, Path]
) -> str | None:
    """The site's front page from the run marked ``front_page`` (None when there is none, or
    its page is missing or failed: the build status is the front page then)."""
    from analysis.reports.frontpage import front_page_html

    for run, entry in zip(runs, entries, strict=True):
        page = folders[run.name] / "index.html"
        if run.front_page and entry.error is None and entry.has_results and page.is_file():
            return front_page_html(page.read_text(encoding="utf-8"), run.name, entries)
    return None


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
