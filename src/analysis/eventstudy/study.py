"""The entry points: ``event_study`` (prices -> design -> fit -> results) and ``compare``.

>>> import analysis as an
>>> res = an.event_study(["NVDA"], event="2023-10-17", market="SPY",
...                      estimation=(-250, -11), window=(-1, 3))     # doctest: +SKIP
>>> res.summary()            # model fit and every applicable test
>>> res.car((0, 3))          # CAR with its standard error, t, p and conf_int()
>>> res.to_frame()           # tidy AR/CAR by firm and day

Conventions (README, "Conventions"): simple returns of the adjusted close on the NYSE session grid; day 0 by
:func:`analysis.data.calendar.resolve_day0` (stated in every output); estimation and event windows in
trading days relative to day 0, which must not overlap; missing returns are dropped from estimation
(count reported) and leave the AR missing in the event window (tests report the N they used).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast, overload

import numpy as np
import pandas as pd

from analysis.data import calendar
from analysis.errors import DataError, SpecificationError
from analysis.eventstudy._garch_fit import GARCH_MODEL
from analysis.eventstudy.benchmarks import ExFirmBenchmark, parse_benchmark
from analysis.eventstudy.design import (
    EventDesign,
    Window,
    as_symbols,
    as_window,
    build_design,
    check_earnings_exclusion,
    check_windows,
    exclusion_days,
    parse_exclude,
)
from analysis.eventstudy.models import (
    MIN_ESTIMATION_DEFAULT,
    MODELS,
    fit_arrays,
    make_spec,
    own_regressor_error,
)
from analysis.eventstudy.results import EventStudyResults
from analysis.eventstudy.returns import ReturnKind, returns_from_prices

if TYPE_CHECKING:  # pragma: no cover
    from analysis.eventstudy.garch import GarchEventStudyResults


def _resolve_event(spec: object) -> tuple[object | None, calendar.Day0]:
    from analysis.data import events

    if isinstance(spec, calendar.Day0):
        return None, spec
    return events.resolve_event(spec)


def _load_prices(symbols: Sequence[str]) -> pd.DataFrame:
    from analysis.data import prices

    return prices.adj_close(list(symbols))


def price_returns(
    needed: Sequence[str],
    prices: pd.DataFrame | None,
    kind: ReturnKind,
    rename: Callable[[object], str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DatetimeIndex]:
    """Returns of the ``needed`` symbols on the NYSE sessions their prices span, the prices and
    the sessions:
    from the price cache, or from ``prices`` (columns renamed by ``rename``); a clear DataError
    when a symbol has no column or there are no prices at all."""
    if prices is None:
        px = _load_prices(needed)
    else:
        prices = prices.rename(columns=rename)
        absent = [s for s in needed if s not in prices.columns]
        if absent:
            raise DataError(f"the prices given have no column for {', '.join(absent)}")
        px = prices[list(needed)]
    px = px.dropna(how="all")
    if px.empty:
        raise DataError(f"no prices for {', '.join(needed)}")
    sessions = calendar.sessions(px.index.min(), px.index.max())
    return returns_from_prices(px, kind=kind, sessions=sessions), px, sessions


@overload
def event_study(  # type: ignore[overload-overlap]  # the GARCH model has its own results type
    symbols: str | Sequence[str],
    event: str | calendar.Day0 | Mapping[str, str],
    *,
    market: str | None = ...,
    model: Literal["garch_market_model"],
    factors: Sequence[str] | None = ...,
    estimation: Window | str = ...,
    window: Window | str = ...,
    car_window: Window | str | None = ...,
    return_kind: str = ...,
    convention: str = ...,
    min_estimation: int = ...,
    prices: pd.DataFrame | None = ...,
    exclude: str | Sequence[object] | None = ...,
    factor_file: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = ...,
) -> GarchEventStudyResults: ...


@overload
def event_study(
    symbols: str | Sequence[str],
    event: str | calendar.Day0 | Mapping[str, str],
    *,
    market: str | None = ...,
    model: str = ...,
    factors: Sequence[str] | None = ...,
    estimation: Window | str = ...,
    window: Window | str = ...,
    car_window: Window | str | None = ...,
    return_kind: str = ...,
    convention: str = ...,
    min_estimation: int = ...,
    prices: pd.DataFrame | None = ...,
    exclude: str | Sequence[object] | None = ...,
    factor_file: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = ...,
) -> EventStudyResults: ...


def event_study(
    symbols: str | Sequence[str],
    event: str | calendar.Day0 | Mapping[str, str],
    *,
    market: str | None = "SPY",
    model: str = "market_model",
    factors: Sequence[str] | None = None,
    estimation: Window | str = (-250, -11),
    window: Window | str = (-1, 3),
    car_window: Window | str | None = None,
    return_kind: str = "simple",
    convention: str = "default",
    min_estimation: int = MIN_ESTIMATION_DEFAULT,
    prices: pd.DataFrame | None = None,
    exclude: str | Sequence[object] | None = None,
    factor_file: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
) -> EventStudyResults | GarchEventStudyResults:
    """Run an event study for one or more firms.

    Parameters
    ----------
    symbols : str or list of str
        Firms (tickers as cached, e.g. "NVDA").
    event : str, Day0 or mapping
        A registry id ("E08"), a date ("2023-10-17") or date and US Eastern time
        ("2023-10-17T17:27"), shared by all firms; or a mapping firm -> event for distinct dates.
    market : str
        The market index for ``market_model`` / ``market_adjusted`` (e.g. "SPY", "QQQ", "SOXX"),
        or a benchmark without the firm, one series per firm
        (:mod:`analysis.eventstudy.benchmarks`): ``"peers-ex-firm:semis"`` (equal-weighted mean
        of the peer group's other members) or ``"SPY-ex-firm"`` (SPY with the firm's cited,
        drifted index weight taken out). With per-firm series there is no shared market
        series, so the Lamb test is not computed.
        A firm may not be its own market or factor: the same symbol is a SpecificationError, a
        firm the regressors explain almost exactly (1 - R^2 below
        :data:`analysis.eventstudy.models.MIN_UNEXPLAINED_SHARE`) an EstimationError.
    model : {"market_model", "market_adjusted", "constant_mean", "factor_model",
             "garch_market_model"}
        ``garch_market_model``: the market model with GARCH(1,1) Student-t errors, fitted by
        maximum likelihood; it returns a
        :class:`~analysis.eventstudy.garch.GarchEventStudyResults` (see
        :mod:`analysis.eventstudy.garch`) and takes no ``exclude``, ``factors`` or
        ``convention``; it needs at least
        :data:`~analysis.eventstudy.garch.MIN_ESTIMATION_GARCH` consecutive estimation returns.
    factors : str or list of str
        Regressors of ``factor_model`` (e.g. ["SPY", "SOXX"]; a string is one symbol).
    estimation, window : (int, int) or "a:b"
        Trading days relative to day 0; they must not overlap.
    car_window : (int, int), optional
        The headline CAR window (default: the whole event window).
    return_kind : {"simple", "log"}
    convention : {"default", "estudy2"}
        Residual divisor ``L - k`` (default) or estudy2's ``L - 1`` and prediction-error factor.
    min_estimation : int
        Fewest valid estimation returns a firm may have.
    prices : DataFrame, optional
        Adjusted closes (date x symbol) to use instead of the price cache.
    exclude : str or list, optional
        Days left out of the estimation window (never the event window): ``"events"`` (the
        event windows, same days as ``window``, of every other market-observable registry event),
        ``"earnings"`` (each firm's earnings reaction sessions,
        :func:`analysis.data.earnings.earnings_reaction_days`) and dates (``"2023-05-25"`` or
        Timestamps, NYSE sessions); a comma-separated string or a list. The window then reaches
        back until it again holds as many valid days as the requested window has sessions; where
        the price data run out first, the shortfall is stated (``estimation_coverage``). The days
        left out are listed with their reason in ``excluded``.
    factor_file : path or list of paths, optional
        Ken French daily factor file(s) (:func:`analysis.data.factors.factor_returns`): with
        ``model="factor_model"`` the ``factors`` are read from them (e.g. ``["Mkt-RF", "SMB",
        "HML"]``, plus ``"Mom"`` from the momentum file) instead of price series, and the firms'
        excess returns R - RF are regressed on them (formula (3b)); simple returns only. A
        window day the files do not cover is a DataError.
    """
    from analysis.data.prices import normalize_symbol

    syms = as_symbols(symbols)
    if not syms:
        raise SpecificationError("no symbols given")
    if len(set(syms)) != len(syms):
        raise SpecificationError(f"symbols repeat: {', '.join(syms)}")
    if isinstance(event, Mapping):
        event = {normalize_symbol(k): v for k, v in event.items()}
    if prices is not None and not isinstance(prices, pd.DataFrame):
        raise SpecificationError(
            "prices must be a DataFrame of adjusted closes (dates x symbols), "
            f"got {type(prices).__name__}"
        )
    if isinstance(min_estimation, bool) or not isinstance(min_estimation, int | np.integer):
        raise SpecificationError(
            "min_estimation must be a whole number of estimation returns (e.g. 30), "
            f"got {min_estimation!r}"
        )
    garch = model == GARCH_MODEL
    if model not in MODELS and not garch:
        raise SpecificationError(
            f"unknown model {model!r}; valid models: {', '.join([*MODELS, GARCH_MODEL])}"
        )
    if garch:
        from analysis.eventstudy.garch import check_garch_arguments

        check_garch_arguments(
            market=market, factors=factors, convention=convention, exclude=exclude
        )
    if factor_file is not None:
        _check_factor_file_arguments(model, factors, return_kind)
    bench = parse_benchmark(market)
    if bench is not None and model not in ("market_model", "market_adjusted", GARCH_MODEL):
        raise SpecificationError(
            f"market={bench.label!r} is a market index for market_model, market_adjusted or "
            f"{GARCH_MODEL}, "
            f"not for {model}"
        )
    spec = make_spec(
        "market_model" if garch else model,  # the GARCH model's design is the market model's
        bench.label if bench is not None else normalize_symbol(market) if market else market,
        as_symbols(factors, "factors", "'SPY'") if factors is not None else None,
    )
    own = own_regressor_error(syms, spec)
    if own is not None:
        raise own
    est_w = as_window(estimation, "estimation")
    evt_w = as_window(window, "event")
    check_windows(est_w, evt_w)
    if garch:
        from analysis.eventstudy.garch import check_garch_windows

        check_garch_windows(est_w, evt_w)
    car_w = evt_w if car_window is None else as_window(car_window, "CAR")
    if car_w[0] < evt_w[0] or car_w[1] > evt_w[1]:
        raise SpecificationError(
            f"CAR window {calendar.format_window(car_w)} is not inside the event window "
            f"{calendar.format_window(evt_w)}"
        )

    items = None if exclude is None else parse_exclude(exclude)
    if isinstance(event, Mapping):
        unknown = sorted(set(event) - set(syms))
        if unknown or set(syms) - set(event):
            raise SpecificationError(
                "an event mapping needs exactly one event per symbol; "
                f"extra: {unknown or 'none'}, missing: {sorted(set(syms) - set(event)) or 'none'}"
            )
        resolved = {s: _resolve_event(event[s]) for s in syms}
        registry_event = None
    else:
        ev, d0 = _resolve_event(event)
        resolved = {s: (ev, d0) for s in syms}
        registry_event = ev

    if factor_file is not None:
        needed = list(syms)
    elif bench is None:
        needed = list(dict.fromkeys([*syms, *spec.factors]))
    else:
        needed = list(dict.fromkeys([*syms, *bench.symbols(syms)]))
    kind = cast(ReturnKind, return_kind)  # returns_from_prices rejects any other kind
    rets, px, sessions = price_returns(needed, prices, kind, lambda c: str(c).upper())
    firm_factors = None
    if factor_file is not None:
        raw = rets
        rets, factor_table = _with_factor_file(rets, syms, spec.factors, factor_file)
    if bench is not None:
        rets, firm_factors = _with_benchmark(bench, px, rets, syms, kind, sessions)

    excluded = None
    if items is not None:
        excluded = exclusion_days(items, resolved, evt_w, rets.index)
    pairs = [(s, resolved[s][1]) for s in syms]
    design = build_design(rets, pairs, spec, est_w, evt_w, excluded, firm_factors)
    if factor_file is not None:
        _check_factor_coverage(design, raw, factor_table, factor_file)
    if items is not None and "earnings" in items:
        check_earnings_exclusion(design)
    if garch:
        from analysis.eventstudy.garch import garch_results

        return garch_results(
            design,
            market=spec.factors[0],
            estimation=est_w,
            window=evt_w,
            car_window=car_w,
            return_kind=return_kind,
            event=registry_event,
            min_estimation=min_estimation,
        )
    fit = fit_arrays(
        design.y_est,
        design.X_est,
        design.y_evt,
        design.X_evt,
        spec=spec,
        offset_est=design.off_est,
        offset_evt=design.off_evt,
        convention=convention,
        min_estimation=min_estimation,
        firm_names=design.firms,
    )
    return EventStudyResults(
        design=design,
        fit=fit,
        spec=spec,
        estimation=est_w,
        window=evt_w,
        car_window=car_w,
        return_kind=return_kind,
        event=registry_event,
        exclude=items,
    )


def _check_factor_file_arguments(model: str, factors: object, return_kind: str) -> None:
    if model != "factor_model":
        raise SpecificationError(
            f"factor_file is read by model='factor_model', not {model!r}: pass "
            "model='factor_model' and the factors to use, e.g. ['Mkt-RF', 'SMB', 'HML']"
        )
    if factors is None:
        raise SpecificationError(
            "factor_file needs the factors to regress on, e.g. factors=['Mkt-RF', 'SMB', 'HML']"
        )
    if return_kind != "simple":
        raise SpecificationError(
            "factor_file: the factors are simple excess returns, so the firms' returns must be "
            "simple too (return_kind='simple')"
        )


def _with_factor_file(
    rets: pd.DataFrame, syms: Sequence[str], factors: Sequence[str], path: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The firms' excess returns R - RF beside the factors read from French's files, on the
    price sessions (NaN where the files have no return), and the factor table itself."""
    from analysis.data.factors import RISK_FREE, factor_table

    names = [*factors, RISK_FREE]
    table = factor_table(path, names)  # the windows' days are checked by _check_factor_coverage
    table.columns = pd.Index(names)  # the names as the model spells them
    table = table.reindex(rets.index)
    excess = rets[list(syms)].sub(table[RISK_FREE], axis=0)
    return excess.join(table[list(factors)]), table


def _check_factor_coverage(
    design: EventDesign, rets: pd.DataFrame, table: pd.DataFrame, path: Any
) -> None:
    """A DataError when a firm has a return on a day of its windows that the factor files do
    not cover (a factor or RF missing)."""
    covered = table.notna().all(axis=1)
    for i, firm in enumerate(design.firms):
        keep = design.est_keep[i] if design.est_keep is not None else slice(None)
        dates = pd.DatetimeIndex(
            np.concatenate([design.est_dates[i][keep], design.evt_dates[i]])
        ).dropna()
        has_return = rets[firm].reindex(dates).notna().to_numpy()
        gap = has_return & ~covered.reindex(dates, fill_value=False).to_numpy()
        if gap.any():
            files = path if isinstance(path, str | os.PathLike) else ", ".join(map(str, path))
            raise DataError(
                f"{firm}: the factor file(s) {files} have no factor return on "
                f"{dates[np.argmax(gap)].date()} (day 0 {design.day0[i].day0.date()}); "
                "download a newer file from Ken French's data library"
            )


def model_arguments(
    model: str, market: str | None, factors: Sequence[str] | None
) -> dict[str, Any]:
    """The ``model``, ``market`` and ``factors`` arguments of :func:`event_study` for a model,
    keeping only what the model uses: ``market`` for the market model (also with GARCH errors)
    and market-adjusted returns, ``factors`` for the factor model, neither for the constant-mean
    model. Reports and notebooks take all three as parameters and pass them through this."""
    return {
        "model": model,
        "market": market if model in ("market_model", "market_adjusted", GARCH_MODEL) else None,
        "factors": list(factors or []) if model == "factor_model" else None,
    }


def input_series(
    symbols: str | Sequence[str],
    model: str = "market_model",
    market: str | None = "SPY",
    factors: Sequence[str] | None = None,
) -> list[str]:
    """Every price series a study of ``symbols`` reads: the firms, then the model's regressors
    (a benchmark without the firm stands for the series it is built from)."""
    syms = as_symbols(symbols)
    args = model_arguments(model, market, factors)
    regressors: list[str] = list(args["factors"] or [])
    if args["market"] is not None:
        bench = parse_benchmark(args["market"])
        regressors += bench.symbols(syms) if bench is not None else [args["market"]]
    return list(dict.fromkeys([*syms, *regressors]))


def _with_benchmark(
    bench: ExFirmBenchmark,
    px: pd.DataFrame,
    rets: pd.DataFrame,
    firms: Sequence[str],
    kind: ReturnKind,
    sessions: pd.DatetimeIndex,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The firms' returns plus one benchmark column per firm (built from simple returns; log
    returns take ``log(1 + R)`` of it) and the firm -> column map for the design."""
    simple = rets if kind == "simple" else returns_from_prices(px, kind="simple", sessions=sessions)
    series = bench.returns(simple, firms)
    if kind == "log":
        series = np.log1p(series)
    names = {f: f"{bench.label} ({f})" for f in firms}
    out = pd.concat([rets[list(firms)], series.rename(columns=names)], axis=1)
    return out, {f: [names[f]] for f in firms}


def compare(
    results: Mapping[str, EventStudyResults | GarchEventStudyResults],
    window: Window | str | None = None,
) -> pd.DataFrame:
    """Several studies side by side: per study and firm the CAR, its se, t and p, day 0 and model
    (OLS models and the GARCH market model alike; a GARCH CAR's se is its conditional sd and its
    p comes from the fitted Student-t)."""
    from analysis.eventstudy._designed import DesignedStudy

    how = "a mapping of label -> event_study(...) results, e.g. {'SPY': res_spy, 'QQQ': res_qqq}"
    if not isinstance(results, Mapping):
        raise SpecificationError(f"compare() takes {how}; got {type(results).__name__}")
    if not results:
        raise SpecificationError(f"compare() got no studies: pass {how}")
    for label, res in results.items():
        if not isinstance(res, DesignedStudy):
            raise SpecificationError(
                f"compare(): study {label!r} is {type(res).__name__}, not the result of "
                "event_study(...)"
            )
    rows = []
    for label, res in results.items():
        cr = res.car(window)
        for firm in res.firms:
            rows.append(
                {
                    "study": label,
                    "firm": firm,
                    "day0": res.day0_table.loc[firm, "day0"],
                    "model": res.model.label,
                    "window": calendar.format_window(cr.window),
                    "car": cr.estimate[firm],
                    "se": cr.std_error[firm],
                    "t": cr.tstat[firm],
                    "pvalue": cr.pvalue[firm],
                }
            )
    return pd.DataFrame(rows).set_index(["study", "firm"])
