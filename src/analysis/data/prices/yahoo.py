"""Downloading daily prices from Yahoo (yfinance) into the cache, with retries."""

from __future__ import annotations

import contextlib
import logging
import re
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis import config
from analysis.data.dates import parse_date
from analysis.data.prices.cache import _write_series
from analysis.data.prices.checks import nyse_sessions
from analysis.data.prices.layout import _PRICE_ONLY, _finish_frame, _fmt
from analysis.data.prices.report import ImportedSeries, ImportReport, SkippedSeries
from analysis.data.prices.symbols import _OFFLINE_ALTERNATIVE, _symbol_list, symbol_to_filename
from analysis.data.prices.validate import _announce, _validate_frame
from analysis.errors import DataError, PriceSourceError

_PLAUSIBILITY_NOTE = "plausibility: "  # prefix of the notes of the plausibility checks (Yahoo path)
_YAHOO_FIELDS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}


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
    if start is not None and len(nyse_sessions(start, first - pd.Timedelta(days=1))):
        gaps.append(f"starts {_fmt(first)}, after the requested start {_fmt(start)}")
    stop = (
        min(end, today - pd.Timedelta(days=1)) if end is not None else today - pd.Timedelta(days=1)
    )
    if end is not None and len(nyse_sessions(last + pd.Timedelta(days=1), stop)):
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
    lo = parse_date(start, "fetch start") if start is not None else None
    hi = parse_date(end, "fetch end") if end is not None else None
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
