"""How the report notebooks show results: tables and figures in the formats a reader expects.

Returns in percent (two decimals for one event, one for summaries), p-values with three decimals,
dates as ``YYYY-MM-DD``; text from the data is escaped, never run as HTML. Each function returns
a pandas ``Styler``, a list of things to ``display`` or a matplotlib object, and prints nothing,
so a JupyterLab user can call the same functions on other results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from analysis import plots
from analysis.data import calendar
from analysis.eventstudy import robustness
from analysis.eventstudy.results import EventStudyResults
from analysis.eventstudy.study import compare

#: Colours of the fact-check verdicts (green, red, grey).
VERDICT_COLORS = {"consistent": "#dff0d8", "inconsistent": "#f2dede", "not verifiable": "#eeeeee"}

_DAY = "{:%Y-%m-%d}"
_P = "{:.3f}"


def set_display_options() -> None:
    """pandas options of the report notebooks: numbers with 4 decimals, whole cell texts, and
    text from the data escaped in styled tables."""
    pd.set_option("display.float_format", lambda v: f"{v:,.4f}")
    pd.set_option("display.max_colwidth", None)
    pd.set_option("styler.format.escape", "html")


def ar_table(res: EventStudyResults) -> Styler:
    """Day by day: return, expected return, AR and CAR with their standard errors and t."""
    cols = ["firm", "day", "date", "return", "expected", "ar", "ar_se", "ar_t", "car"]
    cols += ["car_se", "car_t"]
    fmt = {c: "{:+.2%}" for c in ("return", "expected", "ar", "car")}
    fmt |= {
        "date": _DAY,
        "ar_se": "{:.2%}",
        "car_se": "{:.2%}",
        "ar_t": "{:+.2f}",
        "car_t": "{:+.2f}",
    }
    return res.to_frame()[cols].style.hide(axis="index").format(fmt)


def confounders_table(res: EventStudyResults) -> Styler | None:
    """Other news in the event window (:meth:`EventStudyResults.confounders`); None if none."""
    conf = res.confounders()
    if not len(conf):
        return None
    return conf.style.hide(axis="index").format({"date": _DAY, "news_day0": _DAY})


def benchmark_comparison(results: Mapping[str, EventStudyResults]) -> Styler:
    """:func:`analysis.eventstudy.compare` of studies under several benchmarks, formatted."""
    return compare(results).style.format(
        {"day0": _DAY, "car": "{:+.2%}", "se": "{:.2%}", "t": "{:+.2f}", "pvalue": _P}
    )


def robustness_views(grid: pd.DataFrame, symbols: Sequence[str], estimation: str) -> list[Any]:
    """What an event page shows of a robustness grid, in order: one sentence per firm (str), a
    heatmap of the CAR by specification x window per firm (Figure), the p-value table (Styler)
    and the specifications that could not be estimated (DataFrame), if any."""
    if not len(grid):
        return []
    views: list[Any] = [" ".join(robustness.summarize(grid, s) for s in symbols)]
    for sym in symbols:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        data = robustness.specifications(grid, sym, estimation)
        plots.heatmap(data, index="spec", columns="window", values="car", ax=ax)
        ax.set_title(f"{sym}: CAR by specification (estimation {estimation})")
        plt.close(fig)  # shown where the notebook displays it, not again at the cell's end
        views.append(fig)
    views.append(
        robustness.pvalue_table(grid)
        .style.format(_P)
        .set_caption("p-value of the CAR (prediction-error t) by specification")
    )
    failed = grid[grid["error"] != ""]
    if len(failed):
        views.append(failed[["model", "benchmark", "estimation", "window", "error"]])
    return views


def price_panels(symbols: Sequence[str], day0: pd.Timestamp, days: int = 90) -> Figure:
    """Each firm's close in the units quoted at the time, ``days`` calendar days either side of
    ``day0`` (marked), one panel per firm."""
    from analysis.data import prices

    fig, axes = plt.subplots(len(symbols), 1, figsize=(8, 3.2 * len(symbols)), squeeze=False)
    span = pd.Timedelta(days=days)
    marks = pd.DataFrame({"day0": [day0], "label": [f"day 0 {day0:%Y-%m-%d}"]})
    for ax, sym in zip(axes[:, 0], symbols, strict=True):
        path = prices.quoted_close(sym, day0 - span, day0 + span).reset_index()
        plots.price_path(data=path, x="date", y="quoted_close", events=marks, ax=ax)
        ax.set_title(f"{sym} close, USD in the units quoted at the time")
        ax.set_ylabel("USD per share")
    fig.tight_layout()
    plt.close(fig)
    return fig


# --------------------------------------------------------------------------- the front page


def episode_forest(
    evidence: Any, ax: Axes | None = None, synthetic: pd.DataFrame | None = None
) -> Axes:
    """Forest plot of a firm's episodes (:class:`analysis.studies.findings.EpisodeEvidence`):
    CAR with its 95% interval, one row per episode, both benchmarks side by side, and the
    synthetic match (:func:`analysis.studies.findings.synthetic_episodes`) where given."""
    ep = evidence.to_frame()
    if synthetic is not None:
        ep = pd.concat([ep, synthetic], ignore_index=True)
    ep["label"] = ep["episode"] + " (" + ep["day0"].dt.strftime("%Y-%m-%d") + ")"
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 5))
    plots.forest(ep, y="label", x="car", low="low", high="high", hue="benchmark", ax=ax)
    ax.legend(title="benchmark", loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    window = calendar.format_window(evidence.window)
    ax.set_xlabel(f"CAR over {window} around day 0, 95% interval")
    ax.set_ylabel("")
    return ax


def peer_heatmap(peers: Any, roles: Mapping[str, list[str]], ax: Axes | None = None) -> Axes:
    """CAR by firm (grouped by ``roles``: role -> firms) and BIS rule
    (:class:`analysis.studies.findings.PeerReactions`)."""
    ax = plots.heatmap(
        peers.by_role(dict(roles)), index="firm", columns="event", values="car", ax=ax
    )
    window = calendar.format_window(peers.window)
    ax.set_title(f"CAR {window} by firm and BIS rule (market model, {peers.benchmark})")
    return ax


#: Reader's names of the group-test columns (:attr:`PeerReactions.tests`).
GROUP_TEST_LABELS = {
    "day0": "day 0",
    "caar": "CAAR",
    "n": "firms",
    "kp_bmp_pvalue": "KP-BMP p",
    "bw_cda_pvalue": "BW-CDA p",
    "grank_pvalue": "GRANK p",
    "wild_bootstrap_pvalue": "wild bootstrap p",
}


def group_tests(peers: Any) -> Styler:
    """A peer group's CAAR and clustering-robust p-values per BIS rule."""
    frame = peers.tests.rename(columns=GROUP_TEST_LABELS).rename_axis("BIS rule")
    ps = {c: _P for c in frame.columns if str(c).endswith(" p")}
    return frame.style.format({"day 0": _DAY, "CAAR": "{:+.1%}", **ps}).set_caption(
        "Group CAAR and clustering-robust p-values per BIS rule"
    )


def size_table(size: Any, level: float = 0.99) -> Styler:
    """How often each test rejects at its nominal level when there is no effect, simulated for
    this design (:meth:`analysis.eventstudy.power.PowerResult.size_check`), beside the range an
    exactly sized test falls in."""
    alpha = size.setup.alpha
    check = size.size_check(level)
    band = [
        f"{lo:.1%} to {hi:.1%}" if np.isfinite(lo) else ""
        for lo, hi in zip(check["band_lower"], check["band_upper"], strict=True)
    ]
    frame = pd.DataFrame(
        {
            f"rejects at {alpha * 100:g}%": check["size"].to_numpy(),
            "simulations": check["n_sims"].to_numpy(),
            f"exact test ({level:.0%} of the time)": band,
            "verdict": check["verdict"].fillna("not computed").to_numpy(),
        },
        index=[
            str(GROUP_TEST_LABELS.get(f"{t}_pvalue", t)).removesuffix(" p") for t in check.index
        ],
    )
    return (
        frame.rename_axis("test")
        .style.format({f"rejects at {alpha * 100:g}%": "{:.1%}"}, na_rep="")
        .set_caption(
            f"Rejection rate with no effect in {size.setup.n_sims:,} simulations of this design "
            "(whole estimation days redrawn, so the firms' correlation is kept), beside the range "
            f"an exactly sized test falls in {level:.0%} of the time"
        )
    )


def episode_table(evidence: Any, links: Mapping[str, str]) -> Styler:
    """Episodes with links to their event pages: raw day-0 return, CAR with its 95% interval,
    raw, Holm, BH and SQ p-values."""
    cols = ["benchmark", "events", "day0", "raw_day0_return", "car", "low", "high", "pvalue"]
    cols += ["pvalue_holm", "pvalue_bh", "sq_pvalue"]
    pct = {c: "{:+.1%}" for c in ("raw_day0_return", "car", "low", "high")}
    ps = {c: _P for c in ("pvalue", "pvalue_holm", "pvalue_bh", "sq_pvalue")}
    return (
        evidence.linked_frame(dict(links))[cols]
        .style.hide(axis="index")
        .format({"day0": _DAY, **pct, **ps}, escape=None)  # the links are the package's own HTML
        .set_caption(
            "Episodes: raw return on day 0, CAR with its 95% interval, raw and adjusted p-values"
        )
    )


def pooled_table(evidence: Any) -> Styler:
    """The pooled tests across episodes, per benchmark."""
    return (
        evidence.pooled_frame()[["stat", "pvalue", "n", "distribution"]]
        .style.format({"stat": "{:.2f}", "pvalue": _P})
        .set_caption(
            "Pooled tests across episodes: mean standardized CAR, sign test, stacked "
            "event-dummy regression"
        )
    )


def article_vs_evidence(claims: pd.DataFrame) -> Styler:
    """The article's claims beside the evidence, verdicts coloured."""
    shown = claims[["claim_id", "claim", "article_value", "evidence", "verdict"]].rename(
        columns={"article_value": "the article says", "evidence": "the data say"}
    )
    return (
        shown.style.hide(axis="index")
        .map(lambda v: f"background-color: {VERDICT_COLORS.get(v, '')}", subset=["verdict"])
        .set_properties(**{"text-align": "left", "white-space": "normal", "vertical-align": "top"})
    )


# --------------------------------------------------------------------------- other measures


def other_measures(
    study: EventStudyResults,
    symbols: Sequence[str],
    event: str,
    *,
    spec: Mapping[str, Any],
    estimation: str,
    window: str,
    exclude: str,
) -> tuple[list[Any], dict[str, Any]]:
    """An event page's trading volume, return volatility, synthetic-match and GARCH sections:
    what to display (one sentence each, with its tests) and their numbers for ``results.json``.
    Volume: abnormal log volume against the estimation-window mean (Campbell & Wasley 1996);
    volatility: squared abnormal returns of the page's ``study`` over its estimation variance
    (Chow's F); synthetic match (one firm): a weighted basket of firms the rules did not reach
    (group ``untouched``), with the permutation p over donors, the largest weights and the range
    when each weighted donor is left out in turn; GARCH: the
    market model with GARCH(1,1) Student-t errors on the same benchmark (its variance recursion
    needs consecutive days, so its estimation window is not cleaned). A study that cannot be run
    is shown with its reason and left out of the numbers."""
    from analysis.errors import AnalysisError
    from analysis.eventstudy.activity import AbnormalVolatilityResults, abnormal_volume
    from analysis.eventstudy.study import event_study
    from analysis.eventstudy.synthetic import synthetic_study

    views: list[Any] = []
    numbers: dict[str, Any] = {}
    clean = exclude or None
    studies = {
        "volume": lambda: abnormal_volume(
            symbols, event, estimation=estimation, window=window, exclude=clean
        ),
        "volatility": lambda: AbnormalVolatilityResults.from_study(study),
        "synthetic": lambda: synthetic_study(
            symbols[0], event, estimation=estimation, window=window, exclude=clean
        ),
        "garch": lambda: event_study(
            symbols,
            event,
            model="garch_market_model",
            market=spec.get("market") or "SPY",
            estimation=estimation,
            window=window,
        ),
    }
    for key, run in studies.items():
        if key == "garch" and spec.get("model") != "market_model":
            continue
        if key == "synthetic" and len(symbols) != 1:
            continue
        more = {"leave_one_out": True} if key == "synthetic" else {}
        try:  # the tests run when the sentence and the numbers are asked for
            res: Any = run()
            sentence, head = res.conclusion(**more), res.headline(**more)
        except AnalysisError as exc:
            views.append(f"**{key}**: not computed: {exc}")
            continue
        views.append(sentence)
        numbers[key] = head
    return views, numbers


# --------------------------------------------------------------------------- US retail prices


def retail_horizons(did: Any) -> Styler:
    """The event-time DiD effects by horizon (:func:`analysis.studies.retail.event_study`):
    effects and intervals in percent, randomization and placebo-in-time p-values."""
    pct = {c: "{:+.1f}%" for c in ("effect_pct", "interval_low_pct", "interval_high_pct")}
    shown = did.horizons.drop(columns=["effect", "interval_low", "interval_high"], errors="ignore")
    return shown.style.hide(axis="index").format(
        {**pct, "p_randomization": _P, "p_placebo_time": _P}, na_rep="-"
    )


def ebay_comparison(table: pd.DataFrame) -> Styler:
    """eBay's monthly averages beside Amazon's monthly medians, with their changes."""
    return table.style.hide(axis="index").format(
        {
            "month": "{:%Y-%m}",
            "ebay_average": "{:,.0f}",
            "amazon_median": "{:,.2f}",
            "ebay_change_pct": "{:+.1f}%",
            "amazon_change_pct": "{:+.1f}%",
            "disagree": lambda v: "yes" if v else "",
        },
        na_rep="-",
    )
