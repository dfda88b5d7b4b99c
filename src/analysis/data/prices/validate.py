"""The basic checks of a parsed series (numbers, dates), shared by the CSV and Yahoo paths."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.data.prices.checks import KnownSplit, check_series, summarize_notes
from analysis.data.prices.layout import _PRICE_ONLY
from analysis.data.prices.splits import _committed_splits
from analysis.errors import DataError, PriceDataWarning


def _validate_values(frame: pd.DataFrame, where: Sequence[str]) -> list[str]:
    """Problems in a frame of numeric prices; ``where[i]`` names row i ("line 5", "2023-10-17")."""
    problems: list[tuple[int, str]] = []

    def not_finite(values: np.ndarray, col: str) -> np.ndarray:
        bad = np.isinf(values)
        for i in np.flatnonzero(bad).tolist():
            problems.append((i, f"{where[i]}: {col} is not a finite number ({float(values[i])!r})"))
        return bad

    for col in _PRICE_ONLY:
        values = frame[col].to_numpy(dtype="float64")
        for i in np.flatnonzero(np.isnan(values)).tolist():
            problems.append((i, f"{where[i]}: {col} is missing (NaN or empty)"))
        infinite = not_finite(values, col)
        for i in np.flatnonzero((values <= 0) & ~infinite).tolist():
            problems.append((i, f"{where[i]}: {col} is not positive ({float(values[i])!r})"))
    high = frame["high"].to_numpy(dtype="float64")
    low = frame["low"].to_numpy(dtype="float64")
    for i in np.flatnonzero((high < low) & np.isfinite(high) & np.isfinite(low)).tolist():
        problems.append((i, f"{where[i]}: high {float(high[i])!r} is below low {float(low[i])!r}"))
    vol = frame["volume"].to_numpy(dtype="float64")
    for i in np.flatnonzero(np.isnan(vol)).tolist():
        problems.append((i, f"{where[i]}: volume is missing (NaN or empty)"))
    infinite = not_finite(vol, "volume")
    for i in np.flatnonzero((vol < 0) & ~infinite).tolist():
        problems.append((i, f"{where[i]}: volume is negative ({float(vol[i])!r})"))
    frac = np.isfinite(vol) & (vol != np.round(vol))
    for i in np.flatnonzero(frac).tolist():
        problems.append((i, f"{where[i]}: volume {float(vol[i])!r} is not a whole number"))
    problems.sort(key=lambda p: p[0])
    return [p[1] for p in problems]


def _validate_dates(dates: pd.DatetimeIndex, where: Sequence[str]) -> list[str]:
    problems: list[str] = []
    first_seen: dict[pd.Timestamp, int] = {}
    prev: pd.Timestamp | None = None
    for i, d in enumerate(dates):
        if pd.isna(d):
            continue
        if d in first_seen:
            problems.append(
                f"{where[i]}: duplicate date {d:%Y-%m-%d} (first at {where[first_seen[d]]})"
            )
        else:
            first_seen[d] = i
            if prev is not None and d < prev:
                problems.append(
                    f"{where[i]}: dates not ascending ({d:%Y-%m-%d} comes after {prev:%Y-%m-%d})"
                )
        prev = d if prev is None or d > prev else prev
    return problems


def _known_splits(symbol: str, yahoo: Sequence[dict] | None = None) -> list[KnownSplit]:
    """Splits on record for the plausibility checks: the committed table, then Yahoo's list."""
    out: list[KnownSplit] = []
    try:
        table = _committed_splits()
    except DataError:
        table = None  # an unreadable table is reported where splits are used
    if table is not None:
        mine = table[table["symbol"] == symbol]
        out += [
            KnownSplit(pd.Timestamp(d), float(r), "data/splits.csv")
            for d, r in zip(mine["date"], mine["ratio"], strict=True)
        ]
    listed = {s.date for s in out}
    for item in yahoo or ():
        d = pd.Timestamp(item["date"])
        if d not in listed:
            out.append(KnownSplit(d, float(item["ratio"]), "Yahoo's split list"))
    return out


def _validate_frame(
    symbol: str,
    frame: pd.DataFrame,
    dates: pd.DatetimeIndex,
    where: Sequence[str],
    yahoo_splits: Sequence[dict] | None = None,
) -> tuple[list[str], list[str]]:
    """Every check of one series, CSV or Yahoo alike: (problems that refuse it, notes)."""
    problems = _validate_dates(dates, where) + _validate_values(frame, where)
    checked = frame.loc[:, list(_PRICE_ONLY)].set_axis(pd.DatetimeIndex(dates), axis=0)
    found = check_series(symbol, checked, where, splits=_known_splits(symbol, yahoo_splits))
    return problems + found.problems, found.notes


def _announce(notes: dict[str, Sequence[str]], stacklevel: int = 3) -> None:
    """Emit one :class:`PriceDataWarning` listing the notes of the series that have some."""
    texts = [summarize_notes(sym, n) for sym, n in notes.items() if n]
    if texts:
        warnings.warn(PriceDataWarning("\n".join(texts)), stacklevel=stacklevel)
