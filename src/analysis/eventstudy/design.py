"""Event-study design: windows in trading days, symbol and alpha checks, returns in event time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data import calendar
from analysis.errors import CalendarError, DataError, SpecificationError
from analysis.eventstudy.models import ModelSpec

Window = tuple[int, int]


def as_window(value: Window | str | Sequence[int], what: str) -> Window:
    """``(a, b)`` from a pair of whole numbers or ``"a:b"``; ``what`` names the window in errors."""
    if isinstance(value, str):
        return calendar.parse_window(value)
    try:
        a, b = value
        if any(isinstance(v, bool) or int(v) != v for v in (a, b)):
            raise ValueError
        a, b = int(a), int(b)
    except (TypeError, ValueError):
        raise SpecificationError(
            f"{what} window must be two integers like (-1, 3) or '-1:3', got {value!r}"
        ) from None
    if a > b:
        raise SpecificationError(
            f"{what} window {calendar.format_window((a, b))} starts after it ends"
        )
    return a, b


def as_symbols(value: object, what: str = "symbols", example: str = "'NVDA'") -> list[str]:
    """Normalized symbols from one symbol or a list of them (a string is one symbol, never its
    letters); ``what`` and ``example`` name the argument in the error."""
    from analysis.data.prices import normalize_symbol

    if isinstance(value, str):
        items = [value]
    elif isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        items = list(value)
    else:
        second = "'AMD'" if example == "'NVDA'" else "'SOXX'"
        raise SpecificationError(
            f"{what} must be a symbol such as {example} or a list of symbols such as "
            f"[{example}, {second}], got {value!r}"
        )
    return [normalize_symbol(s) for s in items]


def check_alpha(alpha: object) -> float:
    """A significance level strictly between 0 and 1, else a clear error."""
    number = isinstance(alpha, int | float | np.floating) and not isinstance(alpha, bool)
    if number and 0 < float(alpha) < 1:  # type: ignore[arg-type]
        return float(alpha)  # type: ignore[arg-type]
    raise SpecificationError(
        f"alpha must be a probability strictly between 0 and 1 (e.g. 0.05), got {alpha!r}"
    )


def check_windows(estimation: Window, window: Window) -> None:
    """The estimation and event windows must not overlap."""
    a, b = estimation
    c, d = window
    if not (b < c or d < a):
        raise SpecificationError(
            f"estimation window {calendar.format_window(estimation)} overlaps the event window "
            f"{calendar.format_window(window)}; end the estimation window before day {c}"
        )


@dataclass(frozen=True)
class EventDesign:
    """Returns arranged in event time for N firm-events (all numpy, ready for :func:`fit_arrays`)."""

    firms: tuple[str, ...]
    day0: tuple[calendar.Day0, ...]
    est_days: np.ndarray  # (L1,) relative days
    evt_days: np.ndarray  # (L2,) relative days
    est_dates: np.ndarray  # (N, L1) datetime64[ns]
    evt_dates: np.ndarray  # (N, L2)
    y_est: np.ndarray
    y_evt: np.ndarray
    X_est: np.ndarray
    X_evt: np.ndarray
    off_est: np.ndarray | None
    off_evt: np.ndarray | None
    market_est: np.ndarray | None  # (N, L1) first regressor (Lamb test)
    market_evt: np.ndarray | None

    @property
    def shared_date(self) -> bool:
        """Whether every firm has the same day 0."""
        return len({d.day0 for d in self.day0}) == 1


def build_design(
    returns: pd.DataFrame,
    pairs: Sequence[tuple[str, calendar.Day0]],
    spec: ModelSpec,
    estimation: Window,
    window: Window,
) -> EventDesign:
    """Arrange ``returns`` (session x symbol, firms and regressors) around each firm's day 0."""
    sessions = returns.index
    firms = tuple(f for f, _ in pairs)
    missing = sorted(
        {f for f in firms if f not in returns.columns}
        | {f for f in spec.factors if f not in returns.columns}
    )
    if missing:
        raise DataError(f"no returns for {', '.join(missing)}")
    est_days = np.arange(estimation[0], estimation[1] + 1)
    evt_days = np.arange(window[0], window[1] + 1)
    pos0 = np.empty(len(pairs), dtype=np.int64)
    for i, (firm, d0) in enumerate(pairs):
        p = sessions.searchsorted(d0.day0)
        if p >= len(sessions) or sessions[p] != d0.day0:
            raise CalendarError(
                f"day 0 {d0.day0.date()} for {firm} is outside the price data "
                f"({sessions[0].date()} to {sessions[-1].date()}); import or fetch prices that cover it"
            )
        lo, hi = p + min(est_days[0], evt_days[0]), p + max(est_days[-1], evt_days[-1])
        if lo < 1 or hi >= len(sessions):
            need_lo = calendar.offset(d0.day0, int(min(est_days[0], evt_days[0])))
            need_hi = calendar.offset(d0.day0, int(max(est_days[-1], evt_days[-1])))
            raise CalendarError(
                f"{firm}: the windows {calendar.format_window(estimation)} and "
                f"{calendar.format_window(window)} around day 0 {d0.day0.date()} need returns from "
                f"{need_lo.date()} to {need_hi.date()}, but the price data cover "
                f"{sessions[1].date()} to {sessions[-1].date()} (returns start one session after "
                "the first price); shorten the windows or load more history"
            )
        pos0[i] = p
    col = {c: j for j, c in enumerate(returns.columns)}
    R = returns.to_numpy(dtype=float)
    fi = np.array([col[f] for f in firms])
    ie = pos0[:, None] + est_days[None, :]
    iv = pos0[:, None] + evt_days[None, :]
    y_est = R[ie, fi[:, None]]
    y_evt = R[iv, fi[:, None]]
    fac = np.array([col[f] for f in spec.factors], dtype=np.int64)
    RF = R[:, fac]  # select the regressor columns first: R[ie] would copy every symbol
    F_est = RF[ie]
    F_evt = RF[iv]
    off_est = off_evt = None
    if spec.name == "market_adjusted":
        off_est, off_evt = F_est[..., 0], F_evt[..., 0]
        X_est = np.zeros(y_est.shape + (0,))
        X_evt = np.zeros(y_evt.shape + (0,))
    else:
        X_est = np.concatenate([np.ones(y_est.shape + (1,)), F_est], axis=2)
        X_evt = np.concatenate([np.ones(y_evt.shape + (1,)), F_evt], axis=2)
        if spec.name == "constant_mean":
            X_est, X_evt = X_est[..., :1], X_evt[..., :1]
    dates = sessions.to_numpy()
    return EventDesign(
        firms=firms,
        day0=tuple(d for _, d in pairs),
        est_days=est_days,
        evt_days=evt_days,
        est_dates=dates[ie],
        evt_dates=dates[iv],
        y_est=y_est,
        y_evt=y_evt,
        X_est=X_est,
        X_evt=X_evt,
        off_est=off_est,
        off_evt=off_evt,
        market_est=F_est[..., 0] if len(fac) else None,
        market_evt=F_evt[..., 0] if len(fac) else None,
    )
