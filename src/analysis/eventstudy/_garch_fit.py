"""Per-firm fitting of the GARCH(1,1) Student-t market model and its variance forecasts.

The numerical core of :mod:`analysis.eventstudy.garch`: one ``arch`` fit per firm on its
estimation window, the multi-step conditional-variance forecast for the event days, and the
arrays the results object reads (:class:`GarchFit`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import EstimationError

#: The model's name in ``event_study(model=...)``.
GARCH_MODEL = "garch_market_model"

#: The fitted coefficients, in this order: the mean equation (mu, beta), the variance equation
#: (omega, alpha, garch_beta) and the Student-t degrees of freedom (nu).
GARCH_PARAMS: tuple[str, ...] = ("mu", "beta", "omega", "alpha", "garch_beta", "nu")

#: The cross-sectional tests of the GARCH results' ``tests()``, in order.
GARCH_MULTI_FIRM_TESTS: tuple[str, ...] = ("cross_sectional_t", "bmp", "patell", "kp_bmp")

#: Returns are multiplied by this before the optimizer sees them (percent returns), as ``arch``
#: recommends for daily data; every reported quantity is converted back to return units.
PERCENT = 100.0

#: Fewest consecutive estimation returns a GARCH(1,1)-t fit accepts (six parameters, two of
#: them only weakly identified in short samples); ``min_estimation`` may raise it, not lower it.
MIN_ESTIMATION_GARCH = 100

#: Multiply arch's parameters (percent units) by these to get return units.
_TO_RETURN_UNITS = np.array([1 / PERCENT, 1.0, 1 / PERCENT**2, 1.0, 1.0, 1.0])


@dataclass(frozen=True)
class GarchFit:
    """Fitted GARCH(1,1)-t market models for N firms (all numpy, return units)."""

    params: np.ndarray  # (N, 6) GARCH_PARAMS
    std_err: np.ndarray  # (N, 6) robust (QML) standard errors of the params
    loglik: np.ndarray  # (N,) log-likelihood of the returns (return units)
    n_est: np.ndarray  # (N,) estimation returns used
    r2: np.ndarray  # (N,) 1 - SSR/SST of the mean equation on the estimation returns
    resid: np.ndarray  # (N, L1) estimation residuals e_t, NaN outside the fitted sample
    sd_est: np.ndarray  # (N, L1) in-sample conditional sd sigma_t, NaN outside the sample
    origin: np.ndarray  # (N,) relative day T of the last estimation return (forecast origin)
    horizon: np.ndarray  # (N, L2) sessions from T to each event day (>= 1)
    expected: np.ndarray  # (N, L2) mu + beta R_mt
    ar: np.ndarray  # (N, L2) R_t - expected, NaN where a return is missing
    sd: np.ndarray  # (N, L2) forecast conditional sd sigma_{T+h|T}

    @property
    def std_resid(self) -> np.ndarray:
        """(N, L1) standardized estimation residuals e_t / sigma_t (NaN outside the sample)."""
        out: np.ndarray = self.resid / self.sd_est
        return out

    @property
    def sar(self) -> np.ndarray:
        """(N, L2) standardized abnormal returns AR_t / sigma_{t|T}."""
        out: np.ndarray = self.ar / self.sd
        return out

    @property
    def persistence(self) -> np.ndarray:
        """(N,) alpha + garch_beta."""
        out: np.ndarray = self.params[:, 3] + self.params[:, 4]
        return out


def variance_forecast(
    omega: float,
    alpha: float,
    garch_beta: float,
    e_last: float,
    s2_last: float,
    horizons: Sequence[int] | np.ndarray,
) -> np.ndarray:
    """The h-step conditional variance forecasts sigma^2_{T+h|T} of a GARCH(1,1) from the last
    residual ``e_last`` and conditional variance ``s2_last`` at T (Bollerslev 1986; the h-step
    recursion of a GARCH(1,1)): sigma^2_{T+1|T} = omega + alpha e_T^2 + garch_beta sigma_T^2 and
    sigma^2_{T+h|T} = omega + (alpha + garch_beta) sigma^2_{T+h-1|T}."""
    h = np.asarray(horizons, dtype=int)
    if h.size == 0:
        return np.zeros(0)
    if h.min() < 1:
        raise ValueError(f"forecast horizons start at 1, got {h.min()}")
    path = np.empty(int(h.max()))
    path[0] = omega + alpha * e_last**2 + garch_beta * s2_last
    p = alpha + garch_beta
    for j in range(1, path.size):
        path[j] = omega + p * path[j - 1]
    out: np.ndarray = path[h - 1]
    return out


def arch_fit(y: np.ndarray, m: np.ndarray):  # -> arch ARCHModelResult
    """``arch``'s maximum-likelihood fit of r_t = mu + beta m_t + e_t, GARCH(1,1), Student-t
    innovations, on returns in percent (``y`` and ``m`` in return units, no missing values).
    Robust (Bollerslev-Wooldridge) covariance, arch's default starting values and backcast."""
    from arch import arch_model
    from arch.utility.exceptions import (
        ConvergenceWarning,
        DataScaleWarning,
        StartingValueWarning,
    )

    model = arch_model(
        PERCENT * np.asarray(y, dtype=float),
        x=PERCENT * np.asarray(m, dtype=float)[:, None],
        mean="LS",
        vol="GARCH",
        p=1,
        o=0,
        q=1,
        dist="t",
        rescale=False,
    )
    with warnings.catch_warnings():
        # convergence is judged from the result's flag below, not from warnings
        for category in (ConvergenceWarning, DataScaleWarning, StartingValueWarning):
            warnings.simplefilter("ignore", category)
        with np.errstate(all="ignore"):
            return model.fit(disp="off", show_warning=False)


def _gaps(valid: np.ndarray) -> tuple[int, int, np.ndarray]:
    """First and last valid position and the invalid positions between them."""
    idx = np.flatnonzero(valid)
    first, last = int(idx[0]), int(idx[-1])
    inner = np.flatnonzero(~valid[first : last + 1]) + first
    return first, last, inner


def fit_garch(
    y_est: np.ndarray,
    m_est: np.ndarray,
    y_evt: np.ndarray,
    m_evt: np.ndarray,
    *,
    est_days: np.ndarray,
    evt_days: np.ndarray,
    est_dates: np.ndarray,
    firms: Sequence[str],
    where: Sequence[str],
    min_estimation: int = MIN_ESTIMATION_GARCH,
) -> GarchFit:
    """Fit the GARCH(1,1)-t market model for each firm and forecast its event-window variances.

    ``y_*``/``m_*`` are the firm and market returns (N, L1) and (N, L2); ``where`` names each
    firm's event in error messages. A firm's sample is its consecutive estimation returns: days
    missing at the start or end of the window are left out (the forecast then starts from the
    last return there is), a day missing in between breaks the variance recursion and is an
    :class:`EstimationError`, as are fewer than ``max(min_estimation, MIN_ESTIMATION_GARCH)``
    returns and a fit that does not converge.
    """
    y_est = np.asarray(y_est, dtype=float)
    m_est = np.asarray(m_est, dtype=float)
    n_firms, l1 = y_est.shape
    need = max(int(min_estimation), MIN_ESTIMATION_GARCH)
    valid = np.isfinite(y_est) & np.isfinite(m_est)

    short, spans = [], []
    for i in range(n_firms):
        if not valid[i].any():
            short.append(f"{firms[i]} ({where[i]}) has none")
            spans.append((0, -1))
            continue
        first, last, inner = _gaps(valid[i])
        if inner.size:
            days = ", ".join(f"{pd.Timestamp(est_dates[i, j]).date()}" for j in inner[:5])
            more = f" and {inner.size - 5} more" if inner.size > 5 else ""
            raise EstimationError(
                f"{firms[i]} ({where[i]}): no return on {days}{more} inside the estimation window; "
                "the GARCH variance recursion needs consecutive returns. Start the estimation "
                "window after the gap (estimation=(a, b) with a later a) or use "
                "model='market_model'"
            )
        n = last - first + 1
        if n < need:
            short.append(f"{firms[i]} ({where[i]}) has {n}")
        spans.append((first, last))
    if short:
        raise EstimationError(
            f"too few consecutive estimation returns for the GARCH(1,1)-t market model (need at "
            f"least {need}): {'; '.join(short)}. Lengthen the estimation window, e.g. "
            "estimation=(-500, -11)"
        )

    l2 = len(evt_days)
    out = {
        "params": np.empty((n_firms, 6)),
        "std_err": np.empty((n_firms, 6)),
        "loglik": np.empty(n_firms),
        "n_est": np.empty(n_firms, dtype=int),
        "r2": np.empty(n_firms),
        "resid": np.full((n_firms, l1), np.nan),
        "sd_est": np.full((n_firms, l1), np.nan),
        "origin": np.empty(n_firms, dtype=int),
        "horizon": np.empty((n_firms, l2), dtype=int),
        "sd": np.empty((n_firms, l2)),
    }
    for i, (first, last) in enumerate(spans):
        y = y_est[i, first : last + 1]
        m = m_est[i, first : last + 1]
        try:
            res = arch_fit(y, m)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise EstimationError(
                f"the GARCH(1,1)-t model of {firms[i]} ({where[i]}) cannot be fitted: {exc}"
            ) from None
        raw = np.asarray(res.params, dtype=float)
        if res.convergence_flag != 0 or not np.isfinite(raw).all():
            message = getattr(res.optimization_result, "message", "no message")
            raise EstimationError(
                f"the GARCH(1,1)-t fit of {firms[i]} ({where[i]}) did not converge "
                f"(optimizer: {message}); try a longer estimation window or "
                "model='market_model'"
            )
        params = raw * _TO_RETURN_UNITS
        e = np.asarray(res.resid, dtype=float) / PERCENT
        s = np.asarray(res.conditional_volatility, dtype=float) / PERCENT
        out["params"][i] = params
        out["std_err"][i] = np.asarray(res.std_err, dtype=float) * _TO_RETURN_UNITS
        out["loglik"][i] = float(res.loglikelihood) + y.size * math.log(PERCENT)
        out["n_est"][i] = y.size
        dev = y - y.mean()
        out["r2"][i] = 1.0 - float(e @ e) / float(dev @ dev)
        out["resid"][i, first : last + 1] = e
        out["sd_est"][i, first : last + 1] = s
        origin = int(est_days[last])
        h = np.asarray(evt_days, dtype=int) - origin
        out["origin"][i] = origin
        out["horizon"][i] = h
        _, _, omega, alpha, gb, _ = params
        out["sd"][i] = np.sqrt(variance_forecast(omega, alpha, gb, e[-1], s[-1] ** 2, h))

    p = out["params"]
    expected = p[:, :1] + p[:, 1:2] * np.asarray(m_evt, dtype=float)
    ar = np.asarray(y_evt, dtype=float) - expected
    return GarchFit(expected=expected, ar=ar, **out)
