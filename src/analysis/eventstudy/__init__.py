"""The event-study engine: returns, expected-return models, test statistics, the study and its results.

>>> from analysis.eventstudy import event_study
>>> res = event_study(["NVDA"], event="E08", market="SPY")   # doctest: +SKIP
"""

from __future__ import annotations

from analysis._summary import Summary
from analysis.eventstudy.activity import (
    AbnormalVolatilityResults,
    AbnormalVolumeResults,
    abnormal_volatility,
    abnormal_volume,
)
from analysis.eventstudy.design import (
    EventDesign,
    Window,
    as_symbols,
    build_design,
    check_alpha,
)
from analysis.eventstudy.garch import GarchCARResult, GarchEventStudyResults
from analysis.eventstudy.results import EventStudyResults
from analysis.eventstudy.study import compare, event_study, input_series, model_arguments
from analysis.eventstudy.synthetic import SyntheticResults, synthetic_study
from analysis.eventstudy.tables import CARResult, EventDay, TestRow, TestTable

__all__ = [
    "AbnormalVolatilityResults",
    "AbnormalVolumeResults",
    "CARResult",
    "EventDay",
    "EventDesign",
    "EventStudyResults",
    "GarchCARResult",
    "GarchEventStudyResults",
    "Summary",
    "SyntheticResults",
    "TestRow",
    "TestTable",
    "Window",
    "abnormal_volatility",
    "abnormal_volume",
    "as_symbols",
    "build_design",
    "check_alpha",
    "compare",
    "event_study",
    "input_series",
    "model_arguments",
    "synthetic_study",
]
