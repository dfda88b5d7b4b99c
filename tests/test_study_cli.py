"""``python -m analysis study``: text and JSON output, window options, clear errors."""

from __future__ import annotations

import json

import pytest

from analysis.cli import main


@pytest.mark.realdata
def test_study_json(real_prices, capsys):
    code = main(
        [
            "study",
            "NVDA",
            "AMD",
            "--event",
            "2023-10-17T17:27",
            "--market",
            "SPY",
            "--estimation",
            "-250:-11",
            "--window",
            "-1:3",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    doc = json.loads(out)
    assert doc["day0"] == "2023-10-18"
    assert "17:27" in doc["day0_reason"]
    assert doc["estimation"]["days"] == [-250, -11] and doc["window"]["days"] == [-1, 3]
    assert doc["window"]["start"] == "2023-10-17" and doc["window"]["end"] == "2023-10-23"
    assert set(doc["firms"]) == {"NVDA", "AMD"}
    assert doc["firms"]["NVDA"]["n_estimation"] == 240
    assert "kp_bmp" in doc["cross_section"]["tests"]


@pytest.mark.realdata
def test_study_text(real_prices, capsys):
    assert (
        main(
            ["study", "NVDA", "--event", "E08", "--model", "factor_model", "--factors", "SPY,SOXX"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "factor_model (SPY + SOXX)" in out and "Day 0:" in out and "beta_SOXX" in out


def test_study_errors(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("ANALYSIS_PRICES_DIR", raising=False)
    assert main(["study", "NVDA", "--event", "E99"]) == 2
    assert "unknown event id 'E99'" in capsys.readouterr().err
    assert main(["study", "NVDA", "--event", "2023-10-17", "--estimation", "-250:-1"]) == 2
    assert "overlaps the event window" in capsys.readouterr().err
    assert main(["study", "NVDA", "--event", "2023-10-17", "--window", "3:-1"]) == 2
    assert "window" in capsys.readouterr().err
    assert main(["study", "NVDA", "--event", "2023-10-17"]) == 2
    err = capsys.readouterr().err
    assert "no prices for NVDA" in err and "ANALYSIS_PRICES_DIR" in err


def test_market_with_a_model_that_has_none_is_an_error(capsys):
    assert (
        main(
            [
                "study",
                "NVDA",
                "--event",
                "2023-10-17",
                "--model",
                "constant_mean",
                "--market",
                "QQQ",
            ]
        )
        == 2
    )
    assert "--market QQQ is not used by constant_mean" in capsys.readouterr().err
