"""Copy the synthetic shop from its DuckDB file into Postgres, streamed through COPY.

Rows leave DuckDB as Arrow record batches, are rendered to CSV one batch at a time and fed to a single
`COPY ... FROM STDIN` per table, so memory stays flat whatever the table size. NULL and the empty
string stay distinct (CSV: an unquoted empty field is NULL, `""` is an empty string).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

TABLES = ("customers", "products", "orders", "order_items", "clickstream")
BATCH_ROWS = 100_000

_PLAIN_TYPES = {
    "VARCHAR": "VARCHAR",
    "BIGINT": "BIGINT",
    "INTEGER": "INTEGER",
    "SMALLINT": "SMALLINT",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "DOUBLE": "DOUBLE PRECISION",
    "TIMESTAMP": "TIMESTAMP WITHOUT TIME ZONE",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def postgres_type(duckdb_type: str, *, where: str) -> str:
    """The Postgres column type equivalent to a DuckDB one; `where` (table.column) names a bad column."""
    if duckdb_type in _PLAIN_TYPES:
        return _PLAIN_TYPES[duckdb_type]
    decimal = _DECIMAL.fullmatch(duckdb_type)
    if decimal:
        return f"NUMERIC({decimal.group(1)}, {decimal.group(2)})"
    raise ValueError(f"{where}: DuckDB type {duckdb_type} has no Postgres equivalent in this copier")


class _CsvStream(io.RawIOBase):
    """A readable file over CSV chunks, one Arrow record batch at a time (what COPY FROM STDIN reads)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._chunk = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._pos >= len(self._chunk):
            try:
                self._chunk, self._pos = next(self._chunks), 0
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._chunk) - self._pos)
        buffer[:n] = self._chunk[self._pos : self._pos + n]
        self._pos += n
        return n


def _csv_chunks(reader) -> Iterator[bytes]:
    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(include_header=False)
    for batch in reader:
        out = io.BytesIO()
        pacsv.write_csv(batch, out, options)
        yield out.getvalue()


def _copy_table(source, cur, *, schema: str, table: str, batch_rows: int) -> int:
    from psycopg2 import sql

    target = sql.Identifier(schema, table)
    columns = source.execute(f'DESCRIBE "{table}"').fetchall()
    definition = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(postgres_type(kind, where=f"{table}.{name}")))
        for name, kind, *_ in columns
    )
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
    cur.execute(sql.SQL("CREATE TABLE {} ({})").format(target, definition))
    reader = source.sql(f'SELECT * FROM "{table}"').to_arrow_reader(batch_rows)
    copy = sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv)").format(target).as_string(cur)
    cur.copy_expert(copy, _CsvStream(_csv_chunks(reader)), size=1 << 20)
    return cur.rowcount


def copy_to_postgres(
    *,
    duckdb_path: str | os.PathLike,
    dsn: str,
    schema: str = "public",
    tables: tuple[str, ...] = TABLES,
    batch_rows: int = BATCH_ROWS,
) -> dict[str, int]:
    """Create `tables` of the DuckDB file in Postgres schema `schema` and bulk-load them; return rows per table.

    Idempotent: each table is dropped and recreated in that schema (the schema is created if missing)
    inside one transaction, so a failed copy leaves the previous tables untouched. Column types are the
    Postgres equivalents of DuckDB's (VARCHAR, BIGINT, INTEGER, BOOLEAN, DATE, NUMERIC(p, s),
    TIMESTAMP WITHOUT TIME ZONE). The tables are ANALYZEd after the commit.
    """
    import duckdb
    import psycopg2
    from psycopg2 import sql

    if not Path(duckdb_path).is_file():
        raise FileNotFoundError(
            f"DuckDB warehouse {duckdb_path} does not exist (build it with synthetic.generate)"
        )
    source = duckdb.connect(str(duckdb_path), read_only=True)
    loaded: dict[str, int] = {}
    try:
        present = {r[0] for r in source.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        missing = [t for t in tables if t not in present]
        if missing:
            raise ValueError(f"{duckdb_path}: tables {missing} not found (has {sorted(present)})")
        pg = psycopg2.connect(dsn)
        try:
            with pg, pg.cursor() as cur:  # one transaction: commit on success, roll back on error
                cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
                for table in tables:
                    loaded[table] = _copy_table(
                        source, cur, schema=schema, table=table, batch_rows=batch_rows
                    )
            pg.autocommit = True
            with pg.cursor() as cur:
                for table in tables:
                    cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))
        finally:
            pg.close()
    finally:
        source.close()
    return loaded
