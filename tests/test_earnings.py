"""Earnings announcements and annual-report filings: tables, day-0 mapping, validation messages."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.data import earnings
from analysis.data.facts import load_peers_exposure
from analysis.errors import DataError, DateFormatError, ValidationError

EARNINGS_HEADER = "symbol,fiscal_period,announcement_date,time_et,timing,source,confidence,note\n"
FILINGS_HEADER = "symbol,fiscal_year,form,filed_date,source,confidence,note\n"
URL = "https://example.org/release"


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- committed tables
def test_committed_tables_load_and_every_row_is_sourced():
    ern, fil = earnings.load_earnings(), earnings.load_filings()
    assert len(ern[ern["symbol"] == "NVDA"]) == 20  # FY2021Q4 .. FY2026Q3, one a quarter
    for frame in (ern, fil):
        assert frame["source"].str.strip().ne("").all()
        assert set(frame["confidence"]) <= set(earnings.SOURCED_CONFIDENCE)


def test_nvda_quarters_are_consecutive_and_announced_after_the_quarter():
    nvda = earnings.load_earnings().query("symbol == 'NVDA'")
    periods = list(nvda["fiscal_period"])
    assert periods[0] == "FY2021Q4" and periods[-1] == "FY2026Q3"
    index = [int(p[2:6]) * 4 + int(p[-1]) for p in periods]
    assert index == list(range(index[0], index[0] + len(index)))
    assert nvda["announcement_date"].is_monotonic_increasing


def test_nvda_2023_05_24_after_close_maps_to_next_session():
    days = earnings.earnings_reaction_days("NVDA").set_index("fiscal_period")
    row = days.loc["FY2024Q1"]
    assert row["announcement"] == pd.Timestamp("2023-05-24")
    assert row["date"] == pd.Timestamp("2023-05-25")
    assert row["reason"] == (
        "NVDA earnings FY2024Q1 announced 2023-05-24 after the close; day 0 2023-05-25"
    )
    # the event registry dates E13 (FY2024Q3) and E22 (FY2026Q1) to the same sessions
    assert days.loc["FY2024Q3", "date"] == pd.Timestamp("2023-11-22")
    assert days.loc["FY2026Q1", "date"] == pd.Timestamp("2025-05-29")


@pytest.mark.parametrize(
    ("symbol", "first", "last", "rows"),
    [
        ("AMD", "FY2021Q4", "FY2025Q3", 16),
        ("MU", "FY2022Q2", "FY2026Q1", 16),
        ("QCOM", "FY2022Q1", "FY2024Q3", 11),
    ],
)
def test_peer_quarters_are_consecutive_and_released_after_the_close(symbol, first, last, rows):
    """Peer rows cover 2022-01..2025-12 without gaps; every peer release came after the close."""
    firm = earnings.load_earnings().query("symbol == @symbol")
    periods = list(firm["fiscal_period"])
    assert (len(periods), periods[0], periods[-1]) == (rows, first, last)
    index = [int(p[2:6]) * 4 + int(p[-1]) for p in periods]
    assert index == list(range(index[0], index[0] + rows))
    assert firm["announcement_date"].is_monotonic_increasing
    assert firm["announcement_date"].min() >= pd.Timestamp("2022-01-01")
    assert firm["announcement_date"].max() <= pd.Timestamp("2025-12-31")
    assert set(firm["timing"]) == {"after_close"}


@pytest.mark.parametrize(
    ("symbol", "period", "announced", "day0", "when"),
    [
        ("AMD", "FY2022Q4", "2023-01-31", "2023-02-01", "at 16:15 ET"),
        ("AMD", "FY2025Q3", "2025-11-04", "2025-11-05", "at 16:15 ET"),
        ("MU", "FY2023Q2", "2023-03-28", "2023-03-29", "at 16:09 ET"),
        ("MU", "FY2025Q4", "2025-09-23", "2025-09-24", "at 16:01 ET"),
        ("QCOM", "FY2022Q4", "2022-11-02", "2022-11-03", "after the close"),
    ],
)
def test_peer_announcements_map_to_the_next_session(symbol, period, announced, day0, when):
    row = earnings.earnings_reaction_days(symbol).set_index("fiscal_period").loc[period]
    assert row["announcement"] == pd.Timestamp(announced)
    assert row["date"] == pd.Timestamp(day0)
    assert row["reason"] == (
        f"{symbol} earnings {period} announced {announced} {when}; day 0 {day0}"
    )


def test_qcom_latest_filing_before_the_october_2023_rule():
    fil = earnings.load_filings()
    qcom = fil[fil["symbol"] == "QCOM"]
    assert not qcom.empty
    got = earnings.latest_filing_before("QCOM", "2023-10-17")
    if "FY2022" in set(qcom["fiscal_year"]):
        assert got is not None and got["fiscal_year"] == "FY2022"
    else:  # the FY2022 filing date is not sourced yet: nothing listed before the FY2023 10-K
        assert got is None
    after = earnings.latest_filing_before("QCOM", "2023-11-02")
    assert after["fiscal_year"] == "FY2023"
    assert after["filed_date"] == pd.Timestamp("2023-11-01")


def test_committed_filings_belong_to_exposure_years_and_follow_the_year_end():
    """Each filing is a firm-year of the exposure table, filed 1-120 days after its year end."""
    fil = earnings.load_filings()
    ends = (
        load_peers_exposure()
        .drop_duplicates(["symbol", "fiscal_year"])
        .set_index(["symbol", "fiscal_year"])["fiscal_year_end"]
    )
    keys = list(zip(fil["symbol"], fil["fiscal_year"], strict=True))
    assert [k for k in keys if k not in ends.index] == []
    lag = (fil["filed_date"].to_numpy() - ends.loc[keys].to_numpy()).astype("timedelta64[D]")
    assert lag.min() >= pd.Timedelta(days=1) and lag.max() <= pd.Timedelta(days=120)
    assert set(fil.loc[fil["symbol"] == "TSM", "form"]) == {"20-F"}
    assert set(fil.loc[fil["symbol"] != "TSM", "form"]) == {"10-K"}


@pytest.mark.parametrize(
    ("symbol", "fiscal_year", "filed"),
    [
        ("AMD", "FY2022", "2023-02-27"),
        ("AVGO", "FY2022", "2022-12-16"),
        ("MU", "FY2023", "2023-10-06"),
        ("NVDA", "FY2023", "2023-02-24"),
        ("TSM", "FY2022", "2023-04-20"),
        ("TXN", "FY2022", "2023-02-03"),
        ("LRCX", "FY2023", "2023-08-15"),
    ],
)
def test_annual_report_visible_on_the_october_2023_rule(symbol, fiscal_year, filed):
    got = earnings.latest_filing_before(symbol, "2023-10-17")
    assert got is not None
    assert (got["fiscal_year"], got["filed_date"]) == (fiscal_year, pd.Timestamp(filed))


def test_filing_on_the_cut_off_day_is_not_yet_visible():
    # MU's FY2024 10-K was filed 2024-10-04: strictly-before excludes that day
    assert earnings.latest_filing_before("MU", "2024-10-04")["fiscal_year"] == "FY2023"
    assert earnings.latest_filing_before("MU", "2024-10-05")["fiscal_year"] == "FY2024"


# ---------------------------------------------------------------- lookups on synthetic tables
def test_latest_filing_before_is_strictly_before(tmp_path):
    path = _write(
        tmp_path,
        "filings.csv",
        FILINGS_HEADER
        + f"QCOM,FY2022,10-K,2022-11-02,{URL},high,\n"
        + f"QCOM,FY2023,10-K,2023-11-01,{URL},high,\n",
    )
    assert earnings.latest_filing_before("QCOM", "2023-10-17", path)["fiscal_year"] == "FY2022"
    assert earnings.latest_filing_before("qcom", "2023-11-01", path)["fiscal_year"] == "FY2022"
    assert earnings.latest_filing_before("QCOM", "2023-11-02", path)["fiscal_year"] == "FY2023"
    assert earnings.latest_filing_before("QCOM", "2022-11-02", path) is None
    with pytest.raises(
        DataError, match=r"AMD: no rows in data/filings.csv \(symbols there: QCOM\)"
    ):
        earnings.latest_filing_before("AMD", "2023-10-17", path)
    with pytest.raises(DateFormatError, match="QCOM filing cut-off date"):
        earnings.latest_filing_before("QCOM", "2023/10/17", path)


def test_reaction_days_follow_the_day0_rule(tmp_path):
    path = _write(
        tmp_path,
        "earnings.csv",
        EARNINGS_HEADER
        + f"XYZ,FY2024Q1,2024-03-29,,after_close,{URL},high,\n"  # Good Friday
        + f"XYZ,FY2024Q2,2024-07-03,12:30,intraday,{URL},medium,\n"  # 13:00 early close
        + f"XYZ,FY2024Q3,2024-10-22,,before_open,{URL},low,\n",
    )
    days = earnings.earnings_reaction_days("XYZ", path)
    assert list(days["date"].dt.strftime("%Y-%m-%d")) == ["2024-04-01", "2024-07-03", "2024-10-22"]
    assert days["reason"].iloc[1] == (
        "XYZ earnings FY2024Q2 announced 2024-07-03 at 12:30 ET; day 0 2024-07-03"
    )
    assert "before the open" in days["reason"].iloc[2]
    empty = earnings.earnings_reaction_days("AMD", path)
    assert empty.empty and list(empty.columns) == [
        "date",
        "fiscal_period",
        "announcement",
        "reason",
    ]


# ---------------------------------------------------------------- validation messages
def _assert_problem_on_line_2(tmp_path, name, text, message):
    """Loading ``text`` as ``name`` fails with a problem on line 2 that contains ``message``."""
    loader = earnings.load_earnings if name == "earnings.csv" else earnings.load_filings
    path = _write(tmp_path, name, text + "\n")
    with pytest.raises(ValidationError, match=name) as info:
        loader(path)
    hits = [p for p in info.value.problems if p.startswith(f"{name}:2") and message in p]
    assert hits, info.value.problems


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"NVDA,2024Q1,2023-05-24,,after_close,{URL},high,", "column 'fiscal_period'"),
        (f"NVDA,FY2024Q1,2023/05/24,,after_close,{URL},high,", "column 'announcement_date'"),
        (f"NVDA,FY2024Q1,2023-05-24,,after_hours,{URL},high,", "'after_hours' not allowed"),
        ("NVDA,FY2024Q1,2023-05-24,,after_close,,high,", "column 'source': empty (required)"),
        ("NVDA,FY2024Q1,2023-05-24,,after_close,memory,high,", "neither a URL nor a document"),
        (f"NVDA,FY2024Q1,2023-05-24,,after_close,{URL},unconfirmed,", "'unconfirmed' not allowed"),
        (f"NVDA,FY2024Q1,2023-05-24,16:20,before_open,{URL},high,", "contradicts timing"),
        (f"NVDA,FY2024Q1,2023-05-24,4pm,after_close,{URL},high,", "column 'time_et'"),
    ],
)
def test_bad_earnings_rows_name_file_line_and_column(tmp_path, row, message):
    _assert_problem_on_line_2(tmp_path, "earnings.csv", EARNINGS_HEADER + row, message)


def test_duplicate_quarter_is_reported_on_its_line(tmp_path):
    path = _write(
        tmp_path,
        "earnings.csv",
        EARNINGS_HEADER
        + f"NVDA,FY2024Q1,2023-05-24,,after_close,{URL},high,\n"
        + f"NVDA,FY2024Q1,2023-05-25,,after_close,{URL},high,\n",
    )
    with pytest.raises(ValidationError) as info:
        earnings.load_earnings(path)
    assert info.value.problems == [
        "earnings.csv:3, column 'fiscal_period': duplicate key symbol=NVDA, fiscal_period=FY2024Q1"
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"QCOM,2023,10-K,2023-11-01,{URL},high,", "column 'fiscal_year'"),
        (f"QCOM,FY2023,10-Q,2023-11-01,{URL},high,", "'10-Q' not allowed"),
        (f"QCOM,FY2023,10-K,2023-11-31,{URL},high,", "not a real calendar date"),
        ("QCOM,FY2023,10-K,2023-11-01,,high,", "column 'source': empty (required)"),
    ],
)
def test_bad_filing_rows_name_file_line_and_column(tmp_path, row, message):
    _assert_problem_on_line_2(tmp_path, "filings.csv", FILINGS_HEADER + row, message)


def test_missing_column_is_named(tmp_path):
    path = _write(tmp_path, "filings.csv", "symbol,fiscal_year,form,filed_date,confidence\n")
    with pytest.raises(ValidationError, match="missing required column"):
        earnings.load_filings(path)
