"""The ``<use_case>__segments`` DAG's steps: the items (or item-attribute queries) of ``serving.segments.query``
as a batch segment job's input, and the users of each segment into a warehouse table.

An affinity recipe (aws-item-affinity, aws-item-attribute-affinity) recommends users for items, so it can be
no champion; the DAG trains its own solution in the champion's dataset group, retrained by name every
``retrain_hours`` (:mod:`personalize_pipelines.beside_champion`). The job's input, output and report are a
batch run of kind ``segments`` (``<prefix>/<use_case>/batch/<run_key>/segments/``); its output loads like
the recommendation cache (:func:`personalize_pipelines.batch_scoring.load_output`): every segment answered
replaces that item's (or query's) rows in one transaction, error and malformed lines are counted in the
report, and items not in this run keep their older rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from personalize_pipelines.batch_scoring import batch_run, load_output, stage_job
from personalize_pipelines.beside_champion import retrained_solution
from personalize_pipelines.config import RECIPE_ARN_PREFIX
from personalize_pipelines.export import run_key
from personalize_pipelines.limits import MAX_ID_LENGTH, MAX_SEGMENT_QUERIES
from personalize_pipelines.naming import derive_name
from personalize_pipelines.recommendation_cache import (
    ATTRIBUTE_SEGMENTS,
    ITEM_SEGMENTS,
    CacheLayout,
    batch_input,
)
from personalize_pipelines.registry import Champion
from personalize_pipelines.serving import NothingToServe, Query, ServingError, ids_of
from personalize_pipelines.templates import render_query

log = logging.getLogger(__name__)


def cache_layout(spec: Any) -> CacheLayout:
    """The table's layout for the configured recipe: keyed by item id, or by item-attribute query."""
    return ATTRIBUTE_SEGMENTS if spec.by_attributes else ITEM_SEGMENTS


def queries_to_segment(query: Query, *, use_case: Any, moment: datetime) -> list[str]:
    """The distinct item ids (``item_id``) or item-attribute queries (``item_attributes``) the query selects.

    Jinja sees ``run_at`` (the run's moment, ``YYYY-MM-DD HH:MM:SS``) and ``run_at_epoch``.

    :raises NothingToServe: when it selects none.
    :raises ServingError: when it lacks the column, or selects more than one job takes.
    """
    spec = use_case.serving.segments
    column = "item_attributes" if spec.by_attributes else "item_id"
    sql = render_query(
        spec.query,
        sql_root=use_case.project.sql_dir,
        run_at=moment.strftime("%Y-%m-%d %H:%M:%S"),
        run_at_epoch=int(moment.timestamp()),
    )
    selected = ids_of(
        query(sql),
        column=column,
        sql_file=spec.query,
        max_length=None if spec.by_attributes else MAX_ID_LENGTH,
    )
    what = "item-attribute queries" if spec.by_attributes else "items"
    if not selected:
        raise NothingToServe(f"include/sql/{spec.query} selected no {what}: no segment to find")
    most = MAX_SEGMENT_QUERIES[spec.recipe]
    if len(selected) > most:
        raise ServingError(
            f"include/sql/{spec.query} selected {len(selected)} {what}; a batch segment job with "
            f"{spec.recipe} takes at most {most}: narrow the query (ORDER BY ... LIMIT {most})"
        )
    return sorted(selected)


def stage(
    s3_client: Any, query: Query, *, use_case: Any, champion: Champion, moment: datetime, run_id: str
) -> dict[str, Any]:
    """This run's names (the affinity solution in the champion's group, its version of the retrain period,
    the filter) and its batch segment job: the input written to S3, the job described.

    :param champion: the registry's champion, whose dataset group the solution trains in.
    :param moment: the run's moment: the retrain period, the query's ``run_at``, the rows' ``generated_at``.
    """
    spec = use_case.serving.segments
    group = champion.dataset_group_arn
    names = retrained_solution(
        use_case.name,
        spec.recipe,
        kind="segments",
        dataset_group_arn=group,
        moment=moment,
        hours=spec.retrain_hours,
    )
    layout = cache_layout(spec)
    queries = queries_to_segment(query, use_case=use_case, moment=moment)
    log.info("%d %s to segment with %s", len(queries), layout.key_field, spec.recipe)
    job = stage_job(
        s3_client,
        use_case=use_case,
        run=batch_run(use_case, run_key=run_key(use_case.name, run_id), cache_layout=layout),
        body=batch_input(queries, layout=layout),
        count=len(queries),
        job_name=derive_name(f"{use_case.name}-segments", use_case.name, run_id, names.solution_version),
        solution_version_arn=None,
        moment=moment,
        num_results=spec.num_results,
    )
    return {
        **job,
        "dataset_group_arn": group,
        "recipe_arn": RECIPE_ARN_PREFIX + spec.recipe,
        "solution": names.solution,
        "solution_version": names.solution_version,
        "retrain_period": names.retrain_period,
        "filter": derive_name(f"{use_case.name}-segments", group, spec.filter) if spec.filter else None,
    }


def load_segments(
    s3_client: Any,
    *,
    use_case: Any,
    prepared: dict[str, Any],
    solution_version_arn: str,
    run_id: str,
    open_cache: Callable[[], tuple[Any, str, str]],
) -> dict[str, Any]:
    """The finished job's output into ``serving.segments.table`` (item_or_query, rank, user_id,
    solution_version, generated_at), each answered segment replacing its older rows, and ``report.json``
    beside the output.

    :param prepared: the job's description from :func:`stage`.
    :param solution_version_arn: the affinity solution version the job ran on.
    :param open_cache: opens ``(writable connection, dialect, where)``; the connection is closed here.
    :raises ServingError: when no line of the output loads.
    """
    spec = use_case.serving.segments
    layout = cache_layout(spec)
    return load_output(
        s3_client,
        run=batch_run(use_case, run_key=run_key(use_case.name, run_id), cache_layout=layout),
        prepared={**prepared, "solution_version_arn": solution_version_arn},
        table=spec.table,
        cache_layout=layout,
        open_cache=open_cache,
    )
