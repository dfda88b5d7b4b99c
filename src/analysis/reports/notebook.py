"""Helpers called inside report notebooks.

Contract of a report notebook (see ``notebooks/runs.yaml``):

1. One code cell tagged ``parameters`` with one ``name = literal`` line per parameter
   (optionally ``name: type = literal``); papermill injects the run's values after it.
2. At the top, ``run_facts(parameters, symbols)`` -- what was run on which data with which code.
3. ``publish_results({...})`` with the headline numbers; the report runner copies the last
   published mapping into the run's ``results.json`` and the index page.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from analysis import config
from analysis.reports.results import RESULTS_MIME, canonical_value

if TYPE_CHECKING:
    import pandas as pd

PACKAGES = ("analysis", "pandas", "numpy", "statsmodels", "scipy", "yfinance")
GIT_TIMEOUT = 10.0


def _format_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return format(value, ".6g")
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def results_table_html(data: Mapping[str, Any], title: str = "Headline figures") -> str:
    """An HTML table of canonical results (every text escaped)."""
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
        f"<td style='text-align:right'>{html.escape(_format_value(v))}</td></tr>"
        for k, v in data.items()
    )
    return (
        f"<table class='analysis-results'><caption style='text-align:left;font-weight:bold'>"
        f"{html.escape(title)}</caption><tbody>{rows}</tbody></table>"
    )


def publish_results(
    data: Mapping[str, object], *, title: str = "Headline figures", index_keys: Sequence[str] = ()
) -> None:
    """Show the headline numbers as a table and hand them to the report runner.

    Displays one bundle holding ``text/html`` (the table the reader sees), ``text/plain`` and
    ``application/vnd.analysis.results+json`` (the data copied into ``results.json``). Values:
    numbers, strings, booleans, None, dates, and lists or mappings of those; floats are rounded
    to 12 significant digits, NaN becomes None. ``index_keys`` names the few figures the site's
    index page shows for this run, in that order (those not published are skipped; all of
    them when none is given).
    """
    from IPython.display import display

    if not isinstance(data, Mapping):
        raise TypeError(f"publish_results takes a mapping of name -> value, got {type(data)}")
    index_keys = [k for k in index_keys if k in data]  # figures a run did not produce are skipped
    payload = canonical_value(data, where="publish_results")
    plain = "\n".join(f"{k}: {_format_value(v)}" for k, v in payload.items())
    bundle = {
        "text/plain": f"{title}\n{plain}",
        "text/html": results_table_html(payload, title),
        RESULTS_MIME: {**payload, "index_keys": list(index_keys)} if index_keys else payload,
    }
    display(bundle, raw=True)


def git_commit() -> str:
    """Short sha of the project checkout's HEAD, with ``-dirty`` if files changed, or "unknown"."""
    import subprocess

    root = config.project_root()

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=True,
        )
        return done.stdout.strip()

    try:
        sha = git("rev-parse", "--short=12", "HEAD")
        dirty = bool(git("status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha


def package_versions(packages: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Installed version of each package ("not installed" where missing)."""
    import importlib.metadata

    out = {}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _series_rows(symbols: Sequence[str]) -> list[tuple[str, str, str]]:
    if not symbols:
        return [("data", "prices", "no price series")]
    try:
        from analysis.prices import load_history, series_info
    except ImportError:
        return [("data", s, "analysis.prices.series_info unavailable") for s in symbols]
    from analysis.errors import PriceSourceError

    try:
        info = series_info(list(symbols))
    except PriceSourceError:  # not cached yet: load as the analysis would (CSV folder, Yahoo)
        for symbol in symbols:
            load_history(symbol)
        info = series_info(list(symbols))
    rows = []
    for rec in info.to_dict(orient="records"):
        first, last = (str(rec.get(k, "?"))[:10] for k in ("first", "last"))
        rows.append(
            (
                "data",
                str(rec.get("symbol")),
                f"{first} to {last}, {rec.get('rows')} rows, source {rec.get('source')}, "
                f"sha256 {rec.get('sha256')}",
            )
        )
    return rows


def run_facts(parameters: Mapping[str, Any], symbols: Sequence[str] = ()) -> pd.DataFrame:
    """What this report ran: parameters, price series (source, sha256, dates), versions, commit.

    Returns a DataFrame indexed by (section, item) with one column ``value``; show it at the
    top of every report. Price rows come from :func:`analysis.prices.series_info`; a symbol not
    yet cached is loaded first with :func:`analysis.prices.load_history` (the CSV folder of
    ``ANALYSIS_PRICES_DIR``, else Yahoo unless offline; else its clear error).
    """
    import pandas as pd

    if isinstance(symbols, str):
        symbols = [symbols]
    rows: list[tuple[str, str, str]] = [
        ("parameter", str(k), _format_value(canonical_value(v, where=f"parameter {k!r}")))
        for k, v in parameters.items()
    ]
    rows += _series_rows(symbols)
    rows += [("version", k, v) for k, v in package_versions().items()]
    rows.append(("code", "git commit", git_commit()))
    frame = pd.DataFrame(rows, columns=["section", "item", "value"])
    return frame.set_index(["section", "item"])
