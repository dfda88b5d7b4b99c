"""``python -m analysis study``: run an event study from the command line."""

from __future__ import annotations

import argparse
import json

from analysis.eventstudy.models import CONVENTIONS, MODELS

#: Options whose values look like negative numbers ("-250:-11"); the CLI joins them as --opt=value.
WINDOW_OPTIONS = ("--estimation", "--window", "--car-window")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "study",
        help="run an event study",
        description=(
            "Event study of one or more symbols around one event. Day 0 is the event's session "
            "if the news came before the 16:00 ET close, else the next session; the output says "
            "which day 0 it used and why. Works offline with ANALYSIS_PRICES_DIR."
        ),
    )
    p.add_argument("symbols", nargs="+", metavar="SYMBOL")
    p.add_argument(
        "--event",
        required=True,
        help="registry id (E08), date (2023-10-17) or date and US Eastern time (2023-10-17T17:27)",
    )
    p.add_argument(
        "--market",
        default=None,
        help=(
            "market index of market_model / market_adjusted (default SPY), or a benchmark "
            "without the firm: peers-ex-firm:GROUP (e.g. peers-ex-firm:semis) or SPY-ex-firm"
        ),
    )
    p.add_argument("--model", default="market_model", choices=MODELS, help="expected-return model")
    p.add_argument(
        "--factors", default=None, help="factor_model regressors, comma-separated (SPY,SOXX)"
    )
    p.add_argument(
        "--estimation", default="-250:-11", help="estimation window in trading days (-250:-11)"
    )
    p.add_argument("--window", default="-1:3", help="event window in trading days (-1:3)")
    p.add_argument(
        "--car-window", default=None, help="headline CAR window (default: the event window)"
    )
    p.add_argument(
        "--exclude",
        default=None,
        help=(
            "days left out of the estimation window (never the event window), comma-separated: "
            "events (other registry events' windows), earnings (earnings reaction days), "
            "dates YYYY-MM-DD; the window reaches back to keep its length"
        ),
    )
    p.add_argument("--convention", default="default", choices=CONVENTIONS)
    p.add_argument("--log-returns", action="store_true", help="use log instead of simple returns")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analysis.errors import SpecificationError
    from analysis.eventstudy import event_study

    if args.market is not None and args.model in ("constant_mean", "factor_model"):
        raise SpecificationError(
            f"--market {args.market} is not used by {args.model}"
            + (" (give its regressors with --factors)" if args.model == "factor_model" else "")
        )
    factors = [f.strip() for f in args.factors.split(",") if f.strip()] if args.factors else None
    res = event_study(
        args.symbols,
        args.event,
        market=None if args.model in ("constant_mean", "factor_model") else (args.market or "SPY"),
        model=args.model,
        factors=factors,
        estimation=args.estimation,
        window=args.window,
        car_window=args.car_window,
        return_kind="log" if args.log_returns else "simple",
        convention=args.convention,
        exclude=args.exclude,
    )
    if args.json:
        print(json.dumps(res.to_dict(), indent=2, allow_nan=False))
    else:
        print(res.summary().as_text())
    return 0
