"""Run-matrix entries derived from the event registry (``for_each``): one run per event, titles
generated from the registry, per-event parameters, and clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis.data.events import export_control_events
from analysis.reports.matrix import RunMatrixError, load_matrix

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def nbdir(tmp_path: Path) -> Path:
    folder = tmp_path / "nb"
    shutil.copytree(FIXTURES, folder)
    return folder


def write(nbdir: Path, text: str) -> Path:
    path = nbdir / "runs.yaml"
    path.write_text(text, encoding="utf-8")
    return path


DERIVED = """\
- for_each: export_control_events
  name: "x_{id}"
  notebook: typed.ipynb
  title: "X, {event_id}: {title} (day 0 {day0})"
  parameters: {event: "{event_id}", symbols: [NVDA]}
  per_event:
    E08: {note: quoted}
- name: plain
  notebook: results.ipynb
"""


def test_one_run_per_market_observable_export_control_event(nbdir):
    runs = load_matrix(write(nbdir, DERIVED))
    events = export_control_events(observable_only=True)
    assert [r.name for r in runs] == [f"x_{e.lower()}" for e in events["event_id"]] + ["plain"]
    by_name = {r.name: r for r in runs}
    e08 = events.set_index("event_id").loc["E08"]
    assert by_name["x_e08"].title == f"X, E08: {e08['title']} (day 0 2023-10-17)"
    assert dict(by_name["x_e08"].parameters) == {
        "event": "E08",
        "symbols": ["NVDA"],
        "note": "quoted",
    }
    assert dict(by_name["x_e04"].parameters) == {"event": "E04", "symbols": ["NVDA"]}
    # E01 is not market-observable
    assert "x_e01" not in by_name and len(runs) == len(events) + 1


def test_bis_rules_selector(nbdir):
    text = "- for_each: bis_rules\n  name: 'p_{id}'\n  notebook: typed.ipynb\n"
    runs = load_matrix(write(nbdir, text))
    events = export_control_events(observable_only=True)
    want = events.loc[events["kind"] == "bis_rule", "event_id"].str.lower()
    assert [r.name for r in runs] == [f"p_{e}" for e in want]
    assert [r.name for r in runs] == ["p_e04", "p_e08", "p_e16", "p_e17", "p_e18"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "- for_each: export_control_event\n  name: 'x_{id}'\n  notebook: typed.ipynb\n",
            "entry 1, line 1: key 'for_each': 'export_control_event' is not a selector (did you "
            "mean 'export_control_events'?); selectors: export_control_events, bis_rules",
        ),
        (
            "- for_each: bis_rules\n  name: 'x_{id}'\n  notebook: typed.ipynb\n"
            "  per_event: {E02: {note: a}}\n",
            "entry 1, line 1: key 'per_event': E02 is not among the events of for_each: bis_rules "
            "(E04, E08, E16, E17, E18)",
        ),
        (
            "- for_each: bis_rules\n  name: 'x_{id}'\n  notebook: typed.ipynb\n  title: '{date}'\n",
            "entry 1, line 1 (E04): unknown field {date} in '{date}'; fields: {event_id}, {id}, "
            "{title}, {day0}, {kind}",
        ),
    ],
)
def test_derived_entry_errors(nbdir, text, problem):
    with pytest.raises(RunMatrixError) as info:
        load_matrix(write(nbdir, text))
    assert info.value.problems[0] == problem


def test_a_derived_run_is_validated_like_any_other(nbdir):
    text = "- for_each: bis_rules\n  name: 'x_{id}'\n  notebook: typed.ipynb\n  parameters: {evnt: a}\n"
    with pytest.raises(RunMatrixError) as info:
        load_matrix(write(nbdir, text))
    assert info.value.problems[0].startswith(
        "run 'x_e04' (entry 1, line 1, for_each bis_rules): parameter 'evnt' is not declared"
    )


def test_a_name_template_without_a_field_collides(nbdir):
    text = "- for_each: bis_rules\n  name: same\n  notebook: typed.ipynb\n"
    with pytest.raises(RunMatrixError) as info:
        load_matrix(write(nbdir, text))
    assert (
        "duplicate name 'same', already used by entry 1, line 1, for_each bis_rules"
        in (info.value.problems[0])
    )


def test_the_project_matrix_follows_the_registry():
    runs = load_matrix(REPO / "notebooks" / "runs.yaml")
    names = [r.name for r in runs]
    events = export_control_events(observable_only=True)
    assert [n for n in names if n.startswith("nvda_")] == [
        f"nvda_{e.lower()}" for e in events["event_id"]
    ]
    text = (REPO / "notebooks" / "runs.yaml").read_text()
    assert "2023-10-17)" not in text  # titles are generated, never typed with dates


def test_a_new_registry_row_adds_its_runs(tmp_path, monkeypatch):
    """Adding a market-observable BIS rule to data/events.csv adds its NVDA page and its peer
    page on the next load of the unchanged run matrix, titled from the registry."""
    import csv
    import io

    project = tmp_path / "project"
    shutil.copytree(REPO / "data", project / "data")
    shutil.copytree(REPO / "notebooks", project / "notebooks")
    path = project / "data" / "events.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    new = dict(next(r for r in rows if r["event_id"] == "E17"))
    new.update(event_id="E30", date="2025-09-29", date_text="2025-09-29", title="A new BIS rule")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows([*rows, new])
    path.write_text(buf.getvalue(), encoding="utf-8")
    before = {r.name for r in load_matrix(REPO / "notebooks" / "runs.yaml")}
    monkeypatch.setenv("ANALYSIS_HOME", str(project))
    runs = {r.name: r for r in load_matrix(project / "notebooks" / "runs.yaml")}
    assert set(runs) - before == {"nvda_e30", "peers_e30"}
    assert runs["nvda_e30"].title == "NVDA, E30: A new BIS rule (day 0 2025-09-29)"
    assert dict(runs["peers_e30"].parameters) == {"group": "semis", "event": "E30"}
