"""What every statistic takes and gives: :class:`TestInputs` and the result row :class:`TestResult`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TestInputs:
    """Everything a test needs; built by the model layer (see the package docstring).

    ``resid`` rows are firms and its columns estimation days on a COMMON axis (calendar dates for
    one shared event date, event time for distinct dates), NaN where a firm has no return.
    ``n_est[i]`` must equal the number of non-missing residuals of row i. ``dof`` defaults to
    ``n_est - k``. ``market_est``/``market_evt`` are needed by :func:`lamb` only.
    """

    __test__ = False  # not a pytest test class

    ar: np.ndarray
    resid: np.ndarray
    sigma: np.ndarray
    n_est: np.ndarray
    k: int
    cov: np.ndarray
    market_est: np.ndarray | None = None
    market_evt: np.ndarray | None = None
    dof: np.ndarray | None = None

    @classmethod
    def from_fit(
        cls, fit: Any, market_est: np.ndarray | None = None, market_evt: np.ndarray | None = None
    ) -> TestInputs:
        """Inputs from a fitted model (``analysis.eventstudy.models.FitArrays``) and the market returns."""
        fitted = ("ar", "resid", "sigma", "n_est", "k", "cov", "dof")
        return cls(
            **{name: getattr(fit, name) for name in fitted},
            market_est=market_est,
            market_evt=market_evt,
        )


@dataclass(frozen=True)
class TestResult:
    """One test's outcome. ``stat``/``pvalue``/``n`` are arrays for single-firm tests.

    ``variant`` names the variant computed (standardization, constants, divisor). A test that
    was not computed has NaN ``stat``/``pvalue`` and says why in ``reason`` (empty otherwise);
    build it with :meth:`not_computed`.
    """

    __test__ = False  # not a pytest test class

    name: str
    stat: float | np.ndarray
    pvalue: float | np.ndarray
    n: int | np.ndarray
    variant: str
    distribution: str
    df: float | np.ndarray | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""

    @property
    def computed(self) -> bool:
        """False for a placeholder made by :meth:`not_computed`."""
        return not self.reason

    @classmethod
    def not_computed(cls, name: str, n: int, reason: str) -> TestResult:
        """The row of test ``name`` that was not run on ``n`` usable firms, and why."""
        if not reason:
            raise ValueError(f"not_computed({name!r}) needs the reason the test was not run")
        return cls(name, float("nan"), float("nan"), n, "", "-", reason=reason)
