"""Warehouse engines: run the cleaning SQL where the data lives and stream results as Arrow batches.

An engine owns a staging area in the warehouse (`qualifier` prefixes staged table names) so staged
tables survive between tasks. DuckDB reads the warehouse file read-only and stages into a per-run
DuckDB file beside it; Postgres, Redshift and Snowflake stage into a schema.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import threading
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
        raise QueryError(_server_message(exc)) from exc


def _server_message(exc: Exception) -> str:
    """The warehouse's message: redshift_connector's errors carry the server's fields as a dict (M: message)."""
    fields = exc.args[0] if exc.args else None
    if isinstance(fields, dict) and fields.get("M"):
        return " ".join(str(fields[key]) for key in ("M", "D", "H") if fields.get(key))
    return str(exc).strip()


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

    def fold_identifier(self, name: str) -> str:
        """``name`` folded as the warehouse folds an unquoted identifier, so a column :meth:`columns`
        returns and one the export's SQL names (lower case, unquoted) compare equal when they bind."""
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

    def fold_identifier(self, name: str) -> str:
        return name.lower()  # DuckDB binds names ignoring case, even quoted ones

    def staged_tables(self, prefix: str) -> list[tuple[str, str]]:
        rows = self.query(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_catalog = 'stg' "
            f"AND table_name LIKE '{prefix}%' ORDER BY table_name"
        )
        return [(f"stg.main.{name}", kind) for name, kind in rows]

    def close(self) -> None:
        self._con.close()


def _rows_batch(rows: list, names: list[str]) -> pa.RecordBatch:
    """DB-API rows (tuples or lists) as one Arrow batch, a column at a time."""
    import pyarrow as pa

    return pa.RecordBatch.from_arrays([pa.array(values) for values in zip(*rows, strict=True)], names=names)


class _DbApiEngine:
    """Statements through a DB-API connection's cursors; ``_refusals()`` turns the driver's refusals into
    :class:`QueryError`."""

    _con: Any

    def _refusals(self): ...

    def execute(self, sql: str) -> None:
        with self._refusals(), self._con.cursor() as cur:
            cur.execute(sql)

    def query(self, sql: str) -> list[tuple]:
        with self._refusals(), self._con.cursor() as cur:
            cur.execute(sql)
            return [tuple(row) for row in cur.fetchall()]

    def columns(self, sql: str) -> list[str]:
        with self._refusals(), self._con.cursor() as cur:
            cur.execute(probe_sql(sql))
            return [column[0] for column in cur.description]


class _SchemaStagingEngine(_DbApiEngine):
    """A warehouse spoken to through a Postgres-protocol DB-API connection (psycopg2, redshift_connector),
    staging in `schema`. The driver's own ProgrammingError and DataError are the warehouse's refusals."""

    dialect: str
    can_unload = False

    def __init__(self, *, connection: Any, schema: str = "personalize_staging") -> None:
        if not IDENTIFIER.match(schema):
            raise ValueError(f"staging schema must be a lower-case identifier, got {schema!r}")
        self.schema = schema
        self.qualifier = f"{schema}."
        self._con = connection
        driver = importlib.import_module(type(connection).__module__.partition(".")[0])
        self._refused = tuple(
            getattr(driver, name) for name in ("ProgrammingError", "DataError") if hasattr(driver, name)
        )
        self._con.autocommit = True
        self.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")

    def _refusals(self):
        return _refusals_as_query_errors(*self._refused)

    def fold_identifier(self, name: str) -> str:
        return name  # unquoted names are folded to lower case, as the export writes them; quoted ones kept

    def staged_tables(self, prefix: str) -> list[tuple[str, str]]:
        rows = self.query(
            "SELECT table_name, table_type FROM information_schema.tables "
            f"WHERE table_schema = '{self.schema}' AND table_name LIKE '{prefix}%' ORDER BY table_name"
        )
        return [(f"{self.schema}.{name}", kind) for name, kind in rows]

    def close(self) -> None:
        self._con.close()


_POSTGRES_ARROW_TYPES = {
    16: "bool",
    20: "int64",
    21: "int64",
    23: "int64",
    700: "float64",
    701: "float64",
    1700: "float64",
}
"""Postgres type OIDs (bool, int8/2/4, float4/8, numeric) → Arrow; every other type is read as text."""


class PostgresEngine(_SchemaStagingEngine):
    """A Postgres warehouse (a psycopg2 or psycopg 3 connection); staging tables live in `schema`, results stream
    through ``COPY … TO STDOUT`` into Arrow's CSV reader (4.5× the rows per second of a server-side
    cursor's Python tuples at 10M rows)."""

    dialect = "postgres"

    def stream(self, sql: str, *, batch_rows: int) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        with self._refusals(), self._con.cursor() as cur:
            cur.execute(probe_sql(sql))
            columns = [
                (c.name, pa.type_for_alias(_POSTGRES_ARROW_TYPES.get(c.type_code, "string")))
                for c in cur.description
            ]
        read_end, write_end = os.pipe()
        failure: list[BaseException] = []

        def copy() -> None:
            with open(write_end, "wb", buffering=1 << 20) as sink, self._con.cursor() as cur:
                statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER false)"
                try:
                    if hasattr(cur, "copy_expert"):  # psycopg2
                        cur.copy_expert(statement, sink)
                    else:  # psycopg 3, which the Postgres provider's hook may hand out
                        with cur.copy(statement) as rows:
                            for block in rows:
                                sink.write(block)
                except BaseException as exc:  # handed to the reading side
                    failure.append(exc)

        writer = threading.Thread(target=copy, name="personalize-postgres-copy", daemon=True)
        writer.start()
        try:
            with open(read_end, "rb", buffering=1 << 20) as source:
                reader = pacsv.open_csv(
                    source,
                    read_options=pacsv.ReadOptions(
                        column_names=[name for name, _ in columns], block_size=max(1 << 20, batch_rows * 64)
                    ),
                    convert_options=pacsv.ConvertOptions(
                        column_types=dict(columns),
                        strings_can_be_null=True,
                        quoted_strings_can_be_null=False,
                        true_values=["t"],
                        false_values=["f"],
                    ),
                )
                yield from reader
        except pa.ArrowInvalid:
            if not failure:
                raise
        finally:
            writer.join()
        if failure:
            with self._refusals():
                raise failure[0]


class RedshiftEngine(_SchemaStagingEngine):
    """A Redshift warehouse: a redshift_connector connection (the Amazon provider's RedshiftSQLHook), or
    any Postgres-protocol DB-API connection; staging tables live in `schema`.

    redshift_connector has no named (server-side) cursors and reads a whole result on execute, so results
    stream through a SQL cursor instead: DECLARE in a transaction, then FETCH FORWARD at most
    :data:`FETCH_ROWS` rows at a time (Redshift's limit on single-node clusters), so memory holds one
    batch whatever the row count. Redshift materialises a cursor's result on the leader node.

    With ``unload_iam_role`` (a role Redshift may assume to write the export bucket) it can also unload:
    the parts are written by Redshift's UNLOAD and reported from ``stl_unload_log``.
    """

    dialect = "redshift"
    FETCH_ROWS = 1000
    CURSOR = "personalize_export_stream"

    def __init__(
        self, *, connection: Any, schema: str = "personalize_staging", unload_iam_role: str | None = None
    ) -> None:
        super().__init__(connection=connection, schema=schema)
        self.unload_iam_role = unload_iam_role
        self.can_unload = bool(unload_iam_role)

    def unload(self, select: str, *, uri_prefix: str) -> list[UnloadedPart]:
        from personalize_pipelines.unload import (
            REDSHIFT_UNLOADED_SQL,
            UnloadedPart,
            redshift_unload_sql,
            s3_key,
        )

        if not self.unload_iam_role:
            raise ValueError(
                "a Redshift unload needs unload_iam_role, a role Redshift may assume to write S3"
            )
        with self._refusals(), self._con.cursor() as cur:
            cur.execute(redshift_unload_sql(select, uri_prefix=uri_prefix, iam_role=self.unload_iam_role))
            cur.execute(REDSHIFT_UNLOADED_SQL)
            written = cur.fetchall()
        return [UnloadedPart(key=s3_key(str(path).strip())[1], rows=int(rows)) for path, rows in written]

    def stream(self, sql: str, *, batch_rows: int) -> Iterator[pa.RecordBatch]:
        self._con.autocommit = False
        try:
            with self._refusals(), self._con.cursor() as cur:
                cur.execute(f"DECLARE {self.CURSOR} CURSOR FOR {sql}")
                pending: list = []
                while True:
                    wanted = min(batch_rows - len(pending), self.FETCH_ROWS)
                    cur.execute(f"FETCH FORWARD {wanted} FROM {self.CURSOR}")
                    rows = cur.fetchall()
                    pending.extend(rows)
                    if pending and (len(rows) < wanted or len(pending) == batch_rows):
                        yield _rows_batch(pending, [column[0] for column in cur.description])
                        pending = []
                    if len(rows) < wanted:
                        break
                cur.execute(f"CLOSE {self.CURSOR}")
        finally:
            self._con.rollback()
            self._con.autocommit = True


SNOWFLAKE_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


class SnowflakeEngine(_DbApiEngine):
    """A Snowflake warehouse (a snowflake-connector connection, e.g. the Snowflake provider's SnowflakeHook);
    staging tables live in `schema` of the connection's database, created if missing.

    Snowflake stores unquoted identifiers upper-cased, so staged tables and the columns of the export's
    own SQL come back as USER_ID, R_<key>_RAW... Results stream as the connector's Arrow batches
    (``fetch_arrow_batches``), one result chunk at a time.
    """

    dialect = "snowflake"

    def __init__(
        self,
        *,
        connection: Any,
        schema: str = "PERSONALIZE_STAGING",
        unload_stage: str | None = None,
        unload_stage_url: str | None = None,
    ) -> None:
        if not SNOWFLAKE_IDENTIFIER.match(schema):
            raise ValueError(f"staging schema must be an unquoted Snowflake identifier, got {schema!r}")
        if bool(unload_stage) != bool(unload_stage_url):
            raise ValueError(
                "unload_stage and unload_stage_url go together: the stage and the s3:// URL it is on"
            )
        self.schema = schema.upper()
        self.qualifier = f"{self.schema}."
        self.unload_stage = unload_stage
        self.unload_stage_url = unload_stage_url and unload_stage_url.rstrip("/") + "/"
        self.can_unload = bool(unload_stage)
        self._con = connection
        # CREATE SCHEMA makes the new schema the session's current one: the use case's SQL resolves its
        # unqualified tables in the connection's schema, so that one is put back.
        ((current,),) = self.query("SELECT current_schema()")
        self.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
        if current:
            self.execute(f'USE SCHEMA "{current}"')

    def _refusals(self):
        from snowflake.connector.errors import DataError, ProgrammingError

        return _refusals_as_query_errors(ProgrammingError, DataError)

    def fold_identifier(self, name: str) -> str:
        return name.upper()  # unquoted names are stored upper-cased

    def unload(self, select: str, *, uri_prefix: str) -> list[UnloadedPart]:
        """COPY INTO the external stage ``unload_stage`` (on ``unload_stage_url``) at ``uri_prefix``'s path
        below it; DETAILED_OUTPUT names each file relative to the stage's URL."""
        from personalize_pipelines.unload import UnloadedPart, UnloadError, s3_key, snowflake_unload_sql

        if not self.unload_stage or not self.unload_stage_url:
            raise ValueError("a Snowflake unload needs unload_stage and unload_stage_url")
        if not uri_prefix.startswith(self.unload_stage_url):
            raise UnloadError(
                f"{uri_prefix} is not under stage {self.unload_stage}'s URL {self.unload_stage_url}"
            )
        path = uri_prefix[len(self.unload_stage_url) :]
        written = self.query(snowflake_unload_sql(select, stage=self.unload_stage, path=path))
        return [
            UnloadedPart(key=s3_key(self.unload_stage_url + str(name))[1], rows=int(rows))
            for name, _size, rows in written
        ]

    def stream(self, sql: str, *, batch_rows: int) -> Iterator[pa.RecordBatch]:
        with self._refusals(), self._con.cursor() as cur:
            cur.execute(sql)
            for table in cur.fetch_arrow_batches():
                yield from _wide_integers(table).to_batches(max_chunksize=batch_rows)

    def staged_tables(self, prefix: str) -> list[tuple[str, str]]:
        # information_schema.tables lists views too (TABLE_TYPE 'VIEW'); fakesnow, which the tests run on,
        # lists them only in information_schema.views: the union reads both, once each.
        where = f"table_schema = '{self.schema}' AND table_name LIKE '{prefix.upper()}%'"
        rows = self.query(
            f"SELECT table_name, table_type FROM information_schema.tables WHERE {where} "
            f"UNION SELECT table_name, 'VIEW' FROM information_schema.views WHERE {where} ORDER BY table_name"
        )
        return [(f"{self.schema}.{name}", kind) for name, kind in rows]

    def close(self) -> None:
        self._con.close()


def _wide_integers(table: pa.Table) -> pa.Table:
    """Integer columns as int64: Snowflake sends each result chunk in the narrowest integer type its values
    fit, so one column's type would differ between batches (snowflake-connector-python#1133)."""
    import pyarrow as pa

    wide = pa.schema(
        [field.with_type(pa.int64()) if pa.types.is_integer(field.type) else field for field in table.schema]
    )
    return table if wide.equals(table.schema) else table.cast(wide)
