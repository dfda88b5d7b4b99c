"""Pooled tests across one firm's episodes: formulas (20)-(22), and their size and power."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.errors import EstimationError, SpecificationError
from analysis.eventstudy import inference
from analysis.eventstudy.models import fit_arrays, make_spec


def test_mean_standardized_car_by_hand():
    car = np.array([0.02, -0.01, 0.05, np.nan])
    se = np.array([0.01, 0.02, 0.025, 0.01])
    dof = np.array([10.0, 20.0, 238.0, 50.0])
    r = inference.mean_standardized_car(car, se, dof)
    v = 10 / 8 + 20 / 18 + 238 / 236
    z = (2.0 - 0.5 + 2.0) / np.sqrt(v)
    assert r.stat == pytest.approx(z, rel=1e-12)
    assert r.pvalue == pytest.approx(2 * stats.norm.sf(z), rel=1e-12)
    assert r.n == 3
    assert r.extra["mean_car"] == pytest.approx(0.02)
    assert r.extra["mean_scar"] == pytest.approx(3.5 / 3)


def test_mean_standardized_car_needs_dof_above_two():
    with pytest.raises(EstimationError, match=r"more than 2 degrees of freedom.*\[2\.0\]"):
        inference.mean_standardized_car([0.1], [0.05], [2.0])
    with pytest.raises(SpecificationError, match="one value per episode each; got 2, 1, 2"):
        inference.mean_standardized_car([0.1, 0.2], [0.05], [10, 10])


def test_episode_sign_test_exact_binomial():
    r = inference.episode_sign_test([0.1, -0.2, 0.0, -0.1, -0.3, -0.1, -0.2, -0.1, -0.4, -0.1, 0.2])
    assert r.extra["n_pos"] == 2  # the zero CAR does not count as positive
    assert r.n == 11
    assert r.pvalue == pytest.approx(2 * (1 + 11 + 55) / 2**11, rel=1e-12)
    assert r.pvalue == pytest.approx(stats.binomtest(2, 11, 0.5).pvalue, rel=1e-12)
    assert r.stat == pytest.approx(2 / 11)


def _panel(seed=1, T=400):
    rng = np.random.default_rng(seed)
    m = rng.normal(0, 0.01, T)
    y = 0.001 + 1.2 * m + rng.normal(0, 0.02, T)
    return y, np.column_stack([np.ones(T), m])


def test_stacked_regression_matches_statsmodels_dummy_regression():
    import statsmodels.api as sm

    y, X = _panel()
    eps = [[100, 101, 102], [250, 251, 252, 253]]
    r = inference.stacked_dummy_regression(y, X, eps, hac_lags=4)
    days = [d for e in eps for d in e]
    D = np.zeros((len(y), len(days)))
    D[days, range(len(days))] = 1
    fit = sm.OLS(y, np.hstack([X, D])).fit(cov_type="HAC", cov_kwds={"maxlags": 4})
    V = np.asarray(fit.cov_params())
    np.testing.assert_allclose(r.params, fit.params[:2], rtol=1e-10)
    np.testing.assert_allclose(r.gamma, fit.params[2:], rtol=1e-10)
    np.testing.assert_allclose(r.params_cov, V[:2, :2], rtol=1e-10)
    np.testing.assert_allclose(r.effects, [fit.params[2:5].sum(), fit.params[5:].sum()])
    # the covariance adds the event-day disturbances to the sandwich's estimation-error part
    R = np.zeros((2, 7))
    R[0, :3] = R[1, 3:] = 1
    sandwich = R @ V[2:, 2:] @ R.T
    assert np.all(np.diag(r.cov) > np.diag(sandwich) * 5)
    assert r.wald == pytest.approx(r.effects @ np.linalg.solve(r.cov, r.effects), rel=1e-12)
    assert r.wald_pvalue == pytest.approx(stats.chi2.sf(r.wald, 2), rel=1e-12)
    assert r.sum_z == pytest.approx(r.effects.sum() / np.sqrt(r.cov.sum()), rel=1e-12)
    assert (r.wald_df, r.hac_lags, r.n) == (2, 4, 400)


def test_stacked_regression_one_day_no_lags_is_prediction_error_variance():
    y, X = _panel(seed=2)
    r = inference.stacked_dummy_regression(y, X, [[300]], hac_lags=0)
    est = np.ones(len(y), bool)
    est[300] = False
    b = np.linalg.lstsq(X[est], y[est], rcond=None)[0]
    u = y[est] - X[est] @ b
    A = np.linalg.inv(X[est].T @ X[est])
    vb = A @ (X[est].T * u**2) @ X[est] @ A  # White covariance
    var = X[300] @ vb @ X[300] + u @ u / est.sum()
    assert r.effects[0] == pytest.approx(y[300] - X[300] @ b, rel=1e-12)
    assert r.std_error[0] == pytest.approx(np.sqrt(var), rel=1e-10)


def test_stacked_regression_errors():
    y, X = _panel()
    with pytest.raises(SpecificationError, match="episode 1 shares rows with an earlier episode"):
        inference.stacked_dummy_regression(y, X, [[10, 11], [11, 12]])
    with pytest.raises(SpecificationError, match=r"episode 0: rows must be .* in 0\.\.399"):
        inference.stacked_dummy_regression(y, X, [[400]])
    y2 = y.copy()
    y2[[10, 11]] = np.nan
    with pytest.raises(EstimationError, match=r"episode\(s\) \[0\] have no return"):
        inference.stacked_dummy_regression(y2, X, [[10, 11], [50]])


# ---------------------------------------------------------------------------- Monte Carlo

J, L, EST, GAP = 12, 5, 240, 20  # episodes, window days (-1..+3), estimation days, spacing


def _simulate(rng, reps, shift):
    """Per rep: a market-model series with J episodes GAP days apart, the day-0 returns shifted
    by ``shift``; returns the pooled p-values (mean SCAR, sign, Wald, sum) per rep."""
    first = EST + 10
    T = first + J * GAP
    starts = first + GAP * np.arange(J)  # day -1 of each episode
    m = rng.normal(0, 0.01, (reps, T))
    y = 0.0005 + 1.1 * m + rng.normal(0, 0.02, (reps, T))
    y[:, starts + 1] += shift
    # per-episode market model over the EST days ending 10 days before day 0 (window -250:-11)
    est_idx = (starts + 1 - 10 - EST)[:, None] + np.arange(EST)
    evt_idx = starts[:, None] + np.arange(L)
    ones = np.ones
    y_est = y[:, est_idx].reshape(-1, EST)
    y_evt = y[:, evt_idx].reshape(-1, L)
    m_est = m[:, est_idx].reshape(-1, EST)
    m_evt = m[:, evt_idx].reshape(-1, L)
    X_est = np.stack([ones(m_est.shape), m_est], axis=-1)
    X_evt = np.stack([ones(m_evt.shape), m_evt], axis=-1)
    fit = fit_arrays(y_est, X_est, y_evt, X_evt, spec=make_spec("market_model", "SPY"))
    ct = inference.car_test(inference.TestInputs.from_fit(fit), slice(None))
    car, se, dof = (a.reshape(reps, J) for a in (ct.estimate, ct.std_error, ct.dof))
    out = np.empty((reps, 4))
    sample = slice(first - 10 - EST + 1, T)  # first estimation start .. last episode end
    rows = [list(range(s - sample.start, s - sample.start + L)) for s in starts]
    for r in range(reps):
        out[r, 0] = inference.mean_standardized_car(car[r], se[r], dof[r]).pvalue
        out[r, 1] = inference.episode_sign_test(car[r]).pvalue
        Xr = np.column_stack([ones(T), m[r]])[sample]
        st = inference.stacked_dummy_regression(y[r, sample], Xr, rows)
        out[r, 2], out[r, 3] = st.wald_pvalue, st.sum_pvalue
    return out


@pytest.mark.slow
def test_pooled_tests_size_and_power():
    reps, alpha = 1000, 0.05
    rng = np.random.default_rng(20240517)
    null = _simulate(rng, reps, 0.0)
    k = np.arange(J + 1)
    pmf = stats.binom.pmf(k, J, 0.5)
    p_sign = np.array([min(1.0, 2 * min(pmf[: i + 1].sum(), pmf[i:].sum())) for i in k])
    sign_size = pmf[p_sign <= alpha].sum()  # the exact test's attainable size, 0.0386 for J=12
    assert sign_size == pytest.approx(2 * (1 + 12 + 66) / 2**12)
    for col, size in ((0, alpha), (1, sign_size), (2, alpha), (3, alpha)):
        lo, hi = stats.binom.ppf([0.005, 0.995], reps, size)
        rejections = int((null[:, col] <= alpha).sum())
        assert lo <= rejections <= hi, (col, rejections, lo, hi)
    power = (_simulate(rng, reps, 0.05) <= alpha).mean(axis=0)
    assert power[0] > 0.9 and power[3] > 0.9, power  # mean SCAR and the sum: direction-pooled
    assert power[1] > 0.5 and power[2] > 0.5, power
