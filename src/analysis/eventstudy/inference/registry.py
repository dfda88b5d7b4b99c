"""The test registry: names, which tests can run on a design (decided here only), and :func:`run_tests`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence

from analysis.errors import SpecificationError
from analysis.eventstudy.inference import nonparametric as nonpar
from analysis.eventstudy.inference import parametric as par
from analysis.eventstudy.inference._common import _RUN_CACHE, Days, _car
from analysis.eventstudy.inference.resampling import permutation, wild_bootstrap
from analysis.eventstudy.inference.results import TestInputs, TestResult
from analysis.eventstudy.inference.single_firm import sq, t_prediction_error

#: Single-firm tests on :class:`TestInputs` (one entry per firm), in display order.
SINGLE_FIRM_TESTS: dict[str, Callable[..., TestResult]] = {
    "t_prediction_error": t_prediction_error,
    "sq": sq,
    "permutation": permutation,
}

#: Single-firm tests from the event-dummy regression of each firm
#: (:func:`~analysis.eventstudy.inference.single_firm.event_dummy_regression`, then
#: :func:`~analysis.eventstudy.inference.single_firm.dummy_results`); they need a model with
#: estimated parameters.
DUMMY_TESTS: tuple[str, ...] = ("dummy_ols", "dummy_hac")

#: Every per-firm test, in display order.
FIRM_TESTS: tuple[str, ...] = (*SINGLE_FIRM_TESTS, *DUMMY_TESTS)

MULTI_FIRM_TESTS: dict[str, Callable[..., TestResult]] = {
    "cross_sectional_t": par.cross_sectional_t,
    "bw_cda": par.bw_cda,
    "bw_1980": par.bw_1980,
    "patell": par.patell,
    "bmp": par.bmp,
    "kp_bmp": par.kp_bmp,
    "kp_patell": par.kp_patell,
    "lamb": par.lamb,
    "skewness_corrected_t": par.skewness_corrected_t,
    "sign": nonpar.sign,
    "generalized_sign": nonpar.generalized_sign,
    "corrado_rank": nonpar.corrado_rank,
    "corrado_zivney_rank": nonpar.corrado_zivney_rank,
    "corrado_zivney_sign": nonpar.corrado_zivney_sign,
    "wilcoxon": nonpar.wilcoxon,
    "grank": nonpar.grank,
    "grank_z": nonpar.grank_z,
    "wild_bootstrap": wild_bootstrap,
}

#: Multi-firm tests whose null distribution assumes cross-sectionally independent ARs: their
#: size is wrong when event dates cluster (a peer group on one date). The time-series based
#: tests (bw_cda, lamb, the Corrado/Corrado-Zivney tests with their day-mean dispersion, grank),
#: the KP-adjusted tests and the wild bootstrap (one multiplier per day for all firms) are not in it.
INDEPENDENCE_ASSUMED: frozenset[str] = frozenset(
    {
        "cross_sectional_t",
        "bw_1980",
        "patell",
        "bmp",
        "skewness_corrected_t",
        "sign",
        "generalized_sign",
        "wilcoxon",
        "grank_z",
    }
)

#: Minimum number of firms (with a complete CAR) each multi-firm test needs.
MIN_FIRMS: dict[str, int] = {name: 1 for name in MULTI_FIRM_TESTS} | {
    "cross_sectional_t": 2,
    "bmp": 2,
    "kp_bmp": 2,
    "kp_patell": 2,
    "grank": 2,
    "grank_z": 2,
    "skewness_corrected_t": 3,
    "wild_bootstrap": 2,
}


def applicable_tests(
    n_usable: int, *, has_market: bool, shared_date: bool = True
) -> tuple[list[str], dict[str, str]]:
    """Which multi-firm tests can run on a design, and why each other one cannot.

    ``n_usable`` firms have a complete CAR; ``has_market``: the model has a market series;
    ``shared_date``: every firm has the same event date. Returns the runnable tests in registry
    order and, in the same order, ``{test: reason}`` for the others (the text a table shows):
    a test needs :data:`MIN_FIRMS` firms; ``lamb`` needs a market series on one shared date.
    """
    reasons = {
        name: f"not computed: needs at least {MIN_FIRMS[name]} firms with complete ARs"
        for name in MULTI_FIRM_TESTS
        if n_usable < MIN_FIRMS[name]
    }
    if not shared_date:
        reasons.setdefault("lamb", "not computed: needs one shared event date")
    if not has_market:
        reasons.setdefault("lamb", "not computed: needs a market index (this model has none)")
    return [name for name in MULTI_FIRM_TESTS if name not in reasons], reasons


def _all_tests() -> dict[str, Callable[..., TestResult]]:
    return {**SINGLE_FIRM_TESTS, **MULTI_FIRM_TESTS}


def get_test(name: str) -> Callable[..., TestResult]:
    """The test function registered under ``name`` (lower snake case)."""
    tests = _all_tests()
    if name not in tests:
        raise SpecificationError(f"unknown test {name!r}; valid names: {', '.join(sorted(tests))}")
    return tests[name]


@functools.cache
def _options_of(fn: Callable[..., TestResult]) -> frozenset[str]:
    return frozenset(
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    )


def run_tests(
    inputs: TestInputs,
    days: Days,
    names: Sequence[str] | None = None,
    **options: object,
) -> list[TestResult]:
    """Run several tests on the same inputs and window, in registry order (or the order of ``names``).

    ``options`` are routed to the tests that accept them (e.g. ``form``, ``patell_k``,
    ``p_hat``, ``blocking``, ``constants``, ``car_form``, ``rank_centre``, ``permutations``,
    ``replications``, ``seed``); an option that no selected test accepts is a
    SpecificationError. With ``names=None`` every single-firm test runs, plus every multi-firm test
    :func:`applicable_tests` allows for the firms with a complete CAR (``lamb`` only when market
    returns are given).
    """
    tests = _all_tests()
    token = _RUN_CACHE.set({})
    try:
        return _run(inputs, days, names, options, tests)
    finally:
        _RUN_CACHE.reset(token)


def _run(
    inputs: TestInputs,
    days: Days,
    names: Sequence[str] | None,
    options: dict[str, object],
    tests: dict[str, Callable[..., TestResult]],
) -> list[TestResult]:
    if names is None:
        has_market = inputs.market_est is not None and inputs.market_evt is not None
        multi, _ = applicable_tests(_car(inputs, days).used.size, has_market=has_market)
        chosen = [*SINGLE_FIRM_TESTS, *multi]
    else:
        if isinstance(names, str):
            names = [names]
        chosen = list(names)
        for nm in chosen:
            get_test(nm)
    accepted = {nm: _options_of(tests[nm]) for nm in chosen}
    known = set().union(*accepted.values()) if accepted else set()
    unknown = sorted(set(options) - known)
    if unknown:
        raise SpecificationError(
            f"option(s) {unknown} are not accepted by any of the tests {chosen}; "
            f"accepted options: {sorted(known) or 'none'}"
        )
    return [
        tests[nm](inputs, days, **{k: v for k, v in options.items() if k in accepted[nm]})
        for nm in chosen
    ]
