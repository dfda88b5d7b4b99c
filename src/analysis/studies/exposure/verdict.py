"""The market's verdict per event: NVDA's market-value change against its annual China revenue.

Quoted closes (:func:`analysis.data.prices.quoted_close`, units of the day) times the confirmed
share count nearest the window (``shares_outstanding.csv``, restated to the same split units).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.errors import DataError, SpecificationError

__all__ = ["market_value_change", "market_verdict", "pick_shares"]


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
