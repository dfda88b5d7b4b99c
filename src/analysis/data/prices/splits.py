"""Stock splits: the committed table, Yahoo's record in the cache, and the split factor."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import config
from analysis.data.dates import parse_date
from analysis.data.prices.cache import _manifest_entry
from analysis.data.prices.symbols import normalize_symbol
from analysis.errors import DataError, ValidationError

_SPLITS_COLUMNS = ["symbol", "date", "ratio", "source", "confidence"]


def splits_path() -> Path:
    """The committed split table (``data/splits.csv``)."""
    return config.data_dir() / "splits.csv"


@functools.lru_cache(maxsize=4)
def _committed_splits_cached(path: str, mtime: float) -> pd.DataFrame:
    p = Path(path)
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"cannot read the split table {p}: {exc}") from None
    missing = [c for c in _SPLITS_COLUMNS if c not in raw.columns]
    if missing:
        raise ValidationError(
            f"{p}: not usable", [f"{p.name} line 1: missing column(s) {', '.join(missing)}"]
        )
    problems = []
    dates = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    ratios = pd.to_numeric(raw["ratio"], errors="coerce")
    for i in range(len(raw)):
        line = f"{p.name} line {i + 2}"
        if pd.isna(dates.iat[i]):
            problems.append(f"{line}: date {raw['date'].iat[i]!r} is not YYYY-MM-DD")
        if not (ratios.iat[i] > 0):
            problems.append(f"{line}: ratio {raw['ratio'].iat[i]!r} is not a positive number")
        try:
            normalize_symbol(raw["symbol"].iat[i])
        except DataError as exc:
            problems.append(f"{line}: {exc}")
    if problems:
        raise ValidationError(f"{p}: not usable", problems)
    out = pd.DataFrame(
        {
            "symbol": raw["symbol"].str.strip().str.upper(),
            "date": pd.DatetimeIndex(dates).as_unit("ns"),
            "ratio": ratios.astype("float64"),
            "source": raw["source"],
            "confidence": raw["confidence"],
        }
    )
    return out.sort_values(["symbol", "date"], ignore_index=True)


def _committed_splits() -> pd.DataFrame:
    p = splits_path()
    if not p.is_file():
        raise DataError(f"the committed split table {p} is missing (it is part of the repository)")
    return _committed_splits_cached(str(p), p.stat().st_mtime)


def splits(symbol: str) -> pd.DataFrame:
    """Splits of ``symbol`` (date, ratio, source): the committed table merged with Yahoo's record.

    Raises :class:`DataError` when both know the symbol and disagree over the cached range.
    """
    sym = normalize_symbol(symbol)
    committed = _committed_splits()
    mine = committed[committed["symbol"] == sym][["date", "ratio", "source"]].reset_index(drop=True)
    entry = _manifest_entry(sym)
    if entry is None or entry.get("splits") is None:
        return mine
    yahoo = entry["splits"]
    ydf = pd.DataFrame(
        {
            "date": pd.DatetimeIndex(
                [pd.Timestamp(s["date"]) for s in yahoo], dtype="datetime64[ns]"
            ),
            "ratio": [float(s["ratio"]) for s in yahoo],
            "source": "yahoo (cache manifest)",
        }
    )
    if mine.empty:
        return ydf
    first, last = pd.Timestamp(entry["first"]), pd.Timestamp(entry["last"])
    inside = mine[(mine["date"] > first) & (mine["date"] <= last)]
    a = {(d, round(r, 9)) for d, r in zip(inside["date"], inside["ratio"], strict=True)}
    b = {(d, round(r, 9)) for d, r in zip(ydf["date"], ydf["ratio"], strict=True)}
    if a != b:

        def show(s: set) -> str:
            return ", ".join(f"{d:%Y-%m-%d} {r:g}:1" for d, r in sorted(s)) or "none"

        raise DataError(
            f"{sym}: splits disagree between {splits_path()} ({show(a)}) and Yahoo's record in the "
            f"cache for {entry['first']} to {entry['last']} ({show(b)}); check the split dates and "
            "correct data/splits.csv or re-fetch the series"
        )
    return mine


def split_factor(symbol: str, date: Any) -> float:
    """How many of today's shares one share held on ``date`` has become (NVDA 2023-10-17 -> 10).

    A split dated D (first split-adjusted session) counts for every date before D.
    """
    sym = normalize_symbol(symbol)
    d = parse_date(date, f"{sym} split_factor date")
    table = splits(sym)
    later = table[table["date"] > d]
    return float(np.prod(later["ratio"].to_numpy())) if len(later) else 1.0


def _split_table_arrays(sym: str) -> tuple[list[pd.Timestamp], list[float]]:
    t = splits(sym)
    return list(t["date"]), list(t["ratio"].astype(float))
