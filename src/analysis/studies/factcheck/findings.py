"""The fact-check's findings in words: one Markdown bullet per claim, worded from the numbers its
check computed (the row's ``detail``), so a rerun on other data never states something false.

Text taken from the data tables (the claim's ``quantity``, a publisher's name) is HTML-escaped.
"""

from __future__ import annotations

from functools import partial
from html import escape as _escape

import pandas as pd

from analysis.studies.factcheck.checks import CONSISTENT, INCONSISTENT, NOT_VERIFIABLE

escape = partial(_escape, quote=False)  # text, never an attribute: quotes stay readable

__all__ = ["article_only_markdown", "finding", "findings_markdown"]


def _day(v) -> str:
    return f"{pd.Timestamp(v):%Y-%m-%d}"


def _nvda_price(r: pd.Series, d: dict, table: pd.DataFrame) -> str:
    out = f"The quoted close that day ({_day(d['date'])}) was {d['close']:.2f}. "
    if r["verdict"] == CONSISTENT:
        return out + "The claim matches it within $1."
    if d["matches"]:
        return out + f"The number matches {', '.join(d['matches'])} instead."
    span = f"{d['low']:.2f} to {d['high']:.2f}"
    if d["within_range"]:
        return out + (
            "It is not the close of that day nor of the day before; it lies inside the day's "
            f"trading range ({span}), so it is at best an intraday quote."
        )
    return out + f"It lies outside the day's trading range ({span})."


def _market_value(r: pd.Series, d: dict, table: pd.DataFrame) -> str:
    out = (
        f"The closes of {_day(d['start'])} and {_day(d['end'])} give a fall of "
        f"{d['fall_bn']:.1f}B USD. "
    )
    prices = table.set_index("claim_id").loc[list(d["price_claims"])]
    off = [cid for cid, v in prices["verdict"].items() if v != CONSISTENT]
    if d["own_prices_match"]:
        out += (
            f"The article's figure matches its own prices ({', '.join(prices.index)}) times the "
            f"share count ({d['own_prices_fall_bn']:.1f}B), not the fall between the two closes"
        )
        out += (
            f"; the price that is not a close ({', '.join(off)}) makes the difference."
            if off and r["verdict"] != CONSISTENT
            else "."
        )
        return out
    return out + f"With the article's own prices the fall would be {d['own_prices_fall_bn']:.1f}B."


def _china_share(r: pd.Series, d: dict, table: pd.DataFrame) -> str:
    out = (
        f"Nvidia's 10-K gives China (incl. Hong Kong) {d['share_pct']:.1f}% of revenue in "
        f"{d['fiscal_year']}, the fiscal year covering calendar {d['year']} "
        f"({escape(str(d['basis']))} basis)"
    )
    if d["previous_fiscal_year"] is not None:
        out += f", and {d['previous_share_pct']:.1f}% in {d['previous_fiscal_year']}"
    gap = abs(d["share_pct"] - d["claimed_pct"])
    if r["verdict"] == CONSISTENT:
        return out + f": within {d['tolerance_pp']:g} percentage points of the claim."
    return out + (
        f": {gap:.0f} percentage points from the claimed {d['claimed_pct']:.0f}%, beyond the "
        f"{d['tolerance_pp']:g}-point tolerance."
    )


def _market_figure(r: pd.Series, d: dict, table: pd.DataFrame) -> str:
    out = (
        f"The figure of {escape(str(d['publisher']))} for {escape(str(d['period']))} is "
        f"{d['value']:g}"
    )
    if d["same_value_periods"]:
        periods = ", ".join(escape(str(p)) for p in d["same_value_periods"])
        out += f"; the article's number is the same publisher's figure for **{periods}**"
    return out + "."


def _share_threshold(r: pd.Series, d: dict, table: pd.DataFrame) -> str:
    below = [
        name
        for name, v in (
            ("the article's own numbers", d["own_pct"]),
            ("the publisher's same-year figures", d["publisher_pct"]),
        )
        if not v > d["threshold_pct"]
    ]
    out = (
        f"The article's own numbers ({', '.join(d['inputs'])}) give {d['own_pct']:.1f}% and the "
        f"publisher's same-year figures {d['publisher_pct']:.1f}%, against the claimed "
        f"{d['threshold_pct']:.1f}%: "
    )
    if not below:
        return out + "both are above it."
    return out + f"the claim fails with {' and with '.join(below)}."


def _position_gain(r: pd.Series, d: dict, table: pd.DataFrame) -> str:
    verdicts = table.set_index("claim_id")["verdict"]
    inputs = "; ".join(f"{cid}: {verdicts.get(cid, 'not checked')}" for cid in d["inputs"])
    holds = "holds" if r["verdict"] == CONSISTENT else "does not hold"
    return (
        f"{d['units']:,} cards x (mark - cost) = {d['gain']:,.0f} CNY: the arithmetic on the "
        f"article's own prices {holds}. Its inputs as checked ({inputs})."
    )


def _hardware_price(r: pd.Series, d: dict, table: pd.DataFrame) -> str:
    if r["verdict"] == NOT_VERIFIABLE:
        return "No independent price in the window: only the article gives this one."
    return (
        f"Independent prices in the window span {d['independent_low']:,.0f} to "
        f"{d['independent_high']:,.0f} {escape(str(d['currency']))} ({d['independent_n']} "
        "quote(s))."
    )


WORDING = {
    "nvda_price": _nvda_price,
    "market_value_change": _market_value,
    "china_share": _china_share,
    "market_figure": _market_figure,
    "market_share_threshold": _share_threshold,
    "position_gain": _position_gain,
    "hardware_price": _hardware_price,
}


def finding(table: pd.DataFrame, claim_id: str) -> str:
    """One Markdown bullet: the claim, what the data show (from its ``detail``), the verdict."""
    r = table.set_index("claim_id").loc[claim_id]
    head = (
        f"- **{claim_id}, {escape(str(r['quantity']))}.** The article says {escape(r['claimed'])}. "
    )
    word = WORDING.get(r["kind"])
    body = word(r, r["detail"], table) if word else f"The check finds {escape(str(r['computed']))}."
    return f"{head}{body} Verdict: **{r['verdict']}**."


def article_only_markdown(table: pd.DataFrame) -> str:
    """A bullet on the claims only the article supports, and the checks that rest on them
    (empty when there are none)."""
    alone = table[(table["kind"] == "hardware_price") & (table["verdict"] == NOT_VERIFIABLE)]
    if alone.empty:
        return ""
    ids = set(alone["claim_id"])
    names = ", ".join(f"{r.claim_id} ({escape(str(r.quantity))})" for r in alone.itertuples())
    out = f"- **Numbers only the article gives.** No independent source has {names}."
    resting = [
        r.claim_id
        for r in table.itertuples()
        if r.kind == "position_gain" and ids & set(r.detail.get("inputs", ()))
    ]
    if resting:
        out += (
            f" {', '.join(resting)} is arithmetic on such a number: its verdict checks the "
            "arithmetic, not the price."
        )
    return out


def findings_markdown(table: pd.DataFrame, claim_ids) -> str:
    """The findings: one bullet per claim of ``claim_ids``, then the article-only numbers."""
    bullets = [finding(table, cid) for cid in claim_ids]
    extra = article_only_markdown(table)
    return "\n".join(bullets + ([extra] if extra else []))


#: The verdicts, in the order the page counts them.
VERDICTS = (CONSISTENT, INCONSISTENT, NOT_VERIFIABLE)
