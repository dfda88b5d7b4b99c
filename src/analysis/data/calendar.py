"""The NYSE trading calendar: event timestamp -> day 0, and windows in trading days.

Sessions, holidays, unscheduled closures and early (13:00) closes all come from
``exchange_calendars`` (calendar ``"XNYS"``); nothing here lists a holiday by hand.

Day-0 rule (README, "Conventions"; applied only in :func:`resolve_day0`)
------------------------------------------------------------------------
* A clock time (US Eastern) on a trading day: day 0 is that session if the time is before the
  session's real close (16:00, or 13:00 on an early-close day), else the next session. A time
  exactly at the close counts as after it.
* A date without a time (or with timing ``unknown``): that date's session.
* A timing keyword instead of a clock time: ``before_open`` and ``intraday`` -> that session,
  ``after_close`` -> the next session.
* A date on which the market was closed (weekend, holiday, closure): the next session, whatever
  the time.

Every :class:`Day0` carries a rule code and a one-sentence reason, so every output can state which
day 0 it used. Rule codes: ``before_close``, ``after_close``, ``date_only``, ``market_closed``.

Times without a zone are US Eastern (``America/New_York`` via :mod:`zoneinfo`, so DST is right);
zone-aware inputs are converted to Eastern first.

Windows are pairs of trading-day offsets relative to day 0, written ``[-250,-11]`` and ``[-1,+3]``
(MacKinlay 1997, "Event Studies in Economics and Finance", J. Econ. Lit. 35(1), section 3).
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import pandas as pd
from exchange_calendars import errors as xc_errors

from analysis.data.dates import parse_date
from analysis.errors import CalendarError, SpecificationError

__all__ = [
    "CALENDAR_NAME",
    "ET",
    "RULES",
    "TIMINGS",
    "Day0",
    "EventTime",
    "WindowError",
    "closed_reason",
    "format_window",
    "is_session",
    "offset",
    "parse_window",
    "resolve_day0",
    "session_close",
    "session_grid",
    "session_open",
    "session_timing",
    "sessions",
    "window_dates",
]

CALENDAR_NAME = "XNYS"
_CALENDAR_START = "2000-01-01"  # fixed, so results do not depend on the day the code runs
ET = ZoneInfo("America/New_York")

#: timing keywords accepted instead of a clock time (``unknown`` = no time of day is known)
TIMINGS = ("before_open", "intraday", "after_close", "unknown")
#: rule codes a :class:`Day0` can carry
RULES = ("before_close", "after_close", "date_only", "market_closed")

_TIMING_ALIASES = {
    "before_open": "before_open",
    "before open": "before_open",
    "before-open": "before_open",
    "pre_market": "before_open",
    "premarket": "before_open",
    "intraday": "intraday",
    "during_session": "intraday",
    "after_close": "after_close",
    "after close": "after_close",
    "after-close": "after_close",
    "after_hours": "after_close",
    "unknown": "unknown",
    "": "unknown",
}

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_DATETIME_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<time>\d{1,2}:\d{2}(?::\d{2})?))?(?:\s*ET)?"
)
_ZONED_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})"
)
_FORMATS_HINT = (
    "use YYYY-MM-DD, YYYY-MM-DDTHH:MM or 'YYYY-MM-DD HH:MM' (US Eastern), or a date plus a "
    "separate time 'HH:MM' or a timing keyword (before_open, intraday, after_close, unknown)"
)


class WindowError(CalendarError, SpecificationError):
    """A window that is malformed, inverted, or not covered by the calendar or the data."""


# --------------------------------------------------------------------------- calendar access


@lru_cache(maxsize=1)
def _cal() -> xcals.ExchangeCalendar:
    with warnings.catch_warnings():
        # exchange_calendars 4.13 builds its tables with an API pandas 3.1 deprecates; the warning
        # is about its internals, not about anything a user can change.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        return xcals.get_calendar(CALENDAR_NAME, start=_CALENDAR_START)


def _bounds_text() -> str:
    cal = _cal()
    return (
        f"the range of the NYSE calendar (exchange_calendars {CALENDAR_NAME}), "
        f"{_d(cal.first_session)}..{_d(cal.last_session)}"
    )


def _d(ts: pd.Timestamp | dt.date) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%d")


def _to_date(value: object, what: str = "date") -> pd.Timestamp:
    """A tz-naive, normalized Timestamp from a date-like value (:func:`analysis.data.dates.parse_date`)."""
    return parse_date(value, what)


def _check_in_bounds(date: pd.Timestamp, what: str) -> None:
    cal = _cal()
    if date < cal.first_session or date > cal.last_session:
        raise CalendarError(
            f"{what} {_d(date)} is outside {_bounds_text()}; use a date inside that range"
        )


def is_session(date: object) -> bool:
    """True when the NYSE traded on ``date`` (a date-like value)."""
    day = _to_date(date)
    _check_in_bounds(day, "date")
    return bool(_cal().is_session(day))


def sessions(start: object, end: object) -> pd.DatetimeIndex:
    """NYSE sessions from ``start`` to ``end`` inclusive, as tz-naive normalized dates."""
    first, last = _to_date(start, "start"), _to_date(end, "end")
    if first > last:
        raise CalendarError(f"start {_d(first)} is after end {_d(last)}; swap them")
    _check_in_bounds(first, "start")
    _check_in_bounds(last, "end")
    out = _cal().sessions_in_range(first, last)
    return pd.DatetimeIndex(out.tz_localize(None) if out.tz else out, freq=None, name=None)


def _session_times(session: pd.Timestamp) -> tuple[dt.datetime, dt.datetime]:
    cal = _cal()
    opening = cal.session_open(session).tz_convert(ET).to_pydatetime()
    closing = cal.session_close(session).tz_convert(ET).to_pydatetime()
    return opening, closing


def session_open(date: object) -> dt.datetime:
    """The real open of the session on ``date``, US Eastern (CalendarError if no session)."""
    day = _require_session(_to_date(date), "date")
    return _session_times(day)[0]


def session_close(date: object) -> dt.datetime:
    """The real close of the session on ``date``, US Eastern (13:00 on early-close days)."""
    day = _require_session(_to_date(date), "date")
    return _session_times(day)[1]


def _require_session(day: pd.Timestamp, what: str) -> pd.Timestamp:
    _check_in_bounds(day, what)
    if not _cal().is_session(day):
        raise CalendarError(
            f"{what} {_d(day)} ({day.day_name()}) is not an NYSE session ({closed_reason(day)}); "
            "resolve the event date with resolve_day0() first"
        )
    return day


def session_timing(date: object, time_et: dt.time) -> str | None:
    """``before_open`` / ``intraday`` / ``after_close`` for a US Eastern clock time on ``date``.

    Uses the session's real open and close (early closes included); a time exactly at the close
    is ``after_close``. Returns None when the market was closed that day.
    """
    day = _to_date(date)
    _check_in_bounds(day, "date")
    if not _cal().is_session(day):
        return None
    opening, closing = _session_times(day)
    instant = dt.datetime.combine(day.date(), time_et, tzinfo=ET)
    if instant < opening:
        return "before_open"
    if instant < closing:
        return "intraday"
    return "after_close"


def _next_session(day: pd.Timestamp) -> pd.Timestamp:
    try:
        return pd.Timestamp(_cal().date_to_session(day, direction="next"))
    except (xc_errors.DateOutOfBounds, xc_errors.RequestedSessionOutOfBounds):
        raise CalendarError(
            f"no NYSE session on or after {_d(day)} within {_bounds_text()}"
        ) from None


def _next_session_after(session: pd.Timestamp) -> pd.Timestamp:
    try:
        return pd.Timestamp(_cal().next_session(session))
    except (xc_errors.DateOutOfBounds, xc_errors.RequestedSessionOutOfBounds, ValueError):
        raise CalendarError(
            f"no NYSE session after {_d(session)} within {_bounds_text()}"
        ) from None


def closed_reason(date: object) -> str:
    """Why the NYSE did not trade on ``date``: ``weekend``, ``holiday: <name>``, ``unscheduled
    closure``, or ``holiday`` (a closure without a name, or a weekday outside the calendar's range).
    """
    day = _to_date(date)
    if day.weekday() >= 5:
        return "weekend"
    cal = _cal()
    if day < cal.first_session or day > cal.last_session:
        return "holiday"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exchange_calendars' own pandas deprecation warnings
        rules = cal.regular_holidays
        names = rules.holidays(day, day, return_name=True) if rules else None
    if names is not None and len(names):
        return f"holiday: {names.iloc[0]}"
    if any(pd.Timestamp(h) == day for h in cal.adhoc_holidays):
        return "unscheduled closure"
    return "holiday"


def session_grid(start: object, end: object) -> pd.DatetimeIndex:
    """NYSE sessions from ``start`` to ``end`` inclusive; weekdays where the calendar has no range.

    Unlike :func:`sessions` this never raises for dates outside the calendar's range (it starts in
    2000): a price series may begin earlier, and only its weekends are known there. Empty when
    ``end`` is before ``start``.
    """
    lo, hi = _to_date(start, "start"), _to_date(end, "end")
    if hi < lo:
        return pd.DatetimeIndex([], dtype="datetime64[ns]")
    cal = _cal()
    first = pd.Timestamp(cal.first_session).tz_localize(None)
    last = pd.Timestamp(cal.last_session).tz_localize(None)
    parts = []
    if lo < first:
        parts.append(pd.bdate_range(lo, min(hi, first - pd.Timedelta(days=1))))
    if hi >= first and lo <= last:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parts.append(sessions(max(lo, first), min(hi, last)))
    if hi > last:
        parts.append(pd.bdate_range(max(lo, last + pd.Timedelta(days=1)), hi))
    out = pd.DatetimeIndex([], dtype="datetime64[ns]")
    for part in parts:
        out = out.append(pd.DatetimeIndex(part).as_unit("ns"))
    return pd.DatetimeIndex(out, freq=None, name=None)


# --------------------------------------------------------------------------- event time


def _fmt_time(t: dt.time) -> str:
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")


def _parse_clock(text: str, original: object) -> dt.time:
    m = _TIME_RE.fullmatch(text.strip())
    if not m:
        raise CalendarError(f"cannot read time {original!r}: {_FORMATS_HINT}")
    hh, mm, ss = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    try:
        return dt.time(hh, mm, ss)
    except ValueError:
        raise CalendarError(
            f"time {original!r} is not a valid clock time (HH:MM, 00:00-23:59, US Eastern)"
        ) from None


def _normalize_timing(value: object) -> str:
    if value is None:
        return "unknown"
    if not isinstance(value, str):
        raise CalendarError(f"timing {value!r} is not one of {', '.join(TIMINGS)}")
    key = value.strip().lower()
    if key in _TIMING_ALIASES:
        return _TIMING_ALIASES[key]
    raise CalendarError(f"timing {value!r} is not one of {', '.join(TIMINGS)}")


@dataclass(frozen=True)
class EventTime:
    """When news reached the market: a date, and a US Eastern clock time or a timing keyword.

    ``time`` is None when no clock time is known; ``timing`` is then one of :data:`TIMINGS`
    (``unknown`` when nothing is known). Build one with :meth:`parse`.
    """

    date: pd.Timestamp
    time: dt.time | None
    timing: str

    @classmethod
    def parse(cls, value: object, time_et: object = None, timing: object = None) -> EventTime:
        """Read "2023-10-17", "2023-10-17T17:27", "2023-10-17 17:27", a datetime/Timestamp
        (naive = US Eastern; zone-aware is converted), plus an optional separate ``time_et``
        ("17:27", a ``datetime.time``, or a timing keyword) and ``timing`` keyword.

        A naive Timestamp/datetime at exactly midnight counts as a date without a time (that
        is how pandas stores dates); either way it lands on the same day 0.
        """
        date, clock = cls._parse_value(value)
        kw: str | None = None
        if time_et is not None and not (isinstance(time_et, float) and pd.isna(time_et)):
            if isinstance(time_et, dt.time):
                extra = time_et.replace(tzinfo=None)
            elif isinstance(time_et, str) and _TIME_RE.fullmatch(time_et.strip()):
                extra = _parse_clock(time_et, time_et)
            elif isinstance(time_et, str):
                extra = None
                kw = _normalize_timing(time_et)
            else:
                raise CalendarError(f"cannot read time {time_et!r}: {_FORMATS_HINT}")
            if extra is not None:
                if clock is not None and clock != extra:
                    raise CalendarError(
                        f"two different times given: {value!r} already holds "
                        f"{_fmt_time(clock)} but time_et is {time_et!r}; give the time once"
                    )
                clock = extra
        if timing is not None:
            tk = _normalize_timing(timing)
            if kw is not None and kw != tk and "unknown" not in (kw, tk):
                raise CalendarError(
                    f"two different timings given for {_d(date)}: {kw!r} and {tk!r}; give one"
                )
            kw = tk if kw in (None, "unknown") else kw
        kw = kw or "unknown"
        if clock is not None:
            derived = cls._timing_of_clock(date, clock)
            if kw != "unknown" and derived is not None and kw != derived:
                raise CalendarError(
                    f"{_d(date)} {_fmt_time(clock)} ET is {derived.replace('_', ' ')} on the NYSE, "
                    f"which contradicts timing {kw!r}; drop one of them or correct it"
                )
            kw = derived or "unknown"
        return cls(date=date, time=clock, timing=kw)

    @staticmethod
    def _timing_of_clock(date: pd.Timestamp, clock: dt.time) -> str | None:
        return session_timing(date, clock)

    @staticmethod
    def _parse_value(value: object) -> tuple[pd.Timestamp, dt.time | None]:
        if isinstance(value, str):
            text = value.strip()
            m = _DATETIME_RE.fullmatch(text)
            if m:
                try:
                    day = pd.Timestamp(dt.date.fromisoformat(m.group("date")))
                except ValueError as exc:
                    raise CalendarError(f"{value!r} is not a real calendar date ({exc})") from None
                clock = _parse_clock(m.group("time"), value) if m.group("time") else None
                return day, clock
            if _ZONED_RE.fullmatch(text):
                try:
                    ts = pd.Timestamp(text)
                except ValueError:
                    raise CalendarError(
                        f"cannot read event time {value!r}: {_FORMATS_HINT}"
                    ) from None
                return EventTime._from_timestamp(ts)
            raise CalendarError(f"cannot read event time {value!r}: {_FORMATS_HINT}")
        if isinstance(value, pd.Timestamp | dt.datetime):
            ts = pd.Timestamp(value)
            if pd.isna(ts):
                raise CalendarError(f"event time is missing (NaT): {_FORMATS_HINT}")
            return EventTime._from_timestamp(ts)
        if isinstance(value, dt.date):
            return pd.Timestamp(value), None
        raise CalendarError(
            f"cannot read event time {value!r} (type {type(value).__name__}): {_FORMATS_HINT}"
        )

    @staticmethod
    def _from_timestamp(ts: pd.Timestamp) -> tuple[pd.Timestamp, dt.time | None]:
        if ts.tzinfo is not None:
            local = ts.tz_convert(ET)
            return pd.Timestamp(local.date()), local.time().replace(microsecond=0)
        if ts == ts.normalize():
            return ts.normalize(), None
        return ts.normalize(), ts.time().replace(microsecond=0)

    @property
    def text(self) -> str:
        """The input as text: ``2023-10-17 17:27 ET``, ``2023-10-17 (after_close)``, ``2023-10-17``."""
        if self.time is not None:
            return f"{_d(self.date)} {_fmt_time(self.time)} ET"
        if self.timing != "unknown":
            return f"{_d(self.date)} ({self.timing})"
        return _d(self.date)

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------------- day 0


@dataclass(frozen=True)
class Day0:
    """The session an event is dated to, with the rule used and a reason a reader understands."""

    requested: str
    day0: pd.Timestamp
    rule: str
    reason: str

    def __str__(self) -> str:
        return f"day 0 = {_d(self.day0)} ({self.reason})"

    def to_dict(self) -> dict[str, str]:
        """JSON-ready: ``{"requested", "day0", "rule", "reason"}`` with an ISO date."""
        return {
            "requested": self.requested,
            "day0": _d(self.day0),
            "rule": self.rule,
            "reason": self.reason,
        }


def resolve_day0(date: object, time_et: object = None, timing: object = None) -> Day0:
    """Day 0 for news at ``date`` (and ``time_et`` or ``timing``), by the DESIGN's rule.

    See the module docstring for the rule. Raises CalendarError for unreadable input, a timing
    that contradicts the clock time, ``intraday`` on a day the market was closed, or a date outside
    the calendar's range. Answers are kept for repeated questions (a Day0 is immutable).
    """
    try:
        hash((date, time_et, timing))
    except TypeError:
        return _resolve_day0(date, time_et, timing)
    return _resolve_day0_cached(date, time_et, timing)


@lru_cache(maxsize=8192)
def _resolve_day0_cached(date: object, time_et: object, timing: object) -> Day0:
    return _resolve_day0(date, time_et, timing)


def _resolve_day0(date: object, time_et: object, timing: object) -> Day0:
    ev = date if isinstance(date, EventTime) else EventTime.parse(date, time_et, timing)
    day = ev.date
    _check_in_bounds(day, "event date")
    requested = ev.text
    cal = _cal()

    if not cal.is_session(day):
        if ev.timing == "intraday" and ev.time is None:
            raise CalendarError(
                f"timing 'intraday' given for {_d(day)}, but the NYSE was closed that day "
                f"({day.day_name()}, {closed_reason(day)}); check the date or use before_open, "
                "after_close or unknown"
            )
        nxt = _next_session(day)
        what = f"{_d(day)} {_fmt_time(ev.time)} ET falls on" if ev.time else f"{_d(day)} is"
        return Day0(
            requested,
            nxt,
            "market_closed",
            f"{what} a {day.day_name()}, when the NYSE was closed ({closed_reason(day)}), "
            f"so day 0 is the next session, {_d(nxt)}",
        )

    _, closing = _session_times(day)
    close_txt = closing.strftime("%H:%M")
    early = " (an early close)" if closing.time() < dt.time(16, 0) else ""
    if ev.time is not None:
        instant = dt.datetime.combine(day.date(), ev.time, tzinfo=ET)
        stamp = f"{_d(day)} {_fmt_time(ev.time)} ET"
        if instant < closing:
            return Day0(
                requested,
                day,
                "before_close",
                f"{stamp} is before that session's {close_txt} ET close{early}, "
                f"so day 0 is that session, {_d(day)}",
            )
        nxt = _next_session_after(day)
        at = "at" if instant == closing else "after"
        note = " (news at the close counts as after it)" if at == "at" else ""
        return Day0(
            requested,
            nxt,
            "after_close",
            f"{stamp} is {at} the {close_txt} ET close{early}{note}, "
            f"so day 0 is the next session, {_d(nxt)}",
        )

    if ev.timing == "after_close":
        nxt = _next_session_after(day)
        return Day0(
            requested,
            nxt,
            "after_close",
            f"the news came after the {close_txt} ET close{early} on {_d(day)}, "
            f"so day 0 is the next session, {_d(nxt)}",
        )
    if ev.timing in ("before_open", "intraday"):
        when = "before the open" if ev.timing == "before_open" else "during the session"
        return Day0(
            requested,
            day,
            "before_close",
            f"the news came {when} on {_d(day)}, before that session's close, "
            f"so day 0 is that session, {_d(day)}",
        )
    return Day0(
        requested,
        day,
        "date_only",
        f"{_d(day)} has no confirmed time of day, so day 0 is that date's session, {_d(day)}",
    )


# --------------------------------------------------------------------------- offsets, windows


def offset(day0: object, n: int) -> pd.Timestamp:
    """The session ``n`` trading days from ``day0`` (which must itself be a session)."""
    day = _require_session(_to_date(day0, "day 0"), "day 0")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise CalendarError(f"offset must be a whole number of trading days, got {n!r}")
    n = int(n)
    try:
        return pd.Timestamp(_cal().session_offset(day, n))
    except (xc_errors.DateOutOfBounds, xc_errors.RequestedSessionOutOfBounds):
        raise CalendarError(
            f"{n:+d} trading days from {_d(day)} falls outside {_bounds_text()}"
        ) from None


def _window_pair(window: object) -> tuple[int, int]:
    if (
        not isinstance(window, tuple | list)
        or len(window) != 2
        or not all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in window)
    ):
        raise WindowError(
            f"window {window!r} must be two whole numbers of trading days (start, end), "
            "e.g. (-1, 3); as text use '-1:3'"
        )
    return int(window[0]), int(window[1])


def _check_window(window: object) -> tuple[int, int]:
    start, end = _window_pair(window)
    if start > end:
        raise WindowError(
            f"window {format_window((start, end))} is inverted: its start {start:+d} "
            f"is after its end {end:+d}; write it as {format_window((end, start))}"
        )
    return start, end


def window_dates(
    day0: object,
    window: tuple[int, int],
    *,
    available: pd.DatetimeIndex | None = None,
) -> pd.DatetimeIndex:
    """Session dates of a window of trading days relative to ``day0``, e.g. (-1, 3).

    With ``available`` (the dates a price series covers), a window starting before its first or
    ending after its last date raises :class:`WindowError` naming what is needed and what is there.
    Gaps inside the covered range are not an error here (missing returns are flagged downstream).
    """
    start, end = _check_window(window)
    label = format_window((start, end))
    day = _to_date(day0, "day 0")
    try:
        _require_session(day, "day 0")
    except CalendarError as exc:
        raise WindowError(f"window {label}: {exc}") from None
    try:
        first = pd.Timestamp(_cal().session_offset(day, start))
        last = pd.Timestamp(_cal().session_offset(day, end))
    except (xc_errors.DateOutOfBounds, xc_errors.RequestedSessionOutOfBounds):
        raise WindowError(
            f"window {label} around day 0 {_d(day)} reaches outside {_bounds_text()}; "
            "shorten the window or choose a later/earlier event"
        ) from None
    dates = sessions(first, last)
    if available is not None:
        avail = pd.DatetimeIndex(available)
        if avail.tz is not None:
            avail = avail.tz_localize(None)
        avail = avail.normalize()
        if len(avail) == 0:
            raise WindowError(
                f"window {label} around day 0 {_d(day)} needs {_d(first)}..{_d(last)}, "
                "but the price data are empty; import or fetch prices first"
            )
        lo, hi = avail.min(), avail.max()
        if first < lo or last > hi:
            fixes = []
            if first < lo:
                fixes.append(f"prices from {_d(first)} or earlier")
            if last > hi:
                fixes.append(f"prices through {_d(last)} or later")
            raise WindowError(
                f"window {label} around day 0 {_d(day)} needs {_d(first)}..{_d(last)} "
                f"({len(dates)} sessions), but the data cover only {_d(lo)}..{_d(hi)}; "
                f"import or fetch {' and '.join(fixes)}, or shorten the window"
            )
    return dates


_WINDOW_RE = re.compile(r"\s*\[?\s*([+-]?\d+)\s*[:,]\s*([+-]?\d+)\s*\]?\s*")


def parse_window(text: str | tuple[int, int]) -> tuple[int, int]:
    """``"-250:-11"`` (or ``"[-1,+3]"``) -> ``(-250, -11)``; a 2-tuple of ints is checked as is."""
    if isinstance(text, tuple | list):
        return _check_window(tuple(text))
    if not isinstance(text, str):
        raise WindowError(
            f"window {text!r} must be text like '-250:-11' or a pair of whole numbers"
        )
    m = _WINDOW_RE.fullmatch(text)
    if not m:
        raise WindowError(
            f"cannot read window {text!r}: write START:END in trading days relative to day 0, "
            "e.g. '-250:-11' or '-1:3' (also accepted: '[-1,+3]')"
        )
    return _check_window((int(m.group(1)), int(m.group(2))))


def format_window(window: tuple[int, int]) -> str:
    """``(-1, 3)`` -> ``"[-1,+3]"``; ``(-250, -11)`` -> ``"[-250,-11]"``.

    Only formats: an inverted pair is written as given (so error messages can show it).
    """
    start, end = _window_pair(window)

    def f(x: int) -> str:
        return f"{x:+d}" if x else "0"

    return f"[{f(start)},{f(end)}]"
