"""The shared vocabulary of the data tables: confidence levels and date precisions."""

from __future__ import annotations

from analysis.errors import SpecificationError

__all__ = [
    "CONFIDENCE_LEVELS",
    "CONFIDENCE_WORDS",
    "EVENT_DATE_PRECISIONS",
    "FACT_DATE_PRECISIONS",
    "confidence_rank",
    "normalize_confidence",
]

#: Normalized confidence levels of the fact tables, strongest first (see ``data/README.md``).
CONFIDENCE_LEVELS: tuple[str, ...] = (
    "high",
    "medium-high",
    "medium",
    "medium-low",
    "low",
    "article_claim",
    "unconfirmed",
)
_RANK = {
    "high": 5,
    "medium-high": 4,
    "medium": 3,
    "medium-low": 2,
    "low": 1,
    "article_claim": 0,
    "unconfirmed": 0,
}
#: The event registry's confidence text must start with one of these words
#: (``medium-high``, ``low-medium`` pass).
CONFIDENCE_WORDS: tuple[str, ...] = ("high", "medium", "low", "unconfirmed")
#: Prefixes of a free-text confidence, longest first, and the level each one means.
_PREFIXES = (
    ("medium-high", "medium-high"),
    ("medium-low", "medium-low"),
    ("low-medium", "medium-low"),
    ("medium", "medium"),
    ("high", "high"),
    ("low", "low"),
    ("unconfirmed", "unconfirmed"),
    ("article claim", "article_claim"),
    ("article_claim", "article_claim"),
)

#: How precise an event registry date is (``data/events.csv``, column ``date_precision``).
EVENT_DATE_PRECISIONS: tuple[str, ...] = ("exact", "approximate", "range", "before", "month")
#: How precise a fact table date is (:class:`analysis.data.facts.ApproxDate`).
FACT_DATE_PRECISIONS: tuple[str, ...] = (
    "day",
    "day_approx",
    "day_range",
    "before_day",
    "month",
    "month_approx",
    "year",
    "year_approx",
)


def normalize_confidence(text: str) -> str:
    """Map a free-text confidence (``"medium-high: total confirmed ..."``) to a level.

    The level is read from the start of the text: ``high``, ``medium-high``, ``medium``,
    ``medium-low`` (also ``low-medium``), ``low``, ``unconfirmed``, ``article claim`` ->
    ``article_claim``. Anything else raises :class:`ValueError`.
    """
    t = (text or "").strip().lower()
    for prefix, level in _PREFIXES:
        if t.startswith(prefix):
            return level
    raise ValueError(
        f"confidence {text!r} does not start with one of high, medium-high, medium, medium-low, "
        "low, unconfirmed, 'article claim'"
    )


def confidence_rank(level: str) -> int:
    """Order of a normalized level (high=5 ... low=1; article_claim and unconfirmed = 0)."""
    if level not in _RANK:
        raise SpecificationError(
            f"unknown confidence level {level!r}; allowed: {', '.join(CONFIDENCE_LEVELS)}"
        )
    return _RANK[level]
