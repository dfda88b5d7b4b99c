"""What a reader is told about a GARCH event study: headline, conclusion, JSON document, summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis._summary import Summary
from analysis.data import calendar
from analysis.eventstudy._garch_fit import GARCH_MODEL, GARCH_MULTI_FIRM_TESTS, GARCH_PARAMS
from analysis.eventstudy.design import Window, check_alpha
from analysis.eventstudy.document import _event_dict
from analysis.eventstudy.prose import _span
from analysis.eventstudy.tables import num, pfmt

if TYPE_CHECKING:  # pragma: no cover
    from analysis.eventstudy.garch import GarchCARResult, GarchEventStudyResults


def headline(res: GarchEventStudyResults, window: Window | str | None = None) -> dict[str, Any]:
    """The headline figures (plain floats and strings, None for missing numbers)."""
    cr = res.car(window)
    out: dict[str, Any] = {
        "day0": f"{res.event_day.date:%Y-%m-%d}",
        "model": res.model.label,
        "car_window": calendar.format_window(cr.window),
        "n_firms": len(res.firms),
    }
    if len(res.firms) == 1:
        firm = res.firms[0]
        stats_ = res.fit_stats.loc[firm]
        out.update(
            {
                "ar_day0": num(res.ar.loc[0, firm]) if 0 in res.ar.index else None,
                "car": num(cr.estimate[firm]),
                "car_se": num(cr.std_error[firm]),
                "scar": num(cr.tstat[firm]),
                "pvalue": num(cr.pvalue[firm]),
                "nu": num(res.params.loc[firm, "nu"]),
                "persistence": num(stats_["persistence"]),
                "bhar": num(res.bhar(window)[firm]),
                "n_estimation": int(stats_["n_estimation"]),
            }
        )
        return out
    tt = cr.tests().to_frame()
    out.update({"caar": num(cr.caar), "n_used": cr.n, "rbar": _rbar(tt)})
    for name in GARCH_MULTI_FIRM_TESTS:
        out[f"{name}_stat"] = num(tt.loc[name, "stat"])
        out[f"{name}_pvalue"] = num(tt.loc[name, "pvalue"])
    out["against_group"] = list(res.against_group(window).index)
    return out


def conclusion(
    res: GarchEventStudyResults, window: Window | str | None = None, alpha: float = 0.05
) -> str:
    """A plain-language paragraph: the estimate, its GARCH-forecast uncertainty and the tests."""
    alpha = check_alpha(alpha)
    cr = res.car(window)
    if len(res.firms) == 1:
        f = res.firms[0]
        p = float(cr.pvalue[f])
        parts = [f"abnormal return on day 0 {res.ar.loc[0, f]:+.2%}"] if 0 in res.ar.index else []
        parts.append(
            f"CAR over {_span(res, cr.window)} {cr.estimate[f]:+.2%} (conditional sd "
            f"{cr.std_error[f]:.2%} from the GARCH(1,1) variance forecasts, {res.model.label})"
        )
        verdict = "significant" if p < alpha else "not significant"
        return (
            f"{f}: {'; '.join(parts)}. SCAR = {cr.tstat[f]:.2f}, p = {pfmt(p)} against the "
            f"standardized t({cr.dof[f]:.1f}): {verdict} at the {alpha:.0%} level."
        )
    tt = cr.tests().to_frame()
    text = f"CAAR over {_span(res, cr.window)} across {cr.n} firms: {cr.caar:+.2%}"
    rbar = _rbar(tt)
    if rbar is not None:
        text += f"; average correlation of the standardized residuals r-bar = {rbar:.2f}"
    p_kp = num(tt.loc["kp_bmp", "pvalue"])
    if p_kp is not None:
        verdict = "significant" if p_kp < alpha else "not significant"
        text += (
            f". Corrected for that correlation (kp_bmp) p = {pfmt(p_kp)}: {verdict} at {alpha:.0%}"
        )
    naive = [
        t for t in ("bmp", "patell", "cross_sectional_t") if num(tt.loc[t, "pvalue"]) is not None
    ]
    if naive:
        text += ". Tests that assume independent firms (for comparison): " + "; ".join(
            f"{t} p = {pfmt(tt.loc[t, 'pvalue'])}" for t in naive
        )
    text += f" ({res.model.label}, GARCH-standardized CARs)."
    against = res.against_group(window)
    if len(against):
        moved = ", ".join(f"{f} ({c:+.2%})" for f, c in against["car"].items())
        text += f" Moved against the group: {moved}."
    return text


def study_document(res: GarchEventStudyResults) -> dict[str, Any]:
    """:meth:`GarchEventStudyResults.to_dict`: laid out as :meth:`EventStudyResults.to_dict` (dates ISO,
    missing numbers null). Per firm, ``alpha`` and ``beta`` are the mean equation's intercept
    (mu) and market slope as in the OLS document, ``params`` every GARCH coefficient and
    ``sigma`` the unconditional sd; ``convention`` is null (maximum likelihood) and the
    cross-section has no ``portfolio``."""
    cr = res.car()
    ft = res.firm_tests()
    stats_ = res.fit_stats
    bhar = res.bhar()
    firms: dict[str, Any] = {}
    for firm in res.firms:
        p = res.params.loc[firm]
        dates = [pd.Timestamp(t).date().isoformat() for t in res.dates[firm]]
        firms[firm] = {
            "alpha": num(p["mu"]),
            "beta": num(p["beta"]),
            "params": {k: num(p[k]) for k in GARCH_PARAMS},
            "std_errors": {k: num(res.std_errors.loc[firm, k]) for k in GARCH_PARAMS},
            "sigma": num(stats_.loc[firm, "unconditional_sd"]),
            "persistence": num(stats_.loc[firm, "persistence"]),
            "loglik": num(stats_.loc[firm, "loglik"]),
            "r2": num(stats_.loc[firm, "r2"]),
            "alpha_at_zero": bool(stats_.loc[firm, "alpha_at_zero"]),
            "n_estimation": int(stats_.loc[firm, "n_estimation"]),
            "day0": res.day0_table.loc[firm, "day0"].date().isoformat(),
            "ar": _by_date(dates, res.ar[firm]),
            "conditional_sd": _by_date(dates, res.conditional_sd[firm]),
            "standardized_ar": _by_date(dates, res.standardized_ar[firm]),
            "car": num(cr.estimate[firm]),
            "car_se": num(cr.std_error[firm]),
            "scar": num(cr.tstat[firm]),
            "bhar": num(bhar[firm]),
            "tests": {
                r.name: {"stat": num(r.stat), "pvalue": num(r.pvalue)}
                for r in ft.rows
                if r.firm == firm
            },
        }
    doc: dict[str, Any] = {
        "day0": res.event_day.date.date().isoformat(),
        "day0_reason": res.event_day.reason,
        "event": _event_dict(res.event),
        "model": GARCH_MODEL,
        "market": res.model.market,
        "factors": list(res.model.factors),
        "convention": None,
        "return_kind": res.return_kind,
        "estimation": {"days": list(res.estimation), **_dates_dict(res, "estimation")},
        "window": {"days": list(res.window), **_dates_dict(res, "event")},
        "car_window": list(res.car_window),
        "variance": {
            "model": "GARCH(1,1)",
            "innovations": "standardized Student-t",
            "estimator": "maximum likelihood (arch), returns in percent for the optimizer",
            "forecast_origin_day": int(res.forecast_origin.iloc[0]),
        },
        "firms": firms,
    }
    if len(res.firms) > 1:
        tt = cr.tests()
        doc["cross_section"] = {
            "caar": num(cr.caar),
            "n": cr.n,
            "rbar": _rbar(tt.to_frame()),
            "tests": {
                r.name: {"stat": num(r.stat), "pvalue": num(r.pvalue), "n": int(r.n)}
                for r in tt.rows
            },
            "portfolio": None,
        }
    # as the OLS document: the single firm's tests, or the cross-section's
    doc["tests"] = (
        doc["cross_section"]["tests"] if len(res.firms) > 1 else firms[res.firms[0]]["tests"]
    )
    return doc


def _dates_dict(res: GarchEventStudyResults, which: str) -> dict[str, str]:
    start, end = res.window_dates(which)
    return {"start": start.date().isoformat(), "end": end.date().isoformat()}


def _header(res: GarchEventStudyResults) -> list[tuple[str, str]]:
    est0, est1 = res.window_dates("estimation")
    ev0, ev1 = res.window_dates("event")
    rows = res._event_rows()
    h = res.horizon.iloc[:, 0].to_numpy()
    rows += [
        ("Model", res.model.label),
        (
            "Variance",
            "GARCH(1,1), standardized Student-t innovations; maximum likelihood (arch), "
            "returns in percent for the optimizer",
        ),
        (
            "Estimation",
            f"{calendar.format_window(res.estimation)} = {est0.date()} to {est1.date()}",
        ),
        (
            "Event window",
            f"{calendar.format_window(res.window)} = {ev0.date()} to {ev1.date()} "
            f"(forecast horizons {int(h.min())} to {int(h.max())} sessions)",
        ),
        ("CAR window", calendar.format_window(res.car_window)),
        ("Returns", f"{res.return_kind}, adjusted close"),
        ("Firms", str(len(res.firms))),
    ]
    return rows


def _firm_table(res: GarchEventStudyResults, cr: GarchCARResult) -> pd.DataFrame:
    df = res.params.drop(columns="omega")
    stats_ = res.fit_stats
    df["uncond_sd"] = stats_["unconditional_sd"]
    df["n_est"] = stats_["n_estimation"]
    if 0 in res.ar.index:
        df["AR(0)"] = res.ar.loc[0]
    df["CAR"] = cr.estimate
    df["sd"] = cr.std_error
    df["SCAR"] = cr.tstat
    df["p"] = cr.pvalue
    return df


def build_summary(res: GarchEventStudyResults) -> Summary:
    cr = res.car()
    w = calendar.format_window(res.car_window)
    out = Summary("GARCH event study results").header(_header(res))
    caption = (
        f"Per firm, CAR over {w} (sd from the GARCH variance forecasts, parameter "
        "uncertainty ignored; p of the SCAR from the fitted standardized t(nu)):"
    )
    out.table(_firm_table(res, cr), caption)
    flat = [f for f, v in res.fit_stats["alpha_at_zero"].items() if v]
    if flat:
        out.text(
            f"alpha at 0 for {', '.join(flat)}: the conditional variance does not respond to "
            "shocks in the estimation window (garch_beta not identified)"
        )
    if len(res.firms) > 1:
        tt = cr.tests()
        out.rule().table(tt.to_frame(), text="\n".join(tt.text_lines()))
    return out


def _by_date(dates: Sequence[str], values: pd.Series) -> dict[str, float | None]:
    return {d: num(v) for d, v in zip(dates, values, strict=True)}


def _rbar(frame: pd.DataFrame) -> float | None:
    r = frame["rbar"].dropna()
    return num(r.iloc[0]) if len(r) else None
