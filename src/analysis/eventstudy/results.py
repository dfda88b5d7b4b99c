"""``EventStudyResults``: the fitted event study, its estimates, tests, tables and summary."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from functools import cached_property
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy import stats

from analysis._export import ExportMixin, PaperTable
from analysis._summary import Summary, SummaryMixin
from analysis.data import calendar
from analysis.errors import SpecificationError
from analysis.eventstudy import inference
from analysis.eventstudy._designed import DesignedStudy
from analysis.eventstudy.design import EventDesign, Window, as_window, check_alpha
from analysis.eventstudy.models import FitArrays, ModelSpec, fit_arrays
from analysis.eventstudy.tables import (
    NOT_APPLICABLE,
    CARResult,
    TestRow,
    TestTable,
    fmt,
    pfmt,
)

#: Columns of :attr:`EventStudyResults.fit_stats`.
FIT_STATS: tuple[str, ...] = ("sigma", "r2", "n_estimation", "n_missing", "dof")


class EventStudyResults(DesignedStudy, SummaryMixin, ExportMixin):
    """Results of :func:`analysis.eventstudy.event_study` (immutable; derived tables are computed
    on first use). ``params`` holds the model coefficients, ``fit_stats`` the fit of each firm's
    estimation window, ``car(window)`` the CAR with its standard error, test and interval;
    ``to_csv``, ``to_excel`` and ``to_latex`` write them for papers (:mod:`analysis._export`)."""

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
        exclude: tuple[str | pd.Timestamp, ...] | None = None,
    ):
        self._design = design
        self._fit = fit
        self._spec = spec
        self._estimation = estimation
        self._window = window
        self._car_window = car_window
        self._return_kind = return_kind
        self._event = event
        self._exclude = exclude

    # ---- descriptive attributes (the others: DesignedStudy) ---------------------------------
    @property
    def model(self) -> ModelSpec:
        return self._spec

    @property
    def convention(self) -> str:
        return self._fit.convention

    # ---- estimation-window exclusions ------------------------------------------------------
    @property
    def exclude(self) -> tuple[str | pd.Timestamp, ...] | None:
        """What ``exclude=`` asked to leave out ("events", "earnings", dates), or None."""
        return self._exclude

    @cached_property
    def excluded(self) -> pd.DataFrame:
        """Every day left out of an estimation window: columns firm, date, reason (empty without
        ``exclude``)."""
        rows = [{"firm": f, "date": d, "reason": r} for f, d, r in self._design.excluded]
        out = pd.DataFrame(rows, columns=["firm", "date", "reason"])
        out["date"] = pd.to_datetime(out["date"])
        return out

    @cached_property
    def estimation_coverage(self) -> pd.DataFrame:
        """Per firm: the estimation window's first relative day and dates (extended backwards
        when days are excluded), the valid days ``requested`` (sessions of the requested window),
        the days ``excluded`` and the ``shortfall`` (valid days missing because the price data
        run out; 0 when the window was filled)."""
        d = self._design
        rows = []
        for i, firm in enumerate(self.firms):
            inside = ~np.isnat(d.est_dates[i])
            rows.append(
                {
                    "start_day": int(d.est_days[inside][0]),
                    "start": pd.Timestamp(d.est_dates[i][inside][0]),
                    "end": pd.Timestamp(d.est_dates[i][inside][-1]),
                    "requested": self._estimation[1] - self._estimation[0] + 1,
                    "excluded": sum(1 for f, _, _ in d.excluded if f == firm),
                    "shortfall": 0 if d.shortfall is None else int(d.shortfall[i]),
                }
            )
        return pd.DataFrame(rows, index=pd.Index(self.firms, name="firm"))

    @property
    def estimation_shortfall(self) -> pd.Series:
        """Per firm, the valid estimation days the window lacks because the price data run out."""
        return self.estimation_coverage["shortfall"]

    def confounders(self, by_firm: bool = False) -> pd.DataFrame:
        """Other news on the days this study uses: one row per firm, day and piece of news in
        its event window or estimation sample (columns firm, date, rel_day, where, kind, id,
        news_day0, title; see :func:`analysis.eventstudy.design.confounder_table`). The days
        are exactly those ``exclude="events,earnings"`` leaves out of an estimation window;
        earnings only for firms the earnings table covers. ``by_firm=True`` gives the per-firm
        summary instead: confounded days per window, the events and fiscal periods involved
        and ``contaminated`` (True when either window holds any confounder)."""
        from analysis.eventstudy.design import confounder_table, contamination

        event_id = getattr(self._event, "event_id", None)
        table = confounder_table(self._design, self._window, event_id)
        return contamination(table, self.firms) if by_firm else table

    # ---- estimates ---------------------------------------------------------------------------
    @cached_property
    def params(self) -> pd.DataFrame:
        """The fitted coefficients: one row per firm, one column per model parameter (alpha,
        beta, or alpha, beta_SPY, beta_SOXX, ...; none for market_adjusted)."""
        return pd.DataFrame(
            self._fit.params,
            index=pd.Index(self.firms, name="firm"),
            columns=list(self._spec.param_names),
        )

    @cached_property
    def fit_stats(self) -> pd.DataFrame:
        """Per firm: residual sd ``sigma``, ``r2``, estimation returns used (``n_estimation``) and
        missing (``n_missing``), and the residual degrees of freedom ``dof``."""
        f = self._fit
        return pd.DataFrame(
            {
                "sigma": f.sigma,
                "r2": f.r2,
                "n_estimation": f.n_est.astype(int),
                "n_missing": (self._window_lengths() - f.n_est).astype(int),
                "dof": f.dof,
            },
            index=pd.Index(self.firms, name="firm"),
        )

    def _window_lengths(self) -> np.ndarray:
        """Days in each firm's estimation sample before missing returns are dropped."""
        keep = self._design.est_keep
        if keep is None:
            return np.full(len(self.firms), len(self._design.est_days))
        return keep.sum(axis=1)

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
            w = self._car_window if window is None else as_window(window, "CAR")
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

    def car(self, window: Window | str | None = None) -> CARResult:
        """CAR over ``window`` (default: the CAR window): per firm the estimate, its exact standard
        error, t, p and dof (prediction-error t test), the CAAR and, for two or more firms, the
        cross-sectional ``tests()``."""
        w, days = self._days(window)
        t = inference.car_test(self._inputs, days)
        tests = (lambda: self.tests(w)) if len(self.firms) > 1 else None
        return CARResult.from_car_test(w, self.firms, t, tests)

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
    def _test_names(self, window: object, names: Sequence[str] | str | None) -> list[str] | None:
        multi = ", ".join(inference.MULTI_FIRM_TESTS)
        single = f"is a single-firm test: use firm_tests() for it; multi-firm tests: {multi}"
        if isinstance(window, str) and window in inference.SINGLE_FIRM_TESTS:
            raise SpecificationError(f"{window!r} {single}")
        if isinstance(window, str) and window in inference.MULTI_FIRM_TESTS:
            a, b = self._window
            raise SpecificationError(
                f"{window!r} is a test name, not a window: use tests(names=[{window!r}]), "
                f"or tests(window, names=[{window!r}]) for a window such as '{a}:{b}'"
            )
        if names is None:
            return None
        chosen = [names] if isinstance(names, str) else list(names)
        if not chosen:
            raise SpecificationError(
                f"names is empty: choose one or more multi-firm tests from: {multi}, "
                "or leave names out for all of them"
            )
        for n in chosen:
            if n in inference.SINGLE_FIRM_TESTS:
                raise SpecificationError(f"{n!r} {single}")
            if n not in inference.MULTI_FIRM_TESTS:
                raise SpecificationError(f"unknown test {n!r}; multi-firm tests: {multi}")
        return chosen

    def tests(
        self,
        window: Window | str | None = None,
        names: Sequence[str] | str | None = None,
        **options: Any,
    ) -> TestTable:
        """Multi-firm tests over ``window`` (needs two or more firms); ``names`` chooses among
        :data:`analysis.eventstudy.inference.MULTI_FIRM_TESTS` (a string is one name; default: all,
        and a test the cross-section cannot support is a row with its ``reason``)."""
        if len(self.firms) < 2:
            raise SpecificationError(
                "multi-firm tests need two or more firms; for one firm use firm_tests() "
                "(prediction-error t, SQ, event-dummy OLS/HAC)"
            )
        chosen = self._test_names(window, names)
        multi = ", ".join(inference.MULTI_FIRM_TESTS)
        w, days = self._days(window, hint=f"; tests are chosen with names=[...] from: {multi}")
        reasons: dict[str, str] = {}
        usable = 0
        if chosen is None:
            usable = int(np.isfinite(self._fit.ar[:, days]).all(axis=1).sum())
            chosen, reasons = inference.applicable_tests(
                usable,
                has_market=self._design.market_est is not None,
                shared_date=self.shared_date,
            )
            own = self.shared_date and self._spec.factors and self._design.market_est is None
            if "lamb" in reasons and own:
                # a regressor, but not one series for all firms: each has its own benchmark
                reasons["lamb"] = "not computed: each firm has its own benchmark (needs one market)"
        ran = inference.run_tests(self._inputs, days, names=chosen, **options) if chosen else []
        ran += [inference.TestResult.not_computed(n, usable, why) for n, why in reasons.items()]
        rows = [TestRow.from_result(r) for r in ran]
        return TestTable(tuple(rows), w, title=f"Cross-section of {len(self.firms)} firms")

    def daily_tests(self, names: Sequence[str] | None = None, **options: Any) -> pd.DataFrame:
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
    ) -> TestTable:
        """Single-firm tests per firm over ``window``: prediction-error t, SQ (GHK 2013), the
        permutation test (Nguyen & Wolf 2023), and the
        event-dummy regression with OLS and Newey-West errors (``dummy=False`` skips the
        per-firm statsmodels regressions). One row per firm and test."""
        w, days = self._days(window)
        tpe = inference.get_test("t_prediction_error")(self._inputs, days)
        sq = inference.get_test("sq")(self._inputs, days, blocking=sq_blocking)
        perm = inference.get_test("permutation")(self._inputs, days)
        d = self._design
        rows: list[TestRow] = []
        for i, firm in enumerate(self.firms):
            n_i = int(self._fit.n_est[i])
            for name, r in (("t_prediction_error", tpe), ("sq", sq), ("permutation", perm)):
                stat = float(np.asarray(r.stat)[i])
                rows.append(
                    TestRow(
                        name,
                        stat,
                        float(np.asarray(r.pvalue)[i]),
                        n_i,
                        str(r.distribution),
                        firm=firm,
                        reason="" if np.isfinite(stat) else "no complete abnormal returns",
                    )
                )
            if dummy and not self._spec.k:
                why = f"{NOT_APPLICABLE} {self._spec.name} estimates no parameters"
                rows += [TestRow.not_run(n, n_i, why, firm) for n in ("dummy_ols", "dummy_hac")]
            elif dummy:
                y_est = d.y_est[i] - (d.off_est[i] if d.off_est is not None else 0)
                y_evt = d.y_evt[i] - (d.off_evt[i] if d.off_evt is not None else 0)
                dr = inference.event_dummy_regression(
                    y_est,
                    d.X_est[i],
                    y_evt,
                    d.X_evt[i],
                    cast(Sequence[int], days),
                    hac_lags=hac_lags,
                )
                rows += [
                    replace(TestRow.from_result(r), firm=firm) for r in inference.dummy_results(dr)
                ]
        return TestTable(tuple(rows), w, title="Per-firm tests")

    def portfolio(self) -> EventStudyResults:
        """The equal-weighted portfolio of the firms treated as one firm (same date only), so the
        single-firm tests apply to a clustered cross-section (formula (19b), docs/formulas.md). On a
        day when some firms have no return, the portfolio return is the mean of the others. With
        ``exclude``, its estimation days are those in every firm's estimation sample."""
        if not self.shared_date:
            raise SpecificationError("a portfolio of firms needs one shared event date")
        d = self._design
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a day no firm has: NaN, said once
            y_est = np.nanmean(d.y_est, axis=0, keepdims=True) if len(self.firms) else d.y_est
            y_evt = np.nanmean(d.y_evt, axis=0, keepdims=True)
        X_est: np.ndarray = d.X_est[:1]
        keep: np.ndarray | None = None
        if d.est_keep is not None:  # the days in every firm's estimation sample
            keep = np.asarray(d.est_keep.all(axis=0, keepdims=True))
            y_est = np.where(keep, y_est, np.nan)
            X_est = np.where(keep[..., None], X_est, np.nan)
        pd_design = EventDesign(
            firms=("portfolio",),
            day0=d.day0[:1],
            est_days=d.est_days,
            evt_days=d.evt_days,
            est_dates=d.est_dates[:1],
            evt_dates=d.evt_dates[:1],
            y_est=y_est,
            y_evt=y_evt,
            X_est=X_est,
            X_evt=d.X_evt[:1],
            off_est=None if d.off_est is None else d.off_est[:1],
            off_evt=None if d.off_evt is None else d.off_evt[:1],
            market_est=None if d.market_est is None else d.market_est[:1],
            market_evt=None if d.market_evt is None else d.market_evt[:1],
            est_keep=keep,
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
            exclude=self._exclude,
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

    # ---- reader-facing text and documents ------------------------------------------------------
    def headline(self, window: Window | str | None = None) -> dict[str, Any]:
        """The headline figures of the study (plain floats and strings), for reports."""
        from analysis.eventstudy.prose import headline

        return headline(self, window)

    def conclusion(self, window: Window | str | None = None, alpha: float = 0.05) -> str:
        """A plain-language paragraph stating the estimate, its uncertainty and the main tests."""
        from analysis.eventstudy.prose import conclusion

        return conclusion(self, window, alpha)

    def to_frame(self) -> pd.DataFrame:
        """Tidy AR/CAR: one row per firm and event day."""
        d, f = self._design, self._fit
        n, L2 = len(self.firms), len(d.evt_days)
        car = np.cumsum(np.nan_to_num(f.ar), axis=1)
        car[~np.isfinite(np.cumsum(f.ar, axis=1))] = np.nan
        # 1'C[:j+1, :j+1]1 for every j: the exact variance factor of the CAR up to each day
        cumvar = np.array([[f.cov[i, : j + 1, : j + 1].sum() for j in range(L2)] for i in range(n)])
        df = pd.DataFrame(
            {
                "firm": np.repeat(self.firms, L2),
                "day": np.tile(d.evt_days, n),
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

    def to_dict(self) -> dict[str, Any]:
        """The ``study --json`` document (keys as in the README, "Command line"; dates ISO)."""
        from analysis.eventstudy.document import study_document

        return study_document(self)

    # ---- export (CSV, Excel, LaTeX: analysis._export.ExportMixin) ------------------------------
    @cached_property
    def _param_table(self) -> pd.DataFrame:
        """Per firm and coefficient: the OLS estimate, its standard error
        s_i sqrt([(X_i'X_i)^{-1}]_jj) over the firm's valid estimation days (s_i of formula (0),
        so with the study's divisor), t and two-sided p from t(L_i - k); empty without
        parameters."""
        names = list(self._spec.param_names)
        d, f = self._design, self._fit
        rows = []
        for i, firm in enumerate(self.firms if names else []):
            ok = np.isfinite(f.resid[i])
            X = d.X_est[i][ok][:, : len(names)]
            se = f.sigma[i] * np.sqrt(np.diag(np.linalg.pinv(X.T @ X)))
            for j, name in enumerate(names):
                t = f.params[i, j] / se[j]
                p = 2 * stats.t.sf(abs(t), f.dof[i])
                rows.append((firm, name, f.params[i, j], se[j], t, p))
        cols = ["firm", "term", "estimate", "std_error", "tstat", "pvalue"]
        return pd.DataFrame(rows, columns=cols)

    def _paper_table(self) -> PaperTable:
        """Export hook: per firm the CAR over the CAR window (exact standard error,
        prediction-error p, formula (3)) and the model coefficients (OLS standard errors);
        day 0, window, model and N (estimation returns) in the footer."""
        cr = self.car()
        term = f"CAR{calendar.format_window(cr.window)}"
        car = cr.to_frame().reset_index()
        est = pd.concat(
            [
                pd.DataFrame(
                    {
                        "column": car["firm"],
                        "term": term,
                        "estimate": car["car"],
                        "std_error": car["se"],
                        "pvalue": car["pvalue"],
                    }
                ),
                self._param_table.drop(columns="tstat").rename(columns={"firm": "column"}),
            ],
            ignore_index=True,
        )
        day0 = self.day0_table["day0"]
        footer = pd.DataFrame(
            [
                [f"{pd.Timestamp(day0[f]).date()}" for f in self.firms],
                [calendar.format_window(cr.window)] * len(self.firms),
                [self._spec.label] * len(self.firms),
                [str(int(n)) for n in self.fit_stats["n_estimation"]],
            ],
            index=["Day 0", "Window", "Model", "N"],
            columns=self.firms,
        )
        note = (
            "CAR: prediction-error t test, t(L_i - k) (Campbell, Lo & MacKinlay 1997, sec. 4.4); "
            f"coefficients: OLS over the estimation window {calendar.format_window(self._estimation)}; "
            "N: estimation-window returns."
        )
        return PaperTable(est, footer, note)

    def _export_sheets(self) -> dict[str, pd.DataFrame]:
        """Sheets: AR/CAR by day, CAR per firm, coefficients, fit, per-firm and cross-section tests."""
        cr = self.car()
        sheets = {
            "ar_car": self.to_frame(),
            "car": cr.to_frame(),
            "params": self._param_table,
            "fit": self.fit_stats,
            "firm_tests": self.firm_tests().to_frame(),
        }
        if len(self.firms) > 1:
            sheets["tests"] = cr.tests().to_frame()
        return sheets

    # ---- display -----------------------------------------------------------------------------
    def _header(self) -> list[tuple[str, str]]:
        est0, est1 = self.window_dates("estimation")
        ev0, ev1 = self.window_dates("event")
        conv = "residual divisor L-k" if self.convention == "default" else "estudy2 (divisor L-1)"
        rows = self._event_rows()
        rows += [
            ("Model", self._spec.label),
            (
                "Estimation",
                f"{calendar.format_window(self._estimation)} = {est0.date()} to {est1.date()}",
            ),
            (
                "Event window",
                f"{calendar.format_window(self._window)} = {ev0.date()} to {ev1.date()}",
            ),
            ("CAR window", calendar.format_window(self._car_window)),
            ("Returns", f"{self._return_kind}, adjusted close; {conv}"),
            ("Firms", str(len(self.firms))),
        ]
        if self._exclude is not None:
            at = [key for key, _ in rows].index("Estimation")
            rows[at : at + 1] = self._exclusion_header(est0, est1)
        return rows

    def _exclusion_header(self, est0: pd.Timestamp, est1: pd.Timestamp) -> list[tuple[str, str]]:
        """The estimation rows of the header when days are excluded: the extended window, what
        was left out and any shortfall."""
        cov = self.estimation_coverage
        first = cov.iloc[0]
        asked = ", ".join(x if isinstance(x, str) else f"{x.date()}" for x in self._exclude or ())
        rows = [
            (
                "Estimation",
                f"{calendar.format_window(self._estimation)} extended back to day "
                f"{first['start_day']} = {est0.date()} to {est1.date()}",
            ),
            (
                "Excluded",
                f"{len(self.excluded)} estimation day(s) ({asked}); see excluded",
            ),
        ]
        short = cov[cov["shortfall"] > 0]
        if len(short):
            text = "; ".join(
                f"{firm} has {r['requested'] - r['shortfall']} of {r['requested']} valid days "
                f"(price data run out at {r['start'].date()})"
                for firm, r in short.iterrows()
            )
            rows.append(("Shortfall", text))
        return rows

    def _firm_table(self, cr: CARResult) -> pd.DataFrame:
        ft = self.firm_tests().applicable()
        df = self.params.copy()
        stats = self.fit_stats
        df["sigma"] = stats["sigma"]
        df["R2"] = stats["r2"]
        df["n_est"] = stats["n_estimation"]
        if 0 in self.ar.index:
            df["AR(0)"] = self.ar.loc[0]
        df["CAR"] = cr.estimate
        df["se"] = cr.std_error
        df["t"] = cr.tstat
        df["p"] = cr.pvalue
        for name, label in (("sq", "p SQ"), ("dummy_hac", "p HAC")):
            if name in ft.names:
                df[label] = [ft[(f, name)].pvalue for f in self.firms]
        return df

    def _build_summary(self) -> Summary:
        cr = self.car()
        w = calendar.format_window(self._car_window)
        out = Summary("Event study results").header(self._header())
        caption = f"Per firm, CAR over {w} (t and p from the exact CAR variance, t(L-k)):"
        out.table(self._firm_table(cr), caption)
        if len(self.firms) > 1:
            out.rule().table(cr.tests().to_frame(), text="\n".join(cr.tests().text_lines()))
            if self.shared_date:
                pr = self.portfolio()
                lines = [
                    f"Equal-weighted portfolio as one firm: CAR {pr.car().estimate.iloc[0]:.4f}"
                ]
                for r in pr.firm_tests().applicable().rows:
                    lines.append(
                        f"  {r.name:<22}{fmt(r.stat, '.3f'):>10}{pfmt(r.pvalue):>10}  {r.distribution}"
                    )
                out.rule().text("\n".join(lines))
        return out
