"""Numeric kernels of the retail-price study: two-way fixed-effects event study, synthetic control.

numpy on arrays, plus two helpers on event-week frames; no dates, no file access. The synthetic
control's weights, RMSPE and permutation p-values come from :mod:`analysis._simplex`, shared with
the synthetic match of :mod:`analysis.eventstudy.synthetic`. :mod:`analysis.studies.retail` builds
the inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._simplex import permutation_pvalue, rmse, simplex_lstsq
from analysis.errors import EstimationError


@dataclass(frozen=True)
class TwfeFit:
    """Event-time coefficients of a two-way fixed-effects regression (one per event week)."""

    event_weeks: np.ndarray  # the event weeks with a coefficient (reference week left out)
    coef: np.ndarray  # NaN where the treated unit has no observation in that week
    se_cr1: np.ndarray  # cluster-robust (by unit) standard error, CR1 small-sample factor
    n_obs: int
    n_units: int


def twfe_event_study(
    y: np.ndarray,
    unit: np.ndarray,
    week: np.ndarray,
    treated: np.ndarray,
    event_weeks: np.ndarray,
    reference: int,
) -> TwfeFit:
    """OLS of ``y`` on unit and week dummies plus treated x event-week dummies.

    ``unit`` and ``week`` are integer codes per observation, ``treated`` a boolean per observation
    (the treated unit's rows) and ``event_weeks`` the event week of each observation. One dummy per
    event week other than ``reference`` that the treated unit is observed in; the coefficient of
    event week k is the treated unit's change from the reference week minus the change of the
    week effects (estimated from the other units). Standard errors are clustered by unit (CR1:
    G/(G-1) x (n-1)/(n-p)); with one treated unit they miss its own noise (Conley & Taber 2011;
    MacKinnon & Webb 2018) and are reported for completeness only.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    if not (len(unit) == len(week) == len(treated) == len(event_weeks) == n):
        raise EstimationError("y, unit, week, treated and event_weeks must have the same length")
    if not np.any(treated & (event_weeks == reference)):
        raise EstimationError(
            f"the treated unit has no observation in the reference event week {reference}"
        )
    units = np.unique(unit)
    weeks = np.unique(week)
    ks = np.array(sorted(set(event_weeks[treated].tolist()) - {reference}), dtype=int)
    cols = [(unit == u).astype(float) for u in units]
    cols += [(week == w).astype(float) for w in weeks[1:]]
    cols += [(treated & (event_weeks == k)).astype(float) for k in ks]
    x = np.column_stack(cols)
    p = x.shape[1]
    xtx_inv = np.linalg.pinv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    resid = y - x @ beta
    meat = np.zeros((p, p))
    for u in units:
        s = x[unit == u].T @ resid[unit == u]
        meat += np.outer(s, s)
    g = len(units)
    dof = max(n - np.linalg.matrix_rank(x), 1)
    factor = g / max(g - 1, 1) * (n - 1) / dof
    vcov = factor * xtx_inv @ meat @ xtx_inv
    k0 = p - len(ks)
    se = np.sqrt(np.clip(np.diag(vcov)[k0:], 0.0, None))
    return TwfeFit(ks, beta[k0:], se, n, g)


def rmspe(gap: np.ndarray) -> float:
    """Root mean squared prediction error of a gap series (Abadie, Diamond & Hainmueller 2010,
    section 3, placebo studies): :func:`analysis._simplex.rmse` over the weeks with a gap (NaNs
    ignored); NaN when no week has one."""
    g = np.asarray(gap, dtype=float)
    g = g[np.isfinite(g)]
    return rmse(g) if len(g) else float("nan")


def rank_p(stat: float, others: np.ndarray) -> float:
    """Fisher randomization p-value: share of all units (the actual one included) whose
    statistic is at least the actual one (ties count against; minimum 1/N), by
    :func:`analysis._simplex.permutation_pvalue`. Placebos without a finite statistic are not
    units and are left out; NaN when the actual unit has no statistic."""
    if np.isnan(stat):
        return float("nan")
    o = np.asarray(others, dtype=float)
    return permutation_pvalue(stat, o[np.isfinite(o)])[0]


def ranks(stats: np.ndarray) -> np.ndarray:
    """Each unit's rank among all (1 = largest; ties share the lower place, as pandas'
    ``rank(method="max")``): ``1 + #{j != i: s_j >= s_i}``, the rank of
    :func:`analysis._simplex.permutation_pvalue` with each unit in turn as the actual one."""
    s = np.asarray(stats, dtype=float)
    return np.array([permutation_pvalue(x, np.delete(s, i))[1] for i, x in enumerate(s)], dtype=int)


def horizon_stats(coef: pd.DataFrame, horizons, leads: int, ref: int) -> dict[str, float]:
    """Average coefficient over each (first, last) horizon, the number of event weeks in it,
    and the RMS of the lead coefficients (reference week left out)."""
    c = coef.set_index("event_week")["coef"]
    pre = c[(c.index >= -leads) & (c.index < 0) & (c.index != ref)]
    out = {"pre_rms": float(np.sqrt(np.mean(pre**2))) if len(pre) else np.nan}
    for a, b in horizons:
        v = c[(c.index >= a) & (c.index <= b)]
        out[f"{a}:{b}"] = float(v.mean()) if len(v) else np.nan
        out[f"{a}:{b}_weeks"] = len(v)
    return out


def sc_fit(wide: pd.DataFrame, target: str, donors, pre_mask, post_mask, min_share: float):
    """Fit weights on the pre weeks where the target and all admitted donors have a price."""
    pre = wide[pre_mask]
    ok = [
        d for d in donors if pre[d].notna().mean() >= min_share and wide[post_mask][d].notna().any()
    ]
    if not ok:
        raise EstimationError(f"no donor for {target} has a price in {min_share:.0%} of pre weeks")
    z = wide[[target, *ok]] - wide[[target, *ok]][pre_mask].mean()
    fit_rows = pre_mask & z.notna().all(axis=1)
    if fit_rows.sum() < 3:
        raise EstimationError(
            f"fewer than 3 pre weeks where {target} and its donors all have a price"
        )
    try:
        w = simplex_lstsq(
            z.loc[fit_rows, ok].to_numpy(), z.loc[fit_rows, target].to_numpy()
        ).weights
    except EstimationError as exc:
        raise EstimationError(f"synthetic control of {target}: {exc}") from exc
    # a donor with a negligible weight (<= 1e-6) missing a week leaves the gap defined
    active = [d for d, x in zip(ok, w, strict=True) if x > 1e-6]
    synth = z[ok].fillna(0.0) @ w
    synth[z[active].isna().any(axis=1)] = np.nan
    gap = z[target] - synth
    pre_r, post_r = rmspe(gap[fit_rows].to_numpy()), rmspe(gap[post_mask].to_numpy())
    return pd.Series(w, index=ok), gap, synth, pre_r, post_r, int(fit_rows.sum())
