"""The hardware-shock study in one call: load the observations, measure the shocks, the holder's
gain and the US retail comparison, and return the published and headline figures.

:func:`hardware_shocks` is the I/O edge (it reads the fact tables, the prices and, when a folder
is configured, the US retail series); everything it returns is computed by the pure functions of
:mod:`.observations` and :mod:`.retail`. :meth:`HardwareShocks.results` is the dict the report
publishes and :func:`hardware_headline` the few figures a front page shows: both read the same
rows, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis import config
from analysis._summary import Summary, SummaryMixin
from analysis.studies.hardware.observations import (
    PositionGain,
    msrp,
    position_gain,
    price_paths,
    shock_measures,
)
from analysis.studies.hardware.retail import load_us_retail, retail_event_comparison

__all__ = ["CONFIDENCE_WORDS", "HardwareShocks", "hardware_headline", "hardware_shocks"]

#: The confidence levels of ``hardware_prices.csv`` in words a reader can take in at a glance.
CONFIDENCE_WORDS = {
    "high": "high confidence (read from the source)",
    "medium-high": "medium-high confidence",
    "medium": "medium confidence (a secondary source)",
    "medium-low": "medium-low confidence",
    "low": "low confidence (an approximation)",
    "article_claim": "only the article being checked says so",
    "unconfirmed": "unconfirmed",
}


def _row_or_none(frame: pd.DataFrame, column: str) -> pd.Series | None:
    """The row with the largest ``column`` (the first on ties), or None for an empty frame."""
    return frame.loc[frame[column].idxmax()] if len(frame) else None


def _day(value) -> str:
    return f"{pd.Timestamp(value):%Y-%m-%d}"


@dataclass(frozen=True, repr=False)
class HardwareShocks(SummaryMixin):
    """China hardware prices around ``rule_date``: the observations, the shocks against the last
    pre-rule price and the MSRP, the article's A800 holder and (optionally) US retail prices.

    Built by :func:`hardware_shocks`. Frames: ``observations`` (the table as loaded),
    ``paths`` (:func:`.price_paths` plus ``approximate``), ``list_prices`` (:func:`.msrp`),
    ``shocks`` (:func:`.shock_measures`), ``events`` (export-control events with day 0 in
    ``start``..``end``), ``nvda`` (NVDA close, today's units) and ``nvda_quoted_week`` (quoted
    close within 7 days of the rule); ``retail`` and ``retail_series`` are None when no US retail
    folder was given.
    """

    rule_date: str
    start: str
    end: str
    observations: pd.DataFrame
    fx: pd.Series
    paths: pd.DataFrame
    list_prices: pd.DataFrame
    shocks: pd.DataFrame
    events: pd.DataFrame
    nvda: pd.DataFrame
    nvda_quoted_week: pd.DataFrame
    gain: PositionGain
    retail: pd.DataFrame | None
    retail_series: pd.DataFrame | None
    retail_window_days: int

    @property
    def rule(self) -> pd.Timestamp:
        return pd.Timestamp(self.rule_date)

    def to_frame(self) -> pd.DataFrame:
        """The shock table (:func:`.shock_measures`)."""
        return self.shocks.copy()

    # ---------------------------------------------------------------- the rows behind the figures
    def a800_shock(self) -> pd.Series | None:
        """The first post-rule A800 observation against the last one before the rule."""
        s = self.shocks
        a800 = s[(s["product"] == "A800") & (s["baseline"] == "pre_rule")]
        return a800.iloc[0] if len(a800) else None

    def rtx4090_peak(self, *, independent: bool = False) -> pd.Series | None:
        """The post-rule RTX 4090 quote with the highest price against the China MSRP;
        ``independent=True``: among quotes from a source other than the article."""
        s = self.shocks
        vs_msrp = s[(s["product"] == "RTX 4090") & (s["baseline"] == "msrp")]
        if independent:
            vs_msrp = vs_msrp[vs_msrp["confidence_level"] != "article_claim"]
        return _row_or_none(vs_msrp, "change_high_pct")

    def retail_treated(self) -> pd.Series | None:
        """The RTX 4090 row of the US retail comparison (None when it was skipped)."""
        if self.retail is None:
            return None
        return self.retail[self.retail["role"] == "treated"].iloc[0]

    # ---------------------------------------------------------------- text and figures
    def highlights(self) -> str:
        """Markdown bullets on the A800 and RTX 4090 shocks, worded from the rows themselves."""
        a800, peak = self.a800_shock(), self.rtx4090_peak()
        peak_ind = self.rtx4090_peak(independent=True)
        lines = []
        if a800 is not None:
            both = (a800["confidence_level"] == "article_claim") and (
                self._confidence_of(a800["baseline_obs_id"]) == "article_claim"
            )
            lines.append(
                f"- **A800**: {a800['price_low']:,.0f} {a800['currency']} ({a800['obs_id']}, "
                f"{a800['date']:%Y-%m-%d}) vs {a800['baseline_low']:,.0f} before the rule "
                f"({a800['baseline_obs_id']}): {a800['change_low_pct']:+.1f}%. "
                + (
                    f"Both prices come only from the article (confidence "
                    f"{a800['confidence_level']})."
                    if both
                    else f"Confidence of the post-rule price: {a800['confidence_level']}; of the "
                    f"pre-rule price: {self._confidence_of(a800['baseline_obs_id'])}."
                )
            )
        if peak is not None:
            lines.append(
                f"- **RTX 4090, highest quote vs the China MSRP**: {peak['price_high']:,.0f} CNY "
                f"({peak['obs_id']}, {peak['date']:%Y-%m-%d}, confidence "
                f"{peak['confidence_level']}) = {peak['change_high_pct']:+.1f}% over "
                f"{peak['baseline_high']:,.0f}."
            )
        if peak_ind is not None:
            lines.append(
                f"- **RTX 4090, highest quote from a source other than the article**: "
                f"{peak_ind['price_high']:,.0f} CNY ({peak_ind['obs_id']}, "
                f"{peak_ind['date']:%Y-%m-%d}, confidence {peak_ind['confidence_level']}) = "
                f"{peak_ind['change_high_pct']:+.1f}% over the MSRP."
            )
        return "\n".join(lines) or "No post-rule observations for A800 or RTX 4090."

    def _confidence_of(self, obs_id: str) -> str:
        obs = self.observations
        return str(obs.loc[obs["obs_id"] == obs_id, "confidence_level"].iloc[0])

    # ---------------------------------------------------------------- published figures
    def results(self) -> dict:
        """The headline figures the report publishes (results.json), rounded as shown:
        percentages to 0.1 (retail to 0.01), amounts to whole units, exchange rates to 4
        decimals; None where the figure cannot be computed with these parameters."""
        a800, peak = self.a800_shock(), self.rtx4090_peak()
        peak_ind = self.rtx4090_peak(independent=True)
        treated = self.retail_treated()
        gain = self.gain.to_frame().set_index("currency")
        return {
            "rule_date": self.rule_date,
            "a800_shock_pct": round(float(a800["change_low_pct"]), 1) if a800 is not None else None,
            "a800_shock_observations": (
                f"{a800['obs_id']} vs {a800['baseline_obs_id']}" if a800 is not None else None
            ),
            "a800_holder_gain_cny": round(float(gain.loc["CNY", "gain"])),
            "a800_holder_gain_usd": round(float(gain.loc["USD", "gain"])),
            "holder_cost_fx_date": f"{self.gain.cost_fx_date:%Y-%m-%d}",
            "holder_cost_usd_cny": round(self.gain.cost_usd_cny, 4),
            "holder_mark_fx_date": f"{self.gain.mark_fx_date:%Y-%m-%d}",
            "holder_mark_usd_cny": round(self.gain.mark_usd_cny, 4),
            "rtx4090_peak_vs_msrp_pct": (
                round(float(peak["change_high_pct"]), 1) if peak is not None else None
            ),
            "rtx4090_peak_obs_id": peak["obs_id"] if peak is not None else None,
            "rtx4090_peak_vs_msrp_pct_independent": (
                round(float(peak_ind["change_high_pct"]), 1) if peak_ind is not None else None
            ),
            "rtx4090_peak_independent_obs_id": peak_ind["obs_id"] if peak_ind is not None else None,
            "us_retail_compared": self.retail is not None,
            "us_retail_rtx4090_change_pct": (
                round(float(treated["change_pct"]), 2) if treated is not None else None
            ),
            "us_retail_rtx4090_excess_change_pct": (
                round(float(treated["excess_change_pct"]), 2) if treated is not None else None
            ),
        }

    def headline(self) -> dict:
        """The A800 and RTX 4090 shocks for a front page; see :func:`hardware_headline`."""
        pub = self.results()
        out: dict = {"rule_date": self.rule_date}
        a800 = self.a800_shock()
        out |= _side("a800", a800, "low", pub["a800_shock_pct"], self, baseline="before")
        for key, row, pct in (
            ("rtx4090_peak", self.rtx4090_peak(), pub["rtx4090_peak_vs_msrp_pct"]),
            (
                "rtx4090_peak_independent",
                self.rtx4090_peak(independent=True),
                pub["rtx4090_peak_vs_msrp_pct_independent"],
            ),
        ):
            out |= _side(key, row, "high", pct, self, baseline="msrp")
        out["a800_holder_gain_cny"] = pub["a800_holder_gain_cny"]
        out["us_retail_rtx4090_excess_change_pct"] = pub["us_retail_rtx4090_excess_change_pct"]
        return out

    def _build_summary(self) -> Summary:
        rows = [(k, "—" if v is None else str(v)) for k, v in self.results().items()]
        return Summary("Hardware price shocks").header(rows).text(self.highlights())


def _side(
    key: str, row: pd.Series | None, end: str, pct, study: HardwareShocks, *, baseline: str
) -> dict:
    """Headline keys of one shock row: before/after price (the ``end`` of the range), dates,
    observation ids, confidence and its words, and the published % change."""
    names = [
        f"{key}_{baseline}_price",
        f"{key}_{baseline}_date",
        f"{key}_{baseline}_obs_id",
        f"{key}_{baseline}_confidence",
        f"{key}_after_price",
        f"{key}_after_date",
        f"{key}_after_obs_id",
        f"{key}_after_confidence",
        f"{key}_after_confidence_words",
        f"{key}_currency",
        f"{key}_change_pct",
    ]
    if row is None:
        return dict.fromkeys(names)
    base_conf = study._confidence_of(str(row["baseline_obs_id"]))
    values = [
        float(row[f"baseline_{end}"]),
        _day(row["baseline_date"]),
        str(row["baseline_obs_id"]),
        base_conf,
        float(row[f"price_{end}"]),
        _day(row["date"]),
        str(row["obs_id"]),
        str(row["confidence_level"]),
        CONFIDENCE_WORDS.get(str(row["confidence_level"]), str(row["confidence_level"])),
        str(row["currency"]),
        pct,
    ]
    return dict(zip(names, values, strict=True))


def hardware_shocks(
    rule_date: str = "2023-10-17",
    *,
    start: str = "2022-07-01",
    end: str = "2025-07-31",
    holder_units: int = 1000,
    holder_cost: float = 80000.0,
    holder_cost_date: str = "2023-04-01",
    holder_mark: float = 300000.0,
    holder_mark_date: str = "2023-10-20",
    hardware_dir: str | None = None,
    retail_window_days: int = 30,
) -> HardwareShocks:
    """Run the hardware-shock study (the parameters of ``notebooks/hardware_shocks.ipynb``).

    Loads ``data/hardware_prices.csv``, the CNY=X and NVDA closes and the export-control events;
    measures every post-rule observation against the last pre-rule one and the MSRP
    (:func:`.shock_measures`), the article's A800 holder (:func:`.position_gain`: ``holder_units``
    bought at ``holder_cost`` CNY on ``holder_cost_date``, marked at ``holder_mark`` on
    ``holder_mark_date``) and, when ``hardware_dir`` or ``ANALYSIS_HARDWARE_DIR`` names the US
    retail folder, the RTX 4090's Amazon price ``retail_window_days`` before vs after the rule
    (:func:`.retail_event_comparison`). ``start``/``end`` bound the NVDA series and events shown.
    """
    from analysis.data import events as event_registry
    from analysis.data import facts, prices

    hw = facts.load_hardware_prices()
    fx = prices.close(["CNY=X"])["CNY=X"]  # CNY per USD
    nvda = prices.close(["NVDA"], start, end)["NVDA"].rename("close").rename_axis("date")
    events = event_registry.export_control_events()
    events = events[events["day0"].between(start, end)]
    rule = pd.Timestamp(rule_date)
    lo, hi = rule - pd.Timedelta(days=7), rule + pd.Timedelta(days=7)
    quoted = prices.quoted_close("NVDA", lo, hi).rename("close").rename_axis("date")
    gain = position_gain(
        holder_units, holder_cost, holder_cost_date, holder_mark, holder_mark_date, fx
    )
    retail = series = None
    if hardware_dir or config.hardware_series_dir() is not None:
        series = load_us_retail(hardware_dir or None)
        retail = retail_event_comparison(
            series, event_date=rule_date, window_days=retail_window_days
        )
    return HardwareShocks(
        rule_date=rule_date,
        start=start,
        end=end,
        observations=hw,
        fx=fx,
        paths=price_paths(hw).assign(approximate=lambda d: d["date_precision"] != "day"),
        list_prices=msrp(hw),
        shocks=shock_measures(hw, fx, rule_date=rule_date),
        events=events,
        nvda=nvda.reset_index(),
        nvda_quoted_week=quoted.reset_index(),
        gain=gain,
        retail=retail,
        retail_series=series,
        retail_window_days=retail_window_days,
    )


def hardware_headline(study: HardwareShocks | None = None, **parameters) -> dict:
    """The hardware shocks for a front page, as a plain dict (None where not computable).

    ``study``: a :class:`HardwareShocks`; without it :func:`hardware_shocks` is run with
    ``parameters`` (its defaults: the October 2023 rule). Keys, for ``a800`` (the first post-rule
    A800 price vs the last one before the rule, low end of the ranges), ``rtx4090_peak`` (the
    highest post-rule RTX 4090 quote vs the China MSRP, high end) and
    ``rtx4090_peak_independent`` (the same among sources other than the article):

    - ``<key>_before_price`` / ``_date`` / ``_obs_id`` / ``_confidence`` (``a800``) or
      ``<key>_msrp_price`` / ... (RTX 4090): the baseline;
    - ``<key>_after_price``, ``_after_date``, ``_after_obs_id``, ``_after_confidence`` and
      ``_after_confidence_words`` (:data:`CONFIDENCE_WORDS`): the post-rule quote;
    - ``<key>_currency`` and ``<key>_change_pct`` (the published percentage, rounded to 0.1).

    Also ``rule_date``, ``a800_holder_gain_cny`` and ``us_retail_rtx4090_excess_change_pct``
    (None when no US retail folder is configured). Dates are ``YYYY-MM-DD`` strings; a month-
    or year-precise observation is dated at its first day. The percentages are those of
    :meth:`HardwareShocks.results`, the numbers the report publishes.
    """
    if study is None:
        study = hardware_shocks(**parameters)
    elif parameters:
        raise TypeError("pass either a study or the parameters to run one, not both")
    return study.headline()
