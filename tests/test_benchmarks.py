"""Benchmarks without the firm: peers-ex-firm and SPY-ex-firm series, the weight drift rule, the
anchor table, bad input, the Lamb test with per-firm benchmarks and real NVDA data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis as an
from analysis.data import calendar
from analysis.data.index_weights import NoIndexWeightError, anchor_weights, load_index_weights
from analysis.errors import SpecificationError, ValidationError
from analysis.eventstudy import benchmarks
from analysis.eventstudy.benchmarks import (
    anchor_error,
    drift_weights,
    parse_benchmark,
    peers_ex_firm,
    spy_ex_firm,
)
from analysis.eventstudy.robustness import robustness_grid

SEMIS = ["NVDA", "AMD", "INTC", "AVGO", "TSM", "QCOM", "MU", "ASML", "AMAT", "LRCX", "KLAC"]
SEMIS += ["MRVL", "TXN"]


def _prices(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sessions = calendar.sessions("2022-06-01", "2024-03-28")
    m = rng.normal(0.0004, 0.01, len(sessions))
    cols = {"SPY": m}
    for i, firm in enumerate(SEMIS):
        cols[firm] = (1.0 + 0.05 * i) * m + rng.normal(0, 0.02, len(sessions))
    return 100 * (1 + pd.DataFrame(cols, index=sessions)).cumprod()


# ---- the drift rule (synthetic) ----------------------------------------------------------------


def test_drift_follows_relative_returns_and_restarts_at_each_anchor():
    days = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=6))
    rf = pd.Series([0.0, 0.10, -0.05, 0.02, 0.0, 0.01], index=days)
    rm = pd.Series([0.0, 0.01, 0.00, 0.01, 0.0, -0.01], index=days)
    anchors = pd.Series([0.05, 0.08], index=pd.DatetimeIndex([days[1], days[3]]))
    w = drift_weights(rf, rm, anchors)
    # start of day 2 = close of day 1 = anchor; day 3 = 0.05 * 0.95 / 1.00; day 4 = the 2nd anchor
    assert w.iloc[2] == pytest.approx(0.05)
    assert w.iloc[3] == pytest.approx(0.05 * 0.95)
    assert w.iloc[4] == pytest.approx(0.08)
    assert w.iloc[5] == pytest.approx(0.08 * 1.0 / 1.0)
    # before the first anchor the rule runs backwards: close(0) = 0.05 * 1.01 / 1.10
    assert w.iloc[1] == pytest.approx(0.05 * 1.01 / 1.10)


def test_drift_keeps_the_weight_on_a_missing_return():
    days = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=4))
    rf = pd.Series([0.0, np.nan, 0.10, 0.0], index=days)
    rm = pd.Series([0.0, 0.02, 0.00, 0.0], index=days)
    w = drift_weights(rf, rm, pd.Series([0.04], index=days[:1]))
    assert w.iloc[2] == pytest.approx(0.04)
    assert w.iloc[3] == pytest.approx(0.044)


def test_anchor_error_is_the_drifted_weight_against_the_next_anchor():
    days = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=3))
    rf = pd.Series([0.0, 0.10, 0.10], index=days)
    rm = pd.Series([0.0, 0.00, 0.00], index=days)
    err = anchor_error(rf, rm, pd.Series([0.05, 0.06], index=days[[0, 2]]))
    assert err["drifted"].iloc[0] == pytest.approx(0.0605)
    assert err["error"].iloc[0] == pytest.approx(0.0605 / 0.06 - 1)


def test_spy_ex_firm_formula_on_synthetic_returns():
    days = calendar.sessions("2024-07-01", "2024-07-03")
    simple = pd.DataFrame({"NVDA": [0.02, -0.01, 0.03], "SPY": [0.01, 0.0, 0.005]}, index=days)
    ex = spy_ex_firm(simple, "NVDA")  # anchor 2024-06-28: 6.63 %
    assert ex.iloc[0] == pytest.approx((0.01 - 0.0663 * 0.02) / (1 - 0.0663))
    w1 = 0.0663 * 1.02 / 1.01
    assert ex.iloc[1] == pytest.approx((0.0 + w1 * 0.01) / (1 - w1))


# ---- the anchor table and bad input --------------------------------------------------------------


def test_anchor_table_has_sources_and_weights_in_range():
    table = load_index_weights()
    assert len(table) >= 3
    assert table["source"].str.startswith("https://").all()
    assert table["weight"].between(0.01, 0.2).all()
    nvda = anchor_weights("NVDA")
    assert nvda.loc["2024-06-28"] == pytest.approx(0.0663)


def test_bad_anchor_table_lists_every_problem(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text(
        "index,symbol,as_of,weight,source,confidence\n"
        "S&P 500,NVDA,2024-13-01,0.05,https://x,medium\n"
        "S&P 500,NVDA,2024-06-28,1.5,,medium\n"
    )
    with pytest.raises(ValidationError) as exc:
        load_index_weights(p)
    text = str(exc.value)
    assert "w.csv:2, column 'as_of'" in text
    assert "w.csv:3, column 'weight': '1.5' is not a share in (0, 1)" in text
    assert "w.csv:3, column 'source': empty" in text


def test_firm_without_anchors_is_a_named_error():
    px = _prices()
    with pytest.raises(NoIndexWeightError, match="no cited S&P 500 weight for AMD"):
        an.event_study(["AMD"], event="2023-10-17", market="SPY-ex-firm", prices=px)


def test_unknown_peer_group_is_a_named_error():
    with pytest.raises(SpecificationError, match="unknown peer group 'chips'; valid groups: semis"):
        parse_benchmark("peers-ex-firm:chips")
    with pytest.raises(SpecificationError, match="needs a peer group"):
        parse_benchmark("peers-ex-firm:")
    with pytest.raises(SpecificationError, match="not for constant_mean"):
        an.event_study(
            ["NVDA"], event="2023-10-17", model="constant_mean", market="peers-ex-firm:semis"
        )


# ---- per-firm benchmarks in a study ------------------------------------------------------------


def test_peers_ex_firm_in_a_study_equals_ols_on_the_peer_mean():
    import statsmodels.api as sm

    px = _prices()
    res = an.event_study(["AMD"], event="2023-10-17", market="peers-ex-firm:semis", prices=px)
    r = px.pct_change(fill_method=None)
    bench = r[[s for s in SEMIS if s != "AMD"]].mean(axis=1)
    est = res._design.est_dates[0]
    ols = sm.OLS(r.loc[est, "AMD"], sm.add_constant(bench.loc[est])).fit()
    assert res.params.loc["AMD", "beta"] == pytest.approx(ols.params.iloc[1], rel=1e-10)
    assert res.model.label == "market_model (peers-ex-firm:semis)"


def test_peer_with_a_missing_day_leaves_the_mean_of_the_others():
    days = calendar.sessions("2024-01-02", "2024-01-04")
    simple = pd.DataFrame({s: [0.01 * (i + 1)] * 3 for i, s in enumerate(SEMIS)}, index=days)
    simple.loc[days[1], "AMD"] = np.nan
    out = peers_ex_firm(simple, "NVDA", "semis")
    others = [0.01 * (i + 1) for i, s in enumerate(SEMIS) if s != "NVDA"]
    assert out.iloc[0] == pytest.approx(np.mean(others))
    assert out.iloc[1] == pytest.approx(np.mean([v for v in others if v != 0.02]))


def test_lamb_is_not_computed_when_firms_have_their_own_benchmarks():
    px = _prices()
    res = an.event_study(
        ["AMD", "INTC", "MU"], event="2023-10-17", market="peers-ex-firm:semis", prices=px
    )
    table = res.tests().to_frame()
    assert table.loc["lamb", "reason"] == (
        "not computed: each firm has its own benchmark (needs one market)"
    )
    assert np.isfinite(table.loc["patell", "stat"])
    shared = an.event_study(["AMD", "INTC", "MU"], event="2023-10-17", prices=px)
    assert np.isfinite(shared.tests().to_frame().loc["lamb", "stat"])


def test_robustness_grid_ex_firm_is_opt_in():
    px = _prices()
    kw = dict(models=["market_model"], markets=["SPY"], windows=[(0, 1)], estimations=[(-120, -11)])
    base = robustness_grid(["NVDA"], "2023-10-17", prices=px, **kw)
    more = robustness_grid(["NVDA"], "2023-10-17", prices=px, ex_firm=True, **kw)
    assert list(base["benchmark"]) == ["SPY"]
    assert list(more["benchmark"]) == ["SPY", "peers-ex-firm:semis", "SPY-ex-firm"]
    assert more.loc[0, "car"] == base.loc[0, "car"]
    assert benchmarks.applicable(["AMD"]) == ["peers-ex-firm:semis"]


# ---- real data ----------------------------------------------------------------------------------


def _raw_returns(folder, symbols):
    cols = {}
    for s in symbols:
        px = pd.read_csv(folder / f"{s}.csv", index_col="date", parse_dates=True)["adj_close"]
        cols[s] = px.pct_change()
    return pd.DataFrame(cols)


@pytest.mark.realdata
def test_real_peers_ex_firm_for_nvda_against_hand_values(real_prices, shared_prices_dir):
    from analysis.data import prices

    px = prices.adj_close(SEMIS)
    simple = px.pct_change(fill_method=None)
    out = peers_ex_firm(simple, "NVDA", "semis")
    raw = _raw_returns(shared_prices_dir, [s for s in SEMIS if s != "NVDA"]).mean(axis=1)
    for day, value in (
        ("2022-10-07", -0.061630670019),
        ("2023-10-17", -0.002893553961),
        ("2023-10-18", -0.015474411469),
    ):
        assert out.loc[day] == pytest.approx(value, abs=1e-9)
        assert out.loc[day] == pytest.approx(raw.loc[day], abs=1e-12)


@pytest.mark.realdata
def test_real_spy_ex_firm_for_nvda_against_hand_values(real_prices):
    from analysis.data import prices

    simple = prices.adj_close(["NVDA", "SPY"]).pct_change(fill_method=None)
    ex = spy_ex_firm(simple, "NVDA")
    # 2024-07-01: w = 0.0663 (close of 2024-06-28); 2024-07-02: w drifted one day
    assert ex.loc["2024-07-01"] == pytest.approx(0.001767310623, abs=1e-9)
    assert ex.loc["2024-07-02"] == pytest.approx(0.008144807359, abs=1e-9)


@pytest.mark.realdata
def test_real_drift_error_at_the_anchors(real_prices):
    """The weight drifted from one cited anchor to the next, against the cited value."""
    from analysis.data import prices

    simple = prices.adj_close(["NVDA", "SPY"]).pct_change(fill_method=None)
    err = anchor_error(simple["NVDA"], simple["SPY"], anchor_weights("NVDA"))
    assert list(err["to"].dt.strftime("%Y-%m-%d")) == ["2024-09-30", "2025-09-30"]
    assert err["error"].abs().max() < 0.05
    assert err["error"].round(4).tolist() == pytest.approx(REAL_DRIFT_ERRORS, abs=1e-4)


REAL_DRIFT_ERRORS = [0.0054, 0.0046]  # drifted / cited - 1 at 2024-09-30 and 2025-09-30
