"""Paper tables and Excel sheets of the GARCH, trading-activity, synthetic-match and power results.

The :class:`analysis._export.ExportMixin` hooks of :class:`~.garch.GarchEventStudyResults`,
:class:`~.garch.GarchCARResult`, :class:`~.activity.AbnormalVolumeResults`,
:class:`~.activity.AbnormalVolatilityResults`, :class:`~.synthetic.SyntheticResults` and
:class:`~.power.PowerResult`: each ``*_table`` function returns the result's
:class:`~analysis._export.PaperTable` (estimates with standard errors where they exist, p-values
for the stars, footer and note) and each ``*_sheets`` function its ``to_excel`` sheets. The
classes bind them as methods (``_paper_table = _paper_tables.garch_table``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import special

from analysis._export import PaperTable
from analysis.data import calendar

if TYPE_CHECKING:
    from analysis.eventstudy.activity import AbnormalVolatilityResults, AbnormalVolumeResults
    from analysis.eventstudy.garch import GarchCARResult, GarchEventStudyResults
    from analysis.eventstudy.power import MinimumDetectableEffect, PowerResult, SimulationSetup
    from analysis.eventstudy.synthetic import SyntheticResults

__all__ = [
    "GARCH_TERMS",
    "OMEGA_SCALE",
    "garch_car_table",
    "garch_params",
    "garch_sheets",
    "garch_table",
    "mde_sheets",
    "mde_table",
    "power_sheets",
    "power_table",
    "synthetic_sheets",
    "synthetic_table",
    "volatility_sheets",
    "volatility_table",
    "volume_sheets",
    "volume_table",
]

_fw = calendar.format_window
_NAN = float("nan")

#: omega is printed times this (percent-squared units, as ``arch`` fits it): in return units a
#: daily omega of about 1e-6 would print as 0.0000.
OMEGA_SCALE = 1e4

#: Row label of each GARCH parameter in the paper table: distinct from the OLS results' ``alpha``
#: (the intercept) so that :func:`analysis._export.latex_table` can set both side by side.
GARCH_TERMS: dict[str, str] = {
    "mu": "mu",
    "beta": "beta",
    "omega": "omega x 1e4",
    "alpha": "alpha (ARCH)",
    "garch_beta": "beta (GARCH)",
    "nu": "nu",
}


def _estimates(
    column: Sequence[str] | str,
    term: Sequence[str] | str,
    estimate: Any,
    std_error: Any = _NAN,
    pvalue: Any = _NAN,
) -> pd.DataFrame:
    """Rows of :attr:`PaperTable.estimates` (scalars broadcast over the arrays)."""
    frame = pd.DataFrame(
        {
            "column": column,
            "term": term,
            "estimate": estimate,
            "std_error": std_error,
            "pvalue": pvalue,
        }
    )
    return frame.astype({"estimate": float, "std_error": float, "pvalue": float})


def _footer(rows: Mapping[str, Sequence[str]], columns: Sequence[str]) -> pd.DataFrame:
    """Footer rows (label -> one printed cell per column)."""
    return pd.DataFrame(list(rows.values()), index=list(rows), columns=list(columns))


def _day0(table: pd.DataFrame, firms: Sequence[str]) -> list[str]:
    return [f"{pd.Timestamp(table.loc[f, 'day0']).date()}" for f in firms]


def _p4(p: float) -> str:
    """A p-value for a footer cell: 4 decimals, empty when missing (no ``<``: plain text)."""
    return f"{p:.4f}" if np.isfinite(p) else ""


# ---- GARCH(1,1)-t market model -------------------------------------------------------------------


def garch_params(res: GarchEventStudyResults) -> pd.DataFrame:
    """Tidy GARCH coefficients: per firm and parameter (``term``) the estimate (return units),
    its robust (sandwich) standard error (the Bollerslev & Wooldridge 1992 form, derived there for
    the Gaussian quasi-likelihood, here applied to the Student-t likelihood), the Wald ``tstat`` =
    estimate / se and its two-sided normal p-value, as ``arch`` reports them; no p-value for ``nu``, whose
    null value 0 lies outside its space (nu > 2)."""
    est = res.params.stack()
    se = res.std_errors.stack()
    z = est / se
    p = pd.Series(2.0 * special.ndtr(-np.abs(z.to_numpy())), index=z.index)
    p[p.index.get_level_values(1) == "nu"] = np.nan
    out = pd.DataFrame({"estimate": est, "std_error": se, "tstat": z, "pvalue": p})
    out.index = out.index.set_names(["firm", "term"])
    return out.reset_index()


def garch_table(res: GarchEventStudyResults) -> PaperTable:
    """Per firm the CAR over the CAR window with its conditional sd sqrt(sum sigma^2_{t|T}) and
    the SCAR p-value (the standardized t(nu) of the fitted Student-t GARCH; Bollerslev 1987), then
    the GARCH coefficients with robust standard errors and Wald p-values (omega times
    :data:`OMEGA_SCALE`; alpha and garch_beta without standard error where alpha is at its bound
    0); day 0, window, model and N in the
    footer."""
    cr = res.car()
    firms = [str(f) for f in res.firms]
    car = _estimates(
        firms,
        f"CAR{_fw(cr.window)}",
        cr.estimate.to_numpy(),
        cr.std_error.to_numpy(),
        cr.pvalue.to_numpy(),
    )
    pt = garch_params(res)
    scale = np.where(pt["term"] == "omega", OMEGA_SCALE, 1.0)
    at_zero = res.fit_stats["alpha_at_zero"].reindex(pt["firm"]).to_numpy(dtype=bool)
    blank = at_zero & pt["term"].isin(["alpha", "garch_beta"]).to_numpy()
    params = _estimates(
        pt["firm"].astype(str).tolist(),
        pt["term"].map(GARCH_TERMS).tolist(),
        pt["estimate"].to_numpy() * scale,
        np.where(blank, np.nan, pt["std_error"].to_numpy() * scale),
        np.where(blank, np.nan, pt["pvalue"].to_numpy()),
    )
    n = len(firms)
    footer = _footer(
        {
            "Day 0": _day0(res.day0_table, firms),
            "Window": [_fw(cr.window)] * n,
            "Model": [res.model.label] * n,
            "N": [str(int(v)) for v in res.fit_stats["n_estimation"]],
        },
        firms,
    )
    note = (
        "CAR: sd = sqrt of the summed GARCH(1,1) variance forecasts, SCAR = CAR / sd against "
        "the standardized t(nu) of the fitted GARCH-t model (Bollerslev 1987); coefficients: "
        "Student-t maximum likelihood, robust sandwich standard errors (Bollerslev & Wooldridge "
        "1992 form), stars from the Wald z (none for nu); omega x 1e4: omega times 10000 (percent-squared units); N: "
        "estimation-window returns."
    )
    if blank.any():
        note += " Where alpha is at its bound 0, alpha and beta (GARCH) have no standard error."
    return PaperTable(pd.concat([car, params], ignore_index=True), footer, note)


def garch_sheets(res: GarchEventStudyResults) -> dict[str, pd.DataFrame]:
    """Sheets: AR/CAR by day, CAR per firm, coefficients (tidy), fit, per-firm and cross-section
    tests (two or more firms)."""
    sheets = {
        "ar_car": res.to_frame(),
        "car": res.car().to_frame(),
        "params": garch_params(res),
        "fit": res.fit_stats,
        "firm_tests": res.firm_tests().to_frame(),
    }
    if len(res.firms) > 1:
        sheets["tests"] = res.tests().to_frame()
    return sheets


def garch_car_table(cr: GarchCARResult) -> PaperTable:
    """Per firm the GARCH CAR with its conditional sd and SCAR p-value; the window and the
    fitted nu of the standardized t in the footer."""
    firms = [str(f) for f in cr.estimate.index]
    est = _estimates(
        firms,
        f"CAR{_fw(cr.window)}",
        cr.estimate.to_numpy(),
        cr.std_error.to_numpy(),
        cr.pvalue.to_numpy(),
    )
    footer = _footer(
        {"Window": [_fw(cr.window)] * len(firms), "nu": [f"{v:.2f}" for v in cr.dof]}, firms
    )
    note = (
        "CAR: sd = sqrt of the summed GARCH(1,1) variance forecasts, SCAR = CAR / sd against "
        "the standardized t(nu) of the fitted GARCH-t model (Bollerslev 1987)."
    )
    return PaperTable(est, footer, note)


# ---- trading activity ------------------------------------------------------------------------


def volume_table(res: AbnormalVolumeResults) -> PaperTable:
    """Per firm the cumulative abnormal log volume over the test window with its standard error
    s sqrt(1'C1) and t(L - k) p-value (Campbell & Wasley 1996); day 0, window, model, N and the
    SQ p-value (Gelbach, Helland & Klick 2013) in the footer."""
    w = res.test_window
    table = res._firm_table(None)
    firms = [str(f) for f in res.firms]
    est = _estimates(
        firms,
        f"CAV{_fw(w)}",
        table["cav"].to_numpy(),
        table["cav_se"].to_numpy(),
        table["pvalue"].to_numpy(),
    )
    n = len(firms)
    footer = _footer(
        {
            "Day 0": _day0(res.day0_table, firms),
            "Window": [_fw(w)] * n,
            "Model": [res._labels()[0]] * n,
            "N": [str(int(v)) for v in table["n_estimation"]],
            "SQ p": [_p4(float(p)) for p in table["sq_pvalue"]],
        },
        firms,
    )
    note = (
        "CAV: cumulative abnormal log(shares traded + 1); t test against t(L - k), which "
        "assumes serially uncorrelated residuals (Campbell & Wasley 1996); SQ p: the CAV "
        "against sums of consecutive estimation residuals (Gelbach, Helland & Klick 2013); "
        "N: estimation days."
    )
    return PaperTable(est, footer, note)


def volume_sheets(res: AbnormalVolumeResults) -> dict[str, pd.DataFrame]:
    """Sheets: AV/CAV by day, the per-firm table (coefficients, CAV, tests), fit, per-firm and
    cross-section tests (two or more firms)."""
    sheets = {
        "av": res.to_frame(),
        "cav": res._firm_table(None),
        "fit": res.fit_stats,
        "firm_tests": res.firm_tests().to_frame(),
    }
    if len(res.firms) > 1:
        sheets["tests"] = res.tests().to_frame()
    return sheets


def volatility_table(res: AbnormalVolatilityResults) -> PaperTable:
    """Per firm the variance ratio, mean of AR^2 / s^2 over the test window (Landsman & Maydew
    2002), and Chow's (1960) predictive F, both starred by the F's upper-tail p-value (no
    standard error); day 0, window, model, N and the F's degrees of freedom in the footer."""
    w = res.test_window
    table = res._firm_table(None)
    firms = [str(f) for f in res.firms]
    p = table["pvalue"].to_numpy()
    est = pd.concat(
        [
            _estimates(firms, f"Variance ratio{_fw(w)}", table["ratio"].to_numpy(), pvalue=p),
            _estimates(firms, "Predictive F", table["f"].to_numpy(), pvalue=p),
        ],
        ignore_index=True,
    )
    n = len(firms)
    footer = _footer(
        {
            "Day 0": _day0(res.day0_table, firms),
            "Window": [_fw(w)] * n,
            "Model": [res._spec.label] * n,
            "N": [str(int(v)) for v in table["n_estimation"]],
            "df": [f"F({a:g}, {b:g})" for a, b in zip(table["df1"], table["df2"], strict=True)],
        },
        firms,
    )
    note = (
        "Variance ratio: mean squared abnormal return over the estimation variance s2 "
        "(Landsman & Maydew 2002); predictive F: the abnormal returns' quadratic form in their "
        "inverse prediction-error covariance over L2 s2 (Chow 1960); stars on both from the "
        "F's upper tail; a mean shift raises both as well as a variance increase. N: "
        "estimation days."
    )
    return PaperTable(est, footer, note)


def volatility_sheets(res: AbnormalVolatilityResults) -> dict[str, pd.DataFrame]:
    """Sheets: U by day, the per-firm table (ratio, F), the return model's coefficients and fit,
    per-firm and cross-section tests (two or more firms)."""
    sheets = {
        "u": res.to_frame(),
        "ratio": res._firm_table(None),
        "params": res.study._param_table,
        "fit": res.study.fit_stats,
        "firm_tests": res.firm_tests().to_frame(),
    }
    if len(res.firms) > 1:
        sheets["tests"] = res.tests().to_frame()
    return sheets


# ---- synthetic match ---------------------------------------------------------------------------


def synthetic_table(res: SyntheticResults) -> PaperTable:
    """The CAR over the event window against the synthetic match with the placebo permutation
    p-value (no standard error; Abadie, Diamond & Hainmueller 2010); day 0, window, method,
    N, donors, pre-event RMSE, the firm's rank and the 95% interval that inverts the test (Firpo
    & Possebom 2018; not for ``rmspe_ratio``) in the footer."""
    row = res.tests()["permutation"]
    firm = str(res.firm)
    est = _estimates([firm], f"CAR{_fw(res.window)}", [res.car], pvalue=[row.pvalue])
    rows = {
        "Day 0": [f"{res.day0.day0.date()}"],
        "Window": [_fw(res.window)],
        "Model": [f"synthetic match ({res.statistic})"],
        "N": [str(res.n_estimation)],
        "Donors": [str(len(res.donors))],
        "RMSE": [f"{res.rmse:.4f}"],
        "Rank": [f"{int(row.extra['rank'])} of {row.n + 1}" if "rank" in row.extra else ""],
    }
    if res.statistic != "rmspe_ratio":
        ci = res.conf_int().iloc[0]
        rows["95% interval"] = [f"[{ci['lower']:.4f}, {ci['upper']:.4f}]"]
    note = (
        "CAR against a convex combination of donors matched on the estimation window "
        "(Acemoglu et al. 2016); p from the rank of the firm's statistic among the donor "
        "placebos, each matched from the others (Abadie, Diamond & Hainmueller 2010); "
        "interval: the shifts the test does not reject (Firpo & Possebom 2018); N: estimation "
        "days; RMSE: pre-event fit."
    )
    return PaperTable(est, _footer(rows, [firm]), note)


def synthetic_sheets(res: SyntheticResults) -> dict[str, pd.DataFrame]:
    """Sheets: returns, synthetic return, AR and CAR by day; donor weights; placebos; the
    permutation test; donors dropped for missing returns (when any)."""
    sheets = {
        "ar": res.to_frame(),
        "weights": res.weights.to_frame(),
        "placebos": res.placebo_table,
        "tests": res.tests().to_frame(),
    }
    if res.dropped:
        sheets["dropped_donors"] = res.dropped_donors
    return sheets


# ---- Monte Carlo power -------------------------------------------------------------------------


def power_table(res: PowerResult) -> PaperTable:
    """Column ``power``: each test's rejection rate with its Monte Carlo standard error
    sqrt(p (1 - p) / n), no stars (rates, not tests); column ``exact`` (when known): the
    noncentral-t power of the prediction-error t. Effect, CAR window, firms, model, alpha and
    simulations in the footer of ``power``."""
    tests = list(res.tests)
    est = _estimates("power", tests, res.power.to_numpy(), res.std_error.to_numpy())
    exact = [t for t in tests if t in res.analytic]
    if exact:
        more = _estimates("exact", exact, [res.analytic[t] for t in exact])
        est = pd.concat([est, more], ignore_index=True)
    st = res.setup
    footer = _footer(
        {
            "Effect": [f"{res.effect:+.4f}"],
            "Window": [_fw(st.car_window)],
            "Firms": [str(st.n_firms)],
            "Model": [st.model],
            "alpha": [f"{st.alpha:g}"],
            "Simulations": [str(st.n_sims)],
        },
        ["power"],
    )
    note = (
        "Power: share of the simulations rejecting at alpha for a CAR of Effect spread equally "
        "over the window's days (Brown & Warner 1980, 1985); Monte Carlo standard errors, no "
        "stars: rates, not tests."
    )
    if exact:
        note += " Exact: noncentral-t power of the prediction-error t test."
    return PaperTable(est, footer, note)


def mde_table(res: MinimumDetectableEffect) -> PaperTable:
    """Column = the test: the detectable |CAR| with its delta-method Monte Carlo standard error,
    the power achieved there and (when known) the exact noncentral-t |CAR|; no stars (a design
    property, not a test). Target power, CAR window, firms, model, sigma, alpha and simulations
    in the footer."""
    col, st = res.test, res.setup
    terms = ["|CAR| detectable", "power achieved"]
    values = [res.effect, res.achieved]
    if res.analytic is not None:
        terms.append("|CAR| exact")
        values.append(res.analytic)
    se = [_NAN if res.std_error is None else res.std_error] + [_NAN] * (len(terms) - 1)
    est = _estimates(col, terms, values, se)
    footer = _footer(
        {
            "Target power": [f"{res.target:g}"],
            "Direction": [res.direction],
            "Window": [_fw(st.car_window)],
            "Firms": [str(st.n_firms)],
            "Model": [st.model],
            "Residual sd": [f"{st.sigma:.4f}"],
            "alpha": [f"{st.alpha:g}"],
            "Simulations": [str(st.n_sims)],
        },
        [col],
    )
    note = (
        "Smallest |CAR| the test detects with the target power at alpha, by bisection on one set "
        "of simulated draws (common random numbers); Monte Carlo standard error by the delta "
        "method; no stars: a property of the design, not a test."
    )
    if res.analytic is not None:
        note += " Exact: from the noncentral-t power of the prediction-error t test."
    return PaperTable(est, footer, note)


def mde_sheets(res: MinimumDetectableEffect) -> dict[str, pd.DataFrame]:
    """Sheets: the result (one row), the search path (effect -> power) and the setup."""
    row = {k: v for k, v in res.to_dict().items() if k != "setup"}
    return {"mde": pd.DataFrame([row]), "path": res.to_frame(), "setup": _setup_sheet(res.setup)}


def _setup_sheet(st: SimulationSetup) -> pd.DataFrame:
    setup: dict[str, Any] = {k: getattr(st, k) for k in st.__dataclass_fields__}
    setup |= {"window": _fw(st.window), "car_window": _fw(st.car_window)}
    return pd.DataFrame([setup])


def power_sheets(res: PowerResult) -> dict[str, pd.DataFrame]:
    """Sheets: the per-test table and the simulation setup (one row, windows as ``[a,b]``)."""
    setup = _setup_sheet(res.setup).assign(effect=res.effect, effect_per_day=res.effect_per_day)
    return {"power": res.to_frame(), "setup": setup}
