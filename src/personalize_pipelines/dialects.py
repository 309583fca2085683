"""The export's own SQL is written once, in Postgres's dialect, and compiled to each warehouse's with sqlglot.

A use case's own queries (its sources, items and users) are never rewritten: the cleaning embeds each one
with :func:`embed`, compilation sets it aside, transpiles the rest and puts it back as written, so a
team's SQL stays in its warehouse's dialect.
"""

from __future__ import annotations

import re

import sqlglot

WRITTEN_IN = "postgres"
DIALECTS = ("duckdb", "postgres", "redshift", "snowflake")
_BEGIN, _END = "/*<use-case-sql>*/", "/*</use-case-sql>*/"
_EMBEDDED = re.compile(r"\(\n" + re.escape(_BEGIN) + r"\n(.*?)\n" + re.escape(_END) + r"\n\)", re.DOTALL)
_PLACEHOLDER = "(SELECT * FROM __use_case_sql_{}__)"
_PLACED = re.compile(r"\(SELECT \* FROM __use_case_sql_(\d+)__\)")


class DialectError(ValueError):
    """A warehouse dialect the export cannot compile to."""


def embed(query: str) -> str:
    """A use case's query as a derived table: ``(<query>)``, kept verbatim by :func:`compile_sql`."""
    return f"(\n{_BEGIN}\n{query.rstrip().rstrip(';')}\n{_END}\n)"


def compile_sql(sql: str, dialect: str) -> str:
    """``sql`` (Postgres's dialect, use-case queries embedded) in ``dialect``, use-case queries as written."""
    if dialect not in DIALECTS:
        raise DialectError(f"no SQL dialect {dialect!r}: the export compiles to {', '.join(DIALECTS)}")
    if dialect == WRITTEN_IN:
        return _EMBEDDED.sub(lambda m: _derived(m.group(1)), sql)
    embedded: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        embedded.append(match.group(1))
        return _PLACEHOLDER.format(len(embedded) - 1)

    template = _EMBEDDED.sub(set_aside, sql)
    tree = sqlglot.parse_one(template, read=WRITTEN_IN)
    compiled = tree.sql(dialect=dialect)
    return _PLACED.sub(lambda m: _derived(embedded[int(m.group(1))]), compiled)


def _derived(query: str) -> str:
    return f"(\n{query}\n)"
