"""Evaluate a GX suite as SQL aggregates in the warehouse, for engines GX's SQL engine cannot drive.

Every column and table expectation becomes a few aggregate expressions of ONE `SELECT ... FROM table`
(one scan, however many expectations); the table's columns and their types come from
`information_schema` (type checks compare whole type names ignoring case, as GX does on Postgres and
Snowflake, so list every name a column may have, e.g. DuckDB's DOUBLE and Postgres' DOUBLE PRECISION, and
Snowflake's NUMBER(38,0) for an integer); each
`unexpected_rows_expectation` runs its own query. Failed column checks fetch up to 20 unexpected values
(`LIMIT 20`), as GX's SUMMARY result does. The SQL is written in Postgres's dialect and compiled to the
warehouse's (personalize_pipelines.dialects), the suite's own queries too. An expectation type or kwarg without a translation here raises
UnsupportedExpectation before any query runs: nothing passes silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from personalize_pipelines.dialects import DIALECTS, compile_sql
from personalize_pipelines.validation.result import MAX_SAMPLE, ExpectationResult, ValidationResult
from personalize_pipelines.validation.suite import Expectation, Suite, SuiteError, sql_literal

RunQuery = Callable[[str], Sequence[Sequence[Any]]]

# kwargs GX accepts on every expectation that do not change what is checked
_NEUTRAL_KWARGS = {"result_format", "catch_exceptions", "include_config", "batch_id"}


class UnsupportedExpectation(ValueError):
    """The suite uses an expectation type (or kwarg) that validate_in_sql cannot translate to SQL."""


@dataclass(frozen=True)
class _Target:
    sql: str
    catalog: str | None
    schema: str | None
    name: str


@dataclass
class _Check:
    expectation: Expectation
    kwargs: dict[str, Any]
    aggregates: list[str]
    columns: list[str]
    finish: Callable[[list[Any], _Context], dict[str, Any]]
    unexpected_sql: str | None = None


@dataclass
class _Context:
    columns: list[str]
    run_query: RunQuery
    types: dict[str, str]

    def has(self, column: str) -> bool:
        return column in self.types


def validate_in_sql(
    *,
    suite: Suite,
    table: str,
    dialect: str,
    run_query: RunQuery,
    parameters: Mapping[str, Any] | None = None,
) -> ValidationResult:
    """Validate `table` against `suite` with SQL aggregates run through `run_query`.

    :param suite: a suite from `load_suite`.
    :param table: `table`, `schema.table` or `catalog.schema.table`; plain or double-quoted identifiers.
    :param dialect: the warehouse's: duckdb, postgres, redshift or snowflake.
    :param run_query: runs one SQL statement and returns its rows as sequences of values.
    :param parameters: values for the suite's `$PARAMETER` references and query placeholders,
        overlaid on the suite's `meta.parameter_defaults`.
    :raises UnsupportedExpectation: for an expectation type or kwarg this runner cannot translate.
    :raises SuiteError: for a missing parameter or a malformed expectation.
    """
    dialect = "postgres" if dialect == "postgresql" else dialect
    if dialect not in DIALECTS:
        raise ValueError(f"validate_in_sql: dialect must be one of {DIALECTS}, got {dialect!r}")
    run_query = _compiling(run_query, dialect)
    target = parse_table(table)
    params = suite.parameters(parameters)
    for expectation in suite.expectations:  # every type must translate before any query runs
        _plan(expectation, expectation.resolved_kwargs(params), target)

    described = _describe_table(target, run_query)
    context = _Context(columns=[name for name, _ in described], run_query=run_query, types=dict(described))
    suite = suite.bind_columns(context.columns)
    checks = [_plan(e, e.resolved_kwargs(params), target) for e in suite.expectations]
    runnable = [c for c in checks if all(context.has(col) for col in c.columns)]
    aggregates = list(dict.fromkeys(expr for check in runnable for expr in check.aggregates))
    row = list(run_query(f"SELECT {', '.join(aggregates)} FROM {target.sql}")[0]) if aggregates else []
    position = {expr: index for index, expr in enumerate(aggregates)}

    results = []
    for check in checks:
        missing = [col for col in check.columns if not context.has(col)]
        if missing:
            fields = {
                "success": False,
                "exception": f"column {missing[0]!r} not found in {table} (columns: {', '.join(context.columns)})",
            }
        else:
            fields = check.finish([row[position[expr]] for expr in check.aggregates], context)
            if (
                check.unexpected_sql
                and fields.get("unexpected_count")
                and not fields.get("partial_unexpected_list")
            ):
                fields["partial_unexpected_list"] = [
                    r[0] for r in run_query(f"{check.unexpected_sql} LIMIT {MAX_SAMPLE}")
                ]
        results.append(_result(check, fields, params))
    return ValidationResult(
        suite_name=suite.name,
        success=all(r.success for r in results),
        results=tuple(results),
        severity=suite.severity,
        table=table,
        engine=f"sql:{dialect}",
        parameters=params,
        validated_at=datetime.now(UTC).isoformat(),
    )


def _compiling(run_query: RunQuery, dialect: str) -> RunQuery:
    return lambda sql: run_query(compile_sql(sql, dialect))


def supported_types() -> tuple[str, ...]:
    return tuple(sorted({*_MAP_CONDITIONS, *_AGGREGATE_STATS, *_PLANNERS}))


_IDENTIFIER = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")'
_TABLE = re.compile(rf"^{_IDENTIFIER}(?:\.{_IDENTIFIER}){{0,2}}$")


def parse_table(table: str) -> _Target:
    """Split and check a table reference; raises ValueError for anything but plain/quoted identifiers."""
    if not isinstance(table, str) or not _TABLE.match(table):
        raise ValueError(
            f"validate_in_sql: table {table!r} is not a [catalog.][schema.]table reference of plain "
            f"or double-quoted identifiers"
        )
    parts = re.findall(_IDENTIFIER, table)
    names = [p[1:-1].replace('""', '"') if p.startswith('"') else p for p in parts]
    catalog, schema, name = [None] * (3 - len(names)) + names
    return _Target(sql=table, catalog=catalog, schema=schema, name=name)


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _describe_table(target: _Target, run_query: RunQuery) -> list[tuple[str, str]]:
    """(column, type name) in table order, type names as GX reports them on SQL engines."""
    schema = (
        f"lower({sql_literal(target.schema, where='schema')})" if target.schema else "lower(current_schema())"
    )
    catalog_filter = (
        f" AND lower(table_catalog) = lower({sql_literal(target.catalog, where='catalog')})"
        if target.catalog
        else ""
    )
    rows = run_query(
        "SELECT table_catalog, column_name, data_type, character_maximum_length, numeric_precision, numeric_scale "
        "FROM information_schema.columns "
        f"WHERE lower(table_name) = lower({sql_literal(target.name, where='table')}) "
        f"AND lower(table_schema) = {schema}{catalog_filter} "
        "ORDER BY CASE WHEN table_catalog = current_database() THEN 0 ELSE 1 END, table_catalog, ordinal_position"
    )
    if not rows:
        raise ValueError(
            f"validate_in_sql: table {target.sql} not found (information_schema.columns has no columns)"
        )
    first_catalog = rows[0][0]
    return [
        (str(name), _type_name(kind, length, precision, scale))
        for catalog, name, kind, length, precision, scale in rows
        if catalog == first_catalog
    ]


def _type_name(
    data_type: str, max_length: int | None, precision: int | None = None, scale: int | None = None
) -> str:
    """information_schema's type as a SQL type name: Postgres' 'character varying' + 64 → 'VARCHAR(64)';
    Snowflake's NUMBER with its precision and scale, 'NUMBER(38,0)' (what BIGINT and INTEGER are there)."""
    name = str(data_type).upper()
    name = {"CHARACTER VARYING": "VARCHAR", "CHARACTER": "CHAR"}.get(name, name)
    if name == "NUMBER" and precision is not None:
        return f"NUMBER({int(precision)},{int(scale or 0)})"
    return f"{name}({max_length})" if max_length and name in ("VARCHAR", "CHAR") else name


def _type_key(name: str) -> str:
    """Type names compare whole but ignoring case, as GX does on Postgres and Snowflake: 'VARCHAR(64)' is
    not 'VARCHAR'."""
    return name.strip().casefold()


def _plan(expectation: Expectation, kwargs: dict[str, Any], target: _Target) -> _Check:
    kind = expectation.type
    if kind in _MAP_CONDITIONS:
        return _plan_map(expectation, kwargs, target)
    if kind in _AGGREGATE_STATS:
        return _plan_aggregate(expectation, kwargs)
    if kind in _PLANNERS:
        planner, allowed = _PLANNERS[kind]
        _check_kwargs(kind, kwargs, allowed)
        return planner(expectation, kwargs, target)
    raise UnsupportedExpectation(
        f"validate_in_sql cannot evaluate expectation type {kind!r} (suite expectation on "
        f"{expectation.column or 'the table'}); supported: {', '.join(supported_types())}"
    )


def _check_kwargs(kind: str, kwargs: Mapping[str, Any], allowed: set[str]) -> None:
    for key, value in kwargs.items():
        if key in allowed or key in _NEUTRAL_KWARGS:
            continue
        if key in ("row_condition", "condition_parser") and value is None:
            continue
        raise UnsupportedExpectation(
            f"validate_in_sql: {kind} kwarg {key!r} is not supported (allowed: {sorted(allowed)})"
        )


def _range_condition(expr: str, kwargs: Mapping[str, Any], kind: str) -> str:
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if lo is None and hi is None:
        raise SuiteError(f"{kind}: min_value and max_value cannot both be null")
    parts = []
    if lo is not None:
        parts.append(
            f"{expr} {'>' if kwargs.get('strict_min') else '>='} {sql_literal(lo, where=f'{kind} min_value')}"
        )
    if hi is not None:
        parts.append(
            f"{expr} {'<' if kwargs.get('strict_max') else '<='} {sql_literal(hi, where=f'{kind} max_value')}"
        )
    return " AND ".join(parts)


def _in_range(value: Any, kwargs: Mapping[str, Any]) -> bool:
    if value is None:
        return False
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if lo is not None and (value <= lo if kwargs.get("strict_min") else value < lo):
        return False
    return not (hi is not None and (value >= hi if kwargs.get("strict_max") else value > hi))


def _value_list(values: Any, kind: str) -> str:
    if not isinstance(values, list | tuple | set | frozenset):
        raise SuiteError(f"{kind}: value_set must be a list, got {type(values).__name__}")
    return ", ".join(sql_literal(v, where=f"{kind} value_set") for v in values)


def _regex(col: str, pattern: Any, kind: str) -> str:
    return f"regex_search({col}, {sql_literal(pattern, where=f'{kind} regex')})"


_RANGE_KWARGS = {"min_value", "max_value", "strict_min", "strict_max"}

# type -> (condition that holds for an expected non-null value, extra kwargs)
_MAP_CONDITIONS: dict[str, tuple[Callable[[str, dict[str, Any], str], str], set[str]]] = {
    "expect_column_values_to_not_be_null": (lambda c, k, t: f"{c} IS NOT NULL", set()),
    "expect_column_values_to_be_null": (lambda c, k, t: f"{c} IS NULL", set()),
    "expect_column_values_to_be_between": (lambda c, k, t: _range_condition(c, k, t), _RANGE_KWARGS),
    "expect_column_value_lengths_to_be_between": (
        lambda c, k, t: _range_condition(f"CHAR_LENGTH({c})", k, t),
        _RANGE_KWARGS,
    ),
    "expect_column_value_lengths_to_equal": (
        lambda c, k, t: f"CHAR_LENGTH({c}) = {sql_literal(k['value'], where=f'{t} value')}",
        {"value"},
    ),
    "expect_column_values_to_be_in_set": (
        lambda c, k, t: f"{c} IN ({_value_list(k['value_set'], t)})" if k["value_set"] else "FALSE",
        {"value_set"},
    ),
    "expect_column_values_to_not_be_in_set": (
        lambda c, k, t: f"{c} NOT IN ({_value_list(k['value_set'], t)})" if k["value_set"] else "TRUE",
        {"value_set"},
    ),
    "expect_column_values_to_match_regex": (lambda c, k, t: _regex(c, k["regex"], t), {"regex"}),
    "expect_column_values_to_not_match_regex": (
        lambda c, k, t: f"NOT ({_regex(c, k['regex'], t)})",
        {"regex"},
    ),
    "expect_column_values_to_match_like_pattern": (
        lambda c, k, t: f"{c} LIKE {sql_literal(k['like_pattern'], where=f'{t} like_pattern')}",
        {"like_pattern"},
    ),
    "expect_column_values_to_not_match_like_pattern": (
        lambda c, k, t: f"{c} NOT LIKE {sql_literal(k['like_pattern'], where=f'{t} like_pattern')}",
        {"like_pattern"},
    ),
}
# map expectations that count NULLs as the thing checked instead of skipping them
_NULL_CHECKS = {"expect_column_values_to_not_be_null", "expect_column_values_to_be_null"}


def _plan_map(expectation: Expectation, kwargs: dict[str, Any], target: _Target) -> _Check:
    kind = expectation.type
    condition, allowed = _MAP_CONDITIONS[kind]
    _check_kwargs(kind, kwargs, {"column", "mostly", *allowed})
    for key in allowed - _RANGE_KWARGS:
        if key not in kwargs:
            raise SuiteError(f"{kind} (column {kwargs.get('column')}): kwarg {key!r} is required")
    column = kwargs["column"]
    col = quote_identifier(column)
    holds = condition(col, kwargs, kind)
    mostly = kwargs.get("mostly", 1)
    if kind in _NULL_CHECKS:
        unexpected = f"NOT ({holds})"
        aggregates = ["COUNT(*)", f"SUM(CASE WHEN {holds} THEN 0 ELSE 1 END)"]
    else:
        unexpected = f"{col} IS NOT NULL AND NOT COALESCE({holds}, FALSE)"
        aggregates = ["COUNT(*)", f"COUNT({col})", f"SUM(CASE WHEN {unexpected} THEN 1 ELSE 0 END)"]

    def finish(values: list[Any], _: _Context) -> dict[str, Any]:
        total = int(values[0])
        if kind in _NULL_CHECKS:
            bad = int(values[1] or 0)
            considered, missing = total, None
        else:
            considered, bad = int(values[1]), int(values[2] or 0)
            missing = total - considered
        fields: dict[str, Any] = {
            "success": considered == 0 or (considered - bad) / considered >= mostly,
            "element_count": total,
            "unexpected_count": bad,
            "unexpected_percent": bad / considered * 100 if considered else None,
            "missing_count": missing,
        }
        if kind == "expect_column_values_to_not_be_null":
            fields["partial_unexpected_list"] = [None] * min(bad, MAX_SAMPLE)
        else:
            fields["partial_unexpected_list"] = []
        return fields

    return _Check(
        expectation,
        kwargs,
        aggregates,
        [column],
        finish,
        unexpected_sql=f"SELECT {col} FROM {target.sql} WHERE {unexpected}",
    )


_AGGREGATE_STATS = {
    "expect_column_min_to_be_between": "MIN({})",
    "expect_column_max_to_be_between": "MAX({})",
    "expect_column_mean_to_be_between": "AVG(CAST({} AS DOUBLE PRECISION))",
    "expect_column_sum_to_be_between": "SUM({})",
}


def _plan_aggregate(expectation: Expectation, kwargs: dict[str, Any]) -> _Check:
    kind = expectation.type
    _check_kwargs(kind, kwargs, {"column", *_RANGE_KWARGS})
    column = kwargs["column"]

    def finish(values: list[Any], _: _Context) -> dict[str, Any]:
        observed = _plain_number(values[0])
        return {"success": _in_range(observed, kwargs), "observed_value": observed}

    return _Check(
        expectation, kwargs, [_AGGREGATE_STATS[kind].format(quote_identifier(column))], [column], finish
    )


def _plan_row_count_between(expectation: Expectation, kwargs: dict[str, Any], _: _Target) -> _Check:
    def finish(values: list[Any], __: _Context) -> dict[str, Any]:
        observed = int(values[0])
        return {"success": _in_range(observed, kwargs), "observed_value": observed}

    return _Check(expectation, kwargs, ["COUNT(*)"], [], finish)


def _plan_row_count_equal(expectation: Expectation, kwargs: dict[str, Any], _: _Target) -> _Check:
    def finish(values: list[Any], __: _Context) -> dict[str, Any]:
        observed = int(values[0])
        return {"success": observed == kwargs["value"], "observed_value": observed}

    return _Check(expectation, kwargs, ["COUNT(*)"], [], finish)


def _plan_column_exists(expectation: Expectation, kwargs: dict[str, Any], _: _Target) -> _Check:
    def finish(__: list[Any], context: _Context) -> dict[str, Any]:
        return {"success": context.has(kwargs["column"])}

    return _Check(expectation, kwargs, [], [], finish)


def _plan_columns_match_set(expectation: Expectation, kwargs: dict[str, Any], _: _Target) -> _Check:
    def finish(__: list[Any], context: _Context) -> dict[str, Any]:
        expected = set(kwargs["column_set"] or [])
        unexpected = [c for c in context.columns if c not in expected]
        missing = sorted(c for c in expected if not context.has(c))
        exact = kwargs.get("exact_match", True)
        fields: dict[str, Any] = {
            "success": not missing and (not exact or not unexpected),
            "observed_value": list(context.columns),
        }
        if unexpected or missing:
            fields["details"] = {"mismatched": {"unexpected": unexpected, "missing": missing}}
        return fields

    return _Check(expectation, kwargs, [], [], finish)


def _plan_columns_match_list(expectation: Expectation, kwargs: dict[str, Any], _: _Target) -> _Check:
    def finish(__: list[Any], context: _Context) -> dict[str, Any]:
        return {
            "success": context.columns == list(kwargs["column_list"]),
            "observed_value": context.columns,
        }

    return _Check(expectation, kwargs, [], [], finish)


def _plan_type_list(expectation: Expectation, kwargs: dict[str, Any], _: _Target) -> _Check:
    accepted = kwargs.get("type_list") if expectation.type.endswith("type_list") else [kwargs.get("type_")]

    def finish(__: list[Any], context: _Context) -> dict[str, Any]:
        observed = context.types[kwargs["column"]]
        success = accepted is None or _type_key(observed) in {_type_key(t) for t in accepted if t}
        return {"success": success, "observed_value": observed}

    return _Check(expectation, kwargs, [], [kwargs["column"]], finish)


def _plan_unexpected_rows(expectation: Expectation, kwargs: dict[str, Any], target: _Target) -> _Check:
    query = kwargs["unexpected_rows_query"].format(batch=target.sql)

    def finish(__: list[Any], context: _Context) -> dict[str, Any]:
        rows = [
            list(r)
            for r in context.run_query(f"SELECT * FROM ({query}) AS unexpected_rows LIMIT {MAX_SAMPLE}")
        ]
        count = len(rows)
        if count == MAX_SAMPLE:
            count = int(context.run_query(f"SELECT COUNT(*) FROM ({query}) AS unexpected_rows")[0][0])
        return {
            "success": count == 0,
            "observed_value": count,
            "details": {"unexpected_rows": [[_plain_number(v) for v in r] for r in rows]},
        }

    return _Check(expectation, kwargs, [], [], finish)


_PLANNERS: dict[str, tuple[Callable[[Expectation, dict[str, Any], _Target], _Check], set[str]]] = {
    "expect_table_row_count_to_be_between": (
        _plan_row_count_between,
        {"min_value", "max_value", "strict_min", "strict_max"},
    ),
    "expect_table_row_count_to_equal": (_plan_row_count_equal, {"value"}),
    "expect_column_to_exist": (_plan_column_exists, {"column"}),
    "expect_column_values_to_be_in_type_list": (_plan_type_list, {"column", "type_list"}),
    "expect_column_values_to_be_of_type": (_plan_type_list, {"column", "type_"}),
    "expect_table_columns_to_match_set": (_plan_columns_match_set, {"column_set", "exact_match"}),
    "expect_table_columns_to_match_ordered_list": (_plan_columns_match_list, {"column_list"}),
    "unexpected_rows_expectation": (_plan_unexpected_rows, {"unexpected_rows_query"}),
}


def _plain_number(value: Any) -> Any:
    """Decimal (Postgres SUM/AVG) as int or float, so both engines report the same observed value."""
    if value is not None and type(value).__name__ == "Decimal":
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _result(check: _Check, fields: dict[str, Any], parameters: Mapping[str, Any]) -> ExpectationResult:
    expectation = check.expectation
    return ExpectationResult(
        type=expectation.type,
        kwargs=check.kwargs,
        severity=expectation.severity,
        description=expectation.resolved_description(parameters),
        meta=dict(expectation.meta),
        **fields,
    )
