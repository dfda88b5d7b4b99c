"""The event-study and peer-reaction notebooks, executed through the real report build on the
shared prices: headline numbers equal the engine's, pages have no code and embed their figures."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import analysis as an
from analysis.reports.runner import build_reports

pytestmark = [pytest.mark.notebooks, pytest.mark.realdata]

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
MATRIX = """\
- name: amd_e08
  notebook: event_study.ipynb
  title: "AMD around 2023-10-17 <small>"
  parameters: {symbol: AMD, event: "2023-10-17", market: SPY, quoted_price: 0.0, robustness: true}
- name: peers_small
  notebook: peer_reaction.ipynb
  parameters: {symbols: [NVDA, AMD, INTC, MU], event: E08, highlight: NVDA}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, shared_prices_dir):
    root = tmp_path_factory.mktemp("nbsite")
    nbdir = root / "notebooks"
    nbdir.mkdir()
    for name in ("event_study.ipynb", "peer_reaction.ipynb"):
        shutil.copy(NOTEBOOKS / name, nbdir / name)
    (nbdir / "runs.yaml").write_text(MATRIX)
    mp = pytest.MonkeyPatch()
    mp.setenv("ANALYSIS_CACHE_DIR", str(root / "cache"))
    mp.setenv("ANALYSIS_PRICES_DIR", str(shared_prices_dir))
    mp.setenv("ANALYSIS_OFFLINE", "1")
    mp.setenv("MPLBACKEND", "Agg")
    result = build_reports(matrix=nbdir / "runs.yaml", out=root / "site", jobs=2, progress=False)
    mp.undo()
    return root / "site", result


def test_build_ok(site):
    out, result = site
    assert result.exit_code == 0, [(o.name, o.status, o.error) for o in result.outcomes]
    assert {o.name: o.status for o in result.outcomes} == {"amd_e08": "ok", "peers_small": "ok"}


def test_event_study_headline_matches_engine(site, real_prices):
    out, _ = site
    doc = json.loads((out / "amd_e08" / "results.json").read_text())
    head = doc["results"]
    res = an.event_study("AMD", "2023-10-17", market="SPY", exclude="events,earnings")
    alt = an.event_study(
        "AMD", "2023-10-17", market="peers-ex-firm:semis", exclude="events,earnings"
    )
    assert head["day0"] == "2023-10-17"
    assert head["car"] == pytest.approx(res.car().estimate["AMD"], rel=1e-9)
    assert head["pvalue"] == pytest.approx(res.car().pvalue["AMD"], rel=1e-9)
    assert head["alt_car"] == pytest.approx(alt.car().estimate["AMD"], rel=1e-9)
    assert head["alt_pvalue"] == pytest.approx(alt.car().pvalue["AMD"], rel=1e-9)
    assert (head["benchmark"], head["alt_benchmark"]) == ("SPY", "peers-ex-firm:semis")
    assert (head["exclude"], head["n_excluded"]) == ("events,earnings", len(res.excluded))
    assert head["n_estimation"] == 240
    # 9 model/benchmark pairs plus peers-ex-firm for two models (AMD has no cited index weight,
    # so no SPY-ex-firm), x 4 windows x 2 estimations
    assert head["robustness_specs"] == 88


def test_peer_headline_matches_engine(site, real_prices):
    out, _ = site
    head = json.loads((out / "peers_small" / "results.json").read_text())["results"]
    res = an.event_study(["NVDA", "AMD", "INTC", "MU"], "E08", market="SPY", exclude="events")
    tt = res.car().tests().to_frame()
    assert head["caar"] == pytest.approx(res.car().caar, rel=1e-9)
    assert head["rbar"] == pytest.approx(tt.loc["kp_bmp", "rbar"], rel=1e-9)
    assert head["kp_bmp_pvalue"] == pytest.approx(tt.loc["kp_bmp", "pvalue"], rel=1e-9)
    assert head["n_firms"] == 4


@pytest.mark.parametrize("run,figures", [("amd_e08", 3), ("peers_small", 2)])
def test_pages_hide_code_and_embed_figures(site, run, figures):
    out, _ = site
    page = (out / run / "index.html").read_text()
    classes = " ".join(re.findall(r'class="([^"]*)"', page))
    assert "jp-InputPrompt" not in classes and "jp-CodeMirrorEditor" not in classes
    assert "import analysis as an" not in page  # no code cell text
    assert page.count("data:image/png;base64") >= figures
    assert "Run facts" in page and "What this shows" in page
    assert "Text(0.5" not in page  # no stray matplotlib return values
    assert "Traceback" not in page


def test_index_links_resolve_and_titles_escaped(site):
    out, _ = site
    index = (out / "index.html").read_text()
    # the index shows the run's chosen headline figures only
    assert "<code>sq_pvalue</code>" in index and "<code>bhar</code>" not in index
    assert "&lt;small&gt;" in index and "<small>" not in index
    for href in re.findall(r'href="([^"#]+)"', index):
        if href.startswith(("http:", "https:")):
            continue
        assert (out / href).exists(), href
