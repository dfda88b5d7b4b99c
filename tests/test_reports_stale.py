"""A report is rebuilt when the prices it read have changed, never served stale."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.notebooks, pytest.mark.realdata]

REPO = Path(__file__).resolve().parents[1]
#: The last session of NVDA's E08 event window [-1, +3] (day 0 2023-10-17): scaling its prices
#: moves that day's return, and the next day's is outside the window.
EDITED_DAY = "2023-10-20"


def _copy_prices(src: Path, dest: Path, factor: float) -> Path:
    """The price folder with NVDA's closes on EDITED_DAY multiplied by ``factor``."""
    shutil.copytree(src, dest)
    path = dest / "NVDA.csv"
    frame = pd.read_csv(path, dtype=str)
    row = frame.index[frame["date"] == EDITED_DAY][0]
    for column in ("open", "high", "low", "close", "adj_close"):
        frame.loc[row, column] = repr(float(frame.loc[row, column]) * factor)
    frame.to_csv(path, index=False, lineterminator="\n")
    return dest


def _build(prices: Path, out: Path, cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYSIS_")}
    env.update(
        ANALYSIS_PRICES_DIR=str(prices),
        ANALYSIS_CACHE_DIR=str(cache),
        ANALYSIS_OFFLINE="1",
        MPLBACKEND="Agg",
    )
    run = subprocess.run(
        [sys.executable, "-m", "analysis", "report", "--only", "nvda_e08", "--out", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    doc = json.loads((out / "nvda_e08" / "results.json").read_text(encoding="utf-8"))
    assert doc["status"] == "ok", doc["error"]
    return {"car": doc["results"]["car"], "log": run.stdout + run.stderr}


def _car(prices: Path, cache: Path, monkeypatch) -> float:
    """The CAR that `study` computes from ``prices`` now (fresh cache: no report involved)."""
    import analysis as an

    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(prices))
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(cache))
    res = an.event_study(["NVDA"], event="E08", market="SPY-ex-firm", exclude="events,earnings")
    return float(res.car().estimate.loc["NVDA"])


def test_edited_price_file_and_another_price_folder_rebuild_the_report(
    tmp_path, shared_prices_dir, monkeypatch
):
    folder = _copy_prices(shared_prices_dir, tmp_path / "prices", 1.0)
    out, cache = tmp_path / "site", tmp_path / "cache"
    first = _build(folder, out, cache)
    assert first["car"] == pytest.approx(-0.06893, abs=5e-5)  # SPY-ex-firm, clean estimation
    assert "1 skipped-unchanged" in _build(folder, out, cache)["log"]  # nothing changed yet

    # edit one day's prices in the folder: the next build must run again, with the new file
    frame = pd.read_csv(folder / "NVDA.csv", dtype=str)
    row = frame.index[frame["date"] == EDITED_DAY][0]
    for column in ("open", "high", "low", "close", "adj_close"):
        frame.loc[row, column] = repr(float(frame.loc[row, column]) * 1.02)
    frame.to_csv(folder / "NVDA.csv", index=False, lineterminator="\n")
    second = _build(folder, out, cache)
    expected = _car(folder, tmp_path / "fresh1", monkeypatch)
    assert expected - first["car"] == pytest.approx(0.02, abs=0.002)  # the edit moved the CAR
    assert second["car"] == pytest.approx(expected, abs=1e-12)
    assert "1 ok" in second["log"] and "skipped" not in second["log"]

    # point ANALYSIS_PRICES_DIR at another folder whose NVDA.csv differs: same cache, new data
    other = _copy_prices(shared_prices_dir, tmp_path / "other", 0.97)
    third = _build(other, out, cache)
    expected = _car(other, tmp_path / "fresh2", monkeypatch)
    assert expected - first["car"] == pytest.approx(-0.03, abs=0.003)
    assert third["car"] == pytest.approx(expected, abs=1e-12)
