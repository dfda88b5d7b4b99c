"""Rebuild the three facts-derived tables of ``data/`` from the curated facts folder.

    python scripts/build_fact_tables.py [--facts DIR] [--out DIR] [--check]

Reads ``revenue_geography.csv``, ``peers_china_exposure.csv`` and ``hardware_prices.csv`` of the
facts folder (default ``<project>/../shared/data/facts``) and writes ``data/revenue_geography.csv``,
``data/peers_china_exposure.csv`` and ``data/hardware_prices.csv``: same rows and the same source
and confidence text, plus explicit ``currency``/``unit`` columns, a normalized ``confidence_level``,
parsed dates with a ``date_precision`` flag (original text kept), normalized fiscal years and a
normalized geography basis. Output is deterministic (same input -> byte-identical files) and each
file is written atomically. ``--check`` writes nothing and exits 1 if a committed file differs.
No value is invented: empty cells stay empty. The only numbers not copied from a value column are
the ASML (EUR) and TSMC (NT$) levels, which the facts file gives in its ``note`` column; the build
checks that each one appears there verbatim.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

from analysis import config
from analysis._io import atomic_write_text
from analysis.data.facts import normalize_confidence, parse_approx_date
from analysis.errors import DataError

TABLES = ("revenue_geography.csv", "peers_china_exposure.csv", "hardware_prices.csv")

# Levels in the reporting currency, quoted in the facts file's `note` column (verified verbatim
# below): (note text to find, value in millions).
_NOTE_LEVELS = {
    ("ASML", "FY2022"): ("EUR", ("2,916.0", 2916.0), ("21,173.4", 21173.4)),
    ("ASML", "FY2023"): ("EUR", ("7,251.8", 7251.8), ("27,558.5", 27558.5)),
    ("TSM", "FY2022"): ("TWD", ("245,168.8", 245168.8), ("2,263,891.3", 2263891.3)),
    # FY2023 is given in NT$ thousand in the note; converted to millions (exact, /1000).
    ("TSM", "FY2023"): ("TWD", ("267,154,140", 267154.140), ("2,161,735,841", 2161735.841)),
    ("TSM", "FY2024"): ("TWD", ("331,673.3", 331673.3), ("2,894,307.7", 2894307.7)),
}


def default_facts_dir() -> Path:
    """``<project>/../shared/data/facts`` (the curated facts beside the checkout)."""
    return config.project_root().parent / "shared" / "data" / "facts"


def _read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise DataError(f"facts file {path} not found; pass --facts DIR (the curated facts folder)")
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _csv(header: list[str], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r[h] for h in header])
    return buf.getvalue()


def _fy(label: str) -> str:
    m = re.match(r"^(FY\d{4})", label.strip())
    if not m:
        raise DataError(f"fiscal year label {label!r} does not start with FYyyyy")
    return m.group(1)


def _num(text: str) -> str:
    """A numeric cell copied as text (so the output is byte-stable); empty stays empty."""
    t = text.strip()
    if t:
        float(t)  # raises on garbage
    return t


def _fmt(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".")


def build_revenue_geography(rows: list[dict[str, str]]) -> str:
    header = [
        "symbol",
        "fiscal_year",
        "fiscal_year_label",
        "period_end",
        "presentation",
        "geography_basis",
        "basis_note",
        "region",
        "revenue",
        "total_revenue",
        "currency",
        "unit",
        "source_filing",
        "source_url",
        "confidence",
        "confidence_level",
    ]
    out = []
    for r in rows:
        label = r["fiscal_year"].strip()
        fy = _fy(label)
        restated = "restated in FY2025 10-K" in label
        if fy == "FY2026":
            basis = "customer headquarters"
            note = (
                "inferred, not read: the FY2026 10-K re-presents FY2024/FY2025 by customer "
                "headquarters (facts README); FY2026 values are FMP-derived and rounded"
            )
        else:
            basis = "billing location"
            note = "Singapore shown separately" if restated or fy == "FY2025" else ""
        out.append(
            {
                "symbol": "NVDA",
                "fiscal_year": fy,
                "fiscal_year_label": label,
                "period_end": r["period_end"].strip(),
                "presentation": "restated_fy2025_10k" if restated else "as_reported",
                "geography_basis": basis,
                "basis_note": note,
                "region": r["region"].strip(),
                "revenue": _num(r["revenue_musd"]),
                "total_revenue": _num(r["total_revenue_musd"]),
                "currency": "USD",
                "unit": "millions",
                "source_filing": r["source_filing"],
                "source_url": r["source_url"],
                "confidence": r["confidence"],
                "confidence_level": normalize_confidence(r["confidence"]),
            }
        )
    return _csv(header, out)


def _basis(text: str) -> str:
    t = text.strip().lower()
    if t.startswith("billing location"):
        return "billing location"
    if t.startswith(("not ", "believed", "see ")):
        return "not confirmed"
    if "headquarters" in t:
        return "customer headquarters"
    if "facilit" in t:
        return "customer facility"
    if t.startswith("shipment destination"):
        return "shipment destination"
    raise DataError(f"unrecognised geography basis {text!r}; extend _basis() in the build script")


def build_peers(rows: list[dict[str, str]]) -> str:
    header = [
        "company",
        "symbol",
        "fiscal_year",
        "fiscal_year_label",
        "fiscal_year_end",
        "presentation",
        "china_revenue",
        "total_revenue",
        "china_share",
        "currency",
        "unit",
        "basis",
        "geography_basis",
        "source_title",
        "source_url",
        "confidence",
        "confidence_level",
        "note",
    ]
    out = []
    for r in rows:
        label = r["fiscal_year"].strip()
        fy = _fy(label)
        sym = r["ticker"].strip()
        china, total, cur = _num(r["china_revenue_musd"]), _num(r["total_revenue_musd"]), "USD"
        if (sym, fy) in _NOTE_LEVELS and "re-presented" not in label:
            cur, (c_txt, c_val), (t_txt, t_val) = _NOTE_LEVELS[(sym, fy)]
            for txt in (c_txt, t_txt):
                if txt not in r["note"]:
                    raise DataError(
                        f"{sym} {fy}: level {txt} not found in the facts note "
                        f"{r['note']!r}; update _NOTE_LEVELS"
                    )
            if china or total:
                raise DataError(f"{sym} {fy}: facts file now has USD levels; revisit _NOTE_LEVELS")
            china, total = _fmt(c_val), _fmt(t_val)
        out.append(
            {
                "company": r["company"].strip(),
                "symbol": sym,
                "fiscal_year": fy,
                "fiscal_year_label": label,
                "fiscal_year_end": r["fiscal_year_end"].strip(),
                "presentation": "re_presented_fy2026_10k"
                if "re-presented" in label
                else "as_reported",
                "china_revenue": china,
                "total_revenue": total,
                "china_share": _num(r["china_share"]),
                "currency": cur,
                "unit": "millions",
                "basis": _basis(r["geography_basis"]),
                "geography_basis": r["geography_basis"],
                "source_title": r["source_title"],
                "source_url": r["source_url"],
                "confidence": r["confidence"],
                "confidence_level": normalize_confidence(r["confidence"]),
                "note": r["note"],
            }
        )
    return _csv(header, out)


def _unit_kind(unit: str) -> str:
    u = unit.lower()
    if "multiple" in u:
        return "multiple"
    if "server-hour" in u:
        return "per_8gpu_server_hour"
    if "8-gpu server" in u:
        return "per_8gpu_server"
    if "per card" in u:
        return "per_card"
    raise DataError(f"unrecognised hardware unit {unit!r}; extend _unit_kind() in the build script")


def build_hardware(rows: list[dict[str, str]]) -> str:
    header = [
        "obs_id",
        "product",
        "date",
        "date_end",
        "date_precision",
        "date_text",
        "price_low",
        "price_high",
        "currency",
        "unit",
        "unit_kind",
        "is_msrp",
        "market",
        "source_title",
        "source_url",
        "note",
        "confidence",
        "confidence_level",
    ]
    out = []
    for i, r in enumerate(rows, start=1):
        ad = parse_approx_date(r["date"])
        out.append(
            {
                "obs_id": f"H{i:02d}",
                "product": r["product"].strip(),
                "date": ad.date.isoformat(),
                "date_end": ad.date_end.isoformat(),
                "date_precision": ad.precision,
                "date_text": r["date"].strip(),
                "price_low": _num(r["price_low"]),
                "price_high": _num(r["price_high"]),
                "currency": r["currency"].strip(),
                "unit": r["unit"].strip(),
                "unit_kind": _unit_kind(r["unit"]),
                "is_msrp": "true" if "msrp" in r["unit"].lower() else "false",
                "market": r["market"],
                "source_title": r["source_title"],
                "source_url": r["source_url"],
                "note": r["note"],
                "confidence": r["confidence"],
                "confidence_level": normalize_confidence(r["confidence"]),
            }
        )
    return _csv(header, out)


def build_tables(facts_dir: str | Path) -> dict[str, str]:
    """The three tables as CSV text, keyed by file name (pure: reads only ``facts_dir``)."""
    d = Path(facts_dir)
    return {
        "revenue_geography.csv": build_revenue_geography(_read(d / "revenue_geography.csv")),
        "peers_china_exposure.csv": build_peers(_read(d / "peers_china_exposure.csv")),
        "hardware_prices.csv": build_hardware(_read(d / "hardware_prices.csv")),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--facts", type=Path, default=None, help="curated facts folder")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default data/)")
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    args = ap.parse_args(argv)
    facts = args.facts or default_facts_dir()
    out = args.out or config.data_dir()
    try:
        tables = build_tables(facts)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    differ = []
    for name, text in tables.items():
        target = out / name
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != text:
            differ.append(name)
            if not args.check:
                out.mkdir(parents=True, exist_ok=True)
                atomic_write_text(target, text)
    if args.check:
        for name in differ:
            print(f"{name}: differs from a rebuild of {facts}", file=sys.stderr)
        return 1 if differ else 0
    print(f"wrote {', '.join(differ) or 'nothing (all up to date)'} in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
