"""Batch recommendations into a warehouse cache table that applications read instead of the API.

The rows :func:`personalize_pipelines.batch_output.read_scored_output` parses from a batch inference
job's output load with :func:`replace_rows`, idempotently: in one transaction it deletes the rows of
every id being loaded and inserts the new ones, so a rerun replaces its own rows and never duplicates;
ids not in this batch keep their older rows (their ``generated_at`` says how old).

Tables (created when missing; ``generated_at`` is UTC):

- recommendations: ``user_id, rank, item_id, score, solution_version, generated_at``
- related items: ``item_id, rank, related_item_id, score, solution_version, generated_at``
- ranked items: ``user_id, rank, item_id, score, solution_version, generated_at`` (each user's candidates, in
  the order a personalized-ranking solution puts them)
- trending items: ``list_name, rank, item_id, score, solution_version, generated_at`` (one list,
  ``trending``, replaced whole)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from personalize_pipelines.limits import MAX_ARN_LENGTH, MAX_ID_LENGTH

POSTGRES_INSERT_ROWS = 1000
_TABLE = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")


@dataclass(frozen=True)
class CacheLayout:
    """Column names of one cache table: the id answered for, and the recommended id; ``kind`` names the
    batch job that fills it (its folder under ``batch/<run_key>/``)."""

    key_field: str  # in the batch input/output JSON: userId or itemId
    key_column: str
    item_column: str
    kind: str


USERS = CacheLayout(key_field="userId", key_column="user_id", item_column="item_id", kind="users")
RELATED_ITEMS = CacheLayout(
    key_field="itemId", key_column="item_id", item_column="related_item_id", kind="items"
)
RANKED_ITEMS = CacheLayout(key_field="userId", key_column="user_id", item_column="item_id", kind="ranking")
TRENDING = CacheLayout(key_field="list", key_column="list_name", item_column="item_id", kind="trending")


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
    return (
        f"CREATE TABLE IF NOT EXISTS {_check_table(table)} "
        f"({layout.key_column} VARCHAR({MAX_ID_LENGTH}) NOT NULL, rank INTEGER NOT NULL, "
        f"{layout.item_column} VARCHAR({MAX_ID_LENGTH}) NOT NULL, score DOUBLE PRECISION, "
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
) -> dict[str, int]:
    """Replace the cache rows of every id in ``rows`` with ``rows``, in one transaction.

    :param connection: a DuckDB connection (opened read-write) or a psycopg2 / psycopg 3 connection.
    :param dialect: ``duckdb`` or ``postgres``.
    :param generated_at: stored as UTC without a zone.
    :return: ``{"deleted": rows of those ids replaced, "inserted": rows written}``.
    """
    table = _check_table(table)
    stamp = generated_at.astimezone(UTC).replace(tzinfo=None) if generated_at.tzinfo else generated_at
    full = [(key, rank, item, score, solution_version, stamp) for key, rank, item, score in rows]
    columns = f"{layout.key_column}, rank, {layout.item_column}, score, solution_version, generated_at"
    if dialect == "duckdb":
        return _replace_duckdb(connection, table, layout, columns, full)
    if dialect == "postgres":
        return _replace_postgres(connection, table, layout, columns, full)
    raise ValueError(f"dialect {dialect!r} is not supported for the cache (duckdb, postgres)")


def _replace_duckdb(
    connection: Any, table: str, layout: CacheLayout, columns: str, full: list[tuple]
) -> dict[str, int]:
    import pyarrow as pa

    incoming = pa.table(
        {
            layout.key_column: pa.array([r[0] for r in full], pa.string()),
            "rank": pa.array([r[1] for r in full], pa.int32()),
            layout.item_column: pa.array([r[2] for r in full], pa.string()),
            "score": pa.array([r[3] for r in full], pa.float64()),
            "solution_version": pa.array([r[4] for r in full], pa.string()),
            "generated_at": pa.array([r[5] for r in full], pa.timestamp("us")),
        }
    )
    connection.execute(create_table_sql(table, layout=layout))
    connection.register("personalize_incoming_rows", incoming)
    try:
        connection.execute("BEGIN TRANSACTION")
        try:
            deleted = connection.execute(
                f"DELETE FROM {table} WHERE {layout.key_column} IN "
                f"(SELECT DISTINCT {layout.key_column} FROM personalize_incoming_rows)"
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
    return {"deleted": int(deleted), "inserted": len(full)}


def _replace_postgres(
    connection: Any, table: str, layout: CacheLayout, columns: str, full: list[tuple]
) -> dict[str, int]:
    """Works with psycopg2 and psycopg 3 connections (multi-row VALUES, no driver-specific helper)."""
    connection.autocommit = False
    try:
        with connection.cursor() as cur:
            if "." in table:
                cur.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
            cur.execute(create_table_sql(table, layout=layout))
            cur.execute(f"CREATE TEMPORARY TABLE personalize_incoming_rows (LIKE {table}) ON COMMIT DROP")
            for start in range(0, len(full), POSTGRES_INSERT_ROWS):
                chunk = full[start : start + POSTGRES_INSERT_ROWS]
                values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
                cur.execute(
                    f"INSERT INTO personalize_incoming_rows ({columns}) VALUES {values}",
                    [value for row in chunk for value in row],
                )
            cur.execute(
                f"DELETE FROM {table} WHERE {layout.key_column} IN "
                f"(SELECT DISTINCT {layout.key_column} FROM personalize_incoming_rows)"
            )
            deleted = cur.rowcount
            cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM personalize_incoming_rows")
        connection.commit()
    except Exception:
        connection.rollback()
        raise
    return {"deleted": int(deleted), "inserted": len(full)}
