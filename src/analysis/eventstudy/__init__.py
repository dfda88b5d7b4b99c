"""The event-study engine: returns, expected-return models, test statistics, the study and its results.

>>> from analysis.eventstudy import event_study
>>> res = event_study(["NVDA"], event="E08", market="SPY")   # doctest: +SKIP

The names below are imported from their modules on first use, so importing one module of the
engine (``analysis.eventstudy.models``, say) does not load the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "Summary": "analysis._summary",
    "AbnormalVolatilityResults": "analysis.eventstudy.activity",
    "AbnormalVolumeResults": "analysis.eventstudy.activity",
    "abnormal_volatility": "analysis.eventstudy.activity",
    "abnormal_volume": "analysis.eventstudy.activity",
    "EventDesign": "analysis.eventstudy.design",
    "Window": "analysis.eventstudy.design",
    "as_symbols": "analysis.eventstudy.design",
    "build_design": "analysis.eventstudy.design",
    "check_alpha": "analysis.eventstudy.design",
    "GarchCARResult": "analysis.eventstudy.garch",
    "GarchEventStudyResults": "analysis.eventstudy.garch",
    "EventStudyResults": "analysis.eventstudy.results",
    "compare": "analysis.eventstudy.study",
    "event_study": "analysis.eventstudy.study",
    "input_series": "analysis.eventstudy.study",
    "model_arguments": "analysis.eventstudy.study",
    "SyntheticResults": "analysis.eventstudy.synthetic",
    "synthetic_study": "analysis.eventstudy.synthetic",
    "CARResult": "analysis.eventstudy.tables",
    "EventDay": "analysis.eventstudy.tables",
    "TestRow": "analysis.eventstudy.tables",
    "TestTable": "analysis.eventstudy.tables",
}

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

if TYPE_CHECKING:  # pragma: no cover
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


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'analysis.eventstudy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
