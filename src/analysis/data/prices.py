"""Daily prices: sources (a CSV folder, Yahoo via yfinance), a validated local cache, and splits.

Conventions
-----------
* A series is daily OHLCV for one Yahoo symbol: a tz-naive ``DatetimeIndex`` named ``date`` and the
  columns ``open, high, low, close, adj_close, volume`` (float64; volume int64). ``close`` is as the
  source gives it (Yahoo: split-adjusted, *not* dividend-adjusted); ``adj_close`` is split- and
  dividend-adjusted, so returns are computed from it. The level of ``adj_close`` depends on the
  download date, so series from different downloads are never stitched: an import or a fetch
  replaces the cached series of that symbol as a whole.
* ``load_history`` resolves a symbol from the cache, then (not cached) the CSV folder named by
  ``ANALYSIS_PRICES_DIR``, then Yahoo unless ``ANALYSIS_OFFLINE=1``.
* CSV files have exactly the header ``date,open,high,low,close,adj_close,volume`` (ISO dates,
  ascending, unique); any missing *or extra* column rejects the file, because an extra column (say
  ``dividends``) means the file follows another convention. Fully blank lines are ignored. File
  name = symbol with ``^`` -> ``INDEX_`` and ``=`` -> ``_`` (``INDEX_GSPC.csv`` holds ``^GSPC``).
* Splits: ``data/splits.csv`` (committed, cited; ``date`` is the first session traded on a
  split-adjusted basis, ``ratio`` new shares per old share) merged with the splits Yahoo reports for
  fetched series. For a symbol the committed table lists, it is authoritative and any difference
  with Yahoo over the fetched range is an error; for other symbols Yahoo's list is used.
* Plausibility (:mod:`analysis.data._price_checks`, the same for a CSV file and a Yahoo answer): no
  value may be missing, non-finite or non-positive; dates must be NYSE sessions (FX and futures
  symbols with ``=`` excepted) and not in the future; the close must lie within the day's
  low..high (FX excepted); one-day spikes in ``adj_close`` and split-unadjusted closes are
  refused, each with file, line, date and values. Gaps of more than 10 sessions and an open
  slightly outside low..high are imported with a :class:`PriceDataWarning` listing the rows.
* The cache (``config.cache_dir()``) holds one parquet per symbol, named after its content
  (``NVDA.<sha256 prefix>.parquet``), and ``manifest.json`` (source, retrieval time, yfinance
  version, range, rows, sha256, splits). A write puts the new parquet next to the old one, then
  replaces the manifest, then deletes the old file, each step atomic (temp file + ``os.replace``)
  under an exclusive ``fcntl`` lock: a writer killed at any point leaves every manifest entry
  pointing at an intact file. Every read checks the sha256 and the entry's fields.
* With ``ANALYSIS_PRICES_DIR`` set, a series cached from a CSV is imported again when that
  folder's file for the symbol (found whatever the case of its name) differs from the one
  imported, be it the same file edited or another folder's.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import functools
import hashlib
import io
import json
import logging
import math
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import config
from analysis.data._price_checks import (
    KnownSplit,
    PriceDataWarning,
    check_series,
    nyse_sessions,
    summarize_notes,
)
from analysis.errors import DataError, PriceSourceError, ValidationError

__all__ = [
    "CSV_COLUMNS",
    "PRICE_COLUMNS",
    "ImportReport",
    "ImportedSeries",
    "PriceDataWarning",
    "SkippedSeries",
    "adj_close",
    "cache_manifest",
    "close",
    "fetch_yahoo",
    "filename_to_symbol",
    "import_csv_file",
    "import_csv_folder",
    "load_history",
    "quoted_close",
    "series_info",
    "split_factor",
    "splits",
    "symbol_to_filename",
    "to_current_units",
    "to_quoted_units",
]

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close", "volume")
CSV_COLUMNS: tuple[str, ...] = ("date", *PRICE_COLUMNS)
_PRICE_ONLY = ("open", "high", "low", "close", "adj_close")
MANIFEST_NAME = "manifest.json"
_LOCK_NAME = ".manifest.lock"
_MANIFEST_VERSION = 1
_MANIFEST_COLUMNS = ["symbol", "first", "last", "rows", "source", "sha256", "retrieved_at"]
_MAX_LISTED_PROBLEMS = 20
_SYMBOL_RE = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-]*(=[A-Z]+)?$")
_HOW_TO_GET = (
    "import a CSV folder with `python -m analysis prices import DIR`, set ANALYSIS_PRICES_DIR to "
    "a CSV folder (imported on demand), or download with `python -m analysis prices fetch {sym}` "
    "(needs network; ANALYSIS_OFFLINE must not be set)"
)
_OFFLINE_ALTERNATIVE = (
    "offline alternative: put {file} in a CSV folder and run `python -m analysis prices import "
    "DIR`, or set ANALYSIS_PRICES_DIR=DIR"
)
_PLAUSIBILITY_NOTE = "plausibility: "  # prefix of the notes of the plausibility checks (Yahoo path)
_YAHOO_FIELDS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}


# --------------------------------------------------------------------------------------------
# symbols and file names
# --------------------------------------------------------------------------------------------


def normalize_symbol(symbol: str) -> str:
    """Upper-case Yahoo symbol; a clear error for anything that cannot be one."""
    if not isinstance(symbol, str) or not symbol.strip():
        raise DataError(f"invalid symbol {symbol!r}: expected a Yahoo symbol such as 'NVDA'")
    sym = symbol.strip().upper()
    if not _SYMBOL_RE.match(sym):
        raise DataError(
            f"invalid symbol {symbol!r}: expected a Yahoo symbol such as 'NVDA', '^GSPC' or 'CNY=X'"
        )
    return sym


def symbol_to_filename(symbol: str) -> str:
    """File name of a symbol's CSV: ``^`` -> ``INDEX_``, ``=`` -> ``_`` (``^GSPC`` -> ``INDEX_GSPC.csv``)."""
    sym = normalize_symbol(symbol)
    return sym.replace("^", "INDEX_").replace("=", "_") + ".csv"


def filename_to_symbol(filename: str | os.PathLike[str]) -> str:
    """Inverse of :func:`symbol_to_filename` (``CNY_X.csv`` -> ``CNY=X``)."""
    stem = Path(filename).stem
    upper = stem.upper()
    sym = "^" + upper[len("INDEX_") :] if upper.startswith("INDEX_") else upper
    sym = sym.replace("_", "=")
    try:
        return normalize_symbol(sym)
    except DataError:
        raise DataError(
            f"file name {Path(filename).name!r} does not map to a Yahoo symbol (expected e.g. "
            "NVDA.csv, INDEX_GSPC.csv for ^GSPC, CNY_X.csv for CNY=X)"
        ) from None


def _stem(symbol: str) -> str:
    return symbol_to_filename(symbol)[: -len(".csv")]


def _as_date(value: Any, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise DataError(f"{what}: cannot read {value!r} as a date (use YYYY-MM-DD)") from None
    if ts is pd.NaT or pd.isna(ts):
        raise DataError(f"{what}: cannot read {value!r} as a date (use YYYY-MM-DD)")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("America/New_York").tz_localize(None)
    return ts.normalize()


def _fmt(ts: pd.Timestamp | None) -> str:
    return "open" if ts is None else ts.strftime("%Y-%m-%d")


# --------------------------------------------------------------------------------------------
# reports
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedSeries:
    """One series written to the cache."""

    symbol: str
    source: str
    first: str
    last: str
    rows: int
    sha256: str
    replaced: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkippedSeries:
    """A file or symbol that was not imported, and why."""

    name: str
    reason: str
    problems: tuple[str, ...] = ()

    def describe(self) -> str:
        listed = self.problems[:_MAX_LISTED_PROBLEMS]
        text = f"{self.name}: {self.reason}" + "".join(f"\n    - {p}" for p in listed)
        if len(self.problems) > len(listed):
            text += f"\n    - ... and {len(self.problems) - len(listed)} more problems"
        return text


@dataclass(frozen=True)
class ImportReport:
    """What an import or fetch did: series imported, and files/symbols skipped with reasons."""

    imported: tuple[ImportedSeries, ...] = ()
    skipped: tuple[SkippedSeries, ...] = ()
    source: str = ""

    @property
    def ok(self) -> bool:
        """True when nothing was skipped."""
        return not self.skipped

    @property
    def symbols(self) -> list[str]:
        return [s.symbol for s in self.imported]

    def summary(self) -> str:
        lines = [
            f"imported {len(self.imported)} series"
            + (f" from {self.source}" if self.source else "")
        ]
        if self.imported:
            frame = self.to_frame()[["symbol", "first", "last", "rows", "sha256"]].copy()
            frame["sha256"] = frame["sha256"].str[:12]
            lines.append(frame.to_string(index=False))
            for s in self.imported:
                lines.extend(f"  note {s.symbol}: {n}" for n in s.notes)
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)}:")
            lines.extend("  " + s.describe() for s in self.skipped)
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        cols = ["symbol", "first", "last", "rows", "source", "sha256", "replaced"]
        return pd.DataFrame([[getattr(s, c) for c in cols] for s in self.imported], columns=cols)

    def raise_if_skipped(self) -> ImportReport:
        """Raise a :class:`PriceSourceError` listing every skipped item; else return self."""
        if self.skipped:
            raise PriceSourceError(
                f"{len(self.skipped)} not imported:\n  "
                + "\n  ".join(s.describe() for s in self.skipped)
            )
        return self

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        import html

        parts = [f"<p>imported {len(self.imported)} series</p>"]
        if self.imported:
            parts.append(self.to_frame().to_html(index=False))
            notes = "".join(
                f"<li>{html.escape(s.symbol)}: {html.escape(n)}</li>"
                for s in self.imported
                for n in s.notes
            )
            if notes:
                parts.append(f"<p>notes:</p><ul>{notes}</ul>")
        if self.skipped:
            items = "".join(
                f"<li><pre>{html.escape(s.describe())}</pre></li>" for s in self.skipped
            )
            parts.append(f"<p>skipped {len(self.skipped)}:</p><ul>{items}</ul>")
        return "".join(parts)


# --------------------------------------------------------------------------------------------
# validation (shared by the CSV and Yahoo paths)
# --------------------------------------------------------------------------------------------


def _validate_values(frame: pd.DataFrame, where: Sequence[str]) -> list[str]:
    """Problems in a frame of numeric prices; ``where[i]`` names row i ("line 5", "2023-10-17")."""
    problems: list[tuple[int, str]] = []

    def not_finite(values: np.ndarray, col: str) -> np.ndarray:
        bad = np.isinf(values)
        for i in np.flatnonzero(bad):
            problems.append((i, f"{where[i]}: {col} is not a finite number ({float(values[i])!r})"))
        return bad

    for col in _PRICE_ONLY:
        values = frame[col].to_numpy(dtype="float64")
        for i in np.flatnonzero(np.isnan(values)):
            problems.append((i, f"{where[i]}: {col} is missing (NaN or empty)"))
        infinite = not_finite(values, col)
        for i in np.flatnonzero((values <= 0) & ~infinite):
            problems.append((i, f"{where[i]}: {col} is not positive ({float(values[i])!r})"))
    high = frame["high"].to_numpy(dtype="float64")
    low = frame["low"].to_numpy(dtype="float64")
    for i in np.flatnonzero((high < low) & np.isfinite(high) & np.isfinite(low)):
        problems.append((i, f"{where[i]}: high {float(high[i])!r} is below low {float(low[i])!r}"))
    vol = frame["volume"].to_numpy(dtype="float64")
    for i in np.flatnonzero(np.isnan(vol)):
        problems.append((i, f"{where[i]}: volume is missing (NaN or empty)"))
    infinite = not_finite(vol, "volume")
    for i in np.flatnonzero((vol < 0) & ~infinite):
        problems.append((i, f"{where[i]}: volume is negative ({float(vol[i])!r})"))
    frac = np.isfinite(vol) & (vol != np.round(vol))
    for i in np.flatnonzero(frac):
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


def _finish_frame(frame: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.DataFrame:
    out = frame.loc[:, list(PRICE_COLUMNS)].copy()
    for col in _PRICE_ONLY:
        out[col] = out[col].astype("float64")
    out["volume"] = out["volume"].astype("float64").round().astype("int64")
    out.index = pd.DatetimeIndex(dates).as_unit("ns")
    out.index.name = "date"
    out.columns.name = None
    return out


# --------------------------------------------------------------------------------------------
# CSV import
# --------------------------------------------------------------------------------------------


def _read_csv_file(path: Path, symbol: str) -> tuple[pd.DataFrame, list[str]]:
    """Parse and validate one CSV -> (frame, notes); ValidationError lists file + line of every
    problem."""
    label = path.name
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            rows: list[list[str]] = []
            lines: list[int] = []
            header: list[str] | None = None
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue
                if header is None:
                    header = [c.strip() for c in row]
                    continue
                rows.append(row)
                lines.append(reader.line_num)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValidationError(
            f"{path}: cannot read the file ({exc}); nothing imported for {symbol}"
        ) from None

    msg = f"{path}: not imported for {symbol}, fix the file and import again"
    if header is None:
        raise ValidationError(
            msg, [f"{label}: the file is empty (expected header {','.join(CSV_COLUMNS)})"]
        )
    missing = [c for c in CSV_COLUMNS if c not in header]
    extra = [c for c in header if c not in CSV_COLUMNS]
    problems: list[str] = []
    if missing:
        problems.append(
            f"{label} line 1: missing column(s) {', '.join(missing)} (header must be {','.join(CSV_COLUMNS)})"
        )
    if extra:
        problems.append(
            f"{label} line 1: unexpected column(s) {', '.join(repr(c) for c in extra)} (header must be exactly {','.join(CSV_COLUMNS)})"
        )
    dup_cols = sorted({c for c in header if header.count(c) > 1})
    if dup_cols:
        problems.append(f"{label} line 1: repeated column(s) {', '.join(dup_cols)}")
    if problems:
        raise ValidationError(msg, problems)
    if not rows:
        raise ValidationError(msg, [f"{label}: no data rows after the header"])

    width = len(header)
    where = [f"{label} line {n}" for n in lines]
    good: list[list[str]] = []
    good_where: list[str] = []
    for row, w in zip(rows, where, strict=True):
        if len(row) != width:
            problems.append(f"{w}: expected {width} fields, found {len(row)}")
        else:
            good.append([c.strip() for c in row])
            good_where.append(w)
    raw = pd.DataFrame(good, columns=header, dtype=object)

    dates = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    for i in np.flatnonzero(dates.isna().to_numpy()):
        problems.append(
            f"{good_where[i]}: date {raw['date'].iat[i]!r} is not a date (expected YYYY-MM-DD)"
        )
    numeric = pd.DataFrame(index=raw.index)
    for col in PRICE_COLUMNS:
        text = raw[col].astype(str)
        num = pd.to_numeric(text.where(text != "", None), errors="coerce")
        bad = (
            num.isna().to_numpy()
            & (text != "").to_numpy()
            & ~text.str.lower().isin(["nan", "null", "na"]).to_numpy()
        )
        for i in np.flatnonzero(bad):
            problems.append(f"{good_where[i]}: {col} {text.iat[i]!r} is not a number")
        numeric[col] = num.astype("float64")
    date_index = pd.DatetimeIndex(dates)
    found, notes = _validate_frame(symbol, numeric, date_index, good_where)
    problems.extend(found)
    if problems:
        raise ValidationError(msg, _sort_problems(problems))
    return _finish_frame(numeric, date_index), notes


def _sort_problems(problems: list[str]) -> list[str]:
    def key(p: str) -> tuple[int, str]:
        m = re.search(r" line (\d+)", p)
        return (int(m.group(1)) if m else 0, p)

    return sorted(problems, key=key)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_csv_file(path: str | os.PathLike[str], symbol: str | None = None) -> ImportedSeries:
    """Validate one CSV file and write it to the cache (replacing that symbol's series).

    The symbol defaults to the one the file name encodes (:func:`filename_to_symbol`). A bad file
    raises :class:`ValidationError` listing file and line of every problem; nothing is written.
    Rows worth a look that do not stop the import (a long gap, an open slightly outside the
    day's range) are in the result's ``notes`` and emitted as one :class:`PriceDataWarning`.
    """
    imported = _import_csv(path, symbol)
    _announce({imported.symbol: imported.notes})
    return imported


def _import_csv(path: str | os.PathLike[str], symbol: str | None = None) -> ImportedSeries:
    p = Path(path).expanduser().resolve()
    sym = normalize_symbol(symbol) if symbol is not None else filename_to_symbol(p)
    if not p.is_file():
        raise PriceSourceError(f"{sym}: CSV file {p} does not exist")
    frame, notes = _read_csv_file(p, sym)
    entry = {
        "source": f"csv:{p}",
        "source_sha256": _sha256_file(p),
        "yfinance_version": None,
        "splits": None,
    }
    return _write_series(sym, frame, entry, notes)


def _folder_files(root: Path) -> tuple[dict[str, Path], list[SkippedSeries]]:
    """The CSV of each symbol in ``root`` (names in any case: ``nvda.csv`` holds NVDA), and the
    files that name no symbol or a symbol another file already holds (first in sorted order)."""
    files = sorted(
        p
        for p in root.iterdir()
        if p.suffix.lower() == ".csv" and not p.name.startswith(".") and p.is_file()
    )
    by_symbol: dict[str, Path] = {}
    odd: list[SkippedSeries] = []
    for p in files:
        try:
            sym = filename_to_symbol(p)
        except DataError as exc:
            odd.append(SkippedSeries(p.name, str(exc)))
            continue
        if sym in by_symbol:
            odd.append(SkippedSeries(p.name, f"{by_symbol[sym].name} already holds {sym}"))
            continue
        by_symbol[sym] = p
    return by_symbol, odd


def _folder_csv(root: Path, symbol: str) -> Path | None:
    """The file of ``symbol`` in the CSV folder ``root`` (as ``prices import`` would pick it)."""
    exact = root / symbol_to_filename(symbol)
    try:
        by_symbol, _ = _folder_files(root)
    except OSError:
        return exact if exact.is_file() else None
    return by_symbol.get(symbol)


def import_csv_folder(
    folder: str | os.PathLike[str], symbols: Iterable[str] | None = None
) -> ImportReport:
    """Import every ``*.csv`` in ``folder`` (or only those of ``symbols``) into the cache.

    Each file is validated on its own: a bad file is skipped (its reasons, with line numbers, are in
    the report) and the others are imported. Files that are not CSV (``PROVENANCE.md``) are ignored.
    Notes on imported series are in the report and emitted as one :class:`PriceDataWarning`.
    """
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        raise PriceSourceError(f"price folder {root} does not exist or is not a folder")
    wanted = None if symbols is None else [normalize_symbol(s) for s in symbols]
    imported: list[ImportedSeries] = []
    skipped: list[SkippedSeries] = []
    try:
        by_symbol, odd = _folder_files(root)
    except OSError as exc:
        raise PriceSourceError(
            f"price folder {root} cannot be listed ({exc.strerror or exc})"
        ) from None
    if wanted is None:
        skipped += odd
        targets = list(by_symbol.items())
    else:
        skipped += [s for s in odd if "already holds" in s.reason]
        targets = []
        for sym in wanted:
            if sym in by_symbol:
                targets.append((sym, by_symbol[sym]))
            else:
                skipped.append(SkippedSeries(sym, f"no file {symbol_to_filename(sym)} in {root}"))
    if not targets and not skipped:
        raise PriceSourceError(
            f"no CSV files in {root} (expected files such as NVDA.csv with header {','.join(CSV_COLUMNS)})"
        )
    for sym, p in targets:
        try:
            imported.append(_import_csv(p, sym))
        except ValidationError as exc:
            skipped.append(SkippedSeries(p.name, str(exc).split("\n", 1)[0], tuple(exc.problems)))
        except _CacheUnwritable:
            raise  # the same for every file: one error, not one skip per file
        except DataError as exc:
            skipped.append(SkippedSeries(p.name, str(exc)))
    _announce({s.symbol: s.notes for s in imported})
    return ImportReport(tuple(imported), tuple(skipped), source=str(root))


# --------------------------------------------------------------------------------------------
# the cache
# --------------------------------------------------------------------------------------------

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_VERSIONED_PARQUET = re.compile(r"^[A-Z0-9^=._-]+\.[0-9a-f]{16}\.parquet$")
_TEMP_FILE = re.compile(r"^\.(manifest\.json|[^/]+\.parquet)\..+\.tmp$")
_WRITABLE_HINT = (
    "make the folder writable, or set ANALYSIS_CACHE_DIR to a writable folder (the price cache "
    "is rebuilt there by `python -m analysis prices import DIR`)"
)


class _CacheUnwritable(PriceSourceError):
    """The cache folder cannot be written: every further write would fail the same way."""


def _unwritable(folder: Path, what: str, exc: OSError) -> _CacheUnwritable:
    return _CacheUnwritable(
        f"cannot {what} in the price cache folder {folder} ({exc.strerror or exc}); "
        f"{_WRITABLE_HINT}; the cache is unchanged"
    )


def _redo(symbol: str) -> str:
    return (
        f"re-import {symbol} (`python -m analysis prices import DIR`, or `python -m analysis "
        f"prices fetch {symbol}`), which rewrites its entry and file"
    )


def _cache_root(create: bool = False) -> Path:
    root = config.cache_dir()
    if create:
        if root.exists() and not root.is_dir():
            raise PriceSourceError(
                f"the price cache folder {root} is a file, not a folder; set ANALYSIS_CACHE_DIR "
                "to a folder"
            )
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _unwritable(root.parent, f"create the folder {root.name}", exc) from None
    return root


@contextlib.contextmanager
def _locked(root: Path, exclusive: bool) -> Iterator[None]:
    """``fcntl.flock`` on ``<cache>/.manifest.lock``: exclusive for writers, shared for readers.

    A reader that cannot open the lock file (a read-only cache) reads without it.
    """
    if not exclusive and not root.is_dir():
        yield
        return
    lock_path = root / _LOCK_NAME
    try:
        fh = open(lock_path, "a+")  # noqa: SIM115 - closed in finally
    except OSError as exc:
        if exclusive:
            raise _unwritable(root, f"create the lock file {_LOCK_NAME}", exc) from None
        try:
            fh = open(lock_path)  # noqa: SIM115 - closed in finally
        except OSError:
            yield
            return
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file in ``path``'s folder, fsync, then ``os.replace`` onto ``path``."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _unwritable(path.parent, f"write {path.name}", exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _CacheUnwritable(
                f"could not write {path}: {exc}; the previous file is unchanged; free space or "
                f"{_WRITABLE_HINT}"
            ) from None
        raise


def _read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST_NAME
    if not path.exists():
        return {"version": _MANIFEST_VERSION, "series": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PriceSourceError(
            f"price cache manifest {path} is unreadable ({exc}); delete the cache folder {root} "
            "and re-import (`python -m analysis prices import DIR`)"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("series"), dict):
        raise PriceSourceError(
            f"price cache manifest {path} has no 'series' table; delete the cache folder {root} "
            "and re-import (`python -m analysis prices import DIR`)"
        )
    return data


def _is_cache_file_name(value: Any) -> bool:
    """A bare ``*.parquet`` name: no folder part, no ``..``, not absolute, not hidden."""
    return (
        isinstance(value, str)
        and value.endswith(".parquet")
        and not value.startswith(".")
        and "/" not in value
        and "\\" not in value
        and "\x00" not in value
        and Path(value).name == value
    )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_iso_date(value: Any) -> bool:
    if not (isinstance(value, str) and _ISO_DATE.match(value)):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _is_ratio(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _bad_split(value: Any) -> str | None:
    """What is wrong with a manifest's ``splits`` list (None when it is fine)."""
    if value is None:
        return None
    if not isinstance(value, list):
        return "expected a list of {date, ratio} or null"
    for k, item in enumerate(value):
        if not isinstance(item, dict) or not _is_iso_date(item.get("date")):
            return f"item {k}: expected a date YYYY-MM-DD"
        if not _is_ratio(item.get("ratio")):
            return f"item {k} ({item.get('date')}): ratio {item.get('ratio')!r} is not a positive number"
    return None


def _check_entry(root: Path, symbol: str, entry: Any) -> dict[str, Any]:
    """A manifest entry with every field checked; :class:`PriceSourceError` naming the manifest,
    the symbol, the field and what to do otherwise."""
    where = f"price cache manifest {root / MANIFEST_NAME}"
    try:
        ok_key = normalize_symbol(symbol) == symbol
    except DataError:
        ok_key = False
    if not ok_key:
        raise PriceSourceError(
            f"{where}: {symbol!r} is not a symbol (expected e.g. 'NVDA'); delete the cache "
            f"folder {root} and re-import (`python -m analysis prices import DIR`)"
        )
    if not isinstance(entry, dict):
        raise PriceSourceError(
            f"{where}: the entry of {symbol} is {entry!r}, not a table of fields; the cached "
            f"series is not used; {_redo(symbol)}"
        )
    checks: list[tuple[str, Callable[[Any], bool], str]] = [
        ("file", _is_cache_file_name, "a parquet file name inside the cache folder"),
        ("sha256", lambda v: isinstance(v, str) and bool(_HEX64.match(v)), "64 hex digits"),
        ("rows", _is_count, "a positive whole number"),
        ("first", _is_iso_date, "a date YYYY-MM-DD"),
        ("last", _is_iso_date, "a date YYYY-MM-DD"),
        ("source", lambda v: isinstance(v, str) and bool(v), "'yahoo' or 'csv:<file>'"),
    ]
    for name, ok, expected in checks:
        value = entry.get(name, _stem(symbol) + ".parquet" if name == "file" else None)
        if name not in entry and name != "file":
            problem = f"has no field {name!r} (expected {expected})"
        elif ok(value):
            continue
        elif name == "file" and isinstance(value, str):
            problem = (
                f"field 'file' is {value!r}, which is not a file name inside the cache folder "
                f"{root} (paths outside it are refused)"
            )
        else:
            problem = f"field {name!r} is {value!r} (expected {expected})"
        raise PriceSourceError(
            f"{where}: {symbol} {problem}; the cached series is not used; {_redo(symbol)}"
        )
    if entry["last"] < entry["first"]:
        raise PriceSourceError(
            f"{where}: {symbol} field 'last' {entry['last']} is before 'first' {entry['first']}; "
            f"the cached series is not used; {_redo(symbol)}"
        )
    if (why := _bad_split(entry.get("splits"))) is not None:
        raise PriceSourceError(
            f"{where}: {symbol} field 'splits' is {entry.get('splits')!r} ({why}); the cached "
            f"series is not used; {_redo(symbol)}"
        )
    return {**entry, "file": entry.get("file", _stem(symbol) + ".parquet")}


def _write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    _atomic_write_bytes(root / MANIFEST_NAME, text.encode("utf-8"))


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame.reset_index(), preserve_index=False)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _sweep(root: Path, manifest: dict[str, Any], symbol: str) -> None:
    """Delete what a killed writer or a replaced series left behind (under the exclusive lock):
    temp files, content-named parquet files no entry lists, and ``symbol``'s unlisted legacy
    file ``<stem>.parquet``."""
    listed = {e.get("file") for e in manifest["series"].values() if isinstance(e, dict)}
    legacy = _stem(symbol) + ".parquet"
    try:
        names = [p.name for p in root.iterdir()]
    except OSError:
        return
    for name in names:
        stale = _TEMP_FILE.match(name) or (
            (name == legacy or _VERSIONED_PARQUET.match(name)) and name not in listed
        )
        if stale:
            with contextlib.suppress(OSError):
                (root / name).unlink()


def _write_series(
    symbol: str, frame: pd.DataFrame, entry: dict[str, Any], notes: Sequence[str] = ()
) -> ImportedSeries:
    """Write one validated series + its manifest entry under the exclusive lock.

    The parquet goes to a new, content-named file; then the manifest is replaced (atomically)
    to point at it; only then is the previous file deleted. Killed at any step, the manifest
    lists intact files only (the series is then either the old one or the new one).
    """
    root = _cache_root(create=True)
    data = _parquet_bytes(frame)
    sha = hashlib.sha256(data).hexdigest()
    file_name = f"{_stem(symbol)}.{sha[:16]}.parquet"
    full = {
        **entry,
        "file": file_name,
        "retrieved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "first": _fmt(frame.index[0]),
        "last": _fmt(frame.index[-1]),
        "rows": len(frame),
        "sha256": sha,
    }
    with _locked(root, exclusive=True):
        manifest = _read_manifest(root)
        _sweep(root, manifest, symbol)
        replaced = symbol in manifest["series"]
        _atomic_write_bytes(root / file_name, data)
        manifest["series"][symbol] = full
        manifest["version"] = _MANIFEST_VERSION
        _write_manifest(root, manifest)
        _sweep(root, manifest, symbol)
    return ImportedSeries(
        symbol,
        full["source"],
        full["first"],
        full["last"],
        full["rows"],
        sha,
        replaced,
        tuple(notes),
    )


def _manifest_entry(symbol: str) -> dict[str, Any] | None:
    """The checked manifest entry of ``symbol``, or None when it is not cached."""
    root = _cache_root()
    if not (root / MANIFEST_NAME).exists():
        return None
    with _locked(root, exclusive=False):
        raw = _read_manifest(root)["series"].get(symbol)
    return None if raw is None else _check_entry(root, symbol, raw)


def _read_cached(symbol: str) -> pd.DataFrame | None:
    """The cached series, sha256-checked against the manifest; None when not cached."""
    import pyarrow.parquet as pq

    root = _cache_root()
    if not (root / MANIFEST_NAME).exists():
        return None
    with _locked(root, exclusive=False):
        raw = _read_manifest(root)["series"].get(symbol)
        if raw is None:
            return None
        entry = _check_entry(root, symbol, raw)
        path = root / entry["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PriceSourceError(
                f"{symbol}: cached file {path} is listed in the manifest but cannot be read "
                f"({exc.strerror or exc}); {_redo(symbol)}"
            ) from None
    sha = hashlib.sha256(data).hexdigest()
    if sha != entry["sha256"]:
        raise PriceSourceError(
            f"{symbol}: cached file {path} does not match its manifest checksum (sha256 "
            f"{sha[:12]}... vs {entry['sha256'][:12]}... recorded); the file was changed "
            f"or damaged, so it is not used; {_redo(symbol)}"
        )
    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise PriceSourceError(
            f"{symbol}: cached file {path} is not valid parquet ({exc}); {_redo(symbol)}"
        ) from None
    return _cached_frame(symbol, path, table.to_pandas(), entry)


def _cached_frame(symbol: str, path: Path, df: pd.DataFrame, entry: dict[str, Any]) -> pd.DataFrame:
    """The frame of a checksum-verified parquet, checked against the layout and its entry."""
    expected = ["date", *PRICE_COLUMNS]
    cols = [str(c) for c in df.columns]
    if sorted(cols) != sorted(expected):
        missing = [c for c in expected if c not in cols]
        extra = [c for c in cols if c not in expected]
        raise PriceSourceError(
            f"{symbol}: cached file {path} matches its checksum but has the wrong columns "
            f"(missing: {', '.join(missing) or 'none'}; unexpected: {', '.join(extra) or 'none'};"
            f" expected {','.join(expected)}); it is not used; {_redo(symbol)}"
        )
    try:
        dates = pd.DatetimeIndex(pd.to_datetime(df.pop("date")))
        frame = _finish_frame(df, dates)
    except (ValueError, TypeError, OverflowError) as exc:
        raise PriceSourceError(
            f"{symbol}: cached file {path} holds values that are not prices ({exc}); it is not "
            f"used; {_redo(symbol)}"
        ) from None
    got = (
        len(frame),
        _fmt(frame.index[0]) if len(frame) else "none",
        _fmt(frame.index[-1]) if len(frame) else "none",
    )
    want = (entry["rows"], entry["first"], entry["last"])
    if got != want:
        raise PriceSourceError(
            f"{symbol}: cached file {path} holds {got[0]} rows from {got[1]} to {got[2]}, but "
            f"its manifest entry says {want[0]} rows from {want[1]} to {want[2]}; it is not "
            f"used; {_redo(symbol)}"
        )
    return frame


def cache_manifest() -> pd.DataFrame:
    """What the cache holds: symbol, first, last, rows, source, sha256, retrieved_at (by symbol).

    Every entry is checked; a malformed one is a :class:`PriceSourceError` naming it.
    """
    root = _cache_root()
    if not (root / MANIFEST_NAME).exists():
        return pd.DataFrame(columns=_MANIFEST_COLUMNS)
    with _locked(root, exclusive=False):
        series = _read_manifest(root)["series"]
    checked = {sym: _check_entry(root, sym, e) for sym, e in series.items()}
    rows = [[sym] + [e.get(c) for c in _MANIFEST_COLUMNS[1:]] for sym, e in checked.items()]
    frame = pd.DataFrame(rows, columns=_MANIFEST_COLUMNS).sort_values("symbol", ignore_index=True)
    frame["rows"] = frame["rows"].astype("int64")
    return frame


def series_info(symbols: str | Iterable[str]) -> pd.DataFrame:
    """:func:`cache_manifest` rows for ``symbols`` (in the order given); uncached symbols raise."""
    syms = _symbol_list(symbols)
    manifest = cache_manifest().set_index("symbol")
    missing = [s for s in syms if s not in manifest.index]
    if missing:
        raise PriceSourceError(
            f"not in the price cache {_cache_root()}: {', '.join(missing)}; load them first "
            f"(load_history) or " + _HOW_TO_GET.format(sym=" ".join(missing))
        )
    return manifest.loc[syms].reset_index()


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------


def _sessions(lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DatetimeIndex:
    """NYSE sessions in [lo, hi] (:mod:`analysis.data.calendar`; weekdays outside its range)."""
    return nyse_sessions(lo, hi)


def _check_range(
    symbol: str, frame: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> None:
    first, last = frame.index[0], frame.index[-1]
    gaps = []
    if start is not None and start < first:
        missing = _sessions(start, first - pd.Timedelta(days=1))
        if len(missing):
            gaps.append(f"{len(missing)} NYSE session(s) before {_fmt(first)}")
    if end is not None and end > last:
        missing = _sessions(last + pd.Timedelta(days=1), end)
        if len(missing):
            gaps.append(f"{len(missing)} NYSE session(s) after {_fmt(last)}")
    if gaps:
        entry = _manifest_entry(symbol) or {}
        raise DataError(
            f"{symbol}: requested {_fmt(start)} to {_fmt(end)} but the cached series covers only "
            f"{_fmt(first)} to {_fmt(last)} ({'; '.join(gaps)} missing; source "
            f"{entry.get('source', '?')}); narrow the range, or re-import/fetch a longer series "
            f"(`python -m analysis prices fetch {symbol} --start {_fmt(start) if start is not None else _fmt(first)} "
            f"--end {_fmt(end) if end is not None else _fmt(last)}`)"
        )


def load_history(symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
    """Daily OHLCV of ``symbol`` from ``start`` to ``end`` (both inclusive, either may be None).

    Order: cache; else the CSV of ``ANALYSIS_PRICES_DIR`` (imported on demand); else Yahoo (unless
    ``ANALYSIS_OFFLINE``); else :class:`PriceSourceError`. With ``ANALYSIS_PRICES_DIR`` set, a
    series cached from a CSV is imported again when that folder's file for the symbol differs
    from the one imported (edited since, or the variable now names another folder). A range
    outside the cached one is a :class:`DataError` naming the symbol and its own first and last
    date (never a silently shorter frame); NYSE non-sessions at the edges are allowed.
    """
    sym = normalize_symbol(symbol)
    lo = _as_date(start, f"{sym} start") if start is not None else None
    hi = _as_date(end, f"{sym} end") if end is not None else None
    if lo is not None and hi is not None and hi < lo:
        raise DataError(f"{sym}: end {_fmt(hi)} is before start {_fmt(lo)}")
    frame = _read_cached(sym)
    if frame is not None and (changed := _changed_csv_source(sym)) is not None:
        # the CSV this series was imported from has changed since: import the new version
        import_csv_file(changed, sym)
        frame = _read_cached(sym)
    if frame is None:
        frame = _load_uncached(sym, lo, hi)
    _check_range(sym, frame, lo, hi)
    return frame.loc[lo:hi].copy()


def _changed_csv_source(sym: str) -> Path | None:
    """In on-demand mode (``ANALYSIS_PRICES_DIR``), the folder's CSV of a series cached from a
    CSV, when its bytes differ from the file imported: the same file edited since, or the file
    of another folder the variable now names. None otherwise (not on demand, cached from Yahoo,
    no such file in the folder, or the same bytes)."""
    folder = config.prices_dir()
    if folder is None:  # only in on-demand mode; an explicit `prices import` is the user's call
        return None
    entry = _manifest_entry(sym) or {}
    source = str(entry.get("source", ""))
    recorded = entry.get("source_sha256")
    if not source.startswith("csv:") or not recorded:
        return None
    path = _folder_csv(folder, sym)
    if path is None:
        return None  # the folder has no file for it: the cache is what the user has
    try:
        current = _sha256_file(path)
    except OSError:
        return None
    return path.resolve() if current != recorded else None


def _load_uncached(sym: str, lo: pd.Timestamp | None, hi: pd.Timestamp | None) -> pd.DataFrame:
    folder = config.prices_dir()
    tried = [f"cache {_cache_root()}"]
    if folder is not None:
        path = _folder_csv(folder, sym)
        if path is not None:
            import_csv_file(path, sym)
            frame = _read_cached(sym)
            assert frame is not None
            return frame
        tried.append(f"ANALYSIS_PRICES_DIR {folder} (no file {symbol_to_filename(sym)})")
    if not config.offline():
        report = fetch_yahoo([sym], lo, hi)
        if report.skipped:
            raise PriceSourceError(report.skipped[0].describe())
        frame = _read_cached(sym)
        assert frame is not None
        return frame
    tried.append("Yahoo (not contacted: ANALYSIS_OFFLINE is set)")
    raise PriceSourceError(
        f"no prices for {sym}: tried {'; '.join(tried)}. To get them: "
        + _HOW_TO_GET.format(sym=sym)
        + f"; the CSV must be named {symbol_to_filename(sym)}"
    )


def _symbol_list(symbols: str | Iterable[str]) -> list[str]:
    if isinstance(symbols, str):
        syms = [normalize_symbol(symbols)]
    elif isinstance(symbols, Iterable) and not isinstance(symbols, bytes | dict):
        syms = [normalize_symbol(s) for s in symbols]
    else:
        raise DataError(
            "symbols must be a symbol such as 'NVDA' or a list of symbols such as "
            f"['NVDA', 'AMD'], got {symbols!r}"
        )
    if not syms:
        raise DataError("no symbols given")
    dup = sorted({s for s in syms if syms.count(s) > 1})
    if dup:
        raise DataError(f"symbol(s) listed more than once: {', '.join(dup)}")
    return syms


def _panel(field_name: str, symbols: str | Iterable[str], start: Any, end: Any) -> pd.DataFrame:
    syms = _symbol_list(symbols)
    cols = {s: load_history(s, start, end)[field_name] for s in syms}
    out = pd.concat(cols, axis=1, join="outer", sort=True)
    out = out.reindex(columns=syms)
    out.index.name = "date"
    out.columns.name = "symbol"
    return out


def adj_close(symbols: str | Iterable[str], start: Any = None, end: Any = None) -> pd.DataFrame:
    """Split- and dividend-adjusted closes, date x symbol (columns in the order given).

    Dates are the union over symbols; a symbol without a row on a date is NaN (never filled).
    """
    return _panel("adj_close", symbols, start, end)


def close(symbols: str | Iterable[str], start: Any = None, end: Any = None) -> pd.DataFrame:
    """Closes as the source gives them (Yahoo: split-adjusted only), date x symbol; NaN not filled."""
    return _panel("close", symbols, start, end)


# --------------------------------------------------------------------------------------------
# splits
# --------------------------------------------------------------------------------------------

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
    yahoo = entry.get("splits") if entry else None
    if yahoo is None:
        return mine
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
    d = _as_date(date, f"{sym} split_factor date")
    table = splits(sym)
    later = table[table["date"] > d]
    return float(np.prod(later["ratio"].to_numpy())) if len(later) else 1.0


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
    d = _as_date(date, f"{sym} quote date")
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


def _split_table_arrays(sym: str) -> tuple[list[pd.Timestamp], list[float]]:
    t = splits(sym)
    return list(t["date"]), list(t["ratio"].astype(float))


# --------------------------------------------------------------------------------------------
# Yahoo (yfinance)
# --------------------------------------------------------------------------------------------


class _YFErrorCapture(logging.Handler):
    """Collects the per-symbol errors yfinance logs (``['NVDA']: <error>``) instead of raising."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.messages.append(record.getMessage())

    def causes(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for msg in self.messages:
            m = re.match(r"^\s*\[([^\]]*)\]:\s*(.*)$", msg, re.S)
            if not m:
                continue
            for sym in re.findall(r"'([^']+)'", m.group(1)):
                out[sym.upper()] = m.group(2).strip()
        return out


def _is_rate_limit(text: str, exc: BaseException | None = None) -> bool:
    if exc is not None and type(exc).__name__ == "YFRateLimitError":
        return True
    t = text.lower()
    return "rate limit" in t or "ratelimit" in t or "too many requests" in t


@dataclass
class _Attempt:
    frame: pd.DataFrame | None = None
    causes: dict[str, str] = field(default_factory=dict)
    error: BaseException | None = None


def _download(
    yf: Any, symbols: list[str], start: pd.Timestamp | None, end: pd.Timestamp | None
) -> _Attempt:
    logger = logging.getLogger("yfinance")
    capture = _YFErrorCapture()
    logger.addHandler(capture)
    kwargs: dict[str, Any] = {
        "auto_adjust": False,
        "actions": True,
        "progress": False,
        "group_by": "column",
        "threads": False,
        "multi_level_index": True,
    }
    if start is None and end is None:
        kwargs["period"] = "max"
    else:
        kwargs["start"] = None if start is None else _fmt(start)
        # yfinance's end is exclusive; ours is inclusive
        kwargs["end"] = None if end is None else _fmt(end + pd.Timedelta(days=1))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")
            frame = yf.download(symbols, **kwargs)
        attempt = _Attempt(frame=frame)
    except Exception as exc:  # yfinance may raise anything from its HTTP stack
        attempt = _Attempt(error=exc)
    finally:
        logger.removeHandler(capture)
    attempt.causes = capture.causes()
    shared = getattr(getattr(yf, "shared", None), "_ERRORS", None)
    if isinstance(shared, dict):  # older yfinance recorded errors here; 1.7 only logs them
        for k, v in shared.items():
            attempt.causes.setdefault(str(k).upper(), str(v))
    return attempt


def _symbol_frame(frame: pd.DataFrame, sym: str) -> pd.DataFrame | None:
    """One symbol's columns from yfinance's (Price, Ticker) or (Ticker, Price) layout."""
    if frame is None or frame.empty:
        return None
    cols = frame.columns
    if isinstance(cols, pd.MultiIndex):
        for level in range(cols.nlevels):
            if sym in cols.get_level_values(level):
                sub = frame.xs(sym, axis=1, level=level)
                return sub if isinstance(sub, pd.DataFrame) else None
        return None
    return frame  # single symbol without a ticker level


def _yahoo_frame(
    sym: str,
    sub: pd.DataFrame,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    allow_partial: bool,
) -> tuple[pd.DataFrame | None, str | None, tuple[str, ...], list[str], list[dict]]:
    """Validate one symbol's yfinance columns -> (frame, reason, problems, notes, splits)."""
    missing = [c for c in _YAHOO_FIELDS if c not in sub.columns]
    if missing:
        return None, f"Yahoo's answer lacks column(s) {', '.join(missing)}", (), [], []
    prices = sub[list(_YAHOO_FIELDS)].rename(columns=_YAHOO_FIELDS)
    prices = prices.apply(pd.to_numeric, errors="coerce")
    idx = pd.DatetimeIndex(sub.index)
    if idx.tz is not None:
        idx = idx.tz_convert("America/New_York").tz_localize(None)
    prices.index = idx.normalize()
    all_nan = prices[list(_PRICE_ONLY)].isna().all(axis=1)
    prices = prices[
        ~all_nan.to_numpy()
    ]  # rows another symbol has (yfinance reindexes to the union)
    notes: list[str] = []
    today = pd.Timestamp.now(tz="America/New_York").tz_localize(None).normalize()
    if len(prices) and prices.index[-1] >= today:
        notes.append(
            f"dropped the row dated {_fmt(prices.index[-1])}: the session may not be closed"
        )
        prices = prices[prices.index < today]
    if prices.empty:
        return None, "Yahoo returned no rows (all prices NaN or none at all)", (), notes, []
    where = [f"{d:%Y-%m-%d}" for d in prices.index]
    first, last = prices.index[0], prices.index[-1]
    split_list: list[dict] = []
    if "Stock Splits" in sub.columns:
        s = pd.to_numeric(sub["Stock Splits"], errors="coerce")
        s.index = idx.normalize()
        s = s[(s.fillna(0) != 0) & (s.index <= last)]
        split_list = [{"date": _fmt(d), "ratio": float(r)} for d, r in s.items()]
    problems, checks = _validate_frame(
        sym, prices, pd.DatetimeIndex(prices.index), where, yahoo_splits=split_list
    )
    if problems:
        ordered = sorted(problems, key=lambda p: p[:10])  # each starts with its row's date
        return None, "Yahoo's rows failed validation", tuple(ordered), notes, []
    notes.extend(f"{_PLAUSIBILITY_NOTE}{c}" for c in checks)
    gaps = []
    if start is not None and len(_sessions(start, first - pd.Timedelta(days=1))):
        gaps.append(f"starts {_fmt(first)}, after the requested start {_fmt(start)}")
    stop = (
        min(end, today - pd.Timedelta(days=1)) if end is not None else today - pd.Timedelta(days=1)
    )
    if end is not None and len(_sessions(last + pd.Timedelta(days=1), stop)):
        gaps.append(f"ends {_fmt(last)}, before the requested end {_fmt(end)}")
    jumps = np.diff(prices.index.values).astype("timedelta64[D]").astype(int)
    for i in np.flatnonzero(jumps > 10):
        gaps.append(f"no rows from {where[i]} to {where[i + 1]}")
    if gaps and not allow_partial:
        return None, "Yahoo returned a partial series (" + "; ".join(gaps) + ")", (), notes, []
    notes.extend(f"partial: {g}" for g in gaps)
    return _finish_frame(prices, pd.DatetimeIndex(prices.index)), None, (), notes, split_list


def fetch_yahoo(
    symbols: str | Iterable[str],
    start: Any = None,
    end: Any = None,
    *,
    max_retries: int = 3,
    backoff: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    allow_partial: bool = False,
) -> ImportReport:
    """Download daily prices from Yahoo (yfinance, ``auto_adjust=False``) into the cache.

    ``end`` is inclusive. yfinance returns an empty or NaN frame instead of raising when the
    network, the symbol or Yahoo fails; each such symbol is reported as skipped with the cause
    yfinance logged, and its cached series (if any) is left untouched. Rate limits are retried up
    to ``max_retries`` times, sleeping ``backoff * 2**k`` seconds (``sleep`` is injectable).
    """
    syms = _symbol_list(symbols)
    lo = _as_date(start, "fetch start") if start is not None else None
    hi = _as_date(end, "fetch end") if end is not None else None
    if lo is not None and hi is not None and hi < lo:
        raise DataError(f"fetch {', '.join(syms)}: end {_fmt(hi)} is before start {_fmt(lo)}")
    if config.offline():
        raise PriceSourceError(
            f"not downloading {', '.join(syms)} from Yahoo: ANALYSIS_OFFLINE is set (no network "
            "calls). Unset it to fetch; "
            + _OFFLINE_ALTERNATIVE.format(file=", ".join(symbol_to_filename(s) for s in syms))
        )
    import yfinance as yf

    version = getattr(yf, "__version__", None) or getattr(
        getattr(yf, "version", None), "version", "unknown"
    )
    imported: list[ImportedSeries] = []
    skipped: list[SkippedSeries] = []
    pending = list(syms)
    attempt_no = 0
    while pending:
        attempt = _download(yf, pending, lo, hi)
        retry: list[str] = []
        for sym in pending:
            offline_hint = _OFFLINE_ALTERNATIVE.format(file=symbol_to_filename(sym))
            cause = attempt.causes.get(sym)
            if attempt.error is not None:
                cause = f"{type(attempt.error).__name__}: {attempt.error}"
            if cause and _is_rate_limit(cause, attempt.error):
                retry.append(sym)
                continue
            sub = None if attempt.frame is None else _symbol_frame(attempt.frame, sym)
            if sub is None:
                why = (
                    "Yahoo returned no data"
                    if attempt.frame is None or attempt.frame.empty
                    else "symbol missing from Yahoo's answer"
                )
                skipped.append(
                    SkippedSeries(
                        sym,
                        f"{why} (yfinance: {cause or 'no cause recorded'}); cache unchanged; {offline_hint}",
                    )
                )
                continue
            frame, reason, problems, notes, split_list = _yahoo_frame(
                sym, sub, lo, hi, allow_partial
            )
            if frame is None:
                skipped.append(
                    SkippedSeries(
                        sym,
                        f"{reason} (yfinance: {cause or 'no cause recorded'}); cache unchanged; {offline_hint}",
                        problems,
                    )
                )
                continue
            entry = {
                "source": "yahoo",
                "source_sha256": None,
                "yfinance_version": str(version),
                "splits": split_list,
            }
            imported.append(_write_series(sym, frame, entry, notes))
        if retry and attempt_no < max_retries:
            sleep(backoff * (2**attempt_no))
            attempt_no += 1
            pending = retry
            continue
        for sym in retry:
            skipped.append(
                SkippedSeries(
                    sym,
                    f"rate limited by Yahoo (Too Many Requests) after {attempt_no + 1} attempt(s); "
                    f"cache unchanged; wait and retry, or "
                    + _OFFLINE_ALTERNATIVE.format(file=symbol_to_filename(sym)),
                )
            )
        pending = []
    _announce(
        {
            s.symbol: [
                n[len(_PLAUSIBILITY_NOTE) :] for n in s.notes if n.startswith(_PLAUSIBILITY_NOTE)
            ]
            for s in imported
        }
    )
    order = {s: i for i, s in enumerate(syms)}
    return ImportReport(
        tuple(sorted(imported, key=lambda s: order[s.symbol])),
        tuple(sorted(skipped, key=lambda s: order.get(s.name, 0))),
        source="yahoo",
    )
