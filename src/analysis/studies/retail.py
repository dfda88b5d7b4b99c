"""US retail GPU prices around the October 2023 China rule: event-time DiD and synthetic control.

Inputs: the US retail series of ``ANALYSIS_HARDWARE_DIR`` read by
:func:`analysis.studies.hardware.load_us_retail` (Amazon Keepa Buy Box, one value per day with a
retained event; eBay monthly averages to 2023-10), the cited treated/control table
``data/gpu_rule_coverage.csv`` (:func:`rule_coverage`) and the rule's dates from the event registry
(:func:`rule_dates`). Prices are never filled: a week's price is the last price observed in that
week, and a week without one stays missing (counted in :func:`panel_counts`).

Estimators (see ``docs/formulas.md``): a two-way fixed-effects event study with leads and lags,
inference by randomization over which card is treated and by placebo dates before the rule; a
synthetic control (Abadie, Diamond & Hainmueller 2010) on pre-period-demeaned log prices with
placebo-in-space RMSPE-ratio ranks and a placebo in time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis._summary import Summary, SummaryMixin
from analysis.data import events
from analysis.data.dates import parse_date
from analysis.errors import DataError, EstimationError, SpecificationError
from analysis.studies import _retail_kernels as k

__all__ = [
    "AMAZON_FILE",
    "EBAY_FILE",
    "RETAIL_CAVEATS",
    "RetailDiD",
    "SyntheticControl",
    "daily_panel",
    "ebay_comparison",
    "event_study",
    "panel_counts",
    "retail_headline",
    "rule_coverage",
    "rule_dates",
    "RetailStudy",
    "retail_study",
    "synthetic_control",
    "verdict",
    "weekly_panel",
]

AMAZON_FILE = "amazon_us_keepa_buybox_daily.csv"
EBAY_FILE = "toms_hardware_ebay_monthly_us.csv"
COVERAGE_COLUMNS = ("card", "treated", "basis", "source_url", "confidence", "note")

RETAIL_CAVEATS = (
    "One retailer: the Amazon.com Buy Box of one listing per card, new condition, shipping excluded; "
    "only about every second Buy Box change survives in the source, out-of-stock weeks are missing.",
    "Few controls: older or smaller Nvidia cards; a 95% statement cannot come from randomization over "
    "so few cards (the smallest possible p-value is 1/N).",
    "Other demand shocks overlap: AI hobbyists buying 24 GB cards, the holiday season, new card "
    "launches in the window (e.g. the RTX 4080 Super) and the China-only RTX 4090D (event E14).",
    "US prices only: neither series observes China.",
)


# ------------------------------------------------------------------------------------------------
# Inputs: rule dates, treatment table, panels
# ------------------------------------------------------------------------------------------------
def rule_dates(publication: str = "E08", effective: str = "E12") -> dict[str, pd.Timestamp]:
    """The rule's publication and effective dates from the event registry (``data/events.csv``)."""
    pub, eff = events.get_event(publication), events.get_event(effective)
    if eff.date < pub.date:
        raise SpecificationError(
            f"effective event {effective} ({eff.date.date()}) precedes publication {publication} "
            f"({pub.date.date()})"
        )
    return {"publication": pub.date, "effective": eff.date}


def rule_coverage(path: str | Path | None = None) -> pd.DataFrame:
    """Cited treatment status of each Amazon card (``data/gpu_rule_coverage.csv``), validated.

    ``treated`` is ``yes``, ``no`` or empty (status not found: such a card is never a control).
    """
    p = Path(path) if path is not None else config.data_dir() / "gpu_rule_coverage.csv"
    if not p.is_file():
        raise DataError(f"{p} not found; it lists each card's treatment status with its source")
    f = pd.read_csv(p, dtype=str, keep_default_na=False)
    missing = [c for c in COVERAGE_COLUMNS if c not in f.columns]
    if missing:
        raise DataError(f"{p.name}: missing column(s) {', '.join(missing)}")
    bad = f.index[~f["treated"].isin(["yes", "no", ""])]
    if len(bad):
        i = bad[0]
        raise DataError(
            f"{p.name}:{i + 2}: treated must be yes, no or empty, got {f.at[i, 'treated']!r}"
        )
    unsourced = f.index[f["treated"].isin(["yes", "no"]) & (f["source_url"].str.strip() == "")]
    if len(unsourced):
        raise DataError(f"{p.name}:{unsourced[0] + 2}: a treatment status needs a source_url")
    if f["card"].duplicated().any():
        raise DataError(f"{p.name}: duplicate card {f.loc[f['card'].duplicated(), 'card'].iloc[0]}")
    return f


def _amazon(series: pd.DataFrame, cards) -> pd.DataFrame:
    s = series[series["file"] == AMAZON_FILE] if "file" in series.columns else series
    if s.empty:
        raise DataError(f"no rows from {AMAZON_FILE} in the retail series (load_us_retail)")
    unknown = sorted(set(cards) - set(s["product"]))
    if unknown:
        raise SpecificationError(
            f"{AMAZON_FILE} has no card(s) {', '.join(unknown)}; available: "
            f"{', '.join(sorted(s['product'].unique()))}"
        )
    return s[s["product"].isin(list(cards))]


#: A day's price is flagged when it is this far (in log points) from the median of the card's
#: 21 nearest observed days: log(1.5), i.e. 50% above or a third below the local median.
OUTLIER_LOG_DISTANCE = float(np.log(1.5))


def daily_panel(series: pd.DataFrame, cards, start, end) -> pd.DataFrame:
    """Days with a retained Amazon price: date, card, price, log_price, flagged (no day is filled).

    ``flagged`` marks a price :data:`OUTLIER_LOG_DISTANCE` or more from the centred median of the
    card's 21 nearest observed days (a short-lived third-party offer or a wrong listing, e.g. a
    1,842 USD RTX 4060 Ti); flagged days are kept here and left out of :func:`weekly_panel`.
    """
    lo, hi = parse_date(start, "start"), parse_date(end, "end")
    s = _amazon(series, cards).sort_values(["product", "date"])
    med = s.groupby("product")["price"].transform(
        lambda x: x.rolling(21, center=True, min_periods=5).median()
    )
    s = s.assign(flagged=(np.log(s["price"] / med)).abs() >= OUTLIER_LOG_DISTANCE)
    s = s[s["date"].between(lo, hi)]
    out = s.rename(columns={"product": "card"})[["date", "card", "price", "flagged"]]
    out = out.assign(log_price=np.log(out["price"]))
    return out.sort_values(["card", "date"]).reset_index(drop=True)


def weekly_panel(series: pd.DataFrame, cards, start, end) -> pd.DataFrame:
    """One row per card and Monday-to-Sunday week in [start, end]: the last unflagged price
    observed in the week (``price``, ``log_price``), its day (``last_date``), how many days had an
    unflagged price (``n_days``) and how many were flagged (``n_flagged``, see
    :func:`daily_panel`). Weeks without a price keep NaN and ``n_days`` 0: never filled."""
    d = daily_panel(series, cards, start, end)
    d = d.assign(week=d["date"].dt.to_period("W-SUN").dt.start_time)
    nflag = d[d["flagged"]].groupby(["card", "week"]).size().rename("n_flagged")
    last = (
        d[~d["flagged"]]
        .sort_values("date")
        .groupby(["card", "week"])
        .agg(price=("price", "last"), last_date=("date", "last"), n_days=("date", "size"))
    )
    lo, hi = parse_date(start, "start"), parse_date(end, "end")
    weeks = pd.period_range(lo, hi, freq="W-SUN").start_time
    full = pd.MultiIndex.from_product([list(cards), weeks], names=["card", "week"])
    out = last.join(nflag, how="outer").reindex(full).reset_index()
    out["n_days"] = out["n_days"].fillna(0).astype(int)
    out["n_flagged"] = out["n_flagged"].fillna(0).astype(int)
    return out.assign(log_price=np.log(out["price"]))[
        ["card", "week", "price", "log_price", "last_date", "n_days", "n_flagged"]
    ]


def panel_counts(weekly: pd.DataFrame) -> pd.DataFrame:
    """Per card: weeks in the panel, weeks with a price, weeks missing, days with a price, days
    flagged as outliers (left out)."""
    missing = [c for c in ("price", "n_days", "n_flagged") if c not in weekly.columns]
    if missing:
        raise SpecificationError(f"not a weekly_panel frame: no column(s) {', '.join(missing)}")
    g = weekly.groupby("card")
    return pd.DataFrame(
        {
            "weeks": g.size(),
            "weeks_observed": g["price"].count(),
            "weeks_missing": g["price"].apply(lambda s: int(s.isna().sum())),
            "days_observed": g["n_days"].sum(),
            "days_flagged": g["n_flagged"].sum(),
        }
    ).reset_index()


def _week_of(date: pd.Timestamp) -> pd.Timestamp:
    return pd.Period(date, freq="W-SUN").start_time


def _event_frame(weekly: pd.DataFrame, event_week: pd.Timestamp) -> pd.DataFrame:
    w = weekly.dropna(subset=["log_price"])
    return w.assign(event_week=((w["week"] - event_week).dt.days // 7).astype(int))


# ------------------------------------------------------------------------------------------------
# Event-time difference-in-differences
# ------------------------------------------------------------------------------------------------
def _did_once(ev: pd.DataFrame, treated: str, controls, leads: int, lags: int, ref: int):
    sub = ev[ev["card"].isin([treated, *controls]) & ev["event_week"].between(-leads, lags)]
    codes_u = pd.Categorical(sub["card"]).codes
    codes_w = pd.Categorical(sub["week"]).codes
    fit = k.twfe_event_study(
        sub["log_price"].to_numpy(),
        np.asarray(codes_u),
        np.asarray(codes_w),
        (sub["card"] == treated).to_numpy(),
        sub["event_week"].to_numpy(),
        ref,
    )
    return pd.DataFrame({"event_week": fit.event_weeks, "coef": fit.coef, "se_cr1": fit.se_cr1})


@dataclass(frozen=True, repr=False)
class RetailDiD(SummaryMixin):
    """Event-time DiD of one treated card's weekly log price against control cards.

    ``coefficients``: event_week, week, coef, se_cr1, cr1_low/high (95%, t with G-1 df),
    placebo_low/high (range of the placebo cards' coefficients; each placebo card is compared with
    all other cards, the treated one included, which is exact under the sharp null and
    conservative when the treated card did move). ``horizons``: the average
    coefficient over each horizon with its percent effect, randomization p-value over cards,
    placebo-in-time interval and p. ``pretrend``: RMS of the lead coefficients and its p.
    """

    treated: str
    controls: tuple[str, ...]
    publication: pd.Timestamp
    effective: pd.Timestamp
    event_week: pd.Timestamp
    reference: int
    alpha: float
    coefficients: pd.DataFrame
    horizons: pd.DataFrame
    pretrend: dict
    placebo_space: pd.DataFrame
    placebo_time: pd.DataFrame
    dropped: pd.DataFrame
    main_horizon: str
    counts: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_frame(self) -> pd.DataFrame:
        """The event-time coefficients (one row per event week)."""
        return self.coefficients.copy()

    @property
    def n_cards(self) -> int:
        return 1 + len(self.controls)

    def _build_summary(self) -> Summary:
        s = Summary("Event-time DiD: weekly log price, card and week fixed effects")
        s.header(
            [
                ("Treated", self.treated),
                ("Controls", ", ".join(self.controls)),
                (
                    "Publication",
                    f"{self.publication.date()} (event week 0 = {self.event_week.date()})",
                ),
                ("Effective", str(self.effective.date())),
                ("Reference", f"event week {self.reference}"),
                (
                    "Inference",
                    "randomization over which card is treated; placebo dates before the rule",
                ),
            ]
        )
        s.table(self.horizons, "Average effect by horizon (log points; pct = 100 x (exp - 1))")
        s.text(
            f"Pre-trend: RMS of lead coefficients {self.pretrend['rms']:.4f}, randomization p = "
            f"{self.pretrend['p']:.3f} over {self.pretrend['n']} cards."
        )
        if len(self.dropped):
            s.table(self.dropped, "Cards left out")
        return s.table(self.coefficients, "Event-time coefficients")


def event_study(
    weekly: pd.DataFrame,
    treated: str,
    controls,
    *,
    publication: pd.Timestamp,
    effective: pd.Timestamp,
    leads: int = 12,
    lags: int = 26,
    reference: int = -1,
    horizons=None,
    min_weeks: int = 4,
    alpha: float = 0.10,
) -> RetailDiD:
    """Event-time DiD (leads ``-leads``..-2, lags 0..``lags``, ``reference`` week omitted).

    Controls need ``min_weeks`` observed weeks both before and after event week 0 (others are
    listed in ``dropped``). ``horizons`` (default: weeks before the effective date, the effective
    date to +8 weeks after it -- the main horizon, the second one given -- and 0..lags) are averaged over the event weeks observed for the
    treated card. The p-value ranks the treated card's |average effect| / pre-period RMS among
    every card's when each is treated in turn (Fisher randomization; Abadie et al. 2010). The
    interval is the estimate minus the (1-alpha/2, alpha/2) quantiles of the same statistic at
    placebo event weeks whose whole window lies before the rule (Conley & Taber 2011, in time);
    it is left empty with fewer than 2/alpha - 1 placebo dates.
    """
    if not -leads <= reference < 0:
        raise SpecificationError(f"reference week {reference} must lie in [-{leads}, -1]")
    ew = _week_of(publication)
    k_eff = int((_week_of(effective) - ew).days // 7)
    if horizons is None:
        horizons = [(0, max(k_eff - 1, 0)), (k_eff, k_eff + 8), (0, lags)]
    horizons = [(int(a), int(b)) for a, b in horizons]
    ev = _event_frame(weekly, ew)
    if treated not in set(ev["card"]):
        raise SpecificationError(f"treated card {treated!r} has no price in the weekly panel")
    win = ev[ev["event_week"].between(-leads, lags)]
    used, dropped = [], []
    for c in controls:
        x = win[win["card"] == c]["event_week"]
        n_pre, n_post = int((x < 0).sum()), int((x >= 0).sum())
        if n_pre < min_weeks or n_post < min_weeks:
            dropped.append(
                {"card": c, "reason": f"{n_pre} pre / {n_post} post weeks observed (< {min_weeks})"}
            )
        else:
            used.append(c)
    if not used:
        raise SpecificationError(
            f"no control card has {min_weeks} observed weeks on both sides of {ew.date()}"
        )
    coef = _did_once(ev, treated, used, leads, lags, reference)
    # placebo in space: each card treated in turn, every other card (the treated one included)
    # as its controls: symmetric, so exact under the sharp null of no effect on any card
    rows, paths = [], {}
    for c in [treated, *used]:
        others = [o for o in [treated, *used] if o != c]
        has_ref = ((win["card"] == c) & (win["event_week"] == reference)).any()
        if not others or not has_ref:
            dropped.append(
                {"card": c, "reason": f"no price in reference week {reference}: not a placebo"}
            )
            continue
        cf = coef if c == treated else _did_once(ev, c, others, leads, lags, reference)
        paths[c] = cf.set_index("event_week")["coef"]
        rows.append({"card": c, **k.horizon_stats(cf, horizons, leads, reference)})
    space = pd.DataFrame(rows)
    # placebo in time: the treated card and the same controls at fake event weeks before the rule
    first = int(ev["event_week"].min())
    trows = []
    for fake in range(first + leads, 0):
        span = min(lags, -fake - 1)
        sub = ev[ev["event_week"] < 0].assign(event_week=lambda d, f=fake: d["event_week"] - f)
        if span < 0 or not ((sub["card"] == treated) & (sub["event_week"] == reference)).any():
            continue
        ok = [h for h in horizons if h[1] <= span]
        if not ok:
            continue
        try:
            cf = _did_once(sub, treated, used, leads, span, reference)
        except (SpecificationError, EstimationError):  # a fake date the design cannot fit
            continue
        st = k.horizon_stats(cf, ok, leads, reference)
        trows += [
            {
                "fake_event_week": fake,
                "horizon": f"{a}:{b}",
                "effect": st[f"{a}:{b}"],
                "pre_rms": st["pre_rms"],
            }
            for a, b in ok
        ]
    ptime = pd.DataFrame(trows, columns=["fake_event_week", "horizon", "effect", "pre_rms"])
    hrows = []
    real = space[space["card"] == treated].iloc[0]
    plc = space[space["card"] != treated]
    for a, b in horizons:
        key = f"{a}:{b}"
        est = float(real[key])
        stat = abs(est) / real["pre_rms"]
        p_space = k.rank_p(stat, (plc[key].abs() / plc["pre_rms"]).to_numpy())
        pt = ptime[ptime["horizon"] == key]["effect"].dropna().to_numpy()
        lo = hi = p_time = np.nan
        if len(pt) >= int(np.ceil(2 / alpha)) - 1:  # fewer: the quantiles would be the extremes
            lo = est - float(np.quantile(pt, 1 - alpha / 2))
            hi = est - float(np.quantile(pt, alpha / 2))
            p_time = k.rank_p(abs(est), np.abs(pt))
        hrows.append(
            {
                "horizon": key,
                "weeks_observed": int(real[f"{key}_weeks"]),
                "effect": est,
                "effect_pct": 100 * np.expm1(est),
                "p_randomization": p_space,
                "n_cards": len(space),
                "interval_low": lo,
                "interval_high": hi,
                "interval_low_pct": 100 * np.expm1(lo),
                "interval_high_pct": 100 * np.expm1(hi),
                "p_placebo_time": p_time,
                "n_placebo_dates": len(pt),
            }
        )
    pre_p = k.rank_p(float(real["pre_rms"]), plc["pre_rms"].to_numpy())
    band = pd.DataFrame({c: s for c, s in paths.items() if c != treated})
    g = len(used) + 1
    from scipy import stats as _st

    tcrit = _st.t.ppf(0.975, max(g - 1, 1))
    coef = coef.assign(
        week=ew + pd.to_timedelta(coef["event_week"] * 7, unit="D"),
        cr1_low=coef["coef"] - tcrit * coef["se_cr1"],
        cr1_high=coef["coef"] + tcrit * coef["se_cr1"],
        placebo_low=coef["event_week"].map(band.min(axis=1)) if len(band.columns) else np.nan,
        placebo_high=coef["event_week"].map(band.max(axis=1)) if len(band.columns) else np.nan,
    )
    ref_row = pd.DataFrame(
        {"event_week": [reference], "coef": [0.0], "week": [ew + pd.Timedelta(weeks=reference)]}
    )
    coef = (
        pd.concat([coef, ref_row], ignore_index=True)
        .sort_values("event_week")
        .reset_index(drop=True)
    )
    return RetailDiD(
        treated,
        tuple(used),
        publication,
        effective,
        ew,
        reference,
        alpha,
        coef,
        pd.DataFrame(hrows),
        {"rms": float(real["pre_rms"]), "p": pre_p, "n": len(space)},
        space,
        ptime,
        pd.DataFrame(dropped, columns=["card", "reason"]),
        f"{horizons[min(1, len(horizons) - 1)][0]}:{horizons[min(1, len(horizons) - 1)][1]}",
        panel_counts(weekly) if "n_flagged" in weekly.columns else pd.DataFrame(),
    )


# ------------------------------------------------------------------------------------------------
# Synthetic control
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class SyntheticControl(SummaryMixin):
    """Synthetic control of a card's demeaned weekly log price from control cards.

    ``gap``: week, event_week, treated, synthetic, gap (log points). ``placebo_space``: per card
    its pre/post RMSPE and their ratio, ranked (1 = largest; ties, to a relative 1e-8, share the
    lower place); ``p`` = rank of the treated card / N.
    ``placebo_gaps``: the placebo cards' gap series (for the band); ``placebo_time``: the same fit
    at a fake event week before the rule.
    """

    treated: str
    weights: pd.Series
    pre_weeks: int
    post_weeks: int
    fit_weeks: int
    gap: pd.DataFrame
    pre_rmspe: float
    post_rmspe: float
    placebo_space: pd.DataFrame
    placebo_gaps: pd.DataFrame
    placebo_time: dict

    @property
    def ratio(self) -> float:
        return self.post_rmspe / self.pre_rmspe

    @property
    def rank(self) -> int:
        return int(self.placebo_space.set_index("card").loc[self.treated, "rank"])

    @property
    def p(self) -> float:
        return self.rank / len(self.placebo_space)

    def mean_gap(self, first: int, last: int) -> float:
        """Average gap over event weeks first..last (weeks without a gap are skipped)."""
        g = self.gap[self.gap["event_week"].between(first, last)]["gap"].dropna()
        return float(g.mean()) if len(g) else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """The gap series (one row per week)."""
        return self.gap.copy()

    def _build_summary(self) -> Summary:
        s = Summary("Synthetic control: demeaned weekly log price")
        s.header(
            [
                ("Treated", self.treated),
                (
                    "Weeks",
                    f"{self.pre_weeks} pre ({self.fit_weeks} fitted), {self.post_weeks} post",
                ),
                (
                    "RMSPE",
                    f"pre {self.pre_rmspe:.4f}, post {self.post_rmspe:.4f}, ratio {self.ratio:.2f}",
                ),
                ("Rank", f"{self.rank} of {len(self.placebo_space)} (p = {self.p:.3f})"),
            ]
        )
        s.table(self.weights.rename("weight").to_frame(), "Donor weights")
        s.table(self.placebo_space, "Placebo in space (each card treated in turn)")
        t = self.placebo_time
        if t.get("error"):
            return s.text(f"Placebo in time ({t.get('shift_weeks')} weeks earlier): {t['error']}")
        return s.text(
            f"Placebo in time: the same fit with the event {t['shift_weeks']} weeks earlier gives "
            f"pre RMSPE {t['pre_rmspe']:.4f}, post {t['post_rmspe']:.4f}, ratio {t['ratio']:.2f} "
            f"and a mean gap of {t['mean_gap']:+.3f} log points."
        )


def synthetic_control(
    weekly: pd.DataFrame,
    treated: str,
    donors,
    *,
    publication: pd.Timestamp,
    pre_weeks: int = 26,
    post_weeks: int = 26,
    min_share: float = 0.75,
    placebo_shift: int | None = None,
) -> SyntheticControl:
    """Synthetic control with weights on the simplex, fitted on ``pre_weeks`` before event week 0.

    Each card's log price is demeaned by its own pre-period mean (an intercept, as in Doudchenko &
    Imbens 2016 and Ferman & Pinto 2021), so the most expensive card need not lie inside the
    donors' range. Donors need a price in ``min_share`` of the pre weeks; the fit uses the weeks
    where all of them have one; a post week gets a gap only when every donor with weight has a
    price. Placebo in space: each donor treated with all other cards as donors, the treated one
    included (symmetric, so the rank is uniform under the sharp null; Abadie et al. 2010);
    placebo in time: the same fit with event week 0 moved back ``placebo_shift`` weeks (default
    ``post_weeks``), its post window ending before the rule.
    """
    ew = _week_of(publication)
    ev = _event_frame(weekly, ew)
    ev = ev[ev["event_week"].between(-pre_weeks - (placebo_shift or post_weeks) - 1, post_weeks)]
    wide = ev.pivot_table(index="event_week", columns="card", values="log_price")
    wide = wide.reindex(range(int(wide.index.min()), post_weeks + 1))
    if treated not in wide.columns:
        raise SpecificationError(f"treated card {treated!r} has no price in the window")
    donors = [d for d in donors if d in wide.columns]
    idx = wide.index.to_series()
    pre_mask, post_mask = idx.between(-pre_weeks, -1), idx.between(0, post_weeks)
    w, gap, synth, pre_r, post_r, nfit = k.sc_fit(
        wide, treated, donors, pre_mask, post_mask, min_share
    )
    if np.isnan(post_r):
        raise EstimationError(
            f"{treated}: no week after the rule where it and every donor with weight have a "
            "price, so no post RMSPE; check its weeks after the rule with panel_counts"
        )
    rows = [{"card": treated, "pre_rmspe": pre_r, "post_rmspe": post_r}]
    pg = {}
    for d in w.index:
        try:
            others = [treated, *(o for o in w.index if o != d)]
            _, g2, _, a, b, _ = k.sc_fit(wide, d, others, pre_mask, post_mask, min_share)
        except (SpecificationError, EstimationError):  # no fit for this card: not a placebo
            continue
        if np.isnan(b):  # no post week with a gap: no ratio, not a placebo
            continue
        rows.append({"card": d, "pre_rmspe": a, "post_rmspe": b})
        pg[d] = g2
    space = pd.DataFrame(rows)
    space["ratio"] = space["post_rmspe"] / space["pre_rmspe"]
    space["rank"] = k.ranks(space["ratio"].to_numpy())
    shift = placebo_shift or post_weeks
    tp: dict[str, object] = {"shift_weeks": shift}
    pm = idx.between(-pre_weeks - shift, -shift - 1)
    qm = idx.between(-shift, -1)
    try:
        _, g3, _, a, b, _ = k.sc_fit(wide, treated, donors, pm, qm, min_share)
        tp.update(
            {"pre_rmspe": a, "post_rmspe": b, "ratio": b / a, "mean_gap": float(g3[qm].mean())}
        )
    except (SpecificationError, EstimationError) as exc:  # reported; the main fit stands
        tp["error"] = str(exc)
    z = wide[treated] - wide[treated][pre_mask].mean()
    frame = pd.DataFrame({"event_week": idx, "treated": z, "synthetic": synth, "gap": gap})
    frame = frame[idx.between(-pre_weeks, post_weeks)].reset_index(drop=True)
    frame.insert(0, "week", ew + pd.to_timedelta(frame["event_week"] * 7, unit="D"))
    pgl = pd.DataFrame(pg)[lambda d: d.index.to_series().between(-pre_weeks, post_weeks)]
    pgl = (
        pgl.rename_axis("event_week")
        .reset_index()
        .melt("event_week", var_name="card", value_name="gap")
    )
    return SyntheticControl(
        treated, w, pre_weeks, post_weeks, nfit, frame, pre_r, post_r, space, pgl, tp
    )


# ------------------------------------------------------------------------------------------------
# eBay as a second source, verdict, headline
# ------------------------------------------------------------------------------------------------
def ebay_comparison(series: pd.DataFrame, cards, start, end) -> pd.DataFrame:
    """Month by month, per card: the eBay (Tom's Hardware) sold-listing average and the median of
    the Amazon daily prices, each with its month-on-month change; ``disagree`` is True when the two
    changes have opposite signs. Only months both sources cover; nothing is averaged across them."""
    lo, hi = parse_date(start, "start"), parse_date(end, "end")
    eb = series[(series["file"] == EBAY_FILE) & series["market"].str.startswith("US eBay")]
    eb = eb[eb["product"].isin(list(cards)) & eb["date"].between(lo, hi)]
    if eb.empty:
        raise DataError(
            f"no eBay rows in {EBAY_FILE} for {', '.join(cards)} in {lo.date()}..{hi.date()}"
        )
    am = _amazon(series, [c for c in cards if c in set(series["product"])])
    am = am[am["date"].between(lo, hi + pd.offsets.MonthEnd(0))]
    am = am.assign(month=am["date"].dt.to_period("M").dt.start_time)
    amm = am.groupby(["product", "month"])["price"].agg(amazon_median="median", amazon_days="size")
    e = eb.rename(columns={"date": "month", "price": "ebay_average"}).set_index(
        ["product", "month"]
    )
    out = (
        e[["ebay_average"]].join(amm, how="left").reset_index().rename(columns={"product": "card"})
    )
    out = out.sort_values(["card", "month"])
    for col, new in (("ebay_average", "ebay_change_pct"), ("amazon_median", "amazon_change_pct")):
        prev = out.groupby("card")[col].shift()
        gap = out.groupby("card")["month"].diff().dt.days > 31
        out[new] = np.where(gap, np.nan, 100 * (out[col] / prev - 1))
    out["disagree"] = np.sign(out["ebay_change_pct"]) * np.sign(out["amazon_change_pct"]) < 0
    return out.reset_index(drop=True)


def verdict(did: RetailDiD, sc: SyntheticControl | None = None, horizon: str | None = None) -> str:
    """One paragraph generated from the numbers: the effect, its interval and p, the pre-trend,
    the synthetic control's rank, and the caveats that bound what it can mean."""
    h = did.horizons.set_index("horizon").loc[horizon or did.main_horizon]
    n = int(h["n_cards"])
    has_interval = bool(np.isfinite(h["interval_low"]) and np.isfinite(h["interval_high"]))
    strong = (
        h["p_randomization"] <= 0.1
        and has_interval
        and not h["interval_low"] <= 0 <= h["interval_high"]
    )
    interval = (
        f"a {100 * (1 - did.alpha):.0f}% interval of {h['interval_low_pct']:+.1f}% to "
        f"{h['interval_high_pct']:+.1f}%"
        if has_interval
        else "too few of them for an interval"
    )
    direction = "rose" if h["effect"] > 0 else "fell"
    text = (
        f"Against {len(did.controls)} control cards, the {did.treated}'s Amazon Buy Box price "
        f"{direction} by {abs(h['effect_pct']):.1f}% in event weeks {h.name} (week 0 holds the "
        f"rule's publication on {did.publication.date()}; the effective date {did.effective.date()} "
        f"falls in week {int((_week_of(did.effective) - did.event_week).days // 7)}), "
        f"{int(h['weeks_observed'])} weeks with a price. Randomization over which of the {n} cards is "
        f"treated gives p = {h['p_randomization']:.2f} (the smallest possible is {1 / n:.2f}); "
        f"estimates at {int(h['n_placebo_dates'])} placebo dates before the rule give {interval}. "
        f"Pre-trend: lead coefficients' RMS "
        f"{did.pretrend['rms']:.3f}, p = {did.pretrend['p']:.2f}."
    )
    if sc is not None:
        top = sc.weights.sort_values(ascending=False)
        text += (
            f" The synthetic control ({', '.join(f'{c} {v:.2f}' for c, v in top[top > 0.005].items())}) "
            f"puts the card's post/pre RMSPE ratio at rank {sc.rank} of {len(sc.placebo_space)} "
            f"(p = {sc.p:.2f}), with an average gap of {100 * np.expm1(sc.mean_gap(0, sc.post_weeks)):+.1f}%."
        )
    text += (
        " This is evidence of a US price move relative to the controls."
        if strong
        else " With so few cards this cannot be told apart from the ordinary week-to-week noise of these "
        "listings: the data do not establish an effect, and they do not rule one out."
    )
    return text + " Caveats: " + " ".join(RETAIL_CAVEATS)


def retail_headline(
    did: RetailDiD, sc: SyntheticControl | None = None, horizon: str | None = None
) -> dict:
    """The few numbers a front-page line needs: effect (pct), interval, p, method, horizon, N."""
    h = did.horizons.set_index("horizon").loc[horizon or did.main_horizon]
    out = {
        "effect_pct": round(float(h["effect_pct"]), 1),
        "interval_low_pct": round(float(h["interval_low_pct"]), 1),
        "interval_high_pct": round(float(h["interval_high_pct"]), 1),
        "interval_level": round(1 - did.alpha, 2),
        "p": round(float(h["p_randomization"]), 3),
        "method": "event-time DiD, card and week fixed effects; p by randomization over which card is "
        "treated; interval from placebo dates before the rule",
        "horizon_weeks": str(h.name),
        "n_cards": int(h["n_cards"]),
    }
    if sc is not None:
        out.update({"sc_rank": sc.rank, "sc_n": len(sc.placebo_space), "sc_p": round(sc.p, 3)})
    return out


@dataclass(frozen=True)
class RetailStudy:
    """Everything :func:`retail_study` computes: the cited coverage table, the weekly panel,
    the rule's dates, the event-time DiD and the synthetic control."""

    coverage: pd.DataFrame
    weekly: pd.DataFrame
    dates: dict[str, pd.Timestamp]
    did: RetailDiD
    sc: SyntheticControl

    def headline(self) -> dict:
        """:func:`retail_headline` of this study."""
        return retail_headline(self.did, self.sc)


def retail_study(
    publication_event: str = "E08",
    effective_event: str = "E12",
    treated: str = "GeForce RTX 4090",
    start: str = "2022-12-01",
    end: str = "2024-06-30",
    *,
    leads: int = 12,
    lags: int = 26,
    sc_pre_weeks: int = 26,
    sc_post_weeks: int = 26,
    alpha: float = 0.10,
    hardware_dir: str | Path | None = None,
) -> RetailStudy:
    """The report's whole pipeline in one call: the Amazon weekly panel of ``treated`` and the
    cards the coverage table cites as not caught (the controls), the DiD and the synthetic
    control, with the rule's dates from the registry."""
    from analysis.studies import hardware

    series = hardware.load_us_retail(hardware_dir)
    dates = rule_dates(publication_event, effective_event)
    coverage = rule_coverage()
    controls = coverage.loc[coverage["treated"] == "no", "card"].tolist()
    weekly = weekly_panel(series, [treated, *controls], start, end)
    did = event_study(weekly, treated, controls, **dates, leads=leads, lags=lags, alpha=alpha)
    sc = synthetic_control(
        weekly,
        treated,
        did.controls,
        publication=dates["publication"],
        pre_weeks=sc_pre_weeks,
        post_weeks=sc_post_weeks,
    )
    return RetailStudy(coverage, weekly, dates, did, sc)
