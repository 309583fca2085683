"""Batch recommendations into a warehouse cache table that applications read instead of the API.

:func:`read_scored_output` parses a batch inference job's ``.out`` files into ranked, scored rows,
counting every line that does not load (Personalize errors, malformed lines, answers for ids that were
not in the input, ids answered twice) and the input ids that got no answer. :func:`replace_rows` loads
them idempotently: in one transaction it deletes the rows of every id being loaded and inserts the
new ones, so a rerun replaces its own rows and never duplicates; ids not in this batch keep their
older rows (their ``generated_at`` says how old).

Tables (created when missing; ``generated_at`` is UTC):

- recommendations: ``user_id, rank, item_id, score, solution_version, generated_at``
- related items: ``item_id, rank, related_item_id, score, solution_version, generated_at``
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from personalize_pipelines.batch_output import parse_output_line

MAX_PROBLEMS_KEPT = 20
POSTGRES_INSERT_ROWS = 1000
_TABLE = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")


@dataclass(frozen=True)
class CacheLayout:
    """Column names of one cache table: the id answered for, and the recommended id."""

    key_field: str  # in the batch input/output JSON: userId or itemId
    key_column: str
    item_column: str


USERS = CacheLayout(key_field="userId", key_column="user_id", item_column="item_id")
RELATED_ITEMS = CacheLayout(key_field="itemId", key_column="item_id", item_column="related_item_id")


def batch_input(ids: Iterable[str], *, layout: CacheLayout = USERS) -> bytes:
    """Batch inference input: one ``{"userId": ...}`` (or ``itemId``) JSON line per distinct id, sorted."""
    return "".join(json.dumps({layout.key_field: key}) + "\n" for key in sorted(set(ids))).encode()


@dataclass
class ScoredOutput:
    """Ranked rows ``(key, rank, item, score)`` from batch output, and every line that did not load."""

    rows: list[tuple[str, int, str, float | None]] = field(default_factory=list)
    lines: int = 0
    loaded_keys: set[str] = field(default_factory=set)
    error_lines: int = 0
    malformed_lines: int = 0
    unknown_keys: int = 0
    duplicate_keys: int = 0
    missing_keys: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "lines": self.lines,
            "loaded": len(self.loaded_keys),
            "rows": len(self.rows),
            "error_lines": self.error_lines,
            "malformed_lines": self.malformed_lines,
            "unknown_ids": self.unknown_keys,
            "duplicate_ids": self.duplicate_keys,
            "missing_ids": self.missing_keys,
        }

    def _problem(self, where: str, reason: str, key: str | None = None) -> None:
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append({"line": where, "id": key, "reason": reason})


def parse_scored_output(
    lines: Iterable[str | bytes],
    *,
    expected: Collection[str],
    layout: CacheLayout = USERS,
    source: str | None = None,
    into: ScoredOutput | None = None,
) -> ScoredOutput:
    """Add one output file's lines to ``into`` (or a new result). Blank lines are ignored.

    :param expected: the ids of the batch input; an answer for any other id counts in ``unknown_ids``.
    :param source: the file's name, used in ``problems``.
    """
    result = into if into is not None else ScoredOutput()
    for number, raw in enumerate(lines, start=1):
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        if not text.strip():
            continue
        result.lines += 1
        key, ranked, error, malformed = parse_output_line(text, key_field=layout.key_field)
        where = f"{source}:{number}" if source else str(number)
        if malformed is not None:
            result.malformed_lines += 1
            result._problem(where, malformed, key)
        elif error is not None:
            result.error_lines += 1
            result._problem(where, f"error: {error}", key)
        elif key not in expected:
            result.unknown_keys += 1
            result._problem(where, f"{layout.key_field} was not in the batch input", key)
        elif key in result.loaded_keys:
            result.duplicate_keys += 1
            result._problem(where, f"{layout.key_field} answered twice; the first answer is kept", key)
        else:
            result.loaded_keys.add(key)
            result.rows.extend((key, rank, item, score) for rank, (item, score) in enumerate(ranked, start=1))
    return result


def read_scored_output(
    s3_client: Any, *, bucket: str, prefix: str, expected: Collection[str], layout: CacheLayout = USERS
) -> ScoredOutput:
    """:func:`parse_scored_output` over every ``*.out`` object under ``s3://bucket/prefix``.

    ``missing_ids`` counts input ids that no line answered (neither rows nor an error).

    :raises FileNotFoundError: when the prefix holds no ``.out`` object.
    """
    expected = expected if isinstance(expected, set | frozenset) else set(expected)
    result = ScoredOutput()
    answered: set[str] = set()
    files = 0
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if not obj["Key"].endswith(".out"):
                continue
            files += 1
            body = s3_client.get_object(Bucket=bucket, Key=obj["Key"])["Body"]
            lines = list(body.iter_lines())
            parse_scored_output(lines, expected=expected, layout=layout, source=obj["Key"], into=result)
            for raw in lines:
                key, *_ = (
                    parse_output_line(raw.decode("utf-8", errors="replace"), key_field=layout.key_field)
                    if raw.strip()
                    else (None,)
                )
                if key:
                    answered.add(key)
    if not files:
        raise FileNotFoundError(f"s3://{bucket}/{prefix} holds no batch inference output (*.out)")
    result.missing_keys = len(expected - answered)
    return result


def _check_table(table: str) -> str:
    if not _TABLE.match(table):
        raise ValueError(
            f"cache table {table!r} must be a lower-case identifier, optionally schema-qualified"
        )
    return table


def create_table_sql(table: str, *, layout: CacheLayout = USERS) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {_check_table(table)} ({layout.key_column} VARCHAR(256) NOT NULL, "
        f"rank INTEGER NOT NULL, {layout.item_column} VARCHAR(256) NOT NULL, score DOUBLE PRECISION, "
        "solution_version VARCHAR(256) NOT NULL, generated_at TIMESTAMP NOT NULL)"
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
