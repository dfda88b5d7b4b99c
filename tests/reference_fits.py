"""Per-firm statsmodels reference fits that the vectorized model fits are held to."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm
from statsmodels.regression.linear_model import RegressionResultsWrapper


def fit_statsmodels(y: np.ndarray, X: np.ndarray) -> RegressionResultsWrapper:
    """OLS of one firm's returns ``y`` (L,) on its design ``X`` (L, k) with statsmodels, the days
    with a missing return or regressor dropped; the vectorized fit must equal it to 1e-10."""
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    ok = np.isfinite(y) & np.isfinite(X.sum(axis=-1))
    return sm.OLS(y[ok], X[ok]).fit()
