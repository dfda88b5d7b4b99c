"""Exports of the GARCH, abnormal-volume, abnormal-volatility, synthetic-match and power results:
the LaTeX table parsed back and held to the results' own numbers (stars from the p-values,
standard errors in parentheses), the Excel sheets read back, and the CSV round trip."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis as an
from analysis import _export as export
from analysis.data import calendar
from analysis.eventstudy.activity import abnormal_volatility, abnormal_volume
from analysis.eventstudy.power import power, t_test_power
from analysis.eventstudy.synthetic import synthetic_study
from tests import test_activity as act
from tests import test_garch as gar
from tests import test_synthetic as syn
from tests.test_export import _split, _stars, parse_latex

#: GARCH parameter -> its row in the paper table (each tested by the Wald z against 0).
WALD_TERMS = {
    "mu": "mu",
    "beta": "beta",
    "omega": "omega x 1e4",
    "alpha": "alpha (ARCH)",
    "garch_beta": "beta (GARCH)",
}


def _same_book(path, sheets: dict[str, pd.DataFrame]) -> None:
    """The workbook at ``path`` holds exactly ``sheets``, each read back equal to its frame
    (Excel keeps 15-16 significant digits; empty text reads back as NaN)."""
    book = pd.read_excel(path, sheet_name=None)
    assert list(book) == list(sheets)
    for name, frame in sheets.items():
        got, want = book[name], export._tidy(frame)
        assert list(got.columns) == list(want.columns), name
        for c in want.columns:
            if pd.api.types.is_float_dtype(want[c]):
                np.testing.assert_allclose(got[c], want[c], rtol=1e-15, atol=0, err_msg=c)
            elif pd.api.types.is_object_dtype(want[c]) or pd.api.types.is_string_dtype(want[c]):
                text = got[c].astype(object).where(got[c].notna(), "")  # all-empty reads as NaN
                assert text.astype(str).tolist() == want[c].astype(str).tolist(), c
            else:
                assert got[c].tolist() == want[c].tolist(), c


def _csv_round_trip(res, path, dates: bool = True) -> pd.DataFrame:
    back = pd.read_csv(res.to_csv(path), parse_dates=["date"] if dates else None)
    pd.testing.assert_frame_equal(back, export._tidy(res.to_frame()), check_dtype=False)
    return back


def _cell(table: dict, term: str, i: int) -> tuple[float, str, str | None]:
    """(value, stars, parenthesised cell below or None) of column ``i`` of a body row."""
    top, below = table["body"][term]
    value, stars = _split(top[i])
    return value, stars, None if below is None else below[i]


# ---- GARCH(1,1)-t ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def garch():
    px = gar._prices(jump=0.03)
    return an.event_study(list(gar.FIRMS), gar.EVENT, market="SPY", model=gar.GARCH, prices=px)


def test_garch_latex_holds_car_sd_scar_p_and_robust_standard_errors(garch):
    table = parse_latex(garch.to_latex())
    assert table["header"] == list(gar.FIRMS)
    terms = ["CAR[-1,+3]", "mu", "beta", "omega x 1e4", "alpha (ARCH)", "beta (GARCH)", "nu"]
    assert list(table["body"]) == terms
    cr = garch.car()
    for i, firm in enumerate(gar.FIRMS):
        value, stars, se = _cell(table, "CAR[-1,+3]", i)
        # the CAR is the sum of the ARs; its sd the root of the summed variance forecasts
        assert value == round(garch.ar[firm].sum(), 4) == round(cr.estimate[firm], 4)
        assert se == f"({np.sqrt((garch.conditional_sd[firm] ** 2).sum()):.4f})"
        assert stars == _stars(cr.pvalue[firm])
        for param, term in WALD_TERMS.items():
            scale = 1e4 if param == "omega" else 1.0
            est, sd = garch.params.loc[firm, param], garch.std_errors.loc[firm, param]
            value, stars, se = _cell(table, term, i)
            assert value == round(scale * est, 4)
            assert se == f"({scale * sd:.4f})"
            assert stars == _stars(2 * stats.norm.sf(abs(est / sd)))  # Wald z, as arch reports
        value, stars, se = _cell(table, "nu", i)
        assert (value, stars) == (round(garch.params.loc[firm, "nu"], 4), "")  # no test of nu = 0
        assert se == f"({garch.std_errors.loc[firm, 'nu']:.4f})"
    # the jump of 0.03 on day 0: CARs 0.0269, 0.0363, 0.0421, 0.0834
    assert [_split(c)[1] for c in table["body"]["CAR[-1,+3]"][0]] == ["", "*", "*", "***"]
    assert table["footer"]["N"] == ["240"] * 4
    assert table["footer"]["Day 0"] == [gar.EVENT] * 4
    assert table["footer"]["Model"] == [r"garch\_market\_model (SPY)"] * 4
    assert (
        "GARCH-t model (Bollerslev 1987)" in table["note"]
        and "Standard errors in parentheses." in table["note"]
    )


def test_garch_car_result_table_states_the_scar_test(garch):
    cr = garch.car((0, 1))
    table = parse_latex(cr.to_latex(digits=3))
    for i, firm in enumerate(gar.FIRMS):
        value, stars, se = _cell(table, "CAR[0,+1]", i)
        assert value == round(cr.estimate[firm], 3) and stars == _stars(cr.pvalue[firm])
        assert se == f"({cr.std_error[firm]:.3f})"
    assert table["footer"]["nu"] == [f"{v:.2f}" for v in garch.params["nu"]]
    assert "standardized t(nu)" in table["note"] and "prediction-error" not in table["note"]


def test_garch_alpha_at_its_bound_has_no_standard_error():
    rng = np.random.default_rng(0)
    sessions = calendar.sessions("2022-06-01", "2024-03-28")
    m = rng.normal(0.0004, 0.011, len(sessions))
    iid = 0.0004 + 1.3 * m + rng.normal(0, 0.02, len(sessions))  # no GARCH: alpha fits to 0
    cols = {"SPY": m, "IID": iid, "GAR": gar._garch_returns(rng, m, **gar.TRUE)}
    px = 100 * (1 + pd.DataFrame(cols, index=sessions)).cumprod()
    res = an.event_study(["IID", "GAR"], gar.EVENT, market="SPY", model=gar.GARCH, prices=px)
    assert res.fit_stats["alpha_at_zero"].tolist() == [True, False]
    table = parse_latex(res.to_latex())
    for param, term in (("alpha", "alpha (ARCH)"), ("garch_beta", "beta (GARCH)")):
        top, below = table["body"][term]
        assert _split(top[0])[1] == "" and below[0] == ""  # IID: no se, no stars
        assert below[1] == f"({res.std_errors.loc['GAR', param]:.4f})"
    assert "at its bound 0" in table["note"]
    params = res._export_sheets()["params"].set_index(["firm", "term"])
    assert params.loc[("IID", "alpha"), "std_error"] == res.std_errors.loc["IID", "alpha"]


def test_garch_excel_and_csv(garch, tmp_path):
    sheets = garch._export_sheets()
    assert list(sheets) == ["ar_car", "car", "params", "fit", "firm_tests", "tests"]
    _same_book(garch.to_excel(tmp_path / "garch.xlsx"), sheets)
    params = sheets["params"].set_index(["firm", "term"])
    assert len(params) == 24  # 4 firms x 6 parameters
    for firm in gar.FIRMS:
        for p in ("mu", "beta", "omega", "alpha", "garch_beta", "nu"):
            row = params.loc[(firm, p)]
            assert row["estimate"] == garch.params.loc[firm, p]
            assert row["std_error"] == garch.std_errors.loc[firm, p]
            assert row["tstat"] == pytest.approx(row["estimate"] / row["std_error"], rel=1e-14)
        assert np.isnan(params.loc[(firm, "nu"), "pvalue"])
    back = _csv_round_trip(garch, tmp_path / "garch.csv")
    assert len(back) == 20 and back["date"].iloc[1] == pd.Timestamp(gar.EVENT)
    # GARCH and OLS side by side: the intercept 'alpha' and the ARCH 'alpha (ARCH)' stay apart
    ols = an.event_study(
        list(gar.FIRMS[:2]), gar.EVENT, market="SPY", prices=gar._prices(jump=0.03)
    )
    text = export.latex_table({"OLS": ols, "GARCH": garch})
    rows = [line.split(" & ")[0] for line in text.splitlines()]
    assert rows.count("alpha") == 1 and rows.count("alpha (ARCH)") == 1
    assert rows.count("CAR[-1,+3]") == 1 and rows.count("beta") == 1


# ---- abnormal volume and volatility --------------------------------------------------------------


@pytest.fixture(scope="module")
def volume():
    vol = act._noisy_volume(seed=3, n_firms=3, jump=2.5)
    return abnormal_volume(["F00", "F01", "F02"], act.EVENT, model="mean", volume=vol)


def test_volume_latex_holds_cav_its_se_and_t_p(volume):
    table = parse_latex(volume.to_latex())
    assert table["header"] == ["F00", "F01", "F02"]
    cav, ft = volume.cav(), volume.firm_tests()
    for i, firm in enumerate(volume.firms):
        value, stars, se = _cell(table, "CAV[-1,+3]", i)
        t = ft[(firm, "t_prediction_error")]
        assert value == round(volume.av[firm].sum(), 4) == round(cav[firm], 4)
        assert se == f"({cav[firm] / t.stat:.4f})"  # se = CAV / t
        assert stars == _stars(t.pvalue)
        assert table["footer"]["SQ p"][i] == f"{ft[(firm, 'sq')].pvalue:.4f}"
    # log(2.5) = 0.916 on day 0 of every firm: CAVs 1.3322, 1.6124, 0.3798
    assert [_split(c) for c in table["body"]["CAV[-1,+3]"][0]] == [
        (1.3322, "**"),
        (1.6124, "**"),
        (0.3798, ""),
    ]
    assert table["footer"]["Model"] == ["mean-adjusted"] * 3
    assert table["footer"]["N"] == ["240"] * 3 and table["footer"]["Window"] == ["[-1,+3]"] * 3
    assert "Campbell \\& Wasley 1996" in table["note"]


def test_volume_excel_and_csv(volume, tmp_path):
    sheets = volume._export_sheets()
    assert list(sheets) == ["av", "cav", "fit", "firm_tests", "tests"]
    _same_book(volume.to_excel(tmp_path / "volume.xlsx"), sheets)
    np.testing.assert_array_equal(sheets["cav"]["cav"], volume.cav().to_numpy())
    back = _csv_round_trip(volume, tmp_path / "volume.csv")
    assert back["volume"].iloc[1] == pytest.approx(volume._volume[0, 1], rel=1e-15)
    one = abnormal_volume("F00", act.EVENT, volume=act._noisy_volume(seed=3, n_firms=1))
    assert list(one._export_sheets()) == ["av", "cav", "fit", "firm_tests"]  # no cross-section


@pytest.fixture(scope="module")
def volatility():
    px = act._volatile_prices(seed=8, scale=3.0, n_firms=3)
    return abnormal_volatility(["F00", "F01", "F02"], act.EVENT, prices=px, test_window=(0, 1))


def test_volatility_latex_holds_ratio_and_f_without_standard_errors(volatility):
    table = parse_latex(volatility.to_latex())
    ft = volatility.firm_tests()
    for i, firm in enumerate(volatility.firms):
        row = ft[(firm, "variance_ratio_f")]
        for term, want in (
            ("Variance ratio[0,+1]", volatility.u.loc[0:1, firm].mean()),  # mean of AR^2 / s^2
            ("Predictive F", row.stat),
        ):
            value, stars, below = _cell(table, term, i)
            assert value == round(want, 4) and stars == _stars(row.pvalue)
            assert below is None  # no standard error, no parenthesised row
        assert row.pvalue == pytest.approx(stats.f.sf(row.stat, 2, 238), rel=1e-12)
    assert table["footer"]["df"] == ["F(2, 238)"] * 3
    assert [_split(c)[1] for c in table["body"]["Predictive F"][0]] == ["***"] * 3
    assert "Standard errors" not in table["note"] and "Chow 1960" in table["note"]


def test_volatility_excel_and_csv(volatility, tmp_path):
    sheets = volatility._export_sheets()
    assert list(sheets) == ["u", "ratio", "params", "fit", "firm_tests", "tests"]
    _same_book(volatility.to_excel(tmp_path / "vol.xlsx"), sheets)
    np.testing.assert_array_equal(sheets["ratio"]["ratio"], volatility.ratio().to_numpy())
    params = sheets["params"].set_index(["firm", "term"])
    assert params.loc[("F01", "beta"), "estimate"] == volatility.params.loc["F01", "beta"]
    back = _csv_round_trip(volatility, tmp_path / "vol.csv")
    assert back["u"].tolist() == pytest.approx(
        (back["ar"] ** 2 / back["sigma"] ** 2).tolist(), rel=1e-12
    )


# ---- synthetic match -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic():
    px = syn._prices(jump=-0.05)
    px.loc[px.index[px.index.get_loc(pd.Timestamp(syn.EVENT)) - 100], "D05"] = np.nan
    return synthetic_study("TGT", syn.EVENT, donors=syn.DONORS, prices=px)


def test_synthetic_latex_holds_car_and_permutation_p(synthetic):
    table = parse_latex(synthetic.to_latex())
    assert table["header"] == ["TGT"]
    value, stars, below = _cell(table, "CAR[-1,+3]", 0)
    assert value == round(synthetic.ar.sum(), 4) and below is None
    # the -5% jump ranks first of 1 + 23 donors: p = 1/24 = 0.0417, two stars
    assert synthetic.tests()["permutation"].pvalue == pytest.approx(1 / 24)
    assert stars == "**"
    foot = table["footer"]
    assert foot["Rank"] == ["1 of 24"] and foot["Donors"] == ["23"] and foot["N"] == ["240"]
    assert foot["Model"] == [r"synthetic match (car\_rmse)"]
    ci = synthetic.conf_int().iloc[0]
    assert foot[r"95\% interval"] == [f"[{ci['lower']:.4f}, {ci['upper']:.4f}]"]
    assert "Abadie, Diamond \\& Hainmueller 2010" in table["note"]


def test_synthetic_excel_holds_the_weights_and_csv(synthetic, tmp_path):
    sheets = synthetic._export_sheets()
    assert list(sheets) == ["ar", "weights", "placebos", "tests", "dropped_donors"]
    path = synthetic.to_excel(tmp_path / "syn.xlsx")
    _same_book(path, sheets)
    w = pd.read_excel(path, sheet_name="weights")
    assert list(w.columns) == ["donor", "weight"] and "D05" not in set(w["donor"])
    assert w["weight"].sum() == pytest.approx(1.0, abs=1e-12) and (w["weight"] >= 0).all()
    top = w.set_index("donor")["weight"]
    assert top["D00"] == pytest.approx(0.6, abs=0.01) and top["D01"] == pytest.approx(0.4, abs=0.01)
    back = _csv_round_trip(synthetic, tmp_path / "syn.csv")
    assert back["car"].iloc[-1] == pytest.approx(synthetic.car, rel=1e-14)


# ---- Monte Carlo power -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pr():
    return power(1, effect=-0.05, sigma=0.026, n_sims=400, seed=3)


def test_power_latex_holds_rates_and_monte_carlo_errors_without_stars(pr):
    table = parse_latex(pr.to_latex())
    assert table["header"] == ["power", "exact"]
    assert list(table["body"]) == [r"t\_prediction\_error", "sq", "permutation"]
    for test in pr.tests:
        top, below = table["body"][test.replace("_", r"\_")]
        p = pr.rejections[pr.tests.index(test)] / pr.computed[pr.tests.index(test)]
        assert _split(top[0]) == (round(p, 4), "")  # no stars: a rate, not a test
        assert below[0] == f"({math.sqrt(p * (1 - p) / 400):.4f})"
        assert below[1] == ""
    exact, _ = table["body"][r"t\_prediction\_error"]
    st = pr.setup
    want = t_test_power(-0.05, 0.026, st.car_factor, 238)
    assert _split(exact[1]) == (round(want, 4), "")
    assert table["body"]["sq"][0][1] == ""  # the exact power is known only for the t test
    assert table["footer"]["Effect"] == ["-0.0500", ""]
    assert table["footer"]["Simulations"] == ["400", ""]
    assert "no stars" in table["note"]


def test_power_excel_csv_and_a_table_without_exact_column(pr, tmp_path):
    sheets = pr._export_sheets()
    assert list(sheets) == ["power", "setup"]
    _same_book(pr.to_excel(tmp_path / "power.xlsx"), sheets)
    setup = sheets["setup"].iloc[0]
    assert (setup["n_sims"], setup["car_window"], setup["effect_per_day"]) == (
        400,
        "[-1,+3]",
        -0.01,
    )
    back = _csv_round_trip(pr, tmp_path / "power.csv", dates=False)
    assert back["test"].tolist() == list(pr.tests)
    sq = power(1, effect=-0.05, sigma=0.026, tests="sq", n_sims=200, seed=3)
    table = parse_latex(sq.to_latex())
    assert table["header"] == ["power"] and "Exact" not in table["note"]


def test_power_table_note_has_no_star_legend_but_a_test_table_has(pr, garch):
    assert export.STAR_NOTE not in pr.to_latex()
    assert export.STAR_NOTE in garch.to_latex()


def test_minimum_detectable_effect_latex_excel_and_csv(tmp_path):
    mde = an.minimum_detectable_effect(1, power=0.8, sigma=0.026, n_sims=400, seed=3)
    table = parse_latex(mde.to_latex())
    assert table["header"] == [r"t\_prediction\_error"]
    top, below = table["body"][r"\textbar{}CAR\textbar{} detectable"]
    assert _split(top[0]) == (round(mde.effect, 4), "")
    assert below[0] == f"({mde.std_error:.4f})"
    assert _split(table["body"]["power achieved"][0][0]) == (round(mde.achieved, 4), "")
    assert _split(table["body"][r"\textbar{}CAR\textbar{} exact"][0][0]) == (
        round(mde.analytic, 4),
        "",
    )
    assert table["footer"]["Target power"] == ["0.8"]
    assert table["footer"]["Residual sd"] == ["0.0260"]
    assert export.STAR_NOTE not in mde.to_latex() and "no stars" in table["note"]
    sheets = mde._export_sheets()
    assert list(sheets) == ["mde", "path", "setup"]
    assert sheets["mde"].iloc[0]["effect"] == mde.effect
    assert sheets["path"]["power"].tolist() == mde.to_frame()["power"].tolist()
    _same_book(mde.to_excel(tmp_path / "mde.xlsx"), sheets)
    back = pd.read_csv(mde.to_csv(tmp_path / "mde.csv"))
    np.testing.assert_allclose(back["effect"], mde.to_frame().index.to_numpy(), rtol=1e-15)
    np.testing.assert_allclose(back["power"], mde.to_frame()["power"], rtol=1e-15)
