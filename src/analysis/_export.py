"""Results to files and paper tables: CSV, Excel and a LaTeX estimates table (one implementation).

Every results class gets ``to_csv``, ``to_excel`` and ``to_latex`` from :class:`ExportMixin`;
:func:`latex_table` sets several results side by side, one column per firm (grouped under each
result's label), like statsmodels' ``summary_col``: the estimate with significance stars, its
standard error in parentheses below, and the window and N in the footer.

>>> from analysis import _export as export
>>> text = export.latex_table({"E02": res_e02, "E08": res_e08})   # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis._io import atomic_write_bytes, atomic_write_text
from analysis.errors import SpecificationError

__all__ = [
    "ESTIMATE_COLUMNS",
    "STARS",
    "STAR_NOTE",
    "ExportMixin",
    "PaperTable",
    "latex_escape",
    "latex_table",
    "significance_stars",
    "write_excel",
]

#: Columns of :attr:`PaperTable.estimates` (one row per table column and term).
ESTIMATE_COLUMNS: tuple[str, ...] = ("column", "term", "estimate", "std_error", "pvalue")

#: Stars by the p-value of the row's test (two-sided for CARs and coefficients, upper-tail for
#: the variance-ratio F): the first threshold the p-value is below gives the stars.
STARS: tuple[tuple[float, str], ...] = ((0.01, "***"), (0.05, "**"), (0.10, "*"))

#: The table note on the stars (printed when a row has a p-value; LaTeX, ``<`` in math mode),
#: preceded by
#: :data:`SE_NOTE` when the table shows standard errors.
STAR_NOTE = r"* $p<0.10$, ** $p<0.05$, *** $p<0.01$ (p-value of each row's test)."
SE_NOTE = "Standard errors in parentheses."

#: Characters Excel refuses in a sheet name, and its length limit.
_SHEET_FORBIDDEN = set("[]:*?/\\")
_SHEET_MAX = 31

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


def latex_escape(text: object) -> str:
    """``text`` with LaTeX's special characters escaped (``beta_SPY`` -> ``beta\\_SPY``)."""
    return "".join(_LATEX_SPECIAL.get(c, c) for c in str(text))


def significance_stars(pvalue: float | None) -> str:
    """``***`` below 0.01, ``**`` below 0.05, ``*`` below 0.10, else ``""`` (also for a missing
    p-value): the convention of statsmodels' ``summary_col``."""
    if pvalue is None or not math.isfinite(float(pvalue)):
        return ""
    return next((s for level, s in STARS if float(pvalue) < level), "")


@dataclass(frozen=True)
class PaperTable:
    """What one results object puts in a paper table.

    ``estimates``: one row per table column (e.g. a firm) and ``term`` (e.g. ``CAR[-1,+1]``,
    ``alpha``) with columns :data:`ESTIMATE_COLUMNS`; the estimate is printed with stars from
    ``pvalue`` and the ``std_error`` in parentheses below (NaN leaves the cell empty).
    ``footer``: rows such as ``Window`` and ``N`` (index) by table column, cells printed as
    given. ``note``: a sentence on what the estimates and tests are, added to the table note.
    """

    estimates: pd.DataFrame
    footer: pd.DataFrame | None = None
    note: str = ""

    def __post_init__(self) -> None:
        missing = [c for c in ESTIMATE_COLUMNS if c not in self.estimates.columns]
        if missing:
            raise SpecificationError(
                f"PaperTable.estimates has no column(s) {', '.join(missing)}; it needs "
                f"{', '.join(ESTIMATE_COLUMNS)} (one row per table column and term)"
            )
        if self.estimates.duplicated(["column", "term"]).any():
            dup = self.estimates[self.estimates.duplicated(["column", "term"])].iloc[0]
            raise SpecificationError(
                f"PaperTable.estimates repeats column {dup['column']!r}, term {dup['term']!r}: "
                "give each (column, term) one row"
            )

    @property
    def columns(self) -> list[str]:
        """The table columns in order (first appearance in ``estimates``, then the footer's)."""
        cols = [str(c) for c in self.estimates["column"]]
        if self.footer is not None:
            cols += [str(c) for c in self.footer.columns]
        return list(dict.fromkeys(cols))


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with a named index moved into columns (an unnamed range index is dropped)."""
    names = [n for n in frame.index.names if n is not None]
    if names:
        return frame.reset_index()
    return frame.reset_index(drop=True)


def _frame_of(res: Any) -> pd.DataFrame:
    """``res.to_frame()``, the tidy table every exporting results class provides."""
    frame = res.to_frame()
    if not isinstance(frame, pd.DataFrame):
        raise SpecificationError(
            f"{type(res).__name__}.to_frame() must return a DataFrame to export, "
            f"got {type(frame).__name__}"
        )
    return frame


def _target(path: str | os.PathLike[str], what: str, suffixes: tuple[str, ...] = ()) -> Path:
    p = Path(path)
    if suffixes and p.suffix.lower() not in suffixes:
        raise SpecificationError(
            f"{what} writes {' or '.join(suffixes)} files; {p.name!r} has the suffix "
            f"{p.suffix or '(none)'!r}: name the file e.g. {p.stem or 'results'}{suffixes[0]}"
        )
    if not p.parent.is_dir():
        raise SpecificationError(
            f"{what}: cannot write {p}: the folder {p.parent} does not exist; create it first"
        )
    return p


def _sheet_names(sheets: Mapping[str, pd.DataFrame]) -> None:
    for name in sheets:
        bad = sorted(set(name) & _SHEET_FORBIDDEN)
        if not name or len(name) > _SHEET_MAX or bad:
            raise SpecificationError(
                f"Excel sheet name {name!r} is not allowed: 1 to {_SHEET_MAX} characters, none "
                f"of {' '.join(sorted(_SHEET_FORBIDDEN))}"
            )


def write_excel(sheets: Mapping[str, pd.DataFrame], path: str | os.PathLike[str]) -> Path:
    """Write each frame to its own sheet of an ``.xlsx`` workbook (tidy: a named index becomes
    columns), replacing ``path`` in one step. Missing values are empty cells."""
    p = _target(path, "to_excel", (".xlsx",))
    if not sheets:
        raise SpecificationError("to_excel: no tables to write")
    _sheet_names(sheets)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        for name, frame in sheets.items():
            _tidy(frame).to_excel(xl, sheet_name=name, index=False)
    atomic_write_bytes(p, buf.getvalue())
    return p


class ExportMixin:
    """``to_csv``, ``to_excel`` and ``to_latex`` for a results class, written once.

    To adopt it, a results class inherits it and provides

    * ``to_frame()`` -> DataFrame: its tidy table (``to_csv`` writes it; a named index becomes
      columns), and
    * the hook ``_paper_table()`` -> :class:`PaperTable`: its estimates for a paper table, one
      row per (column, term) with ``estimate``, ``std_error`` and ``pvalue``, plus an optional
      footer (``Window``, ``N``, ...) and note. ``to_latex`` and :func:`latex_table` print it.

    Optionally it overrides ``_export_sheets()`` -> {sheet name: DataFrame}, the sheets of
    ``to_excel`` (default: one sheet ``results`` holding ``to_frame()``).
    """

    def _paper_table(self) -> PaperTable:
        raise NotImplementedError(
            f"{type(self).__name__} has no paper table: give it a _paper_table() hook "
            "(see analysis._export.ExportMixin)"
        )

    def _export_sheets(self) -> dict[str, pd.DataFrame]:
        return {"results": _frame_of(self)}

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the tidy ``to_frame()`` to a CSV file (dates ISO, missing values empty) and
        return its path; ``pd.read_csv`` reads it back."""
        p = _target(path, "to_csv")
        atomic_write_text(p, _tidy(_frame_of(self)).to_csv(index=False))
        return p

    def to_excel(self, path: str | os.PathLike[str]) -> Path:
        """Write every table to its own sheet of an ``.xlsx`` workbook and return its path."""
        return write_excel(self._export_sheets(), path)

    def to_latex(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        digits: int = 4,
        caption: str | None = None,
        label: str | None = None,
    ) -> str:
        """The estimates as a LaTeX tabular, one column per firm: each estimate with stars
        (* 10%, ** 5%, *** 1%), its standard error in parentheses below, the footer (window, N)
        and a note; written to ``path`` too when given. With ``caption`` the tabular is wrapped in
        a ``table`` float."""
        return _latex([(None, self._paper_table())], path, digits, caption, label)


def latex_table(
    results: Mapping[str, Any],
    path: str | os.PathLike[str] | None = None,
    *,
    digits: int = 4,
    caption: str | None = None,
    label: str | None = None,
) -> str:
    """Several results side by side in one LaTeX tabular, like statsmodels' ``summary_col``.

    ``results`` maps a label (e.g. the event id ``"E02"``) to a results object with the
    :class:`ExportMixin` hook; each result's columns (its firms) sit under its label. Terms are
    the union in order of appearance; a term a result does not have is left empty.
    """
    how = "a mapping of label -> results, e.g. {'E02': res_e02, 'E08': res_e08}"
    if not isinstance(results, Mapping):
        raise SpecificationError(f"latex_table() takes {how}; got {type(results).__name__}")
    if not results:
        raise SpecificationError(f"latex_table() got no results: pass {how}")
    blocks: list[tuple[str | None, PaperTable]] = []
    for name, res in results.items():
        hook = getattr(res, "_paper_table", None)
        if hook is None:
            raise SpecificationError(
                f"latex_table(): {name!r} is {type(res).__name__}, which has no paper table "
                "(it needs the ExportMixin hook _paper_table())"
            )
        table = hook()
        if not isinstance(table, PaperTable):
            raise SpecificationError(
                f"latex_table(): {type(res).__name__}._paper_table() must return a PaperTable, "
                f"got {type(table).__name__}"
            )
        blocks.append((str(name), table))
    return _latex(blocks, path, digits, caption, label)


def _number(x: float, digits: int) -> str:
    text = f"{x:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _cells(table: PaperTable, columns: list[str], term: str, digits: int) -> tuple[list, list]:
    est = table.estimates
    rows = est[est["term"] == term].set_index("column")
    top, below = [], []
    for c in columns:
        if c not in rows.index:
            top.append("")
            below.append("")
            continue
        r = rows.loc[c]
        e, se = float(r["estimate"]), float(r["std_error"])
        top.append(_number(e, digits) + significance_stars(r["pvalue"]) if np.isfinite(e) else "")
        below.append(f"({_number(se, digits)})" if np.isfinite(e) and np.isfinite(se) else "")
    return top, below


def _row(cells: list[str]) -> str:
    return " & ".join(cells) + r" \\"


def _latex(
    blocks: list[tuple[str | None, PaperTable]],
    path: str | os.PathLike[str] | None,
    digits: int,
    caption: str | None,
    label: str | None,
) -> str:
    if (
        isinstance(digits, bool)
        or not isinstance(digits, int | np.integer)
        or not 0 <= digits <= 12
    ):
        raise SpecificationError(f"digits must be a whole number from 0 to 12, got {digits!r}")
    target = _target(path, "to_latex") if path is not None else None
    cols = [t.columns for _, t in blocks]
    n = sum(len(c) for c in cols)
    if n == 0:
        raise SpecificationError("to_latex: the results have no estimates to tabulate")
    lines = [rf"\begin{{tabular}}{{l{'c' * n}}}", r"\hline"]
    if any(name is not None for name, _ in blocks):
        group, rules, at = [""], [], 2
        for (name, _), c in zip(blocks, cols, strict=True):
            group.append(rf"\multicolumn{{{len(c)}}}{{c}}{{{latex_escape(name)}}}")
            rules.append(rf"\cline{{{at}-{at + len(c) - 1}}}")
            at += len(c)
        lines += [_row(group), " ".join(rules)]
    lines += [_row(["", *(latex_escape(c) for c in sum(cols, []))]), r"\hline"]
    terms = list(dict.fromkeys(str(t) for _, tb in blocks for t in tb.estimates["term"]))
    with_se = False
    for term in terms:
        top: list[str] = [latex_escape(term)]
        below: list[str] = [""]
        for (_, tb), c in zip(blocks, cols, strict=True):
            a, b = _cells(tb, c, term, digits)
            top += a
            below += b
        lines.append(_row(top))
        if any(below):
            lines.append(_row(below))
            with_se = True
    labels = list(
        dict.fromkeys(str(k) for _, tb in blocks if tb.footer is not None for k in tb.footer.index)
    )
    if labels:
        lines.append(r"\hline")
        for key in labels:
            cells = [latex_escape(key)]
            for (_, tb), c in zip(blocks, cols, strict=True):
                f = tb.footer
                for col in c:
                    has = f is not None and key in f.index and col in f.columns
                    value = f.loc[key, col] if has and f is not None else ""
                    cells.append("" if pd.isna(value) else latex_escape(value))
            lines.append(_row(cells))
    notes = list(dict.fromkeys(tb.note for _, tb in blocks if tb.note))
    starred = any(tb.estimates["pvalue"].notna().any() for _, tb in blocks)
    note = " ".join(
        [
            *([SE_NOTE] if with_se else []),
            *([STAR_NOTE] if starred else []),
            *map(latex_escape, notes),
        ]
    )
    lines += [
        r"\hline",
        rf"\multicolumn{{{n + 1}}}{{p{{0.95\linewidth}}}}{{\footnotesize {note}}} \\",
        r"\end{tabular}",
    ]
    text = "\n".join(lines) + "\n"
    if caption is not None:
        text = (
            "\\begin{table}\n\\centering\n"
            + text
            + f"\\caption{{{latex_escape(caption)}}}\n"
            + (f"\\label{{{label}}}\n" if label else "")
            + "\\end{table}\n"
        )
    if target is not None:
        atomic_write_text(target, text)
    return text
