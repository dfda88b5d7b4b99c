"""The report site as a folder other files live in: the manifest of what the build made, runs
dropped from the matrix, an empty matrix, temporary folders of killed builds, path parameters.

A tiny synthetic notebook keeps the builds fast. The package-source part of the fingerprint is
pinned (other people edit ``src/`` while tests run).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from analysis.cli import main as cli_main
from analysis.reports import execution, fingerprint, sitefolder
from analysis.reports.matrix import RunMatrixError
from analysis.reports.runner import build_reports
from analysis.reports.sitefolder import SITE_MARKER, TEMP_MARKER

pytestmark = pytest.mark.notebooks

PROBE_PARAMETERS = """\
n = 1  # a number the run publishes
data_dir = ""  # a folder whose file names the run publishes (empty: none)
"""
PROBE_CODE = """\
import os
import sys

from analysis.reports.notebook import publish_results

publish_results({
    "n": n,
    "python": sys.executable,
    "data_dir": data_dir,
    "data_files": sorted(os.listdir(data_dir)) if data_dir else None,
})
"""
MATRIX = """\
- name: alpha
  notebook: probe.ipynb
  parameters: {n: 1}
- name: beta
  notebook: probe.ipynb
  parameters: {n: 2}
"""
BUILD_FILES = {"executed.ipynb", "fingerprint.txt", "index.html", "results.json"}


def write_probe(path: Path) -> None:
    """A notebook with a ``parameters`` cell and one cell publishing what the kernel saw."""
    nb = new_notebook(
        cells=[
            new_code_cell(PROBE_PARAMETERS, metadata={"tags": ["parameters"]}),
            new_code_cell(PROBE_CODE),
        ],
        metadata={
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
            }
        },
    )
    nbformat.write(nb, path)


def _environment(mp: pytest.MonkeyPatch, project: Path) -> None:
    mp.setenv("ANALYSIS_HOME", str(project))
    mp.setenv("ANALYSIS_CACHE_DIR", str(project / "cache"))
    mp.setenv("ANALYSIS_OFFLINE", "1")
    for name in ("ANALYSIS_PRICES_DIR", "ANALYSIS_HARDWARE_DIR", "ANALYSIS_REPORTS_DIR"):
        mp.delenv(name, raising=False)
    mp.setattr(fingerprint, "source_digest", lambda: "0" * 64)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (dot-folders included) by relative path, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli_main(["report", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _results(site: Path, run: str) -> dict:
    return json.loads((site / run / "results.json").read_text(encoding="utf-8"))["results"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A project with the probe notebook and a site of two runs, built once."""
    project = tmp_path_factory.mktemp("project")
    (project / "data").mkdir()
    (project / "data" / "events.csv").write_text("id,date\nE1,2023-10-17\n")
    (project / "notebooks").mkdir()
    write_probe(project / "notebooks" / "probe.ipynb")
    matrix = project / "notebooks" / "runs.yaml"
    matrix.write_text(MATRIX)
    site = project / "site"
    with pytest.MonkeyPatch.context() as mp:
        _environment(mp, project)
        result = build_reports(matrix=matrix, out=site, progress=False)
    assert [(o.name, o.status) for o in result.outcomes] == [("alpha", "ok"), ("beta", "ok")]
    return SimpleNamespace(project=project, matrix=matrix, site=site, files=snapshot(site))


@pytest.fixture
def env(built, monkeypatch):
    _environment(monkeypatch, built.project)
    return built


@pytest.fixture
def site(env, tmp_path):
    out = tmp_path / "site"
    shutil.copytree(env.site, out)
    return out


def _foreign(site: Path) -> dict[str, bytes]:
    """Files a user keeps in the site that no build made."""
    files = {
        "NOTES.txt": b"deploy notes\n",
        "assets/x.css": b"body{color:#222}\n",
        ".git/HEAD": b"ref: refs/heads/gh-pages\n",
        "CNAME": b"reports.example.org\n",
        "alpha/extra.txt": b"a note on alpha\n",
        "beta/extra.txt": b"a note on beta\n",
    }
    for rel, data in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(data)
    return files


def _manifest(site: Path) -> dict:
    return json.loads((site / SITE_MARKER).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the manifest


def test_first_build_writes_a_manifest_of_its_files(env):
    doc = _manifest(env.site)
    assert doc == {
        "files": ["build.html", "index.html"],
        "format": 1,
        "runs": {"alpha": sorted(BUILD_FILES), "beta": sorted(BUILD_FILES)},
        "written_by": "python -m analysis report",
    }
    assert set(env.files) == {SITE_MARKER, "build.html", "index.html"} | {
        f"{run}/{f}" for run in ("alpha", "beta") for f in BUILD_FILES
    }
    assert _results(env.site, "alpha")["n"] == 1 and _results(env.site, "beta")["n"] == 2


def test_rebuild_keeps_files_the_build_did_not_make(env, site, capsys):
    foreign = _foreign(site)
    code, out, err = _cli(capsys, "--matrix", str(env.matrix), "--out", str(site), "--force")
    assert code == 0, err
    assert "alpha: ok in" in err and "beta: ok in" in err
    now = snapshot(site)
    for rel, data in foreign.items():
        assert now[rel] == data, rel  # still there, byte-identical
    # the build's own files were rebuilt (a new executed notebook), the manifest lists only them
    assert now["alpha/executed.ipynb"] != env.files["alpha/executed.ipynb"]
    assert now["alpha/results.json"] == env.files["alpha/results.json"]
    assert _manifest(site)["runs"] == {"alpha": sorted(BUILD_FILES), "beta": sorted(BUILD_FILES)}
    assert sorted(p.name for p in site.parent.iterdir()) == ["site"]  # no temporary folder left

    # beta leaves the matrix: its build files go, the file someone added stays, the build says so
    one = env.project / "notebooks" / "alpha_only.yaml"
    one.write_text(MATRIX.split("- name: beta")[0])
    code, out, err = _cli(capsys, "--matrix", str(one), "--out", str(site))
    assert code == 0, err
    assert "alpha: skipped (unchanged)" in err
    assert (
        "beta: removed (no longer in the run matrix); kept files not made by the build: "
        "extra.txt\n" in err
    )
    assert out.startswith(f"{site / 'index.html'}: 1 skipped-unchanged, 1 removed (")
    after = snapshot(site)
    assert sorted(p.name for p in (site / "beta").iterdir()) == ["extra.txt"]
    for rel, data in foreign.items():
        assert after[rel] == data, rel
    assert {k: v for k, v in after.items() if k.startswith("alpha/")} == {
        k: v for k, v in now.items() if k.startswith("alpha/")
    }
    assert _manifest(site)["runs"] == {"alpha": sorted(BUILD_FILES)}
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "<code>alpha</code>" in index and "<code>beta</code>" not in index

    # beta is back (its folder holds only the note): rebuilt there, the note kept; alpha is
    # dropped and its folder, holding nothing else, goes entirely
    (site / "alpha" / "extra.txt").unlink()
    beta_only = env.project / "notebooks" / "beta_only.yaml"
    beta_only.write_text("- name: beta\n" + MATRIX.split("- name: beta\n")[1])
    code, out, err = _cli(capsys, "--matrix", str(beta_only), "--out", str(site))
    assert code == 0, err
    assert "beta: ok in" in err
    assert "alpha: removed (no longer in the run matrix)\n" in err
    assert not (site / "alpha").exists()
    assert sorted(p.name for p in (site / "beta").iterdir()) == sorted(BUILD_FILES | {"extra.txt"})
    assert (site / "beta" / "extra.txt").read_bytes() == foreign["beta/extra.txt"]
    assert _results(site, "beta")["n"] == 2
    assert _manifest(site)["runs"] == {"beta": sorted(BUILD_FILES)}
    for rel in ("NOTES.txt", "assets/x.css", ".git/HEAD", "CNAME"):
        assert (site / rel).read_bytes() == foreign[rel], rel
    assert sorted(p.name for p in site.iterdir()) == sorted(
        [".analysis-report-site", ".git", "CNAME", "NOTES.txt", "assets", "beta", "build.html"]
        + ["index.html"]
    )


def test_empty_matrix_is_refused_and_the_site_untouched(env, site, capsys):
    foreign = _foreign(site)
    before = snapshot(site)
    empty = env.project / "notebooks" / "empty.yaml"
    for text in ("[]\n", "# all runs commented out\n"):
        empty.write_text(text)
        code, out, err = _cli(capsys, "--matrix", str(empty), "--out", str(site))
        assert code == 2
        assert err == (
            f"error: {empty}: the run matrix lists no runs; add at least one entry (- name: ..., "
            "notebook: ...). A build from an empty matrix would remove every report of the site\n"
        )
        assert out == ""
        assert snapshot(site) == before
    with pytest.raises(RunMatrixError, match="lists no runs"):
        build_reports(matrix=empty, out=site, progress=False)
    assert snapshot(site) == before and set(foreign) <= set(before)


def test_a_folder_the_build_did_not_make_is_never_taken_over(env, site):
    """A run named like a folder someone keeps in the site is refused, not overwritten."""
    shutil.rmtree(site / "beta")
    manifest = _manifest(site)
    del manifest["runs"]["beta"]
    (site / SITE_MARKER).write_text(json.dumps(manifest))
    (site / "beta").mkdir()
    (site / "beta" / "index.html").write_text("my own page")
    with pytest.raises(sitefolder.ReportBuildError) as info:
        build_reports(matrix=env.matrix, out=site, progress=False)
    assert str(info.value) == (
        f"run 'beta': {site / 'beta'} holds index.html, which the build would replace, and was "
        f"not made by a report build (not in {SITE_MARKER}); rename the run in the matrix or "
        "move that folder away"
    )
    assert (site / "beta" / "index.html").read_text() == "my own page"
    shutil.rmtree(site / "beta")
    (site / "beta").write_text("a file named like the run")
    with pytest.raises(
        sitefolder.ReportBuildError, match=r"beta exists, is not a folder and was not"
    ):
        build_reports(matrix=env.matrix, out=site, progress=False)
    assert (site / "beta").read_text() == "a file named like the run"


def test_a_hand_edited_manifest_never_reaches_outside_the_runs(env, site):
    """Entries such as ".." or "../CNAME" in the manifest are ignored, not followed."""
    (site / "CNAME").write_text("reports.example.org\n")
    (site.parent / "keep.txt").write_text("outside the site")
    manifest = _manifest(site)
    manifest["runs"]["beta"].append("../CNAME")
    manifest["runs"][".."] = ["keep.txt"]
    manifest["files"].append("../keep.txt")
    (site / SITE_MARKER).write_text(json.dumps(manifest))
    one = env.project / "notebooks" / "alpha_only.yaml"
    one.write_text(MATRIX.split("- name: beta")[0])
    result = build_reports(matrix=one, out=site, progress=False)
    assert result.removed == ("beta",)
    assert (site / "CNAME").read_text() == "reports.example.org\n"
    assert (site.parent / "keep.txt").read_text() == "outside the site"
    assert not (site / "beta").exists()
    assert _manifest(site)["runs"] == {"alpha": sorted(BUILD_FILES)}


# --------------------------------------------------------------------------- killed builds


def test_a_later_build_removes_the_temporary_folders_its_killed_builds_left(env, site):
    parent = site.parent
    ours = parent / "site.tmp-killed1"
    (ours / "alpha").mkdir(parents=True)
    (ours / "alpha" / "executed.ipynb").write_text("{}")
    (ours / TEMP_MARKER).write_text(f"{site}\n")
    bare = parent / "site.tmp-killed2"  # killed between mkdtemp and writing the marker
    bare.mkdir()
    other = parent / "site.tmp-other"  # another site's (its marker names another folder)
    other.mkdir()
    (other / TEMP_MARKER).write_text(f"{parent / 'elsewhere'}\n")
    (other / "index.html").write_text("theirs")
    unmarked = parent / "site.tmp-mine"  # not a build's: no marker, not empty
    unmarked.mkdir()
    (unmarked / "notes.txt").write_text("mine")
    before = snapshot(site)
    result = build_reports(matrix=env.matrix, out=site, progress=False)
    assert [o.status for o in result.outcomes] == ["skipped-unchanged"] * 2
    assert not ours.exists() and not bare.exists()
    assert (other / "index.html").read_text() == "theirs"
    assert (unmarked / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in parent.iterdir()) == ["site", "site.tmp-mine", "site.tmp-other"]
    now = snapshot(site)
    pages = ("index.html", "build.html")  # the status pages say "skipped" now
    assert {k: v for k, v in now.items() if k not in pages} == {
        k: v for k, v in before.items() if k not in pages
    }


def test_a_second_build_of_the_same_site_is_refused_while_one_runs(env, site):
    import fcntl

    fd = os.open(site, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(sitefolder.ReportBuildError) as info:
            build_reports(matrix=env.matrix, out=site, force=True, progress=False)
    finally:
        os.close(fd)
    assert str(info.value) == (
        f"another report build is writing to {site}; wait for it to finish (or stop it) and "
        "build again"
    )


# --------------------------------------------------------------------------- path parameters


def test_relative_path_parameter_is_taken_from_the_directory_the_build_runs_in(
    env, tmp_path, monkeypatch, capsys
):
    work = tmp_path / "work"
    (work / "series").mkdir(parents=True)
    (work / "series" / "a.csv").write_text("date,price\n")
    (work / "series" / "b.csv").write_text("date,price\n")
    matrix = env.project / "notebooks" / "paths.yaml"
    matrix.write_text("- name: paths\n  notebook: probe.ipynb\n  parameters: {data_dir: series}\n")
    monkeypatch.chdir(work)  # the kernel runs in notebooks/, where there is no series/
    code, out, err = _cli(capsys, "--matrix", str(matrix), "--out", "site")
    assert code == 0, err
    site = work / "site"
    res = _results(site, "paths")
    assert res["data_dir"] == str(work / "series")
    assert res["data_files"] == ["a.csv", "b.csv"]
    doc = json.loads((site / "paths" / "results.json").read_text(encoding="utf-8"))
    assert doc["parameters"] == {"data_dir": str(work / "series")}
    # the fingerprint follows the files the parameter names
    fp = dict(
        line.split(" ", 1) for line in (site / "paths" / "fingerprint.txt").read_text().splitlines()
    )
    (work / "series" / "b.csv").write_text("date,price\n2023-10-17,1\n")
    after = fingerprint.paths_digest({"data_dir": str(work / "series")})
    assert after != fp["paths"]


def test_missing_path_parameter_is_refused_before_any_kernel_starts(
    env, tmp_path, monkeypatch, capsys
):
    started = []
    monkeypatch.setattr(execution, "_execute_one", lambda task: started.append(task.name))
    work = tmp_path / "work"
    work.mkdir()
    matrix = env.project / "notebooks" / "missing.yaml"
    matrix.write_text(
        "- name: paths\n  notebook: probe.ipynb\n  parameters: {data_dir: no/such/folder}\n"
    )
    monkeypatch.chdir(work)
    code, out, err = _cli(capsys, "--matrix", str(matrix), "--out", "site", "--jobs", "1")
    assert code == 2 and out == ""
    assert err.startswith(f"error: {matrix}: 1 problem in the run matrix; nothing was run\n")
    assert (
        f"run 'paths' (entry 1, line 1): parameter 'data_dir' = 'no/such/folder' names "
        f"{work / 'no' / 'such' / 'folder'}, which does not exist (relative paths are taken from "
        f"the directory the command runs in, {work}); give an existing file or folder, or an "
        "empty string for the default" in err
    )
    assert started == [] and not (work / "site").exists()
