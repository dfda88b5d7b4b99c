"""Private machinery of the power simulations: the simulated design (``_Scenario``), the
rejection counts on common random numbers (``_Simulation``) and the scenarios built from a
simulated design or a fitted study. The public functions and results are in
:mod:`analysis.eventstudy.power`; formula (29), docs/formulas.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.data import calendar
from analysis.errors import EstimationError, SpecificationError
from analysis.eventstudy import inference, models
from analysis.eventstudy.design import Window, as_window, check_alpha
from analysis.eventstudy.models import MIN_ESTIMATION_DEFAULT, FitArrays, ModelSpec, make_spec

if TYPE_CHECKING:
    from analysis.eventstudy.results import EventStudyResults

#: Residual standard deviation of :func:`power` when neither ``sigma`` nor ``residuals`` is given.
DEFAULT_SIGMA = 0.02
#: Daily standard deviation of the market path :func:`power` draws when none is given.
MARKET_SD = 0.01
#: Models :func:`power` simulates (``constant_mean`` and ``market_adjusted``: pure residuals).
POWER_MODELS: tuple[str, ...] = ("market_model", "constant_mean", "market_adjusted")
_CHUNK_VALUES = 1_000_000  # simulated returns per chunk (8 MB)
_CACHE_VALUES = 5_000_000  # designs up to this size keep their fits for the MDE search
_Chunk = tuple[FitArrays, np.ndarray, np.ndarray]  # fit, estimation and event returns (no effect)


@dataclass(frozen=True)
class _Scenario:
    """What a simulation needs: regressors, CAR days, missing days and the disturbance law."""

    n_firms: int
    spec: ModelSpec
    convention: str
    x_est: np.ndarray  # (L1, k) shared by every firm, or (N, L1, k)
    x_evt: np.ndarray  # (L2, k) or (N, L2, k)
    market: tuple[np.ndarray, np.ndarray] | None  # estimation and event market returns (Lamb)
    window: Window
    car_window: Window
    missing: np.ndarray | None  # (N, L1) estimation days without a return
    sigma: np.ndarray  # (N,) sd of normal disturbances (no pool)
    pool: np.ndarray | None  # (days, N): days drawn jointly; (days, 1): drawn per firm
    shared_date: bool
    min_estimation: int
    design: str
    block: int = 1  # days per resampled block (1: days drawn independently)

    @property
    def l1(self) -> int:
        return int(self.x_est.shape[-2])

    @property
    def l2(self) -> int:
        return int(self.x_evt.shape[-2])

    @property
    def days(self) -> np.ndarray:
        """Event-window columns of the CAR."""
        return np.arange(self.car_window[0], self.car_window[1] + 1) - self.window[0]

    @property
    def sd(self) -> float:
        """Root mean square over the firms of the disturbances' standard deviation."""
        return float(np.sqrt(np.mean((self.sigma if self.pool is None else self.pool) ** 2)))

    @property
    def residuals(self) -> str:
        if self.pool is None:
            return "iid normal"
        how = "whole days, firms jointly" if self.pool.shape[1] == self.n_firms else "per firm"
        blocks = "" if self.block == 1 else f", circular blocks of {self.block} days"
        return f"bootstrap of {self.pool.shape[0]} residual days ({how}{blocks})"

    def _draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Pool rows for ``shape`` = (..., L1 + L2) days: independent days, or consecutive runs of
        ``block`` days from uniform starts, wrapping at the end (Politis & Romano 1992)."""
        assert self.pool is not None
        days, length = len(self.pool), shape[-1]
        if self.block == 1:
            return rng.integers(0, days, shape)
        k = -(-length // self.block)
        starts = rng.integers(0, days, (*shape[:-1], k))
        rows = (starts[..., None] + np.arange(self.block)) % days
        return rows.reshape(*shape[:-1], k * self.block)[..., :length]

    def noise(self, rng: np.random.Generator, c: int) -> np.ndarray:
        """Disturbances of ``c`` simulations, (c, N, L1 + L2)."""
        n, length = self.n_firms, self.l1 + self.l2
        if self.pool is None:
            return rng.standard_normal((c, n, length)) * self.sigma[None, :, None]
        if self.pool.shape[1] == n:
            return np.swapaxes(self.pool[self._draw(rng, (c, length))], 1, 2)
        return self.pool[self._draw(rng, (c, n, length)), 0]

    def fit(self, e: np.ndarray) -> tuple[FitArrays, np.ndarray, np.ndarray]:
        """The fit to disturbances ``e`` (c, N, L) (rows simulation-major) and the returns."""
        rows = e.shape[0] * self.n_firms
        y = e.reshape(rows, self.l1 + self.l2)
        y_est, y_evt = y[:, : self.l1], y[:, self.l1 :]
        if self.missing is not None:
            y_est = np.where(np.tile(self.missing, (e.shape[0], 1)), np.nan, y_est)
        xs = [_tile(x, e.shape[0], rows) for x in (self.x_est, self.x_evt)]
        f = models.fit_arrays(
            y_est, xs[0], y_evt, xs[1], spec=self.spec, convention=self.convention,
            min_estimation=self.min_estimation,
        )  # fmt: skip
        return f, y_est, y_evt


def _tile(x: np.ndarray, c: int, rows: int) -> np.ndarray:
    """Regressors for every row: a broadcast view when shared, else a copy per simulation."""
    if x.ndim == 2:
        return np.broadcast_to(x, (rows, *x.shape))
    return np.broadcast_to(x[None], (c, *x.shape)).reshape(rows, *x.shape[1:])


class _Simulation:
    """Rejection counts of ``names`` for any effect, on the same draws (common random numbers)."""

    def __init__(
        self, sc: _Scenario, names: Sequence[str], options: Mapping[str, Any], alpha: float,
        n_sims: int, seed: int,
    ):  # fmt: skip
        self.sc, self.names, self.alpha, self.n_sims, self.seed = sc, [*names], alpha, n_sims, seed
        self.dummy = [n for n in self.names if n in inference.DUMMY_TESTS]
        self.registry = [n for n in self.names if n not in inference.DUMMY_TESTS]
        self.hac_lags = options.get("hac_lags")
        self.options = {k: v for k, v in options.items() if k != "hac_lags"}
        self._cacheable = n_sims * sc.n_firms * (sc.l1 + sc.l2) <= _CACHE_VALUES
        self._cache: list[_Chunk] | None = None
        self.first: _Chunk | None = None

    def _chunks(self) -> Iterator[_Chunk]:
        if self._cache is not None:
            yield from self._cache
            return
        rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(2)[1])
        per = max(1, _CHUNK_VALUES // (self.sc.n_firms * (self.sc.l1 + self.sc.l2)))
        done, store = 0, []
        while done < self.n_sims:
            c = min(per, self.n_sims - done)
            chunk = self.sc.fit(self.sc.noise(rng, c))
            self.first = self.first or chunk
            store += [chunk] if self._cacheable else []
            yield chunk
            done += c
        self._cache = store if self._cacheable else None

    def counts(self, effect: float) -> tuple[np.ndarray, np.ndarray]:
        """(rejections, simulations in which the test could be computed), per test."""
        shift = np.zeros(self.sc.l2)
        shift[self.sc.days] = effect / self.sc.days.size
        rej, done = dict.fromkeys(self.names, 0), dict.fromkeys(self.names, 0)
        for chunk in self._chunks():
            for name, p in self._pvalues(chunk, shift):
                ok = np.isfinite(p)
                rej[name] += int((p[ok] < self.alpha).sum())
                done[name] += int(ok.sum())
        return np.array([rej[n] for n in self.names]), np.array([done[n] for n in self.names])

    def _pvalues(self, chunk: _Chunk, shift: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
        f, n, days = chunk[0], self.sc.n_firms, self.sc.days
        ar = f.ar + shift
        if n == 1:  # the simulations are the rows of one input: single-firm tests vectorize
            x = inference.TestInputs(ar, f.resid, f.sigma, f.n_est, f.k, f.cov, dof=f.dof)
            if self.registry:
                for r in inference.run_tests(x, days, self.registry, **self.options):
                    yield r.name, np.asarray(r.pvalue, dtype=float)
            if self.dummy:
                yield from self._dummy(chunk, shift)
            return
        m = self.sc.market or (None, None)
        found: dict[str, list[float]] = {nm: [] for nm in self.registry}
        for s in range(ar.shape[0] // n):
            rw = slice(s * n, (s + 1) * n)
            x = inference.TestInputs(
                ar[rw], f.resid[rw], f.sigma[rw], f.n_est[rw], f.k, f.cov[rw], m[0], m[1], f.dof[rw]
            )
            for name, p in self._one(x):
                found[name].append(p)
        for name, ps in found.items():
            yield name, np.asarray(ps, dtype=float)

    def _one(self, x: inference.TestInputs) -> list[tuple[str, float]]:
        """One cross-section; a draw on which a test is undefined is left out of every count."""
        try:
            ran = inference.run_tests(x, self.sc.days, self.registry, **self.options)
        except EstimationError:
            return [(name, math.nan) for name in self.registry]
        return [(r.name, float(r.pvalue)) for r in ran]

    def _dummy(self, chunk: _Chunk, shift: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
        """The event-dummy regressions (one statsmodels fit per simulation)."""
        xe, xv = (x if x.ndim == 2 else x[0] for x in (self.sc.x_est, self.sc.x_evt))
        days = [int(d) for d in self.sc.days]
        _, y_est, y_evt = chunk
        p = np.full((y_est.shape[0], 2), np.nan)
        for i in range(y_est.shape[0]):
            dr = inference.event_dummy_regression(
                y_est[i], xe, y_evt[i] + shift, xv, days, hac_lags=self.hac_lags
            )
            p[i] = [r.pvalue for r in inference.dummy_results(dr)]
        for name in self.dummy:
            yield name, p[:, inference.DUMMY_TESTS.index(name)]

    def car_factor(self) -> float:
        """Mean over the firms of 1'C_i[D, D]1, the CAR variance factor of formula (2)."""
        if self.first is None:
            return math.nan
        d = self.sc.days
        cov = np.asarray(self.first[0].cov[: self.sc.n_firms], dtype=float)
        return float(cov[:, d[:, None], d[None, :]].sum(axis=(1, 2)).mean())

    def exact(self) -> tuple[float, float, float] | None:
        """(sigma, 1'C1, dof) when the prediction-error t has a known power: one firm, normal
        disturbances, the default divisor and no missing estimation day."""
        sc = self.sc
        known = sc.n_firms == 1 and sc.pool is None and sc.convention == "default"
        if not known or sc.missing is not None or self.first is None:
            return None
        return float(sc.sigma[0]), self.car_factor(), float(self.first[0].dof[0])


def _whole(value: object, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise SpecificationError(f"{what} must be a whole number >= {minimum}; got {value!r}")
    return int(value)


def _number(value: object, what: str, positive: bool = False) -> float:
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    v = float(value) if ok else math.nan  # type: ignore[arg-type]
    if not math.isfinite(v) or (positive and v <= 0):
        kind = "a positive finite number" if positive else "a finite number"
        raise SpecificationError(f"{what} must be {kind}; got {value!r}")
    return v


def _car_window(window: Window, car_window: Window | str | None) -> Window:
    cw = window if car_window is None else as_window(car_window, "CAR")
    if cw[0] < window[0] or cw[1] > window[1]:
        a, b = calendar.format_window(cw), calendar.format_window(window)
        raise SpecificationError(f"CAR window {a} is not inside the event window {b}")
    return cw


def _choose_tests(tests: Sequence[str] | str | None, sc: _Scenario) -> list[str]:
    """The tests to simulate: by default those the engine runs on this many firms."""
    n = sc.n_firms
    chosen = None if tests is None else [tests] if isinstance(tests, str) else list(tests)
    if chosen == []:
        raise SpecificationError("tests is empty: name at least one test, or leave it out")
    if n == 1:
        allowed = [*inference.SINGLE_FIRM_TESTS, *(inference.DUMMY_TESTS if sc.spec.k else ())]
        for t in chosen or []:
            if t not in allowed:
                kind = "a multi-firm test" if t in inference.MULTI_FIRM_TESTS else "unknown"
                raise SpecificationError(f"test {t!r} is {kind}; one firm: {allowed}")
        return list(dict.fromkeys(chosen or inference.SINGLE_FIRM_TESTS))
    market = sc.market is not None
    runnable, why = inference.applicable_tests(n, has_market=market, shared_date=sc.shared_date)
    for t in chosen or []:
        if t in why:
            raise SpecificationError(f"{t!r} cannot run on this design: {why[t]}")
        if t not in runnable:
            kind = "a single-firm test" if t in inference.FIRM_TESTS else "unknown"
            raise SpecificationError(f"test {t!r} is {kind}; with {n} firms: {runnable}")
    return list(dict.fromkeys(chosen or runnable))


def _pool(residuals: object, n_firms: int) -> np.ndarray:
    """Resampling pool from residuals: 1-D (one pool, drawn per firm) or (N, L) (whole days drawn
    over the days every firm has), each firm's residuals demeaned."""
    r = np.asarray(residuals, dtype=float)
    r = r[None, :] if r.ndim == 1 else r
    if r.ndim != 2 or r.shape[0] not in (1, n_firms) or np.isinf(r).any():
        shape = np.asarray(residuals).shape
        raise SpecificationError(f"residuals must be finite, 1-D or ({n_firms}, L); got {shape}")
    full = ~np.isnan(r).any(axis=0)
    if full.sum() < MIN_ESTIMATION_DEFAULT:
        raise EstimationError(
            f"residuals hold {int(full.sum())} days with a value for every firm; the bootstrap "
            f"needs at least {MIN_ESTIMATION_DEFAULT}"
        )
    r = r[:, full] - r[:, full].mean(axis=1, keepdims=True)
    flat = np.flatnonzero(~(r.std(axis=1) > 0))
    if flat.size:
        raise EstimationError(f"residuals of firm row(s) {flat.tolist()} do not vary")
    return np.ascontiguousarray(r.T)


def _synthetic(
    n_firms: int, window: Window | str, car_window: Window | str | None, sigma: float | None,
    residuals: object, estimation_length: int, model: str, market: object, seed: int,
) -> _Scenario:  # fmt: skip
    n = _whole(n_firms, "n_firms", 1)
    evt = as_window(window, "event")
    l1 = _whole(estimation_length, "estimation_length", MIN_ESTIMATION_DEFAULT)
    l2 = evt[1] - evt[0] + 1
    if model not in POWER_MODELS:
        raise SpecificationError(f"unknown model {model!r}; power simulates {list(POWER_MODELS)}")
    if residuals is not None and sigma is not None:
        raise SpecificationError("give sigma (normal disturbances) or residuals, not both")
    sd = DEFAULT_SIGMA if sigma is None else _number(sigma, "sigma", positive=True)
    if model == "constant_mean" and market is not None:
        raise SpecificationError("constant_mean uses no market returns: leave market out")
    m = np.empty(0)
    if model != "constant_mean" and market is None:
        rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
        m = rng.normal(0.0, MARKET_SD, l1 + l2)
    elif market is not None:
        m = np.asarray(market, dtype=float)
        if m.shape != (l1 + l2,) or not np.isfinite(m).all():
            raise SpecificationError(
                f"market must hold {l1 + l2} finite returns: estimation_length {l1}, then the "
                f"{l2} event-window days; got shape {m.shape}"
            )
    if model == "market_model":
        x, spec = np.column_stack([np.ones(l1 + l2), m]), make_spec(model, "market")
    elif model == "market_adjusted":
        x, spec = np.zeros((l1 + l2, 0)), make_spec(model, "market")
    else:
        x, spec = np.ones((l1 + l2, 1)), make_spec(model)
    return _Scenario(
        n, spec, "default", x[:l1], x[l1:], (m[:l1], m[l1:]) if m.size else None, evt,
        _car_window(evt, car_window), None, np.full(n, sd),
        None if residuals is None else _pool(residuals, n), True, MIN_ESTIMATION_DEFAULT,
        "simulated",
    )  # fmt: skip


def _shared(x: np.ndarray) -> np.ndarray:
    """(L, k) when every firm has the same regressors, else the (N, L, k) array."""
    same = all(np.array_equal(x[0], r, equal_nan=True) for r in x[1:])
    return np.asarray(x[0] if same else x)


def _of_study(res: EventStudyResults, window: Window | str | None, residuals: str) -> _Scenario:
    """The scenario of a fitted study: its regressors, missing days, sigma_i or residuals."""
    from analysis.eventstudy.results import EventStudyResults

    if not isinstance(res, EventStudyResults):
        raise SpecificationError(f"expected the result of event_study(...); got {type(res)}")
    if residuals not in ("bootstrap", "normal"):
        raise SpecificationError(f"residuals must be 'bootstrap' or 'normal'; got {residuals!r}")
    cw = _car_window(res.window, res.car_window if window is None else window)
    x, d = res._inputs, res._design  # the fitted inputs every test of the study reads
    resid = np.asarray(x.resid, dtype=float)
    n_est = np.asarray(x.n_est, dtype=float)
    pool = None
    if residuals == "bootstrap":  # scaled by sqrt(L_i / (L_i - k)): mean square SSR/(L_i - k)
        pool = _pool(resid * np.sqrt(n_est / (n_est - x.k))[:, None], len(res.firms))
    market = None
    if x.market_est is not None and x.market_evt is not None:
        market = (np.asarray(x.market_est), np.asarray(x.market_evt))
    missing = np.isnan(resid)
    when = f"day 0 {res.event_day.date:%Y-%m-%d}" if res.shared_date else "several dates"
    return _Scenario(
        len(res.firms), res.model, res.convention, _shared(d.X_est), _shared(d.X_evt), market,
        res.window, cw, missing if missing.any() else None,
        res.fit_stats["sigma"].to_numpy(dtype=float), pool, res.shared_date, int(n_est.min()),
        f"the study of {', '.join(res.firms)} ({when}, {res.model.label})",
    )  # fmt: skip


def _blocked(sc: _Scenario, block_length: object) -> _Scenario:
    """``sc`` with bootstrap blocks of ``block_length`` days (1 keeps it as it is)."""
    b = _whole(block_length, "block_length", 1)
    if b == 1:
        return sc
    if sc.pool is None:
        raise SpecificationError(
            "block_length resamples runs of residual days: give residuals (power) or keep "
            "residuals='bootstrap' (power_of); normal disturbances have no serial dependence to keep"
        )
    if b > len(sc.pool):
        raise SpecificationError(
            f"block_length={b} is longer than the {len(sc.pool)} residual days to draw from"
        )
    return replace(sc, block=b)


def _run_args(alpha: object, n_sims: object, seed: object) -> tuple[float, int, int]:
    return check_alpha(alpha), _whole(n_sims, "n_sims", 1), _whole(seed, "seed", 0)
