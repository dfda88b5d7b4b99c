"""The China-exposure study in one call: revenue by region, the market's verdict per event, the
event studies and the cross-section of CARs on China share, with published and headline figures.

:func:`china_exposure` is the I/O edge (fact tables, prices, event studies); :meth:`ChinaExposure.
results` is the dict the report publishes, :func:`exposure_headline` the front page's, and
:meth:`ChinaExposure.caveats` the page's "what this can and cannot show", worded from the fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis._summary import Summary, SummaryMixin
from analysis.errors import EstimationError
from analysis.studies.exposure.regression import (
    ExposureRegression,
    SlopePermutation,
    china_exposure_regression,
    exposure_snapshot,
)
from analysis.studies.exposure.revenue import china_share_series, revenue_by_region
from analysis.studies.exposure.verdict import market_verdict

__all__ = ["ChinaExposure", "china_exposure", "exposure_firms", "exposure_headline"]

BILLING = "billing location"


@dataclass(frozen=True, repr=False)
class ChinaExposure(SummaryMixin):
    """Nvidia's China exposure and the market's verdict (built by :func:`china_exposure`).

    Frames: ``revenue`` / ``peers`` / ``shares`` (the fact tables as loaded), ``by_region``
    (:func:`.revenue_by_region`), ``china`` (:func:`.china_share_series`), ``exposure``
    (:func:`.exposure_snapshot` at ``exposure_as_of``), ``verdict`` (:func:`.market_verdict`
    with the event titles), ``cars`` (symbol, car, event_id). ``studies``: event id -> the
    event study of every firm of ``exposure``; ``titles``: event id -> registry title.
    ``regression`` is the cross-section, ``permutation`` its permutation test (None, with
    ``permutation_note`` saying why, when the firms cannot be exchanged) and ``leave_one_out``
    the slope without each firm in turn.
    """

    event_ids: tuple[str, ...]
    market: str
    estimation: str
    window: str
    verdict_window: str
    exposure_as_of: str
    min_confidence: str
    basis: str
    revenue: pd.DataFrame
    peers: pd.DataFrame
    shares: pd.DataFrame
    by_region: pd.DataFrame
    china: pd.DataFrame
    exposure: pd.DataFrame
    titles: dict[str, str]
    verdict: pd.DataFrame
    studies: dict[str, Any]
    cars: pd.DataFrame
    regression: ExposureRegression
    permutation: SlopePermutation | None
    permutation_note: str
    leave_one_out: pd.DataFrame

    @property
    def firms(self) -> list[str]:
        return list(self.exposure["symbol"])

    @property
    def window_label(self) -> str:
        from analysis.data import calendar

        return calendar.format_window(calendar.parse_window(self.window))

    @property
    def n_firms(self) -> int:
        """Firms in the regression (after exclusions)."""
        return int(self.regression.data["symbol"].nunique())

    def slope(self) -> pd.Series:
        """The china_share row of the coefficient table (coef, se, se_hc3, pvalue, ci_low, ...)."""
        return self.regression.to_frame().set_index("term").loc["china_share"]

    def to_frame(self) -> pd.DataFrame:
        """The regression's coefficient table."""
        return self.regression.to_frame()

    def day0_table(self) -> pd.DataFrame:
        """Day 0 of each event with the calendar rule's reason."""
        s = self.studies
        return pd.DataFrame(
            {
                "event_id": list(self.event_ids),
                "title": [self.titles[e] for e in self.event_ids],
                "day0": [s[e].event_day.date for e in self.event_ids],
                "reason": [s[e].event_day.reason for e in self.event_ids],
            }
        )

    def _latest_billing(self) -> pd.Series:
        c = self.china
        billing = c[(c["basis"] == BILLING) & (c["presentation"] == "as_reported")]
        return billing.sort_values("period_end").iloc[-1]

    def _loo_extremes(self) -> tuple[pd.Series, pd.Series] | None:
        loo = self.leave_one_out.dropna(subset=["slope"])
        if loo.empty:
            return None
        return loo.loc[loo["slope"].idxmin()], loo.loc[loo["slope"].idxmax()]

    # ------------------------------------------------------------------------- published
    def results(self) -> dict:
        """The figures the report publishes (results.json): shares rounded to 4 decimals, the
        implied multiple to 2, value lost to 0.1 bn, the regression to 4 (p-values 3, R^2 3)."""
        c = self.china
        fy2023 = c[
            (c["fiscal_year"] == "FY2023")
            & (c["basis"] == BILLING)
            & (c["presentation"] == "as_reported")
        ]
        latest = self._latest_billing()
        slope, reg = self.slope(), self.regression
        out: dict = {
            "events": list(self.event_ids),
            "window": self.window,
            "verdict_window": self.verdict_window,
            "china_share_fy2023_billing": (
                round(float(fy2023["share"].iloc[0]), 4) if len(fy2023) else None
            ),
            "china_share_latest_billing": round(float(latest["share"]), 4),
            "china_share_latest_billing_fiscal_year": latest["fiscal_year"],
            "implied_multiple_by_event": {
                r["event_id"]: round(float(r["implied_multiple"]), 2)
                for _, r in self.verdict.iterrows()
            },
            "market_value_lost_usd_bn_by_event": {
                r["event_id"]: round(float(r["market_value_lost_usd"]) / 1e9, 1)
                for _, r in self.verdict.iterrows()
            },
            "nvda_car_by_event": {
                e: round(float(self.studies[e].car(self.window).estimate["NVDA"]), 4)
                for e in self.event_ids
            },
            "regression_slope": round(float(slope["coef"]), 4),
            "regression_se": round(float(slope["se"]), 4),
            "regression_se_type": reg.cov_type,
            "regression_se_hc3": round(float(slope["se_hc3"]), 4),
            "regression_pvalue": round(float(slope["pvalue"]), 3),
            "regression_ci_low": round(float(slope["ci_low"]), 4),
            "regression_ci_high": round(float(slope["ci_high"]), 4),
            "regression_n": reg.n,
            "regression_n_firms": self.n_firms,
            "regression_r2": round(reg.r2, 3),
            "regression_bases": list(reg.bases),
        }
        perm = self.permutation
        out["regression_permutation_pvalue"] = round(perm.pvalue, 3) if perm else None
        out["regression_permutations"] = perm.permutations if perm else None
        ext = self._loo_extremes()
        out["regression_loo_slope_min"] = round(float(ext[0]["slope"]), 4) if ext else None
        out["regression_loo_slope_min_without"] = ext[0]["symbol"] if ext else None
        out["regression_loo_slope_max"] = round(float(ext[1]["slope"]), 4) if ext else None
        out["regression_loo_slope_max_without"] = ext[1]["symbol"] if ext else None
        return out

    def headline(self) -> dict:
        """The cross-section for a front page; see :func:`exposure_headline`."""
        r = self.results()
        bases = r["regression_bases"]
        return {
            "events": r["events"],
            "window": r["window"],
            "slope": r["regression_slope"],
            "slope_ci_low": r["regression_ci_low"],
            "slope_ci_high": r["regression_ci_high"],
            "slope_pvalue": r["regression_pvalue"],
            "permutation_pvalue": r["regression_permutation_pvalue"],
            "permutations": r["regression_permutations"],
            "n_firms": r["regression_n_firms"],
            "n_firm_events": r["regression_n"],
            "geography_bases": bases,
            "geography_basis": bases[0] if len(bases) == 1 else "mixed: " + ", ".join(bases),
            "error_type": r["regression_se_type"],
            "loo_slope_min": r["regression_loo_slope_min"],
            "loo_slope_min_without": r["regression_loo_slope_min_without"],
            "loo_slope_max": r["regression_loo_slope_max"],
            "loo_slope_max_without": r["regression_loo_slope_max_without"],
        }

    # ------------------------------------------------------------------------- words
    def caveats(self) -> str:
        """What the cross-section can and cannot show, in Markdown, every number from the fit."""
        reg, slope, k = self.regression, self.slope(), self.n_firms
        firms = reg.data.drop_duplicates("symbol").sort_values("china_share", ascending=False)
        distinct = firms["china_share"].nunique()
        if reg.n > k:
            where = (
                f"The slope is estimated from {reg.n} firm-events, but these are only "
                f"**{k} firms**, each with one China share used for every event, so the slope "
                f"rests on {distinct} distinct exposure values."
            )
        else:
            where = f"The slope is estimated from **{k} firms**, one China share each."
        top = firms.iloc[0]
        far = (
            f"The firm with the highest share is {top['symbol']} ({top['china_share']:.0%}, "
            f"basis: {top['basis']})"
        )
        if len(firms) > 1 and firms.iloc[1]["china_share"] > 0:
            nxt = firms.iloc[1]
            far += (
                f", {top['china_share'] / nxt['china_share']:.1f} times the next highest "
                f"({nxt['symbol']}, {nxt['china_share']:.0%})"
            )
        loo = self.leave_one_out.set_index("symbol")["slope"]
        ext = self._loo_extremes()
        if ext is not None:
            lo, hi = ext
            far += (
                f". Leaving out one firm at a time moves the slope between {lo['slope']:+.3f} "
                f"(without {lo['symbol']}) and {hi['slope']:+.3f} (without {hi['symbol']})"
            )
            if pd.notna(loo.get(top["symbol"])) and top["symbol"] not in (
                lo["symbol"],
                hi["symbol"],
            ):
                far += f"; without {top['symbol']} it is {loo[top['symbol']]:+.3f}"
        zero = slope["ci_low"] <= 0 <= slope["ci_high"]
        meaning = (
            f"A slope of {slope['coef']:+.3f} means a firm with a 10 percentage-point higher "
            f"China share had a CAR {slope['coef'] * 0.1:+.2%} different on average over "
            f"{self.window_label}, with a 95% interval of [{slope['ci_low']:+.3f}, "
            f"{slope['ci_high']:+.3f}] (p = {slope['pvalue']:.2f}), which "
            + ("includes zero." if zero else "excludes zero.")
        )
        perm = self.permutation
        if perm is not None:
            how = f"all {perm.permutations:,}" if perm.exact else f"{perm.permutations:,} random"
            meaning += (
                f" Reassigning the China shares among the {perm.n_firms} firms ({how} "
                f"assignments) gives a permutation p-value of {perm.pvalue:.2f}."
            )
        else:
            meaning += f" No permutation test: {self.permutation_note}"
        excluded = ", ".join(sorted(set(reg.excluded["symbol"]))) or "none"
        bases = ", ".join(reg.bases)
        mixed = (
            " These bases measure China differently, so the shares are not strictly comparable."
            if reg.mixed_bases
            else ""
        )
        return (
            f"**What this can and cannot show.** {where} {reg.describe_errors()} {far}. "
            f"{meaning} Firms left out: {excluded}. Geography bases in the sample: {bases}."
            f"{mixed}"
        )

    def _build_summary(self) -> Summary:
        rows = [
            ("Events", ", ".join(self.event_ids)),
            ("Window", self.window_label),
            ("Shares as of", self.exposure_as_of),
        ]
        out = Summary("China exposure and the market's verdict").header(rows)
        out.table(self.verdict.set_index("event_id")[["implied_multiple"]], "Verdict:")
        return out.text(self.caveats())


def exposure_firms(exposure_as_of: str = "2023-10-17") -> list[str]:
    """The symbols of the cross-section: every firm of ``peers_china_exposure.csv`` with a China
    share for a fiscal year ending before ``exposure_as_of`` (:func:`.exposure_snapshot`)."""
    from analysis.data import facts

    return list(exposure_snapshot(facts.load_peers_exposure(), before=exposure_as_of)["symbol"])


def china_exposure(
    event_ids=("E02", "E04", "E08", "E17", "E18", "E21"),
    *,
    market: str = "SPY",
    estimation: str = "-250:-11",
    window: str = "-1:3",
    verdict_window: str = "-1:3",
    exposure_as_of: str = "2023-10-17",
    min_confidence: str = "medium",
    basis: str = "billing location",
) -> ChinaExposure:
    """Run the China-exposure study (the parameters of ``notebooks/china_exposure.ipynb``).

    Loads the revenue, peer-exposure and share-count tables; NVDA's market-value change over
    ``verdict_window`` of each event against the China revenue (billing location) of the latest
    fiscal year ended before day 0 (:func:`.market_verdict`); a market-model event study
    (``market``, ``estimation``, ``window``) of every firm with a China share as of
    ``exposure_as_of`` (:func:`.exposure_snapshot`); and the regression of CARs on that share
    (:func:`.china_exposure_regression`, ``min_confidence``; ``basis`` restricts it to one
    geography basis; shares on different bases are never mixed) with its permutation test and leave-one-out slopes.
    """
    import analysis.eventstudy as es
    from analysis.data import calendar, facts, prices
    from analysis.data.events import get_event

    ids = tuple(event_ids)
    rev, peers = facts.load_revenue_geography(), facts.load_peers_exposure()
    shares = facts.load_shares_outstanding()
    snapshot = exposure_snapshot(peers, before=exposure_as_of)
    firms = list(snapshot["symbol"])
    by_region = revenue_by_region(rev)
    by_region["column"] = by_region["fiscal_year"].where(
        by_region["presentation"] == "as_reported",
        by_region["fiscal_year"] + " (" + by_region["presentation"] + ")",
    )
    china = china_share_series(rev, peers)
    w0, w1 = calendar.parse_window(verdict_window)
    nvda_rows = peers[(peers["symbol"] == "NVDA") & (peers["presentation"] == "as_reported")]
    registry = {e: get_event(e) for e in ids}
    windows = pd.DataFrame(
        [
            {
                "event_id": e,
                "start": calendar.offset(ev.day0().day0, w0 - 1),
                "end": calendar.offset(ev.day0().day0, w1),
                "fiscal_year": exposure_snapshot(nvda_rows, before=ev.day0().day0)[
                    "fiscal_year"
                ].iloc[0],
            }
            for e, ev in registry.items()
        ]
    )
    verdict = market_verdict(prices.quoted_close("NVDA"), shares, china, windows)
    verdict.insert(1, "title", [registry[e].title for e in verdict["event_id"]])
    studies = {
        e: es.event_study(firms, event=e, market=market, estimation=estimation, window=window)
        for e in ids
    }
    cars = pd.concat(
        [
            studies[e]
            .car(window)
            .estimate.rename("car")
            .rename_axis("symbol")
            .reset_index()
            .assign(event_id=e)
            for e in ids
        ],
        ignore_index=True,
    )
    reg = china_exposure_regression(
        cars, snapshot, min_confidence=min_confidence, basis=basis or None
    )
    try:
        perm, note = reg.permutation_test(), ""
    except EstimationError as exc:
        perm, note = None, str(exc)
    return ChinaExposure(
        event_ids=ids,
        market=market,
        estimation=estimation,
        window=window,
        verdict_window=verdict_window,
        exposure_as_of=exposure_as_of,
        min_confidence=min_confidence,
        basis=basis,
        revenue=rev,
        peers=peers,
        shares=shares,
        by_region=by_region,
        china=china,
        exposure=snapshot,
        titles={e: registry[e].title for e in ids},
        verdict=verdict,
        studies=studies,
        cars=cars,
        regression=reg,
        permutation=perm,
        permutation_note=note,
        leave_one_out=reg.leave_one_out(),
    )


def exposure_headline(study: ChinaExposure | None = None, **parameters) -> dict:
    """The China-exposure cross-section for a front page, as a plain dict.

    ``study``: a :class:`ChinaExposure`; without it :func:`china_exposure` is run with
    ``parameters`` (its defaults: six export-control events, CAR[-1,+3]). Keys (rounded as
    published: slope 4 decimals, p-values 3):

    - ``slope``, ``slope_ci_low``, ``slope_ci_high``, ``slope_pvalue``: the CAR-on-China-share
      slope, its 95% interval and p-value (``error_type``: the standard errors used, e.g.
      "clustered by firm (G = 7), t(6)");
    - ``permutation_pvalue`` and ``permutations``: the permutation test of the slope (firms'
      shares exchanged; None when not possible);
    - ``n_firms``, ``n_firm_events``; ``geography_bases`` (list) and ``geography_basis`` (the
      one basis, or "mixed: ..." listing them);
    - ``loo_slope_min`` / ``loo_slope_max`` with ``loo_slope_min_without`` /
      ``loo_slope_max_without``: the range of the slope refitted without each firm in turn;
    - ``events`` and ``window``: the sample.

    Every value is one of :meth:`ChinaExposure.results`, the figures the report publishes.
    """
    if study is None:
        study = china_exposure(**parameters)
    elif parameters:
        raise TypeError("pass either a study or the parameters to run one, not both")
    return study.headline()
