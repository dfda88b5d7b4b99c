"""China revenue exposure: Nvidia's revenue by region, the market's verdict per event, and a
cross-section of abnormal returns on China exposure.

:func:`china_exposure` runs the whole study and returns a :class:`ChinaExposure` (its
``results()`` are the report's published figures, :func:`exposure_headline` the front page's).
The building blocks are pure functions on frames (inputs from :mod:`analysis.data.facts` loaders
and quoted closes from :func:`analysis.data.prices.quoted_close`): :mod:`.revenue` (revenue by
region, the China share series), :mod:`.verdict` (market-value change against China revenue) and
:mod:`.regression` (exposure snapshots, the cross-section, its permutation test). Geography bases
are never mixed silently: every row carries its ``basis`` and ``presentation``; the regression
flags a sample with more than one basis, and refuses one when shares are taken point in time.
Figures and formatted tables of the report page are in :mod:`.display`.
"""

from __future__ import annotations

from analysis.studies.exposure.display import (
    bases_table,
    car_table,
    china_share_plot,
    china_share_table,
    day0_table,
    exposure_table,
    plot_car_vs_share,
    plot_cars,
    region_levels_table,
    region_shares_table,
    verdict_table,
)
from analysis.studies.exposure.regression import (
    ExposureRegression,
    MixedBasesError,
    SlopePermutation,
    china_exposure_regression,
    exposure_filed_before,
    exposure_snapshot,
)
from analysis.studies.exposure.revenue import CHINA, china_share_series, revenue_by_region
from analysis.studies.exposure.study import (
    ChinaExposure,
    china_exposure,
    exposure_firms,
    exposure_headline,
)
from analysis.studies.exposure.verdict import market_value_change, market_verdict, pick_shares

__all__ = [
    "CHINA",
    "ChinaExposure",
    "ExposureRegression",
    "MixedBasesError",
    "SlopePermutation",
    "bases_table",
    "car_table",
    "china_exposure",
    "china_exposure_regression",
    "china_share_plot",
    "china_share_series",
    "china_share_table",
    "day0_table",
    "exposure_filed_before",
    "exposure_firms",
    "exposure_headline",
    "exposure_snapshot",
    "exposure_table",
    "market_value_change",
    "market_verdict",
    "pick_shares",
    "plot_car_vs_share",
    "plot_cars",
    "region_levels_table",
    "region_shares_table",
    "revenue_by_region",
    "verdict_table",
]
