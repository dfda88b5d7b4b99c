"""Episodes: merging overlapping event windows, per-episode CAR tests with Holm/BH, pooled tests."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from analysis.data import calendar
from analysis.errors import SpecificationError
from analysis.eventstudy import inference
from analysis.eventstudy.episodes import EPISODE_COLUMNS, episodes, merge_episodes

T = pd.Timestamp


def test_overlapping_windows_merge_into_one_episode():
    # A: 2023-10-16 (window 10-13..10-19); B: 10-20 (window 10-19..10-25) share 10-19
    eps = merge_episodes({"A": "2023-10-16", "B": "2023-10-20"}, (-1, 3))
    assert len(eps) == 1
    ep = eps[0]
    assert ep.members == ("A", "B")
    assert ep.day0 == T("2023-10-16")
    assert ep.window == (-1, 7)  # 10-25 is 7 sessions after 10-16
    assert (ep.first, ep.last) == (T("2023-10-13"), T("2023-10-25"))
    assert ep.label == "A+B"


def test_touching_windows_stay_apart():
    # A ends 10-19, B (day 0 10-23) starts 10-20: adjacent sessions, no shared one
    eps = merge_episodes({"A": "2023-10-16", "B": "2023-10-23"}, (-1, 3))
    assert [e.members for e in eps] == [("A",), ("B",)]
    assert [e.window for e in eps] == [(-1, 3), (-1, 3)]


def test_identical_day0_collapses_and_order_is_by_day0_then_id():
    eps = merge_episodes([("Z", "2022-09-01"), ("C", "2023-01-10"), ("Y", "2022-09-01")], "0:0")
    assert [e.members for e in eps] == [("Y", "Z"), ("C",)]
    assert eps[0].window == (0, 0)
    assert eps[0].member_day0 == (T("2022-09-01"), T("2022-09-01"))


def test_chain_merges_transitively_across_a_holiday():
    # Thanksgiving 2023-11-23 is closed: A (11-20) ends 11-24, B (11-24) runs 11-22..11-29,
    # C (11-29) runs 11-28..12-04: C overlaps B only
    eps = merge_episodes({"A": "2023-11-20", "B": "2023-11-24", "C": "2023-11-29"}, (-1, 3))
    assert len(eps) == 1 and eps[0].members == ("A", "B", "C")
    assert eps[0].last == calendar.offset(T("2023-11-29"), 3) == T("2023-12-04")
    assert eps[0].window == (-1, 9)  # 12-04 is 9 sessions after 11-20


def test_merge_errors_are_named():
    with pytest.raises(
        SpecificationError, match="event A: day 0 2023-10-14 is not an NYSE session"
    ):
        merge_episodes({"A": "2023-10-14"})
    with pytest.raises(SpecificationError, match="event ids repeat: A, A"):
        merge_episodes([("A", "2023-10-16"), ("A", "2023-10-17")])
    with pytest.raises(SpecificationError, match="at least one event"):
        merge_episodes({})


def _synthetic_prices(seed=7):
    days = calendar.sessions("2022-06-01", "2024-03-28")
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0003, 0.01, len(days))
    f = 0.0004 + 1.3 * m + rng.normal(0, 0.02, len(days))
    return pd.DataFrame({"AAA": 50 * np.cumprod(1 + f), "SPY": 400 * np.cumprod(1 + m)}, index=days)


def test_episodes_on_synthetic_prices():
    px = _synthetic_prices()
    tab = episodes("AAA", events=["E08", "E09", "E10", "E11"], prices=px)
    frame = tab.to_frame()
    assert list(frame.index) == ["E08+E09+E10", "E11"]
    assert list(frame.columns) == [*EPISODE_COLUMNS, "stacked_effect", "stacked_z"]
    row = frame.loc["E08+E09+E10"]
    assert (row["day0"], row["window_start"], row["window_end"]) == (T("2023-10-17"), -1, 8)
    rets = px.pct_change()
    assert row["raw_day0_return"] == pytest.approx(rets.loc["2023-10-17", "AAA"], rel=1e-12)
    p = frame["pvalue"].to_numpy()
    np.testing.assert_allclose(frame["pvalue_holm"], multipletests(p, method="holm")[1])
    np.testing.assert_allclose(frame["pvalue_bh"], multipletests(p, method="fdr_bh")[1])
    ms = inference.mean_standardized_car(frame["car"], frame["se"], frame["dof"])
    assert tab.mean_scar.stat == pytest.approx(ms.stat, rel=1e-12)
    assert tab.mean_scar.stat == pytest.approx(
        (frame["car"] / frame["se"]).sum() / np.sqrt((frame["dof"] / (frame["dof"] - 2)).sum())
    )
    assert tab.sample == (calendar.offset(T("2023-10-17"), -250), T("2023-11-03"))
    assert tab.stacked.n_days.tolist() == [10, 5]
    doc = json.loads(json.dumps(tab.to_dict(), allow_nan=False))
    assert doc["episodes"][0]["members"] == ["E08", "E09", "E10"]
    assert doc["pooled"]["n_episodes"] == 2
    assert doc["pooled"]["stat"] == pytest.approx(ms.stat)
    assert doc["pooled"]["wald"]["df"] == 2
    assert set(doc["pooled"]) >= {"mean_car", "stat", "pvalue", "n_episodes", "sign", "wald", "sum"}
    text = str(tab)
    assert "E08+E09+E10" in text and "stacked_wald" in text


def test_episode_error_names_the_episode():
    px = _synthetic_prices().loc["2023-01-01":]  # too short for E02+E03's estimation window
    with pytest.raises(Exception, match=r"AAA, episode E02\+E03 \(day 0 2022-09-01"):
        episodes("AAA", events=["E02", "E03"], prices=px)


def test_cli_window_error_exits_2(capsys):
    from analysis.cli import main

    assert main(["episodes", "NVDA", "--window", "3:1"]) == 2
    assert "window [+3,+1] is inverted" in capsys.readouterr().err


@pytest.mark.realdata
def test_nvda_episodes_real_data(real_prices):
    tab = episodes("NVDA")
    frame = tab.to_frame()
    assert "E02+E03" in frame.index and "E08+E09+E10" in frame.index
    assert frame.loc["E08+E09+E10", "window_end"] == 8
    assert frame.loc["E02+E03", "car"] == pytest.approx(-0.114957, abs=5e-6)
    assert frame.loc["E02+E03", "pvalue"] == pytest.approx(0.027479, abs=5e-6)
    p = frame["pvalue"].to_numpy()
    np.testing.assert_allclose(frame["pvalue_holm"], multipletests(p, method="holm")[1])
    np.testing.assert_allclose(frame["pvalue_bh"], multipletests(p, method="fdr_bh")[1])
    narrow = episodes("NVDA", window=(-1, 1)).to_frame()
    assert "E08+E09" in narrow.index and "E10" in narrow.index


@pytest.mark.realdata
def test_cli_episodes_json(real_prices, capsys):
    from analysis.cli import main

    assert main(["episodes", "NVDA", "--window", "-1:3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [e["episode"] for e in doc["episodes"]][:2] == ["E02+E03", "E04"]
    assert doc["pooled"]["n_episodes"] == len(doc["episodes"])
    assert 0 < doc["pooled"]["wald"]["pvalue"] < 1


def test_missing_price_column_is_named():
    px = _synthetic_prices().drop(columns="SPY")
    with pytest.raises(Exception, match="AAA episodes: the prices given hold no prices for SPY"):
        episodes("AAA", events=["E11"], prices=px)
