"""Fact-check findings, published figures and the front page's claims table: the words follow the
numbers each check computed, so other prices give other (still true) sentences."""

from __future__ import annotations

import html

import pandas as pd
import pytest

from analysis.data import facts
from analysis.errors import SpecificationError
from analysis.studies import factcheck as fc
from tests.test_factcheck import _fx, _ohlc


def _run(ohlc: pd.DataFrame | None = None, ids=None) -> fc.FactCheck:
    claims = facts.load_article_claims()
    if ids is not None:
        claims = claims[claims["claim_id"].isin(ids)]
    return fc.check_claims(
        claims,
        ohlc=_ohlc() if ohlc is None else ohlc,
        fx=_fx(),
        revenue=facts.load_revenue_geography(),
        peers=facts.load_peers_exposure(),
        market=facts.load_market_context(),
        shares=facts.load_shares_outstanding(),
        hardware=facts.load_hardware_prices(),
    )


@pytest.fixture(scope="module")
def result() -> fc.FactCheck:
    return _run()


def test_price_finding_follows_the_day_prices(result):
    text = result.findings(["C01"])
    assert text.startswith("- **C01, NVDA share price on 17 Oct 2023.** The article says 446 ")
    assert "quoted close that day (2023-10-17) was 439.38" in text
    assert "inside the day's trading range (424.80 to 447.54)" in text
    assert text.splitlines()[0].endswith("Verdict: **inconsistent**.")
    # the close moved to 446.50: the claim is now within $1 of it and the intraday remark goes
    moved = _ohlc()
    moved.loc["2023-10-17", "close"] = 446.50
    again = _run(moved).findings(["C01"]).splitlines()[0]
    assert "was 446.50. The claim matches it within $1." in again
    assert "intraday" not in again and again.endswith("**consistent**.")
    # the day's range below 446: outside it, not an intraday quote
    low = _ohlc()
    low.loc["2023-10-17", ["high", "close"]] = [440.0, 439.38]
    line = _run(low).findings(["C01"]).splitlines()[0]
    assert "outside the day's trading range (424.80 to 440.00)" in line


def test_market_value_finding_names_the_price_that_makes_the_difference(result):
    line = result.findings(["C03"]).splitlines()[0]
    # 2.47bn shares x (439.38 - 413.87) = 63.0bn; with the article's 446 and 414: 79.0bn
    assert "give a fall of 63.0B USD" in line
    assert "matches its own prices (C01, C02) times the share count (79.0B)" in line
    assert "the price that is not a close (C01) makes the difference" in line


def test_share_and_market_figure_findings(result):
    text = result.findings(["C11", "C13", "C14"])
    c11, c13, c14 = text.splitlines()[:3]
    # FY2023: 5,785 / 26,974 = 21.4%; FY2022: 26.4%; |21.4 - 40| = 19 points
    assert "21.4% of revenue in FY2023" in c11 and "26.4% in FY2022" in c11
    assert "19 percentage points from the claimed 40%" in c11
    assert "for 2022 is 573.5" in c13 and "figure for **2021**" in c13
    # 180 / 555.9 = 32.4%, 180.3 / 573.5 = 31.4%: both below a third
    assert "give 32.4% and the publisher's same-year figures 31.4%" in c14
    assert "fails with the article's own numbers and with the publisher's" in c14


def test_article_only_numbers_and_the_gain_resting_on_them(result):
    last = result.findings(["C01"]).splitlines()[-1]
    assert last.startswith("- **Numbers only the article gives.**")
    assert "C06 (A800 price per card on 20 Oct 2023)" in last and "C08 (" in last
    assert "C07 is arithmetic on such a number" in last
    # without the not-verifiable hardware claims there is no such bullet
    small = _run(ids=["C01", "C02", "C03"])
    assert "only the article" not in small.findings(["C03"])


def test_findings_escape_text_from_the_tables():
    claims = facts.load_article_claims()
    claims.loc[claims["claim_id"] == "C11", "quantity"] = "<b>share</b>"
    res = fc.check_claims(
        claims,
        ohlc=_ohlc(),
        fx=_fx(),
        revenue=facts.load_revenue_geography(),
        peers=facts.load_peers_exposure(),
        market=facts.load_market_context(),
        shares=facts.load_shares_outstanding(),
        hardware=facts.load_hardware_prices(),
    )
    text = res.findings(["C11"])
    assert "<b>" not in text and html.escape("<b>share</b>") in text
    with pytest.raises(SpecificationError, match="unknown claim id"):
        res.findings(["C99"])


def test_results_headline_and_claims_table_from_one_table():
    res = _run(ids=["C01", "C02", "C06"])
    assert res.results() == {
        "claims": 3,
        "consistent": 1,
        "inconsistent": 1,
        "not_verifiable": 1,
        "verdict_C01": "inconsistent",
        "verdict_C02": "consistent",
        "verdict_C06": "not verifiable",
    }
    assert fc.factcheck_headline(res) == {
        "claims": 3,
        "consistent": 1,
        "inconsistent": 1,
        "not_verifiable": 1,
        "inconsistent_claims": ["C01"],
        "not_verifiable_claims": ["C06"],
    }
    t = fc.claims_table(res).set_index("claim_id")
    assert list(t.columns) == [
        "claim",
        "article_value",
        "evidence_value",
        "evidence",
        "verdict",
        "tolerance",
        "source",
    ]
    assert t.loc["C02", "evidence_value"] == pytest.approx(413.87)
    assert "413.87" in t.loc["C02", "evidence"]  # the computation in words, with the number
    assert t.loc["C02", "article_value"].startswith("414 USD per share")
    assert t.loc["C06", "evidence_value"] is None and t.loc["C06", "verdict"] == "not verifiable"
    with pytest.raises(TypeError, match="not both"):
        fc.factcheck_headline(res, start="2023-03-01")
