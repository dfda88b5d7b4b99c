"""Exceptions a user sees. Each message says what, where (symbol, file, row, date) and what to do."""

from __future__ import annotations


class AnalysisError(Exception):
    """Base class: the CLI prints these as one clear message and exits non-zero."""


class DataError(AnalysisError):
    """Input data are missing, malformed or do not cover what was asked."""


class PriceSourceError(DataError):
    """A price source (Yahoo, a CSV folder, the cache) could not deliver a series."""


class ValidationError(DataError):
    """A file failed validation; ``problems`` lists (file, row, column, message) tuples."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems or [])
        detail = "".join(f"\n  - {p}" for p in self.problems)
        super().__init__(message + detail)


class CalendarError(AnalysisError):
    """An event date or window cannot be placed on the trading calendar or is not covered."""


class SpecificationError(AnalysisError):
    """An unknown model, test or parameter, or windows that make no sense together."""


class EstimationError(AnalysisError):
    """A model could not be estimated for a firm (too few returns, constant series, ...)."""


class ConfigError(AnalysisError):
    """An environment variable names something unusable (a missing folder, an unknown switch)."""


class DateFormatError(CalendarError, DataError, SpecificationError):
    """A date argument cannot be read: not ``YYYY-MM-DD``, not a real calendar date, or not a date.

    One type for every date argument (calendar, prices, studies), so it is caught as any of the
    errors those modules raised for it before.
    """


class CacheUnwritable(PriceSourceError):
    """The price cache folder cannot be written: every further write would fail the same way."""


class PriceDataWarning(UserWarning):
    """A price series was imported, but some of its rows deserve a look (listed in the message)."""
