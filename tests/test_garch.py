"""The GARCH(1,1) Student-t market model (``model="garch_market_model"``): fits equal to ``arch``'s
own, standardized abnormal returns recomputed from the variance recursion by hand, the tests'
statistics from their formulas, clear errors, the JSON document and the command line."""

from __future__ import annotations

import json
import math
import types

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from scipy import stats

import analysis as an
from analysis._summary import Summary
from analysis.data import calendar
from analysis.errors import EstimationError, SpecificationError
from analysis.eventstudy import _garch_fit
from analysis.eventstudy.garch import (
    GarchCARResult,
    GarchEventStudyResults,
    std_t_pvalue,
    variance_forecast,
)

EVENT = "2023-10-17"
GARCH = "garch_market_model"
FIRMS = ("AAA", "BBB", "CCC", "DDD")
#: True parameters of the simulated firms (return units).
TRUE = {"mu": 0.0004, "beta": 1.3, "omega": 4e-6, "alpha": 0.08, "garch_beta": 0.88, "nu": 6.0}


def _garch_returns(rng, m, *, mu, beta, omega, alpha, garch_beta, nu):
    """R_t = mu + beta m_t + sigma_t z_t with a GARCH(1,1) sigma_t and standardized t(nu) z_t."""
    z = rng.standard_t(nu, m.size) * math.sqrt((nu - 2) / nu)
    e = np.empty(m.size)
    s2, e_prev = omega / (1 - alpha - garch_beta), 0.0
    for t in range(m.size):
        s2 = omega + alpha * e_prev**2 + garch_beta * s2
        e[t] = e_prev = math.sqrt(s2) * z[t]
    return mu + beta * m + e


def _prices(seed=11, firms=FIRMS, jump=0.0, start="2022-06-01"):
    """Adjusted closes of SPY and GARCH(1,1)-t market-model firms; ``jump`` added to every firm's
    day-0 return."""
    rng = np.random.default_rng(seed)
    sessions = calendar.sessions(start, "2024-03-28")
    m = rng.normal(0.0004, 0.011, len(sessions))
    cols = {"SPY": m}
    for f in firms:
        cols[f] = _garch_returns(rng, m, **TRUE)
    rets = pd.DataFrame(cols, index=sessions)
    rets.loc[pd.Timestamp(EVENT), list(firms)] += jump
    return 100 * (1 + rets).cumprod()


def _windows(px, est=(-250, -11), win=(-1, 3)):
    """Estimation and event-window returns straight from the prices (pandas, no package code)."""
    r = px.pct_change(fill_method=None)
    d0 = r.index.get_loc(pd.Timestamp(EVENT))
    return r.iloc[d0 + est[0] : d0 + est[1] + 1], r.iloc[d0 + win[0] : d0 + win[1] + 1]


def _arch(y, m):
    """arch's own fit of the same model on returns in percent."""
    model = arch_model(
        100 * np.asarray(y), x=100 * np.asarray(m)[:, None], mean="LS", vol="GARCH", p=1, q=1,
        dist="t", rescale=False,
    )  # fmt: skip
    return model.fit(disp="off")


#: arch's parameters (percent units) -> return units, in GARCH_PARAMS order.
UNITS = np.array([0.01, 1.0, 1e-4, 1.0, 1.0, 1.0])


@pytest.fixture(scope="module")
def px():
    return _prices(jump=0.03)


@pytest.fixture(scope="module")
def res(px) -> GarchEventStudyResults:
    return an.event_study(list(FIRMS), EVENT, market="SPY", model=GARCH, prices=px)


def test_params_equal_arch_fit_on_the_same_returns(px, res):
    est, _ = _windows(px)
    assert isinstance(res, GarchEventStudyResults)
    assert list(res.params.columns) == ["mu", "beta", "omega", "alpha", "garch_beta", "nu"]
    for firm in FIRMS:
        fit = _arch(est[firm], est["SPY"])
        assert fit.convergence_flag == 0
        np.testing.assert_allclose(
            res.params.loc[firm].to_numpy(), fit.params.to_numpy() * UNITS, rtol=1e-6, atol=1e-12
        )
        np.testing.assert_allclose(
            res.std_errors.loc[firm].to_numpy(), fit.std_err.to_numpy() * UNITS, rtol=1e-4
        )
        # log-likelihood of the returns: arch's (percent) plus n log(100), the Jacobian
        assert res.fit_stats.loc[firm, "loglik"] == pytest.approx(
            fit.loglikelihood + 240 * math.log(100), rel=1e-9
        )
        assert res.fit_stats.loc[firm, "n_estimation"] == 240
    # conf_int: params -/+ 1.96 robust se
    ci = res.conf_int()
    lo = res.params.loc["AAA", "beta"] - stats.norm.ppf(0.975) * res.std_errors.loc["AAA", "beta"]
    assert ci.loc[("AAA", "beta"), "lower"] == pytest.approx(lo, rel=1e-12)


def test_standardized_ar_by_hand_from_the_variance_recursion(px, res):
    est, win = _windows(px)
    p = res.params.loc["BBB"]
    y, m = est["BBB"].to_numpy(), est["SPY"].to_numpy()
    e = y - p["mu"] - p["beta"] * m
    # arch starts the recursion at the backcast of the starting (OLS) residuals: weights 0.94^j
    X = np.column_stack([np.ones_like(m), m])
    u = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    w = 0.94 ** np.arange(75)
    backcast = float((u[:75] ** 2 * w).sum() / w.sum())
    s2 = np.empty(y.size)
    s2[0] = p["omega"] + (p["alpha"] + p["garch_beta"]) * backcast
    for t in range(1, y.size):
        s2[t] = p["omega"] + p["alpha"] * e[t - 1] ** 2 + p["garch_beta"] * s2[t - 1]
    # day 0 is 11 sessions after the last estimation day (-11): one step, then ten more
    f = p["omega"] + p["alpha"] * e[-1] ** 2 + p["garch_beta"] * s2[-1]
    for _ in range(10):
        f = p["omega"] + (p["alpha"] + p["garch_beta"]) * f
    ar0 = win.loc[EVENT, "BBB"] - p["mu"] - p["beta"] * win.loc[EVENT, "SPY"]
    assert res.horizon.loc[0, "BBB"] == 11
    assert res.ar.loc[0, "BBB"] == pytest.approx(ar0, abs=1e-14)
    assert res.conditional_sd.loc[0, "BBB"] == pytest.approx(math.sqrt(f), rel=1e-7)
    assert res.standardized_ar.loc[0, "BBB"] == pytest.approx(ar0 / math.sqrt(f), rel=1e-7)
    assert res.standardized_resid["BBB"].iloc[-1] == pytest.approx(
        e[-1] / math.sqrt(s2[-1]), rel=1e-7
    )


def test_variance_forecasts_equal_archs_own_forecast(px, res):
    est, _ = _windows(px)
    fit = _arch(est["CCC"], est["SPY"])
    fc = fit.forecast(horizon=14, x=np.zeros((1, 14)), reindex=False).variance.iloc[-1]
    # event days -1..3 are horizons 10..14 from day -11
    np.testing.assert_allclose(
        res.conditional_sd["CCC"].to_numpy() ** 2, fc.to_numpy()[9:] / 1e4, rtol=1e-6
    )
    # the closed recursion on its own: omega / (1 - p) is its fixed point
    v = variance_forecast(0.2, 0.1, 0.8, 1.0, 2.0, [1, 2, 50_000])
    assert v[0] == pytest.approx(0.2 + 0.1 + 1.6)
    assert v[1] == pytest.approx(0.2 + 0.9 * 1.9)
    assert v[2] == pytest.approx(0.2 / 0.1)


def test_scar_and_its_p_value_per_firm(res):
    cr = res.car()
    assert isinstance(cr, GarchCARResult)
    for firm in FIRMS:
        car = res.ar[firm].sum()
        sd = math.sqrt((res.conditional_sd[firm] ** 2).sum())
        nu = res.params.loc[firm, "nu"]
        scar = car / sd
        p = 2 * stats.t.sf(abs(scar) * math.sqrt(nu / (nu - 2)), nu)
        assert cr.estimate[firm] == pytest.approx(car, rel=1e-12)
        assert cr.std_error[firm] == pytest.approx(sd, rel=1e-12)
        assert cr.tstat[firm] == pytest.approx(scar, rel=1e-12)
        assert cr.pvalue[firm] == pytest.approx(p, rel=1e-9)
        row = res.firm_tests()[(firm, "garch_scar")]
        assert (row.stat, row.pvalue) == pytest.approx((scar, p), rel=1e-9)
        q = stats.t.ppf(0.95, nu) * math.sqrt((nu - 2) / nu)
        assert cr.conf_int(0.10).loc[firm, "upper"] == pytest.approx(car + q * sd, rel=1e-10)
    # a one-day window: the standardized AR itself
    assert res.car((0, 0)).tstat["AAA"] == pytest.approx(res.standardized_ar.loc[0, "AAA"])
    assert std_t_pvalue(0.0, 5.0) == pytest.approx(1.0)


def test_cross_sectional_tests_from_their_formulas(px, res):
    est, _ = _windows(px)
    tt = res.tests().to_frame()
    assert list(tt.index) == ["cross_sectional_t", "bmp", "patell", "kp_bmp"]
    car = res.ar.sum()
    scar = car / np.sqrt((res.conditional_sd**2).sum())
    n = len(FIRMS)
    t_bmp = scar.mean() / (scar.std(ddof=1) / math.sqrt(n))
    z_patell = scar.sum() / math.sqrt(n)
    t_cs = car.mean() / (car.std(ddof=1) / math.sqrt(n))
    assert tt.loc["bmp", "stat"] == pytest.approx(t_bmp, rel=1e-10)
    assert tt.loc["bmp", "pvalue"] == pytest.approx(2 * stats.t.sf(abs(t_bmp), n - 1), rel=1e-9)
    assert tt.loc["patell", "stat"] == pytest.approx(z_patell, rel=1e-10)
    assert tt.loc["patell", "pvalue"] == pytest.approx(2 * stats.norm.sf(abs(z_patell)), rel=1e-9)
    assert tt.loc["cross_sectional_t", "stat"] == pytest.approx(t_cs, rel=1e-10)
    # Kolari-Pynnonen with r-bar of arch's own standardized residuals
    z = pd.DataFrame({f: _arch(est[f], est["SPY"]).std_resid for f in FIRMS})
    corr = z.corr().to_numpy()
    rbar = corr[np.triu_indices(n, 1)].mean()
    assert tt.loc["kp_bmp", "rbar"] == pytest.approx(rbar, rel=1e-6)
    kp = t_bmp * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    assert tt.loc["kp_bmp", "stat"] == pytest.approx(kp, rel=1e-6)
    assert tt.loc["bmp", "assumes_independence"] and not tt.loc["kp_bmp", "assumes_independence"]
    assert res.tests(names="patell").names == ["patell"]
    with pytest.raises(SpecificationError, match="grank"):
        res.tests(names=["grank"])


def test_synthetic_truth_is_recovered_and_a_jump_is_detected():
    # about four years of estimation returns: the fit is close to the simulated parameters
    px = _prices(seed=5, firms=("AAA", "BBB", "CCC"), jump=0.08, start="2018-06-01")
    res = an.event_study(
        ["AAA", "BBB", "CCC"], EVENT, market="SPY", model=GARCH, prices=px, estimation=(-1300, -11)
    )
    assert (res.fit_stats["n_estimation"] == 1290).all()
    # every estimate within 3 robust standard errors of the truth (largest |z| here: 2.3)
    z = (res.params - pd.Series(TRUE)) / res.std_errors
    assert (z.abs() < 3).all().all()
    assert (res.std_errors["alpha"] < 0.035).all() and (res.std_errors["beta"] < 0.03).all()
    # an 8% day-0 jump is about 5 to 8 conditional sds: every firm and the cross-section see it
    assert (res.ar.loc[0] > 0.05).all()
    assert (res.standardized_ar.loc[0] > 3).all()
    assert (res.car((0, 0)).pvalue < 0.01).all()
    assert res.tests((0, 0)).to_frame().loc["patell", "pvalue"] < 1e-4


def test_missing_returns_lead_trail_and_gap():
    px = _prices(seed=2, firms=("AAA", "BBB"))
    sessions = px.index
    d0 = sessions.get_loc(pd.Timestamp(EVENT))
    # BBB's prices start 30 sessions into the estimation window: its first 31 returns are missing
    late = px.copy()
    late.iloc[: d0 - 250 + 30, late.columns.get_loc("BBB")] = np.nan
    res = an.event_study(["AAA", "BBB"], EVENT, market="SPY", model=GARCH, prices=late)
    assert res.fit_stats.loc["BBB", "n_estimation"] == 209
    assert res.fit_stats.loc["BBB", "n_missing"] == 31
    est, _ = _windows(late)
    fit = _arch(est["BBB"].iloc[31:], est["SPY"].iloc[31:])
    np.testing.assert_allclose(res.params.loc["BBB"], fit.params.to_numpy() * UNITS, rtol=1e-6)
    # a missing price inside the window breaks the recursion: an error naming firm and dates
    gap = px.copy()
    gap.iloc[d0 - 100, gap.columns.get_loc("BBB")] = np.nan
    when = f"{sessions[d0 - 100].date()}, {sessions[d0 - 99].date()}"
    with pytest.raises(EstimationError, match=f"BBB \\(day 0 {EVENT}\\): no return on {when}"):
        an.event_study(["AAA", "BBB"], EVENT, market="SPY", model=GARCH, prices=gap)
    # a missing event-window return: AR missing, the firm leaves the CAR tests, JSON has null
    hole = px.copy()
    hole.iloc[d0 + 1, hole.columns.get_loc("AAA")] = np.nan
    res = an.event_study(["AAA", "BBB"], EVENT, market="SPY", model=GARCH, prices=hole)
    assert np.isnan(res.ar.loc[1, "AAA"]) and np.isnan(res.ar.loc[2, "AAA"])
    assert res.car().n == 1 and np.isnan(res.car().pvalue["AAA"])
    assert res.car((-1, 0)).n == 2
    doc = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert doc["firms"]["AAA"]["car"] is None and doc["firms"]["AAA"]["ar"]["2023-10-18"] is None
    assert doc["cross_section"]["tests"]["bmp"]["stat"] is None


def test_refusals_and_errors_name_the_problem(px, monkeypatch):
    args = {"market": "SPY", "model": GARCH, "prices": px}
    with pytest.raises(SpecificationError, match="breaks the GARCH variance recursion"):
        an.event_study("AAA", EVENT, exclude="2023-05-25", **args)
    with pytest.raises(SpecificationError, match="takes one market index"):
        an.event_study("AAA", EVENT, factors=["SPY"], **args)
    with pytest.raises(SpecificationError, match="convention='default'"):
        an.event_study("AAA", EVENT, convention="estudy2", **args)
    with pytest.raises(SpecificationError, match="must end before the event window"):
        an.event_study("AAA", EVENT, estimation=(10, 200), window=(-1, 3), **args)
    with pytest.raises(SpecificationError, match="valid models: .*garch_market_model"):
        an.event_study("AAA", EVENT, market="SPY", model="garch", prices=px)
    with pytest.raises(EstimationError, match=r"need at least 100\): AAA \(day 0 2023-10-17\)"):
        an.event_study("AAA", EVENT, estimation=(-80, -11), **args)
    with pytest.raises(EstimationError, match="need at least 150"):
        an.event_study("AAA", EVENT, min_estimation=150, estimation=(-120, -11), **args)
    with pytest.raises(SpecificationError, match="firm_tests"):
        an.event_study("AAA", EVENT, **args).tests()

    real = _garch_fit.arch_fit

    def stalled(y, m):
        fit = real(y, m)
        opt = types.SimpleNamespace(message="Iteration limit reached")
        return types.SimpleNamespace(params=fit.params, convergence_flag=9, optimization_result=opt)

    monkeypatch.setattr(_garch_fit, "arch_fit", stalled)
    with pytest.raises(EstimationError, match=r"fit of AAA \(day 0 2023-10-17\) did not converge"):
        an.event_study("AAA", EVENT, **args)


def test_document_summary_and_frame(px, res):
    ols = an.event_study(list(FIRMS), EVENT, market="SPY", prices=px)
    doc = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    ref = ols.to_dict()
    assert set(ref) <= set(doc)
    assert set(ref["firms"]["AAA"]) <= set(doc["firms"]["AAA"])
    assert set(ref["cross_section"]) == set(doc["cross_section"])
    assert doc["model"] == GARCH and doc["market"] == "SPY" and doc["convention"] is None
    assert doc["window"] == ref["window"] and doc["estimation"] == ref["estimation"]
    firm = doc["firms"]["AAA"]
    assert firm["alpha"] == pytest.approx(res.params.loc["AAA", "mu"])
    assert firm["params"]["alpha"] == pytest.approx(res.params.loc["AAA", "alpha"])
    assert firm["tests"]["garch_scar"]["pvalue"] == pytest.approx(res.car().pvalue["AAA"])
    assert doc["variance"]["forecast_origin_day"] == -11
    s = res.summary()
    assert isinstance(s, Summary)
    text = s.as_text()
    assert "garch_market_model (SPY)" in text and "horizons 10 to 14" in text and "kp_bmp" in text
    fr = res.to_frame()
    assert len(fr) == 4 * 5
    last = fr[(fr["firm"] == "DDD") & (fr["day"] == 3)].iloc[0]
    assert last["scar"] == pytest.approx(res.car().tstat["DDD"], rel=1e-12)
    assert last["horizon"] == 14
    head = res.headline()
    assert head["bmp_pvalue"] == pytest.approx(res.tests().to_frame().loc["bmp", "pvalue"])
    assert "kp_bmp" in res.conclusion()
    one = an.event_study("AAA", EVENT, market="SPY", model=GARCH, prices=px)
    assert one.headline()["scar"] == pytest.approx(res.car().tstat["AAA"], rel=1e-9)
    assert "SCAR" in one.conclusion() and "cross_section" not in one.to_dict()


@pytest.mark.slow
def test_scar_size_under_the_null():
    """Under the model (no event), the SCAR test rejects at about its nominal 5%: simulated
    GARCH(1,1)-t firms, 240 estimation days, event days 10 to 14 sessions later. Parameter error
    is ignored, so a one-day window over-rejects a little (6-8% in 3 x 300 firm runs, 5-6% for
    the five-day window); the bounds allow for 200 draws (binomial sd 1.5 points)."""
    rng = np.random.default_rng(20240517)
    n_firms, l1, gap, l2 = 200, 240, 9, 5
    total = l1 + gap + l2
    m = rng.normal(0.0004, 0.011, (n_firms, total))
    y = np.array([_garch_returns(rng, m[i], **TRUE) for i in range(n_firms)])
    est_days = np.arange(-250, -10)
    evt_days = np.arange(-1, 4)
    fit = _garch_fit.fit_garch(
        y[:, :l1],
        m[:, :l1],
        y[:, l1 + gap :],
        m[:, l1 + gap :],
        est_days=est_days,
        evt_days=evt_days,
        est_dates=np.full((n_firms, l1), np.datetime64("2020-01-01")),
        firms=[f"F{i}" for i in range(n_firms)],
        where=["simulated"] * n_firms,
    )
    assert (fit.horizon[:, 0] == 10).all()
    nu = fit.params[:, 5]
    scar5 = fit.ar.sum(axis=1) / np.sqrt((fit.sd**2).sum(axis=1))
    rate5 = float((std_t_pvalue(scar5, nu) < 0.05).mean())
    rate1 = float((std_t_pvalue(fit.sar[:, 1], nu) < 0.05).mean())
    assert 0.02 <= rate5 <= 0.09
    assert 0.02 <= rate1 <= 0.11


@pytest.mark.realdata
def test_nvda_e08_real_data(shared_prices_dir, monkeypatch, capsys):
    """NVDA around E08 (2023-10-17) from the shared CSVs: the fit equals arch's on the same
    returns, and the verdict is the OLS market model's (not significant at 5%)."""
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(shared_prices_dir))
    cols = {}
    for s in ("NVDA", "SPY"):
        df = pd.read_csv(shared_prices_dir / f"{s}.csv", parse_dates=["date"], index_col="date")
        cols[s] = df["adj_close"]
    px = pd.DataFrame(cols)
    res = an.event_study("NVDA", "E08", market="SPY", model=GARCH, prices=px)
    est, win = _windows(px)
    fit = _arch(est["NVDA"], est["SPY"])
    np.testing.assert_allclose(
        res.params.loc["NVDA"], fit.params.to_numpy() * UNITS, rtol=1e-6, atol=1e-12
    )
    assert res.event_day.date == pd.Timestamp(EVENT)
    assert res.fit_stats.loc["NVDA", "n_estimation"] == 240
    # pinned figures (E08, estimation -250:-11, window -1:3)
    assert res.params.loc["NVDA", "beta"] == pytest.approx(2.027, abs=1e-3)
    assert res.params.loc["NVDA", "nu"] == pytest.approx(3.81, abs=0.01)
    assert bool(res.fit_stats.loc["NVDA", "alpha_at_zero"])  # constant variance in this year
    cr = res.car()
    assert res.ar.loc[0, "NVDA"] == pytest.approx(-0.0494, abs=5e-5)
    assert cr.estimate["NVDA"] == pytest.approx(-0.0567, abs=5e-5)
    assert cr.std_error["NVDA"] == pytest.approx(0.0541, abs=5e-5)
    assert cr.tstat["NVDA"] == pytest.approx(-1.048, abs=1e-3)
    assert cr.pvalue["NVDA"] == pytest.approx(0.207, abs=1e-3)
    ols = an.event_study("NVDA", "E08", market="SPY", prices=px)
    assert ols.car().pvalue["NVDA"] == pytest.approx(0.2966, abs=1e-4)
    assert (cr.pvalue["NVDA"] < 0.05) == (ols.car().pvalue["NVDA"] < 0.05) == False  # noqa: E712
    # the command line gives the same document
    from analysis.cli import main

    assert main(["study", "NVDA", "--event", "E08", "--model", GARCH, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == GARCH
    assert doc["firms"]["NVDA"]["car"] == pytest.approx(cr.estimate["NVDA"], rel=1e-9)
    assert main(["study", "NVDA", "--event", "E08", "--model", GARCH]) == 0
    assert "GARCH event study results" in capsys.readouterr().out


def test_compare_sets_garch_beside_ols(px, res):
    """compare() takes the GARCH study like an OLS one: its rows are the GARCH CAR, conditional
    sd, SCAR and Student-t p of car(), the OLS rows those of the OLS study."""
    ols = an.event_study(list(FIRMS), EVENT, market="SPY", prices=px)
    table = an.compare({"OLS": ols, "GARCH": res})
    g, o = res.car(), ols.car()
    for firm in FIRMS:
        row = table.loc[("GARCH", firm)]
        assert (row["car"], row["se"], row["t"], row["pvalue"]) == (
            g.estimate[firm],
            g.std_error[firm],
            g.tstat[firm],
            g.pvalue[firm],
        )
        assert table.loc[("OLS", firm), "pvalue"] == o.pvalue[firm]
        assert row["model"] == res.model.label and row["model"] != table.loc[("OLS", firm), "model"]
