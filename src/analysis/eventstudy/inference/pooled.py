"""Pooled tests across one firm's non-overlapping event episodes: the mean standardized CAR, the
episode sign test and the stacked event-dummy regression with a joint Wald test.

Formula numbers refer to ``docs/formulas.md``: (20) mean standardized CAR, (21) sign test across
episodes, (22) stacked event-dummy regression. The episodes must not overlap (each event day
belongs to one episode); they are treated as independent draws of one firm's reaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.errors import EstimationError, SpecificationError
from analysis.eventstudy.inference.nonparametric import _p_binomial_half
from analysis.eventstudy.inference.results import TestResult
from analysis.eventstudy.inference.single_firm import newey_west_lags

__all__ = [
    "StackedDummyRegression",
    "episode_sign_test",
    "mean_standardized_car",
    "stacked_dummy_regression",
]


def _vector(values: object, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise SpecificationError(
            f"{what} must be one value per episode (1-D); got shape {arr.shape}"
        )
    return arr


def mean_standardized_car(car: object, se: object, dof: object) -> TestResult:
    """Mean standardized CAR across episodes, formula (20).

    SCAR_j = CAR_j / se_j (se_j the exact prediction-error standard deviation of formula (2)) is
    t(dof_j) under the null, with variance v_j = dof_j / (dof_j - 2). The statistic
    Z = sum_j SCAR_j / sqrt(sum_j v_j) = sqrt(n) mean(SCAR) / sqrt(mean(v)) is N(0, 1) for
    independent episodes (Patell 1976, J. Acc. Res. 14(2):246-276; Dodd & Warner 1983, JFE
    11:401-438 for multi-day windows). Episodes with a missing CAR are left out (``n`` counts the
    used ones). ``extra``: ``mean_car``, ``mean_scar``, ``scar`` (per episode).
    """
    c, s, d = _vector(car, "car"), _vector(se, "se"), _vector(dof, "dof")
    if not (c.shape == s.shape == d.shape):
        raise SpecificationError(
            f"car, se and dof need one value per episode each; got {c.size}, {s.size}, {d.size}"
        )
    used = np.isfinite(c) & np.isfinite(s) & (s > 0) & np.isfinite(d)
    if not used.any():
        raise EstimationError("mean_standardized_car: no episode has a CAR with a positive se")
    small = d[used] <= 2
    if small.any():
        raise EstimationError(
            "mean_standardized_car needs more than 2 degrees of freedom per episode (the "
            f"variance of t(dof) is dof/(dof - 2)); got dof {d[used][small].tolist()}"
        )
    scar = np.where(used, c / np.where(used, s, 1.0), np.nan)
    v = d[used] / (d[used] - 2.0)
    z = float(scar[used].sum() / np.sqrt(v.sum()))
    return TestResult(
        name="mean_standardized_car",
        stat=z,
        pvalue=float(2 * stats.norm.sf(abs(z))),
        n=int(used.sum()),
        variant="sum CAR_j/se_j over sqrt(sum dof_j/(dof_j - 2)) (Patell 1976)",
        distribution="N(0,1)",
        extra={
            "mean_car": float(c[used].mean()),
            "mean_scar": float(scar[used].mean()),
            "scar": scar,
        },
    )


def episode_sign_test(car: object) -> TestResult:
    """Exact sign test across episodes, formula (21): N+ = #{CAR_j > 0} among the n episodes with
    a CAR, referred to Binomial(n, 1/2), two-sided (twice the smaller tail, capped at 1). A zero
    CAR counts as not positive. ``stat`` is the share of positive CARs. Assumes independent
    episodes whose CARs have median zero under the null (Brown & Warner 1980, JFE 8:205-258;
    Cowan 1992, Rev. Quant. Fin. Acc. 2:343-358). With few episodes the exact test is
    conservative: its size is the largest attainable level not above the nominal one.
    """
    c = _vector(car, "car")
    c = c[np.isfinite(c)]
    n = int(c.size)
    if n == 0:
        raise EstimationError("episode_sign_test: no episode has a CAR")
    npos = int((c > 0).sum())
    return TestResult(
        name="episode_sign",
        stat=npos / n,
        pvalue=_p_binomial_half(npos, n),
        n=n,
        variant="share of episodes with CAR > 0, exact Binomial(n, 1/2)",
        distribution=f"Binomial({n}, 1/2)",
        extra={"n_pos": npos},
    )


@dataclass(frozen=True)
class StackedDummyRegression:
    """Stacked event-dummy regression of one firm over several episodes, formula (22).

    ``effects`` are the episodes' summed dummies (their CARs), ``std_error`` their HAC standard
    errors; ``wald`` tests that every effect is zero (chi2 with ``wald_df`` = number of
    episodes), ``sum_*`` that the effects add up to zero (N(0,1)).
    """

    params: np.ndarray  # model coefficients (alpha, beta, ...)
    params_cov: np.ndarray  # their Newey-West covariance
    gamma: np.ndarray  # one coefficient per episode day (the abnormal returns), in input order
    effects: np.ndarray  # per episode: sum of its day coefficients
    std_error: np.ndarray
    zstat: np.ndarray
    cov: np.ndarray  # covariance of ``effects``
    wald: float
    wald_df: int
    wald_pvalue: float
    sum_effect: float
    sum_std_error: float
    sum_z: float
    sum_pvalue: float
    hac_lags: int
    n: int  # observations used
    n_days: np.ndarray  # per episode: its days with a return

    def tests(self) -> tuple[TestResult, TestResult]:
        """The joint Wald test and the test of the sum, as :class:`TestResult` rows."""
        how = f"Newey-West {self.hac_lags} lags plus the event-day disturbances"
        wald = TestResult(
            "stacked_wald",
            self.wald,
            self.wald_pvalue,
            self.n,
            f"Wald: all {self.wald_df} episode effects zero; {how}",
            f"chi2({self.wald_df})",
            float(self.wald_df),
        )
        total = TestResult(
            "stacked_sum",
            self.sum_z,
            self.sum_pvalue,
            self.n,
            f"z of the sum of the episode effects; {how}",
            "N(0,1)",
            extra={"sum_effect": self.sum_effect, "sum_std_error": self.sum_std_error},
        )
        return wald, total


def _bartlett(lags: int) -> np.ndarray:
    """Bartlett weights w_0..w_lags, w_j = 1 - j/(lags + 1)."""
    return 1.0 - np.arange(lags + 1) / (lags + 1.0)


def _hac_meat(scores: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Newey-West sum S = G_0 + sum_j w_j (G_j + G_j') of the score rows (time in rows)."""
    meat = scores.T @ scores
    for j in range(1, len(w)):
        g = scores[j:].T @ scores[:-j]
        meat += w[j] * (g + g.T)
    return meat


def stacked_dummy_regression(
    y: object,
    X: object,
    episodes: Sequence[Sequence[int]],
    *,
    hac_lags: int | None = None,
) -> StackedDummyRegression:
    """Estimate R_t = x_t'b + sum_{j,tau} g_{j,tau} D_{j,tau,t} + u_t over the whole sample.

    Binder (1985, RAND J. Econ. 16(2):167-183; 1998, Rev. Quant. Fin. Acc. 11:111-137): one dummy
    per episode day, so g_{j,tau} is that day's abnormal return and the episode effect
    E_j = sum_tau g_{j,tau} its CAR. ``y`` (T,) and ``X`` (T, p; may have p = 0) are in time
    order; ``episodes`` lists each episode's row indices (disjoint). Rows with a missing value are
    dropped (with their dummy).

    Covariance, as formula (4) for one event: a dummy fits its day exactly, so the Newey-West
    (1987) sandwich only holds the estimation error x_D' V_b x_D of the coefficients; the
    covariance of the event-day disturbances themselves is added, w_h g_h for two days h rows
    apart (Bartlett weights, autocovariances g_h of the residuals of the non-event rows).
    Lags default to floor(4 (T/100)^(2/9)). Wald W = E' Omega^-1 E ~ chi2(J); the sum test
    z = 1'E / sqrt(1' Omega 1) ~ N(0, 1).
    """
    yy = _vector(y, "y")
    XX = np.asarray(X, dtype=float)
    if XX.ndim != 2 or XX.shape[0] != yy.size:
        raise SpecificationError(
            f"X must be (T, p) with T = {yy.size} rows like y; got shape {XX.shape}"
        )
    if not episodes:
        raise SpecificationError("stacked_dummy_regression needs at least one episode")
    owner = np.full(yy.size, -1)
    for j, rows in enumerate(episodes):
        idx = np.asarray(rows, dtype=int)
        if idx.size == 0 or idx.min() < 0 or idx.max() >= yy.size:
            raise SpecificationError(
                f"episode {j}: rows must be a non-empty set of indices in 0..{yy.size - 1}"
            )
        if (owner[idx] >= 0).any():
            raise SpecificationError(f"episode {j} shares rows with an earlier episode")
        owner[idx] = j
    ok = np.isfinite(yy) & np.isfinite(XX).all(axis=1)
    yy, XX, owner = yy[ok], XX[ok], owner[ok]
    est = owner < 0
    p = XX.shape[1]
    n_est = int(est.sum())
    if n_est < p + 2:
        raise EstimationError(
            f"stacked_dummy_regression: {n_est} non-event observations for {p} coefficients"
        )
    lags = newey_west_lags(yy.size) if hac_lags is None else int(hac_lags)
    w = _bartlett(lags)
    if p:
        b = np.linalg.lstsq(XX[est], yy[est], rcond=None)[0]
        bread = np.linalg.inv(XX[est].T @ XX[est])
    else:
        b = np.zeros(0)
        bread = np.zeros((0, 0))
    u = np.where(est, yy - XX @ b, 0.0)  # event rows: zero residual (their dummy fits them)
    v_b = bread @ _hac_meat(XX * u[:, None], w) @ bread
    g = np.array([u[h:] @ u[: u.size - h] for h in range(lags + 1)]) / n_est
    days = np.flatnonzero(~est)
    gamma = yy[days] - XX[days] @ b
    dist = np.abs(days[:, None] - days[None, :])
    sigma_u = np.where(dist <= lags, (w * g)[np.minimum(dist, lags)], 0.0)
    cov_days = XX[days] @ v_b @ XX[days].T + sigma_u
    J = len(episodes)
    R = (owner[days][None, :] == np.arange(J)[:, None]).astype(float)
    n_days = R.sum(axis=1).astype(int)
    if (n_days == 0).any():
        missing = np.flatnonzero(n_days == 0).tolist()
        raise EstimationError(f"stacked_dummy_regression: episode(s) {missing} have no return")
    effects = R @ gamma
    omega = R @ cov_days @ R.T
    se = np.sqrt(np.diag(omega))
    wald = float(effects @ np.linalg.solve(omega, effects))
    total = float(effects.sum())
    total_se = float(np.sqrt(omega.sum()))
    z_sum = total / total_se
    return StackedDummyRegression(
        params=b,
        params_cov=v_b,
        gamma=gamma,
        effects=effects,
        std_error=se,
        zstat=effects / se,
        cov=omega,
        wald=wald,
        wald_df=J,
        wald_pvalue=float(stats.chi2.sf(wald, J)),
        sum_effect=total,
        sum_std_error=total_se,
        sum_z=z_sum,
        sum_pvalue=float(2 * stats.norm.sf(abs(z_sum))),
        hac_lags=lags,
        n=int(yy.size),
        n_days=n_days,
    )
