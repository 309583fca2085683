"""The export's own SQL is written once, in Postgres's dialect, and compiled to each warehouse's with sqlglot.

A use case's own queries (its sources, items and users) are never rewritten: the cleaning embeds each one
with :func:`embed`, compilation sets it aside, transpiles the rest and puts it back as written, so a
team's SQL stays in its warehouse's dialect.

What sqlglot cannot translate is written as a macro call the compiler expands per dialect
(:data:`MACROS`): ``hex8_to_bigint(text)``, eight hex digits as the integer they spell, and
``regex_search(text, pattern)``, a match anywhere in the text (Snowflake's REGEXP_LIKE must match all).
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

WRITTEN_IN = "postgres"
DIALECTS = ("duckdb", "postgres", "redshift", "snowflake")
_BEGIN, _END = "/*<use-case-sql>*/", "/*</use-case-sql>*/"
_EMBEDDED = re.compile(r"\(\n" + re.escape(_BEGIN) + r"\n(.*?)\n" + re.escape(_END) + r"\n\)", re.DOTALL)
_PLACEHOLDER = "(SELECT * FROM __use_case_sql_{}__)"
_PLACED = re.compile(r"\(SELECT \* FROM __use_case_sql_(\d+)__\)")


def _hex_digits(text: str) -> str:
    """Portable SQL: each digit's place in '0123456789abcdef', weighted (Snowflake's TO_NUMBER(x, 'XXXXXXXX')
    would do, but the Snowflake stand-in the tests run, fakesnow, cannot)."""
    return " + ".join(
        f"(POSITION(SUBSTR({text}, {i + 1}, 1) IN '0123456789abcdef') - 1) * {16 ** (7 - i)}"
        for i in range(8)
    )


MACROS = {
    "regex_search": {  # true where the pattern matches anywhere in the text, as Postgres's ~
        "duckdb": lambda text, pattern: f"REGEXP_MATCHES({text}, {pattern})",
        "postgres": lambda text, pattern: f"{text} ~ {pattern}",
        "redshift": lambda text, pattern: f"{text} ~ {pattern}",
        "snowflake": lambda text, pattern: f"REGEXP_INSTR({text}, {pattern}) > 0",  # REGEXP_LIKE matches all
    },
    "hex8_to_bigint": {
        "duckdb": lambda text: f"CAST('0x' || {text} AS BIGINT)",
        "postgres": lambda text: f"CAST(CAST('x' || {text} AS BIT(32)) AS BIGINT)",
        "redshift": lambda text: f"STRTOL({text}, 16)",
        "snowflake": _hex_digits,
    },
}


class DialectError(ValueError):
    """A warehouse dialect the export cannot compile to."""


def embed(query: str) -> str:
    """A use case's query as a derived table: ``(<query>)``, kept verbatim by :func:`compile_sql`."""
    return f"(\n{_BEGIN}\n{query.rstrip().rstrip(';')}\n{_END}\n)"


def compile_sql(sql: str, dialect: str) -> str:
    """``sql`` (Postgres's dialect, use-case queries embedded) in ``dialect``, use-case queries as written."""
    if dialect not in DIALECTS:
        raise DialectError(f"no SQL dialect {dialect!r}: the export compiles to {', '.join(DIALECTS)}")
    embedded: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        embedded.append(match.group(1))
        return _PLACEHOLDER.format(len(embedded) - 1)

    template = _EMBEDDED.sub(set_aside, sql)
    tree = sqlglot.parse_one(template, read=WRITTEN_IN).transform(lambda node: _expand(node, dialect))
    compiled = tree.sql(dialect=dialect)
    return _PLACED.sub(lambda m: _derived(embedded[int(m.group(1))]), compiled)


def _expand(node: exp.Expression, dialect: str) -> exp.Expression:
    if not isinstance(node, exp.Anonymous) or node.name.lower() not in MACROS:
        return node
    arguments = [argument.sql(dialect=dialect) for argument in node.expressions]
    return sqlglot.parse_one(MACROS[node.name.lower()][dialect](*arguments), read=dialect)


def _derived(query: str) -> str:
    return f"(\n{query}\n)"
