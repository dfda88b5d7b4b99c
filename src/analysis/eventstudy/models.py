"""Expected-return models, fitted for many firms at once.

Models (MacKinlay 1997, JEL 35(1); Campbell, Lo & MacKinlay 1997, ch. 4):

========================  ==========================================  ===
name                      expected return                             k
========================  ==========================================  ===
``constant_mean``         mu_i                                        1
``market_adjusted``       R_mt (no parameters estimated)              0
``market_model``          alpha_i + beta_i R_mt  (OLS)                2
``factor_model``          alpha_i + sum_j b_ij F_jt  (OLS)            1+f
========================  ==========================================  ===

The vectorized path (:func:`fit_arrays`) solves every firm's least-squares problem at once from
centred cross-products (batched einsum); missing returns are dropped per firm (rows zeroed, which
leaves the OLS solution unchanged) and counted; the tests hold it to a per-firm statsmodels fit
(1e-10). The prediction-error covariance of the event-window ARs is the full matrix
``C_i = I + X*(X'X)^{-1}X*'`` (CLM 1997, sec. 4.4; Salinger 1992, JFQA 27(1)), so a multi-day CAR
variance is ``sigma_i^2 1'C_i 1``, never a sum of daily factors.

Residual variance divisor (formula (0), docs/formulas.md): ``L_i - k`` by default; ``convention="estudy2"`` uses
``L_i - 1`` for every model and the estimation window's full market series for the market mean and
sum of squares in the prediction-error factor, as the R package estudy2 does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import blas

from analysis.errors import EstimationError, SpecificationError

MODELS: tuple[str, ...] = ("market_model", "market_adjusted", "constant_mean", "factor_model")
CONVENTIONS: tuple[str, ...] = ("default", "estudy2")

#: Fewest valid estimation returns a firm may have (a clear error below it).
MIN_ESTIMATION_DEFAULT = 30

#: Smallest share of a firm's estimation-window return variance a model with regressors may leave
#: unexplained (1 - R^2). Below it the firm is in effect its own regressor (the market or a factor
#: under another symbol); distinct real series stay far above it (QQQ on ^NDX: about 1e-3).
MIN_UNEXPLAINED_SHARE = 1e-6


@dataclass(frozen=True)
class ModelSpec:
    """Which expected-return model, on which regressors."""

    name: str
    factors: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        """Estimated mean parameters (the residual-variance divisor is L - k)."""
        if self.name == "market_adjusted":
            return 0
        if self.name == "constant_mean":
            return 1
        return 1 + len(self.factors)

    @property
    def has_intercept(self) -> bool:
        return self.name != "market_adjusted"

    @property
    def param_names(self) -> tuple[str, ...]:
        if self.name == "market_adjusted":
            return ()
        if self.name == "constant_mean":
            return ("alpha",)
        if self.name == "market_model":
            return ("alpha", "beta")
        return ("alpha", *(f"beta_{f}" for f in self.factors))

    @property
    def label(self) -> str:
        if self.name in ("market_model", "market_adjusted"):
            return f"{self.name} ({self.factors[0]})"
        if self.name == "factor_model":
            return f"factor_model ({' + '.join(self.factors)})"
        return self.name


def make_spec(
    model: str, market: str | None = "SPY", factors: Sequence[str] | None = None
) -> ModelSpec:
    """Build a :class:`ModelSpec`, with clear errors for unknown models or missing regressors."""
    if model not in MODELS:
        raise SpecificationError(f"unknown model {model!r}; valid models: {', '.join(MODELS)}")
    if model == "constant_mean":
        return ModelSpec(model, ())
    if model == "factor_model":
        facs = tuple(factors or ())
        if not facs:
            raise SpecificationError(
                "factor_model needs its regressors, e.g. factors=['SPY', 'SOXX'] "
                "(CLI: --factors SPY,SOXX)"
            )
        if len(set(facs)) != len(facs):
            raise SpecificationError(f"factor_model regressors repeat: {', '.join(facs)}")
        return ModelSpec(model, facs)
    if not market:
        raise SpecificationError(f"{model} needs a market index, e.g. market='SPY'")
    if factors:
        raise SpecificationError(
            f"{model} takes one market index; use model='factor_model' for several"
        )
    return ModelSpec(model, (market,))


def own_regressor_error(firms: Sequence[str], spec: ModelSpec) -> SpecificationError | None:
    """The error for firms that are also the market or a factor of ``spec`` (same symbol, as
    normalized), or None. A firm that is its own benchmark fits exactly and has no abnormal return."""
    own = [f for f in dict.fromkeys(firms) if f in spec.factors]
    if not own:
        return None
    who = f"firm {own[0]} is" if len(own) == 1 else f"firms {', '.join(own)} are"
    it = own[0] if len(own) == 1 else "them"
    if spec.name == "factor_model":
        role = "a regressor" if len(own) == 1 else "regressors"
        fix = f"drop {it} from the firms or from the factors"
    else:
        role, fix = "the market index", f"drop {it} from the firms or choose another market index"
    return SpecificationError(
        f"{who} also {role} of {spec.label}: a firm that is its own benchmark has no abnormal "
        f"return to test; {fix}"
    )


@dataclass(frozen=True)
class FitArrays:
    """Fitted models for N firms: the inputs every test statistic needs (all numpy)."""

    params: np.ndarray  # (N, k)
    sigma: np.ndarray  # (N,) residual sd with the convention's divisor
    n_est: np.ndarray  # (N,) valid estimation returns L_i
    dof: np.ndarray  # (N,) L_i - k (t-distribution degrees of freedom)
    resid: np.ndarray  # (N, L1) estimation residuals, NaN where missing
    ar: np.ndarray  # (N, L2) event-window abnormal returns, NaN where missing
    expected: np.ndarray  # (N, L2) expected (normal) returns in the window
    cov: np.ndarray  # (N, L2, L2) prediction-error factor C_i (read-only I broadcast if k = 0)
    r2: np.ndarray  # (N,) R-squared (NaN for models without regressors)
    k: int
    convention: str = "default"


def _valid_rows(y: np.ndarray, X: np.ndarray | None) -> np.ndarray:
    ok = np.isfinite(y)
    if X is not None and X.shape[-1]:
        ok &= np.isfinite(X.sum(axis=-1))  # one reduction: any NaN/inf makes the sum non-finite
    return ok


def _common_design(X: np.ndarray) -> np.ndarray | None:
    """The design shared by every firm, (L, p), when all N rows of X (N, L, p) are identical (one
    event date); else None. Broadcast views are recognised without comparing."""
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[0] == 0:
        return None
    first = X[0]
    if X.shape[0] == 1 or X.strides[0] == 0:
        return first
    nan = np.isnan(first)
    if nan.any():
        if not np.array_equal(X[-1], first, equal_nan=True):
            return None
        same = np.equal(X, first) | (np.isnan(X) & nan)
    else:
        if not np.array_equal(X[-1], first):
            return None
        same = np.equal(X, first)
    return first if same.all() else None


def _who(firm_names: Sequence[str] | None, idx: np.ndarray) -> list[str]:
    if firm_names is None:
        return [f"firm {int(i)}" for i in idx]
    names = list(firm_names)
    return [names[i] for i in idx]


def fit_arrays(
    y_est: np.ndarray,
    X_est: np.ndarray,
    y_evt: np.ndarray,
    X_evt: np.ndarray,
    *,
    spec: ModelSpec,
    offset_est: np.ndarray | None = None,
    offset_evt: np.ndarray | None = None,
    convention: str = "default",
    min_estimation: int = MIN_ESTIMATION_DEFAULT,
    firm_names: Sequence[str] | None = None,
) -> FitArrays:
    """Fit ``spec`` for N firms at once.

    Parameters
    ----------
    y_est, y_evt : (N, L1), (N, L2)
        Firm returns in the estimation and event windows (NaN = missing).
    X_est, X_evt : (N, L1, k), (N, L2, k)
        Design matrices including the intercept column (k may be 0).
    offset_est, offset_evt : (N, L1), (N, L2), optional
        Returns subtracted before fitting (the market return for ``market_adjusted``).
    convention : {"default", "estudy2"}
        Residual divisor ``L_i - k`` (default) or ``L_i - 1`` with estudy2's prediction-error factor.

    A firm whose regressors leave less than :data:`MIN_UNEXPLAINED_SHARE` of its estimation-window
    return variance unexplained is an :class:`EstimationError` naming it and the regressors.
    """
    if convention not in CONVENTIONS:
        raise SpecificationError(
            f"unknown convention {convention!r}; valid: {', '.join(CONVENTIONS)}"
        )
    k = spec.k
    y_est = np.asarray(y_est, dtype=float)
    y_evt = np.asarray(y_evt, dtype=float)
    N, L1 = y_est.shape
    L2 = y_evt.shape[1]
    y_raw = y_est
    if offset_est is not None:
        y_est = y_est - offset_est
        y_evt = y_evt - offset_evt

    # One event date: every firm has the same design rows, so the regressors' sums over a firm's
    # valid days are matrix-vector products (missing returns only change which days count).
    X_common = _common_design(X_est) if k else None
    if X_common is not None:
        valid = np.isfinite(y_est)
        if X_common.shape[-1]:
            valid &= np.isfinite(X_common.sum(axis=-1))
    else:
        valid = _valid_rows(y_est, X_est)
    n_est = valid.sum(axis=1)
    short = np.flatnonzero(n_est < max(min_estimation, k + 2))
    if short.size:
        who = _who(firm_names, short[:10])
        detail = ", ".join(f"{w} has {int(n_est[i])}" for w, i in zip(who, short[:10], strict=True))
        raise EstimationError(
            f"too few valid estimation returns (need at least {max(min_estimation, k + 2)}): "
            f"{detail}. Lengthen the estimation window or check the price data for gaps."
        )

    n = n_est.astype(float)
    # resid_raw: residuals on the valid days (anything elsewhere); ``owned`` when it is a fresh
    # array this function may overwrite (it becomes the returned ``resid``: fewer temporaries).
    sse = None
    owned = True
    if k == 0:  # market-adjusted: nothing estimated
        params = np.zeros((N, 0))
        resid_raw = y_est
        owned = offset_est is not None
        expected = np.zeros_like(y_evt)
        cov = np.broadcast_to(np.eye(L2), (N, L2, L2))  # read-only, the same for every firm
    elif k == 1:  # constant mean
        resid_raw = np.where(valid, y_est, 0.0)
        ybar = resid_raw.sum(axis=1) / n
        params = ybar[:, None]
        resid_raw -= ybar[:, None]
        expected = np.repeat(ybar[:, None], L2, axis=1)
        cov = np.eye(L2) + (1.0 / n)[:, None, None]
    else:
        estudy2 = convention == "estudy2" and spec.name == "market_model"
        if X_common is not None:
            Xv = _common_design(X_evt)
            fit = _ols_common(
                y_est, valid, n, X_common, X_evt if Xv is None else Xv, firm_names, not estudy2
            )
        else:
            fit = _ols_general(y_est, valid, n, X_est, X_evt, firm_names, not estudy2)
        params, resid_raw, expected, cov, sse = fit
        if estudy2:
            cov = np.eye(L2) + _estudy2_factor(X_est, np.nan_to_num(X_evt), n_est)

    invalid = ~valid
    if owned:
        rz = resid_raw
        rz[invalid] = 0.0
    else:
        rz = np.where(valid, resid_raw, 0.0)
    ssr = np.einsum("ij,ij->i", rz, rz)
    resid = rz
    resid[invalid] = np.nan
    if spec.factors:
        _check_not_explained_exactly(ssr, sse, y_raw, valid, n, spec, firm_names)
    divisor = n_est - (1 if convention == "estudy2" else k)
    sigma = np.sqrt(ssr / divisor)
    dof = (n_est - k).astype(float)
    flat = np.flatnonzero(~(sigma > 0))
    if flat.size:
        names = ", ".join(_who(firm_names, flat[:10]))
        raise EstimationError(
            f"zero residual variance in the estimation window for {names}: the return series is "
            "constant or exactly explained by the regressors"
        )

    if (
        k > 1
    ):  # a missing regressor on an event day leaves that day's expected return and AR missing
        evt_missing = ~np.isfinite(np.asarray(X_evt)[..., 1:]).all(axis=-1)
        if evt_missing.any():
            expected = np.where(np.broadcast_to(evt_missing, expected.shape), np.nan, expected)
    ar = y_evt - expected
    if offset_evt is not None:
        expected += offset_evt
    r2 = sse / (ssr + sse) if sse is not None else np.full(N, np.nan)  # 1 - SSR/SST
    return FitArrays(
        params=params,
        sigma=sigma,
        n_est=n_est,
        dof=dof,
        resid=resid,
        ar=ar,
        expected=expected,
        cov=cov if cov.strides[0] == 0 else np.ascontiguousarray(cov),
        r2=r2,
        k=k,
        convention=convention,
    )


def _check_not_explained_exactly(
    ssr: np.ndarray,
    sse: np.ndarray | None,
    y: np.ndarray,
    valid: np.ndarray,
    n: np.ndarray,
    spec: ModelSpec,
    firm_names: Sequence[str] | None,
) -> None:
    """Firms whose regressors leave less than :data:`MIN_UNEXPLAINED_SHARE` of their return
    variance unexplained (1 - R^2 = SSR/SST; for ``market_adjusted`` SSR of R - R_m): an error."""
    if sse is not None:
        sst = ssr + sse
    else:
        yz = np.where(valid, y, 0.0)
        dev = np.where(valid, yz - (yz.sum(axis=1) / n)[:, None], 0.0)
        sst = np.einsum("ij,ij->i", dev, dev)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = ssr / sst
    near = np.flatnonzero((sst > 0) & (share < MIN_UNEXPLAINED_SHARE))
    if near.size:
        detail = ", ".join(
            f"{w} (1 - R^2 = {share[i]:.1e})"
            for w, i in zip(_who(firm_names, near[:10]), near[:10], strict=True)
        )
        raise EstimationError(
            f"{spec.label} explains the estimation-window returns of {detail} almost exactly "
            f"(1 - R^2 below {MIN_UNEXPLAINED_SHARE:.0e}): the firm is in effect its own "
            "regressor (the market or a factor under another symbol) and its abnormal returns "
            "would be rounding noise; drop it from the firms or choose other regressors"
        )


def _check_regressors(S: np.ndarray, scale: np.ndarray, firm_names: Sequence[str] | None) -> None:
    """Constant or collinear regressors over a firm's valid days: a clear error naming the firms."""
    f = S.shape[-1]
    diag = np.diagonal(S, axis1=1, axis2=2)
    bad = (diag <= 1e-12 * np.maximum(scale, 1e-300)).any(axis=1)
    if f > 1 and not bad.all():
        norm = np.sqrt(np.where(diag > 0, diag, 1.0))
        corr = S / (norm[:, :, None] * norm[:, None, :])
        bad |= np.linalg.eigvalsh(corr)[:, 0] <= 1e-10
    singular = np.flatnonzero(bad)
    if singular.size:
        who = ", ".join(_who(firm_names, singular[:10]))
        raise EstimationError(
            f"the regressors are constant or collinear in the estimation window for {who}; "
            "the model cannot be estimated (check the market/factor series)"
        )


def _solve(S: np.ndarray, sfy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S^-1, b = S^-1 s_fy) for N small f x f systems; plain arithmetic when f == 1."""
    if S.shape[-1] == 1:
        Sinv = 1.0 / S
        return Sinv, sfy * Sinv[:, 0]
    Sinv = np.linalg.inv(S)
    return Sinv, (Sinv @ sfy[..., None])[..., 0]


def _prediction_cov(D: np.ndarray, Sinv: np.ndarray, n: np.ndarray) -> np.ndarray:
    """C_i = I + 1/L_i + D_i S_i^-1 D_i' with D_i the event-window regressors minus the firm's
    estimation means (N, L2, f): the prediction-error factor of CLM (1997, sec. 4.4)."""
    N, L2, f = D.shape
    if f == 1:
        d = D[..., 0]
        quad = (d * Sinv[:, 0])[:, :, None] * d[:, None, :]
    else:
        quad = (D @ Sinv) @ np.swapaxes(D, 1, 2)
    quad += (1.0 / n)[:, None, None]
    quad[:, np.arange(L2), np.arange(L2)] += 1.0
    return quad


def _explained_ss(b: np.ndarray, S: np.ndarray) -> np.ndarray:
    """b' S b, the explained sum of squares (SST = SSR + b'Sb for OLS with an intercept)."""
    if S.shape[-1] == 1:
        return b[:, 0] * b[:, 0] * S[:, 0, 0]
    return np.einsum("ni,nij,nj->n", b, S, b)


def _ols_common(
    y: np.ndarray,
    valid: np.ndarray,
    n: np.ndarray,
    X: np.ndarray,
    X_evt: np.ndarray,
    firm_names: Sequence[str] | None,
    want_cov: bool,
):
    """OLS with an intercept for N firms on ONE design X (L1, k) shared by all (one event date).

    The regressors are centred once on their overall mean c; a firm's centred cross-products over
    its valid days V_i follow from matrix products with the valid-day indicator:
    S_i = sum_V G G' - g_i g_i'/L_i and s_fy = sum_V G y - g_i ybar_i, G = F - c, g_i = sum_V G.
    Exact OLS (a shift of the regressors does not change the slopes), no per-firm loop.
    """
    N = y.shape[0]
    F = X[:, 1:]
    f = F.shape[1]
    rows_ok = np.isfinite(X.sum(axis=-1))
    Fz = np.where(rows_ok[:, None], F, 0.0)
    c = Fz[rows_ok].mean(axis=0)
    G = np.where(rows_ok[:, None], Fz - c, 0.0)
    iu = np.triu_indices(f)
    W = np.concatenate([G, G[:, iu[0]] * G[:, iu[1]], Fz * Fz], axis=1)
    # sums of W over each firm's valid days (N, f + f(f+1)/2 + f): the column totals minus the
    # firm's invalid days (few), without an N x L1 indicator matrix
    bad_r, bad_t = np.nonzero(~valid)
    sums = np.repeat(W.sum(axis=0)[None, :], N, axis=0)
    for j in range(W.shape[1]):
        sums[:, j] -= np.bincount(bad_r, weights=W[bad_t, j], minlength=N)
    yz = np.where(valid, y, 0.0)
    ybar = yz.sum(axis=1) / n
    g = sums[:, :f]
    gbar = g / n[:, None]
    S = np.empty((N, f, f))
    S[:, iu[0], iu[1]] = sums[:, f : f + iu[0].size] - g[:, iu[0]] * gbar[:, iu[1]]
    S[:, iu[1], iu[0]] = S[:, iu[0], iu[1]]
    _check_regressors(S, sums[:, f + iu[0].size :], firm_names)
    sfy = yz @ G - g * ybar[:, None]
    Sinv, b = _solve(S, sfy)
    a = ybar - (b * gbar).sum(axis=1)  # intercept on the centred regressors
    params = np.concatenate([(a - b @ c)[:, None], b], axis=1)
    # residuals on the valid days, in place: yz - a - b G' (BLAS dgemm on yz' with beta = 1)
    yz -= a[:, None]
    out = blas.dgemm(alpha=-1.0, a=G, b=b, trans_b=True, beta=1.0, c=yz.T, overwrite_c=True)
    resid_raw = yz if np.shares_memory(out, yz) else out.T  # (f2py copies a non-Fortran c)
    Fe = np.nan_to_num(X_evt[..., 1:]) - c
    if Fe.ndim == 2:
        expected = a[:, None] + b @ Fe.T
        D = Fe[None, :, :] - gbar[:, None, :]
    else:
        expected = a[:, None] + np.einsum("ntj,nj->nt", Fe, b)
        D = Fe - gbar[:, None, :]
    cov = _prediction_cov(D, Sinv, n) if want_cov else None
    return params, resid_raw, expected, cov, _explained_ss(b, S)


def _ols_general(
    y: np.ndarray,
    valid: np.ndarray,
    n: np.ndarray,
    X_est: np.ndarray,
    X_evt: np.ndarray,
    firm_names: Sequence[str] | None,
    want_cov: bool,
):
    """OLS with an intercept, each firm on its own design (N, L1, k) (distinct event dates).

    Solved on regressors centred per firm over its valid days: the slopes from the centred
    cross-products, alpha = ybar - b'fbar. Exact OLS, well conditioned, O(N L1 f^2), no loop.
    """
    vf = valid.astype(float)
    yz = np.where(valid, y, 0.0)
    ybar = yz.sum(axis=1) / n
    F_est = X_est[..., 1:]
    Fz = np.where(valid[..., None], F_est, 0.0)
    fbar = Fz.sum(axis=1) / n[:, None]
    Fc = Fz - fbar[:, None, :] * vf[..., None]
    yc = yz - ybar[:, None] * vf
    FcT = np.swapaxes(Fc, 1, 2)
    S = FcT @ Fc
    sfy = (FcT @ yc[..., None])[..., 0]
    _check_regressors(S, (Fz * Fz).sum(axis=1), firm_names)
    Sinv, b = _solve(S, sfy)
    alpha = ybar - (b * fbar).sum(axis=1)
    params = np.concatenate([alpha[:, None], b], axis=1)
    resid_raw = y - (alpha[:, None] + (F_est @ b[..., None])[..., 0])
    F_evt = np.nan_to_num(X_evt[..., 1:])
    expected = alpha[:, None] + (F_evt @ b[..., None])[..., 0]
    cov = _prediction_cov(F_evt - fbar[:, None, :], Sinv, n) if want_cov else None
    return params, resid_raw, expected, cov, _explained_ss(b, S)


def _estudy2_factor(X_est: np.ndarray, X_evt: np.ndarray, n_est: np.ndarray) -> np.ndarray:
    """estudy2's market-model factor: 1/L_i + (R_mt - mean)(R_mu - mean)/S_mm with the mean and
    S_mm over *every* market day of the estimation window (also days the firm is missing)."""
    m_est = X_est[..., 1]  # (N, L1) market column
    m_evt = X_evt[..., 1]
    mbar = np.nanmean(m_est, axis=1, keepdims=True)
    smm = np.nansum((m_est - mbar) ** 2, axis=1)
    dev = m_evt - mbar
    return 1.0 / n_est[:, None, None] + dev[:, :, None] * dev[:, None, :] / smm[:, None, None]
