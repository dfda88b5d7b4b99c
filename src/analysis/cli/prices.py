"""``python -m analysis prices {import,fetch,list,show}``: the price cache from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import pandas as pd

from analysis import config
from analysis.data import prices


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``prices`` command group."""
    parser = subparsers.add_parser(
        "prices",
        help="import, fetch, list and show cached daily prices",
        description="Manage the local price cache (" + "parquet + manifest.json with sha256).",
    )
    sub = parser.add_subparsers(dest="prices_command", metavar="SUBCOMMAND", required=True)

    p = sub.add_parser(
        "import",
        help="validate a folder of CSV files and load them into the cache",
        description=(
            "Import every CSV (header date,open,high,low,close,adj_close,volume; file name = "
            "symbol with ^ -> INDEX_ and = -> _) in DIR. Bad files are skipped with file and line "
            "of each problem; the exit status is 1 if any file was skipped."
        ),
    )
    p.add_argument("dir", metavar="DIR", help="folder of CSV files")
    p.add_argument("--symbols", nargs="+", metavar="SYMBOL", help="import only these symbols")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser(
        "fetch",
        help="download from Yahoo (yfinance) into the cache",
        description="Download daily prices from Yahoo; --end is inclusive. Refused when ANALYSIS_OFFLINE=1.",
    )
    p.add_argument("symbols", nargs="+", metavar="SYMBOL")
    p.add_argument("--start", help="first date, YYYY-MM-DD (default: the full history)")
    p.add_argument(
        "--end", help="last date, YYYY-MM-DD, inclusive (default: the last closed session)"
    )
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="keep a series that does not cover the whole range (noted in the output)",
    )
    p.add_argument(
        "--retries", type=int, default=3, help="retries on Yahoo rate limits (default 3)"
    )
    p.set_defaults(func=_cmd_fetch)

    p = sub.add_parser("list", help="what is cached: symbol, first, last, rows, source, sha256")
    p.add_argument(
        "--full-sha", action="store_true", help="show the full sha256 (default: 12 chars)"
    )
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("show", help="print the cached rows of one symbol")
    p.add_argument("symbol", metavar="SYMBOL")
    p.add_argument("--start", help="first date, YYYY-MM-DD")
    p.add_argument("--end", help="last date, YYYY-MM-DD (inclusive)")
    p.set_defaults(func=_cmd_show)


def _cmd_import(args: argparse.Namespace) -> int:
    return _outcome(prices.import_csv_folder(args.dir, symbols=args.symbols), "imported")


def _cmd_fetch(args: argparse.Namespace) -> int:
    report = prices.fetch_yahoo(
        args.symbols,
        args.start,
        args.end,
        max_retries=args.retries,
        allow_partial=args.allow_partial,
    )
    return _outcome(report, "fetched")


def _outcome(report: Any, verb: str) -> int:
    """Print an import/fetch report; exit status 1 naming what was skipped, else 0."""
    print(report.text())
    if report.ok:
        return 0
    names = ", ".join(s.name for s in report.skipped)
    print(
        f"error: {len(report.skipped)} not {verb} ({names}); see the reasons above",
        file=sys.stderr,
    )
    return 1


def _cmd_list(args: argparse.Namespace) -> int:
    frame = prices.cache_manifest()
    if frame.empty:
        print(
            f"the price cache {config.cache_dir()} is empty; import with "
            "`python -m analysis prices import DIR` or fetch with `prices fetch SYMBOL`"
        )
        return 0
    frame = frame[["symbol", "first", "last", "rows", "source", "sha256"]].copy()
    if not args.full_sha:
        frame["sha256"] = frame["sha256"].str[:12]
    print(f"price cache: {config.cache_dir()} ({len(frame)} series)")
    print(_table(frame))
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    frame = prices.load_history(args.symbol, args.start, args.end)
    sym = prices.normalize_symbol(args.symbol)
    if frame.empty:
        print(
            f"{sym}: no rows between {args.start or 'the start'} and {args.end or 'the end'} "
            "(no sessions in that range)"
        )
        return 0
    quoted = prices.quoted_close(sym, args.start, args.end)
    out = frame.copy()
    if (quoted != frame["close"]).any():
        out["quoted_close"] = quoted
    out.index = out.index.strftime("%Y-%m-%d")
    out.index.name = "date"
    info = prices.series_info([sym]).iloc[0]
    print(
        f"{sym}: {len(out)} rows; close split-adjusted as the source gives it, adj_close also "
        f"dividend-adjusted"
        + ("; quoted_close = close in the units quoted that day" if "quoted_close" in out else "")
        + f"; source {info['source']}"
    )
    with pd.option_context("display.max_rows", None, "display.width", 200):
        print(out.to_string(float_format=lambda v: f"{v:.4f}"))
    return 0


def _table(frame: pd.DataFrame) -> str:
    """Aligned plain-text table: text columns left-aligned, numbers right-aligned."""
    cols = list(frame.columns)
    cells = [[str(v) for v in frame[c]] for c in cols]
    widths = [max(len(c), *(len(v) for v in col)) for c, col in zip(cols, cells, strict=True)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in cols]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(cols)]
    out.extend(line([col[i] for col in cells]) for i in range(len(frame)))
    return "\n".join(out)
