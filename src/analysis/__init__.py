"""analysis: event studies of Nvidia and its peers around US export controls, with cited
hardware-price and China-exposure evidence and a fact-check of a news article.

>>> import analysis as an
>>> res = an.event_study(["NVDA"], event="E08", market="SPY")   # doctest: +SKIP
>>> res.summary()                                                # doctest: +SKIP

Submodules are imported on first use (``an.plots``, ``an.prices``, ...), so ``import analysis``
stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_SUBMODULES = {
    "calendar",
    "config",
    "errors",
    "events",
    "eventstudy",
    "exposure",
    "facts",
    "factcheck",
    "hardware",
    "inference",
    "models",
    "plots",
    "prices",
    "reports",
    "returns",
    "robustness",
}
_FUNCTIONS = {
    "event_study": "eventstudy",
    "compare": "eventstudy",
    "robustness_grid": "robustness",
    "peer_group": "events",
    "get_event": "events",
    "load_history": "prices",
    "resolve_day0": "calendar",
}

if TYPE_CHECKING:  # pragma: no cover
    from analysis.eventstudy import compare, event_study  # noqa: F401


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"analysis.{name}")
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(f"analysis.{_FUNCTIONS[name]}"), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES | set(_FUNCTIONS))
