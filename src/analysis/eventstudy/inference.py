"""Event-study test statistics as pure, vectorized numpy/scipy functions.

Every test has the signature ``fn(inputs: TestInputs, days, **options) -> TestResult``:

* ``inputs`` holds the event-window abnormal returns ``ar`` (N, L2), the estimation-window
  residuals ``resid`` (N, L1) on a common day axis, the residual standard deviations ``sigma``,
  the estimation counts ``n_est``, the number of estimated mean parameters ``k`` and the
  prediction-error covariance factors ``cov`` (N, L2, L2) with
  ``Var(AR_i | X) = sigma_i**2 * C_i``.
* ``days`` are column indices into the event window (a slice or a sequence). One index is a
  daily test; several are a CAR test over those days. A firm with any missing AR on ``days`` has
  no CAR and is left out; ``TestResult.n`` says how many firms were used.

The variance of a multi-day CAR is always the exact ``sigma_i**2 * 1' C_i[days, days] 1``
(Campbell, Lo & MacKinlay 1997, sec. 4.4; Salinger 1992, JFQA 27(1):39-53), never the sum of the
daily factors, which omits the covariances that estimation error induces between event days.

Formula numbers in the docstrings, e.g. "formula (8)", refer to ``docs/formulas.md``: each
statistic with its null distribution, assumptions and conventions. Single-firm tests return one
entry per firm (arrays; NaN for a firm left out, whose ``n`` is 0); multi-firm tests return floats.
P-values are two-sided.

Registries: :data:`SINGLE_FIRM_TESTS`, :data:`MULTI_FIRM_TESTS`, :data:`INDEPENDENCE_ASSUMED`
(tests whose null assumes cross-sectional independence: flag them when event dates cluster),
:func:`get_test` and :func:`run_tests`.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse, special, stats

from analysis.errors import EstimationError, SpecificationError

__all__ = [
    "INDEPENDENCE_ASSUMED",
    "MIN_FIRMS",
    "MULTI_FIRM_TESTS",
    "SINGLE_FIRM_TESTS",
    "TestInputs",
    "TestResult",
    "bmp",
    "bw_1980",
    "bw_cda",
    "corrado_rank",
    "corrado_zivney_rank",
    "corrado_zivney_sign",
    "cross_sectional_t",
    "generalized_sign",
    "get_test",
    "grank",
    "grank_z",
    "kp_bmp",
    "kp_patell",
    "lamb",
    "patell",
    "run_tests",
    "sign",
    "skewness_corrected_t",
    "sq",
    "t_prediction_error",
    "wilcoxon",
]


# --------------------------------------------------------------------------------------------
# Inputs and results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestInputs:
    """Everything a test needs; built by the model layer (see the module docstring).

    ``resid`` rows are firms and its columns estimation days on a COMMON axis (calendar dates for
    one shared event date, event time for distinct dates), NaN where a firm has no return.
    ``n_est[i]`` must equal the number of non-missing residuals of row i. ``dof`` defaults to
    ``n_est - k``. ``market_est``/``market_evt`` are needed by :func:`lamb` only.
    """

    __test__ = False  # not a pytest test class

    ar: np.ndarray
    resid: np.ndarray
    sigma: np.ndarray
    n_est: np.ndarray
    k: int
    cov: np.ndarray
    market_est: np.ndarray | None = None
    market_evt: np.ndarray | None = None
    dof: np.ndarray | None = None

    @classmethod
    def from_fit(
        cls, fit: Any, market_est: np.ndarray | None = None, market_evt: np.ndarray | None = None
    ) -> TestInputs:
        """Inputs from a fitted model (``analysis.eventstudy.models.FitArrays``) and the market returns."""
        return cls(
            ar=fit.ar,
            resid=fit.resid,
            sigma=fit.sigma,
            n_est=fit.n_est,
            k=fit.k,
            cov=fit.cov,
            market_est=market_est,
            market_evt=market_evt,
            dof=fit.dof,
        )


@dataclass(frozen=True)
class TestResult:
    """One test's outcome. ``stat``/``pvalue``/``n`` are arrays for single-firm tests."""

    __test__ = False  # not a pytest test class

    name: str
    stat: float | np.ndarray
    pvalue: float | np.ndarray
    n: int | np.ndarray
    variant: str
    distribution: str
    df: float | np.ndarray | None = None
    extra: Mapping[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Validation and shared building blocks
# --------------------------------------------------------------------------------------------

# Within one run_tests call the same inputs are validated once and shared intermediates (ranks,
# r-bar, CARs) are computed once. Outside run_tests nothing is cached: every call is pure.
_RUN_CACHE: ContextVar[dict[Any, Any] | None] = ContextVar(
    "analysis_inference_run_cache", default=None
)


def _memo(key: Any, fn: Callable[[], Any]) -> Any:
    cache = _RUN_CACHE.get()
    if cache is None:
        return fn()
    if key not in cache:
        cache[key] = fn()
    return cache[key]


def _rows(idx: np.ndarray, values: np.ndarray | None = None, limit: int = 8) -> str:
    """'rows [0, 3] (values [..])' with at most ``limit`` entries."""
    idx = np.asarray(idx).ravel()
    shown = ", ".join(str(int(i)) for i in idx[:limit]) + (", ..." if idx.size > limit else "")
    out = f"firm row{'s' if idx.size != 1 else ''} [{shown}]"
    if values is not None:
        vals = np.asarray(values).ravel()
        vs = ", ".join(f"{v:g}" for v in vals[:limit]) + (", ..." if vals.size > limit else "")
        out += f" (values [{vs}])"
    return out


def _check_inputs(x: TestInputs) -> tuple[int, int, int]:
    """Shapes, dtypes and the basic sanity of every field; returns (N, L1, L2)."""
    if not isinstance(x, TestInputs):
        raise SpecificationError(f"expected a TestInputs, got {type(x).__name__}")
    ar, resid = np.asarray(x.ar), np.asarray(x.resid)
    if ar.ndim != 2:
        raise SpecificationError(
            f"TestInputs.ar must be 2-D (N firms, L2 event days); got shape {ar.shape}"
        )
    if resid.ndim != 2:
        raise SpecificationError(
            f"TestInputs.resid must be 2-D (N firms, L1 estimation days); got shape {resid.shape}"
        )
    n, l2 = ar.shape
    l1 = resid.shape[1]
    if resid.shape[0] != n:
        raise SpecificationError(
            f"TestInputs.resid has {resid.shape[0]} rows but ar has {n} (one row per firm in both)"
        )
    if n == 0:
        raise EstimationError("no firms: TestInputs.ar has 0 rows, so there is nothing to test")
    for name in ("sigma", "n_est"):
        v = np.asarray(getattr(x, name))
        if v.shape != (n,):
            raise SpecificationError(
                f"TestInputs.{name} must have shape ({n},) (one per firm); got {v.shape}"
            )
    cov = np.asarray(x.cov)
    if cov.shape != (n, l2, l2):
        raise SpecificationError(
            f"TestInputs.cov must have shape ({n}, {l2}, {l2}) (one L2 x L2 factor per firm); got {cov.shape}"
        )
    if not isinstance(x.k, (int, np.integer)) or isinstance(x.k, bool) or x.k < 0:
        raise SpecificationError(
            f"TestInputs.k must be a non-negative int (mean parameters); got {x.k!r}"
        )
    n_est = np.asarray(x.n_est)
    if not np.issubdtype(n_est.dtype, np.number) or not np.all(np.isfinite(n_est)):
        raise SpecificationError("TestInputs.n_est must hold finite integer counts")
    counted = np.sum(~np.isnan(resid), axis=1)
    bad = np.flatnonzero(counted != n_est)
    if bad.size:
        raise SpecificationError(
            "TestInputs.n_est must equal the number of non-missing estimation residuals; "
            f"{_rows(bad, n_est[bad])} but resid has {counted[bad].tolist()[:8]} non-missing values"
        )
    sigma = np.asarray(x.sigma, dtype=float)
    bad = np.flatnonzero(~np.isfinite(sigma) | (sigma <= 0))
    if bad.size:
        raise EstimationError(
            f"residual standard deviation sigma must be finite and > 0; {_rows(bad, sigma[bad])}. "
            "A zero or NaN sigma means the firm's model could not be estimated: drop the firm "
            "(or fix its estimation window) before testing"
        )
    if x.dof is not None and np.asarray(x.dof).shape != (n,):
        raise SpecificationError(
            f"TestInputs.dof must have shape ({n},); got {np.asarray(x.dof).shape}"
        )
    for name, width in (("market_est", l1), ("market_evt", l2)):
        m = getattr(x, name)
        if m is not None:
            m = np.asarray(m)
            if m.shape not in ((width,), (n, width)):
                raise SpecificationError(
                    f"TestInputs.{name} must have shape ({width},) or ({n}, {width}); got {m.shape}"
                )
    return n, l1, l2


def _days(days: Sequence[int] | slice, l2: int) -> np.ndarray:
    """Normalise ``days`` to a sorted array of distinct column indices in [0, L2)."""
    if isinstance(days, slice):
        d = np.arange(l2)[days]
    else:
        if isinstance(days, (int, np.integer)):
            days = [int(days)]
        try:
            d = np.asarray(list(days))
        except TypeError as exc:
            raise SpecificationError(
                f"days must be a slice or a sequence of ints; got {days!r}"
            ) from exc
        if d.size and not np.issubdtype(d.dtype, np.integer):
            raise SpecificationError(f"days must be integer column indices; got {d.tolist()!r}")
    if d.size == 0:
        raise SpecificationError(
            f"days selects no event-window column (the window has L2 = {l2} days)"
        )
    if d.min() < 0 or d.max() >= l2:
        raise SpecificationError(
            f"days must be column indices 0..{l2 - 1} into the event window; got {d.tolist()}"
        )
    if np.unique(d).size != d.size:
        raise SpecificationError(f"days contains repeated columns: {d.tolist()}")
    return np.sort(d.astype(int))


@dataclass(frozen=True)
class _Car:
    d: np.ndarray  # event-window columns
    used: np.ndarray  # indices of the firms with a complete CAR
    car: np.ndarray  # (n_used,)
    n_total: int


def _days_key(days: Any) -> Any:
    """A hashable key for ``days`` (the same ``days`` object is normalised once per run_tests)."""
    if isinstance(days, np.ndarray):
        return ("array", days.dtype.str, days.shape, days.tobytes())
    if isinstance(days, slice):
        return ("slice", days.start, days.stop, days.step)
    return ("object", id(days))  # sequences: by identity (run_tests passes one object)


def _car(x: TestInputs, days: Sequence[int] | slice) -> _Car:
    n, _, l2 = _memo(("check",), lambda: _check_inputs(x))
    d = _memo(("days", _days_key(days)), lambda: _days(days, l2))

    def build() -> _Car:
        win = np.asarray(x.ar, dtype=float)[:, d]
        ok = ~np.isnan(win).any(axis=1)
        used = np.flatnonzero(ok)
        return _Car(d=d, used=used, car=win[used].sum(axis=1), n_total=n)

    return _memo(("car", d.tobytes()), build)


def _need(c: _Car, name: str, minimum: int) -> int:
    m = c.used.size
    if m < minimum:
        raise EstimationError(
            f"{name} needs at least {minimum} firm{'s' if minimum > 1 else ''} with complete abnormal "
            f"returns on event-window days {c.d.tolist()}; {m} of {c.n_total} firms have them"
        )
    return m


def _factor_sum(x: TestInputs, rows: np.ndarray, d: np.ndarray) -> np.ndarray:
    cov = np.asarray(x.cov, dtype=float)
    if d.size == cov.shape[1]:
        return cov[rows].sum(axis=(1, 2))
    return cov[np.ix_(rows, d, d)].sum(axis=(1, 2))


def _car_factor(x: TestInputs, c: _Car, rows: np.ndarray | None = None) -> np.ndarray:
    """1' C_i[days, days] 1 for each (used) firm: the exact CAR variance factor, formula (2)."""
    if rows is None:
        rows = c.used
        f = _memo(("car_factor", c.d.tobytes()), lambda: _factor_sum(x, rows, c.d))
    else:
        f = _factor_sum(x, rows, c.d)
    bad = np.flatnonzero(~np.isfinite(f) | (f <= 0))
    if bad.size:
        raise EstimationError(
            "the CAR variance factor 1'C_i1 must be finite and > 0; "
            f"{_rows(rows[bad], f[bad])} on event-window days {c.d.tolist()}"
        )
    return f


def _sar_daily(x: TestInputs, c: _Car) -> np.ndarray:
    """Daily standardized ARs on ``days`` for the used firms: AR_it / (s_i sqrt(C_i,tt)), (1)."""
    cov = np.asarray(x.cov, dtype=float)
    diag = np.diagonal(cov[c.used], axis1=1, axis2=2)[:, c.d]
    bad = np.argwhere(~np.isfinite(diag) | (diag <= 0))
    if bad.size:
        raise EstimationError(
            "the daily prediction-error factor C_i[t, t] must be finite and > 0; "
            f"{_rows(c.used[bad[:, 0]])} on event-window day(s) {sorted({int(c.d[j]) for j in bad[:, 1]})}"
        )
    ar = np.asarray(x.ar, dtype=float)[np.ix_(c.used, c.d)]
    return ar / (np.asarray(x.sigma, dtype=float)[c.used, None] * np.sqrt(diag))


_FORMS = ("exact", "common")


def _scar(x: TestInputs, c: _Car, form: str) -> np.ndarray:
    """Standardized CARs of the used firms.

    ``exact``: CAR_i / (s_i sqrt(1'C_i1)), formula (2) -- CLM 1997 sec. 4.4.
    ``common``: sum_t SAR_it / sqrt(L2) -- the "cumulated standardized AR" of EventStudyTools.
    Both equal SAR_i0 on a one-day window.
    """
    if form not in _FORMS:
        raise SpecificationError(f"form must be one of {list(_FORMS)}; got {form!r}")
    sigma = np.asarray(x.sigma, dtype=float)[c.used]
    if form == "exact":
        return c.car / (sigma * np.sqrt(_car_factor(x, c)))
    return _sar_daily(x, c).sum(axis=1) / math.sqrt(c.d.size)


def _dof(x: TestInputs) -> np.ndarray:
    if x.dof is None:
        return np.asarray(x.n_est, dtype=float) - x.k
    return np.asarray(x.dof, dtype=float)


# Two-sided p-values from the same special functions scipy.stats.norm.sf / t.sf evaluate
# (ndtr(-x), stdtr(df, -x)) without the distribution machinery's per-call overhead.


def _p_norm(z: np.ndarray | float) -> np.ndarray | float:
    return 2.0 * special.ndtr(-np.abs(z))


def _p_t(t: np.ndarray | float, df: np.ndarray | float) -> np.ndarray | float:
    if not np.all(np.asarray(df) > 0):  # invalid df: scipy.stats' NaN handling
        return 2.0 * stats.t.sf(np.abs(t), df)
    return 2.0 * special.stdtr(df, -np.abs(t))


def _fl(v: float | np.floating) -> float:
    return float(v)


def _sd(v: np.ndarray, what: str) -> float:
    """Sample standard deviation (divisor n - 1); a zero spread is an EstimationError."""
    s = float(np.std(v, ddof=1))
    if not np.isfinite(s) or s <= 0:
        raise EstimationError(
            f"the cross-sectional standard deviation of {what} is {s:g}: the test is undefined"
        )
    return s


def _patell_var(x: TestInputs, c: _Car, patell_k: int | None) -> np.ndarray:
    """Per-firm variance of a standardized AR under normality: (L_i - k)/(L_i - k - 2), (8)."""
    pk = x.k if patell_k is None else patell_k
    if not isinstance(pk, (int, np.integer)) or isinstance(pk, bool) or pk < 0:
        raise SpecificationError(f"patell_k must be a non-negative int; got {patell_k!r}")
    lk = np.asarray(x.n_est, dtype=float)[c.used] - pk
    bad = np.flatnonzero(lk <= 2)
    if bad.size:
        raise EstimationError(
            f"Patell's variance factor (L_i - {pk})/(L_i - {pk} - 2) needs L_i > {pk + 2} estimation "
            f"days; {_rows(c.used[bad], lk[bad] + pk)}"
        )
    return lk / (lk - 2.0)


def _fmt_df(df: np.ndarray) -> str:
    lo, hi = float(np.nanmin(df)), float(np.nanmax(df))
    return f"t({lo:g})" if lo == hi else f"t({lo:g}..{hi:g}), per firm"


# --------------------------------------------------------------------------------------------
# Fast within-row ranks (scipy.stats.rankdata with nan_policy="omit" is ~30 ms for 500 x 261)
# --------------------------------------------------------------------------------------------


_INT64_MAXPOS = np.int64(0x7FFFFFFFFFFFFFFF)
_INF_BITS = np.int64(0x7FF0000000000000)  # +inf as int64 bits (its order-preserving key)


def _rank_rows(
    a: np.ndarray | tuple[np.ndarray, ...], medians: bool = False, fill: float = np.nan
) -> tuple[np.ndarray, ...]:
    """Average ranks (1-based) within each row, NaN kept as NaN (R's ``rank(na.last="keep")``).

    ``a`` is a 2-D array or a tuple of 2-D arrays with the same rows, ranked as if concatenated
    along the columns (without building the concatenation). Returns (ranks, number of non-NaN
    values per row) and, with ``medians=True``, each row's median of its non-NaN values (NaN for
    an all-NaN row), read off the same sort. Missing values get ``fill`` as their rank. Ties get
    the mean of their positions, as ``scipy.stats.rankdata(method="average")``, which is ~5x
    slower on a 500 x 261 panel.

    The row order comes from ONE vectorized int64 sort: each value becomes an order-preserving
    int64 key whose lowest bits are replaced by its column index. Rows where two keys agree above
    those bits (exact ties, or values within ~2^-43 relative of each other) are ranked again by
    :func:`_rank_rows_argsort`, so the result is exact in every case. Written in place where it
    can: fresh large temporaries are costly (page faults).
    """
    parts = tuple(np.asarray(p, dtype=float) for p in (a if isinstance(a, tuple) else (a,)))
    nrow = parts[0].shape[0]
    ncol = sum(p.shape[1] for p in parts)
    if nrow == 0 or ncol == 0:
        whole = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
        ranks, count = _rank_rows_argsort(whole)
        ranks[np.isnan(ranks)] = fill
        return (ranks, count, _row_medians(whole)) if medians else (ranks, count)
    bits = max(1, int(ncol - 1).bit_length())
    low = np.int64((1 << bits) - 1)
    key = np.empty((nrow, ncol), dtype=np.int64)
    nan = np.empty((nrow, ncol), dtype=bool)
    redo = np.zeros(nrow, dtype=bool)
    at = 0
    for p in parts:
        w = p.shape[1]
        raw = p.view(np.int64)
        k = key[:, at : at + w]
        np.right_shift(raw, 63, out=k)
        k &= _INT64_MAXPOS
        k ^= raw  # monotone in the float value (negative floats' magnitude bits flipped)
        np.isnan(p, out=nan[:, at : at + w])
        redo |= np.isposinf(p).any(axis=1)  # +inf ties with the NaN fill: left to argsort
        at += w
    key[nan] = _INF_BITS  # NaN sorts last, as +inf
    key[key == -1] = 0  # -0.0 (key -1) equals +0.0 (key 0)
    key &= ~low
    key |= np.arange(ncol, dtype=np.int64)
    key.sort(axis=1)
    ranks = np.empty((nrow, ncol))
    scratch = ranks.view(np.int64)[:, : ncol - 1]  # overwritten by the ranks below
    np.bitwise_xor(key[:, 1:], key[:, :-1], out=scratch)
    near = scratch.view(np.uint64) <= low  # neighbours equal above the index bits
    near &= key[:, 1:] < _INF_BITS  # ... not counting the NaN fill (+inf)
    redo |= near.any(axis=1)
    redo = np.flatnonzero(redo)
    key &= low  # the order
    count = ncol - nan.sum(axis=1)
    med = None
    if medians:  # the middle one or two of each row's sorted non-NaN values
        rows = np.arange(nrow)
        lo = _values_at(parts, rows, key[rows, np.maximum(count - 1, 0) // 2])
        hi = _values_at(parts, rows, key[rows, np.minimum(count // 2, ncol - 1)])
        med = np.where(count > 0, (lo + hi) / 2.0, np.nan)
    key += (np.arange(nrow, dtype=np.int64) * ncol)[:, None]
    np.put(ranks, key, np.arange(1, ncol + 1, dtype=float))  # values repeat along each row
    if redo.size:
        sub = np.concatenate([p[redo] for p in parts], axis=1)
        ranks[redo] = _rank_rows_argsort(sub)[0]
        if medians:
            med[redo] = _row_medians(sub)
    ranks[nan] = fill
    return (ranks, count, med) if medians else (ranks, count)


def _values_at(parts: tuple[np.ndarray, ...], rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Values at (rows, cols) of the column-wise concatenation of ``parts``."""
    out = np.empty(rows.size)
    at = 0
    for p in parts:
        w = p.shape[1]
        sel = (cols >= at) & (cols < at + w)
        out[sel] = p[rows[sel], cols[sel] - at]
        at += w
    return out


def _row_medians(a: np.ndarray) -> np.ndarray:
    """Median of each row's non-NaN values by a plain sort (NaN for an all-NaN row)."""
    count = (~np.isnan(a)).sum(axis=1)
    srt = np.sort(a, axis=1)  # NaN last
    if srt.shape[1] == 0:
        return np.full(a.shape[0], np.nan)
    lo = np.take_along_axis(srt, (np.maximum(count - 1, 0) // 2)[:, None], axis=1)[:, 0]
    hi = np.take_along_axis(srt, np.minimum(count // 2, srt.shape[1] - 1)[:, None], axis=1)[:, 0]
    return np.where(count > 0, (lo + hi) / 2.0, np.nan)


def _rank_rows_argsort(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_rank_rows` by np.argsort (the reference; used for rows with ties)."""
    a = np.asarray(a, dtype=float)
    nan = np.isnan(a)
    filled = np.where(nan, np.inf, a)
    order = np.argsort(filled, axis=1)
    srt = np.take_along_axis(filled, order, axis=1)
    nrow, ncol = a.shape
    pos = np.broadcast_to(np.arange(1, ncol + 1, dtype=float), (nrow, ncol))
    same = (srt[:, 1:] == srt[:, :-1]) & np.isfinite(srt[:, 1:])
    if same.any():
        new = np.ones((nrow, ncol), dtype=bool)
        new[:, 1:] = ~same
        gid = np.cumsum(new.ravel()) - 1
        cnt = np.bincount(gid)
        first = np.flatnonzero(new.ravel())
        avg = (pos.ravel()[first] + (cnt - 1) / 2.0)[gid].reshape(nrow, ncol)
    else:
        avg = pos
    ranks = np.empty_like(filled)
    np.put_along_axis(ranks, order, avg, axis=1)
    ranks[nan] = np.nan
    return ranks, (~nan).sum(axis=1)


def _used_rows(inputs: TestInputs, field: str, c: _Car) -> np.ndarray:
    """Rows of ``inputs.<field>`` for the used firms: no copy when every firm is used, else one
    copy per run_tests call."""
    a = np.asarray(getattr(inputs, field), dtype=float)
    if c.used.size == a.shape[0]:
        return a
    return _memo(("used_rows", field, c.d.tobytes()), lambda: a[c.used])


def _colsum(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column sums ignoring NaN and the number of non-NaN entries per column."""
    ok = ~np.isnan(a)
    return np.sum(a, axis=0, where=ok), ok.sum(axis=0)


# --------------------------------------------------------------------------------------------
# Single-firm tests
# --------------------------------------------------------------------------------------------


def t_prediction_error(inputs: TestInputs, days: Sequence[int] | slice) -> TestResult:
    """Prediction-error t test of one firm's AR/CAR, formula (3).

    t_i = CAR_i / (s_i sqrt(1' C_i[days, days] 1)), referred to t(dof_i) (default L_i - k), exact
    under iid normal disturbances conditional on the regressors. The CAR variance is the exact one
    of formula (2) (Campbell, Lo & MacKinlay 1997, sec. 4.4; Salinger 1992, JFQA 27(1):39-53).
    Brown & Warner (1980, JFE 8:205-258); MacKinlay (1997, JEL 35(1):13-39).
    Firms without a complete CAR get NaN (and n = 0). ``extra``: per-firm ``car`` and ``se``.
    """
    c = _car(inputs, days)
    n = c.n_total
    stat = np.full(n, np.nan)
    pval = np.full(n, np.nan)
    car = np.full(n, np.nan)
    se = np.full(n, np.nan)
    df_all = _dof(inputs)
    nn = np.zeros(n, dtype=int)
    if c.used.size:
        df = df_all[c.used]
        bad = np.flatnonzero(~np.isfinite(df) | (df <= 0))
        if bad.size:
            raise EstimationError(
                f"t_prediction_error needs positive degrees of freedom (L_i - k); {_rows(c.used[bad], df[bad])}"
            )
        se_u = np.asarray(inputs.sigma, dtype=float)[c.used] * np.sqrt(_car_factor(inputs, c))
        stat[c.used] = c.car / se_u
        pval[c.used] = _p_t(stat[c.used], df)
        car[c.used] = c.car
        se[c.used] = se_u
        nn[c.used] = np.asarray(inputs.n_est)[c.used]
    return TestResult(
        name="t_prediction_error",
        stat=stat,
        pvalue=pval,
        n=nn,
        variant="exact CAR variance s_i^2 1'C_i1 (CLM 1997 sec. 4.4; Salinger 1992)",
        distribution=_fmt_df(df_all[c.used]) if c.used.size else "t(L_i - k)",
        df=np.where(nn > 0, df_all, np.nan),
        extra={"car": car, "se": se},
    )


_BLOCKING = ("overlapping", "nonoverlapping")


def sq(
    inputs: TestInputs,
    days: Sequence[int] | slice,
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
    if blocking not in _BLOCKING:
        raise SpecificationError(f"sq: blocking must be one of {list(_BLOCKING)}; got {blocking!r}")
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
# Multi-firm parametric tests
# --------------------------------------------------------------------------------------------


def cross_sectional_t(inputs: TestInputs, days: Sequence[int] | slice) -> TestResult:
    """Cross-sectional t test of the CAAR, formula (6).

    t = CAAR / (S / sqrt(N)), S the cross-sectional sd of CAR_i (divisor N - 1), t(N - 1).
    Brown & Warner (1985, JFE 14:3-31); Boehmer, Musumeci & Poulsen (1991, JFE 30(2):253-272),
    "ordinary cross-sectional" test. Robust to event-induced variance; assumes cross-sectional
    independence (over-rejects under event-date clustering, Kolari & Pynnonen 2010).
    """
    c = _car(inputs, days)
    n = _need(c, "cross_sectional_t", 2)
    caar = float(c.car.mean())
    t = caar / (_sd(c.car, "CARs") / math.sqrt(n))
    return TestResult(
        "cross_sectional_t",
        t,
        _fl(_p_t(t, n - 1)),
        n,
        "sd of CAR_i with divisor N - 1",
        f"t({n - 1})",
        float(n - 1),
        {"caar": caar},
    )


def _aar_series(inputs: TestInputs, c: _Car) -> np.ndarray:
    """Estimation-window AAR_s = mean over the used firms with data on day s (days with none dropped)."""

    def build() -> np.ndarray:
        s, cnt = _colsum(_used_rows(inputs, "resid", c))
        keep = cnt > 0
        return s[keep] / cnt[keep]

    return _memo(("aar", c.d.tobytes()), build)


def bw_cda(inputs: TestInputs, days: Sequence[int] | slice) -> TestResult:
    """Brown-Warner crude dependence adjustment ("CDA", portfolio time-series t), formula (7).

    t = CAAR / sqrt(L2 S^2(AAR)), S^2(AAR) the variance (divisor T_E - 1) of the estimation-window
    AAR series (mean residual over the used firms with data each day), t(T_E - 1), T_E = number
    of estimation days with at least one firm. Equals the sum of the daily statistics over
    sqrt(L2) (estudy2's ``car_brown_warner_1985``). Brown & Warner (1980, JFE 8:205-258;
    1985, JFE 14:3-31). Robust to cross-sectional correlation, not to event-induced variance.
    """
    c = _car(inputs, days)
    n = _need(c, "bw_cda", 1)
    aar = _aar_series(inputs, c)
    te = aar.size
    if te < 3:
        raise EstimationError(f"bw_cda needs at least 3 estimation days with data; got {te}")
    s2 = float(np.var(aar, ddof=1))
    if s2 <= 0:
        raise EstimationError("bw_cda: the estimation-window AAR series has zero variance")
    caar = float(c.car.mean())
    t = caar / math.sqrt(c.d.size * s2)
    return TestResult(
        "bw_cda",
        t,
        _fl(_p_t(t, te - 1)),
        n,
        "BW 1985 crude dependence adjustment, S(AAR) divisor T_E - 1",
        f"t({te - 1})",
        float(te - 1),
        {"caar": caar, "sd_aar": math.sqrt(s2)},
    )


def bw_1980(inputs: TestInputs, days: Sequence[int] | slice) -> TestResult:
    """Brown-Warner (1980) test with independent firm variances, formula (7b).

    As estudy2's ``brown_warner_1980``: t = CAAR / (sqrt(L2 sum_i s_i^2) / N), i.e. the AAR
    divided by the sd of an equally weighted mean of independent ARs, each with the firm's
    estimation-window variance s_i^2 (the caller's divisor; estudy2 uses L_i - 1). No
    prediction-error factor, as in estudy2. Referred to t(mean dof) (default mean(L_i - k)).
    Brown & Warner (1980, JFE 8:205-258). Assumes cross-sectional independence.
    """
    c = _car(inputs, days)
    n = _need(c, "bw_1980", 1)
    s2 = np.asarray(inputs.sigma, dtype=float)[c.used] ** 2
    caar = float(c.car.mean())
    t = caar / (math.sqrt(c.d.size * float(s2.sum())) / n)
    df = float(np.mean(_dof(inputs)[c.used]))
    return TestResult(
        "bw_1980",
        t,
        _fl(_p_t(t, df)),
        n,
        "AAR / (sqrt(L2 sum s_i^2)/N), as estudy2 brown_warner_1980",
        f"t({df:g})",
        df,
        {"caar": caar},
    )


def patell(
    inputs: TestInputs,
    days: Sequence[int] | slice,
    *,
    form: str = "exact",
    patell_k: int | None = None,
) -> TestResult:
    """Patell (1976) standardized-residual Z, formula (8).

    Patell, J.M. (1976), JAR 14(2):246-276; Dodd & Warner (1983, JFE 11:401-438) for windows.
    ``form="exact"`` (default): SCAR_i = CAR_i / (s_i sqrt(1'C_i1)) and
    Z = sum_i SCAR_i / sqrt(sum_i v_i). ``form="common"``: CSAR_i = sum_t SAR_it and
    Z = N^(-1/2) sum_i CSAR_i / sqrt(L2 v_i). v_i = (L_i - k)/(L_i - k - 2), the variance of a
    t(L_i - k) variable; ``patell_k`` overrides k (``patell_k=2`` is estudy2's and Stata estudy's
    (L - 2)/(L - 4) for every model). N(0,1). Assumes cross-sectional independence, no
    event-induced variance.
    """
    c = _car(inputs, days)
    n = _need(c, "patell", 1)
    v = _patell_var(inputs, c, patell_k)
    if form == "exact":
        z = float(_scar(inputs, c, "exact").sum() / math.sqrt(float(v.sum())))
    elif form == "common":
        csar = _sar_daily(inputs, c).sum(axis=1)
        z = float((csar / np.sqrt(c.d.size * v)).sum() / math.sqrt(n))
    else:
        raise SpecificationError(f"patell: form must be one of {list(_FORMS)}; got {form!r}")
    pk = inputs.k if patell_k is None else patell_k
    return TestResult(
        "patell",
        z,
        _fl(_p_norm(z)),
        n,
        f"{form} form, variance factor (L_i-{pk})/(L_i-{pk}-2)",
        "N(0,1)",
        None,
    )


def bmp(inputs: TestInputs, days: Sequence[int] | slice, *, form: str = "exact") -> TestResult:
    """Boehmer, Musumeci & Poulsen (1991) standardized cross-sectional t, formula (9).

    BMP (1991), "Event-study methodology under conditions of event-induced variance",
    JFE 30(2):253-272. t = mean(SCAR) / (S_SCAR / sqrt(N)), S_SCAR with divisor N - 1, t(N - 1);
    SCAR_i standardized with the prediction-error factor (``form`` as in :func:`patell`).
    Robust to event-induced variance; assumes cross-sectional independence.
    """
    c = _car(inputs, days)
    n = _need(c, "bmp", 2)
    scar = _scar(inputs, c, form)
    t = float(scar.mean() / (_sd(scar, "standardized CARs") / math.sqrt(n)))
    return TestResult(
        "bmp", t, _fl(_p_t(t, n - 1)), n, f"{form} standardization", f"t({n - 1})", float(n - 1)
    )


#: Rows of one block of the r-bar pair computation (small blocks keep its arrays in cache).
_PAIR_BLOCK_ROWS = 32
#: Share of missing residuals below which the missing-day indicator is a scipy.sparse matrix.
_SPARSE_MISSING = 0.05


def _pair_corr_total(x: np.ndarray, ok: np.ndarray) -> tuple[float, int]:
    """Sum and number of the pairwise-complete correlations between the rows of ``x`` over the
    pairs i < j with at least 3 common days (``ok`` True) and variation on them.

    With the rows zero-filled (X) and M the missing-day indicator (sparse when few days are
    missing), every pair sum follows from the Gram matrix and sparse corrections. Each row is
    first centred on its own mean (a correlation is shift invariant; better accuracy), so its
    sum is 0 and, over the days common to i and j: n_ij = L - |M_i| - |M_j| + (MM')_ij, the sum
    of x_i is -(XM')_ij, of x_i^2 is q_i - (X^2 M')_ij, of x_i x_j is (XX')_ij. The data are held
    once, transposed, as [X, X^2]' (L, 2N), which serves both the Gram blocks and the sparse
    products. The upper triangle is evaluated in blocks of rows (memory O(block x N) for any N),
    in preallocated buffers: fresh large temporaries cost page faults.
    """
    keep = ~np.isinf(x).any(axis=1)  # a row with +-inf has no finite correlation
    if not keep.all():
        x, ok = x[keep], ok[keep]
    n, L = x.shape
    cnt = ok.sum(axis=1)
    miss_t = ~ok.T
    xt2 = np.empty((L, 2 * n))
    xt = xt2[:, :n]  # X' zero-filled, each firm centred on its own mean (so its row sum is 0)
    np.copyto(xt, x.T)
    xt -= np.sum(xt, axis=0, where=~miss_t) / np.maximum(cnt, 1)
    xt[miss_t] = 0.0
    np.multiply(xt, xt, out=xt2[:, n:])
    q = xt2[:, n:].sum(axis=0)
    mi = (L - cnt).astype(float)
    n_miss = int(mi.sum())
    M: Any = None
    if n_miss:
        miss = ~ok
        if n_miss <= _SPARSE_MISSING * n * L:
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(L - cnt, out=indptr[1:])
            days, ones = np.nonzero(miss)[1], np.ones(n_miss)
            M = sparse.csr_array((ones, days, indptr), shape=(n, L))
            mm = (M @ M.T).tocsr()  # days missing for both firms: few nonzeros
            mm_rows = np.repeat(np.arange(n), np.diff(mm.indptr))
        else:
            M = miss.astype(float)
            mm = M @ M.T
    need_n3 = L - 2.0 * (mi.max() if n else 0.0) < 3  # some pair may share fewer than 3 days
    nb_max = min(n, _PAIR_BLOCK_ROWS)
    bufs = np.empty((5, nb_max * n))
    good_buf = np.empty(nb_max * n, dtype=bool)
    lower = np.tri(nb_max, dtype=bool)  # j <= i within a diagonal block: not a pair i < j
    total, count = 0.0, 0
    for a in range(0, n, _PAIR_BLOCK_ROWS):
        b = min(n, a + _PAIR_BLOCK_ROWS)
        nb, nj = b - a, n - a
        num, nij, di, dj, tmp = (v[: nb * nj].reshape(nb, nj) for v in bufs)
        good = good_buf[: nb * nj].reshape(nb, nj)
        np.matmul(xt[:, a:b].T, xt[:, a:], out=num)  # sum x_i x_j over all days
        np.copyto(di, q[a:b, None])
        np.copyto(dj, q[None, a:])
        if M is None:
            nij.fill(L)
            num *= L
            di *= L
            dj *= L
        else:
            # With the rows summing to 0, the sum of x_i over the days common with j is -P_ij,
            # P_ij = sum of x_i over j's missing days; likewise Q_ij for x_i^2.
            cols = np.r_[a:b, n + a : n + b]
            if sparse.issparse(M):
                e0, e1 = indptr[a], indptr[b]
                block = sparse.csr_array(
                    (ones[e0:e1], days[e0:e1], indptr[a : b + 1] - e0), shape=(nb, L)
                )
                p_i = block @ xt2  # (nb, 2n): P_ji, Q_ji (sums over i's missing days)
                p_j = (M @ xt2[:, cols])[a:]  # (nj, 2nb): P_ij, Q_ij (over j's missing days)
            else:
                p_i = M[a:b] @ xt2
                p_j = M[a:] @ xt2[:, cols]
            p_j = np.ascontiguousarray(p_j.T)  # one transposing copy: (2nb, nj)
            p_ji, q_ji = p_i[:, a:n], p_i[:, n + a :]
            p_ij, q_ij = p_j[:nb], p_j[nb:]
            # n_ij = L - |M_i| - |M_j| + |M_i M_j| (days missing for both added back)
            np.subtract(L - mi[a:b, None], mi[None, a:], out=nij)
            if sparse.issparse(mm):
                e0, e1 = mm.indptr[a], mm.indptr[b]
                both = mm.indices[e0:e1]
                upper = both >= a
                nij[mm_rows[e0:e1][upper] - a, both[upper] - a] += mm.data[e0:e1][upper]
            else:
                nij += mm[a:b, a:]
            num *= nij
            np.multiply(p_ij, p_ji, out=tmp)
            num -= tmp  # n sum x_i x_j - sum x_i sum x_j
            di -= q_ij
            di *= nij
            np.multiply(p_ij, p_ij, out=tmp)
            di -= tmp  # n sum x_i^2 - (sum x_i)^2
            dj -= q_ji
            dj *= nij
            np.multiply(p_ji, p_ji, out=tmp)
            dj -= tmp
        den = di
        den *= dj
        np.greater(den, 0.0, out=good)
        if need_n3:
            good &= nij >= 3
        good[:, :nb] &= ~lower[:nb, :nb]  # pairs j > i only
        np.copyto(den, 1.0, where=~good)
        np.sqrt(den, out=den)
        num /= den  # the correlations (garbage where not good)
        num *= good
        total += float(num.sum())
        count += int(np.count_nonzero(good))
    return total, count


_MAX_PATTERN_GROUPS = 12


def _row_groups(ok: np.ndarray) -> np.ndarray:
    """Group id per row such that rows with the same boolean pattern share an id (vectorized)."""
    n = ok.shape[0]
    if ok.all():
        return np.zeros(n, dtype=int)
    kb = np.packbits(ok, axis=1)
    pad = (-kb.shape[1]) % 8
    if pad:
        kb = np.concatenate([kb, np.zeros((n, pad), dtype=np.uint8)], axis=1)
    k64 = np.ascontiguousarray(kb).view(">u8")
    order = np.lexsort(k64.T[::-1])
    srt = k64[order]
    change = np.concatenate([[False], (srt[1:] != srt[:-1]).any(axis=1)])
    inv = np.empty(n, dtype=int)
    inv[order] = np.cumsum(change)
    return inv


def _unit_rows(v: np.ndarray) -> tuple[np.ndarray, int]:
    """Sum of the rows demeaned and scaled to unit length (rows without variation dropped)."""
    z = v - v.mean(axis=1, keepdims=True)
    norm = np.sqrt((z * z).sum(axis=1))
    good = norm > 0
    return (z[good] / norm[good, None]).sum(axis=0), int(good.sum())


def _rbar(inputs: TestInputs, c: _Car, name: str) -> float:
    """Mean pairwise correlation of estimation residuals over pairwise-complete days (KP 2010).

    Firms with complete residual rows are correlated in one block (np.corrcoef); only pairs that
    involve a firm with missing days use the pairwise-complete sums. Pairs with fewer than 3 common
    days or no variation are skipped.
    """
    n = c.used.size
    if n < 2:
        raise SpecificationError(
            f"{name} adjusts for cross-sectional correlation and needs at least 2 firms; "
            f"{n} firm has complete abnormal returns on days {c.d.tolist()}"
        )

    def build() -> float:
        r = _used_rows(inputs, "resid", c)
        ok = ~np.isnan(r)
        # Group firms by their pattern of available days. For two groups A, B every pair shares
        # the same common days S_AB; with z the rows demeaned and scaled to unit length over S_AB,
        # corr_ab = z_a . z_b, so the sum over the group pair is (sum_a z_a) . (sum_b z_b) (minus
        # the g diagonal terms, halved, within a group): O(G^2 N L1) without N x N matrices.
        inv = _row_groups(ok)
        n_groups = int(inv.max()) + 1
        if n_groups > _MAX_PATTERN_GROUPS:
            total, count = _pair_corr_total(r, ok)
        else:
            members = [np.flatnonzero(inv == g) for g in range(n_groups)]
            pattern = [ok[mb[0]] for mb in members]
            total, count = 0.0, 0
            for a in range(n_groups):
                for b in range(a, n_groups):
                    common = pattern[a] & pattern[b]
                    if common.sum() < 3:
                        continue
                    za, ga = _unit_rows(r[np.ix_(members[a], np.flatnonzero(common))])
                    if a == b:
                        if ga >= 2:
                            total += (float(za @ za) - ga) / 2.0
                            count += ga * (ga - 1) // 2
                        continue
                    zb, gb = _unit_rows(r[np.ix_(members[b], np.flatnonzero(common))])
                    if ga and gb:
                        total += float(za @ zb)
                        count += ga * gb
        if count == 0:
            raise EstimationError(
                f"{name}: no pair of firms shares at least 3 estimation days with variation, so r-bar is undefined"
            )
        return total / count

    return _memo(("rbar", c.d.tobytes()), build)


def kp_bmp(inputs: TestInputs, days: Sequence[int] | slice, *, form: str = "exact") -> TestResult:
    """Kolari-Pynnonen (2010) adjusted BMP, formula (10).

    Kolari, J.W. & Pynnonen, S. (2010), "Event study testing with cross-sectional correlation of
    abnormal returns", RFS 23(11):3996-4025, doi:10.1093/rfs/hhq072.
    t_adj = t_BMP sqrt((1 - rbar)/(1 + (N - 1) rbar)); rbar = mean pairwise correlation of the
    estimation residuals of the used firms over pairwise-complete days (pairs with < 3 common days
    skipped). The same daily rbar is applied to CAR statistics (as KP and Stata estudy). N(0,1).
    ``extra``: ``rbar``.
    """
    c = _car(inputs, days)
    rbar = _rbar(inputs, c, "kp_bmp")
    base = bmp(inputs, days, form=form)
    n = int(base.n)
    den = 1.0 + (n - 1) * rbar
    if den <= 0 or rbar >= 1:
        raise EstimationError(
            f"kp_bmp: 1 + (N - 1) rbar = {den:g} with rbar = {rbar:g}, N = {n}: adjustment undefined"
        )
    t = float(base.stat) * math.sqrt((1.0 - rbar) / den)
    return TestResult(
        "kp_bmp",
        t,
        _fl(_p_norm(t)),
        n,
        f"{form} standardization, rbar pairwise complete",
        "N(0,1)",
        None,
        {"rbar": rbar},
    )


def kp_patell(
    inputs: TestInputs,
    days: Sequence[int] | slice,
    *,
    form: str = "exact",
    patell_k: int | None = None,
) -> TestResult:
    """Kolari-Pynnonen (2010) adjusted Patell Z, formula (10): Z_adj = Z / sqrt(1 + (N - 1) rbar).

    KP (2010), RFS 23(11):3996-4025. rbar as in :func:`kp_bmp`. N(0,1). ``extra``: ``rbar``.
    """
    c = _car(inputs, days)
    rbar = _rbar(inputs, c, "kp_patell")
    base = patell(inputs, days, form=form, patell_k=patell_k)
    n = int(base.n)
    den = 1.0 + (n - 1) * rbar
    if den <= 0:
        raise EstimationError(
            f"kp_patell: 1 + (N - 1) rbar = {den:g} with rbar = {rbar:g}, N = {n}: adjustment undefined"
        )
    z = float(base.stat) / math.sqrt(den)
    return TestResult(
        "kp_patell",
        z,
        _fl(_p_norm(z)),
        n,
        base.variant + ", rbar pairwise complete",
        "N(0,1)",
        None,
        {"rbar": rbar},
    )


_CAR_FORMS = ("exact", "sum_daily")


def _common_market(m: np.ndarray | None, name: str) -> np.ndarray:
    if m is None:
        raise SpecificationError(f"lamb needs TestInputs.{name} (market returns); it is None")
    m = np.asarray(m, dtype=float)
    if m.ndim == 2:
        if not all(np.array_equal(m[0], row, equal_nan=True) for row in m[1:]):
            raise SpecificationError(
                f"lamb needs one market series shared by all firms (one event date); "
                f"TestInputs.{name} has rows that differ"
            )
        m = m[0]
    return m


def lamb(
    inputs: TestInputs,
    days: Sequence[int] | slice,
    *,
    car_form: str = "exact",
) -> TestResult:
    """Lamb (1995) portfolio test with the market-model prediction factor, formula (12).

    Lamb, R.P. (1995), "An exposure-based analysis of property-liability insurer stock values
    around Hurricane Andrew", J. Risk and Insurance 62(1):111-123.
    Daily: t_t = AAR_t / (S(AAR) sqrt(1 + 1/Lbar + (R_mt - Rbar_m)^2 / S_mm)), N(0,1), with S(AAR)
    as in :func:`bw_cda`, Lbar = mean L_i of the used firms, Rbar_m and S_mm over every non-missing
    market day of the estimation window (as estudy2). Needs one market series for all firms.
    Windows: ``car_form="exact"`` (default) uses CAAR / (S(AAR) sqrt(L2 + L2^2/Lbar +
    (sum_t (R_mt - Rbar_m))^2 / S_mm)), the exact portfolio CAR factor of formula (2);
    ``car_form="sum_daily"`` is estudy2's ``car_lamb``: sum of the daily t_t over sqrt(L2).
    """
    if car_form not in _CAR_FORMS:
        raise SpecificationError(
            f"lamb: car_form must be one of {list(_CAR_FORMS)}; got {car_form!r}"
        )
    c = _car(inputs, days)
    n = _need(c, "lamb", 1)
    me = _common_market(inputs.market_est, "market_est")
    mv = _common_market(inputs.market_evt, "market_evt")[c.d]
    if np.isnan(mv).any():
        raise EstimationError(
            f"lamb: the market return is missing on event-window day(s) {c.d[np.isnan(mv)].tolist()}"
        )
    me = me[~np.isnan(me)]
    if me.size < 3:
        raise EstimationError(
            f"lamb needs at least 3 market returns in the estimation window; got {me.size}"
        )
    mbar = float(me.mean())
    smm = float(((me - mbar) ** 2).sum())
    if smm <= 0:
        raise EstimationError(
            "lamb: the market return is constant over the estimation window (S_mm = 0)"
        )
    lbar = float(np.mean(np.asarray(inputs.n_est, dtype=float)[c.used]))
    aar = _aar_series(inputs, c)
    if aar.size < 3:
        raise EstimationError(f"lamb needs at least 3 estimation days with data; got {aar.size}")
    s = float(np.std(aar, ddof=1))
    if s <= 0:
        raise EstimationError("lamb: the estimation-window AAR series has zero variance")
    m = c.d.size
    ev = np.asarray(inputs.ar, dtype=float)[np.ix_(c.used, c.d)]
    if car_form == "sum_daily":
        daily = ev.mean(axis=0) / (s * np.sqrt(1 + 1 / lbar + (mv - mbar) ** 2 / smm))
        t = float(daily.sum() / math.sqrt(m))
        variant = "sum of daily Lamb statistics / sqrt(L2) (estudy2 car_lamb)"
    else:
        f = m + m * m / lbar + float((mv - mbar).sum()) ** 2 / smm
        t = float(c.car.mean() / (s * math.sqrt(f)))
        variant = "exact portfolio CAR factor L2 + L2^2/Lbar + (sum(R_m - Rbar_m))^2/S_mm"
    return TestResult(
        "lamb", t, _fl(_p_norm(t)), n, variant, "N(0,1)", None, {"sd_aar": s, "lbar": lbar}
    )


def skewness_corrected_t(inputs: TestInputs, days: Sequence[int] | slice) -> TestResult:
    """Skewness-corrected t (Hall's cubic transformation of the cross-sectional t), formula (11).

    S = CAAR/S_CAR, g = N sum (CAR_i - CAAR)^3 / ((N-1)(N-2) S_CAR^3) (adjusted sample skewness),
    t = sqrt(N) (S + g S^2/3 + g^2 S^3/27 + g/(6N)), N(0,1). Used by EventStudyTools and Eventus;
    Johnson (1978, JASA 73:536-544) without the cubic term. Hall, P. (1992), "On the removal of
    skewness by transformation", JRSS B 54(1):221-228. Assumes independence.
    """
    c = _car(inputs, days)
    n = _need(c, "skewness_corrected_t", 3)
    caar = float(c.car.mean())
    s_car = _sd(c.car, "CARs")
    s = caar / s_car
    g = n * float(((c.car - caar) ** 3).sum()) / ((n - 1) * (n - 2) * s_car**3)
    t = math.sqrt(n) * (s + g * s * s / 3 + g * g * s**3 / 27 + g / (6 * n))
    return TestResult(
        "skewness_corrected_t",
        t,
        _fl(_p_norm(t)),
        n,
        "Hall (1992) cubic transformation incl. g^2 S^3/27",
        "N(0,1)",
        None,
        {"skewness": g},
    )


# --------------------------------------------------------------------------------------------
# Multi-firm nonparametric tests
# --------------------------------------------------------------------------------------------


def _p_binomial_half(k: int, n: int) -> float:
    """Exact two-sided p-value of k successes in n Binomial(n, 1/2) trials: twice the smaller
    tail, capped at 1 (what ``scipy.stats.binomtest(k, n, 0.5)`` returns, since the distribution
    is symmetric), from the regularized incomplete beta function (``special.bdtr``/``bdtrc``)
    without binomtest's per-call overhead."""
    lower = float(special.bdtr(k, n, 0.5))
    upper = float(special.bdtrc(k - 1, n, 0.5)) if k > 0 else 1.0
    return min(1.0, 2.0 * min(lower, upper))


def sign(inputs: TestInputs, days: Sequence[int] | slice) -> TestResult:
    """Sign test, formula (13): Z = (N+ - N/2)/(sqrt(N)/2), N+ = #{CAR_i > 0} (zero counts as not
    positive, as estudy2). N(0,1); ``extra`` also holds the exact two-sided Binomial(N, 1/2) p-value
    ``p_binomial``. Assumes independence and a zero median. (Cowan 1992, Rev. Quant. Fin. Acc.
    2:343-358, for the event-study use.)
    """
    c = _car(inputs, days)
    n = _need(c, "sign", 1)
    npos = int((c.car > 0).sum())
    z = (npos - 0.5 * n) / (0.5 * math.sqrt(n))
    pb = _p_binomial_half(npos, n)
    return TestResult(
        "sign",
        z,
        _fl(_p_norm(z)),
        n,
        "CAR_i > 0 vs 1/2",
        "N(0,1)",
        None,
        {"n_pos": float(npos), "p_binomial": pb},
    )


_PHAT = ("per_firm", "pooled")


def generalized_sign(
    inputs: TestInputs, days: Sequence[int] | slice, *, p_hat: str = "per_firm"
) -> TestResult:
    """Cowan (1992) generalized sign test, formula (14).

    Cowan, A.R. (1992), "Nonparametric event study tests", Rev. Quant. Fin. Acc. 2:343-358,
    doi:10.1007/BF00939016. Z = (N+ - N p) / sqrt(N p (1 - p)), N+ = #{CAR_i > 0}; p is the
    DAILY share of positive estimation residuals of the used firms: ``p_hat="per_firm"`` (default)
    averages the firms' shares, ``"pooled"`` pools all firm-days (estudy2). N(0,1).
    ``extra``: ``p_hat``, ``n_pos``.
    """
    if p_hat not in _PHAT:
        raise SpecificationError(
            f"generalized_sign: p_hat must be one of {list(_PHAT)}; got {p_hat!r}"
        )
    c = _car(inputs, days)
    n = _need(c, "generalized_sign", 1)
    r = _used_rows(inputs, "resid", c)
    pos = (r > 0).sum(axis=1)
    cnt = (~np.isnan(r)).sum(axis=1)
    bad = np.flatnonzero(cnt == 0)
    if bad.size:
        raise EstimationError(f"generalized_sign: no estimation residuals for {_rows(c.used[bad])}")
    p = float(np.mean(pos / cnt)) if p_hat == "per_firm" else float(pos.sum() / cnt.sum())
    if not 0 < p < 1:
        raise EstimationError(
            f"generalized_sign: the share of positive estimation residuals is {p:g}; test undefined"
        )
    npos = int((c.car > 0).sum())
    z = (npos - n * p) / math.sqrt(n * p * (1 - p))
    return TestResult(
        "generalized_sign",
        z,
        _fl(_p_norm(z)),
        n,
        f"p-hat {p_hat}",
        "N(0,1)",
        None,
        {"p_hat": p, "n_pos": float(npos)},
    )


@dataclass(frozen=True)
class _EwRanks:
    """Per-column sums of the within-firm ranks over E and the whole event window (one sort per
    run_tests call, shared by the Corrado, Corrado-Zivney rank and sign tests); the rank matrix
    itself is not kept."""

    t_i: np.ndarray  # non-missing days per firm
    n_t: np.ndarray  # firms with data per column
    k_sum: np.ndarray  # sum over the firms with data of K_it
    kw_sum: np.ndarray  # sum of K_it / (T_i + 1)
    kbar_sum: np.ndarray  # sum of Kbar_i = (T_i + 1)/2
    median: np.ndarray  # per firm, over its non-missing days


def _ew_ranks(inputs: TestInputs, c: _Car) -> _EwRanks:
    """K_it, the rank of AR_it among firm i's non-missing days of E and the whole event window,
    summed per column (the used firms only), and each firm's median over the same days."""

    def build() -> _EwRanks:
        resid = _used_rows(inputs, "resid", c)
        k, t_i, med = _rank_rows((resid, _used_rows(inputs, "ar", c)), medians=True, fill=0.0)
        kbar = (t_i + 1) / 2.0
        miss_r, miss_c = np.nonzero(k == 0.0)  # ranks are >= 1 where there is data
        n_t = k.shape[0] - np.bincount(miss_c, minlength=k.shape[1])
        kbar_sum = kbar.sum() - np.bincount(miss_c, weights=kbar[miss_r], minlength=k.shape[1])
        return _EwRanks(
            t_i=t_i,
            n_t=n_t,
            k_sum=k.sum(axis=0),
            kw_sum=k.T @ (1.0 / (t_i + 1.0)),
            kbar_sum=kbar_sum,
            median=med,
        )

    return _memo(("ew_ranks", c.d.tobytes()), build)


_CENTRES = ("firm", "pooled")


def corrado_rank(
    inputs: TestInputs, days: Sequence[int] | slice, *, rank_centre: str = "firm"
) -> TestResult:
    """Corrado (1989) rank test; Campbell & Wasley (1993) cumulation for windows, formula (15).

    Corrado, C.J. (1989), JFE 23:385-395, doi:10.1016/0304-405X(89)90064-0. Campbell, C.J. &
    Wasley, C.E. (1993), JFE 33(1):73-92, doi:10.1016/0304-405X(93)90025-7.
    K_it = rank of AR_it among firm i's T_i non-missing days of E and the WHOLE event window
    (average ranks for ties). D_t = (1/N_t) sum_i (K_it - Kbar_i), Kbar_i = (T_i + 1)/2, N_t = firms
    with data on day t; S_K^2 = (1/T) sum_t D_t^2 over all days of E and W, T = mean T_i (estudy2's
    missing-data adaptation). Statistic: sum_{t in days} D_t / (sqrt(L2) S_K) (one day: D_0/S_K).
    N(0,1). ``rank_centre="pooled"`` centres every rank on the mean of the Kbar_i instead
    (reproduces estudy2's ``car_rank_test``; differs only when T_i differ). Unlike estudy2's daily
    ``rank_test``, the day means are NOT rescaled by N/N_t on days with missing firms.
    """
    if rank_centre not in _CENTRES:
        raise SpecificationError(
            f"corrado_rank: rank_centre must be one of {list(_CENTRES)}; got {rank_centre!r}"
        )
    c = _car(inputs, days)
    n = _need(c, "corrado_rank", 1)
    er = _ew_ranks(inputs, c)
    t_i, cnt = er.t_i, er.n_t
    if rank_centre == "firm":  # sum over firms with data of K_it - Kbar_i
        s = er.k_sum - er.kbar_sum
    else:
        s = er.k_sum - float(((t_i + 1) / 2.0).mean()) * cnt
    has = cnt > 0
    dbar = np.zeros_like(s)
    dbar[has] = s[has] / cnt[has]
    tbar = float(t_i.mean())
    sk = math.sqrt(float((dbar**2).sum()) / tbar)
    if sk <= 0:
        raise EstimationError("corrado_rank: the rank dispersion S_K is 0")
    l1 = np.asarray(inputs.resid).shape[1]
    z = float(dbar[l1 + c.d].sum() / (math.sqrt(c.d.size) * sk))
    return TestResult(
        "corrado_rank",
        z,
        _fl(_p_norm(z)),
        n,
        f"Corrado 1989 / Campbell-Wasley 1993, centre {rank_centre}, T = mean T_i",
        "N(0,1)",
        None,
        {"s_k": sk},
    )


def _cz_statistic(
    inputs: TestInputs, c: _Car, s: np.ndarray, cnt: np.ndarray, t_i: np.ndarray, what: str
) -> tuple[float, float]:
    """Corrado-Zivney statistic from per-day column sums ``s`` over ``cnt`` firms: W_t = s_t /
    sqrt(N_t), dispersion sqrt(sum_t W_t^2 / mean T_i), statistic sum_{t in days} W_t /
    (sqrt(L2) dispersion). Returns (statistic, dispersion)."""
    w = np.zeros_like(s)
    has = cnt > 0
    w[has] = s[has] / np.sqrt(cnt[has])
    disp = math.sqrt(float((w**2).sum()) / float(t_i.mean()))
    if disp <= 0:
        raise EstimationError(f"{what} is 0")
    l1 = np.asarray(inputs.resid).shape[1]
    return float(w[l1 + c.d].sum() / (math.sqrt(c.d.size) * disp)), disp


def corrado_zivney_rank(inputs: TestInputs, days: Sequence[int] | slice) -> TestResult:
    """Corrado & Zivney (1992) standardized rank test, formula (16).

    Corrado, C.J. & Zivney, T.L. (1992), JFQA 27(3):465-478, doi:10.2307/2331331.
    U_it = K_it/(T_i + 1) over firm i's non-missing days of E and the whole event window;
    V_t = sum_i (U_it - 1/2)/sqrt(N_t); S_U^2 = (1/T) sum_t V_t^2 (T = mean T_i);
    statistic sum_{t in days} V_t / (sqrt(L2) S_U) (Campbell-Wasley-style cumulation for windows).
    N(0,1). estudy2's ``modified_rank_test`` additionally rescales V_t by N/N_t (not done here).
    """
    c = _car(inputs, days)
    n = _need(c, "corrado_zivney_rank", 1)
    er = _ew_ranks(inputs, c)
    z, su = _cz_statistic(
        inputs,
        c,
        er.kw_sum - 0.5 * er.n_t,  # sum over firms with data of U_it - 1/2
        er.n_t,
        er.t_i,
        "corrado_zivney_rank: the rank dispersion S_U",
    )
    return TestResult(
        "corrado_zivney_rank",
        z,
        _fl(_p_norm(z)),
        n,
        "U = K/(T_i+1), sums over sqrt(N_t), T = mean T_i",
        "N(0,1)",
        None,
        {"s_u": su},
    )


def corrado_zivney_sign(inputs: TestInputs, days: Sequence[int] | slice) -> TestResult:
    """Corrado & Zivney (1992) sign test, formula (16).

    Corrado & Zivney (1992), JFQA 27(3):465-478. G_it = sign(AR_it - median_i), the median over
    firm i's non-missing days of E and the whole event window; W_t = sum_i G_it / sqrt(N_t);
    S_G^2 = (1/T) sum_t W_t^2 (T = mean T_i); statistic sum_{t in days} W_t / (sqrt(L2) S_G).
    N(0,1). estudy2's ``corrado_sign_test`` additionally rescales W_t by N/N_t (not done here).
    """
    c = _car(inputs, days)
    n = _need(c, "corrado_zivney_sign", 1)
    er = _ew_ranks(inputs, c)  # the medians come from the sort behind the Corrado ranks
    med = er.median[:, None]
    sums = []
    for part in (_used_rows(inputs, "resid", c), _used_rows(inputs, "ar", c)):
        g = np.subtract(part, med)
        np.sign(g, out=g)  # NaN stays NaN: not summed
        sums.append(np.sum(g, axis=0, where=~np.isnan(g)))
    z, sg = _cz_statistic(
        inputs,
        c,
        np.concatenate(sums),
        er.n_t,
        er.t_i,
        "corrado_zivney_sign: the sign dispersion S_G",
    )
    return TestResult(
        "corrado_zivney_sign",
        z,
        _fl(_p_norm(z)),
        n,
        "G = sign(AR - median over E and W), T = mean T_i",
        "N(0,1)",
        None,
        {"s_g": sg},
    )


def wilcoxon(inputs: TestInputs, days: Sequence[int] | slice) -> TestResult:
    """Wilcoxon signed-rank test of the CAR_i, formula (17).

    Wilcoxon, F. (1945), Biometrics Bulletin 1(6):80-83. Zero CARs are dropped (n' = nonzero);
    W+ = sum of the average ranks of |CAR_i| over CAR_i > 0 (``extra["w_plus"]``). ``stat`` is the
    normal score (W+ - n'(n'+1)/4)/sqrt(n'(n'+1)(2n'+1)/24) (no tie correction); ``pvalue`` comes
    from ``scipy.stats.wilcoxon``: exact signed-rank distribution when n' <= 50 and no |CAR| ties,
    otherwise its tie-corrected normal approximation. Assumes symmetry and independence.
    """
    c = _car(inputs, days)
    _need(c, "wilcoxon", 1)
    x = c.car[c.car != 0]
    nz = x.size
    if nz == 0:
        raise EstimationError("wilcoxon: every CAR is exactly 0, so there is nothing to rank")
    ax = np.abs(x)
    r, _ = _rank_rows(ax[None, :])
    wplus = float(r[0][x > 0].sum())
    mean_w = nz * (nz + 1) / 4
    var_w = nz * (nz + 1) * (2 * nz + 1) / 24
    z = (wplus - mean_w) / math.sqrt(var_w)
    t = np.unique(ax, return_counts=True)[1]
    ties = t.size < nz
    method = "exact" if (nz <= 50 and not ties) else "asymptotic"
    if method == "exact":
        p = float(stats.wilcoxon(x, zero_method="wilcox", method=method).pvalue)
    else:  # scipy.stats.wilcoxon's tie-corrected normal approximation (no continuity correction)
        se = math.sqrt(var_w - float((t.astype(float) ** 3 - t).sum()) / 48)
        p = _fl(_p_norm((wplus - mean_w) / se)) if se > 0 else 1.0
    dist = f"exact signed-rank (n={nz})" if method == "exact" else "N(0,1) approx., tie-corrected"
    return TestResult(
        "wilcoxon",
        z,
        p,
        int(c.used.size),
        "signed ranks of CAR_i, zeros dropped",
        dist,
        None,
        {"w_plus": wplus, "n_nonzero": float(nz)},
    )


_CONSTANTS = ("kp2011", "stata")


@dataclass(frozen=True)
class _GrankRanks:
    """Per-column sums of the GRANK ranks (estimation days + the CAR point), computed once per
    run_tests call; the rank matrix itself is not kept."""

    t_i: np.ndarray  # points with data per firm
    n_t: np.ndarray  # firms with data per column
    u_sum: dict[str, np.ndarray]  # per constants variant: sum over firms with data of K/T_i*
    k_event: np.ndarray  # rank of the CAR point per firm (NaN if missing)


def _grank_ranks(inputs: TestInputs, c: _Car) -> _GrankRanks:
    """Ranks of the generalized SAR series (estimation days + 1 CAR point) per firm."""

    def build() -> _GrankRanks:
        sigma = np.asarray(inputs.sigma, dtype=float)[c.used]
        scar = c.car / (sigma * np.sqrt(_car_factor(inputs, c)))
        scar_star = scar / _sd(scar, "standardized CARs")
        resid = _used_rows(inputs, "resid", c)
        gs = np.empty((resid.shape[0], resid.shape[1] + 1))
        np.divide(resid, sigma[:, None], out=gs[:, :-1])
        gs[:, -1] = scar_star
        k, t_i = _rank_rows(gs, fill=0.0)
        del gs
        n_t = np.count_nonzero(k, axis=0)  # ranks are >= 1 where there is data
        tf = t_i.astype(float)
        stata = np.divide(1.0, tf, out=np.zeros_like(tf), where=t_i > 0)
        return _GrankRanks(
            t_i=t_i,
            n_t=n_t,
            u_sum={"kp2011": k.T @ (1.0 / (tf + 1.0)), "stata": k.T @ stata},
            k_event=np.where(k[:, -1] > 0, k[:, -1], np.nan),
        )

    return _memo(("grank_ranks", c.d.tobytes()), build)


def grank(
    inputs: TestInputs, days: Sequence[int] | slice, *, constants: str = "kp2011"
) -> TestResult:
    """Kolari & Pynnonen (2011) generalized rank test GRANK-T, formula (18).

    Kolari, J.W. & Pynnonen, S. (2011), "Nonparametric rank tests for event studies", J. Empirical
    Finance 18(5):953-971 (SSRN 1254022). SAR_it = AR_it/s_i on estimation days; SCAR_i =
    CAR_i/(s_i sqrt(1'C_i1)) re-standardized (not demeaned) by its cross-sectional sd; the CAR
    window is one cumulated point. U_it = rank/(T_i + 1) - 1/2 over T_i = L_i + 1 points;
    Ubar_t = mean over the N_t firms with data; S^2 = (1/T) sum_t (N_t/N) Ubar_t^2 over all
    T = L1 + 1 points (columns with data) incl. the event point; Z = Ubar_0/S;
    t = Z sqrt((T - 2)/(T - 1 - Z^2)), t(T - 2). ``constants="stata"`` uses Stata estudy's
    rank/T_i, S^2 divided by L1 = T - 1 and L1 in the t transform and df.
    Robust to event-induced volatility and cross-correlation. ``extra``: ``z``.
    """
    if constants not in _CONSTANTS:
        raise SpecificationError(
            f"grank: constants must be one of {list(_CONSTANTS)}; got {constants!r}"
        )
    c = _car(inputs, days)
    n = _need(c, "grank", 2)
    gr = _grank_ranks(inputs, c)
    cnt = gr.n_t
    s = gr.u_sum[constants] - 0.5 * cnt  # sums of the centred standardized ranks U_it
    has = cnt > 0
    ubar = s[has] / cnt[has]
    nt = cnt[has]
    big_t = int(has.sum())
    tt = big_t if constants == "kp2011" else big_t - 1
    if tt < 3:
        raise EstimationError(f"grank needs at least 3 estimation days with data; got {big_t - 1}")
    s2 = float(((nt / n) * ubar**2).sum()) / tt
    if s2 <= 0:
        raise EstimationError("grank: the rank dispersion is 0")
    z = float(ubar[-1] / math.sqrt(s2))
    den = tt - 1 - z * z
    if den <= 0:
        stat, p = math.copysign(math.inf, z), 0.0
    else:
        stat = z * math.sqrt((tt - 2) / den)
        p = _fl(_p_t(stat, tt - 2))
    return TestResult(
        "grank",
        stat,
        p,
        n,
        f"GRANK-T, {constants} constants",
        f"t({tt - 2})",
        float(tt - 2),
        {"z": z},
    )


def grank_z(inputs: TestInputs, days: Sequence[int] | slice) -> TestResult:
    """Kolari & Pynnonen (2011) GRANK-Z ("Generalized Rank Z" of EventStudyTools), formula (18).

    Same ranks as :func:`grank` (KP constants); Z = Ubar_0 / sqrt(sum_i (T_i - 1)/(T_i + 1) / (12 N^2)),
    the exact null sd of Ubar_0 under cross-sectional independence. N(0,1). Not robust to
    clustering: use GRANK-T for a peer group on one date.
    """
    c = _car(inputs, days)
    n = _need(c, "grank_z", 2)
    gr = _grank_ranks(inputs, c)
    t_i = gr.t_i
    u0 = float((gr.k_event / (t_i + 1.0) - 0.5).mean())
    var = float(((t_i - 1.0) / (t_i + 1.0)).sum()) / (12.0 * n * n)
    z = u0 / math.sqrt(var)
    return TestResult("grank_z", z, _fl(_p_norm(z)), n, "GRANK-Z, KP constants", "N(0,1)", None)


# --------------------------------------------------------------------------------------------
# Registries
# --------------------------------------------------------------------------------------------

SINGLE_FIRM_TESTS: dict[str, Callable[..., TestResult]] = {
    "t_prediction_error": t_prediction_error,
    "sq": sq,
}

MULTI_FIRM_TESTS: dict[str, Callable[..., TestResult]] = {
    "cross_sectional_t": cross_sectional_t,
    "bw_cda": bw_cda,
    "bw_1980": bw_1980,
    "patell": patell,
    "bmp": bmp,
    "kp_bmp": kp_bmp,
    "kp_patell": kp_patell,
    "lamb": lamb,
    "skewness_corrected_t": skewness_corrected_t,
    "sign": sign,
    "generalized_sign": generalized_sign,
    "corrado_rank": corrado_rank,
    "corrado_zivney_rank": corrado_zivney_rank,
    "corrado_zivney_sign": corrado_zivney_sign,
    "wilcoxon": wilcoxon,
    "grank": grank,
    "grank_z": grank_z,
}

#: Multi-firm tests whose null distribution assumes cross-sectionally independent ARs: their
#: size is wrong when event dates cluster (a peer group on one date). The time-series based
#: tests (bw_cda, lamb, the Corrado/Corrado-Zivney tests with their day-mean dispersion, grank)
#: and the KP-adjusted tests are not in it.
INDEPENDENCE_ASSUMED: frozenset[str] = frozenset(
    {
        "cross_sectional_t",
        "bw_1980",
        "patell",
        "bmp",
        "skewness_corrected_t",
        "sign",
        "generalized_sign",
        "wilcoxon",
        "grank_z",
    }
)

#: Minimum number of firms (with a complete CAR) each multi-firm test needs.
MIN_FIRMS: dict[str, int] = {name: 1 for name in MULTI_FIRM_TESTS} | {
    "cross_sectional_t": 2,
    "bmp": 2,
    "kp_bmp": 2,
    "kp_patell": 2,
    "grank": 2,
    "grank_z": 2,
    "skewness_corrected_t": 3,
}


def _all_tests() -> dict[str, Callable[..., TestResult]]:
    return {**SINGLE_FIRM_TESTS, **MULTI_FIRM_TESTS}


def get_test(name: str) -> Callable[..., TestResult]:
    """The test function registered under ``name`` (lower snake case)."""
    tests = _all_tests()
    if name not in tests:
        raise SpecificationError(f"unknown test {name!r}; valid names: {', '.join(sorted(tests))}")
    return tests[name]


@functools.cache
def _options_of(fn: Callable[..., TestResult]) -> frozenset[str]:
    return frozenset(
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    )


def run_tests(
    inputs: TestInputs,
    days: Sequence[int] | slice,
    names: Sequence[str] | None = None,
    **options: object,
) -> list[TestResult]:
    """Run several tests on the same inputs and window, in registry order (or the order of ``names``).

    ``options`` are routed to the tests that accept them (e.g. ``form``, ``patell_k``,
    ``p_hat``, ``blocking``, ``constants``, ``car_form``, ``rank_centre``); an option that no
    selected test accepts is a SpecificationError. With ``names=None`` every single-firm test runs,
    plus every multi-firm test whose minimum firm count (:data:`MIN_FIRMS`) is met by the firms
    with a complete CAR; ``lamb`` runs only when market returns are given.
    """
    tests = _all_tests()
    token = _RUN_CACHE.set({})
    try:
        return _run(inputs, days, names, options, tests)
    finally:
        _RUN_CACHE.reset(token)


def _run(
    inputs: TestInputs,
    days: Sequence[int] | slice,
    names: Sequence[str] | None,
    options: dict[str, object],
    tests: dict[str, Callable[..., TestResult]],
) -> list[TestResult]:
    if names is None:
        c = _car(inputs, days)
        chosen = list(SINGLE_FIRM_TESTS)
        for nm in MULTI_FIRM_TESTS:
            if c.used.size < MIN_FIRMS[nm]:
                continue
            if nm == "lamb" and (inputs.market_est is None or inputs.market_evt is None):
                continue
            chosen.append(nm)
    else:
        if isinstance(names, str):
            names = [names]
        chosen = list(names)
        for nm in chosen:
            get_test(nm)
    accepted = {nm: _options_of(tests[nm]) for nm in chosen}
    known = set().union(*accepted.values()) if accepted else set()
    unknown = sorted(set(options) - known)
    if unknown:
        raise SpecificationError(
            f"option(s) {unknown} are not accepted by any of the tests {chosen}; "
            f"accepted options: {sorted(known) or 'none'}"
        )
    return [
        tests[nm](inputs, days, **{k: v for k, v in options.items() if k in accepted[nm]})
        for nm in chosen
    ]
