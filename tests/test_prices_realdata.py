"""Real-data tier: the shared price folder (ANALYSIS_PRICES_DIR=../shared/data/prices)."""

from __future__ import annotations

import pytest

from analysis.data import prices

pytestmark = pytest.mark.realdata

SESSIONS = ["2023-10-16", "2023-10-17", "2023-10-18", "2023-10-19", "2023-10-20"]


def test_every_series_of_the_folder_imported(real_prices, shared_prices_dir):
    man = prices.cache_manifest()
    files = sorted(p for p in shared_prices_dir.iterdir() if p.suffix.lower() == ".csv")
    assert len(files) >= 25
    assert len(man) == len(files)
    assert {"NVDA", "SPY", "^GSPC", "^NDX", "^SOX", "CNY=X"} <= set(man["symbol"])
    assert man["source"].str.startswith("csv:").all()


def test_nvda_rows_and_known_values(real_prices):
    df = prices.load_history("NVDA")
    assert len(df) == 1760
    assert (df.index[0].strftime("%Y-%m-%d"), df.index[-1].strftime("%Y-%m-%d")) == (
        "2019-05-16",
        "2026-05-15",
    )
    wk = prices.load_history("NVDA", "2023-10-16", "2023-10-20")
    assert list(wk.index.strftime("%Y-%m-%d")) == SESSIONS
    assert wk.loc["2023-10-17", "close"] == pytest.approx(43.938, abs=5e-7)
    q = prices.quoted_close("NVDA", "2023-10-16", "2023-10-20")
    assert [round(v, 2) for v in q] == [460.95, 439.38, 421.96, 421.01, 413.87]
    # dividend effect from PROVENANCE.md: adj_close/close = 0.99930 on 2023-10-17
    assert wk.loc["2023-10-17", "adj_close"] / wk.loc["2023-10-17", "close"] == pytest.approx(
        0.99930, abs=5e-6
    )


def test_split_conversions(real_prices):
    assert prices.to_current_units("NVDA", "2023-10-17", 446) == pytest.approx(44.6, rel=1e-12)
    assert prices.split_factor("NVDA", "2021-01-04") == 40.0
    assert prices.quoted_close("SOXX", "2023-10-17", "2023-10-17").iat[0] == pytest.approx(
        479.91, abs=5e-3
    )
    aapl = prices.quoted_close("AAPL", "2020-08-28", "2020-08-31")
    assert [round(v, 2) for v in aapl] == [499.23, 129.04]


def test_index_and_fx_files(real_prices):
    c = prices.close(["^GSPC", "CNY=X", "SPY"], "2023-10-17", "2023-10-17")
    assert c.loc["2023-10-17", "^GSPC"] == pytest.approx(4373.20, abs=5e-3)
    assert c.loc["2023-10-17", "CNY=X"] == pytest.approx(7.3093, abs=5e-5)
    assert c.loc["2023-10-17", "SPY"] == pytest.approx(436.02, abs=5e-3)
    info = prices.series_info(["^GSPC", "CNY=X"])
    assert info["source"].iat[0].endswith("/INDEX_GSPC.csv")
    assert info["source"].iat[1].endswith("/CNY_X.csv")
    assert list(info["rows"]) == [1799, 1848]


def test_range_outside_file_is_an_error(real_prices):
    from analysis.errors import DataError

    with pytest.raises(
        DataError,
        match=r"\^SOX: requested 2020-01-02 to open but the cached series covers only 2021-01-04 to 2026-03-06",
    ):
        prices.load_history("^SOX", "2020-01-02")


def test_on_demand_import(shared_prices_dir, monkeypatch):
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(shared_prices_dir))
    assert prices.cache_manifest().empty
    assert prices.load_history("SMH", "2023-10-17", "2023-10-17")["close"].iat[0] == pytest.approx(
        148.32, abs=5e-3
    )
    assert list(prices.cache_manifest()["symbol"]) == ["SMH"]
