"""analysis.data.calendar: NYSE sessions, the day-0 rule, windows in trading days."""

from __future__ import annotations

import datetime as dt

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from analysis.data import calendar as cal
from analysis.data.calendar import (
    Day0,
    EventTime,
    WindowError,
    format_window,
    offset,
    parse_window,
    resolve_day0,
    session_close,
    session_timing,
    sessions,
    window_dates,
)
from analysis.errors import AnalysisError, CalendarError, SpecificationError

T = pd.Timestamp


# ----------------------------------------------------------------------------- sessions


def test_sessions_are_naive_normalized_and_skip_holidays():
    s = sessions("2023-06-30", "2023-07-06")
    assert s.tz is None
    assert (s == s.normalize()).all()
    # 07-01/02 weekend, 07-04 Independence Day; 07-03 is a half day but a session
    assert list(s.strftime("%Y-%m-%d")) == [
        "2023-06-30",
        "2023-07-03",
        "2023-07-05",
        "2023-07-06",
    ]


def test_sessions_exclude_unscheduled_closure_2025_01_09():
    s = sessions("2025-01-08", "2025-01-10")
    assert list(s.strftime("%Y-%m-%d")) == ["2025-01-08", "2025-01-10"]


def test_sessions_bad_input():
    with pytest.raises(CalendarError, match="start 2023-10-20 is after end 2023-10-16"):
        sessions("2023-10-20", "2023-10-16")
    with pytest.raises(CalendarError, match=r"start 1990-01-02 is outside the range of the NYSE"):
        sessions("1990-01-02", "2023-10-16")
    with pytest.raises(CalendarError, match="use YYYY-MM-DD"):
        sessions("10/16/2023", "2023-10-20")


def test_early_close_is_read_from_exchange_calendars():
    assert session_close("2023-11-24").strftime("%H:%M") == "13:00"  # day after Thanksgiving
    assert session_close("2023-11-22").strftime("%H:%M") == "16:00"
    assert session_timing("2023-11-24", dt.time(13, 0)) == "after_close"
    assert session_timing("2023-11-24", dt.time(12, 59)) == "intraday"
    assert session_timing("2023-11-24", dt.time(9, 29)) == "before_open"
    assert session_timing("2023-11-25", dt.time(10, 0)) is None  # Saturday


# ----------------------------------------------------------------------------- day 0


@pytest.mark.parametrize(
    ("args", "day0", "rule"),
    [
        (("2023-10-17 09:30",), "2023-10-17", "before_close"),
        (("2023-10-17T15:59",), "2023-10-17", "before_close"),
        (("2023-10-17T17:27",), "2023-10-18", "after_close"),  # Nvidia 8-K accepted 17:27:14
        (("2023-10-17", "17:27"), "2023-10-18", "after_close"),
        (("2023-10-17", "16:00"), "2023-10-18", "after_close"),  # exactly at the close
        (("2023-10-17",), "2023-10-17", "date_only"),
        (("2023-10-21",), "2023-10-23", "market_closed"),  # Saturday
        (("2023-10-21 10:00",), "2023-10-23", "market_closed"),
        (("2023-07-04",), "2023-07-05", "market_closed"),  # Independence Day
        (("2025-01-09",), "2025-01-10", "market_closed"),  # national day of mourning
        (("2024-03-29",), "2024-04-01", "market_closed"),  # Good Friday
        (("2023-11-24", "14:00"), "2023-11-27", "after_close"),  # early close 13:00
        (("2023-11-24", "13:00"), "2023-11-27", "after_close"),
        (("2023-11-24", "12:59"), "2023-11-24", "before_close"),
        (("2023-10-20", "17:00"), "2023-10-23", "after_close"),  # Friday evening -> Monday
    ],
)
def test_resolve_day0_rule(args, day0, rule):
    res = resolve_day0(*args)
    assert isinstance(res, Day0)
    assert res.day0 == T(day0)
    assert res.rule == rule
    assert res.day0.strftime("%Y-%m-%d") in res.reason


def test_reasons_read_as_sentences():
    assert resolve_day0("2023-10-17", "17:27").reason == (
        "2023-10-17 17:27 ET is after the 16:00 ET close, so day 0 is the next session, 2023-10-18"
    )
    assert "at the 16:00 ET close (news at the close counts as after it)" in (
        resolve_day0("2023-10-17 16:00").reason
    )
    r = resolve_day0("2023-11-24 14:00")
    assert r.reason == (
        "2023-11-24 14:00 ET is after the 13:00 ET close (an early close), "
        "so day 0 is the next session, 2023-11-27"
    )
    r = resolve_day0("2023-07-04")
    assert "Tuesday" in r.reason and "July 4th" in r.reason
    assert "unscheduled closure" in resolve_day0("2025-01-09").reason
    assert "weekend" in resolve_day0("2023-10-21").reason
    assert resolve_day0("2023-10-17T17:27").requested == "2023-10-17 17:27 ET"


def test_dst_uses_eastern_time_not_a_fixed_offset():
    # 20:30 UTC is 15:30 EST on Fri 2024-03-08 (before the close) but 16:30 EDT on
    # Mon 2024-03-11, the day after DST started (after the close).
    winter = resolve_day0(pd.Timestamp("2024-03-08 20:30", tz="UTC"))
    summer = resolve_day0(pd.Timestamp("2024-03-11 20:30", tz="UTC"))
    assert (winter.day0, winter.rule) == (T("2024-03-08"), "before_close")
    assert (summer.day0, summer.rule) == (T("2024-03-12"), "after_close")
    assert summer.requested == "2024-03-11 16:30 ET"
    # the same via an ISO string with an offset
    assert resolve_day0("2024-03-11T20:30Z").day0 == T("2024-03-12")
    assert resolve_day0("2024-03-11T15:30-05:00").day0 == T("2024-03-12")  # 16:30 EDT
    # 21:30 UTC on the evening before a session is 17:30 EDT -> next session
    assert resolve_day0(dt.datetime(2024, 3, 12, 21, 30, tzinfo=dt.UTC)).day0 == T("2024-03-13")


def test_datetime_inputs_naive_means_eastern():
    assert resolve_day0(pd.Timestamp("2023-10-17 17:27")).day0 == T("2023-10-18")
    assert resolve_day0(dt.datetime(2023, 10, 17, 9, 30)).day0 == T("2023-10-17")
    assert resolve_day0(dt.date(2023, 10, 21)).day0 == T("2023-10-23")
    assert resolve_day0(pd.Timestamp("2023-10-17")).rule == "date_only"
    assert resolve_day0("2023-10-17", dt.time(16, 0)).day0 == T("2023-10-18")


@pytest.mark.parametrize(
    ("date", "timing", "day0", "rule"),
    [
        ("2022-08-31", "after_close", "2022-09-01", "after_close"),  # E02
        ("2022-10-07", "intraday", "2022-10-07", "before_close"),  # E04
        ("2024-12-02", "before_open", "2024-12-02", "before_close"),  # E17
        ("2025-04-15", "after_close", "2025-04-16", "after_close"),  # E21
        ("2023-10-17", "unknown", "2023-10-17", "date_only"),
        ("2023-10-17", None, "2023-10-17", "date_only"),
        ("2023-10-21", "before_open", "2023-10-23", "market_closed"),
        ("2023-10-21", "after_close", "2023-10-23", "market_closed"),
        ("2023-11-24", "after_close", "2023-11-27", "after_close"),
    ],
)
def test_timing_keywords(date, timing, day0, rule):
    res = resolve_day0(date, timing=timing)
    assert (res.day0, res.rule) == (T(day0), rule)


def test_timing_keyword_in_place_of_clock_time():
    assert resolve_day0("2022-08-31", "after_close").day0 == T("2022-09-01")
    assert resolve_day0("2022-08-31", "after_close").requested == "2022-08-31 (after_close)"
    assert EventTime.parse("2023-10-17", "17:27").timing == "after_close"
    assert EventTime.parse("2023-10-17 09:00").timing == "before_open"


def test_bad_event_times():
    with pytest.raises(CalendarError, match="not a real calendar date"):
        resolve_day0("2023-02-30")
    with pytest.raises(CalendarError, match="not a valid clock time"):
        resolve_day0("2023-10-17 25:00")
    with pytest.raises(CalendarError, match=r"cannot read event time '17/10/2023': use YYYY-MM-DD"):
        resolve_day0("17/10/2023")
    with pytest.raises(CalendarError, match="timing 'soon' is not one of before_open"):
        resolve_day0("2023-10-17", timing="soon")
    with pytest.raises(CalendarError, match="after close on the NYSE, which contradicts timing"):
        resolve_day0("2023-10-17", "17:27", timing="before_open")
    with pytest.raises(CalendarError, match="two different times given"):
        resolve_day0("2023-10-17 09:30", "17:27")
    with pytest.raises(CalendarError, match=r"'intraday' given for 2023-10-21, but the NYSE was"):
        resolve_day0("2023-10-21", timing="intraday")
    with pytest.raises(CalendarError, match="event date 1999-01-04 is outside the range"):
        resolve_day0("1999-01-04")
    with pytest.raises(CalendarError, match="missing"):
        resolve_day0(pd.NaT)
    # every calendar error is an AnalysisError the CLI can print
    assert issubclass(CalendarError, AnalysisError)


# ----------------------------------------------------------------------------- windows


def test_offset():
    assert offset("2023-10-17", -1) == T("2023-10-16")
    assert offset("2023-10-17", 3) == T("2023-10-20")
    assert offset("2023-11-22", 1) == T("2023-11-24")  # skips Thanksgiving
    with pytest.raises(CalendarError, match=r"2023-10-21 \(Saturday\) is not an NYSE session"):
        offset("2023-10-21", 1)
    with pytest.raises(CalendarError, match="whole number"):
        offset("2023-10-17", 1.5)
    with pytest.raises(CalendarError, match="outside the range of the NYSE") as info:
        offset("2023-10-17", 100_000)
    assert info.value.__suppress_context__  # exchange_calendars' traceback is not shown


def test_event_window_dates_concrete():
    got = window_dates("2023-10-17", (-1, 3))
    assert list(got.strftime("%Y-%m-%d")) == [
        "2023-10-16",
        "2023-10-17",
        "2023-10-18",
        "2023-10-19",
        "2023-10-20",
    ]
    # across Thanksgiving and the early close
    got = window_dates("2023-11-22", (0, 2))
    assert list(got.strftime("%Y-%m-%d")) == ["2023-11-22", "2023-11-24", "2023-11-27"]


@pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")
def test_estimation_window_against_exchange_calendars_directly():
    xnys = xcals.get_calendar("XNYS")
    all_sessions = xnys.sessions_in_range("2021-01-01", "2024-12-31")
    i0 = all_sessions.get_loc(T("2023-10-17"))
    first, last = all_sessions[i0 - 250], all_sessions[i0 - 11]
    got = window_dates("2023-10-17", (-250, -11))
    assert got[0] == first == T("2022-10-18")
    assert got[-1] == last == T("2023-10-02")
    assert len(got) == 240
    assert got.equals(pd.DatetimeIndex(all_sessions[i0 - 250 : i0 - 10]))


def test_window_not_covered_by_data():
    available = sessions("2023-01-03", "2023-12-29")
    with pytest.raises(WindowError) as info:
        window_dates("2023-10-17", (-250, -11), available=available)
    msg = str(info.value)
    assert "window [-250,-11] around day 0 2023-10-17 needs 2022-10-18..2023-10-02" in msg
    assert "the data cover only 2023-01-03..2023-12-29" in msg
    assert "import or fetch prices from 2022-10-18 or earlier" in msg
    short = sessions("2023-01-03", "2023-10-18")
    with pytest.raises(WindowError, match=r"needs 2023-10-16\.\.2023-10-20.*through 2023-10-20"):
        window_dates("2023-10-17", (-1, 3), available=short)
    with pytest.raises(WindowError, match="price data are empty"):
        window_dates("2023-10-17", (-1, 3), available=pd.DatetimeIndex([]))
    # covered: fine, and gaps inside the range are not this function's business
    ok = window_dates(
        "2023-10-17", (-1, 3), available=short.append(sessions("2023-10-19", "2023-10-31"))
    )
    assert len(ok) == 5


def test_window_errors():
    with pytest.raises(WindowError, match=r"window \[\+3,-1\] is inverted.*write it as \[-1,\+3\]"):
        window_dates("2023-10-17", (3, -1))
    with pytest.raises(WindowError, match="reaches outside the range of the NYSE calendar"):
        window_dates("2023-10-17", (-100_000, -11))
    with pytest.raises(WindowError, match=r"day 0 2023-10-21 \(Saturday\) is not an NYSE session"):
        window_dates("2023-10-21", (-1, 3))
    with pytest.raises(WindowError, match="two whole numbers"):
        window_dates("2023-10-17", (-1.0, 3))
    # WindowError is both a calendar and a specification problem
    assert issubclass(WindowError, CalendarError) and issubclass(WindowError, SpecificationError)


def test_parse_and_format_window():
    assert parse_window("-250:-11") == (-250, -11)
    assert parse_window("-1:3") == (-1, 3)
    assert parse_window(" -1 : +3 ") == (-1, 3)
    assert parse_window("[-1,+3]") == (-1, 3)
    assert parse_window("0:0") == (0, 0)
    assert parse_window((-1, 3)) == (-1, 3)
    assert format_window((-1, 3)) == "[-1,+3]"
    assert format_window((-250, -11)) == "[-250,-11]"
    assert format_window((0, 5)) == "[0,+5]"
    assert parse_window(format_window((-20, 20))) == (-20, 20)
    assert format_window((np.int64(-5), np.int64(5))) == "[-5,+5]"
    assert parse_window((np.int64(-1), np.int64(3))) == (-1, 3)
    assert format_window((3, -1)) == "[+3,-1]"  # formats only; order is checked elsewhere
    with pytest.raises(WindowError, match="two whole numbers"):
        format_window((1.5, 2))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("-1..3", r"cannot read window '-1\.\.3': write START:END"),
        ("a:b", "cannot read window 'a:b'"),
        ("", "cannot read window ''"),
        ("-1:2:3", "cannot read window"),
        ("3:-1", r"window \[\+3,-1\] is inverted"),
        (("a", 1), "two whole numbers"),
        (3, "must be text like '-250:-11'"),
    ],
)
def test_malformed_windows(text, match):
    with pytest.raises(WindowError, match=match):
        parse_window(text)


# ----------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_calendar_matches_real_price_dates(shared_prices_dir):
    """The NVDA file's trading dates are exactly the XNYS sessions over its range."""
    dates = pd.DatetimeIndex(
        pd.read_csv(shared_prices_dir / "NVDA.csv", usecols=["date"])["date"].astype(
            "datetime64[ns]"
        )
    )
    assert len(dates) == 1760
    assert sessions(dates[0], dates[-1]).equals(dates)
    # E08's estimation window is covered; a window past the file's last date is not
    est = window_dates("2023-10-17", (-250, -11), available=dates)
    assert est.isin(dates).all()
    with pytest.raises(WindowError, match=r"the data cover only 2019-05-16\.\.2026-05-15"):
        window_dates("2026-05-14", (-1, 3), available=dates)


def test_module_constants():
    assert cal.TIMINGS == ("before_open", "intraday", "after_close", "unknown")
    assert cal.RULES == ("before_close", "after_close", "date_only", "market_closed")
