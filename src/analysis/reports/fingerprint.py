"""Run fingerprints: a run whose inputs have not changed since its last good build is skipped.

The fingerprint is a sha256 over, in this order: the notebook file's bytes; the canonical JSON
of the run's parameters and title; the files named by its path parameters (``*_dir``, ``*_file``,
``*_path``); the price series (the sha256 of every price-cache manifest entry,
:func:`analysis.data.prices.cache_manifest`, and for a series imported from the CSV folder of
``ANALYSIS_PRICES_DIR`` whose file has changed since, that file's sha256: the run will import it
again); the bytes of the committed tables ``data/*.csv`` and ``data/*.yaml``; the US retail
series of ``ANALYSIS_HARDWARE_DIR``; the source of the ``analysis`` package
(``src/analysis/**/*.py``); the lock file (:func:`analysis.config.lock_file`). It is stored as
``fingerprint.txt`` in the run's folder, one ``component sha256`` line per input, so a rerun can
be explained by diffing two files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from analysis import config
from analysis.errors import AnalysisError

FINGERPRINT_FILE = "fingerprint.txt"


def _sha(chunks: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(len(chunk).to_bytes(8, "big"))  # length-prefixed: no ambiguity between parts
        h.update(chunk)
    return h.hexdigest()


def _files_digest(root: Path, paths: Iterable[Path]) -> str:
    chunks: list[bytes] = []
    for p in sorted(paths, key=lambda q: q.relative_to(root).as_posix()):
        chunks.append(p.relative_to(root).as_posix().encode())
        chunks.append(p.read_bytes())
    return _sha(chunks)


def source_digest() -> str:
    """sha256 over the ``analysis`` package's ``.py`` files (names and bytes)."""
    import analysis

    root = Path(analysis.__file__).resolve().parent
    return _files_digest(root, root.rglob("*.py"))


def data_digest() -> str:
    """sha256 over the committed tables ``data/*.csv``, ``data/*.yaml`` and ``data/*.yml``."""
    root = config.data_dir()
    if not root.is_dir():
        return _sha([b"no data folder"])
    files = [p for pattern in ("*.csv", "*.yaml", "*.yml") for p in root.glob(pattern)]
    return _files_digest(root, [p for p in files if p.is_file()])


def _manifest_pairs(manifest: Any) -> list[tuple[str, str]]:
    """(entry, sha256) pairs from a manifest given as a DataFrame, a mapping or a list."""
    if hasattr(manifest, "to_dict") and hasattr(manifest, "columns"):  # DataFrame
        records = manifest.reset_index().to_dict(orient="records")
        return sorted(_pair_of_record(r) for r in records)
    if isinstance(manifest, Mapping):
        entries = manifest.get("entries", manifest.get("series", manifest))
        if isinstance(entries, Mapping):
            pairs = []
            for key, value in entries.items():
                sha = value.get("sha256") if isinstance(value, Mapping) else value
                pairs.append((str(key), sha if isinstance(sha, str) else _canonical(sha)))
            return sorted(pairs)
        manifest = entries
    if isinstance(manifest, list | tuple):
        return sorted(_pair_of_record(r) for r in manifest)
    return [("manifest", _canonical(manifest))]


def _pair_of_record(record: Any) -> tuple[str, str]:
    if isinstance(record, Mapping) and "sha256" in record:
        key = record.get("symbol", record.get("file", record.get("path", "")))
        return (str(key), str(record["sha256"]))
    return ("", _canonical(record))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def prices_digest() -> str:
    """sha256 over the price cache manifest's per-series sha256s ("unavailable" if none).

    A series imported from the ``ANALYSIS_PRICES_DIR`` folder whose CSV has changed since (which
    :func:`analysis.data.prices.load_history` will import again) adds that file's current sha256.
    """
    try:
        from analysis.data import prices
    except ImportError:
        return _sha([b"analysis.data.prices.cache_manifest unavailable"])
    try:
        manifest = prices.cache_manifest()
        pairs = [(k, v + _changed_csv(prices, k)) for k, v in _manifest_pairs(manifest)]
    except (AnalysisError, OSError) as exc:
        return _sha([f"cache manifest unreadable: {type(exc).__name__}".encode()])
    return _sha([f"{k}\t{v}".encode() for k, v in pairs])


def _changed_csv(prices: Any, symbol: str) -> str:
    """`` csv <sha256>`` when ``symbol``'s source CSV changed since its import, else ""."""
    changed = getattr(prices, "_changed_csv_source", None)
    path = changed(symbol) if changed is not None and symbol else None
    return f" csv {_file_sha256(path)}" if path is not None else ""


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def lock_file_sha256() -> str | None:
    """sha256 of the lock file (:func:`analysis.config.lock_file`), or None when there is none."""
    path = config.lock_file()
    return _file_sha256(path) if path.is_file() else None


def lock_digest() -> str:
    """The lock file's sha256 ("no lock file" when the project has none)."""
    return lock_file_sha256() or _sha([b"no lock file"])


def paths_digest(parameters: Mapping[str, Any]) -> str:
    """sha256 over what the path parameters name: a file's bytes, a folder's top-level files."""
    from analysis.reports.matrix import is_path_parameter

    chunks: list[bytes] = []
    for name in sorted(parameters):
        value = parameters[name]
        if not (is_path_parameter(name) and isinstance(value, str) and value.strip()):
            continue
        path = Path(value)
        chunks.append(f"{name}={value}".encode())
        if path.is_file():
            chunks.append(_file_sha256(path).encode())
        elif path.is_dir():
            chunks.append(_files_digest(path, [p for p in path.iterdir() if p.is_file()]).encode())
        else:
            chunks.append(b"missing")
    return _sha(chunks)


def hardware_digest() -> str:
    """sha256 over the US retail GPU series named by ``ANALYSIS_HARDWARE_DIR`` ("unset" if none)."""
    root = config.hardware_series_dir()
    if root is None:
        return _sha([b"ANALYSIS_HARDWARE_DIR unset"])
    if not root.is_dir():
        return _sha([f"missing folder {root}".encode()])
    return _files_digest(root, sorted(p for p in root.glob("*.csv") if p.is_file()))


ENVIRONMENT = ("prices", "data", "hardware", "source", "lock")


def environment_components() -> dict[str, str]:
    """The inputs shared by every run: prices, data tables, retail series, source, lock file."""
    return {
        "prices": prices_digest(),
        "data": data_digest(),
        "hardware": hardware_digest(),
        "source": source_digest(),
        "lock": lock_digest(),
    }


def run_fingerprint(
    notebook_path: Path,
    parameters: Mapping[str, Any],
    title: str,
    environment: Mapping[str, str],
) -> str:
    """The text stored in ``fingerprint.txt``: one ``component sha256`` line each, then ``run``."""
    parts = {
        "notebook": _file_sha256(Path(notebook_path)),
        "parameters": hashlib.sha256(
            json.dumps(
                {"parameters": dict(parameters), "title": title},
                sort_keys=True,
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode()
        ).hexdigest(),
        "paths": paths_digest(parameters),
        **{k: environment[k] for k in ENVIRONMENT},
    }
    total = _sha([f"{k} {v}".encode() for k, v in parts.items()])
    return "".join(f"{k} {v}\n" for k, v in parts.items()) + f"run {total}\n"
