"""Hardware price shocks: China prices of Nvidia accelerators and GPUs around the export rules.

:func:`hardware_shocks` runs the whole study and returns a :class:`HardwareShocks` (its
``results()`` are the report's published figures, :func:`hardware_headline` the front page's);
the building blocks are pure functions on frames: :func:`price_paths`, :func:`msrp`,
:func:`fx_at`, :func:`shock_measures`, :func:`position_gain` (:mod:`.observations`) and the US
retail series, :func:`load_us_retail` and :func:`retail_event_comparison` (:mod:`.retail`).
Figures and formatted tables of the report page are in :mod:`.display`.
"""

from __future__ import annotations

from analysis.studies.hardware.display import (
    events_table,
    gain_table,
    observations_table,
    plot_price_history,
    plot_retail,
    plot_rule_week,
    price_panel,
    retail_caveats_markdown,
    retail_skipped_markdown,
    retail_table,
    shocks_fx_table,
    shocks_table,
)
from analysis.studies.hardware.observations import (
    FX_MAX_GAP_DAYS,
    PRODUCTS,
    PositionGain,
    fx_at,
    msrp,
    position_gain,
    price_paths,
    shock_measures,
)
from analysis.studies.hardware.retail import (
    RETAIL_CAVEATS,
    RETAIL_COLUMNS,
    RETAIL_FILES,
    load_us_retail,
    retail_event_comparison,
)
from analysis.studies.hardware.study import (
    CONFIDENCE_WORDS,
    HardwareShocks,
    hardware_headline,
    hardware_shocks,
)

__all__ = [
    "CONFIDENCE_WORDS",
    "FX_MAX_GAP_DAYS",
    "PRODUCTS",
    "RETAIL_CAVEATS",
    "RETAIL_COLUMNS",
    "RETAIL_FILES",
    "HardwareShocks",
    "PositionGain",
    "events_table",
    "fx_at",
    "gain_table",
    "hardware_headline",
    "hardware_shocks",
    "load_us_retail",
    "msrp",
    "observations_table",
    "plot_price_history",
    "plot_retail",
    "plot_rule_week",
    "position_gain",
    "price_panel",
    "price_paths",
    "retail_caveats_markdown",
    "retail_event_comparison",
    "retail_skipped_markdown",
    "retail_table",
    "shock_measures",
    "shocks_fx_table",
    "shocks_table",
]
