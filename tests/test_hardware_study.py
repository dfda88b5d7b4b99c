"""The hardware study object: published figures, the front page's headline and the generated
highlights, on a small hand-checkable table (synthetic prices)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.studies import hardware

RULE = "2023-10-17"


def _fx() -> pd.Series:
    dates = ["2023-03-31", "2023-10-17", "2023-10-18", "2023-10-19", "2023-10-20"]
    return pd.Series([7.0, 7.2, 7.3, 7.3, 7.5], index=pd.to_datetime(dates))


def _hw(a800_before_conf: str = "article_claim", with_a800: bool = True) -> pd.DataFrame:
    rows = [
        # obs, product, date, date_end, precision, low, high, msrp, confidence
        ("A1", "A800", "2023-04-01", "2023-04-30", "month", 80, 80, False, a800_before_conf),
        ("A2", "A800", "2023-10-20", "2023-10-20", "day", 300, 300, False, "article_claim"),
        ("R0", "RTX 4090", "2022-10-01", "2022-10-31", "month", 100, 100, True, "high"),
        ("R1", "RTX 4090", "2023-10-18", "2023-10-18", "day", 250, 400, False, "article_claim"),
        ("R2", "RTX 4090", "2023-10-19", "2023-10-19", "day", 200, 300, False, "medium"),
    ]
    cols = ["obs_id", "product", "date", "date_end", "date_precision", "price_low", "price_high"]
    f = pd.DataFrame(rows, columns=[*cols, "is_msrp", "confidence_level"])
    if not with_a800:
        f = f[f["product"] != "A800"].reset_index(drop=True)
    f["date"], f["date_end"] = pd.to_datetime(f["date"]), pd.to_datetime(f["date_end"])
    f["date_text"] = f["date"].dt.strftime("%Y-%m")
    return f.assign(
        currency="CNY", unit="per card", unit_kind="per_card", market="m", source_title="s"
    )


def _study(hw: pd.DataFrame, retail: pd.DataFrame | None = None) -> hardware.HardwareShocks:
    fx = _fx()
    empty = pd.DataFrame({"date": pd.to_datetime([]), "close": []})
    return hardware.HardwareShocks(
        rule_date=RULE,
        start="2022-07-01",
        end="2025-07-31",
        observations=hw,
        fx=fx,
        paths=hardware.price_paths(hw),
        list_prices=hardware.msrp(hw),
        shocks=hardware.shock_measures(hw, fx, rule_date=RULE),
        events=pd.DataFrame({"event_id": [], "day0": pd.to_datetime([]), "title": []}),
        nvda=empty,
        nvda_quoted_week=empty,
        gain=hardware.position_gain(10, 80, "2023-04-01", 300, "2023-10-20", fx),
        retail=retail,
        retail_series=None,
        retail_window_days=30,
    )


def test_results_are_the_hand_computed_figures():
    r = _study(_hw()).results()
    assert r["a800_shock_pct"] == 275.0  # 300 / 80 - 1
    assert r["a800_shock_observations"] == "A2 vs A1"
    assert r["a800_holder_gain_cny"] == 2200  # 10 x (300 - 80)
    assert r["a800_holder_gain_usd"] == round(3000 / 7.5 - 800 / 7.0)  # 286
    assert (r["holder_cost_fx_date"], r["holder_cost_usd_cny"]) == ("2023-03-31", 7.0)
    assert (r["holder_mark_fx_date"], r["holder_mark_usd_cny"]) == ("2023-10-20", 7.5)
    # highest RTX 4090 quote 400 vs the MSRP 100; from a source other than the article 300
    assert (r["rtx4090_peak_vs_msrp_pct"], r["rtx4090_peak_obs_id"]) == (300.0, "R1")
    assert r["rtx4090_peak_vs_msrp_pct_independent"] == 200.0
    assert r["rtx4090_peak_independent_obs_id"] == "R2"
    assert r["us_retail_compared"] is False
    assert r["us_retail_rtx4090_change_pct"] is None


def test_retail_figures_are_rounded_to_two_decimals():
    retail = pd.DataFrame(
        {
            "role": ["treated", "control"],
            "change_pct": [-2.7249, 1.0],
            "excess_change_pct": [-4.1849, None],
        }
    )
    r = _study(_hw(), retail).results()
    assert r["us_retail_compared"] is True
    assert (r["us_retail_rtx4090_change_pct"], r["us_retail_rtx4090_excess_change_pct"]) == (
        -2.72,
        -4.18,
    )


def test_headline_before_after_dates_and_confidence_words():
    h = hardware.hardware_headline(_study(_hw()))
    assert h["a800_before_price"] == 80 and h["a800_before_date"] == "2023-04-01"
    assert (h["a800_before_obs_id"], h["a800_before_confidence"]) == ("A1", "article_claim")
    assert (h["a800_after_price"], h["a800_after_date"], h["a800_after_obs_id"]) == (
        300,
        "2023-10-20",
        "A2",
    )
    assert h["a800_after_confidence_words"] == "only the article being checked says so"
    assert (h["a800_currency"], h["a800_change_pct"]) == ("CNY", 275.0)
    assert (h["rtx4090_peak_msrp_price"], h["rtx4090_peak_msrp_obs_id"]) == (100, "R0")
    assert h["rtx4090_peak_msrp_confidence"] == "high"
    assert (h["rtx4090_peak_after_price"], h["rtx4090_peak_change_pct"]) == (400, 300.0)
    assert h["rtx4090_peak_independent_after_price"] == 300
    assert h["rtx4090_peak_independent_after_confidence"] == "medium"
    assert h["a800_holder_gain_cny"] == 2200 and h["rule_date"] == RULE
    with pytest.raises(TypeError, match="not both"):
        hardware.hardware_headline(_study(_hw()), rule_date=RULE)


def test_without_a800_rows_the_figures_are_none_not_invented():
    s = _study(_hw(with_a800=False))
    assert s.results()["a800_shock_pct"] is None
    h = s.headline()
    assert h["a800_before_price"] is None and h["a800_change_pct"] is None
    assert h["rtx4090_peak_change_pct"] == 300.0
    assert "A800" not in s.highlights()


def test_highlights_state_the_sources_as_they_are():
    text = _study(_hw()).highlights()
    assert text.startswith(
        "- **A800**: 300 CNY (A2, 2023-10-20) vs 80 before the rule (A1): +275.0%."
    )
    assert "Both prices come only from the article" in text
    assert "400 CNY (R1, 2023-10-18, confidence article_claim) = +300.0% over 100" in text
    assert "300 CNY (R2, 2023-10-19, confidence medium) = +200.0% over the MSRP" in text
    # an independently sourced pre-rule price: the page no longer says both come from the article
    other = _study(_hw(a800_before_conf="high")).highlights()
    assert "Both prices" not in other
    assert "post-rule price: article_claim; of the pre-rule price: high" in other
