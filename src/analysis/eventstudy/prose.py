"""What a reader is told about an event study: the headline figures and the plain-language conclusion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.data import calendar
from analysis.eventstudy.design import Window, check_alpha
from analysis.eventstudy.tables import num, pfmt

if TYPE_CHECKING:  # pragma: no cover
    from analysis.eventstudy.results import EventStudyResults

#: Cross-sectional tests reported in the headline (statistic and p-value).
HEADLINE_TESTS = ("cross_sectional_t", "bmp", "kp_bmp", "bw_cda", "grank", "generalized_sign")
#: Tests robust to a shared event date, and those that assume independent firms.
ROBUST_TESTS = ("kp_bmp", "bw_cda", "grank")
NAIVE_TESTS = ("cross_sectional_t", "bmp", "patell")


def _pvalue(frame: pd.DataFrame, key: object) -> float | None:
    return num(frame.loc[key, "pvalue"]) if key in frame.index else None


def headline(res: EventStudyResults, window: Window | str | None = None) -> dict[str, Any]:
    """The headline figures of the study (plain floats and strings), for reports."""
    cr = res.car(window)
    out: dict[str, Any] = {
        "day0": f"{res.event_day.date:%Y-%m-%d}",
        "model": res.model.label,
        "car_window": calendar.format_window(cr.window),
        "n_firms": len(res.firms),
    }
    if res.exclude is not None:
        out["exclude"] = ",".join(x if isinstance(x, str) else f"{x.date()}" for x in res.exclude)
        out["n_excluded"] = len(res.excluded)
    ft = res.firm_tests(window).applicable().to_frame()
    if len(res.firms) == 1:
        firm = res.firms[0]
        out.update(
            {
                "ar_day0": num(res.ar.loc[0, firm]) if 0 in res.ar.index else None,
                "car": num(cr.estimate[firm]),
                "car_se": num(cr.std_error[firm]) if np.isfinite(cr.estimate[firm]) else None,
                "t": num(cr.tstat[firm]),
                "pvalue": num(cr.pvalue[firm]),
                "sq_pvalue": num(ft.loc[(firm, "sq"), "pvalue"]),
                "dummy_hac_pvalue": _pvalue(ft, (firm, "dummy_hac")),
                "bhar": num(res.bhar(window)[firm]),
                "n_estimation": int(res.fit_stats.loc[firm, "n_estimation"]),
            }
        )
        return out
    tt = cr.tests().to_frame()
    out.update(
        {
            "caar": num(cr.caar),
            "n_used": cr.n,
            "rbar": num(tt["rbar"].dropna().iloc[0]) if tt["rbar"].notna().any() else None,
        }
    )
    for name in HEADLINE_TESTS:
        if name in tt.index:
            out[f"{name}_stat"] = num(tt.loc[name, "stat"])
            out[f"{name}_pvalue"] = num(tt.loc[name, "pvalue"])
    if res.shared_date:
        pr = res.portfolio()
        pft = pr.firm_tests(window).to_frame()
        out["portfolio_car"] = num(pr.car(window).estimate.iloc[0])
        out["portfolio_t_pvalue"] = num(pft.loc[("portfolio", "t_prediction_error"), "pvalue"])
        out["portfolio_sq_pvalue"] = num(pft.loc[("portfolio", "sq"), "pvalue"])
    out["against_group"] = list(res.against_group(window).index)
    return out


def _span(res: Any, w: Window) -> str:
    """The window, with its dates when the firms share day 0 (any study with ``shared_date``
    and ``dates``: the OLS and the GARCH results)."""
    text = calendar.format_window(w)
    if not res.shared_date:
        return text
    days = res.dates.loc[w[0] : w[1]].iloc[:, 0]
    return f"{text} ({days.iloc[0]:%Y-%m-%d} to {days.iloc[-1]:%Y-%m-%d})"


def _one_firm(res: EventStudyResults, window: Window | str | None, alpha: float) -> str:
    cr = res.car(window)
    f = res.firms[0]
    ft = res.firm_tests(window).applicable().to_frame()
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
    tests = "; ".join(f"{t} p = {pfmt(v)}" for t, v in p.items())
    parts = [f"abnormal return on day 0 {res.ar.loc[0, f]:+.2%}"] if 0 in res.ar.index else []
    parts.append(
        f"CAR over {_span(res, cr.window)} {cr.estimate[f]:+.2%} "
        f"(standard error {cr.std_error[f]:.2%}, {res.model.label})"
    )
    return f"{f}: {'; '.join(parts)}. {tests}: {verdict}."


def conclusion(
    res: EventStudyResults, window: Window | str | None = None, alpha: float = 0.05
) -> str:
    """A plain-language paragraph stating the estimate, its uncertainty and the main tests."""
    alpha = check_alpha(alpha)
    if len(res.firms) == 1:
        return _one_firm(res, window, alpha) + _exclusion_note(res)
    return _group(res, window, alpha) + _exclusion_note(res)


def _exclusion_note(res: EventStudyResults) -> str:
    """A sentence on the days left out of the estimation window ("" without ``exclude``)."""
    if res.exclude is None:
        return ""
    cov = res.estimation_coverage
    text = (
        f" The estimation window leaves out {len(res.excluded)} firm-day(s) "
        f"({', '.join(x if isinstance(x, str) else f'{x.date()}' for x in res.exclude)}) and "
        f"reaches back to {cov['start'].min():%Y-%m-%d}"
    )
    short = cov[cov["shortfall"] > 0]
    if len(short):
        who = ", ".join(f"{f} {n}" for f, n in short["shortfall"].items())
        return text + f"; the price data run out before it was filled (days short: {who})."
    return text + f" to keep {cov['requested'].iloc[0]} days."


def _group(res: EventStudyResults, window: Window | str | None, alpha: float) -> str:
    """The conclusion for several firms."""
    cr = res.car(window)
    tt = cr.tests().to_frame()
    ran = [t for t in tt.index if np.isfinite(tt.loc[t, "pvalue"])]
    robust = [t for t in ROBUST_TESTS if t in ran]
    naive = [t for t in NAIVE_TESTS if t in ran]
    rbar = tt["rbar"].dropna()
    text = f"CAAR over {_span(res, cr.window)} across {cr.n} firms: {cr.caar:+.2%}"
    if len(rbar):
        text += f"; average residual correlation r-bar = {rbar.iloc[0]:.2f}"
    text += ". Tests robust to the shared date: " + "; ".join(
        f"{t} p = {pfmt(tt.loc[t, 'pvalue'])}" for t in robust
    )
    if naive:
        text += ". Tests that assume independence (shown for comparison): " + "; ".join(
            f"{t} p = {pfmt(tt.loc[t, 'pvalue'])}" for t in naive
        )
    sig = [t for t in robust if tt.loc[t, "pvalue"] < alpha]
    text += (
        f". The group reaction is significant at {alpha:.0%} by {', '.join(sig)}."
        if sig
        else f". No clustering-robust test is significant at {alpha:.0%}."
    )
    against = res.against_group(window)
    if len(against):
        moved = ", ".join(f"{f} ({c:+.2%})" for f, c in against["car"].items())
        text += f" Moved against the group: {moved}."
    return text


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _news(rows: pd.DataFrame) -> str:
    ids = list(rows.loc[rows["kind"] == "registry event", "id"].unique())
    earnings = rows.loc[rows["kind"] == "earnings", "date"].nunique()
    parts = []
    if ids:
        what = _count(len(ids), "other registry event's window", "other registry events' windows")
        parts.append(f"{what} ({', '.join(ids)})")
    if earnings:
        parts.append(_count(earnings, "earnings reaction day", "earnings reaction days"))
    return " and ".join(parts)


def confounder_note(res: EventStudyResults) -> str:
    """One Markdown paragraph per firm: the other news in its event and estimation windows
    (:meth:`EventStudyResults.confounders`), and the ``exclude=`` that would leave the
    estimation-window days out when some are still in the fit."""
    conf = res.confounders()
    lines = []
    for sym in res.firms:
        est = conf[(conf["firm"] == sym) & (conf["where"] == "estimation window")]
        evt = conf[(conf["firm"] == sym) & (conf["where"] == "event window")]
        said = [f"the estimation window holds {_news(est)}"] if len(est) else []
        said += [f"the event window holds {_news(evt)}"] if len(evt) else []
        kinds = (("events", "registry event"), ("earnings", "earnings"))
        what = ",".join(w for w, kind in kinds if (est["kind"] == kind).any())
        advice = f'; rerun with exclude="{what}" for a clean estimate' if len(est) else ""
        body = (
            "; ".join(said) + advice
            if said
            else "no other registry event's window and no earnings reaction day falls in "
            "either window"
        )
        lines.append(f"**{sym}**: {body}.")
    return "\n\n".join(lines)


def report_headline(
    res: EventStudyResults,
    *,
    benchmark: str = "",
    alternative: EventStudyResults | None = None,
    alternative_label: str = "",
    grid: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """:func:`headline` plus what an event page publishes beside it: the benchmark's name, the
    CAR and p under the alternative benchmark (one firm), and the robustness grid's shares of
    negative CARs and of p < 0.05 among the specifications that ran."""
    out = headline(res)
    out["benchmark"] = benchmark
    if alternative is not None and len(res.firms) == 1:
        cr = alternative.car()
        out.update(
            {
                "alt_benchmark": alternative_label,
                "alt_car": num(cr.estimate.iloc[0]),
                "alt_pvalue": num(cr.pvalue.iloc[0]),
            }
        )
    if grid is not None and len(grid):
        ok = grid[grid["error"] == ""]
        out["robustness_specs"] = int(len(ok))
        out["robustness_share_negative"] = float((ok["car"] < 0).mean())
        out["robustness_share_p_below_0_05"] = float((ok["pvalue"] < 0.05).mean())
    return out


def windows_sentence(res: EventStudyResults) -> str:
    """Day 0 with its reason, and the estimation and event windows with their dates."""
    (e0, e1), (w0, w1) = res.window_dates("estimation"), res.window_dates("event")
    return (
        f"**Day 0: {res.event_day.date:%Y-%m-%d}** ({res.event_day.reason}). Estimation window "
        f"{calendar.format_window(res.estimation)}: {e0:%Y-%m-%d} to {e1:%Y-%m-%d}; event window "
        f"{calendar.format_window(res.window)}: {w0:%Y-%m-%d} to {w1:%Y-%m-%d}."
    )
