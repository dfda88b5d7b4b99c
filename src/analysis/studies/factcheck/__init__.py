"""Fact-check of the article's numeric claims against prices and the cited fact tables.

One row per claim of ``data/article_claims.csv``: the quote, its gloss, the check computed from
the data, a verdict (``consistent`` / ``inconsistent`` / ``not verifiable``) with the tolerance
used, and the sources. Each check is a small pure function (:mod:`.checks`); :func:`check_claims`
dispatches on the claim's ``check`` column; :func:`run_factcheck` is the I/O edge that loads
everything. :meth:`FactCheck.results` is what the report publishes, :meth:`FactCheck.findings`
its findings worded from the checks (:mod:`.findings`), :func:`factcheck_headline` and
:func:`claims_table` the front page's figures.
"""

from __future__ import annotations

from analysis.studies.factcheck.checks import (
    CHECKS,
    CONSISTENT,
    INCONSISTENT,
    NOT_VERIFIABLE,
    Inputs,
)
from analysis.studies.factcheck.findings import findings_markdown
from analysis.studies.factcheck.result import (
    SUMMARY_COLUMNS,
    FactCheck,
    check_claims,
    claims_table,
    factcheck_headline,
    run_factcheck,
    verdict_table,
)

__all__ = [
    "CHECKS",
    "CONSISTENT",
    "INCONSISTENT",
    "NOT_VERIFIABLE",
    "SUMMARY_COLUMNS",
    "FactCheck",
    "Inputs",
    "check_claims",
    "claims_table",
    "factcheck_headline",
    "findings_markdown",
    "run_factcheck",
    "verdict_table",
]
