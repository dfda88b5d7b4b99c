"""Time the report site build against a baseline commit, in the same sitting.

Builds the site of the working tree and of ``--baseline`` (a git commit, checked out into a
temporary worktree) from the same warm price cache, offline, with ``--jobs 2``: a full build
(``--force``) and a rebuild of one run (``--only RUN --force``). Prints the wall times and the
ratios baseline / current. Run by hand from the project folder, e.g.

    ANALYSIS_PRICES_DIR=../shared/data/prices ANALYSIS_HARDWARE_DIR=../shared/data/hardware_series \\
        .venv/bin/python benchmarks/bench_reports.py --baseline 76b28fa
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _build(checkout: Path, out: Path, cache: Path, *extra: str) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        ANALYSIS_HOME=str(checkout),
        ANALYSIS_CACHE_DIR=str(cache),
        ANALYSIS_OFFLINE="1",
        MPLBACKEND="Agg",
        PYTHONPATH=str(checkout / "src"),
    )
    for var in ("ANALYSIS_PRICES_DIR", "ANALYSIS_HARDWARE_DIR"):
        if var in env:
            env[var] = str(Path(env[var]).resolve())
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "report", "--jobs", "2", "--out", str(out), *extra],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"build in {checkout} failed:\n{done.stderr[-2000:]}")
    return seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", required=True, help="git commit to compare with")
    p.add_argument("--run", default="fact_check", help="the run rebuilt alone (default fact_check)")
    args = p.parse_args()
    if "ANALYSIS_PRICES_DIR" not in os.environ:
        raise SystemExit(
            "set ANALYSIS_PRICES_DIR (and ANALYSIS_HARDWARE_DIR): the build is offline"
        )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = root / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base), args.baseline],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        try:
            cache = root / "cache"
            _build(REPO, root / "warm", cache)  # fills the price cache for both
            rows = []
            for label, checkout in (("baseline", base), ("current", REPO)):
                out = root / f"site-{label}"
                full = _build(checkout, out, cache, "--force")
                one = _build(checkout, out, cache, "--force", "--only", args.run)
                rows.append((label, full, one))
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(base)], cwd=REPO, capture_output=True
            )
            shutil.rmtree(base, ignore_errors=True)
    (_, bf, bo), (_, cf, co) = rows
    print(f"{'':10} {'full build':>12} {'one run':>10}")
    for label, full, one in rows:
        print(f"{label:10} {full:10.1f} s {one:8.1f} s")
    print(f"{'ratio':10} {bf / cf:11.2f}x {bo / co:9.2f}x   (baseline / current)")


if __name__ == "__main__":
    main()
