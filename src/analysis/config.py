"""Paths and environment switches: the one place that knows where things live.

Every path is computed by a function (not a module constant) so that environment overrides set
after import -- in a notebook, a test or a papermill run -- take effect.

Environment variables
---------------------
ANALYSIS_HOME        project root (default: the checkout this package was installed from)
ANALYSIS_CACHE_DIR   price cache folder (default: ``<root>/data/cache``)
ANALYSIS_PRICES_DIR  a folder of CSV price files imported on demand when a symbol is not cached
ANALYSIS_OFFLINE     ``1``/``true``/``yes`` forbids every network call (Yahoo is never contacted)
ANALYSIS_HARDWARE_DIR a folder of US retail GPU price series (``../shared/data/hardware_series``)
ANALYSIS_REPORTS_DIR where ``python -m analysis report`` writes (default: ``<root>/reports``)
"""

from __future__ import annotations

import os
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}


def project_root() -> Path:
    """The project checkout: ``ANALYSIS_HOME`` or the folder holding ``src/analysis``."""
    env = os.environ.get("ANALYSIS_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """Committed, cited fact tables (``data/``)."""
    return project_root() / "data"


def cache_dir() -> Path:
    """The local price cache (git-ignored): parquet files plus ``manifest.json``."""
    env = os.environ.get("ANALYSIS_CACHE_DIR")
    return Path(env).expanduser().resolve() if env else data_dir() / "cache"


def prices_dir() -> Path | None:
    """The CSV price folder named by ``ANALYSIS_PRICES_DIR``, or None."""
    env = os.environ.get("ANALYSIS_PRICES_DIR")
    return Path(env).expanduser().resolve() if env else None


def hardware_series_dir() -> Path | None:
    """The folder of US retail GPU price series named by ``ANALYSIS_HARDWARE_DIR``, or None.

    Like vendor prices these series are read from a folder and never committed.
    """
    env = os.environ.get("ANALYSIS_HARDWARE_DIR")
    return Path(env).expanduser().resolve() if env else None


def offline() -> bool:
    """True when ``ANALYSIS_OFFLINE`` forbids network calls."""
    return os.environ.get("ANALYSIS_OFFLINE", "").strip().lower() in _TRUE


def notebooks_dir() -> Path:
    """The parameterized notebooks."""
    return project_root() / "notebooks"


def reports_dir() -> Path:
    """Where the report build writes its static site (git-ignored)."""
    env = os.environ.get("ANALYSIS_REPORTS_DIR")
    return Path(env).expanduser().resolve() if env else project_root() / "reports"


def run_matrix_path() -> Path:
    """The YAML file listing the report runs."""
    return notebooks_dir() / "runs.yaml"
