"""Task callables of the `<use_case>__batch` DAG; the steps are :mod:`personalize_pipelines.batch_scoring`."""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import task

from personalize_airflow.moments import run_moment
from personalize_airflow.serving_support import (
    airflow_outcomes,
    personalize_client,
    s3_client,
    serving_use_case,
    warehouse_query,
)
from personalize_airflow.xcom_values import without_none

log = logging.getLogger(__name__)


def _stage(
    uc: Any,
    *,
    body: bytes,
    count: int,
    solution_version_arn: str,
    cache_layout: Any,
    run_id: str,
    moment: Any,
    **job: Any,
) -> dict[str, Any]:
    from personalize_pipelines.batch_scoring import batch_job_name, batch_run, stage_job
    from personalize_pipelines.export import run_key

    run = batch_run(uc, run_key=run_key(uc.name, run_id), cache_layout=cache_layout)
    staged = stage_job(
        s3_client(uc),
        use_case=uc,
        run=run,
        body=body,
        count=count,
        job_name=batch_job_name(
            uc.name, run_id=run_id, kind=run.kind, solution_version_arn=solution_version_arn
        ),
        solution_version_arn=solution_version_arn,
        moment=moment,
        **job,
    )
    return without_none(staged)


@task(multiple_outputs=True)
def prepare_users(use_case_name: str, **context) -> dict[str, Any]:
    """Users to score (the users SQL), their batch input on S3, and the champion's solution version."""
    from personalize_pipelines.batch_scoring import ids_to_score
    from personalize_pipelines.recommendation_cache import USERS, batch_input
    from personalize_pipelines.serving import champion_of

    uc, batch = serving_use_case(use_case_name, "batch")
    moment = run_moment(context)
    with airflow_outcomes():
        champion = champion_of(s3_client(uc), use_case=uc)
        users = ids_to_score(
            warehouse_query(uc),
            batch=batch,
            sql_dir=uc.project.sql_dir,
            sql_file=batch.users_sql,
            column="user_id",
            moment=moment,
        )
    log.info("%d user(s) to score with %s", len(users), champion.solution_version_arn)
    return _stage(
        uc,
        body=batch_input(users, layout=USERS),
        count=len(users),
        solution_version_arn=champion.solution_version_arn,
        cache_layout=USERS,
        run_id=context["run_id"],
        moment=moment,
    )


@task(multiple_outputs=True)
def prepare_related_items(use_case_name: str, **context) -> dict[str, Any]:
    """Items to find related items for, scored by the configured similar-items solution; skipped (with
    the reason) when none is configured or it has no ACTIVE version."""
    from personalize_pipelines.batch_scoring import configured_version, ids_to_score
    from personalize_pipelines.recommendation_cache import RELATED_ITEMS, batch_input

    uc, batch = serving_use_case(use_case_name, "batch")
    moment = run_moment(context)
    with airflow_outcomes():
        version = configured_version(personalize_client(uc), use_case=uc, setting="related_items")
        items = ids_to_score(
            warehouse_query(uc),
            batch=batch,
            sql_dir=uc.project.sql_dir,
            sql_file=batch.related_items.items_sql,
            column="item_id",
            moment=moment,
        )
    return _stage(
        uc,
        body=batch_input(items, layout=RELATED_ITEMS),
        count=len(items),
        solution_version_arn=version,
        cache_layout=RELATED_ITEMS,
        run_id=context["run_id"],
        moment=moment,
    )


@task(multiple_outputs=True)
def prepare_ranking(use_case_name: str, **context) -> dict[str, Any]:
    """Each user's candidate items (the candidates SQL), to be ordered by the configured
    personalized-ranking solution; skipped (with the reason) when none is configured or it has no ACTIVE
    version."""
    from personalize_pipelines.batch_scoring import candidates_to_rank, configured_version
    from personalize_pipelines.limits import MAX_RANKING_ITEMS
    from personalize_pipelines.recommendation_cache import RANKED_ITEMS, ranking_input

    uc, batch = serving_use_case(use_case_name, "batch")
    moment = run_moment(context)
    with airflow_outcomes():
        version = configured_version(personalize_client(uc), use_case=uc, setting="ranking")
        candidates = candidates_to_rank(
            warehouse_query(uc),
            batch=batch,
            sql_dir=uc.project.sql_dir,
            sql_file=batch.ranking.candidates_sql,
            moment=moment,
        )
    return _stage(
        uc,
        body=ranking_input(candidates.lists),
        count=len(candidates.lists),
        solution_version_arn=version,
        cache_layout=RANKED_ITEMS,
        run_id=context["run_id"],
        moment=moment,
        num_results=MAX_RANKING_ITEMS,
        input_counts=candidates.counts(),
    )


def _load(uc: Any, prepared: dict[str, Any], *, table: str, cache_layout: Any, run_id: str) -> dict[str, Any]:
    from functools import partial

    from personalize_airflow.warehouse import cache_connection
    from personalize_pipelines.batch_scoring import batch_run, load_output
    from personalize_pipelines.export import run_key

    with airflow_outcomes():
        return load_output(
            s3_client(uc),
            run=batch_run(uc, run_key=run_key(uc.name, run_id), cache_layout=cache_layout),
            prepared=prepared,
            table=table,
            cache_layout=cache_layout,
            open_cache=partial(cache_connection, uc.warehouse_conn_id),
        )


@task(multiple_outputs=False)
def load_recommendations(use_case_name: str, prepared: dict[str, Any], **context) -> dict[str, Any]:
    """Batch output → the recommendations cache; error, malformed and unknown lines counted, the rest loaded."""
    from personalize_pipelines.recommendation_cache import USERS

    uc, batch = serving_use_case(use_case_name, "batch")
    return _load(uc, prepared, table=batch.table, cache_layout=USERS, run_id=context["run_id"])


@task(multiple_outputs=False)
def load_related_items(use_case_name: str, prepared: dict[str, Any], **context) -> dict[str, Any]:
    """Batch output → the related-items cache, counted and loaded like the recommendations."""
    from personalize_pipelines.recommendation_cache import RELATED_ITEMS

    uc, batch = serving_use_case(use_case_name, "batch")
    return _load(
        uc, prepared, table=batch.related_items.table, cache_layout=RELATED_ITEMS, run_id=context["run_id"]
    )


@task(multiple_outputs=False)
def load_ranking(use_case_name: str, prepared: dict[str, Any], **context) -> dict[str, Any]:
    """Batch ranking output → the ranked-items cache, counted and loaded like the recommendations."""
    from personalize_pipelines.recommendation_cache import RANKED_ITEMS

    uc, batch = serving_use_case(use_case_name, "batch")
    return _load(uc, prepared, table=batch.ranking.table, cache_layout=RANKED_ITEMS, run_id=context["run_id"])
