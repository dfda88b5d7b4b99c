"""``python -m analysis power``: simulated power of the event-study tests for a design."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "power",
        help="simulated power of the event-study tests for a CAR",
        description=(
            "Monte Carlo power of the package's own tests: simulate returns with a CAR of "
            "--effect spread equally over the days of the CAR window (iid normal residuals of "
            "sd --sigma; market model on a simulated market path by default), fit the model and "
            "run every test the engine runs on that many firms (one firm: the single-firm "
            "tests; several firms on one date: the group tests). Prints each test's rejection "
            "rate at --alpha with its Monte Carlo standard error and 95%% interval."
        ),
    )
    p.add_argument("--firms", type=int, default=1, help="firms on one event date (1)")
    p.add_argument("--window", default="-1:3", help="event window in trading days (-1:3)")
    p.add_argument(
        "--car-window", default=None, help="CAR window inside it (default: the event window)"
    )
    p.add_argument("--effect", type=float, default=0.02, help="the CAR, e.g. -0.05 (0.02)")
    p.add_argument("--sigma", type=float, default=None, help="daily residual sd (0.02)")
    p.add_argument("--sims", type=int, default=2000, help="simulations (2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("--alpha", type=float, default=0.05, help="test level (0.05)")
    p.add_argument(
        "--estimation-length", type=int, default=240, help="estimation-window days (240)"
    )
    p.add_argument(
        "--model",
        default="market_model",
        help="market_model (default), constant_mean or market_adjusted",
    )
    p.add_argument(
        "--tests", default=None, help="tests to simulate, comma-separated (default: all that apply)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analysis.errors import SpecificationError
    from analysis.eventstudy.power import power

    for flag, value in (("--firms", args.firms), ("--sims", args.sims)):
        if value < 1:
            raise SpecificationError(f"{flag} must be at least 1; got {value}")
    tests = [t.strip() for t in args.tests.split(",") if t.strip()] if args.tests else None
    res = power(
        args.firms,
        args.window,
        args.effect,
        sigma=args.sigma,
        estimation_length=args.estimation_length,
        tests=tests,
        n_sims=args.sims,
        alpha=args.alpha,
        seed=args.seed,
        model=args.model,
        car_window=args.car_window,
    )
    if args.json:
        print(json.dumps(res.to_dict(), indent=2, allow_nan=False))
    else:
        print(res.summary().as_text())
    return 0
