"""Headline results: the JSON values a notebook publishes and the ``results.json`` a run writes.

A notebook publishes its headline numbers as a display bundle of mime type
:data:`RESULTS_MIME`; the runner takes the last such bundle of the executed notebook. Values are
normalized (:func:`canonical_value`) so that two builds of the same inputs give byte-identical
``results.json`` files: numpy scalars become Python numbers, floats are rounded to 12 significant
digits, non-finite floats become ``null``, dates become ISO strings, keys are sorted.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from analysis.errors import SpecificationError

RESULTS_MIME = "application/vnd.analysis.results+json"
"""Mime type of the display bundle carrying a notebook's headline numbers."""

FLOAT_SIGNIFICANT_DIGITS = 12


def canonical_float(value: float) -> float | None:
    """Round to 12 significant digits (``None`` for NaN or +-inf, which JSON cannot hold)."""
    value = float(value)
    if not math.isfinite(value):
        return None
    return float(format(value, f".{FLOAT_SIGNIFICANT_DIGITS}g"))


def canonical_value(value: Any, *, where: str = "value") -> Any:
    """A JSON-ready copy of ``value`` (see the module docstring); ``where`` names it in errors."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return value
    if type(value).__name__ == "bool_":  # numpy.bool_ without importing numpy
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return canonical_float(float(value))
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if hasattr(value, "isoformat") and callable(value.isoformat):  # pandas.Timestamp
        return value.isoformat()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise SpecificationError(
                    f"{where}: key {key!r} is a {type(key).__name__}; result keys must be strings"
                )
            out[key] = canonical_value(item, where=f"{where}[{key!r}]")
        return out  # insertion order (the reader's order); results.json sorts its keys
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):  # numpy arrays / scalars
        return canonical_value(value.tolist(), where=where)
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [canonical_value(item, where=f"{where}[{i}]") for i, item in enumerate(value)]
    raise SpecificationError(
        f"{where}: cannot publish a {type(value).__name__}; pass a number, string, bool, None, "
        "date, list or mapping of those (e.g. the .value of a results object)"
    )


def dumps(document: Mapping[str, Any]) -> str:
    """Canonical JSON text: sorted keys, two-space indent, UTF-8, trailing newline."""
    return (
        json.dumps(
            canonical_value(document, where="results"),
            sort_keys=True,
            indent=2,
            ensure_ascii=False,
            allow_nan=False,
        )
        + "\n"
    )


def extract_results(nb: Any) -> dict[str, Any] | None:
    """The data of the last :data:`RESULTS_MIME` output in an executed notebook, or None."""
    found: Any = None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            if RESULTS_MIME in data:
                found = data[RESULTS_MIME]
    if found is None:
        return None
    if isinstance(found, str):  # a notebook written by a tool that stored the JSON as text
        found = json.loads(found)
    return canonical_value(found, where="published results")
