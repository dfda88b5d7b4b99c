"""China revenue exposure: Nvidia's revenue by region, the market's verdict per event, and a
cross-section of abnormal returns on China exposure.

Pure functions on frames (inputs from :mod:`analysis.data.facts` loaders and quoted closes from
:func:`analysis.data.prices.quoted_close`). Geography bases are never mixed silently: every row carries
its ``basis`` and ``presentation``; the regression flags a sample with more than one basis, and
refuses one when shares are taken point in time (as filed before each event).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from analysis._summary import Summary, SummaryMixin
from analysis.data.facts import confidence_rank
from analysis.errors import DataError, EstimationError, SpecificationError

__all__ = [
    "ExposureRegression",
    "MixedBasesError",
    "SlopePermutation",
    "china_exposure_regression",
    "china_share_series",
    "exposure_filed_before",
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
    cars: Mapping[str, float] | pd.Series | None = None,
) -> pd.DataFrame:
    """Market value change per event next to annual China revenue: the implied multiple.

    ``windows``: event_id, start, end, fiscal_year (the fiscal year whose China revenue is the
    yardstick) and optionally basis. ``china``: :func:`china_share_series`. The multiple is
    market value lost / annual China revenue (both USD): how many years of China revenue the
    move priced out. A rise gives a negative "lost" value; the sign is kept.

    The raw change includes the market's own move. ``cars`` (event_id -> ``symbol``'s CAR over
    the same window, a fraction) adds the abnormal value change beside it: ``car`` x the market
    value at the close before the window (``market_value_start_usd``), as
    ``abnormal_value_change_usd``, ``abnormal_value_lost_usd`` and ``abnormal_implied_multiple``.
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
        row = {
            "event_id": w["event_id"],
            **mv,
            "market_value_lost_usd": lost,
            "china_fiscal_year": w["fiscal_year"],
            "china_basis": basis,
            "china_revenue_usd": china_usd,
            "implied_multiple": lost / china_usd,
        }
        if cars is not None:
            if w["event_id"] not in cars or pd.isna(cars[w["event_id"]]):
                raise DataError(
                    f"{w['event_id']}: no {symbol} CAR given in cars= (have "
                    f"{sorted(cars.keys())}); pass one per event of windows"
                )
            car = float(cars[w["event_id"]])
            value0 = mv["shares"] * mv["price_start"]
            row |= {
                "car": car,
                "market_value_start_usd": value0,
                "abnormal_value_change_usd": car * value0,
                "abnormal_value_lost_usd": -car * value0,
                "abnormal_implied_multiple": -car * value0 / china_usd,
            }
        rows.append(row)
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


def exposure_filed_before(
    peers: pd.DataFrame,
    *,
    before,
    filings: pd.DataFrame | None = None,
    presentation: str = "as_reported",
) -> pd.DataFrame:
    """Point-in-time exposure: for each symbol of ``peers``, the China share of the latest fiscal
    year whose annual report was filed strictly before ``before`` (the share a reader could know).

    ``filings``: :func:`analysis.data.earnings.load_filings` (the default). One row per symbol:
    symbol, fiscal_year, form, filed_date, fiscal_year_end, china_share, basis, confidence_level
    and ``reason`` -- empty when a share was found, otherwise why the symbol has none (no annual
    report of it filed before the date, or no row of ``peers`` for the filed fiscal year).
    """
    from analysis.data.earnings import load_filings

    b = pd.Timestamp(before)
    fil = load_filings() if filings is None else filings
    p = peers[peers["presentation"] == presentation]
    cols = ["fiscal_year_end", "china_share", "basis", "confidence_level"]
    rows = []
    for sym in sorted(p["symbol"].unique()):
        f = fil[(fil["symbol"] == sym) & (fil["filed_date"] < b)].sort_values("filed_date")
        row: dict = {"symbol": sym, "fiscal_year": None, "form": None, "filed_date": pd.NaT}
        row |= dict.fromkeys(cols)
        if f.empty:
            row["reason"] = f"no annual report of {sym} filed before {b.date()} in filings.csv"
        else:
            last = f.iloc[-1]
            fy = last["fiscal_year"]
            row |= {"fiscal_year": fy, "form": last["form"], "filed_date": last["filed_date"]}
            match = p[(p["symbol"] == sym) & (p["fiscal_year"] == fy)]
            if match.empty:
                row["reason"] = (
                    f"{fy} {last['form']} filed {last['filed_date'].date()} has no {presentation} "
                    "row in peers_china_exposure.csv"
                )
            else:
                row |= match.iloc[0][cols].to_dict() | {"reason": ""}
        rows.append(row)
    out = pd.DataFrame(
        rows, columns=["symbol", "fiscal_year", "form", "filed_date", *cols, "reason"]
    )
    return out.astype({"china_share": float}).assign(
        filed_date=pd.to_datetime(out["filed_date"]),
        fiscal_year_end=pd.to_datetime(out["fiscal_year_end"]),
    )


class MixedBasesError(SpecificationError):
    """A point-in-time regression would mix China shares measured on different geography bases."""


@dataclass(frozen=True)
class SlopePermutation:
    """Permutation test of the exposure slope, formula (23), docs/formulas.md."""

    slope: float
    pvalue: float
    permutations: int
    exact: bool
    n_firms: int
    seed: int | None


def _event_slope(x: np.ndarray, y: np.ndarray, events: np.ndarray) -> np.ndarray:
    """OLS slope of y on x with one intercept per event (rows of ``x`` are draws): both are
    demeaned within events (Frisch-Waugh-Lovell)."""
    codes, inv = np.unique(events, return_inverse=True)
    onehot = np.eye(len(codes))[inv]
    counts = onehot.sum(0)
    xd = x - ((x @ onehot) / counts)[..., inv]
    yd = y - ((y @ onehot) / counts)[inv]
    den = (xd**2).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-300, (xd @ yd) / np.where(den > 1e-300, den, 1.0), np.nan)


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
    point_in_time: bool = False

    @property
    def mixed_bases(self) -> bool:
        return len(self.bases) > 1

    @property
    def basis(self) -> str | None:
        """The one geography basis of the sample (None when bases are mixed)."""
        return self.bases[0] if len(self.bases) == 1 else None

    def describe_errors(self) -> str:
        """One paragraph on the reported standard errors, worded for the fit's ``cov_type``."""
        if self.cov_type.startswith("clustered"):
            return (
                f"The standard errors are {self.cov_type}: they allow a "
                "firm's abnormal returns to be correlated across events, but not different "
                f"firms' returns on the same day, and with {self.n_firms} clusters they are "
                "themselves imprecise, so the interval is likely too narrow."
            )
        return (
            f"The {self.cov_type} standard errors treat the {self.n} firm-events as independent; "
            "firms' returns on the same day are not, so the interval is likely too narrow."
        )

    def _rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        d = self.data
        return (
            d["car"].to_numpy(float),
            d["china_share"].to_numpy(float),
            d["event_id"].astype(str).to_numpy(),
            d["symbol"].astype(str).to_numpy(),
        )

    def permutation_test(self, permutations: int = 9999, seed: int = 0) -> SlopePermutation:
        """Two-sided permutation p-value of the slope, formula (23), docs/formulas.md.

        Firms are the units: their China shares are shuffled across firms (every event row of
        a firm takes the share of the same other firm) and the slope with event intercepts is
        refitted. All G! assignments are enumerated when G! <= ``permutations``; otherwise
        ``permutations`` random ones (seeded) give p = (1 + #{|b*| >= |b|}) / (1 + draws).
        Fisher (1935), Pitman (1937), Good (2005); Phipson & Smyth (2010) for the +1.
        """
        y, x, ev, sym = self._rows()
        firms, g = np.unique(sym, return_inverse=True)
        events, e = np.unique(ev, return_inverse=True)
        table = np.full((len(firms), len(events)), np.nan)
        table[g, e] = x
        constant = np.nanmax(table, axis=1) == np.nanmin(table, axis=1)
        table[constant] = np.nanmax(table[constant], axis=1)[:, None]
        if np.isnan(table).any():
            raise EstimationError(
                "permutation test: a firm's China share changes between events and not every "
                "firm is in every event, so shares cannot be exchanged between firms; restrict "
                "the sample to firms present in every event"
            )
        G = len(firms)
        exact = math.factorial(G) <= permutations
        if exact:
            perms = np.array(list(itertools.permutations(range(G))))
        else:
            rng = np.random.default_rng(seed)
            perms = rng.permuted(np.tile(np.arange(G), (permutations, 1)), axis=1)
        b = float(_event_slope(x, y, ev))
        draws = _event_slope(table[perms[:, g], e], y, ev)
        hits = int(np.sum(np.abs(draws) >= abs(b) - 1e-12 * max(1.0, abs(b))))
        p = hits / len(perms) if exact else (1 + hits) / (1 + len(perms))
        return SlopePermutation(b, p, len(perms), exact, G, None if exact else seed)

    def leave_one_out(self) -> pd.DataFrame:
        """The slope (event intercepts, OLS) refitted without each firm in turn: symbol,
        n (firm-events left), slope, change (vs the slope on all firms). NaN where the rest
        no longer identifies a slope."""
        y, x, ev, sym = self._rows()
        full = float(_event_slope(x, y, ev))
        rows = []
        for f in sorted(set(sym)):
            keep = sym != f
            b = float(_event_slope(x[keep], y[keep], ev[keep])) if keep.sum() > 1 else np.nan
            rows.append({"symbol": f, "n": int(keep.sum()), "slope": b, "change": b - full})
        return pd.DataFrame(rows)

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
        if self.point_in_time:
            pit = f"point in time: last fiscal year filed before day 0; basis {self.basis}"
            rows.insert(3, ("Shares", pit))
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
    point_in_time: bool = False,
    filings: pd.DataFrame | None = None,
) -> ExposureRegression:
    """Regress event CARs on China revenue share across firms: ``car = a + b * china_share``.

    ``cars``: symbol, event_id, car. ``exposure``: symbol, china_share, basis, confidence_level
    (e.g. :func:`exposure_snapshot`).

    ``point_in_time=True``: ``exposure`` holds every fiscal year (e.g.
    :func:`analysis.data.facts.load_peers_exposure`) and ``cars`` a ``day0`` column; each
    firm-event takes the share of the latest fiscal year whose annual report was filed before
    that event's day 0 (:func:`exposure_filed_before`, ``filings`` as there), and a firm with
    none is excluded with the reason. The sample must then be on one geography basis:
    :class:`MixedBasesError` unless ``basis`` picks one. Firms whose exposure confidence is below
    ``min_confidence`` (or unconfirmed), whose share is missing, or whose basis is not in
    ``basis`` (when given) are excluded and listed with the reason. With several events, event
    fixed effects are added. Standard errors: HC3 (MacKinnon & White 1985, J. Econometrics 29),
    which behaves better than HC0/HC1 in small samples but is still unreliable with a handful of
    firms; the summary says so.
    """
    need_c = {"symbol", "event_id", "car"} | ({"day0"} if point_in_time else set())
    need_e = {"symbol", "china_share", "basis", "confidence_level"}
    if point_in_time:
        need_e |= {"fiscal_year", "presentation"}
    need_c -= set(cars.columns)
    need_e -= set(exposure.columns)
    if need_c or need_e:
        raise SpecificationError(
            f"missing columns: cars {sorted(need_c)}, exposure {sorted(need_e)}"
        )
    thr = confidence_rank(min_confidence)
    if point_in_time:
        from analysis.data.earnings import load_filings

        fil = load_filings() if filings is None else filings
        exposure = pd.concat(
            [
                exposure_filed_before(exposure, before=d0, filings=fil).assign(day0=d0)
                for d0 in pd.to_datetime(cars["day0"]).unique()
            ],
            ignore_index=True,
        )
        cars = cars.assign(day0=pd.to_datetime(cars["day0"]))
        m = cars.merge(exposure, on=["symbol", "day0"], how="left", indicator=True)
    elif exposure["symbol"].duplicated().any():
        dup = sorted(exposure.loc[exposure["symbol"].duplicated(), "symbol"])
        raise SpecificationError(
            f"exposure has several rows for {', '.join(dup)}; pass one per "
            "symbol (see exposure_snapshot)"
        )
    else:
        m = cars.merge(exposure, on="symbol", how="left", indicator=True)
    bases = None if basis is None else ([basis] if isinstance(basis, str) else list(basis))
    reasons = []
    for _, r in m.iterrows():
        if point_in_time and r["_merge"] == "both" and r["reason"]:
            reasons.append(r["reason"])
        elif r["_merge"] == "left_only" or pd.isna(r["china_share"]):
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
    if point_in_time and used["basis"].nunique() > 1:
        by = used.groupby("basis")["symbol"].unique()
        raise MixedBasesError(
            "point-in-time China shares on different geography bases: "
            + "; ".join(f"{b}: {', '.join(sorted(set(f)))}" for b, f in by.items())
            + "; pass basis= with one of them"
        )
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
    if n_firms < 3:
        raise EstimationError(
            f"only {n_firms} firms ({', '.join(sorted(set(firms)))}) left after exclusions: "
            "errors clustered by firm need at least 3; widen basis= or min_confidence="
        )
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
        point_in_time,
    )
