"""The price cache under faults: a source folder that changes, a cache that cannot be written, a
malformed manifest, and importers killed mid-write (synthetic CSVs in tmp_path)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import random
import signal
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from analysis import _io, cli, config
from analysis.data import prices
from analysis.errors import PriceSourceError
from analysis.reports import fingerprint

HEADER = "date,open,high,low,close,adj_close,volume"
SYMBOLS = ("AAA", "BBB", "CCC", "DDD")


@pytest.fixture(autouse=True)
def _no_prices_dir(monkeypatch):
    """Synthetic tier: no shared folder, whatever the caller's environment holds."""
    monkeypatch.delenv("ANALYSIS_PRICES_DIR", raising=False)


def write_csv(path: Path, base: float, n: int = 10) -> Path:
    """n clean rows on the sessions from 2024-01-02 (01-15 skipped); close = base + i."""
    dates = pd.bdate_range("2024-01-02", periods=n + 1).drop(pd.Timestamp("2024-01-15"))[:n]
    lines = [HEADER] + [
        f"{d:%Y-%m-%d},{base + i - 0.5},{base + i + 1},{base + i - 1},{base + i},"
        f"{(base + i) * 0.99},{1000 + i}"
        for i, d in enumerate(dates)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def make_folder(path: Path, base: float, symbols=SYMBOLS) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for k, sym in enumerate(symbols):
        write_csv(path / f"{sym}.csv", base + k)
    return path


def manifest_path() -> Path:
    return config.cache_dir() / "manifest.json"


def edit_manifest(change) -> None:
    data = json.loads(manifest_path().read_text())
    change(data)
    manifest_path().write_text(json.dumps(data))


# ---------------------------------------------------------------- the source folder changes


def test_pointing_at_another_folder_reimports_its_file(tmp_path, monkeypatch):
    a = make_folder(tmp_path / "a", 100.0, ["AAA"])
    b = make_folder(tmp_path / "b", 200.0, ["AAA"])
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(a))
    assert prices.load_history("AAA")["close"].iat[0] == 100.0
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(b))
    assert prices._changed_csv_source("AAA") == (b / "AAA.csv").resolve()
    digest_before = fingerprint.prices_digest()
    assert prices.load_history("AAA")["close"].iat[0] == 200.0
    assert prices.cache_manifest()["source"].tolist() == [f"csv:{(b / 'AAA.csv').resolve()}"]
    assert prices._changed_csv_source("AAA") is None
    assert fingerprint.prices_digest() != digest_before


def test_another_folder_with_the_same_bytes_or_without_the_file_keeps_the_cache(
    tmp_path, monkeypatch
):
    a = make_folder(tmp_path / "a", 100.0, ["AAA", "BBB"])
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(a))
    prices.load_history("AAA")
    prices.load_history("BBB")
    before = prices.cache_manifest()
    same = make_folder(tmp_path / "same", 100.0, ["AAA"])  # same bytes, no BBB
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(same))
    assert prices._changed_csv_source("AAA") is None
    assert prices._changed_csv_source("BBB") is None
    assert prices.load_history("BBB")["close"].iat[0] == 101.0
    pd.testing.assert_frame_equal(prices.cache_manifest(), before)


def test_a_lower_case_file_in_the_new_folder_is_found(tmp_path, monkeypatch):
    a = make_folder(tmp_path / "a", 100.0, ["AAA"])
    b = tmp_path / "b"
    b.mkdir()
    write_csv(b / "aaa.csv", 300.0)
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(a))
    prices.load_history("AAA")
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(b))
    assert prices._changed_csv_source("AAA") == (b / "aaa.csv").resolve()
    assert prices.load_history("AAA")["close"].iat[0] == 300.0


def test_an_explicitly_fetched_series_is_not_replaced_by_the_folder(tmp_path, monkeypatch):
    a = make_folder(tmp_path / "a", 100.0, ["AAA"])
    prices.import_csv_file(a / "AAA.csv")
    edit_manifest(lambda m: m["series"]["AAA"].update(source="yahoo", source_sha256=None))
    b = make_folder(tmp_path / "b", 200.0, ["AAA"])
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(b))
    assert prices._changed_csv_source("AAA") is None
    assert prices.load_history("AAA")["close"].iat[0] == 100.0


# ---------------------------------------------------------------- a cache that cannot be written


def test_read_only_cache_is_one_named_error(tmp_path, monkeypatch):
    folder = make_folder(tmp_path / "prices", 100.0)
    root = config.cache_dir()

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_io.tempfile, "mkstemp", denied)
    with pytest.raises(PriceSourceError) as info:
        prices.import_csv_file(folder / "AAA.csv")
    msg = str(info.value)
    assert f"in the price cache folder {root} (Permission denied)" in msg
    assert "set ANALYSIS_CACHE_DIR to a writable folder" in msg
    # a folder import stops at the first file instead of skipping every file the same way
    with pytest.raises(PriceSourceError, match=r"cannot write AAA\.[0-9a-f]{16}\.parquet in"):
        prices.import_csv_folder(folder)


def test_read_only_cache_from_the_command_line(tmp_path, monkeypatch, capsys):
    folder = make_folder(tmp_path / "prices", 100.0)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_io.tempfile, "mkstemp", denied)
    monkeypatch.setattr(cli, "_COMMAND_MODULES", ("prices",))
    assert cli.main(["prices", "import", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write AAA.") and "ANALYSIS_CACHE_DIR" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cache_folder_that_cannot_be_created(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(blocker / "cache"))
    folder = make_folder(tmp_path / "prices", 100.0, ["AAA"])
    with pytest.raises(PriceSourceError) as info:
        prices.import_csv_file(folder / "AAA.csv")
    msg = str(info.value)
    assert f"cannot create the folder cache in the price cache folder {blocker}" in msg
    assert "ANALYSIS_CACHE_DIR" in msg
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(blocker))
    with pytest.raises(PriceSourceError, match=r"a-file is a file, not a folder"):
        prices.import_csv_file(folder / "AAA.csv")


# ---------------------------------------------------------------- a malformed manifest

MALFORMED = [
    (lambda m: m["series"].__setitem__("AAA", "x"), "the entry of AAA is 'x', not a table"),
    (
        lambda m: m["series"]["AAA"].update(rows="many"),
        "AAA field 'rows' is 'many' (expected a positive whole number)",
    ),
    (lambda m: m["series"]["AAA"].update(rows=True), "AAA field 'rows' is True"),
    (lambda m: m["series"]["AAA"].pop("sha256"), "AAA has no field 'sha256'"),
    (
        lambda m: m["series"]["AAA"].update(sha256="abc"),
        "AAA field 'sha256' is 'abc' (expected 64 hex digits)",
    ),
    (lambda m: m["series"]["AAA"].update(first="2024-13-01"), "AAA field 'first' is '2024-13-01'"),
    (
        lambda m: m["series"]["AAA"].update(splits=[{"date": "2024-01-08", "ratio": "ten"}]),
        "AAA field 'splits' is [{'date': '2024-01-08', 'ratio': 'ten'}] (item 0 (2024-01-08): "
        "ratio 'ten' is not a positive number)",
    ),
    (
        lambda m: m["series"]["AAA"].update(splits=[{"date": "2024-01-08", "ratio": -2}]),
        "ratio -2 is not a positive number",
    ),
    (lambda m: m["series"]["AAA"].update(splits="4:1"), "AAA field 'splits' is '4:1'"),
    (
        lambda m: m["series"]["AAA"].update(file="../../etc/passwd"),
        "AAA field 'file' is '../../etc/passwd', which is not a file name inside the cache folder",
    ),
    (
        lambda m: m["series"]["AAA"].update(file="/etc/passwd"),
        "AAA field 'file' is '/etc/passwd', which is not",
    ),
]


@pytest.mark.parametrize("change,expected", MALFORMED)
def test_malformed_manifest_entry_is_a_named_error(tmp_path, change, expected):
    folder = make_folder(tmp_path / "prices", 100.0, ["AAA", "BBB"])
    prices.import_csv_folder(folder)
    edit_manifest(change)
    for call in (
        lambda: prices.load_history("AAA"),
        prices.cache_manifest,
        lambda: prices.series_info(["AAA"]),
        lambda: prices.split_factor("AAA", "2024-01-03"),
    ):
        with pytest.raises(PriceSourceError) as info:
            call()
        msg = str(info.value)
        assert msg.startswith(f"price cache manifest {manifest_path()}: "), msg
        assert expected in msg
        assert "re-import AAA (`python -m analysis prices import DIR`" in msg
    assert prices.load_history("BBB")["close"].iat[0] == 101.0  # other entries still work
    assert isinstance(fingerprint.prices_digest(), str)  # a report build does not crash on it
    prices.import_csv_folder(folder, ["AAA"])  # the advertised fix works
    assert prices.load_history("AAA")["close"].iat[0] == 100.0
    assert list(prices.cache_manifest()["symbol"]) == ["AAA", "BBB"]


def test_manifest_key_that_is_not_a_symbol(tmp_path):
    prices.import_csv_folder(make_folder(tmp_path / "prices", 100.0, ["AAA"]))
    edit_manifest(lambda m: m["series"].__setitem__("../x", m["series"]["AAA"]))
    with pytest.raises(PriceSourceError, match=r"'\.\./x' is not a symbol .*delete the cache"):
        prices.cache_manifest()


def _rewrite_parquet(symbol: str, frame: pd.DataFrame) -> Path:
    """Replace the cached parquet of ``symbol`` and record its checksum, as a bad writer would."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    entry = json.loads(manifest_path().read_text())["series"][symbol]
    path = config.cache_dir() / entry["file"]
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    edit_manifest(lambda m: m["series"][symbol].update(sha256=sha))
    return path


def test_parquet_with_wrong_columns_and_a_matching_checksum(tmp_path):
    prices.import_csv_folder(make_folder(tmp_path / "prices", 100.0, ["AAA"]))
    frame = prices.load_history("AAA").reset_index().rename(columns={"adj_close": "adjclose"})
    path = _rewrite_parquet("AAA", frame)
    with pytest.raises(PriceSourceError) as info:
        prices.load_history("AAA")
    assert str(info.value).startswith(
        f"AAA: cached file {path} matches its checksum but has the wrong columns (missing: "
        "adj_close; unexpected: adjclose; expected date,open,high,low,close,adj_close,volume)"
    )
    assert "re-import AAA" in str(info.value)


def test_parquet_whose_rows_disagree_with_the_manifest(tmp_path):
    prices.import_csv_folder(make_folder(tmp_path / "prices", 100.0, ["AAA"]))
    frame = prices.load_history("AAA").reset_index().iloc[:7]
    path = _rewrite_parquet("AAA", frame)
    with pytest.raises(
        PriceSourceError,
        match=rf"AAA: cached file {path} holds 7 rows from 2024-01-02 to 2024-01-10, but its "
        r"manifest entry says 10 rows from 2024-01-02 to 2024-01-16",
    ):
        prices.load_history("AAA")


def test_a_cache_with_fixed_file_names_is_still_read_and_then_tidied(tmp_path):
    """Caches written before files were named after their content list ``AAA.parquet``."""
    folder = make_folder(tmp_path / "prices", 100.0, ["AAA"])
    prices.import_csv_folder(folder)
    root = config.cache_dir()
    entry = json.loads(manifest_path().read_text())["series"]["AAA"]
    (root / entry["file"]).rename(root / "AAA.parquet")
    edit_manifest(lambda m: m["series"]["AAA"].update(file="AAA.parquet"))
    assert prices.load_history("AAA")["close"].iat[0] == 100.0
    write_csv(folder / "AAA.csv", 200.0)
    prices.import_csv_folder(folder)
    assert not (root / "AAA.parquet").exists()
    assert prices.load_history("AAA")["close"].iat[0] == 200.0
    check_clean(root)


# ---------------------------------------------------------------- importers killed mid-write


class Killed(BaseException):
    """Stands for the process dying: nothing after it runs but ``finally`` blocks."""


@contextlib.contextmanager
def dies_at(monkeypatch, k: int | None, after: bool):
    """Count the file-system steps of a write; die just before (or after) the k-th one."""
    count = [0]
    steps = {
        (os, "replace"): os.replace,
        (os, "fsync"): os.fsync,
        (os, "unlink"): os.unlink,
        (tempfile, "mkstemp"): tempfile.mkstemp,
    }

    def wrap(fn):
        def step(*args, **kwargs):
            count[0] += 1
            if count[0] == k and not after:
                raise Killed
            out = fn(*args, **kwargs)
            if count[0] == k and after:
                raise Killed
            return out

        return step

    with monkeypatch.context() as mp:
        for (module, name), fn in steps.items():
            mp.setattr(module, name, wrap(fn))
        yield count


def check_cache(allowed: dict[str, set[float]]) -> dict[str, float]:
    """Every manifest entry verifies (sha256 of its file) and holds one whole written version."""
    root = config.cache_dir()
    if not manifest_path().exists():
        return {}
    series = json.loads(manifest_path().read_text())["series"]
    found = {}
    for sym, entry in series.items():
        data = (root / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], sym
        df = prices.load_history(sym)
        assert len(df) == 10
        found[sym] = float(df["close"].iat[0])
        assert found[sym] in allowed[sym], (sym, found[sym])
    return found


def check_clean(root: Path) -> None:
    """No temp file, and exactly the parquet files the manifest lists."""
    series = json.loads((root / "manifest.json").read_text())["series"]
    names = {p.name for p in root.iterdir()}
    assert not [n for n in names if n.endswith(".tmp")]
    assert {n for n in names if n.endswith(".parquet")} == {e["file"] for e in series.values()}


def test_import_killed_at_twenty_random_points(tmp_path, monkeypatch):
    old = make_folder(tmp_path / "old", 100.0, SYMBOLS[:3])
    new = make_folder(tmp_path / "new", 100.0, SYMBOLS[:1])  # AAA unchanged
    for k, sym in enumerate(SYMBOLS[1:], start=1):  # BBB, CCC replaced; DDD new
        write_csv(new / f"{sym}.csv", 500.0 + k)
    allowed = {"AAA": {100.0}, "BBB": {101.0, 501.0}, "CCC": {102.0, 502.0}, "DDD": {503.0}}

    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(tmp_path / "dry"))
    prices.import_csv_folder(old)
    with dies_at(monkeypatch, None, False) as count:
        prices.import_csv_folder(new)
    steps = count[0]
    assert steps >= 4 * 6  # per series: mkstemp, fsync, replace for the parquet and the manifest

    rng = random.Random(20240610)
    trials = [(rng.randint(1, steps), rng.random() < 0.5) for _ in range(20)]
    outcomes = set()
    for j, (k, after) in enumerate(trials):
        monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(tmp_path / f"cache{j}"))
        prices.import_csv_folder(old)
        with dies_at(monkeypatch, k, after), pytest.raises(Killed):
            prices.import_csv_folder(new)
        found = check_cache(allowed)  # each series: the old one, the new one, or absent
        outcomes.add(tuple(sorted(found.items())))
        report = prices.import_csv_folder(new)  # and a re-import restores everything
        assert report.ok
        assert check_cache(allowed) == {"AAA": 100.0, "BBB": 501.0, "CCC": 502.0, "DDD": 503.0}
        check_clean(config.cache_dir())
    assert len(outcomes) >= 3  # the kills landed at different stages


def _import_forever(folder: str) -> None:
    prices.import_csv_folder(folder)


def test_importer_processes_killed_at_random_times(tmp_path):
    folder = tmp_path / "prices"
    ctx = multiprocessing.get_context("fork")
    prices.import_csv_folder(make_folder(folder, 100.0))  # warm up imports and the calendar
    start = time.perf_counter()
    proc = ctx.Process(target=_import_forever, args=(str(folder),))
    proc.start()
    proc.join()
    duration = time.perf_counter() - start
    rng = random.Random(7)
    written: dict[str, set[float]] = {s: {100.0 + k} for k, s in enumerate(SYMBOLS)}
    for trial in range(1, 21):
        base = 100.0 + 10 * trial
        make_folder(folder, base)
        for k, s in enumerate(SYMBOLS):
            written[s].add(base + k)
        proc = ctx.Process(target=_import_forever, args=(str(folder),))
        proc.start()
        time.sleep(rng.uniform(0.0, duration))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        check_cache(written)
    report = prices.import_csv_folder(folder)
    assert report.ok
    assert check_cache(written) == {s: 300.0 + k for k, s in enumerate(SYMBOLS)}
    check_clean(config.cache_dir())
