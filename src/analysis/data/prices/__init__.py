"""Daily prices: sources (a CSV folder, Yahoo via yfinance), a validated local cache, and splits.

The public API of the package; each part lives in its own module: :mod:`.symbols` (symbols and
file names), :mod:`.layout` (columns and dtypes), :mod:`.validate` and :mod:`.checks` (basic and
plausibility checks), :mod:`.csv_import`, :mod:`.yahoo`, :mod:`.cache` (manifest, files, lock),
:mod:`.load` (series and panels), :mod:`.splits` and :mod:`.quotes` (quoted units), :mod:`.report`.

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
* Plausibility (:mod:`analysis.data.prices.checks`, the same for a CSV file and a Yahoo answer): no
  value may be missing, non-finite or non-positive; dates must be NYSE sessions (FX and futures
  symbols with ``=`` excepted) and not in the future; the close must lie within the day's
  low..high (FX excepted); one-day spikes in ``adj_close`` and split-unadjusted closes are
  refused, each with file, line, date and values. Gaps of more than 10 sessions and an open
  slightly outside low..high are imported with a :class:`PriceDataWarning` listing the rows.
* The cache (``config.cache_dir()``) holds one parquet per symbol, named after its content
  (``NVDA.<sha256 prefix>.parquet``), and ``manifest.json`` (source, retrieval time, yfinance
  version, range, rows, sha256, splits). A write puts the new parquet next to the old one, then
  replaces the manifest, then deletes the old file, each step atomic (temp file + ``os.replace``)
  under an exclusive lock (``filelock``): a writer killed at any point leaves every manifest entry
  pointing at an intact file. Every read checks the sha256 and the entry's fields.
* With ``ANALYSIS_PRICES_DIR`` set, a series cached from a CSV is imported again when that
  folder's file for the symbol (found whatever the case of its name) differs from the one
  imported, be it the same file edited or another folder's.
"""

from __future__ import annotations

from analysis.data.prices.cache import MANIFEST_NAME, cache_manifest, series_info
from analysis.data.prices.csv_import import import_csv_file, import_csv_folder
from analysis.data.prices.layout import CSV_COLUMNS, PRICE_COLUMNS
from analysis.data.prices.load import _changed_csv_source as _changed_csv_source
from analysis.data.prices.load import adj_close, close, load_history, volume
from analysis.data.prices.quotes import (
    quote_reconciliation,
    quoted_close,
    to_current_units,
    to_quoted_units,
)
from analysis.data.prices.report import ImportedSeries, ImportReport, SkippedSeries
from analysis.data.prices.splits import split_factor, splits, splits_path
from analysis.data.prices.symbols import filename_to_symbol, normalize_symbol, symbol_to_filename
from analysis.data.prices.yahoo import fetch_yahoo
from analysis.errors import CacheUnwritable as _CacheUnwritable  # noqa: F401 (former name)
from analysis.errors import PriceDataWarning

__all__ = [
    "CSV_COLUMNS",
    "MANIFEST_NAME",
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
    "normalize_symbol",
    "quote_reconciliation",
    "quoted_close",
    "series_info",
    "split_factor",
    "splits",
    "splits_path",
    "symbol_to_filename",
    "to_current_units",
    "to_quoted_units",
    "volume",
]
# ``_changed_csv_source`` is read by the report fingerprint (getattr on this package).
