"""Nvidia's revenue by region and its China share over time, one series per geography basis.

Pure functions on the frames of :mod:`analysis.data.facts` (``revenue_geography``,
``peers_china_exposure``). Every row carries its ``basis`` and ``presentation``: billing location
(10-Ks up to FY2025) and customer headquarters (the FY2026 10-K) are never mixed in one series.
"""

from __future__ import annotations

import pandas as pd

from analysis.errors import SpecificationError

__all__ = ["CHINA", "china_share_series", "revenue_by_region"]

CHINA = "China (including Hong Kong)"


def revenue_by_region(rev: pd.DataFrame) -> pd.DataFrame:
    """Nvidia revenue by region as levels and shares of the reported total, one row per
    (fiscal_year, presentation, region), with basis, currency, unit and confidence kept."""
    total = rev["total_revenue"]
    out = rev.assign(share=rev["revenue"] / total)
    cols = [
        "symbol",
        "fiscal_year",
        "period_end",
        "presentation",
        "geography_basis",
        "region",
        "revenue",
        "total_revenue",
        "share",
        "currency",
        "unit",
        "confidence_level",
    ]
    return out[cols].sort_values(["fiscal_year", "presentation", "region"]).reset_index(drop=True)


def china_share_series(
    rev: pd.DataFrame, peers: pd.DataFrame | None = None, *, basis: str | None = None
) -> pd.DataFrame:
    """Nvidia's China (incl. Hong Kong) revenue and share by fiscal year, one series per basis.

    Billing-location rows come from ``revenue_geography`` (as reported; the FY2025-10-K
    restatement of FY2024 is kept as its own presentation); customer-headquarters rows of the
    FY2026 10-K re-presentation come from the NVDA rows of ``peers`` when given. Columns:
    fiscal_year, period_end, basis, presentation, china, total, share, change_pp (vs the previous
    fiscal year *of the same basis and presentation*), currency, unit, confidence_level, source.
    ``basis`` selects one series ("billing location" or "customer headquarters").
    """
    c = rev[rev["region"] == CHINA]
    out = pd.DataFrame(
        {
            "fiscal_year": c["fiscal_year"],
            "period_end": c["period_end"],
            "basis": c["geography_basis"],
            "presentation": c["presentation"],
            "china": c["revenue"],
            "total": c["total_revenue"],
            "currency": c["currency"],
            "unit": c["unit"],
            "confidence_level": c["confidence_level"],
            "source": c["source_filing"],
        }
    )
    if peers is not None:
        p = peers[(peers["symbol"] == "NVDA") & (peers["presentation"] != "as_reported")]
        out = pd.concat(
            [
                out,
                pd.DataFrame(
                    {
                        "fiscal_year": p["fiscal_year"],
                        "period_end": p["fiscal_year_end"],
                        "basis": p["basis"],
                        "presentation": p["presentation"],
                        "china": p["china_revenue"],
                        "total": p["total_revenue"],
                        "currency": p["currency"],
                        "unit": p["unit"],
                        "confidence_level": p["confidence_level"],
                        "source": p["source_title"],
                    }
                ),
            ],
            ignore_index=True,
        )
    if basis is not None:
        if basis not in set(out["basis"]):
            raise SpecificationError(
                f"basis {basis!r} not available; have {sorted(set(out['basis']))}"
            )
        out = out[out["basis"] == basis]
    out = out.assign(share=out["china"] / out["total"])
    out = out.sort_values(["basis", "presentation", "fiscal_year"]).reset_index(drop=True)
    out["change_pp"] = 100 * out.groupby(["basis", "presentation"])["share"].diff()
    cols = [
        "fiscal_year",
        "period_end",
        "basis",
        "presentation",
        "china",
        "total",
        "share",
        "change_pp",
        "currency",
        "unit",
        "confidence_level",
        "source",
    ]
    return out[cols]
