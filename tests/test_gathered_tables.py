"""Hand-gathered cited tables: exact headers and quoted figures that agree with the stored values."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analysis.data import earnings

DATA = Path(__file__).resolve().parents[1] / "data"

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, dtype=str, keep_default_na=False)


# ---------------------------------------------------------------- index weights
def test_index_weight_equals_quoted_cap_over_quoted_index_cap():
    """Each weight is the firm's quoted market cap over the index cap the row quotes."""
    table = _read("index_weights.csv")
    assert list(table.columns) == ["index", "symbol", "as_of", "weight", "source", "confidence"]
    checked = 0
    for _, r in table.iterrows():
        cap = re.search(r"\$([\d,]{13,})", r["confidence"])
        total = re.search(r"\(\$([\d.]+) trillion[);]", r["confidence"])
        assert cap and total, r["as_of"]
        share = float(cap.group(1).replace(",", "")) / (float(total.group(1)) * 1e12)
        assert share == pytest.approx(float(r["weight"]), abs=5e-5), r["as_of"]
        checked += 1
    assert checked == len(table) >= 3
    # 3,170,505,200,450 / 47.83 trillion = 0.066287 -> 6.63 %
    nvda = table.set_index("as_of").loc["2024-06-28"]
    assert float(nvda["weight"]) == 0.0663


# ---------------------------------------------------------------- earnings and filings
def _dateline(note: str) -> date:
    m = re.search(r"SANTA CLARA, Calif\., ([A-Z][a-z]+)\.? (\d{1,2}), (\d{4})", note)
    assert m, note
    return date(int(m.group(3)), MONTHS[m.group(1)[:3].lower()], int(m.group(2)))


def test_intel_announcement_dates_match_the_quoted_dateline():
    intc = earnings.load_earnings().query("symbol == 'INTC'")
    got = {
        r["fiscal_period"]: (r["announcement_date"].date(), r["timing"]) for _, r in intc.iterrows()
    }
    assert got == {
        "FY2022Q4": (date(2023, 1, 26), "unknown"),
        "FY2023Q2": (date(2023, 7, 27), "unknown"),
        "FY2024Q1": (date(2024, 4, 25), "after_close"),
        "FY2024Q4": (date(2025, 1, 30), "unknown"),
    }
    for _, r in intc.iterrows():
        assert _dateline(r["note"]) == r["announcement_date"].date()
    # a timing is only claimed where a quoted source says so
    assert all(
        ("after the markets closed" in r["note"]) == (r["timing"] == "after_close")
        for _, r in intc.iterrows()
    )


def test_intel_reaction_days():
    days = earnings.earnings_reaction_days("INTC").set_index("fiscal_period")["date"]
    assert days["FY2024Q1"] == pd.Timestamp("2024-04-26")  # Thursday after the close -> Friday
    assert days["FY2022Q4"] == pd.Timestamp("2023-01-26")  # unknown timing -> that session


def test_filings_header_and_quoted_accessions_are_well_formed():
    fil = _read("filings.csv")
    assert list(fil.columns) == [
        "symbol",
        "fiscal_year",
        "form",
        "filed_date",
        "source",
        "confidence",
        "note",
    ]
    for note in fil["note"]:
        for acc in re.findall(r"accession (\d[\d-]*\d)", note):
            assert re.fullmatch(r"\d{10}-\d{2}-\d{6}|\d+-\d{2}-\d+", acc), acc
    # the EDGAR header quoted for TXN FY2023 carries the stored date
    txn = fil.set_index(["symbol", "fiscal_year"]).loc[("TXN", "FY2023")]
    assert "FILED AS OF DATE: 20240202" in txn["note"]
    assert txn["filed_date"] == "2024-02-02"
