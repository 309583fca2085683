"""Run a suite with Great Expectations Core's own SQL engine (Postgres, Redshift, Snowflake, ...).

Great Expectations is imported inside `validate_with_gx` only: the import takes seconds, and DAG files
and the SQL runner must not pay for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from personalize_pipelines.validation.result import MAX_SAMPLE, ExpectationResult, ValidationResult
from personalize_pipelines.validation.suite import Suite, SuiteError, expectation_id

_RESULT_FIELDS = (
    "observed_value",
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "missing_count",
)


def validate_with_gx(
    *,
    suite: Suite,
    connection_string: str,
    schema: str | None,
    table: str,
    parameters: Mapping[str, Any] | None = None,
) -> ValidationResult:
    """Validate `schema.table` against `suite` with GX Core (ephemeral context, whole-table batch).

    :param suite: a suite from `load_suite`.
    :param connection_string: SQLAlchemy URL; `postgresql`, `redshift` and `snowflake` schemes get GX's
        dedicated data sources, anything else its generic SQL data source.
    :param schema: the table's schema (None: the connection's default).
    :param table: the table name.
    :param parameters: values for the suite's `$PARAMETER` references and query placeholders,
        overlaid on the suite's `meta.parameter_defaults`.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    params = suite.parameters(parameters)
    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            progress_bars=ProgressBarsConfig(globally=False),
            analytics_enabled=False,
        ),
    )
    datasource = _add_datasource(context, connection_string)
    suite = suite.bind_columns(_table_columns(datasource, schema=schema, table=table))
    document = suite.gx_document(params)
    asset = datasource.add_table_asset(name=table, table_name=table, schema_name=schema)
    batch = asset.add_batch_definition_whole_table("whole_table").get_batch()

    # unexpected_rows_expectation reports its rows only under COMPLETE; COMPLETE on column checks would
    # fetch every unexpected value, so the two kinds are validated separately.
    by_id: dict[str, Any] = {}
    for wanted_rows, result_format in ((False, "SUMMARY"), (True, "COMPLETE")):
        subset = [
            e for e in document["expectations"] if (e["type"] == "unexpected_rows_expectation") == wanted_rows
        ]
        if not subset:
            continue
        gx_suite = gx.ExpectationSuite(name=suite.name, expectations=subset, meta=document.get("meta"))
        if len(gx_suite.expectations) != len(subset):
            accepted = {e.id for e in gx_suite.expectations}
            rejected = [e["type"] for e in subset if e["id"] not in accepted]
            raise SuiteError(f"{suite.source}: Great Expectations rejected expectation(s) {rejected}")
        validation = batch.validate(gx_suite, expectation_parameters=params, result_format=result_format)
        by_id.update({r.expectation_config.id: r for r in validation.results})

    results = []
    for index, expectation in enumerate(suite.expectations):
        gx_result = by_id[expectation_id(index)]
        results.append(
            ExpectationResult(
                type=expectation.type,
                kwargs=expectation.resolved_kwargs(params),
                severity=expectation.severity,
                description=expectation.resolved_description(params),
                meta=dict(expectation.meta),
                success=bool(gx_result.success),
                exception=_exception_message(gx_result.exception_info),
                **_result_fields(expectation.type, gx_result.result or {}),
            )
        )
    return ValidationResult(
        suite_name=suite.name,
        success=all(r.success for r in results),
        results=tuple(results),
        severity=suite.severity,
        table=f"{schema}.{table}" if schema else table,
        engine=f"great_expectations:{datasource.type}",
        parameters=params,
        validated_at=datetime.now(UTC).isoformat(),
    )


def _add_datasource(context: Any, connection_string: str) -> Any:
    scheme = connection_string.split(":", 1)[0].split("+", 1)[0].lower()
    add = {
        "postgresql": context.data_sources.add_postgres,
        "postgres": context.data_sources.add_postgres,
        "redshift": context.data_sources.add_redshift,
        "snowflake": context.data_sources.add_snowflake,
    }.get(scheme, context.data_sources.add_sql)
    return add(name="warehouse", connection_string=connection_string)


def _table_columns(datasource: Any, *, schema: str | None, table: str) -> list[str]:
    import sqlalchemy as sa

    try:
        columns = sa.inspect(datasource.get_engine()).get_columns(table, schema=schema)
    except sa.exc.NoSuchTableError:
        raise ValueError(
            f"validate_with_gx: table {schema + '.' if schema else ''}{table} not found"
        ) from None
    return [str(column["name"]) for column in columns]


def _result_fields(kind: str, result: Mapping[str, Any]) -> dict[str, Any]:
    fields = {name: result.get(name) for name in _RESULT_FIELDS}
    if "partial_unexpected_list" in result:
        fields["partial_unexpected_list"] = list(result["partial_unexpected_list"])
    details = dict(result.get("details") or {})
    if kind == "unexpected_rows_expectation" and details.get("unexpected_rows") is not None:
        rows = details["unexpected_rows"]
        rows = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
        details["unexpected_rows"] = [list(r.values()) if isinstance(r, Mapping) else list(r) for r in rows][
            :MAX_SAMPLE
        ]
    fields["details"] = details or None
    return fields


def _exception_message(info: Any) -> str | None:
    if not isinstance(info, Mapping):
        return None
    if "raised_exception" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    messages = [_exception_message(value) for value in info.values()]
    return "; ".join(m for m in messages if m) or None
