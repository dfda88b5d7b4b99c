"""Importing CSV files and folders of daily prices into the cache."""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data.prices.cache import _write_series
from analysis.data.prices.layout import CSV_COLUMNS, PRICE_COLUMNS, _finish_frame
from analysis.data.prices.report import ImportedSeries, ImportReport, SkippedSeries
from analysis.data.prices.symbols import filename_to_symbol, normalize_symbol, symbol_to_filename
from analysis.data.prices.validate import _announce, _validate_frame
from analysis.errors import CacheUnwritable, DataError, PriceSourceError, ValidationError


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
        except CacheUnwritable:
            raise  # the same for every file: one error, not one skip per file
        except DataError as exc:
            skipped.append(SkippedSeries(p.name, str(exc)))
    _announce({s.symbol: s.notes for s in imported})
    return ImportReport(tuple(imported), tuple(skipped), source=str(root))
