"""Plausibility checks of a daily price series, shared by the CSV import and the Yahoo fetch.

:func:`check_series` runs on a parsed frame (``DatetimeIndex``; columns ``open, high, low, close,
adj_close``) next to the basic checks of :mod:`analysis.data.prices.validate` (numbers, positive, finite, high
not below low, dates ascending and unique); values the basic checks reject are skipped here.
Every finding names the row (file and line, or the date of a Yahoo answer), the date and the
values.

Errors (the series is not imported):

* a date after today (New York), or, for a symbol on the NYSE calendar, a date on which the NYSE
  did not trade (weekend, holiday, closure; before the range of :mod:`analysis.data.calendar`, which
  starts in 2000, only weekends are known). FX and futures symbols (``CNY=X``, ``CL=F``: any
  symbol with ``=``) trade on their own calendars and are exempt from the session check;
* ``close`` outside the day's ``[low, high]`` (beyond a relative rounding tolerance of 1e-6), or
  ``open`` outside it by more than 1%. FX symbols (``=X``) are exempt: Yahoo's FX close and open
  are quote snapshots that its daily low/high need not bound (in the shared price folder, 38 of
  the 1848 CNY=X closes and 26 of its opens lie outside, by up to 1.04%);
* a one-day spike in ``adj_close``: a move beyond a factor 1.5 (log-return beyond log 1.5, i.e.
  more than +50% or less than -33.3%) that reverses by a factor beyond 1.5 the next day;
* a split-unadjusted close: ``close / adj_close`` changing from one row to the next by a
  split-like factor (a whole number >= 2 within 2%, or the ratio of a known split on that date
  within 2%); and ``close`` and ``adj_close`` both falling by a known split's ratio (>= 2) on its
  date (prices before the split not adjusted at all).

Warnings (the series is imported; each is listed in the import report and emitted as
:class:`PriceDataWarning`):

* ``open`` outside ``[low, high]`` by at most 1% (a vendor glitch in a field no return uses);
* more than :data:`GAP_SESSIONS` NYSE sessions without a row (a trading halt, a missing stretch).
  Returns are computed on the NYSE session grid (:mod:`analysis.eventstudy.returns`), so the sessions of a
  gap and the one after it carry no return; nothing is filled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.errors import PriceDataWarning

__all__ = [
    "GAP_SESSIONS",
    "OPEN_ERROR_MARGIN",
    "RANGE_TOLERANCE",
    "SPIKE_FACTOR",
    "SPLIT_MATCH",
    "Findings",
    "KnownSplit",
    "PriceDataWarning",
    "check_series",
    "nyse_sessions",
    "on_nyse_calendar",
    "summarize_notes",
]

#: relative tolerance for open/close against the day's low/high (float rounding of the source)
RANGE_TOLERANCE = 1e-6
#: an open outside [low, high] by more than this fraction is an error, below it a warning
OPEN_ERROR_MARGIN = 0.01
#: a one-day move beyond this factor that reverses beyond it the next day is a spike
SPIKE_FACTOR = 1.5
#: relative distance within which a close/adj_close jump counts as a split factor
SPLIT_MATCH = 0.02
#: more NYSE sessions than this without a row is reported as a gap
GAP_SESSIONS = 10
_MAX_ROWS_PER_NOTE = 5


@dataclass(frozen=True)
class KnownSplit:
    """A split on record: first split-adjusted session, new shares per old share, where from."""

    date: pd.Timestamp
    ratio: float
    source: str


@dataclass
class Findings:
    """What :func:`check_series` found: ``problems`` refuse the series, ``notes`` are warnings."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def on_nyse_calendar(symbol: str) -> bool:
    """False for FX and futures symbols (``CNY=X``, ``CL=F``), which trade on other days."""
    return "=" not in symbol


def _is_fx(symbol: str) -> bool:
    return symbol.endswith("=X")


def _d(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d")


def _n(value: float) -> str:
    """A value as the source wrote it (``repr`` of the float, never ``np.float64(...)``)."""
    return repr(float(value))


def _pct(factor: float) -> str:
    return f"{(factor - 1.0) * 100:+.1f}%"


def _today_new_york() -> pd.Timestamp:
    return pd.Timestamp.now(tz="America/New_York").tz_localize(None).normalize()


def nyse_sessions(lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DatetimeIndex:
    """NYSE sessions in ``[lo, hi]``: :func:`analysis.data.calendar.session_grid` (imported on use)."""
    from analysis.data import calendar

    return calendar.session_grid(lo, hi)


def check_series(
    symbol: str,
    frame: pd.DataFrame,
    where: Sequence[str],
    *,
    splits: Sequence[KnownSplit] = (),
    today: pd.Timestamp | None = None,
) -> Findings:
    """Plausibility of one series; ``where[i]`` names row i ("NVDA.csv line 5", "2023-10-17")."""
    dates = pd.DatetimeIndex(frame.index)
    labels = _Labels(where, dates)
    out = Findings()
    rows: list[tuple[int, str]] = []
    today = _today_new_york() if today is None else today
    rows += _date_problems(symbol, dates, labels, today)
    values = {c: _clean(frame[c]) for c in ("open", "high", "low", "close", "adj_close")}
    if not _is_fx(symbol):
        range_rows, range_notes = _range_findings(values, labels)
        rows += range_rows
        out.notes += range_notes
    known = dates.dropna()
    if known.is_monotonic_increasing and known.is_unique:  # else rows are not consecutive days
        rows += _spike_problems(values["adj_close"], dates, labels)
        rows += _split_problems(symbol, values, dates, labels, splits)
        if len(known) == len(dates) > 1:
            out.notes += _gap_notes(symbol, dates, where)
    rows.sort(key=lambda r: r[0])
    out.problems = [r[1] for r in rows]
    return out


class _Labels(Sequence[str]):
    """``where[i]`` plus the row's date ("NVDA.csv line 5 (2024-06-07)"), built when asked for."""

    def __init__(self, where: Sequence[str], dates: pd.DatetimeIndex) -> None:
        if len(where) != len(dates):
            raise ValueError("one label per row is needed")
        self._where, self._dates = where, dates

    def __len__(self) -> int:
        return len(self._where)

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        w, d = self._where[i], self._dates[i]
        return w if pd.isna(d) or w == _d(d) else f"{w} ({_d(d)})"


def _clean(col: pd.Series) -> np.ndarray:
    """float64 values with missing, non-finite and non-positive ones as NaN (reported elsewhere)."""
    v = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", copy=True)
    v[~np.isfinite(v) | (v <= 0)] = np.nan
    return v


def _date_problems(
    symbol: str, dates: pd.DatetimeIndex, labels: Sequence[str], today: pd.Timestamp
) -> list[tuple[int, str]]:
    rows: list[tuple[int, str]] = []
    valid = ~np.asarray(dates.isna())
    future = valid & np.asarray(dates > today)
    for i in np.flatnonzero(future).tolist():
        rows.append(
            (
                i,
                f"{labels[i]}: {_d(dates[i])} is in the future (today is {_d(today)} in New "
                "York); remove the row or correct its date",
            )
        )
    if not on_nyse_calendar(symbol):
        return rows
    past = valid & ~future
    if not past.any():
        return rows
    from analysis.data import calendar

    checked = dates[past]
    sessions = nyse_sessions(checked.min(), checked.max())
    closed = past & ~np.asarray(dates.isin(sessions))
    for i in np.flatnonzero(closed).tolist():
        d = dates[i]
        why = calendar.closed_reason(d)
        rows.append(
            (
                i,
                f"{labels[i]}: {_d(d)} ({d.day_name()}) is not an NYSE session ({why}); "
                f"{symbol} trades on NYSE sessions only: remove the row or correct its date",
            )
        )
    return rows


def _range_findings(
    values: dict[str, np.ndarray], labels: Sequence[str]
) -> tuple[list[tuple[int, str]], list[str]]:
    low, high = values["low"], values["high"]
    rows: list[tuple[int, str]] = []
    notes: list[str] = []
    with np.errstate(invalid="ignore"):
        for col in ("close", "open"):
            v = values[col]
            below = v < low * (1 - RANGE_TOLERANCE)
            above = v > high * (1 + RANGE_TOLERANCE)
            for i in np.flatnonzero(below | above).tolist():
                side, bound = ("below", low[i]) if below[i] else ("above", high[i])
                off = abs(v[i] / bound - 1.0)
                text = (
                    f"{labels[i]}: {col} {_n(v[i])} is {side} the day's "
                    f"{'low' if side == 'below' else 'high'} {_n(bound)} (by {off:.2%}; low "
                    f"{_n(low[i])}, high {_n(high[i])})"
                )
                if col == "open" and off <= OPEN_ERROR_MARGIN:
                    notes.append(text + "; imported (no return uses the open)")
                else:
                    rows.append(
                        (i, text + "; correct the row (the close must lie within low..high)")
                    )
    return rows, notes


def _spike_problems(
    adj: np.ndarray, dates: pd.DatetimeIndex, labels: Sequence[str]
) -> list[tuple[int, str]]:
    if len(adj) < 3:
        return []
    with np.errstate(invalid="ignore", divide="ignore"):
        lr = np.diff(np.log(adj))
    limit = math.log(SPIKE_FACTOR)
    into, outof = lr[:-1], lr[1:]
    with np.errstate(invalid="ignore"):
        hit = ((into > limit) & (outof < -limit)) | ((into < -limit) & (outof > limit))
    rows = []
    for k in np.flatnonzero(hit).tolist():
        i = k + 1
        rows.append(
            (
                i,
                f"{labels[i]}: adj_close {_n(adj[i])} is a one-day spike ("
                f"{_pct(adj[i] / adj[i - 1])} from {_n(adj[i - 1])} on {_d(dates[i - 1])}, then "
                f"{_pct(adj[i + 1] / adj[i])} to {_n(adj[i + 1])} on {_d(dates[i + 1])}); "
                "check the row against another source and correct it",
            )
        )
    return rows


def _split_problems(
    symbol: str,
    values: dict[str, np.ndarray],
    dates: pd.DatetimeIndex,
    labels: Sequence[str],
    splits: Sequence[KnownSplit],
) -> list[tuple[int, str]]:
    close, adj = values["close"], values["adj_close"]
    if len(close) < 2:
        return []
    on_date = {s.date: s for s in splits}
    rows: list[tuple[int, str]] = []
    with np.errstate(invalid="ignore", divide="ignore"):
        q = close / adj
        jump = q[1:] / q[:-1]
    for k in np.flatnonzero(np.isfinite(jump) & ((jump >= 1.2) | (jump <= 1 / 1.2))).tolist():
        i = k + 1
        factor = float(max(jump[k], 1.0 / jump[k]))
        whole = round(factor)
        split = on_date.get(dates[i])
        known = split is not None and _near(factor, max(split.ratio, 1.0 / split.ratio))
        if not (known or (whole >= 2 and _near(factor, whole))):
            continue
        side = (
            f"the close before {_d(dates[i])} looks split-unadjusted"
            if jump[k] < 1
            else f"the close from {_d(dates[i])} on (or adj_close before it) looks split-unadjusted"
        )
        match = (
            f"; matches the {split.ratio:g}:1 split of {symbol} on {_d(split.date)} ({split.source})"
            if known and split is not None
            else ""
        )
        rows.append(
            (
                i,
                f"{labels[i]}: close/adj_close changes by a factor {factor:.2f} from "
                f"{_d(dates[i - 1])} (close {_n(close[i - 1])}, adj_close {_n(adj[i - 1])}) to "
                f"{_d(dates[i])} (close {_n(close[i])}, adj_close {_n(adj[i])}): {side}{match}; "
                "export split-adjusted closes (Yahoo's Close with auto_adjust=False is one)",
            )
        )
    for split in splits:
        r = max(split.ratio, 1.0 / split.ratio)
        if r < 2:
            continue
        at = np.flatnonzero(dates == split.date)
        if len(at) != 1 or at[0] == 0:
            continue
        pos = int(at[0])
        expected = 1.0 / split.ratio
        moves = [close[pos] / close[pos - 1], adj[pos] / adj[pos - 1]]
        if all(np.isfinite(m) and abs(math.log(m / expected)) < math.log(1.2) for m in moves):
            rows.append(
                (
                    pos,
                    f"{labels[pos]}: close and adj_close move by a factor {moves[0]:.3f} and "
                    f"{moves[1]:.3f} from {_d(dates[pos - 1])} to {_d(split.date)}, the first "
                    f"session after the {split.ratio:g}:1 split of {symbol} ({split.source}): the "
                    "prices before it look split-unadjusted; export split-adjusted prices",
                )
            )
    return rows


def _near(value: float, target: float) -> bool:
    return abs(value / target - 1.0) <= SPLIT_MATCH


def _gap_notes(symbol: str, dates: pd.DatetimeIndex, where: Sequence[str]) -> list[str]:
    sessions = nyse_sessions(dates[0], dates[-1])
    after = np.searchsorted(sessions.values, dates.values[:-1], side="right")
    before = np.searchsorted(sessions.values, dates.values[1:], side="left")
    missing = before - after
    notes = []
    for i in np.flatnonzero(missing > GAP_SESSIONS).tolist():
        notes.append(
            f"no rows for {int(missing[i])} NYSE sessions between {_d(dates[i])} ({where[i]}) and "
            f"{_d(dates[i + 1])} ({where[i + 1]}); imported, the returns across the gap are "
            "missing (not filled)"
        )
    return notes


def summarize_notes(symbol: str, notes: Sequence[str]) -> str:
    """One warning text for a symbol's notes (the first few rows listed, then a count)."""
    shown = list(notes[:_MAX_ROWS_PER_NOTE])
    more = len(notes) - len(shown)
    text = f"{symbol}: imported with {len(notes)} note(s): " + "; ".join(shown)
    return text + (f"; ... and {more} more (see the import report)" if more > 0 else "")
