"""Event studies: windows in trading days, AR / CAR / BHAR / CAAR and the results objects.

>>> import analysis as an
>>> res = an.event_study(["NVDA"], event="2023-10-17", market="SPY",
...                      estimation=(-250, -11), window=(-1, 3))     # doctest: +SKIP
>>> res.summary()            # model fit and every applicable test
>>> res.car((0, 3))          # CAR with its standard error and tests
>>> res.to_frame()           # tidy AR/CAR by firm and day

Conventions (README, "Conventions"): simple returns of the adjusted close on the NYSE session grid; day 0 by
:func:`analysis.data.calendar.resolve_day0` (stated in every output); estimation and event windows in
trading days relative to day 0, which must not overlap; missing returns are dropped from estimation
(count reported) and leave the AR missing in the event window (tests report the N they used).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from analysis.data import calendar
from analysis.errors import CalendarError, DataError, SpecificationError
from analysis.eventstudy import inference
from analysis.eventstudy.models import (
    MIN_ESTIMATION_DEFAULT,
    FitArrays,
    ModelSpec,
    event_dummy_regression,
    fit_arrays,
    make_spec,
    own_regressor_error,
)
from analysis.eventstudy.returns import returns_from_prices

Window = tuple[int, int]

#: Per-firm tests, in display order.
FIRM_TESTS: tuple[str, ...] = ("t_prediction_error", "sq", "dummy_ols", "dummy_hac")


def _as_window(value: Window | str | Sequence[int], what: str) -> Window:
    if isinstance(value, str):
        return calendar.parse_window(value)
    try:
        a, b = value
        if any(isinstance(v, bool) or int(v) != v for v in (a, b)):
            raise ValueError
        a, b = int(a), int(b)
    except (TypeError, ValueError):
        raise SpecificationError(
            f"{what} window must be two integers like (-1, 3) or '-1:3', got {value!r}"
        ) from None
    if a > b:
        raise SpecificationError(
            f"{what} window {calendar.format_window((a, b))} starts after it ends"
        )
    return a, b


def as_symbols(value: object, what: str = "symbols", example: str = "'NVDA'") -> list[str]:
    """Normalized symbols from one symbol or a list of them (a string is one symbol, never its
    letters); ``what`` and ``example`` name the argument in the error."""
    from analysis.data.prices import normalize_symbol

    if isinstance(value, str):
        items = [value]
    elif isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        items = list(value)
    else:
        second = "'AMD'" if example == "'NVDA'" else "'SOXX'"
        raise SpecificationError(
            f"{what} must be a symbol such as {example} or a list of symbols such as "
            f"[{example}, {second}], got {value!r}"
        )
    return [normalize_symbol(s) for s in items]


def check_alpha(alpha: object) -> float:
    """A significance level strictly between 0 and 1, else a clear error."""
    ok = isinstance(alpha, int | float | np.floating) and not isinstance(alpha, bool)
    if not ok or not 0 < float(alpha) < 1:
        raise SpecificationError(
            f"alpha must be a probability strictly between 0 and 1 (e.g. 0.05), got {alpha!r}"
        )
    return float(alpha)


def _check_windows(estimation: Window, window: Window) -> None:
    a, b = estimation
    c, d = window
    if not (b < c or d < a):
        raise SpecificationError(
            f"estimation window {calendar.format_window(estimation)} overlaps the event window "
            f"{calendar.format_window(window)}; end the estimation window before day {c}"
        )


@dataclass(frozen=True)
class EventDesign:
    """Returns arranged in event time for N firm-events (all numpy, ready for :func:`fit_arrays`)."""

    firms: tuple[str, ...]
    day0: tuple[calendar.Day0, ...]
    est_days: np.ndarray  # (L1,) relative days
    evt_days: np.ndarray  # (L2,) relative days
    est_dates: np.ndarray  # (N, L1) datetime64[ns]
    evt_dates: np.ndarray  # (N, L2)
    y_est: np.ndarray
    y_evt: np.ndarray
    X_est: np.ndarray
    X_evt: np.ndarray
    off_est: np.ndarray | None
    off_evt: np.ndarray | None
    market_est: np.ndarray | None  # (N, L1) first regressor (Lamb test)
    market_evt: np.ndarray | None

    @property
    def shared_date(self) -> bool:
        return len({d.day0 for d in self.day0}) == 1


def build_design(
    returns: pd.DataFrame,
    pairs: Sequence[tuple[str, calendar.Day0]],
    spec: ModelSpec,
    estimation: Window,
    window: Window,
) -> EventDesign:
    """Arrange ``returns`` (session x symbol, firms and regressors) around each firm's day 0."""
    sessions = returns.index
    firms = tuple(f for f, _ in pairs)
    missing = sorted(
        {f for f in firms if f not in returns.columns}
        | {f for f in spec.factors if f not in returns.columns}
    )
    if missing:
        raise DataError(f"no returns for {', '.join(missing)}")
    est_days = np.arange(estimation[0], estimation[1] + 1)
    evt_days = np.arange(window[0], window[1] + 1)
    pos0 = np.empty(len(pairs), dtype=np.int64)
    for i, (firm, d0) in enumerate(pairs):
        p = sessions.searchsorted(d0.day0)
        if p >= len(sessions) or sessions[p] != d0.day0:
            raise CalendarError(
                f"day 0 {d0.day0.date()} for {firm} is outside the price data "
                f"({sessions[0].date()} to {sessions[-1].date()}); import or fetch prices that cover it"
            )
        lo, hi = p + min(est_days[0], evt_days[0]), p + max(est_days[-1], evt_days[-1])
        if lo < 1 or hi >= len(sessions):
            need_lo = calendar.offset(d0.day0, int(min(est_days[0], evt_days[0])))
            need_hi = calendar.offset(d0.day0, int(max(est_days[-1], evt_days[-1])))
            raise CalendarError(
                f"{firm}: the windows {calendar.format_window(estimation)} and "
                f"{calendar.format_window(window)} around day 0 {d0.day0.date()} need returns from "
                f"{need_lo.date()} to {need_hi.date()}, but the price data cover "
                f"{sessions[1].date()} to {sessions[-1].date()} (returns start one session after "
                "the first price); shorten the windows or load more history"
            )
        pos0[i] = p
    col = {c: j for j, c in enumerate(returns.columns)}
    R = returns.to_numpy(dtype=float)
    fi = np.array([col[f] for f in firms])
    ie = pos0[:, None] + est_days[None, :]
    iv = pos0[:, None] + evt_days[None, :]
    y_est = R[ie, fi[:, None]]
    y_evt = R[iv, fi[:, None]]
    fac = np.array([col[f] for f in spec.factors], dtype=np.int64)
    RF = R[:, fac]  # select the regressor columns first: R[ie] would copy every symbol
    F_est = RF[ie]
    F_evt = RF[iv]
    off_est = off_evt = None
    if spec.name == "market_adjusted":
        off_est, off_evt = F_est[..., 0], F_evt[..., 0]
        X_est = np.zeros(y_est.shape + (0,))
        X_evt = np.zeros(y_evt.shape + (0,))
    else:
        X_est = np.concatenate([np.ones(y_est.shape + (1,)), F_est], axis=2)
        X_evt = np.concatenate([np.ones(y_evt.shape + (1,)), F_evt], axis=2)
        if spec.name == "constant_mean":
            X_est, X_evt = X_est[..., :1], X_evt[..., :1]
    dates = sessions.to_numpy()
    return EventDesign(
        firms=firms,
        day0=tuple(d for _, d in pairs),
        est_days=est_days,
        evt_days=evt_days,
        est_dates=dates[ie],
        evt_dates=dates[iv],
        y_est=y_est,
        y_evt=y_evt,
        X_est=X_est,
        X_evt=X_evt,
        off_est=off_est,
        off_evt=off_evt,
        market_est=F_est[..., 0] if len(fac) else None,
        market_evt=F_evt[..., 0] if len(fac) else None,
    )


def _resolve_event(spec: object) -> tuple[object | None, calendar.Day0]:
    from analysis.data import events

    if isinstance(spec, calendar.Day0):
        return None, spec
    return events.resolve_event(spec)


def _load_prices(symbols: Sequence[str]) -> pd.DataFrame:
    from analysis.data import prices

    return prices.adj_close(list(symbols))


def event_study(
    symbols: str | Sequence[str],
    event: str | calendar.Day0 | Mapping[str, str],
    *,
    market: str | None = "SPY",
    model: str = "market_model",
    factors: Sequence[str] | None = None,
    estimation: Window | str = (-250, -11),
    window: Window | str = (-1, 3),
    car_window: Window | str | None = None,
    return_kind: str = "simple",
    convention: str = "default",
    min_estimation: int = MIN_ESTIMATION_DEFAULT,
    prices: pd.DataFrame | None = None,
) -> EventStudyResults:
    """Run an event study for one or more firms.

    Parameters
    ----------
    symbols : str or list of str
        Firms (tickers as cached, e.g. "NVDA").
    event : str, Day0 or mapping
        A registry id ("E08"), a date ("2023-10-17") or date and US Eastern time
        ("2023-10-17T17:27"), shared by all firms; or a mapping firm -> event for distinct dates.
    market : str
        The market index for ``market_model`` / ``market_adjusted`` (e.g. "SPY", "QQQ", "SOXX").
        A firm may not be its own market or factor: the same symbol is a SpecificationError, a
        firm the regressors explain almost exactly (1 - R^2 below
        :data:`analysis.eventstudy.models.MIN_UNEXPLAINED_SHARE`) an EstimationError.
    model : {"market_model", "market_adjusted", "constant_mean", "factor_model"}
    factors : str or list of str
        Regressors of ``factor_model`` (e.g. ["SPY", "SOXX"]; a string is one symbol).
    estimation, window : (int, int) or "a:b"
        Trading days relative to day 0; they must not overlap.
    car_window : (int, int), optional
        The headline CAR window (default: the whole event window).
    return_kind : {"simple", "log"}
    convention : {"default", "estudy2"}
        Residual divisor ``L - k`` (default) or estudy2's ``L - 1`` and prediction-error factor.
    min_estimation : int
        Fewest valid estimation returns a firm may have.
    prices : DataFrame, optional
        Adjusted closes (date x symbol) to use instead of the price cache.
    """
    from analysis.data.prices import normalize_symbol

    syms = as_symbols(symbols)
    if not syms:
        raise SpecificationError("no symbols given")
    if len(set(syms)) != len(syms):
        raise SpecificationError(f"symbols repeat: {', '.join(syms)}")
    if isinstance(event, Mapping):
        event = {normalize_symbol(k): v for k, v in event.items()}
    if prices is not None and not isinstance(prices, pd.DataFrame):
        raise SpecificationError(
            "prices must be a DataFrame of adjusted closes (dates x symbols), "
            f"got {type(prices).__name__}"
        )
    if isinstance(min_estimation, bool) or not isinstance(min_estimation, int | np.integer):
        raise SpecificationError(
            "min_estimation must be a whole number of estimation returns (e.g. 30), "
            f"got {min_estimation!r}"
        )
    spec = make_spec(
        model,
        normalize_symbol(market) if market else market,
        as_symbols(factors, "factors", "'SPY'") if factors is not None else None,
    )
    own = own_regressor_error(syms, spec)
    if own is not None:
        raise own
    est_w = _as_window(estimation, "estimation")
    evt_w = _as_window(window, "event")
    _check_windows(est_w, evt_w)
    car_w = evt_w if car_window is None else _as_window(car_window, "CAR")
    if car_w[0] < evt_w[0] or car_w[1] > evt_w[1]:
        raise SpecificationError(
            f"CAR window {calendar.format_window(car_w)} is not inside the event window "
            f"{calendar.format_window(evt_w)}"
        )

    if isinstance(event, Mapping):
        unknown = sorted(set(event) - set(syms))
        if unknown or set(syms) - set(event):
            raise SpecificationError(
                "an event mapping needs exactly one event per symbol; "
                f"extra: {unknown or 'none'}, missing: {sorted(set(syms) - set(event)) or 'none'}"
            )
        resolved = {s: _resolve_event(event[s]) for s in syms}
        registry_event = None
    else:
        ev, d0 = _resolve_event(event)
        resolved = {s: (ev, d0) for s in syms}
        registry_event = ev

    needed = list(dict.fromkeys([*syms, *spec.factors]))
    if prices is None:
        px = _load_prices(needed)
    else:
        prices = prices.rename(columns=lambda c: str(c).upper())
        absent = [s for s in needed if s not in prices.columns]
        if absent:
            raise DataError(f"the prices given have no column for {', '.join(absent)}")
        px = prices[needed]
    px = px.dropna(how="all")
    if px.empty:
        raise DataError(f"no prices for {', '.join(needed)}")
    sessions = calendar.sessions(px.index.min(), px.index.max())
    rets = returns_from_prices(px, kind=return_kind, sessions=sessions)

    design = build_design(rets, [(s, resolved[s][1]) for s in syms], spec, est_w, evt_w)
    fit = fit_arrays(
        design.y_est,
        design.X_est,
        design.y_evt,
        design.X_evt,
        spec=spec,
        offset_est=design.off_est,
        offset_evt=design.off_evt,
        convention=convention,
        min_estimation=min_estimation,
        firm_names=design.firms,
    )
    return EventStudyResults(
        design=design,
        fit=fit,
        spec=spec,
        estimation=est_w,
        window=evt_w,
        car_window=car_w,
        return_kind=return_kind,
        event=registry_event,
        price_range=(px.index.min(), px.index.max()),
    )


# --------------------------------------------------------------------------------------------
# results objects
# --------------------------------------------------------------------------------------------


def _fmt(x: float, spec: str = ".4f") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, spec)


def _pfmt(p: float) -> str:
    if p is None or not math.isfinite(p):
        return "-"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


@dataclass(frozen=True)
class TestTable:
    """A set of test results (one window): ``to_frame()``, ``summary()``, ``_repr_html_``."""

    results: tuple[inference.TestResult, ...]
    window: Window
    title: str = "Tests"

    def __getitem__(self, name: str) -> inference.TestResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no test {name!r}; available: {', '.join(r.name for r in self.results)}")

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.results]

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for r in self.results:
            rows.append(
                {
                    "test": r.name,
                    "stat": float(r.stat),
                    "pvalue": float(r.pvalue),
                    "n": int(r.n),
                    "distribution": r.distribution,
                    "variant": r.variant,
                    "assumes_independence": r.name in inference.INDEPENDENCE_ASSUMED,
                    "rbar": float(r.extra["rbar"]) if "rbar" in r.extra else np.nan,
                }
            )
        return pd.DataFrame(rows).set_index("test")

    def summary(self) -> str:
        df = self.to_frame()
        lines = [f"{self.title} over {calendar.format_window(self.window)}"]
        lines.append(f"{'test':<24}{'stat':>10}{'p-value':>10}{'N':>6}  distribution")
        for name, row in df.iterrows():
            flag = "  (assumes independence)" if row.assumes_independence else ""
            lines.append(
                f"{name:<24}{_fmt(row.stat, '.3f'):>10}{_pfmt(row.pvalue):>10}{row.n:>6}  {row.distribution}{flag}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return (
            f"<p><b>{html.escape(self.title)}</b> over {html.escape(calendar.format_window(self.window))}</p>"
            + self.to_frame().to_html(float_format=lambda v: f"{v:.4f}", escape=True)
        )


@dataclass(frozen=True)
class CARResult:
    """CAR over one window: per-firm CAR with its exact standard error, and the cross-section."""

    window: Window
    car: pd.Series  # per firm
    se: pd.Series  # sigma_i sqrt(1'C_i 1)
    t: pd.Series
    pvalue: pd.Series
    dof: pd.Series
    caar: float
    n: int
    tests: TestTable | None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"car": self.car, "se": self.se, "t": self.t, "pvalue": self.pvalue, "dof": self.dof}
        )

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Per-firm CAR confidence intervals from t(L_i - k) and the exact CAR variance."""
        q = stats.t.ppf(1 - check_alpha(alpha) / 2, self.dof.to_numpy())
        return pd.DataFrame({"lower": self.car - q * self.se, "upper": self.car + q * self.se})

    def __float__(self) -> float:
        return float(self.caar)

    def __repr__(self) -> str:
        w = calendar.format_window(self.window)
        if len(self.car) == 1:
            f = self.car.index[0]
            return f"CAR{w} {f}: {self.car.iloc[0]:.4f} (se {self.se.iloc[0]:.4f}, t {self.t.iloc[0]:.2f}, p {_pfmt(self.pvalue.iloc[0])})"
        return f"CAAR{w}: {self.caar:.4f} over N={self.n} firms"

    def _repr_html_(self) -> str:
        body = self.to_frame().to_html(float_format=lambda v: f"{v:.4f}")
        extra = self.tests._repr_html_() if self.tests is not None else ""
        return f"<p><b>{html.escape(repr(self))}</b></p>{body}{extra}"


class EventStudyResults:
    """Results of :func:`event_study` (immutable; derived tables are computed on first use)."""

    def __init__(
        self,
        *,
        design: EventDesign,
        fit: FitArrays,
        spec: ModelSpec,
        estimation: Window,
        window: Window,
        car_window: Window,
        return_kind: str,
        event: object | None,
        price_range: tuple[pd.Timestamp, pd.Timestamp],
    ):
        self._design = design
        self._fit = fit
        self._spec = spec
        self._estimation = estimation
        self._window = window
        self._car_window = car_window
        self._return_kind = return_kind
        self._event = event
        self._price_range = price_range

    # ---- descriptive attributes -----------------------------------------------------------
    @property
    def firms(self) -> list[str]:
        return list(self._design.firms)

    @property
    def model(self) -> ModelSpec:
        return self._spec

    @property
    def event(self) -> object | None:
        """The registry event (with title and source) when the study was given an event id."""
        return self._event

    @property
    def day0(self) -> calendar.Day0:
        """Day 0 and why (for several dates: the first firm's; see :attr:`day0_table`)."""
        return self._design.day0[0]

    @property
    def day0_table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "day0": [d.day0 for d in self._design.day0],
                "reason": [d.reason for d in self._design.day0],
            },
            index=pd.Index(self.firms, name="firm"),
        )

    @property
    def shared_date(self) -> bool:
        return self._design.shared_date

    @property
    def estimation(self) -> Window:
        return self._estimation

    @property
    def window(self) -> Window:
        return self._window

    @property
    def car_window(self) -> Window:
        return self._car_window

    @property
    def convention(self) -> str:
        return self._fit.convention

    def window_dates(self, which: str = "event") -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last date of the ``"event"`` or ``"estimation"`` window (first firm)."""
        if which not in ("event", "estimation"):
            raise SpecificationError(f"which must be 'event' or 'estimation', got {which!r}")
        arr = self._design.evt_dates if which == "event" else self._design.est_dates
        return pd.Timestamp(arr[0, 0]), pd.Timestamp(arr[0, -1])

    # ---- estimates ---------------------------------------------------------------------------
    @cached_property
    def params(self) -> pd.DataFrame:
        """Per firm: model parameters, sigma, R-squared, estimation days used and dropped."""
        f = self._fit
        df = pd.DataFrame(
            f.params, index=pd.Index(self.firms, name="firm"), columns=list(self._spec.param_names)
        )
        df["sigma"] = f.sigma
        df["r2"] = f.r2
        df["n_estimation"] = f.n_est.astype(int)
        df["n_missing"] = (len(self._design.est_days) - f.n_est).astype(int)
        df["dof"] = f.dof
        return df

    @property
    def rel_days(self) -> np.ndarray:
        return self._design.evt_days.copy()

    @cached_property
    def ar(self) -> pd.DataFrame:
        """Abnormal returns: rows = relative day, columns = firms (NaN where the return is missing)."""
        return pd.DataFrame(
            self._fit.ar.T, index=pd.Index(self._design.evt_days, name="day"), columns=self.firms
        )

    @cached_property
    def ar_se(self) -> pd.DataFrame:
        """Prediction-error standard deviation of each AR: sigma_i sqrt(C_i[t,t]) (Patell 1976)."""
        d = np.sqrt(np.diagonal(self._fit.cov, axis1=1, axis2=2)) * self._fit.sigma[:, None]
        return pd.DataFrame(d.T, index=self.ar.index, columns=self.firms)

    @property
    def dates(self) -> pd.DataFrame:
        """Calendar date of each relative day for each firm."""
        return pd.DataFrame(self._design.evt_dates.T, index=self.ar.index, columns=self.firms)

    def _days(self, window: Window | str | None, hint: str = "") -> tuple[Window, np.ndarray]:
        try:
            w = self._car_window if window is None else _as_window(window, "CAR")
        except calendar.WindowError as exc:
            raise calendar.WindowError(
                f"{exc}; a window must lie inside the event window "
                f"{calendar.format_window(self._window)} (leave it out for the CAR window "
                f"{calendar.format_window(self._car_window)}){hint}"
            ) from None
        if w[0] < self._window[0] or w[1] > self._window[1]:
            raise SpecificationError(
                f"window {calendar.format_window(w)} is not inside the event window {calendar.format_window(self._window)}"
            )
        days = np.flatnonzero((self._design.evt_days >= w[0]) & (self._design.evt_days <= w[1]))
        return w, days

    @cached_property
    def _inputs(self) -> inference.TestInputs:
        f = self._fit
        return inference.TestInputs.from_fit(f, self._design.market_est, self._design.market_evt)

    def car(self, window: Window | str | None = None, *, tests: bool = True) -> CARResult:
        """CAR over ``window`` (default: the CAR window): per firm CAR, exact se, t and p, and the
        cross-sectional CAAR with every multi-firm test (when there are two or more firms)."""
        w, days = self._days(window)
        f = self._fit
        car = f.ar[:, days].sum(axis=1)
        sub = f.cov[:, days][:, :, days]
        se = f.sigma * np.sqrt(sub.sum(axis=(1, 2)))
        t = car / se
        p = 2 * stats.t.sf(np.abs(t), f.dof)
        idx = pd.Index(self.firms, name="firm")
        ok = np.isfinite(car)
        tests = self.tests(w) if tests and len(self.firms) > 1 else None
        return CARResult(
            window=w,
            car=pd.Series(car, idx),
            se=pd.Series(se, idx),
            t=pd.Series(t, idx),
            pvalue=pd.Series(p, idx),
            dof=pd.Series(f.dof, idx),
            caar=float(np.mean(car[ok])) if ok.any() else float("nan"),
            n=int(ok.sum()),
            tests=tests,
        )

    def bhar(self, window: Window | str | None = None) -> pd.Series:
        """Buy-and-hold abnormal return: prod(1+R) - prod(1+E[R]) over the window (Barber & Lyon 1997)."""
        w, days = self._days(window)
        r = self._design.y_evt[:, days]
        e = self._fit.expected[:, days]
        if self._return_kind == "log":
            r, e = np.expm1(r), np.expm1(e)
        out = np.prod(1 + r, axis=1) - np.prod(1 + e, axis=1)
        return pd.Series(
            out, index=pd.Index(self.firms, name="firm"), name=f"bhar{calendar.format_window(w)}"
        )

    def caar(self, window: Window | str | None = None) -> float:
        return self.car(window).caar

    # ---- tests -------------------------------------------------------------------------------
    def tests(
        self, window: Window | str | None = None, names: Sequence[str] | None = None, **options
    ) -> TestTable:
        """Multi-firm tests over ``window`` (needs two or more firms); ``names`` chooses among
        :data:`analysis.eventstudy.inference.MULTI_FIRM_TESTS` (a string is one name; default: all)."""
        if len(self.firms) < 2:
            raise SpecificationError(
                "multi-firm tests need two or more firms; for one firm use firm_tests() "
                "(prediction-error t, SQ, event-dummy OLS/HAC)"
            )
        multi = ", ".join(inference.MULTI_FIRM_TESTS)
        if isinstance(window, str) and window in inference.SINGLE_FIRM_TESTS:
            raise SpecificationError(
                f"{window!r} is a single-firm test: use firm_tests() for it; "
                f"multi-firm tests: {multi}"
            )
        if isinstance(window, str) and window in inference.MULTI_FIRM_TESTS:
            a, b = self._window
            raise SpecificationError(
                f"{window!r} is a test name, not a window: use tests(names=[{window!r}]), "
                f"or tests(window, names=[{window!r}]) for a window such as '{a}:{b}'"
            )
        w, days = self._days(window, hint=f"; tests are chosen with names=[...] from: {multi}")
        if isinstance(names, str):
            names = [names]
        if names is not None:
            names = list(names)
            if not names:
                raise SpecificationError(
                    f"names is empty: choose one or more multi-firm tests from: {multi}, "
                    "or leave names out for all of them"
                )
            for n in names:
                if n in inference.SINGLE_FIRM_TESTS:
                    raise SpecificationError(
                        f"{n!r} is a single-firm test: use firm_tests() for it; "
                        f"multi-firm tests: {multi}"
                    )
                if n not in inference.MULTI_FIRM_TESTS:
                    raise SpecificationError(f"unknown test {n!r}; multi-firm tests: {multi}")
        if names is None:
            # every multi-firm test that the usable cross-section supports; the others are listed
            # with the reason instead of stopping the table
            usable = int(np.isfinite(self._fit.ar[:, days]).all(axis=1).sum())
            reasons = {
                n: f"not computed: needs at least {inference.MIN_FIRMS.get(n, 2)} firms with complete ARs"
                for n in inference.MULTI_FIRM_TESTS
                if usable < inference.MIN_FIRMS.get(n, 2)
            }
            if not self.shared_date:
                reasons.setdefault("lamb", "not computed: needs one shared event date")
            if self._design.market_est is None:
                reasons.setdefault(
                    "lamb", "not computed: needs a market index (this model has none)"
                )
            chosen = [n for n in inference.MULTI_FIRM_TESTS if n not in reasons]
        else:
            chosen, reasons, usable = list(names), {}, 0
        res = (
            list(inference.run_tests(self._inputs, days, names=chosen, **options)) if chosen else []
        )
        for n, why in reasons.items():
            res.append(inference.TestResult(n, float("nan"), float("nan"), usable, why, "-"))
        return TestTable(tuple(res), w, title=f"Cross-section of {len(self.firms)} firms")

    def daily_tests(self, names: Sequence[str] | None = None, **options) -> pd.DataFrame:
        """Every multi-firm test on each event day: rows (day, test)."""
        frames = []
        for d in self._design.evt_days:
            tt = self.tests((int(d), int(d)), names=names, **options).to_frame()
            tt.insert(0, "day", int(d))
            frames.append(tt.reset_index())
        return pd.concat(frames, ignore_index=True).set_index(["day", "test"])

    def firm_tests(
        self,
        window: Window | str | None = None,
        *,
        hac_lags: int | None = None,
        sq_blocking: str = "overlapping",
        dummy: bool = True,
    ) -> pd.DataFrame:
        """Single-firm tests per firm over ``window``: prediction-error t, SQ (GHK 2013), and the
        event-dummy regression with OLS and Newey-West errors (``dummy=False`` skips the
        per-firm statsmodels regressions). Rows (firm, test)."""
        w, days = self._days(window)
        rows = []
        tpe = inference.get_test("t_prediction_error")(self._inputs, days)
        sq = inference.get_test("sq")(self._inputs, days, blocking=sq_blocking)
        d = self._design
        for i, firm in enumerate(self.firms):
            n_i = int(self._fit.n_est[i])
            for name, r in (("t_prediction_error", tpe), ("sq", sq)):
                rows.append(
                    (firm, name, float(r.stat[i]), float(r.pvalue[i]), n_i, str(r.distribution))
                )
            if dummy and self._spec.k:
                y_est = d.y_est[i] - (d.off_est[i] if d.off_est is not None else 0)
                y_evt = d.y_evt[i] - (d.off_evt[i] if d.off_evt is not None else 0)
                dr = event_dummy_regression(
                    y_est, d.X_est[i], y_evt, d.X_evt[i], days, hac_lags=hac_lags
                )
                rows.append(
                    (firm, "dummy_ols", dr.car_t_ols, dr.car_p_ols, dr.n, f"t({dr.df_resid:.0f})")
                )
                hac = f"N(0,1), Newey-West {dr.hac_lags} lags"
                rows.append((firm, "dummy_hac", dr.car_t_hac, dr.car_p_hac, dr.n, hac))
        df = pd.DataFrame(rows, columns=["firm", "test", "stat", "pvalue", "n", "distribution"])
        return df.set_index(["firm", "test"])

    def portfolio(self) -> EventStudyResults:
        """The equal-weighted portfolio of the firms treated as one firm (same date only), so the
        single-firm tests apply to a clustered cross-section (formula (19b), docs/formulas.md). On a
        day when some firms have no return, the portfolio return is the mean of the others."""
        if not self.shared_date:
            raise SpecificationError("a portfolio of firms needs one shared event date")
        d = self._design
        with np.errstate(invalid="ignore"):
            y_est = np.nanmean(d.y_est, axis=0, keepdims=True) if len(self.firms) else d.y_est
            y_evt = np.nanmean(d.y_evt, axis=0, keepdims=True)
        pd_design = EventDesign(
            firms=("portfolio",),
            day0=d.day0[:1],
            est_days=d.est_days,
            evt_days=d.evt_days,
            est_dates=d.est_dates[:1],
            evt_dates=d.evt_dates[:1],
            y_est=y_est,
            y_evt=y_evt,
            X_est=d.X_est[:1],
            X_evt=d.X_evt[:1],
            off_est=None if d.off_est is None else d.off_est[:1],
            off_evt=None if d.off_evt is None else d.off_evt[:1],
            market_est=None if d.market_est is None else d.market_est[:1],
            market_evt=None if d.market_evt is None else d.market_evt[:1],
        )
        fit = fit_arrays(
            pd_design.y_est,
            pd_design.X_est,
            pd_design.y_evt,
            pd_design.X_evt,
            spec=self._spec,
            offset_est=pd_design.off_est,
            offset_evt=pd_design.off_evt,
            convention=self._fit.convention,
            min_estimation=1,
            firm_names=["portfolio"],
        )
        return EventStudyResults(
            design=pd_design,
            fit=fit,
            spec=self._spec,
            estimation=self._estimation,
            window=self._window,
            car_window=self._car_window,
            return_kind=self._return_kind,
            event=self._event,
            price_range=self._price_range,
        )

    def against_group(
        self, window: Window | str | None = None, alpha: float = 0.10
    ) -> pd.DataFrame:
        """Firms whose CAR has the opposite sign to the CAAR, with their prediction-error p-value
        and whether it is below ``alpha`` (several firms only)."""
        alpha = check_alpha(alpha)
        cr = self.car(window)
        sign = np.sign(cr.caar)
        df = cr.to_frame().dropna(subset=["car"])
        df = df[np.sign(df["car"]) == -sign].copy()
        df["significant"] = df["pvalue"] < alpha
        return df.sort_values("car", ascending=bool(sign < 0))

    def headline(self, window: Window | str | None = None) -> dict:
        """The headline figures of the study (plain floats and strings), for reports."""
        cr = self.car(window)
        out: dict = {
            "day0": f"{self.day0.day0:%Y-%m-%d}",
            "model": self._spec.label,
            "car_window": calendar.format_window(cr.window),
            "n_firms": len(self.firms),
        }
        ft = self.firm_tests(window)
        if len(self.firms) == 1:
            firm = self.firms[0]
            out.update(
                {
                    "ar_day0": _num(self.ar.loc[0, firm]) if 0 in self.ar.index else None,
                    "car": _num(cr.car[firm]),
                    "car_se": _num(cr.se[firm]) if np.isfinite(cr.car[firm]) else None,
                    "t": _num(cr.t[firm]),
                    "pvalue": _num(cr.pvalue[firm]),
                    "sq_pvalue": _num(ft.loc[(firm, "sq"), "pvalue"]),
                    "dummy_hac_pvalue": _num(ft.loc[(firm, "dummy_hac"), "pvalue"])
                    if (firm, "dummy_hac") in ft.index
                    else None,
                    "bhar": _num(self.bhar(window)[firm]),
                    "n_estimation": int(self.params.loc[firm, "n_estimation"]),
                }
            )
            return out
        tt = cr.tests.to_frame()
        out.update(
            {
                "caar": _num(cr.caar),
                "n_used": cr.n,
                "rbar": _num(tt["rbar"].dropna().iloc[0]) if tt["rbar"].notna().any() else None,
            }
        )
        for name in ("cross_sectional_t", "bmp", "kp_bmp", "bw_cda", "grank", "generalized_sign"):
            if name in tt.index:
                out[f"{name}_stat"] = _num(tt.loc[name, "stat"])
                out[f"{name}_pvalue"] = _num(tt.loc[name, "pvalue"])
        if self.shared_date:
            pr = self.portfolio()
            pft = pr.firm_tests(window)
            out["portfolio_car"] = _num(pr.car(window).car.iloc[0])
            out["portfolio_t_pvalue"] = _num(pft.loc[("portfolio", "t_prediction_error"), "pvalue"])
            out["portfolio_sq_pvalue"] = _num(pft.loc[("portfolio", "sq"), "pvalue"])
        out["against_group"] = list(self.against_group(window).index)
        return out

    def conclusion(self, window: Window | str | None = None, alpha: float = 0.05) -> str:
        """A plain-language paragraph stating the estimate, its uncertainty and the main tests."""
        alpha = check_alpha(alpha)
        cr = self.car(window)
        w = calendar.format_window(cr.window)
        days = self._days(cr.window)[1]
        d_lo = pd.Timestamp(self._design.evt_dates[0, days[0]])
        d_hi = pd.Timestamp(self._design.evt_dates[0, days[-1]])
        span = f"{w} ({d_lo:%Y-%m-%d} to {d_hi:%Y-%m-%d})" if self.shared_date else w
        ft = self.firm_tests(window)
        if len(self.firms) == 1:
            f = self.firms[0]
            p = {
                t: ft.loc[(f, t), "pvalue"]
                for t in ("t_prediction_error", "sq", "dummy_hac")
                if (f, t) in ft.index
            }
            sig = [t for t, v in p.items() if v < alpha]
            verdict = (
                f"significant at the {alpha:.0%} level by {', '.join(sig)}"
                if sig
                else f"not significant at the {alpha:.0%} level by any of these tests"
            )
            tests = "; ".join(f"{t} p = {_pfmt(v)}" for t, v in p.items())
            parts = (
                [f"abnormal return on day 0 {self.ar.loc[0, f]:+.2%}"] if 0 in self.ar.index else []
            )
            parts.append(
                f"CAR over {span} {cr.car[f]:+.2%} (standard error {cr.se[f]:.2%}, {self._spec.label})"
            )
            return f"{f}: {'; '.join(parts)}. {tests}: {verdict}."
        tt = cr.tests.to_frame()
        robust = [
            t
            for t in ("kp_bmp", "bw_cda", "grank")
            if t in tt.index and np.isfinite(tt.loc[t, "pvalue"])
        ]
        naive = [
            t
            for t in ("cross_sectional_t", "bmp", "patell")
            if t in tt.index and np.isfinite(tt.loc[t, "pvalue"])
        ]
        rbar = tt["rbar"].dropna()
        text = f"CAAR over {span} across {cr.n} firms: {cr.caar:+.2%}"
        if len(rbar):
            text += f"; average residual correlation r-bar = {rbar.iloc[0]:.2f}"
        text += ". Tests robust to the shared date: " + "; ".join(
            f"{t} p = {_pfmt(tt.loc[t, 'pvalue'])}" for t in robust
        )
        if naive:
            text += ". Tests that assume independence (shown for comparison): " + "; ".join(
                f"{t} p = {_pfmt(tt.loc[t, 'pvalue'])}" for t in naive
            )
        sig = [t for t in robust if tt.loc[t, "pvalue"] < alpha]
        text += (
            f". The group reaction is significant at {alpha:.0%} by {', '.join(sig)}."
            if sig
            else f". No clustering-robust test is significant at {alpha:.0%}."
        )
        against = self.against_group(window)
        if len(against):
            text += f" Moved against the group: {', '.join(f'{f} ({c:+.2%})' for f, c in against['car'].items())}."
        return text

    # ---- statsmodels-like accessors ----------------------------------------------------------
    @property
    def pvalues(self) -> pd.Series:
        """Prediction-error p-value of each firm's CAR over the CAR window."""
        return self.car().pvalue

    def conf_int(self, alpha: float = 0.05, window: Window | str | None = None) -> pd.DataFrame:
        return self.car(window).conf_int(alpha)

    def to_frame(self) -> pd.DataFrame:
        """Tidy AR/CAR: one row per firm and event day."""
        d, f = self._design, self._fit
        L2 = len(d.evt_days)
        car = np.cumsum(np.nan_to_num(f.ar), axis=1)
        car[~np.isfinite(np.cumsum(f.ar, axis=1))] = np.nan
        cumvar = np.array(
            [[f.cov[i, : j + 1, : j + 1].sum() for j in range(L2)] for i in range(len(self.firms))]
        )
        df = pd.DataFrame(
            {
                "firm": np.repeat(self.firms, L2),
                "day": np.tile(d.evt_days, len(self.firms)),
                "date": d.evt_dates.ravel(),
                "return": d.y_evt.ravel(),
                "expected": f.expected.ravel(),
                "ar": f.ar.ravel(),
                "ar_se": (np.sqrt(np.diagonal(f.cov, axis1=1, axis2=2)) * f.sigma[:, None]).ravel(),
                "car": car.ravel(),
                "car_se": (np.sqrt(cumvar) * f.sigma[:, None]).ravel(),
            }
        )
        df["ar_t"] = df["ar"] / df["ar_se"]
        df["car_t"] = df["car"] / df["car_se"]
        return df

    def to_dict(self) -> dict:
        """The ``study --json`` document (keys as in the README, "Command line"; dates ISO)."""
        cr = self.car()
        ft = self.firm_tests()
        est0, est1 = self.window_dates("estimation")
        ev0, ev1 = self.window_dates("event")
        firms = {}
        for i, firm in enumerate(self.firms):
            p = self.params.loc[firm]
            ar = {
                pd.Timestamp(dt).date().isoformat(): _num(v)
                for dt, v in zip(self._design.evt_dates[i], self._fit.ar[i], strict=True)
            }
            firms[firm] = {
                "alpha": _num(p["alpha"]) if "alpha" in p else None,
                "beta": _num(p["beta"]) if "beta" in p else None,
                "params": {k: _num(p[k]) for k in self._spec.param_names},
                "sigma": _num(p["sigma"]),
                "r2": _num(p["r2"]),
                "n_estimation": int(p["n_estimation"]),
                "day0": self._design.day0[i].day0.date().isoformat(),
                "ar": ar,
                "car": _num(cr.car[firm]),
                "car_se": _num(cr.se[firm]) if np.isfinite(cr.car[firm]) else None,
                "bhar": _num(self.bhar()[firm]),
                "tests": {
                    t: {"stat": _num(r.stat), "pvalue": _num(r.pvalue)}
                    for (_, t), r in ft.loc[[firm]].iterrows()
                },
            }
        doc = {
            "day0": self.day0.day0.date().isoformat(),
            "day0_reason": self.day0.reason,
            "event": _event_dict(self._event),
            "model": self._spec.name,
            "market": self._spec.factors[0]
            if self._spec.name in ("market_model", "market_adjusted")
            else None,
            "factors": list(self._spec.factors),
            "convention": self._fit.convention,
            "return_kind": self._return_kind,
            "estimation": {
                "days": list(self._estimation),
                "start": est0.date().isoformat(),
                "end": est1.date().isoformat(),
            },
            "window": {
                "days": list(self._window),
                "start": ev0.date().isoformat(),
                "end": ev1.date().isoformat(),
            },
            "car_window": list(self._car_window),
            "firms": firms,
        }
        if len(self.firms) > 1:
            tt = cr.tests
            rbar = next((r.extra["rbar"] for r in tt.results if "rbar" in r.extra), float("nan"))
            port = None
            if self.shared_date:
                pr = self.portfolio()
                pft = pr.firm_tests()
                port = {
                    "car": _num(pr.car().car.iloc[0]),
                    "tests": {
                        t: {"stat": _num(r.stat), "pvalue": _num(r.pvalue)}
                        for (_, t), r in pft.iterrows()
                    },
                }
            doc["cross_section"] = {
                "caar": _num(cr.caar),
                "n": cr.n,
                "rbar": _num(rbar),
                "tests": {
                    r.name: {"stat": _num(r.stat), "pvalue": _num(r.pvalue), "n": int(r.n)}
                    for r in tt.results
                },
                "portfolio": port,
            }
        return doc

    # ---- display -----------------------------------------------------------------------------
    def summary(self) -> Summary:
        return Summary(self)

    def __repr__(self) -> str:
        return (
            f"<EventStudyResults {self._spec.label}, {len(self.firms)} firm(s), day 0 "
            f"{self.day0.day0.date()}, window {calendar.format_window(self._window)}>"
        )

    def _repr_html_(self) -> str:
        return self.summary().as_html()


def _num(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _event_dict(ev) -> dict | None:
    if ev is None:
        return None
    out = {}
    for key in ("event_id", "title", "kind", "source_title", "source_url"):
        if hasattr(ev, key):
            out[key] = getattr(ev, key)
    return out


class Summary:
    """statsmodels-style summary: ``str()`` gives text, ``as_html()`` / ``_repr_html_`` HTML."""

    def __init__(self, res: EventStudyResults):
        self._res = res

    def _header(self) -> list[tuple[str, str]]:
        r = self._res
        est0, est1 = r.window_dates("estimation")
        ev0, ev1 = r.window_dates("event")
        conv = "residual divisor L-k" if r.convention == "default" else "estudy2 (divisor L-1)"
        ev = r.event
        rows = []
        if ev is not None and hasattr(ev, "event_id"):
            rows.append(("Event", f"{ev.event_id}: {getattr(ev, 'title', '')}"))
        rows += [
            (
                "Day 0",
                f"{r.day0.day0.date()} -- {r.day0.reason}"
                if r.shared_date
                else "several dates (see day0_table)",
            ),
            ("Model", r.model.label),
            (
                "Estimation",
                f"{calendar.format_window(r.estimation)} = {est0.date()} to {est1.date()}",
            ),
            ("Event window", f"{calendar.format_window(r.window)} = {ev0.date()} to {ev1.date()}"),
            ("CAR window", calendar.format_window(r.car_window)),
            ("Returns", f"{r._return_kind}, adjusted close; {conv}"),
            ("Firms", str(len(r.firms))),
        ]
        return rows

    def _firm_table(self) -> pd.DataFrame:
        r = self._res
        cr = r.car()
        ft = r.firm_tests()
        p = r.params
        df = pd.DataFrame(index=pd.Index(r.firms, name="firm"))
        for name in r.model.param_names:
            df[name] = p[name]
        df["sigma"] = p["sigma"]
        df["R2"] = p["r2"]
        df["n_est"] = p["n_estimation"]
        if 0 in r.ar.index:
            df["AR(0)"] = r.ar.loc[0]
        df["CAR"] = cr.car
        df["se"] = cr.se
        df["t"] = cr.t
        df["p"] = cr.pvalue
        for name, label in (("sq", "p SQ"), ("dummy_hac", "p HAC")):
            if (r.firms[0], name) in ft.index:
                df[label] = [ft.loc[(f, name), "pvalue"] for f in r.firms]
        return df

    def as_text(self) -> str:
        r = self._res
        width = 96
        out = ["Event study results".center(width), "=" * width]
        out += [f"{k + ':':<14}{v}" for k, v in self._header()]
        out.append("=" * width)
        out.append(
            f"Per firm, CAR over {calendar.format_window(r.car_window)} (t and p from the exact CAR variance, t(L-k)):"
        )
        out.append(self._firm_table().to_string(float_format=lambda v: f"{v:.4f}"))
        if len(r.firms) > 1:
            out.append("-" * width)
            out.append(r.car().tests.summary())
            if r.shared_date:
                pr = r.portfolio()
                pft = pr.firm_tests()
                out.append("-" * width)
                out.append(f"Equal-weighted portfolio as one firm: CAR {pr.car().car.iloc[0]:.4f}")
                for (_, t), row in pft.iterrows():
                    out.append(
                        f"  {t:<22}{_fmt(row.stat, '.3f'):>10}{_pfmt(row.pvalue):>10}  {row.distribution}"
                    )
        out.append("=" * width)
        return "\n".join(out)

    def as_html(self) -> str:
        r = self._res
        head = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._header()
        )
        parts = [
            f"<table>{head}</table>",
            "<p><b>Per firm</b> (CAR over "
            + html.escape(calendar.format_window(r.car_window))
            + ")</p>",
        ]
        parts.append(self._firm_table().to_html(float_format=lambda v: f"{v:.4f}"))
        if len(r.firms) > 1:
            parts.append(r.car().tests._repr_html_())
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


def compare(
    results: Mapping[str, EventStudyResults], window: Window | str | None = None
) -> pd.DataFrame:
    """Several studies side by side: per study and firm the CAR, its se, t and p, day 0 and model."""
    how = "a mapping of label -> event_study(...) results, e.g. {'SPY': res_spy, 'QQQ': res_qqq}"
    if not isinstance(results, Mapping):
        raise SpecificationError(f"compare() takes {how}; got {type(results).__name__}")
    if not results:
        raise SpecificationError(f"compare() got no studies: pass {how}")
    for label, res in results.items():
        if not isinstance(res, EventStudyResults):
            raise SpecificationError(
                f"compare(): study {label!r} is {type(res).__name__}, not the result of "
                "event_study(...)"
            )
    rows = []
    for label, res in results.items():
        cr = res.car(window)
        for firm in res.firms:
            rows.append(
                {
                    "study": label,
                    "firm": firm,
                    "day0": res.day0_table.loc[firm, "day0"],
                    "model": res.model.label,
                    "window": calendar.format_window(cr.window),
                    "car": cr.car[firm],
                    "se": cr.se[firm],
                    "t": cr.t[firm],
                    "pvalue": cr.pvalue[firm],
                }
            )
    return pd.DataFrame(rows).set_index(["study", "firm"])
