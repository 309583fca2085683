"""Solutions a serving DAG trains for itself in the champion's dataset group (trending, segments): their data
is the champion's (its imports and the events streamed into it), and they are retrained by name.

The solution is named after the group, so a new champion's group gets its own; the version is named after the
``hours``-long period the run falls in, so every run of one period finds the version the first one trained,
and the first run of the next period trains a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from personalize_pipelines.naming import derive_name


def retrain_period(moment: datetime, *, hours: int) -> str:
    """The start of the ``hours``-long period (counted from the epoch, UTC) that ``moment`` falls in."""
    seconds = hours * 3600
    start = int(moment.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(start, UTC).strftime("%Y%m%dT%H%M")


@dataclass(frozen=True)
class RetrainedSolution:
    """The names of one serving DAG's solution in a dataset group, and of its version for a period."""

    solution: str
    solution_version: str
    retrain_period: str


def retrained_solution(
    use_case_name: str, *settings: str, kind: str, dataset_group_arn: str, moment: datetime, hours: int
) -> RetrainedSolution:
    """``<use_case>-<kind>`` solution of the group and its version for the period ``moment`` falls in.

    :param settings: what the solution is created with that a YAML edit may change (a recipe): another
        value names another solution, rather than one Personalize refuses to create again differently.
    :param kind: what the DAG serves (``trending``, ``segments``), in the names.
    """
    period = retrain_period(moment, hours=hours)
    solution = derive_name(f"{use_case_name}-{kind}", use_case_name, dataset_group_arn, *settings)
    return RetrainedSolution(
        solution=solution,
        solution_version=derive_name(f"{use_case_name}-{kind}-{period}", solution, period),
        retrain_period=period,
    )
