"""What a reader is told about a synthetic match: headline figures and the plain-language
conclusion, with the leave-one-out range."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from analysis.data import calendar
from analysis.eventstudy.design import check_alpha
from analysis.eventstudy.synthetic import _rank
from analysis.eventstudy.tables import num, pfmt

if TYPE_CHECKING:  # pragma: no cover
    from analysis.eventstudy.synthetic import SyntheticResults


def headline(res: SyntheticResults, *, leave_one_out: bool = False) -> dict[str, Any]:
    """The headline figures (plain floats and strings), for reports; with ``leave_one_out`` also
    the range of :meth:`SyntheticResults.leave_one_out` (``loo_*``) and its rows
    (``leave_one_out``)."""
    tt = res.tests()["permutation"]
    ci = res.conf_int() if res.statistic != "rmspe_ratio" else None
    out: dict[str, Any] = {
        "day0": f"{res.day0.day0:%Y-%m-%d}",
        "method": "synthetic match",
        "window": calendar.format_window(res.window),
        "n_donors": len(res.donors),
        "top_donors": ", ".join(f"{d} {v:.2f}" for d, v in res._top()),
        "ar_day0": num(res.ar.loc[0]) if 0 in res.ar.index else None,
        "car": num(res.car),
        "ci_lower": None if ci is None else num(ci["lower"].iloc[0]),
        "ci_upper": None if ci is None else num(ci["upper"].iloc[0]),
        "rmse": num(res.rmse),
        "r2": num(res.r2),
        "n_estimation": res.n_estimation,
        "statistic": tt.variant,
        "permutation_stat": num(tt.stat),
        "permutation_pvalue": num(tt.pvalue),
        "permutation_rank": _rank(tt),
    }
    if leave_one_out:
        f, why = res._leave_one_out_figures()
        if f is None:
            out["loo_reason"] = why
        else:
            out |= {
                "loo_car_min": num(f["car"].min()),
                "loo_car_max": num(f["car"].max()),
                "loo_pvalue_min": num(f["pvalue"].min()),
                "loo_pvalue_max": num(f["pvalue"].max()),
                "leave_one_out": {
                    str(d): {
                        "weight": num(r.weight),
                        "car": num(r.car),
                        "pvalue": num(r.pvalue),
                    }
                    for d, r in f.iterrows()
                },
            }
    return out


def conclusion(res: SyntheticResults, alpha: float = 0.05, *, leave_one_out: bool = False) -> str:
    """A plain-language paragraph: the CAR against the synthetic match and the placebo test
    (with ``leave_one_out``, also the range of :meth:`SyntheticResults.leave_one_out`)."""
    alpha = check_alpha(alpha)
    text = _test_sentences(res, alpha)
    return text + (" " + _leave_one_out_sentence(res) if leave_one_out else "")


def _test_sentences(res: SyntheticResults, alpha: float) -> str:
    tt = res.tests()["permutation"]
    d1, d2 = res.evt_dates[0], res.evt_dates[-1]
    top = ", ".join(f"{d} {v:.0%}" for d, v in res._top())
    text = (
        f"{res.firm}: CAR over {calendar.format_window(res.window)} ({d1:%Y-%m-%d} to "
        f"{d2:%Y-%m-%d}) {res.car:+.2%} against a synthetic match of {len(res.donors)} "
        f"donors (largest weights {top}; pre-event RMSE {res.rmse:.2%} a day over "
        f"{res.n_estimation} days). "
    )
    rank = _rank(tt)
    if rank is None:
        return text + f"Placebo permutation not computed: {tt.reason}."
    units = tt.n + 1
    what = {
        "car_rmse": "|CAR| / pre-event RMSE",
        "car": "|CAR|",
        "rmspe_ratio": "event-window RMSE / pre-event RMSE",
    }[tt.variant]
    verdict = "significant" if tt.pvalue <= alpha else "not significant"
    text += (
        f"Placebo permutation: {what} ranks {rank} of {units} (p = {pfmt(tt.pvalue)}), "
        f"{verdict} at the {alpha:.0%} level."
    )
    if 1 / units > alpha:
        text += f" With {units - 1} placebos no p-value below {1 / units:.3f} is possible."
    return text


def _leave_one_out_sentence(res: SyntheticResults) -> str:
    f, why = res._leave_one_out_figures()
    if f is None:
        return f"Leave-one-out not computed: {why}."
    done = f.dropna(subset=["car"])
    if done.empty:
        return f"Leave-one-out not computed: {f['reason'].iloc[0]}."
    lo, hi = done["car"].idxmin(), done["car"].idxmax()
    if len(f) == 1:
        car = done.loc[lo, "car"]
        text = f"Without its only donor shown with a weight ({lo}), the CAR is {car:+.2%}"
    else:
        text = (
            f"Leaving out each of the {len(f)} donors shown with a weight in turn, the CAR is "
            f"{done.loc[lo, 'car']:+.2%} (without {lo}) to {done.loc[hi, 'car']:+.2%} "
            f"(without {hi})"
        )
    p = done["pvalue"].dropna()
    if len(p):
        text += (
            f" and p {pfmt(p.min())} to {pfmt(p.max())}"
            if len(p) > 1
            else f" and p {pfmt(p.iloc[0])}"
        )
    missing = len(f) - len(p)
    if missing:
        why = f.loc[f["pvalue"].isna(), "reason"].iloc[0]
        text += f" ({missing} refit(s) without a p-value: {why})"
    return text + "."
