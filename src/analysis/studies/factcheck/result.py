"""The fact-check table: every claim run through its check, the published verdict counts, the
claims table for a front page, and the I/O edge that loads the claims, tables and prices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

import pandas as pd

from analysis._summary import Summary, SummaryMixin
from analysis.errors import SpecificationError
from analysis.studies.factcheck.checks import CHECKS, Inputs
from analysis.studies.factcheck.findings import VERDICTS, findings_markdown

__all__ = [
    "FactCheck",
    "check_claims",
    "claims_table",
    "factcheck_headline",
    "run_factcheck",
    "verdict_table",
]


@dataclass(frozen=True, repr=False)
class FactCheck(SummaryMixin):
    """The fact-check table (one row per claim)."""

    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    @property
    def verdicts(self) -> pd.Series:
        return self.table.set_index("claim_id")["verdict"]

    def counts(self) -> pd.Series:
        """Claims per verdict: consistent, inconsistent, not verifiable (zeros kept)."""
        return self.table["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0)

    def results(self) -> dict:
        """The figures the report publishes: the verdict counts and every claim's verdict."""
        counts = self.counts()
        return {
            "claims": len(self.table),
            "consistent": int(counts["consistent"]),
            "inconsistent": int(counts["inconsistent"]),
            "not_verifiable": int(counts["not verifiable"]),
            **{f"verdict_{cid}": v for cid, v in self.verdicts.items()},
        }

    def findings(self, claim_ids: str | Sequence[str]) -> str:
        """The findings on ``claim_ids`` in Markdown, worded from what the checks computed
        (:mod:`.findings`), then the numbers only the article gives."""
        return findings_markdown(self.table, list(self.select(claim_ids).index))

    def computations(self, claim_ids: str | Sequence[str]) -> str:
        """Markdown bullets with each claim's gloss, claimed number, verdict and check text
        (texts from the claims table are escaped: never run as HTML)."""
        rows = self.select(claim_ids)
        return "\n".join(
            f"- **{cid}** ({escape(str(r['gloss_en']), quote=False)}): claimed {escape(str(r['claimed']), quote=False)}; "
            f"**{r['verdict']}**. {escape(str(r['check']), quote=False)}"
            for cid, r in rows.iterrows()
        )

    def claims_table(self) -> pd.DataFrame:
        """One row per claim: claim_id, claim (what is claimed), article_value (the number as
        the article states it, with its hedge), evidence_value (the figure the check computed;
        None when nothing could be computed), evidence (the check's computation in words, with
        units), verdict, tolerance and source."""
        t = self.table
        evidence = t["computed"].astype(object).where(t["computed"].notna(), None)
        return pd.DataFrame(
            {
                "claim_id": t["claim_id"],
                "claim": t["quantity"],
                "article_value": t["claimed"],
                "evidence_value": evidence,
                "evidence": t["check"],
                "verdict": t["verdict"],
                "tolerance": t["tolerance"],
                "source": t["source"],
            }
        )

    def headline(self) -> dict:
        """The verdict counts for a front page; see :func:`factcheck_headline`."""
        r, v = self.results(), self.verdicts
        return {
            "claims": r["claims"],
            "consistent": r["consistent"],
            "inconsistent": r["inconsistent"],
            "not_verifiable": r["not_verifiable"],
            "inconsistent_claims": [c for c, x in v.items() if x == "inconsistent"],
            "not_verifiable_claims": [c for c, x in v.items() if x == "not verifiable"],
        }

    def select(self, claim_ids: str | Sequence[str]) -> pd.DataFrame:
        """The rows of ``claim_ids`` (a string is one id), in that order, indexed by claim id;
        an unknown id is an error listing the valid ones."""
        valid = list(self.table["claim_id"])
        if isinstance(claim_ids, str):
            ids = [claim_ids]
        elif isinstance(claim_ids, Iterable):
            ids = list(claim_ids)
        else:
            raise SpecificationError(
                f"claim ids must be a list such as ['C01', 'C03'], got {claim_ids!r}; "
                f"valid claim ids: {', '.join(valid)}"
            )
        if not ids:
            raise SpecificationError(f"no claim ids given; valid claim ids: {', '.join(valid)}")
        unknown = [c for c in ids if c not in valid]
        if unknown:
            raise SpecificationError(
                f"unknown claim id(s) {', '.join(map(str, unknown))}; "
                f"valid claim ids: {', '.join(valid)}"
            )
        return self.table.set_index("claim_id").loc[ids]

    def _build_summary(self) -> Summary:
        counts = self.table["verdict"].value_counts()
        out = Summary("Fact check").header(
            [("Claims", str(len(self.table)))] + [(str(k), str(v)) for k, v in counts.items()]
        )
        lines = [
            f"{r['claim_id']} [{r['verdict']}] {r['quantity']}: {r['check']}"
            for _, r in self.table.iterrows()
        ]
        shown = self.table[list(SUMMARY_COLUMNS)].set_index("claim_id")
        return out.table(shown, "Claims:", text="\n".join(lines))


#: Columns of the fact-check table shown in the summary's HTML.
SUMMARY_COLUMNS = (
    "claim_id",
    "quote_zh",
    "gloss_en",
    "claimed",
    "check",
    "verdict",
    "tolerance",
    "source",
)


def _claimed_text(c: pd.Series) -> str:
    cur = f" {c['currency']}" if c["currency"] else ""
    if c["qualifier"] == "range":
        return f"{c['claimed_low']:,.6g}-{c['claimed_high']:,.6g}{cur} {c['unit']}"
    q = {"approx": "~", "more_than": "> ", "at_least": ">= "}.get(c["qualifier"], "")
    v = float(c["claimed_value"])
    num = f"{v:,.0f}" if v == round(v) and abs(v) < 1e15 else f"{v:,.6g}"
    return f"{q}{num}{cur} {c['unit']}"


def check_claims(
    claims: pd.DataFrame,
    *,
    ohlc: pd.DataFrame,
    fx: pd.Series,
    revenue: pd.DataFrame,
    peers: pd.DataFrame,
    market: pd.DataFrame,
    shares: pd.DataFrame,
    hardware: pd.DataFrame,
) -> FactCheck:
    """Run every claim's check. ``ohlc``: NVDA open/high/low/close in quoted units (DatetimeIndex);
    ``fx``: CNY per USD. Unknown check kinds raise :class:`SpecificationError`."""
    ohlc = ohlc.sort_index()
    ohlc.index = pd.DatetimeIndex(ohlc.index)
    inp = Inputs(claims, ohlc, fx, revenue, peers, market, shares, hardware)
    rows = []
    for _, c in claims.iterrows():
        fn = CHECKS.get(c["check"])
        if fn is None:
            raise SpecificationError(
                f"claim {c['claim_id']}: unknown check {c['check']!r}; known: {', '.join(CHECKS)}"
            )
        res = fn(c, inp)
        rows.append(
            {
                "claim_id": c["claim_id"],
                "quote_zh": c["quote_zh"],
                "gloss_en": c["gloss_en"],
                "quantity": c["quantity"],
                "claimed": _claimed_text(c),
                "kind": c["check"],
                **res,
            }
        )
    return FactCheck(pd.DataFrame(rows))


def run_factcheck(start: str = "2023-03-01", end: str = "2023-12-31") -> FactCheck:
    """Load the claims, the fact tables and the prices (NVDA, CNY=X) and run every check."""
    from analysis.data import facts, prices

    hist = prices.load_history("NVDA", start=start, end=end)
    quoted = prices.quoted_close("NVDA", start, end)
    factor = (quoted / hist["close"]).reindex(hist.index)
    ohlc = hist[["open", "high", "low", "close"]].mul(factor, axis=0)
    fx = prices.close(["CNY=X"], start, end)
    if isinstance(fx, pd.DataFrame):
        fx = fx.iloc[:, 0]
    return check_claims(
        facts.load_article_claims(),
        ohlc=ohlc,
        fx=fx,
        revenue=facts.load_revenue_geography(),
        peers=facts.load_peers_exposure(),
        market=facts.load_market_context(),
        shares=facts.load_shares_outstanding(),
        hardware=facts.load_hardware_prices(),
    )


def claims_table(result: FactCheck | None = None, **parameters) -> pd.DataFrame:
    """The tidy claims table for a front page (:meth:`FactCheck.claims_table`): claim_id, claim,
    article_value, evidence_value, evidence, verdict, tolerance, source. Without ``result``,
    :func:`run_factcheck` is run with ``parameters`` (``start``, ``end``)."""
    return _result(result, parameters).claims_table()


def factcheck_headline(result: FactCheck | None = None, **parameters) -> dict:
    """The fact-check for a front page, as a plain dict.

    Keys: ``claims`` (number checked), ``consistent``, ``inconsistent``, ``not_verifiable``
    (claims per verdict, the published counts), ``inconsistent_claims`` and
    ``not_verifiable_claims`` (their claim ids, in table order). The claim-by-claim table is
    :func:`claims_table`. Without ``result``, :func:`run_factcheck` is run with ``parameters``.
    """
    return _result(result, parameters).headline()


def _result(result: FactCheck | None, parameters: dict) -> FactCheck:
    if result is None:
        return run_factcheck(**parameters)
    if parameters:
        raise TypeError("pass either a fact-check result or the parameters to run one, not both")
    return result


#: Background colour of each verdict in :func:`verdict_table`.
VERDICT_COLORS = {"consistent": "#dff0d8", "inconsistent": "#f2dede", "not verifiable": "#eeeeee"}


def verdict_table(result: FactCheck):
    """Every claim as the page shows it (a pandas ``Styler``): quote, gloss, claimed number, the
    check's computation, the verdict (coloured), tolerance and source; texts HTML-escaped."""
    shown = result.table[list(SUMMARY_COLUMNS)]
    return (
        shown.style.format(escape="html")
        .map(lambda v: f"background-color: {VERDICT_COLORS.get(v, '')}", subset=["verdict"])
        .set_properties(**{"text-align": "left", "white-space": "normal", "vertical-align": "top"})
        .set_properties(subset=["quote_zh", "check"], **{"min-width": "18em"})
        .hide(axis="index")
    )
