"""Batch recommendations into a warehouse cache table that applications read instead of the API.

The rows :func:`personalize_pipelines.batch_output.read_scored_output` parses from a batch inference
(or batch segment) job's output load with :func:`replace_rows`, idempotently: in one transaction it
deletes the rows of every id being loaded and inserts the new ones, so a rerun replaces its own rows and
never duplicates; ids not in this batch keep their older rows (their ``generated_at`` says how old).

Tables (created when missing; ``generated_at`` is UTC):

- recommendations: ``user_id, rank, item_id, score, solution_version, generated_at``
- related items: ``item_id, rank, related_item_id, score, solution_version, generated_at``
- ranked items: ``user_id, rank, item_id, score, solution_version, generated_at`` (each user's candidates, in
  the order a personalized-ranking solution puts them)
- trending items: ``list_name, rank, item_id, score, solution_version, generated_at`` (one list,
  ``trending``, replaced whole)
- segments: ``item_or_query, rank, user_id, solution_version, generated_at`` (no score: a batch segment
  job gives none; ``item_or_query`` is the item id or the item-attribute query)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from personalize_pipelines.limits import MAX_ARN_LENGTH, MAX_ID_LENGTH

POSTGRES_INSERT_ROWS = 1000
_TABLE = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")


@dataclass(frozen=True)
class CacheLayout:
    """Column names of one cache table: the id answered for, and the recommended id; ``kind`` names the
    batch job that fills it (its folder under ``batch/<run_key>/``)."""

    key_field: str  # in the batch input/output JSON: userId or itemId (itemAttributes for segments)
    key_column: str
    item_column: str
    kind: str
    answer_field: str = "recommendedItems"  # the output's ranked list (usersList for segments)
    scored: bool = True  # the table has a score column
    key_length: int | None = MAX_ID_LENGTH  # None: unbounded (an item-attribute query is no id)


USERS = CacheLayout(key_field="userId", key_column="user_id", item_column="item_id", kind="users")
RELATED_ITEMS = CacheLayout(
    key_field="itemId", key_column="item_id", item_column="related_item_id", kind="items"
)
RANKED_ITEMS = CacheLayout(key_field="userId", key_column="user_id", item_column="item_id", kind="ranking")
TRENDING = CacheLayout(key_field="list", key_column="list_name", item_column="item_id", kind="trending")
ITEM_SEGMENTS = CacheLayout(
    key_field="itemId",
    key_column="item_or_query",
    item_column="user_id",
    kind="segments",
    answer_field="usersList",
    scored=False,
    key_length=None,
)
ATTRIBUTE_SEGMENTS = replace(ITEM_SEGMENTS, key_field="itemAttributes")


def batch_input(ids: Iterable[str], *, layout: CacheLayout = USERS) -> bytes:
    """Batch inference input: one ``{"userId": ...}`` (or ``itemId``) JSON line per distinct id, sorted."""
    return "".join(json.dumps({layout.key_field: key}) + "\n" for key in sorted(set(ids))).encode()


def ranking_input(candidates: dict[str, list[str]]) -> bytes:
    """Batch ranking input: one ``{"userId": ..., "itemList": [...]}`` JSON line per user, sorted by user."""
    return "".join(
        json.dumps({"userId": user, "itemList": candidates[user]}) + "\n" for user in sorted(candidates)
    ).encode()


def _check_table(table: str) -> str:
    if not _TABLE.match(table):
        raise ValueError(
            f"cache table {table!r} must be a lower-case identifier, optionally schema-qualified"
        )
    return table


def create_table_sql(table: str, *, layout: CacheLayout = USERS) -> str:
    key_type = "VARCHAR" if layout.key_length is None else f"VARCHAR({layout.key_length})"
    score = "score DOUBLE PRECISION, " if layout.scored else ""
    return (
        f"CREATE TABLE IF NOT EXISTS {_check_table(table)} "
        f"({layout.key_column} {key_type} NOT NULL, rank INTEGER NOT NULL, "
        f"{layout.item_column} VARCHAR({MAX_ID_LENGTH}) NOT NULL, {score}"
        f"solution_version VARCHAR({MAX_ARN_LENGTH}) NOT NULL, generated_at TIMESTAMP NOT NULL)"
    )


def replace_rows(
    connection: Any,
    *,
    dialect: str,
    table: str,
    rows: list[tuple[str, int, str, float | None]],
    solution_version: str,
    generated_at: datetime,
    layout: CacheLayout = USERS,
    keys: Iterable[str] | None = None,
) -> dict[str, int]:
    """Replace the cache rows of every id in ``keys`` (default: the ids in ``rows``) with ``rows``, in one
    transaction.

    :param connection: a DuckDB connection (opened read-write) or a psycopg2 / psycopg 3 connection.
    :param dialect: ``duckdb`` or ``postgres``.
    :param generated_at: stored as UTC without a zone.
    :param keys: the ids answered: one answered with an empty list keeps no older row.
    :return: ``{"deleted": rows of those ids replaced, "inserted": rows written}``.
    """
    table = _check_table(table)
    stamp = generated_at.astimezone(UTC).replace(tzinfo=None) if generated_at.tzinfo else generated_at
    full = [
        (key, rank, item, *((score,) if layout.scored else ()), solution_version, stamp)
        for key, rank, item, score in rows
    ]
    replaced = sorted(set(keys) if keys is not None else {row[0] for row in rows})
    columns = ", ".join(_columns(layout))
    if dialect == "duckdb":
        return _replace_duckdb(connection, table, layout, columns, full, replaced)
    if dialect == "postgres":
        return _replace_postgres(connection, table, layout, columns, full, replaced)
    raise ValueError(f"dialect {dialect!r} is not supported for the cache (duckdb, postgres)")


def _columns(layout: CacheLayout) -> list[str]:
    score = ["score"] if layout.scored else []
    return [layout.key_column, "rank", layout.item_column, *score, "solution_version", "generated_at"]


def _replace_duckdb(
    connection: Any, table: str, layout: CacheLayout, columns: str, full: list[tuple], keys: list[str]
) -> dict[str, int]:
    import pyarrow as pa

    types = {"rank": pa.int32(), "score": pa.float64(), "generated_at": pa.timestamp("us")}
    incoming = pa.table(
        {
            name: pa.array([row[i] for row in full], types.get(name, pa.string()))
            for i, name in enumerate(_columns(layout))
        }
    )
    connection.execute(create_table_sql(table, layout=layout))
    connection.register("personalize_incoming_rows", incoming)
    connection.register("personalize_incoming_keys", pa.table({"answered_id": pa.array(keys, pa.string())}))
    try:
        connection.execute("BEGIN TRANSACTION")
        try:
            deleted = connection.execute(
                f"DELETE FROM {table} WHERE {layout.key_column} IN (SELECT answered_id FROM personalize_incoming_keys)"
            ).fetchone()[0]
            connection.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM personalize_incoming_rows"
            )
            connection.execute("COMMIT")
        except Exception:
            connection.execute("ROLLBACK")
            raise
    finally:
        connection.unregister("personalize_incoming_rows")
        connection.unregister("personalize_incoming_keys")
    return {"deleted": int(deleted), "inserted": len(full)}


def _replace_postgres(
    connection: Any, table: str, layout: CacheLayout, columns: str, full: list[tuple], keys: list[str]
) -> dict[str, int]:
    """Works with psycopg2 and psycopg 3 connections (multi-row VALUES, no driver-specific helper)."""
    connection.autocommit = False
    placeholders = "(" + ", ".join(["%s"] * len(_columns(layout))) + ")"
    try:
        with connection.cursor() as cur:
            if "." in table:
                cur.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
            cur.execute(create_table_sql(table, layout=layout))
            cur.execute(f"CREATE TEMPORARY TABLE personalize_incoming_rows (LIKE {table}) ON COMMIT DROP")
            cur.execute(
                "CREATE TEMPORARY TABLE personalize_incoming_keys (answered_id VARCHAR) ON COMMIT DROP"
            )
            for start in range(0, len(full), POSTGRES_INSERT_ROWS):
                chunk = full[start : start + POSTGRES_INSERT_ROWS]
                cur.execute(
                    f"INSERT INTO personalize_incoming_rows ({columns}) VALUES "
                    + ", ".join([placeholders] * len(chunk)),
                    [value for row in chunk for value in row],
                )
            for start in range(0, len(keys), POSTGRES_INSERT_ROWS):
                chunk = keys[start : start + POSTGRES_INSERT_ROWS]
                cur.execute(
                    "INSERT INTO personalize_incoming_keys (answered_id) VALUES "
                    + ", ".join(["(%s)"] * len(chunk)),
                    chunk,
                )
            cur.execute(
                f"DELETE FROM {table} WHERE {layout.key_column} IN (SELECT answered_id FROM personalize_incoming_keys)"
            )
            deleted = cur.rowcount
            cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM personalize_incoming_rows")
        connection.commit()
    except Exception:
        connection.rollback()
        raise
    return {"deleted": int(deleted), "inserted": len(full)}
