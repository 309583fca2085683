"""What the serving DAGs (batch, events, cleanup) share: the use case's serving settings, the champion,
the warehouse's id queries, and the two ways a serving run ends early.

:class:`ServingError` means the run cannot succeed: the same inputs fail the same way (fail, no retry);
:class:`NothingToServe` means there is nothing to do yet (skip, with the reason).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from personalize_pipelines.limits import MAX_ID_LENGTH, MAX_RANKING_ITEMS
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


def serving_recommenders(s3_client: Any, *, use_case: Any) -> list[str]:
    """The ARNs of the recommenders the registry's champion serves through, what the stop and start
    DAGs switch.

    :raises NothingToServe: before the first promotion, or when the champion serves through a campaign.
    """
    champion = champion_of(s3_client, use_case=use_case)
    if not champion.recommenders:
        raise NothingToServe(
            f"the champion {champion.serving_arn} serves through campaign {champion.campaign_arn}: "
            "no recommenders to stop or start"
        )
    return sorted(champion.recommenders.values())


def _usable_id(value: Any, max_length: int | None = MAX_ID_LENGTH) -> str | None:
    text = str(value or "").strip()
    return text if text and (max_length is None or len(text) <= max_length) else None


def ids_of(
    rows: Iterable[dict[str, Any]], *, column: str, sql_file: str, max_length: int | None = MAX_ID_LENGTH
) -> set[str]:
    """The distinct ids in one column of a query's rows; blank ids and ids Personalize refuses are left out.

    :param sql_file: the query's file under ``include/sql/``, named in the error.
    :param max_length: longer values are left out; None keeps every length (item-attribute queries).
    :raises ServingError: when the query has no such column.
    """
    ids: set[str] = set()
    for row in rows:
        if column not in row:
            raise ServingError(f"include/sql/{sql_file} must return a column {column!r}; got {sorted(row)}")
        if value := _usable_id(row[column], max_length):
            ids.add(value)
    return ids


@dataclass
class Candidates:
    """Each user's items to rank, in the query's order, and the rows left out, counted by reason."""

    lists: dict[str, list[str]] = field(default_factory=dict)
    rows: int = 0
    unusable_rows: int = 0
    duplicate_rows: int = 0
    over_limit_rows: int = 0
    users_over_limit: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "candidate_rows": self.rows,
            "users": len(self.lists),
            "candidates": sum(len(items) for items in self.lists.values()),
            "unusable_rows": self.unusable_rows,
            "duplicate_rows": self.duplicate_rows,
            "over_limit_rows": self.over_limit_rows,
            "users_over_limit": self.users_over_limit,
        }


def candidates_of(rows: Iterable[dict[str, Any]], *, sql_file: str) -> Candidates:
    """Each user's candidate items from a query's (user_id, item_id) rows.

    Rows with a blank id or one Personalize refuses, and repeats of a pair, are counted and left out; a
    user keeps the first :data:`~personalize_pipelines.limits.MAX_RANKING_ITEMS` items in the query's
    order (the rest are counted), so an ORDER BY decides which are ranked.

    :param sql_file: the query's file under ``include/sql/``, named in the error.
    :raises ServingError: when the query lacks the user_id or item_id column.
    """
    result = Candidates()
    seen: dict[str, set[str]] = {}
    for row in rows:
        missing = [column for column in ("user_id", "item_id") if column not in row]
        if missing:
            raise ServingError(
                f"include/sql/{sql_file} must return columns user_id and item_id; got {sorted(row)}"
            )
        result.rows += 1
        user, item = _usable_id(row["user_id"]), _usable_id(row["item_id"])
        if user is None or item is None:
            result.unusable_rows += 1
            continue
        items = seen.setdefault(user, set())
        if item in items:
            result.duplicate_rows += 1
            continue
        items.add(item)
        ranked = result.lists.setdefault(user, [])
        if len(ranked) < MAX_RANKING_ITEMS:
            ranked.append(item)
        else:
            result.over_limit_rows += 1
            if len(items) == MAX_RANKING_ITEMS + 1:
                result.users_over_limit += 1
    return result
