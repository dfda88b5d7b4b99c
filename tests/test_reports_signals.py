"""SIGTERM and Ctrl-C (SIGINT to the process group) during ``python -m analysis report --jobs N``:
exit 143 / 130 with one line on stderr, no process of the build left, no temporary folder, and
the previous site byte for byte as it was.

The build runs as a child process in its own session; the notebook sleeps once it has written a
marker file, so the signal arrives while the kernels execute.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.notebooks

SLEEPER = """\
import pathlib
import time

if marker_dir:
    pathlib.Path(marker_dir, f"{n}.started").write_text("running")
time.sleep(seconds)
"""
RUNS = 3
START_TIMEOUT = 90.0  # seconds for the build to have its kernels executing
EXIT_TIMEOUT = 30.0  # seconds for the build to stop after the signal


def _matrix(seconds: float, marker_dir: str = "") -> str:
    return "".join(
        f"- name: run{n}\n  notebook: sleeper.ipynb\n"
        f"  parameters: {{n: {n}, seconds: {seconds}, marker_dir: '{marker_dir}'}}\n"
        for n in range(1, RUNS + 1)
    )


def _environment(project: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ANALYSIS_") and k not in ("PYTEST_CURRENT_TEST",)
    }
    env.update(
        ANALYSIS_HOME=str(project),
        ANALYSIS_CACHE_DIR=str(project / "cache"),
        ANALYSIS_OFFLINE="1",
        MPLBACKEND="Agg",
    )
    return env


def _report(project: Path, *argv: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "analysis", "report", *argv],
        cwd=project,
        env=_environment(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,  # bytes: universal newlines would turn the bar's \r into lines
        start_new_session=True,  # its own process group, as a shell job would have
        **kw,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) from /proc, or None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0], fields[19]


def _descendants(pid: int) -> dict[int, str]:
    """pid -> start time of every live descendant of ``pid``."""
    children: dict[int, list[tuple[int, str]]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None and st[1] != "Z":
            children.setdefault(st[0], []).append((int(entry), st[2]))
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child, started in children.get(todo.pop(), []):
            found[child] = started
            todo.append(child)
    return found


def _alive(processes: dict[int, str]) -> dict[int, str]:
    """Those of ``processes`` still running (same pid and start time, not a zombie)."""
    out = {}
    for pid, started in processes.items():
        st = _stat(pid)
        if st is not None and st[2] == started and st[1] != "Z":
            out[pid] = (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")).decode(
                errors="replace"
            )
    return out


def _kernels(processes: dict[int, str]) -> dict[int, str]:
    """The notebook kernels among ``processes``: started as ``ipykernel_launcher``, or forked by
    the build's warm server (a child of the server, with the server's command line)."""
    alive = _alive(processes)
    servers = {pid for pid, cmd in alive.items() if "analysis.reports._warmkernel" in cmd}
    return {
        pid: cmd
        for pid, cmd in alive.items()
        if "ipykernel_launcher" in cmd or (_stat(pid) or (0,))[0] in servers
    }


def _visible_lines(stderr: str) -> list[str]:
    """What a terminal shows of ``stderr``: per line the text after the last carriage return."""
    lines = (line.rsplit("\r", 1)[-1].strip() for line in stderr.split("\n"))
    return [line for line in lines if line]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    if not Path("/proc/self/stat").is_file():
        pytest.skip("needs /proc to follow the build's processes")
    root = tmp_path_factory.mktemp("signals")
    (root / "notebooks").mkdir()
    (root / "data").mkdir()
    nb = new_notebook(
        cells=[
            new_code_cell(
                "n = 1  # run number\nseconds = 0.0  # how long the run sleeps\n"
                'marker_dir = ""  # folder for a file saying the run has started\n',
                metadata={"tags": ["parameters"]},
            ),
            new_code_cell(SLEEPER),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, root / "notebooks" / "sleeper.ipynb")
    (root / "notebooks" / "quick.yaml").write_text(_matrix(0))
    done = _report(root, "--jobs", "2", "--matrix", "notebooks/quick.yaml", "--out", "site")
    out, err = (b.decode() for b in done.communicate(timeout=300))
    assert done.returncode == 0, err
    assert out.startswith(f"{root / 'site' / 'index.html'}: {RUNS} ok")
    return SimpleNamespace(root=root, site=root / "site", files=snapshot(root / "site"))


@pytest.mark.parametrize(
    ("signum", "to_group", "jobs", "code"),
    [
        (signal.SIGTERM, False, 2, 143),
        (signal.SIGINT, True, 2, 130),
        (signal.SIGTERM, False, 1, 143),
    ],
    ids=["SIGTERM-to-the-build", "SIGINT-to-the-process-group", "SIGTERM-jobs-1"],
)
def test_interrupted_build_leaves_nothing_behind(project, tmp_path, signum, to_group, jobs, code):
    markers = tmp_path / "started"
    markers.mkdir()
    matrix = project.root / "notebooks" / f"sleepy_{signum}_{jobs}.yaml"  # next to the notebook
    matrix.write_text(_matrix(30, str(markers)))
    build = _report(project.root, "--jobs", str(jobs), "--matrix", str(matrix), "--out", "site")
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while len(list(markers.iterdir())) < jobs:  # every kernel is executing its sleep
            assert build.poll() is None, build.communicate()[1].decode()
            assert time.monotonic() < deadline, "the runs did not start"
            time.sleep(0.1)
        processes = _descendants(build.pid)
        kernels = _kernels(processes)
        assert len(kernels) == jobs, _alive(processes)
        temps = [p.name for p in project.root.iterdir() if p.name.startswith("site.tmp-")]
        assert len(temps) == 1  # the build writes into its temporary folder
        if to_group:
            os.killpg(build.pid, signum)  # Ctrl-C: the whole foreground process group
        else:
            os.kill(build.pid, signum)
        stdout, stderr = (b.decode() for b in build.communicate(timeout=EXIT_TIMEOUT))
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
            build.communicate()
    assert build.returncode == code, stderr
    assert "Traceback" not in stderr
    name = signal.Signals(signum).name
    assert _visible_lines(stderr) == [
        f"error: report build interrupted by {name}: runs stopped, temporary files removed, "
        f"{project.site} left as it was"
    ]
    assert stdout == ""
    deadline = time.monotonic() + 5
    while _alive(processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive(processes) == {}  # workers, kernels: nothing of the build survives
    assert [p.name for p in project.root.iterdir() if p.name.startswith("site.")] == []
    assert snapshot(project.site) == project.files
    assert len(list(markers.iterdir())) == jobs  # the other runs never started
