"""Runs derived from the event registry: one run-matrix entry that stands for one run per event.

An entry with ``for_each`` expands, before validation, into one ordinary run per event of the
registry (``data/events.csv``) that the selector names::

    - for_each: export_control_events   # every market-observable export-control event
      name: "nvda_{id}"                 # {id}: the event id in lower case (e08)
      notebook: event_study.ipynb
      title: "NVDA, {event_id}: {title} (day 0 {day0})"
      parameters: {symbol: NVDA, event: "{event_id}"}
      per_event:                        # optional: extra parameters of single events
        E08: {quoted_price: 446.0, quote_date: "2023-10-17"}

Fields for ``{...}`` in the name, the title and string parameter values: ``event_id`` (E08),
``id`` (e08), ``title``, ``day0`` (YYYY-MM-DD, by the calendar's day-0 rule) and ``kind``.
Selectors: ``export_control_events`` (every market-observable export-control event) and
``bis_rules`` (those of kind ``bis_rule``). Adding a row to the registry adds its runs on the next
build, with no edit here; titles are generated from the registry, never typed with dates.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

#: Keys of a derived entry (the run keys, plus the selector and per-event parameters).
DERIVED_KEYS = ("for_each", "name", "notebook", "parameters", "title", "timeout", "per_event")
FIELDS = ("event_id", "id", "title", "day0", "kind")


def _export_control_events() -> pd.DataFrame:
    from analysis.data.events import export_control_events

    return export_control_events(observable_only=True)


def _bis_rules() -> pd.DataFrame:
    table = _export_control_events()
    return table[table["kind"] == "bis_rule"]


#: Selector name -> the registry rows it stands for (columns of ``export_control_events``).
SELECTORS: Mapping[str, Callable[[], pd.DataFrame]] = {
    "export_control_events": _export_control_events,
    "bis_rules": _bis_rules,
}


def _fill(value: Any, fields: Mapping[str, str], who: str, problems: list[str]) -> Any:
    """``value`` with ``{field}`` replaced in every string (lists and mappings too)."""
    if isinstance(value, str):
        names = [n for _, n, _, _ in string.Formatter().parse(value) if n is not None]
        unknown = [n for n in names if n not in fields]
        if unknown:
            problems.append(
                f"{who}: unknown field {{{unknown[0]}}} in {value!r}; fields: "
                + ", ".join(f"{{{f}}}" for f in FIELDS)
            )
            return value
        return value.format(**fields)
    if isinstance(value, list):
        return [_fill(v, fields, who, problems) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, fields, who, problems) for k, v in value.items()}
    return value


def event_fields(row: Mapping[str, Any]) -> dict[str, str]:
    """The ``{...}`` fields of one registry row (a row of ``export_control_events``)."""
    return {
        "event_id": str(row["event_id"]),
        "id": str(row["event_id"]).lower(),
        "title": str(row["title"]),
        "day0": f"{pd.Timestamp(row['day0']):%Y-%m-%d}",
        "kind": str(row["kind"]),
    }


def expand(entry: Mapping[str, Any], who: str, problems: list[str]) -> list[dict[str, Any]]:
    """The ordinary run entries a ``for_each`` entry stands for (problems appended, none raised)."""
    from analysis.reports.matrix import _suggest as suggest

    n_before = len(problems)
    for key in entry:
        if key not in DERIVED_KEYS:
            problems.append(
                f"{who}: unknown key '{key}'{suggest(str(key), DERIVED_KEYS)}; allowed keys of a "
                f"for_each entry: {', '.join(DERIVED_KEYS)}"
            )
    selector = entry.get("for_each")
    if selector not in SELECTORS:
        problems.append(
            f"{who}: key 'for_each': {selector!r} is not a selector"
            f"{suggest(str(selector), list(SELECTORS))}; selectors: {', '.join(SELECTORS)}"
        )
    per_event = entry.get("per_event") or {}
    if not isinstance(per_event, dict) or not all(isinstance(v, dict) for v in per_event.values()):
        problems.append(
            f"{who}: key 'per_event': must map event ids to parameter mappings, e.g. "
            "E08: {quoted_price: 446.0}"
        )
        per_event = {}
    if len(problems) > n_before:
        return []
    rows = SELECTORS[str(selector)]()
    ids = list(rows["event_id"])
    for event_id in per_event:
        if event_id not in ids:
            problems.append(
                f"{who}: key 'per_event': {event_id} is not among the events of "
                f"for_each: {selector} ({', '.join(ids)})"
            )
    out = []
    template = {k: v for k, v in entry.items() if k not in ("for_each", "per_event")}
    for _, row in rows.iterrows():
        fields = event_fields(row)
        run = _fill(template, fields, f"{who} ({fields['event_id']})", problems)
        extra = per_event.get(fields["event_id"], {})
        run["parameters"] = {**(run.get("parameters") or {}), **extra}
        out.append(run)
    return out
