"""Prices in the units quoted on a date (later splits undone) and back."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.data.dates import parse_date
from analysis.data.prices.load import load_history
from analysis.data.prices.splits import _split_table_arrays, split_factor
from analysis.data.prices.symbols import normalize_symbol
from analysis.errors import DataError


def to_current_units(symbol: str, date: Any, price: float) -> float:
    """A price quoted on ``date`` in today's (split-adjusted) units: NVDA 446 on 2023-10-17 -> 44.6."""
    return float(price) / split_factor(symbol, date)


def to_quoted_units(symbol: str, date: Any, price: float) -> float:
    """Inverse of :func:`to_current_units`: NVDA 43.938 on 2023-10-17 -> 439.38."""
    return float(price) * split_factor(symbol, date)


def quoted_close(symbol: str, start: Any = None, end: Any = None) -> pd.Series:
    """The close in the units quoted on each date (later splits undone): NVDA 2023-10-17 -> 439.38."""
    sym = normalize_symbol(symbol)
    c = load_history(sym, start, end)["close"]
    factor = pd.Series(1.0, index=c.index)
    for d, r in zip(*_split_table_arrays(sym), strict=True):
        factor[factor.index < d] *= r
    return (c * factor).rename("quoted_close")


def quote_reconciliation(symbol: str, date: Any, quoted_price: float | None = None) -> pd.DataFrame:
    """Reconcile a price quoted in the press on ``date`` with the cached split-adjusted series.

    Rows: the quoted price (if given) and the session's open, high, low and close, each in the
    units quoted on that date and in today's split-adjusted units, with the split factor used.
    The article's NVDA $446 on 2023-10-17 is 44.6 in today's units; that day's close was 439.38
    quoted (43.938 today).
    """
    sym = normalize_symbol(symbol)
    d = parse_date(date, f"{sym} quote date")
    day = load_history(sym, d, d)
    if day.empty:
        raise DataError(
            f"{sym}: no session on {d.date()} in the cached prices (a trading day is needed)"
        )
    factor = split_factor(sym, d)
    rows = []
    if quoted_price is not None:
        rows.append(("quoted in the press", float(quoted_price), float(quoted_price) / factor))
    for col in ("open", "high", "low", "close"):
        today = float(day[col].iloc[0])
        rows.append((f"session {col}", today * factor, today))
    out = pd.DataFrame(rows, columns=["price", "quoted_units", "current_units"]).set_index("price")
    out["split_factor"] = factor
    out.attrs["date"] = d
    return out
