"""Task callables of the `<use_case>__batch` DAG, and the warehouse access the serving DAGs share.

The cache table needs a writable warehouse while the export opens DuckDB files read-only. For a
`duckdb` connection the cache goes to the file named by the connection's extra `cache_path` when set
(applications attach it beside the warehouse), else into the warehouse file itself, opened read-write
for the few seconds of the load (a concurrent export task waits for its retry). For a `postgres`
connection it goes into the warehouse, in the table the use case names (schema-qualified if wanted).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from personalize_airflow.moments import run_moment

log = logging.getLogger(__name__)


def serving_of(uc: Any, section: str | None = None) -> Any:
    """The use case's ``serving`` settings (or one section of them); a clear failure when absent."""
    serving = uc.serving
    if serving is None or (section and getattr(serving, section) is None):
        where = "serving" + (f".{section}" if section else "")
        raise AirflowFailException(f"include/config/{uc.name}.yaml has no {where} section")
    return getattr(serving, section) if section else serving


def query_warehouse(conn_id: str, sql: str, *, batch_rows: int = 5000) -> Iterator[dict[str, Any]]:
    """Rows of a query on the warehouse connection (DuckDB read-only, or Postgres), as dicts, streamed."""
    from airflow.sdk import BaseHook

    from personalize_pipelines.events import iter_rows

    conn_type = BaseHook.get_connection(conn_id).conn_type
    if conn_type == "duckdb":
        from personalize_airflow.warehouse import DuckDBHook

        connection = DuckDBHook(duckdb_conn_id=conn_id).get_conn()
    elif conn_type == "postgres":
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        connection = PostgresHook(postgres_conn_id=conn_id).get_conn()
    else:
        raise AirflowFailException(
            f"connection {conn_id!r}: conn_type {conn_type!r} is not a supported warehouse"
        )
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        yield from iter_rows(cursor, batch_rows=batch_rows)
    finally:
        connection.close()


def cache_connection(conn_id: str) -> tuple[Any, str, str]:
    """(writable connection, dialect, where) for the cache tables of a warehouse connection."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    if conn.conn_type == "duckdb":
        import duckdb

        from personalize_airflow.warehouse import DuckDBHook

        path = conn.extra_dejson.get("cache_path") or str(DuckDBHook(duckdb_conn_id=conn_id).database_path())
        return duckdb.connect(path), "duckdb", path
    if conn.conn_type == "postgres":
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        return PostgresHook(postgres_conn_id=conn_id).get_conn(), "postgres", f"postgres connection {conn_id}"
    raise AirflowFailException(
        f"connection {conn_id!r}: conn_type {conn.conn_type!r} is not a supported warehouse"
    )


def _s3(uc: Any) -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=uc.s3.conn_id).get_conn()


def champion_of(uc: Any, s3: Any) -> Any:
    """The registry's champion; the run is skipped, with the reason, before the first promotion."""
    from personalize_pipelines.registry import RegistryLocation, read_champion

    location = RegistryLocation.for_use_case(uc)
    champion = read_champion(s3, location=location)
    if champion is None:
        raise AirflowSkipException(
            f"no champion at {location.uri(location.champion_key)} yet: the train DAG has not promoted a model"
        )
    return champion


def _template_context(batch: Any, moment: datetime) -> dict[str, Any]:
    since = moment - timedelta(days=batch.active_days)
    return {
        "active_since": since.strftime("%Y-%m-%d %H:%M:%S"),
        "active_since_epoch": int(since.timestamp()),
        "active_days": batch.active_days,
        "run_at": moment.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _ids(uc: Any, sql_file: str, column: str, context: dict[str, Any]) -> set[str]:
    from personalize_pipelines.paths import SQL_DIR
    from personalize_pipelines.templates import render_query

    sql = render_query(sql_file, sql_root=SQL_DIR, **context)
    ids: set[str] = set()
    for row in query_warehouse(uc.warehouse_conn_id, sql):
        if column not in row:
            raise AirflowFailException(
                f"include/sql/{sql_file} must return a column {column!r}; got {sorted(row)}"
            )
        value = str(row[column] or "").strip()
        if value and len(value) <= 256:
            ids.add(value)
    return ids


def _job(
    uc: Any,
    *,
    kind: str,
    ids: set[str],
    solution_version_arn: str,
    moment: datetime,
    run_id: str,
    layout: Any,
    s3: Any,
) -> dict[str, Any]:
    """Write one batch job's input and describe the job the operator creates."""
    from personalize_airflow.hooks.personalize import derive_name
    from personalize_pipelines.export import run_key
    from personalize_pipelines.recommendation_cache import batch_input

    folder = f"{uc.s3_prefix}/batch/{run_key(uc.name, run_id)}/{kind}"
    input_key = f"{folder}/input/{kind}.json"
    s3.put_object(
        Bucket=uc.s3.bucket,
        Key=input_key,
        Body=batch_input(ids, layout=layout),
        ContentType="application/json",
    )
    serving = uc.serving
    return {
        "job_name": derive_name(f"{uc.name}-batch-{kind}", uc.name, run_id, solution_version_arn),
        "solution_version_arn": solution_version_arn,
        "input_path": f"s3://{uc.s3.bucket}/{input_key}",
        "output_path": f"s3://{uc.s3.bucket}/{folder}/output/",
        "input_key": input_key,
        "output_prefix": f"{folder}/output/",
        "role_arn": serving.role_arn,
        "num_results": serving.batch.num_results,
        "ids": len(ids),
        "generated_at": moment.isoformat(),
    }


@task
def prepare_users(use_case_name: str, **context) -> dict[str, Any]:
    """Users to score (the users SQL), their batch input on S3, and the champion's solution version."""
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.recommendation_cache import USERS

    uc = use_case(use_case_name)
    batch = serving_of(uc, "batch")
    s3 = _s3(uc)
    champion = champion_of(uc, s3)
    moment = run_moment(context)
    users = _ids(uc, batch.users_sql, "user_id", _template_context(batch, moment))
    if not users:
        raise AirflowSkipException(f"include/sql/{batch.users_sql} selected no user: nothing to score")
    log.info("%d user(s) to score with %s", len(users), champion.solution_version_arn)
    return _job(
        uc,
        kind="users",
        ids=users,
        solution_version_arn=champion.solution_version_arn,
        moment=moment,
        run_id=context["run_id"],
        layout=USERS,
        s3=s3,
    )


@task
def prepare_related_items(use_case_name: str, **context) -> dict[str, Any]:
    """Items to find related items for, scored by the configured similar-items solution; skipped (with
    the reason) when none is configured or it has no ACTIVE version."""
    from personalize_airflow.hooks.personalize import PersonalizeHook
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.recommendation_cache import RELATED_ITEMS

    uc = use_case(use_case_name)
    batch = serving_of(uc, "batch")
    related = batch.related_items
    if related is None:
        raise AirflowSkipException(
            f"include/config/{uc.name}.yaml sets no serving.batch.related_items: no related-items cache"
        )
    personalize = PersonalizeHook(aws_conn_id=uc.s3.conn_id).conn
    solution = personalize.describe_solution(solutionArn=related.solution_arn)["solution"]
    recipe = personalize.describe_recipe(recipeArn=solution["recipeArn"])["recipe"]
    if recipe.get("recipeType") != "RELATED_ITEMS":
        raise AirflowFailException(
            f"serving.batch.related_items.solution_arn {related.solution_arn} uses {solution['recipeArn']} "
            f"({recipe.get('recipeType')}), not a similar-items (RELATED_ITEMS) recipe"
        )
    latest = solution.get("latestSolutionVersion") or {}
    if latest.get("status") != "ACTIVE":
        raise AirflowSkipException(
            f"similar-items solution {related.solution_arn} has no ACTIVE version yet "
            f"(latest: {latest.get('status', 'none')}): related-items cache not refreshed"
        )
    moment = run_moment(context)
    items = _ids(uc, related.items_sql, "item_id", _template_context(batch, moment))
    if not items:
        raise AirflowSkipException(f"include/sql/{related.items_sql} selected no item: nothing to score")
    return _job(
        uc,
        kind="items",
        ids=items,
        solution_version_arn=latest["solutionVersionArn"],
        moment=moment,
        run_id=context["run_id"],
        layout=RELATED_ITEMS,
        s3=_s3(uc),
    )


def _load(use_case_name: str, prepared: dict[str, Any], *, table: str, layout: Any) -> dict[str, Any]:
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.recommendation_cache import read_scored_output, replace_rows

    uc = use_case(use_case_name)
    s3 = _s3(uc)
    body = s3.get_object(Bucket=uc.s3.bucket, Key=prepared["input_key"])["Body"]
    expected = {json.loads(line)[layout.key_field] for line in body.iter_lines() if line.strip()}
    output = read_scored_output(
        s3, bucket=uc.s3.bucket, prefix=prepared["output_prefix"], expected=expected, layout=layout
    )
    counts = output.counts()
    for problem in output.problems:
        log.warning("batch output line %s (%s): %s", problem["line"], problem["id"], problem["reason"])
    log.info("batch output of %s: %s", prepared["job_name"], counts)
    if not output.rows:
        raise AirflowFailException(
            f"batch job {prepared['job_name']} answered none of {len(expected)} id(s) usably: {counts}"
        )
    connection, dialect, where = cache_connection(uc.warehouse_conn_id)
    try:
        written = replace_rows(
            connection,
            dialect=dialect,
            table=table,
            rows=output.rows,
            layout=layout,
            solution_version=prepared["solution_version_arn"],
            generated_at=datetime.fromisoformat(prepared["generated_at"]),
        )
    finally:
        connection.close()
    log.info("%s in %s: replaced %d row(s) with %d", table, where, written["deleted"], written["inserted"])
    result = {**counts, **written, "table": table, "solution_version": prepared["solution_version_arn"]}
    report_key = prepared["output_prefix"].rstrip("/").rsplit("/", 1)[0] + "/report.json"
    s3.put_object(
        Bucket=uc.s3.bucket,
        Key=report_key,
        ContentType="application/json",
        Body=json.dumps(
            {**result, "job": prepared["job_name"], "problems": output.problems}, indent=2, default=str
        ).encode(),
    )
    return result


@task
def load_recommendations(use_case_name: str, prepared: dict[str, Any]) -> dict[str, Any]:
    """Batch output → the recommendations cache; error, malformed and unknown lines counted, the rest loaded."""
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.recommendation_cache import USERS

    table = serving_of(use_case(use_case_name), "batch").table
    return _load(use_case_name, prepared, table=table, layout=USERS)


@task
def load_related_items(use_case_name: str, prepared: dict[str, Any]) -> dict[str, Any]:
    """Batch output → the related-items cache, counted and loaded like the recommendations."""
    from personalize_airflow.use_cases import use_case
    from personalize_pipelines.recommendation_cache import RELATED_ITEMS

    table = serving_of(use_case(use_case_name), "batch").related_items.table
    return _load(use_case_name, prepared, table=table, layout=RELATED_ITEMS)
