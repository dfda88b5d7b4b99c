"""The kernel of a report build is this interpreter, whatever Jupyter kernels are installed; plain
papermill keeps working with the notebooks' ``python3`` kernel in this environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import analysis as an
from analysis.reports import fingerprint
from analysis.reports.results import extract_results
from analysis.reports.runner import build_reports

pytestmark = pytest.mark.notebooks

REPO = Path(__file__).resolve().parents[1]
OTHER_PYTHON = Path("/usr/bin/python3")  # the system's Python, not this environment's
PAPERMILL = Path(sys.executable).parent / "papermill"
PROBE = """\
import sys

from analysis.reports.notebook import publish_results

publish_results({"n": n, "python": sys.executable})
"""


def _probe(path: Path) -> None:
    nb = new_notebook(
        cells=[
            new_code_cell("n = 1  # a number", metadata={"tags": ["parameters"]}),
            new_code_cell(PROBE),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, path)


def _other_python() -> bool:
    """True when OTHER_PYTHON exists and is not the interpreter running the tests."""
    return OTHER_PYTHON.is_file() and OTHER_PYTHON.resolve() != Path(sys.executable).resolve()


@pytest.fixture
def foreign_kernel(tmp_path, monkeypatch) -> Path:
    """A HOME and JUPYTER_PATH whose ``python3`` kernel runs another Python."""
    if not _other_python():
        pytest.skip(f"needs {OTHER_PYTHON}, another Python than this environment's")
    home = tmp_path / "home"
    spec = {
        "argv": [str(OTHER_PYTHON), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (system)",
        "language": "python",
    }
    for root in (home / ".local" / "share" / "jupyter", tmp_path / "jupyter_path"):
        (root / "kernels" / "python3").mkdir(parents=True)
        (root / "kernels" / "python3" / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter_path"))
    for name in ("JUPYTER_DATA_DIR", "XDG_DATA_HOME", "JUPYTER_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    from jupyter_client.kernelspec import KernelSpecManager

    # what Jupyter (and plain papermill) would now start for the notebooks' kernel
    assert KernelSpecManager().get_kernel_spec("python3").argv[0] == str(OTHER_PYTHON)
    return home


@pytest.mark.parametrize("jobs", [1, 2])
def test_build_runs_in_this_python_despite_a_user_kernel_of_another(
    foreign_kernel, tmp_path, monkeypatch, jobs
):
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    _probe(project / "notebooks" / "probe.ipynb")
    matrix = project / "notebooks" / "runs.yaml"
    matrix.write_text(
        "- name: one\n  notebook: probe.ipynb\n  parameters: {n: 1}\n"
        "- name: two\n  notebook: probe.ipynb\n  parameters: {n: 2}\n"
    )
    monkeypatch.setenv("ANALYSIS_HOME", str(project))
    monkeypatch.setattr(fingerprint, "source_digest", lambda: "0" * 64)
    result = build_reports(matrix=matrix, out=project / "site", jobs=jobs, progress=False)
    assert [(o.name, o.status, o.error) for o in result.outcomes] == [
        ("one", "ok", None),
        ("two", "ok", None),
    ]
    for n, name in enumerate(("one", "two"), start=1):
        nb = nbformat.read(project / "site" / name / "executed.ipynb", as_version=4)
        assert extract_results(nb) == {"n": n, "python": sys.executable}


@pytest.mark.realdata
def test_plain_papermill_runs_the_event_study_in_this_environment(real_prices, tmp_path):
    """``papermill notebooks/event_study.ipynb out.ipynb -p ...`` outside the report build."""
    out = tmp_path / "out.ipynb"
    done = subprocess.run(
        [
            str(PAPERMILL),
            str(REPO / "notebooks" / "event_study.ipynb"),
            str(out),
            "-p",
            "symbol",
            "NVDA",
            "-p",
            "event",
            "E08",
            "-p",
            "robustness",
            "False",
            "--cwd",
            str(REPO / "notebooks"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    res = extract_results(nb)
    car = an.event_study("NVDA", "E08", market="SPY-ex-firm", exclude="events,earnings").car()
    assert res["day0"] == "2023-10-17"
    assert res["car"] == pytest.approx(car.estimate["NVDA"], rel=1e-9)
    assert res["pvalue"] == pytest.approx(car.pvalue["NVDA"], rel=1e-9)
    assert res["n_estimation"] == 240


# --------------------------------------------------------------------------- warm kernels

STATE_PROBE = """\
import os
import random
import signal
import sys

import numpy as np

from analysis.reports.notebook import publish_results

before = sorted(k for k in globals() if not k.startswith("_"))
publish_results({
    "n": n,
    "preloaded": "analysis.eventstudy" in sys.modules,
    "cwd": os.getcwd(),
    "path0": sys.path[0],
    "argv": [os.path.basename(sys.argv[0]), *sys.argv[1:2]],
    "own_session": os.getsid(0) == os.getpid(),
    "sigchld_default": signal.getsignal(signal.SIGCHLD) == signal.SIG_DFL,
    "sigpipe_ignored": signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN,
    "sigint_python": signal.getsignal(signal.SIGINT) is signal.default_int_handler,
    "mplbackend": os.environ.get("MPLBACKEND"),
    "home": os.environ.get("ANALYSIS_HOME"),
    "names": [k for k in before if k not in ("In", "Out", "exit", "quit", "get_ipython", "open")],
    "draw": [random.random(), float(np.random.random())],
})
"""


def _state_build(project: Path, warm: bool, jobs: int) -> dict[str, dict]:
    nb = new_notebook(
        cells=[
            new_code_cell("n = 1  # a number", metadata={"tags": ["parameters"]}),
            new_code_cell(STATE_PROBE),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, project / "notebooks" / "state.ipynb")
    matrix = project / "notebooks" / "runs.yaml"
    matrix.write_text(
        "- name: one\n  notebook: state.ipynb\n  parameters: {n: 1}\n"
        "- name: two\n  notebook: state.ipynb\n  parameters: {n: 2}\n"
    )
    out = project / ("warm" if warm else "fresh")
    result = build_reports(
        matrix=matrix, out=out, jobs=jobs, progress=False, force=True, warm_kernels=warm
    )
    assert [o.status for o in result.outcomes] == ["ok", "ok"], result.outcomes
    return {
        name: extract_results(nbformat.read(out / name / "executed.ipynb", as_version=4))
        for name in ("one", "two")
    }


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warm server forks (Linux)")
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_warm_kernel_is_a_fresh_kernel_with_the_imports_done(tmp_path, monkeypatch, jobs):
    """Kernels forked from the warm server start as a new ``python -m ipykernel_launcher`` would:
    the notebook's folder as cwd and sys.path[0], their own session, default signal handlers, the
    same environment, nothing in the namespace, their own random draws; only the imports differ."""
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    monkeypatch.setenv("ANALYSIS_HOME", str(project))
    monkeypatch.setattr(fingerprint, "source_digest", lambda: "0" * 64)
    warm = _state_build(project, True, jobs)
    fresh = _state_build(project, False, jobs)
    for name in ("one", "two"):
        assert warm[name]["preloaded"] is True  # the warm path was taken
        assert fresh[name]["preloaded"] is False
        a = {k: v for k, v in warm[name].items() if k not in ("preloaded", "draw")}
        b = {k: v for k, v in fresh[name].items() if k not in ("preloaded", "draw")}
        assert a == b
    notebooks = str(project / "notebooks")
    assert warm["one"]["cwd"] == notebooks != warm["one"]["path0"]
    assert warm["one"]["argv"] == ["ipykernel_launcher.py", "-f"]
    assert warm["one"]["own_session"] and warm["one"]["sigchld_default"]
    assert warm["one"]["sigpipe_ignored"] and warm["one"]["sigint_python"]
    assert warm["one"]["mplbackend"] == "module://matplotlib_inline.backend_inline"
    assert warm["one"]["names"] == fresh["one"]["names"]
    assert warm["one"]["draw"] != warm["two"]["draw"]  # each fork reseeds its generators


def test_the_warm_server_serves_only_its_own_environment():
    from analysis.reports._warmkernel import environment_mismatch

    own = {"PATH": "/bin", "ANALYSIS_HOME": "/p"}
    assert environment_mismatch({**own, "JPY_PARENT_PID": "7"}, own) == []
    assert environment_mismatch({"PATH": "/bin", "ANALYSIS_HOME": "/q"}, own) == ["ANALYSIS_HOME"]
    assert environment_mismatch({"PATH": "/bin"}, own) == ["ANALYSIS_HOME"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_forked_kernel_handle_follows_its_process():
    from analysis.reports.kernel import ForkedKernel

    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        handle = ForkedKernel(proc.pid)
        assert handle.poll() is None
        handle.kill()
        proc.wait(timeout=10)  # reaped here, as the server reaps its children
        assert handle.wait(timeout=5) == 0
        assert handle.poll() == 0
        handle.kill()  # a process that is gone is not signalled (its pid may be reused)
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_build_leaves_no_server_or_kernel_behind(tmp_path, monkeypatch):
    import os

    from analysis.reports.execution import descendants

    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    monkeypatch.setenv("ANALYSIS_HOME", str(project))
    monkeypatch.setattr(fingerprint, "source_digest", lambda: "0" * 64)
    _state_build(project, True, 2)
    left = [Path(f"/proc/{pid}/cmdline").read_text() for pid, _ in descendants(os.getpid())]
    # multiprocessing's resource tracker lives as long as this process, whatever the build does
    assert [cmd for cmd in left if "resource_tracker" not in cmd] == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_forked_kernel_ends_with_the_process_that_asked_for_it():
    """The parent watcher of a forked kernel (as ipykernel's parent poller for an ordinary one):
    when the requesting process ends, the kernel exits within seconds."""
    import time

    from analysis.reports.kernel import process_start_time

    parent = subprocess.Popen(["sleep", "60"])
    code = (
        "import sys, time\n"
        "from analysis.reports._warmkernel import _watch_parent\n"
        f"_watch_parent({parent.pid}, {process_start_time(parent.pid)!r})\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(1.5)
        assert child.poll() is None  # the parent lives: the kernel keeps running
        parent.kill()
        parent.wait()
        assert child.wait(timeout=10) == 1
    finally:
        for p in (parent, child):
            if p.poll() is None:
                p.kill()
                p.wait()
