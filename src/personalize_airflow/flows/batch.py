"""<use_case>__batch: the champion's recommendations into a warehouse cache table, one DAG per use case
with a serving.batch section."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import DAG

from personalize_airflow.batch_tasks import (
    load_ranking,
    load_recommendations,
    load_related_items,
    prepare_ranking,
    prepare_related_items,
    prepare_users,
)
from personalize_airflow.flows.common import serving_waits, use_case_dag
from personalize_airflow.operators.personalize import PersonalizeCreateBatchInferenceJobOperator
from personalize_airflow.use_cases import use_case_layout

if TYPE_CHECKING:
    from personalize_pipelines.config import UseCase

DOC = """
### {name}: batch recommendations into the warehouse
Applications read `{table}` instead of calling Personalize for every user.

1. **prepare_users** — the champion from the registry (`{champion}`; the run is skipped before the
   first promotion) and the users of `include/sql/{users_sql}` (active in the last {days} days), written
   as batch inference input under `{batch_folder}`.
2. **score_users** — a batch inference job on the champion's solution version (deferred wait; a retry
   reuses the job of the same name).
3. **load_recommendations** — the output into `{table}` (user_id, rank, item_id, score,
   solution_version, generated_at): in one transaction the rows of every scored user are replaced, so a
   rerun never duplicates. Error lines, malformed lines, answers for users not in the input and users
   without an answer are counted in the task's result, its log and `{report}`; the rest load.
4. **prepare_related_items → score_items → load_related_items** — the same for items and a similar-items
   solution ({related}); skipped with the reason in the log when none is configured.
5. **prepare_ranking → rank_items → load_ranking** — each user's candidate items from the candidates SQL,
   ordered for them by a personalized-ranking solution into {ranking} (user_id, rank, item_id, score, ...);
   rows left out of the input (blank or too-long ids, repeats, beyond 500 per user) are counted in the
   report. Skipped when none is configured.

A DuckDB warehouse is written only here: into the connection's extra `cache_path` file when set, else
into the warehouse file opened read-write for the load.
"""


def _batch_job(task_id: str, prepared: Any, **job_args: Any) -> PersonalizeCreateBatchInferenceJobOperator:
    """The batch inference job a prepare task described (its XCom fields), waited for deferred."""
    return PersonalizeCreateBatchInferenceJobOperator(
        task_id=task_id,
        job_name=prepared["job_name"],
        solution_version_arn=prepared["solution_version_arn"],
        input_path=prepared["input_path"],
        output_path=prepared["output_path"],
        role_arn=prepared["role_arn"],
        num_results=prepared["num_results"],
        **job_args,
    )


def build(uc: UseCase) -> DAG | None:
    if uc.serving is None or uc.serving.batch is None:
        return None
    batch = uc.serving.batch
    layout = use_case_layout(uc)
    users_run = layout.batch_run("<run>", "users")
    job_args = serving_waits(uc)
    with use_case_dag(
        uc,
        "batch",
        schedule=batch.schedule,
        doc_md=DOC.format(
            name=uc.name,
            table=batch.table,
            champion=layout.uri(layout.registry.champion_key),
            batch_folder=users_run.uri(users_run.folder),
            report=users_run.uri(users_run.report),
            users_sql=batch.users_sql,
            days=batch.active_days,
            related=f"`{batch.related_items.table}`" if batch.related_items else "not configured",
            ranking=f"`{batch.ranking.table}`" if batch.ranking else "its table (not configured)",
        ),
    ) as dag:
        users = prepare_users(use_case_name=uc.name)
        _batch_job("score_users", users, **job_args) >> load_recommendations(
            use_case_name=uc.name, prepared=users
        )

        items = prepare_related_items(use_case_name=uc.name)
        _batch_job("score_items", items, **job_args) >> load_related_items(
            use_case_name=uc.name, prepared=items
        )

        candidates = prepare_ranking(use_case_name=uc.name)
        _batch_job("rank_items", candidates, **job_args) >> load_ranking(
            use_case_name=uc.name, prepared=candidates
        )
    return dag
