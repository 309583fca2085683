"""Warehouse engines: run the cleaning SQL where the data lives and stream results as Arrow batches.

An engine owns a staging area in the warehouse (`qualifier` prefixes staged table names) so staged
tables survive between tasks. DuckDB reads the warehouse file read-only and stages into a per-run
DuckDB file beside it; Postgres stages into a schema.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

    from personalize_pipelines.unload import UnloadedPart

log = logging.getLogger(__name__)
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


class QueryError(RuntimeError):
    """SQL the warehouse refuses: a syntax error, an unknown table or column, a value out of range (DB-API's
    ProgrammingError and DataError). The same SQL fails the same way, so no retry can help."""


@contextmanager
def _refusals_as_query_errors(*refusals: type[Exception]) -> Iterator[None]:
    try:
        yield
    except refusals as exc:
        raise QueryError(str(exc).strip()) from exc


def probe_sql(sql: str) -> str:
    """The query wrapped so the warehouse compiles it and returns its columns without reading a row."""
    return f"SELECT * FROM (\n{sql.rstrip().rstrip(';')}\n) AS probe LIMIT 0"


class Engine(Protocol):
    dialect: str
    qualifier: str
    can_unload: bool
    """Whether the warehouse writes to S3 itself (:meth:`unload`); else rows stream through the worker."""

    def execute(self, sql: str) -> None: ...

    def query(self, sql: str) -> list[tuple]: ...

    def stream(self, sql: str, *, batch_rows: int) -> Iterator[pa.RecordBatch]: ...

    def columns(self, sql: str) -> list[str]:
        """The names of the columns ``sql`` returns, as the warehouse spells them (no row is read)."""
        ...

    def staged_tables(self, prefix: str) -> list[tuple[str, str]]:
        """Qualified names and types ('VIEW' or 'BASE TABLE') of staged relations starting with prefix."""
        ...

    def unload(self, select: str, *, uri_prefix: str) -> list[UnloadedPart]:
        """Have the warehouse write ``select``'s rows as CSV parts under ``uri_prefix``; what it wrote."""
        ...

    def close(self) -> None: ...


DEFAULT_MEMORY_LIMIT = "256MB"


class DuckDBEngine:
    """The embedded warehouse: a DuckDB file attached read-only, staging in `staging_path`.

    DuckDB's memory is capped (`memory_limit`, default 256MB; spilling beyond it to a temp folder
    beside the staging file), so an export's memory stays flat as rows grow.
    """

    dialect = "duckdb"
    qualifier = "stg.main."
    can_unload = False

    def __init__(
        self, *, database: Path, staging_path: Path, memory_limit: str | None = DEFAULT_MEMORY_LIMIT
    ) -> None:
        import duckdb

        database = Path(database)
        if not database.is_file():
            raise FileNotFoundError(f"DuckDB warehouse file not found: {database}")
        staging_path = Path(staging_path)
        staging_path.parent.mkdir(parents=True, exist_ok=True)
        self.staging_path = staging_path
        self._con = duckdb.connect()
        if memory_limit:
            self._con.execute(f"SET memory_limit = '{memory_limit}'")
        self._con.execute("SET preserve_insertion_order = false")
        self._con.execute("SET enable_progress_bar = false")
        self._con.execute(f"SET temp_directory = '{staging_path.parent / 'spill'}'")
        self._con.execute(f"ATTACH '{database}' AS wh (READ_ONLY)")
        self._con.execute(f"ATTACH '{staging_path}' AS stg")
        self._con.execute("USE wh")

    def _refusals(self):
        import duckdb

        return _refusals_as_query_errors(duckdb.ProgrammingError, duckdb.DataError)

    def execute(self, sql: str) -> None:
        with self._refusals():
            self._con.execute(sql)

    def query(self, sql: str) -> list[tuple]:
        with self._refusals():
            return self._con.execute(sql).fetchall()

    def stream(self, sql: str, *, batch_rows: int) -> Iterator[pa.RecordBatch]:
        with self._refusals():
            yield from self._con.sql(sql).to_arrow_reader(batch_rows)

    def columns(self, sql: str) -> list[str]:
        with self._refusals():
            return [column[0] for column in self._con.execute(probe_sql(sql)).description]

    def staged_tables(self, prefix: str) -> list[tuple[str, str]]:
        rows = self.query(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_catalog = 'stg' "
            f"AND table_name LIKE '{prefix}%' ORDER BY table_name"
        )
        return [(f"stg.main.{name}", kind) for name, kind in rows]

    def close(self) -> None:
        self._con.close()


class PostgresEngine:
    """A Postgres warehouse (a psycopg2 connection); staging tables live in `schema`, results stream
    through a server-side cursor."""

    dialect = "postgres"
    can_unload = False

    def __init__(self, *, connection: Any, schema: str = "personalize_staging") -> None:
        if not IDENTIFIER.match(schema):
            raise ValueError(f"staging schema must be a lower-case identifier, got {schema!r}")
        self.schema = schema
        self.qualifier = f"{schema}."
        self._con = connection
        self._con.autocommit = True
        self.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")

    def _refusals(self):
        import psycopg2

        return _refusals_as_query_errors(psycopg2.ProgrammingError, psycopg2.DataError)

    def execute(self, sql: str) -> None:
        with self._refusals(), self._con.cursor() as cur:
            cur.execute(sql)

    def query(self, sql: str) -> list[tuple]:
        with self._refusals(), self._con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def columns(self, sql: str) -> list[str]:
        with self._refusals(), self._con.cursor() as cur:
            cur.execute(probe_sql(sql))
            return [column.name for column in cur.description]

    def stream(self, sql: str, *, batch_rows: int) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        self._con.autocommit = False
        try:
            with self._refusals(), self._con.cursor(name="personalize_export_stream") as cur:
                cur.itersize = batch_rows
                cur.execute(sql)
                while rows := cur.fetchmany(batch_rows):
                    names = [column.name for column in cur.description]
                    yield pa.RecordBatch.from_arrays(
                        [pa.array(values) for values in zip(*rows, strict=True)], names=names
                    )
        finally:
            self._con.rollback()
            self._con.autocommit = True

    def staged_tables(self, prefix: str) -> list[tuple[str, str]]:
        rows = self.query(
            "SELECT table_name, table_type FROM information_schema.tables "
            f"WHERE table_schema = '{self.schema}' AND table_name LIKE '{prefix}%' ORDER BY table_name"
        )
        return [(f"{self.schema}.{name}", kind) for name, kind in rows]

    def close(self) -> None:
        self._con.close()
