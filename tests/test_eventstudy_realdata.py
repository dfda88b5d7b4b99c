"""Real data: NVDA and peers on 2023-10-17 (E08), checked against a computation straight from the
shared CSV files (pandas + statsmodels, no package code on the data path)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import analysis as an

pytestmark = pytest.mark.realdata


def _csv_returns(folder, symbols):
    cols = {}
    for s in symbols:
        df = pd.read_csv(folder / f"{s}.csv", parse_dates=["date"], index_col="date")
        cols[s] = df["adj_close"]
    px = pd.DataFrame(cols)
    return px.pct_change(fill_method=None)


def test_nvda_e08_market_model_against_csv(real_prices, shared_prices_dir):
    res = an.event_study(
        ["NVDA"], event="E08", market="SPY", estimation=(-250, -11), window=(-1, 3)
    )
    r = _csv_returns(shared_prices_dir, ["NVDA", "SPY"])
    d0 = r.index.get_loc(pd.Timestamp("2023-10-17"))
    est = r.iloc[d0 - 250 : d0 - 10]
    win = r.iloc[d0 - 1 : d0 + 4]
    fit = sm.OLS(est["NVDA"], sm.add_constant(est["SPY"])).fit()
    ar = win["NVDA"] - fit.params["const"] - fit.params["SPY"] * win["SPY"]
    assert res.event_day.date == pd.Timestamp("2023-10-17")
    assert res.fit_stats.loc["NVDA", "n_estimation"] == 240
    assert res.params.loc["NVDA", "beta"] == pytest.approx(fit.params["SPY"], abs=1e-10)
    np.testing.assert_allclose(res.ar["NVDA"].to_numpy(), ar.to_numpy(), atol=1e-12)
    # pinned figures (reported in the issue note)
    assert res.ar.loc[0, "NVDA"] == pytest.approx(-0.05118, abs=5e-5)
    assert res.car().estimate["NVDA"] == pytest.approx(-0.0627, abs=5e-4)
    assert res.params.loc["NVDA", "beta"] == pytest.approx(2.151, abs=1e-3)
    # raw NVDA return on 2023-10-17: 439.38 / 460.95 - 1 on quoted closes (dividend adj. ~0)
    assert win["NVDA"].iloc[1] == pytest.approx(439.38 / 460.95 - 1, abs=2e-5)


def test_nvda_after_close_8k_is_next_day(real_prices):
    res = an.event_study("NVDA", "E09", market="SPY")
    assert res.event_day.date == pd.Timestamp("2023-10-18")
    assert "17:27" in res.event_day.reason


def test_semis_peer_group_e08(real_prices):
    peers = an.peer_group("semis")
    res = an.event_study(peers, event="E08", market="SPY", window=(-1, 3))
    tt = res.car().tests().to_frame()
    assert tt.loc["cross_sectional_t", "n"] == len(peers) == 13
    rbar = tt.loc["kp_bmp", "rbar"]
    assert 0.2 < rbar < 0.8  # semiconductor residuals co-move
    # KP factor: t_adj = t_bmp * sqrt((1 - r)/(1 + (N - 1) r))
    factor = np.sqrt((1 - rbar) / (1 + 12 * rbar))
    assert tt.loc["kp_bmp", "stat"] == pytest.approx(tt.loc["bmp", "stat"] * factor, rel=1e-10)
    port = res.portfolio()
    np.testing.assert_allclose(port.ar["portfolio"], res.ar.mean(axis=1), atol=1e-12)
