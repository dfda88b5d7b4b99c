"""What every results class of an event study on an :class:`~analysis.eventstudy.design.EventDesign`
says about its design: firms, event, day 0, windows and their dates (one implementation for the
OLS and the GARCH results)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import SpecificationError
from analysis.eventstudy.design import EventDesign, Window
from analysis.eventstudy.tables import EventDay


class DesignedStudy:
    """Descriptive attributes read from ``_design``, ``_estimation``, ``_window``,
    ``_car_window``, ``_return_kind`` and ``_event``, which the results class sets."""

    _design: EventDesign
    _estimation: Window
    _window: Window
    _car_window: Window
    _return_kind: str
    _event: object | None

    @property
    def firms(self) -> list[str]:
        return list(self._design.firms)

    @property
    def event(self) -> object | None:
        """The registry event (with title and source) when the study was given an event id."""
        return self._event

    @property
    def event_day(self) -> EventDay:
        """Day 0 (``.date``) and why (for several dates: the first firm's; see :attr:`day0_table`)."""
        return EventDay.from_day0(self._design.day0[0])

    @property
    def day0_table(self) -> pd.DataFrame:
        """Per firm: its day 0 and the reason."""
        return pd.DataFrame(
            {
                "day0": [d.day0 for d in self._design.day0],
                "reason": [d.reason for d in self._design.day0],
            },
            index=pd.Index(self.firms, name="firm"),
        )

    @property
    def shared_date(self) -> bool:
        return self._design.shared_date

    @property
    def estimation(self) -> Window:
        return self._estimation

    @property
    def window(self) -> Window:
        return self._window

    @property
    def car_window(self) -> Window:
        return self._car_window

    @property
    def return_kind(self) -> str:
        """``"simple"`` or ``"log"`` returns."""
        return self._return_kind

    @property
    def rel_days(self) -> np.ndarray:
        return self._design.evt_days.copy()

    def _event_rows(self) -> list[tuple[str, str]]:
        """The summary header's first rows: the registry event (when there is one) and day 0."""
        rows = []
        ev = self._event
        if ev is not None and hasattr(ev, "event_id"):
            rows.append(("Event", f"{ev.event_id}: {getattr(ev, 'title', '')}"))
        day = self.event_day
        shown = f"{day.date.date()} -- {day.reason}" if self.shared_date else None
        return [*rows, ("Day 0", shown or "several dates (see day0_table)")]

    def window_dates(self, which: str = "event") -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last date of the ``"event"`` or ``"estimation"`` window (first firm; with
        ``exclude`` the estimation window as extended)."""
        if which not in ("event", "estimation"):
            raise SpecificationError(f"which must be 'event' or 'estimation', got {which!r}")
        arr = self._design.evt_dates if which == "event" else self._design.est_dates
        row = arr[0][~np.isnat(arr[0])]
        return pd.Timestamp(row[0]), pd.Timestamp(row[-1])
