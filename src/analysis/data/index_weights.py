"""Cited anchor weights of firms in market indices (``data/index_weights.csv``)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pandas as pd

from analysis import config
from analysis._io import file_stamp
from analysis.errors import DataError, ValidationError

COLUMNS = ("index", "symbol", "as_of", "weight", "source", "confidence")


class NoIndexWeightError(DataError):
    """A firm has no cited anchor weight in the index asked for."""


def _path(path: str | os.PathLike[str] | None) -> Path:
    return Path(path) if path is not None else config.data_dir() / "index_weights.csv"


def load_index_weights(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The anchor table, validated: one row per (index, symbol, as_of) with a weight in (0, 1),
    an ISO date, a source and a confidence; problems are listed as ``file:line, column``.
    The file is re-read only when it changes (path and modification time as the key)."""
    p = _path(path)
    return _load_cached(str(p), file_stamp(p)).copy()


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int) -> pd.DataFrame:
    p = Path(path)
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataError(f"index-weight file {p} not found") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValidationError(f"{p}: missing column(s) {', '.join(missing)}")
    problems = []
    for i, row in frame.iterrows():
        line = int(str(i)) + 2  # header = line 1
        for col in COLUMNS:
            if not row[col].strip():
                problems.append(f"{p.name}:{line}, column '{col}': empty")
        try:
            pd.Timestamp(row["as_of"])
            if len(row["as_of"]) != 10:
                raise ValueError
        except ValueError:
            problems.append(f"{p.name}:{line}, column 'as_of': not a YYYY-MM-DD date")
        try:
            w = float(row["weight"])
            if not 0 < w < 1:
                raise ValueError
        except ValueError:
            problems.append(
                f"{p.name}:{line}, column 'weight': {row['weight']!r} is not a share in (0, 1)"
            )
    if problems:
        raise ValidationError(f"{p}: {len(problems)} problem(s) in the index weights", problems)
    dup = frame.duplicated(["index", "symbol", "as_of"], keep=False)
    if dup.any():
        first = frame[dup].iloc[0]
        raise ValidationError(
            f"{p}: {first['symbol']} in {first['index']} as of {first['as_of']} appears twice"
        )
    out = frame.assign(as_of=pd.to_datetime(frame["as_of"]), weight=frame["weight"].astype(float))
    return out.sort_values(["index", "symbol", "as_of"]).reset_index(drop=True)


def anchor_weights(
    symbol: str, index: str = "S&P 500", path: str | os.PathLike[str] | None = None
) -> pd.Series:
    """The cited weights of ``symbol`` in ``index`` (as_of -> weight at that day's close);
    :class:`NoIndexWeightError` when there are none."""
    table = load_index_weights(path)
    rows = table[(table["index"] == index) & (table["symbol"] == symbol)]
    if rows.empty:
        have = sorted(set(table.loc[table["index"] == index, "symbol"]))
        raise NoIndexWeightError(
            f"no cited {index} weight for {symbol} in {_path(path)} (firms with weights: "
            f"{', '.join(have) or 'none'}); add rows with a source for it, or use another benchmark"
        )
    return pd.Series(rows["weight"].to_numpy(), index=pd.DatetimeIndex(rows["as_of"]), name=symbol)
