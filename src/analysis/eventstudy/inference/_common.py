"""Shared building blocks of the statistics: input checks, the CAR of each firm, its exact variance factor, standardizations and p-values."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from analysis.errors import EstimationError, SpecificationError
from analysis.eventstudy.inference.results import TestInputs, TestResult

#: Event-window columns of a test: a slice, a sequence of ints or an integer array.
Days = Sequence[int] | slice | np.ndarray

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


def _days(days: Days, l2: int) -> np.ndarray:
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


def _car(x: TestInputs, days: Days) -> _Car:
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


def _factor_sum(x: TestInputs, d: np.ndarray) -> np.ndarray:
    """1' C_i[d, d] 1 for every firm (no copy of the factors on the whole window)."""
    cov = np.asarray(x.cov, dtype=float)
    if d.size == cov.shape[1]:
        return np.ascontiguousarray(cov).sum(axis=(1, 2))
    return cov[np.ix_(np.arange(cov.shape[0]), d, d)].sum(axis=(1, 2))


def _car_factor_all(x: TestInputs, c: _Car) -> np.ndarray:
    """1' C_i[days, days] 1 for EVERY firm (complete CAR or not), formula (2); not checked."""
    return _memo(("car_factor", c.d.tobytes()), lambda: _factor_sum(x, c.d))


def _car_factor(x: TestInputs, c: _Car) -> np.ndarray:
    """1' C_i[days, days] 1 for each used firm: the exact CAR variance factor, formula (2)."""
    f = _car_factor_all(x, c)
    if c.used.size < f.size:
        f = f[c.used]
    bad = np.flatnonzero(~np.isfinite(f) | (f <= 0))
    if bad.size:
        raise EstimationError(
            "the CAR variance factor 1'C_i1 must be finite and > 0; "
            f"{_rows(c.used[bad], f[bad])} on event-window days {c.d.tolist()}"
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


def _choice(value: object, choices: tuple[str, ...], what: str) -> None:
    """A SpecificationError unless ``value`` is one of ``choices`` (``what`` names the option)."""
    if value not in choices:
        raise SpecificationError(f"{what} must be one of {list(choices)}; got {value!r}")


def _scar(x: TestInputs, c: _Car, form: str) -> np.ndarray:
    """Standardized CARs of the used firms.

    ``exact``: CAR_i / (s_i sqrt(1'C_i1)), formula (2) -- CLM 1997 sec. 4.4.
    ``common``: sum_t SAR_it / sqrt(L2) -- the "cumulated standardized AR" of EventStudyTools.
    Both equal SAR_i0 on a one-day window.
    """
    _choice(form, _FORMS, "form")
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


def _normal_result(
    name: str, z: float, n: int, variant: str, extra: dict[str, float] | None = None
) -> TestResult:
    """The result of a test whose statistic ``z`` is referred to N(0,1) (two-sided p)."""
    return TestResult(name, z, _fl(_p_norm(z)), n, variant, "N(0,1)", None, extra or {})


def _t_result(
    name: str, t: float, df: float, n: int, variant: str, extra: dict[str, float] | None = None
) -> TestResult:
    """The result of a test whose statistic ``t`` is referred to t(df) (two-sided p)."""
    return TestResult(name, t, _fl(_p_t(t, df)), n, variant, f"t({df:g})", float(df), extra or {})


def _fl(v: np.ndarray | float | np.floating) -> float:
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
