"""The statistics layer's single per-firm CAR test, its result rows and its registry decisions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.eventstudy import inference as inf
from analysis.eventstudy.inference import single_firm
from tests.test_inference import L1, SIG, A, N, make_inputs

pytestmark = pytest.mark.filterwarnings("error")


def test_car_test_gives_estimate_se_t_p_dof_per_firm_by_hand():
    ar = np.array(A)
    ar[2, 1] = np.nan  # firm 2 has no CAR over days 0..2
    x = make_inputs(ar=ar)
    ct = inf.car_test(x, [0, 1, 2])
    f = 3 + 9 / L1  # 1'C1 over 3 days for C = I + 1/L1
    for i in range(N):
        se = SIG[i] * math.sqrt(f)
        assert ct.std_error[i] == pytest.approx(se, rel=1e-12)  # every firm, CAR or not
        assert ct.dof[i] == L1 - 1
        if i == 2:
            assert not ct.used[i]
            assert math.isnan(ct.estimate[i]) and math.isnan(ct.tstat[i])
            assert math.isnan(ct.pvalue[i])
            continue
        car = sum(A[i])
        assert ct.used[i]
        assert ct.estimate[i] == pytest.approx(car, rel=1e-12)
        assert ct.tstat[i] == pytest.approx(car / se, rel=1e-12)
        assert ct.pvalue[i] == pytest.approx(2 * stats.t.sf(abs(car / se), L1 - 1), rel=1e-12)
    assert ct.days.tolist() == [0, 1, 2]


def test_t_prediction_error_is_car_test_restricted_to_the_firms_with_a_car():
    ar = np.array(A)
    ar[0, 2] = np.nan
    x = make_inputs(ar=ar)
    ct = inf.car_test(x, [1, 2])
    res = inf.t_prediction_error(x, [1, 2])
    np.testing.assert_array_equal(res.stat, ct.tstat)
    np.testing.assert_array_equal(res.pvalue, ct.pvalue)
    np.testing.assert_array_equal(res.extra["car"], ct.estimate)
    assert math.isnan(res.extra["se"][0]) and math.isfinite(ct.std_error[0])
    np.testing.assert_array_equal(res.extra["se"][1:], ct.std_error[1:])
    assert res.n.tolist() == [0, L1, L1, L1]


def test_a_test_not_computed_says_why_in_reason_not_in_variant():
    row = inf.TestResult.not_computed("lamb", 3, "not computed: needs one shared event date")
    assert row.reason == "not computed: needs one shared event date"
    assert row.variant == "" and row.distribution == "-" and row.n == 3
    assert math.isnan(row.stat) and math.isnan(row.pvalue) and not row.computed
    assert inf.cross_sectional_t(make_inputs(), [0]).reason == ""
    assert inf.cross_sectional_t(make_inputs(), [0]).computed
    with pytest.raises(ValueError, match="needs the reason"):
        inf.TestResult.not_computed("lamb", 3, "")


def test_applicable_tests_decides_which_multi_firm_tests_run_and_why_not():
    chosen, reasons = inf.applicable_tests(2, has_market=False, shared_date=False)
    assert reasons == {
        "skewness_corrected_t": "not computed: needs at least 3 firms with complete ARs",
        "lamb": "not computed: needs one shared event date",
    }
    assert chosen == [n for n in inf.MULTI_FIRM_TESTS if n not in reasons]
    _, reasons = inf.applicable_tests(1, has_market=False)
    assert list(reasons) == [
        "cross_sectional_t",
        "bmp",
        "kp_bmp",
        "kp_patell",
        "skewness_corrected_t",
        "grank",
        "grank_z",
        "wild_bootstrap",
        "lamb",
    ]
    assert reasons["lamb"] == "not computed: needs a market index (this model has none)"
    assert inf.applicable_tests(5, has_market=True) == (list(inf.MULTI_FIRM_TESTS), {})


def test_run_tests_without_names_runs_what_applicable_tests_allows():
    x = make_inputs(market_est=None, market_evt=None)
    names = [r.name for r in inf.run_tests(x, [0])]
    assert names == [*inf.SINGLE_FIRM_TESTS, *(n for n in inf.MULTI_FIRM_TESTS if n != "lamb")]


def test_one_registry_of_per_firm_tests():
    assert inf.FIRM_TESTS == ("t_prediction_error", "sq", "permutation", "dummy_ols", "dummy_hac")
    assert inf.event_dummy_regression is single_firm.event_dummy_regression


def test_dummy_results_are_the_regressions_car_rows():
    rng = np.random.default_rng(4)
    m = rng.normal(0, 0.01, 130)
    y = 0.001 + 1.2 * m + rng.normal(0, 0.02, 130)
    X = np.column_stack([np.ones(130), m])
    dr = inf.event_dummy_regression(y[:120], X[:120], y[120:], X[120:], [0, 1, 2])
    ols, hac = inf.dummy_results(dr)
    assert (ols.name, ols.stat, ols.pvalue, ols.n) == ("dummy_ols", dr.car_t_ols, dr.car_p_ols, 130)
    assert ols.distribution == f"t({130 - 2 - 10})" and ols.df == dr.df_resid == 118
    assert (hac.name, hac.stat, hac.pvalue) == ("dummy_hac", dr.car_t_hac, dr.car_p_hac)
    assert hac.distribution == f"N(0,1), Newey-West {dr.hac_lags} lags"
