"""Kernels shared by the synthetic match and the retail synthetic control.

Simplex-constrained least squares (the weights of a synthetic unit), the root mean squared error
of a residual or gap series, and the placebo permutation p-value. Plain numpy on arrays; used by
:mod:`analysis.eventstudy.synthetic` (formula (26), docs/formulas.md) and
:mod:`analysis.studies.retail` (the synthetic control of the retail GPU study).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.errors import EstimationError, SpecificationError

#: Placebo statistics within this relative distance below the unit's count as ties (against the
#: unit) in :func:`permutation_pvalue`.
TIE_RTOL = 1e-8


@dataclass(frozen=True)
class SimplexFit:
    """The weights of one synthetic match and how the solver got there."""

    weights: np.ndarray  # (J,) w >= 0, sum 1
    iterations: int
    max_violation: float  # largest KKT violation at the solution (0 at an exact optimum)


def simplex_lstsq(X: np.ndarray, y: np.ndarray, *, max_iter: int | None = None) -> SimplexFit:
    """``argmin ||y - X w||^2`` subject to ``w >= 0`` and ``sum(w) = 1``.

    ``X`` is (periods x donors), ``y`` (periods,). A primal active-set method (Lawson & Hanson
    1974, ch. 23, with the adding-up constraint carried in the KKT system), the quadratic
    programme synthReturn hands to ``quadprog`` (Goldfarb & Idnani 1983) and the weights of
    Abadie, Diamond & Hainmueller (2010). It starts at the best single donor, solves the
    equality-constrained problem on the free set, steps back to the boundary when a weight would
    turn negative and frees the donor with the most negative multiplier until every multiplier is
    non-negative. Weights that leave the free set are exactly zero.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise SpecificationError(
            f"simplex_lstsq needs X (periods x donors) and y (periods); got {X.shape} and {y.shape}"
        )
    n_periods, J = X.shape
    if J == 0:
        raise SpecificationError("simplex_lstsq needs at least one donor column")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise EstimationError(
            "simplex_lstsq: the series must be finite (drop periods with a missing value first)"
        )
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
        f"simplex_lstsq did not converge in {limit} iterations ({J} donors, {n_periods} periods); "
        "the donors' series may be collinear: drop duplicate or near-identical donors"
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
    """Root mean squared residual, ``sqrt(sum(e^2) / L)`` (divisor L, no parameters taken off):
    the fit measure of Acemoglu et al. (2016, eq. 8) and the RMSPE of Abadie, Diamond &
    Hainmueller (2010, section 3, placebo studies)."""
    return float(np.sqrt(np.mean(np.square(residuals))))


def permutation_pvalue(stat: float, placebo_stats: np.ndarray) -> tuple[float, int]:
    """``(1 + #{j: s_j >= s}) / (1 + J)`` and the unit's rank (1 = most extreme): the share of the
    J + 1 units (the unit and its placebos) whose statistic is at least the unit's, as in Abadie,
    Diamond & Hainmueller (2010, section 3, placebo studies). Ties count against the unit; the
    smallest value is 1/(J + 1).

    A placebo statistic within :data:`TIE_RTOL` (relative) below ``stat`` is a tie. Statistics
    that are equal in exact arithmetic but computed along different floating-point paths (the
    two cards of a two-card design, each treated in turn, which mirror each other) differ by up to
    a few 1e-10 relative, and a strict comparison would break such a tie in the unit's favour
    about half the time (scipy's ``permutation_test`` counts ties within 100 machine epsilons of
    the observed statistic, enough for statistics computed the same way). Non-finite placebo
    statistics are compared as they are (``inf`` counts against the unit, NaN never does);
    callers drop placebos without a statistic first.
    """
    stat = float(stat)
    if np.isnan(stat):
        raise EstimationError("permutation_pvalue: the unit's statistic is NaN; no p-value")
    s = np.asarray(placebo_stats, dtype=float)
    tol = TIE_RTOL * abs(stat) if np.isfinite(stat) else 0.0
    at_least = int(np.sum(s >= stat - tol))
    return (1 + at_least) / (1 + len(s)), 1 + at_least
