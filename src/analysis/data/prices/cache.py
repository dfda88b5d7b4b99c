"""The local price cache: manifest, content-named parquet files, their checks, and the lock."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock
import pandas as pd

from analysis import config
from analysis._io import TempFileError, atomic_write_bytes
from analysis.data.dates import iso_date_problem
from analysis.data.prices.layout import PRICE_COLUMNS, _finish_frame, _fmt
from analysis.data.prices.report import ImportedSeries
from analysis.data.prices.symbols import _HOW_TO_GET, _stem, _symbol_list, normalize_symbol
from analysis.errors import CacheUnwritable, DataError, PriceSourceError

MANIFEST_NAME = "manifest.json"
_LOCK_NAME = ".manifest.lock"
_MANIFEST_VERSION = 1
_MANIFEST_COLUMNS = ["symbol", "first", "last", "rows", "source", "sha256", "retrieved_at"]


_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_VERSIONED_PARQUET = re.compile(r"^[A-Z0-9^=._-]+\.[0-9a-f]{16}\.parquet$")
_TEMP_FILE = re.compile(r"^\.(manifest\.json|[^/]+\.parquet)\..+\.tmp$")
_WRITABLE_HINT = (
    "make the folder writable, or set ANALYSIS_CACHE_DIR to a writable folder (the price cache "
    "is rebuilt there by `python -m analysis prices import DIR`)"
)


def _unwritable(folder: Path, what: str, exc: OSError) -> CacheUnwritable:
    return CacheUnwritable(
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
    """A :class:`filelock.FileLock` on ``<cache>/.manifest.lock`` around a read or a write.

    Writers fail with :class:`CacheUnwritable` when the lock file cannot be created; a reader
    that cannot create it (a read-only cache) reads without the lock. Readers take the same
    exclusive lock as writers (a read is short), so no reader sees a write half done.
    """
    if not exclusive and not root.is_dir():
        yield
        return
    lock = filelock.FileLock(root / _LOCK_NAME)
    try:
        lock.acquire()
    except OSError as exc:
        if exclusive:
            raise _unwritable(root, f"create the lock file {_LOCK_NAME}", exc) from None
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """:func:`analysis._io.atomic_write_bytes` (fsync'ed) with the cache's error messages."""
    try:
        atomic_write_bytes(path, data, fsync=True)
    except TempFileError as exc:
        raise _unwritable(path.parent, f"write {path.name}", exc) from None
    except OSError as exc:
        raise CacheUnwritable(
            f"could not write {path}: {exc}; the previous file is unchanged; free space or "
            f"{_WRITABLE_HINT}"
        ) from None


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
    return isinstance(value, str) and iso_date_problem(value) is None


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
