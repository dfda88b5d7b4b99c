"""Earnings announcements and annual-report filings (``data/earnings.csv``, ``data/filings.csv``).

Loaders validate both hand-curated tables with the fact-table reader (errors name file, line and
column). :func:`earnings_reaction_days` maps each announcement to the session that first trades on
it by the package's one day-0 rule (:func:`analysis.data.calendar.resolve_day0`);
:func:`latest_filing_before` finds the annual report a reader could have seen before a date.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pandas as pd

from analysis._io import file_stamp
from analysis.data.calendar import TIMINGS, EventTime, resolve_day0
from analysis.data.dates import parse_date
from analysis.data.facts import Col, Schema, _check_unique, _path, read_table
from analysis.data.vocabulary import CONFIDENCE_LEVELS, confidence_rank
from analysis.errors import CalendarError, DataError

__all__ = [
    "ANNUAL_FORMS",
    "EARNINGS",
    "FILINGS",
    "SOURCED_CONFIDENCE",
    "earnings_reaction_days",
    "latest_filing_before",
    "load_earnings",
    "load_filings",
]

#: confidence levels a sourced row may carry (every row has a source, so never unconfirmed)
SOURCED_CONFIDENCE: tuple[str, ...] = tuple(
    level for level in CONFIDENCE_LEVELS if confidence_rank(level) >= 1
)
#: annual-report forms the filings table holds
ANNUAL_FORMS: tuple[str, ...] = ("10-K", "20-F")

_PERIOD_RE = re.compile(r"FY\d{4}Q[1-4]")
_YEAR_RE = re.compile(r"FY\d{4}")
_TIMING_TEXT = {
    "after_close": "after the close",
    "before_open": "before the open",
    "intraday": "during the session",
    "unknown": "at an unknown time of day",
}


def _check_pattern(column: str, pattern: re.Pattern[str], example: str):
    def check(frame: pd.DataFrame, fname: str) -> list[str]:
        return [
            f"{fname}:{r['line']}, column '{column}': {r[column]!r} is not of the form {example}"
            for _, r in frame.iterrows()
            if not pattern.fullmatch(r[column])
        ]

    return check


def _check_sources(frame: pd.DataFrame, fname: str) -> list[str]:
    """A source is a URL or a document name; a bare word such as 'memory' is not one."""
    return [
        f"{fname}:{r['line']}, column 'source': {r['source']!r} is neither a URL nor a "
        "document name; cite where the date was read"
        for _, r in frame.iterrows()
        if not (r["source"].startswith(("http://", "https://")) or " " in r["source"].strip())
    ]


def _check_event_time(frame: pd.DataFrame, fname: str) -> list[str]:
    """``time_et`` must be HH:MM and agree with ``timing`` on that day's NYSE session."""
    out = []
    for _, r in frame.iterrows():
        try:
            EventTime.parse(r["announcement_date"], r["time_et"] or None, r["timing"])
        except CalendarError as exc:
            out.append(f"{fname}:{r['line']}, column 'time_et': {exc}")
    return out


EARNINGS = Schema(
    "earnings.csv",
    (
        Col("symbol"),
        Col("fiscal_period"),
        Col("announcement_date", "date"),
        Col("time_et", required=False),
        Col("timing", allowed=TIMINGS),
        Col("source"),
        Col("confidence", allowed=SOURCED_CONFIDENCE),
        Col("note", required=False),
    ),
    (
        _check_pattern("fiscal_period", _PERIOD_RE, "FY2024Q3"),
        _check_unique("symbol", "fiscal_period"),
        _check_unique("symbol", "announcement_date"),
        _check_sources,
        _check_event_time,
    ),
)

FILINGS = Schema(
    "filings.csv",
    (
        Col("symbol"),
        Col("fiscal_year"),
        Col("form", allowed=ANNUAL_FORMS),
        Col("filed_date", "date"),
        Col("source"),
        Col("confidence", allowed=SOURCED_CONFIDENCE),
        Col("note", required=False),
    ),
    (
        _check_pattern("fiscal_year", _YEAR_RE, "FY2023"),
        _check_unique("symbol", "fiscal_year", "form"),
        _check_sources,
    ),
)


def load_earnings(path: str | Path | None = None) -> pd.DataFrame:
    """Earnings announcements (``data/earnings.csv``), validated; sorted by symbol and date.
    The file is re-read only when it changes (path and modification time as the key)."""
    p = Path(_path(path, EARNINGS.name))
    return _load_earnings_cached(str(p), file_stamp(p)).copy()


@functools.lru_cache(maxsize=4)
def _load_earnings_cached(path: str, mtime_ns: int) -> pd.DataFrame:
    frame = read_table(path, EARNINGS)
    return frame.sort_values(["symbol", "announcement_date"], kind="stable").reset_index(drop=True)


def load_filings(path: str | Path | None = None) -> pd.DataFrame:
    """Annual-report filing dates (``data/filings.csv``), validated; sorted by symbol and date."""
    frame = read_table(_path(path, FILINGS.name), FILINGS)
    return frame.sort_values(["symbol", "filed_date"], kind="stable").reset_index(drop=True)


def _rows_of(frame: pd.DataFrame, symbol: str, table: str) -> pd.DataFrame:
    sym = symbol.strip().upper()
    rows = frame[frame["symbol"] == sym]
    if rows.empty:
        known = ", ".join(sorted(frame["symbol"].unique()))
        raise DataError(
            f"{sym}: no rows in data/{table} (symbols there: {known}); add the symbol's dates "
            "with a source to that file"
        )
    return rows


def earnings_reaction_days(symbol: str, path: str | Path | None = None) -> pd.DataFrame:
    """The session that first trades on each of ``symbol``'s earnings announcements.

    Columns: ``date`` (the reaction session, day 0 by :func:`resolve_day0`), ``fiscal_period``,
    ``announcement`` (the announcement date) and ``reason``, e.g. "NVDA earnings FY2024Q1
    announced 2023-05-24 after the close; day 0 2023-05-25". A symbol the table does not cover
    gives an empty frame (the caller says what that means for its use).
    """
    p = Path(_path(path, EARNINGS.name))
    return _reaction_days_cached(symbol.strip().upper(), str(p), file_stamp(p)).copy()


@functools.lru_cache(maxsize=64)
def _reaction_days_cached(symbol: str, path: str, mtime_ns: int) -> pd.DataFrame:
    table = _load_earnings_cached(path, mtime_ns)
    rows = table[table["symbol"] == symbol]
    records = []
    for _, r in rows.iterrows():
        day0 = resolve_day0(r["announcement_date"], r["time_et"] or None, r["timing"])
        ann = r["announcement_date"].date().isoformat()
        when = f"at {r['time_et']} ET" if r["time_et"] else _TIMING_TEXT[r["timing"]]
        records.append(
            {
                "date": day0.day0,
                "fiscal_period": r["fiscal_period"],
                "announcement": r["announcement_date"],
                "reason": f"{r['symbol']} earnings {r['fiscal_period']} announced {ann} {when}; "
                f"day 0 {day0.day0.date().isoformat()}",
            }
        )
    return pd.DataFrame.from_records(
        records, columns=["date", "fiscal_period", "announcement", "reason"]
    )


def latest_filing_before(
    symbol: str, date: object, path: str | Path | None = None
) -> pd.Series | None:
    """``symbol``'s last annual report filed strictly before ``date`` (None if none is listed).

    ``date`` is read by :func:`analysis.data.dates.parse_date`. Raises :class:`DataError` when
    the table has no row for ``symbol`` at all.
    """
    when = parse_date(date, f"{symbol} filing cut-off date")
    rows = _rows_of(load_filings(path), symbol, FILINGS.name)
    before = rows[rows["filed_date"] < when]
    if before.empty:
        return None
    return before.iloc[-1]
