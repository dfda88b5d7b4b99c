"""dummy_hac, formula (4): the HAC variance of the CAR = sandwich part of the estimation error +
the Newey-West variance of the window's disturbances from the estimation residuals."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import signal

from analysis.eventstudy.inference import event_dummy_regression, newey_west_lags
from analysis.eventstudy.inference.single_firm import _nw_sum_variance


def _firm(seed=4, L=240, W=5, phi=0.3):
    """Market-model returns of one firm with AR(1) disturbances (so the HAC terms matter)."""
    rng = np.random.default_rng(seed)
    T = L + W
    m = rng.normal(0.0003, 0.01, T)
    u = signal.lfilter([1.0], [1.0, -phi], rng.normal(0, 0.02, T))
    y = 0.0002 + 1.2 * m + u
    X = np.stack([np.ones(T), m], axis=1)
    return y[:L], X[:L], y[L:], X[L:]


def _omega(u, m, q):
    """Formula (4)'s window variance written out term by term."""
    u = u - u.mean()
    n = len(u)
    g = [float(u[h:] @ u[: n - h]) / n for h in range(m)]
    return m * g[0] + 2 * sum(
        (m - h) * (1 - h / (q + 1)) * g[h] for h in range(1, min(q, m - 1) + 1)
    )


def test_window_variance_by_hand():
    """u = (1, -1, 2, 0, -2): g0 = 2, g1 = -0.6, g2 = -0.4 (divisor n = 5)."""
    u = np.array([1.0, -1.0, 2.0, 0.0, -2.0])
    assert _nw_sum_variance(u, 1, 4) == pytest.approx(2.0)
    # 3 g0 + 2 [2 (1 - 1/5) g1 + 1 (1 - 2/5) g2] = 6 - 1.92 - 0.48
    assert _nw_sum_variance(u, 3, 4) == pytest.approx(3.6)
    # q = 1 drops lag 2: 6 + 2 * 2 * (1 - 1/2) * g1
    assert _nw_sum_variance(u, 3, 1) == pytest.approx(4.8)
    # the mean is removed first
    assert _nw_sum_variance(u + 7.0, 3, 4) == pytest.approx(3.6)


@pytest.mark.parametrize("days", [[1], [0, 1, 2, 3, 4], [1, 2]])
def test_hac_variance_is_sandwich_of_b_plus_window_variance(days):
    """r'V_HAC r of the dummy regression equals x_D' V_b x_D with V_b the Newey-West covariance of
    the estimation-window regression alone (the event days' zero residuals add nothing); the HAC
    CAR variance is that plus the window variance Omega_m."""
    y_e, X_e, y_w, X_w = _firm()
    dr = event_dummy_regression(y_e, X_e, y_w, X_w, days)
    q = newey_west_lags(len(y_e) + len(y_w))
    assert dr.hac_lags == q == 4
    fit_e = sm.OLS(y_e, X_e).fit(cov_type="HAC", cov_kwds={"maxlags": q})
    x_d = X_w[days].sum(axis=0)
    est_part = float(x_d @ np.asarray(fit_e.cov_params()) @ x_d)
    window_part = _omega(np.asarray(fit_e.resid), len(days), q)
    var_hac = (dr.car / dr.car_t_hac) ** 2
    assert var_hac == pytest.approx(est_part + window_part, rel=1e-9)
    # the window's disturbances dominate: without them the t statistic would explode
    assert window_part > 20 * est_part


def test_one_day_car_equals_daily_hac_t():
    """A one-day CAR is that day's dummy: same t, and the same as a regression with that day alone."""
    y_e, X_e, y_w, X_w = _firm(seed=8)
    five = event_dummy_regression(y_e, X_e, y_w, X_w, [1])
    assert five.car_t_hac == pytest.approx(five.t_hac[1], rel=1e-12)
    one = event_dummy_regression(y_e, X_e, y_w[1:2], X_w[1:2], [0])
    assert one.hac_lags == five.hac_lags
    assert one.car_t_hac == pytest.approx(five.car_t_hac, rel=1e-9)
    assert one.car_t_ols == pytest.approx(five.t_ols[1], rel=1e-9)


def test_window_variance_understates_ar1_sum():
    """AR(1), phi = 0.2, unit variance: Var(5-day sum) = 6.875; the Bartlett factor in Omega_5 with
    q = 4 gives 5 + 2 (4*.2*.8 + 3*.04*.6 + 2*.008*.4 + .0016*.2) = 6.437 (formula (4), item 4)."""
    rng = np.random.default_rng(1)
    u = signal.lfilter([1.0], [1.0, -0.2], rng.normal(size=400_000)) * np.sqrt(1 - 0.04)
    assert _nw_sum_variance(u, 5, 4) == pytest.approx(6.437, rel=0.01)
    assert _omega(u, 5, 4) == pytest.approx(_nw_sum_variance(u, 5, 4), rel=1e-12)
    true = 5 + 2 * sum((5 - h) * 0.2**h for h in range(1, 5))  # 6.875
    assert _nw_sum_variance(u, 5, 4) < 0.95 * true
