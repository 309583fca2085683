"""Sliding windows: the export's data window ends at the run's logical date and spans N months."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day-of-month `months` earlier, clamped to the month's last day (Mar 31 - 1 → Feb 28)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True)
class Window:
    """A half-open interval [start, end) of event time, in UTC."""

    start: datetime
    end: datetime

    @property
    def start_epoch(self) -> int:
        return int(self.start.timestamp())

    @property
    def end_epoch(self) -> int:
        return int(self.end.timestamp())

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    def template_context(self) -> dict[str, object]:
        """What source SQL sees as `window`: start/end as timestamps, epoch seconds and epoch milliseconds
        (literals of 13 digits, which DuckDB and Postgres read as BIGINT: no INT32 overflow)."""
        return {
            "start": self.start.strftime("%Y-%m-%d %H:%M:%S"),
            "end": self.end.strftime("%Y-%m-%d %H:%M:%S"),
            "start_epoch": self.start_epoch,
            "end_epoch": self.end_epoch,
            "start_epoch_ms": self.start_epoch * 1000,
            "end_epoch_ms": self.end_epoch * 1000,
        }


def sliding_window(end: datetime, *, months: int) -> Window:
    end = _as_utc(end)
    return Window(start=months_before(end, months), end=end)


def holdout_start(window: Window, *, days: int) -> datetime:
    """Start of a last-N-days holdout inside the window."""
    return max(window.start, window.end - timedelta(days=days))


def parse_instant(value: str | datetime) -> datetime:
    return _as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))
