"""The layout of a daily price series: its columns, dtypes and date index."""

from __future__ import annotations

import pandas as pd

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close", "volume")
CSV_COLUMNS: tuple[str, ...] = ("date", *PRICE_COLUMNS)
_PRICE_ONLY = ("open", "high", "low", "close", "adj_close")


def _fmt(ts: pd.Timestamp | None) -> str:
    """A date as ``YYYY-MM-DD``; ``open`` for an open end of a range."""
    return "open" if ts is None else ts.strftime("%Y-%m-%d")


def _finish_frame(frame: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """The series in its layout: price columns float64, volume int64, index ``date`` (ns)."""
    out = frame.loc[:, list(PRICE_COLUMNS)].copy()
    for col in _PRICE_ONLY:
        out[col] = out[col].astype("float64")
    out["volume"] = out["volume"].astype("float64").round().astype("int64")
    out.index = pd.DatetimeIndex(dates).as_unit("ns")
    out.index.name = "date"
    out.columns.name = None
    return out
