"""Result values of an event study: the event day, test tables (one type) and the CAR result."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis._export import ExportMixin, PaperTable
from analysis._summary import Summary, SummaryMixin
from analysis.data import calendar
from analysis.eventstudy import inference
from analysis.eventstudy.design import Window, check_alpha

#: How the ``reason`` of a test the model does not have begins (e.g. the event-dummy regression of
#: a model without estimated parameters); such rows are left out of the JSON document and prose.
NOT_APPLICABLE = "not applicable:"

#: Columns of :meth:`TestTable.to_frame` after the index.
TEST_COLUMNS: tuple[str, ...] = (
    "stat",
    "pvalue",
    "n",
    "distribution",
    "variant",
    "assumes_independence",
    "rbar",
    "reason",
)


def fmt(x: float | None, spec: str = ".4f") -> str:
    """``x`` formatted, ``-`` when missing or not finite."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, spec)


def pfmt(p: float | None) -> str:
    """A p-value for reading: 4 decimals, ``<0.0001`` below that, ``-`` when missing."""
    if p is None or not math.isfinite(p):
        return "-"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def num(x: object) -> float | None:
    """A finite float for JSON, else None."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class EventDay:
    """Day 0 of a firm-event: its session ``date``, the calendar ``rule`` applied, the ``reason``
    in words and the date/time ``requested``."""

    date: pd.Timestamp
    rule: str
    reason: str
    requested: str

    @classmethod
    def from_day0(cls, d: calendar.Day0) -> EventDay:
        return cls(date=d.day0, rule=d.rule, reason=d.reason, requested=d.requested)

    def __str__(self) -> str:
        return f"day 0 = {self.date:%Y-%m-%d} ({self.reason})"


@dataclass(frozen=True)
class TestRow:
    """One test outcome (one firm's for a per-firm test). A test that could not run has NaN
    ``stat``/``pvalue`` and says why in ``reason``."""

    __test__ = False  # not a pytest test class

    name: str
    stat: float
    pvalue: float
    n: int
    distribution: str
    variant: str = ""
    firm: str | None = None
    reason: str = ""
    extra: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_result(cls, r: inference.TestResult) -> TestRow:
        """A row from a multi-firm test's result (scalar stat and p-value)."""
        return cls(
            name=r.name,
            stat=float(r.stat),
            pvalue=float(r.pvalue),
            n=int(r.n),
            distribution=r.distribution,
            variant=r.variant,
            reason=r.reason,
            extra=dict(r.extra),
        )

    @classmethod
    def not_run(cls, name: str, n: int, reason: str, firm: str | None = None) -> TestRow:
        """The row of a test that could not run, with the reason."""
        nan = float("nan")
        return cls(name=name, stat=nan, pvalue=nan, n=n, distribution="-", firm=firm, reason=reason)

    @property
    def rbar(self) -> float:
        """Average residual correlation the test used (NaN if it uses none)."""
        return float(self.extra.get("rbar", float("nan")))

    @property
    def assumes_independence(self) -> bool:
        """Whether the test's null assumes cross-sectionally independent firms."""
        return self.firm is None and self.name in inference.INDEPENDENCE_ASSUMED


@dataclass(frozen=True, repr=False)
class TestTable(SummaryMixin, ExportMixin):
    """Test outcomes over one window: cross-sectional tests (one row per test) or per-firm tests
    (one row per firm and test). ``to_frame()`` is the table, ``tt["bmp"]`` or
    ``tt[("NVDA", "sq")]`` one :class:`TestRow`."""

    __test__ = False  # not a pytest test class

    rows: tuple[TestRow, ...]
    window: Window
    title: str = "Tests"

    @property
    def per_firm(self) -> bool:
        return any(r.firm is not None for r in self.rows)

    @property
    def names(self) -> list[str]:
        """Test names, in order, each once."""
        return list(dict.fromkeys(r.name for r in self.rows))

    def applicable(self) -> TestTable:
        """The table without the tests the model does not have (reason ``not applicable: ...``)."""
        rows = tuple(r for r in self.rows if not r.reason.startswith(NOT_APPLICABLE))
        return TestTable(rows, self.window, self.title)

    def __getitem__(self, key: str | tuple[str, str]) -> TestRow:
        if isinstance(key, tuple):
            found = [r for r in self.rows if (r.firm, r.name) == key]
        else:
            found = [r for r in self.rows if r.name == key]
        if len(found) == 1:
            return found[0]
        if found:
            raise KeyError(
                f"test {key!r} has one row per firm ({', '.join(str(r.firm) for r in found)}); "
                f"ask for one as tt[({found[0].firm!r}, {key!r})]"
            )
        raise KeyError(f"no test {key!r}; available: {', '.join(self.names)}")

    def to_frame(self) -> pd.DataFrame:
        """One row per test (index ``test``) or per firm and test (index ``firm, test``)."""
        records = [
            {
                "firm": r.firm,
                "test": r.name,
                "stat": r.stat,
                "pvalue": r.pvalue,
                "n": r.n,
                "distribution": r.distribution,
                "variant": r.variant,
                "assumes_independence": r.assumes_independence,
                "rbar": r.rbar,
                "reason": r.reason,
            }
            for r in self.rows
        ]
        df = pd.DataFrame(records, columns=["firm", "test", *TEST_COLUMNS])
        df["n"] = df["n"].astype(int)
        if self.per_firm:
            return df.set_index(["firm", "test"])
        return df.drop(columns="firm").set_index("test")

    def _paper_table(self) -> PaperTable:
        """Export hook: each test statistic with stars from its p-value (no standard error), one
        column per firm for per-firm tests; the window and N in the footer."""
        rows = list(self.applicable().rows)
        column = [r.firm if r.firm is not None else "statistic" for r in rows]
        est = pd.DataFrame(
            {
                "column": column,
                "term": [r.name for r in rows],
                "estimate": [r.stat for r in rows],
                "std_error": float("nan"),
                "pvalue": [r.pvalue for r in rows],
            }
        )
        cols = list(dict.fromkeys(column))
        ns = {
            c: max((r.n for r, k in zip(rows, column, strict=True) if k == c), default=0)
            for c in cols
        }
        footer = pd.DataFrame(
            [[calendar.format_window(self.window)] * len(cols), [str(ns[c]) for c in cols]],
            index=["Window", "N"],
            columns=cols,
        )
        return PaperTable(est, footer, note=f"{self.title}: test statistics, stars from p-values.")

    def _export_sheets(self) -> dict[str, pd.DataFrame]:
        return {"tests": self.to_frame()}

    def text_lines(self) -> list[str]:
        """The table as fixed-width lines (title, then one line per row)."""
        lines = [f"{self.title} over {calendar.format_window(self.window)}"]
        lines.append(f"{'test':<24}{'stat':>10}{'p-value':>10}{'N':>6}  distribution")
        for r in self.rows:
            label = f"{r.firm} {r.name}" if r.firm is not None else r.name
            note = f"  ({r.reason})" if r.reason else ""
            if r.assumes_independence:
                note += "  (assumes independence)"
            lines.append(
                f"{label:<24}{fmt(r.stat, '.3f'):>10}{pfmt(r.pvalue):>10}{r.n:>6}  "
                f"{r.distribution}{note}"
            )
        return lines

    def _build_summary(self) -> Summary:
        caption = f"{self.title} over {calendar.format_window(self.window)}"
        return Summary(caption).table(self.to_frame(), text="\n".join(self.text_lines()[1:]))


@dataclass(frozen=True, repr=False)
class CARResult(SummaryMixin, ExportMixin):
    """The CAR over one window, per firm: ``estimate`` with its exact ``std_error``, ``tstat``,
    ``pvalue`` and ``dof`` (the prediction-error t test of
    :func:`analysis.eventstudy.inference.t_prediction_error`), ``conf_int()``; across firms the
    ``caar`` of the ``n`` firms with a complete CAR and ``tests()``."""

    window: Window
    estimate: pd.Series
    std_error: pd.Series
    tstat: pd.Series
    pvalue: pd.Series
    dof: pd.Series
    caar: float
    n: int
    _tests: Callable[[], TestTable] | None = field(default=None, compare=False)

    @classmethod
    def from_car_test(
        cls,
        window: Window,
        firms: Sequence[str],
        t: inference.CarTest,
        tests: Callable[[], TestTable] | None = None,
    ) -> CARResult:
        """The CAR result from :func:`analysis.eventstudy.inference.car_test` (arrays over firms)."""
        idx = pd.Index(list(firms), name="firm")
        ok = np.asarray(t.used, dtype=bool)
        car = np.asarray(t.estimate, dtype=float)
        return cls(
            window=window,
            estimate=pd.Series(car, idx, name="car"),
            std_error=pd.Series(np.asarray(t.std_error, dtype=float), idx, name="se"),
            tstat=pd.Series(np.asarray(t.tstat, dtype=float), idx, name="t"),
            pvalue=pd.Series(np.asarray(t.pvalue, dtype=float), idx, name="pvalue"),
            dof=pd.Series(np.asarray(t.dof, dtype=float), idx, name="dof"),
            caar=float(np.mean(car[ok])) if ok.any() else float("nan"),
            n=int(ok.sum()),
            _tests=tests,
        )

    def tests(self) -> TestTable:
        """Every cross-sectional test over this window (two or more firms)."""
        if self._tests is None:
            from analysis.errors import SpecificationError

            raise SpecificationError(
                "cross-sectional tests need two or more firms; for one firm use "
                "firm_tests() (prediction-error t, SQ, event-dummy OLS/HAC)"
            )
        cache = self.__dict__
        if "_tests_cache" not in cache:
            cache["_tests_cache"] = self._tests()
        table: TestTable = cache["_tests_cache"]
        return table

    def to_frame(self) -> pd.DataFrame:
        """Per firm: car, se, t, pvalue, dof."""
        return pd.DataFrame(
            {
                "car": self.estimate,
                "se": self.std_error,
                "t": self.tstat,
                "pvalue": self.pvalue,
                "dof": self.dof,
            }
        )

    def _paper_table(self) -> PaperTable:
        """Export hook: per firm the CAR with its exact standard error and prediction-error
        p-value (formula (3), docs/formulas.md); the window and the t test's dof in the footer."""
        firms = [str(f) for f in self.estimate.index]
        est = pd.DataFrame(
            {
                "column": firms,
                "term": f"CAR{calendar.format_window(self.window)}",
                "estimate": self.estimate.to_numpy(),
                "std_error": self.std_error.to_numpy(),
                "pvalue": self.pvalue.to_numpy(),
            }
        )
        footer = pd.DataFrame(
            [
                [calendar.format_window(self.window)] * len(firms),
                [fmt(float(d), ".0f") for d in self.dof],
            ],
            index=["Window", "dof"],
            columns=firms,
        )
        note = "CAR: prediction-error t test, t(L_i - k) (Campbell, Lo & MacKinlay 1997, sec. 4.4)."
        return PaperTable(est, footer, note)

    def _export_sheets(self) -> dict[str, pd.DataFrame]:
        sheets = {"car": self.to_frame()}
        if self._tests is not None:
            sheets["tests"] = self.tests().to_frame()
        return sheets

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Per-firm ``lower``/``upper`` bounds: estimate -/+ t_{dof, 1-alpha/2} * std_error."""
        q = stats.t.ppf(1 - check_alpha(alpha) / 2, self.dof.to_numpy())
        return pd.DataFrame(
            {
                "lower": self.estimate - q * self.std_error,
                "upper": self.estimate + q * self.std_error,
            }
        )

    def __float__(self) -> float:
        return float(self.caar)

    def _renamed(self, old: str, new: str) -> pd.Series:
        warnings.warn(
            f"CARResult.{old} is renamed CARResult.{new}", DeprecationWarning, stacklevel=3
        )
        value: pd.Series = getattr(self, new)
        return value

    @property
    def car(self) -> pd.Series:
        """Deprecated name of :attr:`estimate`."""
        return self._renamed("car", "estimate")

    @property
    def se(self) -> pd.Series:
        """Deprecated name of :attr:`std_error`."""
        return self._renamed("se", "std_error")

    @property
    def t(self) -> pd.Series:
        """Deprecated name of :attr:`tstat`."""
        return self._renamed("t", "tstat")

    def _build_summary(self) -> Summary:
        w = calendar.format_window(self.window)
        rows = [("Window", w), ("Firms", str(len(self.estimate)))]
        if len(self.estimate) > 1:
            rows += [("CAAR", fmt(self.caar)), ("N used", str(self.n))]
        out = Summary(f"CAR over {w}").header(rows)
        caption = "Per firm (t and p from the exact CAR variance, t(L-k)):"
        out.table(self.to_frame(), caption)
        if self._tests is not None:
            out.rule().text("\n".join(self.tests().text_lines()))
        return out
