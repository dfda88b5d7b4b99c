"""Hand-worked checks of every statistic in analysis.eventstudy.inference, identities and bad inputs.

Expected values are computed here with plain Python arithmetic (lists, loops, math), never by
calling the function under test a second time.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from scipy import stats

from analysis.errors import EstimationError, SpecificationError
from analysis.eventstudy import inference as inf
from analysis.eventstudy.inference import TestInputs, _kernels
from analysis.eventstudy.inference.nonparametric import _p_binomial_half

pytestmark = pytest.mark.filterwarnings("error")  # a numpy/scipy warning is a failure

# ------------------------------------------------------------------------------------------
# A tiny panel: N = 4 firms, L1 = 6 estimation days, L2 = 3 event days, constant-mean model
# (k = 1, C = I + 1/L1 everywhere, so 1'C1 over m days = m + m^2/L1).
# ------------------------------------------------------------------------------------------
R = [
    [0.01, -0.02, 0.015, -0.005, 0.0, 0.02],
    [-0.01, 0.005, 0.02, -0.015, 0.01, -0.02],
    [0.03, -0.01, -0.02, 0.005, -0.015, 0.01],
    [0.002, 0.004, -0.006, 0.008, -0.01, 0.012],
]
A = [
    [0.03, 0.01, -0.005],
    [0.02, -0.01, 0.015],
    [-0.01, 0.025, 0.01],
    [0.04, 0.005, 0.02],
]
MKT_E = [0.001, -0.004, 0.006, 0.002, -0.003, 0.005]
MKT_V = [0.01, -0.02, 0.004]
N, L1, L2, K = 4, 6, 3, 1
SIG = [math.sqrt(sum(e * e for e in row) / (L1 - K)) for row in R]


def make_inputs(**over) -> TestInputs:
    cov = np.repeat((np.eye(L2) + 1.0 / L1)[None], N, axis=0)
    base: dict[str, Any] = dict(
        ar=np.array(A),
        resid=np.array(R),
        sigma=np.array(SIG),
        n_est=np.full(N, L1),
        k=K,
        cov=cov,
        market_est=np.array(MKT_E),
        market_evt=np.array(MKT_V),
    )
    base.update(over)
    return TestInputs(**base)


def mean(v):
    return sum(v) / len(v)


def sd(v):
    m = mean(v)
    return math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))


def car_of(days):
    return [sum(A[i][t] for t in days) for i in range(N)]


def factor(m):  # 1'C1 over m days for C = I + 1/L1
    return m + m * m / L1


def avg_rank(values):
    """Plain average ranks (1-based), None for missing."""
    present = [(v, j) for j, v in enumerate(values) if v is not None]
    present.sort()
    out = [None] * len(values)
    j = 0
    while j < len(present):
        h = j
        while h + 1 < len(present) and present[h + 1][0] == present[j][0]:
            h += 1
        r = (j + 1 + h + 1) / 2
        for q in range(j, h + 1):
            out[present[q][1]] = r
        j = h + 1
    return out


def pearson(x, y):
    mx, my = mean(x), mean(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)


DAYS = [[0], [1], [0, 1, 2], [1, 2]]


# ------------------------------------------------------------------------------------------
# Single-firm tests
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("days", DAYS)
def test_t_prediction_error_by_hand(days):
    res = inf.t_prediction_error(make_inputs(), days)
    cars = car_of(days)
    for i in range(N):
        t = cars[i] / (SIG[i] * math.sqrt(factor(len(days))))
        assert res.stat[i] == pytest.approx(t, rel=1e-12)
        assert res.pvalue[i] == pytest.approx(2 * stats.t.sf(abs(t), L1 - K), rel=1e-10)
    assert res.n.tolist() == [L1] * N
    assert res.distribution == "t(5)"


def test_t_prediction_error_missing_firm_left_out():
    ar = np.array(A)
    ar[2, 1] = np.nan
    res = inf.t_prediction_error(make_inputs(ar=ar), [0, 1])
    assert np.isnan(res.stat[2]) and np.isnan(res.pvalue[2]) and res.n[2] == 0
    t0 = (A[0][0] + A[0][1]) / (SIG[0] * math.sqrt(factor(2)))
    assert res.stat[0] == pytest.approx(t0, rel=1e-12)
    # a day where firm 2 has data is unaffected
    assert np.isfinite(inf.t_prediction_error(make_inputs(ar=ar), [0]).stat[2])


@pytest.mark.parametrize("blocking", ["overlapping", "nonoverlapping"])
@pytest.mark.parametrize("days", [[0], [0, 1]])
def test_sq_by_hand(blocking, days):
    res = inf.sq(make_inputs(), days, blocking=blocking)
    m = len(days)
    cars = car_of(days)
    for i in range(N):
        if blocking == "overlapping":
            starts = list(range(0, L1 - m + 1))
        else:  # disjoint blocks aligned to the end of the estimation window
            starts = list(range(L1 - m, -1, -m))
        sums = [sum(R[i][s + j] for j in range(m)) for s in starts]
        ns = len(sums)
        le = sum(1 for v in sums if v <= cars[i])
        ge = sum(1 for v in sums if v >= cars[i])
        p = min(1.0, 2 * min((1 + le) / (1 + ns), (1 + ge) / (1 + ns)))
        assert res.extra["n_sums"][i] == ns
        assert res.stat[i] == pytest.approx(le / ns)
        assert res.pvalue[i] == pytest.approx(p)
        srt = sorted(sums)
        assert res.extra["q_lower"][i] == srt[max(math.ceil(0.025 * ns) - 1, 0)]
        assert res.extra["q_upper"][i] == srt[max(math.ceil(0.975 * ns) - 1, 0)]
    if blocking == "overlapping":
        assert res.distribution == f"empirical ({L1 - m + 1} overlapping sums)"
    else:
        assert res.distribution == f"empirical ({L1 // m} nonoverlapping sums)"


def test_sq_exact_tail_counts_and_never_zero():
    # firm 0: residuals 1..6, CAR = 3 exactly equal to one residual; firm 1: CAR beyond all
    resid = np.array([[1.0, 2, 3, 4, 5, 6], [1.0, 2, 3, 4, 5, 6]])
    ar = np.array([[3.0], [100.0]])
    x = TestInputs(
        ar=ar, resid=resid, sigma=np.ones(2), n_est=np.array([6, 6]), k=0, cov=np.ones((2, 1, 1))
    )
    res = inf.sq(x, [0])
    # firm 0: #<=3 is 3, #>=3 is 4 -> p = 2 * min(4/7, 5/7) = 8/7 -> 1
    assert res.pvalue[0] == 1.0
    assert res.stat[0] == pytest.approx(0.5)
    # firm 1: #>= is 0 -> p = 2 * 1/7, never 0
    assert res.pvalue[1] == pytest.approx(2 / 7)


def test_sq_skips_blocks_with_missing_residuals():
    resid = np.array([[np.nan, 1.0, 2.0, np.nan, 4.0, 5.0, 6.0]])
    x = TestInputs(
        ar=np.array([[5.5, 0.0]]),
        resid=resid,
        sigma=np.ones(1),
        n_est=np.array([5]),
        k=0,
        cov=np.repeat(np.eye(2)[None], 1, axis=0),
    )
    res = inf.sq(x, [0, 1])
    # complete 2-day blocks: (1,2)=3, (4,5)=9, (5,6)=11 -> 3 sums; CAR 5.5: 1 below, 2 above
    assert res.extra["n_sums"][0] == 3
    assert res.stat[0] == pytest.approx(1 / 3)
    assert res.pvalue[0] == pytest.approx(min(1, 2 * min(2 / 4, 3 / 4)))


# ------------------------------------------------------------------------------------------
# Multi-firm parametric tests
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("days", DAYS)
def test_cross_sectional_t_by_hand(days):
    cars = car_of(days)
    t = mean(cars) / (sd(cars) / math.sqrt(N))
    res = inf.cross_sectional_t(make_inputs(), days)
    assert res.stat == pytest.approx(t, rel=1e-12)
    assert res.pvalue == pytest.approx(2 * stats.t.sf(abs(t), N - 1), rel=1e-10)
    assert (res.n, res.df, res.distribution) == (N, 3.0, "t(3)")


@pytest.mark.parametrize("days", DAYS)
def test_bw_cda_by_hand(days):
    aar = [mean([R[i][s] for i in range(N)]) for s in range(L1)]
    var = sd(aar) ** 2
    caar = mean(car_of(days))
    t = caar / math.sqrt(len(days) * var)
    res = inf.bw_cda(make_inputs(), days)
    assert res.stat == pytest.approx(t, rel=1e-12)
    assert res.pvalue == pytest.approx(2 * stats.t.sf(abs(t), L1 - 1), rel=1e-10)
    # multi-day = sum of the daily statistics / sqrt(days) (estudy2's car_brown_warner_1985)
    daily = [inf.bw_cda(make_inputs(), [d]).stat for d in days]
    assert res.stat == pytest.approx(sum(daily) / math.sqrt(len(days)), rel=1e-12)


@pytest.mark.parametrize("days", DAYS)
def test_bw_1980_by_hand(days):
    caar = mean(car_of(days))
    t = caar / (math.sqrt(len(days) * sum(s * s for s in SIG)) / N)
    res = inf.bw_1980(make_inputs(), days)
    assert res.stat == pytest.approx(t, rel=1e-12)
    assert res.df == L1 - K


def scar_exact(days):
    return [car_of(days)[i] / (SIG[i] * math.sqrt(factor(len(days)))) for i in range(N)]


@pytest.mark.parametrize("days", DAYS)
def test_patell_exact_and_common_by_hand(days):
    v = (L1 - K) / (L1 - K - 2)
    z_exact = sum(scar_exact(days)) / math.sqrt(N * v)
    res = inf.patell(make_inputs(), days)
    assert res.stat == pytest.approx(z_exact, rel=1e-12)
    assert res.pvalue == pytest.approx(2 * stats.norm.sf(abs(z_exact)), rel=1e-10)
    csar = [sum(A[i][t] / (SIG[i] * math.sqrt(1 + 1 / L1)) for t in days) for i in range(N)]
    z_common = sum(c / math.sqrt(len(days) * v) for c in csar) / math.sqrt(N)
    assert inf.patell(make_inputs(), days, form="common").stat == pytest.approx(z_common, rel=1e-12)
    # estudy2's factor (L-2)/(L-4) whatever the model
    v2 = (L1 - 2) / (L1 - 4)
    z2 = sum(scar_exact(days)) / math.sqrt(N * v2)
    assert inf.patell(make_inputs(), days, patell_k=2).stat == pytest.approx(z2, rel=1e-12)


@pytest.mark.parametrize("days", DAYS)
def test_bmp_by_hand(days):
    s = scar_exact(days)
    t = mean(s) / (sd(s) / math.sqrt(N))
    res = inf.bmp(make_inputs(), days)
    assert res.stat == pytest.approx(t, rel=1e-12)
    assert res.pvalue == pytest.approx(2 * stats.t.sf(abs(t), N - 1), rel=1e-10)


def rbar_hand():
    pairs = [pearson(R[i], R[j]) for i in range(N) for j in range(i + 1, N)]
    return mean(pairs)


@pytest.mark.parametrize("days", DAYS)
def test_kp_bmp_and_kp_patell_by_hand(days):
    rb = rbar_hand()
    s = scar_exact(days)
    t_bmp = mean(s) / (sd(s) / math.sqrt(N))
    t_adj = t_bmp * math.sqrt((1 - rb) / (1 + (N - 1) * rb))
    res = inf.kp_bmp(make_inputs(), days)
    assert res.extra["rbar"] == pytest.approx(rb, rel=1e-12)
    assert res.stat == pytest.approx(t_adj, rel=1e-12)
    assert res.pvalue == pytest.approx(2 * stats.t.sf(abs(t_adj), N - 1), rel=1e-10)
    assert (res.distribution, res.df) == (f"t({N - 1})", N - 1)
    asym = inf.kp_bmp(make_inputs(), days, reference="normal")
    assert asym.stat == res.stat and asym.distribution == "N(0,1)"
    assert asym.pvalue == pytest.approx(2 * stats.norm.sf(abs(t_adj)), rel=1e-10)
    z = sum(s) / math.sqrt(N * (L1 - K) / (L1 - K - 2))
    resp = inf.kp_patell(make_inputs(), days)
    assert resp.stat == pytest.approx(z / math.sqrt(1 + (N - 1) * rb), rel=1e-12)


def test_rbar_pairwise_complete_with_missing_days():
    resid = np.array(R)
    resid[3, 0] = np.nan
    resid[2, 5] = np.nan
    rows = [[v for v in row] for row in R]
    rows[3][0] = None
    rows[2][5] = None
    pairs = []
    for i in range(N):
        for j in range(i + 1, N):
            keep = [s for s in range(L1) if rows[i][s] is not None and rows[j][s] is not None]
            pairs.append(pearson([rows[i][s] for s in keep], [rows[j][s] for s in keep]))
    x = make_inputs(resid=resid, n_est=np.array([6, 6, 5, 5]))
    assert inf.kp_bmp(x, [0]).extra["rbar"] == pytest.approx(mean(pairs), rel=1e-12)


@pytest.mark.parametrize("days", DAYS)
def test_lamb_by_hand(days):
    aar = [mean([R[i][s] for i in range(N)]) for s in range(L1)]
    s_aar = sd(aar)
    mbar = mean(MKT_E)
    smm = sum((m - mbar) ** 2 for m in MKT_E)
    daily = [
        mean([A[i][t] for i in range(N)])
        / (s_aar * math.sqrt(1 + 1 / L1 + (MKT_V[t] - mbar) ** 2 / smm))
        for t in days
    ]
    res = inf.lamb(make_inputs(), days, car_form="sum_daily")
    assert res.stat == pytest.approx(sum(daily) / math.sqrt(len(days)), rel=1e-12)
    m = len(days)
    f = m + m * m / L1 + sum(MKT_V[t] - mbar for t in days) ** 2 / smm
    exact = inf.lamb(make_inputs(), days)
    assert exact.stat == pytest.approx(mean(car_of(days)) / (s_aar * math.sqrt(f)), rel=1e-12)
    if m == 1:
        assert exact.stat == pytest.approx(res.stat, rel=1e-12)


@pytest.mark.parametrize("days", DAYS)
def test_skewness_corrected_t_by_hand(days):
    cars = car_of(days)
    caar, s_car = mean(cars), sd(cars)
    S = caar / s_car
    g = N * sum((c - caar) ** 3 for c in cars) / ((N - 1) * (N - 2) * s_car**3)
    t = math.sqrt(N) * (S + g * S * S / 3 + g * g * S**3 / 27 + g / (6 * N))
    res = inf.skewness_corrected_t(make_inputs(), days)
    assert res.stat == pytest.approx(t, rel=1e-12)
    assert res.extra["skewness"] == pytest.approx(g, rel=1e-12)


# ------------------------------------------------------------------------------------------
# Nonparametric tests
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("days", DAYS)
def test_sign_and_generalized_sign_by_hand(days):
    cars = car_of(days)
    npos = sum(1 for c in cars if c > 0)
    z = (npos - 0.5 * N) / (0.5 * math.sqrt(N))
    res = inf.sign(make_inputs(), days)
    assert res.stat == pytest.approx(z)
    assert res.extra["n_pos"] == npos
    shares = [sum(1 for e in row if e > 0) / L1 for row in R]
    p1 = mean(shares)
    p2 = sum(sum(1 for e in row if e > 0) for row in R) / (N * L1)
    for p, opt in ((p1, "per_firm"), (p2, "pooled")):
        g = inf.generalized_sign(make_inputs(), days, p_hat=opt)
        assert g.extra["p_hat"] == pytest.approx(p)
        assert g.stat == pytest.approx((npos - N * p) / math.sqrt(N * p * (1 - p)), rel=1e-12)


def test_generalized_sign_per_firm_vs_pooled_differ_with_unequal_lengths():
    resid = np.array(R)
    resid[0, :3] = np.nan  # firm 0 keeps 3 days: 0 positive of (-0.005, 0.0, 0.02) -> 1 of 3
    x = make_inputs(resid=resid, n_est=np.array([3, 6, 6, 6]))
    shares = [1 / 3] + [sum(1 for e in row if e > 0) / 6 for row in R[1:]]
    pooled = (1 + sum(sum(1 for e in row if e > 0) for row in R[1:])) / 21
    assert inf.generalized_sign(x, [0]).extra["p_hat"] == pytest.approx(mean(shares))
    assert inf.generalized_sign(x, [0], p_hat="pooled").extra["p_hat"] == pytest.approx(pooled)


def ew_rows():
    return [R[i] + A[i] for i in range(N)]


@pytest.mark.parametrize("days", DAYS)
def test_corrado_rank_by_hand(days):
    rows = ew_rows()
    T = L1 + L2
    ranks = [avg_rank(r) for r in rows]
    kbar = (T + 1) / 2
    dbar = [mean([ranks[i][t] - kbar for i in range(N)]) for t in range(T)]
    s_k = math.sqrt(sum(d * d for d in dbar) / T)
    z = sum(dbar[L1 + t] for t in days) / (math.sqrt(len(days)) * s_k)
    res = inf.corrado_rank(make_inputs(), days)
    assert res.stat == pytest.approx(z, rel=1e-12)
    # equal T_i: the pooled centre gives the same statistic
    assert inf.corrado_rank(make_inputs(), days, rank_centre="pooled").stat == pytest.approx(
        z, rel=1e-12
    )


def test_corrado_rank_with_missing_days_by_hand():
    resid = np.array(R)
    resid[1, 0] = np.nan
    resid[3, :2] = np.nan
    rows = [list(r) for r in ew_rows()]
    rows[1][0] = None
    rows[3][0] = rows[3][1] = None
    ranks = [avg_rank(r) for r in rows]
    t_i = [sum(1 for v in r if v is not None) for r in rows]
    cols = L1 + L2
    kb = [(t + 1) / 2 for t in t_i]
    dbar_f, dbar_p = [], []
    pooled_centre = mean(kb)
    for t in range(cols):
        av = [i for i in range(N) if ranks[i][t] is not None]
        dbar_f.append(mean([ranks[i][t] - kb[i] for i in av]))
        dbar_p.append(mean([ranks[i][t] - pooled_centre for i in av]))
    tbar = mean(t_i)
    x = make_inputs(resid=resid, n_est=np.array([6, 5, 6, 4]))
    for dbar, centre in ((dbar_f, "firm"), (dbar_p, "pooled")):
        s_k = math.sqrt(sum(d * d for d in dbar) / tbar)
        z = sum(dbar[L1 + t] for t in range(L2)) / (math.sqrt(L2) * s_k)
        assert inf.corrado_rank(x, [0, 1, 2], rank_centre=centre).stat == pytest.approx(
            z, rel=1e-12
        )


@pytest.mark.parametrize("days", DAYS)
def test_corrado_zivney_rank_and_sign_by_hand(days):
    rows = ew_rows()
    T = L1 + L2
    ranks = [avg_rank(r) for r in rows]
    v = [sum(ranks[i][t] / (T + 1) - 0.5 for i in range(N)) / math.sqrt(N) for t in range(T)]
    s_u = math.sqrt(sum(x * x for x in v) / T)
    z = sum(v[L1 + t] for t in days) / (math.sqrt(len(days)) * s_u)
    assert inf.corrado_zivney_rank(make_inputs(), days).stat == pytest.approx(z, rel=1e-12)
    meds = []
    for r in rows:
        srt = sorted(r)
        meds.append((srt[(T - 1) // 2] + srt[T // 2]) / 2)
    w = [
        sum(
            math.copysign(1, rows[i][t] - meds[i]) if rows[i][t] != meds[i] else 0 for i in range(N)
        )
        / math.sqrt(N)
        for t in range(T)
    ]
    s_g = math.sqrt(sum(x * x for x in w) / T)
    zg = sum(w[L1 + t] for t in days) / (math.sqrt(len(days)) * s_g)
    assert inf.corrado_zivney_sign(make_inputs(), days).stat == pytest.approx(zg, rel=1e-12)


@pytest.mark.parametrize("days", DAYS)
def test_wilcoxon_by_hand(days):
    cars = car_of(days)
    ranks = avg_rank([abs(c) for c in cars])
    wplus = sum(r for r, c in zip(ranks, cars, strict=True) if c > 0)
    res = inf.wilcoxon(make_inputs(), days)
    assert res.extra["w_plus"] == wplus
    z = (wplus - N * (N + 1) / 4) / math.sqrt(N * (N + 1) * (2 * N + 1) / 24)
    assert res.stat == pytest.approx(z, rel=1e-12)
    if len({abs(c) for c in cars}) == N:
        # exact two-sided signed-rank p-value by enumeration of the 2^N sign patterns
        allw = [sum(j + 1 for j in range(N) if (mask >> j) & 1) for mask in range(2**N)]
        lo = sum(1 for w in allw if w <= wplus) / 2**N
        hi = sum(1 for w in allw if w >= wplus) / 2**N
        assert res.pvalue == pytest.approx(min(1.0, 2 * min(lo, hi)))
        assert res.distribution == "exact signed-rank (n=4)"
    else:  # |CAR| ties (day 1: 0.01 and -0.01): tie-corrected normal approximation
        ties = [ranks.count(r) for r in set(ranks)]
        var = N * (N + 1) * (2 * N + 1) / 24 - sum(t**3 - t for t in ties) / 48
        zc = (wplus - N * (N + 1) / 4) / math.sqrt(var)
        assert res.pvalue == pytest.approx(2 * stats.norm.sf(abs(zc)), rel=1e-10)
        assert res.distribution.startswith("N(0,1) approx")


def test_wilcoxon_drops_zero_cars():
    ar = np.array([[0.0], [0.02], [-0.01], [0.03]])
    x = TestInputs(
        ar=ar,
        resid=np.array(R),
        sigma=np.array(SIG),
        n_est=np.full(N, L1),
        k=1,
        cov=np.ones((N, 1, 1)),
    )
    res = inf.wilcoxon(x, [0])
    # nonzero: 0.02 (rank 2), -0.01 (rank 1), 0.03 (rank 3) -> W+ = 5
    assert res.extra["w_plus"] == 5.0 and res.extra["n_nonzero"] == 3.0 and res.n == 4


@pytest.mark.parametrize("days", DAYS)
@pytest.mark.parametrize("constants", ["kp2011", "stata"])
def test_grank_and_grank_z_by_hand(days, constants):
    scar = scar_exact(days)
    s_scar = sd(scar)
    u = []
    for i in range(N):
        g = [e / SIG[i] for e in R[i]] + [scar[i] / s_scar]
        rk = avg_rank(g)
        Ti = L1 + 1
        denom = Ti + 1 if constants == "kp2011" else Ti
        u.append([r / denom - 0.5 for r in rk])
    T = L1 + 1
    ubar = [mean([u[i][t] for i in range(N)]) for t in range(T)]
    TT = T if constants == "kp2011" else T - 1
    s2 = sum(x * x for x in ubar) / TT
    z = ubar[-1] / math.sqrt(s2)
    t = z * math.sqrt((TT - 2) / (TT - 1 - z * z))
    res = inf.grank(make_inputs(), days, constants=constants)
    assert res.extra["z"] == pytest.approx(z, rel=1e-12)
    assert res.stat == pytest.approx(t, rel=1e-12)
    assert res.df == TT - 2
    assert res.pvalue == pytest.approx(2 * stats.t.sf(abs(t), TT - 2), rel=1e-10)
    if constants == "kp2011":
        # KP ranks are centred: the mean of U over each firm's T_i points is 0
        assert all(abs(mean(row)) < 1e-15 for row in u)
        zz = ubar[-1] / math.sqrt(N * (T - 1) / (T + 1) / (12 * N * N))
        assert inf.grank_z(make_inputs(), days).stat == pytest.approx(zz, rel=1e-12)


# ------------------------------------------------------------------------------------------
# Identities
# ------------------------------------------------------------------------------------------


def test_bmp_equals_cross_sectional_t_on_standardized_returns():
    days = [0, 1, 2]
    s = np.array(scar_exact(days))
    # one-day inputs whose AR is the SCAR: cross-sectional t of SCARs
    x2 = TestInputs(
        ar=s[:, None],
        resid=np.array(R),
        sigma=np.array(SIG),
        n_est=np.full(N, L1),
        k=1,
        cov=np.ones((N, 1, 1)),
    )
    assert inf.bmp(make_inputs(), days).stat == pytest.approx(
        inf.cross_sectional_t(x2, [0]).stat, rel=1e-12
    )


def test_kp_bmp_with_zero_rbar_equals_bmp():
    # mutually orthogonal, mean-zero residual rows: every pairwise correlation is exactly 0
    resid = np.array([[1.0, -1, 1, -1], [1.0, 1, -1, -1], [1.0, -1, -1, 1]]) * 0.01
    ar = np.array([[0.02, 0.01], [-0.005, 0.03], [0.015, 0.002]])
    sig = np.sqrt((resid**2).sum(axis=1) / 3)
    x = TestInputs(
        ar=ar,
        resid=resid,
        sigma=sig,
        n_est=np.full(3, 4),
        k=1,
        cov=np.repeat((np.eye(2) + 0.25)[None], 3, axis=0),
    )
    kp = inf.kp_bmp(x, [0, 1])
    assert kp.extra["rbar"] == pytest.approx(0.0, abs=1e-15)
    assert kp.stat == pytest.approx(inf.bmp(x, [0, 1]).stat, rel=1e-12)
    assert kp.pvalue == pytest.approx(inf.bmp(x, [0, 1]).pvalue, rel=1e-12)  # both t(N - 1)


def test_patell_one_day_exact_equals_daily_form():
    for d in range(L2):
        exact = inf.patell(make_inputs(), [d], form="exact").stat
        common = inf.patell(make_inputs(), [d], form="common").stat
        sar = [A[i][d] / (SIG[i] * math.sqrt(1 + 1 / L1)) for i in range(N)]
        daily = sum(sar) / math.sqrt(N * (L1 - K) / (L1 - K - 2))
        assert exact == pytest.approx(daily, rel=1e-12)
        assert common == pytest.approx(daily, rel=1e-12)


def test_exact_car_variance_differs_from_sum_of_daily_factors():
    """Market model: 1'C1 from the full covariance matches the closed form and not sum C_tt."""
    rm_e = np.array(MKT_E)
    rm_v = np.array(MKT_V)
    X = np.column_stack([np.ones(L1), rm_e])
    Xs = np.column_stack([np.ones(L2), rm_v])
    C = np.eye(L2) + Xs @ np.linalg.inv(X.T @ X) @ Xs.T
    x = make_inputs(cov=np.repeat(C[None], N, axis=0), k=2)
    mbar = mean(MKT_E)
    smm = sum((m - mbar) ** 2 for m in MKT_E)
    closed = L2 + L2 * L2 / L1 + sum(m - mbar for m in MKT_V) ** 2 / smm
    summed = sum(1 + 1 / L1 + (m - mbar) ** 2 / smm for m in MKT_V)
    res = inf.t_prediction_error(x, [0, 1, 2])
    se = res.extra["se"]
    for i in range(N):
        assert se[i] == pytest.approx(SIG[i] * math.sqrt(closed), rel=1e-10)
        assert abs(se[i] - SIG[i] * math.sqrt(summed)) > 1e-3 * se[i]
    # on one day the two coincide
    one = inf.t_prediction_error(x, [1]).extra["se"]
    assert one[0] == pytest.approx(
        SIG[0] * math.sqrt(1 + 1 / L1 + (MKT_V[1] - mbar) ** 2 / smm), rel=1e-10
    )


def test_rank_helper_matches_scipy_with_ties_and_nan():
    a = np.array([[3.0, 1.0, np.nan, 3.0, 2.0, 3.0], [np.nan, np.nan, 5.0, 5.0, -1.0, 0.0]])
    r, cnt = _kernels.rank_rows(a)
    ref = stats.rankdata(a, axis=1, nan_policy="omit")
    assert np.array_equal(np.isnan(r), np.isnan(a))
    assert np.allclose(r[~np.isnan(a)], ref[~np.isnan(a)])
    assert cnt.tolist() == [5, 4]


# ------------------------------------------------------------------------------------------
# Registries and run_tests
# ------------------------------------------------------------------------------------------

ALL_NAMES = {
    "t_prediction_error",
    "sq",
    "cross_sectional_t",
    "bw_cda",
    "bw_1980",
    "patell",
    "bmp",
    "kp_bmp",
    "kp_patell",
    "lamb",
    "sign",
    "generalized_sign",
    "corrado_rank",
    "corrado_zivney_rank",
    "corrado_zivney_sign",
    "wilcoxon",
    "grank",
    "grank_z",
    "skewness_corrected_t",
    "permutation",
    "wild_bootstrap",
}


def test_registries():
    assert set(inf.SINGLE_FIRM_TESTS) == {"t_prediction_error", "sq", "permutation"}
    assert set(inf.SINGLE_FIRM_TESTS) | set(inf.MULTI_FIRM_TESTS) == ALL_NAMES
    assert set(inf.MULTI_FIRM_TESTS) >= inf.INDEPENDENCE_ASSUMED
    assert {"cross_sectional_t", "patell", "bmp"} <= inf.INDEPENDENCE_ASSUMED
    assert not {"bw_cda", "kp_bmp", "kp_patell", "grank", "lamb", "wild_bootstrap"} & (
        inf.INDEPENDENCE_ASSUMED
    )
    for name in ALL_NAMES:
        assert inf.get_test(name).__name__ == name
        assert inf.get_test(name).__doc__


def test_get_test_unknown_lists_valid_names():
    with pytest.raises(
        SpecificationError, match=r"unknown test 'patel'.*valid names: .*bmp.*patell"
    ):
        inf.get_test("patel")


def test_run_tests_all_and_option_routing():
    x = make_inputs()
    out = inf.run_tests(x, [0, 1], p_hat="pooled", form="common")
    assert [r.name for r in out] == list(inf.SINGLE_FIRM_TESTS) + list(inf.MULTI_FIRM_TESTS)
    by = {r.name: r for r in out}
    assert by["generalized_sign"].variant == "p-hat pooled"
    assert by["patell"].stat == pytest.approx(inf.patell(x, [0, 1], form="common").stat)
    assert by["bmp"].stat == pytest.approx(inf.bmp(x, [0, 1], form="common").stat)
    for r in out:
        assert r.stat == pytest.approx(
            inf.get_test(r.name)(
                x,
                [0, 1],
                **(
                    {"p_hat": "pooled"}
                    if r.name == "generalized_sign"
                    else {"form": "common"}
                    if r.name in {"patell", "bmp", "kp_bmp", "kp_patell"}
                    else {}
                ),
            ).stat,
            nan_ok=True,
        )
    only = inf.run_tests(x, slice(0, 2), names=["sign", "bmp"])
    assert [r.name for r in only] == ["sign", "bmp"]


def test_run_tests_skips_by_documented_minimums():
    x = make_inputs(
        ar=np.array(A)[:1],
        resid=np.array(R)[:1],
        sigma=np.array(SIG)[:1],
        n_est=np.full(1, L1),
        cov=np.repeat((np.eye(L2) + 1.0 / L1)[None], 1, axis=0),
    )
    names = [r.name for r in inf.run_tests(x, [0])]
    assert "bmp" not in names and "kp_bmp" not in names and "skewness_corrected_t" not in names
    assert "t_prediction_error" in names and "bw_cda" in names and "sign" in names
    x_nomkt = make_inputs(market_est=None, market_evt=None)
    assert "lamb" not in [r.name for r in inf.run_tests(x_nomkt, [0])]


def test_run_tests_unknown_option():
    with pytest.raises(SpecificationError, match=r"option\(s\) \['blockng'\] are not accepted"):
        inf.run_tests(make_inputs(), [0], blockng="overlapping")


# ------------------------------------------------------------------------------------------
# Bad input: clear errors, never a numpy warning (pytestmark turns warnings into failures)
# ------------------------------------------------------------------------------------------


def test_bad_shapes():
    with pytest.raises(SpecificationError, match=r"resid has 3 rows but ar has 4"):
        inf.bmp(make_inputs(resid=np.array(R)[:3]), [0])
    with pytest.raises(
        SpecificationError, match=r"cov must have shape \(4, 3, 3\).*got \(4, 2, 2\)"
    ):
        inf.bmp(make_inputs(cov=np.ones((4, 2, 2))), [0])
    with pytest.raises(SpecificationError, match=r"sigma must have shape \(4,\)"):
        inf.bmp(make_inputs(sigma=np.ones(3)), [0])
    with pytest.raises(SpecificationError, match=r"market_evt must have shape \(3,\) or \(4, 3\)"):
        inf.lamb(make_inputs(market_evt=np.ones(5)), [0])


def test_n_est_must_match_residual_count():
    with pytest.raises(SpecificationError, match=r"n_est must equal.*firm row \[2\]"):
        inf.bmp(make_inputs(n_est=np.array([6, 6, 7, 6])), [0])


def test_days_out_of_range_or_empty():
    with pytest.raises(SpecificationError, match=r"column indices 0..2.*\[3\]"):
        inf.bmp(make_inputs(), [3])
    with pytest.raises(SpecificationError, match="selects no event-window column"):
        inf.bmp(make_inputs(), slice(5, 9))
    with pytest.raises(SpecificationError, match="repeated"):
        inf.bmp(make_inputs(), [1, 1])


def test_no_usable_firm():
    ar = np.array(A)
    ar[:, 1] = np.nan
    with pytest.raises(
        EstimationError, match=r"bmp needs at least 2 firms.*days \[0, 1\]; 0 of 4 firms"
    ):
        inf.bmp(make_inputs(ar=ar), [0, 1])
    with pytest.raises(EstimationError, match=r"sign needs at least 1 firm.*0 of 4"):
        inf.sign(make_inputs(ar=ar), [1])
    with pytest.raises(EstimationError, match="no firms"):
        inf.sign(
            TestInputs(
                ar=np.empty((0, 3)),
                resid=np.empty((0, 6)),
                sigma=np.empty(0),
                n_est=np.empty(0, dtype=int),
                k=1,
                cov=np.empty((0, 3, 3)),
            ),
            [0],
        )


@pytest.mark.parametrize("bad", [0.0, np.nan, -0.01])
def test_zero_or_nan_sigma(bad):
    sig = np.array(SIG)
    sig[1] = bad
    with pytest.raises(
        EstimationError, match=r"sigma must be finite and > 0; firm row \[1\].*drop the firm"
    ):
        inf.patell(make_inputs(sigma=sig), [0])


def test_sq_too_few_estimation_days():
    x = TestInputs(
        ar=np.zeros((1, 5)),
        resid=np.ones((1, 3)),
        sigma=np.ones(1),
        n_est=np.array([3]),
        k=0,
        cov=np.repeat(np.eye(5)[None], 1, axis=0),
    )
    with pytest.raises(EstimationError, match=r"L1 = 3 estimation days < 5 event days"):
        inf.sq(x, slice(None))


def test_patell_too_few_days_for_variance_factor():
    x = make_inputs(
        resid=np.array(R)[:, :3].copy(), n_est=np.full(N, 3), market_est=np.array(MKT_E[:3])
    )
    with pytest.raises(EstimationError, match=r"needs L_i > 3 estimation days"):
        inf.patell(x, [0])


def test_kp_with_one_firm_raises():
    ar = np.array(A)
    ar[1:, 0] = np.nan
    with pytest.raises(SpecificationError, match="needs at least 2 firms; 1 firm"):
        inf.kp_bmp(make_inputs(ar=ar), [0])
    with pytest.raises(SpecificationError, match="needs at least 2 firms"):
        inf.kp_patell(make_inputs(ar=ar), [0])


def test_bad_option_values():
    with pytest.raises(SpecificationError, match=r"form must be one of \['exact', 'common'\]"):
        inf.patell(make_inputs(), [0], form="dodd")
    with pytest.raises(SpecificationError, match="blocking must be one of"):
        inf.sq(make_inputs(), [0], blocking="rolling")
    with pytest.raises(SpecificationError, match="p_hat must be one of"):
        inf.generalized_sign(make_inputs(), [0], p_hat="cowan")
    with pytest.raises(SpecificationError, match="constants must be one of"):
        inf.grank(make_inputs(), [0], constants="kp")


def test_lamb_needs_common_market():
    with pytest.raises(SpecificationError, match="lamb needs TestInputs.market_est"):
        inf.lamb(make_inputs(market_est=None), [0])
    me = np.tile(np.array(MKT_E), (N, 1))
    me[2, 0] += 0.001
    with pytest.raises(SpecificationError, match="one market series shared by all firms"):
        inf.lamb(make_inputs(market_est=me), [0])


def test_zero_cross_sectional_spread():
    ar = np.tile(np.array([[0.01, 0.02, 0.03]]), (N, 1))
    with pytest.raises(EstimationError, match="cross-sectional standard deviation of CARs is 0"):
        inf.cross_sectional_t(make_inputs(ar=ar), [0])


def test_results_are_immutable_and_typed():
    r = inf.bmp(make_inputs(), [0])
    assert isinstance(r.stat, float) and isinstance(r.pvalue, float) and isinstance(r.n, int)
    with pytest.raises(AttributeError):
        r.stat = 0.0


def test_rbar_matrix_fallback_matches_pattern_groups(monkeypatch):
    """Many distinct missing-day patterns use the N x N pairwise-complete path: same r-bar."""
    resid = np.array(R)
    resid[1, 0] = np.nan
    resid[2, 3] = np.nan
    x = make_inputs(resid=resid, n_est=np.array([6, 5, 5, 6]))
    grouped = inf.kp_bmp(x, [0]).extra["rbar"]
    monkeypatch.setattr(_kernels, "_MAX_PATTERN_GROUPS", 0)
    assert inf.kp_bmp(x, [0]).extra["rbar"] == pytest.approx(grouped, rel=1e-12)
    rows = [list(r) for r in R]
    rows[1][0] = rows[2][3] = None
    pairs = []
    for i in range(N):
        for j in range(i + 1, N):
            keep = [s for s in range(L1) if rows[i][s] is not None and rows[j][s] is not None]
            pairs.append(pearson([rows[i][s] for s in keep], [rows[j][s] for s in keep]))
    assert grouped == pytest.approx(mean(pairs), rel=1e-12)


# ------------------------------------------------------------------------------------------
# Fast paths: the same numbers as the plain definitions
# ------------------------------------------------------------------------------------------


def _scattered_panel(seed, n, length, p_missing):
    rng = np.random.default_rng(seed)
    common = rng.normal(0, 0.01, length)
    resid = rng.normal(0, 0.02, (n, length)) * rng.uniform(0.5, 1.5, (n, 1)) + common
    resid[rng.random((n, length)) < p_missing] = np.nan
    resid[0, : length - 2] = np.nan  # firm 0 shares < 3 days with everyone: skipped
    resid[1, ::2] = np.nan
    return resid


def _rbar_by_loops(resid):
    rows = [[None if np.isnan(v) else float(v) for v in row] for row in resid]
    pairs = []
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            keep = [
                t for t in range(len(rows[i])) if rows[i][t] is not None and rows[j][t] is not None
            ]
            if len(keep) < 3:
                continue
            pairs.append(pearson([rows[i][t] for t in keep], [rows[j][t] for t in keep]))
    return mean(pairs)


def _rbar_inputs(resid):
    n = resid.shape[0]
    return TestInputs(
        ar=np.full((n, 2), 0.01) + np.arange(n)[:, None] * 1e-4,
        resid=resid,
        sigma=np.full(n, 0.02),
        n_est=(~np.isnan(resid)).sum(axis=1),
        k=1,
        cov=np.repeat((np.eye(2) + 0.02)[None], n, axis=0),
    )


@pytest.mark.parametrize("p_missing", [0.01, 0.3])
def test_rbar_pairwise_path_equals_plain_pairwise_correlations(monkeypatch, p_missing):
    """Scattered missing days (nearly every firm its own pattern): the Gram-matrix-plus-sparse-
    corrections r-bar equals the mean of plain pairwise-complete Pearson correlations (pairs with
    < 3 common days skipped), for every block size, sparse or dense missing-day matrix."""
    resid = _scattered_panel(7, 45, 40, p_missing)
    want = _rbar_by_loops(resid)
    x = _rbar_inputs(resid)
    got = inf.kp_bmp(x, [0]).extra["rbar"]
    assert got == pytest.approx(want, rel=1e-12)
    monkeypatch.setattr(_kernels, "_PAIR_BLOCK_ROWS", 7)  # several blocks, ragged last block
    assert inf.kp_bmp(x, [0]).extra["rbar"] == pytest.approx(want, rel=1e-12)
    monkeypatch.setattr(_kernels, "_SPARSE_MISSING", 0.0)  # dense missing-day matrix
    assert inf.kp_bmp(x, [0]).extra["rbar"] == pytest.approx(want, rel=1e-12)
    monkeypatch.setattr(_kernels, "_MAX_PATTERN_GROUPS", 10_000)  # pattern-group path: same value
    assert inf.kp_bmp(x, [0]).extra["rbar"] == pytest.approx(want, rel=1e-12)


def test_rbar_pairwise_path_matches_dense_reference_on_a_large_panel():
    """500 firms x 250 days, 1% scattered missing: equals the dense pairwise-complete sums."""
    resid = _scattered_panel(3, 500, 250, 0.01)
    ok = ~np.isnan(resid)
    m = ok.astype(float)
    xz = np.where(ok, resid, 0.0)
    nij, sx_i, sxx_i, sxy = m @ m.T, xz @ m.T, (xz * xz) @ m.T, xz @ xz.T
    num = nij * sxy - sx_i * sx_i.T
    den = (nij * sxx_i - sx_i**2) * (nij * sxx_i.T - sx_i.T**2)
    iu = np.triu_indices(len(resid), 1)
    keep = (nij[iu] >= 3) & (den[iu] > 0)
    want = float((num[iu][keep] / np.sqrt(den[iu][keep])).mean())
    assert inf.kp_bmp(_rbar_inputs(resid), [0]).extra["rbar"] == pytest.approx(want, rel=1e-12)


def test_rank_fast_path_matches_scipy_on_near_ties_zeros_and_nan():
    """The int64-key sort path: exact ties, values 1 ulp apart, -0.0 vs 0.0 and NaN."""
    rng = np.random.default_rng(11)
    a = rng.normal(size=(40, 300))
    a[rng.random(a.shape) < 0.05] = np.nan
    a[3, :10] = 1.0 + np.arange(10) * np.finfo(float).eps  # distinct, 1 ulp apart
    a[4, ::7] = 0.25  # exact ties
    a[5, :6] = [0.0, -0.0, 0.0, -1e-300, 1e-300, -0.0]
    a[6] = np.round(a[6], 1)
    r, cnt = _kernels.rank_rows(a)
    ok = ~np.isnan(a)
    ref = stats.rankdata(a, axis=1, nan_policy="omit")
    assert np.array_equal(np.isnan(r), ~ok)
    assert np.array_equal(r[ok], ref[ok])
    assert cnt.tolist() == ok.sum(axis=1).tolist()
    ref_loop = avg_rank([None if np.isnan(v) else v for v in a[5]])
    assert r[5].tolist()[:6] == ref_loop[:6]


def _cars_inputs(cars):
    cars = np.asarray(cars, dtype=float)
    n = cars.size
    rng = np.random.default_rng(5)
    resid = rng.normal(0, 0.02, (n, 30))
    return TestInputs(
        ar=cars[:, None],
        resid=resid,
        sigma=resid.std(axis=1, ddof=1),
        n_est=np.full(n, 30),
        k=1,
        cov=np.ones((n, 1, 1)),
    )


@pytest.mark.parametrize(
    "cars",
    [
        np.random.default_rng(1).normal(0.001, 0.02, 120),  # n > 50: normal approximation
        np.round(np.random.default_rng(2).normal(0, 0.02, 80), 3),  # many |CAR| ties
        np.r_[np.full(30, 0.01), np.full(25, -0.01), 0.02, -0.03],  # one big tie group
    ],
)
def test_wilcoxon_normal_approximation_equals_scipy(cars):
    """The tie-corrected normal approximation is computed directly: it equals
    scipy.stats.wilcoxon(method="asymptotic") (which it replaces for speed)."""
    res = inf.wilcoxon(_cars_inputs(cars), [0])
    nonzero = cars[cars != 0]
    want = stats.wilcoxon(nonzero, zero_method="wilcox", method="asymptotic").pvalue
    assert res.pvalue == pytest.approx(want, rel=1e-12)
    assert res.distribution.startswith("N(0,1) approx")


def test_sign_binomial_pvalue_equals_scipy_binomtest():
    for n in (1, 2, 7, 50, 51, 500):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            got = _p_binomial_half(k, n)
            assert got == pytest.approx(stats.binomtest(k, n, 0.5).pvalue, rel=1e-10), (k, n)
    cars = np.r_[np.full(70, 0.01), np.full(30, -0.01)]
    res = inf.sign(_cars_inputs(cars), [0])
    assert res.extra["p_binomial"] == pytest.approx(stats.binomtest(70, 100, 0.5).pvalue)
    assert res.extra["p_binomial"] < 1e-4


def test_rank_rows_medians_equal_nanmedian():
    """The medians read off the rank sort (used by the Corrado-Zivney sign test) equal
    np.nanmedian, also for rows with ties (argsort fallback), even counts and all-NaN rows."""
    rng = np.random.default_rng(12)
    a = rng.normal(size=(30, 41))
    a[rng.random(a.shape) < 0.1] = np.nan
    a[2, ::3] = 0.5  # ties
    a[3, :40] = np.nan  # one value left
    a[3, 40] = 1.25
    a[4] = np.nan  # none left
    a[5, 1] = np.nan  # even count
    _, cnt, med = _kernels.rank_rows(a, medians=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the all-NaN row
        want = np.nanmedian(a, axis=1)
    assert np.array_equal(np.isnan(med), np.isnan(want)) and np.isnan(med[4])
    assert np.allclose(med[~np.isnan(want)], want[~np.isnan(want)], rtol=0, atol=0)
    assert cnt[3] == 1 and med[3] == a[3, 40]


def test_rank_rows_of_column_parts_equal_ranks_of_the_concatenation():
    """Ranking (resid, ar) as parts (no concatenated copy) gives the ranks, counts and medians
    of the concatenation, with the fill value at missing cells; rows with ties, +inf or -0.0
    in either part go through the exact fallback."""
    rng = np.random.default_rng(21)
    left, right = rng.normal(size=(25, 37)), rng.normal(size=(25, 5))
    left[rng.random(left.shape) < 0.08] = np.nan
    right[rng.random(right.shape) < 0.08] = np.nan
    right[1, 0] = left[1, 3] = 0.75  # tie across the parts
    right[2, 1] = np.inf
    left[3, :2], right[3, 0] = (0.0, -0.0), 0.0
    whole = np.concatenate([left, right], axis=1)
    r_whole, cnt_whole, med_whole = _kernels.rank_rows(whole, medians=True)
    r_parts, cnt_parts, med_parts = _kernels.rank_rows((left, right), medians=True, fill=0.0)
    assert np.array_equal(cnt_parts, cnt_whole)
    assert np.array_equal(r_parts, np.nan_to_num(r_whole, nan=0.0))
    assert np.array_equal(med_parts, med_whole, equal_nan=True)
    ref = stats.rankdata(whole, axis=1, nan_policy="omit")
    ok = ~np.isnan(whole)
    assert np.array_equal(r_parts[ok], ref[ok])
