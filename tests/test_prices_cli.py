"""The ``prices`` CLI group: exit codes and what users see."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

from analysis import cli
from analysis.cli import prices as cli_prices

HEADER = "date,open,high,low,close,adj_close,volume"


@pytest.fixture(autouse=True)
def _no_prices_dir(monkeypatch):
    """Synthetic tier: no shared folder, whatever the caller's environment holds."""
    monkeypatch.delenv("ANALYSIS_PRICES_DIR", raising=False)


def run(argv):
    """Parse with a parser holding only the prices group; errors handled like cli.main."""
    parser = argparse.ArgumentParser(prog="python -m analysis")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_prices.register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def main(monkeypatch):
    """cli.main restricted to the prices group (other groups are built by other modules)."""
    monkeypatch.setattr(cli, "_COMMAND_MODULES", ("prices",))
    return cli.main


def write(path: Path, start="2024-06-05", n=5, base=100.0, bad_line=None) -> Path:
    lines = [HEADER]
    for i, d in enumerate(pd.bdate_range(start, periods=n)):
        c = base + i
        lines.append(f"{d:%Y-%m-%d},{c - 0.5},{c + 1},{c - 1},{c},{c * 0.99},{1000 + i}")
    if bad_line is not None:
        lines[bad_line - 1] = lines[bad_line - 1].replace(",1000", ",-7").replace(",1001", ",-7")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "prices"
    d.mkdir()
    write(d / "NVDA.csv")
    write(d / "INDEX_GSPC.csv", base=5000.0)
    (d / "PROVENANCE.md").write_text("notes\n")
    return d


def test_import_list_show(folder, capsys, main):
    assert main(["prices", "import", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"imported 2 series from {folder.resolve()}" in out
    assert "NVDA 2024-06-05 2024-06-11     5" in out
    assert main(["prices", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["symbol", "first", "last", "rows", "source", "sha256"]
    row = out[2].split()
    assert row[:5] == [
        "NVDA",
        "2024-06-05",
        "2024-06-11",
        "5",
        f"csv:{(folder / 'NVDA.csv').resolve()}",
    ]
    assert len(row[5]) == 12
    assert out[3].split()[0] == "^GSPC"
    assert main(["prices", "show", "NVDA", "--start", "2024-06-06", "--end", "2024-06-10"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["open", "high", "low", "close", "adj_close", "volume", "quoted_close"]
    assert out[3].split() == [
        "2024-06-06",
        "100.5000",
        "102.0000",
        "100.0000",
        "101.0000",
        "99.9900",
        "1001",
        "1010.0000",
    ]
    assert out[5].split()[0] == "2024-06-10" and out[5].split()[-1] == "103.0000"
    assert len(out) == 6  # header line, 2 table header lines, 3 sessions
    assert main(["prices", "show", "^GSPC"]) == 0
    assert "quoted_close" not in capsys.readouterr().out


def test_import_with_bad_file_exits_1(folder, capsys, main):
    write(folder / "AMD.csv", bad_line=3)
    assert main(["prices", "import", str(folder)]) == 1
    cap = capsys.readouterr()
    assert "imported 2 series" in cap.out
    assert "AMD.csv line 3: volume is negative (-7.0)" in cap.out
    assert "error: 1 not imported (AMD.csv); see the reasons above" in cap.err


def test_errors_exit_2_with_message(tmp_path, capsys, main):
    assert main(["prices", "import", str(tmp_path / "missing")]) == 2
    assert f"error: price folder {tmp_path / 'missing'} does not exist" in capsys.readouterr().err
    assert main(["prices", "show", "NVDA"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no prices for NVDA:") and "prices import DIR" in err
    assert main(["prices", "fetch", "NVDA", "--start", "2024-01-02"]) == 2
    assert (
        "error: not downloading NVDA from Yahoo: ANALYSIS_OFFLINE is set" in capsys.readouterr().err
    )


def test_show_out_of_range(folder, capsys, main):
    run(["prices", "import", str(folder)])
    capsys.readouterr()
    assert main(["prices", "show", "NVDA", "--start", "2024-01-02"]) == 2
    err = capsys.readouterr().err
    assert (
        "error: NVDA: requested 2024-01-02 to open but the cached series covers only 2024-06-05 to 2024-06-11"
        in err
    )


def test_list_empty_cache(capsys):
    assert run(["prices", "list"]) == 0
    assert "is empty; import with `python -m analysis prices import DIR`" in capsys.readouterr().out
