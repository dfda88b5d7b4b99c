"""Other news on the days a study uses (``confounders()``): registry events' windows and earnings
reaction days in the event and estimation windows, the same days ``exclude=`` leaves out."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import analysis as an
from analysis.data import calendar
from analysis.errors import SpecificationError
from analysis.eventstudy.design import CONFOUNDER_COLUMNS

EVENT = "2023-10-17"


def _prices(seed=5):
    """Daily prices of SPY and two firms with market betas 1.0 and 1.3, 2021-06 to 2024-03."""
    rng = np.random.default_rng(seed)
    sessions = calendar.sessions("2021-06-01", "2024-03-28")
    m = rng.normal(0.0004, 0.01, (len(sessions), 1))
    firms = 0.0003 + np.array([1.0, 1.3]) * m + rng.normal(0, 0.02, (len(sessions), 2))
    r = pd.DataFrame(np.hstack([m, firms]), index=sessions, columns=["SPY", "AAA", "BBB"])
    return 100 * (1 + r).cumprod()


def _days(*dates):
    return [pd.Timestamp(d) for d in dates]


def _fake_earnings(monkeypatch, rows_by_symbol):
    """Replace the earnings table by ``rows_by_symbol`` (symbol -> [(date, fiscal period)])."""
    import analysis.data.earnings as earnings

    def fake(symbol, path=None):
        rows = rows_by_symbol.get(symbol, [])
        return pd.DataFrame(
            {
                "date": _days(*(d for d, _ in rows)),
                "fiscal_period": [p for _, p in rows],
                "announcement": _days(*(d for d, _ in rows)),
                "reason": [f"{symbol} earnings {p}; day 0 {d}" for d, p in rows],
            },
            columns=["date", "fiscal_period", "announcement", "reason"],
        )

    monkeypatch.setattr(earnings, "earnings_reaction_days", fake)


def test_registry_event_windows_in_both_windows_with_relative_days():
    res = an.event_study(["AAA", "BBB"], EVENT, market="SPY", prices=_prices())
    t = res.confounders()
    assert list(t.columns) == list(CONFOUNDER_COLUMNS)
    a = t[t["firm"] == "AAA"]
    est = a[a["where"] == "estimation window"]
    assert sorted(set(est["id"])) == ["E05", "E06", "E07"]  # no earnings rows for AAA, no error
    e06 = est[est["id"] == "E06"]
    assert list(e06["date"]) == _days(
        "2023-06-27", "2023-06-28", "2023-06-29", "2023-06-30", "2023-07-03"
    )
    assert list(e06["rel_day"]) == [-78, -77, -76, -75, -74]
    assert set(e06["news_day0"]) == {pd.Timestamp("2023-06-28")}
    evt = a[a["where"] == "event window"]
    # E08 shares day 0 with the study's date and is its own event; E09 (after the close) is not
    assert list(evt["id"]) == ["E09"] * 4
    assert list(evt["rel_day"]) == [0, 1, 2, 3]
    assert evt.loc[evt["date"] == pd.Timestamp("2023-10-18"), "news_day0"].iloc[0] == pd.Timestamp(
        "2023-10-18"
    )
    assert (
        t[t["firm"] == "BBB"].drop(columns="firm").values == a.drop(columns="firm").values
    ).all()
    summary = res.confounders(by_firm=True)
    assert summary.loc["AAA"].to_dict() == {
        "event_window_days": 4,
        "estimation_window_days": 15,
        "registry_events": "E05, E06, E07, E09",
        "earnings": "",
        "contaminated": True,
    }


def test_estimation_rows_are_exactly_the_days_exclude_leaves_out():
    px = _prices()
    plain = an.event_study("AAA", EVENT, market="SPY", prices=px)
    clean = an.event_study("AAA", EVENT, market="SPY", prices=px, exclude="events")
    t = plain.confounders()
    start = plain.window_dates("estimation")[0]
    dropped = clean.excluded[clean.excluded["date"] >= start]
    assert sorted(t.loc[t["where"] == "estimation window", "date"]) == sorted(dropped["date"])
    # with the days left out, only the event window (never touched by exclude=) stays confounded
    after = clean.confounders()
    assert set(after["where"]) == {"event window"}
    assert clean.confounders(by_firm=True).loc["AAA", "estimation_window_days"] == 0
    assert bool(clean.confounders(by_firm=True).loc["AAA", "contaminated"])


def test_a_clean_study_has_no_confounders():
    res = an.event_study(
        ["AAA", "BBB"], "2022-06-15", market="SPY", estimation=(-100, -11), prices=_prices()
    )
    t = res.confounders()
    assert t.empty and list(t.columns) == list(CONFOUNDER_COLUMNS)
    summary = res.confounders(by_firm=True)
    assert list(summary.index) == ["AAA", "BBB"]
    assert not summary["contaminated"].any()
    assert summary["estimation_window_days"].tolist() == [0, 0]


def test_earnings_only_for_firms_the_table_covers(monkeypatch):
    _fake_earnings(
        monkeypatch,
        {
            "AAA": [
                ("2021-01-05", "FY2021Q4"),
                ("2023-05-25", "FY2024Q1"),
                ("2023-10-19", "FY2024Q3"),
            ]
        },
    )
    px = _prices()
    res = an.event_study(["AAA", "BBB"], EVENT, market="SPY", prices=px)
    t = res.confounders()
    earn = t[t["kind"] == "earnings"]
    assert earn[["firm", "date", "rel_day", "where", "id"]].values.tolist() == [
        ["AAA", pd.Timestamp("2023-05-25"), -99, "estimation window", "FY2024Q1"],
        ["AAA", pd.Timestamp("2023-10-19"), 2, "event window", "FY2024Q3"],
    ]
    summary = res.confounders(by_firm=True)
    assert summary.loc["AAA", "earnings"] == "FY2024Q1, FY2024Q3"
    assert summary.loc["BBB", "earnings"] == ""
    # exclude="earnings" refuses this table: quarters are missing in the estimation sample
    with pytest.raises(SpecificationError, match="no AAA announcement between 2021-01-05 and"):
        an.event_study("AAA", EVENT, market="SPY", prices=px, exclude="earnings")
    # with every quarter listed it leaves out the estimation days the confounders name
    quarters = [("2022-08-25", "FY2023Q2"), ("2022-11-17", "FY2023Q3"), ("2023-02-23", "FY2023Q4")]
    _fake_earnings(
        monkeypatch,
        {
            "AAA": [
                *quarters,
                ("2023-05-25", "FY2024Q1"),
                ("2023-08-24", "FY2024Q2"),
                ("2023-10-19", "FY2024Q3"),
            ]
        },
    )
    plain = an.event_study("AAA", EVENT, market="SPY", prices=px).confounders()
    named = plain.loc[
        (plain["kind"] == "earnings") & (plain["where"] == "estimation window"), "date"
    ]
    clean = an.event_study("AAA", EVENT, market="SPY", prices=px, exclude="earnings")
    assert named.tolist() == _days("2022-11-17", "2023-02-23", "2023-05-25", "2023-08-24")
    assert (
        sorted(clean.excluded["date"]) == named.tolist()
    )  # the extension stops short of 2022-08-25
    after = clean.confounders()
    assert after.loc[after["kind"] == "earnings", "date"].tolist() == [pd.Timestamp("2023-10-19")]


def test_no_earnings_module_means_no_earnings_rows(monkeypatch):
    monkeypatch.setitem(sys.modules, "analysis.data.earnings", None)
    res = an.event_study("AAA", EVENT, market="SPY", prices=_prices())
    t = res.confounders()
    assert set(t["kind"]) == {"registry event"}
    assert len(t) == 19


# ---- real data ----------------------------------------------------------------------------------


@pytest.mark.realdata
def test_nvda_e08_confounders(real_prices):
    res = an.event_study("NVDA", "E08", market="SPY")
    t = res.confounders()
    est = t[t["where"] == "estimation window"]
    e06 = est[est["id"] == "E06"]
    assert list(e06["date"]) == _days(
        "2023-06-27", "2023-06-28", "2023-06-29", "2023-06-30", "2023-07-03"
    )
    may = est[est["date"] == pd.Timestamp("2023-05-25")]
    assert may[["kind", "id", "rel_day"]].values.tolist() == [["earnings", "FY2024Q1", -99]]
    evt = t[t["where"] == "event window"].set_index("date")
    assert evt.loc[pd.Timestamp("2023-10-18"), ["id", "rel_day"]].tolist() == ["E09", 1]
    assert sorted(set(est["id"])) == [
        "E05",
        "E06",
        "E07",
        "FY2023Q3",
        "FY2023Q4",
        "FY2024Q1",
        "FY2024Q2",
    ]
    clean = an.event_study("NVDA", "E08", market="SPY", exclude="events,earnings")
    dropped = clean.excluded[clean.excluded["date"] >= res.window_dates("estimation")[0]]
    assert sorted(est["date"]) == sorted(dropped["date"])
    summary = res.confounders(by_firm=True).loc["NVDA"]
    assert (summary["event_window_days"], summary["estimation_window_days"]) == (4, 19)
    assert bool(summary["contaminated"])
