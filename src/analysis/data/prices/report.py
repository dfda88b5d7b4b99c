"""What an import or a fetch did: the series imported and those skipped, with reasons."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis._summary import Summary, SummaryMixin
from analysis.errors import PriceSourceError

_MAX_LISTED_PROBLEMS = 20


@dataclass(frozen=True)
class ImportedSeries:
    """One series written to the cache."""

    symbol: str
    source: str
    first: str
    last: str
    rows: int
    sha256: str
    replaced: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkippedSeries:
    """A file or symbol that was not imported, and why."""

    name: str
    reason: str
    problems: tuple[str, ...] = ()

    def describe(self) -> str:
        listed = self.problems[:_MAX_LISTED_PROBLEMS]
        text = f"{self.name}: {self.reason}" + "".join(f"\n    - {p}" for p in listed)
        if len(self.problems) > len(listed):
            text += f"\n    - ... and {len(self.problems) - len(listed)} more problems"
        return text


@dataclass(frozen=True, repr=False)
class ImportReport(SummaryMixin):
    """What an import or fetch did: series imported, and files/symbols skipped with reasons."""

    imported: tuple[ImportedSeries, ...] = ()
    skipped: tuple[SkippedSeries, ...] = ()
    source: str = ""

    @property
    def ok(self) -> bool:
        """True when nothing was skipped."""
        return not self.skipped

    @property
    def symbols(self) -> list[str]:
        return [s.symbol for s in self.imported]

    def _build_summary(self) -> Summary:
        return Summary("Price import").text(self.text())

    def text(self) -> str:
        """What was imported (symbol, dates, rows, sha256), notes, and what was skipped and why."""
        lines = [
            f"imported {len(self.imported)} series"
            + (f" from {self.source}" if self.source else "")
        ]
        if self.imported:
            frame = self.to_frame()[["symbol", "first", "last", "rows", "sha256"]].copy()
            frame["sha256"] = frame["sha256"].str[:12]
            lines.append(frame.to_string(index=False))
            for s in self.imported:
                lines.extend(f"  note {s.symbol}: {n}" for n in s.notes)
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)}:")
            lines.extend("  " + s.describe() for s in self.skipped)
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        cols = ["symbol", "first", "last", "rows", "source", "sha256", "replaced"]
        return pd.DataFrame([[getattr(s, c) for c in cols] for s in self.imported], columns=cols)

    def raise_if_skipped(self) -> ImportReport:
        """Raise a :class:`PriceSourceError` listing every skipped item; else return self."""
        if self.skipped:
            raise PriceSourceError(
                f"{len(self.skipped)} not imported:\n  "
                + "\n  ".join(s.describe() for s in self.skipped)
            )
        return self
