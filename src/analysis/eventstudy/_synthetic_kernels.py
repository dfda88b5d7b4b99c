"""Numerical kernels of the synthetic match: the permutation statistics and donor placebos.

Plain numpy on arrays; :mod:`analysis.eventstudy.synthetic` arranges the returns and wraps the
results. The weights, the RMSE and the permutation p-value come from :mod:`analysis._simplex`,
shared with the retail synthetic control. Formula (26), docs/formulas.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis._simplex import rmse, simplex_lstsq
from analysis.errors import SpecificationError

#: Statistics the permutation test can rank (see :func:`statistic`).
STATISTICS: tuple[str, ...] = ("car_rmse", "car", "rmspe_ratio")


def statistic(name: str, car: float, ar: np.ndarray, sigma: float) -> float:
    """The permutation statistic of one unit (larger is more extreme).

    ``car_rmse``: |CAR| / sigma, the CAR in units of the pre-event fit (Acemoglu et al. 2016 weight
    each firm's CAR by 1/sigma); ``car``: |CAR| (synthReturn's placebo comparison of the raw
    effect); ``rmspe_ratio``: the root mean squared AR of the event window over sigma (Abadie,
    Diamond & Hainmueller 2010, section 3, placebo studies, post/pre RMSPE).
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
    """The in-space placebos of Abadie, Diamond & Hainmueller (2010, section 3, placebo studies)
    over the donors alone: donor j is matched from the other J - 1 donors on the estimation days (``R_est``,
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


def inverted_halfwidth(placebo_stats: np.ndarray, alpha: float) -> float:
    """Half-width, in units of the statistic, of the set of shifts the permutation test does not
    reject at ``alpha`` (Firpo & Possebom 2018): the m-th largest placebo statistic with
    ``m = floor(alpha (J + 1))``; infinite when ``m = 0`` (too few donors to reject at alpha)."""
    s = np.sort(np.asarray(placebo_stats, dtype=float))[::-1]
    m = int(np.floor(alpha * (len(s) + 1) + 1e-12))
    return float(s[m - 1]) if m >= 1 else float("inf")
