"""The pre-specified design of the published reports, with its reasons.

Which benchmark is primary, which one is shown beside it and which estimation days are left out
were fixed from the research question alone, before any result was looked at; a report states
them with :func:`design_note`, so a reader sees what was chosen and why, and a rerun with other
parameters says that it departs from the design.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analysis.eventstudy.benchmarks import SPY_EX_FIRM

if TYPE_CHECKING:
    from analysis.eventstudy.results import EventStudyResults

#: Benchmark of the market model on a single firm's pages.
PRIMARY_BENCHMARK = SPY_EX_FIRM
#: Shown beside the primary benchmark on a single firm's pages, never instead of it.
ALTERNATIVE_BENCHMARK = "peers-ex-firm:semis"
#: Benchmark of the peer-group pages.
GROUP_BENCHMARK = "SPY"
#: Estimation days left out on a single firm's pages (``event_study(exclude=...)``).
CLEAN_ESTIMATION = "events,earnings"
#: Estimation days left out on the peer-group pages.
GROUP_CLEAN_ESTIMATION = "events"

PRIMARY_REASON = (
    "The export rules hit the whole semiconductor sector, so a sector benchmark would take part "
    "of the effect out of the counterfactual; the broad market answers 'what would the stock have "
    "done without the news'. The firm's own weight is taken out of the index (cited weights, "
    "drifted between anchors) so that its shock does not move its own benchmark or inflate its "
    "beta."
)
ALTERNATIVE_REASON = (
    "The other semiconductor firms, equally weighted, ask a different question: did the firm fall "
    "more than chip makers hit by the same news?"
)
GROUP_REASON = (
    "The peers' own index weights are not in the cited table, so the market without each firm "
    "cannot be built for them; the sector's weight in SPY pulls the benchmark along with the "
    "shock, which biases the CARs towards zero."
)
CLEAN_REASON = (
    "Other registry events' windows and the firm's earnings reaction days are left out of the "
    "estimation window, which is extended back to keep its length: news days in the estimation "
    "window inflate the residual variance and bias the fitted drift and beta (MacKinlay 1997, "
    "sec. 2)."
)
GROUP_CLEAN_REASON = (
    "Other registry events' windows are left out of the estimation window, which is extended back "
    "to keep its length; earnings days are not, because the earnings table covers only some of "
    "the peers, and cleaning some firms and not others would mix two designs."
)


def _same(a: str, b: str) -> bool:
    return a.replace(" ", "").lower() == b.replace(" ", "").lower()


def design_note(res: EventStudyResults, market: str, exclude: str, *, alternative: str = "") -> str:
    """A paragraph stating the benchmark and the estimation cleaning a report used, whether they
    are the pre-specified design (single firm or group), and why."""
    single = len(res.firms) == 1
    want_bench = PRIMARY_BENCHMARK if single else GROUP_BENCHMARK
    want_excl = CLEAN_ESTIMATION if single else GROUP_CLEAN_ESTIMATION
    parts = []
    if _same(market, want_bench):
        why = PRIMARY_REASON if single else GROUP_REASON
        parts.append(f"Benchmark: **{market}**, the design's primary benchmark. {why}")
    else:
        parts.append(
            f"Benchmark: **{market or 'none'}**, not the design's primary benchmark "
            f"({want_bench}); read this page as a robustness check."
        )
    if alternative:
        parts.append(f"Shown beside it: **{alternative}**. {ALTERNATIVE_REASON}")
    if _same(exclude, want_excl):
        why = CLEAN_REASON if single else GROUP_CLEAN_REASON
        parts.append(f'Estimation: `exclude="{exclude}"`, as the design fixes. {why}')
    else:
        parts.append(
            f'Estimation: `exclude="{exclude}"`, not the design\'s `"{want_excl}"`; read this '
            "page as a robustness check."
        )
    parts.append("The design was fixed from the research question before any result was read.")
    return " ".join(parts)
