"""The China-exposure study object: the published cross-section figures (new: permutation p and
leave-one-out range), the headline dict and the generated caveats, checked against numpy
(synthetic CARs and shares)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd

from analysis.studies import exposure

SHARES = {"AAA": 0.10, "BBB": 0.15, "CCC": 0.30, "NVDA": 0.60}
EVENTS = ("E1", "E2")
NOISE = {
    "AAA": [0.004, -0.01],
    "BBB": [-0.02, 0.006],
    "CCC": [0.012, 0.003],
    "NVDA": [-0.005, 0.01],
}


def _cars(slope: float) -> pd.DataFrame:
    rows = [
        {"symbol": s, "event_id": e, "car": 0.01 * k + slope * x + NOISE[s][k]}
        for s, x in SHARES.items()
        for k, e in enumerate(EVENTS)
    ]
    return pd.DataFrame(rows)


def _snapshot(bases=("billing location",) * 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": list(SHARES),
            "fiscal_year": "FY2023",
            "fiscal_year_end": pd.Timestamp("2023-01-29"),
            "china_share": list(SHARES.values()),
            "basis": list(bases),
            "confidence_level": "high",
        }
    )


class _Car:
    def __init__(self, car: float):
        self.estimate = pd.Series({"NVDA": car})


class _Study:
    def __init__(self, car: float):
        self._car = car

    def car(self, window):
        return _Car(self._car)


def _study(slope: float = -0.05, snapshot: pd.DataFrame | None = None) -> exposure.ChinaExposure:
    snap = _snapshot() if snapshot is None else snapshot
    cars = _cars(slope)
    bases = sorted(snap["basis"].unique())
    reg = exposure.china_exposure_regression(cars, snap, basis=bases if len(bases) > 1 else None)
    china = pd.DataFrame(
        {
            "fiscal_year": ["FY2023"],
            "period_end": pd.to_datetime(["2023-01-29"]),
            "basis": ["billing location"],
            "presentation": ["as_reported"],
            "share": [0.2145],
        }
    )
    verdict = pd.DataFrame(
        {
            "event_id": list(EVENTS),
            "implied_multiple": [6.071, -2.0],
            "market_value_lost_usd": [4.31e10, -1e9],
        }
    )
    nvda = cars[cars["symbol"] == "NVDA"].set_index("event_id")["car"]
    return exposure.ChinaExposure(
        event_ids=EVENTS,
        market="SPY",
        estimation="-250:-11",
        window="-1:3",
        verdict_window="-1:3",
        exposure_as_of="2023-10-17",
        min_confidence="medium",
        basis="",
        revenue=pd.DataFrame(),
        peers=pd.DataFrame(),
        shares=pd.DataFrame(),
        by_region=pd.DataFrame(),
        china=china,
        exposure=snap,
        titles={e: e for e in EVENTS},
        verdict=verdict,
        studies={e: _Study(float(nvda[e])) for e in EVENTS},
        cars=cars,
        regression=reg,
        permutation=reg.permutation_test(),
        permutation_note="",
        leave_one_out=reg.leave_one_out(),
    )


def _slope(cars: pd.DataFrame, shares: dict) -> float:
    """OLS slope with one intercept per event, by numpy least squares."""
    x = cars["symbol"].map(shares).to_numpy()
    d = pd.get_dummies(cars["event_id"]).to_numpy(float)
    beta = np.linalg.lstsq(np.column_stack([x, d]), cars["car"].to_numpy(), rcond=None)[0]
    return float(beta[0])


def test_published_slope_permutation_and_leave_one_out_match_numpy():
    s = _study()
    r = s.results()
    cars = _cars(-0.05)
    b = _slope(cars, SHARES)
    assert r["regression_slope"] == round(b, 4)
    # every assignment of the four shares to the four firms (4! = 24)
    firms = list(SHARES)
    draws = [
        _slope(cars, dict(zip(firms, perm, strict=True)))
        for perm in itertools.permutations(SHARES.values())
    ]
    p = np.mean(np.abs(draws) >= abs(b) - 1e-12)
    assert r["regression_permutations"] == 24
    assert r["regression_permutation_pvalue"] == round(float(p), 3)
    loo = {f: _slope(cars[cars["symbol"] != f], SHARES) for f in firms}
    lo, hi = min(loo, key=loo.get), max(loo, key=loo.get)
    assert (r["regression_loo_slope_min"], r["regression_loo_slope_min_without"]) == (
        round(loo[lo], 4),
        lo,
    )
    assert (r["regression_loo_slope_max"], r["regression_loo_slope_max_without"]) == (
        round(loo[hi], 4),
        hi,
    )
    assert r["regression_n"] == 8 and r["regression_n_firms"] == 4
    assert r["china_share_fy2023_billing"] == 0.2145
    assert r["implied_multiple_by_event"] == {"E1": 6.07, "E2": -2.0}
    assert r["market_value_lost_usd_bn_by_event"] == {"E1": 43.1, "E2": -1.0}
    nvda = cars[cars["symbol"] == "NVDA"]["car"].round(4).tolist()
    assert list(r["nvda_car_by_event"].values()) == nvda


def test_headline_is_the_published_figures():
    s = _study()
    r, h = s.results(), exposure.exposure_headline(s)
    assert h["slope"] == r["regression_slope"]
    assert (h["slope_ci_low"], h["slope_ci_high"]) == (
        r["regression_ci_low"],
        r["regression_ci_high"],
    )
    assert h["slope_pvalue"] == r["regression_pvalue"]
    assert h["permutation_pvalue"] == r["regression_permutation_pvalue"]
    assert (h["n_firms"], h["n_firm_events"]) == (4, 8)
    assert h["geography_basis"] == "billing location"
    assert h["error_type"] == "clustered by firm (G = 4), t(3)"
    assert (h["loo_slope_min"], h["loo_slope_max"]) == (
        r["regression_loo_slope_min"],
        r["regression_loo_slope_max"],
    )
    mixed = _study(snapshot=_snapshot(("billing location", "customer headquarters") * 2))
    assert mixed.headline()["geography_basis"] == ("mixed: billing location, customer headquarters")


def test_caveats_are_worded_from_the_fit():
    s = _study()
    text = s.caveats()
    assert "42" not in text.split("firm-events")[0]  # no number from another sample
    assert "from 8 firm-events, but these are only **4 firms**" in text
    assert "rests on 4 distinct exposure values" in text
    # the highest share: NVDA 60%, twice the next (CCC, 30%)
    assert (
        "highest share is NVDA (60%, basis: billing location), 2.0 times the next highest (CCC, 30%)"
        in text
    )
    assert "all 24 assignments" in text
    slope = s.slope()
    zero = slope["ci_low"] <= 0 <= slope["ci_high"]
    assert ("includes zero." if zero else "excludes zero.") in text
    assert "not strictly comparable" not in text
    mixed = _study(snapshot=_snapshot(("billing location", "customer headquarters") * 2))
    assert "not strictly comparable" in mixed.caveats()


def test_caveats_follow_another_sample():
    # a steep slope and a different top firm: the words change with the numbers
    shares = dict(SHARES, AAA=0.9)
    snap = _snapshot().assign(china_share=list(shares.values()))
    s = _study(slope=1.0, snapshot=snap)
    text = s.caveats()
    assert "highest share is AAA (90%" in text and "1.5 times the next highest (NVDA, 60%)" in text
    assert f"A slope of {s.slope()['coef']:+.3f}" in text


def test_no_permutation_test_is_said_not_hidden():
    s = _study()
    t = replace(s, permutation=None, permutation_note="shares cannot be exchanged")
    assert t.results()["regression_permutation_pvalue"] is None
    assert "No permutation test: shares cannot be exchanged" in t.caveats()
