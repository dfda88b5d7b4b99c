"""Fact tables: parsers, loaders, validation messages, rebuild from the shared facts folder."""

from __future__ import annotations

import csv
import importlib.util
import io
from datetime import date
from pathlib import Path

import pytest

from analysis import config
from analysis.data import facts
from analysis.errors import DataError, SpecificationError, ValidationError

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- parsers
@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("high", "high"),
        ("high (read from SEC R41 page)", "high"),
        ("medium-high: total confirmed", "medium-high"),
        ("medium (date approximate)", "medium"),
        ("medium-low: Singapore ...", "medium-low"),
        ("low-medium (secondary)", "medium-low"),
        ("low: FMP-derived", "low"),
        ("unconfirmed", "unconfirmed"),
        ("article claim; no independent confirmation found", "article_claim"),
    ],
)
def test_normalize_confidence(text, level):
    assert facts.normalize_confidence(text) == level


def test_normalize_confidence_rejects_unknown():
    with pytest.raises(ValueError, match="does not start with one of"):
        facts.normalize_confidence("probably fine")


@pytest.mark.parametrize(
    ("text", "start", "end", "precision"),
    [
        ("2023-10-20", date(2023, 10, 20), date(2023, 10, 20), "day"),
        ("2023-10-18/19", date(2023, 10, 18), date(2023, 10, 19), "day_range"),
        ("2023-10-17 (before)", date(2023, 10, 17), date(2023, 10, 17), "before_day"),
        ("2023-10-19 (approx)", date(2023, 10, 19), date(2023, 10, 19), "day_approx"),
        ("2023-10 (approx 10-19)", date(2023, 10, 19), date(2023, 10, 19), "day_approx"),
        ("2022-10 (launch)", date(2022, 10, 1), date(2022, 10, 31), "month"),
        ("2024-02 (approx)", date(2024, 2, 1), date(2024, 2, 29), "month_approx"),
        ("2024-09 (FT)", date(2024, 9, 1), date(2024, 9, 30), "month"),
        ("2023 (Reuters; stored copies undated)", date(2023, 1, 1), date(2023, 12, 31), "year"),
        ("2023 (approx launch, early 2023)", date(2023, 1, 1), date(2023, 12, 31), "year_approx"),
        ("2024 (average)", date(2024, 1, 1), date(2024, 12, 31), "year"),
    ],
)
def test_parse_approx_date(text, start, end, precision):
    ad = facts.parse_approx_date(text)
    assert (ad.date, ad.date_end, ad.precision) == (start, end, precision)


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ("", "empty date"),
        ("Oct 2023", "cannot parse"),
        ("2023-10-19/18", "ends before"),
        ("2023-10-19 (maybe)", "unrecognised qualifier"),
        ("2023-13", "month out of range"),
    ],
)
def test_parse_approx_date_errors(text, msg):
    with pytest.raises(ValueError, match=msg):
        facts.parse_approx_date(text)


def test_confidence_rank_orders_levels():
    ranks = [facts.confidence_rank(x) for x in facts.CONFIDENCE_LEVELS[:5]]
    assert ranks == sorted(ranks, reverse=True)
    assert facts.confidence_rank("unconfirmed") == 0
    with pytest.raises(SpecificationError, match="unknown confidence level 'great'; allowed: high"):
        facts.confidence_rank("great")


# ---------------------------------------------------------------- committed tables
def test_committed_tables_load_with_known_values():
    rev = facts.load_revenue_geography()
    china = rev[(rev["fiscal_year"] == "FY2023") & (rev["region"] == "China (including Hong Kong)")]
    assert china["revenue"].item() == 5785.0
    assert china["total_revenue"].item() == 26974.0
    assert set(rev["currency"]) == {"USD"}
    peers = facts.load_peers_exposure()
    asml = peers[(peers["symbol"] == "ASML") & (peers["fiscal_year"] == "FY2023")].iloc[0]
    assert (asml["currency"], asml["china_revenue"], asml["total_revenue"]) == (
        "EUR",
        7251.8,
        27558.5,
    )
    tsm = peers[(peers["symbol"] == "TSM") & (peers["fiscal_year"] == "FY2023")].iloc[0]
    assert tsm["currency"] == "TWD" and tsm["china_revenue"] == pytest.approx(267154.140)
    avgo = peers[peers["symbol"] == "AVGO"]
    assert avgo["china_share"].isna().all() and set(avgo["confidence_level"]) == {"unconfirmed"}
    hw = facts.load_hardware_prices()
    row = hw[hw["date_text"] == "2023-10-18/19"].iloc[0]
    assert (row["date"].date(), row["date_end"].date(), row["date_precision"]) == (
        date(2023, 10, 18),
        date(2023, 10, 19),
        "day_range",
    )
    sh = facts.load_shares_outstanding()
    s = sh[sh["as_of"] == "2023-11-17"].iloc[0]
    assert s["shares"] == 2_470_000_000 and s["split_basis"] == "pre_2024_split"
    assert sh[sh["as_of"] == "2023-08-18"]["shares"].isna().all()
    mk = facts.load_market_context().set_index("metric_id")
    assert mk.loc["SIA_SALES_CHINA_2022", "value"] == 180.3
    assert mk.loc["SIA_SALES_WORLD_2021", "value"] == 555.9
    claims = facts.load_article_claims()
    assert len(claims) >= 18 and claims["claim_id"].is_unique


def test_quotes_are_exact_substrings_of_the_article(shared_article):
    text = shared_article.read_text(encoding="utf-8")
    claims = facts.load_article_claims()
    missing = [
        c for c, q in zip(claims["claim_id"], claims["quote_zh"], strict=True) if q not in text
    ]
    assert missing == []


def test_committed_tables_equal_rebuild(shared_facts_dir):
    spec = importlib.util.spec_from_file_location(
        "build_fact_tables", REPO / "scripts" / "build_fact_tables.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    built = mod.build_tables(shared_facts_dir)
    for name, text in built.items():
        assert (config.data_dir() / name).read_text(encoding="utf-8") == text, name


# ---------------------------------------------------------------- bad files
def _rows(name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((config.data_dir() / name).read_text(encoding="utf-8"))))


def _write(tmp_path: Path, name: str, rows: list[list[str]]) -> Path:
    p = tmp_path / name
    with p.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return p


def _set(rows, line: int, column: str, value: str):
    rows[line - 1][rows[0].index(column)] = value
    return rows


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"revenue_geography.csv: file .*not found"):
        facts.load_revenue_geography(tmp_path / "revenue_geography.csv")


def test_missing_column_named(tmp_path):
    rows = [r[1:] for r in _rows("revenue_geography.csv")]  # drop 'symbol'
    with pytest.raises(ValidationError, match="missing required column.*symbol") as ei:
        facts.load_revenue_geography(_write(tmp_path, "revenue_geography.csv", rows))
    assert ei.value.problems == ["revenue_geography.csv:1: missing column 'symbol'"]


def test_every_problem_is_listed_with_line_and_column(tmp_path):
    rows = _rows("revenue_geography.csv")
    _set(rows, 3, "revenue", "27x1")
    _set(rows, 5, "currency", "RMB")
    _set(rows, 4, "confidence_level", "medium")
    with pytest.raises(ValidationError) as ei:
        facts.load_revenue_geography(_write(tmp_path, "revenue_geography.csv", rows))
    probs = ei.value.problems
    assert "revenue_geography.csv:3, column 'revenue': '27x1' is not a number" in probs
    # type errors stop before table rules, so fix the number and look again
    _set(rows, 3, "revenue", "2731")
    with pytest.raises(ValidationError) as ei:
        facts.load_revenue_geography(_write(tmp_path, "revenue_geography.csv", rows))
    probs = ei.value.problems
    assert any(
        p.startswith("revenue_geography.csv:5, column 'currency': 'RMB' is not an ISO 4217")
        for p in probs
    )
    assert any(
        p.startswith(
            "revenue_geography.csv:4, column 'confidence_level': 'medium' does not "
            "match confidence text"
        )
        for p in probs
    )


def test_region_totals_must_add_up(tmp_path):
    rows = _rows("revenue_geography.csv")
    _set(rows, 2, "revenue", "3125")  # FY2020 Taiwan +100
    with pytest.raises(ValidationError) as ei:
        facts.load_revenue_geography(_write(tmp_path, "revenue_geography.csv", rows))
    assert ei.value.problems == [
        "revenue_geography.csv:6, column 'revenue': regions of FY2020 (as_reported) sum to "
        "11,018.0, reported total is 10,918.0 (tolerance 5.5)"
    ]


def test_china_share_must_equal_ratio(tmp_path):
    rows = _rows("peers_china_exposure.csv")
    line = next(i for i, r in enumerate(rows, 1) if r[1] == "AMD" and r[2] == "FY2022")
    _set(rows, line, "china_share", "0.2306")
    with pytest.raises(ValidationError) as ei:
        facts.load_peers_exposure(_write(tmp_path, "peers_china_exposure.csv", rows))
    assert ei.value.problems == [
        f"peers_china_exposure.csv:{line}, column 'china_share': 0.2306 but china_revenue / "
        "total_revenue = 5207 / 23601 = 0.2206 (tolerance 0.0005)"
    ]


def test_value_without_confidence_must_be_unconfirmed(tmp_path):
    rows = _rows("peers_china_exposure.csv")
    line = next(i for i, r in enumerate(rows, 1) if r[1] == "AVGO")
    _set(rows, line, "confidence", "medium")
    _set(rows, line, "confidence_level", "medium")
    with pytest.raises(ValidationError, match=rf":{line}, column 'china_share': no value given"):
        facts.load_peers_exposure(_write(tmp_path, "peers_china_exposure.csv", rows))


def test_hardware_date_and_range_checks(tmp_path):
    rows = _rows("hardware_prices.csv")
    line = next(i for i, r in enumerate(rows, 1) if r[5] == "2023-10-18/19")
    _set(rows, line, "date_end", "2023-10-18")
    _set(rows, line + 1, "price_low", "99999")
    with pytest.raises(ValidationError) as ei:
        facts.load_hardware_prices(_write(tmp_path, "hardware_prices.csv", rows))
    probs = ei.value.problems
    assert any(
        p.startswith(f"hardware_prices.csv:{line}, column 'date': date/date_end/date_precision")
        for p in probs
    )
    assert f"hardware_prices.csv:{line + 1}, column 'price_low': 99999 > price_high 30000" in probs


def test_shares_split_basis_checked(tmp_path):
    rows = _rows("shares_outstanding.csv")
    line = next(i for i, r in enumerate(rows, 1) if r[1] == "2025-02-21")
    _set(rows, line, "split_basis", "pre_2024_split")
    with pytest.raises(
        ValidationError,
        match=rf"shares_outstanding.csv:{line}, column "
        r"'split_basis': 'pre_2024_split' but as_of 2025-02-21",
    ):
        facts.load_shares_outstanding(_write(tmp_path, "shares_outstanding.csv", rows))


def test_bad_date_and_allowed_value(tmp_path):
    rows = _rows("market_context.csv")
    _set(rows, 2, "release_date", "14/02/2022")
    _set(rows, 3, "unit", "bn")
    with pytest.raises(ValidationError) as ei:
        facts.load_market_context(_write(tmp_path, "market_context.csv", rows))
    assert ei.value.problems == [
        "market_context.csv:2, column 'release_date': '14/02/2022' is not an ISO date (YYYY-MM-DD)",
        "market_context.csv:3, column 'unit': 'bn' not allowed (allowed: billions, units)",
    ]


def test_range_claim_needs_bounds(tmp_path):
    rows = _rows("article_claims.csv")
    line = next(i for i, r in enumerate(rows, 1) if r[0] == "C09")
    _set(rows, line, "claimed_high", "")
    with pytest.raises(
        ValidationError,
        match=rf"article_claims.csv:{line}, column 'claimed_low': "
        "a 'range' claim needs",
    ):
        facts.load_article_claims(_write(tmp_path, "article_claims.csv", rows))
