"""HTML for the report site: one page per run (nbconvert, no code) and the index page.

Run pages are rendered by nbconvert's :class:`~nbconvert.HTMLExporter` (lab template) with
``exclude_input``, ``exclude_input_prompt`` and ``exclude_output_prompt``: the reader sees the
narrative and the outputs, never code. Figures stay embedded as base64 ``data:`` URIs (nbconvert
only writes image files when ``ExtractOutputPreprocessor`` runs, which it does not here). Every
text that comes from data is escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.reports.notebook import _format_value

STATUS_LABELS = {
    "ok": "ok",
    "failed": "failed",
    "skipped-unchanged": "skipped (unchanged)",
    "kept": "kept",
    "not-built": "not built",
}

_RUN_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block body_header -%}
{{ super() }}
{{ resources.analysis_header }}
{%- endblock body_header -%}
"""

_HEADER_CSS = (
    "<style>.analysis-nav{font-family:system-ui,sans-serif;padding:.6em 1em;margin-bottom:1em;"
    "border-bottom:1px solid #ccc;background:#f6f8fa}.analysis-nav a{margin-right:1em}"
    ".analysis-nav .failed{color:#b00020;font-weight:bold}"
    ".analysis-nav details{margin-top:.4em}.analysis-nav pre{margin:.3em 0;white-space:pre-wrap}"
    # a wide table scrolls inside the page instead of being cut off at the window's edge
    ".jp-RenderedHTMLCommon table{display:block;max-width:100%;overflow-x:auto}</style>"
)


def run_header_html(
    *, name: str, title: str, status: str, error: str | None, commands: Sequence[str] = ()
) -> str:
    """The bar at the top of a run page: back link, title, status (and error), and the
    commands that regenerate the run."""
    esc = html.escape
    parts = [
        _HEADER_CSS,
        '<nav class="analysis-nav">',
        '<a href="../index.html">&larr; all reports</a>',
        f"<strong>{esc(title)}</strong> <code>{esc(name)}</code>",
        ' &middot; <a href="executed.ipynb">notebook</a>',
        ' &middot; <a href="results.json">results.json</a>',
    ]
    if status == "failed":
        parts.append(f'<p class="failed">This run failed: {esc(error or "see below")}</p>')
    if commands:
        parts.append('<details class="regenerate"><summary>Regenerate this page</summary>')
        parts += [f"<pre>{esc(c)}</pre>" for c in commands]
        parts.append("</details>")
    parts.append("</nav>")
    return "".join(parts)


def render_run_page(
    nb: Any,
    *,
    name: str,
    title: str,
    status: str,
    error: str | None = None,
    commands: Sequence[str] = (),
) -> str:
    """HTML of an executed notebook without code cells, with the run header on top."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        extra_loaders=[DictLoader({"analysis_run.html.j2": _RUN_TEMPLATE})],
    )
    exporter.template_file = "analysis_run.html.j2"
    resources = {
        "metadata": {"name": title},
        "analysis_header": run_header_html(
            name=name, title=title, status=status, error=error, commands=commands
        ),
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def render_missing_notebook_page(*, name: str, title: str, error: str) -> str:
    """A run page when execution failed before papermill wrote any notebook."""
    esc = html.escape
    header = run_header_html(name=name, title=title, status="failed", error=error)
    header = header.replace(' &middot; <a href="executed.ipynb">notebook</a>', "")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"</head><body>{header}<pre>{esc(error)}</pre></body></html>\n"
    )


@dataclass(frozen=True)
class IndexEntry:
    """One row of the index page."""

    name: str
    title: str
    notebook: str
    status: str  # a key of STATUS_LABELS
    parameters: Mapping[str, Any]
    results: Mapping[str, Any] | None
    error: str | None = None
    note: str = ""  # e.g. "previous: ok" for kept runs
    has_page: bool = False
    has_notebook: bool = False
    has_results: bool = False


_INDEX_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ddd;padding:.4em .6em;vertical-align:top;text-align:left}
th{background:#f6f8fa}td.status{font-weight:bold;white-space:nowrap}
.ok{color:#1a7f37}.failed{color:#b00020}.skipped-unchanged{color:#0969da}
.kept,.not-built{color:#6e7781}ul{margin:0;padding-left:1.1em}code{font-size:.9em}
.error{color:#b00020;font-size:.9em}.note{color:#6e7781;font-size:.9em}
"""


#: A published ``index_keys`` list names the figures the index shows (in that order); the full
#: set stays on the run's page and in results.json.
INDEX_KEYS = "index_keys"


def _mapping_list(data: Mapping[str, Any] | None, empty: str) -> str:
    if not data:
        return f'<span class="note">{html.escape(empty)}</span>'
    keys = data.get(INDEX_KEYS)
    if isinstance(keys, list) and keys:
        data = {k: data[k] for k in keys if isinstance(k, str) and k in data}
    items = "".join(
        f"<li><code>{html.escape(str(k))}</code> = {html.escape(_value_text(v))}</li>"
        for k, v in data.items()
    )
    return f"<ul>{items}</ul>"


def _value_text(value: Any) -> str:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return _format_value(value)


def render_index(entries: Sequence[IndexEntry], *, heading: str = "Reports") -> str:
    """The site's index page: one table row per run, links relative to the site folder."""
    esc = html.escape
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.status] = counts.get(e.status, 0) + 1
    summary = ", ".join(f"{n} {STATUS_LABELS[s]}" for s, n in sorted(counts.items())) or "no runs"
    rows = []
    for e in entries:
        links = []
        if e.has_page:
            links.append(f'<a href="{esc(e.name)}/index.html">report</a>')
        if e.has_notebook:
            links.append(f'<a href="{esc(e.name)}/executed.ipynb">notebook</a>')
        if e.has_results:
            links.append(f'<a href="{esc(e.name)}/results.json">results.json</a>')
        title = esc(e.title)
        if e.has_page:
            title = f'<a href="{esc(e.name)}/index.html">{title}</a>'
        status = esc(STATUS_LABELS[e.status])
        if e.note:
            status += f'<br><span class="note">{esc(e.note)}</span>'
        if e.error:
            status += f'<br><span class="error">{esc(e.error)}</span>'
        rows.append(
            "<tr>"
            f"<td>{title}<br><code>{esc(e.name)}</code></td>"
            f'<td class="status {esc(e.status)}">{status}</td>'
            f"<td><code>{esc(e.notebook)}</code></td>"
            f"<td>{_mapping_list(e.parameters, 'defaults')}</td>"
            f"<td>{_mapping_list(e.results, 'none published')}</td>"
            f"<td>{' &middot; '.join(links)}</td>"
            "</tr>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="analysis report">\n'
        f"<title>{esc(heading)}</title>\n<style>{_INDEX_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{esc(heading)}</h1>\n<p>{esc(summary)}</p>\n"
        "<table>\n<thead><tr><th>Run</th><th>Status</th><th>Notebook</th><th>Parameters</th>"
        "<th>Headline figures</th><th>Links</th></tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n</body>\n</html>\n"
    )
