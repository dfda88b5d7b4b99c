"""Plausibility checks on import: non-finite values, OHLC ranges, spikes, split-unadjusted closes,
non-session and future dates, gaps, range errors, file-name case (synthetic CSVs in tmp_path)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from analysis.data import calendar, prices
from analysis.data.prices import PriceDataWarning
from analysis.errors import DataError, ValidationError

pytestmark = pytest.mark.filterwarnings("error::analysis.data.prices.PriceDataWarning")

HEADER = "date,open,high,low,close,adj_close,volume"


@pytest.fixture(autouse=True)
def _no_prices_dir(monkeypatch):
    """Synthetic tier: no shared folder, whatever the caller's environment holds."""
    monkeypatch.delenv("ANALYSIS_PRICES_DIR", raising=False)


def make_rows(start="2024-01-02", n=10, base=100.0):
    """n NYSE sessions of clean rows: close = base + i, open/high/low around it, adj = 0.99 close."""
    first = pd.Timestamp(start)
    dates = calendar.sessions(first, first + pd.Timedelta(days=2 * n + 10))[:n]
    return [
        [
            f"{d:%Y-%m-%d}",
            base + i - 0.5,
            base + i + 1.0,
            base + i - 1.0,
            base + i,
            (base + i) * 0.99,
            1000,
        ]
        for i, d in enumerate(dates)
    ]


def write_csv(path: Path, rows) -> Path:
    path.write_text("\n".join([HEADER] + [",".join(str(v) for v in r) for r in rows]) + "\n")
    return path


def refused(tmp_path, rows, name="BAD.csv") -> list[str]:
    """Import ``rows`` as ``name``; return the problems of the ValidationError it must raise."""
    path = write_csv(tmp_path / name, rows)
    with pytest.raises(ValidationError) as info:
        prices.import_csv_file(path)
    assert str(path) in str(info.value)
    assert prices.cache_manifest().empty  # nothing written
    return info.value.problems


def imported_with_notes(tmp_path, rows, name) -> tuple[prices.ImportedSeries, list[str]]:
    path = write_csv(tmp_path / name, rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        series = prices.import_csv_file(path)
    messages = [str(w.message) for w in caught if issubclass(w.category, PriceDataWarning)]
    return series, messages


# ---------------------------------------------------------------- non-finite values


@pytest.mark.parametrize("text,shown", [("inf", "inf"), ("-inf", "-inf"), ("1e400", "inf")])
def test_non_finite_prices_are_refused_with_line(tmp_path, text, shown):
    rows = make_rows()
    rows[3][4] = text
    assert f"BAD.csv line 5: close is not a finite number ({shown})" in refused(tmp_path, rows)


def test_non_finite_volume_is_refused(tmp_path):
    rows = make_rows()
    rows[6][6] = "inf"
    assert refused(tmp_path, rows) == ["BAD.csv line 8: volume is not a finite number (inf)"]


# ---------------------------------------------------------------- open/close within low..high


def test_close_outside_the_days_range_is_refused(tmp_path):
    rows = make_rows()
    rows[2][4] = 150.0  # 2024-01-04: high 103.0
    rows[5][4] = 90.0  # 2024-01-09: low 104.0
    problems = refused(tmp_path, rows)
    assert (
        "BAD.csv line 4 (2024-01-04): close 150.0 is above the day's high 103.0 (by 45.63%; "
        "low 101.0, high 103.0); correct the row (the close must lie within low..high)"
    ) in problems
    assert any(
        p.startswith("BAD.csv line 7 (2024-01-09): close 90.0 is below the day's low 104.0")
        for p in problems
    )


def test_rounding_within_tolerance_passes(tmp_path):
    rows = make_rows()
    rows[2][4] = 103.0 * (1 + 5e-7)  # above high by less than the 1e-6 tolerance
    series, notes = imported_with_notes(tmp_path, rows, "OK.csv")
    assert series.rows == 10 and notes == [] and series.notes == ()


def test_open_far_outside_is_refused_slightly_outside_is_a_warning(tmp_path):
    rows = make_rows()
    rows[4][1] = 120.0  # 2024-01-08: high 105.0, 14% above
    problems = refused(tmp_path, rows)
    assert problems[0].startswith(
        "BAD.csv line 6 (2024-01-08): open 120.0 is above the day's high 105.0 (by 14.29%"
    )
    rows = make_rows()
    rows[4][1] = 105.0 * 1.004  # 0.4% above the high: the kind of glitch real files have
    series, notes = imported_with_notes(tmp_path, rows, "GLITCH.csv")
    assert series.notes == (
        "GLITCH.csv line 6 (2024-01-08): open 105.42 is above the day's high 105.0 (by 0.40%; "
        "low 103.0, high 105.0); imported (no return uses the open)",
    )
    assert notes == ["GLITCH: imported with 1 note(s): " + series.notes[0]]


def test_fx_bars_are_not_range_checked(tmp_path):
    rows = make_rows(base=7.0)
    rows[3][4] = 7.0 + 3 + 1.5  # outside the bar, as Yahoo's CNY=X closes sometimes are
    rows[3][5] = rows[3][4]
    series, notes = imported_with_notes(tmp_path, rows, "CNY_X.csv")
    assert series.symbol == "CNY=X" and series.notes == () and notes == []


# ---------------------------------------------------------------- spikes in adj_close


def test_one_day_spike_is_refused_with_rows(tmp_path):
    rows = make_rows()
    rows[5][1:6] = [299.5, 301.0, 299.0, 300.0, 297.0]  # 2024-01-09 x3, back the next day
    assert refused(tmp_path, rows) == [
        "BAD.csv line 7 (2024-01-09): adj_close 297.0 is a one-day spike (+188.5% from 102.96 "
        "on 2024-01-08, then -64.7% to 104.94 on 2024-01-10); check the row against another "
        "source and correct it"
    ]


def test_downward_spike_is_refused(tmp_path):
    rows = make_rows()
    rows[5][1:6] = [30.5, 31.0, 29.0, 30.0, 29.7]
    (problem,) = refused(tmp_path, rows)
    assert problem.startswith(
        "BAD.csv line 7 (2024-01-09): adj_close 29.7 is a one-day spike (-71.2%"
    )


def test_lasting_jump_and_small_reversal_are_not_spikes(tmp_path):
    rows = make_rows()
    for r in rows[5:]:  # +60% that stays (an acquisition bid, say)
        r[1:6] = [v * 1.6 for v in r[1:6]]
    series, _ = imported_with_notes(tmp_path, rows, "JUMP.csv")
    assert series.rows == 10
    rows = make_rows()
    rows[5][1:6] = [v * 1.45 for v in rows[5][1:6]]  # +45% and back: below the 1.5 factor
    series, _ = imported_with_notes(tmp_path, rows, "BUMP.csv")
    assert series.rows == 10


# ---------------------------------------------------------------- split-unadjusted closes


def nvda_rows_around_the_2024_split(scale_adj: bool):
    """NVDA 2024-06-03 .. 06-14 with the prices before the 10:1 split of 06-10 not adjusted."""
    rows = make_rows(start="2024-06-03", n=10, base=120.0)
    for r in rows:
        if r[0] < "2024-06-10":
            r[1:5] = [v * 10 for v in r[1:5]]
            if scale_adj:
                r[5] *= 10
    return rows


def test_split_unadjusted_close_is_refused_and_matched_to_the_split_table(tmp_path):
    problems = refused(tmp_path, nvda_rows_around_the_2024_split(False), name="NVDA.csv")
    assert problems == [
        "NVDA.csv line 7 (2024-06-10): close/adj_close changes by a factor 10.00 from 2024-06-07 "
        "(close 1240.0, adj_close 122.76) to 2024-06-10 (close 125.0, adj_close 123.75): the "
        "close before 2024-06-10 looks split-unadjusted; matches the 10:1 split of NVDA on "
        "2024-06-10 (data/splits.csv); export split-adjusted closes (Yahoo's Close with "
        "auto_adjust=False is one)"
    ]


def test_split_like_jump_of_an_unlisted_symbol_is_refused(tmp_path):
    rows = make_rows()
    for r in rows[:4]:
        r[1:5] = [v * 3 for v in r[1:5]]
    (problem,) = refused(tmp_path, rows)
    assert problem.startswith(
        "BAD.csv line 6 (2024-01-08): close/adj_close changes by a factor 3.00 from 2024-01-05"
    )
    assert "matches the" not in problem


def test_fully_unadjusted_prices_on_a_split_date_are_refused(tmp_path):
    (problem,) = refused(tmp_path, nvda_rows_around_the_2024_split(True), name="NVDA.csv")
    assert problem == (
        "NVDA.csv line 7 (2024-06-10): close and adj_close move by a factor 0.101 and 0.101 "
        "from 2024-06-07 to 2024-06-10, the first session after the 10:1 split of NVDA "
        "(data/splits.csv): the prices before it look split-unadjusted; export split-adjusted "
        "prices"
    )


def test_duplicate_split_date_is_reported_not_a_crash(tmp_path):
    rows = make_rows(start="2024-06-03", n=10, base=120.0)
    rows.insert(5, [*rows[5]])  # 2024-06-10, the split date, twice
    assert refused(tmp_path, rows, name="NVDA.csv") == [
        "NVDA.csv line 8: duplicate date 2024-06-10 (first at NVDA.csv line 7)"
    ]


def test_dividend_drift_of_the_ratio_passes(tmp_path):
    rows = make_rows(start="2024-06-03", n=10, base=120.0)
    for i, r in enumerate(rows):  # adj_close/close drifts like NVDA's (0.9993 after a dividend)
        r[5] = r[4] * (0.9993 if i < 5 else 1.0)
    series, _ = imported_with_notes(tmp_path, rows, "NVDA.csv")
    assert series.rows == 10


# ---------------------------------------------------------------- dates


def test_weekend_and_holiday_rows_are_refused(tmp_path):
    rows = make_rows(start="2024-06-03", n=10)
    rows[3][0] = "2024-06-08"  # a Saturday in place of 06-06
    rows.insert(9, [*rows[8]])
    rows[9][0] = "2024-06-19"  # Juneteenth between 06-14 and ... (rows stay ascending)
    rows[10][0] = "2024-06-20"
    problems = refused(tmp_path, rows)
    assert (
        "BAD.csv line 5 (2024-06-08): 2024-06-08 (Saturday) is not an NYSE session (weekend); "
        "BAD trades on NYSE sessions only: remove the row or correct its date"
    ) in problems
    assert (
        "BAD.csv line 11 (2024-06-19): 2024-06-19 (Wednesday) is not an NYSE session (holiday: "
        "Juneteenth National Independence Day); BAD trades on NYSE sessions only: remove the "
        "row or correct its date"
    ) in problems


def test_indices_follow_the_nyse_fx_does_not(tmp_path):
    rows = make_rows(start="2023-12-26", n=6)
    rows.insert(4, [*rows[3]])
    rows[4][0] = "2024-01-01"  # New Year's Day, between 12-29 and 01-02
    problems = refused(tmp_path, rows, name="INDEX_GSPC.csv")
    assert problems == [
        "INDEX_GSPC.csv line 6 (2024-01-01): 2024-01-01 (Monday) is not an NYSE session "
        "(holiday: New Year's Day); ^GSPC trades on NYSE sessions only: remove the row or "
        "correct its date"
    ]
    series, _ = imported_with_notes(tmp_path, rows, "CNY_X.csv")
    assert series.symbol == "CNY=X" and series.rows == 7


def test_future_dates_are_refused(tmp_path):
    rows = make_rows()
    rows[-1][0] = "2099-01-05"
    (problem,) = refused(tmp_path, rows)
    assert problem.startswith(
        "BAD.csv line 11 (2099-01-05): 2099-01-05 is in the future (today is "
    )
    (problem,) = refused(tmp_path, rows, name="EUR_X.csv")  # FX too
    assert "2099-01-05 is in the future" in problem


def test_a_long_gap_is_imported_with_a_warning(tmp_path):
    rows = make_rows(start="2024-01-02", n=5) + make_rows(start="2024-03-01", n=5)
    series, notes = imported_with_notes(tmp_path, rows, "GAP.csv")
    assert series.rows == 10
    expected = (
        "no rows for 36 NYSE sessions between 2024-01-08 (GAP.csv line 6) and 2024-03-01 "
        "(GAP.csv line 7); imported, the returns across the gap are missing (not filled)"
    )
    assert series.notes == (expected,)
    assert notes == ["GAP: imported with 1 note(s): " + expected]


def test_ten_missing_sessions_are_not_reported(tmp_path):
    rows = make_rows(start="2024-01-02", n=25)
    del rows[5:15]  # exactly 10 sessions without a row
    series, notes = imported_with_notes(tmp_path, rows, "OK.csv")
    assert series.notes == () and notes == []
    rows = make_rows(start="2024-01-02", n=25)
    del rows[5:16]  # 11
    series, notes = imported_with_notes(tmp_path, rows, "GAP.csv")
    assert len(series.notes) == 1 and series.notes[0].startswith("no rows for 11 NYSE sessions")


def test_folder_import_warns_once_for_all_series(tmp_path):
    folder = tmp_path / "prices"
    folder.mkdir()
    write_csv(folder / "AAA.csv", make_rows(start="2024-01-02", n=5) + make_rows("2024-03-01", 5))
    write_csv(folder / "BBB.csv", make_rows())
    with pytest.warns(PriceDataWarning) as record:
        report = prices.import_csv_folder(folder)
    assert report.ok and report.symbols == ["AAA", "BBB"]
    assert len(record) == 1
    assert str(record[0].message).startswith("AAA: imported with 1 note(s): no rows for 36")
    assert "note AAA: no rows for 36 NYSE sessions" in report.text()
    assert "no rows for 36 NYSE sessions" in report._repr_html_()


# ---------------------------------------------------------------- range errors, file names


def test_range_error_quotes_the_symbols_own_dates(tmp_path):
    folder = tmp_path / "prices"
    folder.mkdir()
    write_csv(folder / "AAA.csv", make_rows(start="2024-01-02", n=20))
    write_csv(folder / "LATE.csv", make_rows(start="2024-01-10", n=10))
    prices.import_csv_folder(folder)
    with pytest.raises(DataError) as info:
        prices.adj_close(["AAA", "LATE"], "2024-01-02", "2024-01-22")
    msg = str(info.value)
    assert msg.startswith(
        "LATE: requested 2024-01-02 to 2024-01-22 but the cached series covers only 2024-01-10 "
        "to 2024-01-24 (6 NYSE session(s) before 2024-01-10 missing"
    )
    assert "2024-01-02 to 2024-01-30" not in msg  # AAA's range is not LATE's


def test_on_demand_import_finds_a_lower_case_file_name(tmp_path, monkeypatch):
    folder = tmp_path / "prices"
    folder.mkdir()
    write_csv(folder / "nvda.csv", make_rows(start="2024-06-03", n=5, base=120.0))
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(folder))
    df = prices.load_history("NVDA")
    assert len(df) == 5 and df["close"].iat[0] == 120.0
    assert prices.cache_manifest()["source"].tolist() == [f"csv:{(folder / 'nvda.csv').resolve()}"]


def test_symbol_list_rejects_none():
    with pytest.raises(DataError, match=r"symbols must be a symbol such as 'NVDA' .* got None"):
        prices.adj_close(None)


# ---------------------------------------------------------------- the shared price folder


@pytest.mark.realdata
def test_every_real_file_passes_and_only_two_opens_are_noted(shared_prices_dir):
    """All files of the shared folder import; the only notes are the two opens of 2021-05-05."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = prices.import_csv_folder(shared_prices_dir)
    files = [p for p in shared_prices_dir.iterdir() if p.suffix.lower() == ".csv"]
    assert report.ok and len(report.imported) == len(files)
    notes = {s.symbol: s.notes for s in report.imported if s.notes}
    assert sorted(notes) == ["HUBB", "PSTG"]
    assert notes["HUBB"][0].startswith(
        "HUBB.csv line 498 (2021-05-05): open 195.97999572753906 is below the day's low "
        "196.2100067138672 (by 0.12%"
    )
    assert notes["PSTG"][0].startswith(
        "PSTG.csv line 498 (2021-05-05): open 19.09000015258789 is above the day's high "
        "19.010000228881836 (by 0.42%"
    )
    assert len([w for w in caught if issubclass(w.category, PriceDataWarning)]) == 1
