"""``python -m analysis report``: build the run matrix into the HTML report site."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` command."""
    p = subparsers.add_parser(
        "report",
        help="execute the notebooks of the run matrix and write the HTML reports",
        description=(
            "Execute every run of the run matrix (notebooks/runs.yaml) with papermill and write "
            "<out>/<run>/{executed.ipynb,index.html,results.json} and <out>/index.html. Runs "
            "whose inputs are unchanged since their last good build are skipped. Only files the "
            "build made are replaced; a run's folder is removed only when the matrix no longer "
            "has the run. Notebooks run in this Python, whatever Jupyter kernels are installed. "
            "Exit status: 0 all runs ok, 1 a run failed (the others are still built), 2 bad "
            "input, 130/143 interrupted by SIGINT/SIGTERM (the previous site is left as it was)."
        ),
    )
    p.add_argument(
        "--only",
        metavar="NAME",
        nargs="+",
        action="extend",
        default=[],
        help="build only these runs (keep the others from the previous site)",
    )
    p.add_argument(
        "--jobs", "-j", type=int, default=1, metavar="N", help="runs in parallel (processes)"
    )
    p.add_argument(
        "--out", type=Path, default=None, metavar="DIR", help="site folder (default: reports/)"
    )
    p.add_argument("--force", action="store_true", help="rerun runs whose inputs are unchanged")
    p.add_argument(
        "--matrix",
        type=Path,
        default=None,
        metavar="FILE",
        help="run matrix (default: notebooks/runs.yaml); notebooks are relative to its folder",
    )
    p.add_argument(
        "--fresh-kernels",
        action="store_true",
        help="start a new Python for every run instead of forking it from a warm server "
        "(slower; the pages are the same)",
    )
    p.add_argument(
        "--list",
        action="store_true",
        help="print the runs a build would make (name, title, and the commands that regenerate "
        "each) and exit without running anything",
    )
    p.set_defaults(func=_run)


def _list(matrix: Path | None) -> int:
    from analysis import config
    from analysis.reports.matrix import load_matrix, run_commands

    config.resolve_environment()
    runs = load_matrix(matrix.absolute() if matrix is not None else None)
    for run in runs:
        build, papermill = run_commands(run)
        print(f"{run.name}: {run.label}\n    {build}\n    {papermill}")
    print(f"{len(runs)} runs")
    return 0


def _run(args: argparse.Namespace) -> int:
    from analysis.reports.execution import skip_iri_grammar

    skip_iri_grammar()  # before anything imports nbformat
    from analysis.reports.runner import BuildInterrupted, build_reports

    if args.list:
        return _list(args.matrix)
    try:
        result = build_reports(
            matrix=args.matrix,
            out=args.out,
            only=args.only,
            jobs=args.jobs,
            force=args.force,
            warm_kernels=not args.fresh_kernels,
        )
    except BuildInterrupted as exc:  # one line, no traceback; 130 for SIGINT, 143 for SIGTERM
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    for outcome in result.failed:
        first = (outcome.error or "").strip().splitlines()[:1]
        print(
            f"failed: {outcome.name}: {''.join(first)} "
            f"(see {result.out / outcome.name / 'index.html'})",
            file=sys.stderr,
        )
    print(result.status_line())
    return result.exit_code
