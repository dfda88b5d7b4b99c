"""Daily returns on the NYSE session grid.

Convention (README, "Conventions"): simple returns from the split- and dividend-adjusted close; log returns as
an option. Prices are first placed on the exchange's session grid, so a session the vendor has no
row for is *missing*, and so are the returns on that session and the next one: a two-day move is
never booked as one day's return, and nothing is ever filled.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from analysis.errors import DataError, SpecificationError

ReturnKind = Literal["simple", "log"]
RETURN_KINDS: tuple[str, ...] = ("simple", "log")


def returns_from_prices(
    prices: pd.DataFrame, *, kind: ReturnKind = "simple", sessions: pd.DatetimeIndex | None = None
) -> pd.DataFrame:
    """Daily returns (date x symbol) from adjusted closes.

    Parameters
    ----------
    prices : DataFrame
        Adjusted closes, one column per symbol, indexed by date.
    kind : {"simple", "log"}
        ``P_t / P_{t-1} - 1`` or ``log(P_t / P_{t-1})``.
    sessions : DatetimeIndex, optional
        The trading sessions to place prices on (default: the prices' own dates). A session with no
        price makes that day's and the next day's return NaN.
    """
    if kind not in RETURN_KINDS:
        raise SpecificationError(f"unknown return kind {kind!r}; valid: {', '.join(RETURN_KINDS)}")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise DataError("prices must be indexed by date (a DatetimeIndex)")
    if prices.index.has_duplicates:
        dup = prices.index[prices.index.duplicated()][0].date()
        raise DataError(f"prices have duplicate dates (first: {dup}); fix the source before use")
    values = prices.astype("float64")
    bad = np.argwhere((values <= 0).to_numpy())
    if len(bad):
        r, c = bad[0]
        date, sym, val = values.index[r], values.columns[c], values.iat[r, c]
        raise DataError(f"non-positive price for {sym} on {date.date()} ({val}); returns undefined")
    values = values.reindex(sessions) if sessions is not None else values.sort_index()
    arr = values.to_numpy()
    out = np.full_like(arr, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = arr[1:] / arr[:-1]
        out[1:] = np.log(ratio) if kind == "log" else ratio - 1.0
    return pd.DataFrame(out, index=values.index, columns=values.columns)
