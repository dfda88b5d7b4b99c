"""China exposure as known at each event: shares from annual reports filed before day 0, one
geography basis per regression, the permutation p-value and the leave-one-firm-out slopes."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.data import facts
from analysis.data.earnings import load_filings
from analysis.errors import EstimationError, SpecificationError
from analysis.studies import exposure

E08 = "2023-10-17"


def _filings(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """A filings table as load_filings returns it: (symbol, fiscal_year, filed_date) rows."""
    return pd.DataFrame(
        {
            "symbol": [r[0] for r in rows],
            "fiscal_year": [r[1] for r in rows],
            "form": "10-K",
            "filed_date": pd.to_datetime([r[2] for r in rows]),
        }
    )


QCOM_FILINGS = _filings([("QCOM", "FY2022", "2022-11-02"), ("QCOM", "FY2023", "2023-11-01")])


def test_qcom_e08_uses_the_fiscal_year_filed_before_day0():
    """QCOM's FY2023 ended 2023-09-24 but its 10-K was filed 2023-11-01, after E08's day 0: the
    share known on 2023-10-17 is FY2022's. The fiscal-year-end snapshot takes FY2023."""
    peers = facts.load_peers_exposure()
    old = exposure.exposure_snapshot(peers, before=E08).set_index("symbol").loc["QCOM"]
    assert old["fiscal_year"] == "FY2023" and old["china_share"] == pytest.approx(0.6253)
    pit = exposure.exposure_filed_before(peers, before=E08, filings=QCOM_FILINGS)
    q = pit.set_index("symbol").loc["QCOM"]
    assert q["fiscal_year"] == "FY2022" and q["china_share"] == pytest.approx(0.6357)
    assert str(q["filed_date"].date()) == "2022-11-02" and q["reason"] == ""
    # the day after the FY2023 filing, FY2023 is known
    later = exposure.exposure_filed_before(peers, before="2023-11-02", filings=QCOM_FILINGS)
    assert later.set_index("symbol").loc["QCOM", "fiscal_year"] == "FY2023"
    # a firm with no filing listed is kept in the table with the reason, never silently dropped
    assert pit.set_index("symbol").loc["AMD", "reason"] == (
        "no annual report of AMD filed before 2023-10-17 in filings.csv"
    )


def test_qcom_e08_with_the_filings_table_never_takes_fy2023():
    pit = exposure.exposure_filed_before(facts.load_peers_exposure(), before=E08)
    q = pit.set_index("symbol").loc["QCOM"]
    assert q["fiscal_year"] != "FY2023"
    filed = load_filings()
    assert not (
        (filed["symbol"] == "QCOM")
        & (filed["fiscal_year"] == "FY2023")
        & (filed["filed_date"] < E08)
    ).any()


def test_filed_fiscal_year_without_an_exposure_row_is_reported():
    peers = facts.load_peers_exposure()
    fil = _filings([("QCOM", "FY2021", "2021-11-03")])
    q = exposure.exposure_filed_before(peers, before=E08, filings=fil).set_index("symbol")
    assert q.loc["QCOM", "reason"] == (
        "FY2021 10-K filed 2021-11-03 has no as_reported row in peers_china_exposure.csv"
    )
    assert np.isnan(q.loc["QCOM", "china_share"])


def _peers() -> pd.DataFrame:
    """Four firms, two fiscal years each; firm D reports on another basis."""
    rows = []
    for sym, s22, s23 in [("A", 0.10, 0.12), ("B", 0.20, 0.25), ("C", 0.40, 0.35), ("D", 0.3, 0.3)]:
        for fy, share in (("FY2022", s22), ("FY2023", s23)):
            rows.append(
                {
                    "symbol": sym,
                    "fiscal_year": fy,
                    "presentation": "as_reported",
                    "china_share": share,
                    "basis": "customer headquarters" if sym == "D" else "billing location",
                    "confidence_level": "high",
                    "fiscal_year_end": pd.Timestamp(f"{fy[2:]}-12-31"),
                }
            )
    return pd.DataFrame(rows)


PEER_FILINGS = _filings(
    [(s, "FY2022", "2023-02-15") for s in "ABD"] + [(s, "FY2023", "2024-02-15") for s in "ABCD"]
)


def _cars() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": list("ABCD") * 2,
            "event_id": ["E1"] * 4 + ["E2"] * 4,
            "day0": ["2023-10-17"] * 4 + ["2024-03-01"] * 4,
            "car": [-0.01, -0.03, -0.05, -0.02, 0.0, -0.02, -0.04, -0.01],
        }
    )


def test_point_in_time_regression_takes_each_events_filed_share():
    res = exposure.china_exposure_regression(
        _cars(), _peers(), point_in_time=True, filings=PEER_FILINGS, basis="billing location"
    )
    used = res.data.set_index(["symbol", "event_id"])
    assert used.loc[("A", "E1"), "china_share"] == 0.10  # FY2022, filed before E1
    assert used.loc[("A", "E2"), "china_share"] == 0.12  # FY2023, filed 2024-02-15
    assert used.loc[("A", "E2"), "fiscal_year"] == "FY2023"
    ex = res.excluded
    reasons = {(r.symbol, r.event_id): r.reason for r in ex.itertuples()}
    assert reasons[("C", "E1")] == "no annual report of C filed before 2023-10-17 in filings.csv"
    assert reasons[("D", "E1")] == "basis customer headquarters not selected"
    assert res.n == 5 and res.basis == "billing location" and res.point_in_time
    text = str(res.summary())
    assert "point in time: last fiscal year filed before day 0; basis billing location" in text
    # the same fit by hand: OLS with an E2 intercept shift, errors clustered by firm
    d = res.data
    X = np.column_stack([np.ones(5), d["china_share"], (d["event_id"] == "E2").astype(float)])
    ref = sm.OLS(d["car"].to_numpy(), X).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["symbol"])[0]}, use_t=True
    )
    assert res.params["china_share"] == pytest.approx(ref.params[1], rel=1e-12)


def test_point_in_time_refuses_mixed_bases():
    with pytest.raises(
        exposure.MixedBasesError,
        match="billing location: A, B, C; customer headquarters: D; pass basis=",
    ):
        exposure.china_exposure_regression(
            _cars(), _peers(), point_in_time=True, filings=PEER_FILINGS
        )
    # as-given shares are refused too; a list of bases mixes them on purpose, and says so
    snap = exposure.exposure_snapshot(_peers(), before="2023-10-17")
    with pytest.raises(
        exposure.MixedBasesError, match="billing location: A, B, C; customer headquarters: D"
    ):
        exposure.china_exposure_regression(_cars().drop(columns="day0"), snap)
    both = ["billing location", "customer headquarters"]
    res = exposure.china_exposure_regression(_cars().drop(columns="day0"), snap, basis=both)
    assert res.mixed_bases and not res.point_in_time


def test_point_in_time_needs_day0():
    with pytest.raises(SpecificationError, match=r"missing columns: cars \['day0'\]"):
        exposure.china_exposure_regression(
            _cars().drop(columns="day0"), _peers(), point_in_time=True, filings=PEER_FILINGS
        )


# ------------------------------------------------------------------ permutation, leave-one-out
def _one_event(car, share) -> exposure.ExposureRegression:
    n = len(car)
    cars = pd.DataFrame({"symbol": [f"S{i}" for i in range(n)], "event_id": "E", "car": car})
    exp = pd.DataFrame(
        {
            "symbol": cars["symbol"],
            "china_share": share,
            "basis": "billing location",
            "confidence_level": "high",
        }
    )
    return exposure.china_exposure_regression(cars, exp)


def test_permutation_exact_monotone_four_firms():
    """CARs strictly decreasing in the share: only the identity and the reversal reach |b|, so
    p = 2 / 4! exactly."""
    res = _one_event([-0.01, -0.02, -0.04, -0.05], [0.1, 0.2, 0.3, 0.4])
    perm = res.permutation_test()
    assert perm.exact and perm.permutations == 24 and perm.n_firms == 4
    assert perm.pvalue == pytest.approx(2 / 24)
    assert perm.slope == pytest.approx(res.params["china_share"], rel=1e-12)


def test_permutation_exact_matches_brute_force():
    rng = np.random.default_rng(3)
    car, share = rng.normal(0, 0.02, 5), np.array([0.05, 0.1, 0.2, 0.3, 0.6])
    b = np.polyfit(share, car, 1)[0]
    slopes = [np.polyfit(share[list(p)], car, 1)[0] for p in itertools.permutations(range(5))]
    expected = np.mean(np.abs(slopes) >= abs(b) - 1e-12)
    perm = _one_event(car, share).permutation_test()
    assert perm.pvalue == pytest.approx(expected) and perm.permutations == 120


def test_permutation_moves_firms_not_rows():
    """Two events with the same four firms on a perfect line: firm-level shuffles give 2/4!,
    where independent shuffles within each event would give 2/(4!)^2."""
    share = [0.1, 0.2, 0.3, 0.4]
    cars = pd.DataFrame(
        {
            "symbol": list("ABCD") * 2,
            "event_id": ["E1"] * 4 + ["E2"] * 4,
            "car": [-0.01, -0.02, -0.03, -0.04, 0.02, 0.0, -0.02, -0.04],
        }
    )
    exp = pd.DataFrame(
        {
            "symbol": list("ABCD"),
            "china_share": share,
            "basis": "billing location",
            "confidence_level": "high",
        }
    )
    perm = exposure.china_exposure_regression(cars, exp).permutation_test()
    assert perm.permutations == 24 and perm.pvalue == pytest.approx(2 / 24)


def test_permutation_monte_carlo_is_seeded():
    rng = np.random.default_rng(1)
    res = _one_event(rng.normal(0, 0.02, 9), np.linspace(0.05, 0.6, 9))
    a, b = res.permutation_test(999, seed=7), res.permutation_test(999, seed=7)
    assert not a.exact and a.permutations == 999 and a.seed == 7
    assert a.pvalue == b.pvalue and 0 < a.pvalue <= 1
    assert round(a.pvalue * 1000) == pytest.approx(a.pvalue * 1000)  # (1 + hits) / (1 + 999)


def test_permutation_refuses_varying_shares_in_an_unbalanced_panel():
    """B's share changes between E1 and E2 and B has no E3 row: no share of B exists to give to
    the firm that takes B's place at E3."""
    cars = pd.DataFrame(
        {
            "symbol": ["A", "B", "A", "B", "C", "A", "C"],
            "event_id": ["E1", "E1", "E2", "E2", "E2", "E3", "E3"],
            "day0": ["2023-10-17"] * 2 + ["2024-03-01"] * 3 + ["2024-03-05"] * 2,
            "car": [-0.01, -0.03, 0.0, -0.02, -0.04, 0.01, -0.02],
        }
    )
    res = exposure.china_exposure_regression(
        cars, _peers(), point_in_time=True, filings=PEER_FILINGS, basis="billing location"
    )
    with pytest.raises(EstimationError, match="not every firm is in every event"):
        res.permutation_test()


def test_leave_one_out_by_hand():
    car, share = [-0.01, -0.03, -0.02, -0.06], [0.1, 0.2, 0.3, 0.4]
    res = _one_event(car, share)
    loo = res.leave_one_out().set_index("symbol")
    full = np.polyfit(share, car, 1)[0]
    for i in range(4):
        keep = [j for j in range(4) if j != i]
        b = np.polyfit(np.array(share)[keep], np.array(car)[keep], 1)[0]
        assert loo.loc[f"S{i}", "slope"] == pytest.approx(b, rel=1e-10)
        assert loo.loc[f"S{i}", "change"] == pytest.approx(b - full, rel=1e-10, abs=1e-14)
        assert loo.loc[f"S{i}", "n"] == 3
    assert loo.loc["S3", "slope"] == pytest.approx(-0.05)  # without the last point: -0.01 .. -0.02


def test_two_firms_over_several_events_are_refused():
    """Two firms at two events: four firm-events, but clustered errors from two clusters are
    degenerate (a zero-width interval), so the fit is refused."""
    cars = _cars()
    cars = cars[cars["symbol"].isin(["A", "B"])]
    with pytest.raises(EstimationError, match=r"only 2 firms \(A, B\) left after exclusions"):
        exposure.china_exposure_regression(
            cars, _peers(), point_in_time=True, filings=PEER_FILINGS, basis="billing location"
        )
