"""Warehouse access through Airflow connections: DuckDB (embedded) and Postgres.

A `duckdb` connection names the database file in `host` (or extra `path`); its extra may set
`memory_limit` and `staging_dir`. A `postgres` connection may set extra `staging_schema`.
"""

from __future__ import annotations

from pathlib import Path

from airflow.providers.common.sql.hooks.sql import DbApiHook

from personalize_pipelines.engines import DEFAULT_MEMORY_LIMIT, DuckDBEngine, Engine, PostgresEngine


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
    from airflow.sdk import BaseHook

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
    raise ValueError(
        f"connection {conn_id!r}: conn_type {conn.conn_type!r} is not a supported warehouse (duckdb, postgres)"
    )
