"""Reading dates: the one parser of date arguments and ISO date cells, with one error type."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from analysis.errors import DateFormatError

__all__ = ["ISO_FORMAT", "iso_date_problem", "parse_date"]

#: the one text form of a date this package reads
ISO_FORMAT = "YYYY-MM-DD"
_ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NEW_YORK = "America/New_York"


def iso_date_problem(text: str) -> str | None:
    """Why ``text`` is not an ISO date ``YYYY-MM-DD`` (None when it is one)."""
    if not _ISO_RE.fullmatch(text):
        return f"is not an ISO date ({ISO_FORMAT})"
    try:
        dt.date.fromisoformat(text)
    except ValueError as exc:
        return f"is not a real calendar date ({exc})"
    return None


def parse_date(value: object, what: str = "date") -> pd.Timestamp:
    """A tz-naive midnight Timestamp from a date argument; :class:`DateFormatError` otherwise.

    Text must be ``YYYY-MM-DD`` (surrounding blanks ignored). ``datetime.date``, ``datetime``,
    ``pandas.Timestamp`` and ``numpy.datetime64`` values are taken as they are; a zone-aware one
    is first converted to New York time. The time of day is dropped. ``what`` names the argument
    in the message ("NVDA start: cannot read '2023/10/17' as a date (use YYYY-MM-DD)").
    """
    if isinstance(value, str):
        text = value.strip()
        detail = ""
        if _ISO_RE.fullmatch(text):
            try:
                return pd.Timestamp(dt.date.fromisoformat(text))
            except ValueError as exc:
                detail = f"not a real calendar date: {exc}; "
        raise DateFormatError(f"{what}: cannot read {value!r} as a date ({detail}use {ISO_FORMAT})")
    if not isinstance(value, dt.date | np.datetime64):  # datetime and Timestamp are dates too
        raise DateFormatError(
            f"{what}: cannot read {value!r} (type {type(value).__name__}) as a date "
            f"(use {ISO_FORMAT})"
        )
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        raise DateFormatError(f"{what}: the date is missing ({value!r}; use {ISO_FORMAT})")
    if ts.tzinfo is not None:
        ts = ts.tz_convert(_NEW_YORK).tz_localize(None)
    return ts.normalize()
