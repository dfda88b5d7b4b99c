"""Degenerate and malformed input to the engine: a named error, never a number or a traceback."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import analysis as an
from analysis.cli import main
from analysis.data import calendar
from analysis.errors import EstimationError, SpecificationError
from analysis.eventstudy.models import MIN_UNEXPLAINED_SHARE, fit_arrays, make_spec

EVENT = "2023-10-17"
MULTI = (
    "cross_sectional_t, bw_cda, bw_1980, patell, bmp, kp_bmp, kp_patell, lamb, "
    "skewness_corrected_t, sign, generalized_sign, corrado_rank, corrado_zivney_rank, "
    "corrado_zivney_sign, wilcoxon, grank, grank_z, wild_bootstrap"
)


def _prices(seed: int = 7) -> pd.DataFrame:
    """Adjusted closes of AAA, BBB (market-model firms), SPY and SOXX on the NYSE sessions."""
    rng = np.random.default_rng(seed)
    sessions = calendar.sessions("2022-06-01", "2024-03-28")
    n = len(sessions)
    m = rng.normal(0.0004, 0.01, n)
    cols = {"SPY": m, "SOXX": rng.normal(0.0006, 0.015, n)}
    for i, f in enumerate(("AAA", "BBB")):
        cols[f] = 0.0002 * i + (0.8 + 0.2 * i) * m + rng.normal(0, 0.02, n)
    return 100 * (1 + pd.DataFrame(cols, index=sessions)).cumprod()


@pytest.fixture(scope="module")
def px() -> pd.DataFrame:
    return _prices()


@pytest.fixture(scope="module")
def res(px):
    return an.event_study(["AAA", "BBB"], EVENT, prices=px)


# ---- 1. a firm that is its own regressor -----------------------------------------------------

OWN_SPY = (
    "firm SPY is also the market index of market_model (SPY): a firm that is its own benchmark "
    "has no abnormal return to test; drop SPY from the firms or choose another market index"
)


def test_firm_that_is_the_market_is_refused(px):
    with pytest.raises(SpecificationError) as exc:
        an.event_study(["AAA", "SPY"], EVENT, prices=px)
    assert str(exc.value) == OWN_SPY
    with pytest.raises(SpecificationError, match=re.escape(OWN_SPY)):
        an.event_study("spy", EVENT, market="Spy ", prices=px)  # after symbol normalization
    with pytest.raises(SpecificationError) as exc:
        an.event_study("SOXX", EVENT, model="market_adjusted", market="soxx", prices=px)
    assert str(exc.value) == (
        "firm SOXX is also the market index of market_adjusted (SOXX): a firm that is its own "
        "benchmark has no abnormal return to test; drop SOXX from the firms or choose another "
        "market index"
    )


def test_firm_that_is_a_factor_is_refused(px):
    with pytest.raises(SpecificationError) as exc:
        an.event_study(
            ["AAA", "SOXX"],
            EVENT,
            model="factor_model",
            market=None,
            factors=["SPY", "soxx"],
            prices=px,
        )
    assert str(exc.value) == (
        "firm SOXX is also a regressor of factor_model (SPY + SOXX): a firm that is its own "
        "benchmark has no abnormal return to test; drop SOXX from the firms or from the factors"
    )
    with pytest.raises(SpecificationError) as exc:
        an.event_study(
            ["SPY", "SOXX"],
            EVENT,
            model="factor_model",
            market=None,
            factors=["SPY", "SOXX"],
            prices=px,
        )
    assert str(exc.value).startswith(
        "firms SPY, SOXX are also regressors of factor_model (SPY + SOXX): "
    ) and str(exc.value).endswith("drop them from the firms or from the factors")


def test_firm_identical_to_its_market_under_another_name_is_refused(px):
    """Same returns, different symbol: 1 - R^2 is ~1e-30, below the stated threshold."""
    alias = px.assign(IDX=px["SPY"] * 3.0)
    with pytest.raises(EstimationError) as exc:
        an.event_study(["AAA", "IDX"], EVENT, prices=alias)
    msg = str(exc.value)
    assert re.fullmatch(
        r"market_model \(SPY\) explains the estimation-window returns of IDX "
        r"\(1 - R\^2 = \d\.\de-\d\d\) almost exactly \(1 - R\^2 below 1e-06\): the firm is in "
        r"effect its own regressor \(the market or a factor under another symbol\) and its "
        r"abnormal returns would be rounding noise; drop it from the firms or choose other "
        r"regressors",
        msg,
    ), msg
    with pytest.raises(EstimationError, match=r"^market_adjusted \(SPY\) explains .* of IDX "):
        an.event_study("IDX", EVENT, model="market_adjusted", prices=alias)
    with pytest.raises(EstimationError, match=r"^factor_model \(SPY \+ SOXX\) explains .* of IDX "):
        an.event_study(
            "IDX", EVENT, model="factor_model", market=None, factors=["SPY", "SOXX"], prices=alias
        )


def test_threshold_keeps_a_firm_that_tracks_its_market_closely(px):
    """A close tracker (1 - R^2 about 1e-4, like QQQ on ^NDX) is still estimated."""
    rng = np.random.default_rng(3)
    r = px["SPY"].pct_change().to_numpy()
    r = np.where(np.isfinite(r), r + rng.normal(0, 1e-4, len(r)), 0.0)
    tracker = px.assign(TRK=100 * np.cumprod(1 + r))
    res = an.event_study("TRK", EVENT, prices=tracker)
    assert 1 - res.fit_stats.loc["TRK", "r2"] == pytest.approx(1e-4, rel=0.3)
    assert MIN_UNEXPLAINED_SHARE == 1e-6


def test_fit_arrays_names_the_firm_and_the_regressors():
    rng = np.random.default_rng(0)
    m_est, m_evt = rng.normal(0, 0.01, 120), rng.normal(0, 0.01, 5)
    y_est = np.vstack([0.001 + 1.2 * m_est + rng.normal(0, 0.02, 120), 2 * m_est])
    y_evt = np.vstack([1.2 * m_evt, 2 * m_evt])
    X_est = np.stack([np.ones((2, 120)), np.broadcast_to(m_est, (2, 120))], axis=2)
    X_evt = np.stack([np.ones((2, 5)), np.broadcast_to(m_evt, (2, 5))], axis=2)
    with pytest.raises(EstimationError, match=r"^market_model \(QQQ\) explains .* of LEV \(1 - R"):
        fit_arrays(
            y_est,
            X_est,
            y_evt,
            X_evt,
            spec=make_spec("market_model", "QQQ"),
            firm_names=["OK", "LEV"],
        )


def test_robustness_grid_reports_own_benchmark_as_failing_row(px):
    grid = an.robustness_grid(
        ["AAA", "SPY"],
        EVENT,
        prices=px,
        models=("market_model",),
        markets=("SPY", "SOXX"),
        windows=((-1, 3),),
        estimations=((-250, -11),),
    )
    assert list(zip(grid["benchmark"], grid["firm"], strict=True)) == [
        ("SPY", "AAA"),
        ("SPY", "SPY"),
        ("SOXX", "AAA"),
        ("SOXX", "SPY"),
    ]
    bad = grid[(grid.benchmark == "SPY") & (grid.firm == "SPY")].iloc[0]
    assert bad["error"] == OWN_SPY and np.isnan(bad["car"])
    ok = grid[(grid.benchmark == "SPY") & (grid.firm == "AAA")].iloc[0]
    direct = an.event_study("AAA", EVENT, window=(-1, 3), prices=px).car()
    assert ok["error"] == "" and ok["car"] == pytest.approx(direct.estimate["AAA"], abs=1e-14)
    assert (grid[grid.benchmark == "SOXX"]["error"] == "").all()
    text = an.robustness.summarize(grid, "AAA")
    assert text.startswith("AAA: across 2 specifications") and "could not be estimated" not in text
    assert an.robustness.summarize(grid, "SPY").endswith(
        " 1 specification(s) could not be estimated (listed below)."
    )


def test_robustness_grid_takes_a_string_as_one_model_or_market(px):
    grid = an.robustness_grid(
        "AAA",
        EVENT,
        prices=px,
        models="market_model",
        markets="SOXX",
        windows=((0, 0),),
        estimations=((-250, -11),),
    )
    assert list(grid["model"]) == ["market_model"] and list(grid["benchmark"]) == ["SOXX"]
    assert grid["error"].tolist() == [""]


# ---- 2. named errors instead of tracebacks ---------------------------------------------------


@pytest.mark.parametrize(("value", "shown"), [(None, "None"), (5, "5")])
def test_symbols_must_be_a_symbol_or_a_list(px, value, shown):
    with pytest.raises(SpecificationError) as exc:
        an.event_study(value, EVENT, prices=px)
    assert str(exc.value) == (
        "symbols must be a symbol such as 'NVDA' or a list of symbols such as ['NVDA', 'AMD'], "
        f"got {shown}"
    )


def test_factors_given_as_a_string_is_one_symbol(px):
    one = an.event_study("AAA", EVENT, model="factor_model", market=None, factors="soxx", prices=px)
    assert one.model.factors == ("SOXX",)
    ref = an.event_study("AAA", EVENT, market="SOXX", prices=px)
    assert one.car().estimate["AAA"] == pytest.approx(ref.car().estimate["AAA"], abs=1e-14)
    with pytest.raises(SpecificationError) as exc:
        an.event_study("AAA", EVENT, model="factor_model", market=None, factors=3, prices=px)
    assert str(exc.value) == (
        "factors must be a symbol such as 'SPY' or a list of symbols such as ['SPY', 'SOXX'], got 3"
    )


def test_other_arguments_of_event_study(px):
    with pytest.raises(SpecificationError) as exc:
        an.event_study("AAA", EVENT, prices=[1, 2])
    assert str(exc.value) == (
        "prices must be a DataFrame of adjusted closes (dates x symbols), got list"
    )
    with pytest.raises(SpecificationError) as exc:
        an.event_study("AAA", EVENT, min_estimation="x", prices=px)
    assert str(exc.value) == (
        "min_estimation must be a whole number of estimation returns (e.g. 30), got 'x'"
    )


def test_compare_needs_a_mapping_of_results(res):
    with pytest.raises(SpecificationError) as exc:
        an.compare({})
    assert str(exc.value) == (
        "compare() got no studies: pass a mapping of label -> event_study(...) results, "
        "e.g. {'SPY': res_spy, 'QQQ': res_qqq}"
    )
    with pytest.raises(SpecificationError) as exc:
        an.compare({"a": 1})
    assert str(exc.value) == "compare(): study 'a' is int, not the result of event_study(...)"
    with pytest.raises(SpecificationError) as exc:
        an.compare([res])
    assert str(exc.value) == (
        "compare() takes a mapping of label -> event_study(...) results, "
        "e.g. {'SPY': res_spy, 'QQQ': res_qqq}; got list"
    )
    assert an.compare({"x": res}).index.tolist() == [("x", "AAA"), ("x", "BBB")]


READ_FOO = (
    "cannot read window 'foo': write START:END in trading days relative to day 0, e.g. "
    "'-250:-11' or '-1:3' (also accepted: '[-1,+3]')"
)


def test_tests_says_which_windows_and_names_are_accepted(res):
    with pytest.raises(SpecificationError) as exc:
        res.tests("foo")
    assert str(exc.value) == (
        f"{READ_FOO}; a window must lie inside the event window [-1,+3] (leave it out for the "
        f"CAR window [-1,+3]); tests are chosen with names=[...] from: {MULTI}"
    )
    with pytest.raises(SpecificationError) as exc:
        res.tests("bmp")
    assert str(exc.value) == (
        "'bmp' is a test name, not a window: use tests(names=['bmp']), "
        "or tests(window, names=['bmp']) for a window such as '-1:3'"
    )
    with pytest.raises(SpecificationError) as exc:
        res.car("foo")
    assert str(exc.value) == (
        f"{READ_FOO}; a window must lie inside the event window [-1,+3] (leave it out for the "
        "CAR window [-1,+3])"
    )
    with pytest.raises(SpecificationError) as exc:
        res.firm_tests("3:-1")
    assert str(exc.value) == (
        "window [+3,-1] is inverted: its start +3 is after its end -1; write it as [-1,+3]; "
        "a window must lie inside the event window [-1,+3] (leave it out for the CAR window "
        "[-1,+3])"
    )
    with pytest.raises(SpecificationError) as exc:
        res.tests("sq")
    assert str(exc.value) == (
        f"'sq' is a single-firm test: use firm_tests() for it; multi-firm tests: {MULTI}"
    )


def test_tests_names(res):
    assert res.tests(names="bmp").names == ["bmp"]
    assert res.tests(names="bmp")["bmp"].stat == res.tests()["bmp"].stat
    with pytest.raises(SpecificationError) as exc:
        res.tests(names=[])
    assert str(exc.value) == (
        f"names is empty: choose one or more multi-firm tests from: {MULTI}, "
        "or leave names out for all of them"
    )
    with pytest.raises(SpecificationError) as exc:
        res.tests(names=["bmp", "sq"])
    assert str(exc.value) == (
        f"'sq' is a single-firm test: use firm_tests() for it; multi-firm tests: {MULTI}"
    )
    with pytest.raises(SpecificationError) as exc:
        res.tests(names=["foo"])
    assert str(exc.value) == f"unknown test 'foo'; multi-firm tests: {MULTI}"


def test_window_dates_and_alpha(res):
    with pytest.raises(SpecificationError) as exc:
        res.window_dates("foo")
    assert str(exc.value) == "which must be 'event' or 'estimation', got 'foo'"
    assert res.window_dates("event")[0] == pd.Timestamp("2023-10-16")
    for call in (
        lambda: res.car().conf_int(alpha=2),
        lambda: res.car().conf_int(alpha=0),
        lambda: res.against_group(alpha=-0.1),
        lambda: res.conclusion(alpha="5%"),
        lambda: an.robustness.summarize(pd.DataFrame({"car": [0.1], "pvalue": [0.2]}), alpha=5),
    ):
        with pytest.raises(SpecificationError, match=r"^alpha must be a probability strictly "):
            call()
    with pytest.raises(SpecificationError) as exc:
        res.car().conf_int(alpha=2)
    assert str(exc.value) == (
        "alpha must be a probability strictly between 0 and 1 (e.g. 0.05), got 2"
    )


# ---- 3. the same through the CLI: one `error:` line, exit 2 ---------------------------------


def _write_prices(folder, px: pd.DataFrame) -> None:
    for sym in px.columns:
        adj = px[sym]
        pd.DataFrame(
            {"open": adj, "high": adj, "low": adj, "close": adj, "adj_close": adj, "volume": 1000},
            index=pd.Index(adj.index.strftime("%Y-%m-%d"), name="date"),
        ).to_csv(folder / f"{sym}.csv")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["study", "AAA", "SPY", "--event", EVENT, "--json"], OWN_SPY),
        (
            ["study", "AAA", "--event", EVENT, "--market", "aaa"],
            "firm AAA is also the market index of market_model (AAA): a firm that is its own "
            "benchmark has no abnormal return to test; drop AAA from the firms or choose another "
            "market index",
        ),
        (
            ["study", "SOXX", "--event", EVENT, "--model", "factor_model", "--factors", "SPY,SOXX"],
            "firm SOXX is also a regressor of factor_model (SPY + SOXX): a firm that is its own "
            "benchmark has no abnormal return to test; drop SOXX from the firms or from the "
            "factors",
        ),
    ],
)
def test_cli_own_regressor_is_one_error_line(tmp_path, monkeypatch, capsys, argv, message):
    _write_prices(tmp_path, _prices())
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(tmp_path))
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"error: {message}\n"


def test_cli_alias_of_the_market_is_one_error_line(tmp_path, monkeypatch, capsys):
    px = _prices()
    _write_prices(tmp_path, px.assign(IDX=px["SPY"] * 3.0))
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(tmp_path))
    assert main(["study", "IDX", "--event", EVENT]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: market_model (SPY) explains the estimation-window returns of IDX")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert main(["study", "AAA", "--event", EVENT, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["firms"]["AAA"]["n_estimation"] == 240


# ---- real data -------------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_spy_as_a_firm_is_refused(real_prices, capsys):
    assert main(["study", "NVDA", "SPY", "--event", "E08", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"error: {OWN_SPY}\n"
    assert main(["study", "NVDA", "--event", "E08", "--market", "NVDA"]) == 2
    assert capsys.readouterr().err == (
        "error: firm NVDA is also the market index of market_model (NVDA): a firm that is its "
        "own benchmark has no abnormal return to test; drop NVDA from the firms or choose "
        "another market index\n"
    )


@pytest.mark.realdata
def test_real_nvda_e08_figures_unchanged_and_grid_row(real_prices):
    res = an.event_study("NVDA", "E08")
    h = res.headline()
    assert h["ar_day0"] == pytest.approx(-0.05118, abs=5e-6)
    assert h["car"] == pytest.approx(-0.0627, abs=5e-5)
    assert h["t"] == pytest.approx(-1.046, abs=5e-4) and h["pvalue"] == pytest.approx(
        0.297, abs=5e-4
    )
    assert h["sq_pvalue"] == pytest.approx(0.245, abs=5e-4)
    grid = an.robustness_grid(
        ["NVDA", "SPY"],
        "E08",
        models=("market_model",),
        markets=("SPY",),
        windows=((-1, 3),),
        estimations=((-250, -11),),
    )
    assert grid["firm"].tolist() == ["NVDA", "SPY"]
    assert grid["car"].iloc[0] == pytest.approx(h["car"], abs=1e-12)
    assert grid["error"].tolist() == ["", OWN_SPY]
