"""``python -m analysis episodes``: one firm's event episodes and the pooled tests across them."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "episodes",
        help="episodes of one firm around the export-control events, with pooled tests",
        description=(
            "Merge the registry's market-observable export-control events whose windows overlap "
            "(NYSE sessions) into episodes; test each episode's CAR over its window (with Holm "
            "and Benjamini-Hochberg adjusted p-values) and pool the episodes: mean standardized "
            "CAR, sign test and a stacked event-dummy regression (Wald test of all effects, "
            "test of their sum)."
        ),
    )
    p.add_argument("symbol", metavar="SYMBOL")
    p.add_argument("--window", default="-1:3", help="event window around each event (-1:3)")
    p.add_argument("--market", default="SPY", help="market index of the market model (SPY)")
    p.add_argument(
        "--estimation", default="-250:-11", help="estimation window of each episode (-250:-11)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analysis.eventstudy.episodes import episodes

    tab = episodes(args.symbol, args.window, market=args.market, estimation=args.estimation)
    if args.json:
        print(json.dumps(tab.to_dict(), indent=2, allow_nan=False))
    else:
        print(tab.summary().as_text())
    return 0
