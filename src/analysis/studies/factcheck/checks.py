"""The checks of the fact-check: one small pure function per kind of claim, and their tolerances.

Each check takes a claim (a row of ``data/article_claims.csv``) and the :class:`Inputs` frames
and returns the row's ``check`` text, ``computed`` figure, ``verdict``, ``tolerance``, ``source``
and ``detail``: the numbers behind the verdict by name, from which the findings are worded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data.facts import parse_approx_date
from analysis.errors import DataError, SpecificationError
from analysis.studies.exposure import china_share_series, market_value_change
from analysis.studies.hardware import fx_at, position_gain

__all__ = ["CHECKS", "CONSISTENT", "INCONSISTENT", "NOT_VERIFIABLE", "Inputs"]

CONSISTENT, INCONSISTENT, NOT_VERIFIABLE = "consistent", "inconsistent", "not verifiable"

#: "上千" (a thousand-plus) cards in the article's A800 example: the lower bound is used.
ARTICLE_A800_UNITS = 1000
#: The four companies named in the order sentence (Baidu, Tencent, Alibaba, ByteDance).
ARTICLE_ORDER_COMPANIES = 4

TOL_PRICE_USD = 1.00  # article quotes whole dollars
TOL_REL_MV = 0.05
TOL_REL_FX = 0.03
TOL_REL_HW = 0.15
TOL_PP_SHARE = 5.0
TOL_REL_MARKET = 0.01
TOL_REL_ORDERS = 0.05
HW_WINDOW_DAYS = {
    "day": 2,
    "day_range": 2,
    "before_day": 2,
    "day_approx": 3,
    "month": 92,
    "month_approx": 92,
    "year": 183,
    "year_approx": 183,
}


@dataclass(frozen=True)
class Inputs:
    """Everything the checks read (frames only)."""

    claims: pd.DataFrame
    ohlc: pd.DataFrame  # NVDA open/high/low/close in quoted units, DatetimeIndex
    fx: pd.Series  # CNY per USD (CNY=X close)
    revenue: pd.DataFrame
    peers: pd.DataFrame
    market: pd.DataFrame
    shares: pd.DataFrame
    hardware: pd.DataFrame


def _row(check: str, computed, verdict: str, tolerance: str, source: str, **detail: object) -> dict:
    """One checked claim; ``detail`` names the numbers behind the verdict (for the findings)."""
    return {
        "check": check,
        "computed": computed,
        "verdict": verdict,
        "tolerance": tolerance,
        "source": source,
        "detail": detail,
    }


def _market_row(c: pd.Series, inp: Inputs) -> pd.Series:
    """The market_context row a claim references (its first, if several)."""
    m = inp.market[inp.market["metric_id"].isin(_refs(c, "market_context"))]
    if m.empty:
        raise DataError(f"{c['claim_id']}: reference names no market_context row")
    return m.iloc[0]


def _within_relative(text: str, claimed: float, r: pd.Series, tol: float, **detail: object) -> dict:
    """Verdict row: the claim within ``tol`` (relative) of the market_context row ``r``."""
    ok = abs(claimed / r["value"] - 1) <= tol
    return _row(
        text,
        float(r["value"]),
        CONSISTENT if ok else INCONSISTENT,
        f"within {tol:.0%}",
        f"market_context.csv ({r['source_url'].split(' ')[0]})",
        **detail,
    )


def _claim(inp: Inputs, claim_id: str) -> pd.Series:
    c = inp.claims[inp.claims["claim_id"] == claim_id]
    if c.empty:
        raise DataError(f"article_claims.csv has no claim {claim_id} (needed by another check)")
    return c.iloc[0]


def _refs(c: pd.Series, table: str) -> list[str]:
    out: list[str] = []
    for part in str(c.get("reference", "") or "").split(";"):
        t, _, ids = part.strip().partition(":")
        if t == table:
            out.extend(i.strip() for i in ids.split(",") if i.strip())
    return out


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------
def check_nvda_price(c: pd.Series, ohlc: pd.DataFrame) -> dict:
    """Claimed NVDA price vs the quoted close on the claim date (tolerance $1); also reports
    which of that day's open/high/low or the previous close the number matches."""
    d = pd.Timestamp(c["claim_date"])
    if d not in ohlc.index:
        raise DataError(f"{c['claim_id']}: no NVDA prices on {d.date()}")
    day = ohlc.loc[d]
    prev = ohlc.index[ohlc.index.get_loc(d) - 1]
    v = float(c["claimed_value"])
    cands = {f"{k} {d.date()}": float(day[k]) for k in ("open", "high", "low", "close")}
    cands[f"close {prev.date()}"] = float(ohlc.loc[prev, "close"])
    matches = [k for k, x in cands.items() if abs(x - v) <= TOL_PRICE_USD]
    close = float(day["close"])
    within = float(day["low"]) <= v <= float(day["high"])
    text = (
        f"quoted close {d.date()} = {close:.2f}; open {day['open']:.2f}, high {day['high']:.2f}, "
        f"low {day['low']:.2f}; previous close ({prev.date()}) {cands[f'close {prev.date()}']:.2f}. "
        + (
            f"{v:g} matches: {', '.join(matches)}."
            if matches
            else f"{v:g} matches none of these"
            + (
                f"; it lies inside the {d.date()} intraday range (an intraday quote?)."
                if within
                else "."
            )
        )
    )
    verdict = CONSISTENT if abs(close - v) <= TOL_PRICE_USD else INCONSISTENT
    return _row(
        text,
        close,
        verdict,
        f"|claim - close| <= ${TOL_PRICE_USD:.2f}",
        "Yahoo NVDA daily OHLC in quoted (pre-2024-split) units",
        date=d,
        close=close,
        low=float(day["low"]),
        high=float(day["high"]),
        matches=tuple(matches),
        within_range=within,
    )


def check_market_value_change(c: pd.Series, inp: Inputs) -> dict:
    """Claimed market-value fall vs shares x (quoted close change) between the dates of the
    NVDA price claims of the same sentence; tolerance 5% relative."""
    same = inp.claims[
        (inp.claims["quote_zh"] == c["quote_zh"]) & (inp.claims["check"] == "nvda_price")
    ].sort_values("claim_date")
    if len(same) < 2:
        raise DataError(f"{c['claim_id']}: needs two nvda_price claims in the same sentence")
    t0, t1 = same["claim_date"].iloc[0], same["claim_date"].iloc[-1]
    mv = market_value_change(inp.ohlc["close"], inp.shares, symbol="NVDA", start=t0, end=t1)
    fall = -mv["change_usd"] / 1e9
    claimed = float(c["claimed_value"])
    own = (
        (float(same["claimed_value"].iloc[0]) - float(same["claimed_value"].iloc[-1]))
        * mv["shares"]
        / 1e9
    )
    prev = inp.ohlc.index[inp.ohlc.index.get_loc(pd.Timestamp(t0)) - 1]
    from_prev = (float(inp.ohlc.loc[prev, "close"]) - mv["price_end"]) * mv["shares"] / 1e9
    implied = claimed * 1e9 / mv["shares"]
    text = (
        f"{mv['shares'] / 1e9:.2f}B shares (cover of 10-Q, as of {mv['shares_as_of'].date()}, "
        f"{mv['shares_gap_days']:+d} days) x (close {t0.date()} {mv['price_start']:.2f} - close "
        f"{t1.date()} {mv['price_end']:.2f}) = {fall:.1f}B USD fall. With the article's own "
        f"prices: {own:.1f}B; from the {prev.date()} close: {from_prev:.1f}B. The claimed "
        f"{claimed:g}B implies a {implied:.2f} USD per-share fall"
        + (
            f"; it is within {TOL_REL_MV:.0%} of the figure from the article's own prices."
            if abs(claimed / own - 1) <= TOL_REL_MV
            else "."
        )
    )
    verdict = CONSISTENT if abs(fall / claimed - 1) <= TOL_REL_MV else INCONSISTENT
    return _row(
        text,
        round(fall, 3),
        verdict,
        f"within {TOL_REL_MV:.0%} of the computed fall",
        "Yahoo NVDA quoted closes; shares_outstanding.csv (NVIDIA 10-Q cover)",
        start=pd.Timestamp(t0),
        end=pd.Timestamp(t1),
        fall_bn=fall,
        own_prices_fall_bn=own,
        own_prices_match=abs(claimed / own - 1) <= TOL_REL_MV,
        price_claims=tuple(same["claim_id"]),
        tolerance_rel=TOL_REL_MV,
    )


def check_fx_conversion(c: pd.Series, inp: Inputs) -> dict:
    """CNY equivalent claimed for a USD amount of the same sentence, at CNY=X on the claim date."""
    usd = inp.claims[
        (inp.claims["quote_zh"] == c["quote_zh"])
        & (inp.claims["currency"] == "USD")
        & (inp.claims["unit"] == c["unit"])
    ]
    if usd.empty:
        raise DataError(f"{c['claim_id']}: no USD amount in the same sentence to convert")
    amount = float(usd["claimed_value"].iloc[0])
    r = fx_at(inp.fx, [c["claim_date"]]).iloc[0]
    cny = amount * r["usd_cny"]
    text = (
        f"{amount:g} {c['unit']} USD x {r['usd_cny']:.4f} CNY/USD (CNY=X close "
        f"{r['fx_date'].date()}) = {cny:.1f} {c['unit']} CNY"
    )
    ok = abs(float(c["claimed_value"]) / cny - 1) <= TOL_REL_FX
    return _row(
        text,
        round(cny, 3),
        CONSISTENT if ok else INCONSISTENT,
        f"within {TOL_REL_FX:.0%} (article says approx.)",
        "Yahoo CNY=X close",
    )


def check_hardware_price(c: pd.Series, inp: Inputs) -> dict:
    """Claimed price (or range) vs independent observations of the same product (rows not
    sourced to the article itself), converted to the claim's currency at each observation's FX
    date, within a date window set by the claim's precision; consistent if the claim overlaps
    the independent low-high envelope widened by 15%."""
    ad = parse_approx_date(c["claim_date_text"])
    win = pd.Timedelta(days=HW_WINDOW_DAYS[ad.precision])
    lo_d, hi_d = pd.Timestamp(ad.date) - win, pd.Timestamp(ad.date_end) + win
    if ad.precision == "before_day":  # a pre-rule claim: only observations before that day
        lo_d, hi_d = (
            pd.Timestamp(ad.date) - pd.Timedelta(days=30),
            pd.Timestamp(ad.date) - pd.Timedelta(days=1),
        )
    hw = inp.hardware
    ind = hw[
        (hw["product"] == c["subject"])
        & (hw["confidence_level"] != "article_claim")
        & (hw["unit_kind"] == "per_card")
        & hw["price_low"].notna()
        & ~hw["is_msrp"].astype(bool)
        & (hw["date_end"] >= lo_d)
        & (hw["date"] <= hi_d)
    ]
    cur = c["currency"]
    lo_c = float(c["claimed_low"]) if c["qualifier"] == "range" else float(c["claimed_value"])
    hi_c = float(c["claimed_high"]) if c["qualifier"] == "range" else float(c["claimed_value"])
    extra = []
    if c["subject"] == "A800":
        for mid in _refs(c, "market_context"):
            m = inp.market[inp.market["metric_id"] == mid]
            u = inp.market[inp.market["metric_id"] == "FT_ORDERS_2023_UNITS"]
            if len(m) and len(u):
                per_usd = float(m["value"].iloc[0]) * 1e9 / float(u["value"].iloc[0])
                extra.append(
                    (
                        f"FT orders {mid}: ${per_usd:,.0f} per card",
                        per_usd,
                        "USD",
                        pd.Timestamp(m["release_date"].iloc[0]),
                    )
                )
    obs = []
    for _, o in ind.iterrows():
        obs.append(
            (
                f"{o['obs_id']} {o['date_text']} {o['price_low']:,.0f}-{o['price_high']:,.0f} "
                f"{o['currency']} ({o['source_title'][:40]})",
                (o["price_low"], o["price_high"]),
                o["currency"],
                o["date"],
            )
        )
    obs += [(t, (v, v), cu, d) for t, v, cu, d in extra]
    if not obs:
        ms = hw[
            (hw["product"] == c["subject"]) & hw["is_msrp"].astype(bool) & (hw["currency"] == cur)
        ]
        note = ""
        if len(ms):
            mv = float(ms["price_low"].iloc[0])
            note = (
                f"; for reference the {cur} MSRP is {mv:,.0f} (claim {100 * (hi_c / mv - 1):+.0f}%)"
            )
        return _row(
            f"no independent {c['subject']} price between {lo_d.date()} and {hi_d.date()}"
            f" (only the article itself){note}",
            np.nan,
            NOT_VERIFIABLE,
            f"window {lo_d.date()}..{hi_d.date()}",
            "hardware_prices.csv",
        )
    lows, highs, parts = [], [], []
    for text, (lo, hi), ocur, d in obs:
        if ocur != cur:
            r = fx_at(inp.fx, [d]).iloc[0]
            k = r["usd_cny"] if cur == "CNY" else 1 / r["usd_cny"]
            lo, hi = lo * k, hi * k
            text += f" = {lo:,.0f}-{hi:,.0f} {cur} at CNY=X {r['fx_date'].date()}"
        lows.append(lo)
        highs.append(hi)
        parts.append(text)
    env_lo, env_hi = min(lows), max(highs)
    n_obs = len(obs)
    ok = lo_c <= env_hi * (1 + TOL_REL_HW) and hi_c >= env_lo * (1 - TOL_REL_HW)
    text = (
        f"claim {lo_c:,.0f}-{hi_c:,.0f} {cur}; independent {c['subject']} prices "
        f"{lo_d.date()}..{hi_d.date()}: "
        + "; ".join(parts)
        + f". Envelope {env_lo:,.0f}-{env_hi:,.0f} {cur}."
    )
    if ok and hi_c > env_hi * (1 + TOL_REL_HW):
        text += f" The claim's upper end is {100 * (hi_c / env_hi - 1):.0f}% above the highest independent price."
    if ok and lo_c < env_lo * (1 - TOL_REL_HW):
        text += f" The claim's lower end is {100 * (1 - lo_c / env_lo):.0f}% below the lowest independent price."
    return _row(
        text,
        round(env_hi, 2) if env_lo == env_hi else f"{env_lo:,.0f}-{env_hi:,.0f}",
        CONSISTENT if ok else INCONSISTENT,
        f"claim overlaps the envelope widened by {TOL_REL_HW:.0%}; window +-{win.days} days",
        "hardware_prices.csv" + ("; market_context.csv" if extra else ""),
        independent_low=env_lo,
        independent_high=env_hi,
        independent_n=n_obs,
        currency=cur,
    )


def check_position_gain(c: pd.Series, inp: Inputs) -> dict:
    """units x (mark - cost) from the article's own A800 numbers vs the claimed threshold."""
    ids = _refs(c, "article_claims")
    if len(ids) != 2:
        raise DataError(f"{c['claim_id']}: reference must name the cost and mark claims")
    cost_c, mark_c = _claim(inp, ids[0]), _claim(inp, ids[1])
    cost_d = parse_approx_date(cost_c["claim_date_text"]).date
    g = position_gain(
        ARTICLE_A800_UNITS,
        float(cost_c["claimed_value"]),
        cost_d,
        float(mark_c["claimed_value"]),
        mark_c["claim_date"],
        inp.fx,
    )
    f = g.to_frame().set_index("currency")
    gain = f.loc["CNY", "gain"]
    text = (
        f"{ARTICLE_A800_UNITS:,} cards ('上千', lower bound) x ({mark_c['claimed_value']:,.0f} - "
        f"{cost_c['claimed_value']:,.0f}) CNY = {gain:,.0f} CNY "
        f"(= {f.loc['USD', 'gain']:,.0f} USD: cost at CNY=X {g.cost_usd_cny:.4f} on "
        f"{g.cost_fx_date.date()}, mark at {g.mark_usd_cny:.4f} on {g.mark_fx_date.date()}); "
        "arithmetic on the article's own prices, which are not independently confirmed"
    )
    ok = gain > float(c["claimed_value"])
    return _row(
        text,
        gain,
        CONSISTENT if ok else INCONSISTENT,
        "strict: computed gain > claimed threshold",
        "article_claims.csv; Yahoo CNY=X",
        inputs=(str(cost_c["claim_id"]), str(mark_c["claim_id"])),
        gain=float(gain),
        units=ARTICLE_A800_UNITS,
    )


def check_china_share(c: pd.Series, inp: Inputs) -> dict:
    """Claimed China share of Nvidia revenue in a calendar year vs the fiscal year covering most
    of it (Nvidia's FY ends late January: calendar 2022 ~ FY2023), billing-location basis."""
    year = parse_approx_date(c["claim_date_text"]).date.year
    fy = f"FY{year + 1}"
    s = china_share_series(inp.revenue, inp.peers)
    row = s[(s["fiscal_year"] == fy) & (s["presentation"] == "as_reported")]
    if row.empty:
        raise DataError(f"{c['claim_id']}: no China revenue for {fy}")
    r = row.iloc[0]
    prev = s[(s["fiscal_year"] == f"FY{year}") & (s["presentation"] == "as_reported")]
    share = 100 * r["share"]
    claimed = 100 * float(c["claimed_value"])
    text = (
        f"{fy} (ended {r['period_end'].date()}, covers calendar {year}): China incl. HK "
        f"{r['china']:,.0f} of {r['total']:,.0f} {r['currency']} {r['unit']} = {share:.1f}% "
        f"({r['basis']} basis)"
        + (
            f"; {prev.iloc[0]['fiscal_year']}: {100 * prev.iloc[0]['share']:.1f}%"
            if len(prev)
            else ""
        )
        + f". Claim {claimed:.0f}%."
    )
    ok = abs(share - claimed) <= TOL_PP_SHARE
    return _row(
        text,
        round(share, 2),
        CONSISTENT if ok else INCONSISTENT,
        f"+-{TOL_PP_SHARE:g} percentage points ('约四成' = about 40%)",
        "revenue_geography.csv (NVIDIA 10-K)",
        year=year,
        fiscal_year=fy,
        share_pct=share,
        previous_fiscal_year=prev.iloc[0]["fiscal_year"] if len(prev) else None,
        previous_share_pct=100 * float(prev.iloc[0]["share"]) if len(prev) else None,
        claimed_pct=claimed,
        basis=r["basis"],
        tolerance_pp=TOL_PP_SHARE,
    )


def check_market_figure(c: pd.Series, inp: Inputs) -> dict:
    """Claimed market figure vs the referenced market_context row (tolerance 1%); also notes
    other periods of the same metric that the number matches exactly."""
    r = _market_row(c, inp)
    v = float(c["claimed_value"])
    same = inp.market[
        (inp.market["metric"] == r["metric"])
        & (inp.market["region"] == r["region"])
        & np.isclose(inp.market["value"], v)
        & (inp.market["metric_id"] != r["metric_id"])
    ]
    text = (
        f"{r['publisher']}: {r['metric']}, {r['region']}, {r['period']} = {r['value']:g} "
        f"{r['currency']} {r['unit']}; claim {v:g}"
        + (f"; the claim equals the {', '.join(same['period'])} figure" if len(same) else "")
    )
    return _within_relative(
        text,
        v,
        r,
        TOL_REL_MARKET,
        publisher=r["publisher"],
        period=r["period"],
        value=float(r["value"]),
        same_value_periods=tuple(same["period"]),
    )


def check_share_threshold(c: pd.Series, inp: Inputs) -> dict:
    """'More than X' share claims: the article's own ratio, and the same-year ratio of the
    publisher's figures."""
    num_c, den_c = (_claim(inp, i) for i in _refs(c, "article_claims"))
    own = float(num_c["claimed_value"]) / float(den_c["claimed_value"])
    mids = _refs(c, "market_context")
    m = inp.market.set_index("metric_id")
    pub = float(m.loc[mids[0], "value"]) / float(m.loc[mids[1], "value"])
    thr = float(c["claimed_value"])
    text = (
        f"article's own numbers: {num_c['claimed_value']:g} / {den_c['claimed_value']:g} = "
        f"{100 * own:.1f}%; publisher, same year: {m.loc[mids[0], 'value']:g} / "
        f"{m.loc[mids[1], 'value']:g} = {100 * pub:.1f}%; threshold {100 * thr:.1f}%"
    )
    if c["qualifier"] != "more_than":
        raise SpecificationError(
            f"{c['claim_id']}: share threshold check needs qualifier more_than"
        )
    ok = own > thr and pub > thr
    return _row(
        text,
        round(100 * own, 2),
        CONSISTENT if ok else INCONSISTENT,
        "strict: share > threshold, for both ratios",
        "market_context.csv (SIA)",
        own_pct=100 * own,
        publisher_pct=100 * pub,
        threshold_pct=100 * thr,
        inputs=(str(num_c["claim_id"]), str(den_c["claim_id"])),
    )


def check_orders(c: pd.Series, inp: Inputs) -> dict:
    """Order figures vs the reported FT/Reuters numbers (tolerance 5%)."""
    r = _market_row(c, inp)
    v = float(c["claimed_value"])
    text = (
        f"{r['publisher']} ({r['release_date'].date()}): {r['metric']} = {r['value']:g} {r['unit']}"
    )
    return _within_relative(text, v, r, TOL_REL_ORDERS)


def check_per_company(c: pd.Series, inp: Inputs) -> dict:
    """Units per company = referenced total / number of companies named (exact)."""
    total = float(_claim(inp, _refs(c, "article_claims")[0])["claimed_value"])
    per = total / ARTICLE_ORDER_COMPANIES
    ok = per == float(c["claimed_value"])
    return _row(
        f"{total:,.0f} / {ARTICLE_ORDER_COMPANIES} companies named = {per:,.0f}",
        per,
        CONSISTENT if ok else INCONSISTENT,
        "exact arithmetic",
        "article_claims.csv",
    )


def check_not_verifiable(c: pd.Series, inp: Inputs) -> dict:
    return _row("no data in this project bears on this claim", np.nan, NOT_VERIFIABLE, "n/a", "")


CHECKS = {
    "nvda_price": lambda c, inp: check_nvda_price(c, inp.ohlc),
    "market_value_change": check_market_value_change,
    "fx_conversion": check_fx_conversion,
    "hardware_price": check_hardware_price,
    "position_gain": check_position_gain,
    "china_share": check_china_share,
    "market_figure": check_market_figure,
    "market_share_threshold": check_share_threshold,
    "orders": check_orders,
    "per_company": check_per_company,
    "not_verifiable": check_not_verifiable,
}
