"""Cross-section of event abnormal returns on China revenue share: exposure snapshots, the
regression (clustered / HC3 errors), its permutation test and leave-one-firm-out slopes.

Geography bases are never mixed by default: a sample whose shares are measured on more than one
basis (billing location, customer headquarters, ...) is refused unless ``basis=`` picks one (a
list of bases mixes them on purpose, and the summary flags it).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from analysis._summary import Summary, SummaryMixin
from analysis.data.facts import confidence_rank
from analysis.errors import EstimationError, SpecificationError

__all__ = [
    "ExposureRegression",
    "MixedBasesError",
    "SlopePermutation",
    "china_exposure_regression",
    "exposure_filed_before",
    "exposure_snapshot",
]


def exposure_snapshot(
    peers: pd.DataFrame, *, before, presentation: str = "as_reported"
) -> pd.DataFrame:
    """One exposure row per symbol: the latest fiscal year ending before ``before`` with a
    China share. Columns: symbol, fiscal_year, china_share, basis, confidence_level."""
    b = pd.Timestamp(before)
    p = peers[
        (peers["fiscal_year_end"] < b)
        & peers["china_share"].notna()
        & (peers["presentation"] == presentation)
    ]
    p = p.sort_values("fiscal_year_end").groupby("symbol").tail(1)
    return (
        p[["symbol", "fiscal_year", "fiscal_year_end", "china_share", "basis", "confidence_level"]]
        .sort_values("symbol")
        .reset_index(drop=True)
    )


def exposure_filed_before(
    peers: pd.DataFrame,
    *,
    before,
    filings: pd.DataFrame | None = None,
    presentation: str = "as_reported",
) -> pd.DataFrame:
    """Point-in-time exposure: for each symbol of ``peers``, the China share of the latest fiscal
    year whose annual report was filed strictly before ``before`` (the share a reader could know).

    ``filings``: :func:`analysis.data.earnings.load_filings` (the default). One row per symbol:
    symbol, fiscal_year, form, filed_date, fiscal_year_end, china_share, basis, confidence_level
    and ``reason`` -- empty when a share was found, otherwise why the symbol has none (no annual
    report of it filed before the date, or no row of ``peers`` for the filed fiscal year).
    """
    from analysis.data.earnings import load_filings

    b = pd.Timestamp(before)
    fil = load_filings() if filings is None else filings
    p = peers[peers["presentation"] == presentation]
    cols = ["fiscal_year_end", "china_share", "basis", "confidence_level"]
    rows = []
    for sym in sorted(p["symbol"].unique()):
        f = fil[(fil["symbol"] == sym) & (fil["filed_date"] < b)].sort_values("filed_date")
        row: dict = {"symbol": sym, "fiscal_year": None, "form": None, "filed_date": pd.NaT}
        row |= dict.fromkeys(cols)
        if f.empty:
            row["reason"] = f"no annual report of {sym} filed before {b.date()} in filings.csv"
        else:
            last = f.iloc[-1]
            fy = last["fiscal_year"]
            row |= {"fiscal_year": fy, "form": last["form"], "filed_date": last["filed_date"]}
            match = p[(p["symbol"] == sym) & (p["fiscal_year"] == fy)]
            if match.empty:
                row["reason"] = (
                    f"{fy} {last['form']} filed {last['filed_date'].date()} has no {presentation} "
                    "row in peers_china_exposure.csv"
                )
            else:
                row |= match.iloc[0][cols].to_dict() | {"reason": ""}
        rows.append(row)
    out = pd.DataFrame(
        rows, columns=["symbol", "fiscal_year", "form", "filed_date", *cols, "reason"]
    )
    return out.astype({"china_share": float}).assign(
        filed_date=pd.to_datetime(out["filed_date"]),
        fiscal_year_end=pd.to_datetime(out["fiscal_year_end"]),
    )


class MixedBasesError(SpecificationError):
    """A point-in-time regression would mix China shares measured on different geography bases."""


@dataclass(frozen=True)
class SlopePermutation:
    """Permutation test of the exposure slope, formula (23), docs/formulas.md."""

    slope: float
    pvalue: float
    permutations: int
    exact: bool
    n_firms: int
    seed: int | None


def _event_slope(x: np.ndarray, y: np.ndarray, events: np.ndarray) -> np.ndarray:
    """OLS slope of y on x with one intercept per event (rows of ``x`` are draws): both are
    demeaned within events (Frisch-Waugh-Lovell)."""
    codes, inv = np.unique(events, return_inverse=True)
    onehot = np.eye(len(codes))[inv]
    counts = onehot.sum(0)
    xd = x - ((x @ onehot) / counts)[..., inv]
    yd = y - ((y @ onehot) / counts)[inv]
    den = (xd**2).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-300, (xd @ yd) / np.where(den > 1e-300, den, 1.0), np.nan)


@dataclass(frozen=True, repr=False)
class ExposureRegression(SummaryMixin):
    """OLS of CAR on China revenue share; HC3 standard errors (MacKinnon & White 1985) with one
    row per firm, errors clustered by firm when firms repeat across events (``cov_type``).

    ``params``, ``bse``, ``tvalues``, ``pvalues`` and ``conf_int()`` are indexed by term, as in
    statsmodels; ``coefficients`` (and ``to_frame()``) is the whole coefficient table."""

    coefficients: pd.DataFrame
    n: int
    data: pd.DataFrame
    excluded: pd.DataFrame
    bases: tuple[str, ...]
    min_confidence: str
    r2: float
    warnings: tuple[str, ...] = field(default_factory=tuple)
    cov_type: str = "HC3"
    n_firms: int = 0
    point_in_time: bool = False

    @property
    def mixed_bases(self) -> bool:
        return len(self.bases) > 1

    @property
    def basis(self) -> str | None:
        """The one geography basis of the sample (None when bases are mixed)."""
        return self.bases[0] if len(self.bases) == 1 else None

    def describe_errors(self) -> str:
        """One paragraph on the reported standard errors, worded for the fit's ``cov_type``."""
        if self.cov_type.startswith("clustered"):
            return (
                f"The standard errors are {self.cov_type}: they allow a "
                "firm's abnormal returns to be correlated across events, but not different "
                f"firms' returns on the same day, and with {self.n_firms} clusters they are "
                "themselves imprecise, so the interval is likely too narrow."
            )
        return (
            f"The {self.cov_type} standard errors treat the {self.n} firm-events as independent; "
            "firms' returns on the same day are not, so the interval is likely too narrow."
        )

    def _rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        d = self.data
        return (
            d["car"].to_numpy(float),
            d["china_share"].to_numpy(float),
            d["event_id"].astype(str).to_numpy(),
            d["symbol"].astype(str).to_numpy(),
        )

    def permutation_test(self, permutations: int = 9999, seed: int = 0) -> SlopePermutation:
        """Two-sided permutation p-value of the slope, formula (23), docs/formulas.md.

        Firms are the units: their China shares are shuffled across firms (every event row of
        a firm takes the share of the same other firm) and the slope with event intercepts is
        refitted. All G! assignments are enumerated when G! <= ``permutations``; otherwise
        ``permutations`` random ones (seeded) give p = (1 + #{|b*| >= |b|}) / (1 + draws).
        Fisher (1935), Pitman (1937), Good (2005); Phipson & Smyth (2010) for the +1.
        """
        y, x, ev, sym = self._rows()
        firms, g = np.unique(sym, return_inverse=True)
        events, e = np.unique(ev, return_inverse=True)
        table = np.full((len(firms), len(events)), np.nan)
        table[g, e] = x
        constant = np.nanmax(table, axis=1) == np.nanmin(table, axis=1)
        table[constant] = np.nanmax(table[constant], axis=1)[:, None]
        if np.isnan(table).any():
            raise EstimationError(
                "permutation test: a firm's China share changes between events and not every "
                "firm is in every event, so shares cannot be exchanged between firms; restrict "
                "the sample to firms present in every event"
            )
        G = len(firms)
        exact = math.factorial(G) <= permutations
        if exact:
            perms = np.array(list(itertools.permutations(range(G))))
        else:
            rng = np.random.default_rng(seed)
            perms = rng.permuted(np.tile(np.arange(G), (permutations, 1)), axis=1)
        b = float(_event_slope(x, y, ev))
        draws = _event_slope(table[perms[:, g], e], y, ev)
        hits = int(np.sum(np.abs(draws) >= abs(b) - 1e-12 * max(1.0, abs(b))))
        p = hits / len(perms) if exact else (1 + hits) / (1 + len(perms))
        return SlopePermutation(b, p, len(perms), exact, G, None if exact else seed)

    def leave_one_out(self) -> pd.DataFrame:
        """The slope (event intercepts, OLS) refitted without each firm in turn: symbol,
        n (firm-events left), slope, change (vs the slope on all firms). NaN where the rest
        no longer identifies a slope."""
        y, x, ev, sym = self._rows()
        full = float(_event_slope(x, y, ev))
        rows = []
        for f in sorted(set(sym)):
            keep = sym != f
            b = float(_event_slope(x[keep], y[keep], ev[keep])) if keep.sum() > 1 else np.nan
            rows.append({"symbol": f, "n": int(keep.sum()), "slope": b, "change": b - full})
        return pd.DataFrame(rows)

    def _column(self, name: str) -> pd.Series:
        return self.coefficients.set_index("term")[name].rename(None)

    @property
    def params(self) -> pd.Series:
        """The coefficients, by term."""
        return self._column("coef")

    @property
    def bse(self) -> pd.Series:
        """Their standard errors (the reported kind, see ``cov_type``)."""
        return self._column("se")

    @property
    def tvalues(self) -> pd.Series:
        return self._column("t")

    @property
    def pvalues(self) -> pd.Series:
        return self._column("pvalue")

    def conf_int(self) -> pd.DataFrame:
        """The 95% interval of each coefficient: ``lower`` and ``upper`` by term."""
        ci = self.coefficients.set_index("term")[["ci_low", "ci_high"]]
        return ci.rename(columns={"ci_low": "lower", "ci_high": "upper"}).rename_axis(None)

    def to_frame(self) -> pd.DataFrame:
        """Coefficient table: term, coef, se (the reported one, see ``cov_type``), se_hc3, t,
        pvalue, ci_low, ci_high, n."""
        return self.coefficients.assign(n=self.n)

    def _build_summary(self) -> Summary:
        rows = [
            ("Model", "CAR on China revenue share, OLS"),
            ("Std. errors", self.cov_type),
            ("Sample", f"n = {self.n} firm-events of {self.n_firms} firms"),
            ("Excluded", str(len(self.excluded))),
            ("R^2", f"{self.r2:.3f}"),
            ("Confidence", f"min confidence = {self.min_confidence}"),
            (
                "Bases",
                ", ".join(self.bases)
                + (" -- MIXED: shares are not measured the same way" if self.mixed_bases else ""),
            ),
        ]
        if self.point_in_time:
            pit = f"point in time: last fiscal year filed before day 0; basis {self.basis}"
            rows.insert(3, ("Shares", pit))
        out = Summary("China exposure regression").header(rows)
        out.table(self.coefficients.set_index("term"), "Coefficients (95% interval):")
        if self.warnings:
            out.text("\n".join(f"Note: {w}" for w in self.warnings))
        return out


def china_exposure_regression(
    cars: pd.DataFrame,
    exposure: pd.DataFrame,
    *,
    min_confidence: str = "medium",
    basis: str | list[str] | None = None,
    point_in_time: bool = False,
    filings: pd.DataFrame | None = None,
) -> ExposureRegression:
    """Regress event CARs on China revenue share across firms: ``car = a + b * china_share``.

    ``cars``: symbol, event_id, car. ``exposure``: symbol, china_share, basis, confidence_level
    (e.g. :func:`exposure_snapshot`).

    ``point_in_time=True``: ``exposure`` holds every fiscal year (e.g.
    :func:`analysis.data.facts.load_peers_exposure`) and ``cars`` a ``day0`` column; each
    firm-event takes the share of the latest fiscal year whose annual report was filed before
    that event's day 0 (:func:`exposure_filed_before`, ``filings`` as there), and a firm with
    none is excluded with the reason. The sample must be on one geography basis
    (:class:`MixedBasesError` unless ``basis`` picks one). Firms whose exposure confidence is below
    ``min_confidence`` (or unconfirmed), whose share is missing, or whose basis is not in
    ``basis`` (when given) are excluded and listed with the reason. With several events, event
    fixed effects are added. Standard errors: HC3 (MacKinnon & White 1985, J. Econometrics 29),
    which behaves better than HC0/HC1 in small samples but is still unreliable with a handful of
    firms; the summary says so.
    """
    need_c = {"symbol", "event_id", "car"} | ({"day0"} if point_in_time else set())
    need_e = {"symbol", "china_share", "basis", "confidence_level"}
    if point_in_time:
        need_e |= {"fiscal_year", "presentation"}
    need_c -= set(cars.columns)
    need_e -= set(exposure.columns)
    if need_c or need_e:
        raise SpecificationError(
            f"missing columns: cars {sorted(need_c)}, exposure {sorted(need_e)}"
        )
    thr = confidence_rank(min_confidence)
    if point_in_time:
        from analysis.data.earnings import load_filings

        fil = load_filings() if filings is None else filings
        exposure = pd.concat(
            [
                exposure_filed_before(exposure, before=d0, filings=fil).assign(day0=d0)
                for d0 in pd.to_datetime(cars["day0"]).unique()
            ],
            ignore_index=True,
        )
        cars = cars.assign(day0=pd.to_datetime(cars["day0"]))
        m = cars.merge(exposure, on=["symbol", "day0"], how="left", indicator=True)
    elif exposure["symbol"].duplicated().any():
        dup = sorted(exposure.loc[exposure["symbol"].duplicated(), "symbol"])
        raise SpecificationError(
            f"exposure has several rows for {', '.join(dup)}; pass one per "
            "symbol (see exposure_snapshot)"
        )
    else:
        m = cars.merge(exposure, on="symbol", how="left", indicator=True)
    bases = None if basis is None else ([basis] if isinstance(basis, str) else list(basis))
    reasons = []
    for _, r in m.iterrows():
        if point_in_time and r["_merge"] == "both" and r["reason"]:
            reasons.append(r["reason"])
        elif r["_merge"] == "left_only" or pd.isna(r["china_share"]):
            reasons.append("no China share")
        elif pd.isna(r["car"]):
            reasons.append("CAR missing")
        elif confidence_rank(r["confidence_level"]) < thr or r["confidence_level"] == "unconfirmed":
            reasons.append(f"confidence {r['confidence_level']} < {min_confidence}")
        elif bases is not None and r["basis"] not in bases:
            reasons.append(f"basis {r['basis']} not selected")
        else:
            reasons.append("")
    m["reason"] = reasons
    used = m[m["reason"] == ""].copy()
    excluded = m[m["reason"] != ""][["symbol", "event_id", "reason"]].reset_index(drop=True)
    if used["basis"].nunique() > 1 and bases is None:  # a list of bases mixes them on purpose
        by = used.groupby("basis")["symbol"].unique()
        raise MixedBasesError(
            "China shares on different geography bases are not comparable: "
            + "; ".join(f"{b}: {', '.join(sorted(set(f)))}" for b, f in by.items())
            + "; pass basis= with one of them"
        )
    events = sorted(used["event_id"].unique())
    k = 2 + max(len(events) - 1, 0)
    if len(used) <= k:
        raise EstimationError(
            f"only {len(used)} firm-event(s) left after exclusions (need more than {k} for "
            f"{k} parameters); excluded: "
            + "; ".join(dict.fromkeys(f"{r.symbol} ({r.reason})" for r in excluded.itertuples()))
        )
    X = pd.DataFrame(
        {"const": 1.0, "china_share": used["china_share"].astype(float)}, index=used.index
    )
    for e in events[1:]:
        X[f"event[{e}]"] = (used["event_id"] == e).astype(float)
    y = used["car"].astype(float)
    if X["china_share"].nunique() < 2:
        raise EstimationError(
            "china_share takes a single value in the sample; the slope is not identified"
        )
    hc3 = sm.OLS(y, X).fit(cov_type="HC3")
    firms = used["symbol"].to_numpy()
    n_firms = len(set(firms))
    if n_firms < 3:
        raise EstimationError(
            f"only {n_firms} firms ({', '.join(sorted(set(firms)))}) left after exclusions: "
            "errors clustered by firm need at least 3; widen basis= or min_confidence="
        )
    if n_firms < len(used):
        # a firm's China share repeats across events, so its rows are not independent: errors
        # clustered by firm, referred to t(G - 1) (Cameron & Miller 2015, J. Human Resources 50(2))
        codes = pd.factorize(firms)[0]
        fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
        cov_type = f"clustered by firm (G = {n_firms}), t({n_firms - 1})"
    else:
        fit, cov_type = hc3, "HC3"
    ci = fit.conf_int()
    params = pd.DataFrame(
        {
            "term": X.columns,
            "coef": fit.params.to_numpy(),
            "se": fit.bse.to_numpy(),
            "se_hc3": hc3.bse.to_numpy(),
            "t": fit.tvalues.to_numpy(),
            "pvalue": fit.pvalues.to_numpy(),
            "ci_low": ci[0].to_numpy(),
            "ci_high": ci[1].to_numpy(),
        }
    )
    n = len(used)
    warns = []
    if n_firms < 10:
        warns.append(
            f"only {n_firms} firms ({n} firm-events): the p-value and interval are fragile (one "
            "firm can move them a lot) and rest on asymptotics that do not hold here; read the "
            "slope as a description of these firms, not as evidence about exposure in general"
        )
    warns.append(
        "a cross-section of this size cannot separate China exposure from other firm "
        "traits (segment mix, size, beta) or show causation"
    )
    ub = tuple(sorted(used["basis"].unique()))
    if len(ub) > 1:
        warns.append(
            "China shares are measured on different geography bases ("
            + ", ".join(ub)
            + "); pass basis= to restrict to one"
        )
    return ExposureRegression(
        params,
        n,
        used.drop(columns=["_merge", "reason"]),
        excluded,
        ub,
        min_confidence,
        float(fit.rsquared),
        tuple(warns),
        cov_type,
        n_firms,
        point_in_time,
    )
