"""Shared fixtures.

Test tiers (see README): unit tests on synthetic data run everywhere. Tests that need data which
is never committed -- the real-data tier (the price folder), the shared facts, article and US
retail series, and the reference tier (a peer's worked example) -- find them in the ``shared``
folder beside the checkout (``../shared``), or the price folder in ``ANALYSIS_PRICES_DIR`` and the
retail series in ``ANALYSIS_HARDWARE_DIR``. Without them these tests are skipped with the reason
shown -- except when ``ANALYSIS_REQUIRE_REALDATA=1`` (set by ``.ci/run``), where missing data is
a failure, not a skip.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The folder of uncommitted inputs that sits beside the checkout.
SHARED = REPO.parent / "shared"
REQUIRE_VARIABLE = "ANALYSIS_REQUIRE_REALDATA"


def data_required() -> bool:
    """True when a missing data tier must fail (``ANALYSIS_REQUIRE_REALDATA=1``)."""
    return os.environ.get(REQUIRE_VARIABLE, "") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason`` -- or fail, when the data are required here."""
    if data_required():
        pytest.fail(f"{reason} -- required here ({REQUIRE_VARIABLE}=1)", pytrace=False)
    pytest.skip(reason)


def shared_path(variable: str | None, *parts: str) -> Path:
    """The folder ``variable`` names (relative to the cwd) or else ``../shared/<parts>``."""
    value = os.environ.get(variable, "") if variable else ""
    return Path(value).resolve() if value.strip() else SHARED.joinpath(*parts)


def require_shared(path: Path, tier: str, how: str) -> Path:
    """``path`` if it exists, else skip (or fail) saying which tier needs what."""
    if not path.exists():
        skip_or_fail(f"{tier}: {path} not found; {how}")
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets a private, empty price cache and can never reach the network by accident."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(cache))
    monkeypatch.setenv("ANALYSIS_OFFLINE", "1")
    yield


@pytest.fixture(scope="session")
def shared_prices_dir() -> Path:
    """The real price folder: ``ANALYSIS_PRICES_DIR``, else ``../shared/data/prices``."""
    path = shared_path("ANALYSIS_PRICES_DIR", "data", "prices")
    return require_shared(
        path,
        "real-data tier",
        "put the shared folder beside the checkout or set ANALYSIS_PRICES_DIR to the price folder "
        "(e.g. ANALYSIS_PRICES_DIR=../shared/data/prices)",
    )


@pytest.fixture(scope="session")
def shared_hardware_dir() -> Path:
    """The US retail GPU series: ``ANALYSIS_HARDWARE_DIR``, else ``../shared/data/hardware_series``."""
    path = shared_path("ANALYSIS_HARDWARE_DIR", "data", "hardware_series")
    return require_shared(
        path,
        "US retail series tier",
        "put the shared folder beside the checkout or set ANALYSIS_HARDWARE_DIR",
    )


@pytest.fixture(scope="session")
def shared_facts_dir() -> Path:
    """The cited facts the ``data/`` tables are built from (``../shared/data/facts``)."""
    return require_shared(
        shared_path(None, "data", "facts"),
        "facts tier",
        "the data/ tables are rebuilt from the shared folder beside the checkout",
    )


@pytest.fixture(scope="session")
def shared_article() -> Path:
    """The news article the fact-check reads (``../shared/article/...``)."""
    return require_shared(
        shared_path(None, "article", "000_25fcee98536c66f0.txt"),
        "article tier",
        "the article is in the shared folder beside the checkout",
    )


@pytest.fixture(scope="session")
def estudy2_reference_dir() -> Path:
    """The estudy2 vignette's data and printed results (``../shared/reference/estudy2_vignette``).

    Its ``rates.csv`` holds returns derived from Yahoo prices, which may not be redistributed, so
    the reference tier reads it from the shared folder and is skipped (with this reason) without it.
    """
    path = shared_path(None, "reference", "estudy2_vignette")
    require_shared(
        path / "rates.csv",
        "reference tier (estudy2 vignette)",
        "its data are derived from Yahoo prices and not redistributed; put the shared folder "
        "beside the checkout to run it",
    )
    return path


@pytest.fixture(scope="session")
def real_cache_dir(shared_prices_dir, tmp_path_factory) -> Path:
    """A session-wide cache holding every series of the shared folder, imported once."""
    from analysis.data import prices

    cache = tmp_path_factory.mktemp("realcache")
    mp = pytest.MonkeyPatch()
    mp.setenv("ANALYSIS_CACHE_DIR", str(cache))
    with warnings.catch_warnings():  # HUBB's and PSTG's open slightly outside the day's range:
        warnings.simplefilter("ignore", prices.PriceDataWarning)  # asserted in test_prices_*
        prices.import_csv_folder(shared_prices_dir)
    mp.undo()
    return cache


@pytest.fixture
def real_prices(real_cache_dir, shared_prices_dir, monkeypatch) -> Path:
    """Point this test at the pre-filled real-data cache (and the shared folder)."""
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(real_cache_dir))
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(shared_prices_dir))
    return real_cache_dir
