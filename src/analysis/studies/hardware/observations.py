"""China price observations of Nvidia accelerators and GPUs: ranges, list prices, shocks, gains.

Pure functions on frames. Inputs: the validated ``data/hardware_prices.csv``
(:func:`analysis.data.facts.load_hardware_prices`) and a USD/CNY series (CNY per USD, Yahoo ``CNY=X``
close, e.g. ``analysis.data.prices.close(["CNY=X"], ...)``). Every output names its currency, and every
conversion names the FX date used: the close of the observation's date, or the last close before
it when that day has none (never a later one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._summary import Summary, SummaryMixin
from analysis.data.dates import parse_date
from analysis.errors import DataError, SpecificationError

__all__ = [
    "PRODUCTS",
    "PositionGain",
    "fx_at",
    "msrp",
    "position_gain",
    "price_paths",
    "shock_measures",
]

PRODUCTS = ("A800", "RTX 4090", "RTX 4090D", "H20", "H800", "A100", "H100")


def price_paths(
    hw: pd.DataFrame,
    products: list[str] | tuple[str, ...] | None = None,
    *,
    include_msrp: bool = False,
) -> pd.DataFrame:
    """Low-high price ranges over time per product, date precision kept.

    Returns product, date, date_end, date_precision, date_text, price_low, price_high, price_mid
    (midpoint of the range), currency, unit_kind, market, confidence_level, source_title, obs_id;
    sorted by product and date. Rows without a price level (``unit_kind == "multiple"``) and, unless
    ``include_msrp``, MSRP rows are left out.
    """
    sel = hw
    if products is not None:
        unknown = sorted(set(products) - set(hw["product"]))
        if unknown:
            raise SpecificationError(
                f"no hardware price rows for {', '.join(unknown)}; products in the table: "
                f"{', '.join(sorted(hw['product'].unique()))}"
            )
        sel = sel[sel["product"].isin(products)]
    sel = sel[sel["price_low"].notna()]
    if not include_msrp:
        sel = sel[~sel["is_msrp"].astype(bool)]
    out = sel.assign(price_mid=(sel["price_low"] + sel["price_high"]) / 2)
    cols = [
        "product",
        "date",
        "date_end",
        "date_precision",
        "date_text",
        "price_low",
        "price_high",
        "price_mid",
        "currency",
        "unit_kind",
        "market",
        "confidence_level",
        "source_title",
        "obs_id",
    ]
    return out[cols].sort_values(["product", "date", "obs_id"]).reset_index(drop=True)


def msrp(hw: pd.DataFrame) -> pd.DataFrame:
    """Official list prices (MSRP rows): product, date, date_precision, msrp, currency, source."""
    m = hw[hw["is_msrp"].astype(bool)]
    return (
        m.rename(columns={"price_low": "msrp"})[
            [
                "product",
                "date",
                "date_precision",
                "date_text",
                "msrp",
                "currency",
                "market",
                "source_title",
                "obs_id",
            ]
        ]
        .sort_values(["product", "currency"])
        .reset_index(drop=True)
    )


#: A rate older than this many calendar days is not used for an observation (stale FX).
FX_MAX_GAP_DAYS = 7


def fx_at(fx: pd.Series, dates) -> pd.DataFrame:
    """USD/CNY (CNY per USD) for each date: that day's close or the last close before it.

    Returns a frame indexed like ``dates`` with ``fx_date`` (the close actually used) and
    ``usd_cny``. Raises :class:`DataError` when a date precedes the first FX close.
    """
    s = fx.dropna().sort_index()
    s.index = pd.DatetimeIndex(s.index)
    if s.empty:
        raise DataError("USD/CNY series (CNY=X) is empty; load it with analysis.data.prices.close")
    d = pd.DatetimeIndex([parse_date(x, "FX date") for x in dates])
    pos = s.index.searchsorted(d, side="right") - 1
    bad = [str(x.date()) for x, p in zip(d, pos, strict=True) if p < 0]
    if bad:
        raise DataError(
            f"no USD/CNY (CNY=X) close on or before {', '.join(bad)}; the series starts "
            f"{s.index[0].date()} -- extend it (prices import/fetch CNY=X)"
        )
    used = s.index[pos]
    stale = [(x, u) for x, u in zip(d, used, strict=True) if (x - u).days > FX_MAX_GAP_DAYS]
    if stale:
        x, u = stale[0]
        raise DataError(
            f"no USD/CNY (CNY=X) close within {FX_MAX_GAP_DAYS} days before {x.date()} (the last "
            f"is {u.date()}; the series ends {s.index[-1].date()}) -- extend it (prices "
            "import/fetch CNY=X) or pick an earlier date"
        )
    return pd.DataFrame({"fx_date": used, "usd_cny": s.to_numpy()[pos]}, index=d)


def _to_both(frame: pd.DataFrame, fx: pd.Series, cols: tuple[str, ...]) -> pd.DataFrame:
    """Add ``<col>_cny`` and ``<col>_usd`` for each price column, plus fx_date / usd_cny."""
    rates = fx_at(fx, frame["date"])
    out = frame.copy()
    out["fx_date"] = rates["fx_date"].to_numpy()
    out["usd_cny"] = rates["usd_cny"].to_numpy()
    for c in cols:
        is_cny = out["currency"] == "CNY"
        is_usd = out["currency"] == "USD"
        other = ~(is_cny | is_usd)
        if other.any():
            raise DataError(
                f"hardware prices in {sorted(out.loc[other, 'currency'].unique())}: "
                "only CNY and USD are converted here"
            )
        out[f"{c}_cny"] = np.where(is_cny, out[c], out[c] * out["usd_cny"])
        out[f"{c}_usd"] = np.where(is_usd, out[c], out[c] / out["usd_cny"])
    return out


def shock_measures(
    hw: pd.DataFrame,
    fx: pd.Series,
    *,
    rule_date: str = "2023-10-17",
    products: list[str] | tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Change of each post-rule observation vs the last pre-rule observation and vs the MSRP.

    Pre-rule: ``date_end`` before ``rule_date``, or a ``before_day`` observation dated on/before
    it. Post-rule: ``date`` on/after ``rule_date`` (and not ``before_day``). Observations whose
    period straddles the rule (e.g. a whole year) are neither. Baselines are matched on product,
    unit_kind and currency; the MSRP baseline on product and currency. Changes are computed on
    the low and the high end separately, in the observation's currency (so FX does not enter),
    and levels are also shown in CNY and USD with the FX date used.

    Returns one row per (post-rule observation, baseline kind): product, obs_id, date,
    date_precision, price_low, price_high, currency, baseline ("pre_rule" or "msrp"),
    baseline_obs_id, baseline_date, baseline_low, baseline_high, change_low_pct,
    change_high_pct, and the CNY/USD levels with fx_date, usd_cny.
    """
    rule = parse_date(rule_date, "rule_date")
    hw = hw[hw["price_low"].notna()]
    if products is not None:
        unknown = sorted(set(products) - set(hw["product"]))
        if unknown:
            raise SpecificationError(
                f"unknown product(s) {', '.join(unknown)}; with prices: "
                f"{', '.join(sorted(hw['product'].unique()))}"
            )
        hw = hw[hw["product"].isin(products)]
    market = hw[~hw["is_msrp"].astype(bool)]
    pre = market[
        (market["date_end"] < rule)
        | ((market["date_precision"] == "before_day") & (market["date"] <= rule))
    ]
    post = market[(market["date"] >= rule) & (market["date_precision"] != "before_day")]
    lists = msrp(hw)
    rows = []
    for _, o in post.sort_values(["product", "date", "obs_id"]).iterrows():
        base = pre[
            (pre["product"] == o["product"])
            & (pre["unit_kind"] == o["unit_kind"])
            & (pre["currency"] == o["currency"])
        ].sort_values(["date_end", "obs_id"])
        cands = []
        if len(base):
            b = base.iloc[-1]
            cands.append(
                (
                    "pre_rule",
                    b["obs_id"],
                    b["date"],
                    b["date_precision"],
                    b["price_low"],
                    b["price_high"],
                )
            )
        if o["unit_kind"] == "per_card":
            m = lists[(lists["product"] == o["product"]) & (lists["currency"] == o["currency"])]
            if len(m):
                b = m.iloc[-1]
                cands.append(
                    ("msrp", b["obs_id"], b["date"], b["date_precision"], b["msrp"], b["msrp"])
                )
        for kind, bid, bdate, bprec, blo, bhi in cands:
            rows.append(
                {
                    "product": o["product"],
                    "obs_id": o["obs_id"],
                    "date": o["date"],
                    "date_precision": o["date_precision"],
                    "price_low": o["price_low"],
                    "price_high": o["price_high"],
                    "currency": o["currency"],
                    "unit_kind": o["unit_kind"],
                    "confidence_level": o["confidence_level"],
                    "baseline": kind,
                    "baseline_obs_id": bid,
                    "baseline_date": bdate,
                    "baseline_precision": bprec,
                    "baseline_low": blo,
                    "baseline_high": bhi,
                    "change_low_pct": 100 * (o["price_low"] / blo - 1),
                    "change_high_pct": 100 * (o["price_high"] / bhi - 1),
                }
            )
    cols = [
        "product",
        "obs_id",
        "date",
        "date_precision",
        "price_low",
        "price_high",
        "currency",
        "unit_kind",
        "confidence_level",
        "baseline",
        "baseline_obs_id",
        "baseline_date",
        "baseline_precision",
        "baseline_low",
        "baseline_high",
        "change_low_pct",
        "change_high_pct",
    ]
    out = pd.DataFrame(rows, columns=cols)
    if out.empty:
        return out
    out = _to_both(out, fx, ("price_low", "price_high"))
    return out.reset_index(drop=True)


@dataclass(frozen=True, repr=False)
class PositionGain(SummaryMixin):
    """A holder's paper gain: ``units`` bought at ``cost`` on ``cost_date``, marked at ``mark``
    on ``mark_date`` (prices per unit in ``currency``)."""

    units: float
    cost: float
    cost_date: pd.Timestamp
    mark: float
    mark_date: pd.Timestamp
    currency: str
    cost_fx_date: pd.Timestamp
    cost_usd_cny: float
    mark_fx_date: pd.Timestamp
    mark_usd_cny: float

    @property
    def gain(self) -> float:
        """Gain in the position's currency: units x (mark - cost)."""
        return self.units * (self.mark - self.cost)

    def to_frame(self) -> pd.DataFrame:
        """Cost, value and gain in CNY and USD (each leg converted at its own FX date)."""

        def conv(amount: float, rate: float, to: str) -> float:
            if self.currency == to:
                return amount
            return amount * rate if to == "CNY" else amount / rate

        cost_total, value_total = self.units * self.cost, self.units * self.mark
        rows = []
        for cur in ("CNY", "USD"):
            c = conv(cost_total, self.cost_usd_cny, cur)
            v = conv(value_total, self.mark_usd_cny, cur)
            rows.append(
                {
                    "currency": cur,
                    "cost_total": c,
                    "value_total": v,
                    "gain": v - c,
                    "cost_fx_date": self.cost_fx_date,
                    "cost_usd_cny": self.cost_usd_cny,
                    "mark_fx_date": self.mark_fx_date,
                    "mark_usd_cny": self.mark_usd_cny,
                }
            )
        return pd.DataFrame(rows)

    def sentence(self) -> str:
        """The gain in one sentence: units, cost, mark, and the gain in CNY and USD."""
        f = self.to_frame().set_index("currency")
        return (
            f"{self.units:,.0f} units bought at {self.cost:,.0f} {self.currency} "
            f"({self.cost_date.date()}) marked at {self.mark:,.0f} ({self.mark_date.date()}): "
            f"gain {f.loc['CNY', 'gain']:,.0f} CNY = {f.loc['USD', 'gain']:,.0f} USD "
            f"(USD/CNY {self.cost_usd_cny:.4f} on {self.cost_fx_date.date()} for the cost, "
            f"{self.mark_usd_cny:.4f} on {self.mark_fx_date.date()} for the mark)"
        )

    def _build_summary(self) -> Summary:
        return Summary("Position gain").text(self.sentence()).table(self.to_frame())


def position_gain(
    units: float,
    cost: float,
    cost_date,
    mark: float,
    mark_date,
    fx: pd.Series,
    *,
    currency: str = "CNY",
) -> PositionGain:
    """Paper gain of ``units`` bought at ``cost`` and marked at ``mark`` (per-unit prices).

    Worked example (the article): 1,000 A800 at 80,000 CNY (2023-04) marked at 300,000 CNY
    (2023-10-20): gain 220,000,000 CNY; in USD each leg is converted at the CNY=X close of its
    own date (or the last close before it), so the USD gain includes the currency move.
    """
    for name, v in (("units", units), ("cost", cost), ("mark", mark)):
        if not (np.isfinite(float(v)) and float(v) > 0):
            raise SpecificationError(f"{name} must be a positive number, got {v}")
    if currency not in ("CNY", "USD"):
        raise SpecificationError(f"currency must be CNY or USD, got {currency!r}")
    cd, md = parse_date(cost_date, "cost_date"), parse_date(mark_date, "mark_date")
    if md < cd:
        raise SpecificationError(f"mark date {md.date()} is before cost date {cd.date()}")
    r = fx_at(fx, [cd, md])
    return PositionGain(
        float(units),
        float(cost),
        cd,
        float(mark),
        md,
        currency,
        r["fx_date"].iloc[0],
        float(r["usd_cny"].iloc[0]),
        r["fx_date"].iloc[1],
        float(r["usd_cny"].iloc[1]),
    )
