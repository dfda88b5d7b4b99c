"""Yahoo symbols and the CSV file names that hold them."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from analysis.errors import DataError

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
