"""Synthetic matching for one firm's returns: ``synthetic_study`` and ``SyntheticResults``.

The counterfactual return is a convex combination of donor firms' returns whose weights best
match the firm on the estimation window (Acemoglu et al. 2016; Kreitmeir, Lane & Raschky, "The
value of names - civil society, information, and governing multinationals", and the R package
synthReturn of Kreitmeir & Duben); inference ranks the firm among in-space placebos, each donor
matched from the others (Abadie, Diamond & Hainmueller 2010). Formula (26), docs/formulas.md.

>>> import analysis as an
>>> res = an.synthetic_study("NVDA", "E08", donors="untouched")   # doctest: +SKIP
>>> res.weights              # donor weights (>= 0, sum 1)
>>> res.tests()["permutation"].pvalue
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, cast

import numpy as np
import pandas as pd

from analysis import _simplex
from analysis._export import ExportMixin
from analysis._summary import Summary, SummaryMixin
from analysis.data import calendar
from analysis.errors import CalendarError, DataError, EstimationError, SpecificationError
from analysis.eventstudy import _paper_tables
from analysis.eventstudy import _synthetic_kernels as kern
from analysis.eventstudy.design import (
    Window,
    as_symbols,
    as_window,
    check_alpha,
    check_earnings_coverage,
    check_windows,
    exclusion_days,
    extend_estimation,
    parse_exclude,
)
from analysis.eventstudy.models import MIN_ESTIMATION_DEFAULT
from analysis.eventstudy.returns import ReturnKind
from analysis.eventstudy.tables import EventDay, TestRow, TestTable, fmt, num

#: The donor group of ``data/peer_groups.yaml`` used when none is given.
DEFAULT_DONORS = "untouched"
#: Statistics :meth:`SyntheticResults.tests` can rank (formula (26c), docs/formulas.md).
STATISTICS = kern.STATISTICS
#: Weights below this are shown as zero in tables and left out of the headline's top donors.
SHOWN_WEIGHT = 5e-4


def synthetic_study(
    symbol: str,
    event: str | calendar.Day0,
    donors: str | Sequence[str] = DEFAULT_DONORS,
    estimation: Window | str = "-250:-11",
    window: Window | str = "-1:3",
    exclude: str | Sequence[object] | None = None,
    *,
    statistic: str = "car_rmse",
    placebo_cutoff: float | None = None,
    return_kind: str = "simple",
    min_estimation: int = MIN_ESTIMATION_DEFAULT,
    prices: pd.DataFrame | None = None,
) -> SyntheticResults:
    """Match one firm's returns with a weighted basket of donors and test its event-window CAR.

    Parameters
    ----------
    symbol : str
        The firm (one ticker).
    event : str or Day0
        A registry id ("E08"), a date or a date and US Eastern time, as in ``event_study``.
    donors : str or list of str
        A peer group of ``data/peer_groups.yaml`` (default ``"untouched"``; the firm is left out
        of it) or at least two symbols. A donor without a return on a day the match uses is
        dropped (listed in ``dropped_donors``).
    estimation, window : (int, int) or "a:b"
        Trading days relative to day 0; they must not overlap.
    exclude : str or list, optional
        Days left out of the estimation window, as in ``event_study``: ``"events"``,
        ``"earnings"`` (the firm's) and dates. The window reaches back to refill them.
    statistic : {"car_rmse", "car", "rmspe_ratio"}
        What the permutation test ranks (formula (26c)); default |CAR| / pre-event RMSE.
    placebo_cutoff : float, optional
        Leave out placebos whose pre-event RMSE exceeds this multiple of the firm's (Abadie et
        al. 2010 trim at MSPE ratios 20, 5 and 2; Acemoglu et al. 2016 at sqrt(3) in RMSE).
    return_kind : {"simple", "log"}
    min_estimation : int
        Fewest estimation days the match may use.
    prices : DataFrame, optional
        Adjusted closes (date x symbol) to use instead of the price cache.
    """
    from analysis.data.prices import normalize_symbol
    from analysis.eventstudy.study import _resolve_event, price_returns

    firms = as_symbols(symbol, "symbol")
    if len(firms) != 1:
        raise SpecificationError(
            f"synthetic_study matches one firm; got {len(firms)} ({', '.join(firms)}): "
            "run it once per firm"
        )
    firm = firms[0]
    pool, group = _donor_pool(firm, donors)
    est_w = as_window(estimation, "estimation")
    evt_w = as_window(window, "event")
    check_windows(est_w, evt_w)
    _check_options(statistic, placebo_cutoff, min_estimation)
    kind = cast(ReturnKind, return_kind)  # returns_from_prices rejects any other kind
    items = None if exclude is None else parse_exclude(exclude)
    ev, d0 = _resolve_event(event)

    needed = [firm, *pool]
    if prices is not None and not isinstance(prices, pd.DataFrame):
        raise SpecificationError(
            "prices must be a DataFrame of adjusted closes (dates x symbols), "
            f"got {type(prices).__name__}"
        )
    rets, _, _ = price_returns(needed, prices, kind, lambda c: normalize_symbol(str(c)))

    days = _match_days(rets, firm, ev, d0, est_w, evt_w, items)
    est_pos, evt_pos = days["est"], days["evt"]
    if items is not None and "earnings" in items:
        from analysis.eventstudy.design import _earnings_days

        check_earnings_coverage(firm, list(_earnings_days(firm)), rets.index[est_pos].to_numpy())
    y_est = rets[firm].to_numpy(float)[est_pos]
    y_evt = rets[firm].to_numpy(float)[evt_pos]
    R = rets[pool].to_numpy(float)
    kept, dropped = [], []
    for j, donor in enumerate(pool):
        miss = ~np.isfinite(R[np.concatenate([est_pos, evt_pos]), j])
        if miss.any():
            first = rets.index[np.concatenate([est_pos, evt_pos])[miss]][0]
            dropped.append(
                (donor, f"no return on {int(miss.sum())} of the days used (first {first.date()})")
            )
        else:
            kept.append(j)
    if len(kept) < 2:
        raise DataError(
            f"{firm}: only {len(kept)} donor(s) have a return on every day the match uses "
            f"({len(est_pos)} estimation and {len(evt_pos)} event days); it needs at least two. "
            f"Dropped: {'; '.join(f'{d}: {why}' for d, why in dropped) or 'none'}"
        )
    if len(est_pos) < min_estimation:
        raise EstimationError(
            f"{firm}: {len(est_pos)} estimation days with a return, fewer than min_estimation="
            f"{min_estimation}; widen the estimation window or load more history"
        )
    R_est = R[np.ix_(est_pos, kept)]
    R_evt = R[np.ix_(evt_pos, kept)]
    w, placebos = _match(firm, y_est, R_est, R_evt)
    return SyntheticResults(
        firm=firm,
        event=ev,
        day0=d0,
        estimation=est_w,
        window=evt_w,
        return_kind=return_kind,
        group=group,
        donors=tuple(pool[j] for j in kept),
        dropped=tuple(dropped),
        est_dates=rets.index[est_pos],
        evt_dates=rets.index[evt_pos],
        y_est=_frozen(y_est),
        y_evt=_frozen(y_evt),
        R_est=_frozen(R_est),
        R_evt=_frozen(R_evt),
        w=w,
        placebos=placebos,
        statistic=statistic,
        placebo_cutoff=placebo_cutoff,
        exclude=items,
        excluded_days=tuple(days["excluded"]),
        shortfall=int(days["shortfall"]),
    )


def _match(
    firm: str, y_est: np.ndarray, R_est: np.ndarray, R_evt: np.ndarray
) -> tuple[np.ndarray, kern.Placebos]:
    """The firm's donor weights (26a) and the donors' placebo runs (26c), read-only."""
    fit = _simplex.simplex_lstsq(R_est, y_est)
    sigma = _simplex.rmse(y_est - R_est @ fit.weights)
    if not sigma > 1e-9 * max(float(np.std(y_est)), 1e-300):
        raise EstimationError(
            f"{firm}: the donors reproduce its estimation-window returns exactly (RMSE "
            f"{sigma:.2e}); is the firm among the donors under another name?"
        )
    pl = kern.placebo_runs(R_est, R_evt)
    placebos = kern.Placebos(
        ar=_frozen(pl.ar), sigma=_frozen(pl.sigma), weights=_frozen(pl.weights)
    )
    return _frozen(fit.weights), placebos


def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.array(a, dtype=float)
    out.setflags(write=False)
    return out


def _donor_pool(firm: str, donors: object) -> tuple[list[str], str | None]:
    """The donor symbols and the group they came from (None for a list)."""
    from analysis.data.events import peer_group, peer_groups

    if isinstance(donors, str):
        groups = peer_groups()
        if donors not in groups:
            raise SpecificationError(
                f"donors={donors!r} is not a peer group ({', '.join(groups)}; "
                "data/peer_groups.yaml); give a group name or a list of at least two symbols"
            )
        return [s for s in peer_group(donors) if s != firm], donors
    pool = as_symbols(donors, "donors", "'MSFT'")
    if firm in pool:
        raise SpecificationError(
            f"donors include the firm itself ({firm}); a firm cannot be its own control"
        )
    dups = sorted({s for s in pool if pool.count(s) > 1})
    if dups:
        raise SpecificationError(f"donors repeat: {', '.join(dups)}")
    if len(pool) < 2:
        raise SpecificationError(
            f"donors needs at least two symbols (each donor is matched from the others for the "
            f"permutation test); got {pool}"
        )
    return pool, None


def _check_options(statistic: str, cutoff: float | None, min_estimation: int) -> None:
    if statistic not in STATISTICS:
        raise SpecificationError(
            f"unknown permutation statistic {statistic!r}; valid: {', '.join(STATISTICS)}"
        )
    if cutoff is not None and (
        isinstance(cutoff, bool) or not isinstance(cutoff, int | float) or not cutoff >= 1
    ):
        raise SpecificationError(
            "placebo_cutoff must be a number >= 1 (a multiple of the firm's pre-event RMSE, e.g. "
            f"1.732 for sqrt(3)) or None, got {cutoff!r}"
        )
    if isinstance(min_estimation, bool) or not isinstance(min_estimation, int | np.integer):
        raise SpecificationError(
            f"min_estimation must be a whole number of estimation days (e.g. 30), got {min_estimation!r}"
        )


def _match_days(
    rets: pd.DataFrame,
    firm: str,
    ev: object | None,
    d0: calendar.Day0,
    est_w: Window,
    evt_w: Window,
    items: tuple[str | pd.Timestamp, ...] | None,
) -> dict[str, Any]:
    """Positions (in ``rets``) of the estimation days (the firm has a return, the day is not
    excluded) and event days, the excluded (date, reason) pairs and the shortfall."""
    idx = rets.index
    p = idx.searchsorted(d0.day0)
    if p >= len(idx) or idx[p] != d0.day0:
        raise CalendarError(
            f"day 0 {d0.day0.date()} for {firm} is outside the price data "
            f"({idx[0].date()} to {idx[-1].date()}); import or fetch prices that cover it"
        )
    lo, hi = p + min(est_w[0], evt_w[0]), p + max(est_w[1], evt_w[1])
    if (items is None and lo < 1) or hi >= len(idx):
        raise CalendarError(
            f"{firm}: the windows {calendar.format_window(est_w)} and "
            f"{calendar.format_window(evt_w)} around day 0 {d0.day0.date()} need returns beyond "
            f"the price data ({idx[1].date()} to {idx[-1].date()}; returns start one session "
            "after the first price); shorten the windows or load more history"
        )
    evt = p + np.arange(evt_w[0], evt_w[1] + 1)
    y = rets[firm].to_numpy(float)
    gap = evt[~np.isfinite(y[evt])]
    if len(gap):
        raise DataError(
            f"{firm} has no return on {idx[gap[0]].date()} (event day {int(gap[0] - p):+d}); "
            "the synthetic match needs every event-window return: fix the price series"
        )
    have = np.isfinite(y)
    end = p + est_w[1]
    if items is None:
        est = p + np.arange(est_w[0], est_w[1] + 1)
        return {"est": est[have[est]], "evt": evt, "excluded": [], "shortfall": 0}
    reasons = exclusion_days(items, {firm: (ev, d0)}, evt_w, idx)[firm]
    drop = np.zeros(len(idx), dtype=bool)
    where = idx.get_indexer(pd.DatetimeIndex(list(reasons)))
    drop[where[where >= 0]] = True
    start, short = extend_estimation(have & ~drop, end, est_w[1] - est_w[0] + 1)
    span = np.arange(start, end + 1)
    excluded = [(idx[i], reasons[idx[i]]) for i in span[drop[span]]]
    est = span[have[span] & ~drop[span]]
    return {"est": est, "evt": evt, "excluded": excluded, "shortfall": short}


@dataclass(frozen=True, repr=False, eq=False)
class SyntheticResults(SummaryMixin, ExportMixin):
    """Results of :func:`synthetic_study` (immutable). ``params``/``weights`` hold the donor
    weights, ``ar`` and ``car`` the abnormal returns against the synthetic match, ``tests()`` the
    placebo permutation test and ``conf_int()`` the interval that inverts it."""

    _paper_table = _paper_tables.synthetic_table
    _export_sheets = _paper_tables.synthetic_sheets

    firm: str
    event: object | None
    day0: calendar.Day0
    estimation: Window
    window: Window
    return_kind: str
    group: str | None
    donors: tuple[str, ...]
    dropped: tuple[tuple[str, str], ...]
    est_dates: pd.DatetimeIndex
    evt_dates: pd.DatetimeIndex
    y_est: np.ndarray
    y_evt: np.ndarray
    R_est: np.ndarray
    R_evt: np.ndarray
    w: np.ndarray
    placebos: kern.Placebos
    statistic: str = "car_rmse"
    placebo_cutoff: float | None = None
    exclude: tuple[str | pd.Timestamp, ...] | None = None
    excluded_days: tuple[tuple[pd.Timestamp, str], ...] = ()
    shortfall: int = 0

    @cached_property
    def excluded(self) -> pd.DataFrame:
        """Estimation days left out by ``exclude``: columns date, reason (empty without it)."""
        out = pd.DataFrame(list(self.excluded_days), columns=["date", "reason"])
        out["date"] = pd.to_datetime(out["date"])
        return out

    # ---- estimates -------------------------------------------------------------------------
    @cached_property
    def params(self) -> pd.Series:
        """The donor weights (w >= 0, sum 1), one per donor used."""
        return pd.Series(np.array(self.w), index=pd.Index(self.donors, name="donor"), name="weight")

    @property
    def weights(self) -> pd.Series:
        """Same as :attr:`params`."""
        return self.params

    @property
    def event_day(self) -> EventDay:
        return EventDay.from_day0(self.day0)

    @property
    def rel_days(self) -> np.ndarray:
        return np.arange(self.window[0], self.window[1] + 1)

    @cached_property
    def synthetic(self) -> pd.Series:
        """The counterfactual return w'R_t on each event day."""
        return pd.Series(self.R_evt @ self.w, index=self._day_index, name="synthetic")

    @cached_property
    def ar(self) -> pd.Series:
        """Abnormal returns AR_t = r_t - w'R_t on the event days (index: relative day)."""
        return pd.Series(self.y_evt - self.R_evt @ self.w, index=self._day_index, name=self.firm)

    @property
    def car(self) -> float:
        """Cumulative abnormal return over the event window."""
        return float(self.ar.sum())

    @property
    def _day_index(self) -> pd.Index:
        return pd.Index(self.rel_days, name="day")

    @cached_property
    def residuals(self) -> pd.Series:
        """Estimation-window tracking errors r_t - w'R_t (index: date)."""
        return pd.Series(
            self.y_est - self.R_est @ self.w, index=pd.Index(self.est_dates, name="date")
        )

    @property
    def rmse(self) -> float:
        """Pre-event fit sqrt(mean(e_t^2)) over the estimation days (Acemoglu et al. 2016, eq. 8)."""
        return _simplex.rmse(self.residuals.to_numpy())

    @property
    def r2(self) -> float:
        """1 - SSR / total sum of squares of the firm's estimation returns about their mean."""
        e = self.residuals.to_numpy()
        y = self.y_est
        return float(1 - np.sum(e**2) / np.sum((y - y.mean()) ** 2))

    @property
    def n_estimation(self) -> int:
        return len(self.est_dates)

    @cached_property
    def placebo_table(self) -> pd.DataFrame:
        """Per donor treated as a placebo: its CAR, pre-event RMSE, the test statistic, whether the
        test uses it (``placebo_cutoff``) and its largest weight on another donor."""
        pl = self.placebos
        car = pl.ar.sum(axis=1)
        stats = self._placebo_stats(self.statistic)
        top = np.argmax(pl.weights, axis=1)
        return pd.DataFrame(
            {
                "car": car,
                "rmse": pl.sigma,
                "stat": stats,
                "used": self._placebo_used(self.placebo_cutoff),
                "top_donor": [self.donors[k] for k in top],
                "top_weight": pl.weights[np.arange(len(top)), top],
            },
            index=pd.Index(self.donors, name="donor"),
        )

    def without(self, donor: str) -> SyntheticResults:
        """The same study with ``donor`` taken out of the pool: the firm's weights refitted and
        the placebos run again among the remaining donors (listed in ``dropped_donors``)."""
        if donor not in self.donors:
            raise SpecificationError(
                f"{donor!r} is not a donor of this match; donors: {', '.join(self.donors)}"
            )
        if len(self.donors) < 3:
            raise SpecificationError(
                f"leaving out {donor} would leave one donor; the permutation test needs two"
            )
        keep = np.array([d != donor for d in self.donors])
        R_est, R_evt = self.R_est[:, keep], self.R_evt[:, keep]
        w, placebos = _match(self.firm, self.y_est, R_est, R_evt)
        return replace(
            self,
            donors=tuple(d for d in self.donors if d != donor),
            dropped=(*self.dropped, (donor, "left out of the pool (without)")),
            R_est=_frozen(R_est),
            R_evt=_frozen(R_evt),
            w=w,
            placebos=placebos,
        )

    @cached_property
    def _leave_one_out(self) -> pd.DataFrame:
        from analysis.errors import AnalysisError

        rows = []
        for j in np.argsort(-self.w, kind="stable"):
            if not self.w[j] >= SHOWN_WEIGHT:
                break
            row: dict[str, Any] = {"left_out": self.donors[j], "weight": float(self.w[j])}
            try:
                sub = self.without(self.donors[j])
                tt = sub.tests()["permutation"]
                k = int(np.argmax(sub.w))
                row |= {"car": sub.car, "rmse": sub.rmse, "pvalue": tt.pvalue}
                row |= {"top_donor": sub.donors[k], "top_weight": float(sub.w[k])}
                row["reason"] = tt.reason if not np.isfinite(tt.pvalue) else ""
            except AnalysisError as exc:
                row |= {"car": np.nan, "rmse": np.nan, "pvalue": np.nan, "top_donor": None}
                row |= {"top_weight": np.nan, "reason": str(exc)}
            rows.append(row)
        return pd.DataFrame(rows).set_index("left_out")

    def leave_one_out(self) -> pd.DataFrame:
        """The match refitted without each donor shown with a weight (at least
        :data:`SHOWN_WEIGHT`), one at a time (Abadie, Diamond & Hainmueller 2015, robustness: no
        single donor, one the event may have moved too, should drive the result). Per donor left
        out (index ``left_out``, by its weight in this match): that ``weight``, the new ``car``,
        pre-event ``rmse``, permutation ``pvalue`` (placebos among the remaining donors, this
        match's statistic and cutoff), the new largest weight (``top_donor``, ``top_weight``) and
        ``reason`` (empty, or why that refit or its test could not be computed)."""
        if len(self.donors) < 3:
            raise SpecificationError(
                f"leave-one-out needs at least three donors (two stay for the placebos); "
                f"this match has {len(self.donors)}"
            )
        return self._leave_one_out.copy()

    def _leave_one_out_figures(self) -> tuple[pd.DataFrame | None, str]:
        """:meth:`leave_one_out`, or None and why it cannot be computed."""
        try:
            return self.leave_one_out(), ""
        except SpecificationError as exc:
            return None, str(exc)

    @cached_property
    def dropped_donors(self) -> pd.DataFrame:
        """Donors left out of the pool, with the reason: missing returns, or :meth:`without`."""
        return pd.DataFrame(list(self.dropped), columns=["donor", "reason"]).set_index("donor")

    # ---- inference -------------------------------------------------------------------------
    def _placebo_stats(self, name: str) -> np.ndarray:
        pl = self.placebos
        return np.array(
            [
                kern.statistic(name, float(a.sum()), a, float(s))
                for a, s in zip(pl.ar, pl.sigma, strict=True)
            ]
        )

    def _placebo_used(self, cutoff: float | None) -> np.ndarray:
        if cutoff is None:
            return np.ones(len(self.donors), dtype=bool)
        return np.asarray(self.placebos.sigma <= cutoff * self.rmse)

    def _options(self, statistic: str | None, cutoff: float | None) -> tuple[str, float | None]:
        name = self.statistic if statistic is None else statistic
        cut = self.placebo_cutoff if cutoff is None else cutoff
        _check_options(name, cut, MIN_ESTIMATION_DEFAULT)
        return name, cut

    def tests(self, statistic: str | None = None, placebo_cutoff: float | None = None) -> TestTable:
        """The placebo permutation test (row ``permutation``): the firm's statistic, its p-value
        ``(1 + #{placebos at least as extreme}) / (1 + J)`` over the J placebos used (ties count
        against the firm; ``n`` is J) and in ``extra`` its rank among the J + 1 units. Formula
        (26c); Abadie, Diamond & Hainmueller (2010, section 3, placebo studies). ``statistic`` and
        ``placebo_cutoff`` override the study's choice."""
        name, cut = self._options(statistic, placebo_cutoff)
        s0 = kern.statistic(name, self.car, self.ar.to_numpy(), self.rmse)
        placebo = self._placebo_stats(name)[self._placebo_used(cut)]
        trimmed = len(self.donors) - len(placebo)
        if not len(placebo):
            why = (
                f"no placebo fits within {cut} times the firm's pre-event RMSE; raise "
                "placebo_cutoff or leave it out"
            )
            row = replace(TestRow.not_run("permutation", 0, why), variant=name)
            return TestTable((row,), self.window, title="Placebo permutation test")
        p, rank = _simplex.permutation_pvalue(s0, placebo)
        note = f", {trimmed} trimmed by fit" if trimmed else ""
        row = TestRow(
            name="permutation",
            stat=s0,
            pvalue=p,
            n=len(placebo),
            distribution=f"rank among {len(placebo)} donor placebos{note}",
            variant=name,
            extra={"rank": float(rank)},
        )
        return TestTable((row,), self.window, title="Placebo permutation test")

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """The CAR values a constant shift would leave unrejected at ``alpha`` (Firpo & Possebom
        2018, inverting the permutation test): CAR -/+ c * RMSE for ``car_rmse`` (c from the
        placebo statistics, formula (26d)), CAR -/+ c for ``car``; infinite when J + 1 < 1 /
        alpha. Not defined for ``rmspe_ratio``."""
        alpha = check_alpha(alpha)
        if self.statistic == "rmspe_ratio":
            raise SpecificationError(
                "conf_int inverts a CAR statistic: run with statistic='car_rmse' or 'car' "
                "(rmspe_ratio does not move with a constant shift of the CAR)"
            )
        used = self._placebo_used(self.placebo_cutoff)
        half = kern.inverted_halfwidth(self._placebo_stats(self.statistic)[used], alpha)
        if self.statistic == "car_rmse":
            half *= self.rmse
        return pd.DataFrame(
            {"lower": [self.car - half], "upper": [self.car + half]},
            index=pd.Index([self.firm], name="firm"),
        )

    # ---- frames, documents, text -----------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per event day with the firm's return, the synthetic return, AR and CAR."""
        ar = self.ar.to_numpy()
        return pd.DataFrame(
            {
                "firm": self.firm,
                "day": self.rel_days,
                "date": self.evt_dates,
                "return": self.y_evt,
                "synthetic": self.synthetic.to_numpy(),
                "ar": ar,
                "car": np.cumsum(ar),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready document (dates ISO, missing numbers null): windows with dates, donors,
        ``firms.<SYM>`` with weights, AR, CAR and fit, ``tests.permutation`` and the placebos."""
        from analysis.eventstudy.document import _event_dict

        tt = self.tests()["permutation"]
        ci = self.conf_int() if self.statistic != "rmspe_ratio" else None
        pl = self.placebo_table
        doc: dict[str, Any] = {
            "method": "synthetic_match",
            "day0": self.day0.day0.date().isoformat(),
            "day0_reason": self.day0.reason,
            "event": _event_dict(self.event),
            "return_kind": self.return_kind,
            "estimation": {"days": list(self.estimation), **_span(self.est_dates)},
            "window": {"days": list(self.window), **_span(self.evt_dates)},
            "donor_group": self.group,
            "donors": list(self.donors),
            "dropped_donors": [{"donor": d, "reason": r} for d, r in self.dropped],
            "firms": {
                self.firm: {
                    "weights": {d: num(v) for d, v in self.weights.items()},
                    "rmse": num(self.rmse),
                    "r2": num(self.r2),
                    "n_estimation": self.n_estimation,
                    "ar": {
                        pd.Timestamp(d).date().isoformat(): num(v)
                        for d, v in zip(self.evt_dates, self.ar, strict=True)
                    },
                    "car": num(self.car),
                    "ci95": None
                    if ci is None
                    else {"lower": num(ci["lower"].iloc[0]), "upper": num(ci["upper"].iloc[0])},
                }
            },
            "tests": {
                "permutation": {
                    "stat": num(tt.stat),
                    "pvalue": num(tt.pvalue),
                    "statistic": tt.variant,
                    "rank": _rank(tt),
                    "n_placebos": tt.n,
                    "placebo_cutoff": self.placebo_cutoff,
                }
            },
            "placebos": {
                d: {"car": num(r["car"]), "rmse": num(r["rmse"]), "used": bool(r["used"])}
                for d, r in pl.iterrows()
            },
        }
        if self.exclude is not None:
            doc["exclude"] = [
                x if isinstance(x, str) else x.date().isoformat() for x in self.exclude
            ]
            doc["excluded"] = [
                {"date": d.date().isoformat(), "reason": r} for d, r in self.excluded_days
            ]
            doc["estimation_shortfall"] = self.shortfall
        return doc

    def _top(self, k: int = 3) -> list[tuple[str, float]]:
        w = self.weights[self.weights >= SHOWN_WEIGHT].sort_values(ascending=False)
        return [(str(d), float(v)) for d, v in w.iloc[:k].items()]

    def headline(self, *, leave_one_out: bool = False) -> dict[str, Any]:
        """The headline figures (plain floats and strings), for reports; with ``leave_one_out``
        also the range of :meth:`leave_one_out` (``loo_*``) and its rows (``leave_one_out``)."""
        from analysis.eventstudy._synthetic_text import headline

        return headline(self, leave_one_out=leave_one_out)

    def conclusion(self, alpha: float = 0.05, *, leave_one_out: bool = False) -> str:
        """A plain-language paragraph: the CAR against the synthetic match and the placebo test
        (with ``leave_one_out``, also the range of :meth:`leave_one_out`)."""
        from analysis.eventstudy._synthetic_text import conclusion

        return conclusion(self, alpha, leave_one_out=leave_one_out)

    def _header(self) -> list[tuple[str, str]]:
        rows = []
        ev_id = getattr(self.event, "event_id", None)
        if ev_id is not None:
            rows.append(("Event", f"{ev_id}: {getattr(self.event, 'title', '')}"))
        e0, e1 = self.est_dates[0], self.est_dates[-1]
        rows += [
            ("Day 0", f"{self.day0.day0.date()} -- {self.day0.reason}"),
            ("Method", "synthetic match (weights >= 0, sum 1; Acemoglu et al. 2016, synthReturn)"),
            (
                "Estimation",
                f"{calendar.format_window(self.estimation)} = {e0.date()} to "
                f"{e1.date()}, {self.n_estimation} days",
            ),
            (
                "Event window",
                f"{calendar.format_window(self.window)} = "
                f"{self.evt_dates[0].date()} to {self.evt_dates[-1].date()}",
            ),
            ("Returns", f"{self.return_kind}, adjusted close"),
            (
                "Donors",
                f"{len(self.donors)}"
                + (f" of group {self.group}" if self.group else "")
                + (f"; dropped {', '.join(d for d, _ in self.dropped)}" if self.dropped else ""),
            ),
            ("Fit", f"RMSE {self.rmse:.4f}, R2 {self.r2:.3f}"),
        ]
        if self.exclude is not None:
            rows.append(("Excluded", f"{len(self.excluded)} estimation day(s); see excluded"))
        if self.shortfall:
            rows.append(
                ("Shortfall", f"{self.shortfall} estimation day(s): the price data run out")
            )
        return rows

    def _build_summary(self) -> Summary:
        out = Summary(f"Synthetic match: {self.firm}").header(self._header())
        w = self.weights[self.weights >= SHOWN_WEIGHT].sort_values(ascending=False).to_frame()
        rest = len(self.donors) - len(w)
        out.table(w, f"Donor weights ({rest} donor(s) below {SHOWN_WEIGHT} not shown):")
        out.table(self.to_frame().drop(columns="firm").set_index("day"), "Event window:")
        tt = self.tests()
        lines = tt.text_lines()
        lines.append(f"CAR {fmt(self.car)}")
        if self.statistic != "rmspe_ratio":
            ci = self.conf_int()
            lines[-1] += f", 95% interval [{fmt(ci['lower'].iloc[0])}, {fmt(ci['upper'].iloc[0])}]"
        return out.rule().table(tt.to_frame(), text="\n".join(lines))


def _rank(row: TestRow) -> int | None:
    """The firm's rank among firm and placebos (1 = most extreme), None when not computed."""
    return int(row.extra["rank"]) if "rank" in row.extra else None


def _span(dates: pd.DatetimeIndex) -> dict[str, str]:
    return {"start": dates[0].date().isoformat(), "end": dates[-1].date().isoformat()}
