"""Unit tests of analysis.data.prices on synthetic data (no network, no shared folder)."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import _io, config
from analysis.data import prices
from analysis.errors import AnalysisError, DataError, PriceSourceError, ValidationError

HEADER = "date,open,high,low,close,adj_close,volume"


@pytest.fixture(autouse=True)
def _no_prices_dir(monkeypatch):
    """Synthetic tier: no shared folder, whatever the caller's environment holds."""
    monkeypatch.delenv("ANALYSIS_PRICES_DIR", raising=False)


def sessions_from(start, n):
    """The first n NYSE sessions on or after ``start`` (2023-01-03 -> 01-03 .. 01-17, MLK skipped)."""
    from analysis.data import calendar

    start = pd.Timestamp(start)
    return calendar.sessions(start, start + pd.Timedelta(days=2 * n + 10))[:n]


def make_rows(start="2023-01-03", n=10, base=100.0):
    """n NYSE sessions of clean OHLCV rows (close = base + i)."""
    dates = sessions_from(start, n)
    rows = []
    for i, d in enumerate(dates):
        c = base + i
        rows.append([d.strftime("%Y-%m-%d"), c - 0.5, c + 1.0, c - 1.0, c, c * 0.99, 1000 + i])
    return rows


def write_csv(path: Path, rows, header=HEADER) -> Path:
    lines = [header] + [",".join(str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "prices"
    d.mkdir()
    write_csv(d / "AAA.csv", make_rows())
    write_csv(d / "INDEX_GSPC.csv", make_rows(base=4000.0))
    write_csv(d / "CNY_X.csv", make_rows(start="2023-01-04", n=8, base=7.0))
    (d / "PROVENANCE.md").write_text("# not a csv\n")
    return d


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    "symbol,filename",
    [
        ("NVDA", "NVDA.csv"),
        ("^GSPC", "INDEX_GSPC.csv"),
        ("CNY=X", "CNY_X.csv"),
        ("BRK-B", "BRK-B.csv"),
    ],
)
def test_symbol_filename_round_trip(symbol, filename):
    assert prices.symbol_to_filename(symbol) == filename
    assert prices.filename_to_symbol(filename) == symbol


def test_bad_symbol_and_bad_filename():
    with pytest.raises(DataError, match=r"invalid symbol 'NV DA'"):
        prices.symbol_to_filename("NV DA")
    with pytest.raises(
        DataError, match=r"file name 'my prices.csv' does not map to a Yahoo symbol"
    ):
        prices.filename_to_symbol("my prices.csv")


# ---------------------------------------------------------------- CSV import


def test_import_folder_and_load(folder):
    report = prices.import_csv_folder(folder)
    assert report.ok
    assert sorted(report.symbols) == ["AAA", "CNY=X", "^GSPC"]
    df = prices.load_history("AAA")
    assert list(df.columns) == list(prices.PRICE_COLUMNS)
    assert df.index.name == "date" and df.index.tz is None
    assert isinstance(df.index, pd.DatetimeIndex)
    assert [str(t) for t in df.dtypes] == ["float64"] * 5 + ["int64"]
    assert len(df) == 10
    assert df.loc["2023-01-05", "close"] == 102.0
    assert df.loc["2023-01-05", "volume"] == 1002
    assert prices.load_history("^GSPC").loc["2023-01-03", "close"] == 4000.0
    man = prices.cache_manifest()
    assert list(man.columns) == [
        "symbol",
        "first",
        "last",
        "rows",
        "source",
        "sha256",
        "retrieved_at",
    ]
    assert list(man["symbol"]) == ["AAA", "CNY=X", "^GSPC"]
    row = man.set_index("symbol").loc["CNY=X"]
    assert row["source"] == f"csv:{(folder / 'CNY_X.csv').resolve()}"
    assert (row["first"], row["last"], row["rows"]) == ("2023-01-04", "2023-01-13", 8)
    raw = json.loads((config.cache_dir() / "manifest.json").read_text())
    entry = raw["series"]["AAA"]
    for key in (
        "source",
        "retrieved_at",
        "yfinance_version",
        "first",
        "last",
        "rows",
        "sha256",
        "splits",
    ):
        assert key in entry
    assert entry["retrieved_at"].endswith("+00:00")
    assert (
        "imported 3 series" in report.text() and "imported 3 series" in report.summary().as_text()
    )


def _import_error(tmp_path, rows, header=HEADER, name="BAD.csv") -> ValidationError:
    path = write_csv(tmp_path / name, rows, header)
    with pytest.raises(ValidationError) as info:
        prices.import_csv_file(path)
    assert str(path) in str(info.value)  # names the file
    assert prices.cache_manifest().empty  # nothing written
    return info.value


def test_missing_column(tmp_path):
    rows = [r[:6] for r in make_rows()]
    err = _import_error(tmp_path, rows, header="date,open,high,low,close,adj_close")
    assert "BAD.csv line 1: missing column(s) volume" in str(err)


def test_extra_column_is_an_error(tmp_path):
    rows = [[*r, 0.0] for r in make_rows()]
    err = _import_error(tmp_path, rows, header=HEADER + ",dividends")
    assert "BAD.csv line 1: unexpected column(s) 'dividends'" in str(err)


def test_unparsable_date(tmp_path):
    rows = make_rows()
    rows[3][0] = "2023/01/05"
    err = _import_error(tmp_path, rows)
    assert "BAD.csv line 5: date '2023/01/05' is not a date (expected YYYY-MM-DD)" in err.problems


def test_duplicate_date(tmp_path):
    rows = make_rows()
    rows[4][0] = rows[3][0]
    err = _import_error(tmp_path, rows)
    assert f"BAD.csv line 6: duplicate date {rows[3][0]} (first at BAD.csv line 5)" in err.problems


def test_unsorted_dates(tmp_path):
    rows = make_rows()
    rows[2], rows[3] = rows[3], rows[2]
    err = _import_error(tmp_path, rows)
    assert err.problems == [
        "BAD.csv line 5: dates not ascending (2023-01-05 comes after 2023-01-06)"
    ]


@pytest.mark.parametrize(
    "col,idx", [("open", 1), ("high", 2), ("low", 3), ("close", 4), ("adj_close", 5)]
)
def test_non_positive_price(tmp_path, col, idx):
    rows = make_rows()
    rows[6][idx] = 0.0
    if col == "high":
        rows[6][3] = -1.0  # keep high >= low so only the sign problems show
    err = _import_error(tmp_path, rows)
    assert f"BAD.csv line 8: {col} is not positive (0.0)" in err.problems


def test_nan_and_empty_price(tmp_path):
    rows = make_rows()
    rows[0][4] = "NaN"
    rows[1][5] = ""
    err = _import_error(tmp_path, rows)
    assert "BAD.csv line 2: close is missing (NaN or empty)" in err.problems
    assert "BAD.csv line 3: adj_close is missing (NaN or empty)" in err.problems


def test_text_in_number_column(tmp_path):
    rows = make_rows()
    rows[2][4] = "12,5".replace(",", ";")
    err = _import_error(tmp_path, rows)
    assert "BAD.csv line 4: close '12;5' is not a number" in err.problems


def test_high_below_low(tmp_path):
    rows = make_rows()
    rows[5][2], rows[5][3] = 90.0, 110.0
    err = _import_error(tmp_path, rows)
    assert "BAD.csv line 7: high 90.0 is below low 110.0" in err.problems


def test_negative_volume(tmp_path):
    rows = make_rows()
    rows[9][6] = -5
    err = _import_error(tmp_path, rows)
    assert err.problems == ["BAD.csv line 11: volume is negative (-5.0)"]


def test_wrong_field_count_and_empty_file(tmp_path):
    rows = make_rows()
    rows[1] = rows[1][:5]
    err = _import_error(tmp_path, rows)
    assert "BAD.csv line 3: expected 7 fields, found 5" in err.problems
    empty = tmp_path / "EMPTY.csv"
    empty.write_text("")
    with pytest.raises(ValidationError, match=r"EMPTY.csv: the file is empty"):
        prices.import_csv_file(empty)


def test_blank_line_keeps_line_numbers(tmp_path):
    rows = make_rows()
    path = tmp_path / "BAD.csv"
    lines = [HEADER] + [",".join(map(str, r)) for r in rows]
    lines.insert(3, "")  # a blank line 4
    lines[6] = lines[6].replace(",1004", ",-1")  # row of 2023-01-09 is now on line 7
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValidationError) as info:
        prices.import_csv_file(path)
    assert info.value.problems == ["BAD.csv line 7: volume is negative (-1.0)"]


def test_folder_with_a_bad_file(folder):
    rows = make_rows()
    rows[2][4] = -3
    write_csv(folder / "BAD.csv", rows)
    report = prices.import_csv_folder(folder)
    assert not report.ok
    assert sorted(report.symbols) == ["AAA", "CNY=X", "^GSPC"]
    (skip,) = report.skipped
    assert skip.name == "BAD.csv"
    assert "BAD.csv line 4: close is not positive (-3.0)" in skip.problems
    assert "BAD" not in list(prices.cache_manifest()["symbol"])
    assert "skipped 1:" in report.text() and "line 4" in report.text()
    with pytest.raises(PriceSourceError, match=r"BAD.csv: .*not imported for BAD"):
        report.raise_if_skipped()


def test_bad_reimport_keeps_good_cache(folder):
    prices.import_csv_folder(folder)
    before = prices.load_history("AAA")
    rows = make_rows(n=12)
    rows[11][2] = 1.0  # high < low on the last line
    write_csv(folder / "AAA.csv", rows)
    report = prices.import_csv_folder(folder, symbols=["AAA"])
    assert [s.name for s in report.skipped] == ["AAA.csv"]
    assert "AAA.csv line 13: high 1.0 is below low 110.0" in report.skipped[0].problems
    pd.testing.assert_frame_equal(prices.load_history("AAA"), before)


def test_folder_symbols_filter_and_missing(folder):
    report = prices.import_csv_folder(folder, symbols=["aaa", "ZZZ"])
    assert report.symbols == ["AAA"]
    assert report.skipped[0].name == "ZZZ"
    assert f"no file ZZZ.csv in {folder.resolve()}" in report.skipped[0].reason


def test_folder_errors(tmp_path):
    with pytest.raises(PriceSourceError, match=r"price folder .*nope does not exist"):
        prices.import_csv_folder(tmp_path / "nope")
    (tmp_path / "README.md").write_text("x")
    with pytest.raises(
        PriceSourceError, match=r"no CSV files in .*expected files such as NVDA.csv"
    ):
        prices.import_csv_folder(tmp_path)


# ---------------------------------------------------------------- load_history


def test_range_slicing_and_errors(folder):
    prices.import_csv_folder(folder)
    sl = prices.load_history("AAA", "2023-01-04", "2023-01-06")
    assert list(sl.index.strftime("%Y-%m-%d")) == ["2023-01-04", "2023-01-05", "2023-01-06"]
    # weekends and holidays at the edges are not gaps (2023-01-01 Sun, 01-02 New Year's Day
    # observed; the series starts 01-03 and ends 01-17, after Martin Luther King Day 01-16)
    assert len(prices.load_history("AAA", "2022-12-31", "2023-01-17")) == 10
    with pytest.raises(DataError) as info:
        prices.load_history("AAA", "2022-12-01", "2023-01-10")
    msg = str(info.value)
    assert (
        "AAA: requested 2022-12-01 to 2023-01-10 but the cached series covers only 2023-01-03 to 2023-01-17"
        in msg
    )
    assert "NYSE session(s) before 2023-01-03 missing" in msg
    with pytest.raises(
        DataError,
        match=r"AAA: requested open to 2023-02-01 .* covers only 2023-01-03 to 2023-01-17 \(11 NYSE session\(s\) after 2023-01-17",
    ):
        prices.load_history("AAA", end="2023-02-01")
    with pytest.raises(DataError, match=r"AAA: end 2023-01-03 is before start 2023-01-05"):
        prices.load_history("AAA", "2023-01-05", "2023-01-03")
    with pytest.raises(DataError, match=r"AAA start: cannot read 'soon' as a date"):
        prices.load_history("AAA", "soon")


def test_on_demand_import_from_prices_dir(folder, monkeypatch):
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(folder))
    assert prices.cache_manifest().empty
    df = prices.load_history("CNY=X")
    assert len(df) == 8
    man = prices.cache_manifest()
    assert list(man["symbol"]) == ["CNY=X"]
    assert man["source"].iat[0] == f"csv:{(folder / 'CNY_X.csv').resolve()}"


def test_not_available_offline(folder, monkeypatch):
    with pytest.raises(PriceSourceError) as info:
        prices.load_history("NVDA")
    msg = str(info.value)
    assert msg.startswith("no prices for NVDA:")
    for hint in (
        "prices import DIR",
        "ANALYSIS_PRICES_DIR",
        "prices fetch NVDA",
        "ANALYSIS_OFFLINE is set",
    ):
        assert hint in msg
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(folder))
    with pytest.raises(PriceSourceError, match=r"no file INDEX_NDX.csv\)"):
        prices.load_history("^NDX")


def test_panels_outer_join_without_filling(folder):
    prices.import_csv_folder(folder)
    px = prices.adj_close(["CNY=X", "AAA"])
    assert list(px.columns) == ["CNY=X", "AAA"]
    assert px.index.name == "date"
    assert len(px) == 10
    assert np.isnan(px.loc["2023-01-03", "CNY=X"])  # CNY=X starts a day later: NaN, not filled
    assert px["CNY=X"].isna().sum() == 2
    assert px.loc["2023-01-05", "AAA"] == pytest.approx(102.0 * 0.99)
    cl = prices.close("AAA", "2023-01-04", "2023-01-05")
    assert list(cl.columns) == ["AAA"] and list(cl["AAA"]) == [101.0, 102.0]
    with pytest.raises(DataError, match=r"listed more than once: AAA"):
        prices.close(["AAA", "aaa"])


# ---------------------------------------------------------------- splits


def test_split_factor_from_committed_table():
    assert prices.split_factor("NVDA", "2023-10-17") == 10.0
    assert prices.split_factor("NVDA", "2021-01-04") == 40.0
    assert prices.split_factor("NVDA", "2024-06-07") == 10.0
    assert prices.split_factor("NVDA", "2024-06-10") == 1.0
    assert prices.split_factor("NVDA", "2025-01-02") == 1.0
    assert prices.split_factor("SOXX", "2024-03-06") == 3.0
    assert prices.split_factor("SPY", "2020-01-02") == 1.0
    assert prices.to_current_units("NVDA", "2023-10-17", 446) == pytest.approx(44.6, rel=1e-12)
    assert prices.to_quoted_units("NVDA", "2023-10-17", 44.6) == pytest.approx(446.0, rel=1e-12)
    with pytest.raises(DataError, match=r"NVDA split_factor date: cannot read 'x' as a date"):
        prices.split_factor("NVDA", "x")


def test_splits_table_is_complete_and_cited():
    table = pd.read_csv(config.data_dir() / "splits.csv")
    assert list(table.columns) == ["symbol", "date", "ratio", "source", "confidence"]
    got = {(s, d, r) for s, d, r in zip(table.symbol, table.date, table.ratio, strict=True)}
    for fact in [
        ("NVDA", "2021-07-20", 4),
        ("NVDA", "2024-06-10", 10),
        ("AVGO", "2024-07-15", 10),
        ("LRCX", "2024-10-03", 10),
        ("SMH", "2023-05-05", 2),
        ("SOXX", "2024-03-07", 3),
    ]:
        assert fact in got
    assert table["source"].str.len().min() > 40
    assert set(table["confidence"]) <= {"high", "medium", "low"}


def test_quoted_close_undoes_later_splits(tmp_path):
    rows = make_rows(start="2024-06-05", n=5, base=100.0)  # 06-05 .. 06-11, split on 06-10
    write_csv(tmp_path / "NVDA.csv", rows)
    prices.import_csv_file(tmp_path / "NVDA.csv")
    q = prices.quoted_close("NVDA")
    assert list(q.round(6)) == [1000.0, 1010.0, 1020.0, 103.0, 104.0]
    assert q.name == "quoted_close"


def _fake_manifest_splits(symbol, split_list):
    path = config.cache_dir() / "manifest.json"
    m = json.loads(path.read_text())
    m["series"][symbol]["splits"] = split_list
    m["series"][symbol]["source"] = "yahoo"
    path.write_text(json.dumps(m))


def test_yahoo_splits_must_agree_with_committed(tmp_path):
    write_csv(tmp_path / "NVDA.csv", make_rows(start="2024-06-05", n=5))
    prices.import_csv_file(tmp_path / "NVDA.csv")
    _fake_manifest_splits("NVDA", [{"date": "2024-06-10", "ratio": 10.0}])
    assert prices.split_factor("NVDA", "2024-06-07") == 10.0
    _fake_manifest_splits("NVDA", [{"date": "2024-06-10", "ratio": 4.0}])
    with pytest.raises(DataError) as info:
        prices.split_factor("NVDA", "2024-06-07")
    msg = str(info.value)
    assert "NVDA: splits disagree between" in msg and "splits.csv (2024-06-10 10:1)" in msg
    assert "Yahoo's record in the cache for 2024-06-05 to 2024-06-11 (2024-06-10 4:1)" in msg


def test_yahoo_splits_used_for_unlisted_symbol(tmp_path):
    write_csv(tmp_path / "TSLA.csv", make_rows(start="2022-08-22", n=10))
    prices.import_csv_file(tmp_path / "TSLA.csv")
    _fake_manifest_splits("TSLA", [{"date": "2022-08-25", "ratio": 3.0}])
    assert prices.split_factor("TSLA", "2022-08-24") == 3.0
    assert prices.split_factor("TSLA", "2022-08-25") == 1.0


# ---------------------------------------------------------------- cache integrity


def cached_file(symbol: str) -> Path:
    """The parquet file the manifest lists for ``symbol``."""
    entry = json.loads((config.cache_dir() / "manifest.json").read_text())["series"][symbol]
    return config.cache_dir() / entry["file"]


def test_cache_files_are_named_after_their_content(folder):
    prices.import_csv_folder(folder)
    path = cached_file("AAA")
    sha = prices.cache_manifest().set_index("symbol").loc["AAA", "sha256"]
    assert path.name == f"AAA.{sha[:16]}.parquet"
    write_csv(folder / "AAA.csv", make_rows(base=300.0))
    prices.import_csv_file(folder / "AAA.csv")
    assert not path.exists()  # the replaced file is deleted once the manifest points elsewhere
    parquet = sorted(p.name for p in config.cache_dir().glob("*.parquet"))
    assert parquet == sorted(cached_file(s).name for s in ("AAA", "CNY=X", "^GSPC"))


def test_checksum_tampering_is_refused(folder):
    prices.import_csv_folder(folder)
    path = cached_file("AAA")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(PriceSourceError) as info:
        prices.load_history("AAA")
    msg = str(info.value)
    assert f"AAA: cached file {path} does not match its manifest checksum" in msg
    assert "not used" in msg and "re-import" in msg
    prices.import_csv_folder(folder, symbols=["AAA"])  # the advertised fix works
    assert len(prices.load_history("AAA")) == 10


def test_missing_parquet_and_corrupt_manifest(folder):
    prices.import_csv_folder(folder)
    cached_file("AAA").unlink()
    with pytest.raises(
        PriceSourceError,
        match=r"AAA: cached file .*AAA\.[0-9a-f]{16}\.parquet is listed in the manifest but cannot be read",
    ):
        prices.load_history("AAA")
    (config.cache_dir() / "manifest.json").write_text("{not json")
    with pytest.raises(
        PriceSourceError, match=r"manifest .*manifest.json is unreadable .*re-import"
    ):
        prices.cache_manifest()


def _no_temp_files(root: Path) -> bool:
    return not [p for p in root.iterdir() if p.name.endswith(".tmp")]


def test_crash_during_replace_keeps_old_file(folder, monkeypatch):
    prices.import_csv_folder(folder)
    root = config.cache_dir()
    old_bytes = cached_file("AAA").read_bytes()
    old_manifest = (root / "manifest.json").read_text()
    write_csv(folder / "AAA.csv", make_rows(n=12, base=200.0))

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as mp:
        mp.setattr(_io.os, "replace", boom)
        with pytest.raises(
            DataError,
            match=r"could not write .*AAA\.[0-9a-f]{16}\.parquet: .*No space left on device; the previous file is unchanged",
        ):
            prices.import_csv_file(folder / "AAA.csv")
    assert cached_file("AAA").read_bytes() == old_bytes
    assert (root / "manifest.json").read_text() == old_manifest
    assert _no_temp_files(root)
    assert prices.load_history("AAA")["close"].iat[0] == 100.0


def test_crash_mid_write_keeps_old_file(folder, monkeypatch):
    prices.import_csv_folder(folder)
    root = config.cache_dir()
    old_bytes = cached_file("AAA").read_bytes()
    write_csv(folder / "AAA.csv", make_rows(n=12, base=200.0))

    def crash(fd):
        raise KeyboardInterrupt  # the process dies after part of the temp file was written

    with monkeypatch.context() as mp:
        mp.setattr(_io.os, "fsync", crash)
        with pytest.raises(KeyboardInterrupt):
            prices.import_csv_file(folder / "AAA.csv")
    assert cached_file("AAA").read_bytes() == old_bytes
    assert _no_temp_files(root)
    assert len(prices.load_history("AAA")) == 10


def _import_one(args):
    cache, path = args
    os.environ["ANALYSIS_CACHE_DIR"] = cache
    prices.import_csv_file(path)
    return Path(path).stem


def test_parallel_imports_keep_every_manifest_entry(tmp_path):
    paths = []
    for i in range(8):
        paths.append(str(write_csv(tmp_path / f"S{i}.csv", make_rows(base=10.0 + i))))
    cache = str(config.cache_dir())
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        done = pool.map(_import_one, [(cache, p) for p in paths])
    assert sorted(done) == [f"S{i}" for i in range(8)]
    man = prices.cache_manifest()
    assert list(man["symbol"]) == [f"S{i}" for i in range(8)]
    for i in range(8):  # every file matches its checksum
        assert prices.load_history(f"S{i}")["close"].iat[0] == 10.0 + i


def test_series_info(folder):
    prices.import_csv_folder(folder)
    info = prices.series_info(["^GSPC", "AAA"])
    assert list(info["symbol"]) == ["^GSPC", "AAA"]
    assert list(info["rows"]) == [10, 10]
    with pytest.raises(PriceSourceError, match=r"not in the price cache .*: NVDA"):
        prices.series_info(["AAA", "NVDA"])


# ---------------------------------------------------------------- Yahoo (yfinance stand-in)

YF_PRICE_COLS = ["Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends", "Stock Splits"]


def yf_ticker_frame(dates, base=100.0, split=None):
    """One ticker's frame as yfinance's Ticker.history(actions=True, auto_adjust=False) gives it."""
    n = len(dates)
    c = base + np.arange(n, dtype=float)
    df = pd.DataFrame(
        {
            "Open": c - 0.5,
            "High": c + 1,
            "Low": c - 1,
            "Close": c,
            "Adj Close": c * 0.99,
            "Volume": np.arange(n, dtype="int64") + 1000,
            "Dividends": 0.0,
            "Stock Splits": 0.0,
        },
        index=pd.DatetimeIndex(dates, name="Date"),
    )
    if split:
        df.loc[pd.Timestamp(split[0]), "Stock Splits"] = split[1]
    return df


def yf_empty():
    from yfinance import utils

    return utils.empty_df()


def yf_assemble(dfs: dict) -> pd.DataFrame:
    """What yfinance 1.7's download(group_by='column') does with the per-ticker frames."""
    from yfinance.multi import reindex_dfs

    dfs = reindex_dfs(dict(dfs), True)
    data = pd.concat(dfs.values(), axis=1, sort=True, keys=dfs.keys(), names=["Ticker", "Price"])
    data.columns = data.columns.swaplevel(0, 1)
    return data.sort_index(level=0, axis=1)


class FakeDownload:
    """Stand-in for yfinance.download: returns prepared answers, logs errors the way yfinance does."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, tickers, **kwargs):
        self.calls.append((list(tickers), kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        frame, errors = answer
        log = logging.getLogger("yfinance")
        for sym, err in errors.items():
            log.error(f"['{sym}']: " + err)
        return frame


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setenv("ANALYSIS_OFFLINE", "0")

    def install(*answers):
        import yfinance

        fake = FakeDownload(*answers)
        monkeypatch.setattr(yfinance, "download", fake)
        return fake

    return install


def test_yfinance_layout_assumption():
    frame = yf_assemble({"NVDA": yf_ticker_frame(pd.bdate_range("2024-01-02", periods=3))})
    assert frame.columns.names == ["Price", "Ticker"]
    assert list(frame.columns.get_level_values(0).unique()) == [
        "Adj Close",
        "Close",
        "Dividends",
        "High",
        "Low",
        "Open",
        "Stock Splits",
        "Volume",
    ]


def test_fetch_success_writes_cache(online):
    dates = pd.bdate_range("2024-06-05", "2024-06-11")
    fake = online(
        (
            yf_assemble(
                {
                    "NVDA": yf_ticker_frame(dates, split=("2024-06-10", 10.0)),
                    "SPY": yf_ticker_frame(dates, base=500.0),
                }
            ),
            {},
        )
    )
    report = prices.fetch_yahoo(["NVDA", "SPY"], "2024-06-05", "2024-06-11")
    assert report.ok and report.symbols == ["NVDA", "SPY"]
    ((tickers, kwargs),) = fake.calls
    assert tickers == ["NVDA", "SPY"]
    assert (
        kwargs["auto_adjust"] is False and kwargs["actions"] is True and kwargs["threads"] is False
    )
    assert (
        kwargs["progress"] is False and kwargs["end"] == "2024-06-12"
    )  # yfinance's end is exclusive
    df = prices.load_history("NVDA")
    assert len(df) == 5 and df["close"].iat[0] == 100.0 and df["volume"].dtype == "int64"
    entry = json.loads((config.cache_dir() / "manifest.json").read_text())["series"]["NVDA"]
    assert entry["source"] == "yahoo"
    assert entry["yfinance_version"].startswith("1.")
    assert entry["splits"] == [{"date": "2024-06-10", "ratio": 10.0}]
    assert prices.split_factor("NVDA", "2024-06-07") == 10.0


def test_fetch_empty_frame_reports_cause(online):
    empty = yf_assemble({"NVDX": yf_empty()})
    assert empty.empty
    online(
        (empty, {"NVDX": "YFPricesMissingError('$NVDX: possibly delisted; no price data found')"})
    )
    report = prices.fetch_yahoo(["NVDX"], "2024-01-02", "2024-01-31")
    assert report.imported == ()
    (skip,) = report.skipped
    assert skip.name == "NVDX"
    assert "Yahoo returned no data" in skip.reason
    assert "possibly delisted; no price data found" in skip.reason
    assert "ANALYSIS_PRICES_DIR" in skip.reason and "prices import" in skip.reason
    assert prices.cache_manifest().empty


def test_fetch_all_nan_symbol_and_missing_symbol(online):
    dates = pd.bdate_range("2024-01-02", "2024-01-12")
    frame = yf_assemble({"SPY": yf_ticker_frame(dates, base=470.0), "BAD": yf_empty()})
    online((frame, {"BAD": "YFTzMissingError('$BAD: possibly delisted; no timezone found')"}))
    report = prices.fetch_yahoo(["SPY", "BAD", "GONE"], "2024-01-02", "2024-01-12")
    assert report.symbols == ["SPY"]
    reasons = {s.name: s.reason for s in report.skipped}
    assert "Yahoo returned no rows (all prices NaN or none at all)" in reasons["BAD"]
    assert "no timezone found" in reasons["BAD"]
    assert "symbol missing from Yahoo's answer" in reasons["GONE"]
    assert "no cause recorded" in reasons["GONE"]


def test_fetch_partial_range_is_refused_and_keeps_cache(online, folder):
    write_csv(folder / "SPY.csv", make_rows(start="2024-01-02", n=20, base=470.0))
    prices.import_csv_file(folder / "SPY.csv")
    before = prices.load_history("SPY")
    dates = pd.bdate_range("2024-01-02", "2024-01-10")  # asked up to 01-31
    online(
        (yf_assemble({"SPY": yf_ticker_frame(dates, base=5.0)}), {}),
        (yf_assemble({"SPY": yf_ticker_frame(dates, base=5.0)}), {}),
    )
    report = prices.fetch_yahoo("SPY", "2024-01-02", "2024-01-31")
    (skip,) = report.skipped
    assert skip.name == "SPY"
    assert (
        "Yahoo returned a partial series (ends 2024-01-10, before the requested end 2024-01-31)"
        in skip.reason
    )
    assert "cache unchanged" in skip.reason
    pd.testing.assert_frame_equal(prices.load_history("SPY"), before)
    report = prices.fetch_yahoo("SPY", "2024-01-02", "2024-01-31", allow_partial=True)
    assert report.ok and "partial: ends 2024-01-10" in report.imported[0].notes[0]


def test_fetch_gap_inside_range_is_partial(online):
    dates = pd.bdate_range("2024-01-02", "2024-01-05").append(
        pd.bdate_range("2024-01-22", "2024-01-31")
    )
    online((yf_assemble({"SPY": yf_ticker_frame(dates)}), {}))
    report = prices.fetch_yahoo("SPY", "2024-01-02", "2024-01-31")
    assert "no rows from 2024-01-05 to 2024-01-22" in report.skipped[0].reason


def test_fetch_invalid_rows_are_reported(online):
    dates = pd.bdate_range("2024-01-02", "2024-01-12")
    df = yf_ticker_frame(dates)
    df.loc[pd.Timestamp("2024-01-04"), "Close"] = -1.0
    online((yf_assemble({"SPY": df}), {}))
    report = prices.fetch_yahoo("SPY", "2024-01-02", "2024-01-12")
    (skip,) = report.skipped
    assert "Yahoo's rows failed validation" in skip.reason
    assert skip.problems == ("2024-01-04: close is not positive (-1.0)",)


def test_fetch_applies_the_csv_plausibility_checks(online):
    """Yahoo's rows go through the same checks as a CSV: spikes, non-finite values, sessions."""
    dates = pd.bdate_range("2024-01-02", "2024-01-12")
    df = yf_ticker_frame(dates)
    df.loc[pd.Timestamp("2024-01-05"), ["Open", "High", "Low", "Close", "Adj Close"]] = [
        300.0,
        310.0,
        290.0,
        300.0,
        297.0,
    ]
    df["Volume"] = df["Volume"].astype("float64")
    df.loc[pd.Timestamp("2024-01-10"), "Volume"] = np.inf
    holiday = yf_ticker_frame(pd.DatetimeIndex(["2024-01-15"]), base=110.0)  # MLK Day
    df = pd.concat([df, holiday])
    online((yf_assemble({"SPY": df}), {}))
    report = prices.fetch_yahoo("SPY", "2024-01-02", "2024-01-15")
    (skip,) = report.skipped
    assert "Yahoo's rows failed validation" in skip.reason
    assert skip.problems == (
        "2024-01-05: adj_close 297.0 is a one-day spike (+194.1% from 100.98 on 2024-01-04, "
        "then -65.3% to 102.96 on 2024-01-08); check the row against another source and "
        "correct it",
        "2024-01-10: volume is not a finite number (inf)",
        "2024-01-15: 2024-01-15 (Monday) is not an NYSE session (holiday: Dr. Martin Luther King "
        "Jr. Day); SPY trades on NYSE sessions only: remove the row or correct its date",
    )
    assert prices.cache_manifest().empty


def test_fetch_notes_an_open_glitch_and_warns(online):
    dates = pd.bdate_range("2024-01-02", "2024-01-12")
    df = yf_ticker_frame(dates)
    df.loc[pd.Timestamp("2024-01-05"), "Open"] = 104.0 * 1.004  # high 104.0
    online((yf_assemble({"SPY": df}), {}))
    with pytest.warns(
        prices.PriceDataWarning, match=r"SPY: imported with 1 note\(s\): 2024-01-05: open"
    ):
        report = prices.fetch_yahoo("SPY", "2024-01-02", "2024-01-12")
    assert report.ok
    assert report.imported[0].notes == (
        "plausibility: 2024-01-05: open 104.416 is above the day's high 104.0 (by 0.40%; low "
        "102.0, high 104.0); imported (no return uses the open)",
    )


def test_rate_limit_retried_with_backoff(online):
    from yfinance.exceptions import YFRateLimitError

    dates = pd.bdate_range("2024-01-02", "2024-01-12")
    limited = (
        yf_assemble({"NVDA": yf_empty()}),
        {"NVDA": "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"},
    )
    fake = online(YFRateLimitError(), limited, (yf_assemble({"NVDA": yf_ticker_frame(dates)}), {}))
    slept = []
    report = prices.fetch_yahoo("NVDA", "2024-01-02", "2024-01-12", sleep=slept.append, backoff=2.0)
    assert report.ok and report.symbols == ["NVDA"]
    assert slept == [2.0, 4.0]
    assert len(fake.calls) == 3


def test_rate_limit_gives_up(online):
    limited = (yf_assemble({"NVDA": yf_empty()}), {"NVDA": "HTTPError('429 Too Many Requests')"})
    online(limited, limited, limited)
    slept = []
    report = prices.fetch_yahoo(
        "NVDA", "2024-01-02", "2024-01-12", sleep=slept.append, max_retries=2, backoff=1.0
    )
    (skip,) = report.skipped
    assert skip.reason.startswith("rate limited by Yahoo (Too Many Requests) after 3 attempt(s)")
    assert "ANALYSIS_PRICES_DIR" in skip.reason
    assert slept == [1.0, 2.0]


def test_fetch_refused_offline(monkeypatch):
    import yfinance

    def must_not_run(*a, **k):
        raise AssertionError("network call while offline")

    monkeypatch.setattr(yfinance, "download", must_not_run)
    with pytest.raises(PriceSourceError) as info:
        prices.fetch_yahoo(["NVDA", "^GSPC"], "2024-01-02", "2024-01-12")
    msg = str(info.value)
    assert "not downloading NVDA, ^GSPC from Yahoo: ANALYSIS_OFFLINE is set" in msg
    assert "NVDA.csv, INDEX_GSPC.csv" in msg and "ANALYSIS_PRICES_DIR" in msg


def test_load_history_fetches_on_demand_when_online(online):
    dates = pd.bdate_range("2024-01-02", "2024-01-12")
    online((yf_assemble({"AMD": yf_ticker_frame(dates)}), {}))
    df = prices.load_history("AMD", "2024-01-02", "2024-01-12")
    assert len(df) == 9
    assert prices.cache_manifest()["source"].tolist() == ["yahoo"]


def test_load_history_on_demand_failure_names_symbol(online):
    online((yf_assemble({"AMD": yf_empty()}), {"AMD": "DNSError('Could not resolve host')"}))
    with pytest.raises(
        PriceSourceError,
        match=r"^AMD: Yahoo returned no data \(yfinance: DNSError\('Could not resolve host'\)\)",
    ):
        prices.load_history("AMD", "2024-01-02", "2024-01-12")


def test_errors_are_analysis_errors():
    for cls in (DataError, PriceSourceError, ValidationError):
        assert issubclass(cls, AnalysisError)


def test_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, analysis.data.prices; "
        "print('yfinance' in sys.modules, 'exchange_calendars' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_changed_source_csv_is_reimported(folder, monkeypatch):
    """A cached series whose CSV was edited since its import is re-imported, never served stale."""
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(folder))
    assert prices.load_history("AAA")["close"].iloc[0] == 100.0
    write_csv(folder / "AAA.csv", make_rows(base=200.0))
    assert prices.load_history("AAA")["close"].iloc[0] == 200.0
    assert (
        prices.series_info(["AAA"])["sha256"].iloc[0]
        == prices.cache_manifest().set_index("symbol").loc["AAA", "sha256"]
    )
    # a broken new version is reported (file and line), not silently replaced by the old data
    rows = make_rows(base=200.0)
    rows[3][4] = -1
    write_csv(folder / "AAA.csv", rows)
    with pytest.raises(ValidationError, match=r"AAA.csv line 5: close is not positive"):
        prices.load_history("AAA")
