"""Numerical kernels of the synthetic match: simplex-constrained least squares and donor placebos.

Plain numpy on arrays; :mod:`analysis.eventstudy.synthetic` arranges the returns and wraps the
results. Formula (26), docs/formulas.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.errors import EstimationError, SpecificationError

#: Statistics the permutation test can rank (see :func:`statistic`).
STATISTICS: tuple[str, ...] = ("car_rmse", "car", "rmspe_ratio")


@dataclass(frozen=True)
class SimplexFit:
    """The weights of one synthetic match and how the solver got there."""

    weights: np.ndarray  # (J,) w >= 0, sum 1
    iterations: int
    max_violation: float  # largest KKT violation at the solution (0 at an exact optimum)


def simplex_lstsq(X: np.ndarray, y: np.ndarray, *, max_iter: int | None = None) -> SimplexFit:
    """``argmin ||y - X w||^2`` subject to ``w >= 0`` and ``sum(w) = 1``.

    A primal active-set method (Lawson & Hanson 1974, ch. 23, with the adding-up constraint
    carried in the KKT system), the quadratic programme synthReturn hands to ``quadprog``
    (Goldfarb & Idnani 1983). It starts at the best single donor, solves the equality-constrained
    problem on the free set, steps back to the boundary when a weight would turn negative and frees
    the donor with the most negative multiplier until every multiplier is non-negative. Weights
    that leave the free set are exactly zero.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise SpecificationError(
            f"simplex_lstsq needs X (days x donors) and y (days); got {X.shape} and {y.shape}"
        )
    n_days, J = X.shape
    if J == 0:
        raise SpecificationError("simplex_lstsq needs at least one donor column")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise EstimationError("simplex_lstsq: returns must be finite (drop missing days first)")
    Q = X.T @ X
    c = X.T @ y
    scale = max(float(np.abs(Q).max()), float(np.abs(c).max()), 1e-300)
    tol = 1e-11 * scale
    w = np.zeros(J)
    w[int(np.argmin(((y[:, None] - X) ** 2).sum(axis=0)))] = 1.0
    free = w > 0
    limit = max_iter if max_iter is not None else 20 * J + 100
    for it in range(1, limit + 1):
        z, nu = _equality_solution(Q, c, free)
        if np.all(z[free] > 0):
            w = z
            lam = Q @ w - c + nu  # multipliers of w_j >= 0; zero on the free set
            lam[free] = 0.0
            j = int(np.argmin(lam))
            if lam[j] >= -tol:
                return SimplexFit(w, it, float(max(0.0, -lam.min())))
            free[j] = True
            continue
        hit = free & (z <= 0)
        step = np.min(w[hit] / (w[hit] - z[hit]))
        w = w + step * (z - w)
        free &= w > 1e-15
        w[~free] = 0.0
        w /= w.sum()
    raise EstimationError(
        f"simplex_lstsq did not converge in {limit} iterations ({J} donors, {n_days} days); "
        "the donors' returns may be collinear: drop duplicate or near-identical donors"
    )


def _equality_solution(Q: np.ndarray, c: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, float]:
    """The minimiser of ``w'Qw/2 - c'w`` with ``sum(w) = 1`` and ``w = 0`` off ``free``, and the
    multiplier ``nu`` of the adding-up constraint (``Q w - c + nu = 0`` on ``free``)."""
    idx = np.flatnonzero(free)
    k = len(idx)
    K = np.zeros((k + 1, k + 1))
    K[:k, :k] = Q[np.ix_(idx, idx)]
    K[:k, k] = 1.0
    K[k, :k] = 1.0
    rhs = np.concatenate([c[idx], [1.0]])
    try:  # LU first; collinear donors (a singular block) fall back to the minimum-norm solution
        sol = np.linalg.solve(K, rhs)
        ok = np.abs(sol[:k]).max() < 1e6 and np.abs(K @ sol - rhs).max() <= 1e-9 * _size(rhs)
    except np.linalg.LinAlgError:
        ok = False
    if not ok:
        sol = np.linalg.lstsq(K, rhs, rcond=None)[0]
    z = np.zeros(len(c))
    z[idx] = sol[:k]
    return z, float(sol[k])


def _size(v: np.ndarray) -> float:
    return max(float(np.abs(v).max()), 1.0)


def rmse(residuals: np.ndarray) -> float:
    """Root mean squared pre-event residual, ``sqrt(sum(e^2) / L)`` (divisor L, no parameters
    taken off): the fit measure of Acemoglu et al. (2016, eq. 8)."""
    return float(np.sqrt(np.mean(np.square(residuals))))


def statistic(name: str, car: float, ar: np.ndarray, sigma: float) -> float:
    """The permutation statistic of one unit (larger is more extreme).

    ``car_rmse``: |CAR| / sigma, the CAR in units of the pre-event fit (Acemoglu et al. 2016 weight
    each firm's CAR by 1/sigma); ``car``: |CAR| (synthReturn's placebo comparison of the raw
    effect); ``rmspe_ratio``: the root mean squared AR of the event window over sigma (Abadie,
    Diamond & Hainmueller 2010, sec. 3.3, post/pre RMSPE).
    """
    if name == "car":
        return abs(car)
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "car_rmse":
            return float(np.float64(abs(car)) / sigma)
        if name == "rmspe_ratio":
            return float(np.float64(rmse(ar)) / sigma)
    raise SpecificationError(
        f"unknown permutation statistic {name!r}; valid: {', '.join(STATISTICS)}"
    )


@dataclass(frozen=True)
class Placebos:
    """Each donor treated in turn, matched from the other donors: its event-window abnormal
    returns ``ar`` (J x L2), pre-event RMSE ``sigma`` (J,) and weights on the others (J x J, zero
    diagonal)."""

    ar: np.ndarray
    sigma: np.ndarray
    weights: np.ndarray


def placebo_runs(R_est: np.ndarray, R_evt: np.ndarray) -> Placebos:
    """The in-space placebos of Abadie, Diamond & Hainmueller (2010, sec. 3.3) over the donors
    alone: donor j is matched from the other J - 1 donors on the estimation days (``R_est``,
    days x donors) and its abnormal returns are taken on the event days (``R_evt``). The treated
    firm is in no placebo's pool, as in synthReturn."""
    J = R_est.shape[1]
    if J < 2:
        raise SpecificationError(
            f"placebos need at least two donors (each is matched from the others); got {J}"
        )
    cols = np.arange(J)
    ar = np.empty((J, R_evt.shape[0]))
    sigma = np.empty(J)
    W = np.zeros((J, J))
    for j in range(J):
        others = cols != j
        fit = simplex_lstsq(R_est[:, others], R_est[:, j])
        W[j, others] = fit.weights
        sigma[j] = rmse(R_est[:, j] - R_est[:, others] @ fit.weights)
        ar[j] = R_evt[:, j] - R_evt[:, others] @ fit.weights
    return Placebos(ar=ar, sigma=sigma, weights=W)


def permutation_pvalue(stat: float, placebo_stats: np.ndarray) -> tuple[float, int]:
    """``(1 + #{j: s_j >= s}) / (1 + J)`` and the firm's rank (1 = most extreme): the share of the
    J + 1 units (firm and donors) whose statistic is at least the firm's, as in Abadie, Diamond &
    Hainmueller (2010, sec. 3.3). Ties count against the firm; the smallest value is 1/(J + 1)."""
    s = np.asarray(placebo_stats, dtype=float)
    at_least = int(np.sum(s >= stat))
    return (1 + at_least) / (1 + len(s)), 1 + at_least


def inverted_halfwidth(placebo_stats: np.ndarray, alpha: float) -> float:
    """Half-width, in units of the statistic, of the set of shifts the permutation test does not
    reject at ``alpha`` (Firpo & Possebom 2018): the m-th largest placebo statistic with
    ``m = floor(alpha (J + 1))``; infinite when ``m = 0`` (too few donors to reject at alpha)."""
    s = np.sort(np.asarray(placebo_stats, dtype=float))[::-1]
    m = int(np.floor(alpha * (len(s) + 1) + 1e-12))
    return float(s[m - 1]) if m >= 1 else float("inf")
