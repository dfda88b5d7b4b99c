"""China revenue exposure: Nvidia's revenue by region, the market's verdict per event, and a
cross-section of abnormal returns on China exposure.

Pure functions on frames (inputs from :mod:`analysis.data.facts` loaders and quoted closes from
:func:`analysis.data.prices.quoted_close`). Geography bases are never mixed silently: every row carries
its ``basis`` and ``presentation``, and the regression flags a sample with more than one basis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from analysis._summary import Summary, SummaryMixin
from analysis.data.facts import confidence_rank
from analysis.errors import DataError, EstimationError, SpecificationError

__all__ = [
    "ExposureRegression",
    "china_exposure_regression",
    "china_share_series",
    "exposure_snapshot",
    "market_value_change",
    "market_verdict",
    "pick_shares",
    "revenue_by_region",
]

CHINA = "China (including Hong Kong)"


def revenue_by_region(rev: pd.DataFrame) -> pd.DataFrame:
    """Nvidia revenue by region as levels and shares of the reported total, one row per
    (fiscal_year, presentation, region), with basis, currency, unit and confidence kept."""
    total = rev["total_revenue"]
    out = rev.assign(share=rev["revenue"] / total)
    cols = [
        "symbol",
        "fiscal_year",
        "period_end",
        "presentation",
        "geography_basis",
        "region",
        "revenue",
        "total_revenue",
        "share",
        "currency",
        "unit",
        "confidence_level",
    ]
    return out[cols].sort_values(["fiscal_year", "presentation", "region"]).reset_index(drop=True)


def china_share_series(
    rev: pd.DataFrame, peers: pd.DataFrame | None = None, *, basis: str | None = None
) -> pd.DataFrame:
    """Nvidia's China (incl. Hong Kong) revenue and share by fiscal year, one series per basis.

    Billing-location rows come from ``revenue_geography`` (as reported; the FY2025-10-K
    restatement of FY2024 is kept as its own presentation); customer-headquarters rows of the
    FY2026 10-K re-presentation come from the NVDA rows of ``peers`` when given. Columns:
    fiscal_year, period_end, basis, presentation, china, total, share, change_pp (vs the previous
    fiscal year *of the same basis and presentation*), currency, unit, confidence_level, source.
    ``basis`` selects one series ("billing location" or "customer headquarters").
    """
    c = rev[rev["region"] == CHINA]
    out = pd.DataFrame(
        {
            "fiscal_year": c["fiscal_year"],
            "period_end": c["period_end"],
            "basis": c["geography_basis"],
            "presentation": c["presentation"],
            "china": c["revenue"],
            "total": c["total_revenue"],
            "currency": c["currency"],
            "unit": c["unit"],
            "confidence_level": c["confidence_level"],
            "source": c["source_filing"],
        }
    )
    if peers is not None:
        p = peers[(peers["symbol"] == "NVDA") & (peers["presentation"] != "as_reported")]
        out = pd.concat(
            [
                out,
                pd.DataFrame(
                    {
                        "fiscal_year": p["fiscal_year"],
                        "period_end": p["fiscal_year_end"],
                        "basis": p["basis"],
                        "presentation": p["presentation"],
                        "china": p["china_revenue"],
                        "total": p["total_revenue"],
                        "currency": p["currency"],
                        "unit": p["unit"],
                        "confidence_level": p["confidence_level"],
                        "source": p["source_title"],
                    }
                ),
            ],
            ignore_index=True,
        )
    if basis is not None:
        if basis not in set(out["basis"]):
            raise SpecificationError(
                f"basis {basis!r} not available; have {sorted(set(out['basis']))}"
            )
        out = out[out["basis"] == basis]
    out = out.assign(share=out["china"] / out["total"])
    out = out.sort_values(["basis", "presentation", "fiscal_year"]).reset_index(drop=True)
    out["change_pp"] = 100 * out.groupby(["basis", "presentation"])["share"].diff()
    cols = [
        "fiscal_year",
        "period_end",
        "basis",
        "presentation",
        "china",
        "total",
        "share",
        "change_pp",
        "currency",
        "unit",
        "confidence_level",
        "source",
    ]
    return out[cols]


# --------------------------------------------------------------------------------------------
# the market's verdict
# --------------------------------------------------------------------------------------------
def pick_shares(
    shares: pd.DataFrame, symbol: str, on, *, split_basis: str | None = None
) -> pd.Series:
    """The confirmed share count nearest to ``on`` (ties: the earlier one), optionally restricted
    to one split basis. Returns the row (with ``gap_days`` = as_of - on). Raises DataError when
    no confirmed count exists."""
    d = pd.Timestamp(on)
    s = shares[(shares["symbol"] == symbol) & shares["shares"].notna()]
    if split_basis is not None:
        s = s[s["split_basis"] == split_basis]
    if s.empty:
        raise DataError(
            f"no confirmed share count for {symbol}"
            + (f" on a {split_basis} basis" if split_basis else "")
            + " in shares_outstanding.csv"
        )
    gap = (s["as_of"] - d).dt.days
    order = np.lexsort((s["as_of"].to_numpy(), gap.abs().to_numpy()))
    row = s.iloc[order[0]].copy()
    row["gap_days"] = int(gap.iloc[order[0]])
    return row


def market_value_change(
    quoted_close: pd.Series, shares: pd.DataFrame, *, symbol: str, start, end, shares_on=None
) -> dict:
    """Change in market value from the close of ``start`` to the close of ``end``.

    ``quoted_close``: closes in the units quoted on each date (pre-split units before a split,
    :func:`analysis.data.prices.quoted_close`). Shares: the confirmed count nearest to ``shares_on``
    (default ``start``), restated in the split units of ``start`` with the split table (a window
    that spans a split is refused). Returns a dict with the prices, dates,
    the share count and its date, and ``change_usd`` = shares x (P_end - P_start).
    """
    s = quoted_close.dropna().sort_index()
    if s.empty:
        raise DataError(f"{symbol}: no quoted closes given")
    s.index = pd.DatetimeIndex(s.index)
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    for t in (t0, t1):
        if t not in s.index:
            raise DataError(
                f"{symbol}: no quoted close on {t.date()} (a trading day is needed); "
                f"series covers {s.index[0].date()}..{s.index[-1].date()}"
            )
    if t1 <= t0:
        raise SpecificationError(f"end {t1.date()} must be after start {t0.date()}")
    from analysis.data.prices import split_factor, splits

    split_dates = [d for d in splits(symbol)["date"] if t0 < d <= t1]
    if split_dates:
        raise SpecificationError(
            f"{symbol}: the window {t0.date()}..{t1.date()} spans the split of "
            f"{split_dates[0].date()}; quoted prices are in different units on each side"
        )
    row = pick_shares(shares, symbol, shares_on if shares_on is not None else t0)
    # the count is in the units of its own date; restate it in the units of the prices (t0)
    factor = split_factor(symbol, row["as_of"]) / split_factor(symbol, t0)
    p0, p1 = float(s[t0]), float(s[t1])
    n = float(row["shares"]) * factor
    return {
        "symbol": symbol,
        "start": t0,
        "end": t1,
        "price_start": p0,
        "price_end": p1,
        "price_change": p1 - p0,
        "return_pct": 100 * (p1 / p0 - 1),
        "shares": n,
        "shares_reported": float(row["shares"]),
        "shares_split_factor": factor,
        "shares_as_of": row["as_of"],
        "shares_gap_days": row["gap_days"],
        "split_basis": row["split_basis"],
        "change_usd": n * (p1 - p0),
        "currency": "USD",
    }


def market_verdict(
    quoted_close: pd.Series,
    shares: pd.DataFrame,
    china: pd.DataFrame,
    windows: pd.DataFrame,
    *,
    symbol: str = "NVDA",
) -> pd.DataFrame:
    """Market value change per event next to annual China revenue: the implied multiple.

    ``windows``: event_id, start, end, fiscal_year (the fiscal year whose China revenue is the
    yardstick) and optionally basis. ``china``: :func:`china_share_series`. The multiple is
    market value lost / annual China revenue (both USD): how many years of China revenue the
    move priced out. A rise gives a negative "lost" value; the sign is kept.
    """
    rows = []
    for _, w in windows.iterrows():
        mv = market_value_change(
            quoted_close, shares, symbol=symbol, start=w["start"], end=w["end"]
        )
        basis = w.get("basis", "billing location")
        c = china[
            (china["fiscal_year"] == w["fiscal_year"])
            & (china["basis"] == basis)
            & (china["presentation"].isin(["as_reported", "re_presented_fy2026_10k"]))
        ]
        if c.empty:
            raise DataError(f"{w['event_id']}: no {basis} China revenue for {w['fiscal_year']}")
        china_usd = float(c["china"].iloc[0]) * 1e6
        lost = -mv["change_usd"]
        rows.append(
            {
                "event_id": w["event_id"],
                **mv,
                "market_value_lost_usd": lost,
                "china_fiscal_year": w["fiscal_year"],
                "china_basis": basis,
                "china_revenue_usd": china_usd,
                "implied_multiple": lost / china_usd,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# cross-section
# --------------------------------------------------------------------------------------------
def exposure_snapshot(
    peers: pd.DataFrame, *, before, presentation: str = "as_reported"
) -> pd.DataFrame:
    """One exposure row per symbol: the latest fiscal year ending before ``before`` with a
    China share. Columns: symbol, fiscal_year, china_share, basis, confidence_level."""
    b = pd.Timestamp(before)
    p = peers[
        (peers["fiscal_year_end"] < b)
        & peers["china_share"].notna()
        & (peers["presentation"] == presentation)
    ]
    p = p.sort_values("fiscal_year_end").groupby("symbol").tail(1)
    return (
        p[["symbol", "fiscal_year", "fiscal_year_end", "china_share", "basis", "confidence_level"]]
        .sort_values("symbol")
        .reset_index(drop=True)
    )


@dataclass(frozen=True, repr=False)
class ExposureRegression(SummaryMixin):
    """OLS of CAR on China revenue share; HC3 standard errors (MacKinnon & White 1985) with one
    row per firm, errors clustered by firm when firms repeat across events (``cov_type``).

    ``params``, ``bse``, ``tvalues``, ``pvalues`` and ``conf_int()`` are indexed by term, as in
    statsmodels; ``coefficients`` (and ``to_frame()``) is the whole coefficient table."""

    coefficients: pd.DataFrame
    n: int
    data: pd.DataFrame
    excluded: pd.DataFrame
    bases: tuple[str, ...]
    min_confidence: str
    r2: float
    warnings: tuple[str, ...] = field(default_factory=tuple)
    cov_type: str = "HC3"
    n_firms: int = 0

    @property
    def mixed_bases(self) -> bool:
        return len(self.bases) > 1

    def _column(self, name: str) -> pd.Series:
        return self.coefficients.set_index("term")[name].rename(None)

    @property
    def params(self) -> pd.Series:
        """The coefficients, by term."""
        return self._column("coef")

    @property
    def bse(self) -> pd.Series:
        """Their standard errors (the reported kind, see ``cov_type``)."""
        return self._column("se")

    @property
    def tvalues(self) -> pd.Series:
        return self._column("t")

    @property
    def pvalues(self) -> pd.Series:
        return self._column("pvalue")

    def conf_int(self) -> pd.DataFrame:
        """The 95% interval of each coefficient: ``lower`` and ``upper`` by term."""
        ci = self.coefficients.set_index("term")[["ci_low", "ci_high"]]
        return ci.rename(columns={"ci_low": "lower", "ci_high": "upper"}).rename_axis(None)

    def to_frame(self) -> pd.DataFrame:
        """Coefficient table: term, coef, se (the reported one, see ``cov_type``), se_hc3, t,
        pvalue, ci_low, ci_high, n."""
        return self.coefficients.assign(n=self.n)

    def _build_summary(self) -> Summary:
        rows = [
            ("Model", "CAR on China revenue share, OLS"),
            ("Std. errors", self.cov_type),
            ("Sample", f"n = {self.n} firm-events of {self.n_firms} firms"),
            ("Excluded", str(len(self.excluded))),
            ("R^2", f"{self.r2:.3f}"),
            ("Confidence", f"min confidence = {self.min_confidence}"),
            (
                "Bases",
                ", ".join(self.bases)
                + (" -- MIXED: shares are not measured the same way" if self.mixed_bases else ""),
            ),
        ]
        out = Summary("China exposure regression").header(rows)
        out.table(self.coefficients.set_index("term"), "Coefficients (95% interval):")
        if self.warnings:
            out.text("\n".join(f"Note: {w}" for w in self.warnings))
        return out


def china_exposure_regression(
    cars: pd.DataFrame,
    exposure: pd.DataFrame,
    *,
    min_confidence: str = "medium",
    basis: str | list[str] | None = None,
) -> ExposureRegression:
    """Regress event CARs on China revenue share across firms: ``car = a + b * china_share``.

    ``cars``: symbol, event_id, car. ``exposure``: symbol, china_share, basis, confidence_level
    (e.g. :func:`exposure_snapshot`). Firms whose exposure confidence is below
    ``min_confidence`` (or unconfirmed), whose share is missing, or whose basis is not in
    ``basis`` (when given) are excluded and listed with the reason. With several events, event
    fixed effects are added. Standard errors: HC3 (MacKinnon & White 1985, J. Econometrics 29),
    which behaves better than HC0/HC1 in small samples but is still unreliable with a handful of
    firms; the summary says so.
    """
    need_c = {"symbol", "event_id", "car"} - set(cars.columns)
    need_e = {"symbol", "china_share", "basis", "confidence_level"} - set(exposure.columns)
    if need_c or need_e:
        raise SpecificationError(
            f"missing columns: cars {sorted(need_c)}, exposure {sorted(need_e)}"
        )
    thr = confidence_rank(min_confidence)
    if exposure["symbol"].duplicated().any():
        dup = sorted(exposure.loc[exposure["symbol"].duplicated(), "symbol"])
        raise SpecificationError(
            f"exposure has several rows for {', '.join(dup)}; pass one per "
            "symbol (see exposure_snapshot)"
        )
    bases = None if basis is None else ([basis] if isinstance(basis, str) else list(basis))
    m = cars.merge(exposure, on="symbol", how="left", indicator=True)
    reasons = []
    for _, r in m.iterrows():
        if r["_merge"] == "left_only" or pd.isna(r["china_share"]):
            reasons.append("no China share")
        elif pd.isna(r["car"]):
            reasons.append("CAR missing")
        elif confidence_rank(r["confidence_level"]) < thr or r["confidence_level"] == "unconfirmed":
            reasons.append(f"confidence {r['confidence_level']} < {min_confidence}")
        elif bases is not None and r["basis"] not in bases:
            reasons.append(f"basis {r['basis']} not selected")
        else:
            reasons.append("")
    m["reason"] = reasons
    used = m[m["reason"] == ""].copy()
    excluded = m[m["reason"] != ""][["symbol", "event_id", "reason"]].reset_index(drop=True)
    events = sorted(used["event_id"].unique())
    k = 2 + max(len(events) - 1, 0)
    if len(used) <= k:
        raise EstimationError(
            f"only {len(used)} firm-event(s) left after exclusions (need more than {k} for "
            f"{k} parameters); excluded: "
            + "; ".join(f"{r.symbol} ({r.reason})" for r in excluded.itertuples())
        )
    X = pd.DataFrame(
        {"const": 1.0, "china_share": used["china_share"].astype(float)}, index=used.index
    )
    for e in events[1:]:
        X[f"event[{e}]"] = (used["event_id"] == e).astype(float)
    y = used["car"].astype(float)
    if X["china_share"].nunique() < 2:
        raise EstimationError(
            "china_share takes a single value in the sample; the slope is not identified"
        )
    hc3 = sm.OLS(y, X).fit(cov_type="HC3")
    firms = used["symbol"].to_numpy()
    n_firms = len(set(firms))
    if n_firms < len(used):
        # a firm's China share repeats across events, so its rows are not independent: errors
        # clustered by firm, referred to t(G - 1) (Cameron & Miller 2015, J. Human Resources 50(2))
        codes = pd.factorize(firms)[0]
        fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
        cov_type = f"clustered by firm (G = {n_firms}), t({n_firms - 1})"
    else:
        fit, cov_type = hc3, "HC3"
    ci = fit.conf_int()
    params = pd.DataFrame(
        {
            "term": X.columns,
            "coef": fit.params.to_numpy(),
            "se": fit.bse.to_numpy(),
            "se_hc3": hc3.bse.to_numpy(),
            "t": fit.tvalues.to_numpy(),
            "pvalue": fit.pvalues.to_numpy(),
            "ci_low": ci[0].to_numpy(),
            "ci_high": ci[1].to_numpy(),
        }
    )
    n = len(used)
    warns = []
    if n_firms < 10:
        warns.append(
            f"only {n_firms} firms ({n} firm-events): the p-value and interval are fragile (one "
            "firm can move them a lot) and rest on asymptotics that do not hold here; read the "
            "slope as a description of these firms, not as evidence about exposure in general"
        )
    warns.append(
        "a cross-section of this size cannot separate China exposure from other firm "
        "traits (segment mix, size, beta) or show causation"
    )
    ub = tuple(sorted(used["basis"].unique()))
    if len(ub) > 1:
        warns.append(
            "China shares are measured on different geography bases ("
            + ", ".join(ub)
            + "); pass basis= to restrict to one"
        )
    return ExposureRegression(
        params,
        n,
        used.drop(columns=["_merge", "reason"]),
        excluded,
        ub,
        min_confidence,
        float(fit.rsquared),
        tuple(warns),
        cov_type,
        n_firms,
    )
