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


def _json(capsys, *argv: str) -> dict:
    code = main(["study", *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.mark.realdata
def test_study_json_carries_the_resampling_tests_at_the_top(real_prices, capsys):
    """``tests.permutation`` for one firm, ``tests.wild_bootstrap`` for several, each with stat and
    pvalue, equal to the results objects' own."""
    import analysis as an

    one = _json(capsys, "NVDA", "--event", "E08")
    res = an.event_study("NVDA", "E08")
    perm = res.firm_tests().to_frame().loc[("NVDA", "permutation")]
    assert one["tests"]["permutation"] == {"stat": perm["stat"], "pvalue": perm["pvalue"]}
    assert one["tests"] == one["firms"]["NVDA"]["tests"]
    two = _json(capsys, "NVDA", "AMD", "INTC", "--event", "E08")
    wb = (
        an.event_study(["NVDA", "AMD", "INTC"], "E08")
        .car()
        .tests()
        .to_frame()
        .loc["wild_bootstrap"]
    )
    assert two["tests"]["wild_bootstrap"]["stat"] == wb["stat"]
    assert two["tests"]["wild_bootstrap"]["pvalue"] == wb["pvalue"]
    assert 0 < wb["pvalue"] <= 1 and two["tests"] == two["cross_section"]["tests"]


@pytest.mark.realdata
def test_study_measures_and_models(real_prices, capsys):
    """--measure volume|volatility, --model garch_market_model and --model synthetic give the
    documents of their results objects."""
    import analysis as an

    vol = _json(capsys, "NVDA", "--event", "E08", "--measure", "volume")
    assert vol == json.loads(json.dumps(an.abnormal_volume("NVDA", "E08").to_dict()))
    volat = _json(capsys, "NVDA", "--event", "E08", "--measure", "volatility")
    assert volat == json.loads(json.dumps(an.abnormal_volatility("NVDA", "E08").to_dict()))
    syn = _json(capsys, "NVDA", "--event", "E08", "--model", "synthetic")
    weights = syn["firms"]["NVDA"]["weights"]
    assert min(weights.values()) >= 0 and sum(weights.values()) == pytest.approx(1, abs=1e-12)
    assert set(syn["tests"]["permutation"]) >= {"stat", "pvalue"}
    garch = _json(capsys, "NVDA", "--event", "E08", "--model", "garch_market_model")
    assert garch["model"] == "garch_market_model" and "tests" in garch


def test_study_refuses_options_a_measure_does_not_use(capsys):
    for argv, text in (
        (["--measure", "volume", "--factors", "SPY"], "--factors is not used by --measure volume"),
        (["--donors", "big_tech"], "--donors is used only by --model synthetic"),
        (["--volume-model", "market"], "--volume-model is used only by --measure volume"),
        (["--model", "synthetic", "--market", "SPY"], "one symbol and no --market"),
        (["--measure", "volume", "--market", "QQQ"], "is used by --volume-model market"),
        (["--measure", "volatility", "--convention", "estudy2"], "--convention is not used by"),
    ):
        assert main(["study", "NVDA", "--event", "E08", *argv]) == 2
        assert text in capsys.readouterr().err
