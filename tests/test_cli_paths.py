"""Paths a user types are taken from the directory the command is typed in, once, at start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import config
from analysis.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- resolve_environment


@pytest.fixture(autouse=True)
def _no_path_variables(monkeypatch):
    """Each test sets the path variables it means: a relative folder the caller's shell set
    (e.g. ANALYSIS_HARDWARE_DIR=../shared/...) would not exist from the tests' folders."""
    for variable in config.PATH_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def _csv_folder(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "NVDA.csv").write_text("date,open,high,low,close,adj_close,volume\n", encoding="utf-8")
    return root


def test_relative_paths_become_absolute_against_the_cwd(tmp_path, monkeypatch):
    prices = _csv_folder(tmp_path / "shared" / "prices")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", "../shared/prices")
    monkeypatch.setenv("ANALYSIS_REPORTS_DIR", "site")
    resolved = config.resolve_environment()
    assert resolved["ANALYSIS_PRICES_DIR"] == str(prices)
    assert os.environ["ANALYSIS_PRICES_DIR"] == str(prices)
    assert os.environ["ANALYSIS_REPORTS_DIR"] == str(tmp_path / "work" / "site")
    monkeypatch.chdir(tmp_path)  # a kernel elsewhere sees the same folder
    assert config.prices_dir() == prices


def test_resolve_environment_against_an_explicit_directory(tmp_path, monkeypatch):
    prices = _csv_folder(tmp_path / "p")
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", "p")
    assert config.resolve_environment(tmp_path)["ANALYSIS_PRICES_DIR"] == str(prices)


def test_missing_price_folder_names_variable_typed_and_resolved_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", "../nowhere/prices")
    with pytest.raises(ConfigError) as info:
        config.resolve_environment()
    msg = str(info.value)
    assert "ANALYSIS_PRICES_DIR=../nowhere/prices" in msg
    assert f"{tmp_path.parent / 'nowhere' / 'prices'} does not exist" in msg
    assert f"the directory the command runs in, {tmp_path}" in msg
    assert "set ANALYSIS_PRICES_DIR to an existing folder" in msg
    with pytest.raises(ConfigError, match="does not exist"):  # never a silent fall-back
        config.prices_dir()


def test_price_folder_that_is_a_file_or_holds_no_csv(tmp_path, monkeypatch):
    (tmp_path / "f.csv").write_text("x", encoding="utf-8")
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(tmp_path / "f.csv"))
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        config.resolve_environment()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.txt").write_text("x", encoding="utf-8")
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match=r"holds no \.csv file"):
        config.resolve_environment()


def test_missing_hardware_folder_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYSIS_HARDWARE_DIR", str(tmp_path / "hw"))
    with pytest.raises(ConfigError, match="ANALYSIS_HARDWARE_DIR=.* names the folder of US retail"):
        config.resolve_environment()
    with pytest.raises(ConfigError):
        config.hardware_series_dir()


def test_unset_or_empty_variables_are_left_alone(monkeypatch):
    monkeypatch.delenv("ANALYSIS_PRICES_DIR", raising=False)
    monkeypatch.setenv("ANALYSIS_HARDWARE_DIR", "")
    resolved = config.resolve_environment()
    assert "ANALYSIS_PRICES_DIR" not in resolved and "ANALYSIS_HARDWARE_DIR" not in resolved
    assert config.prices_dir() is None and config.hardware_series_dir() is None


@pytest.mark.parametrize("value", ["1", "true", "YES", "y", "on"])
def test_offline_true_values(value, monkeypatch):
    monkeypatch.setenv("ANALYSIS_OFFLINE", value)
    assert config.offline() is True


@pytest.mark.parametrize("value", ["", "0", "false", "No", "n", "off"])
def test_offline_false_values(value, monkeypatch):
    monkeypatch.setenv("ANALYSIS_OFFLINE", value)
    assert config.offline() is False


def test_offline_unrecognized_value_is_an_error(monkeypatch):
    monkeypatch.setenv("ANALYSIS_OFFLINE", "perhaps")
    with pytest.raises(ConfigError, match="ANALYSIS_OFFLINE='perhaps' is neither true"):
        config.offline()


# --------------------------------------------------------------------------- the command line


def _cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANALYSIS_")}
    base.update(ANALYSIS_OFFLINE="1", MPLBACKEND="Agg", **env)
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args],
        cwd=cwd,
        env=base,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_cli_missing_price_folder_fails_before_any_kernel(tmp_path):
    out = tmp_path / "site"
    run = _cli(
        ["report", "--only", "nvda_e08", "--out", str(out)],
        REPO,
        ANALYSIS_PRICES_DIR="../no-such-folder/prices",
        ANALYSIS_CACHE_DIR=str(tmp_path / "cache"),
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ANALYSIS_PRICES_DIR=../no-such-folder")
    assert str(REPO.parent / "no-such-folder" / "prices") in lines[0]
    assert "Traceback" not in run.stderr
    assert not out.exists()  # nothing was built, no kernel was started


def test_cli_study_with_a_relative_price_folder_from_another_directory(tmp_path, shared_prices_dir):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    rel = os.path.relpath(shared_prices_dir, elsewhere)
    run = _cli(
        ["study", "NVDA", "--event", "E08", "--market", "SPY", "--json"],
        elsewhere,
        ANALYSIS_PRICES_DIR=rel,
        ANALYSIS_CACHE_DIR=str(tmp_path / "cache"),
    )
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["day0"] == "2023-10-17"
    assert doc["firms"]["NVDA"]["car"] == pytest.approx(-0.06266, abs=5e-5)


@pytest.mark.notebooks
@pytest.mark.parametrize("where", ["root", "elsewhere"])
def test_report_with_a_relative_price_folder(where, tmp_path, shared_prices_dir):
    """One report, offline, with ANALYSIS_PRICES_DIR relative to where the command is typed."""
    cwd = REPO if where == "root" else tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)
    rel = os.path.relpath(shared_prices_dir, cwd)
    assert not Path(rel).is_absolute()
    out = tmp_path / "site"
    run = _cli(
        ["report", "--only", "nvda_e08", "--out", os.path.relpath(out, cwd)],
        cwd,
        ANALYSIS_PRICES_DIR=rel,
        ANALYSIS_CACHE_DIR=str(tmp_path / "cache"),  # empty: every series from the CSV folder
    )
    assert run.returncode == 0, run.stderr[-3000:]
    doc = json.loads((out / "nvda_e08" / "results.json").read_text(encoding="utf-8"))
    assert doc["status"] == "ok", doc["error"]
    assert doc["results"]["car"] == pytest.approx(
        -0.06893, abs=5e-5
    )  # SPY-ex-firm, clean estimation
    manifest = json.loads((tmp_path / "cache" / "manifest.json").read_text(encoding="utf-8"))
    assert "NVDA" in json.dumps(manifest) and str(shared_prices_dir) in json.dumps(manifest)
