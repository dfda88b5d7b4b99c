"""Event-study test statistics as pure, vectorized numpy/scipy functions.

Every test has the signature ``fn(inputs: TestInputs, days, **options) -> TestResult``:

* ``inputs`` holds the event-window abnormal returns ``ar`` (N, L2), the estimation-window
  residuals ``resid`` (N, L1) on a common day axis, the residual standard deviations ``sigma``,
  the estimation counts ``n_est``, the number of estimated mean parameters ``k`` and the
  prediction-error covariance factors ``cov`` (N, L2, L2) with
  ``Var(AR_i | X) = sigma_i**2 * C_i``.
* ``days`` are column indices into the event window (a slice or a sequence). One index is a
  daily test; several are a CAR test over those days. A firm with any missing AR on ``days`` has
  no CAR and is left out; ``TestResult.n`` says how many firms were used.

The variance of a multi-day CAR is always the exact ``sigma_i**2 * 1' C_i[days, days] 1``
(Campbell, Lo & MacKinlay 1997, sec. 4.4; Salinger 1992, JFQA 27(1):39-53), never the sum of the
daily factors, which omits the covariances that estimation error induces between event days.
:func:`car_test` gives each firm's CAR with that standard error, t and p in one vectorized call.

Formula numbers in the docstrings, e.g. "formula (8)", refer to ``docs/formulas.md``: each
statistic with its null distribution, assumptions and conventions. Single-firm tests return one
entry per firm (arrays; NaN for a firm left out, whose ``n`` is 0); multi-firm tests return floats.
P-values are two-sided.

Modules: :mod:`.results` (inputs and result row), :mod:`.single_firm` (prediction-error t, SQ,
event-dummy regressions), :mod:`.parametric`, :mod:`.nonparametric`, :mod:`.resampling`
(the seeded permutation test of one firm and the wild bootstrap of the CAAR), :mod:`.registry`
(:data:`SINGLE_FIRM_TESTS`, :data:`FIRM_TESTS`, :data:`MULTI_FIRM_TESTS`, :data:`MIN_FIRMS`,
:data:`INDEPENDENCE_ASSUMED` -- tests whose null assumes cross-sectional independence: flag them
when event dates cluster --, :func:`applicable_tests`, :func:`get_test` and :func:`run_tests`).
"""

from __future__ import annotations

from analysis.eventstudy.inference.nonparametric import (
    corrado_rank,
    corrado_zivney_rank,
    corrado_zivney_sign,
    generalized_sign,
    grank,
    grank_z,
    sign,
    wilcoxon,
)
from analysis.eventstudy.inference.parametric import (
    bmp,
    bw_1980,
    bw_cda,
    cross_sectional_t,
    kp_bmp,
    kp_patell,
    lamb,
    patell,
    skewness_corrected_t,
)
from analysis.eventstudy.inference.pooled import (
    StackedDummyRegression,
    episode_sign_test,
    mean_standardized_car,
    stacked_dummy_regression,
)
from analysis.eventstudy.inference.registry import (
    DUMMY_TESTS,
    FIRM_TESTS,
    INDEPENDENCE_ASSUMED,
    MIN_FIRMS,
    MULTI_FIRM_TESTS,
    SINGLE_FIRM_TESTS,
    applicable_tests,
    get_test,
    run_tests,
)
from analysis.eventstudy.inference.resampling import (
    DRAWS_DEFAULT,
    SEED_DEFAULT,
    permutation,
    random_subsets,
    wild_bootstrap,
)
from analysis.eventstudy.inference.results import TestInputs, TestResult
from analysis.eventstudy.inference.single_firm import (
    CarTest,
    DummyRegression,
    car_test,
    dummy_results,
    event_dummy_regression,
    newey_west_lags,
    sq,
    t_prediction_error,
)

__all__ = [
    "DRAWS_DEFAULT",
    "DUMMY_TESTS",
    "FIRM_TESTS",
    "INDEPENDENCE_ASSUMED",
    "MIN_FIRMS",
    "MULTI_FIRM_TESTS",
    "SEED_DEFAULT",
    "SINGLE_FIRM_TESTS",
    "CarTest",
    "DummyRegression",
    "StackedDummyRegression",
    "TestInputs",
    "TestResult",
    "applicable_tests",
    "bmp",
    "bw_1980",
    "bw_cda",
    "car_test",
    "corrado_rank",
    "corrado_zivney_rank",
    "corrado_zivney_sign",
    "cross_sectional_t",
    "dummy_results",
    "episode_sign_test",
    "event_dummy_regression",
    "generalized_sign",
    "get_test",
    "grank",
    "grank_z",
    "kp_bmp",
    "kp_patell",
    "lamb",
    "mean_standardized_car",
    "newey_west_lags",
    "patell",
    "permutation",
    "random_subsets",
    "run_tests",
    "sign",
    "skewness_corrected_t",
    "sq",
    "stacked_dummy_regression",
    "t_prediction_error",
    "wilcoxon",
    "wild_bootstrap",
]
