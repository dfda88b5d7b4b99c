"""A real report build of three fixture runs (papermill + nbconvert), then rebuilds.

The module builds once (``good`` publishes results and draws a figure, ``bad`` raises,
``slow`` exceeds its timeout) into a private project; each later test copies that site.
The package-source part of the fingerprint is pinned (other people edit ``src/`` while tests
run); test_reports_units checks that it follows the source.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from analysis.cli import report as report_cli
from analysis.errors import SpecificationError
from analysis.reports import execution, fingerprint
from analysis.reports.runner import build_reports
from analysis.reports.sitefolder import SITE_MARKER, ReportBuildError

pytestmark = pytest.mark.notebooks

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
EVIL = "<script>alert(1)</script>"
MATRIX = f"""\
- name: good
  notebook: results.ipynb
  title: "{EVIL} & figures"
  parameters: {{n: 4, scale: 2.5, label: "a<b>&c"}}
- name: bad
  notebook: fails.ipynb
  title: Division by zero
- name: slow
  notebook: slow.ipynb
  timeout: 1
"""


def _environment(mp: pytest.MonkeyPatch, project: Path) -> None:
    mp.setenv("ANALYSIS_HOME", str(project))
    mp.setenv("ANALYSIS_CACHE_DIR", str(project / "cache"))
    mp.setenv("ANALYSIS_OFFLINE", "1")
    mp.setenv("MPLBACKEND", "Agg")  # as in CI: figures must still reach the report
    mp.delenv("ANALYSIS_PRICES_DIR", raising=False)
    mp.delenv("ANALYSIS_REPORTS_DIR", raising=False)
    mp.setattr(fingerprint, "source_digest", lambda: "0" * 64)


def _cli(*argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    report_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", *argv])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = args.func(args)
    return code, out.getvalue(), err.getvalue()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    project = tmp_path_factory.mktemp("project")
    (project / "data").mkdir()
    (project / "data" / "events.csv").write_text("id,date\nE1,2023-10-17\n")
    shutil.copytree(FIXTURES, project / "notebooks")
    (project / "notebooks" / "runs.yaml").write_text(MATRIX)
    with pytest.MonkeyPatch.context() as mp:
        _environment(mp, project)
        code, stdout, stderr = _cli("--jobs", "2")  # default matrix and out via ANALYSIS_HOME
    site = project / "reports"
    return SimpleNamespace(
        project=project, site=site, code=code, stdout=stdout, stderr=stderr, files=_snapshot(site)
    )


@pytest.fixture
def env(built, monkeypatch):
    _environment(monkeypatch, built.project)
    return built


@pytest.fixture
def site_copy(env, tmp_path):
    out = tmp_path / "site"
    shutil.copytree(env.site, out)
    return out


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.classes: list[str] = []
        self.hrefs: list[str] = []
        self.imgs: list[str] = []
        self.text: list[str] = []  # visible text (not inside <style> or <script>)
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._hidden += 1
        a = dict(attrs)
        self.classes += (a.get("class") or "").split()
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag == "img":
            self.imgs.append(a.get("src") or "")

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def _parse(path: Path) -> _Collector:
    c = _Collector()
    c.feed(path.read_text(encoding="utf-8"))
    return c


def _row(index_html: str, name: str) -> str:
    start = index_html.index(f"<code>{name}</code>")
    return index_html[index_html.rfind("<tr>", 0, start) : index_html.index("</tr>", start)]


# --------------------------------------------------------------------------- the first build


def test_build_reports_exit_code_and_progress(built):
    assert built.code == 1
    assert built.stdout.startswith(f"{built.site / 'index.html'}: 1 ok, 2 failed")
    assert "good: ok in" in built.stderr
    assert (
        "bad: FAILED in" in built.stderr and "ZeroDivisionError: division by zero" in built.stderr
    )
    assert (
        f"failed: bad: ZeroDivisionError: division by zero (see {built.site}/bad/index.html)"
        in (built.stderr)
    )
    assert "slow: FAILED in" in built.stderr and "CellTimeoutError" in built.stderr
    assert "report: 100%" in built.stderr  # the tqdm bar
    assert "[IPKernelApp]" not in built.stderr  # kernel noise kept out of the progress display
    for name in ("good", "bad", "slow"):
        for f in ("executed.ipynb", "index.html", "results.json", "fingerprint.txt"):
            assert (built.site / name / f).is_file(), (name, f)
    assert (built.site / SITE_MARKER).is_file()
    leftovers = [p.name for p in built.site.parent.iterdir() if p.name.startswith("reports.")]
    assert leftovers == []


def test_good_run_page_has_no_code_and_embeds_its_figure(built):
    page = built.site / "good" / "index.html"
    text = page.read_text(encoding="utf-8")
    parsed = _parse(page)
    assert "jp-OutputArea-output" in parsed.classes  # outputs are there ...
    assert parsed.classes.count("jp-CodeCell") == 6
    # ... but no code: every code cell is marked noInput, no prompt, no editor
    assert parsed.classes.count("jp-mod-noInput") == 6
    for cls in ("jp-InputPrompt", "jp-OutputPrompt", "jp-CodeMirrorEditor", "highlight"):
        assert cls not in parsed.classes, cls
    visible = "".join(parsed.text)
    assert "In\xa0[" not in visible and "In [" not in visible and "Out[" not in visible
    assert "CODE-MARKER-7f3a" not in text and "values = [scale" not in text
    assert "Synthetic report" in visible  # markdown narrative stays
    assert "Headline figures" in visible and "15" in visible
    pngs = [s for s in parsed.imgs if s.startswith("data:image/png;base64,")]
    assert len(pngs) == 1 and len(pngs[0]) > 2000
    assert not [s for s in parsed.imgs if not s.startswith("data:")]  # no external image files
    assert "analysis-results" in parsed.classes  # publish_results' table
    assert "git commit" in text and "unknown" in text  # run_facts (ANALYSIS_HOME is no repo)
    assert parsed.hrefs[:3] == ["../index.html", "executed.ipynb", "results.json"]


def test_results_json_of_the_good_run(built):
    raw = (built.site / "good" / "results.json").read_text(encoding="utf-8")
    # n=4, scale=2.5: values 0, 2.5, 5, 7.5
    assert json.loads(raw) == {
        "error": None,
        "name": "good",
        "notebook": "results.ipynb",
        "parameters": {"label": "a<b>&c", "n": 4, "scale": 2.5},
        "results": {
            "label": "a<b>&c",
            "mean": 3.75,
            "n": 4,
            "symbols": ["AAA", "BBB"],
            "third": 0.333333333333,
            "total": 15.0,
        },
        "status": "ok",
        "title": f"{EVIL} & figures",
    }
    assert '"third": 0.333333333333,' in raw and raw.endswith("}\n")
    assert "time" not in raw  # no timestamps, no durations


def test_failed_runs_are_marked_and_linked(built):
    index = (built.site / "index.html").read_text(encoding="utf-8")
    bad = _row(index, "bad")
    assert '<td class="status failed">failed' in bad
    assert "ZeroDivisionError: division by zero" in bad
    assert '<a href="bad/executed.ipynb">notebook</a>' in bad
    assert '<a href="bad/index.html">report</a>' in bad
    page = (built.site / "bad" / "index.html").read_text(encoding="utf-8")
    assert "This run failed: ZeroDivisionError: division by zero" in page
    assert "Execution using papermill encountered an exception here and stopped" in page
    assert "ZeroDivisionError" in page and "before the failure" in page
    doc = json.loads((built.site / "bad" / "results.json").read_text())
    assert doc["status"] == "failed" and doc["results"] is None
    assert doc["error"] == {"ename": "ZeroDivisionError", "evalue": "division by zero"}
    nb = json.loads((built.site / "bad" / "executed.ipynb").read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert [e["ename"] for e in errors] == ["ZeroDivisionError"]
    slow = json.loads((built.site / "slow" / "results.json").read_text())
    assert slow["status"] == "failed" and slow["error"]["ename"] == "CellTimeoutError"
    assert "after 1 seconds" in slow["error"]["evalue"]
    assert '<td class="status failed">failed' in _row(index, "slow")
    assert '<td class="status ok">ok' in _row(index, "good")


def test_every_link_resolves(built):
    pages = [built.site / "index.html"] + [built.site / n / "index.html" for n in ("good", "bad")]
    checked = 0
    for page in pages:
        for href in _parse(page).hrefs:
            if href.startswith(("http://", "https://", "#")):
                continue
            target = (page.parent / href).resolve()
            assert target.is_file(), (page, href)
            checked += 1
    assert checked >= 9 + 2 * 3


def test_titles_and_parameters_are_escaped(built):
    index = (built.site / "index.html").read_text(encoding="utf-8")
    page = (built.site / "good" / "index.html").read_text(encoding="utf-8")
    for text in (index, page):
        assert EVIL not in text
        assert html.escape(EVIL) in text
    assert "a&lt;b&gt;&amp;c" in index and "a<b>" not in index


# --------------------------------------------------------------------------- rebuilds


def test_forced_rebuild_gives_identical_results_json(env, site_copy):
    result = build_reports(out=site_copy, only=["good"], force=True, progress=False)
    assert [o.status for o in result.outcomes] == ["ok", "kept", "kept"]
    assert result.exit_code == 0
    for name in ("results.json", "fingerprint.txt"):
        assert (site_copy / "good" / name).read_bytes() == env.files[f"good/{name}"]
    assert (site_copy / "good" / "executed.ipynb").read_bytes() != env.files["good/executed.ipynb"]


def test_unchanged_rerun_skips(env, site_copy):
    code, stdout, stderr = _cli("--out", str(site_copy), "--only", "good")
    assert code == 0
    assert "good: skipped (unchanged)" in stderr
    index = (site_copy / "index.html").read_text()
    assert '<td class="status skipped-unchanged">skipped (unchanged)' in _row(index, "good")
    now = _snapshot(site_copy)
    assert {k: v for k, v in now.items() if k.startswith("good/")} == {
        k: v for k, v in env.files.items() if k.startswith("good/")
    }


def test_failed_run_is_never_skipped(env, site_copy, monkeypatch):
    executed = []
    real = execution._execute_one
    monkeypatch.setattr(
        execution, "_execute_one", lambda task: executed.append(task.name) or real(task)
    )
    result = build_reports(out=site_copy, only=["bad"], progress=False)
    assert executed == ["bad"]
    assert [o.status for o in result.outcomes] == ["kept", "failed", "kept"]
    assert result.exit_code == 1


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_interrupted_build_leaves_previous_site(env, site_copy, monkeypatch, exc):
    calls = []

    def half_way(task):
        calls.append(task.name)
        if len(calls) == 2:
            raise exc("stop")
        Path(task.dest).mkdir(parents=True, exist_ok=True)
        (Path(task.dest) / "index.html").write_text("half-built")
        return execution.RunOutcome(task.name, "ok")

    monkeypatch.setattr(execution, "_execute_one", half_way)
    with pytest.raises(exc):
        build_reports(out=site_copy, force=True, progress=False)
    assert calls == ["good", "bad"]
    assert _snapshot(site_copy) == env.files
    assert sorted(p.name for p in site_copy.parent.iterdir()) == ["site"]  # no temp folder left


def test_only_rebuilds_the_named_run_and_keeps_the_others(env, site_copy):
    matrix = env.project / "notebooks" / "runs_only.yaml"
    matrix.write_text(MATRIX.replace("{n: 4,", "{n: 3,"))
    code, stdout, stderr = _cli("--matrix", str(matrix), "--out", str(site_copy), "--only", "good")
    assert code == 0, stderr
    assert "good: ok in" in stderr and "bad:" not in stderr
    doc = json.loads((site_copy / "good" / "results.json").read_text())
    assert doc["parameters"]["n"] == 3
    assert doc["results"]["total"] == 7.5 and doc["results"]["mean"] == 2.5  # 0 + 2.5 + 5
    now = _snapshot(site_copy)
    for name in ("bad", "slow"):
        assert {k: v for k, v in now.items() if k.startswith(f"{name}/")} == {
            k: v for k, v in env.files.items() if k.startswith(f"{name}/")
        }
    index = (site_copy / "index.html").read_text()
    assert '<td class="status kept">kept<br><span class="note">previous build: failed</span>' in (
        _row(index, "bad")
    )
    assert "ZeroDivisionError" in _row(index, "bad")


def test_bad_requests_are_refused_before_running(env, tmp_path):
    with pytest.raises(SpecificationError) as info:
        build_reports(out=tmp_path / "x", only=["godo"], progress=False)
    assert str(info.value) == (
        f"--only godo: no run of that name in {env.project / 'notebooks' / 'runs.yaml'} "
        "(did you mean 'good'?); runs: good, bad, slow"
    )
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("precious")
    with pytest.raises(ReportBuildError) as info:
        build_reports(out=other, progress=False)
    assert str(info.value) == (
        f"--out {other} exists, is not empty and is not a report site (no .analysis-report-site "
        "file); choose a new or empty folder"
    )
    assert (other / "notes.txt").read_text() == "precious"
    with pytest.raises(SpecificationError, match=r"--jobs 0: give a number of parallel runs >= 1"):
        build_reports(out=tmp_path / "x", jobs=0, progress=False)
