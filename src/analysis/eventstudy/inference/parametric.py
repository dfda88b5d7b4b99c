"""Multi-firm parametric tests: cross-sectional t, Brown-Warner, Patell, BMP, Kolari-Pynnonen, Lamb and the skewness-corrected t."""

from __future__ import annotations

import math

import numpy as np

from analysis.errors import EstimationError, SpecificationError
from analysis.eventstudy.inference._common import (
    _FORMS,
    Days,
    _Car,
    _car,
    _choice,
    _colsum,
    _dof,
    _memo,
    _need,
    _normal_result,
    _patell_var,
    _sar_daily,
    _scar,
    _sd,
    _t_result,
    _used_rows,
)
from analysis.eventstudy.inference._kernels import pair_corr_sum
from analysis.eventstudy.inference.results import TestInputs, TestResult


def cross_sectional_t(inputs: TestInputs, days: Days) -> TestResult:
    """Cross-sectional t test of the CAAR, formula (6).

    t = CAAR / (S / sqrt(N)), S the cross-sectional sd of CAR_i (divisor N - 1), t(N - 1).
    Brown & Warner (1985, JFE 14:3-31); Boehmer, Musumeci & Poulsen (1991, JFE 30(2):253-272),
    "ordinary cross-sectional" test. Robust to event-induced variance; assumes cross-sectional
    independence (over-rejects under event-date clustering, Kolari & Pynnonen 2010).
    """
    c = _car(inputs, days)
    n = _need(c, "cross_sectional_t", 2)
    caar = float(c.car.mean())
    t = caar / (_sd(c.car, "CARs") / math.sqrt(n))
    return _t_result(
        "cross_sectional_t", t, n - 1, n, "sd of CAR_i with divisor N - 1", {"caar": caar}
    )


def _aar_series(inputs: TestInputs, c: _Car) -> np.ndarray:
    """Estimation-window AAR_s = mean over the used firms with data on day s (days with none dropped)."""

    def build() -> np.ndarray:
        s, cnt = _colsum(_used_rows(inputs, "resid", c))
        keep = cnt > 0
        return s[keep] / cnt[keep]

    return _memo(("aar", c.d.tobytes()), build)


def bw_cda(inputs: TestInputs, days: Days) -> TestResult:
    """Brown-Warner crude dependence adjustment ("CDA", portfolio time-series t), formula (7).

    t = CAAR / sqrt(L2 S^2(AAR)), S^2(AAR) the variance (divisor T_E - 1) of the estimation-window
    AAR series (mean residual over the used firms with data each day), t(T_E - 1), T_E = number
    of estimation days with at least one firm. Equals the sum of the daily statistics over
    sqrt(L2) (estudy2's ``car_brown_warner_1985``). Brown & Warner (1980, JFE 8:205-258;
    1985, JFE 14:3-31). Robust to cross-sectional correlation, not to event-induced variance.
    """
    c = _car(inputs, days)
    n = _need(c, "bw_cda", 1)
    aar = _aar_series(inputs, c)
    te = aar.size
    if te < 3:
        raise EstimationError(f"bw_cda needs at least 3 estimation days with data; got {te}")
    s2 = float(np.var(aar, ddof=1))
    if s2 <= 0:
        raise EstimationError("bw_cda: the estimation-window AAR series has zero variance")
    caar = float(c.car.mean())
    t = caar / math.sqrt(c.d.size * s2)
    return _t_result(
        "bw_cda",
        t,
        te - 1,
        n,
        "BW 1985 crude dependence adjustment, S(AAR) divisor T_E - 1",
        {"caar": caar, "sd_aar": math.sqrt(s2)},
    )


def bw_1980(inputs: TestInputs, days: Days) -> TestResult:
    """Brown-Warner (1980) test with independent firm variances, formula (7b).

    As estudy2's ``brown_warner_1980``: t = CAAR / (sqrt(L2 sum_i s_i^2) / N), i.e. the AAR
    divided by the sd of an equally weighted mean of independent ARs, each with the firm's
    estimation-window variance s_i^2 (the caller's divisor; estudy2 uses L_i - 1). No
    prediction-error factor, as in estudy2. Referred to t(mean dof) (default mean(L_i - k)).
    Brown & Warner (1980, JFE 8:205-258). Assumes cross-sectional independence.
    """
    c = _car(inputs, days)
    n = _need(c, "bw_1980", 1)
    s2 = np.asarray(inputs.sigma, dtype=float)[c.used] ** 2
    caar = float(c.car.mean())
    t = caar / (math.sqrt(c.d.size * float(s2.sum())) / n)
    df = float(np.mean(_dof(inputs)[c.used]))
    return _t_result(
        "bw_1980",
        t,
        df,
        n,
        "AAR / (sqrt(L2 sum s_i^2)/N), as estudy2 brown_warner_1980",
        {"caar": caar},
    )


def patell(
    inputs: TestInputs,
    days: Days,
    *,
    form: str = "exact",
    patell_k: int | None = None,
) -> TestResult:
    """Patell (1976) standardized-residual Z, formula (8).

    Patell, J.M. (1976), JAR 14(2):246-276; Dodd & Warner (1983, JFE 11:401-438) for windows.
    ``form="exact"`` (default): SCAR_i = CAR_i / (s_i sqrt(1'C_i1)) and
    Z = sum_i SCAR_i / sqrt(sum_i v_i). ``form="common"``: CSAR_i = sum_t SAR_it and
    Z = N^(-1/2) sum_i CSAR_i / sqrt(L2 v_i). v_i = (L_i - k)/(L_i - k - 2), the variance of a
    t(L_i - k) variable; ``patell_k`` overrides k (``patell_k=2`` is estudy2's and Stata estudy's
    (L - 2)/(L - 4) for every model). N(0,1). Assumes cross-sectional independence, no
    event-induced variance.
    """
    c = _car(inputs, days)
    n = _need(c, "patell", 1)
    v = _patell_var(inputs, c, patell_k)
    if form == "exact":
        z = float(_scar(inputs, c, "exact").sum() / math.sqrt(float(v.sum())))
    elif form == "common":
        csar = _sar_daily(inputs, c).sum(axis=1)
        z = float((csar / np.sqrt(c.d.size * v)).sum() / math.sqrt(n))
    else:
        raise SpecificationError(f"patell: form must be one of {list(_FORMS)}; got {form!r}")
    pk = inputs.k if patell_k is None else patell_k
    return _normal_result("patell", z, n, f"{form} form, variance factor (L_i-{pk})/(L_i-{pk}-2)")


def bmp(inputs: TestInputs, days: Days, *, form: str = "exact") -> TestResult:
    """Boehmer, Musumeci & Poulsen (1991) standardized cross-sectional t, formula (9).

    BMP (1991), "Event-study methodology under conditions of event-induced variance",
    JFE 30(2):253-272. t = mean(SCAR) / (S_SCAR / sqrt(N)), S_SCAR with divisor N - 1, t(N - 1);
    SCAR_i standardized with the prediction-error factor (``form`` as in :func:`patell`).
    Robust to event-induced variance; assumes cross-sectional independence.
    """
    c = _car(inputs, days)
    n = _need(c, "bmp", 2)
    scar = _scar(inputs, c, form)
    t = float(scar.mean() / (_sd(scar, "standardized CARs") / math.sqrt(n)))
    return _t_result("bmp", t, n - 1, n, f"{form} standardization")


def _rbar(inputs: TestInputs, c: _Car, name: str) -> float:
    """Mean pairwise correlation of estimation residuals over pairwise-complete days (KP 2010),
    of the used firms; pairs with fewer than 3 common days or no variation are skipped."""
    n = c.used.size
    if n < 2:
        raise SpecificationError(
            f"{name} adjusts for cross-sectional correlation and needs at least 2 firms; "
            f"{n} firm has complete abnormal returns on days {c.d.tolist()}"
        )

    def build() -> float:
        total, count = pair_corr_sum(_used_rows(inputs, "resid", c))
        if count == 0:
            raise EstimationError(
                f"{name}: no pair of firms shares at least 3 estimation days with variation, so r-bar is undefined"
            )
        return total / count

    return _memo(("rbar", c.d.tobytes()), build)


_KP_REFERENCES = ("t", "normal")


def kp_bmp(
    inputs: TestInputs, days: Days, *, form: str = "exact", reference: str = "t"
) -> TestResult:
    """Kolari-Pynnonen (2010) adjusted BMP, formula (10).

    Kolari, J.W. & Pynnonen, S. (2010), "Event study testing with cross-sectional correlation of
    abnormal returns", RFS 23(11):3996-4025, doi:10.1093/rfs/hhq072.
    t_adj = t_BMP sqrt((1 - rbar)/(1 + (N - 1) rbar)); rbar = mean pairwise correlation of the
    estimation residuals of the used firms over pairwise-complete days (pairs with < 3 common days
    skipped). The same daily rbar is applied to CAR statistics (as KP and Stata estudy).
    ``reference="t"`` (default) refers t_adj to t(N - 1), its exact law when the SCARs are
    equicorrelated normal with correlation rbar (the BMP t's own small-sample law, rescaled);
    ``"normal"`` to N(0,1), Kolari & Pynnonen's large-N form, which rejects about 12% at 5% with five
    firms. ``extra``: ``rbar``.
    """
    _choice(reference, _KP_REFERENCES, "kp_bmp: reference")
    c = _car(inputs, days)
    rbar = _rbar(inputs, c, "kp_bmp")
    base = bmp(inputs, days, form=form)
    n = int(base.n)
    den = 1.0 + (n - 1) * rbar
    if den <= 0 or rbar >= 1:
        raise EstimationError(
            f"kp_bmp: 1 + (N - 1) rbar = {den:g} with rbar = {rbar:g}, N = {n}: adjustment undefined"
        )
    t = float(base.stat) * math.sqrt((1.0 - rbar) / den)
    variant = f"{form} standardization, rbar pairwise complete"
    if reference == "normal":
        return _normal_result("kp_bmp", t, n, variant, {"rbar": rbar})
    return _t_result("kp_bmp", t, n - 1, n, variant, {"rbar": rbar})


def kp_patell(
    inputs: TestInputs,
    days: Days,
    *,
    patell_k: int | None = None,
    form: str = "exact",
) -> TestResult:
    """Kolari-Pynnonen (2010) adjusted Patell Z, formula (10): Z_adj = Z / sqrt(1 + (N - 1) rbar).

    KP (2010), RFS 23(11):3996-4025. rbar as in :func:`kp_bmp`. N(0,1). ``extra``: ``rbar``.
    """
    c = _car(inputs, days)
    rbar = _rbar(inputs, c, "kp_patell")
    base = patell(inputs, days, form=form, patell_k=patell_k)
    n = int(base.n)
    den = 1.0 + (n - 1) * rbar
    if den <= 0:
        raise EstimationError(
            f"kp_patell: 1 + (N - 1) rbar = {den:g} with rbar = {rbar:g}, N = {n}: adjustment undefined"
        )
    z = float(base.stat) / math.sqrt(den)
    return _normal_result(
        "kp_patell", z, n, base.variant + ", rbar pairwise complete", {"rbar": rbar}
    )


_CAR_FORMS = ("exact", "sum_daily")


def _common_market(m: np.ndarray | None, name: str) -> np.ndarray:
    if m is None:
        raise SpecificationError(f"lamb needs TestInputs.{name} (market returns); it is None")
    m = np.asarray(m, dtype=float)
    if m.ndim == 2:
        if not all(np.array_equal(m[0], row, equal_nan=True) for row in m[1:]):
            raise SpecificationError(
                f"lamb needs one market series shared by all firms (one event date); "
                f"TestInputs.{name} has rows that differ"
            )
        m = m[0]
    return m


def lamb(
    inputs: TestInputs,
    days: Days,
    *,
    car_form: str = "exact",
) -> TestResult:
    """Lamb (1995) portfolio test with the market-model prediction factor, formula (12).

    Lamb, R.P. (1995), "An exposure-based analysis of property-liability insurer stock values
    around Hurricane Andrew", J. Risk and Insurance 62(1):111-123.
    Daily: t_t = AAR_t / (S(AAR) sqrt(1 + 1/Lbar + (R_mt - Rbar_m)^2 / S_mm)), N(0,1), with S(AAR)
    as in :func:`bw_cda`, Lbar = mean L_i of the used firms, Rbar_m and S_mm over every non-missing
    market day of the estimation window (as estudy2). Needs one market series for all firms.
    Windows: ``car_form="exact"`` (default) uses CAAR / (S(AAR) sqrt(L2 + L2^2/Lbar +
    (sum_t (R_mt - Rbar_m))^2 / S_mm)), the exact portfolio CAR factor of formula (2);
    ``car_form="sum_daily"`` is estudy2's ``car_lamb``: sum of the daily t_t over sqrt(L2).
    """
    _choice(car_form, _CAR_FORMS, "lamb: car_form")
    c = _car(inputs, days)
    n = _need(c, "lamb", 1)
    me = _common_market(inputs.market_est, "market_est")
    mv = _common_market(inputs.market_evt, "market_evt")[c.d]
    if np.isnan(mv).any():
        raise EstimationError(
            f"lamb: the market return is missing on event-window day(s) {c.d[np.isnan(mv)].tolist()}"
        )
    me = me[~np.isnan(me)]
    if me.size < 3:
        raise EstimationError(
            f"lamb needs at least 3 market returns in the estimation window; got {me.size}"
        )
    mbar = float(me.mean())
    smm = float(((me - mbar) ** 2).sum())
    if smm <= 0:
        raise EstimationError(
            "lamb: the market return is constant over the estimation window (S_mm = 0)"
        )
    lbar = float(np.mean(np.asarray(inputs.n_est, dtype=float)[c.used]))
    aar = _aar_series(inputs, c)
    if aar.size < 3:
        raise EstimationError(f"lamb needs at least 3 estimation days with data; got {aar.size}")
    s = float(np.std(aar, ddof=1))
    if s <= 0:
        raise EstimationError("lamb: the estimation-window AAR series has zero variance")
    m = c.d.size
    ev = np.asarray(inputs.ar, dtype=float)[np.ix_(c.used, c.d)]
    if car_form == "sum_daily":
        daily = ev.mean(axis=0) / (s * np.sqrt(1 + 1 / lbar + (mv - mbar) ** 2 / smm))
        t = float(daily.sum() / math.sqrt(m))
        variant = "sum of daily Lamb statistics / sqrt(L2) (estudy2 car_lamb)"
    else:
        f = m + m * m / lbar + float((mv - mbar).sum()) ** 2 / smm
        t = float(c.car.mean() / (s * math.sqrt(f)))
        variant = "exact portfolio CAR factor L2 + L2^2/Lbar + (sum(R_m - Rbar_m))^2/S_mm"
    return _normal_result("lamb", t, n, variant, {"sd_aar": s, "lbar": lbar})


def skewness_corrected_t(inputs: TestInputs, days: Days) -> TestResult:
    """Skewness-corrected t (Hall's cubic transformation of the cross-sectional t), formula (11).

    S = CAAR/S_CAR, g = N sum (CAR_i - CAAR)^3 / ((N-1)(N-2) S_CAR^3) (adjusted sample skewness),
    t = sqrt(N) (S + g S^2/3 + g^2 S^3/27 + g/(6N)), N(0,1). Used by EventStudyTools and Eventus;
    Johnson (1978, JASA 73:536-544) without the cubic term. Hall, P. (1992), "On the removal of
    skewness by transformation", JRSS B 54(1):221-228. Assumes independence.
    """
    c = _car(inputs, days)
    n = _need(c, "skewness_corrected_t", 3)
    caar = float(c.car.mean())
    s_car = _sd(c.car, "CARs")
    s = caar / s_car
    g = n * float(((c.car - caar) ** 3).sum()) / ((n - 1) * (n - 2) * s_car**3)
    t = math.sqrt(n) * (s + g * s * s / 3 + g * g * s**3 / 27 + g / (6 * n))
    return _normal_result(
        "skewness_corrected_t",
        t,
        n,
        "Hall (1992) cubic transformation incl. g^2 S^3/27",
        {"skewness": g},
    )
