"""``python -m analysis`` / ``analysis``: the command-line interface.

Each command group lives in its own module exposing ``register(subparsers)``; handlers return an
exit code. Before any command runs, the path variables (``ANALYSIS_PRICES_DIR`` ...) are made
absolute against the directory the command was typed in (:func:`analysis.config.resolve_environment`).
:class:`analysis.errors.AnalysisError` is printed as one clear message (no traceback) and exits
with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from analysis.errors import AnalysisError

_COMMAND_MODULES = ("prices", "study", "episodes", "power", "report")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Event studies of NVDA and peers around US export controls.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        module = importlib.import_module(f"analysis.cli.{name}")
        module.register(sub)
    return parser


def _join_window_values(argv: list[str]) -> list[str]:
    """Turn ``--window -1:3`` into ``--window=-1:3``: argparse reads "-1:3" as an option."""
    from analysis.cli.study import WINDOW_OPTIONS

    out: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok in WINDOW_OPTIONS and i + 1 < len(argv):
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    raw = list(argv) if argv is not None else sys.argv[1:]
    args = parser.parse_args(_join_window_values(raw))
    try:
        from analysis import config

        config.resolve_environment()  # relative paths: against the directory typed in, once
        return int(args.func(args) or 0)
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `python -m analysis prices list | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
