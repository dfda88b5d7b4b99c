"""Multi-firm nonparametric tests: sign, generalized sign, Corrado rank, Corrado-Zivney rank and sign, Wilcoxon, GRANK."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from analysis.errors import EstimationError
from analysis.eventstudy.inference._common import (
    Days,
    _Car,
    _car,
    _car_factor,
    _choice,
    _fl,
    _memo,
    _need,
    _normal_result,
    _p_norm,
    _p_t,
    _rows,
    _sd,
    _used_rows,
)
from analysis.eventstudy.inference._kernels import rank_rows
from analysis.eventstudy.inference.results import TestInputs, TestResult


def _p_binomial_half(k: int, n: int) -> float:
    """Exact two-sided p-value of k successes in n Binomial(n, 1/2) trials: twice the smaller
    tail, capped at 1 (what ``scipy.stats.binomtest(k, n, 0.5)`` returns, since the distribution
    is symmetric), from the regularized incomplete beta function (``special.bdtr``/``bdtrc``)
    without binomtest's per-call overhead."""
    lower = float(special.bdtr(k, n, 0.5))
    upper = float(special.bdtrc(k - 1, n, 0.5)) if k > 0 else 1.0
    return min(1.0, 2.0 * min(lower, upper))


def sign(inputs: TestInputs, days: Days) -> TestResult:
    """Sign test, formula (13): Z = (N+ - N/2)/(sqrt(N)/2), N+ = #{CAR_i > 0} (zero counts as not
    positive, as estudy2). N(0,1); ``extra`` also holds the exact two-sided Binomial(N, 1/2) p-value
    ``p_binomial``. Assumes independence and a zero median. (Cowan 1992, Rev. Quant. Fin. Acc.
    2:343-358, for the event-study use.)
    """
    c = _car(inputs, days)
    n = _need(c, "sign", 1)
    npos = int((c.car > 0).sum())
    z = (npos - 0.5 * n) / (0.5 * math.sqrt(n))
    pb = _p_binomial_half(npos, n)
    return _normal_result(
        "sign", z, n, "CAR_i > 0 vs 1/2", {"n_pos": float(npos), "p_binomial": pb}
    )


_PHAT = ("per_firm", "pooled")


def generalized_sign(inputs: TestInputs, days: Days, *, p_hat: str = "per_firm") -> TestResult:
    """Cowan (1992) generalized sign test, formula (14).

    Cowan, A.R. (1992), "Nonparametric event study tests", Rev. Quant. Fin. Acc. 2:343-358,
    doi:10.1007/BF00939016. Z = (N+ - N p) / sqrt(N p (1 - p)), N+ = #{CAR_i > 0}; p is the
    DAILY share of positive estimation residuals of the used firms: ``p_hat="per_firm"`` (default)
    averages the firms' shares, ``"pooled"`` pools all firm-days (estudy2). N(0,1).
    ``extra``: ``p_hat``, ``n_pos``.
    """
    _choice(p_hat, _PHAT, "generalized_sign: p_hat")
    c = _car(inputs, days)
    n = _need(c, "generalized_sign", 1)
    r = _used_rows(inputs, "resid", c)
    pos = (r > 0).sum(axis=1)
    cnt = (~np.isnan(r)).sum(axis=1)
    bad = np.flatnonzero(cnt == 0)
    if bad.size:
        raise EstimationError(f"generalized_sign: no estimation residuals for {_rows(c.used[bad])}")
    p = float(np.mean(pos / cnt)) if p_hat == "per_firm" else float(pos.sum() / cnt.sum())
    if not 0 < p < 1:
        raise EstimationError(
            f"generalized_sign: the share of positive estimation residuals is {p:g}; test undefined"
        )
    npos = int((c.car > 0).sum())
    z = (npos - n * p) / math.sqrt(n * p * (1 - p))
    return _normal_result(
        "generalized_sign", z, n, f"p-hat {p_hat}", {"p_hat": p, "n_pos": float(npos)}
    )


@dataclass(frozen=True)
class _EwRanks:
    """Per-column sums of the within-firm ranks over E and the whole event window (one sort per
    run_tests call, shared by the Corrado, Corrado-Zivney rank and sign tests); the rank matrix
    itself is not kept."""

    t_i: np.ndarray  # non-missing days per firm
    n_t: np.ndarray  # firms with data per column
    k_sum: np.ndarray  # sum over the firms with data of K_it
    kw_sum: np.ndarray  # sum of K_it / (T_i + 1)
    kbar_sum: np.ndarray  # sum of Kbar_i = (T_i + 1)/2
    median: np.ndarray  # per firm, over its non-missing days


def _ew_ranks(inputs: TestInputs, c: _Car) -> _EwRanks:
    """K_it, the rank of AR_it among firm i's non-missing days of E and the whole event window,
    summed per column (the used firms only), and each firm's median over the same days."""

    def build() -> _EwRanks:
        resid = _used_rows(inputs, "resid", c)
        k, t_i, med = rank_rows((resid, _used_rows(inputs, "ar", c)), medians=True, fill=0.0)
        kbar = (t_i + 1) / 2.0
        miss_r, miss_c = np.nonzero(k == 0.0)  # ranks are >= 1 where there is data
        n_t = k.shape[0] - np.bincount(miss_c, minlength=k.shape[1])
        kbar_sum = kbar.sum() - np.bincount(miss_c, weights=kbar[miss_r], minlength=k.shape[1])
        return _EwRanks(
            t_i=t_i,
            n_t=n_t,
            k_sum=k.sum(axis=0),
            kw_sum=k.T @ (1.0 / (t_i + 1.0)),
            kbar_sum=kbar_sum,
            median=med,
        )

    return _memo(("ew_ranks", c.d.tobytes()), build)


_CENTRES = ("firm", "pooled")


def corrado_rank(inputs: TestInputs, days: Days, *, rank_centre: str = "firm") -> TestResult:
    """Corrado (1989) rank test; Campbell & Wasley (1993) cumulation for windows, formula (15).

    Corrado, C.J. (1989), JFE 23:385-395, doi:10.1016/0304-405X(89)90064-0. Campbell, C.J. &
    Wasley, C.E. (1993), JFE 33(1):73-92, doi:10.1016/0304-405X(93)90025-7.
    K_it = rank of AR_it among firm i's T_i non-missing days of E and the WHOLE event window
    (average ranks for ties). D_t = (1/N_t) sum_i (K_it - Kbar_i), Kbar_i = (T_i + 1)/2, N_t = firms
    with data on day t; S_K^2 = (1/T) sum_t D_t^2 over all days of E and W, T = mean T_i (estudy2's
    missing-data adaptation). Statistic: sum_{t in days} D_t / (sqrt(L2) S_K) (one day: D_0/S_K).
    N(0,1). ``rank_centre="pooled"`` centres every rank on the mean of the Kbar_i instead
    (reproduces estudy2's ``car_rank_test``; differs only when T_i differ). Unlike estudy2's daily
    ``rank_test``, the day means are NOT rescaled by N/N_t on days with missing firms.
    """
    _choice(rank_centre, _CENTRES, "corrado_rank: rank_centre")
    c = _car(inputs, days)
    n = _need(c, "corrado_rank", 1)
    er = _ew_ranks(inputs, c)
    t_i, cnt = er.t_i, er.n_t
    if rank_centre == "firm":  # sum over firms with data of K_it - Kbar_i
        s = er.k_sum - er.kbar_sum
    else:
        s = er.k_sum - float(((t_i + 1) / 2.0).mean()) * cnt
    has = cnt > 0
    dbar = np.zeros_like(s)
    dbar[has] = s[has] / cnt[has]
    tbar = float(t_i.mean())
    sk = math.sqrt(float((dbar**2).sum()) / tbar)
    if sk <= 0:
        raise EstimationError("corrado_rank: the rank dispersion S_K is 0")
    l1 = np.asarray(inputs.resid).shape[1]
    z = float(dbar[l1 + c.d].sum() / (math.sqrt(c.d.size) * sk))
    return _normal_result(
        "corrado_rank",
        z,
        n,
        f"Corrado 1989 / Campbell-Wasley 1993, centre {rank_centre}, T = mean T_i",
        {"s_k": sk},
    )


def _cz_statistic(
    inputs: TestInputs, c: _Car, er: _EwRanks, s: np.ndarray, what: str
) -> tuple[float, float]:
    """Corrado-Zivney statistic from per-day column sums ``s`` over the N_t firms with data
    (``er.n_t``): W_t = s_t / sqrt(N_t), dispersion sqrt(sum_t W_t^2 / mean T_i), statistic
    sum_{t in days} W_t / (sqrt(L2) dispersion). Returns (statistic, dispersion)."""
    cnt, t_i = er.n_t, er.t_i
    w = np.zeros_like(s)
    has = cnt > 0
    w[has] = s[has] / np.sqrt(cnt[has])
    disp = math.sqrt(float((w**2).sum()) / float(t_i.mean()))
    if disp <= 0:
        raise EstimationError(f"{what} is 0")
    l1 = np.asarray(inputs.resid).shape[1]
    return float(w[l1 + c.d].sum() / (math.sqrt(c.d.size) * disp)), disp


def corrado_zivney_rank(inputs: TestInputs, days: Days) -> TestResult:
    """Corrado & Zivney (1992) standardized rank test, formula (16).

    Corrado, C.J. & Zivney, T.L. (1992), JFQA 27(3):465-478, doi:10.2307/2331331.
    U_it = K_it/(T_i + 1) over firm i's non-missing days of E and the whole event window;
    V_t = sum_i (U_it - 1/2)/sqrt(N_t); S_U^2 = (1/T) sum_t V_t^2 (T = mean T_i);
    statistic sum_{t in days} V_t / (sqrt(L2) S_U) (Campbell-Wasley-style cumulation for windows).
    N(0,1). estudy2's ``modified_rank_test`` additionally rescales V_t by N/N_t (not done here).
    """
    c = _car(inputs, days)
    n = _need(c, "corrado_zivney_rank", 1)
    er = _ew_ranks(inputs, c)
    s = er.kw_sum - 0.5 * er.n_t  # sum over firms with data of U_it - 1/2
    z, su = _cz_statistic(inputs, c, er, s, "corrado_zivney_rank: the rank dispersion S_U")
    return _normal_result(
        "corrado_zivney_rank", z, n, "U = K/(T_i+1), sums over sqrt(N_t), T = mean T_i", {"s_u": su}
    )


def corrado_zivney_sign(inputs: TestInputs, days: Days) -> TestResult:
    """Corrado & Zivney (1992) sign test, formula (16).

    Corrado & Zivney (1992), JFQA 27(3):465-478. G_it = sign(AR_it - median_i), the median over
    firm i's non-missing days of E and the whole event window; W_t = sum_i G_it / sqrt(N_t);
    S_G^2 = (1/T) sum_t W_t^2 (T = mean T_i); statistic sum_{t in days} W_t / (sqrt(L2) S_G).
    N(0,1). estudy2's ``corrado_sign_test`` additionally rescales W_t by N/N_t (not done here).
    """
    c = _car(inputs, days)
    n = _need(c, "corrado_zivney_sign", 1)
    er = _ew_ranks(inputs, c)  # the medians come from the sort behind the Corrado ranks
    med = er.median[:, None]
    sums = []
    for part in (_used_rows(inputs, "resid", c), _used_rows(inputs, "ar", c)):
        g = np.subtract(part, med)
        np.sign(g, out=g)  # NaN stays NaN: not summed
        sums.append(np.sum(g, axis=0, where=~np.isnan(g)))
    what = "corrado_zivney_sign: the sign dispersion S_G"
    z, sg = _cz_statistic(inputs, c, er, np.concatenate(sums), what)
    return _normal_result(
        "corrado_zivney_sign", z, n, "G = sign(AR - median over E and W), T = mean T_i", {"s_g": sg}
    )


def wilcoxon(inputs: TestInputs, days: Days) -> TestResult:
    """Wilcoxon signed-rank test of the CAR_i, formula (17).

    Wilcoxon, F. (1945), Biometrics Bulletin 1(6):80-83. Zero CARs are dropped (n' = nonzero);
    W+ = sum of the average ranks of |CAR_i| over CAR_i > 0 (``extra["w_plus"]``). ``stat`` is the
    normal score (W+ - n'(n'+1)/4)/sqrt(n'(n'+1)(2n'+1)/24) (no tie correction); ``pvalue`` comes
    from ``scipy.stats.wilcoxon``: exact signed-rank distribution when n' <= 50 and no |CAR| ties,
    otherwise its tie-corrected normal approximation. Assumes symmetry and independence.
    """
    c = _car(inputs, days)
    _need(c, "wilcoxon", 1)
    x = c.car[c.car != 0]
    nz = x.size
    if nz == 0:
        raise EstimationError("wilcoxon: every CAR is exactly 0, so there is nothing to rank")
    ax = np.abs(x)
    r, _ = rank_rows(ax[None, :])
    wplus = float(r[0][x > 0].sum())
    mean_w = nz * (nz + 1) / 4
    var_w = nz * (nz + 1) * (2 * nz + 1) / 24
    z = (wplus - mean_w) / math.sqrt(var_w)
    t = np.unique(ax, return_counts=True)[1]
    ties = t.size < nz
    method = "exact" if (nz <= 50 and not ties) else "asymptotic"
    if method == "exact":
        p = float(stats.wilcoxon(x, zero_method="wilcox", method=method).pvalue)
    else:  # scipy.stats.wilcoxon's tie-corrected normal approximation (no continuity correction)
        se = math.sqrt(var_w - float((t.astype(float) ** 3 - t).sum()) / 48)
        p = _fl(_p_norm((wplus - mean_w) / se)) if se > 0 else 1.0
    dist = f"exact signed-rank (n={nz})" if method == "exact" else "N(0,1) approx., tie-corrected"
    return TestResult(
        "wilcoxon",
        z,
        p,
        int(c.used.size),
        "signed ranks of CAR_i, zeros dropped",
        dist,
        None,
        {"w_plus": wplus, "n_nonzero": float(nz)},
    )


_CONSTANTS = ("kp2011", "stata")


@dataclass(frozen=True)
class _GrankRanks:
    """Per-column sums of the GRANK ranks (estimation days + the CAR point), computed once per
    run_tests call; the rank matrix itself is not kept."""

    t_i: np.ndarray  # points with data per firm
    n_t: np.ndarray  # firms with data per column
    u_sum: dict[str, np.ndarray]  # per constants variant: sum over firms with data of K/T_i*
    k_event: np.ndarray  # rank of the CAR point per firm (NaN if missing)


def _grank_ranks(inputs: TestInputs, c: _Car) -> _GrankRanks:
    """Ranks of the generalized SAR series (estimation days + 1 CAR point) per firm."""

    def build() -> _GrankRanks:
        sigma = np.asarray(inputs.sigma, dtype=float)[c.used]
        scar = c.car / (sigma * np.sqrt(_car_factor(inputs, c)))
        scar_star = scar / _sd(scar, "standardized CARs")
        resid = _used_rows(inputs, "resid", c)
        gs = np.empty((resid.shape[0], resid.shape[1] + 1))
        np.divide(resid, sigma[:, None], out=gs[:, :-1])
        gs[:, -1] = scar_star
        k, t_i = rank_rows(gs, fill=0.0)
        del gs
        n_t = np.count_nonzero(k, axis=0)  # ranks are >= 1 where there is data
        tf = t_i.astype(float)
        stata = np.divide(1.0, tf, out=np.zeros_like(tf), where=t_i > 0)
        return _GrankRanks(
            t_i=t_i,
            n_t=n_t,
            u_sum={"kp2011": k.T @ (1.0 / (tf + 1.0)), "stata": k.T @ stata},
            k_event=np.where(k[:, -1] > 0, k[:, -1], np.nan),
        )

    return _memo(("grank_ranks", c.d.tobytes()), build)


def grank(inputs: TestInputs, days: Days, *, constants: str = "kp2011") -> TestResult:
    """Kolari & Pynnonen (2011) generalized rank test GRANK-T, formula (18).

    Kolari, J.W. & Pynnonen, S. (2011), "Nonparametric rank tests for event studies", J. Empirical
    Finance 18(5):953-971 (SSRN 1254022). SAR_it = AR_it/s_i on estimation days; SCAR_i =
    CAR_i/(s_i sqrt(1'C_i1)) re-standardized (not demeaned) by its cross-sectional sd; the CAR
    window is one cumulated point. U_it = rank/(T_i + 1) - 1/2 over T_i = L_i + 1 points;
    Ubar_t = mean over the N_t firms with data; S^2 = (1/T) sum_t (N_t/N) Ubar_t^2 over all
    T = L1 + 1 points (columns with data) incl. the event point; Z = Ubar_0/S;
    t = Z sqrt((T - 2)/(T - 1 - Z^2)), t(T - 2). ``constants="stata"`` uses Stata estudy's
    rank/T_i, S^2 divided by L1 = T - 1 and L1 in the t transform and df.
    Robust to event-induced volatility; allows for cross-correlation but over-rejects with
    correlated firms and in small groups (the event point is scaled by the cross-sectional sd of N
    SCARs: 6-10% at 5% with 13 firms, 10-14% with 5, for r = 0 to 0.7), see formula (18) and
    :meth:`analysis.eventstudy.power.PowerResult.size_check`. ``extra``: ``z``.
    """
    _choice(constants, _CONSTANTS, "grank: constants")
    c = _car(inputs, days)
    n = _need(c, "grank", 2)
    gr = _grank_ranks(inputs, c)
    cnt = gr.n_t
    s = gr.u_sum[constants] - 0.5 * cnt  # sums of the centred standardized ranks U_it
    has = cnt > 0
    ubar = s[has] / cnt[has]
    nt = cnt[has]
    big_t = int(has.sum())
    tt = big_t if constants == "kp2011" else big_t - 1
    if tt < 3:
        raise EstimationError(f"grank needs at least 3 estimation days with data; got {big_t - 1}")
    s2 = float(((nt / n) * ubar**2).sum()) / tt
    if s2 <= 0:
        raise EstimationError("grank: the rank dispersion is 0")
    z = float(ubar[-1] / math.sqrt(s2))
    den = tt - 1 - z * z
    if den <= 0:
        stat, p = math.copysign(math.inf, z), 0.0
    else:
        stat = z * math.sqrt((tt - 2) / den)
        p = _fl(_p_t(stat, tt - 2))
    return TestResult(
        "grank",
        stat,
        p,
        n,
        f"GRANK-T, {constants} constants",
        f"t({tt - 2})",
        float(tt - 2),
        {"z": z},
    )


def grank_z(inputs: TestInputs, days: Days) -> TestResult:
    """Kolari & Pynnonen (2011) GRANK-Z ("Generalized Rank Z" of EventStudyTools), formula (18).

    Same ranks as :func:`grank` (KP constants); Z = Ubar_0 / sqrt(sum_i (T_i - 1)/(T_i + 1) / (12 N^2)),
    the exact null sd of Ubar_0 under cross-sectional independence. N(0,1). Not robust to
    clustering: use GRANK-T for a peer group on one date.
    """
    c = _car(inputs, days)
    n = _need(c, "grank_z", 2)
    gr = _grank_ranks(inputs, c)
    t_i = gr.t_i
    u0 = float((gr.k_event / (t_i + 1.0) - 0.5).mean())
    var = float(((t_i - 1.0) / (t_i + 1.0)).sum()) / (12.0 * n * n)
    z = u0 / math.sqrt(var)
    return _normal_result("grank_z", z, n, "GRANK-Z, KP constants")
