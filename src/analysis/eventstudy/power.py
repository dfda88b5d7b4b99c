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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis._export import ExportMixin
from analysis._summary import Summary, SummaryMixin
from analysis.data import calendar
from analysis.errors import EstimationError, SpecificationError
from analysis.eventstudy import _paper_tables
from analysis.eventstudy._power_sim import (
    DEFAULT_SIGMA,
    MARKET_SD,
    POWER_MODELS,
    _blocked,
    _choose_tests,
    _number,
    _of_study,
    _run_args,
    _Scenario,
    _Simulation,
    _synthetic,
)
from analysis.eventstudy.design import Window, check_alpha
from analysis.eventstudy.tables import num

__all__ = [
    "DEFAULT_SIGMA",
    "MARKET_SD",
    "POWER_COLUMNS",
    "POWER_MODELS",
    "MinimumDetectableEffect",
    "PowerResult",
    "SimulationSetup",
    "detection_figures",
    "minimum_detectable_effect",
    "minimum_detectable_effect_of",
    "power",
    "power_of",
    "t_test_power",
]

if TYPE_CHECKING:
    from analysis.eventstudy.results import EventStudyResults

#: Columns of :meth:`PowerResult.to_frame` after the ``test`` index.
POWER_COLUMNS = ("power", "std_error", "lower", "upper", "rejections", "n_sims", "analytic")
_DIRECTIONS = ("negative", "positive")


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
        """At ``effect = 0``, per test: the simulated rejection rate (``size``), the simulations
        it could be computed in (``n_sims``), the range ``band_lower``-``band_upper`` that holds
        the rate of a test of exact size ``alpha`` with probability ``level`` over that many
        simulations (the central Binomial(n_sims, alpha) interval over n_sims) and ``verdict``:
        ``"holds"`` inside the band, ``"over-rejects"`` above it, ``"conservative"`` below, missing
        for a test no simulation could compute."""
        if self.effect != 0:
            raise SpecificationError(
                f"size_check reads a simulation without effect; this one adds a CAR of "
                f"{self.effect:g}: run power(..., effect=0) or power_of(res, 0.0)"
            )
        level = check_alpha(level)
        n = np.asarray(self.computed, dtype=float)
        lo, hi = stats.binom.interval(level, n, self.setup.alpha)
        with np.errstate(invalid="ignore", divide="ignore"):
            lo, hi = np.where(n > 0, lo / n, np.nan), np.where(n > 0, hi / n, np.nan)
        rate = self.power.to_numpy()
        verdict = [
            None if not np.isfinite(r) else "over-rejects" if r > h else "conservative" if r < low
            else "holds"
            for r, low, h in zip(rate, lo, hi, strict=True)
        ]  # fmt: skip
        return pd.DataFrame(
            {"size": rate, "n_sims": list(self.computed), "band_lower": lo, "band_upper": hi,
             "verdict": verdict},
            index=self._index(),
        )  # fmt: skip

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
