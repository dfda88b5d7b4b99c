"""Figures, seaborn-style: each takes ``data=`` (a tidy frame, or a results object where noted) and
keyword names, accepts ``ax=``, and returns the Axes. Nothing is shown or saved here."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from scipy import stats

from analysis.errors import SpecificationError


def _ax(ax: Axes | None, figsize=(8, 4.5)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _need(data: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise SpecificationError(
            f"{what}: data has no column(s) {', '.join(missing)}; it has {', '.join(map(str, data.columns))}"
        )


def _tidy(data) -> pd.DataFrame:
    return (
        data.to_frame()
        if hasattr(data, "to_frame") and not isinstance(data, pd.DataFrame)
        else data
    )


def car_path(
    data,
    *,
    x: str = "day",
    y: str = "car",
    se: str | None = "car_se",
    hue: str | None = "firm",
    level: float = 0.95,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Cumulative abnormal return by event day with a ``level`` confidence band.

    ``data`` is ``EventStudyResults.to_frame()`` (or the results object itself). The band is
    CAR +/- z * se with se from the exact CAR variance (normal quantile; the per-firm t quantile
    differs by < 1% for 200+ estimation days).
    """
    df = _tidy(data)
    _need(df, [x, y] + ([se] if se else []) + ([hue] if hue else []), "car_path")
    ax = _ax(ax)
    z = stats.norm.ppf(0.5 + level / 2)
    groups = df.groupby(hue, sort=False) if hue else [(None, df)]
    palette = sns.color_palette(n_colors=max(1, df[hue].nunique() if hue else 1))
    for (name, g), color in zip(groups, palette, strict=False):
        g = g.sort_values(x)
        ax.plot(g[x], g[y], marker="o", color=color, label=name, **kwargs)
        if se:
            ax.fill_between(
                g[x], g[y] - z * g[se], g[y] + z * g[se], color=color, alpha=0.15, linewidth=0
            )
    ax.axhline(0, color="0.4", linewidth=0.8)
    ax.axvline(0, color="0.4", linewidth=0.8, linestyle="--")
    ax.set_xlabel("trading day relative to day 0")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_ylabel("cumulative abnormal return")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    if hue and df[hue].nunique() <= 15:
        ax.legend(title=f"{int(level * 100)}% band shaded", fontsize="small")
    return ax


def ar_bars(
    data: pd.DataFrame,
    *,
    x: str = "firm",
    y: str = "car",
    ax: Axes | None = None,
    highlight: str | None = None,
    **kwargs,
) -> Axes:
    """Horizontal bars of one value per firm (e.g. CAR), sorted, with an optional highlighted firm."""
    _need(data, [x, y], "ar_bars")
    ax = _ax(ax, figsize=(7, max(2.5, 0.35 * len(data) + 1)))
    d = data.sort_values(y)
    colors = [
        "#c44e52"
        if highlight is not None and f == highlight
        else ("#4c72b0" if v >= 0 else "#dd8452")
        for f, v in zip(d[x], d[y], strict=True)
    ]
    ax.barh(d[x].astype(str), d[y], color=colors, **kwargs)
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel(y)
    return ax


def price_path(
    data: pd.DataFrame,
    *,
    x: str = "date",
    y: str = "close",
    events: pd.DataFrame | None = None,
    event_x: str = "day0",
    event_label: str = "label",
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """A price line with events marked by vertical lines (``events`` has ``event_x`` dates and labels)."""
    _need(data, [x, y], "price_path")
    ax = _ax(ax)
    ax.plot(data[x], data[y], color=kwargs.pop("color", "#4c72b0"), **kwargs)
    if events is not None and len(events):
        _need(events, [event_x], "price_path events")
        top = np.nanmax(data[y].to_numpy())
        for _, ev in events.iterrows():
            ax.axvline(ev[event_x], color="#c44e52", linestyle="--", linewidth=0.9)
            if event_label in events.columns:
                ax.annotate(
                    str(ev[event_label]),
                    (ev[event_x], top),
                    rotation=90,
                    va="top",
                    ha="right",
                    fontsize="x-small",
                    color="#c44e52",
                )
    ax.set_xlabel("")
    ax.set_ylabel(y)
    return ax


def range_path(
    data: pd.DataFrame,
    *,
    x: str = "date",
    low: str = "price_low",
    high: str = "price_high",
    hue: str | None = None,
    approximate: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Sparse observations drawn as low-high ranges (vertical bars with markers) -- never a smooth
    line through them. Rows flagged in the boolean column ``approximate`` get hollow markers."""
    _need(data, [x, low, high] + ([hue] if hue else []), "range_path")
    ax = _ax(ax)
    groups = data.groupby(hue, sort=False) if hue else [(None, data)]
    palette = sns.color_palette(n_colors=max(1, data[hue].nunique() if hue else 1))
    for (name, g), color in zip(groups, palette, strict=False):
        approx = g[approximate].astype(bool).to_numpy() if approximate else np.zeros(len(g), bool)
        ax.vlines(g[x], g[low], g[high], color=color, linewidth=3, alpha=0.7, label=name)
        mid = (g[low] + g[high]) / 2
        ax.scatter(g[x][~approx], mid[~approx], color=color, zorder=3)
        ax.scatter(g[x][approx], mid[approx], facecolors="none", edgecolors=color, zorder=3)
    if hue:
        ax.legend(fontsize="small")
    return ax


def scatter_fit(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    label: str | None = None,
    hue: str | None = None,
    ax: Axes | None = None,
    fit: bool = True,
) -> Axes:
    """Scatter of ``y`` on ``x`` with point labels and an OLS line (no band: n is small)."""
    _need(data, [x, y] + ([label] if label else []) + ([hue] if hue else []), "scatter_fit")
    ax = _ax(ax, figsize=(6.5, 4.5))
    sns.scatterplot(data=data, x=x, y=y, hue=hue, ax=ax, s=60)
    if label:
        for _, r in data.iterrows():
            ax.annotate(
                str(r[label]),
                (r[x], r[y]),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize="small",
            )
    d = data[[x, y]].dropna()
    if fit and len(d) >= 3:
        b, a = np.polyfit(d[x], d[y], 1)
        xs = np.linspace(d[x].min(), d[x].max(), 50)
        ax.plot(xs, a + b * xs, color="0.3", linewidth=1, linestyle="--")
    ax.axhline(0, color="0.6", linewidth=0.6)
    return ax


def heatmap(
    data: pd.DataFrame,
    *,
    index: str,
    columns: str,
    values: str,
    ax: Axes | None = None,
    fmt: str = ".1%",
    center: float = 0.0,
    **kwargs,
) -> Axes:
    """A labelled heatmap of ``values`` pivoted on ``index`` x ``columns`` (e.g. a robustness grid)."""
    _need(data, [index, columns, values], "heatmap")
    table = data.pivot_table(
        index=index, columns=columns, values=values, aggfunc="first", sort=False
    )
    ax = _ax(ax, figsize=(max(5, 1.2 * table.shape[1] + 2), max(3, 0.45 * table.shape[0] + 1)))
    sns.heatmap(table, annot=True, fmt=fmt, center=center, cmap="RdBu", ax=ax, cbar=False, **kwargs)
    ax.set_xlabel(columns)
    ax.set_ylabel(index)
    return ax


def forest(
    data: pd.DataFrame,
    *,
    y: str,
    x: str,
    low: str,
    high: str,
    hue: str | None = None,
    ax: Axes | None = None,
    fmt: str = "{:+.1%}",
) -> Axes:
    """A forest plot: one row per ``y`` label (top to bottom in data order), the point ``x`` with
    its interval ``low``..``high``; with ``hue`` the groups are drawn side by side in each row."""
    _need(data, [y, x, low, high] + ([hue] if hue else []), "forest")
    d = data.reset_index(drop=True)
    labels = list(dict.fromkeys(d[y]))
    groups = list(dict.fromkeys(d[hue])) if hue else [None]
    ax = _ax(ax, figsize=(8, 0.55 * len(labels) + 1.5))
    colors = sns.color_palette("deep", len(groups))
    step = 0.28 if len(groups) > 1 else 0.0
    for k, (group, color) in enumerate(zip(groups, colors, strict=True)):
        sub = d if group is None else d[d[hue] == group]
        pos = np.array([labels.index(v) for v in sub[y]]) + (k - (len(groups) - 1) / 2) * step
        ax.errorbar(
            sub[x],
            pos,
            xerr=[sub[x] - sub[low], sub[high] - sub[x]],
            fmt="o",
            color=color,
            capsize=3,
            markersize=5,
            label=str(group) if group is not None else None,
        )
    ax.axvline(0, color="0.5", linewidth=0.8)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt.format(v)))
    ax.set_xlabel(x)
    if hue:
        ax.legend(title=hue, loc="best", fontsize="small")
    return ax


def _event_weeks(ax: Axes, marks, ylabel: str) -> Axes:
    """The frame of a plot in weeks from a rule's publication: zero line, each of ``marks``
    (label -> event week) as a dashed line, labels and legend."""
    ax.axhline(0, color="0.3", lw=0.8)
    for i, (label, wk) in enumerate((marks or {}).items()):
        ax.axvline(wk, color=f"C{3 + i}", ls="--", lw=1, label=label)
    ax.set_xlabel("weeks from the rule's publication week")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax


def event_time_coefficients(
    data: pd.DataFrame,
    *,
    x: str = "event_week",
    y: str = "coef",
    marks=None,
    band: bool = True,
    ax=None,
):
    """Coefficients with CR1 95% bars and the placebo cards' range as a band; ``marks`` maps a
    label to an event week drawn as a dashed line."""
    ax = _ax(ax, figsize=(11, 4.5))
    d = data.sort_values(x)
    if band and "placebo_low" in d:
        ax.fill_between(
            d[x], d["placebo_low"], d["placebo_high"], color="0.85", label="placebo cards' range"
        )
    if "cr1_low" in d:
        ax.errorbar(
            d[x],
            d[y],
            yerr=[d[y] - d["cr1_low"], d["cr1_high"] - d[y]],
            fmt="o",
            ms=3,
            color="C0",
            ecolor="C0",
            elinewidth=0.8,
            label="coefficient, CR1 95% (omits the treated card's own noise)",
        )
    else:
        ax.plot(d[x], d[y], "o", ms=3, color="C0")
    return _event_weeks(ax, marks, "log price vs controls (ref. week -1)")


def synthetic_gap(
    data: pd.DataFrame,
    *,
    placebo: pd.DataFrame | None = None,
    x: str = "event_week",
    y: str = "gap",
    marks=None,
    ax=None,
):
    """The treated card's synthetic-control gap, with each placebo card's gap in grey."""
    ax = _ax(ax, figsize=(11, 4.5))
    if placebo is not None and len(placebo):
        for i, (_, g) in enumerate(placebo.groupby("card")):
            ax.plot(g[x], g[y], color="0.7", lw=0.9, label="placebo cards" if i == 0 else None)
    ax.plot(data[x], data[y], color="C0", lw=1.8, marker="o", ms=3, label="treated - synthetic")
    return _event_weeks(ax, marks, "gap, log points")


# ---- vector figures for papers ------------------------------------------------------------------

#: The vector formats :func:`save_figure` writes, by file suffix.
VECTOR_SUFFIXES: tuple[str, ...] = (".pdf", ".svg", ".eps")

#: Raster suffixes :func:`save_figure` refuses (a paper figure is vector).
RASTER_SUFFIXES: tuple[str, ...] = (
    ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".gif", ".bmp", ".raw", ".rgba", ".ppm",
)  # fmt: skip


def _figure_of(fig_or_ax):
    """The Figure of a Figure, SubFigure or Axes (a clear error for anything else)."""
    from matplotlib.figure import Figure, SubFigure

    fig = fig_or_ax.figure if isinstance(fig_or_ax, Axes) else fig_or_ax
    while isinstance(fig, SubFigure):
        fig = fig.figure
    if not isinstance(fig, Figure):
        raise SpecificationError(
            "save_figure takes a matplotlib Figure or Axes (e.g. the Axes car_path returns), "
            f"got {type(fig_or_ax).__name__}"
        )
    return fig


def _blend(rgba, background) -> tuple[float, float, float, float]:
    """The opaque colour ``rgba`` shows when drawn over ``background``."""
    from matplotlib.colors import to_rgba

    r, g, b, a = to_rgba(rgba)
    br, bg, bb, _ = to_rgba(background)
    return (r * a + br * (1 - a), g * a + bg * (1 - a), b * a + bb * (1 - a), 1.0)


def _opaque(fig) -> list[tuple]:
    """For PostScript, which has no transparency: every partly transparent collection, patch
    and line gets the opaque colour it shows over its axes' background, and filled collections
    (a CAR band) go beneath the lines. Returns (artist, alpha, face, edge, zorder) to undo it."""
    from matplotlib.collections import Collection
    from matplotlib.colors import to_rgba
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    undo: list[tuple] = []
    for art in fig.findobj(lambda a: isinstance(a, Collection | Line2D | Patch)):
        bg = art.axes.get_facecolor() if art.axes is not None else fig.get_facecolor()
        if isinstance(art, Line2D):
            color = to_rgba(art.get_color(), art.get_alpha())
            if color[3] >= 1:
                continue
            undo.append((art, art.get_alpha(), art.get_color(), None, art.get_zorder()))
            art.set_alpha(None)
            art.set_color(_blend(color, bg))
            continue
        multi = isinstance(art, Collection)
        fc = np.atleast_2d(art.get_facecolor())
        ec = np.atleast_2d(art.get_edgecolor())
        part = [c for c in (fc, ec) if c.size and ((c[:, 3] > 0) & (c[:, 3] < 1)).any()]
        if not part:
            continue
        undo.append((art, art.get_alpha(), art.get_facecolor(), art.get_edgecolor(), None))
        art.set_alpha(None)
        new_fc = [_blend(c, bg) if c[3] > 0 else tuple(c) for c in fc] if fc.size else fc
        new_ec = [_blend(c, bg) if c[3] > 0 else tuple(c) for c in ec] if ec.size else ec
        art.set_facecolor(new_fc if multi else new_fc[0])
        art.set_edgecolor(new_ec if multi else new_ec[0])
        if multi and fc.size and (fc[:, 3] > 0).any() and art.get_zorder() > 1.5:
            undo[-1] = (*undo[-1][:4], art.get_zorder())
            art.set_zorder(1.5)
    return undo


def _restore(undo: list[tuple]) -> None:
    for art, alpha, face, edge, zorder in reversed(undo):
        art.set_alpha(alpha)
        if edge is None:  # a line
            art.set_color(face)
        else:
            art.set_facecolor(face)
            art.set_edgecolor(edge)
        if zorder is not None:
            art.set_zorder(zorder)


def save_figure(fig_or_ax, path, *, bbox_inches: str | None = "tight"):
    """Write a figure (or the figure of an Axes) as vector graphics for a paper and return the
    path: PDF, SVG or EPS chosen by the suffix of ``path``; a raster suffix (``.png``, ...) is
    refused. Every artist is written as vector paths (rasterized artists are drawn as vectors
    for this file); a figure holding a raster image (``imshow``) is refused. Fonts are embedded
    as TrueType (Type 42) in PDF and EPS, as paths in SVG; PDF and SVG get no creation date and
    SVG fixed element ids, so the same figure gives the same file. PostScript has no
    transparency: for EPS a partly transparent colour (a confidence band) is written as the
    opaque colour it shows over the axes' background, beneath the lines."""
    from pathlib import Path

    import matplotlib as mpl
    from matplotlib.image import AxesImage, BboxImage, FigureImage

    fig = _figure_of(fig_or_ax)
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in RASTER_SUFFIXES:
        raise SpecificationError(
            f"save_figure writes vector files for papers; {p.name!r} is a raster format "
            f"({suffix}): use {', '.join(VECTOR_SUFFIXES)} (or call fig.savefig for a raster image)"
        )
    if suffix not in VECTOR_SUFFIXES:
        raise SpecificationError(
            f"save_figure: cannot tell the format of {p.name!r} (suffix {suffix or '(none)'!r}); "
            f"end the file name with one of {', '.join(VECTOR_SUFFIXES)}"
        )
    if not p.parent.is_dir():
        raise SpecificationError(
            f"save_figure: cannot write {p}: the folder {p.parent} does not exist; create it first"
        )
    images = fig.findobj(lambda a: isinstance(a, AxesImage | BboxImage | FigureImage))
    if images:
        raise SpecificationError(
            f"save_figure: the figure holds {len(images)} raster image(s) "
            f"({type(images[0]).__name__}, e.g. from imshow), which cannot be written as vector "
            "paths; draw the data with pcolormesh or save a raster file with fig.savefig"
        )
    rasterized = [a for a in fig.findobj() if a.get_rasterized()]
    for a in rasterized:
        a.set_rasterized(False)
    undo = _opaque(fig) if suffix == ".eps" else []
    metadata = {".pdf": {"CreationDate": None}, ".svg": {"Date": None}}.get(suffix)
    try:
        # TrueType fonts; a fixed salt for SVG's element ids: the same figure gives the same file
        with mpl.rc_context(
            {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "path", "svg.hashsalt": "a"}
        ):
            fig.savefig(p, format=suffix[1:], bbox_inches=bbox_inches, metadata=metadata)
    finally:
        _restore(undo)
        for a in rasterized:
            a.set_rasterized(True)
    return p


def save_car_path(data, path, *, level: float = 0.95, figsize=(6.0, 3.6), **kwargs):
    """A CAR figure for a paper: :func:`car_path` (the CAR by event day with its ``level`` band)
    on a new figure of ``figsize`` inches, written by :func:`save_figure` (PDF, SVG or EPS by
    suffix) and closed; returns the path."""
    fig, ax = plt.subplots(figsize=figsize)
    try:
        car_path(data, level=level, ax=ax, **kwargs)
        fig.tight_layout()
        return save_figure(fig, path)
    finally:
        plt.close(fig)
