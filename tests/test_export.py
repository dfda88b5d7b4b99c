"""Exports of results objects: CSV and Excel round trips, the LaTeX estimates table (parsed back
and held to the frames), the OLS standard errors it prints, and vector CAR figures."""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import analysis as an
from analysis import _export as export
from analysis import plots
from analysis.errors import SpecificationError
from tests.test_eventstudy import EVENT, _prices

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def px() -> pd.DataFrame:
    return _prices(jump=0.10)  # a 10% jump on day 0: CARs significant at 5% (AAA) and 10% (BBB)


@pytest.fixture(scope="module")
def res(px):
    # AAA, BBB, CCC: BBB misses two estimation returns, CCC a return inside the event window
    return an.event_study(["AAA", "BBB", "CCC"], EVENT, prices=px)


@pytest.fixture(scope="module")
def fm(px):
    return an.event_study("AAA", EVENT, model="factor_model", factors=["SPY", "SOXX"], prices=px)


# ---- the LaTeX table, parsed back --------------------------------------------------------------


def _cells(line: str) -> list[str]:
    assert line.endswith(r"\\"), line
    return [c.strip() for c in line[:-2].split(" & ")]


def parse_latex(text: str) -> dict:
    """Header columns, body rows (term -> cells, with the parenthesised row below, if any),
    footer rows and the note of a tabular written by analysis._export."""
    lines = text.strip().splitlines()
    assert lines[0].startswith(r"\begin{tabular}{l") and lines[-1] == r"\end{tabular}"
    rules = [i for i, x in enumerate(lines) if x == r"\hline"]
    assert len(rules) == 4, rules  # top, below the header, above the footer, above the note
    header = _cells(lines[rules[1] - 1])[1:]
    body: dict[str, tuple[list[str], list[str] | None]] = {}
    i = rules[1] + 1
    while i < rules[2]:
        row = _cells(lines[i])
        below = None
        if i + 1 < rules[2] and _cells(lines[i + 1])[0] == "":
            below = _cells(lines[i + 1])[1:]
            i += 1
        body[row[0]] = (row[1:], below)
        i += 1
    footer = {c[0]: c[1:] for c in map(_cells, lines[rules[2] + 1 : rules[3]])}
    note = lines[rules[3] + 1]
    return {"header": header, "body": body, "footer": footer, "note": note, "lines": lines}


def _split(cell: str) -> tuple[float, str]:
    m = re.fullmatch(r"(-?\d+\.\d+)(\**)", cell)
    assert m, cell
    return float(m.group(1)), m.group(2)


def _stars(p: float) -> str:
    """Independent statement of the thresholds: *** p < 0.01, ** p < 0.05, * p < 0.10."""
    if not np.isfinite(p) or p >= 0.10:
        return ""
    return "*" * (1 + (p < 0.05) + (p < 0.01))


def test_significance_stars_at_the_thresholds():
    cases = {0.0: "***", 0.00999: "***", 0.01: "**", 0.0499: "**", 0.05: "*", 0.0999: "*"}
    cases |= {0.10: "", 0.5: "", float("nan"): ""}
    for p, s in cases.items():
        assert export.significance_stars(p) == s, p
    assert export.significance_stars(None) == ""


def test_latex_estimates_stars_and_standard_errors_equal_the_frames(res):
    table = parse_latex(res.to_latex())
    assert table["header"] == ["AAA", "BBB", "CCC"]
    cr = res.car()
    cells, ses = table["body"]["CAR[-1,+3]"]
    for firm, cell, se in zip(res.firms, cells, ses or [], strict=True):
        if firm == "CCC":  # a missing return in the window: no CAR, both cells empty
            assert cell == "" and se == ""
            continue
        value, stars = _split(cell)
        assert value == round(cr.estimate[firm], 4)
        assert stars == _stars(cr.pvalue[firm])
        assert se == f"({cr.std_error[firm]:.4f})"
    assert [_split(c)[1] for c in cells[:2]] == ["**", "*"]  # p = 0.0133 and 0.0575
    params = res._param_table.set_index(["firm", "term"])
    for term in ("alpha", "beta"):
        cells, ses = table["body"][term]
        for firm, cell, se in zip(res.firms, cells, ses or [], strict=True):
            value, stars = _split(cell)
            assert value == round(res.params.loc[firm, term], 4)
            assert stars == _stars(params.loc[(firm, term), "pvalue"])
            assert se == f"({params.loc[(firm, term), 'std_error']:.4f})"
    assert [_split(c)[1] for c in table["body"]["beta"][0]] == ["***"] * 3
    foot = table["footer"]
    assert foot["N"] == [str(n) for n in res.fit_stats["n_estimation"]] == ["240", "238", "240"]
    assert foot["Window"] == ["[-1,+3]"] * 3
    assert foot["Day 0"] == ["2023-10-17"] * 3
    assert foot["Model"] == [r"market\_model (SPY)"] * 3
    note = table["note"]
    assert "Standard errors in parentheses." in note
    assert r"* $p<0.10$, ** $p<0.05$, *** $p<0.01$" in note


def test_param_standard_errors_are_statsmodels_ols(px, res, fm):
    r = px.pct_change(fill_method=None)
    d0 = px.index.get_loc(pd.Timestamp(EVENT))
    est = r.iloc[d0 - 250 : d0 - 10]
    pt = res._param_table.set_index(["firm", "term"])
    for firm in res.firms:  # BBB's two missing returns are dropped, as statsmodels' missing='drop'
        ok = est[[firm, "SPY"]].dropna()
        fit = sm.OLS(ok[firm], sm.add_constant(ok["SPY"])).fit()
        for term, name in (("alpha", "const"), ("beta", "SPY")):
            assert pt.loc[(firm, term), "estimate"] == pytest.approx(fit.params[name], rel=1e-9)
            assert pt.loc[(firm, term), "std_error"] == pytest.approx(fit.bse[name], rel=1e-9)
            assert pt.loc[(firm, term), "tstat"] == pytest.approx(fit.tvalues[name], rel=1e-9)
            assert pt.loc[(firm, term), "pvalue"] == pytest.approx(fit.pvalues[name], rel=1e-7)
    ok = est[["AAA", "SPY", "SOXX"]].dropna()
    fit = sm.OLS(ok["AAA"], sm.add_constant(ok[["SPY", "SOXX"]])).fit()
    got = fm._param_table.set_index("term")
    assert list(got.index) == ["alpha", "beta_SPY", "beta_SOXX"]
    np.testing.assert_allclose(got["std_error"], fit.bse.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(got["pvalue"], fit.pvalues.to_numpy(), rtol=1e-7)


def test_constant_mean_se_is_the_standard_error_of_the_mean(px):
    cm = an.event_study("AAA", EVENT, model="constant_mean", prices=px)
    r = px["AAA"].pct_change(fill_method=None)
    d0 = px.index.get_loc(pd.Timestamp(EVENT))
    e = r.iloc[d0 - 250 : d0 - 10].dropna()
    row = cm._param_table.iloc[0]
    assert row["estimate"] == pytest.approx(e.mean(), rel=1e-12)
    assert row["std_error"] == pytest.approx(e.std(ddof=1) / np.sqrt(len(e)), rel=1e-10)
    ma = an.event_study("AAA", EVENT, model="market_adjusted", prices=px)
    assert ma._param_table.empty
    assert list(parse_latex(ma.to_latex())["body"]) == ["CAR[-1,+3]"]


def test_latex_table_combines_results_under_their_labels(res, fm):
    text = export.latex_table({"E02": fm, "E08": res}, digits=3)
    lines = text.splitlines()
    assert lines[0] == r"\begin{tabular}{lcccc}"
    assert lines[2] == r" & \multicolumn{1}{c}{E02} & \multicolumn{3}{c}{E08} \\"
    assert lines[3] == r"\cline{2-2} \cline{3-5}"
    table = parse_latex("\n".join(lines[:2] + lines[4:]))
    assert table["header"] == ["AAA", "AAA", "BBB", "CCC"]
    body = table["body"]
    assert list(body) == ["CAR[-1,+3]", "alpha", r"beta\_SPY", r"beta\_SOXX", "beta"]
    # a term a result does not have stays empty: fm has no 'beta', res no 'beta_SPY'
    assert body["beta"][0][0] == "" and body[r"beta\_SPY"][0][1:] == ["", "", ""]
    assert _split(body["CAR[-1,+3]"][0][0])[0] == round(fm.car().estimate["AAA"], 3)
    assert _split(body["CAR[-1,+3]"][0][1])[0] == round(res.car().estimate["AAA"], 3)
    assert (
        table["footer"]["Model"] == [r"factor\_model (SPY + SOXX)"] + [r"market\_model (SPY)"] * 3
    )


def test_latex_file_caption_and_bad_input(res, tmp_path):
    out = tmp_path / "car.tex"
    text = res.car().to_latex(out, caption="CAR around E08 (5% jump)", label="tab:car")
    assert out.read_text(encoding="utf-8") == text
    assert text.startswith("\\begin{table}\n\\centering\n\\begin{tabular}{lccc}")
    assert "\\caption{CAR around E08 (5\\% jump)}\n\\label{tab:car}\n\\end{table}\n" in text
    with pytest.raises(SpecificationError, match="mapping of label"):
        export.latex_table([res])
    with pytest.raises(SpecificationError, match="no results"):
        export.latex_table({})
    with pytest.raises(SpecificationError, match="'x' is DataFrame.*no paper table"):
        export.latex_table({"x": pd.DataFrame()})
    with pytest.raises(SpecificationError, match="digits"):
        res.to_latex(digits=-1)
    with pytest.raises(SpecificationError, match="folder .* does not exist"):
        res.to_latex(tmp_path / "missing" / "t.tex")


def test_test_table_latex_has_statistics_without_parentheses(res):
    tt = res.car().tests()
    table = parse_latex(tt.to_latex())
    assert table["header"] == ["statistic"]
    frame = tt.to_frame()
    for name, (cells, below) in table["body"].items():
        key = name.replace(r"\_", "_")
        stat, p = frame.loc[key, "stat"], frame.loc[key, "pvalue"]
        assert below is None
        if np.isfinite(stat):
            assert _split(cells[0]) == (round(stat, 4), _stars(p))
        else:
            assert cells == [""]
    assert "Standard errors" not in table["note"]
    assert table["footer"]["N"] == ["2"]  # CCC has no complete CAR: two firms tested


def test_summary_as_latex_holds_the_summary_tables(res):
    text = res.summary().as_latex()
    assert text.startswith("\\section*{Event study results}\n")
    assert "Model & market\\_model (SPY) \\\\" in text
    row = next(x for x in text.splitlines() if x.startswith("AAA & "))
    cells = row.removesuffix(r" \\").split(" & ")
    head = next(x for x in text.splitlines() if x.startswith("firm & alpha"))
    col = head.removesuffix(r" \\").split(" & ").index("CAR")
    assert cells[col] == f"{res.car().estimate['AAA']:.4f}"
    assert text.count(r"\begin{tabular}") == text.count(r"\end{tabular}") == 3  # header, 2 tables
    assert "\\textasciicircum{}" in text  # the tests' variants hold '^', escaped


def test_latex_escape():
    assert export.latex_escape("beta_^NDX & 5% #1 {x} ~$") == (
        r"beta\_\textasciicircum{}NDX \& 5\% \#1 \{x\} \textasciitilde{}\$"
    )


# ---- CSV and Excel -------------------------------------------------------------------------------


def test_csv_round_trips(res, tmp_path):
    path = res.to_csv(tmp_path / "ar.csv")
    back = pd.read_csv(path, parse_dates=["date"])
    frame = res.to_frame()
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert back["date"].iloc[0] == pd.Timestamp("2023-10-16")  # day -1
    car = pd.read_csv(res.car().to_csv(tmp_path / "car.csv"))
    pd.testing.assert_frame_equal(car, res.car().to_frame().reset_index())
    assert list(car["firm"]) == ["AAA", "BBB", "CCC"] and car["car"].isna().tolist()[2]


def test_excel_sheets_equal_the_frames(res, tmp_path):
    path = res.to_excel(tmp_path / "study.xlsx")
    book = pd.read_excel(path, sheet_name=None)
    assert list(book) == ["ar_car", "car", "params", "fit", "firm_tests", "tests"]

    def same(sheet, frame):  # Excel keeps 15-16 significant digits; empty text reads as NaN
        got = book[sheet]
        want = export._tidy(frame)
        assert list(got.columns) == list(want.columns)
        for c in want.columns:
            if pd.api.types.is_float_dtype(want[c]):
                np.testing.assert_allclose(got[c], want[c], rtol=1e-15, atol=0, err_msg=c)
            elif pd.api.types.is_object_dtype(want[c]) or pd.api.types.is_string_dtype(want[c]):
                assert got[c].fillna("").astype(str).tolist() == want[c].astype(str).tolist()
            else:
                assert got[c].tolist() == want[c].tolist(), c

    same("ar_car", res.to_frame())
    same("car", res.car().to_frame())
    same("params", res._param_table)
    same("fit", res.fit_stats)
    same("firm_tests", res.firm_tests().to_frame())
    same("tests", res.car().tests().to_frame())
    one = pd.read_excel(res.car().tests().to_excel(tmp_path / "tests.xlsx"), sheet_name=None)
    assert list(one) == ["tests"]
    with pytest.raises(SpecificationError, match=r"\.xlsx files.*'study\.xls'"):
        res.to_excel(tmp_path / "study.xls")


class _Toy(export.ExportMixin):
    """A results class of someone else's: to_frame() plus the hook."""

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"gamma": [0.25, -0.5]}, index=pd.Index(["x", "y"], name="firm"))

    def _paper_table(self) -> export.PaperTable:
        est = pd.DataFrame(
            {
                "column": ["x", "y"],
                "term": "gamma",
                "estimate": [0.25, -0.5],
                "std_error": [0.1, 0.4],
                "pvalue": [0.012, 0.21],
            }
        )
        return export.PaperTable(est, pd.DataFrame({"x": ["10"], "y": ["12"]}, index=["N"]))


def test_another_results_class_adopts_the_mixin(tmp_path):
    toy = _Toy()
    table = parse_latex(toy.to_latex(digits=2))
    assert table["body"]["gamma"] == (["0.25**", "-0.50"], ["(0.10)", "(0.40)"])
    assert table["footer"] == {"N": ["10", "12"]}
    back = pd.read_excel(toy.to_excel(tmp_path / "toy.xlsx"), sheet_name="results")
    assert back.to_dict("list") == {"firm": ["x", "y"], "gamma": [0.25, -0.5]}
    assert pd.read_csv(toy.to_csv(tmp_path / "toy.csv")).equals(back)
    with pytest.raises(SpecificationError, match="no column.*pvalue"):
        export.PaperTable(pd.DataFrame({"column": [], "term": [], "estimate": []}))

    class Bare(export.ExportMixin):
        def to_frame(self):
            return pd.DataFrame()

    with pytest.raises(NotImplementedError, match="Bare has no paper table"):
        Bare().to_latex()


# ---- vector CAR figures ----------------------------------------------------------------------


def test_svg_car_figure_is_vector_with_the_band(res, tmp_path):
    path = plots.save_car_path(res, tmp_path / "car.svg")
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    assert root.findall(f".//{SVG}image") == []
    paths = root.findall(f".//{SVG}path")
    assert len(paths) > 20  # lines, markers, axes and text as paths
    # one 95% band per firm: a filled path (drawn through <use>) at the band's opacity
    xlink = "{http://www.w3.org/1999/xlink}href"
    ids = {p.get("id") for p in paths}
    bands = [u for u in root.iter(f"{SVG}use") if "fill-opacity: 0.15" in u.get("style", "")]
    assert len(bands) == 3 and all(u.get(xlink)[1:] in ids for u in bands)
    assert b"<image" not in path.read_bytes()
    assert plt.get_fignums() == []  # the figure is closed
    again = plots.save_car_path(res, tmp_path / "again.svg")
    assert again.read_bytes() == path.read_bytes()  # no date written: the same figure, same file


def test_pdf_and_eps_are_vector(res, tmp_path, caplog):
    pdf = plots.save_car_path(res, tmp_path / "car.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/Subtype /Image" not in pdf
    assert b"/CreationDate" not in pdf
    ax = plots.car_path(res)
    band = [c for c in ax.collections if c.get_alpha() == 0.15]
    assert len(band) == 3
    before = band[0].get_facecolor().copy()
    with caplog.at_level(logging.WARNING):
        eps = plots.save_figure(ax, tmp_path / "car.EPS").read_text(encoding="latin-1")
    assert eps.startswith("%!PS-Adobe-3.0 EPSF")
    assert "colorimage" not in eps and "transparency" not in caplog.text
    # the band was written opaque for PostScript and is as before afterwards
    assert band[0].get_alpha() == 0.15
    np.testing.assert_array_equal(band[0].get_facecolor(), before)
    plt.close(ax.figure)


def test_rasterized_artists_are_written_as_vectors(tmp_path):
    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1, 2], [0, 1, 0], rasterized=True)
    svg = plots.save_figure(fig, tmp_path / "r.svg").read_bytes()
    assert b"<image" not in svg and line.get_rasterized() is True
    plt.close(fig)


def test_raster_and_unknown_suffixes_and_images_are_refused(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    for name in ("car.png", "car.JPG", "car.tiff"):
        with pytest.raises(SpecificationError, match=r"raster format.*\.pdf, \.svg, \.eps"):
            plots.save_figure(ax, tmp_path / name)
    with pytest.raises(SpecificationError, match="cannot tell the format of 'car.txt'"):
        plots.save_figure(fig, tmp_path / "car.txt")
    with pytest.raises(SpecificationError, match="Figure or Axes"):
        plots.save_figure("car", tmp_path / "car.svg")
    with pytest.raises(SpecificationError, match="does not exist"):
        plots.save_figure(fig, tmp_path / "no" / "car.svg")
    ax.imshow(np.eye(3))
    with pytest.raises(SpecificationError, match="raster image.*AxesImage"):
        plots.save_figure(fig, tmp_path / "car.svg")
    assert not list(tmp_path.iterdir())
    plt.close(fig)


# ---- real data ---------------------------------------------------------------------------------


@pytest.mark.realdata
def test_latex_table_of_two_real_studies(real_prices):
    e02 = an.event_study("NVDA", event="E02", market="SPY")
    e08 = an.event_study(["NVDA", "AMD"], event="E08", market="SPY")
    table = parse_latex(
        "\n".join(
            line
            for line in export.latex_table({"E02": e02, "E08": e08}).splitlines()
            if "multicolumn{1}" not in line and "multicolumn{2}" not in line
            and not line.startswith(r"\cline")
        )
    )  # fmt: skip
    assert table["header"] == ["NVDA", "NVDA", "AMD"]
    cells = table["body"]["CAR[-1,+3]"]
    for cell, se, (r, firm) in zip(*cells, [(e02, "NVDA"), (e08, "NVDA"), (e08, "AMD")],
                                   strict=True):  # fmt: skip
        cr = r.car()
        assert _split(cell) == (round(cr.estimate[firm], 4), _stars(cr.pvalue[firm]))
        assert se == f"({cr.std_error[firm]:.4f})"
    assert table["footer"]["Day 0"] == ["2022-09-01", "2023-10-17", "2023-10-17"]
