"""The ``study --json`` document of an event study (keys as in the README, "Command line")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.eventstudy.tables import TestTable, num

if TYPE_CHECKING:  # pragma: no cover
    from analysis.eventstudy.results import EventStudyResults


def _event_dict(ev: object) -> dict[str, Any] | None:
    if ev is None:
        return None
    keys = ("event_id", "title", "kind", "source_title", "source_url")
    return {key: getattr(ev, key) for key in keys if hasattr(ev, key)}


def _tests(table: TestTable, firm: str) -> dict[str, dict[str, float | None]]:
    return {
        r.name: {"stat": num(r.stat), "pvalue": num(r.pvalue)}
        for r in table.applicable().rows
        if r.firm == firm
    }


def _span(res: EventStudyResults, which: str) -> dict[str, str]:
    start, end = res.window_dates(which)
    return {"start": start.date().isoformat(), "end": end.date().isoformat()}


def _cross_section(res: EventStudyResults) -> dict[str, Any]:
    cr = res.car()
    tt = cr.tests()
    rbar = next((r.extra["rbar"] for r in tt.rows if "rbar" in r.extra), float("nan"))
    port = None
    if res.shared_date:
        pr = res.portfolio()
        port = {
            "car": num(pr.car().estimate.iloc[0]),
            "tests": _tests(pr.firm_tests(), "portfolio"),
        }
    return {
        "caar": num(cr.caar),
        "n": cr.n,
        "rbar": num(rbar),
        "tests": {
            r.name: {"stat": num(r.stat), "pvalue": num(r.pvalue), "n": int(r.n)} for r in tt.rows
        },
        "portfolio": port,
    }


def _exclusions(res: EventStudyResults, firm: str) -> dict[str, Any]:
    """A firm's excluded estimation days with their reasons, its extended start and shortfall."""
    ex = res.excluded[res.excluded["firm"] == firm]
    cov = res.estimation_coverage.loc[firm]
    return {
        "excluded": [
            {"date": d.date().isoformat(), "reason": r}
            for d, r in zip(ex["date"], ex["reason"], strict=True)
        ],
        "estimation_start": cov["start"].date().isoformat(),
        "estimation_shortfall": int(cov["shortfall"]),
    }


def study_document(res: EventStudyResults) -> dict[str, Any]:
    """The ``study --json`` document: day 0, model, windows with dates, per-firm estimates and
    tests, for several firms the cross-section, and ``tests``: the single firm's tests or the
    cross-section's (dates ISO, missing numbers null)."""
    cr = res.car()
    ft = res.firm_tests()
    spec = res.model
    stats = res.fit_stats
    bhar = res.bhar()
    dates = res.dates
    firms = {}
    for firm in res.firms:
        p = res.params.loc[firm]
        firms[firm] = {
            "alpha": num(p["alpha"]) if "alpha" in p else None,
            "beta": num(p["beta"]) if "beta" in p else None,
            "params": {k: num(p[k]) for k in spec.param_names},
            "sigma": num(stats.loc[firm, "sigma"]),
            "r2": num(stats.loc[firm, "r2"]),
            "n_estimation": int(stats.loc[firm, "n_estimation"]),
            "day0": res.day0_table.loc[firm, "day0"].date().isoformat(),
            "ar": {
                pd.Timestamp(dt).date().isoformat(): num(v)
                for dt, v in zip(dates[firm], res.ar[firm], strict=True)
            },
            "car": num(cr.estimate[firm]),
            "car_se": num(cr.std_error[firm]) if np.isfinite(cr.estimate[firm]) else None,
            "bhar": num(bhar[firm]),
            "tests": _tests(ft, firm),
        }
        if res.exclude is not None:
            firms[firm].update(_exclusions(res, firm))
    doc: dict[str, Any] = {
        "day0": res.event_day.date.date().isoformat(),
        "day0_reason": res.event_day.reason,
        "event": _event_dict(res.event),
        "model": spec.name,
        "market": spec.factors[0] if spec.name in ("market_model", "market_adjusted") else None,
        "factors": list(spec.factors),
        "convention": res.convention,
        "return_kind": res.return_kind,
        "estimation": {"days": list(res.estimation), **_span(res, "estimation")},
        "window": {"days": list(res.window), **_span(res, "event")},
        "car_window": list(res.car_window),
        "firms": firms,
    }
    if res.exclude is not None:
        doc["exclude"] = [x if isinstance(x, str) else x.date().isoformat() for x in res.exclude]
    if len(res.firms) > 1:
        doc["cross_section"] = _cross_section(res)
    # the study's own tests at the top: one firm's (t, SQ, permutation, ...), or the
    # cross-section's (BMP, KP, wild bootstrap, ...) for several firms
    doc["tests"] = (
        doc["cross_section"]["tests"] if len(res.firms) > 1 else firms[res.firms[0]]["tests"]
    )
    return doc
