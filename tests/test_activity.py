"""Abnormal volume and abnormal volatility: synthetic panels with known spikes, figures checked
against independent computations (numpy, scipy, statsmodels), and NVDA on E08 from the CSV."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import integrate, signal, stats

from analysis.data import calendar
from analysis.errors import DataError, SpecificationError
from analysis.eventstudy.activity import (
    abnormal_volatility,
    abnormal_volume,
    log_f_null_mean,
)

EVENT = "2023-10-17"
SESSIONS = calendar.sessions("2022-06-01", "2024-03-28")
D0 = SESSIONS.get_loc(pd.Timestamp(EVENT))
EST = np.arange(D0 - 250, D0 - 10)  # positions of the estimation window (-250, -11)
WIN = np.arange(D0 - 1, D0 + 4)  # positions of the event window (-1, +3)


def _orthogonal(rng, x, scale):
    """Noise with mean 0 and no correlation with ``x`` (exactly, up to rounding)."""
    e = rng.normal(0, scale, len(x))
    X = np.column_stack([np.ones(len(x)), x])
    return e - X @ np.linalg.lstsq(X, e, rcond=None)[0]


def _volume_panel(seed=1, firms=("AAA", "BBB"), jump=(1.0, 3.0, 1.0, 1.0, 1.0)):
    """Log(volume + 1) = level + noise, the estimation-window noise exactly mean zero, and in
    the event window (volume + 1) = exp(level) * jump: the abnormal log volume is log(jump)."""
    rng = np.random.default_rng(seed)
    cols, levels = {}, {}
    for i, f in enumerate(firms):
        level = 15.0 + i
        v = level + rng.normal(0, 0.3, len(SESSIONS))
        e = rng.normal(0, 0.3, len(EST))
        v[EST] = level + e - e.mean()
        v[WIN] = level + np.log(jump)
        cols[f], levels[f] = np.expm1(v), level
    return pd.DataFrame(cols, index=SESSIONS), levels


def test_mean_model_recovers_a_known_multiplicative_jump_exactly():
    vol, levels = _volume_panel()
    res = abnormal_volume(["AAA", "BBB"], EVENT, model="mean", volume=vol)
    expected = np.log([1.0, 3.0, 1.0, 1.0, 1.0])
    for f in res.firms:
        np.testing.assert_allclose(res.av[f].to_numpy(), expected, atol=1e-10)
        assert res.params.loc[f, "alpha"] == pytest.approx(levels[f], abs=1e-10)
        assert res.volume_ratio.loc[0, f] == pytest.approx(3.0, rel=1e-10)
    # per-firm t by hand: CAV / (s sqrt(L2 + L2^2 / L)), t(L - 1), s with divisor L - 1
    v = np.log1p(vol["AAA"].to_numpy())
    s = np.std(v[EST], ddof=1)
    t = np.log(3.0) / (s * np.sqrt(5 + 25 / 240))
    ft = res.firm_tests()
    assert res.fit_stats.loc["AAA", "sigma"] == pytest.approx(s, rel=1e-12)
    assert res.cav()["AAA"] == pytest.approx(np.log(3.0), abs=1e-10)
    assert ft[("AAA", "t_prediction_error")].stat == pytest.approx(t, rel=1e-10)
    assert ft[("AAA", "t_prediction_error")].pvalue == pytest.approx(
        2 * stats.t.sf(t, 239), rel=1e-9
    )
    # SQ: the CAV against every 5-day sum of consecutive estimation residuals (GHK 2013)
    e = v[EST] - v[EST].mean()
    sums = np.array([e[j : j + 5].sum() for j in range(len(e) - 4)])
    le, ge = (sums <= np.log(3)).sum(), (sums >= np.log(3)).sum()
    p_sq = min(1, 2 * min((1 + le) / (1 + len(sums)), (1 + ge) / (1 + len(sums))))
    assert ft[("AAA", "sq")].pvalue == pytest.approx(p_sq, abs=1e-12)
    # rho1: the sample autocorrelation of the residuals
    assert res.fit_stats.loc["AAA", "rho1"] == pytest.approx((e[1:] @ e[:-1]) / (e @ e), abs=1e-12)
    lo, hi = res.conf_int(alpha=0.05).loc["AAA"]
    q = stats.t.ppf(0.975, 239) * s * np.sqrt(5 + 25 / 240)
    assert (lo, hi) == pytest.approx((np.log(3) - q, np.log(3) + q), rel=1e-10)


def test_jump_on_shares_traded_not_on_shares_plus_one():
    """A tripling of the shares traded (not of shares + 1) is log 3 up to 1/volume."""
    rng = np.random.default_rng(4)
    base = np.exp(16 + rng.normal(0, 0.25, len(SESSIONS)))
    shares = base.copy()
    shares[D0] = 3 * shares[D0 - 300]
    shares[EST] = base[D0 - 300]  # a flat estimation window: mean log volume = log(that + 1)
    shares[EST[::2]] *= 1.2
    shares[EST[1::2]] /= 1.2
    vol = pd.DataFrame({"AAA": shares}, index=SESSIONS)
    res = abnormal_volume("AAA", EVENT, volume=vol, test_window=(0, 0))
    assert res.av.loc[0, "AAA"] == pytest.approx(np.log(3), abs=1e-6)
    assert res.cav().iloc[0] == pytest.approx(np.log(3), abs=1e-6)


def test_market_model_on_log_volume_matches_statsmodels():
    rng = np.random.default_rng(2)
    vm = 18 + rng.normal(0, 0.2, len(SESSIONS))
    v = 2.0 + 0.7 * vm + rng.normal(0, 0.25, len(SESSIONS))
    v[EST] = 2.0 + 0.7 * vm[EST] + _orthogonal(rng, vm[EST], 0.25)
    v[WIN] = 2.0 + 0.7 * vm[WIN] + np.log([1, 2, 1, 1, 1])
    vol = pd.DataFrame({"AAA": np.expm1(v), "SPY": np.expm1(vm)}, index=SESSIONS)
    res = abnormal_volume("AAA", EVENT, model="market", market="SPY", volume=vol)
    fit = sm.OLS(v[EST], sm.add_constant(vm[EST])).fit()
    assert res.params.loc["AAA", "alpha"] == pytest.approx(2.0, abs=1e-9)
    assert res.params.loc["AAA", "beta"] == pytest.approx(0.7, abs=1e-10)
    assert res.fit_stats.loc["AAA", "sigma"] == pytest.approx(np.sqrt(fit.scale), rel=1e-10)
    np.testing.assert_allclose(res.av["AAA"], np.log([1, 2, 1, 1, 1]), atol=1e-9)
    # the exact CAV variance of the market model, formula (2), by hand
    dev = (vm[WIN] - vm[EST].mean()).sum()
    se = np.sqrt(fit.scale * (5 + 25 / 240 + dev**2 / ((vm[EST] - vm[EST].mean()) ** 2).sum()))
    assert res.to_frame()["cav_se"].iloc[-1] == pytest.approx(se, rel=1e-10)
    assert res.market == "SPY" and res.model == "market"


def _noisy_volume(seed, n_firms=10, jump=1.0, phi=0.0):
    rng = np.random.default_rng(seed)
    cols = {}
    for i in range(n_firms):
        e = signal.lfilter([1.0], [1.0, -phi], rng.normal(0, 0.3, len(SESSIONS)))
        v = 15 + 0.1 * i + e
        v[D0] += np.log(jump)
        cols[f"F{i:02d}"] = np.expm1(v)
    return pd.DataFrame(cols, index=SESSIONS)


def test_volume_tests_detect_a_doubling_and_agree_with_hand_computations():
    vol = _noisy_volume(seed=3, jump=2.5)
    res = abnormal_volume(list(vol.columns), EVENT, volume=vol, test_window=(0, 0))
    tt = res.tests().to_frame()
    assert list(tt.index) == ["cross_sectional_t", "bw_cda", "corrado_rank", "grank"]
    assert (tt["pvalue"] < 0.01).all()
    cav = res.cav().to_numpy()
    t = cav.mean() / (cav.std(ddof=1) / np.sqrt(10))
    assert tt.loc["cross_sectional_t", "stat"] == pytest.approx(t, rel=1e-12)
    # Brown-Warner portfolio t: mean AV / sd of the estimation-window mean residual series
    v = np.log1p(vol.to_numpy())
    resid = v[EST] - v[EST].mean(axis=0)
    aar = resid.mean(axis=1)
    assert tt.loc["bw_cda", "stat"] == pytest.approx(cav.mean() / aar.std(ddof=1), rel=1e-10)
    # Corrado (1989): ranks over E and W per firm, day means of K - (T+1)/2, their rms over E+W
    allv = np.vstack([v[EST], v[WIN]])
    allv = allv - v[EST].mean(axis=0)
    k = np.apply_along_axis(stats.rankdata, 0, allv)
    dbar = (k - (len(allv) + 1) / 2).mean(axis=1)
    z = dbar[len(EST) + 1] / np.sqrt((dbar**2).mean())
    assert tt.loc["corrado_rank", "stat"] == pytest.approx(z, rel=1e-10)
    assert res.headline()["corrado_rank_pvalue"] == pytest.approx(tt.loc["corrado_rank", "pvalue"])
    # no jump: the same seed's noise is not significant
    calm = abnormal_volume(
        list(vol.columns), EVENT, volume=_noisy_volume(seed=3), test_window=(0, 0)
    )
    assert (calm.tests().to_frame()["pvalue"] > 0.05).all()


def test_volume_documents_are_plain_and_complete():
    vol = _noisy_volume(seed=5, n_firms=3, jump=2.0)
    res = abnormal_volume(list(vol.columns), EVENT, volume=vol)
    doc = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert doc["day0"] == EVENT and doc["estimation"]["start"] == "2022-10-18"
    assert set(doc["firms"]) == {"F00", "F01", "F02"}
    assert doc["firms"]["F00"]["av"][EVENT] == pytest.approx(res.av.loc[0, "F00"])
    assert doc["cross_section"]["corrado_rank"]["n"] == 3
    frame = res.to_frame()
    assert len(frame) == 15 and frame["volume"].iloc[1] == pytest.approx(vol["F00"].iloc[D0])
    text = res.summary().as_text()
    assert "Abnormal volume" in text and "rho1" in text and "corrado_rank" in text
    assert "F00" in res.conclusion() and "autocorrelation" in res.conclusion()


def test_missing_volume_and_distinct_event_dates():
    vol = _noisy_volume(seed=6, n_firms=3, jump=2.0)
    vol.iloc[D0 + 1, 2] = np.nan  # F02 has no volume on day +1
    res = abnormal_volume(list(vol.columns), {"F00": EVENT, "F01": EVENT, "F02": EVENT}, volume=vol)
    ft = res.firm_tests()
    assert np.isnan(res.av.loc[1, "F02"]) and np.isnan(res.cav()["F02"])
    assert ft[("F02", "t_prediction_error")].reason == "volume missing on a test-window day"
    assert res.tests().to_frame().loc["cross_sectional_t", "n"] == 2
    assert res.tests((0, 0)).to_frame().loc["corrado_rank", "n"] == 3
    assert res.headline()["n_firms"] == 3 and "volume missing" in res.conclusion()
    other = SESSIONS[D0 + 20].strftime("%Y-%m-%d")
    apart = abnormal_volume(["F00", "F01"], {"F00": EVENT, "f01": other}, volume=vol)
    assert list(apart.day0_table["day0"]) == [pd.Timestamp(EVENT), pd.Timestamp(other)]
    assert apart.av.loc[0, "F00"] == pytest.approx(res.av.loc[0, "F00"], abs=1e-12)
    with pytest.raises(SpecificationError, match="one event per symbol"):
        abnormal_volume(["F00", "F01"], {"F00": EVENT}, volume=vol)


def test_volatility_document_and_headline_for_one_firm():
    px = _volatile_prices(seed=9, scale=1.0, n_firms=1)
    res = abnormal_volatility("F00", EVENT, prices=px, test_window=(0, 1))
    head = res.headline()
    row = res.firm_tests()[("F00", "variance_ratio_f")]
    assert head["f"] == pytest.approx(row.stat) and head["pvalue"] == pytest.approx(row.pvalue)
    assert head["n_estimation"] == 240 and head["window"] == "[0,+1]"
    assert head["ratio"] == pytest.approx(res.u.loc[0:1, "F00"].mean())
    doc = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert doc["firms"]["F00"]["u"][EVENT] == pytest.approx(res.u.loc[0, "F00"])
    assert doc["test_window"] == [0, 1] and "cross_section" not in doc
    assert len(res.to_frame()) == 5 and "Abnormal volatility" in str(res.summary())
    assert res.study.car_window == (0, 1)


def test_exclude_extends_the_volume_estimation_window():
    vol, _ = _volume_panel()
    day = SESSIONS[D0 - 100]
    res = abnormal_volume("AAA", EVENT, volume=vol, exclude=[day.strftime("%Y-%m-%d")])
    v = np.log1p(vol["AAA"].to_numpy())
    keep = [p for p in range(D0 - 251, D0 - 10) if p != D0 - 100]
    assert res.params.loc["AAA", "alpha"] == pytest.approx(v[keep].mean(), rel=1e-12)
    assert res.excluded["date"].tolist() == [day]
    assert res.fit_stats.loc["AAA", "n_estimation"] == 240


def test_variance_ratio_and_predictive_f_match_chow():
    rng = np.random.default_rng(7)
    m = rng.normal(0.0005, 0.01, len(SESSIONS))
    r = 0.0003 + 1.2 * m + rng.normal(0, 0.02, len(SESSIONS))
    r[EST] = 0.0003 + 1.2 * m[EST] + _orthogonal(rng, m[EST], 0.02)
    shocks = np.array([0.01, -0.06, 0.03, 0.0, -0.02])
    r[WIN] = 0.0003 + 1.2 * m[WIN] + shocks
    px = 100 * pd.DataFrame({"AAA": 1 + r, "SPY": 1 + m}, index=SESSIONS).cumprod()
    res = abnormal_volatility("AAA", EVENT, prices=px)
    s2 = (r[EST] - 0.0003 - 1.2 * m[EST]) @ (r[EST] - 0.0003 - 1.2 * m[EST]) / 238
    np.testing.assert_allclose(res.u["AAA"], shocks**2 / s2, rtol=1e-6, atol=1e-12)
    assert res.ratio()["AAA"] == pytest.approx((shocks**2).mean() / s2, rel=1e-6)
    # Chow (1960): ((SSR over E and W) - SSR over E) / L2 over SSR_E / (L - 2)
    both = np.concatenate([EST, WIN])
    ssr_all = sm.OLS(r[both], sm.add_constant(m[both])).fit().ssr
    ssr_e = sm.OLS(r[EST], sm.add_constant(m[EST])).fit().ssr
    chow = ((ssr_all - ssr_e) / 5) / (ssr_e / 238)
    row = res.firm_tests()[("AAA", "variance_ratio_f")]
    assert row.stat == pytest.approx(chow, rel=1e-8)
    assert row.pvalue == pytest.approx(stats.f.sf(chow, 5, 238), rel=1e-8)
    assert row.distribution == "F(5, 238)"
    assert res.params.loc["AAA", "beta"] == pytest.approx(1.2, abs=1e-9)
    json.dumps(res.to_dict(), allow_nan=False)


def _volatile_prices(seed, scale, n_firms=10):
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0005, 0.01, len(SESSIONS))
    cols = {"SPY": m}
    for i in range(n_firms):
        e = rng.normal(0, 0.02, len(SESSIONS))
        e[WIN] *= scale
        cols[f"F{i:02d}"] = 1.1 * m + e
    return 100 * (1 + pd.DataFrame(cols, index=SESSIONS)).cumprod()


def test_a_tripled_volatility_is_detected_and_the_log_ratio_is_centred_exactly():
    px = _volatile_prices(seed=8, scale=3.0)
    firms = [c for c in px.columns if c != "SPY"]
    res = abnormal_volatility(firms, EVENT, prices=px)
    assert (res.ratio() > 1).all() and res.ratio().median() > 4  # 9 times the variance
    tt = res.tests().to_frame()
    assert (tt["pvalue"] < 0.01).all()
    assert tt.loc["f_sign", "pvalue"] == pytest.approx(2 * 0.5**10)
    F = np.array([res.firm_tests()[(f, "variance_ratio_f")].stat for f in firms])
    x = np.log(F) - log_f_null_mean(5, 238)
    assert tt.loc["log_f_t", "stat"] == pytest.approx(x.mean() / (x.std(ddof=1) / np.sqrt(10)))
    calm = abnormal_volatility(firms, EVENT, prices=_volatile_prices(seed=8, scale=1.0))
    assert (calm.tests().to_frame()["pvalue"] > 0.05).all()


def test_log_f_null_mean_is_the_mean_of_log_f():
    for d1, d2 in ((1, 238), (5, 238), (3, 30)):
        want = integrate.quad(lambda x, a=d1, b=d2: np.log(x) * stats.f.pdf(x, a, b), 0, np.inf)[0]
        assert log_f_null_mean(d1, d2) == pytest.approx(want, abs=1e-7)


def test_bad_input_is_a_clear_error():
    vol, _ = _volume_panel()
    bad = vol.copy()
    bad.iloc[10, 0] = -5
    with pytest.raises(DataError, match=r"AAA on 2022-06-15 is -5.0"):
        abnormal_volume("AAA", EVENT, volume=bad)
    with pytest.raises(SpecificationError, match="unknown volume model"):
        abnormal_volume("AAA", EVENT, volume=vol, model="turnover")
    with pytest.raises(DataError, match="no column for SPY"):
        abnormal_volume("AAA", EVENT, volume=vol, model="market")
    with pytest.raises(SpecificationError, match="outside the event window"):
        abnormal_volume("AAA", EVENT, volume=vol, test_window=(0, 5))
    with pytest.raises(SpecificationError, match="two or more firms"):
        abnormal_volume("AAA", EVENT, volume=vol).tests()
    with pytest.raises(SpecificationError, match="market index"):
        abnormal_volume("SPY", EVENT, volume=vol.rename(columns={"AAA": "SPY"}), model="market")
    with pytest.raises(SpecificationError, match="car_window"):
        abnormal_volatility("AAA", EVENT, car_window=(0, 1))


@pytest.mark.slow
def test_size_of_the_volume_and_volatility_tests():
    """Under iid normal noise the per-firm t and F reject about 5%; under AR(1) log volume
    (phi = 0.5) the t test over-rejects, which is the caveat rho1 and SQ address."""
    n = 1000
    noise = _noisy_volume(11, n)
    iid = abnormal_volume(list(noise.columns), EVENT, volume=noise, test_window=(0, 3))
    rej = (iid.firm_tests().to_frame()["pvalue"] < 0.05).groupby(level="test").mean()
    assert 0.033 <= rej["t_prediction_error"] <= 0.069  # binomial 99.9% band around 5%
    ar1 = _noisy_volume(12, n, phi=0.5)
    serial = abnormal_volume(list(ar1.columns), EVENT, volume=ar1, test_window=(0, 3))
    rej = (serial.firm_tests().to_frame()["pvalue"] < 0.05).groupby(level="test").mean()
    assert rej["t_prediction_error"] > 0.15
    assert rej["sq"] < 0.09
    px = _volatile_prices(seed=13, scale=1.0, n_firms=n)
    vol = abnormal_volatility([c for c in px.columns if c != "SPY"], EVENT, prices=px)
    p = np.array([r.pvalue for r in vol.firm_tests().rows])
    assert 0.033 <= (p < 0.05).mean() <= 0.069


# ---------------------------------------------------------------------------------- real data


def _csv(folder, symbol):
    return pd.read_csv(folder / f"{symbol}.csv", parse_dates=["date"], index_col="date")


@pytest.fixture
def price_folder(shared_prices_dir, monkeypatch):
    """Read the shared CSV folder on demand (only the series a test asks for are imported)."""
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(shared_prices_dir))
    return shared_prices_dir


@pytest.mark.realdata
def test_volume_panel_matches_the_csv(price_folder):
    from analysis.data import prices

    panel = prices.volume(["NVDA", "SPY"], "2023-10-02", "2023-10-20")
    for sym in ("NVDA", "SPY"):
        raw = _csv(price_folder, sym).loc["2023-10-02":"2023-10-20", "volume"]
        np.testing.assert_array_equal(panel[sym].to_numpy(), raw.to_numpy())


@pytest.mark.realdata
def test_nvda_abnormal_volume_on_e08_against_the_csv(price_folder):
    res = abnormal_volume("NVDA", "E08", model="mean")
    raw = _csv(price_folder, "NVDA")
    v = np.log1p(raw["volume"].astype(float))
    d0 = v.index.get_loc(pd.Timestamp("2023-10-17"))
    grid = calendar.sessions(v.index[d0 - 250], v.index[d0 + 3])
    assert list(grid) == list(v.index[d0 - 250 : d0 + 4])  # no session missing from the CSV
    est, win = v.iloc[d0 - 250 : d0 - 10], v.iloc[d0 - 1 : d0 + 4]
    av = win - est.mean()
    s = est.std(ddof=1)
    t = av.sum() / (s * np.sqrt(5 + 25 / 240))
    np.testing.assert_allclose(res.av["NVDA"].to_numpy(), av.to_numpy(), atol=1e-12)
    assert res.cav()["NVDA"] == pytest.approx(av.sum(), abs=1e-12)
    ft = res.firm_tests()
    assert ft[("NVDA", "t_prediction_error")].stat == pytest.approx(t, rel=1e-10)
    # pinned figures: day 0 volume 1.74 times normal, CAV over (-1, +3) 0.72, t 1.09
    assert res.av.loc[0, "NVDA"] == pytest.approx(0.5534511, abs=1e-6)
    assert res.volume_ratio.loc[0, "NVDA"] == pytest.approx(1.7392450, abs=1e-6)
    assert res.cav()["NVDA"] == pytest.approx(0.7213646, abs=1e-6)
    assert t == pytest.approx(1.0901209, abs=1e-6)
    assert ft[("NVDA", "t_prediction_error")].pvalue == pytest.approx(0.2767578, abs=1e-6)
    assert ft[("NVDA", "sq")].pvalue == pytest.approx(0.5063291, abs=1e-6)
    assert res.fit_stats.loc["NVDA", "rho1"] == pytest.approx(0.5094673, abs=1e-6)
    day0 = abnormal_volume("NVDA", "E08", model="mean", test_window=(0, 0))
    t0 = av.iloc[1] / (s * np.sqrt(1 + 1 / 240))
    p0 = day0.firm_tests()[("NVDA", "t_prediction_error")].pvalue
    assert p0 == pytest.approx(2 * stats.t.sf(t0, 239), rel=1e-9)
    assert p0 == pytest.approx(0.0605564, abs=1e-6)


@pytest.mark.realdata
def test_semis_abnormal_volume_on_e08(price_folder):
    from analysis.data.events import peer_group

    peers = peer_group("semis")
    res = abnormal_volume(peers, "E08", model="mean")
    v = np.log1p(pd.DataFrame({p: _csv(price_folder, p)["volume"] for p in peers}).astype(float))
    d0 = v.index.get_loc(pd.Timestamp("2023-10-17"))
    cav = (v.iloc[d0 - 1 : d0 + 4] - v.iloc[d0 - 250 : d0 - 10].mean()).sum()
    np.testing.assert_allclose(res.cav()[peers].to_numpy(), cav[peers].to_numpy(), atol=1e-12)
    tt = res.tests().to_frame()
    assert tt.loc["cross_sectional_t", "n"] == 13
    assert tt.loc["cross_sectional_t", "stat"] == pytest.approx(
        cav.mean() / (cav.std(ddof=1) / np.sqrt(13)), rel=1e-10
    )
    # pinned: no abnormal group volume on E08 (mean CAV -0.069), whatever the test
    assert cav.mean() == pytest.approx(-0.0688667, abs=1e-6)
    pinned = {
        "cross_sectional_t": (-0.2568922, 0.8016137),
        "bw_cda": (-0.1239349, 0.9014710),
        "corrado_rank": (-0.0404517, 0.9677330),
        "grank": (0.0245355, 0.9804459),
    }
    for name, (stat, p) in pinned.items():
        assert tt.loc[name, "stat"] == pytest.approx(stat, abs=1e-6)
        assert tt.loc[name, "pvalue"] == pytest.approx(p, abs=1e-6)
