"""One implementation of each shared utility: atomic write, cache lock, date parser, vocabulary."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import filelock
import numpy as np
import pandas as pd
import pytest

from analysis import _io, config
from analysis.data import calendar, dates, events, facts, prices, vocabulary
from analysis.errors import (
    CalendarError,
    DataError,
    DateFormatError,
    PriceSourceError,
    SpecificationError,
)
from analysis.studies import hardware

HEADER = "date,open,high,low,close,adj_close,volume"
ROWS = [
    "2023-01-03,99.5,101.0,99.0,100.0,99.0,1000",
    "2023-01-04,100.5,102.0,100.0,101.0,99.99,1001",
    "2023-01-05,101.5,103.0,101.0,102.0,100.98,1002",
]


def _csv(path: Path) -> Path:
    path.write_text("\n".join([HEADER, *ROWS]) + "\n")
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---------------------------------------------------------------- atomic write


def test_atomic_write_gives_the_mode_open_gives_and_replaces_in_one_step(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    _io.atomic_write_text(target, "new\nline\n")
    assert target.read_bytes() == b"new\nline\n"
    assert _mode(target) == 0o666 & ~_umask()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_atomic_write_failure_keeps_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_io.os, "replace", boom)
    with pytest.raises(OSError, match="No space left on device"):
        _io.atomic_write_bytes(target, b"new", fsync=True)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_atomic_write_into_a_missing_folder_is_a_temp_file_error(tmp_path):
    with pytest.raises(_io.TempFileError) as info:
        _io.atomic_write_bytes(tmp_path / "missing" / "a.bin", b"x")
    assert isinstance(info.value, OSError) and info.value.errno == 2


def test_cached_parquet_and_manifest_get_the_mode_open_gives(tmp_path):
    prices.import_csv_file(_csv(tmp_path / "AAA.csv"))
    root = config.cache_dir()
    files = [root / "manifest.json", *root.glob("AAA.*.parquet")]
    assert len(files) == 2
    assert [_mode(p) for p in files] == [0o666 & ~_umask()] * 2  # mkstemp alone gave 0o600


def test_event_registry_is_written_atomically_with_the_mode_open_gives(tmp_path):
    row = {c: "" for c in events.REGISTRY_COLUMNS}
    row.update(event_id="E01", title="a, quoted")
    out = events.write_registry([row], tmp_path / "events.csv")
    assert out.read_text() == events.registry_csv([row])
    assert '"a, quoted"' in out.read_text()
    assert _mode(out) == 0o666 & ~_umask()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.csv"]


# ---------------------------------------------------------------- the cache lock


def test_prices_import_and_write_the_cache_without_fcntl(tmp_path):
    csv_path = _csv(tmp_path / "AAA.csv")
    code = textwrap.dedent(
        f"""
        import sys, warnings
        sys.modules["fcntl"] = None  # as on a platform without fcntl
        warnings.simplefilter("ignore")
        import analysis
        from analysis.data import prices
        s = prices.import_csv_file({str(csv_path)!r})
        print(s.symbol, s.rows, float(prices.load_history("AAA")["close"].iloc[-1]))
        """
    )
    env = {**os.environ, "ANALYSIS_CACHE_DIR": str(tmp_path / "cache"), "ANALYSIS_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["AAA", "3", "102.0"]


def test_a_cache_write_waits_for_the_lock(tmp_path):
    csv_path = _csv(tmp_path / "AAA.csv")
    root = config.cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    done: list[str] = []
    held = filelock.FileLock(root / ".manifest.lock")
    with held:
        worker = threading.Thread(
            target=lambda: done.append(prices.import_csv_file(csv_path).symbol)
        )
        worker.start()
        time.sleep(0.5)
        assert done == [] and not (root / "manifest.json").exists()
    worker.join(timeout=30)
    assert done == ["AAA"]
    assert prices.cache_manifest()["symbol"].tolist() == ["AAA"]


def test_unwritable_cache_error_is_importable_from_both_places():
    assert prices._CacheUnwritable is __import__("analysis.errors").errors.CacheUnwritable
    assert issubclass(prices._CacheUnwritable, PriceSourceError)
    assert prices.PriceDataWarning.__module__ == "analysis.errors"


# ---------------------------------------------------------------- one date parser


BAD = "2023/10/17"
MESSAGE = "cannot read '2023/10/17' as a date (use YYYY-MM-DD)"


def test_the_same_bad_date_is_the_same_error_in_calendar_prices_and_hardware():
    fx = pd.Series([7.3, 7.31], index=pd.to_datetime(["2023-10-16", "2023-10-17"]))
    raised = []
    for call in (
        lambda: calendar.sessions(BAD, "2023-10-20"),
        lambda: prices.load_history("AAA", BAD),
        lambda: prices.split_factor("NVDA", BAD),
        lambda: hardware.fx_at(fx, [BAD]),
    ):
        with pytest.raises(DateFormatError) as info:
            call()
        raised.append(str(info.value))
    assert raised == [
        f"start: {MESSAGE}",
        f"AAA start: {MESSAGE}",
        f"NVDA split_factor date: {MESSAGE}",
        f"FX date: {MESSAGE}",
    ]
    for base in (CalendarError, DataError, SpecificationError):
        assert issubclass(DateFormatError, base)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2023-10-17", pd.Timestamp("2023-10-17")),
        (" 2023-10-17 ", pd.Timestamp("2023-10-17")),
        (pd.Timestamp("2023-10-17 21:30", tz="UTC"), pd.Timestamp("2023-10-17")),  # 17:30 ET
        (pd.Timestamp("2023-10-18 02:30", tz="UTC"), pd.Timestamp("2023-10-17")),  # 22:30 ET
        (np.datetime64("2023-10-17T15:00"), pd.Timestamp("2023-10-17")),
    ],
)
def test_parse_date_reads_iso_text_and_date_values(value, expected):
    got = dates.parse_date(value, "x")
    assert got == expected and got.tzinfo is None


@pytest.mark.parametrize(
    "value,message",
    [
        ("2023-02-30", "d: cannot read '2023-02-30' as a date (not a real calendar date: day is "),
        ("Oct 17 2023", "d: cannot read 'Oct 17 2023' as a date (use YYYY-MM-DD)"),
        (20231017, "d: cannot read 20231017 (type int) as a date (use YYYY-MM-DD)"),
        (pd.NaT, "d: the date is missing (NaT; use YYYY-MM-DD)"),
    ],
)
def test_parse_date_names_the_value_and_the_format(value, message):
    with pytest.raises(DateFormatError) as info:
        dates.parse_date(value, "d")
    assert str(info.value).startswith(message)


def test_iso_date_problem_is_shared_by_the_table_loaders():
    assert dates.iso_date_problem("2022-09-31").startswith("is not a real calendar date")
    assert dates.iso_date_problem("14/02/2022") == "is not an ISO date (YYYY-MM-DD)"
    assert dates.iso_date_problem("2022-09-30") is None


# ---------------------------------------------------------------- calendar for the price checks


def test_closed_reason_names_the_holiday():
    assert calendar.closed_reason("2023-12-25") == "holiday: Christmas"
    assert calendar.closed_reason("2023-10-21") == "weekend"
    assert calendar.closed_reason("2018-12-05") == "unscheduled closure"  # President Bush's funeral


def test_session_grid_uses_weekdays_outside_the_calendars_range():
    grid = calendar.session_grid(pd.Timestamp("1999-12-30"), pd.Timestamp("2000-01-04"))
    assert [d.strftime("%Y-%m-%d") for d in grid] == [
        "1999-12-30",
        "1999-12-31",
        "2000-01-03",
        "2000-01-04",
    ]
    assert len(calendar.session_grid("2023-10-20", "2023-10-16")) == 0
    assert list(calendar.session_grid("2023-12-22", "2023-12-27")) == list(
        calendar.sessions("2023-12-22", "2023-12-27")
    )


# ---------------------------------------------------------------- one vocabulary


def test_events_and_facts_take_their_vocabulary_from_one_module():
    assert events.CONFIDENCE_LEVELS is vocabulary.CONFIDENCE_WORDS
    assert events.DATE_PRECISIONS is vocabulary.EVENT_DATE_PRECISIONS
    assert facts.CONFIDENCE_LEVELS is vocabulary.CONFIDENCE_LEVELS
    assert facts.DATE_PRECISIONS is vocabulary.FACT_DATE_PRECISIONS
    assert facts.normalize_confidence is vocabulary.normalize_confidence
    assert facts.confidence_rank("medium-high") == 4
    # every normalized level of the fact tables starts with an event registry word but one
    starts = [
        any(lv.startswith(w) for w in vocabulary.CONFIDENCE_WORDS) for lv in facts.CONFIDENCE_LEVELS
    ]
    assert starts == [True, True, True, True, True, False, True]
