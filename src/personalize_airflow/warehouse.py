"""Warehouse access through Airflow connections: DuckDB (embedded), Postgres, Redshift and Snowflake.

A `duckdb` connection names the database file in `host` (or extra `path`); its extra may set
`memory_limit` and `staging_dir`. A `postgres`, `redshift` or `snowflake` connection may set extra
`staging_schema`; for the export's unload mode, a `redshift` one extra `unload_iam_role`, a `snowflake`
one extras `unload_stage` and `unload_stage_url`. Redshift is reached through the Amazon provider's
RedshiftSQLHook (redshift_connector), Snowflake through the Snowflake provider's SnowflakeHook (the
`[snowflake]` extra); both are imported only when such a connection is opened. The export validates
Redshift and Snowflake with the suites evaluated as aggregate SQL (no GX connection string), as on DuckDB.

The serving caches need a writable warehouse while the export opens DuckDB files read-only. For a
`duckdb` connection the cache goes to the file named by the connection's extra `cache_path` when set
(applications attach it beside the warehouse), else into the warehouse file itself, opened read-write
for the few seconds of the load (a concurrent export task waits for its retry). For a `postgres`
connection it goes into the warehouse, in the table the use case names (schema-qualified if wanted).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.providers.common.sql.hooks.sql import DbApiHook

from personalize_pipelines.engines import (
    DEFAULT_MEMORY_LIMIT,
    DuckDBEngine,
    Engine,
    PostgresEngine,
    RedshiftEngine,
    SnowflakeEngine,
)

WAREHOUSES = ("duckdb", "postgres", "redshift", "snowflake")
EXTRAS = frozenset({"staging_schema", "staging_dir", "memory_limit", "cache_path", "path", "unload_iam_role"})
"""The extras this integration reads from a warehouse connection, never handed to a driver."""


class DuckDBHook(DbApiHook):
    """A DbApiHook over a DuckDB database file, opened read-only: pipelines never write the warehouse."""

    conn_name_attr = "duckdb_conn_id"
    default_conn_name = "warehouse"
    conn_type = "duckdb"
    hook_name = "DuckDB"
    supports_autocommit = False

    def database_path(self) -> Path:
        conn = self.get_connection(getattr(self, self.conn_name_attr))
        path = conn.extra_dejson.get("path") or conn.host
        if not path:
            raise ValueError(f"connection {conn.conn_id!r}: set host (or extra 'path') to the DuckDB file")
        return Path(path)

    def get_conn(self):
        import duckdb

        return duckdb.connect(str(self.database_path()), read_only=True)


def warehouse_engine(conn_id: str, *, run_key: str) -> tuple[Engine, str | None]:
    """The engine for a warehouse connection, and a SQLAlchemy URL when GX's SQL engine supports it."""
    from airflow.providers.common.compat.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    extra = conn.extra_dejson
    if conn.conn_type == "duckdb":
        database = DuckDBHook(duckdb_conn_id=conn_id).database_path()
        staging_dir = Path(extra.get("staging_dir") or database.parent / ".personalize-staging")
        engine = DuckDBEngine(
            database=database,
            staging_path=staging_dir / f"{run_key}.duckdb",
            memory_limit=extra.get("memory_limit", DEFAULT_MEMORY_LIMIT),
        )
        return engine, None
    if conn.conn_type == "postgres":
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        hook = PostgresHook(postgres_conn_id=conn_id)
        engine = PostgresEngine(
            connection=hook.get_conn(), schema=extra.get("staging_schema", "personalize_staging")
        )
        return engine, hook.sqlalchemy_url.render_as_string(hide_password=False)
    if conn.conn_type == "redshift":
        from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook

        hook = RedshiftSQLHook(redshift_conn_id=conn_id)
        # The hook passes every extra to redshift_connector.connect(), which refuses staging_schema.
        hook.conn.extra = json.dumps({k: v for k, v in extra.items() if k not in EXTRAS})
        engine = RedshiftEngine(
            connection=hook.get_conn(),
            schema=extra.get("staging_schema", "personalize_staging"),
            unload_iam_role=extra.get("unload_iam_role"),
        )
        return engine, None
    if conn.conn_type == "snowflake":
        from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

        engine = SnowflakeEngine(
            connection=SnowflakeHook(snowflake_conn_id=conn_id).get_conn(),
            schema=extra.get("staging_schema", "PERSONALIZE_STAGING"),
            unload_stage=extra.get("unload_stage"),
            unload_stage_url=extra.get("unload_stage_url"),
        )
        return engine, None
    raise ValueError(
        f"connection {conn_id!r}: conn_type {conn.conn_type!r} is not a supported warehouse "
        f"({', '.join(WAREHOUSES)})"
    )


def _unsupported(conn_id: str, conn_type: str) -> AirflowFailException:
    return AirflowFailException(
        f"connection {conn_id!r}: conn_type {conn_type!r} is not a warehouse the serving DAGs read or write "
        "(duckdb, postgres)"
    )


def query_warehouse(conn_id: str, sql: str, *, batch_rows: int = 5000) -> Iterator[dict[str, Any]]:
    """Rows of a query on the warehouse connection (DuckDB read-only, or Postgres), as dicts, streamed."""
    from airflow.providers.common.compat.sdk import BaseHook

    from personalize_pipelines.events import iter_rows

    conn_type = BaseHook.get_connection(conn_id).conn_type
    if conn_type == "duckdb":
        connection = DuckDBHook(duckdb_conn_id=conn_id).get_conn()
    elif conn_type == "postgres":
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        connection = PostgresHook(postgres_conn_id=conn_id).get_conn()
    else:
        raise _unsupported(conn_id, conn_type)
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        yield from iter_rows(cursor, batch_rows=batch_rows)
    finally:
        connection.close()


def cache_connection(conn_id: str) -> tuple[Any, str, str]:
    """(writable connection, dialect, where) for the cache tables of a warehouse connection."""
    from airflow.providers.common.compat.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    if conn.conn_type == "duckdb":
        import duckdb

        path = conn.extra_dejson.get("cache_path") or str(DuckDBHook(duckdb_conn_id=conn_id).database_path())
        return duckdb.connect(path), "duckdb", path
    if conn.conn_type == "postgres":
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        return PostgresHook(postgres_conn_id=conn_id).get_conn(), "postgres", f"postgres connection {conn_id}"
    raise _unsupported(conn_id, conn.conn_type)
