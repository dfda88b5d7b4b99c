#!/usr/bin/env python
"""Rebuild ``data/events.csv`` (the event registry) from the curated facts folder.

    .venv/bin/python scripts/build_events_table.py [FACTS_DIR] [--out PATH]

FACTS_DIR defaults to ``../shared/data/facts`` beside the project checkout. The output is
deterministic (same facts -> same bytes); the parsing rules are documented in
``analysis.data.events`` (``parse_date_text``, ``parse_time_text``, ``EXPORT_CONTROL_BY_KIND``,
``MEDIA_REPORTS_ABOUT_CONTROLS``). The file is written atomically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis import config
from analysis.data.events import build_registry, write_registry
from analysis.errors import AnalysisError


def default_facts_dir() -> Path:
    """``../shared/data/facts`` relative to the project root."""
    return config.project_root().parent / "shared" / "data" / "facts"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "facts_dir",
        nargs="?",
        type=Path,
        default=default_facts_dir(),
        help="folder holding the curated events.csv (default: ../shared/data/facts)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=config.data_dir() / "events.csv",
        help="output path (default: data/events.csv)",
    )
    args = parser.parse_args(argv)
    try:
        rows = build_registry(args.facts_dir)
        out = write_registry(rows, args.out)
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({len(rows)} events from {args.facts_dir / 'events.csv'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
