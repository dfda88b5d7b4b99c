"""The event registry (``data/events.csv``) and the peer groups (``data/peer_groups.yaml``).

The registry is built from the curated facts (``../shared/data/facts/events.csv``) by
``scripts/build_events_table.py``, which calls :func:`build_registry`. Every source column is kept
verbatim (the fact's ``date`` and ``time_et`` texts as ``date_text`` and ``time_text``); parsed
columns are added, and no empty cell is filled with a guess.

Parsed columns
--------------
``date``
    ISO date: the day given; for a range ``2023-10-18/19`` its first day; for a month ``2024-02``
    its first day; for ``2025-08 (approx 08-11)`` the approximate day (2025-08-11).
``date_precision``
    ``exact`` (a plain ``YYYY-MM-DD``), ``approximate`` (a day marked approx), ``range`` (two or
    more days, first taken), ``before`` (``YYYY-MM-DD (before)``: on or before that day),
    ``month`` (only the month is known, ``YYYY-MM`` with or without ``(approx)``).
``time_et``
    ``HH:MM`` US Eastern when the time text gives a clock time labelled ET/EDT/EST (seconds are
    dropped, which never moves a time across a whole-minute close); empty otherwise.
``timing``
    ``before_open`` / ``intraday`` / ``after_close`` / ``unknown``, read from the time text by
    :func:`parse_time_text`: a clock time decides it (against that session's real open and close);
    a text that says "unconfirmed" or "unknown" anywhere, starts with "n/a", or hedges between two
    timings ("during/before", "before or at") is ``unknown``; otherwise the leading phrase's words
    (``after close``/``evening`` -> after_close, ``before the open``/``pre-market`` -> before_open,
    ``during session``/``intraday``/``late morning``/``full session`` -> intraday).
``market_observable``
    false for private notifications (kind ``notification_private``: the market learned of them
    later) and for every date not precise to the day; true otherwise.
``export_control``
    decided per kind (:data:`EXPORT_CONTROL_BY_KIND`): true for ``bis_rule``, ``company_8k``,
    ``notification_private``, ``rule_effective``, ``policy_relief``; false for ``earnings``,
    ``product_launch``, ``market_shock``; ``media_report`` rows are decided one by one in
    :data:`MEDIA_REPORTS_ABOUT_CONTROLS` (true only when the report is about the controls).

Day 0 for an event is :func:`analysis.data.calendar.resolve_day0` applied to ``date`` with ``time_et``
when known, else ``timing``.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path

import pandas as pd
import yaml

from analysis import config
from analysis._io import atomic_write_text, file_stamp
from analysis.data import calendar
from analysis.data.dates import iso_date_problem
from analysis.data.vocabulary import CONFIDENCE_WORDS, EVENT_DATE_PRECISIONS
from analysis.errors import CalendarError, DataError, SpecificationError, ValidationError

__all__ = [
    "CONFIDENCE_LEVELS",
    "DATE_PRECISIONS",
    "EXPORT_CONTROL_BY_KIND",
    "FACTS_COLUMNS",
    "MEDIA_REPORTS_ABOUT_CONTROLS",
    "REGISTRY_COLUMNS",
    "Event",
    "build_registry",
    "export_control_events",
    "get_event",
    "load_events",
    "parse_date_text",
    "parse_time_text",
    "peer_group",
    "peer_groups",
    "registry_csv",
    "resolve_event",
    "write_registry",
]

FACTS_COLUMNS = (
    "event_id",
    "date",
    "time_et",
    "timezone_note",
    "kind",
    "title",
    "description",
    "affected",
    "source_title",
    "source_url",
    "confidence",
)
REGISTRY_COLUMNS = (
    "event_id",
    "date",
    "date_precision",
    "time_et",
    "timing",
    "market_observable",
    "export_control",
    "kind",
    "title",
    "description",
    "affected",
    "date_text",
    "time_text",
    "timezone_note",
    "source_title",
    "source_url",
    "confidence",
)
#: how precise a registry date is (the vocabulary's event date precisions)
DATE_PRECISIONS = EVENT_DATE_PRECISIONS
#: a confidence text must start with one of these words (``medium-high``, ``low-medium`` pass)
CONFIDENCE_LEVELS = CONFIDENCE_WORDS

EXPORT_CONTROL_BY_KIND: dict[str, bool | None] = {
    "bis_rule": True,  # a Commerce/BIS rule
    "company_8k": True,  # Nvidia's filings about licence requirements
    "notification_private": True,  # USG notices to Nvidia (not public on the day)
    "rule_effective": True,  # effective date of a rule
    "policy_relief": True,  # licences granted / requirements relaxed
    "earnings": False,  # results releases: confounded by everything else in the quarter
    "product_launch": False,  # compliant products (A800, RTX 4090D, H20)
    "market_shock": False,  # DeepSeek sell-off: not a control action
    "media_report": None,  # decided per row below
}
#: media reports: True when the report is about the controls themselves
MEDIA_REPORTS_ABOUT_CONTROLS: dict[str, bool] = {
    "E06": True,  # reports the US may restrict A800/H800 exports
    "E07": False,  # Chinese firms' chip orders (FT); no control action reported
    "E11": True,  # WSJ: China orders at risk under the Oct 2023 rules taking effect at once
    "E24": False,  # a cheaper China GPU, i.e. a product launch like E05/E14/E15
}

_ID_RE = re.compile(r"E\d{2}")
_TEXT_ID_RE = re.compile(r"\s*[Ee](\d{1,2})\s*")
_HHMM_RE = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_KIND_RE = re.compile(r"[a-z][a-z0-9_]*")
_CONF_RE = re.compile(rf"({'|'.join(CONFIDENCE_WORDS)})\b", re.IGNORECASE)
_BOOL = {"true": True, "false": False}


# --------------------------------------------------------------------------- parsing the facts


def parse_date_text(text: str) -> tuple[str, str]:
    """A facts date text -> (ISO date, precision). Raises ValueError for a form not listed."""
    t = text.strip()
    pats: list[tuple[str, str]] = [
        (r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})", "exact"),
        (r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\s*\(approx[^)]*\)", "approximate"),
        (r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\s*\(before\)", "before"),
        (
            r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\s*/\s*(?:\d{4}-\d{2}-)?(?:\d{2}-)?\d{2}",
            "range",
        ),
        (r"(?P<y>\d{4})-(?P<m>\d{2})\s*\(approx\.?\s+(?P<m2>\d{2})-(?P<d>\d{2})\)", "approximate"),
        (r"(?P<y>\d{4})-(?P<m>\d{2})(?:\s*\(approx\.?\))?", "month"),
    ]
    for pat, precision in pats:
        m = re.fullmatch(pat, t, flags=re.IGNORECASE)
        if not m:
            continue
        g = m.groupdict()
        if g.get("m2") and g["m2"] != g["m"]:
            raise ValueError(f"date text {text!r} names two different months")
        day = int(g["d"]) if g.get("d") else 1
        try:
            date = dt.date(int(g["y"]), int(g["m"]), day)
        except ValueError as exc:
            raise ValueError(f"date text {text!r} is not a real date ({exc})") from None
        return date.isoformat(), precision
    raise ValueError(
        f"date text {text!r} is not one of the known forms: YYYY-MM-DD, YYYY-MM-DD (approx), "
        "YYYY-MM-DD (before), YYYY-MM-DD/DD, YYYY-MM, YYYY-MM (approx), YYYY-MM (approx MM-DD)"
    )


_CLOCK_ET_RE = re.compile(
    r"\b(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(am|pm)?\s*(?:ET|EDT|EST)\b", re.IGNORECASE
)
_UNKNOWN_RE = re.compile(r"\b(unconfirmed|unknown)\b", re.IGNORECASE)
_KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("after_close", re.compile(r"after[ -](the )?close|after[ -]hours|evening", re.IGNORECASE)),
    (
        "before_open",
        re.compile(r"before (the )?(open|session)|pre-?market|premarket", re.IGNORECASE),
    ),
    (
        "intraday",
        re.compile(
            r"intraday|during (the )?session|full session|late morning|midday|afternoon",
            re.IGNORECASE,
        ),
    ),
)


def parse_time_text(text: str, date: str | None) -> tuple[str, str]:
    """A facts time text -> (``HH:MM`` or ``""``, timing). ``date`` (ISO) is needed to classify a
    clock time against that session's real hours; None for an imprecise date.

    Raises ValueError when the text fits no rule (add one rather than guess).
    """
    t = text.strip()
    lead = t.split("(", 1)[0].strip()
    if not t or _UNKNOWN_RE.search(t) or lead.lower().startswith("n/a"):
        return "", "unknown"
    clocks = set()
    for m in _CLOCK_ET_RE.finditer(t):
        hh, mm, ampm = int(m.group(1)), int(m.group(2)), (m.group(4) or "").lower()
        if ampm == "pm" and hh < 12:
            hh += 12
        elif ampm == "am" and hh == 12:
            hh = 0
        if not (0 <= hh <= 23 and 0 <= mm <= 59):
            raise ValueError(f"time text {text!r} holds an invalid clock time {m.group(0)!r}")
        clocks.add(f"{hh:02d}:{mm:02d}")
    if len(clocks) > 1:
        raise ValueError(f"time text {text!r} gives several clock times {sorted(clocks)}")
    if "/" in lead or re.search(r"\bor\b", lead, re.IGNORECASE):
        word = None
    else:
        hits = [name for name, pat in _KEYWORDS if pat.search(lead)]
        if len(hits) > 1:
            raise ValueError(f"time text {text!r} matches several timings {hits}")
        word = hits[0] if hits else None
    if clocks:
        hhmm = clocks.pop()
        if date is None:
            raise ValueError(f"time text {text!r} gives a clock time for an imprecise date")
        h, mi = (int(x) for x in hhmm.split(":"))
        derived = calendar.session_timing(date, dt.time(h, mi)) or "unknown"
        if word is not None and word != derived:
            raise ValueError(
                f"time text {text!r}: its words say {word} but {hhmm} ET is {derived} on {date}"
            )
        return hhmm, derived
    if "/" in lead or re.search(r"\bor\b", lead, re.IGNORECASE):
        return "", "unknown"
    if word is None:
        raise ValueError(
            f"time text {text!r} fits no timing rule; add a rule to analysis.data.events "
            "(parse_time_text) or write it as before open / during session / after close / "
            "unconfirmed"
        )
    return "", word


def _read_csv_records(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, fields) per record; line numbers count the header as line 1."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path} not found") from None
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path} is not UTF-8 text ({exc})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError(f"{path} is empty: it needs a header row") from None
    records: list[tuple[int, list[str]]] = []
    start = reader.line_num + 1
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                records.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationError(f"{path} line {reader.line_num}: malformed CSV ({exc})") from None
    return [h.strip() for h in header], records


def build_registry(facts_dir: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Rows of ``data/events.csv`` (column order :data:`REGISTRY_COLUMNS`) from ``facts_dir``.

    Deterministic: the same facts give the same rows. Raises ValidationError naming the file,
    line and column of every fact it cannot parse.
    """
    path = Path(facts_dir) / "events.csv"
    if not path.is_file():
        raise DataError(
            f"facts file {path} not found; pass the facts folder (e.g. ../shared/data/facts)"
        )
    header, records = _read_csv_records(path)
    missing = [c for c in FACTS_COLUMNS if c not in header]
    if missing:
        raise ValidationError(f"{path}: missing columns {', '.join(missing)}")
    col = {name: header.index(name) for name in FACTS_COLUMNS}
    problems: list[str] = []
    out: list[dict[str, str]] = []
    for line, row in records:
        if len(row) != len(header):
            problems.append(f"{path.name} line {line}: {len(row)} fields, header has {len(header)}")
            continue
        src = {name: row[i] for name, i in col.items()}
        eid = src["event_id"].strip()
        where = f"{path.name} line {line} ({eid or 'no id'})"
        try:
            date_iso, precision = parse_date_text(src["date"])
        except ValueError as exc:
            problems.append(f"{where}, column date: {exc}")
            continue
        try:
            time_et, timing = parse_time_text(
                src["time_et"], date_iso if precision == "exact" else None
            )
        except (ValueError, CalendarError) as exc:
            problems.append(f"{where}, column time_et: {exc}")
            continue
        kind = src["kind"].strip()
        if kind not in EXPORT_CONTROL_BY_KIND:
            problems.append(
                f"{where}, column kind: unknown kind {kind!r}; known: "
                f"{', '.join(EXPORT_CONTROL_BY_KIND)} (add it to EXPORT_CONTROL_BY_KIND)"
            )
            continue
        export = EXPORT_CONTROL_BY_KIND[kind]
        if export is None:
            if eid not in MEDIA_REPORTS_ABOUT_CONTROLS:
                problems.append(
                    f"{where}, column kind: media report {eid} has no export-control decision; "
                    "add it to MEDIA_REPORTS_ABOUT_CONTROLS"
                )
                continue
            export = MEDIA_REPORTS_ABOUT_CONTROLS[eid]
        observable = kind != "notification_private" and precision == "exact"
        out.append(
            {
                "event_id": eid,
                "date": date_iso,
                "date_precision": precision,
                "time_et": time_et,
                "timing": timing,
                "market_observable": "true" if observable else "false",
                "export_control": "true" if export else "false",
                "kind": kind,
                "title": src["title"],
                "description": src["description"],
                "affected": src["affected"],
                "date_text": src["date"],
                "time_text": src["time_et"],
                "timezone_note": src["timezone_note"],
                "source_title": src["source_title"],
                "source_url": src["source_url"],
                "confidence": src["confidence"],
            }
        )
    if problems:
        raise ValidationError(f"{path}: {len(problems)} fact(s) could not be parsed", problems)
    out.sort(key=lambda r: r["event_id"])
    return out


def registry_csv(rows: Iterable[dict[str, str]]) -> str:
    """The registry as CSV text: fixed column order, minimal quoting, ``\\n`` line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(REGISTRY_COLUMNS)
    for row in rows:
        writer.writerow([row[c] for c in REGISTRY_COLUMNS])
    return buf.getvalue()


def write_registry(rows: Iterable[dict[str, str]], path: str | os.PathLike[str]) -> Path:
    """Write the registry atomically (temp file in the same folder, then ``os.replace``)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, registry_csv(rows))
    return target


# --------------------------------------------------------------------------- loading


def _registry_path(path: str | os.PathLike[str] | None) -> Path:
    return Path(path) if path is not None else config.data_dir() / "events.csv"


def load_events(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The validated event registry (default ``data/events.csv``), one row per event.

    Columns as :data:`REGISTRY_COLUMNS`; ``date`` is datetime64, ``market_observable`` and
    ``export_control`` are bool, text columns keep the file's text ("" where empty). Raises
    ValidationError listing file, line and column of every problem.
    """
    p = _registry_path(path)
    if not p.is_file():
        raise DataError(
            f"event registry {p} not found; rebuild it with "
            "`python scripts/build_events_table.py ../shared/data/facts`"
        )
    header, records = _read_csv_records(p)
    missing = [c for c in REGISTRY_COLUMNS if c not in header]
    if missing:
        raise ValidationError(
            f"{p}: missing required column(s) {', '.join(missing)}; "
            "rebuild it with scripts/build_events_table.py"
        )
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise ValidationError(f"{p}: duplicate column name(s) {', '.join(dup)}")
    if not records:
        raise ValidationError(f"{p}: no events (only a header)")
    problems: list[str] = []
    seen: dict[str, int] = {}
    rows: list[dict[str, str]] = []
    for line, fields_ in records:
        if len(fields_) != len(header):
            problems.append(
                f"{p.name} line {line}: {len(fields_)} fields, header has {len(header)}"
            )
            continue
        r = dict(zip(header, fields_, strict=True))
        eid = r["event_id"].strip()

        def bad(column: str, msg: str, line: int = line, eid: str = eid) -> None:
            problems.append(f"{p.name} line {line} ({eid or 'no id'}), column {column}: {msg}")

        if not _ID_RE.fullmatch(eid):
            bad("event_id", f"{eid!r} is not an id of the form E01..E99")
        elif eid in seen:
            bad("event_id", f"duplicate id {eid} (first on line {seen[eid]})")
        else:
            seen[eid] = line
        date_problem = iso_date_problem(r["date"].strip())
        date_ok = date_problem is None
        if date_problem:
            bad("date", f"{r['date']!r} {date_problem}")
        prec = r["date_precision"].strip()
        if prec not in DATE_PRECISIONS:
            bad("date_precision", f"{prec!r} is not one of {', '.join(DATE_PRECISIONS)}")
        timing = r["timing"].strip()
        if timing not in calendar.TIMINGS:
            bad("timing", f"{timing!r} is not one of {', '.join(calendar.TIMINGS)}")
        t = r["time_et"].strip()
        if t and not _HHMM_RE.fullmatch(t):
            bad("time_et", f"{t!r} is not a clock time HH:MM (US Eastern) or empty")
        elif t and date_ok and timing in calendar.TIMINGS:
            if prec != "exact":
                bad("time_et", f"a clock time {t} needs an exact date, not {prec!r}")
            else:
                try:
                    h, mi = (int(x) for x in t.split(":"))
                    derived = calendar.session_timing(r["date"].strip(), dt.time(h, mi))
                except CalendarError as exc:
                    bad("time_et", str(exc))
                else:
                    want = derived or "unknown"
                    if timing != want:
                        bad(
                            "timing",
                            f"{timing!r} contradicts time_et {t} on {r['date'].strip()} "
                            f"({want} on the NYSE calendar)",
                        )
        for column in ("market_observable", "export_control"):
            if r[column].strip().lower() not in _BOOL:
                bad(column, f"{r[column]!r} is not true or false")
        if (
            r["market_observable"].strip().lower() == "true"
            and prec in DATE_PRECISIONS
            and prec != "exact"
        ):
            bad("market_observable", f"true, but the date precision is {prec!r} (not a day)")
        if not _KIND_RE.fullmatch(r["kind"].strip()):
            bad("kind", f"{r['kind']!r} is not a lower-case snake_case kind")
        if not r["title"].strip():
            bad("title", "empty")
        if not r["date_text"].strip():
            bad("date_text", "empty (the source's date text must be kept)")
        conf = r["confidence"].strip()
        if not _CONF_RE.match(conf):
            bad(
                "confidence",
                f"{conf!r} must start with one of {', '.join(CONFIDENCE_LEVELS)}",
            )
        rows.append(r)
    if problems:
        raise ValidationError(f"{p}: {len(problems)} problem(s) in the event registry", problems)
    df = pd.DataFrame(rows, columns=header)
    df = df[list(REGISTRY_COLUMNS) + [c for c in header if c not in REGISTRY_COLUMNS]]
    df["event_id"] = df["event_id"].str.strip()
    df["date"] = pd.to_datetime(df["date"].str.strip(), format="%Y-%m-%d")
    for column in ("date_precision", "time_et", "timing", "kind"):
        df[column] = df[column].str.strip()
    for column in ("market_observable", "export_control"):
        df[column] = df[column].str.strip().str.lower().map(_BOOL).astype(bool)
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Event:
    """One registry row. ``time_et`` is None when no clock time is known."""

    event_id: str
    date: pd.Timestamp
    date_precision: str
    time_et: str | None
    timing: str
    market_observable: bool
    export_control: bool
    kind: str
    title: str
    description: str
    affected: tuple[str, ...]
    date_text: str
    time_text: str
    timezone_note: str
    source_title: str
    source_url: str
    confidence: str

    @classmethod
    def from_row(cls, row: pd.Series) -> Event:
        """An Event from one row of :func:`load_events`."""
        values = {f.name: row[f.name] for f in fields(cls)}
        values["date"] = pd.Timestamp(row["date"])
        values["time_et"] = row["time_et"] or None
        values["market_observable"] = bool(row["market_observable"])
        values["export_control"] = bool(row["export_control"])
        values["affected"] = tuple(a.strip() for a in row["affected"].split(";") if a.strip())
        return cls(**values)

    def unusable_reason(self) -> str | None:
        """Why this event cannot be an event day, or None when it can."""
        if self.date_precision != "exact":
            return (
                f"its date is only known to {self.date_precision} precision "
                f"(source date text {self.date_text!r}, taken as {self.date:%Y-%m-%d})"
            )
        if not self.market_observable:
            note = self.timezone_note or "the market learned of it later"
            return f"it is not market-observable ({self.kind}; source note: {note})"
        return None

    def day0(self) -> calendar.Day0:
        """Day 0 by the calendar rule, from ``date`` with ``time_et`` when known, else ``timing``."""
        res = calendar.resolve_day0(self.date, self.time_et, self.timing)
        reason = res.reason
        why = self.unusable_reason()
        if why is not None:
            reason += f"; caution: {why}"
        return replace(res, requested=f"{self.event_id}: {res.requested}", reason=reason)


def event_facts(spec: object, *, allow_imprecise: bool = False) -> pd.DataFrame:
    """What a report states about its event: id, title, kind, source, confidence, the requested
    date/time and the day 0 used with the reason (one column ``value``)."""
    ev, d0 = resolve_event(spec, allow_imprecise=allow_imprecise)
    rows: list[tuple[str, str]] = []
    if ev is not None:
        rows += [
            ("event", f"{ev.event_id}: {ev.title}"),
            ("kind", ev.kind),
            ("date (source text)", ev.date_text),
            ("time (source text)", ev.time_text or "-"),
            ("affected", ", ".join(ev.affected) or "-"),
            ("source", ev.source_title),
            ("source url", ev.source_url),
            ("confidence", ev.confidence),
        ]
    else:
        rows.append(("event", f"date given directly: {d0.requested}"))
    rows += [("day 0", f"{d0.day0:%Y-%m-%d}"), ("day 0 rule", d0.rule), ("why", d0.reason)]
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")


def _registry(path: str | os.PathLike[str] | None) -> dict[str, Event]:
    p = _registry_path(path)
    return dict(_registry_cached(str(p), file_stamp(p)))


@functools.lru_cache(maxsize=8)
def _registry_cached(path: str, mtime_ns: int) -> tuple[tuple[str, Event], ...]:
    """The validated registry, re-read only when the file changes (path and mtime as the key)."""
    df = load_events(path)
    return tuple((row["event_id"], Event.from_row(row)) for _, row in df.iterrows())


def registry_events(*, path: str | os.PathLike[str] | None = None) -> list[Event]:
    """Every event of the registry (``data/events.csv``), in file order."""
    return list(_registry(path).values())


def get_event(event_id: str, *, path: str | os.PathLike[str] | None = None) -> Event:
    """The registry event ``event_id`` ("E08", case-insensitive; "e8" also works)."""
    reg = _registry(path)
    m = _TEXT_ID_RE.fullmatch(event_id) if isinstance(event_id, str) else None
    key = f"E{int(m.group(1)):02d}" if m else str(event_id)
    if key not in reg:
        raise SpecificationError(
            f"unknown event id {event_id!r}; valid ids: {', '.join(sorted(reg))} "
            f"(see {_registry_path(path)})"
        )
    return reg[key]


def resolve_event(
    spec: object,
    *,
    allow_imprecise: bool = False,
    path: str | os.PathLike[str] | None = None,
) -> tuple[Event | None, calendar.Day0]:
    """An event id ("E08") or a date/datetime ("2023-10-17", "2023-10-17T17:27") -> day 0.

    Returns (Event, Day0) for an id and (None, Day0) for a date. An event that is not
    market-observable or whose date is not precise to the day raises CalendarError saying why,
    unless ``allow_imprecise=True``.
    """
    if isinstance(spec, str) and _TEXT_ID_RE.fullmatch(spec):
        ev = get_event(spec, path=path)
        why = ev.unusable_reason()
        if why is not None and not allow_imprecise:
            raise CalendarError(
                f"event {ev.event_id} ({ev.title}) cannot be an event day: {why}; "
                "pick an observable event (see export_control_events()) or pass "
                f"allow_imprecise=True to use {ev.date:%Y-%m-%d} anyway"
            )
        return ev, ev.day0()
    if isinstance(spec, str) and re.fullmatch(r"\s*[A-Za-z].*", spec):
        raise SpecificationError(
            f"event {spec!r} is neither an event id (like E08; see data/events.csv) nor a date "
            "(YYYY-MM-DD or YYYY-MM-DDTHH:MM, US Eastern)"
        )
    return None, calendar.resolve_day0(spec)


def export_control_events(
    observable_only: bool = True, *, path: str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Export-control events with their day 0: the events the report matrix runs NVDA on.

    Columns: event_id, date, date_precision, time_et, timing, kind, title, market_observable,
    confidence, day0, rule, reason. Sorted by date, then id.
    """
    reg = _registry(path)
    rows = []
    for ev in reg.values():
        if not ev.export_control or (observable_only and ev.unusable_reason() is not None):
            continue
        d0 = ev.day0()
        rows.append(
            {
                "event_id": ev.event_id,
                "date": ev.date,
                "date_precision": ev.date_precision,
                "time_et": ev.time_et or "",
                "timing": ev.timing,
                "kind": ev.kind,
                "title": ev.title,
                "market_observable": ev.market_observable,
                "confidence": ev.confidence,
                "day0": d0.day0,
                "rule": d0.rule,
                "reason": d0.reason,
            }
        )
    if not rows:
        raise DataError(
            f"no {'market-observable ' if observable_only else ''}export-control events in "
            f"{_registry_path(path)}"
        )
    df = pd.DataFrame(rows).sort_values(["date", "event_id"], kind="stable")
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- peer groups

_SYMBOL_RE = re.compile(r"[A-Z0-9][A-Z0-9.^=_-]*")


def _peer_path(path: str | os.PathLike[str] | None) -> Path:
    return Path(path) if path is not None else config.data_dir() / "peer_groups.yaml"


def peer_groups(path: str | os.PathLike[str] | None = None) -> dict[str, list[str]]:
    """Named peer groups from ``data/peer_groups.yaml``: group name -> ticker symbols (the file
    is re-read only when it changes)."""
    p = _peer_path(path)
    return {name: list(symbols) for name, symbols in _peer_groups_cached(str(p), file_stamp(p))}


@functools.lru_cache(maxsize=4)
def _peer_groups_cached(path: str, mtime_ns: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"peer-group file {p} not found") from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"{p} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not raw:
        raise ValidationError(f"{p}: expected a mapping of group name -> symbols")
    out: dict[str, list[str]] = {}
    problems = []
    for name, spec in raw.items():
        symbols = spec.get("symbols") if isinstance(spec, dict) else spec
        if not isinstance(symbols, list) or not symbols:
            problems.append(f"{p.name}, group {name!r}: needs a non-empty list of symbols")
            continue
        badsyms = [s for s in symbols if not isinstance(s, str) or not _SYMBOL_RE.fullmatch(s)]
        if badsyms:
            problems.append(f"{p.name}, group {name!r}: invalid symbol(s) {badsyms}")
            continue
        dups = sorted({s for s in symbols if symbols.count(s) > 1})
        if dups:
            problems.append(f"{p.name}, group {name!r}: duplicate symbol(s) {dups}")
            continue
        out[str(name)] = list(symbols)
    if problems:
        raise ValidationError(f"{p}: {len(problems)} problem(s) in the peer groups", problems)
    return tuple((name, tuple(symbols)) for name, symbols in out.items())


def peer_group(name: str, *, path: str | os.PathLike[str] | None = None) -> list[str]:
    """The symbols of peer group ``name`` (e.g. "semis")."""
    groups = peer_groups(path)
    if name not in groups:
        raise SpecificationError(
            f"unknown peer group {name!r}; valid groups: {', '.join(groups)} "
            f"(defined in {_peer_path(path)})"
        )
    return list(groups[name])
