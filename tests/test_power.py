"""Monte Carlo power of the engine's tests (``analysis.eventstudy.power``): the rejection rates
against exact sizes and the noncentral-t power of the prediction-error t, the result object, the
minimum detectable CAR, the residual bootstrap, the command line and a fitted study."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, signal, stats
from statsmodels.stats.proportion import proportion_confint

from analysis.cli import main
from analysis.errors import SpecificationError
from analysis.eventstudy import inference
from analysis.eventstudy.power import (
    POWER_COLUMNS,
    detection_figures,
    minimum_detectable_effect,
    minimum_detectable_effect_of,
    power,
    power_of,
    t_test_power,
)

L1, L2 = 240, 5  # estimation days; event window (-1, +3)


def _exact_t_power(effect, sigma, factor, dof, alpha=0.05):
    """P(|T| > t_crit) for T ~ noncentral t(dof, effect / (sigma sqrt(factor)))."""
    delta = effect / (sigma * math.sqrt(factor))
    crit = stats.t.ppf(1 - alpha / 2, dof)
    return stats.nct.sf(crit, dof, delta) + stats.nct.cdf(-crit, dof, delta)


def _band(n, p, level=0.99):
    """Central binomial band of a rate: the smallest k with P(K <= k) >= q for the two tail
    levels q, the binomial probabilities summed from log-gamma."""

    def pmf(k):
        lg = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        return math.exp(lg + k * math.log(p) + (n - k) * math.log(1 - p))

    cdf, k, out = 0.0, 0, []
    for q in ((1 - level) / 2, (1 + level) / 2):
        while cdf + pmf(k) < q:
            cdf += pmf(k)
            k += 1
        out.append(k / n)
    return tuple(out)


def _market_factor(m, days):
    """1'C[D,D]1 of the market model by the closed form of formula (2)."""
    est, evt = m[:L1], m[L1:]
    dev = evt[days] - est.mean()
    return len(days) + len(days) ** 2 / L1 + dev.sum() ** 2 / ((est - est.mean()) ** 2).sum()


# --------------------------------------------------------------------------------------------
# Exact power of the prediction-error t
# --------------------------------------------------------------------------------------------


def test_t_test_power_is_the_size_at_zero_and_the_normal_power_for_large_dof():
    assert t_test_power(0.0, 0.02, 5.0, 238) == pytest.approx(0.05, abs=1e-12)
    # dof -> infinity: Phi(delta - 1.95996) + Phi(-delta - 1.95996); delta = 2.80158 gives 80%
    delta = 1.959964 + 0.841621
    phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    normal = phi(delta - 1.959964) + phi(-delta - 1.959964)
    assert normal == pytest.approx(0.800001, abs=1e-6)
    assert t_test_power(delta * 0.02 * math.sqrt(5), 0.02, 5.0, 1e7) == pytest.approx(
        normal, abs=1e-5
    )
    # a finite dof loses a little: t(238) at the same delta
    assert t_test_power(delta * 0.02 * math.sqrt(5), 0.02, 5.0, 238) == pytest.approx(
        _exact_t_power(delta * 0.02 * math.sqrt(5), 0.02, 5.0, 238), abs=1e-12
    )
    assert 0.795 < t_test_power(delta * 0.02 * math.sqrt(5), 0.02, 5.0, 238) < 0.8


def test_car_factor_of_the_design_is_formula_2():
    """The reported 1'C1 equals the closed forms of formula (2) for each model."""
    assert power(1, effect=0, n_sims=2, model="market_adjusted").setup.car_factor == 5.0
    cm = power(1, effect=0, n_sims=2, model="constant_mean").setup.car_factor
    assert cm == pytest.approx(5 + 25 / 240, abs=1e-12)
    m = np.random.default_rng(4).normal(0.0005, 0.012, L1 + L2)
    mm = power(1, effect=0, n_sims=2, market=m, car_window=(0, 1)).setup.car_factor
    assert mm == pytest.approx(_market_factor(m, np.array([1, 2])), abs=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["market_adjusted", "constant_mean", "market_model"])
def test_prediction_error_t_power_equals_noncentral_t(model):
    """One firm, iid normal residuals (sd 2%), CAR 6% over [-1,+3]: the simulated power of the
    prediction-error t lies in the binomial 99% band around the exact noncentral-t power,
    delta = 0.06 / (0.02 sqrt(f)), with f and the degrees of freedom of formula (2)/(3):
    market-adjusted f = 5, dof 240 (delta 1.342, power 0.2669; normal approximation 0.2687);
    constant mean f = 5 + 25/240, dof 239; market model on a given market path f by the closed
    form, dof 238."""
    m = np.random.default_rng(8).normal(0.0, 0.01, L1 + L2)
    kw = {"market": m} if model == "market_model" else {}
    pr = power(1, effect=0.06, sigma=0.02, model=model, tests="t_prediction_error", seed=21, **kw)
    factor, dof = {
        "market_adjusted": (5.0, 240),
        "constant_mean": (5 + 25 / 240, 239),
        "market_model": (_market_factor(m, np.arange(5)), 238),
    }[model]
    exact = _exact_t_power(0.06, 0.02, factor, dof)
    if model == "market_adjusted":
        assert exact == pytest.approx(0.2669, abs=1e-4)
    lo, hi = _band(2000, exact)
    assert lo <= pr.power["t_prediction_error"] <= hi, (pr.power, exact)
    assert pr.analytic["t_prediction_error"] == pytest.approx(exact, abs=1e-10)


# --------------------------------------------------------------------------------------------
# Size and power
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_size_one_firm_every_test_within_the_band():
    """Effect 0: each single-firm test the engine runs rejects within the binomial band of its
    nominal 5% (2,000 simulations; Bonferroni over the tests)."""
    pr = power(1, effect=0.0, n_sims=2000, seed=11)
    assert set(pr.tests) == set(inference.SINGLE_FIRM_TESTS)
    lo, hi = pr.nominal_band(1 - 0.01 / len(pr.tests))
    bad = {t: p for t, p in pr.power.items() if not lo <= p <= hi}
    assert not bad, (bad, (lo, hi))


@pytest.mark.slow
def test_size_twenty_firms_every_group_test_within_the_band():
    """Effect 0, 20 independent firms on one date, 1,000 simulations: every applicable group test
    rejects within the binomial band of its size: 5%, except the sign and generalized sign tests,
    whose normal approximation on 20 firms rejects when N+ <= 5 or N+ >= 15, an exact size of
    2 P(Bin(20, 1/2) <= 5) = 0.0414."""
    pr = power(20, effect=0.0, n_sims=1000, seed=12)
    runnable, _ = inference.applicable_tests(20, has_market=True)
    assert list(pr.tests) == runnable
    level = 1 - 0.01 / len(pr.tests)
    discrete = 2 * stats.binom.cdf(5, 20, 0.5)
    assert discrete == pytest.approx(0.0414, abs=1e-4)
    bad = {}
    for t, p in pr.power.items():
        size = discrete if t in ("sign", "generalized_sign") else 0.05
        lo, hi = _band(1000, size, level)
        if not lo <= p <= hi:
            bad[t] = (p, lo, hi)
    assert not bad


@pytest.mark.slow
def test_power_rises_with_the_effect_and_with_the_number_of_firms():
    rates = [
        power(1, effect=e, n_sims=1000, seed=5, tests=["t_prediction_error", "sq"]).power
        for e in (0.02, 0.06, 0.12)
    ]
    for a, b in zip(rates, rates[1:], strict=False):
        assert (b - a > 3 * np.sqrt(0.25 / 1000)).all(), (a, b)
    names = ["cross_sectional_t", "bmp", "patell", "grank"]
    few = power(5, effect=0.03, n_sims=400, seed=6, tests=names)
    many = power(20, effect=0.03, n_sims=400, seed=6, tests=names)
    assert (many.power - few.power > 3 * np.sqrt(0.25 / 400)).all(), (few.power, many.power)
    # 20 firms, CAAR s.d. 0.02 sqrt(5.16 / 20) = 0.0102: the CAAR is 2.95 s.d. from 0
    assert many.power["patell"] == pytest.approx(
        _exact_t_power(0.03, 0.02, 5.16 / 20, 1e6), abs=0.06
    )


def test_dummy_ols_rejects_exactly_when_the_prediction_error_t_does():
    """Formula (4): the OLS t of the dummies equals the prediction-error t, simulation by
    simulation; the HAC variant runs through the same regressions."""
    pr = power(
        1, effect=0.05, n_sims=60, seed=2, tests=["t_prediction_error", "dummy_ols", "dummy_hac"]
    )
    assert pr.rejections[0] == pr.rejections[1]
    assert pr.computed == (60, 60, 60)


# --------------------------------------------------------------------------------------------
# The result object
# --------------------------------------------------------------------------------------------


def test_power_result_frame_interval_band_and_json():
    pr = power(1, effect=0.03, n_sims=200, seed=3, tests=["t_prediction_error", "sq"])
    df = pr.to_frame()
    assert tuple(df.columns) == POWER_COLUMNS and df.index.name == "test"
    k, n = np.array(pr.rejections), np.array(pr.computed)
    np.testing.assert_allclose(df["power"], k / n)
    np.testing.assert_allclose(df["std_error"], np.sqrt(k / n * (1 - k / n) / n))
    lo, hi = proportion_confint(k, n, alpha=0.05, method="beta")  # Clopper-Pearson
    np.testing.assert_allclose(df["lower"], lo, atol=1e-10)
    np.testing.assert_allclose(df["upper"], hi, atol=1e-10)
    assert pr.nominal_band(0.99) == pytest.approx(_band(200, 0.05))
    assert pr.effect_per_day == pytest.approx(0.006)
    exact = t_test_power(0.03, 0.02, pr.setup.car_factor, 238)
    assert df.loc["t_prediction_error", "analytic"] == pytest.approx(exact, abs=1e-12)
    assert math.isnan(df.loc["sq", "analytic"])
    doc = json.loads(json.dumps(pr.to_dict(), allow_nan=False))
    assert doc["n_firms"] == 1 and doc["window"] == [-1, 3] and doc["effect"] == 0.03
    row = doc["tests"][1]
    assert row["test"] == "sq" and row["analytic"] is None
    assert row["rejections"] == pr.rejections[1] and isinstance(row["rejections"], int)
    assert "Power of the event-study tests" in pr.summary().as_text()
    with pytest.raises(dataclasses.FrozenInstanceError):
        pr.effect = 0.1  # type: ignore[misc]
    again = power(1, effect=0.03, n_sims=200, seed=3, tests=["t_prediction_error", "sq"])
    assert again.rejections == pr.rejections


def test_bad_input_is_a_clear_error():
    cases = [
        (dict(n_firms=0), "n_firms"),
        (dict(n_firms=1, sigma=-0.01), "sigma"),
        (dict(n_firms=1, sigma=0.02, residuals=np.ones(100)), "not both"),
        (dict(n_firms=1, tests=["bmp"]), "multi-firm"),
        (dict(n_firms=3, tests=["sq"]), "single-firm"),
        (dict(n_firms=3, tests=["nope"]), "unknown"),
        (dict(n_firms=3, tests=["lamb"], model="constant_mean"), "lamb"),
        (dict(n_firms=1, tests=["dummy_ols"], model="market_adjusted"), "dummy_ols"),
        (dict(n_firms=1, car_window=(2, 5)), "not inside"),
        (dict(n_firms=1, estimation_length=20), "estimation_length"),
        (dict(n_firms=1, market=np.zeros(10)), "market"),
        (dict(n_firms=1, model="garch"), "model"),
        (dict(n_firms=1, n_sims=0), "n_sims"),
        (dict(n_firms=1, alpha=1.5), "alpha"),
        (dict(n_firms=2, residuals=np.ones((3, 100))), "residuals"),
    ]
    for kwargs, word in cases:
        with pytest.raises(SpecificationError, match=word):
            power(**kwargs)
    with pytest.raises(SpecificationError, match="name the test"):
        minimum_detectable_effect(5, n_sims=10)
    with pytest.raises(SpecificationError, match="power"):
        minimum_detectable_effect(1, power=1.2, n_sims=10)
    with pytest.raises(SpecificationError, match="event_study"):
        power_of("NVDA", 0.02)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Minimum detectable effect
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_minimum_detectable_car_matches_the_noncentral_t():
    """One firm, constant-mean model, sigma 2.6%: the CAR detected with 80% power at 5% solves
    the noncentral-t power with f = 5 + 25/240 and 239 dof (0.1651); the simulated value
    (2,000 draws, common random numbers) is within 3 of its Monte Carlo standard errors."""
    f = 5 + 25 / 240
    exact = optimize.brentq(lambda e: _exact_t_power(e, 0.026, f, 239) - 0.8, 0.01, 0.5)
    assert exact == pytest.approx(0.1651, abs=5e-4)
    mde = minimum_detectable_effect(1, sigma=0.026, model="constant_mean", seed=9)
    assert mde.analytic == pytest.approx(exact, abs=1e-8)
    assert mde.std_error is not None and 0 < mde.std_error < 0.005
    assert abs(mde.effect - exact) < 3 * mde.std_error, (mde.effect, exact, mde.std_error)
    assert mde.achieved >= 0.8 and mde.to_frame()["power"].is_monotonic_increasing
    fig = mde.figures()
    assert fig["car"] == -mde.effect and fig["sigma"] == pytest.approx(0.026)
    assert (fig["power"], fig["alpha"], fig["window"]) == (0.8, 0.05, "[-1,+3]")
    json.dumps(mde.to_dict(), allow_nan=False)
    assert "Minimum detectable CAR" in mde.summary().as_text()


@pytest.mark.slow
def test_detection_figures_of_a_simulated_design():
    fig = detection_figures(sigma=0.026, n_sims=1000, seed=1)
    assert fig["test"] == "t_prediction_error" and fig["n_firms"] == 1
    assert fig["car"] == pytest.approx(fig["analytic_car"], rel=0.03)
    assert -0.18 < fig["analytic_car"] < -0.16


# --------------------------------------------------------------------------------------------
# Resampled residuals
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_bootstrap_of_whole_days_keeps_the_cross_correlation():
    """Residuals of 10 firms with pairwise correlation 0.5 resampled by whole days: the
    cross-sectional t (which assumes independence) over-rejects at effect 0 -- its variance is
    (1 - rho) / (1 + 9 rho) = 1/11 of the truth --, while the crude dependence adjustment holds
    its size. The same residuals pooled per firm (1-D) are independent again."""
    rng = np.random.default_rng(30)
    common = rng.normal(size=600)
    resid = 0.02 * (np.sqrt(0.5) * common + np.sqrt(0.5) * rng.normal(size=(10, 600)))
    pr = power(
        10, effect=0.0, residuals=resid, n_sims=500, seed=4, tests=["cross_sectional_t", "bw_cda"]
    )
    assert "whole days" in pr.setup.residuals
    assert pr.power["cross_sectional_t"] > 0.4
    lo, hi = pr.nominal_band(0.995)
    assert lo <= pr.power["bw_cda"] <= hi
    pooled = power(
        10, effect=0.0, residuals=resid.ravel(), n_sims=500, seed=4, tests="cross_sectional_t"
    )
    assert "per firm" in pooled.setup.residuals
    assert lo <= pooled.power["cross_sectional_t"] <= hi


def test_size_check_names_the_tests_that_over_reject():
    """Ten firms with residual correlation 0.5 on one date, no effect: the cross-sectional t
    rejects far above the binomial band (over-rejects), BW-CDA and KP-BMP hold their size; the
    check refuses a simulation with an effect."""
    rng = np.random.default_rng(31)
    common = rng.normal(size=600)
    resid = 0.02 * (np.sqrt(0.5) * common + np.sqrt(0.5) * rng.normal(size=(10, 600)))
    tests = ["cross_sectional_t", "bw_cda", "kp_bmp"]
    pr = power(10, effect=0.0, residuals=resid, n_sims=1000, seed=5, tests=tests)
    check = pr.size_check()
    lo, hi = pr.nominal_band()
    assert list(check.columns) == ["size", "n_sims", "band_lower", "band_upper", "verdict"]
    assert (check["band_lower"] == lo).all() and (check["band_upper"] == hi).all()
    assert check.loc["cross_sectional_t", "verdict"] == "over-rejects"
    assert check.loc["cross_sectional_t", "size"] > 0.3
    for t in ("bw_cda", "kp_bmp"):
        assert lo <= check.loc[t, "size"] <= hi and check.loc[t, "verdict"] == "holds", check
    assert (check["size"] == pr.power).all()
    shifted = power(10, effect=0.02, residuals=resid, n_sims=50, seed=5, tests=tests)
    with pytest.raises(SpecificationError, match="without effect"):
        shifted.size_check()
    # a test computed in fewer simulations is judged against the band of its own count:
    # 9 of 100 is inside Binomial(100, 0.05)'s 99% range [0, 11], although 9% is above the band
    # of all 1000 simulations; a test never computed has no verdict
    part = dataclasses.replace(pr, tests=("a", "b"), rejections=(9, 0), computed=(100, 0))
    few = part.size_check()
    assert few.loc["a", "size"] == 0.09 and few.loc["a", "n_sims"] == 100
    assert (few.loc["a", "band_lower"], few.loc["a", "band_upper"]) == (0.0, 0.11)
    assert few.loc["a", "verdict"] == "holds" and hi < 0.09
    assert pd.isna(few.loc["b", "verdict"]) and np.isnan(few.loc["b", "band_lower"])


def test_block_bootstrap_keeps_serial_dependence_that_iid_days_hide():
    """AR(1) residuals with phi = 0.5, one firm, CAR over 5 days. Drawing days independently
    destroys the autocorrelation, so the prediction-error t looks well sized; circular blocks of
    25 days keep it, and the t rejects about as often as its variance ratio predicts,
    Var(sum of 5) / (5 s^2) = 1 + 2 sum_k (1 - k/5) phi^k = 2.225: P(|Z| > 1.96 / sqrt(2.225)) =
    0.189. SQ, which resamples the estimation window's own CAR-length sums, holds its size."""
    rng = np.random.default_rng(7)
    x = signal.lfilter([1.0], [1.0, -0.5], rng.normal(size=6000)) * 0.02 * np.sqrt(0.75)
    tests = ["t_prediction_error", "sq"]
    iid = power(1, (-1, 3), 0.0, residuals=x, n_sims=2000, seed=1, tests=tests)
    blocks = power(1, (-1, 3), 0.0, residuals=x, n_sims=2000, seed=1, tests=tests, block_length=25)
    lo, hi = iid.nominal_band()
    assert lo <= iid.power["t_prediction_error"] <= hi
    want = 2 * stats.norm.sf(1.96 / math.sqrt(2.225))
    assert want == pytest.approx(0.189, abs=1e-3)
    assert abs(blocks.power["t_prediction_error"] - want) < 4 * math.sqrt(want * (1 - want) / 2000)
    assert lo <= blocks.power["sq"] <= hi
    assert "circular blocks of 25 days" in blocks.setup.residuals
    assert "blocks" not in iid.setup.residuals
    with pytest.raises(SpecificationError, match="normal disturbances have no serial dependence"):
        power(1, effect=0.0, sigma=0.02, n_sims=10, block_length=5)
    with pytest.raises(SpecificationError, match="longer than the 300 residual days"):
        power(1, effect=0.0, residuals=x[:300], n_sims=10, block_length=301)
    with pytest.raises(SpecificationError, match="block_length"):
        power(1, effect=0.0, residuals=x, n_sims=10, block_length=0)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def test_cli_json_is_the_power_result(capsys):
    argv = ["power", "--firms", "1", "--window", "-1:3", "--effect", "-0.05", "--sims", "150"]
    argv += ["--seed", "7", "--tests", "t_prediction_error,sq", "--json"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    pr = power(1, (-1, 3), -0.05, n_sims=150, seed=7, tests=["t_prediction_error", "sq"])
    assert doc == json.loads(json.dumps(pr.to_dict()))
    assert [t["test"] for t in doc["tests"]] == ["t_prediction_error", "sq"]
    assert doc["tests"][0]["power"] == pr.rejections[0] / 150
    assert doc["nominal_band_99"] == list(pr.nominal_band())


def test_cli_text_and_errors(capsys):
    assert (
        main(["power", "--firms", "3", "--effect", "0.03", "--sims", "20", "--tests", "bmp"]) == 0
    )
    out = capsys.readouterr().out
    assert "Power of the event-study tests" in out and "bmp" in out
    assert main(["power", "--firms", "0"]) == 2
    assert "--firms must be at least 1" in capsys.readouterr().err
    assert main(["power", "--firms", "1", "--tests", "bmp", "--sims", "10"]) == 2
    assert "multi-firm" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# A fitted study (real data)
# --------------------------------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.slow
def test_power_of_nvda_on_e08(real_prices):
    """NVDA, market model on SPY, 2023-10-17: with normal residuals of the study's sigma the
    exact power uses the study's own CAR standard error (f = (se / s)^2); the bootstrap pool,
    scaled by sqrt(L / (L - k)), has the study's sigma as its root mean square."""
    import analysis as an

    res = an.event_study(["NVDA"], event="E08", market="SPY")
    s = float(res.fit_stats.loc["NVDA", "sigma"])
    f = (float(res.car().std_error["NVDA"]) / s) ** 2
    pr = power_of(res, -0.08, residuals="normal", tests="t_prediction_error", n_sims=1000)
    exact = _exact_t_power(-0.08, s, f, 238)
    assert pr.analytic["t_prediction_error"] == pytest.approx(exact, abs=1e-10)
    assert pr.setup.car_factor == pytest.approx(f, abs=1e-10)
    lo, hi = _band(1000, exact)
    assert lo <= pr.power["t_prediction_error"] <= hi
    boot = power_of(res, -0.08, n_sims=300)
    assert boot.setup.sigma == pytest.approx(s, rel=1e-12)
    assert set(boot.tests) == set(inference.SINGLE_FIRM_TESTS) and "NVDA" in boot.setup.design
    fig = detection_figures(res, n_sims=1000)
    assert fig["sigma"] == pytest.approx(s) and fig["car"] == pytest.approx(
        fig["analytic_car"], rel=0.03
    )
    mde = minimum_detectable_effect_of(res, test="sq", n_sims=500)
    assert 0.05 < mde.effect < 0.5 and mde.analytic is None


@pytest.mark.realdata
@pytest.mark.slow
def test_power_of_a_peer_group_keeps_its_correlation(real_prices):
    """Five semiconductor firms on one date, their residuals resampled by whole days: the crude
    dependence adjustment holds its size while the cross-sectional t, which assumes independent
    firms, rejects more often at effect 0."""
    import analysis as an

    res = an.event_study(["NVDA", "AMD", "AVGO", "INTC", "MU"], event="E08", market="SPY")
    pr = power_of(res, 0.0, n_sims=500, seed=3, tests=["cross_sectional_t", "bw_cda"])
    lo, hi = pr.nominal_band(0.995)
    assert lo <= pr.power["bw_cda"] <= hi
    assert pr.power["cross_sectional_t"] > hi


def test_the_peers_page_size_table_on_e08(real_prices):
    """The figures the E08 peers page publishes (size_*): its design (semis on SPY, other events'
    windows left out), the page's call; KP-BMP, BW-CDA and the wild bootstrap hold their size,
    GRANK over-rejects."""
    import analysis as an

    res = an.event_study(an.peer_group("semis"), "E08", market="SPY", exclude="events")
    size = an.power_of(res, 0.0, tests=an.findings.ROBUST_TESTS, options={"replications": 999})
    check = size.size_check()
    assert check["size"].to_dict() == {
        "kp_bmp": 0.043,
        "bw_cda": 0.0505,
        "grank": 0.0755,
        "wild_bootstrap": 0.0495,
    }
    assert check["verdict"].to_dict() == {
        "kp_bmp": "holds",
        "bw_cda": "holds",
        "grank": "over-rejects",
        "wild_bootstrap": "holds",
    }
