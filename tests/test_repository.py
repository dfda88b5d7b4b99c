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

#: Top-level folders whose absolute paths belong to particular machines (homes, scratch, work).
MACHINE_ROOTS = ("work", "root", "tmp", "home", "Users", "mnt", "scratch")
MACHINE_PATH = re.compile(r"(?<![\w./~-])/(?:" + "|".join(MACHINE_ROOTS) + r")/[\w.-]+")
#: How the software came to be: issue numbers, working sessions, who did it. The phrases are
#: assembled from words so that this file holds none of them and is checked like any other.
_PHRASES = (" ".join(("paper", "body", "not", "read")), "sub" + "agents?", "BR" + r"IEF\.md")
MAKING = re.compile(
    r"\b(?:issue|Issue) ?#?\d+\b|\bsession-\d\b|\bSession \d\b|"
    + "|".join(rf"\b{p}\b" if p[0].isalpha() else p for p in _PHRASES)
)
TEXT_SUFFIXES = {".py", ".md", ".txt", ".yaml", ".yml", ".toml", ".cfg", ".ipynb", ".csv", ""}


def _text_files() -> list[tuple[str, str]]:
    files = []
    for name in tracked_files():
        path = REPO / name
        if path.suffix not in TEXT_SUFFIXES:
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


def _machine_path(root: str, rest: str) -> str:
    return f"/{root}/{rest}"


def test_machine_path_pattern_catches_what_it_should():
    assert MACHINE_PATH.search(f'REF = "{_machine_path("work", "shared/data")}"')
    assert MACHINE_PATH.search(f"see {_machine_path('tmp', 'site_base/index.html')}")
    assert MACHINE_PATH.search(f"cd {_machine_path('home', 'alice/analysis')}")
    assert not MACHINE_PATH.search("ANALYSIS_PRICES_DIR=../shared/data/prices")
    url, relative = _machine_path("work", "x"), _machine_path("tmp", "b")
    assert not MACHINE_PATH.search(f"https://example.org{url} and a{relative}")
    n = 3
    assert MAKING.search(f"# added in issue {n}") and MAKING.search(f"Session {n} figures")
    assert MAKING.search(f"the session-{n} code")
    assert MAKING.search(" ".join(("the", "paper", "body", "not", "read")))
    assert not MAKING.search("issues a warning; sessions of the NYSE; day 0 is session 0")
