"""Helpers called inside report notebooks.

Contract of a report notebook (see ``notebooks/runs.yaml``):

1. One code cell tagged ``parameters`` with one ``name = literal`` line per parameter
   (optionally ``name: type = literal``); papermill injects the run's values after it.
2. The next code cell calls ``check_parameters(globals())``: a name papermill injected that the
   parameters cell does not declare, or a value of the wrong type, stops the run with a
   :class:`~analysis.errors.SpecificationError` (papermill itself only warns).
3. At the top, ``run_facts(parameters, symbols)`` -- what was run on which data with which code.
4. ``publish_results({...})`` with the headline numbers; the report runner copies the last
   published mapping into the run's ``results.json`` and the index page.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from analysis import config
from analysis.errors import SpecificationError
from analysis.reports.results import RESULTS_MIME, canonical_value

if TYPE_CHECKING:
    import pandas as pd

PACKAGES = ("analysis", "pandas", "numpy", "statsmodels", "scipy", "yfinance")
GIT_TIMEOUT = 10.0
#: First line of the cell papermill injects after the ``parameters`` cell.
INJECTED_HEADER = "# Parameters"


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
    data: Mapping[str, object],
    *,
    title: str = "Headline figures",
    index_keys: Sequence[str] = (),
    show: bool = True,
) -> None:
    """Show the headline numbers as a table and hand them to the report runner.

    Displays one bundle holding ``text/html`` (the table the reader sees), ``text/plain`` and
    ``application/vnd.analysis.results+json`` (the data copied into ``results.json``). Values:
    numbers, strings, booleans, None, dates, and lists or mappings of those; floats are rounded
    to 12 significant digits, NaN becomes None. ``index_keys`` names the few figures the site's
    index page shows for this run, in that order (those not published are skipped; all of
    them when none is given). ``show=False`` replaces the table by a link to ``results.json``
    (for a page that already shows every published number in its own form).
    """
    from IPython.display import display

    if not isinstance(data, Mapping):
        raise TypeError(f"publish_results takes a mapping of name -> value, got {type(data)}")
    index_keys = [k for k in index_keys if k in data]  # figures a run did not produce are skipped
    payload = canonical_value(data, where="publish_results")
    plain = "\n".join(f"{k}: {_format_value(v)}" for k, v in payload.items())
    bundle = {
        "text/plain": f"{title}\n{plain}",
        "text/html": results_table_html(payload, title)
        if show
        else '<p>Every number on this page is also in <a href="results.json">results.json</a>.</p>',
        RESULTS_MIME: {**payload, "index_keys": list(index_keys)} if index_keys else payload,
    }
    display(bundle, raw=True)


def _injected_cell(history: Sequence[str]) -> int | None:
    """Index of the last cell papermill injected in the kernel's input history, or None."""
    for i in range(len(history) - 1, -1, -1):
        if str(history[i]).split("\n", 1)[0].strip() == INJECTED_HEADER:
            return i
    return None


def check_parameters(namespace: Mapping[str, Any]) -> None:
    """Check the parameters papermill injected against the notebook's ``parameters`` cell.

    Call ``check_parameters(globals())`` in the first code cell after the parameters cell. It
    reads the kernel's input history (``_ih``): the injected cell and the cell run just before
    it. Every injected name must be declared there (else the closest declared name is
    suggested) and every value must fit the declared type, as in the run matrix. Raises
    :class:`~analysis.errors.SpecificationError`; does nothing when nothing was injected.
    """
    from analysis.reports import matrix

    history = namespace.get("_ih") or namespace.get("In") or []
    at = _injected_cell(history)
    if at is None:
        return
    source = str(history[at - 1]) if at > 0 else ""
    declared = matrix.declared_parameters(source)
    assigned = matrix.assigned_names(source)
    problems = []
    for name in matrix.assigned_names(str(history[at])):
        if name not in declared:
            if name in assigned:  # a line papermill cannot read: no type to check against
                continue
            names = sorted(declared)
            problems.append(
                f"parameter '{name}' is not declared in this notebook's parameters cell"
                f"{matrix._suggest(name, names)}; declared: {', '.join(names) or '(none)'}"
            )
            continue
        problem = matrix._check_value(
            "", "the parameters cell", name, namespace.get(name), declared[name]
        )
        if problem:
            problems.append(problem)
    if problems:
        raise SpecificationError(
            "; ".join(problems) + "; fix the value given to papermill (-p, -r, -y) or in the "
            "run matrix"
        )


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
        from analysis.data.prices import load_history, series_info
    except ImportError:
        return [("data", s, "analysis.data.prices.series_info unavailable") for s in symbols]
    for symbol in symbols:  # as the analysis will: the cache, the CSV folder (imported again
        load_history(symbol)  # when its file changed since the import), else Yahoo
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


def _lock_file_text() -> str:
    from analysis.reports.fingerprint import lock_file_sha256

    sha = lock_file_sha256()
    name = config.lock_file().name
    return f"{sha} ({name})" if sha else f"none (no {name} in the project folder)"


def run_facts(parameters: Mapping[str, Any], symbols: Sequence[str] = ()) -> pd.DataFrame:
    """What this report ran: parameters, price series (source, sha256, dates), versions, the
    lock file's sha256 and the commit.

    Returns a DataFrame indexed by (section, item) with one column ``value``; show it at the
    top of every report. Price rows come from :func:`analysis.data.prices.series_info`; a symbol not
    yet cached is loaded first with :func:`analysis.data.prices.load_history` (the CSV folder of
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
    rows.append(("environment", "lock file sha256", _lock_file_text()))
    rows.append(("code", "git commit", git_commit()))
    frame = pd.DataFrame(rows, columns=["section", "item", "value"])
    return frame.set_index(["section", "item"])
