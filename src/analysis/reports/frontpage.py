"""The site's front page: the page of the run marked ``front_page`` in the run matrix (the
findings), served as ``<site>/index.html`` with a compact table of every report appended; the build
status moves to ``<site>/build.html``.

The front-page run's own page stays in its folder; the copy at the site root has its links
rewritten to work from there (``../x`` becomes ``x``; the run's own files get its folder name).
The compact table shows each report's headline figures as a reader expects them: returns in per
cent with one decimal, p-values with three.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from analysis.reports.site import INDEX_KEYS, STATUS_LABELS, IndexEntry

#: Where the build status goes when the findings take the front page.
BUILD_PAGE = "build.html"

#: Labels of headline keys in the compact table (keys not listed are shown as they are).
LABELS: Mapping[str, str] = {
    "day0": "day 0",
    "car_window": "window",
    "car": "CAR",
    "pvalue": "p",
    "sq_pvalue": "SQ p",
    "alt_car": "CAR vs peers",
    "alt_pvalue": "p vs peers",
    "caar": "CAAR",
    "rbar": "mean residual correlation",
    "kp_bmp_pvalue": "KP-BMP p",
    "bw_cda_pvalue": "BW-CDA p",
    "grank_pvalue": "GRANK p",
}

_PERCENT = re.compile(r"(^|_)(car|caar|bhar|ar_day0|return|change|effect|mean_car)($|_)")
_PVALUE = re.compile(r"(^|_)(pvalue|p)($|_)")


def format_figure(key: str, value: Any) -> str:
    """A headline figure as text: returns in per cent with one decimal (sign shown), p-values
    with three decimals, other numbers with up to four significant digits, text as is."""
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int | float):
        v = float(value)
        if not math.isfinite(v):
            return "-"
        if _PVALUE.search(key) and not key.endswith("_pct"):
            return "< 0.001" if 0 <= v < 0.001 else f"{v:.3f}"
        if _PERCENT.search(key) and not key.endswith("_pct"):
            return f"{v:+.1%}"
        if key.endswith("_pct"):
            return f"{v:+.1f}%"
        return f"{v:.4g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _figures(results: Mapping[str, Any] | None) -> str:
    if not results:
        return '<span class="note">none published</span>'
    keys = results.get(INDEX_KEYS)
    if not isinstance(keys, list) or not keys:
        keys = [k for k in results if k != INDEX_KEYS][:4]
    parts = [
        f"{html.escape(LABELS.get(k, k.replace('_', ' ')))} "
        f"<b>{html.escape(format_figure(k, results[k]))}</b>"
        for k in keys
        if isinstance(k, str) and k in results and k not in ("day0", "car_window")
    ]
    return " &middot; ".join(parts)


def reports_table_html(entries: Sequence[IndexEntry], *, prefix: str = "") -> str:
    """The compact table of every report: title (linked), key figures, status; ``prefix`` is
    put before each link (the links are relative to the site folder)."""
    esc = html.escape
    rows = []
    for e in entries:
        title = esc(e.title)
        if e.has_page:
            title = f'<a href="{esc(prefix + e.name)}/index.html">{title}</a>'
        status = "" if e.status in ("ok", "skipped-unchanged") else esc(STATUS_LABELS[e.status])
        rows.append(
            f"<tr><td>{title}</td><td>{_figures(e.results)}</td>"
            f'<td class="{esc(e.status)}">{status}</td></tr>'
        )
    return (
        '<section class="analysis-reports"><h2 id="every-report">Every report</h2>'
        "<style>.analysis-reports table{border-collapse:collapse;width:100%;font-size:.92em}"
        ".analysis-reports td,.analysis-reports th{border:1px solid #ddd;padding:.35em .55em;"
        "text-align:left;vertical-align:top}.analysis-reports .failed{color:#b00020}"
        ".analysis-reports th{background:#f6f8fa}</style>"
        "<table><tr><th>report</th><th>key figures</th><th></th></tr>"
        + "".join(rows)
        + f'</table><p>Build status of every run: <a href="{esc(prefix)}{BUILD_PAGE}">'
        "build page</a>.</p></section>"
    )


def front_page_html(page: str, folder: str, entries: Sequence[IndexEntry]) -> str:
    """The front-page run's page (``page``, written for ``<site>/<folder>/index.html``) as the
    site's ``index.html``: links rewritten for the site root, the report table appended."""
    esc = html.escape
    out = re.sub(r'(href|src)="\.\./', r'\1="', page)
    for arrow in ("&larr;", "\u2190"):  # the header's back link, as written or as rendered
        out = out.replace(
            f'<a href="index.html">{arrow} all reports</a>',
            '<a href="#every-report">every report</a>',
        )
    for own in ("executed.ipynb", "results.json"):
        out = out.replace(f'href="{own}"', f'href="{esc(folder)}/{own}"')
    table = reports_table_html(entries)
    at = out.rfind("</body>")
    return out[:at] + table + out[at:] if at >= 0 else out + table


def page_links(symbol: str = "NVDA", matrix: str | None = None) -> dict[str, str]:
    """Links from the front-page run's folder to the other reports of the run matrix: the
    ``symbol``'s event pages by event id (``"E08"``), and every other run by its name."""
    from analysis.reports.matrix import load_matrix

    out: dict[str, str] = {}
    for run in load_matrix(matrix):
        href = f"../{run.name}/index.html"
        out[run.name] = href
        p = run.parameters
        if run.notebook == "event_study.ipynb" and str(p.get("symbol", "")).upper() == symbol:
            out.setdefault(str(p.get("event", "")), href)
    return out
