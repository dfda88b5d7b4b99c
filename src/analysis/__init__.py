"""analysis: event studies of Nvidia and its peers around US export controls, with cited
hardware-price and China-exposure evidence and a fact-check of a news article.

>>> import analysis as an
>>> res = an.event_study(["NVDA"], event="E08", market="SPY")   # doctest: +SKIP
>>> res.summary()                                                # doctest: +SKIP

Modules are imported on first use under short names (``an.prices`` is ``analysis.data.prices``,
``an.inference`` is ``analysis.eventstudy.inference``, ``an.factcheck`` is
``analysis.studies.factcheck``, ...), so ``import analysis`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: Short names for the modules, by layer: data -> eventstudy (engine) -> studies -> reports, cli.
_SUBMODULES = {
    "config": "analysis.config",
    "errors": "analysis.errors",
    "calendar": "analysis.data.calendar",
    "events": "analysis.data.events",
    "facts": "analysis.data.facts",
    "prices": "analysis.data.prices",
    "eventstudy": "analysis.eventstudy",
    "returns": "analysis.eventstudy.returns",
    "models": "analysis.eventstudy.models",
    "inference": "analysis.eventstudy.inference",
    "robustness": "analysis.eventstudy.robustness",
    "policy": "analysis.eventstudy.policy",
    "prose": "analysis.eventstudy.prose",
    "episodes": "analysis.eventstudy.episodes",
    "activity": "analysis.eventstudy.activity",
    "garch": "analysis.eventstudy.garch",
    "synthetic": "analysis.eventstudy.synthetic",
    "factors": "analysis.data.factors",
    "exposure": "analysis.studies.exposure",
    "factcheck": "analysis.studies.factcheck",
    "hardware": "analysis.studies.hardware",
    "retail": "analysis.studies.retail",
    "findings": "analysis.studies.findings",
    "plots": "analysis.plots",
    "reports": "analysis.reports",
}
_FUNCTIONS = {
    "event_study": "analysis.eventstudy",
    "compare": "analysis.eventstudy",
    "input_series": "analysis.eventstudy",
    "model_arguments": "analysis.eventstudy",
    "robustness_grid": "analysis.eventstudy.robustness",
    "abnormal_volume": "analysis.eventstudy.activity",
    "abnormal_volatility": "analysis.eventstudy.activity",
    "synthetic_study": "analysis.eventstudy.synthetic",
    "power": "analysis.eventstudy.power",
    "power_of": "analysis.eventstudy.power",
    "minimum_detectable_effect": "analysis.eventstudy.power",
    "minimum_detectable_effect_of": "analysis.eventstudy.power",
    "latex_table": "analysis._export",
    "load_french_factors": "analysis.data.factors",
    "peer_group": "analysis.data.events",
    "get_event": "analysis.data.events",
    "load_history": "analysis.data.prices",
    "resolve_day0": "analysis.data.calendar",
}

if TYPE_CHECKING:  # pragma: no cover
    from analysis.eventstudy import compare, event_study  # noqa: F401


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(_SUBMODULES[name])
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES) | set(_FUNCTIONS))
