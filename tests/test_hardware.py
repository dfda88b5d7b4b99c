"""Hardware price paths, shocks, a holder's gain and the US retail comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.data import facts
from analysis.errors import DataError, SpecificationError
from analysis.studies import hardware


def _fx() -> pd.Series:
    return pd.Series(
        [7.0, 7.2, 7.5], index=pd.to_datetime(["2023-03-31", "2023-10-17", "2023-10-20"])
    )


def _hw() -> pd.DataFrame:
    rows = [
        # obs, product, date, date_end, precision, low, high, cur, kind, msrp, conf
        ("X1", "G", "2022-10-01", "2022-10-31", "month", 100, 100, "CNY", "per_card", True, "high"),
        (
            "X2",
            "G",
            "2023-10-17",
            "2023-10-17",
            "before_day",
            120,
            120,
            "CNY",
            "per_card",
            False,
            "medium",
        ),
        (
            "X3",
            "G",
            "2023-10-18",
            "2023-10-19",
            "day_range",
            240,
            300,
            "CNY",
            "per_card",
            False,
            "medium",
        ),
        ("X4", "G", "2023-01-01", "2023-12-31", "year", 50, 50, "CNY", "per_card", False, "medium"),
        ("X5", "G", "2023-10-20", "2023-10-20", "day", 75, 75, "USD", "per_card", False, "high"),
        (
            "X6",
            "G",
            "2023-10-23",
            "2023-10-23",
            "day",
            np.nan,
            np.nan,
            "CNY",
            "multiple",
            False,
            "medium",
        ),
    ]
    f = pd.DataFrame(
        rows,
        columns=[
            "obs_id",
            "product",
            "date",
            "date_end",
            "date_precision",
            "price_low",
            "price_high",
            "currency",
            "unit_kind",
            "is_msrp",
            "confidence_level",
        ],
    )
    f["date"] = pd.to_datetime(f["date"])
    f["date_end"] = pd.to_datetime(f["date_end"])
    f["date_text"] = f["date"].dt.strftime("%Y-%m-%d")
    f["market"] = "m"
    f["source_title"] = "s"
    return f


def test_fx_at_uses_same_day_or_last_before():
    r = hardware.fx_at(_fx(), ["2023-10-17", "2023-10-19", "2023-04-01"])
    assert list(r["fx_date"].dt.strftime("%Y-%m-%d")) == ["2023-10-17", "2023-10-17", "2023-03-31"]
    assert list(r["usd_cny"]) == [7.2, 7.2, 7.0]


def test_fx_at_refuses_dates_before_the_series():
    with pytest.raises(DataError, match=r"no USD/CNY \(CNY=X\) close on or before 2023-01-02"):
        hardware.fx_at(_fx(), ["2023-01-02"])


def test_position_gain_worked_example():
    g = hardware.position_gain(1000, 80_000, "2023-04-01", 300_000, "2023-10-20", _fx())
    assert g.gain == 220_000_000
    f = g.to_frame().set_index("currency")
    assert f.loc["CNY", "gain"] == 220_000_000
    # cost at 7.0 (2023-03-31, last close before 04-01), mark at 7.5 (2023-10-20)
    assert f.loc["USD", "gain"] == pytest.approx(300_000_000 / 7.5 - 80_000_000 / 7.0)
    assert str(g.cost_fx_date.date()) == "2023-03-31" and str(g.mark_fx_date.date()) == "2023-10-20"
    assert "220,000,000 CNY" in g.sentence() and "220,000,000 CNY" in g.summary().as_text()


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"units": 0}, "units must be a positive number"),
        ({"currency": "EUR"}, "currency must be CNY or USD"),
        ({"mark_date": "2023-03-31"}, "mark date 2023-03-31 is before cost date"),
    ],
)
def test_position_gain_bad_input(kw, msg):
    args = {
        "units": 10,
        "cost": 1.0,
        "cost_date": "2023-04-01",
        "mark": 2.0,
        "mark_date": "2023-10-20",
        "fx": _fx(),
        "currency": "CNY",
    } | kw
    with pytest.raises(SpecificationError, match=msg):
        hardware.position_gain(**args)


def test_shock_measures_against_pre_rule_and_msrp():
    out = hardware.shock_measures(_hw(), _fx(), rule_date="2023-10-17")
    x3 = out[out["obs_id"] == "X3"].set_index("baseline")
    assert x3.loc["pre_rule", "baseline_obs_id"] == "X2"
    assert x3.loc["pre_rule", "change_low_pct"] == pytest.approx(100.0)  # 240 / 120
    assert x3.loc["pre_rule", "change_high_pct"] == pytest.approx(150.0)  # 300 / 120
    assert x3.loc["msrp", "change_low_pct"] == pytest.approx(140.0)  # 240 / 100
    assert x3.loc["msrp", "price_low_usd"] == pytest.approx(240 / 7.2)  # FX of 2023-10-18 -> 10-17
    assert str(x3.loc["msrp", "fx_date"].date()) == "2023-10-17"
    # the USD observation has no USD baseline; the straddling year row X4 is never a baseline
    assert "X5" not in set(out["obs_id"])
    assert "X4" not in set(out["baseline_obs_id"])


def test_price_paths_and_msrp():
    p = hardware.price_paths(_hw())
    assert list(p["obs_id"]) == ["X4", "X2", "X3", "X5"]  # no MSRP, no level-less row
    assert p.set_index("obs_id").loc["X3", "price_mid"] == 270
    m = hardware.msrp(_hw())
    assert list(m["msrp"]) == [100]
    with pytest.raises(SpecificationError, match="no hardware price rows for Z"):
        hardware.price_paths(_hw(), ["Z"])


def _retail() -> pd.DataFrame:
    d = pd.to_datetime(
        [
            "2023-10-01",
            "2023-10-10",
            "2023-10-16",
            "2023-10-17",
            "2023-10-30",
            "2023-10-05",
            "2023-10-20",
        ]
    )
    return pd.DataFrame(
        {
            "date": d,
            "product": ["T"] * 5 + ["C"] * 2,
            "price": [100.0, 110.0, 120.0, 130.0, 150.0, 50.0, 55.0],
            "currency": "USD",
            "statistic": "s",
            "market": "m",
            "source": "x",
            "file": "f.csv",
        }
    )


def test_retail_event_comparison_medians():
    out = hardware.retail_event_comparison(
        _retail(), treated="T", controls=("C",), window_days=30, file="f.csv"
    ).set_index("product")
    assert (out.loc["T", "n_before"], out.loc["T", "median_before"]) == (3, 110.0)
    assert (out.loc["T", "n_after"], out.loc["T", "median_after"]) == (2, 140.0)
    assert out.loc["C", "change_pct"] == pytest.approx(10.0)
    assert out.loc["T", "excess_change_pct"] == pytest.approx(100 * (140 / 110 - 1) - 10.0)


def test_retail_unknown_product():
    with pytest.raises(SpecificationError, match="f.csv has no product"):
        hardware.retail_event_comparison(_retail(), treated="X", controls=(), file="f.csv")


def test_load_us_retail_needs_a_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("ANALYSIS_HARDWARE_DIR", raising=False)
    with pytest.raises(DataError, match="set ANALYSIS_HARDWARE_DIR"):
        hardware.load_us_retail()
    with pytest.raises(DataError, match="amazon_us_keepa_buybox_daily.csv not found"):
        hardware.load_us_retail(tmp_path)


def test_load_us_retail_bad_row(tmp_path):
    head = "date,product,price,currency,statistic,market,source\n"
    (tmp_path / "amazon_us_keepa_buybox_daily.csv").write_text(
        head + "2023-10-01,T,10,USD,s,m,x\n2023-10-02,T,abc,USD,s,m,x\n"
    )
    (tmp_path / "toms_hardware_ebay_monthly_us.csv").write_text(head)
    with pytest.raises(DataError, match=r"amazon_us_keepa_buybox_daily.csv:3: bad date or price"):
        hardware.load_us_retail(tmp_path)


def test_real_hardware_table_shocks():
    """The committed table: RTX 4090 on 20 Oct (Bloomberg 29,000) vs MSRP 12,999 = +123.1%."""
    hw = facts.load_hardware_prices()
    fx = pd.Series([7.3093, 7.3112], index=pd.to_datetime(["2023-10-17", "2023-10-20"]))
    out = hardware.shock_measures(hw[hw["date"] >= "2022-10-01"], fx, products=["RTX 4090"])
    r = out[(out["obs_id"] == "H09") & (out["baseline"] == "msrp")].iloc[0]
    assert r["change_low_pct"] == pytest.approx(100 * (29000 / 12999 - 1))
    a = hardware.shock_measures(hw, fx, products=["A800"]).iloc[0]
    assert (a["baseline_obs_id"], a["change_low_pct"]) == ("H01", pytest.approx(275.0))


@pytest.mark.realdata
def test_real_a800_gain_in_usd(real_prices):
    from analysis.data import prices

    fx = prices.close(["CNY=X"], "2023-01-01", "2023-12-31")
    fx = fx.iloc[:, 0] if isinstance(fx, pd.DataFrame) else fx
    g = hardware.position_gain(1000, 80_000, "2023-04-01", 300_000, "2023-10-20", fx)
    assert str(g.cost_fx_date.date()) == "2023-03-31" and g.cost_usd_cny == pytest.approx(
        6.8704, abs=1e-4
    )
    assert g.mark_usd_cny == pytest.approx(7.3112, abs=1e-4)
    assert g.to_frame().set_index("currency").loc["USD", "gain"] == pytest.approx(
        29_388_780, rel=1e-5
    )


def test_real_us_retail_rtx4090_window(shared_hardware_dir):
    s = hardware.load_us_retail(shared_hardware_dir)
    out = hardware.retail_event_comparison(s).set_index("product")
    t = out.loc["GeForce RTX 4090"]
    assert (t["n_before"], t["median_before"]) == (24, pytest.approx(2091.99))
    assert (t["n_after"], t["median_after"]) == (19, pytest.approx(2035.0))


def test_fx_dates_and_inputs_are_checked():
    fx = pd.Series([7.30, 7.31], index=pd.to_datetime(["2023-10-19", "2023-10-20"]))
    assert hardware.fx_at(fx, ["2023-10-22"])["fx_date"].iloc[0] == pd.Timestamp("2023-10-20")
    with pytest.raises(
        DataError,
        match=r"no USD/CNY \(CNY=X\) close within 7 days before 2023-12-31 \(the last is 2023-10-20",
    ):
        hardware.fx_at(fx, ["2023-12-31"])
    with pytest.raises(
        SpecificationError,
        match=r"FX date: cannot read '2023-13-01' as a date \(not a real calendar date: month "
        r"must be in 1\.\.12; use YYYY-MM-DD\)",
    ):
        hardware.fx_at(fx, ["2023-13-01"])
    with pytest.raises(SpecificationError, match="units must be a positive number, got nan"):
        hardware.position_gain(float("nan"), 80000, "2023-10-19", 300000, "2023-10-20", fx)
    with pytest.raises(
        SpecificationError,
        match=r"cost_date: cannot read 'April 2023x' as a date \(use YYYY-MM-DD\)",
    ):
        hardware.position_gain(1000, 80000, "April 2023x", 300000, "2023-10-20", fx)
