"""Run-matrix validation: every bad entry is reported with the run, the key and a hint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis.reports.matrix import (
    DEFAULT_TIMEOUT,
    RunMatrixError,
    load_matrix,
    notebook_parameters,
)

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"


@pytest.fixture
def nbdir(tmp_path: Path) -> Path:
    folder = tmp_path / "nb"
    shutil.copytree(FIXTURES, folder)
    return folder


def write(nbdir: Path, text: str) -> Path:
    path = nbdir / "runs.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(RunMatrixError) as info:
        load_matrix(path)
    assert "nothing was run" in str(info.value)
    return info.value.problems


def test_valid_matrix_loads_with_defaults(nbdir):
    path = write(
        nbdir,
        "- name: good\n  notebook: results.ipynb\n  parameters: {n: 4, scale: 2, label: x}\n"
        "- name: typed-1\n  notebook: typed.ipynb\n  title: T\n  timeout: 5\n"
        "  parameters: {event: '2023-10-17', symbols: [AMD], ratio: 1, window: [-2, 5],"
        " flag: true, note: anything}\n",
    )
    runs = load_matrix(path)
    assert [r.name for r in runs] == ["good", "typed-1"]
    good, typed = runs
    assert good.timeout == DEFAULT_TIMEOUT and good.title == "" and good.label == "good"
    assert dict(good.parameters) == {"n": 4, "scale": 2, "label": "x"}
    assert good.notebook_path == nbdir.resolve() / "results.ipynb"
    assert typed.timeout == 5 and typed.label == "T"


@pytest.mark.parametrize("text", ["# nothing yet\n[]\n", "# nothing yet\n", ""])
def test_empty_matrix_is_refused(nbdir, text):
    """A build from no runs would remove every report of the site: refused before anything."""
    path = write(nbdir, text)
    with pytest.raises(RunMatrixError) as info:
        load_matrix(path)
    assert str(info.value) == (
        f"{path}: the run matrix lists no runs; add at least one entry (- name: ..., notebook: "
        "...). A build from an empty matrix would remove every report of the site"
    )


def test_repo_matrix_is_valid():
    assert isinstance(load_matrix(), list)


def test_notebook_parameters_infer_types():
    params = notebook_parameters(FIXTURES / "typed.ipynb")
    assert {k: (p.kind, p.nullable, p.element_kind) for k, p in params.items()} == {
        "event": ("str", False, None),
        "window": ("list", False, "int"),
        "symbols": ("list", False, "str"),
        "ratio": ("float", False, None),
        "flag": ("bool", False, None),
        "note": (None, True, None),
    }


def test_unknown_parameter_suggests_closest(nbdir):
    path = write(nbdir, "- name: good\n  notebook: results.ipynb\n  parameters: {scal: 3}\n")
    assert problems_of(path) == [
        "run 'good' (entry 1, line 1): parameter 'scal' is not declared in results.ipynb's "
        "parameters cell (did you mean 'scale'?); declared: draw, label, n, scale, symbols"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ten", "parameter 'n' = 'ten' has type str, but results.ipynb declares n = 10 (type int)"),
        (
            "true",
            "parameter 'n' = True has type bool, but results.ipynb declares n = 10 (type int)",
        ),
        ("1.5", "parameter 'n' = 1.5 has type float, but results.ipynb declares n = 10 (type int)"),
        (
            "null",
            "parameter 'n' is null, but results.ipynb declares n = 10 (type int), which "
            "cannot be null",
        ),
    ],
)
def test_wrong_type_is_rejected(nbdir, value, expected):
    path = write(nbdir, f"- name: good\n  notebook: results.ipynb\n  parameters: {{n: {value}}}\n")
    assert problems_of(path) == [f"run 'good' (entry 1, line 1): {expected}"]


def test_list_items_and_dates_are_checked(nbdir):
    path = write(
        nbdir,
        "- name: t\n  notebook: typed.ipynb\n"
        "  parameters: {symbols: [NVDA, 1], event: 2023-10-17, label: x}\n",
    )
    assert problems_of(path) == [
        "run 't' (entry 1, line 1): parameter 'symbols': item 1 = 1 has type int, but typed.ipynb "
        'declares symbols = ["NVDA"] (type list of str)',
        "run 't' (entry 1, line 1): parameter 'event' = 2023-10-17 was read by YAML as a date; "
        "papermill passes only strings, numbers, booleans, lists and mappings: quote it "
        "('2023-10-17')",
        "run 't' (entry 1, line 1): parameter 'label' is not declared in typed.ipynb's parameters"
        " cell; declared: event, flag, note, ratio, symbols, window",
    ]


def test_parameter_papermill_cannot_read_is_explained(nbdir):
    path = write(nbdir, "- name: t\n  notebook: typed.ipynb\n  parameters: {start: '2023-01-01'}\n")
    (problem,) = problems_of(path)
    assert problem.startswith(
        "run 't' (entry 1, line 1): parameter 'start': typed.ipynb assigns it in its parameters "
        "cell, but papermill cannot read that line"
    )


def test_notebook_without_parameters_cell(nbdir):
    path = write(nbdir, "- name: t\n  notebook: noparams.ipynb\n  parameters: {x: 2}\n")
    assert problems_of(path) == [
        "run 't' (entry 1, line 1): parameter 'x': noparams.ipynb has no cell tagged "
        "'parameters', so it takes no parameters; tag its parameters cell 'parameters' or drop "
        "the parameter"
    ]


def test_unknown_key_suggests_closest(nbdir):
    path = write(nbdir, "- name: good\n  notebook: results.ipynb\n  paramters: {n: 3}\n")
    assert problems_of(path) == [
        "run 'good' (entry 1, line 1): unknown key 'paramters' (did you mean 'parameters'?); "
        "allowed keys: name, notebook, parameters, title, timeout, front_page"
    ]


def test_duplicate_name(nbdir):
    path = write(
        nbdir,
        "- name: good\n  notebook: results.ipynb\n\n- name: good\n  notebook: fails.ipynb\n",
    )
    assert problems_of(path) == [
        "run 'good' (entry 2, line 4): key 'name': duplicate name 'good', already used by entry 1, "
        "line 1"
    ]


def test_missing_notebook(nbdir):
    path = write(nbdir, "- name: good\n  notebook: result.ipynb\n")
    assert problems_of(path) == [
        f"run 'good' (entry 1, line 1): key 'notebook': result.ipynb not found in "
        f"{nbdir.resolve()} (did you mean 'results.ipynb'?)"
    ]


def test_every_problem_is_reported_at_once(nbdir):
    path = write(
        nbdir,
        "- name: Bad Name\n  notebook: ../x.ipynb\n  timeout: 0\n  title: [a]\n"
        "- notebook: results.ipynb\n  parameters: [n]\n"
        "- just a string\n",
    )
    assert problems_of(path) == [
        "entry 1, line 1: key 'name': 'Bad Name' must match [a-z0-9_-]+ (lower-case letters, "
        "digits, '_' and '-'; it names the report folder)",
        "entry 1, line 1: key 'title': must be a string, got ['a']",
        "entry 1, line 1: key 'timeout': must be a positive number of seconds, got 0",
        f"entry 1, line 1: key 'notebook': ../x.ipynb must be a path inside {nbdir.resolve()} "
        "(no absolute path, no '..')",
        "entry 2, line 5: missing key 'name'",
        "entry 2, line 5: key 'parameters': must be a mapping of name: value, got a list",
        "entry 3, line 7: expected a mapping with keys name, notebook, parameters, title, "
        "timeout, front_page, got a str",
    ]


def test_not_a_list_and_bad_yaml_and_missing_file(nbdir, tmp_path):
    with pytest.raises(RunMatrixError, match=r"must be a YAML list of runs .* got a dict"):
        load_matrix(write(nbdir, "name: good\nnotebook: results.ipynb\n"))
    with pytest.raises(
        RunMatrixError,
        match=r"not valid YAML at line 3, column 1: expected .,. or .\]., but got .<stream end>.",
    ):
        load_matrix(write(nbdir, "- name: a\n  notebook: [x\n"))
    with pytest.raises(RunMatrixError, match=r"run matrix .*nope.yaml not found"):
        load_matrix(tmp_path / "nope.yaml")


# --------------------------------------------------------------------------- encoding


def test_matrix_that_is_not_utf8_names_line_and_column(nbdir):
    path = nbdir / "runs.yaml"
    # "Dévaluation" saved as Latin-1: the é (0xe9) is the 11th character of line 3
    path.write_bytes(
        "- name: good\n  notebook: results.ipynb\n  title: Dévaluation\n".encode("latin-1")
    )
    with pytest.raises(RunMatrixError) as info:
        load_matrix(path)
    assert str(info.value) == (
        f"{path}: not UTF-8 text: byte 49 (line 3, column 11) is 0xe9, which UTF-8 cannot "
        "decode (invalid continuation byte); save the file as UTF-8"
    )


def test_matrix_that_is_not_utf8_is_one_line_from_the_command_line(nbdir, capsys):
    from analysis.cli import main

    path = nbdir / "runs.yaml"
    path.write_bytes(b"- name: good\n  notebook: results.ipynb\n# caf\xe9\n")
    assert main(["report", "--matrix", str(path), "--out", str(nbdir / "site")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"error: {path}: not UTF-8 text: byte 44 (line 3, column 6) is 0xe9, which UTF-8 cannot "
        "decode (invalid continuation byte); save the file as UTF-8\n"
    )
    assert not (nbdir / "site").exists()


# --------------------------------------------------------------------------- path parameters


def _paths_notebook(folder: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    source = (
        'series_dir = ""  # a folder of series (empty: none)\n'
        'peers_file = ""  # a table\n'
        'out_path = ""  # where to write\n'
        'label = ""  # not a path, whatever it holds\n'
    )
    nb = new_notebook(
        cells=[new_code_cell(source, metadata={"tags": ["parameters"]})],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, folder / "paths.ipynb")


def test_path_parameters_are_taken_from_the_working_directory(nbdir, tmp_path, monkeypatch):
    _paths_notebook(nbdir)
    work = tmp_path / "work"
    (work / "series").mkdir(parents=True)
    (work / "peers.csv").write_text("symbol\nAMD\n")
    absolute = tmp_path / "elsewhere.txt"
    absolute.write_text("x")
    path = write(
        nbdir,
        "- name: p\n  notebook: paths.ipynb\n"
        f"  parameters: {{series_dir: series, peers_file: ./sub/../peers.csv, out_path: '{absolute}',"
        " label: series}\n"
        "- name: q\n  notebook: paths.ipynb\n  parameters: {series_dir: ''}\n",
    )
    monkeypatch.chdir(work)
    p, q = load_matrix(path)
    assert dict(p.parameters) == {
        "series_dir": str(work / "series"),
        "peers_file": str(work / "peers.csv"),
        "out_path": str(absolute),
        "label": "series",  # not a path parameter: as written
    }
    assert dict(q.parameters) == {"series_dir": ""}  # empty: the notebook's default


def test_missing_path_parameter_is_an_error(nbdir, tmp_path, monkeypatch):
    _paths_notebook(nbdir)
    work = tmp_path / "work"
    work.mkdir()
    (nbdir / "series").mkdir()  # beside the notebook, but the build does not look there
    path = write(nbdir, "- name: p\n  notebook: paths.ipynb\n  parameters: {series_dir: series}\n")
    monkeypatch.chdir(work)
    assert problems_of(path) == [
        f"run 'p' (entry 1, line 1): parameter 'series_dir' = 'series' names {work / 'series'}, "
        f"which does not exist (relative paths are taken from the directory the command runs in, "
        f"{work}); give an existing file or folder, or an empty string for the default"
    ]
