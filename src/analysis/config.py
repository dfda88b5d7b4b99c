"""Paths and environment switches: the one place that knows where things live.

Every path is computed by a function (not a module constant) so that environment overrides set
after import -- in a notebook, a test or a papermill run -- take effect.

Environment variables
---------------------
ANALYSIS_HOME         project root (default: the checkout this package was installed from)
ANALYSIS_CACHE_DIR    price cache folder (default: ``<root>/data/cache``)
ANALYSIS_PRICES_DIR   a folder of CSV price files imported on demand when a symbol is not cached
ANALYSIS_OFFLINE      ``1``/``true``/``yes``/``y``/``on`` forbids every network call (Yahoo is never
                      contacted); ``0``/``false``/``no``/``n``/``off`` or empty allows them
ANALYSIS_HARDWARE_DIR a folder of US retail GPU price series (e.g. ``../shared/data/hardware_series``)
ANALYSIS_REPORTS_DIR  where ``python -m analysis report`` writes (default: ``<root>/reports``)

A relative path is relative to the directory the command was typed in. The command line resolves
every path variable once, at start (:func:`resolve_environment`), and passes absolute paths on to
the notebook kernels it starts, whose working directory is ``notebooks/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from analysis.errors import ConfigError

_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"", "0", "false", "f", "no", "n", "off"}

#: The path variables and what each names (for messages).
PATH_VARIABLES = {
    "ANALYSIS_HOME": "the project folder",
    "ANALYSIS_CACHE_DIR": "the price cache folder",
    "ANALYSIS_PRICES_DIR": "the folder of CSV price files",
    "ANALYSIS_HARDWARE_DIR": "the folder of US retail GPU price series",
    "ANALYSIS_REPORTS_DIR": "the report site folder",
}
#: Path variables that name input folders: they must exist (the others are created on demand).
INPUT_FOLDERS = ("ANALYSIS_HOME", "ANALYSIS_PRICES_DIR", "ANALYSIS_HARDWARE_DIR")
#: The lock file that pins every dependency (at the project root).
LOCK_FILE = "requirements-lock.txt"


def _env_path(variable: str, base: Path | None = None) -> Path | None:
    """The absolute path an environment variable names (relative to ``base`` or the cwd)."""
    value = os.environ.get(variable, "")
    if not value.strip():
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    return Path(os.path.normpath(path))


def _input_folder(variable: str) -> Path | None:
    """The folder an input variable names; :class:`ConfigError` if it is not an existing folder."""
    path = _env_path(variable)
    if path is None:
        return None
    if not path.is_dir():
        raise ConfigError(_missing_folder_message(variable, os.environ[variable], path))
    return path


def _missing_folder_message(variable: str, typed: str, resolved: Path) -> str:
    what = "is a file, not a folder" if resolved.exists() else "does not exist"
    example = " (e.g. ../shared/data/prices from the project folder)"
    return (
        f"{variable}={typed} names {PATH_VARIABLES[variable]}, but {resolved} {what} "
        f"(relative paths are taken from the directory the command runs in, {Path.cwd()}); "
        f"set {variable} to an existing folder"
        f"{example if variable == 'ANALYSIS_PRICES_DIR' else ''}, or unset it"
    )


def resolve_environment(cwd: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Make every path variable absolute (against ``cwd``, default the current directory), once.

    Called by the command line before it does anything, so that notebook kernels started later
    (in ``notebooks/``) receive absolute paths. Input folders must exist, and the price folder
    must hold CSV files; otherwise :class:`ConfigError` names the variable, the path as typed and
    as resolved, and what to do. Also checks ``ANALYSIS_OFFLINE``. Returns the resolved values.
    """
    base = Path(cwd) if cwd is not None else Path.cwd()
    resolved: dict[str, str] = {}
    for variable in PATH_VARIABLES:
        typed = os.environ.get(variable, "")
        path = _env_path(variable, base)
        if path is None:
            continue
        if variable in INPUT_FOLDERS and not path.is_dir():
            raise ConfigError(_missing_folder_message(variable, typed, path))
        if variable == "ANALYSIS_PRICES_DIR" and not any(
            p.suffix.lower() == ".csv" for p in path.iterdir()
        ):
            raise ConfigError(
                f"ANALYSIS_PRICES_DIR={typed} names the folder of CSV price files, but {path} "
                "holds no .csv file; point it at a folder with one CSV per symbol (columns "
                "date,open,high,low,close,adj_close,volume), e.g. ../shared/data/prices"
            )
        os.environ[variable] = resolved[variable] = str(path)
    offline()
    return resolved


def project_root() -> Path:
    """The project checkout: ``ANALYSIS_HOME`` or the folder holding ``src/analysis``."""
    return _input_folder("ANALYSIS_HOME") or Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """Committed, cited fact tables (``data/``)."""
    return project_root() / "data"


def cache_dir() -> Path:
    """The local price cache (git-ignored): parquet files plus ``manifest.json``."""
    return _env_path("ANALYSIS_CACHE_DIR") or data_dir() / "cache"


def prices_dir() -> Path | None:
    """The CSV price folder named by ``ANALYSIS_PRICES_DIR``, or None when it is not set.

    A folder that does not exist is an error, never a silent fall-back to Yahoo.
    """
    return _input_folder("ANALYSIS_PRICES_DIR")


def hardware_series_dir() -> Path | None:
    """The folder of US retail GPU price series named by ``ANALYSIS_HARDWARE_DIR``, or None.

    Like vendor prices these series are read from a folder and never committed.
    """
    return _input_folder("ANALYSIS_HARDWARE_DIR")


def offline() -> bool:
    """True when ``ANALYSIS_OFFLINE`` forbids network calls; an unrecognized value is an error."""
    value = os.environ.get("ANALYSIS_OFFLINE", "")
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(
        f"ANALYSIS_OFFLINE={value!r} is neither true ({', '.join(sorted(_TRUE))}) nor false "
        f"({', '.join(sorted(_FALSE - {''}))}, or empty); set ANALYSIS_OFFLINE=1 to forbid "
        "network calls"
    )


def notebooks_dir() -> Path:
    """The parameterized notebooks."""
    return project_root() / "notebooks"


def reports_dir() -> Path:
    """Where the report build writes its static site (git-ignored)."""
    return _env_path("ANALYSIS_REPORTS_DIR") or project_root() / "reports"


def run_matrix_path() -> Path:
    """The YAML file listing the report runs."""
    return notebooks_dir() / "runs.yaml"


def lock_file() -> Path:
    """The lock file pinning every dependency with hashes (``requirements-lock.txt``)."""
    return project_root() / LOCK_FILE
