"""Every report page shows the plain papermill command that regenerates it: copied and run from
the project folder, it reproduces the page's results.json (string, number and list parameters)."""

from __future__ import annotations

import html
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from analysis.reports.matrix import load_matrix, run_commands
from analysis.reports.results import extract_results
from analysis.reports.runner import build_reports

pytestmark = [pytest.mark.notebooks, pytest.mark.realdata]

REPO = Path(__file__).resolve().parents[1]
RUNS = ("nvda_e08", "china_exposure", "retail_gpu")


@pytest.fixture(scope="module")
def built(tmp_path_factory, shared_prices_dir, shared_hardware_dir):
    root = tmp_path_factory.mktemp("regen")
    env = {
        "ANALYSIS_CACHE_DIR": str(root / "cache"),
        "ANALYSIS_PRICES_DIR": str(shared_prices_dir),
        "ANALYSIS_HARDWARE_DIR": str(shared_hardware_dir),
        "ANALYSIS_OFFLINE": "1",
        "MPLBACKEND": "Agg",
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        result = build_reports(out=root / "site", only=RUNS, jobs=2, progress=False)
    assert {o.name: o.status for o in result.outcomes if o.name in RUNS} == dict.fromkeys(
        RUNS, "ok"
    )
    return root, env


@pytest.mark.parametrize("name", RUNS)
def test_the_pages_papermill_command_reproduces_its_results(built, name):
    root, env = built
    run = {r.name: r for r in load_matrix()}[name]
    command = run_commands(run)[1]
    page = (root / "site" / name / "index.html").read_text(encoding="utf-8")
    assert command in html.unescape(page)  # the page shows exactly this command
    words = shlex.split(command)
    assert words[0] == "papermill" and words[2] == f"{name}.ipynb"
    out = root / "papermill" / f"{name}.ipynb"
    out.parent.mkdir(exist_ok=True)
    words[0], words[2] = str(Path(sys.executable).parent / "papermill"), str(out)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANALYSIS_")}
    done = subprocess.run(
        words, cwd=REPO, env={**clean, **env}, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    again = extract_results(nbformat.read(out, as_version=4))
    published = json.loads((root / "site" / name / "results.json").read_text(encoding="utf-8"))
    assert again == published["results"]
