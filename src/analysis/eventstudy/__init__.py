"""The event-study engine: returns, expected-return models, test statistics, the study and its results.

>>> from analysis.eventstudy import event_study
>>> res = event_study(["NVDA"], event="E08", market="SPY")   # doctest: +SKIP
"""

from __future__ import annotations

from analysis.eventstudy.study import (
    CARResult,
    EventDesign,
    EventStudyResults,
    Summary,
    TestTable,
    Window,
    as_symbols,
    build_design,
    check_alpha,
    compare,
    event_study,
)

__all__ = [
    "CARResult",
    "EventDesign",
    "EventStudyResults",
    "Summary",
    "TestTable",
    "Window",
    "as_symbols",
    "build_design",
    "check_alpha",
    "compare",
    "event_study",
]
