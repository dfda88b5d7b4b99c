"""The reports' pre-specified design (analysis.eventstudy.policy) and the model -> inputs helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis as an
from analysis.data import calendar
from analysis.eventstudy import policy


def _prices(firms=("AAA",), seed=5):
    rng = np.random.default_rng(seed)
    sessions = calendar.sessions("2022-06-01", "2024-03-28")
    m = rng.normal(0.0004, 0.01, len(sessions))
    cols = {"SPY": m} | {f: 1.2 * m + rng.normal(0, 0.02, len(sessions)) for f in firms}
    return 100 * (1 + pd.DataFrame(cols, index=sessions)).cumprod()


@pytest.mark.parametrize(
    ("model", "market", "factors", "want"),
    [
        ("market_model", "SPY", ["SPY", "SOXX"], {"market": "SPY", "factors": None}),
        ("market_adjusted", "QQQ", None, {"market": "QQQ", "factors": None}),
        ("constant_mean", "SPY", ["SPY"], {"market": None, "factors": None}),
        ("factor_model", "SPY", ("SPY", "SOXX"), {"market": None, "factors": ["SPY", "SOXX"]}),
    ],
)
def test_model_arguments_keep_only_what_the_model_uses(model, market, factors, want):
    assert an.model_arguments(model, market, factors) == {"model": model, **want}


def test_input_series_lists_the_firms_then_the_regressors_once():
    assert an.input_series(["NVDA", "AMD"], "market_model", "SPY") == ["NVDA", "AMD", "SPY"]
    assert an.input_series(["NVDA"], "factor_model", "SPY", ["SPY", "SOXX"]) == [
        "NVDA",
        "SPY",
        "SOXX",
    ]
    assert an.input_series(["NVDA"], "constant_mean", "SPY") == ["NVDA"]
    assert an.input_series(["NVDA"], "market_model", "SPY-ex-firm") == ["NVDA", "SPY"]
    semis = an.peer_group("semis")
    got = an.input_series(["NVDA"], "market_model", "peers-ex-firm:semis")
    assert got == ["NVDA", *[s for s in semis if s != "NVDA"]]


def test_design_note_says_whether_a_page_follows_the_design():
    one = an.event_study("AAA", "2023-10-17", market="SPY", prices=_prices(), exclude="events")
    group = an.event_study(
        ["AAA", "BBB"], "2023-10-17", market="SPY", prices=_prices(("AAA", "BBB")), exclude="events"
    )
    note = policy.design_note(
        one, "SPY-ex-firm", "events,earnings", alternative="peers-ex-firm:semis"
    )
    assert "the design's primary benchmark" in note and policy.PRIMARY_REASON in note
    assert policy.ALTERNATIVE_REASON in note and policy.CLEAN_REASON in note
    off = policy.design_note(one, "SPY", "events")
    assert "not the design's primary benchmark (SPY-ex-firm)" in off
    assert 'not the design\'s `"events,earnings"`' in off and policy.PRIMARY_REASON not in off
    grp = policy.design_note(group, "SPY", "events")
    assert policy.GROUP_REASON in grp and policy.GROUP_CLEAN_REASON in grp
    assert "robustness check" not in grp


def test_event_page_sentences_and_headline():
    px = _prices()
    res = an.event_study("AAA", "2023-10-17", market="SPY", prices=px, exclude="events")
    alt = an.event_study("AAA", "2023-10-17", model="market_adjusted", market="SPY", prices=px)
    text = an.prose.windows_sentence(res)
    assert (
        text.startswith("**Day 0: 2023-10-17**")
        and "event window [-1,+3]: 2023-10-16 to 2023-10-20" in text
    )
    note = an.prose.confounder_note(res)
    assert note.startswith("**AAA**: the event window holds 1 other registry event's window (E09)")
    assert "rerun with exclude" not in note  # the estimation-window days are already left out
    plain = an.prose.confounder_note(an.event_study("AAA", "2023-10-17", market="SPY", prices=px))
    assert 'rerun with exclude="events" for a clean estimate' in plain
    grid = pd.DataFrame(
        {"car": [-0.1, 0.2, np.nan], "pvalue": [0.01, 0.5, np.nan], "error": ["", "", "x"]}
    )
    head = an.prose.report_headline(
        res, benchmark="SPY", alternative=alt, alternative_label="adj", grid=grid
    )
    assert head["car"] == res.car().estimate["AAA"] and head["alt_car"] == alt.car().estimate["AAA"]
    assert (head["benchmark"], head["alt_benchmark"], head["robustness_specs"]) == ("SPY", "adj", 2)
    assert head["robustness_share_negative"] == 0.5 and head["robustness_share_p_below_0_05"] == 0.5
