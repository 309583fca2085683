"""The ``<use_case>__batch`` DAG's steps: the ids to score, a batch inference job's input and description,
and its output into the cache table, with a report beside the job's folder.

Every key comes from :class:`personalize_pipelines.layout.BatchRunLayout`
(``<prefix>/<use_case>/batch/<run_key>/<kind>/``, kind ``users`` or ``items``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from personalize_pipelines.batch_output import read_scored_output
from personalize_pipelines.layout import BatchRunLayout, UseCaseLayout
from personalize_pipelines.limits import MAX_RANKING_ITEMS
from personalize_pipelines.naming import derive_name
from personalize_pipelines.recommendation_cache import CacheLayout, replace_rows
from personalize_pipelines.serving import (
    Candidates,
    NothingToServe,
    Query,
    ServingError,
    candidates_of,
    ids_of,
)
from personalize_pipelines.templates import render_query

log = logging.getLogger(__name__)


def template_context(batch: Any, moment: datetime) -> dict[str, Any]:
    """What the users and items SQL see: the activity window ending at the run's moment."""
    since = moment - timedelta(days=batch.active_days)
    return {
        "active_since": since.strftime("%Y-%m-%d %H:%M:%S"),
        "active_since_epoch": int(since.timestamp()),
        "active_since_epoch_ms": int(since.timestamp()) * 1000,
        "active_days": batch.active_days,
        "run_at": moment.strftime("%Y-%m-%d %H:%M:%S"),
    }


def ids_to_score(
    query: Query, *, batch: Any, sql_dir: Path, sql_file: str, column: str, moment: datetime
) -> set[str]:
    """The ids the users (or items) SQL selects for the run's moment (:func:`template_context`).

    :param query: the warehouse (:data:`personalize_pipelines.serving.Query`).
    :param batch: the use case's ``serving.batch`` settings.
    :param sql_dir: the project's SQL folder (``use_case.project.sql_dir``).
    :param sql_file: the query's file under ``include/sql/``.
    :param column: the id column it returns: ``user_id`` or ``item_id``.
    :raises NothingToServe: when the query selected none.
    :raises ServingError: when it has no such column.
    """
    sql = render_query(sql_file, sql_root=sql_dir, **template_context(batch, moment))
    ids = ids_of(query(sql), column=column, sql_file=sql_file)
    if not ids:
        raise NothingToServe(
            f"include/sql/{sql_file} selected no {column.removesuffix('_id')}: nothing to score"
        )
    return ids


CONFIGURED_SOLUTIONS = {
    "related_items": ("RELATED_ITEMS", "similar-items", "related-items cache"),
    "ranking": ("PERSONALIZED_RANKING", "personalized-ranking", "ranked-items cache"),
}
"""The caches scored by a solution named in ``serving.batch``: its setting → the recipe type it must use,
what that recipe is called, and what it fills."""


def configured_version(personalize_client: Any, *, use_case: Any, setting: str) -> str:
    """The latest ACTIVE version of the solution ``serving.batch.<setting>`` names.

    :param setting: a key of :data:`CONFIGURED_SOLUTIONS`: ``related_items`` or ``ranking``.
    :raises NothingToServe: when none is configured, or the solution has no ACTIVE version yet.
    :raises ServingError: when the solution's recipe is not of the type the cache needs.
    """
    recipe_type, recipe_kind, cache = CONFIGURED_SOLUTIONS[setting]
    spec = getattr(use_case.serving.batch, setting)
    if spec is None:
        raise NothingToServe(
            f"include/config/{use_case.name}.yaml sets no serving.batch.{setting}: no {cache}"
        )
    solution = personalize_client.describe_solution(solutionArn=spec.solution_arn)["solution"]
    recipe = personalize_client.describe_recipe(recipeArn=solution["recipeArn"])["recipe"]
    if recipe.get("recipeType") != recipe_type:
        raise ServingError(
            f"serving.batch.{setting}.solution_arn {spec.solution_arn} uses {solution['recipeArn']} "
            f"({recipe.get('recipeType')}), not a {recipe_kind} ({recipe_type}) recipe"
        )
    latest = solution.get("latestSolutionVersion") or {}
    if latest.get("status") != "ACTIVE":
        raise NothingToServe(
            f"{recipe_kind} solution {spec.solution_arn} has no ACTIVE version yet "
            f"(latest: {latest.get('status', 'none')}): {cache} not refreshed"
        )
    return latest["solutionVersionArn"]


def candidates_to_rank(
    query: Query, *, batch: Any, sql_dir: Path, sql_file: str, moment: datetime
) -> Candidates:
    """Each user's candidate items from the candidates SQL for the run's moment (:func:`template_context`).

    :raises NothingToServe: when the query selected no usable (user, item) pair.
    :raises ServingError: when it lacks the user_id or item_id column.
    """
    sql = render_query(sql_file, sql_root=sql_dir, **template_context(batch, moment))
    candidates = candidates_of(query(sql), sql_file=sql_file)
    counts = candidates.counts()
    if not candidates.lists:
        raise NothingToServe(f"include/sql/{sql_file} selected no usable (user, item) pair to rank: {counts}")
    if candidates.over_limit_rows:
        log.warning(
            "%d user(s) had more than %d candidates: %d item(s) beyond the first %d of the query's order "
            "are not ranked",
            candidates.users_over_limit,
            MAX_RANKING_ITEMS,
            candidates.over_limit_rows,
            MAX_RANKING_ITEMS,
        )
    log.info("candidates from include/sql/%s: %s", sql_file, counts)
    return candidates


def batch_run(use_case: Any, *, run_key: str, cache_layout: CacheLayout) -> BatchRunLayout:
    """The folder of this run's job for one cache (users or related items)."""
    return UseCaseLayout.for_use_case(use_case).batch_run(run_key, cache_layout.kind)


def batch_job_name(use_case_name: str, *, run_id: str, kind: str, solution_version_arn: str) -> str:
    """The batch inference job of one run and kind: a retry finds the job its earlier try created."""
    return derive_name(f"{use_case_name}-batch-{kind}", use_case_name, run_id, solution_version_arn)


def stage_job(
    s3_client: Any,
    *,
    use_case: Any,
    run: BatchRunLayout,
    body: bytes,
    count: int,
    job_name: str,
    solution_version_arn: str | None,
    moment: datetime,
    num_results: int | None = None,
    input_counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Write one batch job's input and describe the job the operator creates.

    :param run: where the job's input, output and report go (:func:`batch_run`).
    :param body: the job's input (:func:`~personalize_pipelines.recommendation_cache.batch_input` or
        :func:`~personalize_pipelines.recommendation_cache.ranking_input`).
    :param count: how many ids (users, or items) it holds.
    :param job_name: the batch inference job's name, deterministic for the run.
    :param solution_version_arn: the solution version that scores them; None when a later task trains it
        (the segments DAG's affinity solution), whose load then names it.
    :param moment: the run's moment, stored as ``generated_at`` in the cache.
    :param num_results: the job's numResults (default: ``serving.batch.num_results``).
    :param input_counts: how the input was made (rows read, left out by reason), kept in the report.
    """
    s3_client.put_object(Bucket=run.bucket, Key=run.input, Body=body, ContentType="application/json")
    serving = use_case.serving
    return {
        "job_name": job_name,
        "solution_version_arn": solution_version_arn,
        "input_path": run.uri(run.input),
        "output_path": run.uri(run.output),
        "input_key": run.input,
        "output_prefix": run.output,
        "role_arn": serving.role_arn,
        "num_results": num_results or serving.batch.num_results,
        "ids": count,
        "generated_at": moment.isoformat(),
        "input_counts": input_counts,
    }


def load_output(
    s3_client: Any,
    *,
    run: BatchRunLayout,
    prepared: dict[str, Any],
    table: str,
    cache_layout: CacheLayout,
    open_cache: Callable[[], tuple[Any, str, str]],
) -> dict[str, Any]:
    """A finished job's output into the cache table; error, malformed and unknown lines counted, the rest
    loaded, and the counts written to the run's ``report.json``.

    :param run: the job's folder (:func:`batch_run`).
    :param prepared: the job's description from :func:`stage_job`.
    :param table: the cache table, created when missing.
    :param open_cache: opens ``(writable connection, dialect, where)``; called only once the output is
        known to hold usable rows, and the connection is closed here.
    :raises ServingError: when no line of the output loads.
    """
    body = s3_client.get_object(Bucket=run.bucket, Key=run.input)["Body"]
    expected = {json.loads(line)[cache_layout.key_field] for line in body.iter_lines() if line.strip()}
    output = read_scored_output(
        s3_client,
        bucket=run.bucket,
        prefix=run.output,
        expected=expected,
        key_field=cache_layout.key_field,
        answer_field=cache_layout.answer_field,
    )
    counts = output.counts()
    for problem in output.problems:
        log.warning("batch output line %s (%s): %s", problem["line"], problem["id"], problem["reason"])
    log.info("batch output of %s: %s", prepared["job_name"], counts)
    if not output.rows:
        raise ServingError(
            f"batch job {prepared['job_name']} answered none of {len(expected)} id(s) usably: {counts}"
        )
    connection, dialect, where = open_cache()
    try:
        written = replace_rows(
            connection,
            dialect=dialect,
            table=table,
            rows=output.rows,
            keys=output.loaded_keys,
            layout=cache_layout,
            solution_version=prepared["solution_version_arn"],
            generated_at=datetime.fromisoformat(prepared["generated_at"]),
        )
    finally:
        connection.close()
    log.info("%s in %s: replaced %d row(s) with %d", table, where, written["deleted"], written["inserted"])
    result = {**counts, **written, "table": table, "solution_version": prepared["solution_version_arn"]}
    s3_client.put_object(
        Bucket=run.bucket,
        Key=run.report,
        ContentType="application/json",
        Body=json.dumps(
            {
                **result,
                "job": prepared["job_name"],
                "input": prepared.get("input_counts"),
                "problems": output.problems,
            },
            indent=2,
            default=str,
        ).encode(),
    )
    return result
