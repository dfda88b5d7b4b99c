"""Event-study engine end to end on synthetic prices with answers computed independently."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import analysis as an
from analysis.data import calendar
from analysis.errors import CalendarError, DataError, EstimationError, SpecificationError

EVENT = "2023-10-17"


def _prices(seed=1, firms=("AAA", "BBB", "CCC", "DDD"), jump=0.05, gaps=True):
    rng = np.random.default_rng(seed)
    sessions = calendar.sessions("2022-06-01", "2024-03-28")
    n = len(sessions)
    m = rng.normal(0.0004, 0.01, n)
    s = rng.normal(0.0006, 0.015, n)
    cols = {"SPY": m, "SOXX": s}
    d0 = sessions.get_loc(pd.Timestamp(EVENT))
    for i, f in enumerate(firms):
        r = 0.0002 * i + (0.8 + 0.2 * i) * m + rng.normal(0, 0.02, n)
        r[d0] += jump
        cols[f] = r
    rets = pd.DataFrame(cols, index=sessions)
    px = 100 * (1 + rets).cumprod()
    if gaps:
        px.loc[sessions[d0 - 100], "BBB"] = np.nan  # one missing price -> two missing returns
        px.loc[sessions[d0 + 1], "CCC"] = np.nan  # missing inside the event window
    return px


def _manual(px, firm, est=(-250, -11), win=(-1, 3)):
    sessions = px.index
    r = px.pct_change(fill_method=None)
    d0 = sessions.get_loc(pd.Timestamp(EVENT))
    e = r.iloc[d0 + est[0] : d0 + est[1] + 1]
    w = r.iloc[d0 + win[0] : d0 + win[1] + 1]
    ok = e[[firm, "SPY"]].dropna()
    fit = sm.OLS(ok[firm], sm.add_constant(ok["SPY"])).fit()
    ar = w[firm] - fit.params["const"] - fit.params["SPY"] * w["SPY"]
    return fit, ar, e, w


def test_market_model_matches_independent_statsmodels():
    px = _prices()
    res = an.event_study(["AAA", "BBB", "CCC", "DDD"], EVENT, market="SPY", prices=px)
    for firm in res.firms:
        fit, ar, e, w = _manual(px, firm)
        assert res.params.loc[firm, "alpha"] == pytest.approx(fit.params["const"], abs=1e-12)
        assert res.params.loc[firm, "beta"] == pytest.approx(fit.params["SPY"], abs=1e-10)
        assert res.fit_stats.loc[firm, "sigma"] == pytest.approx(np.sqrt(fit.scale), rel=1e-10)
        assert res.fit_stats.loc[firm, "n_estimation"] == fit.nobs
        np.testing.assert_allclose(res.ar[firm].to_numpy(), ar.to_numpy(), atol=1e-12)
        # exact CAR variance, closed form for the market model
        m_est = e.loc[e[firm].notna(), "SPY"]
        L1, L2 = len(m_est), 5
        var = fit.scale * (
            L2
            + L2**2 / L1
            + (w["SPY"] - m_est.mean()).sum() ** 2 / ((m_est - m_est.mean()) ** 2).sum()
        )
        car = res.car()
        if firm != "CCC":
            assert car.estimate[firm] == pytest.approx(ar.sum(), abs=1e-12)
            assert car.std_error[firm] == pytest.approx(np.sqrt(var), rel=1e-10)
    # the gap: BBB loses two estimation returns, CCC has no CAR over [-1,+3] but has one over [-1,0]
    assert res.fit_stats.loc["BBB", "n_missing"] == 2 and res.fit_stats.loc["AAA", "n_missing"] == 0
    assert (
        np.isnan(res.ar.loc[1, "CCC"])
        and np.isnan(res.ar.loc[2, "CCC"])
        and np.isfinite(res.ar.loc[3, "CCC"])
    )
    assert np.isnan(res.car().estimate["CCC"]) and res.car().n == 3
    assert np.isfinite(res.car((-1, 0)).estimate["CCC"]) and res.car((-1, 0)).n == 4
    assert res.car().tests()["cross_sectional_t"].n == 3


def test_day0_dates_and_reason():
    px = _prices(gaps=False)
    res = an.event_study("AAA", "2023-10-17T17:27", prices=px)
    assert res.event_day.date == pd.Timestamp("2023-10-18")
    assert "after the 16:00 ET close" in res.event_day.reason
    assert res.window_dates("event") == (pd.Timestamp("2023-10-17"), pd.Timestamp("2023-10-23"))
    est = calendar.sessions("2022-01-01", "2023-10-18")
    assert res.window_dates("estimation") == (est[-251], est[-12])


def test_injected_jump_is_found_and_bhar():
    px = _prices(jump=0.10, gaps=False)
    res = an.event_study(["AAA", "DDD"], EVENT, prices=px)
    assert (res.ar.loc[0] > 0.05).all()
    t = res.firm_tests((0, 0)).to_frame().xs("t_prediction_error", level="test")
    assert (t["pvalue"] < 0.01).all()
    # BHAR by hand over [0, 1]
    r = px.pct_change(fill_method=None)
    d0 = px.index.get_loc(pd.Timestamp(EVENT))
    a, b = res.params.loc["AAA", ["alpha", "beta"]]
    rr = r["AAA"].iloc[d0 : d0 + 2]
    ee = a + b * r["SPY"].iloc[d0 : d0 + 2]
    assert res.bhar((0, 1))["AAA"] == pytest.approx(np.prod(1 + rr) - np.prod(1 + ee), abs=1e-12)


def test_other_models():
    px = _prices(gaps=False)
    ma = an.event_study("AAA", EVENT, model="market_adjusted", market="SPY", prices=px)
    r = px.pct_change(fill_method=None)
    d0 = px.index.get_loc(pd.Timestamp(EVENT))
    assert ma.ar.loc[0, "AAA"] == pytest.approx(r["AAA"].iloc[d0] - r["SPY"].iloc[d0], abs=1e-14)
    cm = an.event_study("AAA", EVENT, model="constant_mean", market=None, prices=px)
    mu = r["AAA"].iloc[d0 - 250 : d0 - 10].mean()
    assert cm.ar.loc[0, "AAA"] == pytest.approx(r["AAA"].iloc[d0] - mu, abs=1e-14)
    fm = an.event_study(
        "AAA", EVENT, model="factor_model", market=None, factors=["SPY", "SOXX"], prices=px
    )
    e = r.iloc[d0 - 250 : d0 - 10]
    fit = sm.OLS(e["AAA"], sm.add_constant(e[["SPY", "SOXX"]])).fit()
    np.testing.assert_allclose(
        fm.params.loc["AAA", ["alpha", "beta_SPY", "beta_SOXX"]].to_numpy(float),
        fit.params.to_numpy(),
        atol=1e-10,
    )


def test_portfolio_is_one_firm_of_average_returns():
    px = _prices(gaps=False)
    res = an.event_study(["AAA", "BBB", "CCC"], EVENT, prices=px)
    port = res.portfolio()
    r = px.pct_change(fill_method=None)[["AAA", "BBB", "CCC"]].mean(axis=1)
    d0 = px.index.get_loc(pd.Timestamp(EVENT))
    e = r.iloc[d0 - 250 : d0 - 10]
    m = px["SPY"].pct_change(fill_method=None)
    fit = sm.OLS(e, sm.add_constant(m.iloc[d0 - 250 : d0 - 10])).fit()
    assert port.params.loc["portfolio", "beta"] == pytest.approx(fit.params.iloc[1], abs=1e-10)
    # the portfolio AR is the mean of the firm ARs (linearity of OLS)
    np.testing.assert_allclose(port.ar["portfolio"], res.ar.mean(axis=1), atol=1e-12)


def test_json_contract():
    px = _prices()
    doc = json.loads(
        json.dumps(an.event_study(["AAA", "BBB"], EVENT, prices=px).to_dict(), allow_nan=False)
    )
    for key in ("day0", "model", "market", "estimation", "window", "firms", "cross_section"):
        assert key in doc
    assert doc["day0"] == "2023-10-17" and doc["market"] == "SPY" and doc["model"] == "market_model"
    assert doc["window"]["start"] == "2023-10-16" and doc["window"]["end"] == "2023-10-20"
    f = doc["firms"]["AAA"]
    assert set(f) >= {"alpha", "beta", "sigma", "n_estimation", "ar", "car", "tests"}
    assert list(f["ar"]) == ["2023-10-16", "2023-10-17", "2023-10-18", "2023-10-19", "2023-10-20"]
    assert set(f["tests"]) == {"t_prediction_error", "sq", "permutation", "dummy_ols", "dummy_hac"}
    cs = doc["cross_section"]
    assert {"caar", "rbar", "tests"} <= set(cs)
    assert {
        "patell",
        "bmp",
        "kp_bmp",
        "bw_cda",
        "corrado_rank",
        "generalized_sign",
        "grank",
    } <= set(cs["tests"])
    assert all(set(v) >= {"stat", "pvalue"} for v in cs["tests"].values())


def test_summary_and_frames_do_not_print(capsys):
    px = _prices()
    res = an.event_study(["AAA", "BBB", "CCC"], EVENT, prices=px)
    text = str(res.summary())
    html = res._repr_html_()
    tidy = res.to_frame()
    assert capsys.readouterr().out == ""
    assert "Day 0:" in text and "kp_bmp" in text and "assumes independence" in text
    assert "<table" in html
    assert list(tidy.columns[:4]) == ["firm", "day", "date", "return"]
    assert len(tidy) == 15
    last = tidy[(tidy.firm == "AAA") & (tidy.day == 3)].iloc[0]
    assert last.car == pytest.approx(res.car().estimate["AAA"], abs=1e-14)
    assert last.car_se == pytest.approx(res.car().std_error["AAA"], rel=1e-12)
    ci = res.car().conf_int().loc[["AAA", "BBB"]]
    car = res.car().estimate.loc[["AAA", "BBB"]]
    assert (ci["lower"] < car).all() and (ci["upper"] > car).all()
    assert ci.loc["AAA", "upper"] - car["AAA"] == pytest.approx(
        res.car().std_error["AAA"] * 1.9700, rel=1e-3
    )
    cmp = an.compare(
        {"[-1,+3]": res, "[0,0]": an.event_study(["AAA"], EVENT, window=(0, 0), prices=px)}
    )
    assert cmp.loc[("[0,0]", "AAA"), "car"] == pytest.approx(res.ar.loc[0, "AAA"], abs=1e-12)


def test_bad_input_messages():
    px = _prices()
    with pytest.raises(
        SpecificationError,
        match=r"estimation window \[-250,-1\] overlaps the event window \[-1,\+3\]",
    ):
        an.event_study("AAA", EVENT, estimation=(-250, -1), prices=px)
    with pytest.raises(SpecificationError, match="unknown model 'capm'; valid models"):
        an.event_study("AAA", EVENT, model="capm", prices=px)
    with pytest.raises(
        CalendarError, match=r"AAA: the windows .* need returns from .* but the price data cover"
    ):
        an.event_study("AAA", "2022-07-01", prices=px)
    with pytest.raises(CalendarError, match="outside the price data"):
        an.event_study("AAA", "2025-06-02", prices=px)
    short = px.copy()
    short.loc[:"2023-08-25", "BBB"] = np.nan
    with pytest.raises(
        EstimationError,
        match=r"too few valid estimation returns \(need at least 30\): BBB has 2[0-9]",
    ):
        an.event_study(["AAA", "BBB"], EVENT, prices=short)
    flat = px.copy()
    flat["AAA"] = 50.0
    with pytest.raises(EstimationError, match="zero residual variance .* for AAA"):
        an.event_study("AAA", EVENT, model="constant_mean", market=None, prices=flat)
    with pytest.raises(DataError, match="the prices given have no column for ZZZ"):
        an.event_study("ZZZ", EVENT, prices=px)
    with pytest.raises(
        SpecificationError, match=r"CAR window \[0,\+9\] is not inside the event window"
    ):
        an.event_study("AAA", EVENT, car_window=(0, 9), prices=px)
    res = an.event_study("AAA", EVENT, prices=px)
    with pytest.raises(SpecificationError, match="multi-firm tests need two or more firms"):
        res.tests()
    with pytest.raises(SpecificationError, match="unknown test"):
        an.event_study(["AAA", "BBB"], EVENT, prices=px).tests(names=["patel"])


def test_headline_conclusion_and_against_group():
    px = _prices(gaps=False)
    one = an.event_study("AAA", EVENT, prices=px)
    h = one.headline()
    assert h["car"] == pytest.approx(one.car().estimate["AAA"]) and h["day0"] == "2023-10-17"
    text = one.conclusion()
    assert (
        text.startswith("AAA: abnormal return on day 0 ")
        and f"{one.car().estimate['AAA']:+.2%}" in text
    )
    res = an.event_study(["AAA", "BBB", "CCC", "DDD"], EVENT, prices=px)
    against = res.against_group()
    caar = res.car().caar
    assert all(np.sign(c) != np.sign(caar) for c in against["car"])
    assert set(against.index) | {
        f for f in res.firms if np.sign(res.car().estimate[f]) == np.sign(caar)
    } == set(res.firms)
    head = res.headline()
    assert (
        head["caar"] == pytest.approx(caar)
        and head["n_used"] == 4
        and head["against_group"] == list(against.index)
    )
    assert "Tests robust to the shared date: kp_bmp p = " in res.conclusion()


def test_robustness_grid_rows_and_summary():
    px = _prices(gaps=False)
    grid = an.robustness_grid(
        "AAA",
        EVENT,
        prices=px,
        models=("market_model", "constant_mean"),
        markets=("SPY", "SOXX"),
        windows=((0, 0), (-1, 3)),
        estimations=((-250, -11),),
    )
    assert len(grid) == (2 + 1) * 2 and (grid["error"] == "").all()
    row = grid[
        (grid.model == "market_model") & (grid.benchmark == "SOXX") & (grid.window == "[-1,+3]")
    ].iloc[0]
    direct = an.event_study("AAA", EVENT, market="SOXX", window=(-1, 3), prices=px).car()
    assert row.car == pytest.approx(
        direct.estimate["AAA"], abs=1e-14
    ) and row.pvalue == pytest.approx(direct.pvalue["AAA"])
    text = an.robustness.summarize(grid, "AAA")
    assert text.startswith("AAA: across 6 specifications the CAR ranges from ")
    bad = an.robustness_grid(
        "AAA",
        EVENT,
        prices=px,
        models=("market_model",),
        markets=("SPY",),
        windows=((-20, 0),),
        estimations=((-250, -11),),
    )
    assert "overlaps the event window" in bad["error"].iloc[0]


def test_constant_mean_cross_section_lists_lamb_as_not_computed():
    px = _prices(gaps=False)
    res = an.event_study(
        ["AAA", "BBB", "CCC"], EVENT, model="constant_mean", market=None, prices=px
    )
    tt = res.car().tests().to_frame()
    assert tt.loc["lamb", "reason"] == "not computed: needs a market index (this model has none)"
    assert np.isnan(tt.loc["lamb", "stat"]) and np.isfinite(tt.loc["kp_bmp", "stat"])
    two = an.event_study(["AAA", "BBB"], EVENT, prices=px).car().tests().to_frame()
    assert two.loc["skewness_corrected_t", "reason"].startswith(
        "not computed: needs at least 3 firms"
    )


def test_missing_market_return_leaves_ar_missing():
    """A firm return on a day the market has none: the AR is missing, never R - alpha - beta*0."""
    px = _prices(gaps=False)
    d0 = px.index.get_loc(pd.Timestamp(EVENT))
    px.loc[px.index[d0 + 2], "SPY"] = np.nan  # market returns on days +2 and +3 are missing
    for model, kw in (
        ("market_model", {"market": "SPY"}),
        ("factor_model", {"market": None, "factors": ["SPY", "SOXX"]}),
    ):
        res = an.event_study(["AAA", "BBB"], EVENT, model=model, prices=px, **kw)
        assert res.ar.loc[[2, 3]].isna().all().all() and res.ar.loc[[-1, 0, 1]].notna().all().all()
        assert np.isnan(res.car().estimate["AAA"]) and np.isfinite(res.car((-1, 1)).estimate["AAA"])
        doc = res.to_dict()
        assert doc["firms"]["AAA"]["car"] is None and doc["firms"]["AAA"]["car_se"] is None


def test_distinct_dates_summary_and_json():
    px = _prices(gaps=False)
    res = an.event_study(
        ["AAA", "BBB", "CCC"], {"AAA": EVENT, "BBB": "2023-11-01", "CCC": "2023-09-05"}, prices=px
    )
    assert not res.shared_date
    tt = res.car().tests().to_frame()
    assert tt.loc["lamb", "reason"] == "not computed: needs one shared event date"
    assert np.isfinite(tt.loc["bmp", "stat"])
    assert "several dates" in str(res.summary())
    assert res.to_dict()["firms"]["BBB"]["day0"] == "2023-11-01"


def test_symbols_are_normalized_and_windows_must_be_integers():
    px = _prices(gaps=False)
    low = an.event_study(["aaa"], EVENT, market="spy", prices=px)
    assert low.firms == ["AAA"] and low.model.factors == ("SPY",)
    assert (
        low.car().estimate["AAA"] == an.event_study("AAA", EVENT, prices=px).car().estimate["AAA"]
    )
    with pytest.raises(
        SpecificationError, match=r"event window must be two integers .* got \(-1.7, 3.9\)"
    ):
        an.event_study("AAA", EVENT, window=(-1.7, 3.9), prices=px)
