"""Robustness grid: does the conclusion survive the researcher's choices?

One event study per combination of model x benchmark x event window x estimation length, all on
the same prices (loaded once), reported as one tidy frame so a reader sees the spread of CARs and
p-values instead of one hand-picked specification.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pandas as pd

from analysis.data import calendar
from analysis.errors import AnalysisError
from analysis.eventstudy.benchmarks import applicable, parse_benchmark
from analysis.eventstudy.design import Window, as_symbols, as_window, check_alpha
from analysis.eventstudy.models import make_spec, own_regressor_error
from analysis.eventstudy.study import event_study

DEFAULT_MODELS: tuple[str, ...] = (
    "market_model",
    "market_adjusted",
    "constant_mean",
    "factor_model",
)
DEFAULT_MARKETS: tuple[str, ...] = ("SPY", "QQQ", "SOXX")
DEFAULT_WINDOWS: tuple[Window, ...] = ((0, 0), (0, 1), (-1, 3), (0, 5))
DEFAULT_ESTIMATIONS: tuple[Window, ...] = ((-250, -11), (-120, -11))


def robustness_grid(
    symbols: str | Sequence[str],
    event: str,
    *,
    models: Sequence[str] = DEFAULT_MODELS,
    markets: Sequence[str] = DEFAULT_MARKETS,
    windows: Sequence[Window] = DEFAULT_WINDOWS,
    estimations: Sequence[Window] = DEFAULT_ESTIMATIONS,
    factor_base: str = "SPY",
    prices: pd.DataFrame | None = None,
    ex_firm: bool = False,
    exclude: str | Sequence[object] | None = None,
) -> pd.DataFrame:
    """CAR, its exact standard error, t and p for every specification.

    ``ex_firm=True`` adds, for ``market_model`` and ``market_adjusted``, the benchmarks without
    the firm that apply to every firm (:func:`analysis.eventstudy.benchmarks.applicable`):
    ``peers-ex-firm:GROUP`` for a peer group holding all the firms and ``SPY-ex-firm`` when
    every firm has cited S&P 500 weights. Off by default, so the default grid (and the shares
    reports compute from it) stays as it was. ``exclude`` is passed to every
    :func:`~analysis.eventstudy.study.event_study` of the grid, so each specification is fitted
    on the same cleaned estimation window as the study it checks.

    ``factor_model`` is run as ``factor_base`` plus each other benchmark (e.g. SPY + SOXX);
    ``constant_mean`` ignores the benchmark and appears once per window and estimation length.
    A string is one model or one market. A specification that cannot be estimated is kept as a
    row with its error message; so is a firm that is the specification's own benchmark (the
    other firms of that specification keep their numbers).
    """
    from analysis.data.prices import normalize_symbol

    syms = as_symbols(symbols)
    markets = as_symbols(markets, "markets", "'SPY'")
    models = [models] if isinstance(models, str) else list(models)
    factor_base = normalize_symbol(factor_base)
    extra = applicable(syms) if ex_firm else []
    if prices is None:
        from analysis.data import prices as price_mod

        bench_syms = [s for b in extra for s in parse_benchmark(b).symbols(syms)]  # type: ignore[union-attr]
        needed = list(dict.fromkeys([*syms, *markets, factor_base, *bench_syms]))
        prices = price_mod.adj_close(needed)
    specs: list[tuple[str, str | None, tuple[str, ...] | None]] = []
    for model in models:
        if model == "constant_mean":
            specs.append((model, None, None))
        elif model == "factor_model":
            specs += [(model, None, (factor_base, m)) for m in markets if m != factor_base]
        else:
            specs += [(model, m, None) for m in [*markets, *extra]]
    rows = []
    for (model, market, factors), est, win in itertools.product(specs, estimations, windows):
        bench = market or ("+".join(factors) if factors else "none")
        est_w: Window = (est[0], est[1])
        win_w: Window = (win[0], win[1])
        base: dict[str, object] = {
            "model": model,
            "benchmark": bench,
            "estimation": calendar.format_window(est_w),
            "window": calendar.format_window(win_w),
        }
        own: dict[str, str] = {}
        firms = syms
        try:
            spec = make_spec(model, market, factors)
            for f in syms:
                err = own_regressor_error([f], spec)
                if err is not None:
                    own[f] = str(err)
            firms = [f for f in syms if f not in own]
            if not firms:
                rows += [{**base, "firm": f, "error": msg} for f, msg in own.items()]
                continue
            res = event_study(
                firms,
                event,
                model=model,
                market=market,
                factors=factors,
                estimation=est_w,
                window=win_w,
                prices=prices,
                exclude=exclude,
            )
            cr = res.car()  # per-firm CARs; the cross-section tests are computed only if asked
            sq = {r.firm: r.pvalue for r in res.firm_tests(dummy=False).rows if r.name == "sq"}
        except AnalysisError as exc:
            rows += [{**base, "firm": f, "error": msg} for f, msg in own.items()]
            rows.append({**base, "firm": ",".join(firms), "error": str(exc)})
            continue
        for firm in syms:
            if firm in own:
                rows.append({**base, "firm": firm, "error": own[firm]})
                continue
            rows.append(
                {
                    **base,
                    "firm": firm,
                    "day0": res.day0_table.loc[firm, "day0"],
                    "car": cr.estimate[firm],
                    "se": cr.std_error[firm],
                    "t": cr.tstat[firm],
                    "pvalue": cr.pvalue[firm],
                    "sq_pvalue": sq[firm],
                    "n_estimation": int(res.fit_stats.loc[firm, "n_estimation"]),
                    "error": "",
                }
            )
    return pd.DataFrame(rows)


def summarize(grid: pd.DataFrame, firm: str | None = None, alpha: float = 0.05) -> str:
    """One sentence on how the CAR behaves across the grid's specifications (one firm)."""
    alpha = check_alpha(alpha)
    ok = grid[grid["error"] == ""] if "error" in grid else grid
    if firm is not None:
        ok = ok[ok["firm"] == firm]
    if ok.empty:
        return "No specification could be estimated."
    n = len(ok)
    neg = int((ok["car"] < 0).sum())
    sig = int((ok["pvalue"] < alpha).sum())
    failed = 0
    if "error" in grid:
        bad = grid[grid["error"] != ""]
        if firm is not None:
            bad = bad[bad["firm"].str.split(",").map(lambda fs: firm in fs)]
        failed = len(bad)
    who = f"{firm}: a" if firm else "A"
    text = (
        f"{who}cross {n} specifications the CAR ranges from {ok['car'].min():+.1%} to "
        f"{ok['car'].max():+.1%}; it is negative in {neg} ({neg / n:.0%}) and significant at "
        f"{alpha:.0%} (prediction-error t) in {sig} ({sig / n:.0%})."
    )
    if failed:
        text += f" {failed} specification(s) could not be estimated (listed below)."
    return text


def specifications(
    grid: pd.DataFrame, firm: str | None = None, estimation: Window | str | None = None
) -> pd.DataFrame:
    """The rows of ``grid`` that ran (no error), with ``spec`` = "model / benchmark"; only
    ``firm``'s and only the ``estimation`` window's when given (for a heatmap by spec x window)."""
    ok = grid[grid["error"] == ""].copy()
    ok["spec"] = ok["model"] + " / " + ok["benchmark"]
    if firm is not None:
        ok = ok[ok["firm"] == firm]
    if estimation is not None:
        est = calendar.format_window(as_window(estimation, "estimation"))
        ok = ok[ok["estimation"] == est]
    return ok


def pvalue_table(grid: pd.DataFrame) -> pd.DataFrame:
    """The CAR's p-value for every specification that ran: rows firm x spec x estimation,
    columns the event windows."""
    return specifications(grid).pivot_table(
        index=["firm", "spec", "estimation"], columns="window", values="pvalue", sort=False
    )
