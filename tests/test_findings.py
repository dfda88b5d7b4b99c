"""The front page's findings (analysis.studies.findings): the same numbers as the engine's own
calls, intervals from the episode's t quantile, sentences that state the numbers shown, and the
forest plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

import analysis as an
from analysis.errors import SpecificationError
from analysis.studies import findings


@pytest.fixture(scope="module")
def evidence(real_cache_dir, shared_prices_dir):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANALYSIS_CACHE_DIR", str(real_cache_dir))
        mp.setenv("ANALYSIS_PRICES_DIR", str(shared_prices_dir))
        yield findings.nvda_episodes()


@pytest.mark.realdata
def test_episode_cars_are_the_engines(evidence, real_prices):
    f = evidence.to_frame().set_index(["benchmark", "episode"])
    for bench in ("SPY-ex-firm", "peers-ex-firm:semis"):
        res = an.event_study("NVDA", "E04", market=bench, exclude="events,earnings")
        assert f.loc[(bench, "E04"), "car"] == pytest.approx(res.car().estimate["NVDA"], abs=1e-14)
        assert f.loc[(bench, "E04"), "pvalue"] == pytest.approx(res.car().pvalue["NVDA"], abs=1e-14)
        sq = res.firm_tests(dummy=False).to_frame().loc[("NVDA", "sq"), "pvalue"]
        assert f.loc[(bench, "E04"), "sq_pvalue"] == sq
        p = f.loc[bench, "pvalue"].to_numpy()
        assert np.allclose(
            f.loc[bench, "pvalue_holm"], multipletests(p, method="holm")[1], atol=1e-15
        )
    # E02 and E03 share day 0: one episode; E08, E09, E10 overlap with the [-1,+3] window
    eps = list(f.loc["SPY-ex-firm"].index)
    assert "E02+E03" in eps and "E08+E09+E10" in eps and len(eps) == 11


@pytest.mark.realdata
def test_intervals_use_the_episodes_t_quantile(evidence):
    f = evidence.to_frame()
    q = stats.t.ppf(0.975, f["dof"])
    assert np.allclose(f["high"] - f["car"], q * f["se"], atol=1e-15)
    assert np.allclose(f["car"] - f["low"], q * f["se"], atol=1e-15)


@pytest.mark.realdata
def test_answer_states_the_numbers_of_the_table(evidence):
    head = evidence.headline()
    text = evidence.answer()
    assert f"averaged {head['primary_mean_car']:+.1%} against SPY-ex-firm" in text
    assert f"p = {head['primary_pooled_pvalue']:.3f}" in text
    assert f"Holm-adjusted p is {head['primary_min_pvalue_holm']:.3f}" in text
    assert f"{head['primary_n_negative']} of the 11 episodes were negative" in text
    # E04: negative against the market, positive against the peers
    assert "flips between the benchmarks in E04" in text
    lines = findings.caveats(evidence)
    assert lines[0].startswith("Benchmark dependence: the CAR moves by up to")


@pytest.mark.realdata
def test_peer_reactions_are_one_event_study_per_rule(real_prices):
    peers = findings.peer_reactions("semi_equipment", ["E04"])
    res = an.event_study(an.peer_group("semi_equipment"), "E04", market="SPY", exclude="events")
    cr = res.car()
    assert peers.cars["E04"].to_dict() == pytest.approx(cr.estimate.to_dict(), abs=1e-15)
    tt = cr.tests().to_frame()
    assert peers.tests.loc["E04", "kp_bmp_pvalue"] == tt.loc["kp_bmp", "pvalue"]
    assert peers.tests.loc["E04", "caar"] == pytest.approx(cr.caar, abs=1e-15)
    assert len(peers.to_frame()) == 4


def test_forest_plot_draws_one_row_per_label_and_checks_columns():
    data = pd.DataFrame(
        {
            "label": ["a", "b", "a", "b"],
            "car": [-0.1, 0.02, -0.05, 0.01],
            "low": [-0.2, -0.05, -0.1, -0.03],
            "high": [0.0, 0.09, 0.0, 0.05],
            "benchmark": ["x", "x", "y", "y"],
        }
    )
    ax = an.plots.forest(data, y="label", x="car", low="low", high="high", hue="benchmark")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert len(ax.containers) == 2  # one errorbar per benchmark
    xs = ax.containers[0].lines[0].get_xdata()
    assert list(xs) == [-0.1, 0.02]
    with pytest.raises(SpecificationError, match="forest: data has no column"):
        an.plots.forest(data.drop(columns="low"), y="label", x="car", low="low", high="high")


def _synthetic_prices(shock_day: str | None = None, shock: float = 0.0, seed: int = 2):
    """NVDA and SPY on the NYSE sessions 2021-2025: a market model with beta 1.5 and 2% noise;
    ``shock`` added to NVDA's return on ``shock_day``."""
    from analysis.data import calendar

    rng = np.random.default_rng(seed)
    sessions = calendar.sessions("2021-01-04", "2025-12-31")
    m = rng.normal(0.0003, 0.01, len(sessions))
    r = 0.0005 + 1.5 * m + rng.normal(0, 0.02, len(sessions))
    r = pd.Series(r, index=sessions)
    if shock_day is not None:
        r.loc[pd.Timestamp(shock_day)] += shock
    return 100 * (1 + pd.DataFrame({"NVDA": r.to_numpy(), "SPY": m}, index=sessions)).cumprod()


def test_the_answer_follows_the_numbers():
    """A synthetic NVDA: without a shock no episode survives Holm; with a -40% day 0 on E04
    (2022-10-07) that episode does, and the sentences say so."""
    kw = {"market": "SPY", "alternative": "SPY-ex-firm", "exclude": "events"}
    calm = findings.nvda_episodes(prices=_synthetic_prices(), **kw)
    hit = findings.nvda_episodes(prices=_synthetic_prices("2022-10-07", -0.40), **kw)
    assert "no single episode is significant once the number of tests" in calm.answer()
    text = hit.answer()
    assert "The strongest single episode is E04 (day 0 2022-10-07" in text
    assert "it survives the adjustment" in text
    head = hit.headline()
    assert head["primary_min_p_episode"] == "E04" and head["primary_min_pvalue_holm"] < 0.05
    assert f"Holm-adjusted p is {head['primary_min_pvalue_holm']:.3f}" in text
    assert text != calm.answer()
    doc = hit.to_dict()
    e04 = next(e for e in doc["primary_episodes"] if e["episode"] == "E04")
    assert e04["car"] == pytest.approx(hit.tables[0].to_frame().loc["E04", "car"], abs=1e-12)
    assert set(doc["primary_pooled"]) == {
        "mean_standardized_car",
        "episode_sign",
        "stacked_wald",
        "stacked_sum",
    }


def test_peer_reactions_by_role_orders_and_labels_the_firms():
    cars = pd.DataFrame(
        {"E04": [-0.05, 0.01, 0.02, -0.03]},
        index=pd.Index(["NVDA", "AMAT", "MU", "AMD"], name="firm"),
    )
    tests = pd.DataFrame(
        {"day0": [pd.Timestamp("2022-10-07")], "caar": [-0.0125]},
        index=pd.Index(["E04"], name="event"),
    )
    peers = findings.PeerReactions("semis", "SPY", "events", (-1, 3), cars, tests)
    out = peers.by_role({"designer": ["NVDA", "AMD"], "equipment": ["AMAT"]})
    assert list(out["firm"].astype(str)) == [
        "AMD (designer)",
        "NVDA (designer)",
        "AMAT (equipment)",
        "MU (other)",
    ]
    assert list(out["car"]) == [-0.03, -0.05, 0.01, 0.02]
    assert peers.to_dict()["tests"]["E04"] == {"day0": "2022-10-07", "caar": -0.0125}


@pytest.mark.realdata
def test_linked_frame_links_each_member_event(evidence):
    f = evidence.linked_frame({"E02": "../nvda_e02/index.html", "E08": "../nvda_e08/index.html"})
    row = f[(f["benchmark"] == "SPY-ex-firm") & (f["episode"] == "E02+E03")].iloc[0]
    assert row["events"] == '<a href="../nvda_e02/index.html">E02</a> E03'


@pytest.mark.realdata
def test_article_sentences_state_the_fact_checks_and_the_episodes_numbers(evidence, real_prices):
    from analysis.studies.factcheck import claims_table, run_factcheck

    text = findings.article_sentences(claims_table(run_factcheck()), evidence)
    close = an.prices.quoted_close("NVDA", "2023-10-17", "2023-10-20")
    c17, c20 = float(close.iloc[0]), float(close.iloc[-1])
    assert f"the closes were ${c17:,.2f} and ${c20:,.2f}" in text and c17 == pytest.approx(
        439.38, abs=0.005
    )
    assert f"a fall of {1 - c20 / c17:.1%}" in text
    assert "the article's $446 is inconsistent with the first close, its $414 consistent" in text
    assert "fell by $63.0B, not the article's $76.9B (inconsistent)" in text
    ep = evidence.tables[0].to_frame().loc["E08+E09+E10"]
    assert (
        f"the episode E08+E09+E10 (window [-1,+8]) has an abnormal return of {ep['car']:+.1%}"
        in text
    )
    assert f"(p = {ep['pvalue']:.3f}; Holm-adjusted {ep['pvalue_holm']:.3f})" in text
    assert "was 21.4%, not about 40% (inconsistent)" in text


def test_detection_sentence_follows_the_numbers():
    from analysis.studies.findings import detection_sentence

    d = {"sigma": 0.021, "event": "E08", "benchmark": "SPY-ex-firm", "car": 0.133, "power": 0.8,
         "alpha": 0.05, "episode_min": 0.131, "episode_min_at": "E16", "episode_max": 0.192,
         "episode_max_at": "E08+E09+E10", "mean_car": -0.032}  # fmt: skip
    text = detection_sentence(d, (-1, 3))
    assert "detects a CAR over [-1,+3] of 13.3% with 80% power" in text
    assert "runs from 13.1% (E16) to 19.2% (E08+E09+E10)" in text
    assert text.endswith("could not be told from noise in any single episode.")
    middle = detection_sentence(d | {"mean_car": -0.15}, (-1, 3))
    assert middle.endswith("only in the episodes with the smallest.")
    large = detection_sentence(d | {"mean_car": -0.25}, (-1, 3))
    assert large.endswith("is above the detectable CAR of every episode.")


@pytest.mark.realdata
def test_detection_numbers_are_the_power_modules(evidence):
    """The front page's power caveat: the E08 figure is power.detection_figures of the study it
    names, and each episode's detectable CAR has exactly 80% power for the t test at its se and
    degrees of freedom."""
    from analysis.eventstudy import power as pw
    from analysis.studies.findings import detection

    d = detection(evidence)
    res = an.event_study("NVDA", "E08", market=evidence.benchmarks[0], window=evidence.window,
                         exclude=evidence.exclude or None)  # fmt: skip
    fig = pw.detection_figures(res)
    want = fig["analytic_car"] if fig["analytic_car"] is not None else fig["car"]
    assert d["car"] == pytest.approx(abs(want), rel=1e-12)
    assert d["sigma"] == pytest.approx(fig["sigma"], rel=1e-12)
    f = evidence.tables[0].to_frame()
    for at, key in ((d["episode_min_at"], "episode_min"), (d["episode_max_at"], "episode_max")):
        se, dof = f.loc[at, "se"], f.loc[at, "dof"]
        assert pw.t_test_power(d[key], se, 1.0, dof) == pytest.approx(0.8, abs=1e-6)
    assert d["episode_min"] <= d["episode_median"] <= d["episode_max"]
