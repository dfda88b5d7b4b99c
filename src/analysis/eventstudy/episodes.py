"""Event episodes of one firm: registry events whose windows overlap merged into one episode, each
episode's CAR test with multiplicity adjustments, and the pooled tests across episodes.

>>> from analysis.eventstudy.episodes import episodes
>>> tab = episodes("NVDA", window=(-1, 3))          # doctest: +SKIP
>>> tab.to_frame()       # one row per episode: members, day 0, window, CAR, p, Holm, BH
>>> tab.pooled_frame()   # mean standardized CAR, sign test, stacked-regression Wald and sum

Merging rule: each event's window (``window`` around its own day 0, on the NYSE session grid) is
an interval of sessions; events whose intervals share at least one session form one episode
(transitively). Windows that only touch (one ends the session before the other starts) stay
apart. The episode's day 0 is its earliest member's day 0; its window runs from the earliest
member's window start to the latest member's window end, in trading days relative to that day 0.
Events with the same day 0 always collapse into one episode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import pandas as pd

from analysis._summary import Summary, SummaryMixin
from analysis.data import calendar
from analysis.errors import AnalysisError, DataError, SpecificationError
from analysis.eventstudy import inference
from analysis.eventstudy.benchmarks import parse_benchmark
from analysis.eventstudy.design import Window, as_window, check_windows
from analysis.eventstudy.models import make_spec
from analysis.eventstudy.returns import ReturnKind, returns_from_prices
from analysis.eventstudy.tables import num, pfmt

__all__ = ["EPISODE_COLUMNS", "Episode", "EpisodeTable", "episodes", "merge_episodes"]

#: Columns of :meth:`EpisodeTable.to_frame` after the ``episode`` index.
EPISODE_COLUMNS: tuple[str, ...] = (
    "members",
    "day0",
    "window_start",
    "window_end",
    "raw_day0_return",
    "car",
    "se",
    "tstat",
    "dof",
    "pvalue",
    "pvalue_holm",
    "pvalue_bh",
    "sq_pvalue",
)


@dataclass(frozen=True)
class Episode:
    """Events whose windows overlap: their ids, the episode's day 0 (the earliest member's) and
    its window in trading days relative to that day 0; ``first``/``last`` are its sessions."""

    members: tuple[str, ...]
    day0: pd.Timestamp
    window: Window
    first: pd.Timestamp
    last: pd.Timestamp
    member_day0: tuple[pd.Timestamp, ...]

    @property
    def label(self) -> str:
        """``E08+E09+E10``."""
        return "+".join(self.members)


def _relative(day0: pd.Timestamp, date: pd.Timestamp) -> int:
    """Trading days from ``day0`` to ``date`` (negative before it); both are sessions."""
    if date >= day0:
        return len(calendar.sessions(day0, date)) - 1
    return -(len(calendar.sessions(date, day0)) - 1)


def merge_episodes(
    day0s: Mapping[str, object] | Sequence[tuple[str, object]], window: Window | str = (-1, 3)
) -> list[Episode]:
    """Episodes from event id -> day 0 (a session) for an event window, sorted by day 0.

    Windows that share a session merge (transitively); windows that only touch do not; the same
    day 0 always merges. Raises SpecificationError for no events or a repeated id.
    """
    w = as_window(window, "event")
    items = list(day0s.items()) if isinstance(day0s, Mapping) else list(day0s)
    if not items:
        raise SpecificationError("merge_episodes needs at least one event (id, day 0)")
    ids = [str(i) for i, _ in items]
    if len(set(ids)) != len(ids):
        raise SpecificationError(f"event ids repeat: {', '.join(ids)}")
    spans = []
    for eid, d in items:
        d0 = pd.Timestamp(d)
        if not calendar.is_session(d0):
            raise SpecificationError(f"event {eid}: day 0 {d0:%Y-%m-%d} is not an NYSE session")
        spans.append((d0, str(eid), calendar.offset(d0, w[0]), calendar.offset(d0, w[1])))
    spans.sort(key=lambda s: (s[0], s[1]))
    groups: list[list[tuple[pd.Timestamp, str, pd.Timestamp, pd.Timestamp]]] = []
    for span in spans:
        if groups and span[2] <= max(s[3] for s in groups[-1]):
            groups[-1].append(span)
        else:
            groups.append([span])
    out = []
    for g in groups:
        day0 = g[0][0]
        first = min(s[2] for s in g)
        last = max(s[3] for s in g)
        out.append(
            Episode(
                members=tuple(s[1] for s in g),
                day0=day0,
                window=(_relative(day0, first), _relative(day0, last)),
                first=first,
                last=last,
                member_day0=tuple(s[0] for s in g),
            )
        )
    return out


def registry_day0s(event_ids: Sequence[str] | None = None) -> dict[str, calendar.Day0]:
    """Day 0 of the registry's market-observable export-control events (or of ``event_ids``)."""
    from analysis.data import events as ev

    if event_ids is None:
        table = ev.export_control_events(observable_only=True)
        ids = list(table["event_id"])
    else:
        ids = [ev.get_event(e).event_id for e in event_ids]
    return {e: ev.resolve_event(e)[1] for e in ids}


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeTable(SummaryMixin):
    """Episodes of one firm with each episode's CAR test (prediction-error t over the episode
    window, formula (3)), Holm and Benjamini-Hochberg adjusted p-values across the listed
    episodes, and the pooled tests (20)-(22) of ``docs/formulas.md``."""

    symbol: str
    model: str
    window: Window
    estimation: Window
    episodes: tuple[Episode, ...]
    frame: pd.DataFrame
    mean_scar: inference.TestResult
    sign: inference.TestResult
    stacked: inference.StackedDummyRegression
    sample: tuple[pd.Timestamp, pd.Timestamp]

    def to_frame(self) -> pd.DataFrame:
        """One row per episode (index ``episode``), columns :data:`EPISODE_COLUMNS` plus the
        stacked regression's episode effect and its z (``stacked_effect``, ``stacked_z``)."""
        return self.frame.copy()

    def pooled_frame(self) -> pd.DataFrame:
        """The pooled tests: test, stat, pvalue, n, distribution, variant."""
        wald, total = self.stacked.tests()
        rows = [self.mean_scar, self.sign, wald, total]
        return pd.DataFrame(
            {
                "stat": [float(r.stat) for r in rows],
                "pvalue": [float(r.pvalue) for r in rows],
                "n": [int(r.n) for r in rows],
                "distribution": [r.distribution for r in rows],
                "variant": [r.variant for r in rows],
            },
            index=pd.Index([r.name for r in rows], name="test"),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: symbol, model, windows, ``episodes`` (one dict per row) and ``pooled``
        (``mean_car``, ``stat``, ``pvalue``, ``n_episodes`` of the mean standardized CAR, then
        ``sign``, ``wald`` and ``sum`` of the stacked regression)."""
        eps = []
        for label, row in self.frame.iterrows():
            eps.append(
                {
                    "episode": str(label),
                    "members": list(row["members"].split("+")),
                    "day0": f"{row['day0']:%Y-%m-%d}",
                    "window": [int(row["window_start"]), int(row["window_end"])],
                    **{
                        c: num(row[c])
                        for c in EPISODE_COLUMNS[4:] + ("stacked_effect", "stacked_z")
                    },
                }
            )
        st = self.stacked
        return {
            "symbol": self.symbol,
            "model": self.model,
            "window": list(self.window),
            "estimation": list(self.estimation),
            "episodes": eps,
            "pooled": {
                "test": self.mean_scar.name,
                "mean_car": num(self.mean_scar.extra["mean_car"]),
                "mean_scar": num(self.mean_scar.extra["mean_scar"]),
                "stat": num(self.mean_scar.stat),
                "pvalue": num(self.mean_scar.pvalue),
                "n_episodes": int(self.mean_scar.n),
                "distribution": self.mean_scar.distribution,
                "sign": {
                    "n_positive": int(self.sign.extra["n_pos"]),
                    "n_episodes": int(self.sign.n),
                    "pvalue": num(self.sign.pvalue),
                },
                "wald": {
                    "stat": num(st.wald),
                    "df": st.wald_df,
                    "pvalue": num(st.wald_pvalue),
                },
                "sum": {
                    "effect": num(st.sum_effect),
                    "std_error": num(st.sum_std_error),
                    "stat": num(st.sum_z),
                    "pvalue": num(st.sum_pvalue),
                },
                "hac_lags": st.hac_lags,
                "sample": [f"{d:%Y-%m-%d}" for d in self.sample],
                "n_observations": st.n,
            },
        }

    def _build_summary(self) -> Summary:
        s = Summary(f"Episodes of {self.symbol}")
        s.header(
            [
                ("Model", self.model),
                ("Event window", calendar.format_window(self.window) + " around each event"),
                ("Estimation", calendar.format_window(self.estimation) + " per episode"),
                ("Episodes", str(len(self.episodes))),
                ("Sample", f"{self.sample[0]:%Y-%m-%d} .. {self.sample[1]:%Y-%m-%d} (stacked)"),
            ]
        )
        shown = self.frame[
            ["members", "day0", "window_start", "window_end", "car", "pvalue"]
        ].copy()
        shown["day0"] = [f"{d:%Y-%m-%d}" for d in shown["day0"]]
        for c in ("pvalue_holm", "pvalue_bh"):
            shown[c] = [pfmt(p) for p in self.frame[c]]
        shown["pvalue"] = [pfmt(p) for p in shown["pvalue"]]
        s.table(shown, "Episode CARs (prediction-error t over the episode window)")
        pooled = self.pooled_frame()[["stat", "pvalue", "n", "distribution"]].copy()
        pooled["pvalue"] = [pfmt(p) for p in pooled["pvalue"]]
        s.table(pooled, "Pooled tests across episodes")
        s.text(
            "Episodes are merged events whose windows overlap; Holm and BH adjust across the "
            "episodes listed. Pooled tests treat episodes as independent (docs/formulas.md "
            "(20)-(22))."
        )
        return s


# --------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------


def _regressors(rets: pd.DataFrame, symbol: str, spec: Any) -> tuple[np.ndarray, np.ndarray]:
    """Firm returns and the model's regressors for the stacked regression (intercept first)."""
    y = rets[symbol].to_numpy(dtype=float)
    if spec.name == "market_adjusted":
        return y - rets[spec.factors[0]].to_numpy(dtype=float), np.zeros((len(y), 0))
    cols = [np.ones(len(y))] + [rets[f].to_numpy(dtype=float) for f in spec.factors]
    return y, np.column_stack(cols)


def _episode_day0(ep: Episode, day0s: Mapping[str, calendar.Day0]) -> calendar.Day0:
    first = day0s[ep.members[0]]
    return replace(first, requested=f"episode {ep.label}: {first.requested}")


def episodes(
    symbol: str,
    window: Window | str = (-1, 3),
    *,
    events: Sequence[str] | None = None,
    market: str | None = "SPY",
    model: str = "market_model",
    factors: Sequence[str] | None = None,
    estimation: Window | str = (-250, -11),
    return_kind: str = "simple",
    prices: pd.DataFrame | None = None,
    hac_lags: int | None = None,
    **event_study_kwargs: Any,
) -> EpisodeTable:
    """Episodes of ``symbol`` around the registry's market-observable export-control events (or
    the registry ids ``events``), each tested with :func:`analysis.eventstudy.event_study` over
    its own episode window; Holm and BH p-values across episodes; pooled tests (20)-(22).

    Further keywords (``convention``, ``min_estimation``, ...) go to ``event_study``.
    """
    from statsmodels.stats.multitest import multipletests

    from analysis.data.prices import adj_close, normalize_symbol
    from analysis.eventstudy.study import event_study

    sym = normalize_symbol(symbol)
    w = as_window(window, "event")
    est = as_window(estimation, "estimation")
    check_windows(est, w)
    bench = parse_benchmark(market) if model in ("market_model", "market_adjusted") else None
    base = bench.label if bench is not None else normalize_symbol(market) if market else market
    spec = make_spec(model, base, factors)
    day0s = registry_day0s(events)
    eps = merge_episodes({e: d.day0 for e, d in day0s.items()}, w)
    inputs = bench.symbols([sym]) if bench is not None else spec.factors
    needed = list(dict.fromkeys([sym, *inputs]))
    given = None if prices is None else prices.rename(columns=lambda c: str(c).upper())
    px = (adj_close(needed) if given is None else given.reindex(columns=needed)).dropna(how="all")
    empty = [s for s in needed if s not in px.columns or px[s].isna().all()]
    if empty:
        source = "the prices given" if given is not None else "the price cache"
        raise DataError(f"{sym} episodes: {source} hold no prices for {', '.join(empty)}")
    sessions = calendar.sessions(px.index.min(), px.index.max())
    kind = cast(ReturnKind, return_kind)  # returns_from_prices rejects any other kind
    rets = returns_from_prices(px, kind=kind, sessions=sessions)
    if bench is not None:  # the stacked regression's regressor: the firm's own benchmark series
        simple = (
            rets if kind == "simple" else returns_from_prices(px, kind="simple", sessions=sessions)
        )
        series = bench.returns(simple, [sym])[sym]
        rets = rets.assign(**{bench.label: np.log1p(series) if kind == "log" else series})

    rows = []
    for ep in eps:
        try:
            res = event_study(
                sym,
                _episode_day0(ep, day0s),
                market=market,
                model=model,
                factors=factors,
                estimation=est,
                window=ep.window,
                return_kind=return_kind,
                prices=px,
                **event_study_kwargs,
            )
        except AnalysisError as exc:
            raise type(exc)(
                f"{sym}, episode {ep.label} (day 0 {ep.day0:%Y-%m-%d}, window "
                f"{calendar.format_window(ep.window)}): {exc}"
            ) from None
        cr = res.car()
        sq = res.firm_tests(dummy=False).to_frame().loc[(sym, "sq"), "pvalue"]
        raw = rets[sym].get(ep.day0, np.nan)
        rows.append(
            {
                "episode": ep.label,
                "members": ep.label,
                "day0": ep.day0,
                "window_start": ep.window[0],
                "window_end": ep.window[1],
                "raw_day0_return": float(raw),
                "car": float(cr.estimate[sym]),
                "se": float(cr.std_error[sym]),
                "tstat": float(cr.tstat[sym]),
                "dof": float(cr.dof[sym]),
                "pvalue": float(cr.pvalue[sym]),
                "sq_pvalue": float(sq),
            }
        )
    frame = pd.DataFrame(rows).set_index("episode")
    p = frame["pvalue"].to_numpy()
    ok = np.isfinite(p)
    for col, method in (("pvalue_holm", "holm"), ("pvalue_bh", "fdr_bh")):
        adj = np.full(p.shape, np.nan)
        if ok.any():
            adj[ok] = multipletests(p[ok], method=method)[1]
        frame[col] = adj

    mean_scar = inference.mean_standardized_car(frame["car"], frame["se"], frame["dof"])
    sign = inference.episode_sign_test(frame["car"])
    start = min(calendar.offset(ep.day0, est[0]) for ep in eps)
    end = max(ep.last for ep in eps)
    sample = rets.loc[start:end]
    if sample.index.min() > start or sample.index.max() < end:
        raise DataError(
            f"{sym}: the stacked regression needs returns from {start:%Y-%m-%d} to "
            f"{end:%Y-%m-%d}; the prices cover {rets.index.min():%Y-%m-%d} to "
            f"{rets.index.max():%Y-%m-%d}"
        )
    y, X = _regressors(sample, sym, spec)
    where = {d: i for i, d in enumerate(sample.index)}
    ep_rows = [[where[d] for d in calendar.sessions(ep.first, ep.last)] for ep in eps]
    stacked = inference.stacked_dummy_regression(y, X, ep_rows, hac_lags=hac_lags)
    frame["stacked_effect"] = stacked.effects
    frame["stacked_z"] = stacked.zstat
    frame = frame[[*EPISODE_COLUMNS, "stacked_effect", "stacked_z"]]
    return EpisodeTable(
        symbol=sym,
        model=spec.label,
        window=w,
        estimation=est,
        episodes=tuple(eps),
        frame=frame,
        mean_scar=mean_scar,
        sign=sign,
        stacked=stacked,
        sample=(pd.Timestamp(sample.index[0]), pd.Timestamp(sample.index[-1])),
    )
