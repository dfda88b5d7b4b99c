"""The site's front page: the run marked ``front_page`` becomes ``index.html`` (links rewritten
for the site root, a compact table of every report appended), the build status moves to
``build.html``; without a usable front run the status page is the front page. Also the figure
formatting of the compact table and the commands that regenerate a run."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from analysis.reports import fingerprint
from analysis.reports.frontpage import format_figure, front_page_html, reports_table_html
from analysis.reports.matrix import load_matrix, run_commands
from analysis.reports.runner import build_reports
from analysis.reports.site import IndexEntry
from analysis.reports.sitefolder import SITE_MARKER, ReportBuildError

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
MATRIX = """\
- name: front
  notebook: results.ipynb
  title: The findings
  front_page: true
  parameters: {n: 3, label: front}
- name: other
  notebook: results.ipynb
  title: Another report
  parameters: {n: 4, scale: 0.5, label: "x y"}
- name: bad
  notebook: fails.ipynb
  title: Division by zero
"""


def _project(tmp_path: Path, matrix: str) -> Path:
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "data" / "events.csv").write_text("id,date\nE1,2023-10-17\n")
    shutil.copytree(FIXTURES, project / "notebooks")
    (project / "notebooks" / "runs.yaml").write_text(matrix)
    return project


@pytest.fixture
def env(tmp_path, monkeypatch):
    def make(matrix: str = MATRIX) -> Path:
        project = _project(tmp_path, matrix)
        monkeypatch.setenv("ANALYSIS_HOME", str(project))
        monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(project / "cache"))
        monkeypatch.setenv("ANALYSIS_OFFLINE", "1")
        monkeypatch.setenv("MPLBACKEND", "Agg")
        monkeypatch.delenv("ANALYSIS_PRICES_DIR", raising=False)
        monkeypatch.delenv("ANALYSIS_REPORTS_DIR", raising=False)
        monkeypatch.setattr(fingerprint, "source_digest", lambda: "0" * 64)
        return project

    return make


def _hrefs(page: str) -> list[str]:
    return [
        h for h in re.findall(r'href="([^"#]+)"', page) if not h.startswith(("http:", "https:"))
    ]


@pytest.mark.notebooks
def test_front_run_is_the_index_and_the_status_moves_to_build_html(env):
    project = env()
    result = build_reports(jobs=2, progress=False)
    site = project / "reports"
    assert {o.name: o.status for o in result.outcomes} == {
        "front": "ok",
        "other": "ok",
        "bad": "failed",
    }
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "Synthetic report" in index  # the front run's notebook
    assert 'id="every-report"' in index and 'href="build.html"' in index
    # the compact table: every run, its figures formatted, the failed one marked
    table = index[index.index('id="every-report"') :]
    assert 'href="front/index.html">The findings' in table and "Another report" in table
    # no index_keys published: the first four figures (other: mean 0.5 * (0+1+2+3) / 4)
    assert "mean <b>0.75</b> &middot; n <b>4</b>" in table
    assert "failed" in table[table.index("Division by zero") :]
    # every link of the root copy resolves from the site root; the back link is gone
    for href in _hrefs(index):
        assert (site / href).exists(), href
    assert "all reports</a>" not in index
    # the run's own page keeps links relative to its folder
    own = (site / "front" / "index.html").read_text(encoding="utf-8")
    assert 'href="../index.html"' in own and 'id="every-report"' not in own
    status = (site / "build.html").read_text(encoding="utf-8")
    assert "<code>bad</code>" in status and "<code>front</code>" in status
    manifest = json.loads((site / SITE_MARKER).read_text())
    assert manifest["files"] == ["build.html", "index.html"]


@pytest.mark.notebooks
def test_a_failed_front_run_leaves_the_status_page_in_front(env):
    project = env(
        MATRIX.replace(
            "notebook: results.ipynb\n  title: The findings",
            "notebook: fails.ipynb\n  title: The findings",
        ).replace("  parameters: {n: 3, label: front}\n", "")
    )
    build_reports(jobs=1, progress=False)
    site = project / "reports"
    assert (site / "index.html").read_bytes() == (site / "build.html").read_bytes()


def test_a_build_page_the_build_did_not_make_is_never_overwritten(env):
    project = env()
    site = project / "reports"
    site.mkdir()
    (site / SITE_MARKER).write_text(json.dumps({"format": 1, "files": ["index.html"], "runs": {}}))
    (site / "build.html").write_text("my notes")
    with pytest.raises(
        ReportBuildError, match="build.html exists and was not made by the report build"
    ):
        build_reports(jobs=1, progress=False)
    assert (site / "build.html").read_text() == "my notes"


def test_two_front_pages_are_refused(env):
    project = env(
        MATRIX.replace("  title: Another report\n", "  title: Another report\n  front_page: true\n")
    )
    from analysis.reports.matrix import RunMatrixError

    with pytest.raises(RunMatrixError) as info:
        load_matrix(project / "notebooks" / "runs.yaml")
    assert info.value.problems == [
        "front_page: true is set on front, other; one run can be the front page"
    ]


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("car", -0.06893, "-6.9%"),
        ("alt_car", 0.0628, "+6.3%"),
        ("primary_mean_car", -0.03205, "-3.2%"),
        ("pvalue", 0.14889, "0.149"),
        ("kp_bmp_pvalue", 0.0004, "< 0.001"),
        ("primary_min_pvalue_holm", 0.30271, "0.303"),
        ("retail_effect_pct", 5.3, "+5.3%"),
        ("rbar", 0.41524, "0.4152"),
        ("n_firms", 13, "13"),
        ("day0", "2023-10-17", "2023-10-17"),
        ("pvalue", None, "-"),
        ("car", float("nan"), "-"),
    ],
)
def test_format_figure(key, value, text):
    assert format_figure(key, value) == text


def test_front_page_html_rewrites_links_for_the_site_root():
    page = (
        '<html><body><nav><a href="../index.html">&larr; all reports</a>'
        '<a href="executed.ipynb">notebook</a><a href="results.json">results.json</a></nav>'
        '<p><a href="../nvda_e08/index.html">E08</a> <a href="#sec">here</a></p></body></html>'
    )
    entry = IndexEntry(
        "nvda_e08",
        "NVDA E08",
        "event_study.ipynb",
        "ok",
        {},
        {"car": -0.0689, "index_keys": ["car"]},
        has_page=True,
    )
    out = front_page_html(page, "overview", [entry])
    assert _hrefs(out) == [
        "overview/executed.ipynb",
        "overview/results.json",
        "nvda_e08/index.html",
        "nvda_e08/index.html",
        "build.html",
    ]
    assert '<a href="#every-report">every report</a>' in out and 'href="#sec"' in out
    assert out.index("</table>") < out.index("</body>")
    assert reports_table_html([entry]).count("<tr>") == 2 and "CAR <b>-6.9%</b>" in out


def test_run_commands_regenerate_with_the_runs_parameters(env):
    project = env()
    runs = {r.name: r for r in load_matrix(project / "notebooks" / "runs.yaml")}
    build, papermill = run_commands(runs["other"])
    assert build == "python -m analysis report --only other"
    assert papermill == (
        "papermill notebooks/results.ipynb other.ipynb -p n 4 -p scale 0.5 -r label 'x y'"
    )


def test_run_commands_of_the_project_matrix():
    runs = {
        r.name: r
        for r in load_matrix(Path(__file__).resolve().parents[1] / "notebooks" / "runs.yaml")
    }
    assert run_commands(runs["nvda_e08"])[1] == (
        "papermill notebooks/event_study.ipynb nvda_e08.ipynb -r symbol NVDA -r event E08 "
        "-p quoted_price 446.0 -r quote_date 2023-10-17"
    )
    assert run_commands(runs["china_exposure"])[1].startswith(
        "papermill notebooks/china_exposure.ipynb china_exposure.ipynb -y '{event_ids: [E02, E04, E08,"
    )
