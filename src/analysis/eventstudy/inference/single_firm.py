"""Single-firm tests: the per-firm CAR with its exact standard error (prediction-error t), the SQ test and the event-dummy regressions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.errors import EstimationError, SpecificationError
from analysis.eventstudy.inference._common import (
    Days,
    _car,
    _car_factor_all,
    _choice,
    _dof,
    _fmt_df,
    _p_t,
    _rows,
    _used_rows,
)
from analysis.eventstudy.inference.results import TestInputs, TestResult


@dataclass(frozen=True)
class CarTest:
    """Per-firm CAR over one window with its exact standard error, t and p (arrays over firms).

    ``estimate`` is NaN for a firm with a missing AR on the window's days (``used`` False), and so
    are its ``tstat`` and ``pvalue``; ``std_error`` and ``dof`` are given for every firm.
    """

    days: np.ndarray  # event-window columns of the CAR
    estimate: np.ndarray  # CAR_i
    std_error: np.ndarray  # s_i sqrt(1' C_i[days, days] 1)
    tstat: np.ndarray
    pvalue: np.ndarray  # two-sided, t(dof_i)
    dof: np.ndarray  # dof_i (default L_i - k)
    used: np.ndarray  # bool: the firm has a complete CAR


def car_test(inputs: TestInputs, days: Days) -> CarTest:
    """Each firm's CAR over ``days``, its exact standard error, t and two-sided p, formula (3).

    CAR_i = sum of AR_it over ``days``; se_i = s_i sqrt(1' C_i[days, days] 1), the exact CAR
    variance of formula (2) (Campbell, Lo & MacKinlay 1997, sec. 4.4; Salinger 1992, JFQA
    27(1):39-53); t_i = CAR_i / se_i referred to t(dof_i). Vectorized over the firms.
    """
    c = _car(inputs, days)
    n = c.n_total
    est = np.full(n, np.nan)
    est[c.used] = c.car
    se = np.asarray(inputs.sigma, dtype=float) * np.sqrt(_car_factor_all(inputs, c))
    t = est / se
    dof = _dof(inputs)
    used = np.zeros(n, dtype=bool)
    used[c.used] = True
    return CarTest(c.d, est, se, t, np.asarray(_p_t(t, dof)), dof, used)


def t_prediction_error(inputs: TestInputs, days: Days) -> TestResult:
    """Prediction-error t test of one firm's AR/CAR, formula (3), from :func:`car_test`.

    t_i = CAR_i / (s_i sqrt(1' C_i[days, days] 1)), referred to t(dof_i) (default L_i - k), exact
    under iid normal disturbances conditional on the regressors. The CAR variance is the exact one
    of formula (2) (Campbell, Lo & MacKinlay 1997, sec. 4.4; Salinger 1992, JFQA 27(1):39-53).
    Brown & Warner (1980, JFE 8:205-258); MacKinlay (1997, JEL 35(1):13-39).
    Firms without a complete CAR get NaN (and n = 0). ``extra``: per-firm ``car`` and ``se``.
    """
    ct = car_test(inputs, days)
    df = ct.dof[ct.used]
    bad = np.flatnonzero(~np.isfinite(df) | (df <= 0))
    if bad.size:
        raise EstimationError(
            "t_prediction_error needs positive degrees of freedom (L_i - k); "
            f"{_rows(np.flatnonzero(ct.used)[bad], df[bad])}"
        )
    nn = np.where(ct.used, np.asarray(inputs.n_est), 0).astype(int)
    return TestResult(
        name="t_prediction_error",
        stat=ct.tstat,
        pvalue=ct.pvalue,
        n=nn,
        variant="exact CAR variance s_i^2 1'C_i1 (CLM 1997 sec. 4.4; Salinger 1992)",
        distribution=_fmt_df(df) if df.size else "t(L_i - k)",
        df=np.where(ct.used, ct.dof, np.nan),
        extra={"car": ct.estimate, "se": np.where(ct.used, ct.std_error, np.nan)},
    )


_BLOCKING = ("overlapping", "nonoverlapping")


def sq(
    inputs: TestInputs,
    days: Days,
    *,
    blocking: str = "overlapping",
    alpha: float = 0.05,
) -> TestResult:
    """SQ (sample quantile) test of one firm's AR/CAR.

    Gelbach, Helland & Klick (2013), "Valid Inference in Single-Firm, Single-Event Studies",
    American Law and Economics Review 15(2):495-541, doi:10.1093/aler/aht009. Formula (5).

    The event CAR over m = len(days) days is compared with the empirical distribution of m-day
    sums of the firm's estimation residuals. The sums run over m CONSECUTIVE columns of the
    common estimation axis; a block that touches a missing residual is dropped.
    ``blocking="overlapping"`` (default) uses every start (L1 - m + 1 sums with complete data);
    ``"nonoverlapping"`` uses floor(L1/m) disjoint blocks aligned to the END of the estimation
    window (closest to the event). GHK state a rejection rule; the p-value is our inversion:
    p = min(1, 2 min((1 + #{sums <= CAR})/(1 + n_sums), (1 + #{sums >= CAR})/(1 + n_sums))), so it
    is never 0 (the smallest possible value is 2/(1 + n_sums)). ``stat`` is the empirical
    percentile #{sums <= CAR}/n_sums. ``extra`` (per firm): ``n_sums`` and the sample quantiles
    ``q_lower``/``q_upper`` at alpha/2 and 1 - alpha/2 (inverse-ECDF, numpy's "inverted_cdf").
    Overlapping blocks are the default because they give the most sums.
    """
    _choice(blocking, _BLOCKING, "sq: blocking")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise SpecificationError(f"sq: alpha must be in (0, 1); got {alpha!r}")
    c = _car(inputs, days)
    n = c.n_total
    m = c.d.size
    resid = np.asarray(inputs.resid, dtype=float)
    l1 = resid.shape[1]
    if l1 < m:
        raise EstimationError(
            f"sq needs an estimation window at least as long as the CAR window: L1 = {l1} "
            f"estimation days < {m} event days"
        )
    out = {k: np.full(n, np.nan) for k in ("stat", "p", "nsums", "qlo", "qhi")}
    nn = np.zeros(n, dtype=int)
    if c.used.size:
        r = _used_rows(inputs, "resid", c)
        # m-day block sums, summed directly (not by cumsum differences, so that a block equal to
        # the CAR compares equal); a block touching a missing residual is NaN and dropped.
        nw = l1 - m + 1
        sums = r[:, 0:nw].copy()
        for j in range(1, m):  # loop over the m block offsets (not over firms)
            sums += r[:, j : j + nw]
        if blocking == "nonoverlapping":
            sums = sums[:, (l1 - m) % m :: m]
        full = ~np.isnan(sums)
        n_sums = full.sum(axis=1)
        bad = np.flatnonzero(n_sums < 1)
        if bad.size:
            raise EstimationError(
                f"sq: no complete {m}-day block of estimation residuals ({blocking}) for "
                f"{_rows(c.used[bad], np.asarray(inputs.n_est)[c.used[bad]])} (values are L_i)"
            )
        carc = c.car[:, None]
        le = (sums <= carc).sum(axis=1)
        ge = (sums >= carc).sum(axis=1)
        p = np.minimum(
            1.0, 2.0 * np.minimum((1.0 + le) / (1.0 + n_sums), (1.0 + ge) / (1.0 + n_sums))
        )
        sums.sort(axis=1)  # NaN last (in place: no second large array)

        def _q(q: float) -> np.ndarray:
            j = np.clip(np.ceil(q * n_sums).astype(int) - 1, 0, None)
            return np.take_along_axis(sums, j[:, None], axis=1)[:, 0]

        out["stat"][c.used] = le / n_sums
        out["p"][c.used] = p
        out["nsums"][c.used] = n_sums
        out["qlo"][c.used] = _q(alpha / 2)
        out["qhi"][c.used] = _q(1 - alpha / 2)
        nn[c.used] = np.asarray(inputs.n_est)[c.used]
        ns = n_sums
        dist = (
            f"empirical ({int(ns.min())} {blocking} sums)"
            if ns.min() == ns.max()
            else (f"empirical ({int(ns.min())}..{int(ns.max())} {blocking} sums, per firm)")
        )
    else:
        dist = f"empirical ({blocking} sums)"
    return TestResult(
        name="sq",
        stat=out["stat"],
        pvalue=out["p"],
        n=nn,
        variant=f"GHK 2013 sample quantiles of {m}-day residual sums, {blocking}; p = 2 min tail, (1+count)/(1+n_sums)",
        distribution=dist,
        df=None,
        extra={
            "n_sums": out["nsums"],
            "q_lower": out["qlo"],
            "q_upper": out["qhi"],
            "alpha": float(alpha),
        },
    )


# --------------------------------------------------------------------------------------------
# Event-dummy regressions (one firm, statsmodels)
# --------------------------------------------------------------------------------------------


def newey_west_lags(n: int) -> int:
    """Newey-West (1994) rule of thumb: floor(4 (n/100)^(2/9))."""
    return int(np.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


@dataclass(frozen=True)
class DummyRegression:
    """Event-dummy regression of one firm (Karafiath 1988; Salinger 1992)."""

    gamma: np.ndarray  # (L2,) event-day dummies = out-of-sample ARs
    t_ols: np.ndarray
    t_hac: np.ndarray
    car: float
    car_t_ols: float
    car_p_ols: float
    car_t_hac: float
    car_p_hac: float
    df_resid: float
    hac_lags: int
    n: int


def _nw_sum_variance(u: np.ndarray, length: int, lags: int) -> float:
    """Newey-West estimate of Var(sum of ``length`` consecutive disturbances) from residuals ``u``:
    length*g0 + 2 sum_j (length - j) w_j g_j, Bartlett weights w_j = 1 - j/(lags+1), j up to
    min(lags, length - 1); the window term of formula (4), item 3."""
    u = u - u.mean()
    n = len(u)
    total = length * float(u @ u) / n
    for j in range(1, min(lags, length - 1) + 1):
        gj = float(u[j:] @ u[:-j]) / n
        total += 2 * (length - j) * (1 - j / (lags + 1)) * gj
    return max(total, 0.0)


def event_dummy_regression(
    y_est: np.ndarray,
    X_est: np.ndarray,
    y_evt: np.ndarray,
    X_evt: np.ndarray,
    car_days: Sequence[int],
    *,
    hac_lags: int | None = None,
) -> DummyRegression:
    """Estimate R_t = x_t'b + sum_k g_k D_kt + u_t over estimation and event window, by OLS.

    The dummy coefficients g_k equal the out-of-sample ARs and their OLS t equals the
    prediction-error t (Karafiath 1988, Financial Review 23(3); Salinger 1992, JFQA 27(1)). The CAR
    test is the t test of ``sum_{k in car_days} g_k = 0`` (statsmodels ``t_test``).

    HAC variant: a one-observation dummy fits its day exactly (zero residual), so the plain
    Newey-West (1987) sandwich keeps only the parameter-estimation part of Var(g) and omits the
    event-day disturbance itself -- its t-statistics explode. We therefore use the HAC covariance of
    the regression (statsmodels, Bartlett kernel, lags floor(4 (T/100)^(2/9)) by default) for the
    estimation-error part, ``r'V_HAC r``, and add the Newey-West variance of the sum of the window's
    disturbances estimated from the estimation-window residuals. Reference: N(0,1). HAC guards
    against autocorrelation and heteroskedasticity; it does not fix non-normality of one firm's AR.
    Derivation and Monte Carlo size: formula (4), docs/formulas.md (the 5-day CAR still rejects
    about 6.4% at the 5% level under AR(1) disturbances with phi = 0.2).
    Event days with a missing return are dropped together with their dummy.
    """
    import statsmodels.api as sm

    L2 = len(y_evt)
    n_est_rows = len(y_est)
    y = np.concatenate([y_est, y_evt])
    X = np.vstack([X_est, X_evt])
    D = np.vstack([np.zeros((n_est_rows, L2)), np.eye(L2)])
    ok = np.isfinite(y) & np.isfinite(X.sum(axis=-1))  # a NaN anywhere drops the day
    evt_ok = ok[n_est_rows:]
    keep_cols = np.flatnonzero(evt_ok)
    design = np.hstack([X, D[:, keep_cols]])[ok]
    yy = y[ok]
    p = X.shape[1]
    lags = newey_west_lags(len(yy)) if hac_lags is None else int(hac_lags)
    ols = sm.OLS(yy, design).fit()
    hac = sm.OLS(yy, design).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    V = np.asarray(hac.cov_params())
    u_est = np.asarray(ols.resid)[: int(ok[:n_est_rows].sum())]
    var_u1 = _nw_sum_variance(u_est, 1, lags)
    gamma = np.full(L2, np.nan)
    t_ols = np.full(L2, np.nan)
    t_hac = np.full(L2, np.nan)
    gamma[keep_cols] = ols.params[p:]
    t_ols[keep_cols] = ols.tvalues[p:]
    for j, c in enumerate(keep_cols):
        t_hac[c] = gamma[c] / np.sqrt(V[p + j, p + j] + var_u1)
    days = list(car_days)
    if not all(evt_ok[d] for d in days):
        nan = float("nan")
        return DummyRegression(
            gamma, t_ols, t_hac, nan, nan, nan, nan, nan, float(ols.df_resid), lags, int(ok.sum())
        )
    r = np.zeros(design.shape[1])
    pos = {int(c): p + j for j, c in enumerate(keep_cols)}
    for d in days:
        r[pos[d]] = 1.0
    tt_ols = ols.t_test(r)
    car = float(r @ ols.params)
    var_hac = float(r @ V @ r) + _nw_sum_variance(u_est, len(days), lags)
    t_car_hac = car / np.sqrt(var_hac)
    return DummyRegression(
        gamma=gamma,
        t_ols=t_ols,
        t_hac=t_hac,
        car=car,
        car_t_ols=float(np.asarray(tt_ols.tvalue).ravel()[0]),
        car_p_ols=float(np.asarray(tt_ols.pvalue).ravel()[0]),
        car_t_hac=float(t_car_hac),
        car_p_hac=float(2 * stats.norm.sf(abs(t_car_hac))),
        df_resid=float(ols.df_resid),
        hac_lags=lags,
        n=int(ok.sum()),
    )


def dummy_results(dr: DummyRegression) -> tuple[TestResult, TestResult]:
    """The CAR rows ``dummy_ols`` (t(df_resid)) and ``dummy_hac`` (N(0,1)) of one firm's
    event-dummy regression, as :class:`TestResult` with scalar fields."""
    ols = TestResult(
        "dummy_ols",
        dr.car_t_ols,
        dr.car_p_ols,
        dr.n,
        "OLS t of the sum of the window's event-day dummies",
        f"t({dr.df_resid:.0f})",
        dr.df_resid,
    )
    hac = TestResult(
        "dummy_hac",
        dr.car_t_hac,
        dr.car_p_hac,
        dr.n,
        "HAC t: Newey-West covariance plus the NW variance of the window's disturbances",
        f"N(0,1), Newey-West {dr.hac_lags} lags",
    )
    return ols, hac
