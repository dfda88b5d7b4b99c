"""Seeded Monte Carlo size and power checks of the engine's tests (marked slow; run in CI).

Each scenario simulates market-model returns for firms sharing one event date, fits them with the
package's vectorized path (:func:`analysis.eventstudy.models.fit_arrays`) and runs the package's tests
(:func:`analysis.eventstudy.inference.run_tests`) on day 0. A 5% test must reject in [2.7%, 7.3%] of 1,000
null replications (the binomial 99.9% band), except where a scenario is built to show a test fails.
The single-firm event-dummy regression (formula (4)) is checked separately on 2,000 replications
per disturbance law against the binomial 99% band.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal, stats

from analysis.eventstudy import inference
from analysis.eventstudy.models import fit_arrays, make_spec

pytestmark = pytest.mark.slow

ALPHA = 0.05
REPS = 1000
BAND = (0.027, 0.073)
L1, L2, DAY0 = 250, 3, 1  # window [-1,+1]
SPEC = make_spec("market_model", "SPY")


def _simulate(rng, n_firms, *, rho=0.0, dist="normal", effect=0.0):
    T = L1 + L2
    m = rng.normal(0.0003, 0.01, T)
    if dist == "normal":
        idio = rng.normal(size=(n_firms, T))
        common = rng.normal(size=T)
    else:  # Student t with 3 df, scaled to unit variance
        idio = rng.standard_t(3, size=(n_firms, T)) / np.sqrt(3.0)
        common = rng.standard_t(3, size=T) / np.sqrt(3.0)
    e = 0.02 * (np.sqrt(rho) * common + np.sqrt(1 - rho) * idio)
    beta = rng.uniform(0.6, 1.6, (n_firms, 1))
    y = 0.0002 + beta * m + e
    y[:, L1 + DAY0] += effect * 0.02
    X = np.stack([np.ones(T), m], axis=1)
    Xb = np.broadcast_to(X, (n_firms, T, 2))
    fit = fit_arrays(y[:, :L1], Xb[:, :L1], y[:, L1:], Xb[:, L1:], spec=SPEC)
    return inference.TestInputs.from_fit(fit, m[:L1], m[L1:])


def _rejections(seed, n_firms, names, reps=REPS, **kw):
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(names, 0)
    for _ in range(reps):
        x = _simulate(rng, n_firms, **kw)
        for r in inference.run_tests(x, [DAY0], names=names):
            counts[r.name] += int(np.all(np.asarray(r.pvalue) < ALPHA))
    return {k: v / reps for k, v in counts.items()}


MULTI = [
    "cross_sectional_t",
    "bw_cda",
    "patell",
    "bmp",
    "kp_bmp",
    "kp_patell",
    "sign",
    "generalized_sign",
    "corrado_rank",
    "corrado_zivney_rank",
    "corrado_zivney_sign",
    "wilcoxon",
    "grank",
    "grank_z",
    "skewness_corrected_t",
]


def test_size_independent_firms():
    rates = _rejections(20261125, 30, MULTI)
    bad = {k: v for k, v in rates.items() if not BAND[0] <= v <= BAND[1]}
    assert not bad, f"size outside {BAND}: {bad} (all: {rates})"


def test_clustered_date_bmp_over_rejects_adjusted_tests_hold():
    """Equal cross-correlation 0.3 on one shared date (Kolari & Pynnonen 2010)."""
    names = ["bmp", "cross_sectional_t", "patell", "kp_bmp", "kp_patell", "bw_cda", "grank"]
    rates = _rejections(7, 30, names, rho=0.3)
    assert rates["bmp"] > 0.25 and rates["cross_sectional_t"] > 0.25 and rates["patell"] > 0.25, (
        rates
    )
    for name in ("kp_bmp", "kp_patell", "bw_cda"):
        assert BAND[0] <= rates[name] <= BAND[1], (name, rates)
    # GRANK allows for the correlation only partly: about 7% here (formula (18)), far below BMP
    assert BAND[0] <= rates["grank"] <= 0.095, rates


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_kp_bmp_small_group_holds_size_with_t_reference(rho):
    """Five firms on one date: KP-BMP referred to t(N-1) keeps its size; the large-N normal
    reference (Kolari & Pynnonen 2010) rejects about 12% (P(|t(4)| > 1.96) = 0.122)."""
    rng = np.random.default_rng(20261206 + int(10 * rho))
    t_rej = normal_rej = 0
    for _ in range(REPS):
        x = _simulate(rng, 5, rho=rho)
        t_rej += inference.kp_bmp(x, [DAY0]).pvalue < ALPHA
        normal_rej += inference.kp_bmp(x, [DAY0], reference="normal").pvalue < ALPHA
    assert BAND[0] <= t_rej / REPS <= BAND[1], (rho, t_rej / REPS)
    assert normal_rej / REPS > 0.09, (rho, normal_rej / REPS)


def test_single_firm_fat_tails_sq_holds_size():
    """One firm, t(3) disturbances: the SQ test (GHK 2013) keeps its size."""
    rates = _rejections(11, 1, ["sq", "t_prediction_error"], reps=2000, dist="t3")
    assert 0.035 <= rates["sq"] <= 0.065, rates  # 99.9% band for 2,000 reps


def test_power_with_injected_abnormal_return():
    """A day-0 abnormal return of one residual sd (2%) in each of 30 firms."""
    names = [
        "cross_sectional_t",
        "patell",
        "bmp",
        "kp_bmp",
        "sign",
        "generalized_sign",
        "corrado_rank",
        "grank",
        "wilcoxon",
    ]
    rates = _rejections(3, 30, names, reps=300, effect=1.0)
    assert min(rates.values()) > 0.9, rates


# --------------------------------------------------------------------------------------------
# One firm's event-dummy regression, formula (4): dummy_ols and dummy_hac
# --------------------------------------------------------------------------------------------

DUMMY_L, DUMMY_GAP, DUMMY_W = 240, 9, 5  # estimation (-250,-11) and window (-1,+3), day 0 = col 1
DUMMY_REPS = 2000
_lo, _hi = stats.binom.interval(0.99, DUMMY_REPS, ALPHA)
DUMMY_BAND = (_lo / DUMMY_REPS, _hi / DUMMY_REPS)  # binomial 99% band: [0.038, 0.062]


def _disturbances(rng, kind, reps, T, burn=200):
    """Unit-variance disturbances, one row per replication."""
    if kind == "normal":
        return rng.normal(size=(reps, T))
    if kind == "t4":  # Student t(4), variance 2, scaled to 1
        return rng.standard_t(4, size=(reps, T)) / np.sqrt(2.0)
    z = rng.normal(size=(reps, T + burn))
    if kind == "ar1":  # u_t = 0.2 u_{t-1} + e_t, stationary variance 1
        u = signal.lfilter([1.0], [1.0, -0.2], z, axis=1) * np.sqrt(1 - 0.2**2)
    else:  # GARCH(1,1): h_t = 0.05 + 0.10 e_{t-1}^2 + 0.85 h_{t-1}, unconditional variance 1
        u = np.empty_like(z)
        h = np.ones(reps)
        for t in range(T + burn):
            u[:, t] = np.sqrt(h) * z[:, t]
            h = 0.05 + 0.10 * u[:, t] ** 2 + 0.85 * h
    return u[:, burn:]


def _dummy_rejections(seed, kind):
    """5% rejection rates of dummy_ols / dummy_hac for day 0 alone and the 5-day CAR [-1,+3]."""
    rng = np.random.default_rng(seed)
    T = DUMMY_L + DUMMY_GAP + DUMMY_W
    m = rng.normal(0.0003, 0.01, (DUMMY_REPS, T))
    y = 0.0002 + m + 0.02 * _disturbances(rng, kind, DUMMY_REPS, T)
    evt = slice(DUMMY_L + DUMMY_GAP, T)
    rej = dict.fromkeys(("ols_1d", "hac_1d", "ols_5d", "hac_5d"), 0)
    for i in range(DUMMY_REPS):
        X = np.stack([np.ones(T), m[i]], axis=1)
        dr = inference.event_dummy_regression(
            y[i, :DUMMY_L], X[:DUMMY_L], y[i, evt], X[evt], range(DUMMY_W)
        )
        # one day: the daily t of the day-0 dummy equals the t of a one-day CAR (test_dummy_hac.py)
        rej["ols_1d"] += 2 * stats.t.sf(abs(dr.t_ols[1]), dr.df_resid) < ALPHA
        rej["hac_1d"] += 2 * stats.norm.sf(abs(dr.t_hac[1])) < ALPHA
        rej["ols_5d"] += dr.car_p_ols < ALPHA
        rej["hac_5d"] += dr.car_p_hac < ALPHA
    return {k: v / DUMMY_REPS for k, v in rej.items()}


def _outside(rates, keys):
    return {k: rates[k] for k in keys if not DUMMY_BAND[0] <= rates[k] <= DUMMY_BAND[1]}


#: Cases whose 20,000-replication rate lies above the 99% band of 2,000 replications (formula (4),
#: size table): held below 7.5% (1.5 times the nominal size) instead of the band.
_DUMMY_ABOVE_BAND = {"ar1": ("hac_5d",), "garch": ("hac_1d", "hac_5d")}


@pytest.mark.parametrize(("kind", "seed"), [("normal", 12), ("t4", 13), ("ar1", 14), ("garch", 15)])
def test_dummy_regression_size(kind, seed):
    """One firm, L = 240, day 0 and the 5-day CAR [-1,+3] (formula (4), docs/formulas.md).

    dummy_ols and dummy_hac reject within the binomial 99% band under iid normal and t(4)
    disturbances, and on day 0 under AR(1) (phi = 0.2). On the 5-day CAR under AR(1) dummy_ols
    ignores the autocorrelation (true variance of the sum 6.875 sigma^2, assumed 5 sigma^2) and
    rejects about 9.4%; dummy_hac removes most of that but still rejects about 6.4%: its
    Bartlett-weighted window variance and the small-sample bias of the autocovariances
    understate the variance. Under GARCH(1,1) volatility clustering (the event days' variance
    differs from the estimation-window average) dummy_ols rejects about 5.7% and dummy_hac about
    6%; the HAC errors are unconditional and do not remove it."""
    rates = _dummy_rejections(seed, kind)
    above = _DUMMY_ABOVE_BAND.get(kind, ())
    assert all(DUMMY_BAND[0] <= rates[k] <= 0.075 for k in above), rates
    if kind == "ar1":  # dummy_ols over-rejects; dummy_hac removes most of it
        assert rates["ols_5d"] > 0.08 and rates["hac_5d"] < rates["ols_5d"] - 0.02, rates
        above += ("ols_5d",)
    held = tuple(k for k in rates if k not in above)
    assert not _outside(rates, held), f"outside {DUMMY_BAND}: {rates}"
