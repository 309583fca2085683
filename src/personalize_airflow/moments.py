"""The moment a task run stands for, as a plain UTC datetime."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def run_moment(context: dict[str, Any]) -> datetime:
    """The run's logical date; a manual run without one uses the time it was asked to run.

    A stdlib datetime, not Airflow's pendulum one: pendulum drops the zone of a DateTime in
    datetime.UTC when a timedelta is subtracted, and `.timestamp()` of the naive result is then read
    in the worker's local zone.
    """
    m = (context.get("logical_date") or context["dag_run"].run_after).astimezone(UTC)
    return datetime(m.year, m.month, m.day, m.hour, m.minute, m.second, m.microsecond, tzinfo=UTC)
