"""Fama-French factor returns read from Ken French's published daily CSV files (or their zip).

The Data Library (https://mba.tuck.dartmouth.edu/pages/faculty/ken.french/data_library.html)
publishes the daily research factors as CSV files in one layout: free-text lines, a header row
whose first cell is empty (``,Mkt-RF,SMB,HML,RF``; the five-factor file adds ``RMW,CMA``, the
momentum file has ``Mom``), one row per trading day ``YYYYMMDD`` with returns in percent, and
trailing lines (a copyright line; the monthly files also an annual block). Missing returns are
written ``-99.99`` or ``-999``. Factors: Fama & French (1993), JFE 33(1):3-56 (Mkt-RF, SMB, HML);
Fama & French (2015), JFE 116(1):1-22 (RMW, CMA); Carhart (1997), JF 52(1):57-82 (momentum).

>>> from analysis.data.factors import factor_returns
>>> f = factor_returns("F-F_Research_Data_Factors_daily.csv", ["Mkt-RF", "SMB", "HML"],
...                    "2022-01-03", "2023-12-29")                      # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd

from analysis._io import file_stamp
from analysis.data.dates import parse_date
from analysis.errors import DataError, SpecificationError, ValidationError

__all__ = [
    "MISSING_CODES",
    "RISK_FREE",
    "factor_table",
    "factor_returns",
    "load_french_factors",
]

#: The values Ken French's files use for a missing return (percent).
MISSING_CODES: tuple[float, ...] = (-99.99, -999.0)

#: The risk-free rate's column (one-month T-bill, daily): a rate, not a factor to regress on.
RISK_FREE = "RF"

_DAILY = re.compile(r"\d{8}")
_OTHER_DATE = re.compile(r"\d{4}|\d{6}")  # an annual (YYYY) or monthly (YYYYMM) row
_EXAMPLE_HEADER = ",Mkt-RF,SMB,HML,RF"


def _read_text(path: Path) -> str:
    """The file's text; a ``.zip`` must hold exactly one CSV file."""
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.lower().endswith((".csv", ".txt"))]
                if len(names) != 1:
                    raise DataError(
                        f"{path}: a factor zip must hold exactly one CSV file, found "
                        f"{len(names)} ({', '.join(names) or 'none'}); unzip it and pass the CSV"
                    )
                raw = zf.read(names[0])
        else:
            raw = path.read_bytes()
    except (OSError, zipfile.BadZipFile) as exc:
        if isinstance(exc, FileNotFoundError):
            raise DataError(
                f"factor file {path} does not exist; download the daily factors (CSV) from "
                "https://mba.tuck.dartmouth.edu/pages/faculty/ken.french/data_library.html"
            ) from None
        raise DataError(f"{path}: cannot read the factor file ({exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252")  # a copyright sign in the Windows code page


def _fields(line: str) -> list[str]:
    return [c.strip() for c in line.split(",")]


def _is_header(fields: list[str]) -> bool:
    return len(fields) >= 2 and fields[0] == "" and all(fields[1:])


def _parse(path: Path, text: str) -> pd.DataFrame:
    """The daily block of a French factor file as decimals; :class:`ValidationError` lists the
    file and line of every problem."""
    label = path.name
    msg = f"{path}: not read as Ken French daily factors; fix the file and read it again"
    lines = text.splitlines()
    problems: list[str] = []
    at = 0
    header: list[str] | None = None
    while at < len(lines):
        fields = _fields(lines[at])
        at += 1
        if _is_header(fields):
            header = fields[1:]
            break
        if _DAILY.fullmatch(fields[0]):
            raise ValidationError(
                msg, [f"{label} line {at}: a data row before the header row ({_EXAMPLE_HEADER})"]
            )
    if header is None:
        raise ValidationError(
            msg,
            [
                f"{label}: no header row (a first empty cell, then the factor names: {_EXAMPLE_HEADER})"
            ],
        )
    head_line = at
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise ValidationError(
            msg, [f"{label} line {head_line}: repeated column(s) {', '.join(repeated)}"]
        )
    dates: list[pd.Timestamp] = []
    rows: list[list[float]] = []
    where: list[int] = []
    end = len(lines)
    while at < len(lines):
        line = lines[at]
        at += 1
        if not line.strip() or not "".join(_fields(line)):
            end = at  # the blank line that closes the daily block
            break
        fields = _fields(line)
        here = f"{label} line {at}"
        if len(fields) != len(header) + 1:
            problems.append(f"{here}: expected {len(header) + 1} fields, found {len(fields)}")
            continue
        cell = fields[0]
        if _OTHER_DATE.fullmatch(cell) and not rows and not problems:
            kind = "annual (YYYY)" if len(cell) == 4 else "monthly (YYYYMM)"
            raise ValidationError(
                msg,
                [
                    f"{here}: date {cell!r} is {kind}; this reader takes the daily files "
                    "(dates YYYYMMDD), e.g. F-F_Research_Data_Factors_daily.CSV"
                ],
            )
        day = None
        if not _DAILY.fullmatch(cell):
            problems.append(f"{here}: date {cell!r} is not a date (expected YYYYMMDD)")
        else:
            try:
                day = pd.Timestamp(dt.date(int(cell[:4]), int(cell[4:6]), int(cell[6:])))
            except ValueError as exc:
                problems.append(f"{here}: date {cell!r} is not a real calendar date ({exc})")
        values: list[float] = []
        for name, v in zip(header, fields[1:], strict=True):
            try:
                x = float(v)
            except ValueError:
                problems.append(f"{here}: {name} {v!r} is not a number")
                x = math.nan
            else:
                if not math.isfinite(x):
                    problems.append(f"{here}: {name} {v!r} is not a finite number")
                elif x in MISSING_CODES:
                    x = math.nan  # the file's own code for a missing return
                else:
                    x = float(Decimal(v).scaleb(-2))  # 0.022 -> 0.00022 exactly, not x / 100
            values.append(x)
        if day is not None:
            dates.append(day)
            rows.append(values)
            where.append(at)
    for n in range(end, len(lines)):
        cell = _fields(lines[n])[0]
        if _DAILY.fullmatch(cell):
            problems.append(
                f"{label} line {n + 1}: a daily row after the end of the daily block (the blank "
                f"line {end} ends it); remove the blank line or the row"
            )
            break
    first_at: dict[pd.Timestamp, int] = {}
    for i, d in enumerate(dates):
        if d in first_at:
            problems.append(
                f"{label} line {where[i]}: duplicate date {d:%Y-%m-%d} (first at line "
                f"{first_at[d]})"
            )
            continue
        first_at[d] = where[i]
        if i and d < dates[i - 1]:
            problems.append(
                f"{label} line {where[i]}: dates not ascending ({d:%Y-%m-%d} comes after "
                f"{dates[i - 1]:%Y-%m-%d})"
            )
    if not rows and not problems:
        problems.append(f"{label}: no daily rows after the header row (line {head_line})")
    if problems:
        problems.sort(key=lambda p: int(m.group(1)) if (m := re.search(r" line (\d+)", p)) else 0)
        raise ValidationError(msg, problems)
    frame = pd.DataFrame(rows, index=pd.DatetimeIndex(dates, name="date"), columns=header)
    frame.columns.name = None
    return frame.astype("float64")


@functools.lru_cache(maxsize=16)
def _load(path: Path, stamp: int) -> pd.DataFrame:
    return _parse(path, _read_text(path))


def load_french_factors(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Daily factor returns from a Ken French CSV file (or its zip), as decimals.

    The layout of the Data Library's daily files: free-text lines, a header row starting with
    an empty cell (``,Mkt-RF,SMB,HML,RF``, ``...,RMW,CMA,RF`` or ``,Mom``), then one row per day
    ``YYYYMMDD`` with returns in percent, up to the first blank line; what follows (a copyright
    line, an annual block) is ignored. Returns a frame indexed by ``date`` with one column per
    factor as named in the header, percent divided by 100 (the nearest double to the decimal); the file's missing-return codes
    (-99.99, -999) are NaN. A bad date, a duplicate or unsorted date, a value that is not a
    number, a wrong number of fields or a daily row after the blank line is a
    :class:`~analysis.errors.ValidationError` naming the file and line of each.
    """
    p = Path(path)
    return _load(p.resolve(), file_stamp(p)).copy()


def _choose(frames: list[tuple[Path, pd.DataFrame]], names: Sequence[str] | None) -> pd.DataFrame:
    """The named columns (default: every factor but RF), each from the first file that has it."""
    owner: dict[str, tuple[Path, pd.DataFrame]] = {}
    for p, f in frames:
        for c in f.columns:
            owner.setdefault(str(c), (p, f))
    wanted = [c for c in owner if c != RISK_FREE] if names is None else list(names)
    if not wanted:
        raise SpecificationError("names is empty: choose factors, e.g. ['Mkt-RF', 'SMB', 'HML']")
    key = {re.sub(r"\s+", "", c).lower(): c for c in owner}
    cols: dict[str, pd.Series] = {}
    for n in wanted:
        c = n if n in owner else key.get(re.sub(r"\s+", "", str(n)).lower())
        if c is None:
            files = ", ".join(p.name for p, _ in frames)
            raise SpecificationError(f"no factor {n!r} in {files}; available: {', '.join(owner)}")
        if c in cols:
            raise SpecificationError(f"factor {c!r} is asked for twice")
        cols[c] = owner[c][1][c]
    return pd.concat(cols, axis=1, join="outer").sort_index()


def factor_table(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    names: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """The chosen columns of one or several French daily files on the union of their dates
    (NaN where a file has no return), without coverage checks: for a caller that checks the days
    it uses itself (the factor model checks its windows). Names as in :func:`factor_returns`."""
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    if not paths:
        raise SpecificationError("factor_table needs at least one factor file")
    frames = [(Path(p), load_french_factors(p)) for p in paths]
    return _choose(frames, [names] if isinstance(names, str) else names)


def factor_returns(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    names: str | Sequence[str] | None = None,
    start: object | None = None,
    end: object | None = None,
) -> pd.DataFrame:
    """Daily factor returns (decimals), dates ``start`` to ``end`` (inclusive) by factor.

    ``path`` is one French daily file or several (e.g. the three-factor and the momentum file
    for Carhart's four factors); ``names`` the columns in the order wanted (a string is one name;
    matched ignoring case and blanks; default: every factor of the files but ``RF``). A column in
    several files is read from the first. The files must cover ``start`` to ``end`` and every
    chosen factor must have a return on every day of the range: otherwise a
    :class:`~analysis.errors.DataError` says what is missing. The columns are regressors for the
    factor model; its dependent variable is the excess return r - RF (ask for ``"RF"`` too).
    """
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    if not paths:
        raise SpecificationError("factor_returns needs at least one factor file")
    frames = [(Path(p), load_french_factors(p)) for p in paths]
    chosen = [names] if isinstance(names, str) else None if names is None else list(names)
    out = _choose(frames, chosen)
    lo = parse_date(start, "factor_returns start") if start is not None else out.index[0]
    hi = parse_date(end, "factor_returns end") if end is not None else out.index[-1]
    if lo > hi:
        raise SpecificationError(
            f"factor_returns: start {lo.date()} is after end {hi.date()}; swap them"
        )
    files = ", ".join(p.name for p, _ in frames)
    for c in out.columns:
        have = out[c].dropna().index
        if not len(have) or lo < have[0] or hi > have[-1]:
            span = f"{have[0].date()} to {have[-1].date()}" if len(have) else "no returns"
            raise DataError(
                f"factor {c} in {files} covers {span}, not {lo.date()} to {hi.date()}; "
                "download a newer file or shorten the dates"
            )
    out = out.loc[lo:hi]
    gaps = out.columns[out.isna().any()]
    if len(gaps):
        c = gaps[0]
        days = ", ".join(f"{d:%Y-%m-%d}" for d in out.index[out[c].isna()][:5])
        raise DataError(
            f"factor {c} in {files} has no return on {days} (between {lo.date()} and "
            f"{hi.date()}): the file marks it missing, or another file has the day and this one "
            "does not"
        )
    return out
