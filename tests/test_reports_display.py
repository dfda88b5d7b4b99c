"""The report notebooks' tables: every column in the format a reader expects (returns in %,
p-values with three decimals, dates without a time), on synthetic results."""

from __future__ import annotations

import pandas as pd

from analysis.eventstudy import event_study
from analysis.reports import display
from tests.test_eventstudy import EVENT, _prices


def test_ar_table_formats_every_column():
    res = event_study(["AAA"], EVENT, market="SPY", prices=_prices(gaps=False))
    html = display.ar_table(res).to_html()
    f = res.to_frame()
    day0 = f[f["day"] == 0].iloc[0]
    for col in ("return", "expected", "ar", "car"):
        assert f">{day0[col]:+.2%}<" in html
    for col in ("ar_se", "car_se"):
        assert f">{day0[col]:.2%}<" in html
    assert f">{day0['ar_t']:+.2f}<" in html
    assert ">2023-10-17<" in html and "00:00:00" not in html


def test_group_tests_use_readers_names():
    class Peers:
        tests = pd.DataFrame(
            {
                "day0": [pd.Timestamp("2023-10-17")],
                "caar": [-0.0067],
                "n": [13],
                "kp_bmp_pvalue": [0.82561],
                "wild_bootstrap_pvalue": [0.8071],
            },
            index=pd.Index(["E08"], name="event"),
        )

    html = display.group_tests(Peers()).to_html()
    assert "KP-BMP p" in html and "wild bootstrap p" in html and "_pvalue" not in html
    assert ">0.826<" in html and ">0.807<" in html and ">-0.7%<" in html
    assert ">2023-10-17<" in html


def test_size_table_shows_rates_band_and_verdicts():
    from analysis.eventstudy.power import power

    pr = power(3, effect=0.0, sigma=0.02, n_sims=400, seed=2, tests=["kp_bmp", "bw_cda"])
    html = display.size_table(pr).to_html()
    lo, hi = pr.nominal_band()
    assert f"[{lo:.1%}, {hi:.1%}]" in html and "400 simulations" in html
    assert "KP-BMP" in html and "BW-CDA" in html and "kp_bmp" not in html
    assert f">{pr.power['kp_bmp']:.1%}<" in html
    assert ">holds<" in html or ">over-rejects<" in html or ">conservative<" in html
