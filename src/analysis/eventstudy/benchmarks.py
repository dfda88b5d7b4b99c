"""Benchmarks without the firm: per-firm market series ``peers-ex-firm:GROUP`` and ``SPY-ex-firm``.

A firm that is part of its own benchmark (NVDA in SPY or in the semiconductor peers) drags the
benchmark along with its own news, which biases its beta up and its abnormal return towards zero.
These benchmarks take the firm out, so each firm of a study has its own market series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import DataError, SpecificationError

PEERS_PREFIX = "peers-ex-firm:"
SPY_EX_FIRM = "SPY-ex-firm"
#: The index whose weights ``SPY-ex-firm`` uses (rows of ``data/index_weights.csv``).
SPY_INDEX = "S&P 500"


@dataclass(frozen=True)
class ExFirmBenchmark:
    """A benchmark built per firm: ``kind`` "peers" (with its ``group``) or "spy"."""

    kind: str
    group: str = ""

    @property
    def label(self) -> str:
        return f"{PEERS_PREFIX}{self.group}" if self.kind == "peers" else SPY_EX_FIRM

    def symbols(self, firms: Sequence[str]) -> list[str]:
        """The price series the benchmark is built from (besides the firms)."""
        if self.kind == "peers":
            from analysis.data.events import peer_group

            return peer_group(self.group)
        return ["SPY"]

    def returns(self, simple: pd.DataFrame, firms: Sequence[str]) -> pd.DataFrame:
        """Per firm (columns) the benchmark's simple return on each session of ``simple``."""
        if self.kind == "peers":
            cols = {f: peers_ex_firm(simple, f, self.group) for f in firms}
        else:
            cols = {f: spy_ex_firm(simple, f) for f in firms}
        return pd.DataFrame(cols, index=simple.index)


def parse_benchmark(market: object) -> ExFirmBenchmark | None:
    """The ex-firm benchmark ``market`` names ("peers-ex-firm:semis", "SPY-ex-firm"), else None."""
    if not isinstance(market, str):
        return None
    text = market.strip()
    if text.lower().startswith(PEERS_PREFIX):
        group = text[len(PEERS_PREFIX) :].strip()
        if not group:
            raise SpecificationError(
                "peers-ex-firm needs a peer group, e.g. 'peers-ex-firm:semis' "
                "(groups in data/peer_groups.yaml)"
            )
        from analysis.data.events import peer_group

        peer_group(group)  # unknown group: SpecificationError naming the valid ones
        return ExFirmBenchmark("peers", group)
    if text.lower() == SPY_EX_FIRM.lower():
        return ExFirmBenchmark("spy")
    return None


def peers_ex_firm(simple: pd.DataFrame, firm: str, group: str) -> pd.Series:
    """Equal-weighted mean simple return of peer group ``group`` without ``firm``, per session.

    A session where a peer has no return takes the mean of the peers that have one; a session
    where none has one is NaN. A firm outside the group gets the mean of the whole group.
    """
    from analysis.data.events import peer_group

    peers = [s for s in peer_group(group) if s != firm]
    if not peers:
        raise SpecificationError(
            f"peer group {group!r} has no member other than {firm}: peers-ex-firm is empty"
        )
    absent = [s for s in peers if s not in simple.columns]
    if absent:
        raise DataError(f"peers-ex-firm:{group}: no returns for {', '.join(absent)}")
    block = simple[peers].to_numpy(dtype=float)
    count = np.isfinite(block).sum(axis=1)
    total = np.nansum(block, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return pd.Series(mean, index=simple.index, name=firm)


def drift_weights(r_firm: pd.Series, r_index: pd.Series, anchors: pd.Series) -> pd.Series:
    """The firm's index weight at the start of each session of ``r_firm``.

    ``anchors`` (date -> weight at that day's close) are cited values. From the latest anchor on
    or before a session the weight drifts with relative returns, ``w_close(t) = w_close(t-1)
    (1 + R_firm,t) / (1 + R_index,t)``, restarting at each anchor; sessions before the first
    anchor drift backwards from it by the same rule. A session where either return is missing
    keeps the weight unchanged. The start-of-day weight of session t is ``w_close(t-1)``.

    The rule is exact for a buy-and-hold index; it misses index changes (share counts, float,
    additions and deletions), so a drifted weight differs from the next anchor by that much
    (:func:`anchor_error`).
    """
    days = r_firm.index
    if anchors.empty:
        raise SpecificationError("drift_weights needs at least one anchor weight")
    growth = ((1 + r_firm) / (1 + r_index)).to_numpy(dtype=float)
    growth = np.where(np.isfinite(growth), growth, 1.0)
    # position of each anchor: the last session on or before its date (-1: before every session)
    pos = days.searchsorted(anchors.index, side="right") - 1
    at = {int(p): float(w) for p, w in zip(pos, anchors.to_numpy(float), strict=True)}
    first = min(at)
    close = np.full(len(days), np.nan)
    prev = at.get(-1, np.nan)
    for t in range(max(first, 0), len(days)):
        close[t] = at[t] if t in at else prev * growth[t]
        prev = close[t]
    for t in range(first - 1, -1, -1):
        close[t] = close[t + 1] / growth[t + 1]
    start = np.empty(len(days))
    start[1:] = close[:-1]
    if len(days):
        start[0] = at[-1] if -1 in at else close[0] / growth[0]
    return pd.Series(start, index=days, name="weight")


def anchor_error(r_firm: pd.Series, r_index: pd.Series, anchors: pd.Series) -> pd.DataFrame:
    """For each anchor after the first: the weight drifted from the previous anchor to its date,
    the cited value and the relative error (drifted / cited - 1)."""
    rows = []
    for (d0, w0), (d1, w1) in zip(anchors.items(), list(anchors.items())[1:], strict=False):
        g = (1 + r_firm) / (1 + r_index)
        g = g[(g.index > d0) & (g.index <= d1)].fillna(1.0)
        drifted = float(w0 * g.prod())
        rows.append(
            {"from": d0, "to": d1, "drifted": drifted, "cited": w1, "error": drifted / w1 - 1}
        )
    return pd.DataFrame(rows)


def spy_ex_firm(simple: pd.DataFrame, firm: str) -> pd.Series:
    """S&P 500 (SPY) return without ``firm``: ``(R_SPY - w R_firm) / (1 - w)``, with ``w`` the
    firm's start-of-day weight from cited anchors (:func:`drift_weights`); missing returns give
    NaN. A firm without anchors: :class:`analysis.data.index_weights.NoIndexWeightError`."""
    from analysis.data.index_weights import anchor_weights

    anchors = anchor_weights(firm, SPY_INDEX)
    for sym in (firm, "SPY"):
        if sym not in simple.columns:
            raise DataError(f"SPY-ex-firm: no returns for {sym}")
    r_f, r_m = simple[firm], simple["SPY"]
    w = drift_weights(r_f, r_m, anchors)
    return ((r_m - w * r_f) / (1 - w)).rename(firm)


def applicable(firms: Sequence[str]) -> list[str]:
    """The ex-firm benchmarks that apply to every one of ``firms``: ``peers-ex-firm:GROUP`` for
    the first peer group (file order) holding them all, ``SPY-ex-firm`` when each has cited
    S&P 500 weights."""
    from analysis.data.events import peer_groups
    from analysis.data.index_weights import load_index_weights

    out = [
        f"{PEERS_PREFIX}{name}"
        for name, members in peer_groups().items()
        if all(f in members for f in firms)
    ][:1]
    table = load_index_weights()
    have = set(table.loc[table["index"] == SPY_INDEX, "symbol"])
    if firms and all(f in have for f in firms):
        out.append(SPY_EX_FIRM)
    return out
