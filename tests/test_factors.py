"""Fama-French factor files: the published daily layout read into decimals, every malformed line
named by file and line, and factor_returns' selection, range and coverage checks.

The fixtures in tests/fixtures/factors/ are synthetic files written by hand in the layout of Ken
French's daily CSV files (free-text lines, a header row with an empty first cell, YYYYMMDD rows in
percent, a trailing annual block and copyright line); their numbers are made up."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.data.factors import factor_returns, load_french_factors
from analysis.errors import DataError, SpecificationError, ValidationError

FIX = Path(__file__).parent / "fixtures" / "factors"
FF3, MOM, FF5 = FIX / "ff3_daily.csv", FIX / "mom_daily.csv", FIX / "ff5_daily.csv"
DAYS = ["2023-10-10", "2023-10-11", "2023-10-12", "2023-10-13", "2023-10-16", "2023-10-17",
        "2023-10-18", "2023-10-19", "2023-10-20"]  # fmt: skip


def test_three_factor_file_in_decimals_without_the_annual_block():
    f = load_french_factors(FF3)
    assert list(f.columns) == ["Mkt-RF", "SMB", "HML", "RF"]
    assert f.index.name == "date" and list(f.index) == list(pd.to_datetime(DAYS))
    assert (f.dtypes == "float64").all()
    # first and last daily rows of the file, percent / 100
    np.testing.assert_allclose(f.iloc[0], [0.0052, -0.0031, 0.0027, 0.00021], rtol=1e-14)
    np.testing.assert_allclose(f.iloc[-1], [-0.0127, -0.0017, 0.0038, 0.00022], rtol=1e-14)
    assert f["Mkt-RF"].sum() == pytest.approx(-0.0285, abs=1e-15)  # 0.52+0.38-...-1.27 = -2.85%
    assert len(f) == 9  # the annual rows 2021, 2022 are not days


def test_momentum_file_header_blanks_and_missing_codes():
    f = load_french_factors(MOM)
    assert list(f.columns) == ["Mom"]  # ",Mom   " in the file
    assert f["Mom"].isna().tolist() == [False, False, True, False, False, False, True, False, False]
    assert f.loc["2023-10-13", "Mom"] == pytest.approx(0.0105, rel=1e-14)


def test_five_factor_file_and_zip():
    f = load_french_factors(FF5)
    assert list(f.columns) == ["Mkt-RF", "SMB", "HML", "RMW", "CMA", "RF"]
    np.testing.assert_allclose(f.loc["2023-10-17"], [-0.0004, 0.0061, 0.0044, -0.0025, 0.0031,
                                                     0.00022], rtol=1e-14)  # fmt: skip


def test_zip_holding_the_csv(tmp_path):
    z = tmp_path / "F-F_Research_Data_Factors_daily_CSV.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(FF3, "F-F_Research_Data_Factors_daily.CSV")
    pd.testing.assert_frame_equal(load_french_factors(z), load_french_factors(FF3))
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        zf.write(FF3, "a.csv")
        zf.write(MOM, "b.csv")
    with pytest.raises(DataError, match="exactly one CSV file, found 2"):
        load_french_factors(two)


def _broken(tmp_path, old: str, new: str, name: str = "bad.csv") -> Path:
    text = FF3.read_bytes().decode("utf-8")  # as written: CRLF line ends
    assert old in text
    p = tmp_path / name
    p.write_bytes(text.replace(old, new, 1).encode("utf-8"))
    return p


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("20231012,", "20231032,", r"bad\.csv line 7: date '20231032' is not a real calendar date"),
        ("20231012,", "2023-10-12,", r"bad\.csv line 7: date '2023-10-12' is not a date"),
        ("20231013,", "20231012,", r"bad\.csv line 8: duplicate date 2023-10-12 \(first at line 7"),
        ("20231016,", "20231009,", r"bad\.csv line 9: dates not ascending \(2023-10-09 comes aft"),
        ("   -0.45,", "   abc,", r"bad\.csv line 6: SMB 'abc' is not a number"),
        ("   -0.45,", "   ,", r"bad\.csv line 6: SMB '' is not a number"),
        ("   -0.45,", "   inf,", r"bad\.csv line 6: SMB 'inf' is not a finite number"),
        ("0.93,    0.021", "0.93", r"bad\.csv line 8: expected 5 fields, found 4"),
        ("20231019,", "\r\n20231019,", r"bad\.csv line 13: a daily row after the end of the dai"),
        (",Mkt-RF,SMB,HML,RF\r\n2023", "2023", r"bad\.csv line 4: a data row before the header"),
        (",Mkt-RF,SMB,HML,RF\r\n2023", "Mkt-RF,SMB\r\n2023", r"bad\.csv line 5: a data row befor"),
        (",Mkt-RF,SMB,HML,RF", ",Mkt-RF,SMB,SMB,RF", r"bad\.csv line 4: repeated column\(s\) SMB"),
    ],
)
def test_malformed_lines_are_named(tmp_path, old, new, message):
    with pytest.raises(ValidationError, match=message) as info:
        load_french_factors(_broken(tmp_path, old, new))
    assert "not read as Ken French daily factors" in str(info.value)
    assert len(info.value.problems) == 1


def test_every_problem_is_listed_in_line_order(tmp_path):
    p = _broken(tmp_path, "20231012,", "20231099,")
    text = p.read_text(encoding="utf-8").replace("   -0.45,", "   x,")
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_french_factors(p)
    assert [q.split(":")[0] for q in info.value.problems] == ["bad.csv line 6", "bad.csv line 7"]


def test_monthly_file_no_header_and_missing_file(tmp_path):
    monthly = tmp_path / "monthly.csv"
    monthly.write_text(
        "Monthly file\n\n,Mkt-RF,SMB,HML,RF\n202309,  -5.24,  -2.51,   1.45,   0.43\n"
    )
    with pytest.raises(ValidationError, match=r"monthly\.csv line 4: date '202309' is monthly"):
        load_french_factors(monthly)
    no_head = tmp_path / "nohead.csv"
    no_head.write_text("just text\nand more\n")
    with pytest.raises(ValidationError, match=r"nohead\.csv: no header row"):
        load_french_factors(no_head)
    empty = tmp_path / "empty.csv"
    empty.write_text("text\n,Mkt-RF,RF\n\nCopyright\n")
    with pytest.raises(ValidationError, match=r"no daily rows after the header row \(line 2\)"):
        load_french_factors(empty)
    with pytest.raises(DataError, match=r"does not exist; download the daily factors"):
        load_french_factors(tmp_path / "absent.csv")


def test_edits_to_the_file_are_seen(tmp_path):
    p = tmp_path / "ff3.csv"
    p.write_bytes(FF3.read_bytes())
    assert load_french_factors(p).iloc[0, 0] == pytest.approx(0.0052)
    p.write_text(FF3.read_text().replace("    0.52,", "    0.62,"))
    st = os.stat(p)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a later modification time
    assert load_french_factors(p).iloc[0, 0] == pytest.approx(0.0062)
    f = load_french_factors(p)
    f.iloc[0, 0] = 99.0  # the caller's copy: the cache is untouched
    assert load_french_factors(p).iloc[0, 0] == pytest.approx(0.0062)


# ---- factor_returns --------------------------------------------------------------------------


def test_factor_returns_selects_orders_and_slices():
    f = factor_returns(FF3, ["HML", "mkt-rf"], "2023-10-12", "2023-10-17")
    assert list(f.columns) == ["HML", "Mkt-RF"]
    assert list(f.index) == list(pd.to_datetime(DAYS[2:6]))  # both ends included
    np.testing.assert_allclose(f["HML"], [0.0005, 0.0093, -0.0034, 0.0041], rtol=1e-14)
    everything = factor_returns(FF3)
    assert list(everything.columns) == ["Mkt-RF", "SMB", "HML"]  # RF is a rate, asked for by name
    assert len(everything) == 9
    assert list(factor_returns(FF3, "RF", "2023-10-20", "2023-10-20")["RF"]) == [0.00022]


def test_carhart_four_factors_from_two_files():
    f = factor_returns([FF3, MOM], ["Mkt-RF", "SMB", "HML", "Mom"], "2023-10-13", "2023-10-17")
    assert list(f.columns) == ["Mkt-RF", "SMB", "HML", "Mom"]
    np.testing.assert_allclose(f["Mom"], [0.0105, -0.0063, 0.0027], rtol=1e-14)
    # the Mom file marks 2023-10-18 missing: a range holding it is refused, naming the day
    with pytest.raises(DataError, match=r"factor Mom in ff3_daily\.csv, mom_daily\.csv has no "
                                        r"return on 2023-10-18"):  # fmt: skip
        factor_returns([FF3, MOM], ["Mkt-RF", "Mom"], "2023-10-13", "2023-10-19")
    # a column in both files is read from the first: the five-factor file's Mkt-RF differs
    f5 = factor_returns([FF5, FF3], ["Mkt-RF", "RMW"], "2023-10-16", "2023-10-18")
    np.testing.assert_allclose(f5["Mkt-RF"], [0.0110, -0.0004, -0.0133], rtol=1e-14)


def test_factor_returns_refuses_what_the_files_do_not_cover():
    with pytest.raises(DataError, match=r"factor Mkt-RF in ff3_daily\.csv covers 2023-10-10 to "
                                        r"2023-10-20, not 2023-10-02 to 2023-10-20"):  # fmt: skip
        factor_returns(FF3, ["Mkt-RF"], "2023-10-02", "2023-10-20")
    with pytest.raises(DataError, match="not 2023-10-10 to 2023-10-23; download a newer file"):
        factor_returns(FF3, ["Mkt-RF"], "2023-10-10", "2023-10-23")
    with pytest.raises(DataError, match=r"factor RMW .* covers 2023-10-16 to 2023-10-18"):
        factor_returns([FF3, FF5], ["Mkt-RF", "RMW"], "2023-10-12", "2023-10-17")


def test_factor_returns_bad_arguments():
    with pytest.raises(SpecificationError, match=r"no factor 'UMD' in ff3_daily\.csv; "
                                                 r"available: Mkt-RF, SMB, HML, RF"):  # fmt: skip
        factor_returns(FF3, ["UMD"])
    with pytest.raises(SpecificationError, match="names is empty"):
        factor_returns(FF3, [])
    with pytest.raises(SpecificationError, match="asked for twice"):
        factor_returns(FF3, ["SMB", "smb"])
    with pytest.raises(SpecificationError, match="start 2023-10-17 is after end 2023-10-12"):
        factor_returns(FF3, "SMB", "2023-10-17", "2023-10-12")
    with pytest.raises(SpecificationError, match="at least one factor file"):
        factor_returns([])
    with pytest.raises(SpecificationError, match="factor_returns start: cannot read"):
        factor_returns(FF3, "SMB", "12/10/2023")


# --------------------------------------------------------------------------- in the factor model


def _french_file(path: Path, frame: pd.DataFrame) -> Path:
    """``frame`` (decimals) written in French's daily layout: text, header, percent rows with
    4 decimals, a blank line and an annual block."""
    lines = ["Synthetic factors in the layout of the Fama/French daily files (test data).", ""]
    lines.append("," + ",".join(frame.columns))
    for day, row in frame.iterrows():
        lines.append(f"{day:%Y%m%d}," + ",".join(f"{100 * v:.4f}" for v in row))
    lines += ["", " Annual Factors: January-December", "," + ",".join(frame.columns)]
    lines.append("2023," + ",".join("1.00" for _ in frame.columns))
    path.write_text("\n".join(lines) + "\n")
    return path


def _factor_study_data(tmp_path: Path):
    from analysis.data import calendar

    rng = np.random.default_rng(7)
    sessions = calendar.sessions("2022-09-01", "2023-12-29")
    n = len(sessions)
    fac = pd.DataFrame(
        {
            "Mkt-RF": np.round(rng.normal(0.0004, 0.01, n), 6),
            "SMB": np.round(rng.normal(0, 0.005, n), 6),
            "HML": np.round(rng.normal(0, 0.005, n), 6),
            "RF": 0.0002,
        },
        index=sessions,
    )
    excess = 0.0003 + 1.3 * fac["Mkt-RF"] + 0.6 * fac["SMB"] - 0.4 * fac["HML"]
    ret = excess + fac["RF"] + rng.normal(0, 0.012, n)
    ret.iloc[sessions.get_loc(pd.Timestamp("2023-10-17"))] += -0.08
    px = pd.DataFrame({"AAA": 50 * (1 + ret).cumprod()})
    return px, _french_file(tmp_path / "F-F_Research_Data_Factors_daily.CSV", fac)


def test_factor_model_on_a_french_file_regresses_excess_returns(tmp_path):
    """R - RF on Mkt-RF, SMB, HML from a file in French's layout: the fit is statsmodels' OLS of
    the excess returns over the estimation window, and the ARs are the excess-return residuals."""
    import statsmodels.api as sm

    from analysis.eventstudy import event_study

    px, path = _factor_study_data(tmp_path)
    res = event_study(
        "AAA", "2023-10-17", model="factor_model", market=None, prices=px,
        factors=["Mkt-RF", "SMB", "HML"], factor_file=path,
    )  # fmt: skip
    fac = load_french_factors(path)  # the values as read (percent with 4 decimals / 100)
    r = px["AAA"].pct_change()
    y = r - fac["RF"]
    d0 = r.index.get_loc(pd.Timestamp("2023-10-17"))
    est = slice(d0 - 250, d0 - 10)
    X = sm.add_constant(fac[["Mkt-RF", "SMB", "HML"]].iloc[est])
    ols = sm.OLS(y.iloc[est], X).fit()
    np.testing.assert_allclose(res.params.loc["AAA"].to_numpy(), ols.params.to_numpy(), rtol=1e-9)
    assert ols.params["Mkt-RF"] == pytest.approx(1.3, abs=0.1)
    Xw = sm.add_constant(fac[["Mkt-RF", "SMB", "HML"]].iloc[d0 - 1 : d0 + 4], has_constant="add")
    ar = y.iloc[d0 - 1 : d0 + 4].to_numpy() - Xw.to_numpy() @ ols.params.to_numpy()
    np.testing.assert_allclose(res.ar["AAA"], ar, rtol=1e-9)
    assert res.car().estimate["AAA"] == pytest.approx(ar.sum(), rel=1e-12)
    assert res.ar["AAA"].loc[0] < -0.05  # the -8% day 0


def test_factor_file_errors_name_what_to_do(tmp_path):
    from analysis.eventstudy import event_study

    px, path = _factor_study_data(tmp_path)
    with pytest.raises(SpecificationError, match="model='factor_model'"):
        event_study("AAA", "2023-10-17", prices=px, factor_file=path)
    with pytest.raises(SpecificationError, match="needs the factors"):
        event_study("AAA", "2023-10-17", model="factor_model", market=None, prices=px,
                    factor_file=path)  # fmt: skip
    with pytest.raises(SpecificationError, match="simple"):
        event_study("AAA", "2023-10-17", model="factor_model", market=None, prices=px,
                    factors=["Mkt-RF"], factor_file=path, return_kind="log")  # fmt: skip
    short = load_french_factors(path).loc[:"2023-10-16"]
    cut = _french_file(tmp_path / "short.CSV", short)
    with pytest.raises(DataError, match=r"AAA: .*no factor return on 2023-10-17"):
        event_study("AAA", "2023-10-17", model="factor_model", market=None, prices=px,
                    factors=["Mkt-RF", "SMB"], factor_file=cut)  # fmt: skip


def test_study_command_reads_factors_from_a_french_file(tmp_path, monkeypatch, capsys):
    import json

    from analysis.cli import main
    from analysis.eventstudy import event_study

    px, path = _factor_study_data(tmp_path)
    folder = tmp_path / "prices"
    folder.mkdir()
    frame = pd.DataFrame(
        {"open": px["AAA"], "high": px["AAA"], "low": px["AAA"], "close": px["AAA"],
         "adj_close": px["AAA"], "volume": 1000}
    )  # fmt: skip
    frame.rename_axis("date").to_csv(folder / "AAA.csv")
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(folder))
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(tmp_path / "cache"))
    code = main(["study", "AAA", "--event", "2023-10-17", "--model", "factor_model",
                 "--factors", "Mkt-RF,SMB,HML", "--factor-file", str(path), "--json"])  # fmt: skip
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    res = event_study("AAA", "2023-10-17", model="factor_model", market=None, prices=px,
                      factors=["Mkt-RF", "SMB", "HML"], factor_file=path)  # fmt: skip
    assert doc["firms"]["AAA"]["car"] == pytest.approx(res.car().estimate["AAA"], rel=1e-9)
    assert doc["factors"] == ["MKT-RF", "SMB", "HML"]


def test_factor_model_on_two_files_that_start_on_different_days(tmp_path):
    """Carhart's four factors from the three-factor file and a momentum file that starts later:
    only the study's own windows must be covered."""
    from analysis.eventstudy import event_study

    px, path = _factor_study_data(tmp_path)
    rng = np.random.default_rng(11)
    days = load_french_factors(path).index
    mom = pd.DataFrame({"Mom": np.round(rng.normal(0, 0.006, len(days)), 6)}, index=days)
    late = _french_file(tmp_path / "F-F_Momentum_Factor_daily.CSV", mom.loc["2022-10-03":])
    res = event_study("AAA", "2023-10-17", model="factor_model", market=None, prices=px,
                      factors=["Mkt-RF", "SMB", "HML", "Mom"], factor_file=[path, late])  # fmt: skip
    assert res.fit_stats.loc["AAA", "n_estimation"] == 240
    assert list(res.params.columns) == ["alpha", "beta_MKT-RF", "beta_SMB", "beta_HML", "beta_MOM"]
    too_late = _french_file(tmp_path / "late.CSV", mom.loc["2023-01-03":])
    with pytest.raises(DataError, match=r"AAA: .*no factor return on 2022-10"):
        event_study("AAA", "2023-10-17", model="factor_model", market=None, prices=px,
                    factors=["Mkt-RF", "Mom"], factor_file=[path, too_late])  # fmt: skip
