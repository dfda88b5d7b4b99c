"""US retail prices of Nvidia GPUs around a rule: the series of ANALYSIS_HARDWARE_DIR.

The series (Amazon Buy Box daily, eBay monthly) are read from a folder outside the repository and
never committed; :func:`retail_event_comparison` compares medians before and after a date.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.errors import DataError, SpecificationError

__all__ = ["RETAIL_CAVEATS", "RETAIL_FILES", "load_us_retail", "retail_event_comparison"]

RETAIL_FILES = ("amazon_us_keepa_buybox_daily.csv", "toms_hardware_ebay_monthly_us.csv")
RETAIL_COLUMNS = ("date", "product", "price", "currency", "statistic", "market", "source")

RETAIL_CAVEATS = (
    "US market only: neither series observes China prices.",
    "Amazon (Keepa) Buy Box: one listing (one ASIN) per GPU, not an average across retailers; "
    "only about every second Buy Box change survives (source parsing fault), shipping excluded, "
    "short spikes or dips can be missed.",
    "Amazon: out-of-stock days are absent, not zero (e.g. RTX 4090 has no events 2023-11-05 to "
    "2023-12-01); single third-party outliers are kept (e.g. RTX 4090 at 1,004.95 on 2023-10-24).",
    "eBay (Tom's Hardware): monthly averages of sold listings, new and used mixed; ends October "
    "2023, so nothing after the 2023-11-17 effective date.",
    "Descriptive comparison of medians; no test of significance and no control for other news.",
)


def load_us_retail(directory: str | Path | None = None) -> pd.DataFrame:
    """The US retail GPU series of ``ANALYSIS_HARDWARE_DIR`` (both files), validated.

    Returns date, product, price, currency, statistic, market, source, file. Raises
    :class:`DataError` naming the folder/file/line when something is missing or malformed.
    """
    d = Path(directory) if directory is not None else config.hardware_series_dir()
    if d is None:
        raise DataError(
            "no hardware series folder: set ANALYSIS_HARDWARE_DIR (e.g. "
            "ANALYSIS_HARDWARE_DIR=../shared/data/hardware_series)"
        )
    if not d.is_dir():
        raise DataError(
            f"hardware series folder {d} does not exist; point ANALYSIS_HARDWARE_DIR (or the "
            "notebook's hardware_dir) at the folder holding the retail series CSV files"
        )
    frames = []
    for name in RETAIL_FILES:
        p = d / name
        if not p.is_file():
            raise DataError(f"{p} not found; the folder must hold {', '.join(RETAIL_FILES)}")
        f = pd.read_csv(p, dtype=str, keep_default_na=False)
        missing = [c for c in RETAIL_COLUMNS if c not in f.columns]
        if missing:
            raise DataError(f"{name}: missing column(s) {', '.join(missing)}")
        dates = pd.to_datetime(f["date"], format="%Y-%m-%d", errors="coerce")
        price = pd.to_numeric(f["price"], errors="coerce")
        bad = f.index[dates.isna() | price.isna() | (price <= 0)]
        if len(bad):
            i = bad[0]
            raise DataError(
                f"{name}:{i + 2}: bad date or price ({f.at[i, 'date']!r}, "
                f"{f.at[i, 'price']!r}); {len(bad)} bad row(s) in all"
            )
        frames.append(f.assign(date=dates, price=price.astype(float), file=name))
    return pd.concat(frames, ignore_index=True)


def retail_event_comparison(
    series: pd.DataFrame,
    *,
    event_date: str = "2023-10-17",
    treated: str = "GeForce RTX 4090",
    controls: tuple[str, ...] = (
        "GeForce RTX 3090",
        "GeForce RTX 3090 Ti",
        "GeForce RTX 3070",
        "GeForce RTX 4060 Ti",
    ),
    window_days: int = 30,
    file: str = "amazon_us_keepa_buybox_daily.csv",
) -> pd.DataFrame:
    """Median price in the ``window_days`` calendar days before vs after ``event_date``.

    Before = [event - window, event - 1], after = [event, event + window - 1]. One row per
    product with n_before, median_before, n_after, median_after, change_pct, role (treated /
    control) and the excess change of the treated product over the median control change.
    Products with no observation on one side get NaN medians and n = 0, never a filled value.
    The caveats are in :data:`RETAIL_CAVEATS`.
    """
    ev = pd.Timestamp(event_date)
    s = series[series["file"] == file]
    if s.empty:
        raise DataError(f"no rows from {file} in the retail series")
    known = set(s["product"])
    missing = [p for p in (treated, *controls) if p not in known]
    if missing:
        raise SpecificationError(
            f"{file} has no product(s) {', '.join(missing)}; available: {', '.join(sorted(known))}"
        )
    lo, hi = ev - pd.Timedelta(days=window_days), ev + pd.Timedelta(days=window_days)
    rows = []
    for role, prods in (("treated", (treated,)), ("control", controls)):
        for p in prods:
            x = s[s["product"] == p]
            b = x[(x["date"] >= lo) & (x["date"] < ev)]["price"]
            a = x[(x["date"] >= ev) & (x["date"] < hi)]["price"]
            mb = float(b.median()) if len(b) else np.nan
            ma = float(a.median()) if len(a) else np.nan
            rows.append(
                {
                    "product": p,
                    "role": role,
                    "n_before": len(b),
                    "median_before": mb,
                    "n_after": len(a),
                    "median_after": ma,
                    "change_pct": 100 * (ma / mb - 1),
                    "currency": "USD",
                    "window": f"{lo.date()}..{(ev - pd.Timedelta(days=1)).date()} vs "
                    f"{ev.date()}..{(hi - pd.Timedelta(days=1)).date()}",
                    "file": file,
                }
            )
    out = pd.DataFrame(rows)
    ctrl = out.loc[out["role"] == "control", "change_pct"].dropna()
    out["control_median_change_pct"] = float(ctrl.median()) if len(ctrl) else np.nan
    out["excess_change_pct"] = np.where(
        out["role"] == "treated", out["change_pct"] - out["control_median_change_pct"], np.nan
    )
    return out
