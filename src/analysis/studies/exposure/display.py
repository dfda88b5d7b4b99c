"""Figures and formatted tables of the China-exposure study (what its report page shows).

Every function takes a :class:`~analysis.studies.exposure.study.ChinaExposure` (or one of its
frames) and returns a matplotlib ``Figure``, an ``Axes`` (axes-level, seaborn-style: ``data=``,
keyword arguments, ``ax=``) or a pandas ``Styler``; nothing is shown as a side effect. Text from
the data tables is HTML-escaped in every table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis import plots

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from pandas.io.formats.style import Styler

    from analysis.studies.exposure.study import ChinaExposure

__all__ = [
    "bases_table",
    "car_table",
    "china_share_plot",
    "china_share_table",
    "day0_table",
    "exposure_table",
    "plot_car_vs_share",
    "plot_cars",
    "region_levels_table",
    "region_shares_table",
    "verdict_table",
]


def _day(v) -> str:
    return f"{v:%Y-%m-%d}"


def _pct(v) -> str:
    return f"{v:.1%}"


def _billions(v) -> str:
    return f"{v / 1e9:,.1f}"


def _region_order(by_region: pd.DataFrame) -> list[str]:
    regions = by_region.pivot(index="region", columns="column", values="revenue").index
    return [r for r in regions if r != "Total"] + ["Total"]


def region_levels_table(by_region: pd.DataFrame) -> Styler:
    """Revenue by region (rows) and fiscal year / presentation (columns), USD millions."""
    levels = by_region.pivot(index="region", columns="column", values="revenue")
    return levels.loc[_region_order(by_region)].style.format("{:,.0f}", na_rep="—", escape="html")


def region_shares_table(by_region: pd.DataFrame) -> Styler:
    """The same as shares of each year's reported total revenue."""
    shares = by_region.pivot(index="region", columns="column", values="share")
    return shares.loc[_region_order(by_region)].style.format(_pct, na_rep="—", escape="html")


def bases_table(revenue: pd.DataFrame) -> Styler:
    """What each fiscal year / presentation measures: basis, filing, confidence."""
    cols = [
        "fiscal_year",
        "fiscal_year_label",
        "period_end",
        "presentation",
        "geography_basis",
        "basis_note",
        "source_filing",
        "confidence_level",
    ]
    return (
        revenue.drop_duplicates(["fiscal_year", "presentation"])[cols]
        .style.format({"period_end": _day}, escape="html")
        .hide(axis="index")
    )


def china_share_plot(data: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """China share of revenue by fiscal year end, one line per basis and presentation, each
    point labelled; ``data``: :func:`.china_share_series`."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import PercentFormatter

    ax = ax if ax is not None else plt.subplots(figsize=(9, 4.5))[1]
    china = data.assign(series=data["basis"] + ", " + data["presentation"])
    sns.lineplot(
        data=china,
        x="period_end",
        y="share",
        hue="series",
        style="series",
        markers=True,
        dashes=False,
        ax=ax,
    )
    for _, r in china.drop_duplicates(["fiscal_year", "basis", "share"]).iterrows():
        ax.annotate(
            f"{r['fiscal_year']}: {r['share']:.1%}",
            (r["period_end"], r["share"]),
            textcoords="offset points",
            xytext=(4, 6),
            fontsize="x-small",
        )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(0, china["share"].max() * 1.2)
    ax.set_xlabel("fiscal year end")
    ax.set_ylabel("China incl. Hong Kong, share of revenue")
    ax.set_title("Nvidia: China share of revenue by fiscal year", loc="left")
    ax.legend(title="basis, presentation", fontsize="small", loc="lower left")
    return ax


def china_share_table(china: pd.DataFrame) -> Styler:
    """The China share series with its change in percentage points and confidence."""
    cols = [
        "fiscal_year",
        "basis",
        "presentation",
        "china",
        "total",
        "share",
        "change_pp",
        "confidence_level",
    ]
    fmt: dict[str, Any] = {
        "china": "{:,.0f}",
        "total": "{:,.0f}",
        "share": _pct,
        "change_pp": "{:+.1f} pp",
    }
    return china[cols].style.format(fmt, na_rep="—", escape="html").hide(axis="index")


def verdict_table(verdict: pd.DataFrame) -> Styler:
    """Per event: prices, return, shares, market value lost, China revenue, implied multiple."""
    cols = [
        "event_id",
        "title",
        "start",
        "end",
        "price_start",
        "price_end",
        "return_pct",
        "shares",
        "shares_as_of",
        "market_value_lost_usd",
        "china_fiscal_year",
        "china_revenue_usd",
        "implied_multiple",
    ]
    names = {
        "shares": "shares (bn)",
        "market_value_lost_usd": "value lost (USD bn)",
        "china_revenue_usd": "China revenue (USD bn)",
    }
    fmt: dict[str, Any] = {
        "start": _day,
        "end": _day,
        "shares_as_of": _day,
        "price_start": "{:,.2f}",
        "price_end": "{:,.2f}",
        "return_pct": "{:+.1f}%",
        "shares (bn)": lambda v: f"{v / 1e9:,.2f}",
        "value lost (USD bn)": _billions,
        "China revenue (USD bn)": _billions,
        "implied_multiple": "{:+.2f}",
    }
    return verdict[cols].rename(columns=names).style.format(fmt, escape="html").hide(axis="index")


def exposure_table(exposure: pd.DataFrame) -> Styler:
    """Each firm's China share as used in the cross-section (:func:`.exposure_snapshot`)."""
    return exposure.style.format(
        {"fiscal_year_end": _day, "china_share": _pct}, escape="html"
    ).hide(axis="index")


def day0_table(study: ChinaExposure) -> Styler:
    """Day 0 of each event and the calendar rule's reason."""
    return study.day0_table().style.format({"day0": _day}, escape="html").hide(axis="index")


def car_table(study: ChinaExposure) -> Styler:
    """CAR of every firm (rows) in every event (columns)."""
    wide = study.cars.pivot(index="symbol", columns="event_id", values="car")
    return wide[list(study.event_ids)].style.format("{:+.2%}", escape="html")


def _grid(n: int, figsize_per: tuple[float, float], **kw):
    import matplotlib.pyplot as plt

    ncols = min(3, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(figsize_per[0] * ncols, figsize_per[1] * nrows + kw.pop("extra", 0)),
        squeeze=False,
        **kw,
    )
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return fig, axes


def plot_cars(study: ChinaExposure) -> Figure:
    """One bar chart of CARs per event, NVDA highlighted."""
    n, label = len(study.event_ids), study.window_label
    fig, axes = _grid(n, (4.2, 0.4 * len(study.firms)), extra=1.5, sharex=True)
    for ax, e in zip(axes.flat, study.event_ids, strict=False):
        cars = study.cars[study.cars["event_id"] == e]
        plots.ar_bars(cars, x="symbol", y="car", highlight="NVDA", ax=ax)
        ax.set_title(f"{e}: CAR {label}", loc="left", fontsize="medium")
        ax.set_xlabel(f"CAR {label}")
    fig.suptitle("Cumulative abnormal return per firm and event (NVDA in red)", x=0.01, ha="left")
    fig.tight_layout()
    return fig


def plot_car_vs_share(study: ChinaExposure) -> Figure:
    """CAR against China share per event, for the firm-events of the regression, each panel
    with its own least-squares line."""
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    data, label = study.regression.data, study.window_label
    fig, axes = _grid(len(study.event_ids), (4.2, 3.6), sharex=True, sharey=True)
    for ax, e in zip(axes.flat, study.event_ids, strict=False):
        plots.scatter_fit(
            data[data["event_id"] == e], x="china_share", y="car", label="symbol", ax=ax
        )
        ax.set_title(e, loc="left", fontsize="medium")
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.set_xlabel("China share of revenue")
        ax.set_ylabel(f"CAR {label}")
    fig.tight_layout()
    return fig
