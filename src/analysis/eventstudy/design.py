"""Event-study design: windows, input checks, returns in event time, days other news touches."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analysis._io import file_stamp
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
    #: (N, L1) days in each firm's estimation sample (None: every day of the window); a day
    #: outside it (before the firm's extended start, or excluded) has NaN returns and regressors
    est_keep: np.ndarray | None = None
    #: days left out of the estimation window: (firm, date, reason)
    excluded: tuple[tuple[str, pd.Timestamp, str], ...] = ()
    #: (N,) valid estimation days each firm lacks because the price data run out (None: no
    #: exclusions asked for)
    shortfall: np.ndarray | None = None

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
    excluded: Mapping[str, Mapping[pd.Timestamp, str]] | None = None,
    firm_factors: Mapping[str, Sequence[str]] | None = None,
) -> EventDesign:
    """Arrange ``returns`` (session x symbol, firms and regressors) around each firm's day 0.

    ``excluded`` (firm -> session -> reason) leaves those days out of the firm's estimation window,
    which then reaches back until it again holds as many valid days as the requested window has
    sessions (:func:`extend_estimation`); the event window is never touched.
    ``firm_factors`` (firm -> columns of ``returns``) gives each firm its own regressor series in
    place of ``spec.factors`` (benchmarks without the firm); where the firms' market series
    differ, the design has no shared market series (``market_est`` None: no Lamb test).
    """
    sessions = returns.index
    firms = tuple(f for f, _ in pairs)
    regressors = (
        set(spec.factors)
        if firm_factors is None
        else {c for f in firms for c in firm_factors.get(f, ())}
    )
    if firm_factors is not None:
        short = [f for f in firms if len(firm_factors.get(f, ())) != len(spec.factors)]
        if short:
            raise SpecificationError(
                f"firm_factors must give {len(spec.factors)} regressor column(s) for each firm; "
                f"wrong for {', '.join(short)}"
            )
    missing = sorted(
        {f for f in firms if f not in returns.columns}
        | {f for f in regressors if f not in returns.columns}
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
    if firm_factors is None:
        fac = np.array([col[f] for f in spec.factors], dtype=np.int64)
    else:
        fac = np.array([[col[c] for c in firm_factors[f]] for f in firms], dtype=np.int64)
        fac = fac.reshape(len(firms), len(spec.factors))
    if excluded is None:
        return _arrange(R, sessions, pairs, spec, pos0, est_days, evt_days, fi, fac)
    return _with_exclusions(R, sessions, pairs, spec, estimation, pos0, evt_days, excluded, fi, fac)


def _arrange(
    R: np.ndarray,
    sessions: pd.DatetimeIndex,
    pairs: Sequence[tuple[str, calendar.Day0]],
    spec: ModelSpec,
    pos0: np.ndarray,
    est_days: np.ndarray,
    evt_days: np.ndarray,
    fi: np.ndarray,
    fac: np.ndarray,
) -> EventDesign:
    """The returns ``R`` (session x symbol) in event time; an estimation day before the first
    session reads session 0 (the caller masks it)."""
    ie = np.maximum(pos0[:, None] + est_days[None, :], 0)
    iv = pos0[:, None] + evt_days[None, :]
    y_est = R[ie, fi[:, None]]
    y_evt = R[iv, fi[:, None]]
    if fac.ndim == 1:
        RF = R[:, fac]  # select the regressor columns first: R[ie] would copy every symbol
        F_est = RF[ie]
        F_evt = RF[iv]
    else:  # (N, k): each firm's own regressor columns
        F_est = R[ie[..., None], fac[:, None, :]]
        F_evt = R[iv[..., None], fac[:, None, :]]
    k = fac.shape[-1]
    shared = fac.ndim == 1 or len({int(c) for c in fac[:, 0]}) <= 1
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
        firms=tuple(f for f, _ in pairs),
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
        market_est=F_est[..., 0] if k and shared else None,
        market_evt=F_evt[..., 0] if k and shared else None,
    )


def extend_estimation(valid: np.ndarray, end: int, need: int) -> tuple[int, int]:
    """Where a firm's estimation window starts when excluded days are left out.

    ``valid`` marks the sessions with a usable return (firm and regressors present, day not
    excluded); the window ends at position ``end`` and reaches back, day by day, until it holds
    ``need`` valid days or the data run out (position 1: returns start one session after the
    first price). Returns (start position, shortfall); the start is the earliest valid day kept
    (``end`` when there is none) and the shortfall is ``need`` minus the valid days found.
    """
    found = np.flatnonzero(valid[1 : end + 1]) + 1
    kept = found[-need:] if need > 0 else found[:0]
    start = int(kept[0]) if kept.size else end
    return start, need - int(kept.size)


def _with_exclusions(
    R: np.ndarray,
    sessions: pd.DatetimeIndex,
    pairs: Sequence[tuple[str, calendar.Day0]],
    spec: ModelSpec,
    estimation: Window,
    pos0: np.ndarray,
    evt_days: np.ndarray,
    excluded: Mapping[str, Mapping[pd.Timestamp, str]],
    fi: np.ndarray,
    fac: np.ndarray,
) -> EventDesign:
    """The design with each firm's excluded days left out and its window extended backwards."""
    firms = [f for f, _ in pairs]
    need = estimation[1] - estimation[0] + 1
    starts, shortfall, drops = [], [], []
    for i, firm in enumerate(firms):
        own = fac if fac.ndim == 1 else fac[i]
        ok_all = np.isfinite(R[:, own]).all(axis=1) if len(own) else np.ones(len(R), dtype=bool)
        drop = np.zeros(len(sessions), dtype=bool)
        where = sessions.get_indexer(pd.DatetimeIndex(list(excluded.get(firm, {}))))
        drop[where[where >= 0]] = True
        end = int(pos0[i]) + estimation[1]
        start, short = extend_estimation(ok_all & np.isfinite(R[:, fi[i]]) & ~drop, end, need)
        starts.append(start)
        shortfall.append(short)
        drops.append(drop)
    first = min(min(s - int(p) for s, p in zip(starts, pos0, strict=True)), estimation[0])
    est_days = np.arange(first, estimation[1] + 1)
    base = _arrange(R, sessions, pairs, spec, pos0, est_days, evt_days, fi, fac)
    ie = pos0[:, None] + est_days[None, :]
    keep = np.zeros(ie.shape, dtype=bool)
    listed: list[tuple[str, pd.Timestamp, str]] = []
    est_dates = base.est_dates.copy()
    for i, firm in enumerate(firms):
        inside = ie[i] >= starts[i]
        keep[i] = inside & ~drops[i][np.maximum(ie[i], 0)]
        est_dates[i, ~inside] = np.datetime64("NaT")
        reasons = excluded.get(firm, {})
        for j in np.flatnonzero(inside & ~keep[i]):
            day = pd.Timestamp(sessions[ie[i, j]])
            listed.append((firm, day, reasons[day]))
    nan = np.where(keep, 0.0, np.nan)
    any_keep = np.where(keep.any(axis=0), 0.0, np.nan)
    return replace(
        base,
        est_dates=est_dates,
        y_est=base.y_est + nan,
        X_est=base.X_est + nan[..., None],
        off_est=None if base.off_est is None else base.off_est + nan,
        market_est=None if base.market_est is None else base.market_est + any_keep,
        est_keep=keep,
        excluded=tuple(listed),
        shortfall=np.array(shortfall, dtype=int),
    )


#: The words ``exclude=`` understands besides dates.
EXCLUDE_WORDS: tuple[str, ...] = ("events", "earnings")


def parse_exclude(value: object) -> tuple[str | pd.Timestamp, ...]:
    """The items of ``exclude=``: ``"events"``, ``"earnings"`` and session dates, from a
    comma-separated string (``"events,earnings,2023-05-25"``) or a list; repeats dropped."""
    from analysis.data.dates import parse_date

    how = "give 'events', 'earnings' or dates YYYY-MM-DD, e.g. 'events,2023-05-25'"
    if isinstance(value, str):
        raw: list[object] = [part.strip() for part in value.split(",")]
    elif isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        raw = [v.strip() if isinstance(v, str) else v for v in value]
    else:
        raise SpecificationError(f"exclude must be a string or a list; {how}; got {value!r}")
    if not raw or any(v == "" for v in raw):
        raise SpecificationError(f"exclude has an empty item ({value!r}); {how}")
    items: list[str | pd.Timestamp] = []
    for v in raw:
        if isinstance(v, str) and v.lower() in EXCLUDE_WORDS:
            item: str | pd.Timestamp = v.lower()
        elif isinstance(v, str) and not v[:1].isdigit():
            raise SpecificationError(f"exclude: unknown item {v!r}; {how}")
        else:
            item = parse_date(v, "exclude")
            if not calendar.is_session(item):
                raise SpecificationError(
                    f"exclude: {item.date()} is not an NYSE session "
                    f"({calendar.closed_reason(item)}); give the trading day to leave out"
                )
        if item not in items:
            items.append(item)
    return tuple(items)


@dataclass(frozen=True)
class Confounder:
    """A session another piece of news touches: a registry event's window day or an earnings
    reaction day, with the reason ``exclude=`` records for it."""

    date: pd.Timestamp
    kind: str  # "registry event" or "earnings"
    day0: pd.Timestamp  # the event's or the announcement's day 0
    source: str  # the event id or the fiscal period
    title: str  # the event title or the earnings announcement
    reason: str


def _registry_windows(
    own: set[str], window: Window, sessions: pd.DatetimeIndex
) -> list[Confounder]:
    """The sessions in the ``window`` of every market-observable registry event not in ``own``,
    event by event (cached: the registry file's path and modification time are in the key)."""
    from analysis.data import events

    path = events._registry_path(None)
    days = sessions.to_numpy()
    key = (str(days.dtype), days.tobytes())
    return list(_registry_windows_cached(frozenset(own), window, key, str(path), file_stamp(path)))


@functools.lru_cache(maxsize=64)
def _registry_windows_cached(
    own: frozenset[str],
    window: Window,
    sessions_key: tuple[str, bytes],
    path: str,
    mtime_ns: int,
) -> tuple[Confounder, ...]:
    from analysis.data import events

    dtype, raw = sessions_key
    sessions = pd.DatetimeIndex(np.frombuffer(raw, dtype=dtype))
    out: list[Confounder] = []
    for ev in events.registry_events(path=path):
        if ev.event_id in own or ev.unusable_reason() is not None:
            continue
        d0 = ev.day0().day0
        p = sessions.searchsorted(d0)
        if p >= len(sessions) or sessions[p] != d0:
            continue
        lo, hi = max(p + window[0], 0), min(p + window[1], len(sessions) - 1)
        why = (
            f"{ev.event_id} window {calendar.format_window(window)} around its day 0 "
            f"{d0.date()}: {ev.title}"
        )
        out += [
            Confounder(day, "registry event", d0, ev.event_id, ev.title, why)
            for day in sessions[lo : hi + 1]
        ]
    return tuple(out)


def _event_window_days(
    own: set[str], window: Window, sessions: pd.DatetimeIndex
) -> dict[pd.Timestamp, str]:
    """The sessions in the ``window`` of every market-observable registry event not in ``own``."""
    out: dict[pd.Timestamp, str] = {}
    for c in _registry_windows(own, window, sessions):
        out[c.date] = f"{out[c.date]}; {c.reason}" if c.date in out else c.reason
    return out


def _earnings_table(symbol: str) -> pd.DataFrame | None:
    """The firm's earnings reaction sessions (``analysis.data.earnings``; columns date,
    fiscal_period, reason, ...), or None when this installation has no earnings table."""
    try:
        from analysis.data.earnings import earnings_reaction_days
    except ModuleNotFoundError as exc:
        if exc.name != "analysis.data.earnings":
            raise
        return None
    return earnings_reaction_days(symbol)


def _earnings_days(symbol: str) -> dict[pd.Timestamp, str]:
    """The firm's earnings reaction sessions (``analysis.data.earnings``) with their reasons."""
    table = _earnings_table(symbol)
    if table is None:
        raise SpecificationError(
            "exclude='earnings': earnings dates are not available (this installation has no "
            "analysis.data.earnings table); leave 'earnings' out or list the days as dates"
        )
    if table.empty:
        raise SpecificationError(
            f"exclude='earnings': the earnings table has no dates for {symbol}; leave 'earnings' "
            "out or list that firm's days as dates"
        )
    return {
        pd.Timestamp(d).normalize(): str(r)
        for d, r in zip(table["date"], table["reason"], strict=True)
    }


def exclusion_days(
    items: Sequence[str | pd.Timestamp],
    resolved: Mapping[str, tuple[object | None, calendar.Day0]],
    window: Window,
    sessions: pd.DatetimeIndex,
) -> dict[str, dict[pd.Timestamp, str]]:
    """Per firm (``resolved``: firm -> (registry event or None, day 0)) the sessions ``items``
    (from :func:`parse_exclude`) leave out of its estimation window, each with its reason; a day
    named twice keeps both reasons."""
    own = {getattr(ev, "event_id", "") for ev, _ in resolved.values()} - {""}
    shared = _event_window_days(own, window, sessions) if "events" in items else {}
    out: dict[str, dict[pd.Timestamp, str]] = {}
    for firm in resolved:
        days: dict[pd.Timestamp, str] = {}
        sources = [shared]
        if "earnings" in items:
            sources.append(_earnings_days(firm))
        sources.append({d: "date given in exclude" for d in items if isinstance(d, pd.Timestamp)})
        for source in sources:
            for day, why in source.items():
                days[day] = f"{days[day]}; {why}" if day in days else why
        out[firm] = days
    return out


#: Longest gap, in calendar days, between a firm's consecutive earnings announcements (or from a
#: span's edge to the nearest announcement) that ``exclude="earnings"`` accepts as complete:
#: quarterly reports come about 91 days apart, rarely more than 100.
EARNINGS_MAX_GAP_DAYS = 120


def check_earnings_coverage(
    firm: str, announced: Sequence[pd.Timestamp], dates: np.ndarray
) -> None:
    """Refuse ``exclude="earnings"`` when the earnings table cannot hold every announcement in the
    span of ``dates`` (the firm's estimation sample): a gap of more than
    :data:`EARNINGS_MAX_GAP_DAYS` between consecutive known reaction days, or between the span's
    first or last day and the nearest known one, means quarters are missing, and the cleaning would
    silently keep their reaction days."""
    span = pd.DatetimeIndex(dates[~pd.isna(dates)])
    if span.empty:
        return
    first, last = span.min(), span.max()
    known = sorted(pd.Timestamp(d) for d in announced)
    inside = [d for d in known if first <= d <= last]
    before = [d for d in known if d < first]
    after = [d for d in known if d > last]
    marks = ([before[-1]] if before else [first]) + inside + ([after[0]] if after else [last])
    for a, b in zip(marks, marks[1:], strict=False):
        if (b - a).days > EARNINGS_MAX_GAP_DAYS:
            raise SpecificationError(
                f"exclude='earnings': the earnings table (data/earnings.csv) has no {firm} "
                f"announcement between {a:%Y-%m-%d} and {b:%Y-%m-%d} ({(b - a).days} days), inside "
                f"the estimation sample {first:%Y-%m-%d}..{last:%Y-%m-%d}; quarters are missing, "
                "so their reaction days would stay in the fit. Add the missing dates with a source, "
                "or leave 'earnings' out"
            )


def check_earnings_exclusion(design: EventDesign) -> None:
    """:func:`check_earnings_coverage` for every firm of ``design`` on its estimation sample."""
    for i, firm in enumerate(design.firms):
        keep = design.est_keep[i] if design.est_keep is not None else slice(None)
        check_earnings_coverage(firm, list(_earnings_days(firm)), design.est_dates[i][keep])


#: Columns of :func:`confounder_table`.
CONFOUNDER_COLUMNS: tuple[str, ...] = (
    "firm",
    "date",
    "rel_day",
    "where",
    "kind",
    "id",
    "news_day0",
    "title",
)


def _sessions_around(first: pd.Timestamp, last: pd.Timestamp, window: Window) -> pd.DatetimeIndex:
    """NYSE sessions from ``first`` to ``last``, widened so that every event whose ``window``
    reaches into that span has its day 0 on the grid (clipped at the calendar's bounds)."""
    ends = []
    for day, n in ((first, -max(window[1], 0)), (last, max(-window[0], 0))):
        try:
            ends.append(calendar.offset(day, n))
        except CalendarError:
            ends.append(day)
    return calendar.sessions(*ends)


def confounder_table(design: EventDesign, window: Window, event_id: str | None) -> pd.DataFrame:
    """Other news on the days a study uses: per firm, each session of its event window and of
    its estimation sample (the days actually fitted: with ``exclude=`` the excluded days are no
    longer there) that lies in another registry event's ``window`` or is one of the firm's
    earnings reaction days (none where the earnings table has no rows for the firm).

    The days are those ``exclude="events,earnings"`` leaves out (:func:`exclusion_days`), on the
    NYSE session grid. The study's own event (``event_id``; for studies without one, every
    registry event whose day 0 is a firm's day 0) is not a confounder. One row per firm, day and
    piece of news (a day in two events' windows has two rows); columns
    :data:`CONFOUNDER_COLUMNS`: ``where`` is "event window" or "estimation window", ``rel_day``
    the trading day relative to the firm's day 0, ``kind`` "registry event" (``id`` the event
    id, ``title`` its title) or "earnings" (``id`` the fiscal period, ``title`` the
    announcement), ``news_day0`` the day 0 of that event or announcement.
    """
    dates = np.concatenate([design.est_dates.ravel(), design.evt_dates.ravel()])
    dates = dates[~np.isnat(dates)]
    grid = _sessions_around(pd.Timestamp(dates.min()), pd.Timestamp(dates.max()), window)
    news = _registry_windows({event_id} if event_id else set(), window, grid)
    if not event_id:
        own_days = {d.day0 for d in design.day0}
        news = [c for c in news if c.day0 not in own_days]
    rows = []
    for i, firm in enumerate(design.firms):
        kept = ~np.isnat(design.est_dates[i]) if design.est_keep is None else design.est_keep[i]
        place = {
            pd.Timestamp(t): ("estimation window", int(r))
            for t, r in zip(design.est_dates[i][kept], design.est_days[kept], strict=True)
        }
        place.update(
            {
                pd.Timestamp(t): ("event window", int(r))
                for t, r in zip(design.evt_dates[i], design.evt_days, strict=True)
            }
        )
        table = _earnings_table(firm)
        own_news = list(news)
        if table is not None:
            own_news += [
                Confounder(pd.Timestamp(d).normalize(), "earnings", pd.Timestamp(d), fp, r, r)
                for d, fp, r in zip(
                    table["date"], table["fiscal_period"], table["reason"], strict=True
                )
            ]
        for c in own_news:
            if c.date in place:
                where, rel = place[c.date]
                rows.append((firm, c.date, rel, where, c.kind, c.source, c.day0, c.title))
    out = pd.DataFrame(rows, columns=list(CONFOUNDER_COLUMNS))
    out["date"] = pd.to_datetime(out["date"])
    out["news_day0"] = pd.to_datetime(out["news_day0"])
    order = {f: i for i, f in enumerate(design.firms)}
    out = out.sort_values(
        ["firm", "date", "kind", "id"], key=lambda c: c.map(order) if c.name == "firm" else c
    )
    return out.reset_index(drop=True)


def contamination(table: pd.DataFrame, firms: Sequence[str]) -> pd.DataFrame:
    """Per firm, from :func:`confounder_table`: the confounded days in the event window and in
    the estimation window, the registry events and earnings announcements involved, and
    ``contaminated`` (True when either window holds any confounder)."""
    out = pd.DataFrame(index=pd.Index(list(firms), name="firm"))
    for where, col in (
        ("event window", "event_window_days"),
        ("estimation window", "estimation_window_days"),
    ):
        sub = table[table["where"] == where]
        out[col] = (
            sub.groupby("firm")["date"].nunique().reindex(out.index, fill_value=0).astype(int)
        )
    for kind, col in (("registry event", "registry_events"), ("earnings", "earnings")):
        ids = table[table["kind"] == kind].groupby("firm")["id"].unique()
        out[col] = [", ".join(ids[f]) if f in ids.index else "" for f in out.index]
    out["contaminated"] = (out["event_window_days"] + out["estimation_window_days"]) > 0
    return out
