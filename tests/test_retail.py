"""US retail GPU prices around the rule: panels, event-time DiD, synthetic control, placebos."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import _simplex
from analysis.errors import DataError, EstimationError, SpecificationError
from analysis.studies import _retail_kernels as kern
from analysis.studies import hardware, retail

PUB, EFF = pd.Timestamp("2023-10-17"), pd.Timestamp("2023-11-16")
EVENT_WEEK = pd.Timestamp("2023-10-16")  # the Monday of the publication week


def _panel(effect: float, noise: float, seed: int = 0, n_controls: int = 4) -> pd.DataFrame:
    """A balanced weekly panel: card and week effects, the treated card moves by ``effect`` from
    event week 0 on, plus iid noise."""
    rng = np.random.default_rng(seed)
    weeks = pd.date_range(EVENT_WEEK - pd.Timedelta(weeks=60), periods=90, freq="7D")
    gamma = np.cumsum(rng.normal(0, 0.03, len(weeks)))
    cards = ["T"] + [f"C{i}" for i in range(n_controls)]
    rows = []
    for j, c in enumerate(cards):
        for t, w in enumerate(weeks):
            y = 6 + 0.3 * j + gamma[t] + rng.normal(0, noise)
            if c == "T" and w >= EVENT_WEEK:
                y += effect
            rows.append({"card": c, "week": w, "log_price": y})
    return pd.DataFrame(rows).assign(price=lambda d: np.exp(d["log_price"]))


def test_did_recovers_a_known_effect_and_a_flat_pre_trend_exactly_without_noise():
    did = retail.event_study(
        _panel(0.2, 0.0), "T", ["C0", "C1", "C2", "C3"], publication=PUB, effective=EFF
    )
    c = did.to_frame().set_index("event_week")["coef"]
    assert np.allclose(c.loc[0:26], 0.2, atol=1e-10)
    assert np.allclose(c.loc[-12:-1], 0.0, atol=1e-10)
    h = did.horizons.set_index("horizon")
    assert list(h.index) == ["0:3", "4:12", "0:26"]  # effective date 2023-11-16 is in week 4
    assert h.loc["4:12", "effect_pct"] == pytest.approx(100 * np.expm1(0.2))
    assert did.pretrend["rms"] == pytest.approx(0.0, abs=1e-10)


def test_did_coefficient_is_the_difference_of_changes_from_the_reference_week():
    p = _panel(0.1, 0.05, seed=3)
    did = retail.event_study(p, "T", ["C0", "C1", "C2", "C3"], publication=PUB, effective=EFF)
    w = p.pivot(index="week", columns="card", values="log_price")
    ref = EVENT_WEEK - pd.Timedelta(weeks=1)
    change = w - w.loc[ref]
    by_hand = change["T"] - change[["C0", "C1", "C2", "C3"]].mean(
        axis=1
    )  # balanced: week FE = mean
    got = did.to_frame().set_index("week")["coef"]
    for k in (-5, 0, 7, 26):
        wk = EVENT_WEEK + pd.Timedelta(weeks=k)
        assert got.loc[wk] == pytest.approx(by_hand.loc[wk], abs=1e-10)


def test_did_with_noise_is_close_to_the_effect_and_its_placebos_are_centred():
    did = retail.event_study(
        _panel(0.15, 0.02, seed=1), "T", ["C0", "C1", "C2", "C3"], publication=PUB, effective=EFF
    )
    h = did.horizons.set_index("horizon").loc["0:26"]
    # sd of the estimate ~ 0.023 (the treated card's noise in week -1 dominates): 3 sd
    assert h["effect"] == pytest.approx(0.15, abs=0.07)
    assert h["p_randomization"] == pytest.approx(0.2)  # largest of 5 cards: the smallest p
    placebo = did.placebo_space.set_index("card").drop("T")["0:26"]
    assert placebo.abs().max() < 0.07


def test_did_needs_the_reference_week_and_enough_control_weeks():
    p = _panel(0.0, 0.01)
    ref = EVENT_WEEK - pd.Timedelta(weeks=1)
    with pytest.raises(EstimationError, match="reference event week -1"):
        retail.event_study(
            p[~((p["card"] == "T") & (p["week"] == ref))],
            "T",
            ["C0", "C1"],
            publication=PUB,
            effective=EFF,
        )
    sparse = p[~((p["card"] == "C0") & (p["week"] < EVENT_WEEK - pd.Timedelta(weeks=2)))]
    did = retail.event_study(sparse, "T", ["C0", "C1", "C2"], publication=PUB, effective=EFF)
    assert did.controls == ("C1", "C2")
    assert did.dropped["reason"].iloc[0] == "2 pre / 27 post weeks observed (< 4)"
    with pytest.raises(SpecificationError, match="reference week 3 must lie in"):
        retail.event_study(p, "T", ["C0"], publication=PUB, effective=EFF, reference=3)


def _wide(target: np.ndarray, donors: dict[str, np.ndarray], post: int = 2) -> pd.DataFrame:
    """Event-week frame (weeks -len(target)..post-1) of a target and donors' log prices; the post
    weeks carry arbitrary prices."""
    pre = len(target)
    rng = np.random.default_rng(0)
    cols = {"T": target, **donors}
    return pd.DataFrame(
        {c: np.concatenate([v, 6 + rng.normal(0, 0.1, post)]) for c, v in cols.items()},
        index=pd.RangeIndex(-pre, post, name="event_week"),
    )


def _masks(wide: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    idx = wide.index.to_series()
    return idx < 0, idx >= 0


def test_sc_weights_are_the_exact_solvers_on_a_known_convex_combination():
    rng = np.random.default_rng(7)
    x0 = 6 + np.cumsum(rng.normal(0, 0.05, size=(40, 4)), axis=0)
    donors = {f"D{j}": x0[:, j] for j in range(4)}
    wide = _wide(1.5 + x0 @ np.array([0.6, 0.0, 0.4, 0.0]), donors)
    pre, post = _masks(wide)
    w, gap, _, pre_r, _, nfit = kern.sc_fit(wide, "T", list(donors), pre, post, 0.75)
    # the target is 0.6 D0 + 0.4 D2 plus a level, which the pre-period demeaning removes
    np.testing.assert_allclose(w.to_numpy(), [0.6, 0.0, 0.4, 0.0], atol=1e-12)
    assert w["D1"] == 0.0 and w["D3"] == 0.0  # exact zeros, not solver tolerance
    z = wide[pre] - wide[pre].mean()
    exact = _simplex.simplex_lstsq(z[list(donors)].to_numpy(), z["T"].to_numpy()).weights
    np.testing.assert_array_equal(w.to_numpy(), exact)
    assert nfit == 40 and pre_r < 1e-12


def test_sc_zero_weight_optimum_meets_the_kkt_conditions():
    """Orthogonal demeaned donors with ||d_j||^2 = 4 s^2: the weights are the projection of a onto
    the simplex when the target is s (a1 d1 + a2 d2 + a3 d3). With a = (0.9, 0.5, -0.6): w = a - 0.2
    on the first two, 0 on the third (0.7 + 0.3 = 1), by hand."""
    s = 0.05
    d = np.array([[1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype=float).T  # (4 weeks, 3)
    a = np.array([0.9, 0.5, -0.6])
    donors = {f"D{j}": 6 + 0.1 * j + s * d[:, j] for j in range(3)}
    wide = _wide(7 + s * d @ a, donors)
    pre, post = _masks(wide)
    w, _, _, pre_r, _, _ = kern.sc_fit(wide, "T", list(donors), pre, post, 0.75)
    np.testing.assert_allclose(w.to_numpy(), [0.7, 0.3, 0.0], atol=1e-14)
    assert w["D2"] == 0.0
    # KKT: g = X'(Xw - y) = 4 s^2 (w - a); g_j + nu = 0 where w_j > 0, >= 0 where w_j = 0
    X, y = s * d, s * d @ a
    g = X.T @ (X @ w.to_numpy() - y)
    nu = 4 * s**2 * 0.2
    np.testing.assert_allclose(g[:2] + nu, 0.0, atol=1e-15)
    assert g[2] + nu == pytest.approx(4 * s**2 * 0.8)  # the multiplier of w_3 >= 0: 0.008 > 0
    # residual s (0.2 d1 + 0.2 d2 - 0.6 d3) = s (-0.2, 0.6, 0.6, -1.0): RMSPE s sqrt(0.44)
    assert pre_r == pytest.approx(s * np.sqrt(0.44), rel=1e-12)


def test_synthetic_control_recovers_weights_and_the_post_gap():
    rng = np.random.default_rng(11)
    weeks = pd.date_range(EVENT_WEEK - pd.Timedelta(weeks=60), periods=90, freq="7D")
    donors = {f"D{i}": 6 + i + np.cumsum(rng.normal(0, 0.05, len(weeks))) for i in range(4)}
    treated = 9 + 0.7 * donors["D1"] + 0.3 * donors["D3"] + 0.1 * (weeks >= EVENT_WEEK)
    rows = [
        {"card": c, "week": w, "log_price": v}
        for c, s in {**donors, "T": treated}.items()
        for w, v in zip(weeks, s, strict=True)
    ]
    sc = retail.synthetic_control(pd.DataFrame(rows), "T", list(donors), publication=PUB)
    assert sc.weights.reindex(list(donors)).to_numpy() == pytest.approx([0, 0.7, 0, 0.3], abs=1e-3)
    assert sc.mean_gap(0, 26) == pytest.approx(0.1, abs=1e-3)
    assert sc.pre_rmspe < 1e-3 and sc.rank == 1
    assert sc.summary().as_text().count("Donor weights") == 1


@pytest.mark.slow
def test_placebo_ranks_are_uniform_under_the_null():
    """Exchangeable null panels: the treated card's RMSPE-ratio rank among 5 cards is uniform
    (seeded Monte Carlo, 300 panels; each rank's share within 0.2 +- 0.08)."""
    rng = np.random.default_rng(2024)
    weeks = pd.date_range(EVENT_WEEK - pd.Timedelta(weeks=30), periods=40, freq="7D")
    ranks = []
    for _ in range(300):
        common = np.cumsum(rng.normal(0, 0.03, len(weeks)))
        rows = [
            {"card": c, "week": w, "log_price": 6 + common[t] + rng.normal(0, 0.05)}
            for c in ["T", "A", "B", "C", "D"]
            for t, w in enumerate(weeks)
        ]
        sc = retail.synthetic_control(
            pd.DataFrame(rows),
            "T",
            ["A", "B", "C", "D"],
            publication=PUB,
            pre_weeks=20,
            post_weeks=8,
            placebo_shift=8,
        )
        ranks.append(sc.rank)
    share = np.bincount(ranks, minlength=6)[1:] / len(ranks)
    assert np.all(np.abs(share - 0.2) < 0.08), share


def test_rank_p_counts_the_actual_unit_and_ties():
    assert kern.rank_p(3.0, np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(3 / 5)
    assert kern.rank_p(9.0, np.array([1.0, np.nan])) == pytest.approx(1 / 2)
    assert np.isnan(kern.rank_p(np.nan, np.array([1.0, 2.0])))
    # each card's rank among all, ties sharing the lower place: 3, 1, 3, 2 -> 2, 4, 2, 3
    assert kern.ranks(np.array([3.0, 1.0, 3.0, 2.0])).tolist() == [2, 4, 2, 3]
    assert kern.rmspe(np.array([0.3, np.nan, -0.4])) == pytest.approx(np.sqrt(0.125))
    assert np.isnan(kern.rmspe(np.array([np.nan])))


def test_two_card_design_ties_count_against_the_treated_card():
    """With one control the two cards mirror each other (beta_C = -beta_T, gap_C = -gap_T), so every
    statistic ties and every p-value is 2/2; computed along different floating-point paths the
    tied statistics differ here by ~1e-12 relative, which a strict comparison (or an absolute 1e-12)
    breaks in the treated card's favour for this panel (p = 1/2)."""
    p = _panel(0.1, 0.05, seed=8, n_controls=1)
    did = retail.event_study(p, "T", ["C0"], publication=PUB, effective=EFF)
    assert did.horizons["p_randomization"].tolist() == [1.0, 1.0, 1.0]
    assert did.pretrend["p"] == 1.0
    sc = retail.synthetic_control(p, "T", ["C0"], publication=PUB)
    assert sc.placebo_space["rank"].tolist() == [2, 2] and sc.p == 1.0
    assert sc.weights.tolist() == [1.0]


def test_synthetic_control_without_a_post_gap_is_an_error():
    p = _panel(0.1, 0.05, seed=8, n_controls=2)
    p = p[~((p["card"] == "T") & (p["week"] >= EVENT_WEEK))]
    with pytest.raises(EstimationError, match="T: no week after the rule"):
        retail.synthetic_control(p, "T", ["C0", "C1"], publication=PUB)


def _series(rows) -> pd.DataFrame:
    f = pd.DataFrame(rows, columns=["date", "product", "price"])
    return f.assign(date=pd.to_datetime(f["date"]), file=retail.AMAZON_FILE, market="Amazon")


def test_weekly_panel_takes_the_last_price_keeps_gaps_and_drops_outliers():
    days = pd.date_range("2023-09-04", "2023-10-29", freq="D")
    rows = [
        (d, "X", 100.0 + i)
        for i, d in enumerate(days)
        if not "2023-09-18" <= str(d.date()) <= "2023-09-24"
    ]
    rows = [r if r[0] != pd.Timestamp("2023-10-12") else (r[0], "X", 20.0) for r in rows]
    w = retail.weekly_panel(_series(rows), ["X"], "2023-09-04", "2023-10-29").set_index("week")
    assert w.loc["2023-09-04", "price"] == 106.0 and w.loc["2023-09-04", "n_days"] == 7
    assert np.isnan(w.loc["2023-09-18", "price"]) and w.loc["2023-09-18", "n_days"] == 0
    assert w.loc["2023-10-09", "n_flagged"] == 1 and w.loc["2023-10-09", "n_days"] == 6
    c = retail.panel_counts(w.reset_index()).iloc[0]
    assert (c["weeks"], c["weeks_observed"], c["weeks_missing"], c["days_flagged"]) == (8, 7, 1, 1)
    with pytest.raises(SpecificationError, match="has no card"):
        retail.weekly_panel(_series(rows), ["Y"], "2023-09-04", "2023-10-29")


def test_ebay_comparison_shows_disagreements():
    am = _series([("2023-09-10", "X", 100.0), ("2023-10-10", "X", 110.0)])
    eb = pd.DataFrame(
        {
            "date": pd.to_datetime(["2023-09-01", "2023-10-01"]),
            "product": "X",
            "price": [80.0, 76.0],
            "file": retail.EBAY_FILE,
            "market": "US eBay sold",
        }
    )
    out = retail.ebay_comparison(pd.concat([am, eb]), ["X"], "2023-09-01", "2023-10-01")
    assert out["amazon_change_pct"].iloc[1] == pytest.approx(10.0)
    assert out["ebay_change_pct"].iloc[1] == pytest.approx(-5.0)
    assert out["disagree"].tolist() == [False, True]


def test_rule_coverage_is_cited_and_validated(tmp_path):
    cov = retail.rule_coverage().set_index("card")
    assert cov.loc["GeForce RTX 4090", "treated"] == "yes"
    assert "sec.gov" in cov.loc["GeForce RTX 4090", "source_url"]
    assert cov.loc["RTX 4000 Ada", "treated"] == ""
    bad = tmp_path / "c.csv"
    bad.write_text("card,treated,basis,source_url,confidence,note\nX,maybe,,,,\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"c.csv:2: treated must be yes, no or empty"):
        retail.rule_coverage(bad)
    bad.write_text("card,treated,basis,source_url,confidence,note\nX,no,b,,,\n", encoding="utf-8")
    with pytest.raises(DataError, match="needs a source_url"):
        retail.rule_coverage(bad)


def test_rule_dates_come_from_the_registry():
    d = retail.rule_dates()
    assert (d["publication"], d["effective"]) == (PUB, EFF)


def test_real_series_rtx4090(shared_hardware_dir):
    s = hardware.load_us_retail(shared_hardware_dir)
    cov = retail.rule_coverage()
    controls = cov.loc[cov["treated"] == "no", "card"].tolist()
    w = retail.weekly_panel(s, ["GeForce RTX 4090", *controls], "2022-12-01", "2024-06-30")
    t = w[w["card"] == "GeForce RTX 4090"].set_index("week")
    assert t.loc["2023-10-16", "price"] == pytest.approx(1959.99)  # Sunday 2023-10-22
    assert t.loc["2023-10-23", "price"] == pytest.approx(2048.99)  # the 1,004.95 day is flagged
    assert t.loc["2023-10-23", "n_flagged"] == 1
    assert t.loc["2023-11-06":"2023-11-20", "price"].isna().all()  # out of stock: not filled
    d = retail.rule_dates()
    did = retail.event_study(w, "GeForce RTX 4090", controls, **d)
    assert did.controls == ("GeForce RTX 3090", "GeForce RTX 3090 Ti", "GeForce RTX 3070")
    h = did.horizons.set_index("horizon").loc["4:12"]
    assert (h["weeks_observed"], h["n_cards"]) == (7, 4)
    assert h["effect"] == pytest.approx(0.0514, abs=5e-4)
    head = retail.retail_headline(did)
    assert head["horizon_weeks"] == "4:12" and head["n_cards"] == 4
