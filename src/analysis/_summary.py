"""The one display pattern of every results class: a ``Summary`` (text and HTML) and its mixin."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from analysis._export import latex_escape as _tex

#: Width of the text summary's rules.
WIDTH = 96


def _float4(v: float) -> str:
    return f"{v:.4f}"


def _tabular(head: Sequence[str], rows: Sequence[Sequence[str]], header: bool = True) -> str:
    """A ``tabular`` of ``rows`` under ``head`` (labels left, numbers right; no head: all left)."""
    spec = "l" + ("r" if header else "l") * (len(head) - 1)
    lines = [rf"\begin{{tabular}}{{{spec}}}", r"\hline"]
    if header:
        lines += [" & ".join(head) + r" \\", r"\hline"]
    lines += [" & ".join(r) + r" \\" for r in rows]
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines)


def _frame_tabular(frame: pd.DataFrame, float_format: Callable[[float], str]) -> str:
    """A frame as a ``tabular``: the index (its levels) first, floats through ``float_format``,
    missing values ``-``."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "-" if v != v else _tex(float_format(v))
        return _tex(v)

    names = [n if n is not None else "" for n in frame.index.names]
    head = [_tex(n) for n in names] + [_tex(c) for c in frame.columns]
    rows = []
    for key, values in zip(frame.index, frame.itertuples(index=False), strict=True):
        keys = key if isinstance(key, tuple) else (key,)
        rows.append([cell(k) for k in keys] + [cell(v) for v in values])
    return _tabular(head, rows)


class Summary:
    """A results summary built from parts, shown as text (``as_text()``, ``str()``) or HTML
    (``as_html()``, ``_repr_html_``), like statsmodels' and linearmodels' ``Summary``.

    Parts, in order: ``header`` (label: value rows), ``table`` (a DataFrame with a caption),
    ``text`` (a paragraph) and ``rule`` (a text separator). The text ends with a double rule.
    """

    def __init__(self, title: str, width: int = WIDTH) -> None:
        self.title = title
        self.width = width
        self._text: list[str] = [title.center(width), "=" * width]
        self._html: list[str] = [f"<p><b>{html.escape(title)}</b></p>"]
        self._latex: list[str] = [rf"\section*{{{_tex(title)}}}"]

    def header(self, rows: Sequence[tuple[str, str]]) -> Summary:
        """Label: value rows (model, dates, counts), closed by a double rule."""
        self._text += [f"{k + ':':<14}{v}" for k, v in rows]
        self._text.append("=" * self.width)
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        self._html.append(f"<table>{cells}</table>")
        self._latex.append(_tabular(["", ""], [[_tex(k), _tex(v)] for k, v in rows], header=False))
        return self

    def table(
        self,
        frame: pd.DataFrame,
        caption: str = "",
        float_format: Callable[[float], str] = _float4,
        text: str | None = None,
    ) -> Summary:
        """A table under a caption; ``text`` replaces the frame's own text rendering."""
        if caption:
            self._text.append(caption)
            self._html.append(f"<p><b>{html.escape(caption)}</b></p>")
        self._text.append(frame.to_string(float_format=float_format) if text is None else text)
        self._html.append(frame.to_html(float_format=float_format, escape=True))
        if caption:
            self._latex.append(rf"\paragraph{{{_tex(caption)}}}")
        self._latex.append(_frame_tabular(frame, float_format))
        return self

    def text(self, paragraph: str) -> Summary:
        """A paragraph (several lines keep their line breaks)."""
        self._text.append(paragraph)
        self._html.append(f"<p>{html.escape(paragraph).replace(chr(10), '<br>')}</p>")
        self._latex.append("\\begin{verbatim}\n" + paragraph + "\n\\end{verbatim}")
        return self

    def rule(self) -> Summary:
        """A single rule between sections (text only)."""
        self._text.append("-" * self.width)
        return self

    def as_text(self) -> str:
        return "\n".join([*self._text, "=" * self.width])

    def as_html(self) -> str:
        return "\n".join(self._html)

    def as_latex(self) -> str:
        """The summary as LaTeX: the title, the header and each table as a ``tabular``, the
        paragraphs verbatim (kept as the text shows them). For a paper's estimates table use the
        results' ``to_latex()``."""
        return "\n\n".join(self._latex) + "\n"

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


class SummaryMixin:
    """``summary()`` builds the :class:`Summary` once (from ``_build_summary``); ``str()``,
    ``repr()`` and ``_repr_html_`` derive from it, so a results object prints nothing by itself
    and shows the same content as text in a terminal and as HTML in Jupyter."""

    def _build_summary(self) -> Summary:
        raise NotImplementedError

    def summary(self) -> Summary:
        """The summary (text with ``as_text()``, HTML with ``as_html()``)."""
        cache: dict[str, Any] = self.__dict__  # frozen dataclasses too: no __setattr__
        if "_summary_cache" not in cache:
            cache["_summary_cache"] = self._build_summary()
        summary: Summary = cache["_summary_cache"]
        return summary

    def __str__(self) -> str:
        return self.summary().as_text()

    def __repr__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary().as_html()
