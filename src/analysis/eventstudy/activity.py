"""Trading activity around events: abnormal log volume and abnormal return volatility.

>>> import analysis as an
>>> vol = an.abnormal_volume(["NVDA"], "E08", model="mean")              # doctest: +SKIP
>>> vol.summary()       # abnormal log volume per firm with its t and SQ tests
>>> var = an.abnormal_volatility(["NVDA"], "E08", market="SPY")          # doctest: +SKIP
>>> var.ratio()         # mean of AR_t^2 / s^2 over the test window

Abnormal volume (Ajinkya & Jain 1989, JAE 11(4):331-360; Campbell & Wasley 1996, Rev. Quant.
Fin. Acc. 6(3):309-326) uses v_it = log(shares traded + 1). The papers use log turnover; shares
outstanding over time are not in the price data, and within a firm the two differ by log shares
outstanding, nearly constant over a year, which the intercept absorbs. The same design and fit
functions as :func:`analysis.eventstudy.event_study` run on log volume in place of returns.

Abnormal volatility (Beaver 1968, JAR 6:67-92; Landsman & Maydew 2002, JAR 40(3):797-808):
U_it = AR_it^2 / s_i^2 from the return event study, tested with Chow's (1960, Econometrica
28(3):591-605) predictive F.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import special, stats

from analysis._export import ExportMixin
from analysis._summary import Summary, SummaryMixin
from analysis.data import calendar
from analysis.errors import CalendarError, DataError, EstimationError, SpecificationError
from analysis.eventstudy import _paper_tables, inference
from analysis.eventstudy.design import (
    EventDesign,
    Window,
    as_symbols,
    as_window,
    build_design,
    check_alpha,
    check_earnings_exclusion,
    check_windows,
    exclusion_days,
    parse_exclude,
)
from analysis.eventstudy.models import (
    MIN_ESTIMATION_DEFAULT,
    FitArrays,
    ModelSpec,
    fit_arrays,
    make_spec,
    own_regressor_error,
)
from analysis.eventstudy.results import EventStudyResults
from analysis.eventstudy.tables import EventDay, TestRow, TestTable, num, pfmt

_fw = calendar.format_window

#: Expected-volume models of :func:`abnormal_volume`.
VOLUME_MODELS: tuple[str, ...] = ("mean", "market")
#: Cross-sectional tests of the mean cumulative abnormal log volume (registry names).
VOLUME_TESTS: tuple[str, ...] = ("cross_sectional_t", "bw_cda", "corrado_rank", "grank")


def log_volume(volume: pd.DataFrame) -> pd.DataFrame:
    """``log(volume + 1)`` of a date x symbol panel of shares traded; NaN stays NaN (a missing
    session). Negative or infinite volume is a DataError naming the symbol and date."""
    if not isinstance(volume, pd.DataFrame) or not isinstance(volume.index, pd.DatetimeIndex):
        raise SpecificationError("volume must be a DataFrame of shares traded, dates x symbols")
    if volume.index.has_duplicates:
        dup = volume.index[volume.index.duplicated()][0].date()
        raise DataError(f"volume has duplicate dates (first: {dup}); fix the source before use")
    values = volume.apply(pd.to_numeric, errors="coerce").astype("float64")
    arr = values.to_numpy()
    bad = np.argwhere((np.isnan(arr) & volume.notna().to_numpy()) | np.isinf(arr) | (arr < 0))
    if len(bad):
        r, c = bad[0]
        raise DataError(
            f"volume of {values.columns[c]} on {values.index[r].date()} is {arr[r, c]}; shares "
            "traded must be finite and >= 0: fix the source"
        )
    return pd.DataFrame(np.log1p(arr), index=values.index, columns=values.columns).sort_index()


def _on_grid(logv: pd.DataFrame) -> pd.DataFrame:
    """Log volume on the NYSE session grid with one empty session in front: as for returns,
    position 0 holds no data, so the design's window checks apply unchanged."""
    kept = logv.dropna(how="all")
    if kept.empty:
        raise DataError(f"no volume for {', '.join(map(str, logv.columns))}")
    grid = calendar.sessions(kept.index.min(), kept.index.max())
    with contextlib.suppress(CalendarError):
        grid = grid.insert(0, calendar.offset(grid[0], -1))
    return kept.reindex(grid)


def _test_window(window: Window, value: Window | str | None) -> Window:
    w = window if value is None else as_window(value, "test")
    if w[0] < window[0] or w[1] > window[1]:
        raise SpecificationError(f"test window {_fw(w)} is outside the event window {_fw(window)}")
    return w


def _lag1_autocorrelation(resid: np.ndarray) -> np.ndarray:
    """Per row, the lag-1 sample autocorrelation of the residuals (pairs of days with data)."""
    r = resid - np.nanmean(resid, axis=1, keepdims=True)
    return np.asarray(np.nansum(r[:, 1:] * r[:, :-1], axis=1) / np.nansum(r * r, axis=1))


def _plain(row: pd.Series) -> dict[str, Any]:
    """A per-firm table row for JSON: numbers as floats (counts as int), missing as None."""
    return {k: int(v) if k == "n_estimation" else num(v) for k, v in row.items()}


@dataclass(frozen=True, eq=False, repr=False)
class _ActivityResults(SummaryMixin, ExportMixin):
    """What both activity results share: design, fit, windows (``estimation``, ``window`` and
    ``test_window``, the default window of the statistics and tests), the registry ``event``
    (None for a date), ``exclude`` (what ``exclude=`` left out, or None), and the document,
    headline and summary built from each class's per-firm table."""

    _title: ClassVar[str] = ""
    _daily_name: ClassVar[str] = ""  # the attribute holding the daily series of to_dict()

    _design: EventDesign
    _fit: FitArrays
    _spec: ModelSpec
    estimation: Window
    window: Window
    test_window: Window
    event: object | None
    exclude: tuple[str | pd.Timestamp, ...] | None

    @property
    def firms(self) -> list[str]:
        return list(self._design.firms)

    @property
    def event_day(self) -> EventDay:
        """Day 0 (``.date``) and why (for several dates the first firm's; see ``day0_table``)."""
        return EventDay.from_day0(self._design.day0[0])

    @property
    def day0_table(self) -> pd.DataFrame:
        """Per firm: its day 0 and the reason."""
        d0 = self._design.day0
        return pd.DataFrame(
            {"day0": [d.day0 for d in d0], "reason": [d.reason for d in d0]},
            index=pd.Index(self.firms, name="firm"),
        )

    @cached_property
    def excluded(self) -> pd.DataFrame:
        """Every day left out of an estimation window: firm, date, reason."""
        rows = [{"firm": f, "date": d, "reason": r} for f, d, r in self._design.excluded]
        out = pd.DataFrame(rows, columns=["firm", "date", "reason"])
        out["date"] = pd.to_datetime(out["date"])
        return out

    def window_dates(self, which: str = "event") -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last date of the ``"event"`` or ``"estimation"`` window (first firm)."""
        if which not in ("event", "estimation"):
            raise SpecificationError(f"which must be 'event' or 'estimation', got {which!r}")
        arr = self._design.evt_dates if which == "event" else self._design.est_dates
        row = arr[0][~np.isnat(arr[0])]
        return pd.Timestamp(row[0]), pd.Timestamp(row[-1])

    def _frame(self, values: np.ndarray) -> pd.DataFrame:
        """An (N, L2) array as a day x firm frame."""
        idx = pd.Index(self._design.evt_days, name="day")
        return pd.DataFrame(values.T, index=idx, columns=self.firms)

    def _tidy(self, **columns: np.ndarray) -> pd.DataFrame:
        """One row per firm and event day: firm, day, date and ``columns`` ((N, L2) arrays)."""
        d, n = self._design, len(self.firms)
        out = {"firm": np.repeat(self.firms, len(d.evt_days)), "day": np.tile(d.evt_days, n)}
        out["date"] = d.evt_dates.ravel()
        return pd.DataFrame(out | {k: np.ravel(v) for k, v in columns.items()})

    def _across(self, w: Window) -> str:
        """The cross-sectional tests in a sentence ("" for one firm)."""
        if len(self.firms) < 2:
            return ""
        return (
            "Across firms: "
            + "; ".join(f"{r.name} p = {pfmt(r.pvalue)}" for r in self.tests(w).rows)
            + "."
        )

    def _days(self, window: Window | str | None) -> tuple[Window, np.ndarray]:
        w = _test_window(self.window, self.test_window if window is None else window)
        ev = self._design.evt_days
        return w, np.flatnonzero((ev >= w[0]) & (ev <= w[1]))

    @cached_property
    def _inputs(self) -> inference.TestInputs:
        d = self._design
        return inference.TestInputs.from_fit(self._fit, d.market_est, d.market_evt)

    # ---- per class ---------------------------------------------------------------------------
    def _firm_table(self, window: Window | str | None) -> pd.DataFrame: ...
    def tests(self, window: Window | str | None = None) -> TestTable: ...  # type: ignore[empty-body]
    def _labels(self) -> tuple[str, str, str]: ...  # type: ignore[empty-body]

    def _sentence(self, firm: str, r: pd.Series, span: str, alpha: float) -> str: ...  # type: ignore[empty-body]
    def _caveat(self, table: pd.DataFrame) -> str: ...  # type: ignore[empty-body]

    def conclusion(self, window: Window | str | None = None, alpha: float = 0.05) -> str:
        """A plain-language paragraph: each firm's figure and tests, the cross-section, the
        caveat."""
        alpha = check_alpha(alpha)
        w, _ = self._days(window)
        table = self._firm_table(w)
        parts = [self._sentence(str(f), r, _fw(w), alpha) for f, r in table.iterrows()]
        return " ".join(p for p in [*parts, self._across(w), self._caveat(table)] if p)

    def _two_firms(self) -> None:
        if len(self.firms) < 2:
            raise SpecificationError(
                "cross-sectional tests need two or more firms; for one firm use firm_tests()"
            )

    # ---- shared outputs ----------------------------------------------------------------------
    def headline(self, window: Window | str | None = None) -> dict[str, Any]:
        """The headline figures (plain floats and strings), for reports: for one firm its
        row of the per-firm table, for several the cross-sectional tests."""
        w, _ = self._days(window)
        table = self._firm_table(w)
        out: dict[str, Any] = {"day0": f"{self.event_day.date:%Y-%m-%d}", "window": _fw(w)}
        out |= {"model": self._labels()[0], "n_firms": len(self.firms)}
        if len(self.firms) == 1:
            return out | _plain(table.iloc[0])
        for r in self.tests(w).rows:
            out |= {f"{r.name}_stat": num(r.stat), f"{r.name}_pvalue": num(r.pvalue)}
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document: day 0 and its reason, the event, model, windows with dates,
        per firm its row of the per-firm table and the daily series, and for several firms the
        cross-sectional tests (dates ISO, missing numbers None)."""
        ev, table, daily = self.event, self._firm_table(None), getattr(self, self._daily_name)
        dates = self._frame(self._design.evt_dates)
        keys = ("event_id", "title", "kind", "source_title", "source_url")
        doc: dict[str, Any] = {
            "day0": self.event_day.date.date().isoformat(),
            "day0_reason": self.event_day.reason,
            "event": None if ev is None else {k: getattr(ev, k) for k in keys if hasattr(ev, k)},
            "model": self._labels()[0],
            "test_window": list(self.test_window),
        }
        for which, days in (("estimation", self.estimation), ("event", self.window)):
            a, b = self.window_dates(which)
            span = {"days": list(days), "start": a.date().isoformat(), "end": b.date().isoformat()}
            doc["estimation" if which == "estimation" else "window"] = span
        if self.exclude is not None:
            doc["exclude"] = [x if isinstance(x, str) else f"{x.date()}" for x in self.exclude]
        doc["firms"] = {}
        for firm in self.firms:
            pairs = zip(dates[firm], daily[firm], strict=True)
            series = {pd.Timestamp(t).date().isoformat(): num(v) for t, v in pairs}
            d0 = self.day0_table.loc[firm, "day0"].date().isoformat()
            doc["firms"][firm] = _plain(table.loc[firm]) | {"day0": d0, self._daily_name: series}
        if len(self.firms) > 1:
            doc["cross_section"] = {
                r.name: {"stat": num(r.stat), "pvalue": num(r.pvalue), "n": int(r.n)}
                for r in self.tests().rows
            }
        return doc

    def _build_summary(self) -> Summary:
        model, measure, note = self._labels()
        (e0, e1), (w0, w1) = self.window_dates("estimation"), self.window_dates("event")
        ev, day, fw = self.event, self.event_day, _fw
        rows = [("Event", f"{getattr(ev, 'event_id', '')}: {getattr(ev, 'title', '')}")]
        rows = rows if hasattr(ev, "event_id") else []
        day0 = f"{day.date.date()} -- {day.reason}" if self._design.shared_date else "several"
        rows += [
            ("Day 0", day0),
            ("Measure", measure),
            ("Model", model),
            ("Estimation", f"{fw(self.estimation)} = {e0.date()} to {e1.date()}"),
            ("Event window", f"{fw(self.window)} = {w0.date()} to {w1.date()}"),
            ("Firms", str(len(self.firms))),
        ]
        if self.exclude is not None:
            asked = ", ".join(x if isinstance(x, str) else f"{x.date()}" for x in self.exclude)
            rows.append(("Excluded", f"{len(self.excluded)} estimation day(s) ({asked})"))
        out = Summary(self._title).header(rows)
        w = _fw(self.test_window)
        out.table(self._firm_table(None), f"Per firm over the test window {w}:")
        if len(self.firms) > 1:
            tt = self.tests()
            out.rule().table(tt.to_frame(), text="\n".join(tt.text_lines()))
        return out.rule().text(note)


# ------------------------------------------------------------------------------ abnormal volume


@dataclass(frozen=True, eq=False, repr=False)
class AbnormalVolumeResults(_ActivityResults):
    """Results of :func:`abnormal_volume` (immutable). ``model`` is ``"mean"`` (mean-adjusted)
    or ``"market"``; ``params`` holds the expected-volume model's coefficients, ``av`` the
    abnormal log volume by day and firm, ``cav(window)`` its sum over a window; ``firm_tests()``
    and ``tests()`` the per-firm and cross-sectional tests."""

    _title: ClassVar[str] = "Abnormal volume"
    _daily_name: ClassVar[str] = "av"
    _paper_table, _export_sheets = _paper_tables.volume_table, _paper_tables.volume_sheets

    model: str
    _volume: np.ndarray  # (N, L2) shares traded in the event window

    @property
    def market(self) -> str | None:
        """The market whose log volume is the regressor (``model="market"``), else None."""
        return self._spec.factors[0] if self._spec.factors else None

    @cached_property
    def params(self) -> pd.DataFrame:
        """Per firm: ``alpha`` (the estimation-window mean of log volume, or the intercept) and,
        for the market model, ``beta`` on the market's log volume."""
        idx = pd.Index(self.firms, name="firm")
        return pd.DataFrame(self._fit.params, index=idx, columns=list(self._spec.param_names))

    @cached_property
    def fit_stats(self) -> pd.DataFrame:
        """Per firm: residual sd ``sigma`` of log volume, ``r2`` (market model), estimation days
        used, ``dof`` and ``rho1``, the first-order autocorrelation of the estimation residuals
        (volume is persistent: a positive rho1 makes the t test's CAV standard error too small)."""
        f, idx = self._fit, pd.Index(self.firms, name="firm")
        out = pd.DataFrame({"sigma": f.sigma, "r2": f.r2, "n_estimation": f.n_est}, index=idx)
        out["dof"], out["rho1"] = f.dof, _lag1_autocorrelation(f.resid)
        return out.astype({"n_estimation": int})

    @cached_property
    def av(self) -> pd.DataFrame:
        """Abnormal log volume: rows = relative day, columns = firms (NaN where volume is missing)."""
        return self._frame(self._fit.ar)

    @cached_property
    def volume_ratio(self) -> pd.DataFrame:
        """``exp(AV)``: (volume + 1) over its normal level; 2.0 is twice the normal volume."""
        return np.exp(self.av)

    def _cav(self, window: Window | str | None) -> tuple[Window, inference.CarTest]:
        w, days = self._days(window)
        return w, inference.car_test(self._inputs, days)

    def cav(self, window: Window | str | None = None) -> pd.Series:
        """Cumulative abnormal log volume per firm over ``window`` (default: the test window)."""
        w, ct = self._cav(window)
        idx = pd.Index(self.firms, name="firm")
        return pd.Series(ct.estimate, idx, name=f"cav{_fw(w)}")

    def conf_int(self, window: Window | str | None = None, alpha: float = 0.05) -> pd.DataFrame:
        """Per firm, ``lower``/``upper`` bounds of the CAV: estimate -/+ t_{dof, 1-alpha/2} se,
        with the standard error of the t test (serially uncorrelated residuals)."""
        _, ct = self._cav(window)
        half = stats.t.ppf(1 - check_alpha(alpha) / 2, ct.dof) * ct.std_error
        bounds = {"lower": ct.estimate - half, "upper": ct.estimate + half}
        return pd.DataFrame(bounds, index=pd.Index(self.firms, name="firm"))

    def firm_tests(
        self, window: Window | str | None = None, *, sq_blocking: str = "overlapping"
    ) -> TestTable:
        """Per firm over ``window``: ``t_prediction_error``, CAV / (s sqrt(1'C1)) referred to
        t(L - k) (formulas (2)-(3) of docs/formulas.md on log volume; s the estimation-window
        sd, as in Campbell & Wasley 1996), which assumes serially uncorrelated residuals; and
        ``sq``, the CAV against the empirical distribution of sums of as many consecutive
        estimation residuals (Gelbach, Helland & Klick 2013), which keeps their autocorrelation
        and non-normality. One row per firm and test."""
        w, days = self._days(window)
        runs = [
            inference.t_prediction_error(self._inputs, days),
            inference.sq(self._inputs, days, blocking=sq_blocking),
        ]
        rows = []
        for i, firm in enumerate(self.firms):
            for r in runs:
                stat = float(np.asarray(r.stat)[i])
                why = "" if np.isfinite(stat) else "volume missing on a test-window day"
                p, n = float(np.asarray(r.pvalue)[i]), int(np.asarray(r.n)[i])
                rows.append(TestRow(r.name, stat, p, n, r.distribution, firm=firm, reason=why))
        return TestTable(tuple(rows), w, title="Per-firm tests")

    def tests(
        self, window: Window | str | None = None, names: Sequence[str] | str | None = None
    ) -> TestTable:
        """Cross-sectional tests of the mean CAV (two or more firms): the cross-sectional t
        (assumes independent firms), Brown-Warner's portfolio t (``bw_cda``, the parametric test
        of Campbell & Wasley 1996), the Corrado (1989) rank test, which Campbell & Wasley (1996)
        find more powerful than the parametric test for volume, and GRANK (Kolari & Pynnonen 2011).
        The last three are robust to a shared event date. ``names`` chooses among
        :data:`VOLUME_TESTS`."""
        self._two_firms()
        chosen = [names] if isinstance(names, str) else list(names or VOLUME_TESTS)
        if any(n not in VOLUME_TESTS for n in chosen):
            raise SpecificationError(f"volume tests are {', '.join(VOLUME_TESTS)}; got {chosen}")
        w, days = self._days(window)
        usable = int(np.isfinite(self._fit.ar[:, days]).all(axis=1).sum())
        run = [n for n in chosen if usable >= inference.MIN_FIRMS[n]]
        ran = {r.name: r for r in inference.run_tests(self._inputs, days, names=run)} if run else {}
        rows = [
            TestRow.from_result(ran[n])
            if n in ran
            else TestRow.not_run(n, usable, f"not computed: needs {inference.MIN_FIRMS[n]} firms")
            for n in chosen
        ]
        return TestTable(tuple(rows), w, title=f"Cross-section of {len(self.firms)} firms")

    def _firm_table(self, window: Window | str | None) -> pd.DataFrame:
        """Per firm: coefficients, sigma, rho1, AV and volume ratio on day 0, the CAV with its
        se, t and p, and the SQ p-value."""
        w, ct = self._cav(window)
        table = self.params.copy()
        for col in ("sigma", "rho1", "n_estimation"):
            table[col] = self.fit_stats[col]
        if 0 in self.av.index:
            table["av_day0"] = self.av.loc[0]
            table["volume_ratio_day0"] = self.volume_ratio.loc[0]
        table["cav"], table["cav_se"] = ct.estimate, ct.std_error
        table["t"], table["pvalue"] = ct.tstat, ct.pvalue
        ft = self.firm_tests(w)
        table["sq_pvalue"] = [ft[(f, "sq")].pvalue for f in self.firms]
        return table

    def _labels(self) -> tuple[str, str, str]:
        model = f"market model on {self.market} log volume" if self.market else "mean-adjusted"
        note = (
            "cav: cumulative abnormal log volume; t and pvalue from t(L-k) with iid residuals. "
            "rho1: first-order autocorrelation of the estimation residuals; a positive rho1 "
            "makes the t test overstate significance. sq_pvalue (Gelbach, Helland & Klick 2013) "
            "compares the CAV with sums of consecutive estimation residuals instead."
        )
        return model, "log(shares traded + 1); shares outstanding not used", note

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per firm and event day (volume, log volume, expected, av with its se and
        t, cav from the window's first day with its se and t, volume_ratio = exp(av))."""
        d, f, s = self._design, self._fit, self._fit.sigma[:, None]
        L2 = len(d.evt_days)
        cum = np.array([[c[: j + 1, : j + 1].sum() for j in range(L2)] for c in f.cov])
        av_se = np.sqrt(np.diagonal(f.cov, axis1=1, axis2=2)) * s
        out = self._tidy(volume=self._volume, log_volume=d.y_evt, expected=f.expected, av=f.ar)
        out["av_se"], out["cav"] = av_se.ravel(), np.cumsum(f.ar, axis=1).ravel()
        out["cav_se"] = (np.sqrt(cum) * s).ravel()
        out["av_t"] = out["av"] / out["av_se"]
        out["cav_t"] = out["cav"] / out["cav_se"]
        out["volume_ratio"] = np.exp(out["av"])
        return out

    def _sentence(self, firm: str, r: pd.Series, span: str, alpha: float) -> str:
        if not np.isfinite(r["cav"]):
            return f"{firm}: volume missing on a day of {span}."
        day0 = (
            f"abnormal log volume on day 0 {r['av_day0']:+.3f} (volume "
            f"{r['volume_ratio_day0']:.2f} times normal); "
            if np.isfinite(r.get("av_day0", np.nan))
            else ""
        )
        sig = [n for n, c in (("t", "pvalue"), ("SQ", "sq_pvalue")) if r[c] < alpha]
        verdict = f"significant by {' and '.join(sig)}" if sig else "not significant"
        return (
            f"{firm}: {day0}cumulative over {span} {r['cav']:+.3f} (standard error "
            f"{r['cav_se']:.3f}); t p = {pfmt(r['pvalue'])}, SQ p = {pfmt(r['sq_pvalue'])}: "
            f"{verdict} at {alpha:.0%}."
        )

    def _caveat(self, table: pd.DataFrame) -> str:
        rho = table["rho1"]
        return (
            f"Model: {self._labels()[0]}. The first-order autocorrelation of the estimation "
            f"residuals is {rho.min():.2f} (largest {rho.max():.2f}); the t test assumes none (a "
            "positive value overstates its significance), SQ does not."
        )


def abnormal_volume(
    symbols: str | Sequence[str],
    event: str | calendar.Day0 | Mapping[str, str],
    *,
    model: str = "mean",
    market: str | None = "SPY",
    estimation: Window | str = (-250, -11),
    window: Window | str = (-1, 3),
    test_window: Window | str | None = None,
    min_estimation: int = MIN_ESTIMATION_DEFAULT,
    volume: pd.DataFrame | None = None,
    exclude: str | Sequence[object] | None = None,
) -> AbnormalVolumeResults:
    """Abnormal log trading volume around an event (Ajinkya & Jain 1989; Campbell & Wasley 1996).

    ``symbols``, ``event``, ``estimation``, ``window``, ``min_estimation`` and ``exclude`` are
    those of :func:`analysis.eventstudy.event_study` (same day 0, windows and exclusions).

    Parameters
    ----------
    model : {"mean", "market"}
        ``"mean"``: AV_it = v_it minus the firm's estimation-window mean of v;
        ``"market"``: minus a_i + b_i v_mt, fitted by OLS over the estimation window.
    market : str
        Whose log volume is the market regressor of ``model="market"`` (e.g. "SPY").
    test_window : (int, int) or "a:b", optional
        The window of the CAV and its tests (default: the whole event window).
    volume : DataFrame, optional
        Shares traded (dates x symbols) to use instead of the price cache.
    """
    from analysis.data.prices import normalize_symbol
    from analysis.eventstudy.study import _resolve_event

    syms = as_symbols(symbols)
    if not syms or len(set(syms)) != len(syms):
        raise SpecificationError(f"give distinct symbols, got {syms or 'none'}")
    if model not in VOLUME_MODELS:
        raise SpecificationError(f"unknown volume model {model!r}; valid: 'mean', 'market'")
    if model == "market" and not market:
        raise SpecificationError("model='market' needs a market, e.g. market='SPY'")
    if isinstance(min_estimation, bool) or not isinstance(min_estimation, int | np.integer):
        raise SpecificationError(f"min_estimation must be a whole number, got {min_estimation!r}")
    mkt = normalize_symbol(market) if model == "market" and market else None
    spec = make_spec("market_model", mkt) if mkt else make_spec("constant_mean")
    if (own := own_regressor_error(syms, spec)) is not None:
        raise own
    est_w, evt_w = as_window(estimation, "estimation"), as_window(window, "event")
    check_windows(est_w, evt_w)
    test_w = _test_window(evt_w, test_window)
    items = None if exclude is None else parse_exclude(exclude)
    registry_event = None
    if isinstance(event, Mapping):
        event = {normalize_symbol(k): v for k, v in event.items()}
        if set(event) != set(syms):
            raise SpecificationError(f"an event mapping needs one event per symbol of {syms}")
        resolved = {s: _resolve_event(event[s]) for s in syms}
    else:
        registry_event, d0 = _resolve_event(event)
        resolved = {s: (registry_event, d0) for s in syms}
    needed = list(dict.fromkeys([*syms, *spec.factors]))
    if volume is None:
        from analysis.data import prices

        given = log_volume(prices.volume(needed))
    else:
        given = log_volume(volume).rename(columns=lambda c: str(c).upper())
        if absent := [s for s in needed if s not in given.columns]:
            raise DataError(f"the volume given has no column for {', '.join(absent)}")
    logv = _on_grid(given[needed])
    excluded = None if items is None else exclusion_days(items, resolved, evt_w, logv.index)
    pairs = [(s, resolved[s][1]) for s in syms]
    design = build_design(logv, pairs, spec, est_w, evt_w, excluded)
    if items is not None and "earnings" in items:
        check_earnings_exclusion(design)
    arrays = (design.y_est, design.X_est, design.y_evt, design.X_evt)
    fit = fit_arrays(*arrays, spec=spec, min_estimation=int(min_estimation), firm_names=syms)
    parts = (spec, est_w, evt_w, test_w, registry_event, items)
    return AbnormalVolumeResults(design, fit, *parts, model, np.expm1(design.y_evt))


# -------------------------------------------------------------------------- abnormal volatility


def log_f_null_mean(df1: float | np.ndarray, df2: float | np.ndarray) -> float | np.ndarray:
    """E[log F] for F ~ F(df1, df2): psi(df1/2) - psi(df2/2) + log(df2/df1), psi the digamma
    function (from E[log chi2_d] = psi(d/2) + log 2)."""
    d1, d2 = np.asarray(df1, dtype=float), np.asarray(df2, dtype=float)
    out = special.digamma(d1 / 2) - special.digamma(d2 / 2) + np.log(d2 / d1)
    return float(out) if out.ndim == 0 else np.asarray(out)


@dataclass(frozen=True, eq=False, repr=False)
class AbnormalVolatilityResults(_ActivityResults):
    """Results of :func:`abnormal_volatility` (immutable): the return event study's abnormal
    returns against its estimation variance. ``u`` holds U_it = AR_it^2 / s_i^2 by day,
    ``ratio(window)`` its mean, ``firm_tests()`` the predictive F, ``tests()`` the cross-section."""

    _title: ClassVar[str] = "Abnormal volatility"
    _daily_name: ClassVar[str] = "u"
    _paper_table, _export_sheets = _paper_tables.volatility_table, _paper_tables.volatility_sheets

    study: EventStudyResults  # the return event study the ARs and variances come from

    @classmethod
    def from_study(cls, study: EventStudyResults) -> AbnormalVolatilityResults:
        """The abnormal volatility of a return event study (its ``car_window`` the test window)."""
        d, w = study._design, study.window
        parts = (study.model, study.estimation, w, study.car_window, study.event, study.exclude)
        return cls(d, study._fit, *parts, study)

    @property
    def params(self) -> pd.DataFrame:
        """The expected-return model's coefficients (``study.params``)."""
        return self.study.params

    @cached_property
    def u(self) -> pd.DataFrame:
        """Beaver's (1968) U_it = AR_it^2 / s_i^2 by relative day and firm."""
        return self._frame(self._fit.ar**2 / self._fit.sigma[:, None] ** 2)

    def ratio(self, window: Window | str | None = None) -> pd.Series:
        """Per firm, the mean of U_it over ``window`` (default: the test window): squared
        abnormal returns relative to the estimation variance, Landsman & Maydew's (2002) abnormal
        return variance. About 1 without abnormal volatility."""
        values = self.u.to_numpy()[self._days(window)[1]].mean(axis=0)
        return pd.Series(values, pd.Index(self.firms, name="firm"), name="ratio")

    def _f(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per firm: F_i = AR' C^-1 AR / (L2 s_i^2) over ``days`` (NaN when an AR is missing)
        and its p-value, upper tail of F(L2, L_i - k)."""
        f, n = self._fit, len(self.firms)
        a = f.ar[:, days]
        cov = np.asarray(f.cov)[np.ix_(np.arange(n), days, days)]
        ok = np.isfinite(a).all(axis=1)
        q = np.full(n, np.nan)
        if ok.any():
            q[ok] = (a[ok] * np.linalg.solve(cov[ok], a[ok][..., None])[..., 0]).sum(axis=1)
        F = q / (days.size * f.sigma**2)
        return F, stats.f.sf(F, days.size, f.dof)

    def firm_tests(self, window: Window | str | None = None) -> TestTable:
        """Per firm over ``window``: ``variance_ratio_f``, F = AR' C^-1 AR / (L2 s^2), C the
        prediction-error factor of formula (2). Under iid normal disturbances with the
        estimation variance, AR ~ N(0, sigma^2 C) independently of s^2, so F ~ F(L2, L - k)
        exactly: Chow's (1960) predictive test. F equals the ratio when C = I. The p-value is the
        upper tail (more volatility). A mean shift (an abnormal return) raises F as well, and
        volatility clustering makes the estimation variance a poor benchmark for a turbulent
        event window."""
        w, days = self._days(window)
        F, p = self._f(days)
        ok = np.isfinite(F)
        rows, how = [], "AR'C^-1 AR / (L2 s^2), Chow 1960, upper tail"
        for i, firm in enumerate(self.firms):
            why = "" if ok[i] else "an abnormal return is missing in the test window"
            n_i, dist = int(self._fit.n_est[i]) * ok[i], f"F({days.size}, {self._fit.dof[i]:g})"
            row = TestRow("variance_ratio_f", F[i], p[i], n_i, dist, variant=how, firm=firm)
            rows.append(replace(row, reason=why))
        return TestTable(tuple(rows), w, title="Per-firm tests")

    def tests(self, window: Window | str | None = None) -> TestTable:
        """Cross-sectional tests (two or more firms) over ``window``:

        * ``log_f_t``: x_i = log F_i - E[log F(L2, L_i - k)], the log ratio centred on its exact
          null mean (:func:`log_f_null_mean`); t = mean(x) / (sd(x)/sqrt(N)), t(N - 1). The log
          makes the right-skewed ratio nearly symmetric. Assumes independent firms.
        * ``f_sign``: the number of firms whose F exceeds the median of its F(L2, L_i - k);
          exact two-sided Binomial(N, 1/2) p-value, ``stat`` its normal score. Assumes
          independent firms.
        * ``portfolio_f`` (one shared date): the predictive F of the equal-weighted portfolio's
          abnormal returns, whose estimation variance carries the firms' correlation.
        """
        self._two_firms()
        w, days = self._days(window)
        F, _ = self._f(days)
        ok = np.isfinite(F)
        n, dof = int(ok.sum()), self._fit.dof[ok]
        indep = "assumes independent firms"
        rows = [TestRow.not_run("log_f_t", n, "not computed: needs 2 firms with every AR")]
        if n >= 2:
            x = np.log(F[ok]) - np.asarray(log_f_null_mean(days.size, dof))
            sd = float(np.std(x, ddof=1))
            if not sd > 0:
                raise EstimationError("log_f_t: the centred log ratios do not vary across firms")
            t = float(x.mean() / (sd / math.sqrt(n)))
            p = float(2 * stats.t.sf(abs(t), n - 1))
            how = f"log F - E0[log F]; {indep}"
            rows = [TestRow("log_f_t", t, p, n, f"t({n - 1})", variant=how)]
        above = int((F[ok] > stats.f.median(days.size, dof)).sum())
        z = (above - n / 2) / (math.sqrt(n) / 2) if n else float("nan")
        pb = float(stats.binomtest(above, n, 0.5).pvalue) if n else float("nan")
        extra = {"n_above": float(above)}
        rows.append(TestRow("f_sign", z, pb, n, f"Binomial({n}, 1/2)", variant=indep, extra=extra))
        if self._design.shared_date:
            port = self.from_study(self.study.portfolio()).firm_tests(w).rows[0]
            what = "equal-weighted portfolio's predictive F"
            rows.append(replace(port, name="portfolio_f", n=n, variant=what, firm=None))
        else:
            rows.append(TestRow.not_run("portfolio_f", n, "not computed: needs one event date"))
        return TestTable(tuple(rows), w, title=f"Cross-section of {len(self.firms)} firms")

    def _firm_table(self, window: Window | str | None) -> pd.DataFrame:
        """Per firm: s, estimation days, U on day 0, the ratio, F and its p-value."""
        w, days = self._days(window)
        F, p = self._f(days)
        f, idx = self._fit, pd.Index(self.firms, name="firm")
        table = pd.DataFrame({"sigma": f.sigma, "n_estimation": f.n_est.astype(int)}, index=idx)
        if 0 in self.u.index:
            table["u_day0"] = self.u.loc[0]
        table["ratio"], table["f"], table["pvalue"] = self.ratio(w), F, p
        table["df1"], table["df2"] = float(days.size), self._fit.dof
        return table

    def _labels(self) -> tuple[str, str, str]:
        note = (
            "ratio: mean of AR^2/s^2; f: Chow's predictive F, F(L2, L-k), upper-tail p. Both rise "
            "with a mean shift as well as with a variance increase."
        )
        return self._spec.label, "U = AR^2 / s^2, abnormal returns of the return model", note

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per firm and event day (date, ar, sigma, u = AR^2/s^2)."""
        f = self._fit
        sigma = np.broadcast_to(f.sigma[:, None], f.ar.shape)
        return self._tidy(ar=f.ar, sigma=sigma, u=self.u.to_numpy().T)

    def _sentence(self, firm: str, r: pd.Series, span: str, alpha: float) -> str:
        if not np.isfinite(r["f"]):
            return f"{firm}: an abnormal return is missing in {span}."
        verdict = "significant" if r["pvalue"] < alpha else "not significant"
        return (
            f"{firm}: squared abnormal returns over {span} average {r['ratio']:.2f} times the "
            f"estimation variance; predictive F = {r['f']:.2f} (F({r['df1']:g}, {r['df2']:g})), "
            f"p = {pfmt(r['pvalue'])}: {verdict} at {alpha:.0%}."
        )

    def _caveat(self, table: pd.DataFrame) -> str:
        return f"Model: {self._spec.label}; a mean shift raises F as well as a variance increase."


def abnormal_volatility(
    symbols: str | Sequence[str],
    event: str | calendar.Day0 | Mapping[str, str],
    *,
    test_window: Window | str | None = None,
    **options: Any,
) -> AbnormalVolatilityResults:
    """Abnormal return volatility around an event (Beaver 1968; Landsman & Maydew 2002): the
    return event study ``event_study(symbols, event, **options)`` (market model on SPY unless
    ``options`` say otherwise: ``market``, ``model``, ``factors``, ``estimation``, ``window``,
    ``return_kind``, ``min_estimation``, ``prices``, ``exclude``, as in
    :func:`analysis.eventstudy.event_study`) and its squared abnormal returns over the
    estimation variance, tested with Chow's (1960) predictive F over ``test_window`` (default:
    the whole event window)."""
    from analysis.eventstudy.study import event_study

    if fixed := sorted({"car_window", "convention"} & set(options)):
        raise SpecificationError(
            f"abnormal_volatility does not take {', '.join(fixed)}: the window of the tests is "
            "test_window, and the F test needs the residual divisor L - k (convention 'default')"
        )
    study = event_study(symbols, event, car_window=test_window, **options)
    model = options.get("model", "market_model")
    if not isinstance(study, EventStudyResults):  # time-varying variance: no F test
        raise SpecificationError(f"abnormal_volatility needs a constant variance, not {model!r}")
    return AbnormalVolatilityResults.from_study(study)
