"""analysis.data.events: the event registry, day 0 per event, peer groups."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from analysis.data import events
from analysis.data.calendar import Day0
from analysis.data.events import (
    REGISTRY_COLUMNS,
    Event,
    build_registry,
    export_control_events,
    get_event,
    load_events,
    parse_date_text,
    parse_time_text,
    peer_group,
    peer_groups,
    registry_csv,
    resolve_event,
)
from analysis.errors import CalendarError, DataError, SpecificationError, ValidationError

REPO = Path(__file__).resolve().parents[1]
REGISTRY = REPO / "data" / "events.csv"
T = pd.Timestamp

# ----------------------------------------------------------------------------- building


def test_rebuild_reproduces_committed_registry_byte_for_byte(tmp_path, shared_facts_dir):
    spec = importlib.util.spec_from_file_location(
        "build_events_table", REPO / "scripts" / "build_events_table.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "events.csv"
    assert mod.main([str(shared_facts_dir), "--out", str(out)]) == 0
    assert out.read_bytes() == REGISTRY.read_bytes()


def test_registry_keeps_every_fact_verbatim(shared_facts_dir):
    with (shared_facts_dir / "events.csv").open(newline="", encoding="utf-8") as fh:
        facts = list(csv.DictReader(fh))
    with REGISTRY.open(newline="", encoding="utf-8") as fh:
        reg = {r["event_id"]: r for r in csv.DictReader(fh)}
    assert len(facts) == len(reg) == 26
    renamed = {"date": "date_text", "time_et": "time_text"}
    for fact in facts:
        row = reg[fact["event_id"]]
        for col, value in fact.items():
            assert row[renamed.get(col, col)] == value, (fact["event_id"], col)


@pytest.mark.parametrize(
    ("text", "date", "precision"),
    [
        ("2023-10-17", "2023-10-17", "exact"),
        ("2023-10-18/19", "2023-10-18", "range"),
        ("2024-02", "2024-02-01", "month"),
        ("2024-02 (approx)", "2024-02-01", "month"),
        ("2025-12 (approx)", "2025-12-01", "month"),
        ("2025-08 (approx 08-11)", "2025-08-11", "approximate"),
        ("2023-10-17 (before)", "2023-10-17", "before"),
        ("2023-10-17 (approx)", "2023-10-17", "approximate"),
    ],
)
def test_parse_date_text(text, date, precision):
    assert parse_date_text(text) == (date, precision)


@pytest.mark.parametrize(
    "text", ["Oct 2023", "2023-13", "2023-02-30", "2025-08 (approx 09-11)", ""]
)
def test_parse_date_text_rejects(text):
    with pytest.raises(ValueError):
        parse_date_text(text)


@pytest.mark.parametrize(
    ("text", "date", "expected"),
    [
        (
            "after close (SEC acceptance 17:27:14 ET per EDGAR header)",
            "2023-10-17",
            ("17:27", "after_close"),
        ),
        (
            "after close (Reuters summary timestamped 04:21 pm EDT)",
            "2023-08-09",
            ("16:21", "after_close"),
        ),
        ("09:00 ET (10pm Beijing)", "2023-12-28", ("09:00", "before_open")),
        (
            "before the open (story published 05:28 on 2024-12-02)",
            "2024-12-02",
            ("", "before_open"),
        ),
        ("late morning (Barron's)", "2022-10-07", ("", "intraday")),
        ("during session (WSJ report)", "2023-10-31", ("", "intraday")),
        ("after close (Tuesday evening 8-K)", "2025-04-15", ("", "after_close")),
        ("unconfirmed (believed after close)", "2022-09-01", ("", "unknown")),
        ("before or at the open (exact time unconfirmed)", "2023-10-17", ("", "unknown")),
        (
            "during/before session (report published before Wed session)",
            "2023-06-28",
            ("", "unknown"),
        ),
        ("n/a (effective date)", "2023-11-16", ("", "unknown")),
        ("unknown (private notice)", "2022-08-26", ("", "unknown")),
        ("", "2022-08-26", ("", "unknown")),
    ],
)
def test_parse_time_text(text, date, expected):
    assert parse_time_text(text, date) == expected


def test_parse_time_text_refuses_to_guess():
    with pytest.raises(ValueError, match="fits no timing rule"):
        parse_time_text("sometime that week", "2023-10-17")
    with pytest.raises(ValueError, match="its words say before_open but 17:27 ET is after_close"):
        parse_time_text("before the open (17:27 ET)", "2023-10-17")
    with pytest.raises(ValueError, match="several clock times"):
        parse_time_text("09:00 ET or 17:00 ET", "2023-10-17")


def test_build_registry_names_unparseable_facts(tmp_path):
    header = ",".join(events.FACTS_COLUMNS)
    (tmp_path / "events.csv").write_text(
        header
        + "\nE01,Oct 2023,unconfirmed,,bis_rule,t,d,a,s,u,high"
        + "\nE02,2023-10-17,sometime,,bis_rule,t,d,a,s,u,high"
        + "\nE03,2023-10-17,unconfirmed,,rumour,t,d,a,s,u,high"
        + "\nE04,2023-10-17,unconfirmed,,media_report,t,d,a,s,u,high\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as info:
        build_registry(tmp_path)
    probs = info.value.problems
    assert probs[0].startswith("events.csv line 2 (E01), column date: date text 'Oct 2023'")
    assert probs[1].startswith("events.csv line 3 (E02), column time_et: time text 'sometime'")
    assert probs[2].startswith("events.csv line 4 (E03), column kind: unknown kind 'rumour'")
    assert "add it to MEDIA_REPORTS_ABOUT_CONTROLS" in probs[3]
    with pytest.raises(DataError, match="facts file .* not found"):
        build_registry(tmp_path / "nowhere")


# ----------------------------------------------------------------------------- loading


def test_load_events_committed_registry():
    df = load_events()
    assert list(df.columns) == list(REGISTRY_COLUMNS)
    assert len(df) == 26 and df["event_id"].is_unique
    assert df["date"].dtype.kind == "M"
    assert df["market_observable"].dtype == bool and df["export_control"].dtype == bool
    by = df.set_index("event_id")
    assert by.loc["E09", "time_et"] == "17:27" and by.loc["E09", "timing"] == "after_close"
    assert by.loc["E15", "date"] == T("2024-02-01") and by.loc["E15", "date_precision"] == "month"
    assert by.loc["E25", "date_precision"] == "approximate"
    # not market-observable: the two private notices and the three imprecise dates
    assert sorted(df.loc[~df["market_observable"], "event_id"]) == [
        "E01",
        "E15",
        "E20",
        "E25",
        "E26",
    ]
    assert sorted(df.loc[~df["export_control"], "event_id"]) == [
        "E05", "E07", "E13", "E14", "E15", "E19", "E22", "E24",
    ]  # fmt: skip
    # "unconfirmed" timings stay unknown; clock times only where the source gives one in ET
    assert set(df.loc[df["time_et"] != "", "event_id"]) == {"E07", "E09", "E14"}
    assert (by.loc[["E03", "E05", "E10", "E15", "E16", "E25", "E26"], "timing"] == "unknown").all()
    assert by.loc["E12", "timing"] == "unknown"  # "n/a (effective date)"


def _rows() -> list[dict[str, str]]:
    with REGISTRY.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(tmp_path: Path, rows: list[dict[str, str]], name: str = "events.csv") -> Path:
    p = tmp_path / name
    p.write_text(registry_csv(rows), encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("row_index", "changes", "expected"),
    [
        (
            0,
            {"event_id": "X1"},
            "line 2 (X1), column event_id: 'X1' is not an id of the form E01..E99",
        ),
        (
            1,
            {"event_id": "E01"},
            "line 3 (E01), column event_id: duplicate id E01 (first on line 2)",
        ),
        (
            2,
            {"date": "2022-09-31"},
            "line 4 (E03), column date: '2022-09-31' is not a real calendar date",
        ),
        (2, {"date": "Sep 1 2022"}, "line 4 (E03), column date: 'Sep 1 2022' is not an ISO date"),
        (
            3,
            {"date_precision": "roughly"},
            "line 5 (E04), column date_precision: 'roughly' is not one of",
        ),
        (3, {"timing": "soon"}, "line 5 (E04), column timing: 'soon' is not one of before_open"),
        (
            8,
            {"timing": "before_open"},
            "line 10 (E09), column timing: 'before_open' contradicts time_et 17:27 on 2023-10-17 (after_close",
        ),
        (
            8,
            {"time_et": "5:27pm"},
            "line 10 (E09), column time_et: '5:27pm' is not a clock time HH:MM",
        ),
        (
            4,
            {"confidence": "probably"},
            "line 6 (E05), column confidence: 'probably' must start with one of high",
        ),
        (4, {"confidence": ""}, "line 6 (E05), column confidence: '' must start with one of"),
        (
            5,
            {"market_observable": "yes"},
            "line 7 (E06), column market_observable: 'yes' is not true or false",
        ),
        (
            14,
            {"market_observable": "true"},
            "line 16 (E15), column market_observable: true, but the date precision is 'month'",
        ),
        (
            6,
            {"kind": "Media Report"},
            "line 8 (E07), column kind: 'Media Report' is not a lower-case",
        ),
        (6, {"date_text": ""}, "line 8 (E07), column date_text: empty"),
    ],
)
def test_load_events_rejects_bad_rows(tmp_path, row_index, changes, expected):
    rows = _rows()
    rows[row_index] = {**rows[row_index], **changes}
    path = _write(tmp_path, rows)
    with pytest.raises(ValidationError) as info:
        load_events(path)
    assert str(path) in str(info.value)
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_load_events_file_level_problems(tmp_path):
    with pytest.raises(DataError, match="not found; rebuild it with"):
        load_events(tmp_path / "missing.csv")
    p = tmp_path / "nocols.csv"
    p.write_text("event_id,date\nE01,2023-10-17\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="missing required column"):
        load_events(p)
    p = _write(tmp_path, [], "empty.csv")
    with pytest.raises(ValidationError, match=r"no events \(only a header\)"):
        load_events(p)
    p = tmp_path / "short.csv"
    p.write_text(registry_csv(_rows()[:2]) + "E03,2022-09-01\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_events(p)
    assert "short.csv line 4: 2 fields, header has 17" in info.value.problems[0]


# ----------------------------------------------------------------------------- events, day 0


def test_get_event_fields():
    ev = get_event("E09")
    assert isinstance(ev, Event)
    assert ev.date == T("2023-10-17") and ev.time_et == "17:27" and ev.kind == "company_8k"
    assert ev.affected[:3] == ("A100", "A800", "H100")
    assert get_event("e09") == ev and get_event("E9") == ev
    assert get_event("E08").time_et is None
    with pytest.raises(
        SpecificationError, match=r"unknown event id 'E99'; valid ids: E01, E02, .*E26"
    ):
        get_event("E99")


@pytest.mark.parametrize(
    ("event_id", "day0", "rule"),
    [
        ("E08", "2023-10-17", "date_only"),  # BIS rules released 10-17, time unconfirmed
        ("E09", "2023-10-18", "after_close"),  # 8-K accepted 17:27 ET
        ("E02", "2022-09-01", "after_close"),
        ("E04", "2022-10-07", "before_close"),  # intraday
        ("E17", "2024-12-02", "before_close"),  # before the open
        ("E21", "2025-04-16", "after_close"),
        ("E16", "2024-04-01", "market_closed"),  # released on Good Friday 2024-03-29
        ("E24", "2025-05-27", "market_closed"),  # Sunday, then Memorial Day
        ("E07", "2023-08-10", "after_close"),  # 16:21 EDT Reuters summary
    ],
)
def test_event_day0(event_id, day0, rule):
    ev, d0 = resolve_event(event_id)
    assert ev is not None and ev.event_id == event_id
    assert isinstance(d0, Day0)
    assert (d0.day0, d0.rule) == (T(day0), rule)
    assert d0.requested.startswith(f"{event_id}: ")


def test_resolve_event_dates_and_bad_specs():
    ev, d0 = resolve_event("2023-10-17T17:27")
    assert ev is None and d0.day0 == T("2023-10-18")
    assert resolve_event("2023-10-21")[1].day0 == T("2023-10-23")
    with pytest.raises(SpecificationError, match="neither an event id"):
        resolve_event("nvidia day")
    with pytest.raises(CalendarError, match="cannot read event time"):
        resolve_event("2023/10/17")


def test_unobservable_or_imprecise_events_are_refused():
    with pytest.raises(
        CalendarError, match=r"event E01 .* cannot be an event day: it is not market-observable"
    ):
        resolve_event("E01")
    with pytest.raises(CalendarError, match=r"E15 .* only known to month precision .*'2024-02'"):
        resolve_event("E15")
    with pytest.raises(CalendarError, match="approximate precision"):
        resolve_event("E25")
    ev, d0 = resolve_event("E15", allow_imprecise=True)
    assert d0.day0 == T("2024-02-01") and "caution: its date is only known to month" in d0.reason


def test_export_control_events():
    df = export_control_events()
    assert list(df["event_id"]) == [
        "E02", "E03", "E04", "E06", "E08", "E09", "E10", "E11", "E12", "E16", "E17", "E18",
        "E21", "E23",
    ]  # fmt: skip
    d0 = dict(zip(df["event_id"], df["day0"].dt.strftime("%Y-%m-%d"), strict=True))
    assert d0["E08"] == "2023-10-17" and d0["E09"] == "2023-10-18"
    assert d0["E02"] == "2022-09-01" and d0["E04"] == "2022-10-07"
    assert d0["E17"] == "2024-12-02" and d0["E21"] == "2025-04-16"
    assert {"day0", "rule", "reason"} <= set(df.columns)
    assert df["reason"].str.contains("so day 0 is").all()
    assert df["market_observable"].all()
    full = export_control_events(observable_only=False)
    assert set(full["event_id"]) - set(df["event_id"]) == {"E01", "E20", "E25", "E26"}


# ----------------------------------------------------------------------------- peer groups


def test_peer_groups():
    groups = peer_groups()
    assert set(groups) == {"semis", "semi_equipment", "big_tech", "chip_designers", "untouched"}
    assert peer_group("semis") == [
        "NVDA", "AMD", "INTC", "AVGO", "TSM", "QCOM", "MU", "ASML", "AMAT", "LRCX", "KLAC",
        "MRVL", "TXN",
    ]  # fmt: skip
    assert peer_group("semi_equipment") == ["ASML", "AMAT", "LRCX", "KLAC"]
    assert peer_group("big_tech") == ["MSFT", "AAPL", "GOOGL", "META"]
    assert peer_group("chip_designers") == ["NVDA", "AMD", "AVGO", "QCOM", "MRVL"]
    assert set(peer_group("semi_equipment")) <= set(peer_group("semis"))
    with pytest.raises(SpecificationError, match="unknown peer group 'chips'; valid groups: semis"):
        peer_group("chips")


def test_peer_groups_bad_files(tmp_path):
    p = tmp_path / "groups.yaml"
    p.write_text("semis: [NVDA, NVDA]\nempty: []\nlower: [nvda]\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        peer_groups(p)
    assert info.value.problems == [
        "groups.yaml, group 'semis': duplicate symbol(s) ['NVDA']",
        "groups.yaml, group 'empty': needs a non-empty list of symbols",
        "groups.yaml, group 'lower': invalid symbol(s) ['nvda']",
    ]
    p.write_text("semis: [NVDA\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="is not valid YAML"):
        peer_groups(p)
    with pytest.raises(DataError, match="peer-group file .* not found"):
        peer_groups(tmp_path / "none.yaml")


@pytest.mark.realdata
def test_every_peer_symbol_has_a_price_file(shared_prices_dir):
    for name, symbols in peer_groups().items():
        for sym in symbols:
            assert (shared_prices_dir / f"{sym}.csv").is_file(), (name, sym)


@pytest.mark.realdata
def test_event_days_are_trading_days_in_the_price_data(shared_prices_dir):
    dates = set(pd.read_csv(shared_prices_dir / "NVDA.csv", usecols=["date"])["date"])
    for d in export_control_events()["day0"].dt.strftime("%Y-%m-%d"):
        assert d in dates
