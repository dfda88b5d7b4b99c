"""Cited fact tables in ``data/``: loaders, validation and the small parsers they share.

Every table keeps its source and confidence columns. Loaders read the CSV, check it against a
schema (required columns, types, allowed values, ISO 4217 currency codes) and table rules (regions
add up to the reported total, a share equals china / total, low <= high), and raise
:class:`analysis.errors.ValidationError` naming the file, line and column of *every* problem.

Nothing here guesses: an empty cell stays empty (``NaN``/``NaT``/``""``) and is only accepted where
the schema allows it (typically rows marked ``unconfirmed``).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.data.dates import iso_date_problem
from analysis.data.vocabulary import (
    CONFIDENCE_LEVELS,
    FACT_DATE_PRECISIONS,
    confidence_rank,
    normalize_confidence,
)
from analysis.errors import DataError, ValidationError

__all__ = [
    "CONFIDENCE_LEVELS",
    "ApproxDate",
    "confidence_rank",
    "load_article_claims",
    "load_hardware_prices",
    "load_market_context",
    "load_peers_exposure",
    "load_revenue_geography",
    "load_shares_outstanding",
    "normalize_confidence",
    "parse_approx_date",
    "read_table",
]

#: ISO 4217 codes that may appear in these tables (extend when a new currency is cited).
ISO_4217 = frozenset({"USD", "CNY", "EUR", "TWD", "JPY", "KRW", "HKD", "GBP"})

#: how precise a fact table date is (the vocabulary's fact date precisions)
DATE_PRECISIONS = FACT_DATE_PRECISIONS


# --------------------------------------------------------------------------------------------
# small parsers
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApproxDate:
    """A date as precise as the source allows: ``date`` (earliest/representative day),
    ``date_end`` (latest possible day) and a ``precision`` flag."""

    date: dt.date
    date_end: dt.date
    precision: str


_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})(?!\d|-\d)")
_YEAR = re.compile(r"^(\d{4})(?![-\d])")


def _month_end(y: int, m: int) -> date:
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return nxt - timedelta(days=1)


def parse_approx_date(text: str) -> ApproxDate:
    """Parse the facts files' approximate dates into a date, an end date and a precision flag.

    ``2023-10-20`` -> day; ``2023-10-19 (approx)`` -> day_approx; ``2023-10-18/19`` ->
    day_range (18 to 19); ``2023-10-17 (before)`` -> before_day (the observation precedes that
    day: date = date_end = 2023-10-17); ``2023-10 (approx 10-19)`` -> day_approx on 10-19 (the
    source names the day); ``2022-10 (launch)`` / ``2024-09 (FT)`` -> month;
    ``2024-02 (approx)`` -> month_approx; ``2024 (average)`` / ``2023 (Reuters; ...)`` -> year;
    ``2023 (approx launch, early 2023)`` -> year_approx. A month or year gives its first day as
    ``date`` and its last day as ``date_end``. Anything else raises :class:`ValueError`.
    """
    raw = (text or "").strip()
    if not raw:
        raise ValueError("empty date")
    rest_lower = raw.lower()
    approx = "approx" in rest_lower
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})/(\d{2})$", raw)
    if m:
        y, mo, d1, d2 = (int(g) for g in m.groups())
        start, end = date(y, mo, d1), date(y, mo, d2)
        if end < start:
            raise ValueError(f"date range {raw!r} ends before it starts")
        return ApproxDate(start, end, "day_range")
    m = _ISO_DAY.match(raw)
    if m:
        d = date(*(int(g) for g in m.groups()))
        tail = raw[m.end() :].strip().lower()
        if not tail:
            return ApproxDate(d, d, "day")
        if "before" in tail:
            return ApproxDate(d, d, "before_day")
        if "approx" in tail:
            return ApproxDate(d, d, "day_approx")
        raise ValueError(f"unrecognised qualifier in date {raw!r}")
    m = _ISO_MONTH.match(raw)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            raise ValueError(f"month out of range in {raw!r}")
        day_hint = re.search(r"approx\s+(\d{2})-(\d{2})", rest_lower)
        if day_hint:
            hm, hd = int(day_hint.group(1)), int(day_hint.group(2))
            if hm != mo:
                raise ValueError(f"day hint {day_hint.group(0)!r} is outside the month of {raw!r}")
            d = date(y, mo, hd)
            return ApproxDate(d, d, "day_approx")
        return ApproxDate(date(y, mo, 1), _month_end(y, mo), "month_approx" if approx else "month")
    m = _YEAR.match(raw)
    if m:
        y = int(m.group(1))
        return ApproxDate(date(y, 1, 1), date(y, 12, 31), "year_approx" if approx else "year")
    raise ValueError(f"cannot parse date {raw!r}")


# --------------------------------------------------------------------------------------------
# schema-driven reading
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Col:
    """One column of a table schema."""

    name: str
    kind: str = "str"  # str | int | float | date | bool
    required: bool = True  # must be non-empty on every row
    allowed: Sequence[str] | None = None


@dataclass(frozen=True)
class Schema:
    name: str
    columns: tuple[Col, ...]
    checks: tuple[Callable[[pd.DataFrame, str], list[str]], ...] = field(default_factory=tuple)


def _convert(value: str, kind: str):
    if kind == "str":
        return value
    if kind == "int":
        if not re.fullmatch(r"-?\d+", value):
            raise ValueError(f"{value!r} is not an integer")
        return int(value)
    if kind == "float":
        try:
            out = float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if not np.isfinite(out):
            raise ValueError(f"{value!r} is not a finite number")
        return out
    if kind == "date":
        if (problem := iso_date_problem(value)) is not None:
            raise ValueError(f"{value!r} {problem}")
        return date.fromisoformat(value)
    if kind == "bool":
        if value not in ("true", "false"):
            raise ValueError(f"{value!r} is not true/false")
        return value == "true"
    raise AssertionError(kind)


def _empty(kind: str):
    return {"str": "", "int": pd.NA, "float": np.nan, "date": pd.NaT, "bool": pd.NA}[kind]


def read_table(path: str | Path, schema: Schema) -> pd.DataFrame:
    """Read ``path`` and validate it against ``schema``; return a typed frame.

    The frame has a ``line`` column (physical line number of each record in the file, header =
    line 1). Raises :class:`DataError` if the file is missing and :class:`ValidationError`
    listing every problem as ``file:line N, column 'c': message``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{schema.name}: file {path} not found; it is committed under data/ "
            "(rebuild the facts-derived tables with `python scripts/build_fact_tables.py`)"
        )
    fname = path.name
    problems: list[str] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise ValidationError(
                f"{fname}: file is empty", [f"{fname}:1: no header row"]
            ) from None
        missing = [c.name for c in schema.columns if c.name not in header]
        if missing:
            raise ValidationError(
                f"{fname}: missing required column(s) {', '.join(missing)}",
                [f"{fname}:1: missing column '{c}'" for c in missing],
            )
        dup = sorted({h for h in header if header.count(h) > 1})
        if dup:
            raise ValidationError(
                f"{fname}: duplicate column(s) {', '.join(dup)}",
                [f"{fname}:1: duplicate column '{d}'" for d in dup],
            )
        records = []
        for raw in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in raw):
                continue
            if len(raw) != len(header):
                problems.append(f"{fname}:{line}: has {len(raw)} fields, header has {len(header)}")
                continue
            row = dict(zip(header, raw, strict=True))
            rec: dict[str, object] = {"line": line}
            for col in schema.columns:
                val = row[col.name].strip()
                if val == "":
                    if col.required:
                        problems.append(f"{fname}:{line}, column '{col.name}': empty (required)")
                    rec[col.name] = _empty(col.kind)
                    continue
                try:
                    conv = _convert(val, col.kind)
                except ValueError as exc:
                    problems.append(f"{fname}:{line}, column '{col.name}': {exc}")
                    rec[col.name] = _empty(col.kind)
                    continue
                if col.allowed is not None and conv not in col.allowed:
                    problems.append(
                        f"{fname}:{line}, column '{col.name}': {val!r} not allowed "
                        f"(allowed: {', '.join(col.allowed)})"
                    )
                rec[col.name] = conv
            for extra in header:
                if extra not in rec:
                    rec[extra] = row[extra]
            records.append(rec)
    if not records and not problems:
        problems.append(f"{fname}: no data rows")
    cols = ["line"] + [c.name for c in schema.columns]
    frame = pd.DataFrame.from_records(records, columns=cols if not records else None)
    if records:
        frame = frame[cols + [c for c in frame.columns if c not in cols]]
    for col in schema.columns:
        if col.kind == "date":
            frame[col.name] = pd.to_datetime(frame[col.name])
        elif col.kind == "float":
            frame[col.name] = pd.to_numeric(frame[col.name]).astype(float)
        elif col.kind == "int":
            frame[col.name] = frame[col.name].astype("Int64")
    if not problems:
        for check in schema.checks:
            problems.extend(check(frame, fname))
    if problems:
        raise ValidationError(
            f"{fname}: {len(problems)} problem(s); fix the file (see data/README.md)", problems
        )
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# shared table checks
# --------------------------------------------------------------------------------------------
def _check_confidence(frame: pd.DataFrame, fname: str) -> list[str]:
    out = []
    for _, r in frame.iterrows():
        try:
            level = normalize_confidence(r["confidence"])
        except ValueError as exc:
            out.append(f"{fname}:{r['line']}, column 'confidence': {exc}")
            continue
        if r["confidence_level"] != level:
            out.append(
                f"{fname}:{r['line']}, column 'confidence_level': {r['confidence_level']!r} does "
                f"not match confidence text (which reads as {level!r})"
            )
    return out


def _check_currency(frame: pd.DataFrame, fname: str) -> list[str]:
    return [
        f"{fname}:{r['line']}, column 'currency': {r['currency']!r} is not an ISO 4217 code "
        f"known here ({', '.join(sorted(ISO_4217))})"
        for _, r in frame.iterrows()
        if r["currency"] and r["currency"] not in ISO_4217
    ]


def _check_unique(*cols: str):
    def check(frame: pd.DataFrame, fname: str) -> list[str]:
        dup = frame[frame.duplicated(list(cols), keep="first")]
        return [
            f"{fname}:{r['line']}, column '{cols[-1]}': duplicate key "
            + ", ".join(f"{c}={r[c]}" for c in cols)
            for _, r in dup.iterrows()
        ]

    return check


def _check_low_high(low: str, high: str):
    def check(frame: pd.DataFrame, fname: str) -> list[str]:
        out = []
        for _, r in frame.iterrows():
            lo, hi = r[low], r[high]
            if pd.isna(lo) != pd.isna(hi):
                out.append(
                    f"{fname}:{r['line']}, column '{high if pd.isna(hi) else low}': "
                    f"empty while '{low if pd.isna(hi) else high}' is given"
                )
            elif not pd.isna(lo) and lo > hi:
                out.append(f"{fname}:{r['line']}, column '{low}': {lo:g} > {high} {hi:g}")
        return out

    return check


# --------------------------------------------------------------------------------------------
# table schemas
# --------------------------------------------------------------------------------------------
_CONF = (Col("confidence"), Col("confidence_level", allowed=CONFIDENCE_LEVELS))
_PREC = tuple(DATE_PRECISIONS)


def _check_region_totals(frame: pd.DataFrame, fname: str) -> list[str]:
    """Regions of each (fiscal_year, presentation) add up to the reported total, within rounding.

    The reported total is the ``Total`` row where there is one (at most one allowed), else the
    ``total_revenue`` column, which must be the same on every row of the group.
    """
    out = []
    for (fy, pres), g in frame.groupby(["fiscal_year", "presentation"], sort=False):
        tot = g[g["region"] == "Total"]
        parts = g[g["region"] != "Total"]
        first = int(g["line"].iloc[0])
        if len(tot) > 1:
            out.append(
                f"{fname}:{int(tot['line'].iloc[1])}, column 'region': {fy} ({pres}) has "
                f"{len(tot)} 'Total' rows; at most one is allowed"
            )
            continue
        totals = g["total_revenue"].unique()
        if len(totals) != 1:
            out.append(
                f"{fname}:{first}, column 'total_revenue': {fy} ({pres}) rows disagree on "
                f"the total ({', '.join(f'{t:,.1f}' for t in totals)})"
            )
            continue
        total = float(totals[0])
        line = int(tot["line"].iloc[0]) if len(tot) else first
        if len(tot) and abs(float(tot["revenue"].iloc[0]) - total) > 1e-9:
            out.append(
                f"{fname}:{line}, column 'revenue': Total row {float(tot['revenue'].iloc[0]):,.1f} "
                f"differs from total_revenue {total:,.1f} of {fy} ({pres})"
            )
        s = float(parts["revenue"].sum())
        tol = max(1.0, 0.0005 * total)
        if abs(s - total) > tol:
            out.append(
                f"{fname}:{line}, column 'revenue': regions of {fy} ({pres}) sum to {s:,.1f}, "
                f"reported total is {total:,.1f} (tolerance {tol:,.1f})"
            )
    return out


REVENUE_GEOGRAPHY = Schema(
    "revenue_geography.csv",
    (
        Col("symbol"),
        Col("fiscal_year"),
        Col("fiscal_year_label"),
        Col("period_end", "date"),
        Col("presentation"),
        Col("geography_basis", allowed=("billing location", "customer headquarters")),
        Col("basis_note", required=False),
        Col("region"),
        Col("revenue", "float"),
        Col("total_revenue", "float"),
        Col("currency"),
        Col("unit", allowed=("millions",)),
        Col("source_filing"),
        Col("source_url"),
        *_CONF,
    ),
    (
        _check_confidence,
        _check_currency,
        _check_unique("fiscal_year", "presentation", "region"),
        _check_region_totals,
    ),
)


def _check_share(frame: pd.DataFrame, fname: str) -> list[str]:
    out = []
    for _, r in frame.iterrows():
        c, t, s = r["china_revenue"], r["total_revenue"], r["china_share"]
        if not pd.isna(s) and not 0 <= s <= 1:
            out.append(f"{fname}:{r['line']}, column 'china_share': {s} is outside [0, 1]")
        if not (pd.isna(c) or pd.isna(t) or pd.isna(s)):
            if t <= 0:
                out.append(f"{fname}:{r['line']}, column 'total_revenue': must be > 0")
            elif abs(c / t - s) > 0.00051:
                out.append(
                    f"{fname}:{r['line']}, column 'china_share': {s:.4f} but china_revenue / "
                    f"total_revenue = {c:g} / {t:g} = {c / t:.4f} (tolerance 0.0005)"
                )
        if not pd.isna(c) and not pd.isna(t) and c > t:
            out.append(f"{fname}:{r['line']}, column 'china_revenue': {c:g} exceeds total {t:g}")
        if (pd.isna(c) and pd.isna(s)) and r["confidence_level"] != "unconfirmed":
            out.append(
                f"{fname}:{r['line']}, column 'china_share': no value given but confidence "
                f"is {r['confidence_level']!r}; mark the row 'unconfirmed' or give a value"
            )
    return out


PEERS_EXPOSURE = Schema(
    "peers_china_exposure.csv",
    (
        Col("company"),
        Col("symbol"),
        Col("fiscal_year"),
        Col("fiscal_year_label"),
        Col("fiscal_year_end", "date"),
        Col("presentation"),
        Col("china_revenue", "float", required=False),
        Col("total_revenue", "float", required=False),
        Col("china_share", "float", required=False),
        Col("currency"),
        Col("unit", allowed=("millions",)),
        Col(
            "basis",
            allowed=(
                "billing location",
                "customer headquarters",
                "customer facility",
                "shipment destination",
                "not confirmed",
            ),
        ),
        Col("geography_basis"),
        Col("source_title"),
        Col("source_url", required=False),
        *_CONF,
        Col("note", required=False),
    ),
    (
        _check_confidence,
        _check_currency,
        _check_unique("symbol", "fiscal_year", "presentation"),
        _check_share,
    ),
)


def _check_hw(frame: pd.DataFrame, fname: str) -> list[str]:
    out = []
    for _, r in frame.iterrows():
        try:
            ad = parse_approx_date(r["date_text"])
        except ValueError as exc:
            out.append(f"{fname}:{r['line']}, column 'date_text': {exc}")
            continue
        if (pd.Timestamp(ad.date), pd.Timestamp(ad.date_end), ad.precision) != (
            r["date"],
            r["date_end"],
            r["date_precision"],
        ):
            out.append(
                f"{fname}:{r['line']}, column 'date': date/date_end/date_precision "
                f"({r['date'].date()}, {r['date_end'].date()}, {r['date_precision']}) do not match "
                f"date_text {r['date_text']!r} (reads as {ad.date}, {ad.date_end}, {ad.precision})"
            )
        if (
            pd.isna(r["price_low"])
            and r["confidence_level"] not in ("unconfirmed",)
            and r["unit_kind"] != "multiple"
        ):
            out.append(
                f"{fname}:{r['line']}, column 'price_low': no price given for a "
                f"{r['unit_kind']} observation; only 'multiple' rows or unconfirmed rows "
                "may be empty"
            )
    return out


HARDWARE_PRICES = Schema(
    "hardware_prices.csv",
    (
        Col("obs_id"),
        Col("product", allowed=("A800", "A100", "H100", "H800", "H20", "RTX 4090", "RTX 4090D")),
        Col("date", "date"),
        Col("date_end", "date"),
        Col("date_precision", allowed=_PREC),
        Col("date_text"),
        Col("price_low", "float", required=False),
        Col("price_high", "float", required=False),
        Col("currency"),
        Col("unit"),
        Col(
            "unit_kind", allowed=("per_card", "per_8gpu_server", "per_8gpu_server_hour", "multiple")
        ),
        Col("is_msrp", "bool"),
        Col("market"),
        Col("source_title"),
        Col("source_url"),
        Col("note", required=False),
        *_CONF,
    ),
    (
        _check_confidence,
        _check_currency,
        _check_unique("obs_id"),
        _check_low_high("price_low", "price_high"),
        _check_hw,
    ),
)


def _check_shares(frame: pd.DataFrame, fname: str) -> list[str]:
    out = []
    split = pd.Timestamp("2024-06-10")
    for _, r in frame.iterrows():
        if pd.isna(r["shares"]):
            if r["confidence_level"] != "unconfirmed":
                out.append(
                    f"{fname}:{r['line']}, column 'shares': empty but confidence is "
                    f"{r['confidence_level']!r}; mark the row 'unconfirmed'"
                )
        elif r["shares"] <= 0:
            out.append(f"{fname}:{r['line']}, column 'shares': must be positive")
        if r["symbol"] == "NVDA" and not pd.isna(r["as_of"]):
            want = "pre_2024_split" if r["as_of"] < split else "post_2024_split"
            if r["split_basis"] != want:
                out.append(
                    f"{fname}:{r['line']}, column 'split_basis': {r['split_basis']!r} but "
                    f"as_of {r['as_of'].date()} is {'before' if want.startswith('pre') else 'on/after'} "
                    f"the 10:1 split of 2024-06-10 (expected {want!r})"
                )
    return out


SHARES_OUTSTANDING = Schema(
    "shares_outstanding.csv",
    (
        Col("symbol"),
        Col("as_of", "date"),
        Col("shares", "int", required=False),
        Col("rounding", required=False),
        Col("split_basis", allowed=("pre_2024_split", "post_2024_split")),
        Col("document"),
        Col("source_title"),
        Col("source_url"),
        *_CONF,
        Col("note", required=False),
    ),
    (_check_confidence, _check_unique("symbol", "as_of"), _check_shares),
)


def _check_market(frame: pd.DataFrame, fname: str) -> list[str]:
    out = []
    for _, r in frame.iterrows():
        if pd.isna(r["value"]) and r["confidence_level"] != "unconfirmed":
            out.append(
                f"{fname}:{r['line']}, column 'value': empty but confidence is "
                f"{r['confidence_level']!r}; mark the row 'unconfirmed'"
            )
    return out


MARKET_CONTEXT = Schema(
    "market_context.csv",
    (
        Col("metric_id"),
        Col("metric"),
        Col("region"),
        Col("period"),
        Col("value", "float", required=False),
        Col("currency", required=False),
        Col("unit", allowed=("billions", "units")),
        Col("publisher"),
        Col("release_date", "date", required=False),
        Col("source_title"),
        Col("source_url"),
        *_CONF,
        Col("note", required=False),
    ),
    (_check_confidence, _check_currency, _check_unique("metric_id"), _check_market),
)

CLAIM_QUALIFIERS = ("approx", "exact", "more_than", "at_least", "range")


def _check_claims(frame: pd.DataFrame, fname: str) -> list[str]:
    out = []
    for _, r in frame.iterrows():
        q = r["qualifier"]
        has_v = not pd.isna(r["claimed_value"])
        has_r = not (pd.isna(r["claimed_low"]) or pd.isna(r["claimed_high"]))
        if q == "range" and not has_r:
            out.append(
                f"{fname}:{r['line']}, column 'claimed_low': a 'range' claim needs "
                "claimed_low and claimed_high"
            )
        if q != "range" and not has_v:
            out.append(f"{fname}:{r['line']}, column 'claimed_value': empty for a {q!r} claim")
        if has_r and r["claimed_low"] > r["claimed_high"]:
            out.append(f"{fname}:{r['line']}, column 'claimed_low': greater than claimed_high")
        if r["currency"] and r["currency"] not in ISO_4217:
            out.append(
                f"{fname}:{r['line']}, column 'currency': {r['currency']!r} is not an "
                "ISO 4217 code known here"
            )
    return out


ARTICLE_CLAIMS = Schema(
    "article_claims.csv",
    (
        Col("claim_id"),
        Col("check"),
        Col("subject"),
        Col("reference", required=False),
        Col("quote_zh"),
        Col("gloss_en"),
        Col("quantity"),
        Col("qualifier", allowed=CLAIM_QUALIFIERS),
        Col("claimed_value", "float", required=False),
        Col("claimed_low", "float", required=False),
        Col("claimed_high", "float", required=False),
        Col("currency", required=False),
        Col("unit"),
        Col("claim_date", "date", required=False),
        Col("claim_date_text", required=False),
    ),
    (_check_unique("claim_id"), _check_claims),
)


# --------------------------------------------------------------------------------------------
# loaders
# --------------------------------------------------------------------------------------------
def _path(path: str | Path | None, name: str) -> Path:
    return Path(path) if path is not None else config.data_dir() / name


def load_revenue_geography(path: str | Path | None = None) -> pd.DataFrame:
    """Nvidia revenue by region (``data/revenue_geography.csv``), validated."""
    return read_table(_path(path, REVENUE_GEOGRAPHY.name), REVENUE_GEOGRAPHY)


def load_peers_exposure(path: str | Path | None = None) -> pd.DataFrame:
    """China revenue and share of Nvidia and peers (``data/peers_china_exposure.csv``)."""
    return read_table(_path(path, PEERS_EXPOSURE.name), PEERS_EXPOSURE)


def load_hardware_prices(path: str | Path | None = None) -> pd.DataFrame:
    """China market prices of Nvidia accelerators and GPUs (``data/hardware_prices.csv``)."""
    return read_table(_path(path, HARDWARE_PRICES.name), HARDWARE_PRICES)


def load_shares_outstanding(path: str | Path | None = None) -> pd.DataFrame:
    """Shares outstanding from filing covers (``data/shares_outstanding.csv``)."""
    return read_table(_path(path, SHARES_OUTSTANDING.name), SHARES_OUTSTANDING)


def load_market_context(path: str | Path | None = None) -> pd.DataFrame:
    """Market figures the article cites, with what the publisher reported."""
    return read_table(_path(path, MARKET_CONTEXT.name), MARKET_CONTEXT)


def load_article_claims(path: str | Path | None = None) -> pd.DataFrame:
    """One row per numeric claim of the article (``data/article_claims.csv``)."""
    return read_table(_path(path, ARTICLE_CLAIMS.name), ARTICLE_CLAIMS)
