"""The study notebooks: hardware_shocks, china_exposure and fact_check.

Static checks (committed without outputs, one commented ``parameters`` cell followed by the
``check-parameters`` cell, the proposed run matrix entries validate) run everywhere. The execution tests run each notebook through papermill
on the real prices (``real_prices``: the kernel inherits ANALYSIS_CACHE_DIR / ANALYSIS_PRICES_DIR
from os.environ) and compare the published headline numbers with figures computed here directly
from the CSV files, without the package.
"""

from __future__ import annotations

import csv
import html
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from analysis.reports.matrix import load_matrix, notebook_parameters
from analysis.reports.results import RESULTS_MIME, extract_results

pytestmark = pytest.mark.notebooks

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
DATA = REPO / "data"
OWN = ("hardware_shocks.ipynb", "china_exposure.ipynb", "fact_check.ipynb")
INLINE = "module://matplotlib_inline.backend_inline"

#: The run-matrix entries proposed for notebooks/runs.yaml (validated below).
RUNS_YAML = """\
- name: hardware_shocks
  notebook: hardware_shocks.ipynb
  title: Hardware price shocks around the October 2023 export rules
  parameters:
    rule_date: "2023-10-17"
- name: china_exposure
  notebook: china_exposure.ipynb
  title: Nvidia's China exposure and the market's verdict
  parameters:
    event_ids: [E02, E04, E08, E17, E18, E21]
    market: SPY
    window: "-1:3"
    min_confidence: medium
- name: fact_check
  notebook: fact_check.ipynb
  title: Fact-check of the article's numbers
"""


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# --------------------------------------------------------------------------- static


@pytest.mark.parametrize("name", OWN)
def test_committed_without_outputs_and_one_commented_parameters_cell(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code), name
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{name}: {len(tagged)} cells tagged 'parameters'"
    lines = [x for x in tagged[0].source.splitlines() if x.strip()]
    declared = notebook_parameters(NOTEBOOKS / name)
    assert len(declared) == len(lines)
    for line in lines:
        head, sep, comment = line.partition("  # ")
        assert sep and comment.strip(), f"{name}: parameter line without a comment: {line!r}"
        pname = head.split(":")[0].strip()
        assert declared[pname].kind is not None, f"{name}: {pname} has no readable type"
    # the injected parameters are checked at once; the page calls run_facts at the top and
    # publishes its headline numbers at the end
    assert code[1].get("id") == "check-parameters"
    assert "check_parameters(globals())" in code[1].source
    sources = [c.source for c in code]
    assert "run_facts(" in sources[3] and "publish_results(" in sources[-1]
    assert not any("print(" in s for s in sources)


def test_proposed_run_matrix_entries_validate(tmp_path):
    for name in OWN:
        shutil.copy(NOTEBOOKS / name, tmp_path / name)
    (tmp_path / "runs.yaml").write_text(RUNS_YAML)
    runs = load_matrix(tmp_path / "runs.yaml")
    assert [r.name for r in runs] == ["hardware_shocks", "china_exposure", "fact_check"]


# --------------------------------------------------------------------------- execution


def _papermill(name: str, out: Path, parameters: dict | None = None) -> None:
    import papermill

    papermill.execute_notebook(
        str(NOTEBOOKS / name),
        str(out / name),
        parameters=parameters or {},
        kernel_name="python3",
        language="python",
        cwd=str(NOTEBOOKS),
        progress_bar=False,
        log_output=False,
        execution_timeout=300,
    )


def _execute(name: str, out: Path, parameters: dict | None = None):
    """Run ``name`` with papermill from notebooks/; return (notebook, published results)."""
    _papermill(name, out, parameters)
    nb = nbformat.read(out / name, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
    assert not errors, errors
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"{name} wrote to stderr (a reader would see it): {stderr}"
    stdout = [o.text for o in outputs if o.output_type == "stream"]
    assert not stdout, f"{name} printed: {stdout}"
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert any(RESULTS_MIME in o.get("data", {}) for o in last.outputs)
    results = extract_results(nb)
    assert results is not None
    return nb, results


def _figures(nb) -> int:
    return sum(
        "image/png" in o.get("data", {})
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )


@pytest.fixture
def kernel_env(real_prices, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", INLINE)  # CI sets Agg, which would drop the figures
    monkeypatch.delenv("ANALYSIS_HARDWARE_DIR", raising=False)
    return real_prices


def _csv_close(prices_dir: Path, file: str, column: str = "close") -> pd.Series:
    f = pd.read_csv(prices_dir / file, parse_dates=["date"], index_col="date")
    return f[column]


@pytest.mark.realdata
def test_hardware_shocks_notebook(kernel_env, shared_prices_dir, tmp_path):
    nb, res = _execute("hardware_shocks.ipynb", tmp_path)
    assert _figures(nb) == 2  # the retail figure is skipped without a series folder
    hw = {r["obs_id"]: r for r in _rows("hardware_prices.csv")}
    # A800: the article's 80,000 (April 2023) -> 300,000 CNY (20 October 2023)
    cost, mark = float(hw["H01"]["price_low"]), float(hw["H02"]["price_low"])
    assert res["a800_shock_pct"] == round(100 * (mark / cost - 1), 1) == 275.0
    assert res["a800_shock_observations"] == "H02 vs H01"
    assert res["a800_holder_gain_cny"] == 1000 * (mark - cost) == 220_000_000
    fx = _csv_close(shared_prices_dir, "CNY_X.csv").dropna()
    fx_cost = fx.loc[:"2023-04-01"]  # 2023-04-01 is a Saturday: the last close before it
    fx_mark = fx.loc[:"2023-10-20"]
    assert res["holder_cost_fx_date"] == f"{fx_cost.index[-1]:%Y-%m-%d}" == "2023-03-31"
    assert res["holder_mark_fx_date"] == "2023-10-20"
    assert res["holder_cost_usd_cny"] == pytest.approx(fx_cost.iloc[-1], abs=5e-5)
    assert res["holder_mark_usd_cny"] == pytest.approx(fx_mark.iloc[-1], abs=5e-5)
    usd = 1000 * mark / fx_mark.iloc[-1] - 1000 * cost / fx_cost.iloc[-1]
    assert res["a800_holder_gain_usd"] == pytest.approx(usd, abs=0.5)
    # RTX 4090 after the rule vs the China MSRP (H06, 12,999 CNY)
    msrp = float(hw["H06"]["price_low"])
    post = [
        r
        for r in hw.values()
        if r["product"] == "RTX 4090"
        and r["is_msrp"] == "false"
        and r["currency"] == "CNY"
        and r["unit_kind"] == "per_card"
        and r["date"] >= "2023-10-17"
        and r["date_precision"] != "before_day"
    ]
    top = max(post, key=lambda r: float(r["price_high"]))
    top_ind = max(
        (r for r in post if r["confidence_level"] != "article_claim"),
        key=lambda r: float(r["price_high"]),
    )
    assert res["rtx4090_peak_obs_id"] == top["obs_id"] == "H04"
    assert res["rtx4090_peak_vs_msrp_pct"] == round(100 * (50_000 / msrp - 1), 1) == 284.6
    assert res["rtx4090_peak_independent_obs_id"] == top_ind["obs_id"] == "H10"
    assert res["rtx4090_peak_vs_msrp_pct_independent"] == round(
        100 * (float(top_ind["price_high"]) / msrp - 1), 1
    )
    assert res["us_retail_compared"] is False
    assert res["us_retail_rtx4090_excess_change_pct"] is None
    assert "Skipped:" in str(nb.cells[-3].outputs)  # the reader is told how to enable it


@pytest.mark.realdata
def test_hardware_shocks_notebook_with_us_retail(kernel_env, tmp_path, shared_hardware_dir):
    nb, res = _execute(
        "hardware_shocks.ipynb", tmp_path, {"hardware_dir": str(shared_hardware_dir)}
    )
    assert _figures(nb) == 3
    s = pd.read_csv(shared_hardware_dir / "amazon_us_keepa_buybox_daily.csv", parse_dates=["date"])
    ev = pd.Timestamp("2023-10-17")
    window = pd.Timedelta(days=30)

    def change(product: str) -> float:
        x = s[s["product"] == product]
        before = x[(x["date"] >= ev - window) & (x["date"] < ev)]["price"].median()
        after = x[(x["date"] >= ev) & (x["date"] < ev + window)]["price"].median()
        return 100 * (after / before - 1)

    controls = [
        "GeForce RTX 3090",
        "GeForce RTX 3090 Ti",
        "GeForce RTX 3070",
        "GeForce RTX 4060 Ti",
    ]
    treated = change("GeForce RTX 4090")
    excess = treated - float(np.median([change(p) for p in controls]))
    assert res["us_retail_compared"] is True
    assert res["us_retail_rtx4090_change_pct"] == pytest.approx(treated, abs=0.006)
    assert res["us_retail_rtx4090_excess_change_pct"] == pytest.approx(excess, abs=0.006)
    assert res["us_retail_rtx4090_excess_change_pct"] == pytest.approx(-4.18, abs=0.01)


@pytest.mark.realdata
def test_china_exposure_notebook(kernel_env, shared_prices_dir, tmp_path):
    events = ["E08", "E18"]
    nb, res = _execute("china_exposure.ipynb", tmp_path, {"event_ids": events})
    assert _figures(nb) == 3
    # China share FY2023 on the billing basis, straight from the committed table
    rev = [
        r
        for r in _rows("revenue_geography.csv")
        if r["fiscal_year"] == "FY2023" and r["presentation"] == "as_reported"
    ]
    by_region = {r["region"]: float(r["revenue"]) for r in rev}
    share = by_region["China (including Hong Kong)"] / by_region["Total"]
    assert res["china_share_fy2023_billing"] == pytest.approx(share, abs=1e-3)
    assert res["china_share_fy2023_billing"] == pytest.approx(0.2145, abs=1e-4)
    # E08 (day 0 2023-10-17), verdict window [-1,+3]: close 2023-10-13 -> close 2023-10-20,
    # in quoted (pre-2024-split) dollars = today's close x 10; 2.47bn shares (10-Q cover of
    # 2023-11-17, the nearest confirmed pre-split count); FY2023 China revenue 5,785m.
    close = _csv_close(shared_prices_dir, "NVDA.csv") * 10
    lost = 2_470_000_000 * (close["2023-10-13"] - close["2023-10-20"])
    multiple = lost / (by_region["China (including Hong Kong)"] * 1e6)
    assert res["implied_multiple_by_event"]["E08"] == pytest.approx(multiple, abs=0.006)
    assert res["market_value_lost_usd_bn_by_event"]["E08"] == pytest.approx(lost / 1e9, abs=0.06)
    # NVDA's E08 CAR[-1,+3]: market model on SPY, OLS over [-250,-11], simple returns of the
    # adjusted close, computed here with numpy
    adj = pd.concat(
        {s: _csv_close(shared_prices_dir, f"{s}.csv", "adj_close") for s in ("NVDA", "SPY")},
        axis=1,
    ).dropna()
    r = adj.pct_change().dropna()
    i = r.index.get_loc(pd.Timestamp("2023-10-17"))
    est, evt = r.iloc[i - 250 : i - 10], r.iloc[i - 1 : i + 4]
    beta, alpha = np.polyfit(est["SPY"], est["NVDA"], 1)
    car = float((evt["NVDA"] - alpha - beta * evt["SPY"]).sum())
    assert res["nvda_car_by_event"]["E08"] == pytest.approx(car, abs=6e-5)
    # the regression: the 3 firms whose shares are by billing location at medium confidence or
    # better (AMD, INTC, NVDA); bases are never mixed
    assert res["regression_n_firms"] == 3
    assert res["regression_n"] == 3 * len(events)
    assert res["regression_ci_low"] < res["regression_slope"] < res["regression_ci_high"]
    assert res["regression_se_hc3"] > 0 and 0 <= res["regression_pvalue"] <= 1
    assert res["regression_bases"] == ["billing location"]
    assert res["regression_permutations"] == 6  # 3! assignments of the shares
    # the same regression through the API with the notebook's defaults
    import analysis as an
    from analysis.data import facts
    from analysis.studies import exposure

    snap = exposure.exposure_snapshot(facts.load_peers_exposure(), before="2023-10-17")
    cars = pd.concat(
        [
            an.event_study(list(snap["symbol"]), event=e, market="SPY", window="-1:3")
            .car("-1:3")
            .estimate.rename("car")
            .rename_axis("symbol")
            .reset_index()
            .assign(event_id=e)
            for e in events
        ],
        ignore_index=True,
    )
    reg = exposure.china_exposure_regression(
        cars, snap, min_confidence="medium", basis="billing location"
    )
    coef = reg.to_frame().set_index("term").loc["china_share"]
    assert res["regression_slope"] == pytest.approx(coef["coef"], abs=5e-5)
    assert res["regression_se_hc3"] == pytest.approx(coef["se_hc3"], abs=5e-5)


@pytest.mark.realdata
def test_fact_check_notebook(kernel_env, shared_prices_dir, tmp_path):
    nb, res = _execute("fact_check.ipynb", tmp_path)
    assert (res["claims"], res["consistent"], res["inconsistent"], res["not_verifiable"]) == (
        20,
        11,
        5,
        4,
    )
    verdicts = {k.removeprefix("verdict_"): v for k, v in res.items() if k.startswith("verdict_")}
    assert len(verdicts) == 20
    assert sorted(k for k, v in verdicts.items() if v == "inconsistent") == [
        "C01",
        "C03",
        "C11",
        "C13",
        "C14",
    ]
    assert sorted(k for k, v in verdicts.items() if v == "not verifiable") == [
        "C06",
        "C08",
        "C19",
        "C20",
    ]
    claims = {r["claim_id"]: r for r in _rows("article_claims.csv")}
    # C01: $446 vs the quoted close of 2023-10-17 (today's close x 10), tolerance $1
    close = _csv_close(shared_prices_dir, "NVDA.csv")["2023-10-17"] * 10
    assert close == pytest.approx(439.38, abs=0.005)
    assert abs(float(claims["C01"]["claimed_value"]) - close) > 1
    # C11: "about 40%" vs FY2023 China / total, tolerance 5 percentage points
    rev = {
        r["region"]: float(r["revenue"])
        for r in _rows("revenue_geography.csv")
        if r["fiscal_year"] == "FY2023"
    }
    share = rev["China (including Hong Kong)"] / rev["Total"]
    assert abs(100 * share - 100 * float(claims["C11"]["claimed_value"])) > 5
    # C13: 555.9 is the SIA world figure for 2021, not 2022
    sia = {r["metric_id"]: float(r["value"]) for r in _rows("market_context.csv")}
    assert float(claims["C13"]["claimed_value"]) == sia["SIA_SALES_WORLD_2021"]
    assert abs(float(claims["C13"]["claimed_value"]) / sia["SIA_SALES_WORLD_2022"] - 1) > 0.01


EVIL = "<script>window.fcxss=1</script>"


@pytest.mark.realdata
def test_fact_check_shows_claim_texts_as_text(kernel_env, tmp_path, monkeypatch):
    """A claim's texts reach the page escaped: in the table of every claim and in the findings."""
    from analysis.reports.site import render_run_page

    home = tmp_path / "home"
    shutil.copytree(DATA, home / "data")
    path = home / "data" / "article_claims.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    (c01,) = [r for r in rows if r["claim_id"] == "C01"]
    sentence = c01["quote_zh"]  # shared by the claims of one sentence (C01 to C04)
    c01["gloss_en"] = f"{EVIL} {c01['gloss_en']}"
    same = [r for r in rows if r["quote_zh"] == sentence]
    assert [r["claim_id"] for r in same] == ["C01", "C02", "C03", "C04"]
    for row in same:
        row["quote_zh"] = f"{EVIL} {sentence}"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setenv("ANALYSIS_HOME", str(home))
    nb, res = _execute("fact_check.ipynb", tmp_path, {"highlight_claims": ["C01", "C11"]})
    assert res["verdict_C01"] == "inconsistent" and res["claims"] == 20
    page = render_run_page(nb, name="fact_check", title="Fact-check", status="ok")
    assert EVIL not in page
    escaped = html.escape(EVIL)
    # four quotes and one gloss in the table of every claim, the gloss in the findings
    assert page.count(escaped) == 6
    findings = next(c for c in nb.cells if c.get("id") == "fc-11")
    (markdown,) = [o.data["text/markdown"] for o in findings.outputs]
    assert markdown.splitlines()[0].startswith(f"- **C01** ({escaped} Hit by the new rules")
    assert markdown.splitlines()[1].startswith("- **C11** (")


@pytest.mark.realdata
def test_fact_check_with_an_unknown_claim_names_it(kernel_env, tmp_path):
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError) as info:
        _papermill("fact_check.ipynb", tmp_path, {"highlight_claims": ["C01", "C99"]})
    assert info.value.ename == "SpecificationError"
    assert info.value.evalue.startswith("unknown claim id(s) C99; valid claim ids: C01, C02, ")
    assert info.value.evalue.endswith(", C20")
