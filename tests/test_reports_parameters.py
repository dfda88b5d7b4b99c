"""The ``check-parameters`` cell of the report notebooks: a parameter papermill injects that the
notebook's ``parameters`` cell does not declare, or a value of the wrong type, stops the run with
a message naming it (papermill itself only warns and runs on)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from analysis.errors import SpecificationError
from analysis.reports.notebook import check_parameters

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
PAPERMILL = Path(sys.executable).parent / "papermill"
REPORTS = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
DECLARED = (
    "declared: alt_market, estimation, event, exclude, factors, market, model, quote_date, "
    "quoted_price, robustness, symbol, window"
)
FIX = "; fix the value given to papermill (-p, -r, -y) or in the run matrix"


def _parameters_source(name: str = "event_study.ipynb") -> str:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    return cell.source


def _namespace(injected: dict[str, object], history_key: str = "_ih") -> dict[str, object]:
    """A kernel's globals after papermill ran the parameters cell and its injected cell."""
    lines = "".join(f"{k} = {v!r}\n" for k, v in injected.items())
    history = ["", _parameters_source(), f"# Parameters\n{lines}", "check_parameters(globals())"]
    return {history_key: history, **injected}


# --------------------------------------------------------------------------- check_parameters


def test_unknown_parameter_names_it_and_suggests_the_declared_one():
    with pytest.raises(SpecificationError) as info:
        check_parameters(_namespace({"symbl": "AMD"}))
    assert str(info.value) == (
        "parameter 'symbl' is not declared in this notebook's parameters cell (did you mean "
        f"'symbol'?); {DECLARED}{FIX}"
    )


@pytest.mark.parametrize(
    ("injected", "expected"),
    [
        (
            {"quoted_price": "abc"},
            "parameter 'quoted_price' = 'abc' has type str, but the parameters cell declares "
            "quoted_price = 0.0 (type float)",
        ),
        (
            {"robustness": 1},
            "parameter 'robustness' = 1 has type int, but the parameters cell declares "
            "robustness = True (type bool)",
        ),
        (
            {"factors": ["SPY", 3]},
            "parameter 'factors': item 1 = 3 has type int, but the parameters cell declares "
            'factors = ["SPY", "SOXX"] (type list of str)',
        ),
    ],
)
def test_wrong_type_is_refused(injected, expected):
    with pytest.raises(SpecificationError) as info:
        check_parameters(_namespace(injected))
    assert str(info.value) == expected + FIX


def test_every_problem_at_once():
    with pytest.raises(SpecificationError) as info:
        check_parameters(_namespace({"symbl": "AMD", "window": 3, "market": "QQQ"}))
    problems = str(info.value).removesuffix(FIX).split("; parameter ")
    assert len(problems) == 2
    assert problems[0].startswith("parameter 'symbl' is not declared")
    assert problems[1] == (
        "'window' = 3 has type int, but the parameters cell declares window = \"-1:3\" (type str)"
    )


def test_good_values_and_no_injection_pass():
    # an int for a float, a bool, a str, a list of str: as the run matrix accepts them
    good = {"quoted_price": 446, "robustness": False, "symbol": "AMD", "factors": ["SPY"]}
    assert check_parameters(_namespace(good)) is None
    assert check_parameters(_namespace(good, history_key="In")) is None  # `In` is the same list
    # run by hand (nothing injected): nothing to check
    assert (
        check_parameters({"_ih": ["", _parameters_source(), "check_parameters(globals())"]}) is None
    )
    assert check_parameters({}) is None


def test_only_the_last_injected_cell_counts():
    ns = _namespace({"symbol": "AMD"})
    ns["_ih"] = ["", _parameters_source(), '# Parameters\nsymbl = "AMD"\n', *ns["_ih"][1:]]
    assert check_parameters(ns) is None  # an earlier run's injection is history


def test_every_report_notebook_checks_its_parameters_right_after_the_parameters_cell():
    assert REPORTS == [
        "china_exposure.ipynb",
        "event_study.ipynb",
        "fact_check.ipynb",
        "hardware_shocks.ipynb",
        "overview.ipynb",
        "peer_reaction.ipynb",
        "retail_gpu.ipynb",
    ]
    for name in REPORTS:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", []), name
        assert code[1].get("id") == "check-parameters", name
        assert "check_parameters(globals())" in code[1].source, name
        assert all(not c.outputs and c.execution_count is None for c in code), name


# --------------------------------------------------------------------------- through papermill


def _papermill(tmp_path: Path, *parameters: str) -> tuple[subprocess.CompletedProcess, dict]:
    """Plain papermill on notebooks/event_study.ipynb; (the process, the executed notebook)."""
    out = tmp_path / "out.ipynb"
    done = subprocess.run(
        [str(PAPERMILL), str(NOTEBOOKS / "event_study.ipynb"), str(out), *parameters],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    return done, json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}


def _errors(nb: dict) -> list[tuple[str, str]]:
    return [
        (o["ename"], o["evalue"])
        for c in nb.get("cells", [])
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]


@pytest.mark.notebooks
def test_papermill_with_a_misspelt_parameter_stops_at_the_check(tmp_path):
    done, nb = _papermill(tmp_path, "-p", "symbl", "AMD")
    assert done.returncode != 0
    message = (
        "parameter 'symbl' is not declared in this notebook's parameters cell (did you mean "
        "'symbol'?)"
    )
    assert message in done.stderr
    assert _errors(nb) == [("SpecificationError", f"{message}; {DECLARED}{FIX}")]
    # it stopped in the check cell: nothing after it ran
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    failed = [i for i, c in enumerate(code) if c["outputs"]]
    assert [code[i].get("id") for i in failed] == ["check-parameters"]


@pytest.mark.notebooks
def test_papermill_with_a_mistyped_parameter_stops_at_the_check(tmp_path):
    done, nb = _papermill(tmp_path, "-p", "quoted_price", "abc")
    assert done.returncode != 0
    message = (
        "parameter 'quoted_price' = 'abc' has type str, but the parameters cell declares "
        "quoted_price = 0.0 (type float)"
    )
    assert message in done.stderr
    assert _errors(nb) == [("SpecificationError", message + FIX)]


def test_the_kernels_reading_of_parameters_equals_papermills():
    """check_parameters reads the parameters cell with ast (no papermill in the kernel); on every
    report notebook and on annotated, unannotated and odd lines it must read what papermill reads."""
    from papermill.translators import PythonTranslator

    from analysis.reports.matrix import _notebook_parameter, declared_parameters

    sources = [
        nbformat.read(NOTEBOOKS / name, as_version=4)
        .cells[
            next(
                i
                for i, c in enumerate(nbformat.read(NOTEBOOKS / name, as_version=4).cells)
                if "parameters" in c.metadata.get("tags", [])
            )
        ]
        .source
        for name in REPORTS
    ]
    sources.append(
        'a = 1\nb: float = 2.5  # comment\nc: list = ["x", "y"]\nd: str = "t"\n'
        "e = None\nf: Optional[int] = None\ng: dict = {'k': 1}\nh = date(2023, 1, 1)\n"
    )
    for source in sources:
        papermill = {
            p.name: _notebook_parameter(p.name, p.inferred_type_name, p.default)
            for p in PythonTranslator.inspect({"source": source})
        }
        assert declared_parameters(source) == papermill
