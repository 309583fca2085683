"""<use_case>__segments: the users most likely to engage with each item (or item attribute) of a query, from an
affinity solution beside the champion, into a warehouse table, one DAG per use case with a serving.segments
section."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import DAG

from personalize_airflow.flows.common import retrained_solution_version, serving_waits, use_case_dag
from personalize_airflow.operators.personalize import (
    PersonalizeCreateBatchSegmentJobOperator,
    PersonalizeCreateFilterOperator,
)
from personalize_airflow.segments_tasks import load_segments, plan
from personalize_airflow.use_cases import use_case_layout

if TYPE_CHECKING:
    from personalize_pipelines.config import UseCase

DOC = """
### {name}: user segments into the warehouse
The marketing team's audiences: for each {what} of `include/sql/{query}`, the {results} users most likely to
engage with it ({recipe}). An affinity recipe recommends users, not items, so it serves beside the champion.

1. **plan** — the champion's dataset group from the registry (`{champion}`; skipped before the first
   promotion) and this run's names; the query's {whats} written as the job's input under `{folder}`.
2. **solution → solution_version** — {recipe} in that group; the version is named after its {hours}-hour
   retrain period, so only the first run of a period trains (deferred wait) and the others find it.
3. {filter_step}**segment_users** — a batch segment job on that version (deferred wait; a retry reuses the
   job of the same name).
4. **load_segments** — the output into `{table}` (item_or_query, rank, user_id, solution_version,
   generated_at): in one transaction each answered {what}'s rows are replaced, so a rerun never duplicates.
   Error and malformed lines, answers for {whats} not in the input and {whats} without an answer are
   counted in the task's result, its log and `{report}`; the rest load.
"""


def build(uc: UseCase) -> DAG | None:
    if uc.serving is None or uc.serving.segments is None:
        return None
    spec = uc.serving.segments
    layout = use_case_layout(uc)
    run = layout.batch_run("<run>", "segments")
    waits = serving_waits(uc)
    with use_case_dag(
        uc,
        "segments",
        schedule=spec.schedule,
        doc_md=DOC.format(
            name=uc.name,
            what="item-attribute query" if spec.by_attributes else "item",
            whats="item-attribute queries" if spec.by_attributes else "items",
            query=spec.query,
            results=spec.num_results,
            recipe=spec.recipe,
            champion=layout.uri(layout.registry.champion_key),
            folder=run.uri(run.folder),
            hours=spec.retrain_hours,
            filter_step=f"**segment_filter** — the user filter `{spec.filter}` in that group; "
            if spec.filter
            else "",
            table=spec.table,
            report=run.uri(run.report),
        ),
    ) as dag:
        planned = plan(use_case_name=uc.name)
        version = retrained_solution_version(planned, **waits)
        segment_filter = None
        if spec.filter:
            segment_filter = PersonalizeCreateFilterOperator(
                task_id="segment_filter",
                name=planned["filter"],
                dataset_group_arn=planned["dataset_group_arn"],
                filter_expression=spec.filter,
                **waits,
            )
        job = PersonalizeCreateBatchSegmentJobOperator(
            task_id="segment_users",
            job_name=planned["job_name"],
            solution_version_arn=version.output,
            input_path=planned["input_path"],
            output_path=planned["output_path"],
            role_arn=planned["role_arn"],
            num_results=planned["num_results"],
            filter_arn=segment_filter.output if segment_filter else None,
            **waits,
        )
        job >> load_segments(use_case_name=uc.name, prepared=planned, solution_version_arn=version.output)
    return dag
