"""``python -m analysis study``: run an event study from the command line."""

from __future__ import annotations

import argparse
import json

from analysis.eventstudy._garch_fit import GARCH_MODEL
from analysis.eventstudy.models import CONVENTIONS, MODELS

#: What ``--measure`` studies: returns (event_study), log volume, or return volatility.
MEASURES: tuple[str, ...] = ("return", "volume", "volatility")
#: ``--model synthetic``: a weighted basket of donors as the counterfactual (one firm).
SYNTHETIC = "synthetic"

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
    p.add_argument(
        "--model",
        default="market_model",
        choices=(*MODELS, GARCH_MODEL, SYNTHETIC),
        help=(
            "expected-return model; garch_market_model: the market model with GARCH(1,1) "
            "Student-t errors (no --exclude); synthetic: one firm against a weighted basket of "
            "--donors fitted on the estimation window"
        ),
    )
    p.add_argument(
        "--factor-file",
        default=None,
        metavar="FILE[,FILE]",
        help="factor_model: read --factors (e.g. Mkt-RF,SMB,HML) from Ken French's daily CSV "
        "file(s) and regress excess returns R - RF on them",
    )
    p.add_argument(
        "--donors",
        default=None,
        help="--model synthetic: a peer group (default: untouched, firms the rules did not reach) "
        "or symbols, comma-separated",
    )
    p.add_argument(
        "--measure",
        default="return",
        choices=MEASURES,
        help="return (default); volume: abnormal log volume (Campbell & Wasley 1996); "
        "volatility: squared abnormal returns over the estimation variance (Chow's F)",
    )
    p.add_argument(
        "--volume-model",
        default="mean",
        choices=("mean", "market"),
        help="--measure volume: against the firm's estimation-window mean (default) or a market "
        "model on the log volume of --market (default SPY)",
    )
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


def _refuse(args: argparse.Namespace, what: str, *options: str) -> None:
    from analysis.errors import SpecificationError

    given = {
        "--factors": args.factors is not None,
        "--convention": args.convention != "default",
        "--log-returns": args.log_returns,
        "--model": args.model != "market_model",
        "--donors": args.donors is not None,
        "--volume-model": args.volume_model != "mean",
        "--factor-file": args.factor_file is not None,
    }
    used = [o for o in options if given[o]]
    if used:
        raise SpecificationError(f"{', '.join(used)} is not used by {what}")


def _other_study(args: argparse.Namespace) -> object | None:
    """The volume, volatility or synthetic-matching study the options ask for, else None."""
    from analysis.errors import SpecificationError

    if args.model != SYNTHETIC and args.donors is not None:
        raise SpecificationError("--donors is used only by --model synthetic")
    if args.measure != "volume" and args.volume_model != "mean":
        raise SpecificationError("--volume-model is used only by --measure volume")
    if args.measure == "volume":
        from analysis.eventstudy.activity import abnormal_volume

        if args.market is not None and args.volume_model == "mean":
            raise SpecificationError(
                f"--market {args.market} is used by --volume-model market, not by the mean model"
            )

        _refuse(
            args,
            "--measure volume",
            *("--factors", "--convention", "--log-returns", "--model", "--factor-file"),
        )
        return abnormal_volume(
            args.symbols,
            args.event,
            model=args.volume_model,
            market=args.market or "SPY",
            estimation=args.estimation,
            window=args.window,
            test_window=args.car_window,
            exclude=args.exclude,
        )
    if args.model == SYNTHETIC:
        from analysis.eventstudy.synthetic import DEFAULT_DONORS, synthetic_study

        if args.measure != "return":
            raise SpecificationError(f"--model synthetic studies returns, not {args.measure}")
        _refuse(args, "--model synthetic", "--factors", "--convention", "--factor-file")
        if args.market is not None or args.car_window is not None or len(args.symbols) != 1:
            raise SpecificationError(
                "--model synthetic takes one symbol and no --market or --car-window "
                "(the donors are its benchmark; the CAR is over --window)"
            )
        donors = args.donors or DEFAULT_DONORS
        return synthetic_study(
            args.symbols[0],
            args.event,
            donors=[d.strip() for d in donors.split(",") if d.strip()] if "," in donors else donors,
            estimation=args.estimation,
            window=args.window,
            exclude=args.exclude,
            return_kind="log" if args.log_returns else "simple",
        )
    if args.measure == "volatility":
        from analysis.eventstudy.activity import abnormal_volatility

        _refuse(args, "--measure volatility (its F test needs the divisor L - k)", "--convention")

        return abnormal_volatility(
            args.symbols,
            args.event,
            test_window=args.car_window,
            **_return_options(args),
        )
    return None


def _return_options(args: argparse.Namespace) -> dict[str, object]:
    from analysis.errors import SpecificationError

    if args.market is not None and args.model in ("constant_mean", "factor_model"):
        raise SpecificationError(
            f"--market {args.market} is not used by {args.model}"
            + (" (give its regressors with --factors)" if args.model == "factor_model" else "")
        )
    factors = [f.strip() for f in args.factors.split(",") if f.strip()] if args.factors else None
    return {
        "market": None
        if args.model in ("constant_mean", "factor_model")
        else (args.market or "SPY"),
        "model": args.model,
        "factors": factors,
        "estimation": args.estimation,
        "window": args.window,
        "return_kind": "log" if args.log_returns else "simple",
        "exclude": args.exclude,
        **({"factor_file": args.factor_file.split(",")} if args.factor_file else {}),
    }


def run(args: argparse.Namespace) -> int:
    from analysis.eventstudy import event_study

    res: object = _other_study(args)
    if res is None:
        res = event_study(  # type: ignore[call-overload]
            args.symbols,
            args.event,
            car_window=args.car_window,
            convention=args.convention,
            **_return_options(args),
        )
    if args.json:
        print(json.dumps(res.to_dict(), indent=2, allow_nan=False))  # type: ignore[attr-defined]
    else:
        print(res.summary().as_text())  # type: ignore[attr-defined]
    return 0
