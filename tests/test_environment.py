"""environment.yml (conda users) names the same packages, with the same lower bounds, as pyproject."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.conftest import REPO


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return _norm(m.group(1)), m.group(2).replace(" ", "")


def test_environment_matches_pyproject():
    py = tomllib.loads((REPO / "pyproject.toml").read_text())
    deps = dict(_split(r) for r in py["project"]["dependencies"])
    deps.update(dict(_split(r) for r in py["project"]["optional-dependencies"]["dev"]))
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {}
    pip_items = []
    for item in env["dependencies"]:
        if isinstance(item, dict):
            pip_items += item.get("pip", [])
            continue
        name, spec = _split(item)
        if name not in ("python", "pip"):
            conda[name] = spec
    assert conda == deps, (
        f"only in environment.yml: {set(conda) - set(deps)}; only in pyproject: {set(deps) - set(conda)}"
    )
    assert "-e ." in pip_items
    assert any(str(i).startswith("python=3.11") for i in env["dependencies"])
