"""Regression tests for errors found in other event-study tools.

Each expected number is computed here from first principles (numpy least squares, or exact
fractions), never by calling the code under test a second time:

(a) Patell's standardized AR divides the AR by the residual standard deviation s_i (times the
    square root of the prediction-error factor), not by sqrt(s_i): the SAR and the Patell Z are
    free of the returns' unit.
(b) A firm with several events: each firm-event is one observation (N counts firm-events), each
    standardized with its own estimation window, and the Kolari-Pynnonen r-bar includes the pair
    formed by the firm's own events (correlation of their estimation residuals on the event-time
    axis). Nothing is keyed by the symbol.
(c) Patell's variance of a t-distributed SAR is (L_i - k)/(L_i - k - 2): L_i the firm's own
    non-missing estimation returns, k the model's estimated mean parameters.
(d) The CAR variance includes the parameter-estimation covariance:
    s^2 1'(I + X*(X'X)^-1 X*')1, not s^2 L2 and not the sum of the daily factors.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis as an
from analysis.data import calendar
from analysis.eventstudy import inference as inf
from analysis.eventstudy.design import build_design
from analysis.eventstudy.models import fit_arrays, make_spec
from analysis.eventstudy.returns import returns_from_prices

pytestmark = pytest.mark.filterwarnings("error")

EVENT = "2023-10-17"
SPEC = make_spec("market_model", "SPY")


def _returns(seed: int = 3) -> pd.DataFrame:
    """Simple returns of AAA, BBB (market-model firms) and SPY on the NYSE sessions."""
    rng = np.random.default_rng(seed)
    sessions = calendar.sessions("2022-01-03", "2024-03-28")
    m = rng.normal(0.0004, 0.01, len(sessions))
    common = rng.normal(0, 0.01, len(sessions))  # the firms co-move beyond the market
    cols = {
        "SPY": m,
        "AAA": 0.0003 + 1.3 * m + common + rng.normal(0, 0.02, len(sessions)),
        "BBB": -0.0001 + 0.7 * m + common + rng.normal(0, 0.015, len(sessions)),
    }
    out = pd.DataFrame(cols, index=sessions)
    out.iloc[0] = 0.0
    return out


def _prices(rets: pd.DataFrame) -> pd.DataFrame:
    return 100 * (1 + rets).cumprod()


def _ols(y: np.ndarray, m: np.ndarray, m_evt: np.ndarray, y_evt: np.ndarray) -> dict:
    """Market model by hand: OLS on [1, m], s^2 = SSR/(L - 2), the event ARs and C = I + X*(X'X)^-1X*'."""
    X = np.column_stack([np.ones(len(m)), m])
    b = np.linalg.solve(X.T @ X, X.T @ y)
    e = y - X @ b
    s = math.sqrt(float(e @ e) / (len(y) - 2))
    Xs = np.column_stack([np.ones(len(m_evt)), m_evt])
    C = np.eye(len(m_evt)) + Xs @ np.linalg.inv(X.T @ X) @ Xs.T
    return {"resid": e, "s": s, "ar": y_evt - Xs @ b, "C": C, "L": len(y)}


def _windows(rets: pd.DataFrame, firm: str, day0: str, est=(-250, -11), evt=(-1, 3)) -> dict:
    p = rets.index.get_loc(pd.Timestamp(day0))
    e = rets.iloc[p + est[0] : p + est[1] + 1]
    w = rets.iloc[p + evt[0] : p + evt[1] + 1]
    return _ols(e[firm].to_numpy(), e["SPY"].to_numpy(), w["SPY"].to_numpy(), w[firm].to_numpy())


# ------------------------------------------------------------------------------------------
# (a) the SAR divides by s_i, not sqrt(s_i)
# ------------------------------------------------------------------------------------------


def test_patell_sar_divides_by_the_standard_deviation():
    """Day 0 of AAA and BBB around 2023-10-17 (window [-1,+3], day 0 = column 1).

    SAR_i0 = AR_i0 / (s_i sqrt(C_i,00)) and Z = sum SAR / sqrt(sum (L-2)/(L-4)), recomputed from
    the returns; with every return (firms and market) multiplied by 3 the SARs and Z are
    unchanged, as they must be for a ratio of an AR to its standard deviation (dividing by
    sqrt(s_i) would multiply them by sqrt(3))."""
    rets = _returns()
    hand = {f: _windows(rets, f, EVENT) for f in ("AAA", "BBB")}
    sar = {f: h["ar"][1] / (h["s"] * math.sqrt(h["C"][1, 1])) for f, h in hand.items()}
    v = (240 - 2) / (240 - 4)
    z = sum(sar.values()) / math.sqrt(2 * v)

    res = an.event_study(["AAA", "BBB"], EVENT, prices=_prices(rets))
    for f in ("AAA", "BBB"):
        assert res.ar_se.loc[0, f] == pytest.approx(hand[f]["s"] * math.sqrt(hand[f]["C"][1, 1]))
        assert (res.ar / res.ar_se).loc[0, f] == pytest.approx(sar[f], rel=1e-8)
    patell = res.tests((0, 0), names="patell")["patell"]
    assert patell.stat == pytest.approx(z, rel=1e-8)
    assert patell.pvalue == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-7)

    scaled = rets * 3.0
    res3 = an.event_study(["AAA", "BBB"], EVENT, prices=_prices(scaled))
    assert res3.tests((0, 0), names="patell")["patell"].stat == pytest.approx(z, rel=1e-8)
    for f in ("AAA", "BBB"):
        assert res3.ar_se.loc[0, f] == pytest.approx(3 * res.ar_se.loc[0, f], rel=1e-8)
    # the error this guards against: AR / sqrt(s sqrt(C)) is not unit-free
    wrong = [h["ar"][1] / math.sqrt(h["s"] * math.sqrt(h["C"][1, 1])) for h in hand.values()]
    wrong3 = [
        3 * h["ar"][1] / math.sqrt(3 * h["s"] * math.sqrt(h["C"][1, 1])) for h in hand.values()
    ]
    assert wrong3[0] / wrong[0] == pytest.approx(math.sqrt(3))


# ------------------------------------------------------------------------------------------
# (b) several events of one firm
# ------------------------------------------------------------------------------------------

D1, D2 = "2023-10-17", "2023-04-03"  # AAA twice (estimation windows overlap in calendar time)


def _firm_events(rets: pd.DataFrame, pairs: list[tuple[str, str]]) -> inf.TestInputs:
    """The engine's path for firm-events: build_design (rows = firm-events on the event-time
    axis) -> fit_arrays -> TestInputs."""
    px = _prices(rets)
    r = returns_from_prices(px, sessions=px.index)
    d0 = [(f, calendar.resolve_day0(d)) for f, d in pairs]
    design = build_design(r, d0, SPEC, (-250, -11), (-1, 3))
    fit = fit_arrays(design.y_est, design.X_est, design.y_evt, design.X_evt, spec=SPEC)
    return inf.TestInputs.from_fit(fit, design.market_est, design.market_evt)


def test_two_events_of_one_firm_are_two_observations_in_bmp_and_kp():
    """AAA on 2023-10-17 and 2023-04-03, BBB on 2023-10-17: N = 3 firm-events, each SCAR with
    its own s and 1'C1; r-bar the mean of the 3 pairwise correlations of the estimation
    residuals aligned on relative days -250..-11 (AAA's two events form one of the pairs)."""
    rets = _returns()
    pairs = [("AAA", D1), ("AAA", D2), ("BBB", D1)]
    hand = [_windows(rets, f, d) for f, d in pairs]
    scar = [h["ar"].sum() / (h["s"] * math.sqrt(h["C"].sum())) for h in hand]
    n = 3
    mean = sum(scar) / n
    sd = math.sqrt(sum((s - mean) ** 2 for s in scar) / (n - 1))
    t_bmp = mean / (sd / math.sqrt(n))
    corr = np.corrcoef(np.vstack([h["resid"] for h in hand]))
    rbar = (corr[0, 1] + corr[0, 2] + corr[1, 2]) / 3
    t_kp = t_bmp * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    v = (240 - 2) / (240 - 4)
    z_kp = sum(scar) / math.sqrt(n * v) / math.sqrt(1 + (n - 1) * rbar)

    x = _firm_events(rets, pairs)
    days = range(5)
    assert x.sigma[0] != x.sigma[1]  # the firm's two events keep their own s
    np.testing.assert_allclose(x.sigma, [h["s"] for h in hand], rtol=1e-10)
    bmp = inf.bmp(x, days)
    assert bmp.n == 3
    assert bmp.stat == pytest.approx(t_bmp, rel=1e-8)
    assert bmp.pvalue == pytest.approx(2 * stats.t.sf(abs(t_bmp), n - 1), rel=1e-7)
    kp = inf.kp_bmp(x, days)
    assert kp.extra["rbar"] == pytest.approx(rbar, rel=1e-8)
    assert kp.stat == pytest.approx(t_kp, rel=1e-8)
    assert inf.kp_patell(x, days).stat == pytest.approx(z_kp, rel=1e-8)
    assert corr[0, 1] != pytest.approx(0.0, abs=1e-6)  # the own-firm pair enters r-bar

    # the same rows under a new name for AAA's second event: identical statistics
    relabelled = rets.assign(AAA2=rets["AAA"])
    y = _firm_events(relabelled, [("AAA", D1), ("AAA2", D2), ("BBB", D1)])
    assert inf.bmp(y, days).stat == pytest.approx(bmp.stat, rel=1e-12)
    assert inf.kp_bmp(y, days).stat == pytest.approx(kp.stat, rel=1e-12)
    # the error this guards against: rows keyed by symbol, so AAA's second event overwrites its
    # first and the sample has N = 2
    kept = [scar[1], scar[2]]
    km = sum(kept) / 2
    t_keyed = km / (math.sqrt(sum((v - km) ** 2 for v in kept)) / math.sqrt(2))
    assert abs(t_keyed - t_bmp) > 0.05 * abs(t_bmp)


# ------------------------------------------------------------------------------------------
# (c) Patell's variance factor uses each firm's L_i and the model's k
# ------------------------------------------------------------------------------------------


def test_patell_variance_factor_uses_each_firms_l_and_the_models_k():
    """Market model (k = 2) with 17 of AAA's 240 estimation returns missing, and a two-factor
    model (k = 3): v_i = (L_i - k)/(L_i - k - 2), the variance of a t(L_i - k) variable."""
    rng = np.random.default_rng(11)
    L, W, n = 240, 5, 3
    F = rng.normal(0, 0.01, (L + W, 2))
    y = 0.0002 + F @ np.array([[1.2, 0.9, 0.6], [0.4, -0.3, 0.8]]) + rng.normal(0, 0.02, (L + W, n))
    y = y.T.copy()
    y[0, 10:27] = np.nan  # AAA: L_0 = 223
    for k, cols in ((2, [0]), (3, [0, 1])):
        X = np.concatenate([np.ones((L + W, 1)), F[:, cols]], axis=1)
        Xb = np.broadcast_to(X, (n, L + W, k))
        spec = (
            make_spec("market_model", "SPY")
            if k == 2
            else make_spec("factor_model", factors=["F1", "F2"])
        )
        fit = fit_arrays(y[:, :L], Xb[:, :L], y[:, L:], Xb[:, L:], spec=spec)
        x = inf.TestInputs.from_fit(fit)
        scar, var = [], []
        for i in range(n):
            ok = np.isfinite(y[i, :L])
            Xe, ye = X[:L][ok], y[i, :L][ok]
            b = np.linalg.solve(Xe.T @ Xe, Xe.T @ ye)
            e = ye - Xe @ b
            s = math.sqrt(float(e @ e) / (ok.sum() - k))
            Xs = X[L:]
            C = np.eye(W) + Xs @ np.linalg.inv(Xe.T @ Xe) @ Xs.T
            ar = y[i, L:] - Xs @ b
            scar.append(ar.sum() / (s * math.sqrt(C.sum())))
            dof = ok.sum() - k
            var.append(dof / (dof - 2))
            assert var[-1] == pytest.approx(stats.t(dof).var(), rel=1e-12)
        z = sum(scar) / math.sqrt(sum(var))
        assert x.n_est.tolist() == [223, 240, 240]
        res = inf.patell(x, range(W))
        assert res.stat == pytest.approx(z, rel=1e-9), k
        assert res.variant.endswith(f"(L_i-{k})/(L_i-{k}-2)")
        # the errors this guards against: the window length for every firm, or k = 1
        for wrong_l, wrong_k in (([240, 240, 240], k), ([223, 240, 240], 1)):
            vw = [(lw - wrong_k) / (lw - wrong_k - 2) for lw in wrong_l]
            assert abs(sum(scar) / math.sqrt(sum(vw)) - res.stat) > 1e-6 * abs(res.stat)


# ------------------------------------------------------------------------------------------
# (d) the CAR variance includes the parameter-estimation covariance
# ------------------------------------------------------------------------------------------

# A tiny market-model data set in exact fractions (returns in percent): 6 estimation days, 3
# event days.
M_EST = [Fraction(v, 100) for v in (1, -1, 2, 0, -2, 3)]
Y_EST = [Fraction(v, 100) for v in (2, -1, 3, 1, -3, 2)]
M_EVT = [Fraction(v, 100) for v in (1, 4, -1)]
Y_EVT = [Fraction(v, 100) for v in (3, 5, 0)]


def test_car_variance_includes_parameter_estimation_covariance_exactly():
    """By hand: mbar = 1/200, Smm = sum (m - mbar)^2, beta = Smy/Smm, alpha = ybar - beta mbar,
    s^2 = SSR/(6 - 2); 1'C1 = 3 + 3^2/6 + (sum_t (m*_t - mbar))^2 / Smm (the 3 x 3 matrix
    I + X*(X'X)^-1 X*' summed); Var(CAR) = s^2 1'C1. Everything in exact fractions."""
    L = len(M_EST)
    mbar = sum(M_EST) / L
    ybar = sum(Y_EST) / L
    smm = sum((m - mbar) ** 2 for m in M_EST)
    smy = sum((m - mbar) * (y - ybar) for m, y in zip(M_EST, Y_EST, strict=True))
    beta = smy / smm
    alpha = ybar - beta * mbar
    ssr = sum((y - alpha - beta * m) ** 2 for m, y in zip(M_EST, Y_EST, strict=True))
    s2 = ssr / (L - 2)
    # C_tu = [t == u] + 1/L + (m*_t - mbar)(m*_u - mbar)/Smm, summed over the 3 x 3 entries
    c = [
        [
            (1 if t == u else 0) + Fraction(1, L) + (mt - mbar) * (mu - mbar) / smm
            for u, mu in enumerate(M_EVT)
        ]
        for t, mt in enumerate(M_EVT)
    ]
    factor = sum(sum(row) for row in c)
    assert factor == 3 + Fraction(9, L) + sum(m - mbar for m in M_EVT) ** 2 / smm
    var_car = s2 * factor
    car = sum(y - alpha - beta * m for m, y in zip(M_EVT, Y_EVT, strict=True))

    f = float
    X = np.array([[1.0, f(m)] for m in M_EST + M_EVT])
    yy = np.array([f(v) for v in Y_EST + Y_EVT])
    fit = fit_arrays(
        yy[None, :L], X[None, :L], yy[None, L:], X[None, L:], spec=SPEC, min_estimation=L
    )
    ct = inf.car_test(inf.TestInputs.from_fit(fit), [0, 1, 2])
    assert ct.estimate[0] == pytest.approx(f(car), rel=1e-12)
    assert ct.std_error[0] ** 2 == pytest.approx(f(var_car), rel=1e-12)
    assert ct.tstat[0] == pytest.approx(f(car) / math.sqrt(f(var_car)), rel=1e-12)
    assert ct.pvalue[0] == pytest.approx(
        2 * stats.t.sf(abs(f(car)) / math.sqrt(f(var_car)), L - 2), rel=1e-10
    )
    # the errors this guards against: no estimation error (s^2 L2), and the daily factors summed
    # without the covariances between the event days
    daily = sum(c[t][t] for t in range(3))
    assert var_car != s2 * 3 and var_car != s2 * daily
    assert ct.std_error[0] ** 2 > f(s2 * daily) > f(s2 * 3)
