"""Shared fixtures.

Test tiers (see README): unit tests on synthetic data run everywhere; tests marked ``realdata``
need ``ANALYSIS_PRICES_DIR`` (the shared price folder) and are skipped with the reason shown when it
is not set -- except when ``ANALYSIS_REQUIRE_REALDATA=1`` (set by ``.ci/run``), where a missing
folder is a failure, not a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets a private, empty price cache and can never reach the network by accident."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(cache))
    monkeypatch.setenv("ANALYSIS_OFFLINE", "1")
    yield


def _shared_prices() -> Path | None:
    env = os.environ.get("ANALYSIS_PRICES_DIR")
    if env and Path(env).is_dir():
        return Path(env).resolve()
    return None


@pytest.fixture(scope="session")
def shared_prices_dir() -> Path:
    """The real price folder (``ANALYSIS_PRICES_DIR``); skip -- or fail under CI -- without it."""
    path = _shared_prices()
    if path is None:
        msg = (
            "real-data tier: set ANALYSIS_PRICES_DIR to the shared price folder "
            "(e.g. ANALYSIS_PRICES_DIR=../shared/data/prices) to run it"
        )
        if os.environ.get("ANALYSIS_REQUIRE_REALDATA", "") == "1":
            pytest.fail(msg + " -- required here (ANALYSIS_REQUIRE_REALDATA=1)", pytrace=False)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def real_cache_dir(shared_prices_dir, tmp_path_factory) -> Path:
    """A session-wide cache holding every series of the shared folder, imported once."""
    from analysis import prices

    cache = tmp_path_factory.mktemp("realcache")
    mp = pytest.MonkeyPatch()
    mp.setenv("ANALYSIS_CACHE_DIR", str(cache))
    prices.import_csv_folder(shared_prices_dir)
    mp.undo()
    return cache


@pytest.fixture
def real_prices(real_cache_dir, shared_prices_dir, monkeypatch) -> Path:
    """Point this test at the pre-filled real-data cache (and the shared folder)."""
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(real_cache_dir))
    monkeypatch.setenv("ANALYSIS_PRICES_DIR", str(shared_prices_dir))
    return real_cache_dir
