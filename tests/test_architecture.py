"""The package's shape: imports run one way, data -> eventstudy -> studies -> reports and cli."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "analysis"

#: Layer of each part of the package; a module may import only from its own layer or lower ones.
LAYERS = {
    "config": 0,
    "errors": 0,
    "_io": 0,  # atomic writes, file locks
    "_summary": 0,  # the one summary/display pattern of every results class
    "_export": 0,  # CSV, Excel and LaTeX export of every results class
    "_simplex": 0,  # simplex least squares, RMSE and placebo p of the synthetic units
    "data": 1,
    "eventstudy": 2,
    "studies": 3,
    "plots": 3,
    "reports": 4,
    "cli": 4,
    "__main__": 4,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) of every ``analysis`` import of ``module`` (file ``path``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):  # nested imports (inside functions) count too
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("analysis")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            if not base.startswith("analysis"):
                continue
            if base == "analysis":  # from analysis import x: x names the module
                found += [(node.lineno, f"analysis.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, base))
    return found


def upward_imports(path: Path, module: str) -> list[str]:
    """The imports of ``module`` that reach a higher layer than its own."""
    here = _layer(module)
    assert here is not None, module
    return [
        f"{module}:{line} imports {target} (layer {_layer(target)} above {here})"
        for line, target in _imports(path, module)
        if (_layer(target) or 0) > here
    ]


MODULES = sorted(p for p in SRC.rglob("*.py") if p != SRC / "__init__.py")


def test_every_module_has_a_layer():
    assert [_module_name(p) for p in MODULES if _layer(_module_name(p)) is None] == []


@pytest.mark.parametrize("path", MODULES, ids=_module_name)
def test_imports_run_one_way(path):
    assert upward_imports(path, _module_name(path)) == []


@pytest.mark.parametrize("path", [SRC / "__init__.py", *MODULES], ids=_module_name)
def test_every_module_opens_with_a_line_saying_what_it_owns(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc and len(doc.splitlines()[0].strip()) > 10, _module_name(path)


def test_the_checker_sees_upward_and_relative_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        '"""Probe."""\nfrom analysis.studies import factcheck\nfrom . import prices\n\n\n'
        "def f():\n    from ..reports import site\n",
        encoding="utf-8",
    )
    assert upward_imports(probe, "analysis.data.probe") == [
        "analysis.data.probe:2 imports analysis.studies (layer 3 above 1)",
        "analysis.data.probe:7 imports analysis.reports (layer 4 above 1)",
    ]
    assert upward_imports(probe, "analysis.reports.probe") == []


#: Modules stay small enough to own one thing (a soft limit of ~700 lines, with a little slack).
MAX_LINES = 750


@pytest.mark.parametrize("path", MODULES, ids=_module_name)
def test_modules_stay_small(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_every_short_name_the_readme_lists_resolves():
    """The README's list of ``an.<name>`` short names is exactly what the package offers, and
    each resolves."""
    import re

    import analysis as an

    text = (SRC.parents[1] / "README.md").read_text(encoding="utf-8")
    start = text.index("`import analysis as an` gives every module under a short name")
    block = text[start : text.index("\n\n", start)]
    listed = set(re.findall(r"`an\.([a-z_0-9]+)`", block))
    assert listed == set(an._SUBMODULES) | set(an._FUNCTIONS)
    for name in sorted(listed):
        assert getattr(an, name) is not None, name
