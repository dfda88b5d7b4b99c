"""Resampling tests: the single-firm permutation test and a wild bootstrap of the CAAR that keeps the
cross-section's dependence. Both are seeded, so a published p-value is reproducible from the
inputs, the number of draws and the seed."""

from __future__ import annotations

import itertools
import math

import numpy as np

from analysis.errors import EstimationError, SpecificationError
from analysis.eventstudy.inference._common import (
    Days,
    _car,
    _car_factor,
    _need,
    _rows,
    _used_rows,
)
from analysis.eventstudy.inference.results import TestInputs, TestResult

#: Default number of random draws (permutations or bootstrap replications): 9,999, so that
#: (1 + hits) / (1 + draws) has a round denominator (Davidson & MacKinnon 2000).
DRAWS_DEFAULT = 9999
#: Default seed of the random draws (``numpy.random.default_rng``).
SEED_DEFAULT = 0

# Elements of one (firms x draws) block: bounds the memory of the vectorized permutation statistics.
_BLOCK = 2_000_000


def _count_option(value: object, name: str, test: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise SpecificationError(
            f"{test}: {name} must be a positive whole number of random draws (e.g. 9999); "
            f"got {value!r}"
        )
    return int(value)


def _seed_option(value: object, test: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise SpecificationError(
            f"{test}: seed must be a non-negative whole number (e.g. 0); got {value!r}"
        )
    return int(value)


def random_subsets(rng: np.random.Generator, pool: int, size: int, count: int) -> np.ndarray:
    """``count`` independent, uniformly drawn ``size``-subsets of ``range(pool)``, one per row.

    Floyd's algorithm (Bentley & Floyd 1987), vectorized over the rows: for j = pool - size ..
    pool - 1 draw t uniform on 0..j and keep t, or j if t is already in the row. Each row is a
    uniform draw from the C(pool, size) subsets; the columns are not sorted.
    """
    if not 1 <= size <= pool:
        raise SpecificationError(f"a subset of size {size} cannot be drawn from {pool} items")
    out = np.empty((count, size), dtype=np.int64)
    for col, j in enumerate(range(pool - size, pool)):
        t = rng.integers(0, j + 1, size=count)
        if col:
            taken = (out[:, :col] == t[:, None]).any(axis=1)
            t = np.where(taken, j, t)
        out[:, col] = t
    return out


def _pooled_t(z: np.ndarray, zc: np.ndarray, qc: np.ndarray, idx: np.ndarray, m: int) -> np.ndarray:
    """t = sum(z[J]) / (sqrt(n) sd(z[not J])) for each row of ``z`` (firms) and each subset J,
    a row of ``idx`` (n columns); sd with divisor m - 1. ``zc`` is ``z`` minus its row mean and
    ``qc`` its row sum of squares (the spread of the rest from pooled sums, without copies)."""
    n = idx.shape[1]
    e = np.zeros((z.shape[0], idx.shape[0]))
    ec = np.zeros_like(e)
    q = np.zeros_like(e)
    for j in range(n):  # loop over the window's days, not over firms or draws
        col = idx[:, j]
        e += z[:, col]
        part = zc[:, col]
        ec += part
        q += part * part
    # the rest holds -ec in centred units: its sum of squared deviations is (qc - q) - ec^2 / m
    ss = qc[:, None] - q - ec * ec / m
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(e / np.sqrt(n * np.maximum(ss, 0.0) / (m - 1)))


def _exceed(t: np.ndarray, t_obs: np.ndarray) -> np.ndarray:
    """Per row, how many |t| reach |t_obs| (a relative 1e-12 allowance for rounding)."""
    a = np.abs(t_obs)[:, None]
    with np.errstate(invalid="ignore"):  # an infinite |t_obs| counts nothing (its p is NaN)
        return np.count_nonzero(np.abs(t) >= a - 1e-12 * np.maximum(1.0, a), axis=1)


def permutation(
    inputs: TestInputs,
    days: Days,
    *,
    permutations: int = DRAWS_DEFAULT,
    seed: int = SEED_DEFAULT,
) -> TestResult:
    """Permutation test of one firm's AR/CAR, formula (24).

    Permutation inference for a single firm as proposed by Nguyen, P.A. & Wolf, M. (2023),
    "Single-firm inference in event studies via the permutation test", Empirical Economics (open
    access, online 23 Nov 2023, doi:10.1007/s00181-023-02530-7; University of Zurich ECON Working
    Paper 425, https://hdl.handle.net/10419/280778); the construction below is the one the R
    package EventStudy describes (eventstudy.de, AR and CAR statistics). For each firm the m = L_i non-missing
    estimation residuals and the n = len(days) event ARs are pooled; under the null the m + n
    values are exchangeable (no event effect, one distribution in both windows). Statistic: the CAR t of the observed assignment,
    t = CAR_i / (sqrt(n) s), s the standard deviation (divisor m - 1) of the estimation residuals.
    Each reassignment J of n pooled values to the event window gives t(J) = sum(z[J]) /
    (sqrt(n) sd(z[not J])). All C(m + n, n) reassignments are used when there are at most
    ``permutations`` (exact: p = #{|t(J)| >= |t|} / C(m + n, n), the observed one included);
    otherwise ``permutations`` random ones (Floyd's algorithm, ``numpy.random.default_rng(seed)``,
    the same draws for every firm with the same m) give p = (1 + #{|t*| >= |t|}) /
    (1 + permutations). One day: the m + 1 reassignments are enumerated.

    Differences from the SQ test of Gelbach, Helland & Klick (2013), :func:`sq`: SQ compares the
    CAR with L2-day sums of CONSECUTIVE estimation residuals (serial dependence within a block is
    kept), leaves the event window out of the reference set and is valid as L1 grows; the
    permutation test puts the event ARs in the pool, reassigns single days (serial dependence is
    not kept: it assumes exchangeable daily ARs), studentizes each assignment, and its size is
    exact in finite samples when the pooled values are exchangeable. Neither uses normality.
    In-sample residuals have a slightly smaller spread than out-of-sample ARs (formula (1)); the
    difference vanishes as L1 grows.

    Firms without a complete CAR get NaN (n = 0). ``extra`` (per firm): ``car``, ``assignments``
    (the number of reassignments used) and ``exact`` (1.0 when all were enumerated).
    """
    b = _count_option(permutations, "permutations", "permutation")
    seed = _seed_option(seed, "permutation")
    c = _car(inputs, days)
    n_total, n = c.n_total, c.d.size
    n_est = np.asarray(inputs.n_est).astype(int)
    out = {k: np.full(n_total, np.nan) for k in ("stat", "p", "count", "exact", "car")}
    nn = np.zeros(n_total, dtype=int)
    short = c.used[n_est[c.used] < 2]
    if short.size:
        raise EstimationError(
            "permutation needs at least 2 estimation residuals per firm for the standard deviation; "
            f"{_rows(short, n_est[short])} (values are L_i)"
        )
    if c.used.size:
        resid = _used_rows(inputs, "resid", c)
        evt = np.asarray(inputs.ar, dtype=float)[np.ix_(c.used, c.d)]
        m_used = n_est[c.used]
        for m in np.unique(m_used):
            sel = np.flatnonzero(m_used == m)
            r = resid[sel]
            z = np.concatenate([r[~np.isnan(r)].reshape(sel.size, m), evt[sel]], axis=1)
            pool = int(m) + n
            total = math.comb(pool, n)
            exact = total <= b
            if exact:
                idx = np.array(list(itertools.combinations(range(pool), n)), dtype=np.int64)
            else:
                idx = random_subsets(np.random.default_rng(seed), pool, n, b)
            zc = z - z.mean(axis=1, keepdims=True)
            qc = np.sum(zc * zc, axis=1)
            observed = np.arange(int(m), pool, dtype=np.int64)[None, :]
            t_obs = _pooled_t(z, zc, qc, observed, int(m))[:, 0]
            hits = np.zeros(sel.size, dtype=np.int64)
            step = max(1, _BLOCK // idx.shape[0])
            for a in range(0, sel.size, step):
                rows = slice(a, a + step)
                t = _pooled_t(z[rows], zc[rows], qc[rows], idx, int(m))
                hits[rows] = _exceed(t, t_obs[rows])
            firms = c.used[sel]
            # a studentized t that is not finite (the residuals do not vary) has no p-value:
            # NaN, never the 0 an infinite statistic would otherwise give
            ok = np.isfinite(t_obs)
            out["stat"][firms] = np.where(ok, t_obs, np.nan)
            pv = hits / total if exact else (1.0 + hits) / (1.0 + b)
            out["p"][firms] = np.where(ok, pv, np.nan)
            out["count"][firms] = idx.shape[0]
            out["exact"][firms] = float(exact)
            out["car"][firms] = c.car[sel]
            nn[firms] = m
    counts = out["count"][c.used]
    if not counts.size:
        dist = "permutation"
    elif np.all(out["exact"][c.used] == 1.0):
        lo, hi = int(counts.min()), int(counts.max())
        span = f"{lo}" if lo == hi else f"{lo}..{hi}"
        dist = f"permutation (exact, {span} assignments{'' if lo == hi else ', per firm'})"
    else:
        dist = f"permutation ({b} random assignments, seed {seed})"
    return TestResult(
        name="permutation",
        stat=out["stat"],
        pvalue=out["p"],
        n=nn,
        variant=(
            f"Nguyen & Wolf 2023: t = CAR/(sqrt({n}) sd) over reassignments of the pooled "
            f"estimation residuals and {n} event AR{'s' if n > 1 else ''}"
        ),
        distribution=dist,
        df=None,
        extra={"car": out["car"], "assignments": out["count"], "exact": out["exact"]},
    )


def wild_bootstrap(
    inputs: TestInputs,
    days: Days,
    *,
    replications: int = DRAWS_DEFAULT,
    seed: int = SEED_DEFAULT,
) -> TestResult:
    """Wild bootstrap test of the CAAR that keeps the cross-section's dependence, formula (25).

    P_s = mean over the firms with data on estimation day s of the centred residuals
    e_is - mean_i(e_i) (T_E days with data); S^2 = sum_s P_s^2 / (T_E - max(k, 1)), the
    residual variance of the equally weighted portfolio (its degrees of freedom as in (0));
    f = mean over the firms of 1'C_i[days, days]1, the exact CAR variance factor of formula (2).
    Statistic: t = CAAR / (S sqrt(f)), the portfolio t with the exact variance factor.

    Replication b builds an event window under H0: each of its L2 days takes the cross-section
    of one estimation day S_bj (uniform over the T_E days) times one Rademacher multiplier
    eta_bj (+-1 with probability 1/2), the same for every firm. t*_b = sum_j eta_bj P_{S_bj} /
    sqrt(L2 mean_s P_s^2), whose bootstrap variance is 1, so t and t* are on the same scale.
    p = (1 + #{|t*| >= |t|}) / (1 + ``replications``), with ``numpy.random.default_rng(seed)``.

    - H0 is imposed: the pseudo event days carry centred residuals (no abnormal return), and the
      symmetric multipliers give them mean zero.
    - One multiplier per day shared by all firms, applied to a whole day's cross-section, keeps
      the correlation between firms on a day (Cameron, Gelbach & Miller 2008, clusters = days),
      so event-date clustering does not inflate the size (unlike :func:`bmp`).
    - The event window's own ARs are not resampled: with L2 day clusters the Rademacher draws
      give only 2^L2 sign patterns of the same values, and such a test cannot reject at 5% when
      L2 <= 5 (the few-treated-clusters failure, MacKinnon & Webb 2018). The event days are
      therefore drawn from the estimation days, assumed to share their distribution.
    - Assumes no serial correlation (days are drawn one by one) and no event-induced variance;
      uses no normality: the bootstrap distribution keeps the portfolio's fat tails.
    - The scaling by f is exact when the firms share one design (one event date, no missing
      days); otherwise f is the firms' average factor.

    Wild bootstrap: Wu (1986); Liu (1988); Mammen (1993); Davidson & Flachaire (2008) for the
    Rademacher multipliers. ``extra``: ``caar``, ``sd_aar`` (S), ``factor`` (f),
    ``replications``, ``seed``.
    """
    b = _count_option(replications, "replications", "wild_bootstrap")
    seed = _seed_option(seed, "wild_bootstrap")
    c = _car(inputs, days)
    n = _need(c, "wild_bootstrap", 2)
    r = _used_rows(inputs, "resid", c)
    ok = ~np.isnan(r)
    cnt = ok.sum(axis=1)
    centred = r - np.sum(r, axis=1, where=ok, keepdims=True) / np.maximum(cnt, 1)[:, None]
    col_n = ok.sum(axis=0)
    keep = col_n > 0
    port = np.sum(centred, axis=0, where=ok)[keep] / col_n[keep]
    t_e = port.size
    dof = t_e - max(int(inputs.k), 1)
    if dof < 2:
        raise EstimationError(
            f"wild_bootstrap needs more estimation days with data than {max(int(inputs.k), 1) + 1}; "
            f"got {t_e}"
        )
    ms = float(port @ port)
    if ms <= 0:
        raise EstimationError(
            "wild_bootstrap: the portfolio's estimation residuals are all zero, so the test is undefined"
        )
    s2 = ms / dof
    fbar = float(np.mean(_car_factor(inputs, c)))
    caar = float(c.car.mean())
    t = caar / math.sqrt(s2 * fbar)
    l2 = c.d.size
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, t_e, size=(b, l2))
    eta = 2.0 * rng.integers(0, 2, size=(b, l2)) - 1.0
    t_star = np.sum(port[pick] * eta, axis=1) / math.sqrt(l2 * ms / t_e)
    hits = int(_exceed(t_star[None, :], np.array([t]))[0])
    return TestResult(
        name="wild_bootstrap",
        stat=t,
        pvalue=(1.0 + hits) / (1.0 + b),
        n=n,
        variant=(
            "portfolio t with the exact factor; Rademacher multiplier per day shared by all "
            "firms, pseudo event days drawn from the estimation window"
        ),
        distribution=f"wild bootstrap ({b} replications, seed {seed})",
        df=None,
        extra={
            "caar": caar,
            "sd_aar": math.sqrt(s2),
            "factor": fbar,
            "replications": float(b),
            "seed": float(seed),
        },
    )
