"""The estudy2 vignette through the whole public pipeline: prices -> NYSE session grid -> log
returns -> event_study(convention="estudy2") -> tests with estudy2's options. Every parametric
column, sign, generalized sign, Wilcoxon W+ and the OLS alphas and betas match the printed values
to their printed precision (see tests/test_inference_estudy2.py for the inference layer alone)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis as an
from tests.test_inference_estudy2 import DATES, FIRMS, OLS, PRINTED, W_PLUS, assert_printed

COLUMNS = {  # printed column -> (package test, options)
    "bw_1980": ("bw_1980", {}),
    "bw_1985": ("bw_cda", {}),
    "t_test": ("cross_sectional_t", {}),
    "patell": ("patell", {"patell_k": 2}),
    "bmp": ("bmp", {}),
    "lamb": ("lamb", {}),
    "sign": ("sign", {}),
    "gsign": ("generalized_sign", {"p_hat": "pooled"}),
}


@pytest.fixture(scope="module")
def study(estudy2_reference_dir):
    rates = pd.read_csv(estudy2_reference_dir / "rates.csv", index_col=0, parse_dates=True)
    # prices whose log returns are exactly the vignette's: start each series at 1 the session
    # before its first return (2019-04-01 for the full series, the day before the IPO firms' first)
    first = pd.Timestamp("2019-04-01")
    px = {}
    for col in rates.columns:
        r = rates[col]
        start = r.first_valid_index()
        idx = rates.index[rates.index.get_loc(start) - 1] if start != rates.index[0] else first
        level = np.exp(r.loc[start:].cumsum())
        px[col] = pd.concat([pd.Series([1.0], index=[idx]), level])
    prices = pd.DataFrame(px).sort_index()
    res = an.event_study(
        FIRMS,
        "2020-03-16",
        market="^GSPC",
        estimation=(-240, -1),
        window=(0, 4),
        return_kind="log",
        convention="estudy2",
        prices=prices,
    )
    return res


def test_windows_and_lengths(study):
    assert study.window_dates("estimation") == (
        pd.Timestamp("2019-04-02"),
        pd.Timestamp("2020-03-13"),
    )
    assert [f"{d:%Y-%m-%d}" for d in study.dates["AMZN"]] == DATES
    assert study.fit_stats["n_estimation"].tolist() == [240, 227, 212, 240, 240, 240, 240]


def test_ols_alpha_beta(study):
    for firm, (a, b) in OLS.items():
        assert_printed(study.params.loc[firm, "alpha"], a, f"{firm} alpha")
        assert_printed(study.params.loc[firm, "beta"], b, f"{firm} beta")


@pytest.mark.parametrize("day", range(5))
def test_daily_columns(study, day):
    assert_printed(study.ar.loc[day].mean(), PRINTED["mean"][day], f"mean AR {DATES[day]}")
    for printed, (name, opts) in COLUMNS.items():
        stat = study.tests((day, day), names=[name], **opts)[name].stat
        assert_printed(stat, PRINTED[printed][day], f"{printed} {DATES[day]}")
    w = study.tests((day, day), names=["wilcoxon"])["wilcoxon"]
    assert w.extra["w_plus"] == W_PLUS[day]
