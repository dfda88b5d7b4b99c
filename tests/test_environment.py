"""pyproject.toml (loose list), requirements-lock.txt (hashed pins), environment.yml (conda) and the
Makefile agree with one another."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from tests.conftest import REPO

LOCK = "requirements-lock.txt"
LOCK_COMMAND_START = "uv pip compile"


def _pyproject_requirements(pyproject_text: str) -> dict[str, Requirement]:
    """Runtime and dev requirements of pyproject.toml by canonical name."""
    project = tomllib.loads(pyproject_text)["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {canonicalize_name(r.name): r for r in map(Requirement, reqs)}


def _lock_entries(lock_text: str) -> list[tuple[int, str, list[str]]]:
    """(first line number, requirement text, options) for every requirement of a pip lock file."""
    entries: list[tuple[int, str, list[str]]] = []
    start, parts = 0, list[str]()
    for number, line in enumerate(lock_text.splitlines(), 1):
        body = "" if line.lstrip().startswith("#") else line
        if not parts:
            start = number
        parts.append(body.rstrip().removesuffix("\\"))
        if body.rstrip().endswith("\\"):
            continue
        words = " ".join(parts).split()
        parts = []
        if words:
            req = [w for w in words if not w.startswith("--")]
            entries.append((start, " ".join(req), [w for w in words if w.startswith("--")]))
    return entries


def lock_problems(pyproject_text: str, lock_text: str) -> list[str]:
    """What is wrong with the lock against pyproject.toml; empty when it is consistent."""
    problems: list[str] = []
    pins: dict[str, str] = {}
    for line, req_text, options in _lock_entries(lock_text):
        try:
            req = Requirement(req_text)
        except InvalidRequirement:
            problems.append(f"{LOCK} line {line}: cannot parse {req_text!r}; run `make lock`")
            continue
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            problems.append(
                f"{LOCK} line {line}: {req_text} is not an exact == pin; run `make lock`"
            )
            continue
        pins[canonicalize_name(req.name)] = specs[0].version
        if not any(o.startswith("--hash=sha256:") for o in options):
            problems.append(
                f"{LOCK} line {line}: {req_text} has no --hash=sha256:; run `make lock`"
            )
    for name, req in _pyproject_requirements(pyproject_text).items():
        if name not in pins:
            problems.append(f"{LOCK} does not pin {name} (pyproject.toml: {req}); run `make lock`")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(
                f"{LOCK} pins {name}=={pins[name]}, outside pyproject.toml's {req}; run `make lock`"
            )
    return problems


def lock_command(lock_text: str) -> str:
    """The regenerating command named in the lock's header."""
    header = []
    for line in lock_text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line.lstrip("#").strip())
    found = [h for h in header if h.startswith(LOCK_COMMAND_START)]
    if not found:
        raise AssertionError(f"{LOCK} header names no `{LOCK_COMMAND_START} ...` command")
    return found[0]


def header_problems(lock_text: str) -> list[str]:
    """The header's command targets Python 3.11 on Linux x86_64, hashed, with relative paths only."""
    command = lock_command(lock_text)
    words = command.split()
    problems = [
        f"{LOCK} header command lacks {flag!r}: {command}"
        for flag in ("--python-version 3.11", "--generate-hashes", f"-o {LOCK}", "--extra dev")
        if f" {flag} " not in f" {command} "
    ]
    if not any(w.startswith("--python-platform") for w in words) or "x86_64" not in command:
        problems.append(f"{LOCK} header command names no x86_64 --python-platform: {command}")
    problems += [f"{LOCK} header command has a machine path {w!r}" for w in words if "/" in w]
    return problems


def environment_problems(pyproject_text: str, env_text: str) -> list[str]:
    """environment.yml names the same packages as pyproject with the same lower bounds."""
    deps = {n: str(r.specifier) for n, r in _pyproject_requirements(pyproject_text).items()}
    env = yaml.safe_load(env_text)
    conda: dict[str, str] = {}
    pip_items: list[str] = []
    for item in env["dependencies"]:
        if isinstance(item, dict):
            pip_items += item.get("pip", [])
            continue
        if re.match(r"^(python|pip)\b", item):
            continue
        req = Requirement(item)
        conda[canonicalize_name(req.name)] = str(req.specifier)
    problems = [
        f"environment.yml lacks {n}{deps[n]} (in pyproject.toml)"
        for n in sorted(deps.keys() - conda)
    ]
    problems += [
        f"environment.yml has {n}{conda[n]}, not in pyproject.toml"
        for n in sorted(conda.keys() - deps)
    ]
    problems += [
        f"environment.yml has {n}{conda[n]}, pyproject.toml has {n}{deps[n]}"
        for n in sorted(conda.keys() & deps.keys())
        if conda[n] != deps[n]
    ]
    if "-e ." not in pip_items:
        problems.append("environment.yml does not pip-install the project (`- -e .` under pip:)")
    if "python=3.11" not in env["dependencies"]:
        problems.append("environment.yml does not pin python=3.11")
    return problems


def _read(name: str) -> str:
    return (REPO / name).read_text()


def _edited(tmp_path: Path, name: str, old: str, new: str, count: int = 1) -> str:
    """A temp copy of a project file with one edit; the real file is never touched."""
    text = _read(name)
    assert text.count(old) >= count, f"{old!r} not in {name}"
    copy = tmp_path / name
    copy.write_text(text.replace(old, new, count))
    return copy.read_text()


# ---- the real files agree -------------------------------------------------------------------


def test_lock_pins_every_pyproject_requirement_with_hashes():
    assert lock_problems(_read("pyproject.toml"), _read(LOCK)) == []


def test_lock_header_regenerates_for_python_311_linux():
    assert header_problems(_read(LOCK)) == []
    assert lock_command(_read(LOCK)) == (
        "uv pip compile pyproject.toml --extra dev --python-version 3.11 "
        "--python-platform x86_64-manylinux_2_28 --generate-hashes -o requirements-lock.txt"
    )


def test_environment_matches_pyproject():
    assert environment_problems(_read("pyproject.toml"), _read("environment.yml")) == []


def test_makefile_installs_from_the_lock_and_regenerates_it_with_the_header_command():
    makefile = _read("Makefile")
    assert "\nlock:" in makefile, "Makefile has no lock target"
    recipe = makefile.split("\nlock:", 1)[1].split("\n\n", 1)[0]
    assert lock_command(_read(LOCK)).removeprefix("uv ") in recipe
    stamp_rule = re.search(r"^\$\(STAMP\):(.*)$", makefile, re.M)
    assert stamp_rule is not None
    assert set(stamp_rule.group(1).split()) == {"pyproject.toml", LOCK}
    assert f"pip install --quiet --require-hashes -r {LOCK}" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
    assert "ipykernel install --sys-prefix --name python3" in makefile


# ---- each check fails when one file is broken (on temp copies) ------------------------------


def test_lock_check_reports_a_missing_hash(tmp_path):
    lines = _read(LOCK).splitlines()
    line = lines.index("pandas==3.1.1 \\") + 1
    end = next(i for i in range(line, len(lines)) if not lines[i].startswith("    --hash="))
    broken = "\n".join([*lines[: line - 1], "pandas==3.1.1", *lines[end:]]) + "\n"
    assert lock_problems(_read("pyproject.toml"), broken) == [
        f"{LOCK} line {line}: pandas==3.1.1 has no --hash=sha256:; run `make lock`"
    ]


def test_lock_check_reports_a_pin_outside_pyproject(tmp_path):
    broken = _edited(tmp_path, LOCK, "numpy==2.4.6 \\", "numpy==2.3.5 \\")
    assert lock_problems(_read("pyproject.toml"), broken) == [
        f"{LOCK} pins numpy==2.3.5, outside pyproject.toml's numpy>=2.4; run `make lock`"
    ]


def test_lock_check_reports_a_requirement_missing_from_the_lock(tmp_path):
    pyproject = _edited(
        tmp_path, "pyproject.toml", '"ruff>=0.17",', '"ruff>=0.17",\n    "hypothesis>=6",'
    )
    assert lock_problems(pyproject, _read(LOCK)) == [
        f"{LOCK} does not pin hypothesis (pyproject.toml: hypothesis>=6); run `make lock`"
    ]


def test_lock_check_reports_a_loose_pin(tmp_path):
    lock = _read(LOCK)
    line = lock.splitlines().index("scipy==1.17.1 \\") + 1
    broken = _edited(tmp_path, LOCK, "scipy==1.17.1 \\", "scipy>=1.17.1 \\")
    assert lock_problems(_read("pyproject.toml"), broken) == [
        f"{LOCK} line {line}: scipy>=1.17.1 is not an exact == pin; run `make lock`",
        f"{LOCK} does not pin scipy (pyproject.toml: scipy>=1.17); run `make lock`",
    ]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "--python-version 3.11 ",
            "--python-version 3.12 ",
            "header command lacks '--python-version 3.11'",
        ),
        ("--generate-hashes ", "", "header command lacks '--generate-hashes'"),
        ("compile pyproject.toml", "compile ~/project/pyproject.toml", "machine path"),
    ],
)
def test_header_check_reports_a_wrong_command(tmp_path, old, new, problem):
    broken = _edited(tmp_path, LOCK, old, new)
    problems = header_problems(broken)
    assert len(problems) == 1 and problem in problems[0], problems


def test_header_check_reports_a_lock_without_command(tmp_path):
    broken = _edited(tmp_path, LOCK, "#    uv pip compile", "#    pip-compile")
    with pytest.raises(AssertionError, match="header names no `uv pip compile ...` command"):
        lock_command(broken)


@pytest.mark.parametrize(
    ("old", "new", "problems"),
    [
        (
            "  - pandas>=3.0\n",
            "  - pandas>=2.2\n",
            ["environment.yml has pandas>=2.2, pyproject.toml has pandas>=3.0"],
        ),
        ("  - ruff>=0.17\n", "", ["environment.yml lacks ruff>=0.17 (in pyproject.toml)"]),
        (
            "  - ruff>=0.17\n",
            "  - ruff>=0.17\n  - hypothesis>=6\n",
            ["environment.yml has hypothesis>=6, not in pyproject.toml"],
        ),
        ("python=3.11", "python=3.12", ["environment.yml does not pin python=3.11"]),
        (
            "      - -e .\n",
            "      - analysis\n",
            ["environment.yml does not pip-install the project (`- -e .` under pip:)"],
        ),
    ],
)
def test_environment_check_reports_a_drift(tmp_path, old, new, problems):
    broken = _edited(tmp_path, "environment.yml", old, new)
    assert environment_problems(_read("pyproject.toml"), broken) == problems
