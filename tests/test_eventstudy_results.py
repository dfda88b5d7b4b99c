"""Results objects as a statsmodels user expects them: coefficients in ``params``, the CAR's
estimate/std_error/conf_int, one test-table type and one summary type for every results class."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis as an
from analysis._summary import Summary
from analysis.errors import SpecificationError
from analysis.eventstudy import CARResult, TestTable, inference
from analysis.studies import exposure
from tests.test_eventstudy import EVENT, _prices
from tests.test_exposure import _cs
from tests.test_factcheck import _run as _factcheck


@pytest.fixture(scope="module")
def px() -> pd.DataFrame:
    return _prices()


@pytest.fixture(scope="module")
def res(px):
    return an.event_study(["AAA", "BBB", "CCC"], EVENT, prices=px)


def test_params_hold_the_coefficients_only(px, res):
    assert list(res.params.columns) == ["alpha", "beta"]
    assert list(res.fit_stats.columns) == ["sigma", "r2", "n_estimation", "n_missing", "dof"]
    assert res.fit_stats.loc["BBB", "n_missing"] == 2
    assert res.fit_stats.loc["AAA", "dof"] == res.fit_stats.loc["AAA", "n_estimation"] - 2
    fm = an.event_study("AAA", EVENT, model="factor_model", factors=["SPY", "SOXX"], prices=px)
    assert list(fm.params.columns) == ["alpha", "beta_SPY", "beta_SOXX"]
    ma = an.event_study("AAA", EVENT, model="market_adjusted", prices=px)
    assert list(ma.params.columns) == [] and list(ma.params.index) == ["AAA"]


def test_car_conf_int_is_estimate_plus_minus_t_quantile_times_std_error(res):
    cr = res.car((0, 1))
    assert isinstance(cr, CARResult)
    for alpha in (0.05, 0.10):
        ci = cr.conf_int(alpha)
        assert list(ci.columns) == ["lower", "upper"]
        assert ci.loc["CCC"].isna().all()  # CCC misses a return on day +1: no CAR, no interval
        for firm in ("AAA", "BBB"):
            q = stats.t.ppf(1 - alpha / 2, cr.dof[firm])
            assert ci.loc[firm, "lower"] == pytest.approx(
                cr.estimate[firm] - q * cr.std_error[firm], rel=1e-12
            )
            assert ci.loc[firm, "upper"] == pytest.approx(
                cr.estimate[firm] + q * cr.std_error[firm], rel=1e-12
            )
    assert cr.dof["AAA"] == res.fit_stats.loc["AAA", "dof"]
    assert cr.tstat["AAA"] == cr.estimate["AAA"] / cr.std_error["AAA"]


def test_car_is_the_statistics_layer_car_test(res):
    days = np.flatnonzero((res.rel_days >= -1) & (res.rel_days <= 3))
    ct = inference.car_test(res._inputs, days)
    cr = res.car()
    np.testing.assert_array_equal(cr.estimate.to_numpy(), ct.estimate)
    np.testing.assert_array_equal(cr.std_error.to_numpy(), ct.std_error)
    np.testing.assert_array_equal(cr.tstat.to_numpy(), ct.tstat)
    np.testing.assert_array_equal(cr.pvalue.to_numpy(), ct.pvalue)
    np.testing.assert_array_equal(cr.dof.to_numpy(), ct.dof)
    # the same numbers as the prediction-error t test wherever a firm has a complete CAR
    t = inference.t_prediction_error(res._inputs, days)
    ok = ct.used
    np.testing.assert_array_equal(cr.tstat.to_numpy()[ok], np.asarray(t.stat)[ok])
    np.testing.assert_array_equal(cr.pvalue.to_numpy()[ok], np.asarray(t.pvalue)[ok])
    assert np.isfinite(cr.std_error["CCC"])  # the standard error exists without the CAR
    ft = res.firm_tests()
    assert ft[("AAA", "t_prediction_error")].pvalue == cr.pvalue["AAA"]
    # CCC misses a return inside the window: no CAR, and its per-firm tests say why
    assert np.isnan(cr.estimate["CCC"]) and cr.n == 2
    assert ft[("CCC", "t_prediction_error")].reason == "no complete abnormal returns"


def test_every_test_table_is_one_type(px, res):
    cross, firm = res.car().tests(), res.firm_tests()
    assert isinstance(cross, TestTable) and isinstance(firm, TestTable)
    assert list(cross.to_frame().columns) == list(firm.to_frame().columns)
    assert firm.to_frame().index.names == ["firm", "test"]
    assert firm.names == ["t_prediction_error", "sq", "permutation", "dummy_ols", "dummy_hac"]
    with pytest.raises(KeyError, match=r"one row per firm .*tt\[\('AAA', 'sq'\)\]"):
        firm["sq"]
    one = an.event_study("AAA", EVENT, model="market_adjusted", prices=px)
    rows = one.firm_tests().to_frame()
    assert rows.loc[("AAA", "dummy_hac"), "reason"] == (
        "not applicable: market_adjusted estimates no parameters"
    )
    assert np.isnan(rows.loc[("AAA", "dummy_hac"), "pvalue"])
    # the JSON document and the headline keep only the tests the model has
    assert set(one.to_dict()["firms"]["AAA"]["tests"]) == {
        "t_prediction_error",
        "sq",
        "permutation",
    }
    assert one.headline()["dummy_hac_pvalue"] is None
    with pytest.raises(SpecificationError, match="need two or more firms"):
        one.car().tests()


def test_names_do_not_stutter(res):
    assert res.event_day.date == pd.Timestamp(EVENT)
    assert str(res.event_day).startswith("day 0 = 2023-10-17 (")
    cr = res.car()
    assert float(cr) == cr.caar
    with pytest.warns(DeprecationWarning, match="CARResult.car is renamed CARResult.estimate"):
        old = cr.car
    assert old.equals(cr.estimate)


def _every_results_object(px, res):
    cars, exp = _cs()
    return {
        "EventStudyResults": res,
        "CARResult": res.car(),
        "CARResult (one firm)": an.event_study("AAA", EVENT, prices=px).car(),
        "TestTable": res.tests(),
        "TestTable (per firm)": res.firm_tests(),
        "ExposureRegression": exposure.china_exposure_regression(cars, exp),
        "FactCheck": _factcheck(),
    }


def test_every_summary_is_one_type_with_text_and_html(px, res, capsys):
    for name, obj in _every_results_object(px, res).items():
        s = obj.summary()
        assert type(s) is Summary, name
        assert obj.summary() is s, f"{name}: the summary is built once"
        text, html = s.as_text(), s.as_html()
        assert str(obj) == repr(obj) == str(s) == text, name
        assert obj._repr_html_() == html == s._repr_html_(), name
        assert text.splitlines()[1] == "=" * 96 and text.endswith("=" * 96), name
        assert html.startswith("<p><b>") and "<table" in html, name
    assert capsys.readouterr().out == ""


def test_summary_contents(px, res):
    text = res.summary().as_text()
    assert "Day 0:" in text and "kp_bmp" in text and "(assumes independence)" in text
    assert "Equal-weighted portfolio as one firm: CAR" in text
    reg = exposure.china_exposure_regression(*_cs())
    assert "only 6 firms (6 firm-events)" in reg.summary().as_text()
    assert reg.params["china_share"] == reg.to_frame().set_index("term").loc["china_share", "coef"]
    assert list(reg.conf_int().columns) == ["lower", "upper"]
    fc = _factcheck()
    assert fc.summary().as_text().count("[consistent]") == int((fc.verdicts == "consistent").sum())


def test_json_document_keys_are_unchanged(res):
    doc = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert list(doc) == [
        "day0",
        "day0_reason",
        "event",
        "model",
        "market",
        "factors",
        "convention",
        "return_kind",
        "estimation",
        "window",
        "car_window",
        "firms",
        "cross_section",
        "tests",
    ]
    assert doc["tests"] == doc["cross_section"]["tests"]  # the study's own: the group's
    assert list(doc["firms"]["AAA"]) == [
        "alpha",
        "beta",
        "params",
        "sigma",
        "r2",
        "n_estimation",
        "day0",
        "ar",
        "car",
        "car_se",
        "bhar",
        "tests",
    ]
    assert list(doc["firms"]["AAA"]["tests"]) == [
        "t_prediction_error",
        "sq",
        "permutation",
        "dummy_ols",
        "dummy_hac",
    ]
    assert doc["firms"]["CCC"]["car"] is None and doc["firms"]["CCC"]["car_se"] is None
    assert list(doc["cross_section"]) == ["caar", "n", "rbar", "tests", "portfolio"]
    assert doc["firms"]["AAA"]["sigma"] == res.fit_stats.loc["AAA", "sigma"]
