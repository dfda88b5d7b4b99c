"""Loading series and panels: cache first, then the CSV folder, then Yahoo."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import config
from analysis.data.dates import parse_date
from analysis.data.prices.cache import _cache_root, _manifest_entry, _read_cached
from analysis.data.prices.checks import nyse_sessions
from analysis.data.prices.csv_import import _folder_csv, _sha256_file, import_csv_file
from analysis.data.prices.layout import _fmt
from analysis.data.prices.symbols import (
    _HOW_TO_GET,
    _symbol_list,
    normalize_symbol,
    symbol_to_filename,
)
from analysis.data.prices.yahoo import fetch_yahoo
from analysis.errors import DataError, PriceSourceError


def _check_range(
    symbol: str, frame: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> None:
    first, last = frame.index[0], frame.index[-1]
    gaps = []
    if start is not None and start < first:
        missing = nyse_sessions(start, first - pd.Timedelta(days=1))
        if len(missing):
            gaps.append(f"{len(missing)} NYSE session(s) before {_fmt(first)}")
    if end is not None and end > last:
        missing = nyse_sessions(last + pd.Timedelta(days=1), end)
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
    lo = parse_date(start, f"{sym} start") if start is not None else None
    hi = parse_date(end, f"{sym} end") if end is not None else None
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


def volume(symbols: str | Iterable[str], start: Any = None, end: Any = None) -> pd.DataFrame:
    """Shares traded per session, date x symbol (columns in the order given), as the source
    gives them (Yahoo: split-adjusted, like ``close``; an index or FX series may report 0).

    Dates are the union over symbols; a symbol without a row on a date is NaN (never filled), so
    the panel is float64 whenever a symbol lacks a date.
    """
    return _panel("volume", symbols, start, end)
