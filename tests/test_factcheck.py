"""Fact-check: each check on hand-checkable numbers, then the committed claims end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.data import facts
from analysis.errors import SpecificationError
from analysis.studies import factcheck as fc


def _ohlc() -> pd.DataFrame:
    idx = pd.to_datetime(["2023-10-16", "2023-10-17", "2023-10-18", "2023-10-19", "2023-10-20"])
    return pd.DataFrame(
        {
            "open": [450.0, 440.00, 425.0, 421.0, 418.90],
            "high": [461.0, 447.54, 430.0, 425.0, 424.70],
            "low": [449.0, 424.80, 419.0, 415.0, 410.78],
            "close": [460.95, 439.38, 421.96, 421.01, 413.87],
        },
        index=idx,
    )


def _fx() -> pd.Series:
    return pd.Series(
        [6.8704, 7.2434, 7.2157, 7.3093, 7.3117, 7.3135, 7.3112],
        index=pd.to_datetime(
            [
                "2023-03-31",
                "2023-06-29",
                "2023-08-09",
                "2023-10-17",
                "2023-10-18",
                "2023-10-19",
                "2023-10-20",
            ]
        ),
    )


def _run(claims=None):
    return fc.check_claims(
        facts.load_article_claims() if claims is None else claims,
        ohlc=_ohlc(),
        fx=_fx(),
        revenue=facts.load_revenue_geography(),
        peers=facts.load_peers_exposure(),
        market=facts.load_market_context(),
        shares=facts.load_shares_outstanding(),
        hardware=facts.load_hardware_prices(),
    )


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return _run().to_frame().set_index("claim_id")


def test_nvda_price_446_matches_no_close(table):
    r = table.loc["C01"]
    assert r["verdict"] == "inconsistent" and r["computed"] == 439.38
    assert "matches none" in r["check"] and "inside the 2023-10-17 intraday range" in r["check"]
    assert "previous close (2023-10-16) 460.95" in r["check"]
    assert table.loc["C02", "verdict"] == "consistent"  # 414 vs 413.87, tolerance $1


def test_market_value_change(table):
    r = table.loc["C03"]
    assert r["computed"] == pytest.approx(2.47 * (439.38 - 413.87), abs=1e-3)  # 63.0 bn
    assert r["verdict"] == "inconsistent"
    assert "article's own prices: 79.0B" in r["check"]  # 2.47 x 32


def test_fx_conversion(table):
    r = table.loc["C04"]
    assert r["computed"] == pytest.approx(76.9 * 7.3112, abs=1e-3)
    assert r["verdict"] == "consistent"


def test_hardware_checks(table):
    c05 = table.loc["C05"]
    assert c05["verdict"] == "consistent"
    assert "$10,000 per card" in c05["check"]  # 1e9 / 100,000
    assert f"{12000 * 7.2434:,.0f}" in c05["check"]
    assert table.loc["C06", "verdict"] == "not verifiable"
    assert table.loc["C08", "verdict"] == "not verifiable"
    assert "MSRP is 12,999" in table.loc["C08", "check"]
    assert table.loc["C09", "verdict"] == "consistent"
    assert "upper end is 25% above" in table.loc["C09", "check"]  # 50,000 vs 40,000


def test_position_gain(table):
    r = table.loc["C07"]
    assert r["computed"] == 220_000_000 and r["verdict"] == "consistent"
    assert f"{300_000_000 / 7.3112 - 80_000_000 / 6.8704:,.0f} USD" in r["check"]


def test_china_share_40pct(table):
    r = table.loc["C11"]
    assert r["computed"] == pytest.approx(round(100 * 5785 / 26974, 2))  # 21.45
    assert r["verdict"] == "inconsistent" and "FY2023" in r["check"]


def test_sia_figures(table):
    assert table.loc["C12", "verdict"] == "consistent"
    c13 = table.loc["C13"]
    assert c13["verdict"] == "inconsistent" and "equals the 2021 figure" in c13["check"]
    c14 = table.loc["C14"]
    assert c14["computed"] == pytest.approx(round(100 * 180 / 555.9, 2))  # 32.38
    assert c14["verdict"] == "inconsistent" and "31.4%" in c14["check"]


def test_orders_and_arithmetic(table):
    assert all(table.loc[c, "verdict"] == "consistent" for c in ("C15", "C16", "C17", "C18"))
    assert table.loc["C18", "computed"] == 25_000
    assert set(table.loc[["C19", "C20"], "verdict"]) == {"not verifiable"}


def test_every_row_states_tolerance_and_verdict(table):
    assert set(table["verdict"]) <= {"consistent", "inconsistent", "not verifiable"}
    assert table["tolerance"].str.len().gt(0).all()


def test_unknown_check_kind():
    claims = facts.load_article_claims()
    claims.loc[0, "check"] = "astrology"
    with pytest.raises(SpecificationError, match="claim C01: unknown check 'astrology'"):
        _run(claims)


def test_wrong_claim_changes_verdict():
    claims = facts.load_article_claims()
    claims.loc[claims["claim_id"] == "C11", "claimed_value"] = 0.21
    out = _run(claims).verdicts
    assert out["C11"] == "consistent"
    assert not np.isnan(_run(claims).to_frame().set_index("claim_id").loc["C11", "computed"])


def test_select_claims_in_order_and_unknown_ids():
    res = _run()
    rows = res.select(["C11", "C01"])
    assert rows.index.tolist() == ["C11", "C01"] and rows.index.name == "claim_id"
    assert rows.loc["C01", "verdict"] == res.verdicts["C01"]
    assert res.select("C03").index.tolist() == ["C03"]  # one id given as a string
    valid = ", ".join(f"C{i:02d}" for i in range(1, 21))
    with pytest.raises(SpecificationError) as exc:
        res.select(["C01", "C99", "c2"])
    assert str(exc.value) == f"unknown claim id(s) C99, c2; valid claim ids: {valid}"
    with pytest.raises(SpecificationError) as exc:
        res.select([])
    assert str(exc.value) == f"no claim ids given; valid claim ids: {valid}"
    with pytest.raises(SpecificationError) as exc:
        res.select(None)
    assert str(exc.value) == (
        f"claim ids must be a list such as ['C01', 'C03'], got None; valid claim ids: {valid}"
    )


@pytest.mark.realdata
def test_run_factcheck_real(real_prices):
    res = fc.run_factcheck()
    t = res.to_frame().set_index("claim_id")
    assert t.loc["C01", "computed"] == pytest.approx(439.38, abs=0.005)
    assert t.loc["C02", "verdict"] == "consistent"
    assert t.loc["C03", "computed"] == pytest.approx(63.0, abs=0.05)
    assert t.loc["C04", "computed"] == pytest.approx(562.2, abs=0.1)
