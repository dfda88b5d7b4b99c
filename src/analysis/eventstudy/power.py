"""Monte Carlo power of the event-study tests: each test's rejection rate for a given CAR, and the smallest CAR a design detects.

>>> from analysis.eventstudy.power import power, minimum_detectable_effect
>>> pr = power(1, window=(-1, 3), effect=-0.05, sigma=0.026)       # doctest: +SKIP
>>> pr.to_frame()      # per test: power, Monte Carlo standard error, Clopper-Pearson interval
>>> minimum_detectable_effect(1, sigma=0.026).effect   # |CAR| detected with 80% power

Simulation (formula (29), docs/formulas.md): disturbances (iid normal, or days of estimation
residuals drawn with replacement) plus ``effect / L_D`` on each of the L_D days of the CAR window,
i.e. a CAR of ``effect`` spread equally over its days. The model is fitted by
:func:`analysis.eventstudy.models.fit_arrays` on the given regressors and the tests run through
:func:`analysis.eventstudy.inference.run_tests`, the code path of ``EventStudyResults``: the power
is that of the package's own tests. ARs do not depend on the true alpha and beta, so the
simulated returns carry none; results are conditional on the regressors (the market path). The
power is the share of simulations with p < alpha (Brown & Warner 1980, 1985).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis._export import ExportMixin
from analysis._summary import Summary, SummaryMixin
from analysis.data import calendar
from analysis.errors import EstimationError, SpecificationError
from analysis.eventstudy import _paper_tables, inference, models
from analysis.eventstudy.design import Window, as_window, check_alpha
from analysis.eventstudy.models import MIN_ESTIMATION_DEFAULT, FitArrays, ModelSpec, make_spec
from analysis.eventstudy.tables import num

if TYPE_CHECKING:
    from analysis.eventstudy.results import EventStudyResults

#: Residual standard deviation of :func:`power` when neither ``sigma`` nor ``residuals`` is given.
DEFAULT_SIGMA = 0.02
#: Daily standard deviation of the market path :func:`power` draws when none is given.
MARKET_SD = 0.01
#: Models :func:`power` simulates (``constant_mean`` and ``market_adjusted``: pure residuals).
POWER_MODELS: tuple[str, ...] = ("market_model", "constant_mean", "market_adjusted")
#: Columns of :meth:`PowerResult.to_frame` after the ``test`` index.
POWER_COLUMNS = ("power", "std_error", "lower", "upper", "rejections", "n_sims", "analytic")
_DIRECTIONS = ("negative", "positive")
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


@dataclass(frozen=True)
class SimulationSetup:
    """What was simulated: the design (``"simulated"`` or the study), firms, windows, model,
    estimation days, the disturbances and their root-mean-square sd ``sigma``, the mean CAR
    variance factor 1'C_i1 of formula (2), the test level and the simulations."""

    design: str
    n_firms: int
    window: Window
    car_window: Window
    model: str
    estimation_length: int
    residuals: str
    sigma: float
    car_factor: float
    alpha: float
    n_sims: int
    seed: int

    @classmethod
    def of(cls, sim: _Simulation) -> SimulationSetup:
        sc = sim.sc
        return cls(
            sc.design, sc.n_firms, sc.window, sc.car_window, sc.spec.label, sc.l1, sc.residuals,
            sc.sd, sim.car_factor(), sim.alpha, sim.n_sims, sim.seed,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out.update(window=list(self.window), car_window=list(self.car_window))
        out.update(sigma=num(self.sigma), car_factor=num(self.car_factor))
        return out

    def header(self, effect: str) -> list[tuple[str, str]]:
        w, cw = (calendar.format_window(v) for v in (self.window, self.car_window))
        return [
            ("Design", self.design), ("Firms", str(self.n_firms)),
            ("Window", f"event {w}, CAR {cw}"), ("Effect", effect),
            ("Model", f"{self.model}, {self.estimation_length} estimation days"),
            ("Residuals", f"{self.residuals}, sd {self.sigma:.4f}"),
            ("CAR factor", f"1'C1 = {self.car_factor:.4f} (formula (2))"),
            ("Simulations", f"{self.n_sims} (seed {self.seed}), tests at alpha {self.alpha:g}"),
        ]  # fmt: skip


def t_test_power(
    effect: float, sigma: float, car_factor: float, dof: float, alpha: float = 0.05
) -> float:
    """Exact power of the prediction-error t test (formula (3)) under iid normal disturbances.

    T = CAR / (s sqrt(f)) is noncentral t(dof, delta), delta = effect / (sigma sqrt(f)), with
    f = 1'C[D,D]1 the CAR variance factor of formula (2) (given the regressors): the power is
    P(|T| > t_{dof, 1 - alpha/2}). Campbell, Lo & MacKinlay (1997, sec. 4.6) give its normal
    approximation.
    """
    alpha = check_alpha(alpha)
    f = _number(car_factor, "car_factor", positive=True)
    df = _number(dof, "dof", positive=True)
    delta = _number(effect, "effect") / (_number(sigma, "sigma", positive=True) * math.sqrt(f))
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    return float(stats.nct.sf(crit, df, delta) + stats.nct.cdf(-crit, df, delta))


@dataclass(frozen=True, repr=False)
class PowerResult(SummaryMixin, ExportMixin):
    """Simulated power of each test (formula (29), docs/formulas.md): the share of the
    simulations in which it rejects at ``alpha`` for a CAR of ``effect`` spread equally over the
    CAR window's days. ``power`` and ``std_error`` are Series by test, ``conf_int()`` the
    Clopper-Pearson interval, ``nominal_band()`` the range a test of exact size ``alpha`` falls
    in at ``effect = 0``; ``analytic`` the exact power where one is known (:func:`t_test_power`:
    the prediction-error t of one firm with normal disturbances); ``setup`` what was simulated."""

    _paper_table, _export_sheets = _paper_tables.power_table, _paper_tables.power_sheets

    tests: tuple[str, ...]
    rejections: tuple[int, ...]
    computed: tuple[int, ...]
    effect: float
    setup: SimulationSetup
    analytic: Mapping[str, float] = field(default_factory=dict)

    @property
    def effect_per_day(self) -> float:
        """The abnormal return added on each day of the CAR window."""
        a, b = self.setup.car_window
        return self.effect / (b - a + 1)

    def _index(self) -> pd.Index:
        return pd.Index(list(self.tests), name="test")

    @property
    def power(self) -> pd.Series:
        """Rejection rate per test (NaN for a test no simulation could compute)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.divide(self.rejections, self.computed, dtype=float)
        return pd.Series(rate, index=self._index(), name="power")

    @property
    def std_error(self) -> pd.Series:
        """Monte Carlo standard error sqrt(p (1 - p) / n) of each rate (n: its simulations)."""
        p = self.power.to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.sqrt(p * (1 - p) / np.asarray(self.computed, dtype=float))
        return pd.Series(se, index=self._index(), name="std_error")

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Clopper-Pearson (1934) interval of each test's power, level 1 - ``alpha``."""
        a = check_alpha(alpha)
        k, n = np.asarray(self.rejections, float), np.asarray(self.computed, float)
        with np.errstate(invalid="ignore"):
            lo = np.where(k > 0, stats.beta.ppf(a / 2, k, n - k + 1), 0.0)
            hi = np.where(k < n, stats.beta.ppf(1 - a / 2, k + 1, n - k), 1.0)
        lo, hi = (np.where(n == 0, np.nan, v) for v in (lo, hi))
        return pd.DataFrame({"lower": lo, "upper": hi}, index=self._index())

    def nominal_band(self, level: float = 0.99) -> tuple[float, float]:
        """Range holding the simulated rate of a test of exact size ``alpha`` with probability
        ``level``: the central Binomial(n_sims, alpha) interval over n_sims."""
        n = self.setup.n_sims
        lo, hi = stats.binom.interval(check_alpha(level), n, self.setup.alpha)
        return float(lo) / n, float(hi) / n

    def size_check(self, level: float = 0.99) -> pd.DataFrame:
        """At ``effect = 0``: per test the simulated rejection rate (``size``), its 95%
        Clopper-Pearson bounds and ``verdict``: ``"holds"`` when the rate is inside
        :meth:`nominal_band` (``level``), ``"over-rejects"`` above it, ``"conservative"`` below;
        ``None`` for a test no simulation could compute."""
        if self.effect != 0:
            raise SpecificationError(
                f"size_check reads a simulation without effect; this one adds a CAR of "
                f"{self.effect:g}: run power(..., effect=0) or power_of(res, 0.0)"
            )
        lo, hi = self.nominal_band(level)
        rate = self.power
        verdict = [
            None if not np.isfinite(r) else "over-rejects" if r > hi else "conservative" if r < lo
            else "holds"
            for r in rate.to_numpy()
        ]  # fmt: skip
        return pd.DataFrame({"size": rate, **self.conf_int(), "verdict": verdict})

    def to_frame(self) -> pd.DataFrame:
        """Per test (index ``test``): :data:`POWER_COLUMNS` (95% Clopper-Pearson bounds)."""
        ci = self.conf_int()
        cols = {"power": self.power, "std_error": self.std_error, **ci}
        cols.update(rejections=list(self.rejections), n_sims=list(self.computed))
        cols["analytic"] = [self.analytic.get(t, math.nan) for t in self.tests]
        return pd.DataFrame(cols, index=self._index())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the setup, the effect and one entry per test (power, std_error, 95%
        bounds, rejections, n_sims, analytic); missing numbers are None."""
        cols = self.to_frame().to_dict(orient="list")
        tests = []
        for i, t in enumerate(self.tests):
            row = {"test": t, **{c: num(cols[c][i]) for c in POWER_COLUMNS}}
            tests.append(row | {"rejections": self.rejections[i], "n_sims": self.computed[i]})
        return {
            **self.setup.to_dict(),
            "effect": self.effect,
            "effect_per_day": self.effect_per_day,
            "conf_level": 0.95,
            "nominal_band_99": list(self.nominal_band()),
            "tests": tests,
        }

    def _build_summary(self) -> Summary:
        lo, hi = self.nominal_band()
        effect = f"CAR {self.effect:+.4f}, {self.effect_per_day:+.4f} on each day"
        out = Summary("Power of the event-study tests (Monte Carlo)")
        out.header(self.setup.header(effect))
        out.table(self.to_frame(), "Rejection rate per test (95% Clopper-Pearson interval):")
        return out.text(
            f"A test of exact size {self.setup.alpha:g} rejects in [{lo:.4f}, {hi:.4f}] of "
            f"{self.setup.n_sims} null simulations with probability 0.99."
        )


def _power(
    sc: _Scenario, effect: object, tests: Sequence[str] | str | None, n_sims: object,
    alpha: object, seed: object, options: Mapping[str, Any] | None,
) -> PowerResult:  # fmt: skip
    a, n, s = _run_args(alpha, n_sims, seed)
    e = _number(effect, "effect")
    sim = _Simulation(sc, _choose_tests(tests, sc), dict(options or {}), a, n, s)
    rej, done = sim.counts(e)
    exact = sim.exact() if "t_prediction_error" in sim.names else None
    analytic = {} if exact is None else {"t_prediction_error": t_test_power(e, *exact, a)}
    return PowerResult(tuple(sim.names), tuple(int(v) for v in rej),
                       tuple(int(v) for v in done), e, SimulationSetup.of(sim), analytic)  # fmt: skip


def power(
    n_firms: int, window: Window | str = (-1, 3), effect: float = 0.02, *,
    sigma: float | None = None, residuals: object = None, estimation_length: int = 240,
    tests: Sequence[str] | str | None = None, n_sims: int = 2000, alpha: float = 0.05,
    seed: int = 0, model: str = "market_model", car_window: Window | str | None = None,
    market: object = None, options: Mapping[str, Any] | None = None, block_length: int = 1,
) -> PowerResult:  # fmt: skip
    """Simulated power of the tests for ``n_firms`` firms on one event date, formula (29).

    A CAR of ``effect`` is spread equally over the days of ``car_window`` (default: the event
    ``window``). Disturbances are iid N(0, ``sigma``^2) (default :data:`DEFAULT_SIGMA`) or, with
    ``residuals``, drawn with replacement from them (1-D: one pool, drawn per firm;
    (n_firms, L): whole days, which keeps the firms' cross-correlation). ``model``: the market
    model on ``market`` (``estimation_length`` returns, then the event window's; default one iid
    N(0, :data:`MARKET_SD`^2) path from ``seed``), or pure residuals (``constant_mean``,
    ``market_adjusted``). ``tests`` default to those the engine runs: for one firm the
    single-firm tests (``dummy_ols``/``dummy_hac`` on request, one statsmodels fit per
    simulation), else every applicable multi-firm test; ``options`` go to them (``form``,
    ``blocking``, ``hac_lags``, ...). ``block_length`` > 1 (with ``residuals``) draws runs of that
    many consecutive residual days, which keeps their serial dependence (circular block bootstrap,
    Politis & Romano 1992; Kunsch 1989).
    """
    sc = _synthetic(
        n_firms, window, car_window, sigma, residuals, estimation_length, model, market, seed
    )
    return _power(_blocked(sc, block_length), effect, tests, n_sims, alpha, seed, options)


def power_of(
    res: EventStudyResults, effect: float, *, residuals: str = "bootstrap",
    window: Window | str | None = None, tests: Sequence[str] | str | None = None,
    n_sims: int = 2000, alpha: float = 0.05, seed: int = 0,
    options: Mapping[str, Any] | None = None, block_length: int = 1,
) -> PowerResult:  # fmt: skip
    """Simulated power of a fitted study's tests for a CAR of ``effect`` over ``window``
    (default: its CAR window), formula (29).

    The study's regressors (its market returns), model, convention, estimation days and event
    window are kept. ``residuals="bootstrap"`` (default) draws whole days of its estimation
    residuals, each firm's scaled by sqrt(L_i / (L_i - k)) so that its mean square is
    SSR_i / (L_i - k) (Davison & Hinkley 1997, ch. 6): fat tails and the firms'
    cross-correlation are kept. ``"normal"`` draws iid N(0, s_i^2) with each firm's ``sigma``.
    ``block_length`` > 1 draws runs of consecutive residual days (their serial dependence kept),
    as in :func:`power`.
    """
    sc = _blocked(_of_study(res, window, residuals), block_length)
    return _power(sc, effect, tests, n_sims, alpha, seed, options)


@dataclass(frozen=True, repr=False)
class MinimumDetectableEffect(SummaryMixin, ExportMixin):
    """The smallest |CAR| (``effect``) that ``test`` detects with probability ``target`` at
    ``alpha``, found on one set of draws (common random numbers): ``achieved`` is its simulated
    power there, ``std_error`` a delta-method Monte Carlo error, ``analytic`` the exact value
    where known (:func:`t_test_power`), ``path`` the (effect, power) pairs the search tried."""

    _paper_table, _export_sheets = _paper_tables.mde_table, _paper_tables.mde_sheets

    test: str
    effect: float
    direction: str
    target: float
    achieved: float
    std_error: float | None
    analytic: float | None
    setup: SimulationSetup
    path: tuple[tuple[float, float], ...]

    def figures(self) -> dict[str, Any]:
        """The numbers of "with sigma S this design detects a CAR of X with P power":
        ``sigma``, ``car`` (signed), ``power``, ``alpha``, ``test``, ``n_firms``, ``window``
        (the CAR window), ``n_sims`` and ``analytic_car`` (signed, or None)."""
        sign, st = (-1.0 if self.direction == "negative" else 1.0), self.setup
        exact = None if self.analytic is None else sign * self.analytic
        window = calendar.format_window(st.car_window)
        return dict(sigma=st.sigma, car=sign * self.effect, power=self.target, alpha=st.alpha,
                    test=self.test, n_firms=st.n_firms, window=window, n_sims=st.n_sims,
                    analytic_car=exact)  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """The search path: the simulated power at each effect tried, by effect."""
        e, p = zip(*sorted(self.path), strict=True) if self.path else ((), ())
        return pd.DataFrame({"power": list(p)}, index=pd.Index(list(e), name="effect"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: :meth:`figures`, then the effect, achieved power, its error and setup."""
        extra = {"effect": self.effect, "direction": self.direction, "achieved": self.achieved}
        extra["std_error"] = None if self.std_error is None else num(self.std_error)
        return {**self.figures(), **extra, "setup": self.setup.to_dict()}

    def _build_summary(self) -> Summary:
        se = "-" if self.std_error is None else f"{self.std_error:.4f}"
        rows = self.setup.header(f"{self.direction} CAR; power {self.target:g}, {self.test}")
        rows.append(("Detectable", f"|CAR| {self.effect:.4f} (power {self.achieved:.4f}, se {se})"))
        if self.analytic is not None:
            rows.append(("Exact", f"|CAR| {self.analytic:.4f} (noncentral t)"))
        out = Summary("Minimum detectable CAR (Monte Carlo)").header(rows)
        return out.table(self.to_frame(), "Power along the search:")


def _mde(
    sc: _Scenario, power: object, test: str | None, direction: str, n_sims: object,
    alpha: object, seed: object, options: Mapping[str, Any] | None,
) -> MinimumDetectableEffect:  # fmt: skip
    a, n, s = _run_args(alpha, n_sims, seed)
    target = _number(power, "power")
    if not 0 < target < 1:
        raise SpecificationError(f"power must be strictly between 0 and 1; got {power!r}")
    if direction not in _DIRECTIONS:
        raise SpecificationError(f"direction must be one of {list(_DIRECTIONS)}; got {direction!r}")
    if test is None and sc.n_firms > 1:
        raise SpecificationError(f"name the test for {sc.n_firms} firms, e.g. test='grank'")
    name = _choose_tests(test or "t_prediction_error", sc)[0]
    sim = _Simulation(sc, [name], dict(options or {}), a, n, s)
    sign = -1.0 if direction == "negative" else 1.0
    path: dict[float, float] = {}

    def rate(e: float) -> float:
        if e not in path:
            rej, done = sim.counts(sign * e)
            if done[0] == 0:
                raise EstimationError(f"{name} could not be computed in any simulation")
            path[e] = float(rej[0] / done[0])
        return path[e]

    m = sc.days.size  # start: the normal approximation for the CAAR of N firms
    f = m + (m * m / sc.l1 if sc.spec.k else 0.0)
    z = float(stats.norm.ppf(1 - a / 2) + stats.norm.ppf(target))
    lo, hi = 0.0, z * sc.sd * math.sqrt(f / sc.n_firms)
    while rate(hi) < target:
        if hi > 1e3 * sc.sd * math.sqrt(f):
            raise EstimationError(f"{name} does not reach power {target:g} for |CAR| <= {hi:.4g}")
        lo, hi = hi, 2 * hi
    while hi - lo > 1e-3 * hi:  # bisection on the same draws
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if rate(mid) >= target else (mid, hi)
    achieved = rate(hi)
    slope = (rate(1.1 * hi) - rate(0.9 * hi)) / (0.2 * hi)
    se = math.sqrt(achieved * (1 - achieved) / n) / slope if slope > 0 else None
    exact = sim.exact() if name == "t_prediction_error" else None
    analytic = None
    if exact is not None:  # the exact power crosses the target once, below z + 3 CAR sd
        top = (z + 3) * exact[0] * math.sqrt(exact[1])
        analytic = float(optimize.brentq(lambda e: t_test_power(e, *exact, a) - target, 0, top))
    setup, tried = SimulationSetup.of(sim), tuple(sorted(path.items()))
    return MinimumDetectableEffect(
        name, hi, direction, target, achieved, se, analytic, setup, tried
    )


def minimum_detectable_effect(
    n_firms: int = 1, window: Window | str = (-1, 3), *, power: float = 0.8,
    test: str | None = None, sigma: float | None = None, residuals: object = None,
    estimation_length: int = 240, n_sims: int = 2000, alpha: float = 0.05, seed: int = 0,
    model: str = "market_model", car_window: Window | str | None = None, market: object = None,
    direction: str = "negative", options: Mapping[str, Any] | None = None, block_length: int = 1,
) -> MinimumDetectableEffect:  # fmt: skip
    """The smallest |CAR| that ``test`` detects with probability ``power`` in the simulated
    design of :func:`power` (same arguments), formula (29).

    Bisection on the effect, every step on the same draws (common random numbers), to a
    relative width of 0.1%. ``direction`` is the sign of the CAR (it matters only for asymmetric
    bootstrapped residuals). One firm defaults to the prediction-error t test; with several
    firms name the test.
    """
    sc = _synthetic(
        n_firms, window, car_window, sigma, residuals, estimation_length, model, market, seed
    )
    return _mde(_blocked(sc, block_length), power, test, direction, n_sims, alpha, seed, options)


def minimum_detectable_effect_of(
    res: EventStudyResults, *, power: float = 0.8, test: str | None = None,
    residuals: str = "bootstrap", window: Window | str | None = None, n_sims: int = 2000,
    alpha: float = 0.05, seed: int = 0, direction: str = "negative",
    options: Mapping[str, Any] | None = None, block_length: int = 1,
) -> MinimumDetectableEffect:  # fmt: skip
    """The smallest |CAR| ``test`` detects with probability ``power`` in a fitted study's design
    (simulated as in :func:`power_of`), formula (29)."""
    sc = _blocked(_of_study(res, window, residuals), block_length)
    return _mde(sc, power, test, direction, n_sims, alpha, seed, options)


def detection_figures(
    res: EventStudyResults | None = None, *, sigma: float | None = None, n_firms: int = 1,
    window: Window | str | None = None, power: float = 0.8, alpha: float = 0.05,
    test: str | None = None, n_sims: int = 2000, seed: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """The numbers of the sentence "with sigma S this design detects a CAR of X with P power"
    (:meth:`MinimumDetectableEffect.figures`) under normal disturbances: of a fitted study (each
    firm's sigma and its design; ``window``: the CAR window, default the study's) or of a
    simulated design with ``sigma`` (``window``: the event window, default (-1, 3))."""
    if res is not None:
        if sigma is not None:
            raise SpecificationError("a study brings its own sigma: leave sigma out")
        sc = _of_study(res, window, "normal")
    else:
        evt = (-1, 3) if window is None else window
        sc = _synthetic(n_firms, evt, None, sigma, None, 240, "market_model", None, seed)
    return _mde(sc, power, test, "negative", n_sims, alpha, seed, None).figures()
