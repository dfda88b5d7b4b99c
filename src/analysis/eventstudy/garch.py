"""The GARCH(1,1) Student-t market model: abnormal returns measured against a time-varying variance.

``event_study(symbols, event, model="garch_market_model", market="SPY")``. Per firm, on the
estimation window, one maximum-likelihood fit (the ``arch`` package) of

    R_t = mu + beta R_mt + e_t,   e_t = sigma_t z_t,
    sigma_t^2 = omega + alpha e_{t-1}^2 + garch_beta sigma_{t-1}^2,
    z_t iid standardized Student-t with nu degrees of freedom (mean 0, variance 1)

(Bollerslev 1986, J. Econometrics 31(3):307-327; Student-t innovations: Bollerslev 1987, REStat
69(3):542-547; the market model with GARCH errors in event studies: Corhay & Tourani Rad 1996,
QREF 36(4):529-538; Savickas 2003, J. Financial Research 26(2):165-178). Returns are scaled to
percent for the optimizer (``arch``'s advice for daily data); ``params`` are in return units.

Event window, with T the last estimation day and h the sessions from T to the event day (the gap
between the windows included): AR_t = R_t - (mu + beta R_mt); the conditional variance forecast
sigma^2_{t|T} (:func:`variance_forecast`); SAR_t = AR_t / sigma_{t|T};
SCAR = CAR / sqrt(sum_t sigma^2_{t|T}) over the days D of a window. Under the model the ARs are
uncorrelated given T with those variances, so SCAR has variance 1. Parameter-estimation error is
ignored here, unlike the OLS market model's exact prediction-error variance (formulas (1)-(2),
docs/formulas.md).

Tests: one firm, ``garch_scar``: SCAR referred to the standardized Student-t with the firm's fitted
nu. It is the exact law of a one-day SCAR one session after T (true parameters); a sum over
several days is closer to normal (the t is then conservative in the far tails), while a longer
horizon mixes over the random future sigma_t (heavier tails). At 5% the t and the normal differ
little. In simulations (GARCH(1,1)-t firms, 240 estimation days, horizons 10 to 14, fitted
parameters) the 5% test rejected 5-6% of five-day windows and 6-8% of one-day windows.
Several firms: ``bmp`` (the cross-sectional t on the SCARs, t(N - 1); BMP
1991 with Savickas' GARCH standardization), ``patell`` (Z = sum_i SCAR_i / sqrt(N), N(0, 1): each
SCAR has variance 1 under the model, so Patell's (L - k)/(L - k - 2) factor does not apply),
``kp_bmp`` (the Kolari-Pynnonen 2010 correction of ``bmp``, r-bar from the standardized estimation
residuals e_t / sigma_t) and ``cross_sectional_t`` (raw CARs, no variance model).

Estimation days: the recursion needs consecutive returns, so ``exclude=`` is refused for this model
and a return missing inside the estimation window is an error; returns missing at its start or end
shorten the sample (the forecast then starts from the last return there is).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from analysis._export import ExportMixin
from analysis._summary import Summary, SummaryMixin
from analysis.data import calendar
from analysis.errors import AnalysisError, SpecificationError
from analysis.eventstudy import _paper_tables, inference
from analysis.eventstudy._designed import DesignedStudy
from analysis.eventstudy._garch_fit import (
    GARCH_MODEL,
    GARCH_MULTI_FIRM_TESTS,
    GARCH_PARAMS,
    MIN_ESTIMATION_GARCH,
    PERCENT,
    GarchFit,
    fit_garch,
    variance_forecast,
)
from analysis.eventstudy.design import EventDesign, Window, as_window, check_alpha
from analysis.eventstudy.tables import CARResult, TestRow, TestTable

__all__ = [
    "ALPHA_AT_ZERO",
    "GARCH_MODEL",
    "GARCH_MULTI_FIRM_TESTS",
    "GARCH_PARAMS",
    "MIN_ESTIMATION_GARCH",
    "PERCENT",
    "GarchCARResult",
    "GarchEventStudyResults",
    "GarchFit",
    "GarchSpec",
    "check_garch_arguments",
    "check_garch_windows",
    "fit_garch",
    "garch_results",
    "std_t_pvalue",
    "variance_forecast",
]


#: An alpha below this is reported as at its bound 0 (``fit_stats["alpha_at_zero"]``).
ALPHA_AT_ZERO = 1e-6

#: Fewest firms with a complete CAR each cross-sectional test needs.
_MIN_FIRMS = {"cross_sectional_t": 2, "bmp": 2, "patell": 1, "kp_bmp": 2}

_VARIANT = "SCAR = CAR / sqrt(sum of GARCH variance forecasts)"
_VARIANTS = {"bmp": _VARIANT, "kp_bmp": f"{_VARIANT}; r-bar of e_t / sigma_t, pairwise complete"}


@dataclass(frozen=True)
class GarchSpec:
    """The GARCH(1,1)-t market model on one market series (the ``model`` of the results)."""

    market: str

    @property
    def name(self) -> str:
        return GARCH_MODEL

    @property
    def factors(self) -> tuple[str, ...]:
        return (self.market,)

    @property
    def k(self) -> int:
        """Mean-equation parameters (mu, beta)."""
        return 2

    @property
    def param_names(self) -> tuple[str, ...]:
        return GARCH_PARAMS

    @property
    def label(self) -> str:
        return f"{GARCH_MODEL} ({self.market})"


def check_garch_arguments(
    *, market: str | None, factors: object, convention: str, exclude: object
) -> None:
    """The arguments of ``event_study`` the GARCH model cannot take: a clear error for each."""
    if not market:
        raise SpecificationError(f"{GARCH_MODEL} needs a market index, e.g. market='SPY'")
    if factors:
        raise SpecificationError(
            f"{GARCH_MODEL} takes one market index (market=...), not factors; "
            "use model='factor_model' for several regressors"
        )
    if convention != "default":
        raise SpecificationError(
            f"convention={convention!r} sets the OLS residual divisor; {GARCH_MODEL} is fitted by "
            "maximum likelihood and takes only convention='default'"
        )
    if exclude is not None:
        raise SpecificationError(
            f"{GARCH_MODEL} does not take exclude={exclude!r}: leaving days out of the estimation "
            "window breaks the GARCH variance recursion (sigma_t^2 needs the previous session's "
            "residual). Choose an estimation window that avoids those days, or use "
            "model='market_model' with exclude"
        )


def check_garch_windows(estimation: Window, window: Window) -> None:
    """The estimation window must end before the event window: the event days' variances are
    forecast from its last day."""
    if estimation[1] >= window[0]:
        raise SpecificationError(
            f"{GARCH_MODEL} forecasts the event-window variance from the end of the estimation "
            f"window, so it must end before the event window starts: estimation "
            f"{calendar.format_window(estimation)}, event window {calendar.format_window(window)}"
        )


def std_t_pvalue(stat: np.ndarray | float, nu: np.ndarray | float) -> np.ndarray:
    """Two-sided p-value of ``stat`` under the standardized Student-t with ``nu`` (> 2) degrees
    of freedom (variance 1): 2 P(T_nu > |stat| sqrt(nu / (nu - 2)))."""
    nu = np.asarray(nu, dtype=float)
    out: np.ndarray = 2.0 * special.stdtr(nu, -np.abs(stat) * np.sqrt(nu / (nu - 2.0)))
    return out


def _std_t_quantile(q: float, nu: np.ndarray) -> np.ndarray:
    out: np.ndarray = stats.t.ppf(q, nu) * np.sqrt((nu - 2.0) / nu)
    return out


@dataclass(frozen=True, repr=False)
class GarchCARResult(CARResult):
    """The CAR of the GARCH model over one window, per firm: ``estimate``, its conditional sd
    ``std_error`` = sqrt(sum_t sigma^2_{t|T}), ``tstat`` = SCAR, ``pvalue`` from the standardized
    Student-t with the firm's fitted nu (``dof``), ``conf_int()`` from the same distribution."""

    _paper_table = _paper_tables.garch_car_table

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Per-firm ``lower``/``upper``: estimate -/+ q * std_error, q the 1 - alpha/2 quantile of
        the standardized t(nu) (parameter-estimation error ignored)."""
        q = _std_t_quantile(1 - check_alpha(alpha) / 2, self.dof.to_numpy(dtype=float))
        return pd.DataFrame(
            {
                "lower": self.estimate - q * self.std_error,
                "upper": self.estimate + q * self.std_error,
            }
        )

    def _build_summary(self) -> Summary:
        w = calendar.format_window(self.window)
        rows = [("Window", w), ("Firms", str(len(self.estimate)))]
        if len(self.estimate) > 1:
            rows += [("CAAR", f"{self.caar:.4f}"), ("N used", str(self.n))]
        out = Summary(f"CAR over {w}").header(rows)
        caption = (
            "Per firm (se = sqrt of the summed GARCH variance forecasts, t = SCAR, "
            "p and dof from the fitted standardized t(nu)):"
        )
        out.table(self.to_frame(), caption)
        if self._tests is not None:
            out.rule().text("\n".join(self.tests().text_lines()))
        return out


def garch_results(
    design: EventDesign,
    *,
    market: str,
    estimation: Window,
    window: Window,
    car_window: Window,
    return_kind: str,
    event: object | None,
    min_estimation: int = MIN_ESTIMATION_GARCH,
) -> GarchEventStudyResults:
    """Fit the GARCH(1,1)-t market model on a market-model design (intercept and market columns)
    and return the results; the estimation window must end before the event window."""
    check_garch_windows(estimation, window)
    event_id = getattr(event, "event_id", None)
    where = [
        f"event {event_id}, day 0 {d.day0.date()}" if event_id else f"day 0 {d.day0.date()}"
        for d in design.day0
    ]
    fit = fit_garch(
        design.y_est,
        design.X_est[..., 1],
        design.y_evt,
        design.X_evt[..., 1],
        est_days=design.est_days,
        evt_days=design.evt_days,
        est_dates=design.est_dates,
        firms=design.firms,
        where=where,
        min_estimation=min_estimation,
    )
    return GarchEventStudyResults(
        design=design,
        fit=fit,
        spec=GarchSpec(market),
        estimation=estimation,
        window=window,
        car_window=car_window,
        return_kind=return_kind,
        event=event,
    )


class GarchEventStudyResults(DesignedStudy, SummaryMixin, ExportMixin):
    """Results of ``event_study(..., model="garch_market_model")`` (immutable; derived tables are
    computed on first use). ``params`` holds mu, beta, omega, alpha, garch_beta and nu per firm;
    ``ar``, ``standardized_ar`` and ``conditional_sd`` the event days; ``car(window)`` the CAR
    with its SCAR test; ``tests()`` the cross-section; ``firm_tests()`` each firm's SCAR test."""

    _paper_table = _paper_tables.garch_table
    _export_sheets = _paper_tables.garch_sheets

    def __init__(
        self,
        *,
        design: EventDesign,
        fit: GarchFit,
        spec: GarchSpec,
        estimation: Window,
        window: Window,
        car_window: Window,
        return_kind: str,
        event: object | None,
    ):
        self._design = design
        self._fit = fit
        self._spec = spec
        self._estimation = estimation
        self._window = window
        self._car_window = car_window
        self._return_kind = return_kind
        self._event = event

    # ---- descriptive attributes (the others: DesignedStudy) ---------------------------------
    @property
    def model(self) -> GarchSpec:
        return self._spec

    @property
    def exclude(self) -> None:
        """Always None: the GARCH model takes no ``exclude=`` (the recursion needs every day)."""
        return None

    @property
    def _index(self) -> pd.Index:
        return pd.Index(self.firms, name="firm")

    # ---- estimates ---------------------------------------------------------------------------
    @cached_property
    def params(self) -> pd.DataFrame:
        """The fitted coefficients per firm, in return units: mu and beta of the mean equation,
        omega, alpha and garch_beta of the variance equation, nu of the Student-t."""
        return pd.DataFrame(self._fit.params, index=self._index, columns=list(GARCH_PARAMS))

    @cached_property
    def std_errors(self) -> pd.DataFrame:
        """Robust (sandwich) standard errors of :attr:`params`, ``arch``'s ``cov_type="robust"``:
        the form of Bollerslev & Wooldridge (1992, Econometric Reviews 11(2):143-172), derived there
        for the Gaussian quasi-likelihood and here applied to the Student-t likelihood."""
        return pd.DataFrame(self._fit.std_err, index=self._index, columns=list(GARCH_PARAMS))

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals for :attr:`params`: estimate -/+ z_{1-alpha/2} * robust se; one row per
        firm and parameter (index ``firm, param``), columns ``lower``, ``upper``. Not meaningful
        for a parameter at a bound of its space (see ``fit_stats["alpha_at_zero"]``)."""
        z = float(stats.norm.ppf(1 - check_alpha(alpha) / 2))
        est = self.params.stack()
        se = self.std_errors.stack()
        out = pd.DataFrame({"lower": est - z * se, "upper": est + z * se})
        out.index = out.index.set_names(["firm", "param"])
        return out

    @cached_property
    def fit_stats(self) -> pd.DataFrame:
        """Per firm: ``loglik`` (return units), ``n_estimation`` returns used, ``n_missing`` days
        of the window left out, ``persistence`` alpha + garch_beta, ``unconditional_sd``
        sqrt(omega / (1 - persistence)) (NaN when persistence >= 1), ``r2`` of the mean
        equation and ``alpha_at_zero``: alpha at its bound 0 (below :data:`ALPHA_AT_ZERO`), so
        the variance does not respond to shocks, garch_beta is not identified and its standard
        error means nothing (common in a one-year window)."""
        f = self._fit
        pers = f.persistence
        with np.errstate(divide="ignore", invalid="ignore"):
            unc = np.where(pers < 1, np.sqrt(f.params[:, 2] / (1 - pers)), np.nan)
        return pd.DataFrame(
            {
                "loglik": f.loglik,
                "n_estimation": f.n_est.astype(int),
                "n_missing": (len(self._design.est_days) - f.n_est).astype(int),
                "persistence": pers,
                "unconditional_sd": unc,
                "r2": f.r2,
                "alpha_at_zero": f.params[:, 3] < ALPHA_AT_ZERO,
            },
            index=self._index,
        )

    def _by_day(self, values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            values.T, index=pd.Index(self._design.evt_days, name="day"), columns=self.firms
        )

    @cached_property
    def ar(self) -> pd.DataFrame:
        """Abnormal returns R_t - (mu + beta R_mt): rows = relative day, columns = firms."""
        return self._by_day(self._fit.ar)

    @cached_property
    def conditional_sd(self) -> pd.DataFrame:
        """The forecast conditional sd sigma_{t|T} of each event day (rows day, columns firms)."""
        return self._by_day(self._fit.sd)

    @cached_property
    def standardized_ar(self) -> pd.DataFrame:
        """AR_t / sigma_{t|T} (rows day, columns firms)."""
        return self._by_day(self._fit.sar)

    @property
    def forecast_origin(self) -> pd.Series:
        """Per firm, the relative day of its last estimation return (the forecast origin T)."""
        return pd.Series(self._fit.origin, index=self._index, name="origin")

    @cached_property
    def horizon(self) -> pd.DataFrame:
        """Forecast horizon of each event day: sessions after the last estimation return."""
        return self._by_day(self._fit.horizon)

    @cached_property
    def standardized_resid(self) -> pd.DataFrame:
        """Estimation-window e_t / sigma_t (rows relative day, columns firms; NaN outside the
        fitted sample)."""
        return pd.DataFrame(
            self._fit.std_resid.T,
            index=pd.Index(self._design.est_days, name="day"),
            columns=self.firms,
        )

    @property
    def dates(self) -> pd.DataFrame:
        """Calendar date of each relative day for each firm."""
        return self._by_day(self._design.evt_dates)

    def _days(self, window: Window | str | None) -> tuple[Window, np.ndarray]:
        w = self._car_window if window is None else as_window(window, "CAR")
        if w[0] < self._window[0] or w[1] > self._window[1]:
            raise SpecificationError(
                f"window {calendar.format_window(w)} is not inside the event window "
                f"{calendar.format_window(self._window)}"
            )
        days = np.flatnonzero((self._design.evt_days >= w[0]) & (self._design.evt_days <= w[1]))
        return w, days

    def _car_arrays(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(CAR, sd of the CAR, SCAR) per firm over ``days`` (NaN where an AR is missing)."""
        car = self._fit.ar[:, days].sum(axis=1)
        sd = np.sqrt((self._fit.sd[:, days] ** 2).sum(axis=1))
        return car, sd, car / sd

    def car(self, window: Window | str | None = None) -> GarchCARResult:
        """CAR over ``window`` (default: the CAR window): per firm the estimate, its conditional
        sd, SCAR and its p-value (standardized t(nu)), the CAAR and, for two or more firms, the
        cross-sectional ``tests()``."""
        w, days = self._days(window)
        car, sd, scar = self._car_arrays(days)
        nu = self._fit.params[:, 5]
        ok = np.isfinite(car)
        idx = self._index
        return GarchCARResult(
            window=w,
            estimate=pd.Series(car, idx, name="car"),
            std_error=pd.Series(np.where(ok, sd, np.nan), idx, name="se"),
            tstat=pd.Series(scar, idx, name="t"),
            pvalue=pd.Series(std_t_pvalue(scar, nu), idx, name="pvalue"),
            dof=pd.Series(nu, idx, name="dof"),
            caar=float(car[ok].mean()) if ok.any() else float("nan"),
            n=int(ok.sum()),
            _tests=(lambda: self.tests(w)) if len(self.firms) > 1 else None,
        )

    def caar(self, window: Window | str | None = None) -> float:
        return self.car(window).caar

    def bhar(self, window: Window | str | None = None) -> pd.Series:
        """Buy-and-hold abnormal return: prod(1+R) - prod(1+E[R]) over the window (Barber & Lyon 1997)."""
        w, days = self._days(window)
        r = self._design.y_evt[:, days]
        e = self._fit.expected[:, days]
        if self._return_kind == "log":
            r, e = np.expm1(r), np.expm1(e)
        out = np.prod(1 + r, axis=1) - np.prod(1 + e, axis=1)
        return pd.Series(out, index=self._index, name=f"bhar{calendar.format_window(w)}")

    # ---- tests -------------------------------------------------------------------------------
    def firm_tests(self, window: Window | str | None = None) -> TestTable:
        """Each firm's ``garch_scar`` test over ``window``: SCAR = CAR / sqrt(sum sigma^2_{t|T})
        against the standardized Student-t with the firm's fitted nu (one row per firm)."""
        w, days = self._days(window)
        _, _, scar = self._car_arrays(days)
        nu = self._fit.params[:, 5]
        p = std_t_pvalue(scar, nu)
        rows = []
        for i, firm in enumerate(self.firms):
            stat = float(scar[i])
            rows.append(
                TestRow(
                    "garch_scar",
                    stat,
                    float(p[i]),
                    int(self._fit.n_est[i]),
                    f"standardized t({nu[i]:.2f})",
                    variant=_VARIANT,
                    firm=firm,
                    reason="" if np.isfinite(stat) else "no complete abnormal returns",
                )
            )
        return TestTable(tuple(rows), w, title="Per-firm tests")

    @cached_property
    def _inputs(self) -> inference.TestInputs:
        """The engine's test inputs with the GARCH standardization: sigma_i = 1 and
        C_i = diag(sigma^2_{t|T}), so the engine's exact SCAR is CAR / sqrt(sum sigma^2_{t|T});
        the residuals are the standardized e_t / sigma_t (for r-bar)."""
        f = self._fit
        n, l2 = f.ar.shape
        cov = np.zeros((n, l2, l2))
        cov[:, np.arange(l2), np.arange(l2)] = f.sd**2
        return inference.TestInputs(
            ar=f.ar,
            resid=f.std_resid,
            sigma=np.ones(n),
            n_est=f.n_est,
            k=2,
            cov=cov,
        )

    def _patell(self, days: np.ndarray) -> inference.TestResult:
        """Z = sum_i SCAR_i / sqrt(N) over the firms with a complete CAR, N(0, 1) (Patell 1976
        with unit-variance SCARs)."""
        _, _, scar = self._car_arrays(days)
        used = scar[np.isfinite(scar)]
        z = float(used.sum() / math.sqrt(used.size))
        p = float(2.0 * special.ndtr(-abs(z)))
        return inference.TestResult("patell", z, p, int(used.size), _VARIANT, "N(0,1)")

    def tests(
        self, window: Window | str | None = None, names: Sequence[str] | str | None = None
    ) -> TestTable:
        """Cross-sectional tests over ``window`` (two or more firms): ``names`` among
        :data:`GARCH_MULTI_FIRM_TESTS` (default all). A test the cross-section cannot support is a
        row with its ``reason``. ``bmp``, ``patell`` and ``cross_sectional_t`` assume
        independent firms; ``kp_bmp`` corrects ``bmp`` for their average correlation."""
        multi = ", ".join(GARCH_MULTI_FIRM_TESTS)
        if len(self.firms) < 2:
            raise SpecificationError(
                "multi-firm tests need two or more firms; for one firm use firm_tests() (garch_scar)"
            )
        if names is None:
            chosen = list(GARCH_MULTI_FIRM_TESTS)
        else:
            chosen = [names] if isinstance(names, str) else list(names)
            unknown = [n for n in chosen if n not in GARCH_MULTI_FIRM_TESTS]
            if unknown or not chosen:
                raise SpecificationError(
                    f"unknown test(s) {unknown or names!r} for {GARCH_MODEL}; multi-firm tests: {multi}"
                )
        w, days = self._days(window)
        usable = int(np.isfinite(self._fit.ar[:, days]).all(axis=1).sum())
        rows = []
        for name in chosen:
            if usable < _MIN_FIRMS[name]:
                why = f"not computed: needs at least {_MIN_FIRMS[name]} firms with complete ARs"
                rows.append(TestRow.not_run(name, usable, why))
                continue
            try:
                if name == "patell":
                    r = self._patell(days)
                else:
                    r = inference.get_test(name)(self._inputs, days)
                    if name in _VARIANTS:
                        r = replace(r, variant=_VARIANTS[name])
            except AnalysisError as exc:
                rows.append(TestRow.not_run(name, usable, f"not computed: {exc}"))
                continue
            rows.append(TestRow.from_result(r))
        return TestTable(tuple(rows), w, title=f"Cross-section of {len(self.firms)} firms")

    def against_group(
        self, window: Window | str | None = None, alpha: float = 0.10
    ) -> pd.DataFrame:
        """Firms whose CAR has the opposite sign to the CAAR, with their SCAR p-value and whether
        it is below ``alpha`` (several firms only)."""
        alpha = check_alpha(alpha)
        cr = self.car(window)
        df = cr.to_frame().dropna(subset=["car"])
        df = df[np.sign(df["car"]) == -np.sign(cr.caar)].copy()
        df["significant"] = df["pvalue"] < alpha
        return df.sort_values("car", ascending=bool(cr.caar < 0))

    # ---- reader-facing text and documents ------------------------------------------------------
    def headline(self, window: Window | str | None = None) -> dict[str, Any]:
        """The headline figures (plain floats and strings, None for missing numbers)."""
        from analysis.eventstudy._garch_text import headline

        return headline(self, window)

    def conclusion(self, window: Window | str | None = None, alpha: float = 0.05) -> str:
        """A plain-language paragraph: the estimate, its GARCH-forecast uncertainty and the tests."""
        from analysis.eventstudy._garch_text import conclusion

        return conclusion(self, window, alpha)

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per firm and event day with the return, expected return, AR, conditional
        sd, standardized AR, forecast horizon, and the CAR from the window's first day with its sd
        and SCAR."""
        d, f = self._design, self._fit
        n, l2 = len(self.firms), len(d.evt_days)
        car = np.cumsum(f.ar, axis=1)
        car_sd = np.sqrt(np.cumsum(f.sd**2, axis=1))
        return pd.DataFrame(
            {
                "firm": np.repeat(self.firms, l2),
                "day": np.tile(d.evt_days, n),
                "date": d.evt_dates.ravel(),
                "return": d.y_evt.ravel(),
                "expected": f.expected.ravel(),
                "ar": f.ar.ravel(),
                "conditional_sd": f.sd.ravel(),
                "standardized_ar": f.sar.ravel(),
                "horizon": f.horizon.ravel(),
                "car": car.ravel(),
                "car_sd": car_sd.ravel(),
                "scar": (car / car_sd).ravel(),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``study --json`` document, laid out as :meth:`EventStudyResults.to_dict` (dates ISO,
        missing numbers null). Per firm, ``alpha`` and ``beta`` are the mean equation's intercept
        (mu) and market slope as in the OLS document, ``params`` every GARCH coefficient and
        ``sigma`` the unconditional sd; ``convention`` is null (maximum likelihood) and the
        cross-section has no ``portfolio``."""
        from analysis.eventstudy._garch_text import study_document

        return study_document(self)

    def _build_summary(self) -> Summary:
        from analysis.eventstudy._garch_text import build_summary

        return build_summary(self)
