"""The findings the front page opens with: NVDA across every export-control episode under the
design's primary and alternative benchmarks, the peer group's reaction to each BIS rule, and the
sentences that state them, generated from the numbers.

The design (benchmarks, cleaned estimation windows) is :mod:`analysis.eventstudy.policy`; the
episodes, their Holm and Benjamini-Hochberg p-values and the pooled tests are
:func:`analysis.eventstudy.episodes.episodes`; a peer reaction is one
:func:`analysis.eventstudy.event_study` of the group. Nothing here computes a statistic of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis._summary import Summary, SummaryMixin
from analysis.data import calendar
from analysis.eventstudy import event_study, policy
from analysis.eventstudy.design import Window, as_window
from analysis.eventstudy.episodes import EpisodeTable, episodes
from analysis.eventstudy.prose import ROBUST_TESTS as VERDICT_TESTS
from analysis.eventstudy.tables import num

#: Clustering-robust tests of a peer group's CAAR shown per BIS rule (cross-correlation
#: allowed): the tests the prose's verdict reads, and the wild bootstrap beside them.
ROBUST_TESTS = (*VERDICT_TESTS, "wild_bootstrap")


def _pct(v: float) -> str:
    return f"{v:+.1%}"


@dataclass(frozen=True)
class EpisodeEvidence(SummaryMixin):
    """One firm's export-control episodes under two benchmarks (see :func:`nvda_episodes`)."""

    symbol: str
    window: Window
    exclude: str
    benchmarks: tuple[str, str]  # (primary, alternative)
    tables: tuple[EpisodeTable, EpisodeTable]

    def to_frame(self) -> pd.DataFrame:
        """One row per benchmark and episode: the episode table's columns plus the 95% interval
        of the CAR (``low``, ``high``: t quantile with the episode's degrees of freedom)."""
        parts = []
        for bench, table in zip(self.benchmarks, self.tables, strict=True):
            f = table.to_frame().reset_index()
            q = stats.t.ppf(0.975, f["dof"].to_numpy(dtype=float))
            f["low"], f["high"] = f["car"] - q * f["se"], f["car"] + q * f["se"]
            f.insert(0, "benchmark", bench)
            parts.append(f)
        return pd.concat(parts, ignore_index=True)

    def pooled_frame(self) -> pd.DataFrame:
        """The pooled tests across episodes, per benchmark (index benchmark, test)."""
        return pd.concat(
            {b: t.pooled_frame() for b, t in zip(self.benchmarks, self.tables, strict=True)},
            names=["benchmark", "test"],
        )

    def headline(self) -> dict[str, Any]:
        """Plain numbers for ``results.json``: per benchmark the episode count, the mean CAR and
        the pooled tests' p-values, the smallest raw p and its Holm / BH adjusted values."""
        out: dict[str, Any] = {"symbol": self.symbol, "exclude": self.exclude}
        for key, bench, table in zip(("primary", "alt"), self.benchmarks, self.tables, strict=True):
            f = table.to_frame()
            best = f["pvalue"].idxmin()
            pooled = table.pooled_frame()["pvalue"]
            out.update(
                {
                    f"{key}_benchmark": bench,
                    f"{key}_n_episodes": len(f),
                    f"{key}_mean_car": num(table.mean_scar.extra["mean_car"]),
                    f"{key}_pooled_pvalue": num(pooled["mean_standardized_car"]),
                    f"{key}_sign_pvalue": num(pooled["episode_sign"]),
                    f"{key}_wald_pvalue": num(pooled["stacked_wald"]),
                    f"{key}_n_negative": int((f["car"] < 0).sum()),
                    f"{key}_min_p_episode": str(best),
                    f"{key}_min_pvalue": num(f.loc[best, "pvalue"]),
                    f"{key}_min_pvalue_holm": num(f.loc[best, "pvalue_holm"]),
                    f"{key}_min_pvalue_bh": num(f.loc[best, "pvalue_bh"]),
                    f"{key}_n_holm_below_0_05": int((f["pvalue_holm"] < 0.05).sum()),
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per benchmark every episode's row (members, day 0, window, raw day-0
        return, CAR with its 95% interval, p, Holm, BH and SQ p) and the pooled tests."""
        f = self.to_frame()
        cols = ["raw_day0_return", "car", "se", "low", "high", "pvalue", "pvalue_holm"]
        cols += ["pvalue_bh", "sq_pvalue"]
        out: dict[str, Any] = {}
        for key, bench in zip(("primary", "alt"), self.benchmarks, strict=True):
            rows = f[f["benchmark"] == bench]
            out[f"{key}_episodes"] = [
                {
                    "episode": str(r["episode"]),
                    "day0": f"{r['day0']:%Y-%m-%d}",
                    "window": [int(r["window_start"]), int(r["window_end"])],
                    **{c: num(r[c]) for c in cols},
                }
                for _, r in rows.iterrows()
            ]
            pooled = self.pooled_frame().loc[bench]
            out[f"{key}_pooled"] = {
                str(t): {"stat": num(r["stat"]), "pvalue": num(r["pvalue"]), "n": int(r["n"])}
                for t, r in pooled.iterrows()
            }
        return out

    def linked_frame(self, links: dict[str, str]) -> pd.DataFrame:
        """:meth:`to_frame` with ``events``: each member event as an HTML link to its page
        (``links``: event id -> href; a member without one stays plain text)."""
        f = self.to_frame()
        f["events"] = [
            " ".join(
                f'<a href="{links[m]}">{m}</a>' if m in links else m for m in members.split("+")
            )
            for members in f["members"]
        ]
        return f

    def answer(self, alpha: float = 0.05) -> str:
        """The plain-language answer: did the firm react, how much, how sure, and what the
        benchmark choice does."""
        (p_bench, a_bench), (pt, at) = self.benchmarks, self.tables
        f = pt.to_frame()
        n, neg = len(f), int((f["car"] < 0).sum())
        mean_p = float(pt.pooled_frame().loc["mean_standardized_car", "pvalue"])
        best = f["pvalue"].idxmin()
        w = calendar.format_window(self.window)
        verdict = (
            "a reaction this consistent would be unlikely by chance"
            if mean_p < alpha
            else f"taken together this is not significant at the {alpha:.0%} level"
        )
        text = [
            f"Across {n} export-control episodes from {f['day0'].min():%B %Y} to "
            f"{f['day0'].max():%B %Y}, {self.symbol}'s abnormal return over {w} around day 0 "
            f"averaged {_pct(float(pt.mean_scar.extra['mean_car']))} against {p_bench}"
            + (" (the design's primary benchmark)" if p_bench == policy.PRIMARY_BENCHMARK else "")
            + f", and {neg} of the {n} episodes were negative: "
            f"the pooled test across episodes gives p = {mean_p:.3f}; {verdict}.",
        ]
        adj = f.loc[best, "pvalue_holm"]
        text.append(
            f"The strongest single episode is {best} (day 0 {f.loc[best, 'day0']:%Y-%m-%d}, CAR "
            f"{_pct(f.loc[best, 'car'])}, p = {f.loc[best, 'pvalue']:.3f}); tested as one of "
            f"{n} episodes its Holm-adjusted p is {adj:.3f}, so "
            + (
                "it survives the adjustment."
                if adj < alpha
                else "no single episode is significant once the number of tests is accounted for."
            )
        )
        af = at.to_frame()
        alt_p = float(at.pooled_frame().loc["mean_standardized_car", "pvalue"])
        flips = [
            e
            for e in f.index
            if e in af.index and np.sign(f.loc[e, "car"]) != np.sign(af.loc[e, "car"])
        ]
        question = (
            f" (did {self.symbol} fall more than chip makers hit by the same news?)"
            if a_bench.startswith("peers-ex-firm:")
            else ""
        )
        text.append(
            f"Against {a_bench}{question} the mean is "
            f"{_pct(float(at.mean_scar.extra['mean_car']))} (pooled p = "
            f"{alt_p:.3f})"
            + (
                f"; the sign of the CAR flips between the benchmarks in {', '.join(flips)}."
                if flips
                else "; no episode's CAR changes sign between the benchmarks."
            )
        )
        return " ".join(text)

    def _build_summary(self) -> Summary:
        s = Summary(f"{self.symbol} across export-control episodes")
        s.header(
            [
                ("Firm", self.symbol),
                ("Window", calendar.format_window(self.window)),
                ("Estimation cleaned of", self.exclude or "nothing"),
                ("Primary benchmark", self.benchmarks[0]),
                ("Alternative benchmark", self.benchmarks[1]),
            ]
        )
        cols = ["benchmark", "episode", "day0", "car", "low", "high", "pvalue", "pvalue_holm"]
        s.table(self.to_frame()[cols + ["pvalue_bh", "sq_pvalue"]], "Episodes")
        s.table(self.pooled_frame().reset_index(), "Pooled tests across episodes")
        return s


def nvda_episodes(
    symbol: str = "NVDA",
    window: Window | str = (-1, 3),
    *,
    market: str = policy.PRIMARY_BENCHMARK,
    alternative: str = policy.ALTERNATIVE_BENCHMARK,
    exclude: str = policy.CLEAN_ESTIMATION,
    prices: pd.DataFrame | None = None,
) -> EpisodeEvidence:
    """The firm's export-control episodes (market model) under the primary and the alternative
    benchmark, each estimation window cleaned by ``exclude``."""
    w = as_window(window, "event")
    tables = tuple(
        episodes(symbol, w, market=m, exclude=exclude or None, prices=prices)
        for m in (market, alternative)
    )
    return EpisodeEvidence(symbol, w, exclude, (market, alternative), (tables[0], tables[1]))


@dataclass(frozen=True)
class PeerReactions(SummaryMixin):
    """A peer group's CAR per firm and event, with the group's clustering-robust tests."""

    group: str
    benchmark: str
    exclude: str
    window: Window
    cars: pd.DataFrame  # firm x event id
    tests: pd.DataFrame  # event id x (caar, n, <test>_pvalue ...)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the CAR of every firm on every event, and the group tests per event."""
        return {
            "cars": {
                str(ev): {str(f): num(v) for f, v in col.items()} for ev, col in self.cars.items()
            },
            "tests": {
                str(ev): {
                    "day0": f"{row['day0']:%Y-%m-%d}",
                    **{k: num(row[k]) for k in row.index if k != "day0"},
                }
                for ev, row in self.tests.iterrows()
            },
        }

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per firm and event (firm, event, car)."""
        out = self.cars.stack().rename("car").reset_index()
        out.columns = ["firm", "event", "car"]
        return out

    def by_role(self, roles: dict[str, list[str]]) -> pd.DataFrame:
        """:meth:`to_frame` with each firm labelled by its role ("NVDA (designer)") and ordered
        role by role: ``roles`` maps a role to its firms (first role first); the others are
        "other", last."""
        role = {f: r for r, firms in reversed(list(roles.items())) for f in firms}
        names = [*roles, "other"]
        out = self.to_frame()
        out["role"] = out["firm"].map(lambda f: role.get(f, "other"))
        labels = out["firm"] + " (" + out["role"] + ")"
        order = sorted(
            labels.unique(),
            key=lambda lab: (names.index(lab.rsplit(" (", 1)[1][:-1]), lab),
        )
        out["firm"] = pd.Categorical(labels, order, ordered=True)
        return out.sort_values(["firm", "event"]).reset_index(drop=True)

    def _build_summary(self) -> Summary:
        s = Summary(f"Peer group {self.group} on each event")
        s.header(
            [
                ("Benchmark", self.benchmark),
                ("Window", calendar.format_window(self.window)),
                ("Estimation cleaned of", self.exclude or "nothing"),
            ]
        )
        s.table(self.cars.reset_index(), "CAR by firm and event")
        s.table(self.tests.reset_index(), "Group tests (clustering-robust)")
        return s


def peer_reactions(
    group: str = "semis",
    events: Sequence[str] | None = None,
    *,
    window: Window | str = (-1, 3),
    market: str = policy.GROUP_BENCHMARK,
    exclude: str = policy.GROUP_CLEAN_ESTIMATION,
    prices: pd.DataFrame | None = None,
) -> PeerReactions:
    """The peer group's reaction to each event (default: every BIS rule of the registry), one
    :func:`~analysis.eventstudy.event_study` per event."""
    from analysis.data.events import export_control_events, peer_group

    if events is None:
        table = export_control_events(observable_only=True)
        events = list(table.loc[table["kind"] == "bis_rule", "event_id"])
    firms = peer_group(group)
    w = as_window(window, "event")
    cars, rows = {}, []
    for ev in events:
        res = event_study(
            firms, ev, market=market, window=w, exclude=exclude or None, prices=prices
        )
        cr = res.car()
        cars[ev] = cr.estimate
        tt = cr.tests().to_frame()
        rows.append(
            {
                "event": ev,
                "day0": res.event_day.date,
                "caar": float(cr.caar),
                "n": int(cr.n),
                **{f"{t}_pvalue": float(tt.loc[t, "pvalue"]) for t in ROBUST_TESTS},
            }
        )
    frame = pd.DataFrame(cars).reindex(firms)
    frame.index.name = "firm"
    return PeerReactions(group, market, exclude, w, frame, pd.DataFrame(rows).set_index("event"))


def _claim(claims: pd.DataFrame, claim_id: str) -> pd.Series | None:
    rows = claims[claims["claim_id"] == claim_id]
    return rows.iloc[0] if len(rows) else None


def article_sentences(claims: pd.DataFrame, evidence: EpisodeEvidence, event: str = "E08") -> str:
    """How the article's account compares with the evidence: its price and market-value claims
    (C01-C03 of ``data/article_claims.csv``) and its China share (C11) against the fact-check's
    computed values, and the abnormal return of the episode holding ``event``."""
    out = []
    c1, c2, c3, c11 = (_claim(claims, c) for c in ("C01", "C02", "C03", "C11"))
    if c1 is not None and c2 is not None:
        a1, a2 = float(c1["evidence_value"]), float(c2["evidence_value"])
        out.append(
            f"The article has NVDA falling from $446 to $414 in three sessions after the rule of "
            f"17 October 2023; the closes were ${a1:,.2f} and ${a2:,.2f} (in the units quoted "
            f"then), a fall of {1 - a2 / a1:.1%}: the article's $446 is {c1['verdict']} with the "
            f"first close, its $414 {c2['verdict']} with the second."
        )
    if c3 is not None:
        out.append(
            f"The market value fell by ${float(c3['evidence_value']):,.1f}B, not the article's "
            f"$76.9B ({c3['verdict']})."
            if c3["verdict"] == "inconsistent"
            else f"The market value fell by ${float(c3['evidence_value']):,.1f}B ({c3['verdict']} "
            "with the article's $76.9B)."
        )
    f = evidence.tables[0].to_frame()
    hit = [e for e in f.index if event in str(f.loc[e, "members"]).split("+")]
    if hit:
        e = hit[0]
        r = f.loc[e]
        out.append(
            f"Beyond what the market did, the episode {e} (window "
            f"{calendar.format_window((int(r['window_start']), int(r['window_end'])))}) has an "
            f"abnormal return of {_pct(r['car'])} against {evidence.benchmarks[0]} "
            f"(p = {r['pvalue']:.3f}; Holm-adjusted {r['pvalue_holm']:.3f}): not distinguishable "
            "from NVDA's usual volatility."
            if r["pvalue"] >= 0.05
            else f"Beyond what the market did, the episode {e} has an abnormal return of "
            f"{_pct(r['car'])} against {evidence.benchmarks[0]} (p = {r['pvalue']:.3f}; "
            f"Holm-adjusted {r['pvalue_holm']:.3f})."
        )
    if c11 is not None:
        out.append(
            f"China's share of Nvidia's revenue in its fiscal 2023 10-K was "
            f"{float(c11['evidence_value']):.1f}%, not about 40% ({c11['verdict']})."
            if c11["verdict"] == "inconsistent"
            else f"China's share of Nvidia's revenue: {c11['evidence_value']} ({c11['verdict']} "
            "with the article's ~40%)."
        )
    return " ".join(out)


def caveats(
    evidence: EpisodeEvidence,
    *,
    exposure: dict[str, Any] | None = None,
    hardware: dict[str, Any] | None = None,
    retail: dict[str, Any] | None = None,
    detected: dict[str, Any] | None = None,
) -> list[str]:
    """What the evidence cannot show, each point generated from the numbers it qualifies
    (headline dicts of the exposure, hardware and retail studies, and :func:`detection`, where
    given)."""
    f = evidence.to_frame()
    prim = f[f["benchmark"] == evidence.benchmarks[0]].set_index("episode")
    alt = f[f["benchmark"] == evidence.benchmarks[1]].set_index("episode")
    gap = (prim["car"] - alt["car"]).abs()
    diff = (prim["pvalue"] - prim["sq_pvalue"]).abs()
    out = [
        f"Benchmark dependence: the CAR moves by up to {gap.max():.1%} (episode {gap.idxmax()}) "
        f"between {evidence.benchmarks[0]} and {evidence.benchmarks[1]}; both are shown, and "
        "the primary one was chosen before any result was read.",
        f"Fat tails: the SQ test, which does not assume normal returns, gives p-values up to "
        f"{diff.max():.3f} away from the t test's (episode {diff.idxmax()}).",
        f"{len(prim)} episodes are few for pooled tests; they treat the episodes as independent, "
        "and the stacked regression keeps earnings days in its sample (the per-episode "
        "estimates leave them out).",
    ]
    if detected:
        out.append(detection_sentence(detected, evidence.window))
    if exposure:
        out.append(
            f"China exposure rests on {exposure['n_firms']} firms ({exposure['geography_basis']}); "
            f"dropping one firm moves the slope from {exposure['loo_slope_min']:+.3f} (without "
            f"{exposure['loo_slope_min_without']}) to {exposure['loo_slope_max']:+.3f} (without "
            f"{exposure['loo_slope_max_without']})."
        )
    if hardware:
        out.append(
            "China hardware prices are sparse. The post-rule A800 price: "
            f"{hardware['a800_after_confidence_words']}; the highest RTX 4090 quote: "
            f"{hardware['rtx4090_peak_after_confidence_words']}."
        )
    if retail:
        out.append(
            f"US retail prices come from one retailer's Buy Box for {retail['n_cards']} cards; "
            "other demand shocks (AI hobbyists, new launches) move them too."
        )
    return out


def synthetic_episodes(
    evidence: EpisodeEvidence,
    donors: str = "untouched",
    *,
    alpha: float = 0.05,
    prices: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every episode by synthetic matching (formula (26)): the firm's CAR over the episode's
    window against a weighted basket of ``donors`` fitted on the same cleaned estimation window,
    with the permutation p over donors and the CAR interval that inverts it; the columns of
    :meth:`EpisodeEvidence.to_frame` it shares (``benchmark`` is "synthetic (DONORS)")."""
    from analysis.eventstudy.synthetic import synthetic_study

    rows = []
    for label, row in evidence.tables[0].to_frame().iterrows():
        first = str(row["members"]).split("+")[0]
        res = synthetic_study(
            evidence.symbol,
            first,
            donors=donors,
            window=(int(row["window_start"]), int(row["window_end"])),
            exclude=evidence.exclude or None,
            prices=prices,
        )
        ci = res.conf_int(alpha).iloc[0]
        test = res.tests().to_frame().loc["permutation"]
        rows.append(
            {
                "benchmark": f"synthetic ({donors})",
                "episode": label,
                "members": row["members"],
                "day0": row["day0"],
                "car": res.car,
                "low": float(ci["lower"]),
                "high": float(ci["upper"]),
                "pvalue": float(test["pvalue"]),
                "top_donors": ", ".join(
                    f"{d} {w:.2f}" for d, w in res.weights.sort_values(ascending=False)[:3].items()
                ),
            }
        )
    return pd.DataFrame(rows)


def detection(
    evidence: EpisodeEvidence,
    event: str = "E08",
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    prices: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """How large a CAR the design could have detected (formula (29)): for ``event``'s study
    under the primary benchmark, the firm's residual sd and the smallest |CAR| the
    prediction-error t detects with ``power`` at ``alpha`` (exact noncentral t, normal
    disturbances); for every episode, the same from its CAR standard error and degrees of
    freedom (smallest, median, largest)."""
    from scipy import optimize

    from analysis.eventstudy import power as pw

    res = event_study(
        evidence.symbol,
        event,
        market=evidence.benchmarks[0],
        window=evidence.window,
        exclude=evidence.exclude or None,
        prices=prices,
    )
    fig = pw.detection_figures(res, power=power, alpha=alpha)
    f = evidence.tables[0].to_frame()

    def mde(se: float, dof: float) -> float:
        top = 6 * se  # power is about 1 at delta = 6; the noncentral t is unstable far out
        return float(
            optimize.brentq(lambda e: pw.t_test_power(e, se, 1.0, dof, alpha) - power, 0, top)
        )

    each = pd.Series([mde(se, dof) for se, dof in zip(f["se"], f["dof"], strict=True)], f.index)
    return {
        "event": event,
        "benchmark": evidence.benchmarks[0],
        "sigma": num(fig["sigma"]),
        # exact where the power module knows it (no missing days), else its simulation
        "car": num(abs(fig["analytic_car"] if fig["analytic_car"] is not None else fig["car"])),
        "power": power,
        "alpha": alpha,
        "test": "t_prediction_error",
        "episode_min": num(each.min()),
        "episode_median": num(each.median()),
        "episode_max": num(each.max()),
        "episode_min_at": str(each.idxmin()),
        "episode_max_at": str(each.idxmax()),
        "mean_car": num(evidence.tables[0].mean_scar.extra["mean_car"]),
    }


def detection_sentence(d: dict[str, Any], window: Window) -> str:
    """The power caveat in words, from :func:`detection`."""
    w = calendar.format_window(window)
    return (
        f"Power: with a daily residual sd of {d['sigma']:.1%} ({d['event']}, against "
        f"{d['benchmark']}) this design detects a CAR over {w} of {d['car']:.1%} with "
        f"{d['power']:.0%} power at the {d['alpha']:.0%} level (prediction-error t, normal "
        f"returns); across the episodes that detectable CAR runs from {d['episode_min']:.1%} "
        f"({d['episode_min_at']}) to {d['episode_max']:.1%} ({d['episode_max_at']}); "
        + _average_against(abs(d["mean_car"]), d)
    )


def _average_against(size: float, d: dict[str, Any]) -> str:
    """Whether a reaction the size of the average CAR is within what the episodes can detect."""
    avg = f"a reaction the size of the average, {_pct(d['mean_car'])},"
    if size < d["episode_min"]:
        return f"{avg} could not be told from noise in any single episode."
    if size < d["episode_max"]:
        return f"{avg} would be detected with that power only in the episodes with the smallest."
    return f"{avg} is above the detectable CAR of every episode."


def retail_line(**parameters: Any) -> dict[str, Any]:
    """The US retail study's headline (:func:`analysis.studies.retail.retail_study` with
    ``parameters``, then its ``headline()``)."""
    from analysis.studies.retail import retail_study

    return retail_study(**parameters).headline()


def peer_headline(peers: PeerReactions) -> dict[str, Any]:
    """Per event the group's CAAR and clustering-robust p-values, as plain numbers."""
    out: dict[str, Any] = {"group": peers.group, "benchmark": peers.benchmark}
    for ev, row in peers.tests.iterrows():
        out[f"{str(ev).lower()}_caar"] = num(row["caar"])
        out.update({f"{str(ev).lower()}_{t}_pvalue": num(row[f"{t}_pvalue"]) for t in ROBUST_TESTS})
    return out


def _link(text: str, links: dict[str, str], name: str) -> str:
    return f"[{text}]({links[name]})" if name in links else text


def study_lines(
    *,
    hardware: dict[str, Any] | None = None,
    exposure: dict[str, Any] | None = None,
    retail: dict[str, Any] | None = None,
    links: dict[str, str] | None = None,
) -> str:
    """One Markdown line per study (hardware shocks in China, China exposure, US retail
    prices), from their headline dicts, each linking to its report where ``links`` has it."""
    links = links or {}
    out = []
    if hardware:
        h = hardware
        a800 = (
            f"the A800 went from {h['a800_before_price']:,.0f} to {h['a800_after_price']:,.0f} "
            f"{h['a800_currency']} ({h['a800_change_pct']:+.0f}%; the later price: "
            f"{h['a800_after_confidence_words']})"
            if h.get("a800_change_pct") is not None
            else "the A800's post-rule price is not observed"
        )
        rtx = (
            f"the highest independent RTX 4090 quote after the rule was "
            f"{h['rtx4090_peak_independent_after_price']:,.0f} {h['rtx4090_peak_independent_currency']}"
            f" against a list price of {h['rtx4090_peak_independent_msrp_price']:,.0f} "
            f"({h['rtx4090_peak_independent_change_pct']:+.0f}%; "
            f"{h['rtx4090_peak_independent_after_confidence_words']})"
            if h.get("rtx4090_peak_independent_change_pct") is not None
            else "no independent post-rule RTX 4090 quote"
        )
        out.append(f"- **{_link('Hardware in China', links, 'hardware_shocks')}**: {a800}; {rtx}.")
    if exposure:
        e = exposure
        perm = (
            f", permutation p = {e['permutation_pvalue']:.3f} ({e['permutations']:,} permutations)"
            if e.get("permutation_pvalue") is not None
            else ""
        )
        out.append(
            f"- **{_link('China exposure', links, 'china_exposure')}**: across "
            f"{e['n_firms']} firms and {e['n_firm_events']} firm-events, a higher China revenue "
            f"share goes with a CAR slope of {e['slope']:+.3f} (95% interval {e['slope_ci_low']:+.3f} "
            f"to {e['slope_ci_high']:+.3f}, p = {e['slope_pvalue']:.3f}{perm}; "
            f"{e['error_type']}; geography basis {e['geography_basis']})."
        )
    if retail:
        r = retail
        interval = (
            f", {r['interval_level']:.0%} interval {r['interval_low_pct']:+.1f}% to "
            f"{r['interval_high_pct']:+.1f}%"
            if r.get("interval_low_pct") is not None
            else ""
        )
        out.append(
            f"- **{_link('US retail RTX 4090', links, 'retail_gpu')}**: against "
            f"{r['n_cards'] - 1} control cards its Amazon price moved {r['effect_pct']:+.1f}% in "
            f"event weeks {r['horizon_weeks']}{interval} (randomization p = {r['p']:.3f}: "
            f"{'not ' if r['p'] >= 0.05 else ''}distinguishable from the control cards' own moves)."
        )
    return "\n".join(out)


def overview_results(
    evidence: EpisodeEvidence,
    peers: PeerReactions,
    factcheck: Any,
    claims: pd.DataFrame,
    *,
    hardware: dict[str, Any],
    exposure: dict[str, Any],
    retail: dict[str, Any] | None,
    detected: dict[str, Any] | None = None,
    synthetic: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Every number the front page shows, for its ``results.json``: the episodes and pooled
    tests under both benchmarks, the peers' CARs and group tests, the hardware, exposure and
    retail headlines, the fact-check's counts and each claim's verdict."""
    out = evidence.headline() | evidence.to_dict()
    out |= {f"peers_{k}": v for k, v in peer_headline(peers).items()}
    out |= {"peers": peers.to_dict(), "hardware": hardware, "exposure": exposure}
    out |= {"retail": retail or {}}
    out |= {f"factcheck_{k}": v for k, v in factcheck.headline().items()}
    out |= {"claims": dict(zip(claims["claim_id"], claims["verdict"], strict=True))}
    if detected:
        out |= {"detection": detected}
    if synthetic is not None:
        out |= {
            "synthetic_episodes": [
                {
                    "episode": str(r["episode"]),
                    "day0": f"{r['day0']:%Y-%m-%d}",
                    **{k: num(r[k]) for k in ("car", "low", "high", "pvalue")},
                    "top_donors": str(r["top_donors"]),
                }
                for _, r in synthetic.iterrows()
            ]
        }
    return out
