"""What the serving DAGs (batch, events, cleanup) share: the use case's serving settings, the champion,
the warehouse's id queries, and the two ways a serving run ends early.

:class:`ServingError` means the run cannot succeed: the same inputs fail the same way (fail, no retry);
:class:`NothingToServe` means there is nothing to do yet (skip, with the reason).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from personalize_pipelines.limits import MAX_ID_LENGTH
from personalize_pipelines.registry import Champion, RegistryLocation, read_champion

Query = Callable[[str], Iterable[dict[str, Any]]]
"""Runs one SQL text on the warehouse and yields its rows as dicts (the task side opens the connection)."""


class ServingError(RuntimeError):
    """The use case, its SQL, the resources it names or a job's output cannot serve: no retry helps."""


class NothingToServe(RuntimeError):
    """Nothing to do yet (no champion, no ids, nothing configured): the run is skipped with the reason."""


def serving_settings(use_case: Any, section: str | None = None) -> Any:
    """The use case's ``serving`` settings, or one section of them (``batch``, ``events``, ``cleanup``).

    :raises ServingError: when the section is absent.
    """
    serving = use_case.serving
    if serving is None or (section and getattr(serving, section) is None):
        where = "serving" + (f".{section}" if section else "")
        raise ServingError(f"include/config/{use_case.name}.yaml has no {where} section")
    return getattr(serving, section) if section else serving


def champion_of(s3_client: Any, *, use_case: Any) -> Champion:
    """The registry's champion.

    :raises NothingToServe: before the first promotion.
    """
    location = RegistryLocation.for_use_case(use_case)
    champion = read_champion(s3_client, location=location)
    if champion is None:
        raise NothingToServe(
            f"no champion at {location.uri(location.champion_key)} yet: the train DAG has not promoted a model"
        )
    return champion


def ids_of(rows: Iterable[dict[str, Any]], *, column: str, sql_file: str) -> set[str]:
    """The distinct ids in one column of a query's rows; blank ids and ids Personalize refuses are left out.

    :param sql_file: the query's file under ``include/sql/``, named in the error.
    :raises ServingError: when the query has no such column.
    """
    ids: set[str] = set()
    for row in rows:
        if column not in row:
            raise ServingError(f"include/sql/{sql_file} must return a column {column!r}; got {sorted(row)}")
        value = str(row[column] or "").strip()
        if value and len(value) <= MAX_ID_LENGTH:
            ids.add(value)
    return ids
