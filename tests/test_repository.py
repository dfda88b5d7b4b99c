"""The repository as a stranger gets it: a fresh clone tests cleanly, and holds the product only."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: Set in the nested run, so that the clone's own copy of this test does not clone again.
NESTED = "ANALYSIS_TEST_IN_FRESH_CLONE"


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout


def tracked_files() -> list[str]:
    """Files a clone gets: tracked, plus new files not ignored (as they are about to be added)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout (or git missing): nothing to clone")
    out = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return sorted({f for f in out.split("\0") if f and (REPO / f).is_file()})


def _clone(dest: Path) -> Path:
    """A git checkout in ``dest`` of the work tree's tracked files as they are now.

    Like ``git clone``, but it also carries changes not yet committed, so the test checks what is
    about to land.
    """
    for name in tracked_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=clone", "-c", "user.email=clone@example.org", "commit", "-qm", "clone"],
    ):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True)
    return dest


def _clean_environment(clone: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANALYSIS_", "PYTEST_", "JUPYTER", "PYTHON"))
    }
    env.update(PYTHONPATH=str(clone / "src"), MPLBACKEND="Agg", **{NESTED: "1"})
    return env


@pytest.mark.slow
def test_fresh_clone_with_nothing_beside_it_tests_cleanly(tmp_path):
    if os.environ.get(NESTED):
        pytest.skip("this is the nested run inside a fresh clone")
    clone = _clone(tmp_path / "clone")
    assert not (tmp_path / "shared").exists()
    env = _clean_environment(clone)
    where = subprocess.run(
        [sys.executable, "-c", "import analysis; print(analysis.__file__)"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(clone / "src")
    # the README's test command: ruff, then pytest with the project's own configuration
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks", "notebooks"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "-q"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-6000:]
    summary = out.strip().splitlines()[-1]
    assert " passed" in summary and "error" not in summary and "failed" not in summary, summary
    skips = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert skips, "nothing beside the clone: the data tiers must skip"
    for line in skips:  # SKIPPED [n] file:line: reason
        reason = line.split(": ", 1)[1] if ": " in line else ""
        assert len(reason) > 20, line
    tiers = " ".join(skips)
    for tier in ("real-data tier", "reference tier (estudy2 vignette)", "facts tier"):
        assert tier in tiers, f"{tier!r} not skipped with its reason:\n" + "\n".join(skips)


# --------------------------------------------------------------------------- the product only

#: Absolute paths of particular machines (a user's home, scratch and work folders).
MACHINE_PATH = re.compile(r"(?<![\w./~-])/(?:work|root|tmp|home|Users|mnt|scratch)/[\w.-]+")
#: How the software came to be: issue numbers, working sessions, who did it.
MAKING = re.compile(
    r"\b(?:issue|Issue) ?#?\d+\b|\bsession-\d\b|\bSession \d\b|paper body not read|"
    r"\bsubagents?\b|\bBRIEF\.md\b",
)
TEXT_SUFFIXES = {".py", ".md", ".txt", ".yaml", ".yml", ".toml", ".cfg", ".ipynb", ".csv", ""}
#: Files that may name such paths on purpose: this test (its patterns) and the lock file (none).
EXEMPT = {"tests/test_repository.py"}


def _text_files() -> list[tuple[str, str]]:
    files = []
    for name in tracked_files():
        path = REPO / name
        if name in EXEMPT or path.suffix not in TEXT_SUFFIXES:
            continue
        try:
            files.append((name, path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            continue
    return files


def test_no_machine_specific_absolute_paths():
    hits = [
        f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for name, text in _text_files()
        for m in MACHINE_PATH.finditer(text)
    ]
    assert hits == []


def test_no_remarks_about_how_the_software_was_made():
    hits = [
        f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for name, text in _text_files()
        for m in MAKING.finditer(text)
    ]
    assert hits == []


def test_machine_path_pattern_catches_what_it_should():
    assert MACHINE_PATH.search('REF = "/work/shared/data"')
    assert MACHINE_PATH.search("see /tmp/site_base/index.html")
    assert MACHINE_PATH.search("cd /home/alice/analysis")
    assert not MACHINE_PATH.search("ANALYSIS_PRICES_DIR=../shared/data/prices")
    assert not MACHINE_PATH.search("https://example.org/work/x and a/tmp/b")
    assert MAKING.search("# added in issue 3") and MAKING.search("Session 2 figures")
    assert MAKING.search("the session-1 code")
    assert not MAKING.search("issues a warning; sessions of the NYSE; day 0 is session 0")
