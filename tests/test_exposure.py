"""China exposure: revenue shares, the market's verdict, the cross-section regression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.data import facts
from analysis.errors import DataError, EstimationError, SpecificationError
from analysis.studies import exposure


def _shares() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": ["NVDA"] * 4,
            "as_of": pd.to_datetime(["2022-11-11", "2023-08-18", "2023-11-17", "2025-02-21"]),
            "shares": pd.array(
                [2_460_000_000, pd.NA, 2_470_000_000, 24_400_000_000], dtype="Int64"
            ),
            "split_basis": ["pre_2024_split"] * 3 + ["post_2024_split"],
        }
    )


def test_china_share_series_keeps_bases_apart():
    s = exposure.china_share_series(facts.load_revenue_geography(), facts.load_peers_exposure())
    fy23 = s[(s["fiscal_year"] == "FY2023") & (s["basis"] == "billing location")].iloc[0]
    assert fy23["share"] == pytest.approx(5785 / 26974)
    assert fy23["change_pp"] == pytest.approx(100 * (5785 / 26974 - 7111 / 26914))
    hq = s[s["basis"] == "customer headquarters"].set_index(["fiscal_year", "presentation"])
    assert hq.loc[("FY2024", "re_presented_fy2026_10k"), "china"] == 12330
    # change_pp never crosses bases: the first HQ row of a presentation has no previous value
    assert np.isnan(hq.loc[("FY2024", "re_presented_fy2026_10k"), "change_pp"])
    billing = exposure.china_share_series(facts.load_revenue_geography(), basis="billing location")
    assert set(billing["basis"]) == {"billing location"}
    with pytest.raises(SpecificationError, match="basis 'ship-to' not available"):
        exposure.china_share_series(facts.load_revenue_geography(), basis="ship-to")


def test_revenue_by_region_shares_sum_to_one():
    r = exposure.revenue_by_region(facts.load_revenue_geography())
    g = r[r["region"] != "Total"].groupby(["fiscal_year", "presentation"])["share"].sum()
    assert np.allclose(g.to_numpy(), 1.0, atol=1e-4)


def test_pick_shares_nearest_confirmed():
    row = exposure.pick_shares(_shares(), "NVDA", "2023-10-17", split_basis="pre_2024_split")
    assert row["shares"] == 2_470_000_000 and row["gap_days"] == 31
    with pytest.raises(DataError, match="no confirmed share count for AMD"):
        exposure.pick_shares(_shares(), "AMD", "2023-10-17")


def test_market_value_change_hand_computed():
    q = pd.Series(
        [460.95, 439.38, 421.96, 421.01, 413.87],
        index=pd.to_datetime(
            ["2023-10-16", "2023-10-17", "2023-10-18", "2023-10-19", "2023-10-20"]
        ),
    )
    mv = exposure.market_value_change(
        q, _shares(), symbol="NVDA", start="2023-10-17", end="2023-10-20"
    )
    assert mv["change_usd"] == pytest.approx(2_470_000_000 * (413.87 - 439.38))  # -63.0 bn
    assert str(mv["shares_as_of"].date()) == "2023-11-17"
    with pytest.raises(DataError, match="NVDA: no quoted close on 2023-10-21"):
        exposure.market_value_change(
            q, _shares(), symbol="NVDA", start="2023-10-17", end="2023-10-21"
        )


def _verdict_inputs() -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Quoted closes 100 -> 90, FY2023 China revenue 5,000 m, one event window."""
    q = pd.Series([100.0, 90.0], index=pd.to_datetime(["2023-10-17", "2023-10-18"]))
    china = pd.DataFrame(
        {
            "fiscal_year": ["FY2023"],
            "basis": ["billing location"],
            "presentation": ["as_reported"],
            "china": [5000.0],
        }
    )
    w = pd.DataFrame(
        {
            "event_id": ["E"],
            "start": ["2023-10-17"],
            "end": ["2023-10-18"],
            "fiscal_year": ["FY2023"],
        }
    )
    return q, china, w


def test_market_verdict_implied_multiple():
    q, china, w = _verdict_inputs()
    v = exposure.market_verdict(q, _shares(), china, w).iloc[0]
    assert v["market_value_lost_usd"] == pytest.approx(24.7e9)
    assert v["implied_multiple"] == pytest.approx(24.7e9 / 5e9)


def _cs(n=6, seed=0):
    rng = np.random.default_rng(seed)
    share = np.linspace(0.05, 0.6, n)
    cars = pd.DataFrame(
        {
            "symbol": [f"S{i}" for i in range(n)],
            "event_id": "E08",
            "car": -0.01 - 0.2 * share + rng.normal(0, 0.001, n),
        }
    )
    exp = pd.DataFrame(
        {
            "symbol": cars["symbol"],
            "china_share": share,
            "basis": "billing location",
            "confidence_level": "high",
        }
    )
    return cars, exp


def test_regression_recovers_slope_and_warns_small_n():
    cars, exp = _cs()
    res = exposure.china_exposure_regression(cars, exp)
    t = res.to_frame().set_index("term")
    assert t.loc["china_share", "coef"] == pytest.approx(-0.2, abs=0.01)
    assert t.loc["china_share", "ci_low"] < -0.2 < t.loc["china_share", "ci_high"]
    assert res.n == 6 and not res.mixed_bases
    assert "only 6 firms (6 firm-events)" in str(res.summary()) and "fragile" in str(res.summary())
    assert res.cov_type == "HC3"


def test_regression_clusters_by_firm_when_firms_repeat():
    """Two events with the same six firms: a firm's share repeats, so errors cluster by firm."""
    import statsmodels.api as sm

    cars, exp = _cs()
    cars2 = cars.assign(event_id="E2", car=cars["car"][::-1].to_numpy())
    both = pd.concat([cars, cars2], ignore_index=True)
    res = exposure.china_exposure_regression(both, exp)
    assert res.n == 12 and res.n_firms == 6
    assert res.cov_type == "clustered by firm (G = 6), t(5)"
    d = both.merge(exp, on="symbol")
    X = np.column_stack([np.ones(12), d["china_share"], (d["event_id"] == "E2").astype(float)])
    ref = sm.OLS(d["car"].to_numpy(), X).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["symbol"])[0]}, use_t=True
    )
    t = res.to_frame().set_index("term")
    assert t.loc["china_share", "se"] == pytest.approx(ref.bse[1], rel=1e-10)
    assert t.loc["china_share", "pvalue"] == pytest.approx(ref.pvalues[1], rel=1e-10)
    assert t.loc["china_share", "se"] != pytest.approx(t.loc["china_share", "se_hc3"])
    assert "only 6 firms (12 firm-events)" in str(res.summary())


def test_regression_matches_statsmodels_hc3_by_hand():
    cars, exp = _cs()
    X = np.column_stack([np.ones(6), exp["china_share"]])
    y = cars["car"].to_numpy()
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    e = y - X @ beta
    h = np.einsum("ij,jk,ik->i", X, np.linalg.inv(X.T @ X), X)
    bread = np.linalg.inv(X.T @ X)
    cov = bread @ (X.T * (e**2 / (1 - h) ** 2)) @ X @ bread
    res = exposure.china_exposure_regression(cars, exp).to_frame().set_index("term")
    assert res.loc["china_share", "se_hc3"] == pytest.approx(np.sqrt(cov[1, 1]))


def test_regression_exclusions_and_bases():
    cars, exp = _cs(8)
    exp.loc[0, "confidence_level"] = "low"
    exp.loc[1, "china_share"] = np.nan
    exp.loc[2, "basis"] = "customer headquarters"
    with pytest.raises(
        exposure.MixedBasesError,
        match="billing location: S3, S4, S5, S6, S7; customer headquarters: S2",
    ):
        exposure.china_exposure_regression(cars, exp)
    res = exposure.china_exposure_regression(
        cars, exp, basis=["billing location", "customer headquarters"]
    )
    assert dict(zip(res.excluded["symbol"], res.excluded["reason"], strict=True)) == {
        "S0": "confidence low < medium",
        "S1": "no China share",
    }
    res2 = exposure.china_exposure_regression(cars, exp, basis="billing location")
    assert res2.n == 5 and "basis customer headquarters not selected" in set(
        res2.excluded["reason"]
    )
    res3 = exposure.china_exposure_regression(
        cars, exp, min_confidence="low", basis="billing location"
    )
    assert "S0" in set(res3.data["symbol"])


def test_regression_too_few_firms():
    cars, exp = _cs(3)
    exp.loc[0, "confidence_level"] = "unconfirmed"
    with pytest.raises(
        EstimationError, match=r"only 2 firm-event\(s\) left.*S0 \(confidence unconfirmed"
    ):
        exposure.china_exposure_regression(cars, exp)


def test_exposure_snapshot_latest_before():
    snap = exposure.exposure_snapshot(facts.load_peers_exposure(), before="2023-10-17").set_index(
        "symbol"
    )
    assert snap.loc["NVDA", "fiscal_year"] == "FY2023"
    assert snap.loc["ASML", "fiscal_year"] == "FY2022"  # FY2023 ends 2023-12-31, after the date
    assert "AVGO" not in snap.index


@pytest.mark.realdata
def test_real_market_verdict_oct_2023(real_prices):
    from analysis.data import prices

    q = prices.quoted_close("NVDA", "2023-10-01", "2023-10-31")
    assert q[pd.Timestamp("2023-10-17")] == pytest.approx(439.38, abs=0.005)
    mv = exposure.market_value_change(
        q, facts.load_shares_outstanding(), symbol="NVDA", start="2023-10-17", end="2023-10-20"
    )
    assert mv["change_usd"] / 1e9 == pytest.approx(-63.0, abs=0.05)


def test_market_value_change_restates_shares_in_the_units_of_the_prices():
    """A 2021 window with the nearest count filed in 2022: NVDA's 4:1 split of 2021-07-20 makes
    2.5 bn shares of 2022-05-20 0.625 bn shares in July-2021 units; a window across it is refused."""

    shares = facts.load_shares_outstanding()
    qc = pd.Series([700.0, 710.0], index=pd.to_datetime(["2021-07-14", "2021-07-15"]))
    out = exposure.market_value_change(
        qc, shares, symbol="NVDA", start="2021-07-14", end="2021-07-15"
    )
    assert out["shares_reported"] == 2.5e9 and out["shares"] == pytest.approx(0.625e9)
    assert out["change_usd"] == pytest.approx(0.625e9 * 10.0)
    across = pd.Series([751.19, 186.12], index=pd.to_datetime(["2021-07-19", "2021-07-20"]))
    with pytest.raises(SpecificationError, match="spans the split of 2021-07-20"):
        exposure.market_value_change(
            across, shares, symbol="NVDA", start="2021-07-19", end="2021-07-20"
        )


def test_market_verdict_abnormal_value_beside_the_raw_change():
    """CAR x market value at the close before the window: -5% of 2.47 bn x 100 = -12.35 bn."""
    q, china, w = _verdict_inputs()
    plain = exposure.market_verdict(q, _shares(), china, w)
    assert "abnormal_value_change_usd" not in plain.columns
    v = exposure.market_verdict(q, _shares(), china, w, cars={"E": -0.05}).iloc[0]
    assert v["market_value_start_usd"] == pytest.approx(247e9)
    assert v["abnormal_value_change_usd"] == pytest.approx(-12.35e9)
    assert v["abnormal_value_lost_usd"] == pytest.approx(12.35e9)
    assert v["abnormal_implied_multiple"] == pytest.approx(12.35e9 / 5e9)
    assert v["market_value_lost_usd"] == pytest.approx(24.7e9)  # the raw change is kept
    with pytest.raises(DataError, match=r"E: no NVDA CAR given in cars= \(have \['F'\]\)"):
        exposure.market_verdict(q, _shares(), china, w, cars={"F": -0.05})


def test_describe_errors_follows_the_reported_fit():
    cars, exp = _cs()
    one = exposure.china_exposure_regression(cars, exp)
    assert one.describe_errors().startswith("The HC3 standard errors treat the 6 firm-events")
    cars2 = cars.assign(event_id="E2", car=cars["car"][::-1].to_numpy())
    both = pd.concat([cars, cars2], ignore_index=True)
    two = exposure.china_exposure_regression(both, exp)
    text = two.describe_errors()
    assert text.startswith("The standard errors are clustered by firm (G = 6), t(5): they allow")
    assert "HC3" not in text
