"""Report helpers without executing notebooks: results values, notebook helpers, fingerprints,
index HTML, the kernel of a build."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import importlib.metadata
import json
import re
import shutil
import signal
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
import analysis.data
from analysis.errors import PriceSourceError, SpecificationError
from analysis.reports import execution, fingerprint, notebook, runner
from analysis.reports.results import RESULTS_MIME, canonical_value, dumps, extract_results
from analysis.reports.site import IndexEntry, render_index

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"


def test_import_analysis_reports_stays_light():
    import subprocess

    code = (
        "import sys, analysis, analysis.reports, analysis.cli.report; "
        "print(sorted(m for m in ('papermill', 'nbconvert', 'nbclient', 'pandas', 'IPython') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_canonical_values():
    value = {
        "b": np.float64(1 / 3),
        "a": np.int64(7),
        "flag": np.bool_(True),
        "nan": float("nan"),
        "inf": -np.inf,
        "day": dt.date(2023, 10, 17),
        "ts": pd.Timestamp("2024-06-10"),
        "arr": np.array([0.1, 2]),
        "nested": {"y": (1, 2.5)},
    }
    out = canonical_value(value)
    assert out == {
        "a": 7,
        "arr": [0.1, 2.0],
        "b": 0.333333333333,
        "day": "2023-10-17",
        "flag": True,
        "inf": None,
        "nan": None,
        "nested": {"y": [1, 2.5]},
        "ts": "2024-06-10T00:00:00",
    }
    assert type(out["a"]) is int and type(out["flag"]) is bool
    assert list(out) == list(value)  # the publisher's order; results.json sorts keys itself
    text = dumps({"results": out, "name": "x"})
    assert text.endswith("}\n") and '"b": 0.333333333333' in text
    assert text.index('"name"') < text.index('"results"')


def test_canonical_value_rejects_what_json_cannot_hold():
    with pytest.raises(
        SpecificationError, match=r"publish_results\['x'\]: cannot publish a object"
    ):
        canonical_value({"x": object()}, where="publish_results")
    with pytest.raises(SpecificationError, match=r"key 1 is a int; result keys must be strings"):
        canonical_value({1: 2})


def test_extract_results_takes_the_last_bundle():
    def output(data):
        return {"output_type": "display_data", "data": data, "metadata": {}}

    nb = {
        "cells": [
            {"cell_type": "code", "outputs": [output({RESULTS_MIME: {"x": 1}})]},
            {"cell_type": "markdown", "source": "text"},
            {"cell_type": "code", "outputs": [output({"text/plain": "1"})]},
            {"cell_type": "code", "outputs": [output({RESULTS_MIME: {"x": 2, "y": 1.0}})]},
        ]
    }
    assert extract_results(nb) == {"x": 2, "y": 1.0}
    assert extract_results({"cells": []}) is None


def test_publish_results_displays_table_and_bundle(monkeypatch):
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    notebook.publish_results({"car": np.float64(0.0123456789), "<b>": "x&y"}, title="CAR <0,3>")
    ((bundle, raw),) = shown
    assert raw is True
    assert bundle[RESULTS_MIME] == {"<b>": "x&y", "car": 0.0123456789}
    assert (
        "<caption style='text-align:left;font-weight:bold'>CAR &lt;0,3&gt;</caption>"
        in (bundle["text/html"])
    )
    assert "<th style='text-align:left'>&lt;b&gt;</th>" in bundle["text/html"]
    assert "<td style='text-align:right'>0.0123457</td>" in bundle["text/html"]
    assert bundle["text/plain"] == "CAR <0,3>\ncar: 0.0123457\n<b>: x&y"
    with pytest.raises(TypeError, match="takes a mapping"):
        notebook.publish_results([("a", 1)])  # type: ignore[arg-type]
    # show=False: the same data for results.json, a link instead of the table
    notebook.publish_results({"car": 0.5}, show=False)
    bundle = shown[-1][0]
    assert bundle[RESULTS_MIME] == {"car": 0.5}
    assert bundle["text/html"] == (
        '<p>Every number on this page is also in <a href="results.json">results.json</a>.</p>'
    )


def test_run_facts_with_series_info(monkeypatch):
    fake = types.ModuleType("analysis.data.prices")
    loaded = []

    def load_history(symbol):
        loaded.append(symbol)

    def series_info(symbols):
        assert symbols == ["NVDA", "SPY"]
        if not loaded:
            raise PriceSourceError("not in the price cache: NVDA, SPY")
        return pd.DataFrame(
            {
                "symbol": ["NVDA", "SPY"],
                "first": pd.to_datetime(["2022-01-03", "2022-01-03"]),
                "last": pd.to_datetime(["2025-06-30", "2025-06-27"]),
                "rows": [877, 876],
                "source": ["csv:NVDA.csv", "yahoo"],
                "sha256": ["a" * 64, "b" * 64],
                "retrieved_at": ["2025-07-01T00:00:00Z"] * 2,
            }
        )

    fake.series_info = series_info
    fake.load_history = load_history
    monkeypatch.setitem(sys.modules, "analysis.data.prices", fake)
    facts = notebook.run_facts({"event": "2023-10-17", "window": [-1, 3]}, ["NVDA", "SPY"])
    assert facts.index.names == ["section", "item"] and list(facts.columns) == ["value"]
    value = facts["value"]
    assert value[("parameter", "event")] == "2023-10-17"
    assert value[("parameter", "window")] == "[-1, 3]"
    assert value[("data", "NVDA")] == (
        f"2022-01-03 to 2025-06-30, 877 rows, source csv:NVDA.csv, sha256 {'a' * 64}"
    )
    assert loaded == ["NVDA", "SPY"]  # not cached: loaded first, as the analysis would
    assert value[("data", "SPY")].startswith("2022-01-03 to 2025-06-27, 876 rows, source yahoo")
    for pkg in ("pandas", "numpy", "statsmodels", "scipy", "yfinance", "analysis"):
        assert value[("version", pkg)] == importlib.metadata.version(pkg)
    assert re.fullmatch(r"[0-9a-f]{12}(-dirty)?|unknown", value[("code", "git commit")])


def test_run_facts_without_prices_module(monkeypatch):
    monkeypatch.setitem(sys.modules, "analysis.data.prices", None)  # import fails
    facts = notebook.run_facts({}, symbols="NVDA")
    assert facts.loc[("data", "NVDA"), "value"] == "analysis.data.prices.series_info unavailable"
    none = notebook.run_facts({"a": 1})
    assert none.loc[("data", "prices"), "value"] == "no price series"


def test_git_commit(monkeypatch, tmp_path):
    assert re.fullmatch(r"[0-9a-f]{12}(-dirty)?", notebook.git_commit())
    monkeypatch.setenv("ANALYSIS_HOME", str(tmp_path))  # not a repository
    assert notebook.git_commit() == "unknown"


# --------------------------------------------------------------------------- fingerprints


def _lines(text: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in text.splitlines())


def test_fingerprint_follows_each_input(monkeypatch, tmp_path):
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    (home / "data" / "events.csv").write_text("id,date\nE1,2023-10-17\n")
    monkeypatch.setenv("ANALYSIS_HOME", str(home))
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "m.py").write_text("X = 1\n")
    monkeypatch.setattr(analysis, "__file__", str(pkg / "__init__.py"))
    manifest = {"NVDA": {"sha256": "1" * 64, "retrieved_at": "t1"}}
    changed_csv: dict[str, Path] = {}  # symbol -> its source CSV, when that changed since import
    fake = types.ModuleType("analysis.data.prices")
    fake.cache_manifest = lambda: manifest
    fake._changed_csv_source = changed_csv.get
    monkeypatch.setitem(sys.modules, "analysis.data.prices", fake)
    monkeypatch.setattr(analysis.data, "prices", fake, raising=False)  # if already imported
    nb = tmp_path / "n.ipynb"
    shutil.copy(FIXTURES / "results.ipynb", nb)
    table = tmp_path / "peers.csv"
    table.write_text("symbol\nAMD\n")

    def fp(params=None, title="T"):
        env = fingerprint.environment_components()
        return _lines(fingerprint.run_fingerprint(nb, params or {"n": 1}, title, env))

    base = fp()
    assert list(base) == [
        "notebook",
        "parameters",
        "paths",
        "prices",
        "data",
        "hardware",
        "source",
        "lock",
        "run",
    ]
    assert fp() == base  # deterministic
    assert fp({"n": 1}) == fp({"n": 1})
    manifest["NVDA"]["retrieved_at"] = "t2"  # re-fetched, same bytes: unchanged
    assert fp() == base

    def changed(**kw):
        now = fp(**kw)
        return {k for k in now if now[k] != base[k]}

    assert changed(params={"n": 2}) == {"parameters", "run"}
    assert changed(title="U") == {"parameters", "run"}
    manifest["NVDA"]["sha256"] = "2" * 64
    assert changed() == {"prices", "run"}
    manifest["NVDA"]["sha256"] = "1" * 64
    # the CSV NVDA was imported from has changed since: the run will import it again
    csv_file = tmp_path / "NVDA.csv"
    csv_file.write_text("date,close\n2023-10-17,1\n")
    changed_csv["NVDA"] = csv_file
    assert changed() == {"prices", "run"}
    first = fp()["prices"]
    csv_file.write_text("date,close\n2023-10-17,2\n")  # changed again: another fingerprint
    assert fp()["prices"] not in (first, base["prices"])
    changed_csv.clear()
    assert changed() == set()
    (home / "data" / "events.csv").write_text("id,date\nE1,2023-10-18\n")
    assert changed() == {"data", "run"}
    (home / "data" / "events.csv").write_text("id,date\nE1,2023-10-17\n")
    (home / "data" / "notes.txt").write_text("not a table")  # not part of the fingerprint
    assert changed() == set()
    (pkg / "sub" / "m.py").write_text("X = 2\n")
    assert changed() == {"source", "run"}
    (pkg / "sub" / "m.py").write_text("X = 1\n")
    nb.write_bytes(nb.read_bytes().replace(b"number of points", b"number of dots"))
    assert changed() == {"notebook", "run"}
    nb.write_bytes(nb.read_bytes().replace(b"number of dots", b"number of points"))
    # the lock file at the project root: its bytes
    assert fingerprint.lock_file_sha256() is None
    (home / "requirements-lock.txt").write_text("numpy==2.0.0 --hash=sha256:aa\n")
    assert changed() == {"lock", "run"}
    locked = fp()["lock"]
    assert locked == hashlib.sha256(b"numpy==2.0.0 --hash=sha256:aa\n").hexdigest()
    (home / "requirements-lock.txt").write_text("numpy==2.0.1 --hash=sha256:bb\n")
    assert fp()["lock"] not in (locked, base["lock"])
    (home / "requirements-lock.txt").unlink()
    assert changed() == set()
    # a path parameter: the bytes of the file it names (or a folder's top-level files)
    with_table = fp({"n": 1, "peers_file": str(table)})
    assert {k for k in with_table if with_table[k] != base[k]} == {"parameters", "paths", "run"}
    table.write_text("symbol\nAMD\nINTC\n")
    after = fp({"n": 1, "peers_file": str(table)})
    assert {k for k in after if after[k] != with_table[k]} == {"paths", "run"}
    folder = tmp_path / "series"
    folder.mkdir()
    (folder / "a.csv").write_text("1\n")
    in_folder = fp({"n": 1, "series_dir": str(folder)})["paths"]
    (folder / "a.csv").write_text("2\n")
    assert fp({"n": 1, "series_dir": str(folder)})["paths"] != in_folder
    assert fp({"n": 1, "series_dir": ""}) == fp({"n": 1, "series_dir": ""})  # empty: the default
    retail = tmp_path / "retail"
    retail.mkdir()
    (retail / "a.csv").write_text("date,price\n2023-10-17,1\n")
    monkeypatch.setenv("ANALYSIS_HARDWARE_DIR", str(retail))
    assert changed() == {"hardware", "run"}  # the retail series feed the hardware page
    (retail / "a.csv").write_text("date,price\n2023-10-17,2\n")
    assert changed() == {"hardware", "run"}
    first = fp()["hardware"]
    (retail / "a.csv").write_text("date,price\n2023-10-17,1\n")
    assert fp()["hardware"] != first


def test_prices_digest_without_prices_module(monkeypatch):
    monkeypatch.delattr(analysis.data, "prices", raising=False)  # imported by another test
    monkeypatch.setitem(sys.modules, "analysis.data.prices", None)
    a = fingerprint.prices_digest()
    assert re.fullmatch(r"[0-9a-f]{64}", a) and fingerprint.prices_digest() == a
    assert a == fingerprint._sha([b"analysis.data.prices.cache_manifest unavailable"])


def test_manifest_shapes():
    frame = pd.DataFrame({"symbol": ["B", "A"], "sha256": ["2", "1"], "rows": [3, 4]})
    assert fingerprint._manifest_pairs(frame) == [("A", "1"), ("B", "2")]
    assert fingerprint._manifest_pairs({"entries": {"B": {"sha256": "2"}, "A": "1"}}) == [
        ("A", "1"),
        ("B", "2"),
    ]
    assert fingerprint._manifest_pairs([{"symbol": "A", "sha256": "1"}]) == [("A", "1")]


# --------------------------------------------------------------------------- index page


def test_index_escapes_everything_from_data():
    evil = "<script>alert(1)</script>"
    entry = IndexEntry(
        name="r1",
        title=evil,
        notebook="a&b.ipynb",
        status="failed",
        parameters={"who": evil, "<k>": [1, "<x>"]},
        results={"src": "<img src=x onerror=alert(1)>"},
        error="ValueError: <bad> & worse\nsecond line",
        has_page=True,
        has_notebook=True,
        has_results=True,
    )
    page = render_index([entry])
    assert "<script>" not in page and "<img" not in page and "<bad>" not in page
    assert html.escape(evil) in page
    assert "<code>a&amp;b.ipynb</code>" in page
    assert "<code>&lt;k&gt;</code> = [1, &quot;&lt;x&gt;&quot;]" in page
    assert '<td class="status failed">failed' in page
    assert '<a href="r1/index.html">report</a>' in page


def test_index_without_runs():
    page = render_index([])
    assert "<p>no runs</p>" in page and "<tbody>\n\n</tbody>" in page


# --------------------------------------------------------------------------- kernel


def test_kernel_is_this_python_whatever_jupyter_has_installed(monkeypatch):
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    from analysis.reports import kernel

    spec = kernel.kernel_spec()
    assert spec.argv == [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert spec.name == kernel.KERNEL_NAME == "python3" and spec.language == "python"

    def other(self, name):  # a user-level `python3` kernel of another Python
        return KernelSpec(argv=["/usr/bin/python3", "-m", "ipykernel_launcher"], resource_dir="/x")

    monkeypatch.setattr(KernelSpecManager, "get_kernel_spec", other)
    km = kernel.ThisPythonKernelManager(kernel_name="python3")
    assert km.kernel_spec.argv[0] == sys.executable
    assert km.format_kernel_cmd()[:3] == [sys.executable, "-m", "ipykernel_launcher"]
    assert not hasattr(runner, "check_kernel")  # a build needs no installed kernel spec


def test_kill_kernels_kills_what_is_still_running(monkeypatch):
    """An interrupted build kills its kernels' process groups and removes connection files; a
    kernel that has stopped is left alone (its pid may be another process's by now)."""
    import subprocess

    from analysis.reports import kernel

    def sleeper():
        code = "import time; time.sleep(60)"
        return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)

    running, bystander = sleeper(), sleeper()
    try:
        km = kernel.ThisPythonKernelManager()
        cleaned = []
        monkeypatch.setattr(km, "cleanup_connection_file", lambda: cleaned.append(1))
        # a kernel that stopped: its process was waited for, its pid now names another process
        km.provisioner = types.SimpleNamespace(pid=bystander.pid, pgid=bystander.pid, process=None)
        assert kernel.kill_kernels() == []
        ended = subprocess.Popen([sys.executable, "-c", ""])
        ended.wait()
        km.provisioner = types.SimpleNamespace(pid=ended.pid, pgid=ended.pid, process=ended)
        assert kernel.kill_kernels() == []
        assert bystander.poll() is None and cleaned == []
        km.provisioner = types.SimpleNamespace(pid=running.pid, pgid=running.pid, process=running)
        assert kernel.kill_kernels() == [running.pid]
        assert running.wait(timeout=5) == -signal.SIGKILL
        assert cleaned == [1]
        assert bystander.poll() is None
    finally:
        for child in (running, bystander):
            if child.poll() is None:
                child.kill()
                child.wait()


def test_results_document_is_json(tmp_path):
    task = execution.RunTask("r", "R", "x.ipynb", "/x.ipynb", {"a": 1.5}, "/", 1, str(tmp_path))
    doc = json.loads(dumps(execution._results_document(task, "ok", None, {"v": 1})))
    assert doc == {
        "error": None,
        "name": "r",
        "notebook": "x.ipynb",
        "parameters": {"a": 1.5},
        "results": {"v": 1},
        "status": "ok",
        "title": "R",
    }


@pytest.mark.realdata
def test_run_facts_and_fingerprint_on_real_prices(shared_prices_dir, monkeypatch):
    """NVDA from the shared CSV folder: loaded on demand, dates and row count as in the file."""
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(shared_prices_dir))
    empty = fingerprint.prices_digest()
    lines = (shared_prices_dir / "NVDA.csv").read_text().strip().splitlines()
    first, last = lines[1].split(",")[0], lines[-1].split(",")[0]
    facts = notebook.run_facts({"event": "2023-10-17"}, ["NVDA"])
    row = facts.loc[("data", "NVDA"), "value"]
    assert row.startswith(f"{first} to {last}, {len(lines) - 1} rows, source csv:")
    assert re.search(r"sha256 [0-9a-f]{64}$", row)
    from analysis.data.prices import cache_manifest

    sha = cache_manifest().set_index("symbol").loc["NVDA", "sha256"]
    assert row.endswith(sha)
    loaded = fingerprint.prices_digest()
    assert loaded != empty and fingerprint.prices_digest() == loaded


def test_kernel_start_failure_is_retried(tmp_path, monkeypatch):
    """A kernel that dies before its first reply is started again; other errors are not retried."""
    import papermill

    from analysis.reports import execution

    calls = []

    def flaky(src, dst, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        shutil.copy(src, dst)

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    nb = Path(__file__).parent / "fixtures" / "notebooks" / "noparams.ipynb"
    task = execution.RunTask(
        name="r",
        title="r",
        notebook="noparams.ipynb",
        notebook_path=str(nb),
        parameters={},
        cwd=str(tmp_path),
        timeout=10,
        dest=str(tmp_path / "out"),
    )
    out = execution._execute_one(task)
    assert len(calls) == 2 and out.status == "ok"
    calls.clear()

    def broken(src, dst, **kw):
        calls.append(1)
        raise RuntimeError("something else")

    monkeypatch.setattr(papermill, "execute_notebook", broken)
    out = execution._execute_one(task)
    assert len(calls) == 1 and out.status == "failed" and "something else" in out.error
