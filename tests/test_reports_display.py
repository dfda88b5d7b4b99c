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


def test_size_table_shows_rates_bands_and_verdicts():
    import dataclasses

    from analysis.eventstudy.power import power

    pr = power(3, effect=0.0, sigma=0.02, n_sims=400, seed=2, tests=["kp_bmp", "bw_cda"])
    part = dataclasses.replace(
        pr, tests=("kp_bmp", "grank", "bmp"), rejections=(40, 9, 0), computed=(400, 100, 0)
    )
    html = display.size_table(part).to_html()
    assert "400 simulations" in html and "KP-BMP" in html and "GRANK" in html
    assert "kp_bmp" not in html and ">bmp<" in html  # a test without a reader's name keeps its own
    assert ">10.0%<" in html and ">over-rejects<" in html  # 40 of 400 against [2.5%, 8.0%]
    assert ">9.0%<" in html and ">holds<" in html and ">0.0% to 11.0%<" in html  # 9 of 100
    assert ">not computed<" in html and "nan" not in html
