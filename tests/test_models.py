"""Return models: the vectorized path equals statsmodels; the event-dummy identities hold."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.errors import EstimationError, SpecificationError
from analysis.eventstudy.inference import event_dummy_regression, newey_west_lags
from analysis.eventstudy.models import fit_arrays, make_spec
from tests.reference_fits import fit_statsmodels


def _panel(seed=0, N=6, L1=120, L2=7, f=1, missing=True):
    rng = np.random.default_rng(seed)
    F_est = rng.normal(0, 0.01, (L1, f))
    F_evt = rng.normal(0, 0.01, (L2, f))
    beta = rng.uniform(0.5, 1.5, (N, f))
    alpha = rng.normal(0, 0.001, N)
    y_est = alpha[:, None] + beta @ F_est.T + rng.normal(0, 0.02, (N, L1))
    y_evt = alpha[:, None] + beta @ F_evt.T + rng.normal(0, 0.02, (N, L2))
    if missing:
        y_est[0, [3, 17, 40]] = np.nan
        y_est[2, :11] = np.nan
        y_evt[1, 2] = np.nan
    X_est = np.concatenate([np.ones((N, L1, 1)), np.broadcast_to(F_est, (N, L1, f))], axis=2)
    X_evt = np.concatenate([np.ones((N, L2, 1)), np.broadcast_to(F_evt, (N, L2, f))], axis=2)
    return y_est, X_est, y_evt, X_evt


@pytest.mark.parametrize("f", [1, 2])
def test_vectorized_equals_statsmodels(f):
    y_est, X_est, y_evt, X_evt = _panel(f=f)
    spec = (
        make_spec("factor_model", factors=[f"F{j}" for j in range(f)])
        if f > 1
        else make_spec("market_model", "SPY")
    )
    fit = fit_arrays(y_est, X_est, y_evt, X_evt, spec=spec)
    for i in range(len(y_est)):
        ref = fit_statsmodels(y_est[i], X_est[i])
        np.testing.assert_allclose(fit.params[i], ref.params, rtol=0, atol=1e-10)
        assert fit.n_est[i] == ref.nobs
        np.testing.assert_allclose(
            fit.sigma[i], np.sqrt(ref.scale), rtol=1e-10
        )  # scale = SSR/(L-k)
        np.testing.assert_allclose(fit.r2[i], ref.rsquared, rtol=1e-10)
        np.testing.assert_allclose(fit.resid[i][np.isfinite(fit.resid[i])], ref.resid, atol=1e-12)
        # prediction-error covariance = I + X*(X'X)^-1 X*' built from statsmodels' normalized_cov_params
        C = np.eye(len(y_evt[i])) + X_evt[i] @ ref.normalized_cov_params @ X_evt[i].T
        np.testing.assert_allclose(fit.cov[i], C, atol=1e-10)
    assert fit.n_est.tolist() == [117, 120, 109, 120, 120, 120]
    assert np.isnan(fit.ar[1, 2]) and np.isfinite(fit.ar[1, 3])


def test_market_model_car_variance_closed_form():
    """sigma^2 [L2 + L2^2/L1 + (sum(Rm - mean))^2 / Smm] (formula (2), docs/formulas.md)."""
    y_est, X_est, y_evt, X_evt = _panel(missing=False)
    fit = fit_arrays(y_est, X_est, y_evt, X_evt, spec=make_spec("market_model", "SPY"))
    m = X_est[0, :, 1]
    mbar, smm = m.mean(), ((m - m.mean()) ** 2).sum()
    L1, L2 = len(m), y_evt.shape[1]
    closed = L2 + L2**2 / L1 + ((X_evt[0, :, 1] - mbar).sum()) ** 2 / smm
    assert fit.cov[0].sum() == pytest.approx(closed, rel=1e-12)
    summed_daily = (1 + 1 / L1 + (X_evt[0, :, 1] - mbar) ** 2 / smm).sum()
    assert abs(fit.cov[0].sum() - summed_daily) > 1e-3  # the covariance terms matter


def test_constant_mean_and_market_adjusted():
    y_est, X_est, y_evt, X_evt = _panel(missing=False)
    cm = fit_arrays(y_est, X_est[..., :1], y_evt, X_evt[..., :1], spec=make_spec("constant_mean"))
    np.testing.assert_allclose(cm.params[:, 0], y_est.mean(axis=1), atol=1e-14)
    np.testing.assert_allclose(cm.sigma, y_est.std(axis=1, ddof=1), rtol=1e-12)
    L1, L2 = y_est.shape[1], y_evt.shape[1]
    assert cm.cov[0].sum() == pytest.approx(L2 + L2**2 / L1, rel=1e-12)
    m_est, m_evt = X_est[..., 1], X_evt[..., 1]
    ma = fit_arrays(
        y_est,
        X_est[..., :0],
        y_evt,
        X_evt[..., :0],
        spec=make_spec("market_adjusted", "SPY"),
        offset_est=m_est,
        offset_evt=m_evt,
    )
    np.testing.assert_allclose(ma.ar, y_evt - m_evt, atol=1e-15)
    np.testing.assert_allclose(
        ma.sigma, np.sqrt(((y_est - m_est) ** 2).sum(axis=1) / L1), rtol=1e-12
    )
    np.testing.assert_allclose(ma.cov[0], np.eye(L2))


def test_estudy2_convention_divisor():
    y_est, X_est, y_evt, X_evt = _panel(missing=False)
    spec = make_spec("market_model", "SPY")
    d = fit_arrays(y_est, X_est, y_evt, X_evt, spec=spec)
    e = fit_arrays(y_est, X_est, y_evt, X_evt, spec=spec, convention="estudy2")
    L1 = y_est.shape[1]
    np.testing.assert_allclose(e.sigma, d.sigma * np.sqrt((L1 - 2) / (L1 - 1)), rtol=1e-12)
    with pytest.raises(
        SpecificationError, match="unknown convention 'stata'; valid: default, estudy2"
    ):
        fit_arrays(y_est, X_est, y_evt, X_evt, spec=spec, convention="stata")


def test_dummy_regression_identities():
    """gamma_k = out-of-sample AR_k and t_OLS(gamma_k) = prediction-error t (Karafiath 1988)."""
    y_est, X_est, y_evt, X_evt = _panel(missing=False)
    spec = make_spec("market_model", "SPY")
    fit = fit_arrays(y_est, X_est, y_evt, X_evt, spec=spec)
    days = [1, 2, 3]
    dr = event_dummy_regression(y_est[0], X_est[0], y_evt[0], X_evt[0], days)
    np.testing.assert_allclose(dr.gamma, fit.ar[0], atol=1e-12)
    t_pe = fit.ar[0] / (fit.sigma[0] * np.sqrt(np.diagonal(fit.cov[0])))
    np.testing.assert_allclose(dr.t_ols, t_pe, rtol=1e-9)
    car = fit.ar[0, days].sum()
    t_car = car / (fit.sigma[0] * np.sqrt(fit.cov[0][np.ix_(days, days)].sum()))
    assert dr.car == pytest.approx(car, abs=1e-12)
    assert dr.car_t_ols == pytest.approx(t_car, rel=1e-9)
    assert dr.car_p_ols == pytest.approx(2 * stats.t.sf(abs(t_car), 120 - 2), rel=1e-8)
    assert dr.hac_lags == newey_west_lags(127) == 4
    assert np.isfinite(dr.car_t_hac) and dr.car_t_hac != pytest.approx(dr.car_t_ols)


def test_dummy_regression_missing_event_day():
    y_est, X_est, y_evt, X_evt = _panel(missing=True)
    dr = event_dummy_regression(y_est[1], X_est[1], y_evt[1], X_evt[1], [0, 1])
    assert np.isnan(dr.gamma[2]) and np.isfinite(dr.car)
    dr2 = event_dummy_regression(y_est[1], X_est[1], y_evt[1], X_evt[1], [2, 3])
    assert np.isnan(dr2.car)


def test_errors_name_the_firm():
    y_est, X_est, y_evt, X_evt = _panel(missing=False)
    spec = make_spec("market_model", "SPY")
    y_est[3, :100] = np.nan
    with pytest.raises(
        EstimationError, match=r"too few valid estimation returns \(need at least 30\): AMD has 20"
    ):
        fit_arrays(
            y_est, X_est, y_evt, X_evt, spec=spec, firm_names=["A", "B", "C", "AMD", "E", "F"]
        )
    y_est, X_est, y_evt, X_evt = _panel(missing=False)
    X_est[:, :, 1] = 0.001
    with pytest.raises(EstimationError, match="constant or collinear .* for A, B"):
        fit_arrays(y_est, X_est, y_evt, X_evt, spec=spec, firm_names=list("ABCDEF"))
    y_est, X_est, y_evt, X_evt = _panel(missing=False)
    y_est[4] = 0.0
    with pytest.raises(EstimationError, match="zero residual variance .* for E"):
        fit_arrays(
            y_est,
            X_est[..., :1],
            y_evt,
            X_evt[..., :1],
            spec=make_spec("constant_mean"),
            firm_names=list("ABCDEF"),
        )


def test_spec_errors():
    with pytest.raises(
        SpecificationError,
        match="unknown model 'capm'; valid models: market_model, market_adjusted, constant_mean, factor_model",
    ):
        make_spec("capm")
    with pytest.raises(SpecificationError, match="factor_model needs its regressors"):
        make_spec("factor_model")
    assert make_spec("factor_model", factors=["SPY", "SOXX"]).k == 3
    assert make_spec("market_adjusted", "QQQ").k == 0


def test_dummy_hac_close_to_ols_without_autocorrelation():
    """With iid errors the corrected HAC t is close to the OLS t (no explosion from zero residuals)."""
    y_est, X_est, y_evt, X_evt = _panel(seed=3, missing=False, L1=250)
    dr = event_dummy_regression(y_est[0], X_est[0], y_evt[0], X_evt[0], [0, 1, 2])
    assert abs(dr.car_t_hac / dr.car_t_ols - 1) < 0.15
    np.testing.assert_allclose(dr.t_hac / dr.t_ols, 1, atol=0.15)


@pytest.mark.parametrize("f", [1, 2])
def test_vectorized_equals_statsmodels_with_per_firm_designs(f):
    """Distinct event dates: each firm has its own regressors (the per-firm path)."""
    y_est, X_est, y_evt, X_evt = _panel(seed=5, f=f)
    rng = np.random.default_rng(9)
    X_est = X_est.copy()
    X_evt = X_evt.copy()
    X_est[..., 1:] += rng.normal(0, 0.003, X_est[..., 1:].shape)
    X_evt[..., 1:] += rng.normal(0, 0.003, X_evt[..., 1:].shape)
    X_est[3, 7, 1] = np.nan  # a missing regressor value drops that firm-day
    spec = (
        make_spec("factor_model", factors=[f"F{j}" for j in range(f)])
        if f > 1
        else make_spec("market_model", "SPY")
    )
    fit = fit_arrays(y_est, X_est, y_evt, X_evt, spec=spec)
    for i in range(len(y_est)):
        ref = fit_statsmodels(y_est[i], X_est[i])
        np.testing.assert_allclose(fit.params[i], ref.params, rtol=0, atol=1e-10)
        np.testing.assert_allclose(fit.sigma[i], np.sqrt(ref.scale), rtol=1e-10)
        C = np.eye(X_evt.shape[1]) + X_evt[i] @ ref.normalized_cov_params @ X_evt[i].T
        np.testing.assert_allclose(fit.cov[i], C, atol=1e-10)
        np.testing.assert_allclose(fit.ar[i], y_evt[i] - X_evt[i] @ ref.params, atol=1e-12)
    assert fit.n_est[3] == 119
