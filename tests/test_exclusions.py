"""Days left out of the estimation window (``exclude=``): which days, the backward extension, the
shortfall when the data run out, the listing of every day left out, and real NVDA E08 data."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import analysis as an
from analysis.cli import main
from analysis.data import calendar
from analysis.errors import DateFormatError, SpecificationError
from analysis.eventstudy.design import extend_estimation, parse_exclude

EVENT = "2023-10-17"


def _prices(start="2022-06-01", seed=3):
    rng = np.random.default_rng(seed)
    sessions = calendar.sessions(start, "2024-03-28")
    m = rng.normal(0.0004, 0.01, len(sessions))
    cols = {"SPY": m}
    for i, firm in enumerate(("AAA", "BBB")):
        cols[firm] = 0.0003 + (1.0 + 0.3 * i) * m + rng.normal(0, 0.02, len(sessions))
    return 100 * (1 + pd.DataFrame(cols, index=sessions)).cumprod()


def _ols_on(px, firm, days):
    r = px.pct_change(fill_method=None).loc[days]
    return sm.OLS(r[firm], sm.add_constant(r["SPY"])).fit()


# ---- the extension rule ------------------------------------------------------------------------


def test_extend_estimation_counts_back_over_dropped_and_missing_days():
    valid = np.ones(20, dtype=bool)
    valid[[15, 16, 12]] = False  # two excluded days and one missing return
    assert extend_estimation(valid, end=18, need=10) == (6, 0)  # 18..6 minus 3 invalid = 10 days
    assert extend_estimation(np.ones(20, dtype=bool), end=18, need=10) == (9, 0)


def test_extend_estimation_states_the_shortfall_when_data_run_out():
    valid = np.ones(12, dtype=bool)
    valid[[3, 4]] = False
    # positions 1..11 hold 9 valid days (position 0 has no return): 1 short of 10
    assert extend_estimation(valid, end=11, need=10) == (1, 1)


def test_excluded_dates_extend_the_window_and_fit_exactly_the_kept_days():
    px = _prices()
    sessions = px.index
    d0 = sessions.get_loc(pd.Timestamp(EVENT))
    drop = [sessions[d0 - 100], sessions[d0 - 30], sessions[d0 - 29]]
    res = an.event_study(
        ["AAA", "BBB"], EVENT, prices=px, exclude=[d.date().isoformat() for d in drop]
    )
    kept = [s for s in sessions[d0 - 253 : d0 - 10] if s not in drop]
    assert len(kept) == 240
    cov = res.estimation_coverage
    assert cov.loc["AAA", "start_day"] == -253
    assert cov.loc["AAA", "start"] == sessions[d0 - 253]
    assert cov.loc["AAA", "shortfall"] == 0 and cov.loc["AAA", "excluded"] == 3
    assert list(res.estimation_shortfall) == [0, 0]
    assert res.window_dates("estimation") == (sessions[d0 - 253], sessions[d0 - 11])
    for firm in ("AAA", "BBB"):
        fit = _ols_on(px, firm, kept)
        assert res.fit_stats.loc[firm, "n_estimation"] == 240
        assert res.fit_stats.loc[firm, "n_missing"] == 0
        assert res.params.loc[firm, "beta"] == pytest.approx(fit.params["SPY"], abs=1e-10)
        assert res.fit_stats.loc[firm, "sigma"] == pytest.approx(np.sqrt(fit.scale), rel=1e-10)
        w = px.pct_change(fill_method=None).iloc[d0 - 1 : d0 + 4]
        ar = w[firm] - fit.params["const"] - fit.params["SPY"] * w["SPY"]
        np.testing.assert_allclose(res.ar[firm].to_numpy(), ar.to_numpy(), atol=1e-12)
    ex = res.excluded
    assert list(ex.columns) == ["firm", "date", "reason"]
    assert len(ex) == 6 and set(ex["reason"]) == {"date given in exclude"}
    assert res.conclusion().endswith(
        f"reaches back to {sessions[d0 - 253]:%Y-%m-%d} to keep 240 days."
    )
    assert list(ex.loc[ex["firm"] == "AAA", "date"]) == sorted(drop)


def test_shortfall_when_the_price_data_run_out():
    px = _prices()
    sessions = px.index
    d0 = sessions.get_loc(pd.Timestamp(EVENT))
    px = px.iloc[d0 - 252 :]  # first return at day -251: room for one day more than (-250,-11)
    drop = [px.index[60], px.index[61], px.index[62]]
    res = an.event_study("AAA", EVENT, prices=px, exclude=[d.date().isoformat() for d in drop])
    cov = res.estimation_coverage.loc["AAA"]
    assert cov["start_day"] == -251 and cov["shortfall"] == 2
    assert res.fit_stats.loc["AAA", "n_estimation"] == 238
    text = res.summary().as_text()
    assert "AAA has 238 of 240 valid days (price data run out at" in text
    assert res.conclusion().endswith(
        f"The estimation window leaves out 3 firm-day(s) ({', '.join(f'{d:%Y-%m-%d}' for d in drop)})"
        " and reaches back to "
        f"{px.index[1]:%Y-%m-%d}; the price data run out before it was filled (days short: AAA 2)."
    )
    doc = res.to_dict()
    assert doc["firms"]["AAA"]["estimation_shortfall"] == 2
    assert [e["date"] for e in doc["firms"]["AAA"]["excluded"]] == [
        d.date().isoformat() for d in drop
    ]


def test_default_has_no_exclusion_keys_and_the_event_window_is_never_excluded():
    px = _prices()
    plain = an.event_study("AAA", EVENT, prices=px)
    assert plain.exclude is None and plain.excluded.empty
    doc = plain.to_dict()
    assert "exclude" not in doc and "excluded" not in doc["firms"]["AAA"]
    inside = an.event_study("AAA", EVENT, prices=px, exclude=["2023-10-17", "2023-10-16"])
    assert inside.excluded.empty  # event-window days: nothing left out
    assert inside.estimation_coverage.loc["AAA", "start_day"] == -250
    np.testing.assert_array_equal(inside.ar.to_numpy(), plain.ar.to_numpy())


def test_parse_exclude_items_and_errors():
    items = parse_exclude(" events, EARNINGS ,2023-05-25,events")
    assert items == ("events", "earnings", pd.Timestamp("2023-05-25"))
    assert parse_exclude([pd.Timestamp("2023-05-25 14:00")]) == (pd.Timestamp("2023-05-25"),)
    with pytest.raises(SpecificationError, match="unknown item 'holidays'"):
        parse_exclude("events,holidays")
    with pytest.raises(SpecificationError, match="empty item"):
        parse_exclude("events,")
    with pytest.raises(SpecificationError, match=r"2023-05-27 is not an NYSE session \(weekend\)"):
        parse_exclude("2023-05-27")
    with pytest.raises(DateFormatError, match="2023-13-01"):
        parse_exclude("2023-13-01")


def test_earnings_without_the_table_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "analysis.data.earnings", None)  # import fails
    with pytest.raises(SpecificationError, match="earnings dates are not available"):
        an.event_study("AAA", EVENT, prices=_prices(), exclude="earnings")


def test_earnings_for_a_firm_the_table_lacks_is_a_clear_error():
    pytest.importorskip("analysis.data.earnings")
    with pytest.raises(SpecificationError, match="no dates for AAA"):
        an.event_study("AAA", EVENT, prices=_prices(), exclude="earnings")


def test_events_exclude_registry_windows_in_the_estimation_window():
    px = _prices()
    res = an.event_study("AAA", "E08", prices=px, exclude="events")
    ex = res.excluded
    e06 = ex[ex["reason"].str.startswith("E06 ")]
    assert list(e06["date"].dt.strftime("%Y-%m-%d")) == [
        "2023-06-27",
        "2023-06-28",
        "2023-06-29",
        "2023-06-30",
        "2023-07-03",
    ]
    assert not ex["reason"].str.contains("E08 ").any()  # never the study's own event
    assert res.fit_stats.loc["AAA", "n_estimation"] == 240


# ---- real data ----------------------------------------------------------------------------------


@pytest.mark.realdata
def test_nvda_e08_events_excluded_equals_statsmodels_on_the_kept_days(
    real_prices, shared_prices_dir
):
    res = an.event_study("NVDA", "E08", market="SPY", exclude="events")
    cols = {}
    for s in ("NVDA", "SPY"):
        df = pd.read_csv(shared_prices_dir / f"{s}.csv", parse_dates=["date"], index_col="date")
        cols[s] = df["adj_close"]
    r = pd.DataFrame(cols).pct_change(fill_method=None)
    d0 = r.index.get_loc(pd.Timestamp("2023-10-17"))
    dropped = set(res.excluded["date"])
    e06 = {pd.Timestamp(d) for d in ("2023-06-27", "2023-06-28", "2023-06-29", "2023-06-30")}
    assert e06 | {pd.Timestamp("2023-07-03")} <= dropped
    start = r.index.get_loc(res.estimation_coverage.loc["NVDA", "start"])
    kept = r.iloc[start : d0 - 10]
    kept = kept[~kept.index.isin(dropped)]
    assert len(kept) == 240 == res.fit_stats.loc["NVDA", "n_estimation"]
    fit = sm.OLS(kept["NVDA"], sm.add_constant(kept["SPY"])).fit()
    win = r.iloc[d0 - 1 : d0 + 4]
    ar = win["NVDA"] - fit.params["const"] - fit.params["SPY"] * win["SPY"]
    np.testing.assert_allclose(res.ar["NVDA"].to_numpy(), ar.to_numpy(), atol=1e-12)
    assert res.fit_stats.loc["NVDA", "sigma"] == pytest.approx(np.sqrt(fit.scale), rel=1e-10)
    assert res.car().estimate["NVDA"] == pytest.approx(-0.0677, abs=5e-4)


@pytest.mark.realdata
def test_nvda_e08_earnings_exclude_the_may_2023_reaction_day(real_prices):
    pytest.importorskip("analysis.data.earnings")
    res = an.event_study("NVDA", "E08", market="SPY", exclude="events,earnings")
    ex = res.excluded.set_index("date")
    assert "FY2024Q1" in ex.loc[pd.Timestamp("2023-05-25"), "reason"]
    assert res.fit_stats.loc["NVDA", "n_estimation"] == 240


@pytest.mark.realdata
def test_cli_exclude(real_prices, capsys):
    code = main(["study", "NVDA", "--event", "E08", "--exclude", "events,2023-05-25", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["exclude"] == ["events", "2023-05-25"]
    listed = {e["date"]: e["reason"] for e in doc["firms"]["NVDA"]["excluded"]}
    assert listed["2023-05-25"] == "date given in exclude"
    assert listed["2023-06-28"].startswith("E06 window [-1,+3]")
    assert doc["firms"]["NVDA"]["n_estimation"] == 240
    assert doc["firms"]["NVDA"]["estimation_shortfall"] == 0


# ---- earnings coverage: cleaning refuses a table with missing quarters -------------------------


def _days(*isos):
    return [pd.Timestamp(d) for d in isos]


def test_earnings_coverage_accepts_quarterly_announcements_around_the_span():
    from analysis.eventstudy.design import check_earnings_coverage

    known = _days("2022-11-16", "2023-02-22", "2023-05-24", "2023-08-23", "2023-11-21")
    span = pd.date_range("2022-12-01", "2023-10-31", freq="B").to_numpy()
    check_earnings_coverage("XYZ", known, span)  # 98, 91, 91, 90 days apart: complete


@pytest.mark.parametrize(
    ("known", "gap"),
    [
        # a quarter missing inside the span: 2023-02-22 -> 2023-08-23 is 182 days
        (
            ("2022-11-16", "2023-02-22", "2023-08-23", "2023-11-21"),
            "2023-02-22 and 2023-08-23 \\(182",
        ),
        # the table starts after the span: 2022-12-01 -> 2023-05-24 is 174 days
        (("2023-05-24", "2023-08-23", "2023-11-21"), "2022-12-01 and 2023-05-24 \\(174"),
        # the table ends before the span does: 2023-05-24 -> 2023-10-31 is 160 days
        (("2022-11-16", "2023-02-22", "2023-05-24"), "2023-05-24 and 2023-10-31 \\(160"),
    ],
)
def test_earnings_coverage_names_the_gap(known, gap):
    from analysis.eventstudy.design import check_earnings_coverage

    span = pd.date_range("2022-12-01", "2023-10-31", freq="B").to_numpy()
    with pytest.raises(SpecificationError, match=f"no XYZ announcement between {gap} days\\)"):
        check_earnings_coverage("XYZ", _days(*known), span)


@pytest.mark.realdata
def test_earnings_exclusion_refuses_a_firm_whose_table_starts_after_the_window(real_prices):
    pytest.importorskip("analysis.data.earnings")
    # AMD's cited dates start in 2022; E02's estimation window starts in 2021-08
    with pytest.raises(SpecificationError, match="no AMD announcement between 2021-08-31 and"):
        an.event_study("AMD", "E02", market="SPY", exclude="events,earnings")
    res = an.event_study("AMD", "E08", market="SPY", exclude="events,earnings")
    assert res.fit_stats.loc["AMD", "n_estimation"] == 240


@pytest.mark.realdata
def test_robustness_grid_fits_every_specification_on_the_cleaned_window(real_prices):
    grid = an.robustness_grid(
        "NVDA",
        "E08",
        models="market_model",
        markets="SPY",
        windows=[(-1, 3)],
        estimations=[(-250, -11)],
        exclude="events,earnings",
    )
    res = an.event_study("NVDA", "E08", market="SPY", exclude="events,earnings")
    row = grid.iloc[0]
    assert row["car"] == pytest.approx(res.car().estimate["NVDA"], abs=1e-15)
    assert row["pvalue"] == pytest.approx(res.car().pvalue["NVDA"], abs=1e-15)
    plain = an.robustness_grid(
        "NVDA",
        "E08",
        models="market_model",
        markets="SPY",
        windows=[(-1, 3)],
        estimations=[(-250, -11)],
    )
    assert plain.iloc[0]["car"] != pytest.approx(row["car"], abs=1e-6)
