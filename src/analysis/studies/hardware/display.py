"""Figures and formatted tables of the hardware-shock study (what its report page shows).

Every function takes a :class:`~analysis.studies.hardware.study.HardwareShocks` (or one of its
frames) and returns a matplotlib ``Figure``, an ``Axes`` (axes-level, seaborn-style: ``data=``,
keyword arguments, ``ax=``) or a pandas ``Styler``; nothing is shown as a side effect. Text from
the data tables is HTML-escaped in every table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis import plots
from analysis.studies.hardware.observations import PRODUCTS, PositionGain
from analysis.studies.hardware.retail import RETAIL_CAVEATS

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from pandas.io.formats.style import Styler

    from analysis.studies.hardware.study import HardwareShocks

__all__ = [
    "events_table",
    "gain_table",
    "observations_table",
    "plot_price_history",
    "plot_retail",
    "plot_rule_week",
    "price_panel",
    "retail_caveats_markdown",
    "retail_skipped_markdown",
    "retail_table",
    "shocks_fx_table",
    "shocks_table",
]

EVENT_COLOR = "#c44e52"


def _day(v) -> str:
    return f"{v:%Y-%m-%d}"


def _thousands(v, _pos=None) -> str:
    return f"{v:,.0f}"


def _product_colors() -> dict:
    import seaborn as sns

    return dict(zip(PRODUCTS, sns.color_palette(n_colors=len(PRODUCTS)), strict=True))


def price_panel(
    data: pd.DataFrame,
    *,
    currency: str,
    unit_kind: str,
    list_prices: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    log: bool = True,
    title: str = "",
    colors: dict | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One panel of price ranges over time: the rows of ``data`` (:func:`.price_paths` with an
    ``approximate`` column) in ``currency`` and ``unit_kind``, one colour per product, with the
    per-card MSRPs of ``list_prices`` as dotted lines and ``events`` (``day0``) as dashed ones."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax = ax if ax is not None else plt.subplots(figsize=(11, 4))[1]
    colors = colors if colors is not None else _product_colors()
    panel = data[(data["currency"] == currency) & (data["unit_kind"] == unit_kind)]
    for product, rows in panel.groupby("product"):
        with sns.color_palette([colors[product]]):
            plots.range_path(rows, hue="product", approximate="approximate", ax=ax)
    if unit_kind == "per_card" and list_prices is not None:  # RTX 4090D shown with RTX 4090
        shown = list_prices[
            (list_prices["currency"] == currency)
            & list_prices["product"].str.startswith(tuple(panel["product"].unique()))
        ]
        for _, m in shown.iterrows():
            ax.axhline(
                m["msrp"],
                color=colors[m["product"]],
                linestyle=":",
                linewidth=1.4,
                label=f"{m['product']} MSRP {m['msrp']:,.0f} {currency} ({m['date_text']})",
            )
    for day0 in events["day0"] if events is not None else ():
        ax.axvline(day0, color=EVENT_COLOR, linestyle="--", linewidth=0.7, alpha=0.8)
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
        ax.yaxis.set_minor_formatter(NullFormatter())
        bottom, top = ax.get_ylim()
        ax.set_ylim(bottom / 1.3, top * 2.5)  # room for the event labels above the points
    else:
        ax.set_ylim(0, ax.get_ylim()[1] * 1.25)
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    unit = "per card" if unit_kind == "per_card" else "per 8-GPU server"
    ax.set_ylabel(f"{currency} {unit}" + (" (log scale)" if log else ""))
    ax.set_title(title, loc="left")
    ax.legend(fontsize="small", loc="lower right", ncol=2, framealpha=0.9)
    return ax


def plot_price_history(study: HardwareShocks, *, figsize=(11, 15)) -> Figure:
    """China prices per card (CNY, USD) and per 8-GPU server, and NVDA's close, over
    ``study.start``..``study.end`` with the export-control events marked."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        4, 1, figsize=figsize, sharex=True, gridspec_kw={"height_ratios": [3, 3, 1.6, 2.2]}
    )
    panels = [
        ("CNY", "per_card", "China prices per card (CNY)", True),
        ("USD", "per_card", "China-market prices per card quoted in USD", True),
        ("CNY", "per_8gpu_server", "China prices per 8-GPU server (CNY)", False),
    ]
    colors = _product_colors()
    for ax, (cur, kind, title, log) in zip(axes, panels, strict=False):
        price_panel(
            study.paths,
            currency=cur,
            unit_kind=kind,
            list_prices=study.list_prices,
            events=study.events,
            log=log,
            title=title,
            colors=colors,
            ax=ax,
        )
    marks = study.events.groupby("day0")["event_id"].agg("/".join)  # one label per day 0
    for day0, ids in marks.items():
        axes[0].annotate(
            ids,
            (day0, 0.99),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize="x-small",
            color=EVENT_COLOR,
        )
    nvda = axes[3]
    plots.price_path(study.nvda, events=study.events, event_x="day0", event_label="", ax=nvda)
    nvda.set_ylabel("NVDA close, USD per share\n(today's units, split-adjusted)")
    nvda.set_title("NVDA share price", loc="left")
    nvda.set_xlim(pd.Timestamp(study.start), pd.Timestamp(study.end))
    nvda.set_xlabel("date")
    fig.tight_layout()
    return fig


def plot_rule_week(study: HardwareShocks, *, figsize=(12, 4.5)) -> Figure:
    """The week either side of the rule: RTX 4090 quotes in China coloured by confidence, with
    the China MSRP (left), and NVDA's close in the units quoted then (right)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    rule = study.rule
    lo, hi = rule - pd.Timedelta(days=7), rule + pd.Timedelta(days=7)
    p = study.paths
    week = p[(p["product"] == "RTX 4090") & (p["currency"] == "CNY") & p["date"].between(lo, hi)]
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize)
    plots.range_path(week, hue="confidence_level", approximate="approximate", ax=left)
    lists = study.list_prices
    for _, m in lists[(lists["product"] == "RTX 4090") & (lists["currency"] == "CNY")].iterrows():
        left.axhline(m["msrp"], color="0.35", linestyle=":", label=f"MSRP {m['msrp']:,.0f} CNY")
    left.axvline(
        rule, color=EVENT_COLOR, linestyle="--", linewidth=0.9, label=f"rule {study.rule_date}"
    )
    left.yaxis.set_major_formatter(FuncFormatter(_thousands))
    left.set_ylabel("RTX 4090, CNY per card")
    left.set_title("RTX 4090 in China", loc="left")
    left.legend(
        fontsize="small", loc="upper left", title="source confidence", title_fontsize="small"
    )
    ev = study.events
    plots.price_path(
        study.nvda_quoted_week,
        events=ev[ev["day0"].between(lo, hi)],
        event_x="day0",
        event_label="event_id",
        ax=right,
        marker="o",
    )
    right.set_ylabel("NVDA close, USD per share (as quoted then)")
    right.set_title("NVDA close", loc="left")
    for ax in (left, right):
        ax.set_xlim(lo, hi)
        ax.tick_params(axis="x", labelrotation=45)
        ax.set_xlabel("date")
    fig.tight_layout()
    return fig


def plot_retail(study: HardwareShocks, *, figsize=(11, 4.5)) -> Figure:
    """US Amazon prices of the compared cards, three windows either side of the rule, with the
    comparison windows dotted. Needs the US retail series (``study.retail`` not None)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    if study.retail is None or study.retail_series is None:
        raise ValueError("no US retail series in this study: run it with hardware_dir set")
    rule, days = study.rule, pd.Timedelta(days=study.retail_window_days)
    series, retail = study.retail_series, study.retail
    shown = series[
        (series["file"] == retail["file"].iloc[0])
        & series["product"].isin(retail["product"])
        & series["date"].between(rule - 3 * days, rule + 3 * days)
    ]
    fig, ax = plt.subplots(figsize=figsize)
    for name, g in shown.groupby("product"):
        ax.plot(g["date"], g["price"], marker="o", markersize=3, linestyle="none", label=name)
    ax.axvline(
        rule, color=EVENT_COLOR, linestyle="--", linewidth=0.9, label=f"rule {study.rule_date}"
    )
    for edge in (rule - days, rule + days):
        ax.axvline(edge, color="0.5", linestyle=":", linewidth=0.8)
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_ylim(0, shown["price"].max() * 1.05)
    ax.set_ylabel("Amazon US Buy Box price, USD per card")
    ax.set_xlabel("date")
    ax.set_title(
        "US Amazon prices: one listing per card, a point per day with a recorded price "
        "(gaps: out of stock or no change recorded); dotted lines: comparison windows",
        loc="left",
        fontsize="medium",
    )
    ax.legend(fontsize="small", ncol=3, loc="upper left", bbox_to_anchor=(0, -0.15))
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------ tables
OBSERVATION_COLUMNS = [
    "obs_id",
    "product",
    "date_text",
    "date_precision",
    "price_low",
    "price_high",
    "currency",
    "unit",
    "is_msrp",
    "market",
    "confidence_level",
    "source_title",
]


def observations_table(hw: pd.DataFrame) -> Styler:
    """Every price row of ``hardware_prices.csv`` as cited, prices with thousands separators."""
    return (
        hw[OBSERVATION_COLUMNS]
        .style.format({"price_low": "{:,.0f}", "price_high": "{:,.0f}"}, na_rep="—", escape="html")
        .hide(axis="index")
    )


def events_table(events: pd.DataFrame) -> Styler:
    """The export-control events marked on the figures: id, day 0, title."""
    return (
        events[["event_id", "day0", "title"]]
        .style.format({"day0": _day}, escape="html")
        .hide(axis="index")
    )


def shocks_table(shocks: pd.DataFrame) -> Styler:
    """Each post-rule observation against its baselines (pre-rule price, MSRP), % changes."""
    cols = [
        "product",
        "obs_id",
        "date",
        "price_low",
        "price_high",
        "currency",
        "confidence_level",
        "baseline",
        "baseline_obs_id",
        "baseline_date",
        "baseline_low",
        "baseline_high",
        "change_low_pct",
        "change_high_pct",
    ]
    fmt: dict[str, Any] = {
        c: "{:,.0f}" for c in ("price_low", "price_high", "baseline_low", "baseline_high")
    }
    fmt |= {"date": _day, "baseline_date": _day}
    fmt |= {"change_low_pct": "{:+.1f}%", "change_high_pct": "{:+.1f}%"}
    return shocks[cols].style.format(fmt, escape="html").hide(axis="index")


def shocks_fx_table(shocks: pd.DataFrame) -> Styler:
    """The post-rule observations in CNY and USD with the CNY=X close (and its date) used."""
    cols = [
        "product",
        "obs_id",
        "date",
        "price_low_cny",
        "price_high_cny",
        "price_low_usd",
        "price_high_usd",
        "fx_date",
        "usd_cny",
    ]
    fmt: dict[str, Any] = {c: "{:,.0f}" for c in cols[3:7]} | {
        "date": _day,
        "fx_date": _day,
        "usd_cny": "{:.4f}",
    }
    return (
        shocks.drop_duplicates("obs_id")[cols].style.format(fmt, escape="html").hide(axis="index")
    )


def gain_table(gain: PositionGain) -> Styler:
    """The holder's cost, value and gain in CNY and USD, with each leg's FX date and rate."""
    fmt: dict[str, Any] = {c: "{:,.0f}" for c in ("cost_total", "value_total", "gain")}
    fmt |= {"cost_fx_date": _day, "mark_fx_date": _day}
    fmt |= {"cost_usd_cny": "{:.4f}", "mark_usd_cny": "{:.4f}"}
    return gain.to_frame().style.format(fmt, escape="html").hide(axis="index")


def retail_table(retail: pd.DataFrame) -> Styler:
    """The US retail comparison: medians before and after, change and excess change."""
    cols = [
        "product",
        "role",
        "n_before",
        "median_before",
        "n_after",
        "median_after",
        "change_pct",
        "excess_change_pct",
        "currency",
        "window",
    ]
    fmt: dict[str, Any] = {"median_before": "{:,.2f}", "median_after": "{:,.2f}"}
    fmt |= {"change_pct": "{:+.1f}%", "excess_change_pct": "{:+.1f}%"}
    return retail[cols].style.format(fmt, na_rep="—", escape="html").hide(axis="index")


def retail_caveats_markdown() -> str:
    """The caveats of the US retail comparison as a Markdown list."""
    return "**Caveats.**\n\n" + "\n".join(f"- {c}" for c in RETAIL_CAVEATS)


def retail_skipped_markdown() -> str:
    """What the page says when no US retail folder was given, and how to give one."""
    return (
        "**Skipped:** no US retail series folder was given. To include this comparison, set "
        "`ANALYSIS_HARDWARE_DIR` to the folder holding `amazon_us_keepa_buybox_daily.csv` and "
        "`toms_hardware_ebay_monthly_us.csv` (e.g. `ANALYSIS_HARDWARE_DIR=../shared/data/"
        "hardware_series`) or run this page with the parameter `hardware_dir` set to it."
    )
